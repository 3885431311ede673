//! From a `load:` section, and the typed overrides a front end gives (the command line's
//! `-u/-r/-t/--iterations/--rate/--stages/--max-users`, `hit`'s `-c/-n/-d/-q`, `demo`'s
//! own load), to the engine's [`LoadModel`], with the defaults filled in.
//!
//! Overrides never edit the file's model: they are laid over its values here, with one set
//! of rules. An override that picks another load model than the file's replaces it:
//! `rate` turns a closed-model file into an open one, `users` turns an arrival-rate file
//! into a closed one. A file with several `scenarios` keeps its own loads: load overrides
//! there are an error. Conflicts are resolved here rather than by the argument parser,
//! since environment variables count as if typed: `rate` wins over `users`, `spawn_rate` and
//! `iterations` (an open model has no fixed users); `stages` with `duration` is an error.

use std::time::Duration;

use barrage_scenario::{Load, OnMaxUsers};

use crate::load::{
    Arrivals, ConstantArrivalRate, ConstantUsers, LoadModel, PoolSpec, RampingArrivalRate,
    RampingUsers, Stage,
};

/// The load a front end asks for instead of the file's (`None`: the file's value).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadOverrides {
    pub users: Option<u64>,
    pub spawn_rate: Option<f64>,
    pub duration: Option<Duration>,
    pub iterations: Option<u64>,
    pub rate: Option<f64>,
    pub stages: Option<Vec<Stage>>,
    pub max_users: Option<u64>,
    pub pre_allocated_users: Option<u64>,
    /// Open model: how scheduled starts are spaced (`load.arrivals`).
    pub arrivals: Option<Arrivals>,
}

/// Overrides that cannot apply. The messages name the command line's flags, which is where
/// people meet them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    #[error(
        "this file has several `scenarios`, each with its own `load`: -u, -r, -t, --iterations, \
         --rate, --stages and --max-users do not apply; change the scenarios' `load` sections \
         instead"
    )]
    SeveralScenarios,
    #[error("--stages and -t/--run-time both set the run's length: give one")]
    StagesAndDuration,
    #[error("--rate must be a number of iterations per second, 0 to 10,000,000")]
    Rate,
    #[error("--users must be from 1 to 10,000,000")]
    Users,
    #[error("--spawn-rate must be a positive number of users per second")]
    SpawnRate,
    #[error(
        "-t/--run-time cannot shorten the file's `stages`; give --stages instead, or remove \
         the stages from the file"
    )]
    DurationWithFileStages,
    #[error("--max-users applies only to an arrival rate (--rate, or `rate` in the file)")]
    MaxUsersWithoutRate,
    #[error("--max-users must be at least 1")]
    MaxUsers,
    #[error(
        "--arrivals applies only to an arrival rate: add --rate (or `rate` in the file), or \
         leave --arrivals out"
    )]
    ArrivalsWithoutRate,
}

impl LoadOverrides {
    /// Whether any override is given.
    pub fn any(&self) -> bool {
        *self != LoadOverrides::default()
    }
}

/// A `load:` section's values, unwrapped from their spans, with overrides laid over them.
#[derive(Debug, Clone, Default)]
struct Values {
    users: Option<u64>,
    spawn_rate: Option<f64>,
    duration: Option<Duration>,
    iterations: Option<u64>,
    rate: Option<f64>,
    stages: Vec<Stage>,
    max_users: Option<u64>,
    pre_allocated_users: Option<u64>,
    drop_when_busy: bool,
    arrivals: Arrivals,
}

impl Values {
    fn of(load: &Load) -> Values {
        Values {
            users: load.users.as_ref().map(|u| u.value),
            spawn_rate: load.spawn_rate.as_ref().map(|r| r.value),
            duration: load.duration.as_ref().map(|d| d.value),
            iterations: load.iterations.as_ref().map(|i| i.value),
            rate: load.rate.as_ref().map(|r| r.value),
            stages: load
                .stages
                .iter()
                .map(|s| Stage {
                    duration: s.duration.value,
                    target: s.target.value,
                })
                .collect(),
            max_users: load.max_users.as_ref().map(|m| m.value),
            pre_allocated_users: load.pre_allocated_users.as_ref().map(|p| p.value),
            drop_when_busy: load
                .on_max_users
                .as_ref()
                .is_some_and(|o| o.value == OnMaxUsers::Drop),
            arrivals: match load.arrivals.as_ref().map(|a| a.value) {
                Some(barrage_scenario::Arrivals::Poisson) => Arrivals::Poisson,
                Some(barrage_scenario::Arrivals::Even) | None => Arrivals::Even,
            },
        }
    }

