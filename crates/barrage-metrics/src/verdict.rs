//! Threshold verdicts as the result file keeps them (`thresholds: [...]`).
//!
//! Plain data: `barrage-report` parses and judges thresholds and fills these in; this crate
//! only carries them, so a saved result says what was asked, what was seen and what was
//! decided. Every field has a default, so a reader also accepts verdicts written by an older
//! or newer barrage that lacked or added fields.

use serde::{Deserialize, Serialize};

/// One threshold and its verdict.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThresholdVerdict {
    /// The expression as written (`p95{name="/items/{id}"} < 200ms`).
    pub expr: String,
    /// The metric's canonical name (`p95`, `service_mean`, `error_rate`, ...).
    pub metric: String,
    /// `<`, `<=`, `>`, `>=`, `==` or `!=`.
    pub op: String,
    /// The limit, in `unit`.
    pub limit: f64,
    /// `ms` (latencies), `ratio` (rates as a fraction: 0.01 is 1 %), `req/s` or `count`.
    pub unit: String,
    /// What was measured, in `unit`; `null` when there was nothing to measure (then the
    /// threshold fails and `note` says why).
    pub observed: Option<f64>,
    pub passed: bool,
    /// Where it came from: `scenario`, `command line`.
    pub source: String,
    pub abort_on_fail: bool,
    /// This threshold's failure stopped the run early.
    pub aborted_run: bool,
    /// Why there was no value, or how it was computed when that is worth knowing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
