//! comity-store (work in progress).
