//! `run --debug`: one user of each type runs setup, then each task once, on the calling
//! thread, telling an observer everything (the engine's [`barrage_engine::debug_run`]); this
//! adds up what it measured, so the front end needs no aggregator of its own.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use barrage_engine::{Observer, Plan, RunOptions, StartError};
use barrage_metrics::Aggregator;

/// Runs the debug pass; returns (requests, failed requests).
pub async fn debug(
    plan: Arc<Plan>,
    observer: Rc<dyn Observer>,
    options: &RunOptions,
) -> Result<(u64, u64), StartError> {
    let mut recorder = barrage_engine::debug_run(plan.clone(), observer, options).await?;
    let mut agg = Aggregator::new(plan.registry.clone());
    agg.absorb(0, recorder.take_interval());
    let a = agg.snapshot(Duration::from_secs(1)).aggregate;
    Ok((a.requests, a.failures))
}
