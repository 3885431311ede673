//! barrage: the command-line tool's library half, the parts of the binary that tests and
//! other binaries reuse (the built-in demo target first of all).

pub mod demo_target;
