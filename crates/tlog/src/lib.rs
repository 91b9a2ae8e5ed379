//! comity-tlog (work in progress).
