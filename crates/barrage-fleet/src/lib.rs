//! barrage-fleet: a run split over machines, merged and steered live as one.
//!
//! `barrage coordinator SCENARIO --agents N` and `barrage agent --coordinator HOST:PORT`.
//! Agents connect to the coordinator over WebSocket (tokio-tungstenite on both sides;
//! TLS by rustls when the coordinator has a certificate), present the shared token,
//! register, have their clock offset measured, and receive the scenario, the run's flags
//! and their segment (`index` of `N`: `barrage-engine`'s stripes, so the segments add up to
//! the one-process load). They compile the plan themselves, start together at a wall-clock
//! time the coordinator gives (in each agent's own clock), and stream every worker's
//! per-second interval; the coordinator's session merges them exactly (HDR histograms),
//! drives the usual sinks, judges thresholds over all agents and broadcasts its steering.
//!
//! ```text
//!  agent 1 ─┐ WebSocket: hello, pong, ready, intervals, heartbeats
//!  agent 2 ─┼──────────────▶ coordinator network thread ──▶ RemoteRun (a RunSource)
//!  agent N ─┘ ◀── ping, setup, start, stop, load, heartbeats        │
//!                                                  barrage-session::Session ─▶ sinks
//! ```
//!
//! Must not compile scenarios, pick sinks or print: the front end (the binary) does, and
//! this crate hands it progress lines to show.

pub mod agent;
pub mod clock;
pub mod coordinator;
mod link;
pub mod protocol;

pub use agent::{AgentConfig, AgentError, AgentLink, Assignment};
pub use coordinator::{Coordinator, CoordinatorConfig, FleetError, LossPolicy, RemoteRun};
pub use protocol::Shape;

/// Whether the upgrade request carries `token` as `Authorization: Bearer TOKEN`, compared
/// in constant time (a wrong guess takes as long as a near miss).
fn token_matches<B>(request: &http::Request<B>, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    let Some(given) = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    given.as_bytes().ct_eq(token.as_bytes()).into()
}