    fn apply(&mut self, o: &LoadOverrides) -> Result<(), OverrideError> {
        if o.stages.is_some() && o.duration.is_some() {
            return Err(OverrideError::StagesAndDuration);
        }
        if let Some(rate) = o.rate {
            // `rate` replaces a closed model; the file's user stages are not rates.
            if self.rate.is_none() && o.stages.is_none() {
                self.stages.clear();
            }
            if !(0.0..=10_000_000.0).contains(&rate) {
                return Err(OverrideError::Rate);
            }
            self.rate = Some(rate);
            self.users = None;
            self.spawn_rate = None;
            self.iterations = None;
        } else if o.users.is_some() || o.spawn_rate.is_some() || o.iterations.is_some() {
            // A closed-model override: the file's arrival rate, if any, no longer applies.
            self.rate = None;
            self.max_users = None;
            self.pre_allocated_users = None;
            self.drop_when_busy = false;
            self.arrivals = Arrivals::Even;
        }
        if let Some(users) = o.users {
            if users == 0 || users > 10_000_000 {
                return Err(OverrideError::Users);
            }
            self.users = Some(users);
        }
        if let Some(r) = o.spawn_rate {
            if !(r > 0.0 && r.is_finite()) {
                return Err(OverrideError::SpawnRate);
            }
            self.spawn_rate = Some(r);
        }
        if let Some(n) = o.iterations {
            self.iterations = Some(n);
        }
        if let Some(stages) = &o.stages {
            self.stages = stages.clone();
            self.duration = None;
            self.spawn_rate = None;
            self.iterations = None;
        }
        if let Some(t) = o.duration {
            if !self.stages.is_empty() && o.stages.is_none() {
                return Err(OverrideError::DurationWithFileStages);
            }
            self.duration = Some(t);
        }
        if let Some(m) = o.max_users {
            if self.rate.is_none() {
                return Err(OverrideError::MaxUsersWithoutRate);
            }
            if m == 0 {
                return Err(OverrideError::MaxUsers);
            }
            self.max_users = Some(m);
        }
        if let Some(p) = o.pre_allocated_users {
            self.pre_allocated_users = Some(p);
        }
        if let Some(a) = o.arrivals {
            if self.rate.is_none() {
                return Err(OverrideError::ArrivalsWithoutRate);
            }
            self.arrivals = a;
        }
        Ok(())
    }

    /// Open-model defaults: at most `max(100, peak rate)` users (a second's worth of
    /// iterations in flight, enough for a healthy service and for stalls up to about a
    /// second), of which a tenth of a second's worth are created before the run starts.
    fn model(self) -> LoadModel {
        match self.rate {
            Some(rate) => {
                let peak = self.stages.iter().map(|s| s.target).fold(rate, f64::max);
                let max_users = self.max_users.unwrap_or((peak.ceil() as u64).max(100));
                let pre_allocated = self
                    .pre_allocated_users
                    .unwrap_or(((peak / 10.0).ceil() as u64).max(1))
                    .min(max_users);
                let pool = PoolSpec {
                    max_users,
                    pre_allocated,
                    drop_when_busy: self.drop_when_busy,
                };
                if self.stages.is_empty() {
                    LoadModel::ConstantArrivalRate(ConstantArrivalRate {
                        rate,
                        duration: self.duration,
                        pool,
                        arrivals: self.arrivals,
                    })
                } else {
                    LoadModel::RampingArrivalRate(RampingArrivalRate {
                        rate,
                        stages: self.stages,
                        pool,
                        arrivals: self.arrivals,
                    })
                }
            }
            None if !self.stages.is_empty() => LoadModel::RampingUsers(RampingUsers {
                start: self.users.unwrap_or(0),
                stages: self.stages,
            }),
            None => LoadModel::ConstantUsers(ConstantUsers {
                users: self.users.unwrap_or(1),
                spawn_rate: self.spawn_rate,
                duration: self.duration,
                iterations: self.iterations,
            }),
        }
    }
}

/// The load model a `load:` section describes, with `overrides` laid over it and the
/// engine's defaults filled in.
pub fn load_model(load: &Load, overrides: &LoadOverrides) -> Result<LoadModel, OverrideError> {
    let mut values = Values::of(load);
    values.apply(overrides)?;
    Ok(values.model())
}

