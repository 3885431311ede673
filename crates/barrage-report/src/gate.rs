//! Whether a run passed, and why: one rule for the exit code, the Markdown heading and
//! `barrage report`, so they can never disagree (DESIGN.md, "Conventions for users").
//!
//! - A run in which no request succeeded never passes.
//! - Nor does a run in which some users never got a connection (this machine ran out of
//!   descriptors or ports): it did not apply the load it was asked for, whatever the
//!   thresholds say of the load it did apply.
//! - With thresholds, the thresholds decide: failed requests alone do not fail the run (a
//!   threshold such as `error_rate < 1%` says how many may fail).
//! - Without thresholds, any failed request fails the run, as in Locust.

use barrage_metrics::ResultDoc;

/// The verdict on a whole run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gate {
    pub passed: bool,
    /// In words, for people: `2 of 3 thresholds failed: p95 < 200ms, error_rate < 1%`.
    pub reason: String,
}

/// Applies the rules above to a result whose `thresholds` hold the verdicts.
pub fn gate(doc: &ResultDoc) -> Gate {
    let agg = &doc.aggregate;
    if agg.requests == 0 || agg.failures >= agg.requests {
        return Gate {
            passed: false,
            reason: "no request succeeded".to_owned(),
        };
    }
    if let Some(count) = crate::unconnected::count(&doc.connections, doc.run.load.users) {
        return Gate {
            passed: false,
            reason: format!("{count}: local resources ran out (descriptors or ports)"),
        };
    }
    if !doc.thresholds.is_empty() {
        let failed: Vec<&str> = doc
            .thresholds
            .iter()
            .filter(|v| !v.passed)
            .map(|v| v.expr.as_str())
            .collect();
        let n = doc.thresholds.len();
        return if failed.is_empty() {
            Gate {
                passed: true,
                reason: format!(
                    "{} threshold{} passed",
                    if n == 1 { "the" } else { "all" },
                    if n == 1 { "" } else { "s" }
                ),
            }
        } else {
            Gate {
                passed: false,
                reason: format!(
                    "{} of {n} threshold{} failed: {}",
                    failed.len(),
                    if n == 1 { "" } else { "s" },
                    failed.join(", ")
                ),
            }
        };
    }
    if agg.failures > 0 {
        Gate {
            passed: false,
            reason: format!("{} of {} requests failed", agg.failures, agg.requests),
        }
    } else {
        Gate {
            passed: true,
            reason: "no request failed".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use barrage_metrics::ThresholdVerdict;

    use super::*;
    use crate::result_testdata::result;

    #[test]
    fn thresholds_decide_when_given_and_nothing_succeeded_never_passes() {
        let mut doc = result();
        assert_eq!(
            gate(&doc),
            Gate {
                passed: false,
                reason: "3 of 1300 requests failed".to_owned()
            }
        );
        let v = |expr: &str, passed| ThresholdVerdict {
            expr: expr.to_owned(),
            passed,
            ..Default::default()
        };
        doc.thresholds = vec![v("a", true), v("b", true)];
        assert_eq!(gate(&doc).reason, "all thresholds passed");
        assert!(
            gate(&doc).passed,
            "failed requests alone do not fail a judged run"
        );
        doc.thresholds = vec![v("a", false), v("b", true), v("c", false)];
        assert_eq!(gate(&doc).reason, "2 of 3 thresholds failed: a, c");
        doc.aggregate.failures = doc.aggregate.requests;
        doc.thresholds = vec![v("a", true)];
        assert_eq!(gate(&doc).reason, "no request succeeded");
        assert!(!gate(&doc).passed);
    }

    #[test]
    fn users_that_never_connected_fail_the_run_even_when_thresholds_pass() {
        let mut doc = result();
        doc.thresholds = vec![ThresholdVerdict {
            expr: "p95 < 1s".to_owned(),
            passed: true,
            ..Default::default()
        }];
        doc.run.load.users = Some(400);
        doc.connections.users_never_connected = 150;
        assert_eq!(
            gate(&doc),
            Gate {
                passed: false,
                reason: "150 of 400 users never got a connection: local resources ran out \
                         (descriptors or ports)"
                    .to_owned()
            }
        );
    }
}
