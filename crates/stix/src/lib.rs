//! comity-stix (work in progress).