#[cfg(test)]
mod tests {
    use super::*;
    use barrage_scenario::{Span, Spanned};

    fn spanned<T>(v: T) -> Option<Spanned<T>> {
        Some(Spanned::new(v, Span::default()))
    }

    #[test]
    fn overrides_replace_the_files_model() {
        let closed = Load {
            users: spanned(10),
            spawn_rate: spanned(5.0),
            duration: spanned(Duration::from_secs(30)),
            ..Load::default()
        };
        let open = LoadOverrides {
            rate: Some(200.0),
            ..LoadOverrides::default()
        };
        let LoadModel::ConstantArrivalRate(m) = load_model(&closed, &open).unwrap() else {
            panic!("--rate makes an open model");
        };
        assert_eq!((m.rate, m.duration), (200.0, Some(Duration::from_secs(30))));
        assert_eq!((m.pool.max_users, m.pool.pre_allocated), (200, 20));

        let rated = Load {
            rate: spanned(50.0),
            max_users: spanned(7),
            ..Load::default()
        };
        let users = LoadOverrides {
            users: Some(3),
            ..LoadOverrides::default()
        };
        let LoadModel::ConstantUsers(m) = load_model(&rated, &users).unwrap() else {
            panic!("-u makes a closed model");
        };
        assert_eq!(m.users, 3);
    }

    #[test]
    fn arrivals_come_from_the_file_or_the_override_and_need_a_rate() {
        let poisson_file = Load {
            rate: spanned(50.0),
            arrivals: spanned(barrage_scenario::Arrivals::Poisson),
            ..Load::default()
        };
        let arrivals_of = |load: &Load, o: &LoadOverrides| match load_model(load, o) {
            Ok(LoadModel::ConstantArrivalRate(m)) => m.arrivals,
            other => panic!("an open model, not {other:?}"),
        };
        assert_eq!(
            arrivals_of(&poisson_file, &LoadOverrides::default()),
            Arrivals::Poisson
        );
        let even = LoadOverrides {
            arrivals: Some(Arrivals::Even),
            ..LoadOverrides::default()
        };
        assert_eq!(arrivals_of(&poisson_file, &even), Arrivals::Even);
        let poisson_rate = LoadOverrides {
            rate: Some(10.0),
            arrivals: Some(Arrivals::Poisson),
            ..LoadOverrides::default()
        };
        assert_eq!(
            arrivals_of(&Load::default(), &poisson_rate),
            Arrivals::Poisson
        );
        let LoadModel::RampingArrivalRate(m) = load_model(
            &Load::default(),
            &LoadOverrides {
                stages: Some(vec![Stage {
                    duration: Duration::from_secs(5),
                    target: 20.0,
                }]),
                ..poisson_rate.clone()
            },
        )
        .unwrap() else {
            panic!("--rate with --stages ramps the rate");
        };
        assert_eq!(m.arrivals, Arrivals::Poisson);

        let poisson_only = LoadOverrides {
            arrivals: Some(Arrivals::Poisson),
            ..LoadOverrides::default()
        };
        assert_eq!(
            load_model(&Load::default(), &poisson_only),
            Err(OverrideError::ArrivalsWithoutRate)
        );
        // Turning the file's open model into a closed one leaves its spacing behind.
        let users = LoadOverrides {
            users: Some(2),
            ..LoadOverrides::default()
        };
        assert!(matches!(
            load_model(&poisson_file, &users),
            Ok(LoadModel::ConstantUsers(_))
        ));
    }

    #[test]
    fn conflicting_overrides_are_refused() {
        let staged = Load {
            stages: vec![barrage_scenario::Stage {
                duration: Spanned::new(Duration::from_secs(5), Span::default()),
                target: Spanned::new(5.0, Span::default()),
            }],
            ..Load::default()
        };
        let run_time = LoadOverrides {
            duration: Some(Duration::from_secs(1)),
            ..LoadOverrides::default()
        };
        assert_eq!(
            load_model(&staged, &run_time),
            Err(OverrideError::DurationWithFileStages)
        );
        let max = LoadOverrides {
            max_users: Some(5),
            ..LoadOverrides::default()
        };
        assert_eq!(
            load_model(&Load::default(), &max),
            Err(OverrideError::MaxUsersWithoutRate)
        );
        let zero = LoadOverrides {
            users: Some(0),
            ..LoadOverrides::default()
        };
        assert_eq!(
            load_model(&Load::default(), &zero),
            Err(OverrideError::Users)
        );
    }
}
