//! The handle that steers a running session: stop it, reset its statistics, and change
//! its load while it runs. The terminal's keys, the web UI and the capacity search all
//! steer through this one handle; each says who it is (`source`), and every change lands in
//! the result file's timeline with the time and the source.
//!
//! A handle is cheap to clone (a channel sender and an `Arc`) and may be used from any
//! thread: it only sends a request to the session's control loop, which applies it between
//! two closed seconds. What can be checked without the loop (the scenario exists, it is
//! steered by users or by a rate) is checked here, so the caller gets the error at once.
//! It can also ask the loop for the result document of the run so far (a download in the
//! middle of a run), answered through a oneshot channel.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use barrage_engine::Steer;
use barrage_metrics::ResultDoc;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;

/// What a front end asks of a running session.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Command {
    /// Stop: gracefully (in-flight requests get the stop timeout), or at once.
    Stop {
        hard: bool,
        /// Cut short by the person (Ctrl-C): the result says `interrupted`. A stop that
        /// ends the run as its run time would (the web UI's stop button) is judged as any
        /// finished run.
        interrupt: bool,
    },
    ResetStats,
    /// Hold this many users (closed model) or iterations/s (open model) from now on.
    Set {
        scenario: usize,
        target: f64,
    },
    /// Change the current level by this much (the terminal's keys).
    Adjust {
        scenario: usize,
        by: f64,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub command: Command,
    pub source: String,
}

/// What travels to the session's control loop.
#[derive(Debug)]
pub(crate) enum Message {
    /// Steer the run; lands in the timeline.
    Steer(Request),
    /// Answer with the result document of the run so far.
    ResultSoFar(oneshot::Sender<ResultDoc>),
    /// Answer with one endpoint's (or the aggregate's) encoded response-time histogram.
    Histogram(Option<usize>, oneshot::Sender<Option<String>>),
}

/// One scenario as the handle knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioInfo {
    pub name: String,
    /// Whether a change sets users or a rate.
    pub steers: Steer,
}

/// A request the session cannot take.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ControlError {
    #[error("no scenario named `{name}`; scenarios here: {known}")]
    NoSuchScenario { name: String, known: String },
    #[error("this run has several scenarios ({known}): name the one to change")]
    WhichScenario { known: String },
    #[error("scenario `{scenario}` runs {has}: change its {wants} instead")]
    WrongModel {
        scenario: String,
        has: &'static str,
        wants: &'static str,
    },
    #[error("{0} must be a number of at least 0")]
    Negative(&'static str),
    #[error("the run is over")]
    Ended,
}

/// Steers one running session (see the module comment).
#[derive(Debug, Clone)]
pub struct Control {
    tx: UnboundedSender<Message>,
    scenarios: Arc<[ScenarioInfo]>,
    /// Set by every stop that interrupts (Ctrl-C), also once the run is over: the outputs
    /// being written read it through [`crate::Finished::hurry`], so a sink that waits at
    /// the end (for a final scrape) stops waiting.
    hurry: Arc<AtomicBool>,
}

impl Control {
    pub(crate) fn new(tx: UnboundedSender<Message>, scenarios: Arc<[ScenarioInfo]>) -> Control {
        Control {
            tx,
            scenarios,
            hurry: Arc::default(),
        }
    }

    /// The flag interrupting stops set (see [`crate::Finished::hurry`]).
    pub(crate) fn hurry(&self) -> Arc<AtomicBool> {
        self.hurry.clone()
    }

    /// The run's scenarios, in the plan's order.
    pub fn scenarios(&self) -> &[ScenarioInfo] {
        &self.scenarios
    }

    /// Start nothing new; in-flight requests get the stop timeout. The run counts as
    /// interrupted.
    pub fn stop(&self, source: &str) -> Result<(), ControlError> {
        self.hurry.store(true, Ordering::Relaxed);
        self.send(
            Command::Stop {
                hard: false,
                interrupt: true,
            },
            source,
        )
    }

