//! comity-server (work in progress).
