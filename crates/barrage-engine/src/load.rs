//! The load models as data: what a scenario's `load:` comes to once compiled, one type per
//! model, held by the plan. What each model *does* (its schedule, how it runs, how it is
//! described) is its executor's business: `executor/NAME.rs` implements
//! [`crate::executor::Executor`] for it, and [`LoadModel::executor`] (in `executor/`) is
//! the one place that tells the models apart.
//!
//! Why apart from the executors: the plan holds these values, and the executors read the
//! plan; with the data here, `plan` imports no executor and no import runs in a circle.

use std::time::Duration;

/// When users run or iterations start: one type per load model, each in its own module of
/// `executor/`, each a [`crate::executor::Executor`]. This enum only holds them;
/// [`LoadModel::executor`] is the one place that tells them apart.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadModel {
    ConstantUsers(ConstantUsers),
    RampingUsers(RampingUsers),
    ConstantArrivalRate(ConstantArrivalRate),
    RampingArrivalRate(RampingArrivalRate),
}

/// Reach `target` (users, or iterations per second) linearly over `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    pub target: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConstantUsers {
    pub users: u64,
    /// Users started per second; `None` starts all at once.
    pub spawn_rate: Option<f64>,
    pub duration: Option<Duration>,
    /// Iterations in total over all users (k6's shared iterations).
    pub iterations: Option<u64>,
}

/// Users from `start`, moved linearly through each stage's target.
#[derive(Debug, Clone, PartialEq)]
pub struct RampingUsers {
    pub start: u64,
    pub stages: Vec<Stage>,
}

/// `rate` iterations per second for `duration` (until stopped without one).
#[derive(Debug, Clone, PartialEq)]
pub struct ConstantArrivalRate {
    pub rate: f64,
    pub duration: Option<Duration>,
    pub pool: PoolSpec,
    pub arrivals: Arrivals,
}

/// Iterations per second from `rate`, moved linearly through each stage's target.
#[derive(Debug, Clone, PartialEq)]
pub struct RampingArrivalRate {
    pub rate: f64,
    pub stages: Vec<Stage>,
    pub pool: PoolSpec,
    pub arrivals: Arrivals,
}

/// How an open model spaces its scheduled starts (`load.arrivals`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arrivals {
    /// Evenly spaced, `1 / rate` apart (as k6's arrival-rate executors).
    #[default]
    Even,
    /// A Poisson process: independent, exponentially distributed gaps with mean `1 / rate`
    /// (bursty, like many independent clients).
    Poisson,
}

/// The pool of users an open model draws from (over the whole load).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSpec {
    pub max_users: u64,
    /// Users created before the schedule starts.
    pub pre_allocated: u64,
    /// When every user is busy, drop the iteration (counted) instead of queueing it.
    pub drop_when_busy: bool,
}