    /// End the run here as its run time would: start nothing new, in-flight requests get
    /// the stop timeout, and the run is judged as a finished one (not interrupted). The web
    /// UI's stop button and Locust's `GET /stop`.
    pub fn end(&self, source: &str) -> Result<(), ControlError> {
        self.send(
            Command::Stop {
                hard: false,
                interrupt: false,
            },
            source,
        )
    }

    /// Stop now; in-flight requests are counted as interrupted.
    pub fn hard_stop(&self, source: &str) -> Result<(), ControlError> {
        self.hurry.store(true, Ordering::Relaxed);
        self.send(
            Command::Stop {
                hard: true,
                interrupt: true,
            },
            source,
        )
    }

    /// Forget the statistics so far (Locust's "reset stats"), from the next whole second on.
    pub fn reset_stats(&self, source: &str) -> Result<(), ControlError> {
        self.send(Command::ResetStats, source)
    }

    /// From now on, `scenario` (or the only one) runs `users` users, reached at its spawn
    /// rate; under stages, the rest of the stages is replaced by a hold at `users`.
    pub fn set_users(
        &self,
        scenario: Option<&str>,
        users: u64,
        source: &str,
    ) -> Result<(), ControlError> {
        let index = self.scenario(scenario, Steer::Users)?;
        self.send(
            Command::Set {
                scenario: index,
                target: users as f64,
            },
            source,
        )
    }

    /// From now on, `scenario` (or the only one) starts `rate` iterations per second; under
    /// stages, the rest of the stages is replaced by a hold at `rate`.
    pub fn set_rate(
        &self,
        scenario: Option<&str>,
        rate: f64,
        source: &str,
    ) -> Result<(), ControlError> {
        if !(rate >= 0.0 && rate.is_finite()) {
            return Err(ControlError::Negative("a rate"));
        }
        let index = self.scenario(scenario, Steer::Rate)?;
        self.send(
            Command::Set {
                scenario: index,
                target: rate,
            },
            source,
        )
    }

    /// Changes `scenario`'s (or the only one's) level by `by`: users for a closed model,
    /// iterations per second for an open one (never below 0).
    pub fn adjust(
        &self,
        scenario: Option<&str>,
        by: f64,
        source: &str,
    ) -> Result<(), ControlError> {
        let index = self.index(scenario)?;
        self.send(
            Command::Adjust {
                scenario: index,
                by,
            },
            source,
        )
    }

