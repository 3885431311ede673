//! barrage-engine: turns a scenario into load.
//!
//! [`compile`] makes a [`Plan`] of a scenario (and is all `validate` needs); [`Run`]
//! starts worker threads that run virtual users from the plan and report measurements
//! once a second. Must not print or format reports: everything a person sees goes through
//! the binary, from the metrics crate's snapshots or an [`Observer`].

pub mod compile;
pub mod context;
mod data;
pub mod executor;
pub mod http;
pub mod load;
pub mod multipart;
pub mod plan;
pub mod run;
pub mod segment;
pub mod timer;
pub mod vu;
pub mod worker;

pub use compile::{check_overrides, compile, CompileOptions, LoadOverrides, OverrideError};
pub use context::LoadChange;
pub use executor::{Executor, Steer};
pub use plan::{LoadModel, Plan};
pub use run::{debug_run, Run, RunOptions, StartError, DEFAULT_BATCH_WINDOW, MAX_BATCH_WINDOW};
pub use segment::Segment;
pub use vu::Observer;
pub use worker::WorkerEvent;
