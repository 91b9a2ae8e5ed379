//! comity-pattern (work in progress).
