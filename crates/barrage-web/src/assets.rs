//! The page's files, embedded in the binary: ours from `assets/`, uPlot's from the npm
//! package `build.rs` copies (with its license, which the page links to and the report
//! inlines as a comment).

/// uPlot's minified script (defines the global `uPlot`).
pub const UPLOT_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/uPlot.iife.min.js"));
/// uPlot's style sheet.
pub const UPLOT_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/uPlot.min.css"));
/// uPlot's license (MIT), shipped with it.
pub const UPLOT_LICENSE: &str = include_str!(concat!(env!("OUT_DIR"), "/LICENSE"));
