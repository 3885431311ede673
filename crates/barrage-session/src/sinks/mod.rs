//! The sinks barrage ships: the terminal's live table and summary, and the files (the JSON
//! result, Locust's CSV files, JUnit, Markdown). Each is a small [`crate::Sink`]; the
//! formats themselves are `barrage_report`'s pure functions of a snapshot or a result.

mod debug;
mod files;
mod terminal;

pub use debug::DebugView;
pub use files::{Csv, FileSinks, JsonResult, Junit, Markdown};
pub use terminal::{LiveTable, Summary};
