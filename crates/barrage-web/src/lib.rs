//! barrage-web: the web UI and the one-file HTML report, which share one page.
//!
//! The page (`assets/page.html`, `assets/app.js`, `assets/app.css`, with uPlot embedded by
//! `build.rs`) draws a [`view::View`]: a JSON document with everything a reader sees (the
//! per-endpoint table, the series, the 10-second percentile windows, thresholds, failures,
//! checks, generator health). The HTML report ([`report`]) inlines the page and one View made
//! from a result file; the web UI ([`server`]) serves the page, a View of the run so far, and
//! each closed second as a server-sent event, and takes the start form and the buttons as
//! [`barrage_session::Control`] calls.
//!
//! Everything shown has been through barrage-redact (the result document is redacted when it
//! is made; text added here goes through the plan's redactor). Must not hold test state of its
//! own: the session owns the run, the View is made from what the session hands its sinks.

pub mod assets;
pub mod live;
pub mod report;
pub mod server;
pub mod view;
