//! What a plan's load is, as people and the result file read it: the load in words, the
//! result's `run.load`, the most users at once, the end of the ramp-up. Each scenario's
//! executor answers for itself; this module puts the scenarios together.

use std::time::Duration;

use barrage_engine::executor::secs;
use barrage_engine::{Plan, Segment};
use barrage_metrics::LoadInfo;

/// One clause per scenario: what load it applies, for how long.
pub fn describe(plan: &Plan) -> String {
    plan.scenarios
        .iter()
        .map(|s| {
            let what = s.load.executor().describe();
            let start = if s.start.is_zero() {
                String::new()
            } else {
                format!(", starting at {}", secs(s.start))
            };
            if plan.scenarios.len() == 1 {
                format!("{what}{start}")
            } else {
                format!("scenario {}: {what}{start}", s.name)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The result file's `run.load`: the first scenario's figures (a file with several
/// scenarios describes each in `model`).
pub fn load_info(plan: &Plan) -> LoadInfo {
    let first = plan
        .scenarios
        .first()
        .map(|s| s.load.executor().load_info());
    LoadInfo {
        model: Some(describe(plan)),
        ..first.unwrap_or_default()
    }
}

/// The most users the plan can have at once (each holds at least one connection).
pub fn most_users(plan: &Plan) -> u64 {
    most_users_in(plan, Segment::WHOLE)
}

/// The most users `segment`'s share of the plan can have at once: the users it owns of
/// each scenario's most.
pub fn most_users_in(plan: &Plan, segment: Segment) -> u64 {
    plan.scenarios
        .iter()
        .map(|s| segment.share(s.load.executor().max_users()))
        .fold(0, u64::saturating_add)
}

/// When the ramp-up of every scenario is over (for `--reset-stats`).
pub fn ramp_up_end(plan: &Plan) -> Duration {
    plan.scenarios
        .iter()
        .map(|s| s.start.saturating_add(s.load.executor().ramp_up()))
        .max()
        .unwrap_or_default()
}
