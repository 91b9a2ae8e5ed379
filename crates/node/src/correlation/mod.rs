//! Correlation: which objects share observable values, within what a viewer may read.
//! [`values`] extracts and normalises the values the store indexes with each object
//! version; [`who_else`] answers within a reader's rights; [`warnings`] flags values that
//! correlate with everything; [`reindex`] indexes versions stored before the index;
//! [`cluster`] links reports, incidents and the like through what they share.

pub mod cluster;
pub mod reindex;
pub mod values;
pub mod warnings;
pub mod who_else;

#[cfg(test)]
mod test_store;
