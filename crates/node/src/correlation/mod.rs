//! Correlation: which objects share observable values, within what a viewer may read.
//! [`values`] extracts and normalises the values the store indexes with each object
//! version.

pub mod values;
pub mod warnings;
pub mod who_else;
