//! From a `load:` section to the engine's [`LoadModel`], with the defaults filled in.

use barrage_scenario::{Load, OnMaxUsers};

use crate::plan::{LoadModel, Stage};

/// The load model a `load:` section describes, with the engine's defaults filled in.
///
/// Open-model defaults: at most `max(100, peak rate)` users (a second's worth of
/// iterations in flight, enough for a healthy service and for stalls up to about a
/// second), of which a tenth of a second's worth are created before the run starts.
pub fn load_model(load: &Load) -> LoadModel {
    let stages: Vec<Stage> = load
        .stages
        .iter()
        .map(|s| Stage {
            duration: s.duration.value,
            target: s.target.value,
        })
        .collect();
    let duration = load.duration.as_ref().map(|d| d.value);
    match &load.rate {
        Some(rate) => {
            let peak = stages.iter().map(|s| s.target).fold(rate.value, f64::max);
            let max_users = load
                .max_users
                .as_ref()
                .map_or((peak.ceil() as u64).max(100), |m| m.value);
            let pre = load
                .pre_allocated_users
                .as_ref()
                .map_or(((peak / 10.0).ceil() as u64).max(1), |p| p.value)
                .min(max_users);
            LoadModel::ArrivalRate {
                rate: rate.value,
                stages,
                duration,
                max_users,
                pre_allocated_users: pre,
                drop_when_busy: load
                    .on_max_users
                    .as_ref()
                    .is_some_and(|o| o.value == OnMaxUsers::Drop),
            }
        }
        None if !stages.is_empty() => LoadModel::RampingUsers {
            start: load.users.as_ref().map_or(0, |u| u.value),
            stages,
        },
        None => LoadModel::ConstantUsers {
            users: load.users.as_ref().map_or(1, |u| u.value),
            spawn_rate: load.spawn_rate.as_ref().map(|r| r.value),
            duration,
            iterations: load.iterations.as_ref().map(|i| i.value),
        },
    }
}
