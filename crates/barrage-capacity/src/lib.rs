//! barrage-capacity: `barrage capacity`, the highest arrival rate (or the most users) a
//! service holds within its objectives, measured steadily, with the evidence.
//!
//! ```text
//!  front end ── objectives, SearchSettings ──▶ driver ── Control (set rate, reset) ──▶ session
//!                                               ▲  │                                    │
//!                                               │  └── judge a step (objectives,         │
//!                                               │      steadiness) ◀── Live each second ─┘
//!                                               └── search: next level (probe, bisect, confirm)
//!                                                         │ end
//!                                                         ▼
//!                                    CapacityDoc (steps, bracket, Little's law, USL fit)
//! ```
//!
//! One session runs the whole search: the driver steers its load through the session's
//! [`barrage_session::Control`] handle and watches it as a [`barrage_session::Sink`], so the
//! result file holds the whole search on one time axis (its timeline says when each step
//! began) and Ctrl-C stops it like any run. The search ([`search`]) and the statistics
//! ([`stats`]) are plain functions of what was measured, tested without a network;
//! [`driver`] runs a search over a session (second by second, as a sink) and [`judge`]
//! decides each step; [`queue`] holds the reference queue models the end-to-end tests compare against.

pub mod driver;
pub mod judge;
pub mod queue;
pub mod search;
pub mod stats;

pub use search::{Conclusion, Next, Search, SearchSettings, SettingsError, Verdict};
