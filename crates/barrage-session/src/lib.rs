//! barrage-session: one run session behind every front end.
//!
//! A front end (the command line today; the web UI, the capacity search and the
//! coordinator of a distributed run next) compiles a scenario with its overrides, starts a
//! [`Session`], keeps its [`Control`] handle to steer it, and hands it the [`Sink`]s that
//! should see its figures. The session owns everything between: the workers' start, the
//! once-a-second aggregation, `--reset-stats`, the thresholds that may abort the run,
//! graceful and hard stops, load changes while it runs, and the judged result. It returns
//! an [`Outcome`]; what that means for an exit code is the front end's business.
//!
//! ```text
//!  front end ── Plan + Settings ──▶ Session::start ──▶ engine workers (threads)
//!      │                               │  once a second: intervals
//!      └── Control (stop, reset, ──▶   ▼
//!          users, rate)            aggregator ──▶ Snapshot ──▶ sinks (threads of their own)
//!                                      │ end
//!                                      ▼
//!                            ResultDoc (judged) ──▶ sinks ──▶ Outcome
//! ```
//!
//! Must not print or read the terminal: sinks write where the front end tells them, and
//! the front end turns key presses and signals into [`Control`] calls.

pub mod control;
mod debug;
mod never_ran;
mod plan_info;
mod session;
pub mod sink;
pub mod sinks;
mod source;
pub mod thresholds;

pub use control::{Control, ControlError, ScenarioInfo};
pub use debug::debug;
pub use plan_info::{describe, load_info, most_users, most_users_in, ramp_up_end};
pub use session::{Outcome, Session, SessionError, Settings};
pub use sink::{Finished, Live, Sink, SinkError, Started, RECENT_SECONDS};
pub use source::{RunSource, SourceReport};

/// The SHA-256 of a scenario's text, as the result file records it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
