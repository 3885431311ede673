//! The search over levels: an exponential probe from the start level until a step fails,
//! then bisection between the last level that passed and the first that failed until the
//! bracket is within the precision, then the highest passing level again to confirm it.
//! Never above the maximum. Pure: it is told each step's verdict and says what to run next.
//!
//! Rules (the tests pin each):
//! - Probe: `start`, then `level x factor` (capped at `max`) while steps pass. A pass at
//!   `max` goes to confirmation and ends as [`CapacityStatus::AtLeast`].
//! - A failure with no pass yet ends the search: [`CapacityStatus::StartFails`].
//! - Bisect: the midpoint of (highest pass, lowest failure above it), rounded to a whole
//!   number with `integer_levels` (users), until `(failed - passed) / passed <= precision`
//!   (with integer levels also when `failed - passed <= 1`).
//! - Confirm: the highest passing level once more. If it passes, the search is over:
//!   [`CapacityStatus::Found`]. If it fails, that level counts as failed (the bracket's top
//!   comes down to it) and the search bisects again below it, from the highest level that
//!   passed under it (or ends as `StartFails` if there is none); at most
//!   `max_confirmations` confirmations are tried, then the search ends `Found` with the
//!   last bracket and says so in [`Conclusion::unconfirmed`].
//! - [`Verdict::GeneratorLimit`] ends the search at once:
//!   [`CapacityStatus::GeneratorLimit`], the bracket as it was.
//! - At most `max_steps` steps in all (a bound on the run); reaching it ends the search
//!   with the bracket so far (`Found` if something passed, with `unconfirmed` set).

use barrage_metrics::capacity::{Bracket, CapacityStatus, StepPhase};

/// How to search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSettings {
    /// The first level (iterations/s, or users); more than 0.
    pub start: f64,
    /// The highest level ever run; at least `start`.
    pub max: f64,
    /// Bisection stops when the bracket's width over its lower end is at most this (0.05).
    pub precision: f64,
    /// The probe's growth factor per step (2.0); more than 1.
    pub factor: f64,
    /// Levels are whole numbers (users).
    pub integer_levels: bool,
    /// Confirmations tried before giving up on confirming (2).
    pub max_confirmations: u32,
    /// Steps in all, at most (40).
    pub max_steps: u32,
}

impl Default for SearchSettings {
    fn default() -> Self {
        SearchSettings {
            start: 10.0,
            max: 100_000.0,
            precision: 0.05,
            factor: 2.0,
            integer_levels: false,
            max_confirmations: 2,
            max_steps: 40,
        }
    }
}

/// Settings that cannot be searched with; the messages name the flags.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    #[error("--start-rate (or --start-users) must be more than 0")]
    Start,
    #[error("--max-rate (or --max-users) must be at least the start ({start})")]
    Max { start: f64 },
    #[error("--precision must be more than 0 % and less than 100 %, e.g. 5%")]
    Precision,
}

/// A judged step's verdict, as the search needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed,
    /// The generator, not the service, was the limit: the level says nothing of the service.
    GeneratorLimit,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Run a step at this level.
    Run { level: f64, phase: StepPhase },
    /// The search is over.
    Done(Conclusion),
}

/// How the search ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Conclusion {
    pub status: CapacityStatus,
    pub bracket: Bracket,
    /// Index (into the steps recorded, from 0) of the step that confirmed the capacity, or
    /// of the highest passing step when none confirmed it.
    pub capacity_step: Option<usize>,
    /// Index of the first step that failed at the bracket's failing level.
    pub first_failed_step: Option<usize>,
    /// The capacity was not confirmed (confirmations ran out, or the step limit was hit).
    pub unconfirmed: bool,
}

/// The search's state (see the module comment).
#[derive(Debug, Clone)]
pub struct Search {
    settings: SearchSettings,
    /// Every step recorded: (level, phase, verdict), in order.
    steps: Vec<(f64, StepPhase, Verdict)>,
}

impl Search {
    pub fn new(settings: SearchSettings) -> Result<Search, SettingsError> {
        todo!("capacity-core helper")
    }

    pub fn settings(&self) -> &SearchSettings {
        &self.settings
    }

    /// What to run next, or the conclusion.
    pub fn next(&self) -> Next {
        todo!("capacity-core helper")
    }

    /// Records the verdict of the step [`Search::next`] asked for (`level` and `phase` as it
    /// gave them).
    pub fn record(&mut self, level: f64, phase: StepPhase, verdict: Verdict) {
        todo!("capacity-core helper")
    }

    /// The conclusion if the search stops here (Ctrl-C): status `Interrupted`, the bracket
    /// so far.
    pub fn interrupted(&self) -> Conclusion {
        todo!("capacity-core helper")
    }

    /// Steps recorded so far.
    pub fn steps(&self) -> usize {
        self.steps.len()
    }

    /// The bracket so far.
    pub fn bracket(&self) -> Bracket {
        todo!("capacity-core helper")
    }
}
