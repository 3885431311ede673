//! barrage: the command-line tool's library half. The built-in demo target lives in its own
//! crate now (`barrage-target`); it is re-exported here so `barrage::demo_target` keeps working.

pub use barrage_target as demo_target;