    /// The result document of the run so far, as the end of the run would write it but
    /// judged on the figures so far: thresholds provisionally, warnings, the timeline;
    /// `ended_at` is when it was made, and `never_ran` is left empty (what has not run yet
    /// may still). The open second's figures are in the totals as far as the workers
    /// reported them. [`ControlError::Ended`] once the run is over: the [`crate::Outcome`]
    /// and [`crate::Finished`] hold the final result then.
    ///
    /// The request is sent at once; the future (which borrows nothing) waits for the
    /// control loop's answer, at most until the next event it handles.
    pub fn result_so_far(
        &self,
    ) -> impl Future<Output = Result<ResultDoc, ControlError>> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let sent = self.tx.send(Message::ResultSoFar(reply));
        async move {
            sent.map_err(|_| ControlError::Ended)?;
            // The loop drops the reply unanswered only when the run ends first.
            answer.await.map_err(|_| ControlError::Ended)
        }
    }

    /// The encoded response-time histogram of the run so far (as the result file encodes
    /// it) of endpoint `endpoint` (its index), or of the aggregate with `None`: one encode
    /// where [`Control::result_so_far`] builds the whole document. `Ok(None)` when there
    /// is no such endpoint; [`ControlError::Ended`] once the run is over.
    pub fn histogram(
        &self,
        endpoint: Option<usize>,
    ) -> impl Future<Output = Result<Option<String>, ControlError>> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let sent = self.tx.send(Message::Histogram(endpoint, reply));
        async move {
            sent.map_err(|_| ControlError::Ended)?;
            answer.await.map_err(|_| ControlError::Ended)
        }
    }

    fn send(&self, command: Command, source: &str) -> Result<(), ControlError> {
        self.tx
            .send(Message::Steer(Request {
                command,
                source: source.to_owned(),
            }))
            .map_err(|_| ControlError::Ended)
    }

    fn known(&self) -> String {
        self.scenarios
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn index(&self, scenario: Option<&str>) -> Result<usize, ControlError> {
        match scenario {
            Some(name) => self
                .scenarios
                .iter()
                .position(|s| s.name == name)
                .ok_or_else(|| ControlError::NoSuchScenario {
                    name: name.to_owned(),
                    known: self.known(),
                }),
            None if self.scenarios.len() == 1 => Ok(0),
            None => Err(ControlError::WhichScenario {
                known: self.known(),
            }),
        }
    }

    fn scenario(&self, scenario: Option<&str>, wants: Steer) -> Result<usize, ControlError> {
        let index = self.index(scenario)?;
        let info = &self.scenarios[index];
        if info.steers != wants {
            let words = |s: Steer| match s {
                Steer::Users => "users",
                Steer::Rate => "rate",
            };
            return Err(ControlError::WrongModel {
                scenario: info.name.clone(),
                has: match info.steers {
                    Steer::Users => "a number of users",
                    Steer::Rate => "an arrival rate",
                },
                wants: words(info.steers),
            });
        }
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(
        scenarios: &[(&str, Steer)],
    ) -> (Control, tokio::sync::mpsc::UnboundedReceiver<Message>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let infos: Vec<ScenarioInfo> = scenarios
            .iter()
            .map(|&(n, s)| ScenarioInfo {
                name: n.to_owned(),
                steers: s,
            })
            .collect();
        (Control::new(tx, infos.into()), rx)
    }

    #[test]
    fn a_change_names_its_scenario_or_applies_to_the_only_one() {
        let (one, mut rx) = control(&[("default", Steer::Users)]);
        one.set_users(None, 7, "test").unwrap();
        let Ok(Message::Steer(request)) = rx.try_recv() else {
            panic!("a steering request was sent")
        };
        assert_eq!(
            request.command,
            Command::Set {
                scenario: 0,
                target: 7.0
            }
        );
        assert!(matches!(
            one.set_rate(None, 5.0, "test"),
            Err(ControlError::WrongModel { .. })
        ));
        let (two, _rx) = control(&[("browse", Steer::Users), ("orders", Steer::Rate)]);
        assert!(matches!(
            two.set_users(None, 1, "test"),
            Err(ControlError::WhichScenario { .. })
        ));
        assert!(two.set_rate(Some("orders"), 20.0, "test").is_ok());
        assert_eq!(
            two.set_rate(Some("order"), 20.0, "test"),
            Err(ControlError::NoSuchScenario {
                name: "order".into(),
                known: "browse, orders".into()
            })
        );
        assert_eq!(
            two.set_rate(Some("orders"), -1.0, "test"),
            Err(ControlError::Negative("a rate"))
        );
    }

    #[test]
    fn a_result_asked_of_a_run_that_is_over_is_an_error() {
        let (one, rx) = control(&[("default", Steer::Users)]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // Asked while the loop still listens, then the loop ends without answering.
        let pending = one.result_so_far();
        drop(rx);
        assert_eq!(rt.block_on(pending), Err(ControlError::Ended));
        // Asked after it ended.
        assert_eq!(rt.block_on(one.result_so_far()), Err(ControlError::Ended));
        assert_eq!(rt.block_on(one.histogram(None)), Err(ControlError::Ended));
        assert_eq!(one.stop("test"), Err(ControlError::Ended));
    }
}
