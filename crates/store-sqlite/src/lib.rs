//! comity-store-sqlite (work in progress).
