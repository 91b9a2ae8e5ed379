//! The `comity` command line.
fn main() {}
