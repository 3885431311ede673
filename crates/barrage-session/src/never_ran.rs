//! Tasks and endpoints that never ran, and why when the plan and the figures tell.
//!
//! A person reading a summary sees what ran; what did not is easy to miss, and the reasons
//! are few and knowable: the user type got no user (10 users over 12 user types of equal
//! weight leave two without one), its setup never succeeded (so its tasks never started),
//! the task's weight is too small for the iterations the run had, or an earlier step of the
//! same task failed and stopped its iterations. Anything else is said to be unknown rather
//! than guessed.
//!
//! Only this module reads the plan for it; the reasons are worked out from a small
//! [`Shape`] of each user type, so the rules are tested without compiling a scenario.

use barrage_engine::plan::Step;
use barrage_engine::Plan;
use barrage_metrics::{NeverRan, ResultDoc};

/// What the reasons need to know about one user type.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    pub(crate) scenario: String,
    pub(crate) user: String,
    /// Users of this type the load model starts at most.
    pub(crate) users: u64,
    /// Users the scenario starts at most, and its number of user types (for the wording).
    pub(crate) scenario_users: u64,
    pub(crate) user_types: usize,
    /// Registry indexes of the setup's endpoints, in step order.
    pub(crate) setup: Vec<usize>,
    pub(crate) tasks: Vec<TaskShape>,
}

#[derive(Debug, Clone)]
pub(crate) struct TaskShape {
    /// Registry index of the task.
    pub(crate) id: usize,
    pub(crate) name: String,
    pub(crate) weight: u64,
    /// Registry indexes of its endpoints, in step order.
    pub(crate) endpoints: Vec<usize>,
}

/// The shapes of every user type of `plan`.
pub(crate) fn shapes(plan: &Plan) -> Vec<Shape> {
    let endpoints = |steps: &[Step]| -> Vec<usize> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Request(r) => Some(r.endpoint.index()),
                Step::Ws(w) => Some(w.endpoint.index()),
                Step::Think(_) => None,
            })
            .collect()
    };
    let mut out = Vec::new();
    for s in &plan.scenarios {
        let most = s.load.executor().max_users();
        for (u, user) in s.users.iter().enumerate() {
            // Users are dealt to the types by `user_cycle`; the first `most` of it decide.
            let cycle = s.user_cycle.len().max(1) as u64;
            let per_cycle = s.user_cycle.iter().filter(|&&t| t as usize == u).count() as u64;
            let rest = s.user_cycle[..(most % cycle) as usize]
                .iter()
                .filter(|&&t| t as usize == u)
                .count() as u64;
            let mut previous = 0;
            let tasks = user
                .tasks
                .iter()
                .zip(&user.cumulative_weights)
                .map(|(t, &c)| {
                    let weight = c - previous;
                    previous = c;
                    TaskShape {
                        id: t.id.index(),
                        name: t.name.clone(),
                        weight,
                        endpoints: endpoints(&t.steps),
                    }
                })
                .collect();
            out.push(Shape {
                scenario: s.name.clone(),
                user: user.name.clone(),
                users: most / cycle * per_cycle + rest,
                scenario_users: most,
                user_types: s.users.len(),
                setup: endpoints(&user.setup),
                tasks,
            });
        }
    }
    out
}

/// Below this many expected iterations a task that never ran is put down to its weight.
const FEW: f64 = 3.0;

/// What never ran in `doc`, with why.
pub(crate) fn explain(shapes: &[Shape], doc: &ResultDoc) -> Vec<NeverRan> {
    let requests = |i: usize| {
        doc.endpoints.get(i).map_or(0, |e| {
            // A WebSocket step that only sends ran when it opened a socket.
            let sockets = e.messages.as_ref().map_or(0, |m| m.sockets);
            e.requests + e.interrupted + sockets
        })
    };
    let failures = |i: usize| doc.endpoints.get(i).map_or(0, |e| e.failures);
    let iterations = |i: usize| doc.tasks.get(i).map_or(0, |t| t.iterations);
    let label = |i: usize| {
        doc.endpoints.get(i).map_or_else(
            || format!("endpoint {i}"),
            |e| format!("{} {}", e.method, e.name),
        )
    };
    let mut out = Vec::new();
    for shape in shapes {
        let note = |what: String, why: String| NeverRan {
            scenario: shape.scenario.clone(),
            what,
            why,
        };
        let user_ran: u64 = shape.tasks.iter().map(|t| iterations(t.id)).sum();
        let total_weight: u64 = shape.tasks.iter().map(|t| t.weight).sum();
        let setup_failed = shape.setup.iter().any(|&e| failures(e) > 0);
        // Why the whole user type did nothing, when it did nothing.
        let user_why = if shape.users == 0 {
            Some(format!(
                "user type `{}` got no user: {} users over {} user types, and its weight \
                 is too small for that many users",
                shape.user, shape.scenario_users, shape.user_types
            ))
        } else if user_ran == 0 && setup_failed {
            Some(format!(
                "the setup of user type `{}` never succeeded (see Failures)",
                shape.user
            ))
        } else if user_ran == 0 {
            // The plan could start users of this type, but none ran an iteration: the run
            // was too short for its users to start (a slow spawn rate), or its iterations
            // went to other types. No weight of one of its tasks explains that.
            Some(format!(
                "no user of type `{}` ran an iteration: the run ended before one started, \
                 or its iterations ran out",
                shape.user
            ))
        } else {
            None
        };
        if user_why.is_some() {
            for &e in shape.setup.iter().filter(|&&e| requests(e) == 0) {
                let why = user_why.clone().unwrap_or_else(|| "unknown".to_owned());
                note_push(
                    &mut out,
                    note(format!("{} (setup of user {})", label(e), shape.user), why),
                );
            }
        }
        for t in &shape.tasks {
            let task_why = if iterations(t.id) > 0 {
                None
            } else if let Some(why) = &user_why {
                Some(why.clone())
            } else {
                let expected = user_ran as f64 * t.weight as f64 / total_weight.max(1) as f64;
                Some(if expected < FEW {
                    format!(
                        "its weight ({} of {total_weight}) is too small for the {user_ran} \
                         iterations user type `{}` ran",
                        t.weight, shape.user
                    )
                } else {
                    "unknown".to_owned()
                })
            };
            if let Some(why) = &task_why {
                out.push(note(
                    format!("task {} of user {}", t.name, shape.user),
                    why.clone(),
                ));
            }
            for (k, &e) in t.endpoints.iter().enumerate() {
                if requests(e) > 0 {
                    continue;
                }
                let why = match &task_why {
                    Some(_) => format!("its task `{}` never ran", t.name),
                    // Its task ran: an earlier step that failed stops the iteration.
                    None if t.endpoints[..k].iter().any(|&p| failures(p) > 0) => format!(
                        "an earlier step of task `{}` failed and stopped its iterations",
                        t.name
                    ),
                    None => "unknown".to_owned(),
                };
                out.push(note(
                    format!("{} (task {} of user {})", label(e), t.name, shape.user),
                    why,
                ));
            }
        }
    }
    out
}

/// The same endpoint may sit in several places; it is listed once.
fn note_push(out: &mut Vec<NeverRan>, n: NeverRan) {
    if !out.iter().any(|o| o.what == n.what) {
        out.push(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use barrage_metrics::{EndpointStats, LatencyStats, TaskStats};

    fn doc(endpoints: &[(&str, u64, u64)], tasks: &[u64]) -> ResultDoc {
        let endpoints: Vec<EndpointStats> = endpoints
            .iter()
            .map(|&(name, requests, failures)| EndpointStats {
                method: "GET".into(),
                name: name.into(),
                requests,
                failures,
                ..Default::default()
            })
            .collect();
        let tasks: Vec<TaskStats> = tasks
            .iter()
            .map(|&iterations| TaskStats {
                scenario: "s".into(),
                user: "u".into(),
                task: "t".into(),
                iterations,
                duration: LatencyStats::default(),
            })
            .collect();
        let text = serde_json::json!({
            "version": 1,
            "tool": { "name": "barrage", "version": "0" },
            "run": { "scenario_file": null, "scenario_sha256": null, "target": "",
                     "started_at": "", "ended_at": "", "duration_s": 1.0, "workers": 1,
                     "interrupted": false,
                     "load": { "users": null, "spawn_rate": null, "duration_s": null, "iterations": null },
                     "host": { "os": "", "arch": "", "cpus": 1 }, "command": "" },
            "endpoints": endpoints,
            "aggregate": EndpointStats {
                requests: endpoints.iter().map(|e| e.requests).sum(),
                failures: endpoints.iter().map(|e| e.failures).sum(),
                ..Default::default()
            },
            "tasks": tasks,
        });
        ResultDoc::from_json(&text.to_string()).expect("a consistent document")
    }

    fn task(id: usize, name: &str, weight: u64, endpoints: &[usize]) -> TaskShape {
        TaskShape {
            id,
            name: name.into(),
            weight,
            endpoints: endpoints.to_vec(),
        }
    }

    fn shape(user: &str, users: u64, setup: &[usize], tasks: Vec<TaskShape>) -> Shape {
        Shape {
            scenario: "s".into(),
            user: user.into(),
            users,
            scenario_users: 10,
            user_types: 12,
            setup: setup.to_vec(),
            tasks,
        }
    }

    fn whys(n: &[NeverRan]) -> Vec<(String, String)> {
        n.iter().map(|n| (n.what.clone(), n.why.clone())).collect()
    }

    #[test]
    fn a_user_type_without_users_and_everything_in_it() {
        let shapes = [shape("rare", 0, &[0], vec![task(0, "read", 1, &[1])])];
        let got = whys(&explain(
            &shapes,
            &doc(&[("/login", 0, 0), ("/a", 0, 0)], &[0]),
        ));
        let why = "user type `rare` got no user: 10 users over 12 user types, and its weight \
                   is too small for that many users";
        assert_eq!(
            got,
            [
                ("GET /login (setup of user rare)".to_owned(), why.to_owned()),
                ("task read of user rare".to_owned(), why.to_owned()),
                (
                    "GET /a (task read of user rare)".to_owned(),
                    "its task `read` never ran".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_user_type_whose_users_never_started_is_not_blamed_on_weights() {
        // Users of this type could start, but none ran an iteration (a slow spawn rate):
        // its setup is listed too, with the user-level reason.
        let shapes = [shape("late", 3, &[0], vec![task(0, "read", 1, &[1])])];
        let got = whys(&explain(
            &shapes,
            &doc(&[("/login", 0, 0), ("/a", 0, 0)], &[0]),
        ));
        let why = "no user of type `late` ran an iteration: the run ended before one \
                   started, or its iterations ran out";
        assert_eq!(
            got,
            [
                ("GET /login (setup of user late)".to_owned(), why.to_owned()),
                ("task read of user late".to_owned(), why.to_owned()),
                (
                    "GET /a (task read of user late)".to_owned(),
                    "its task `read` never ran".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_failed_setup_a_light_task_a_stopped_step_and_the_unknown() {
        let shapes = [
            shape("admin", 2, &[0], vec![task(0, "manage", 1, &[1])]),
            shape(
                "reader",
                3,
                &[],
                vec![
                    task(1, "browse", 1000, &[2, 3]),
                    task(2, "export", 1, &[4]),
                    task(3, "search", 500, &[5]),
                ],
            ),
        ];
        let d = doc(
            &[
                ("/login", 40, 40),
                ("/admin", 0, 0),
                ("/items", 900, 5),
                ("/items/{id}", 0, 0),
                ("/export", 0, 0),
                ("/search", 0, 0),
            ],
            &[0, 900, 0, 0],
        );
        let got = whys(&explain(&shapes, &d));
        assert_eq!(
            got[0],
            (
                "task manage of user admin".to_owned(),
                "the setup of user type `admin` never succeeded (see Failures)".to_owned()
            )
        );
        assert_eq!(got[1].1, "its task `manage` never ran");
        assert_eq!(
            got[2],
            (
                "GET /items/{id} (task browse of user reader)".to_owned(),
                "an earlier step of task `browse` failed and stopped its iterations".to_owned()
            )
        );
        assert_eq!(
            got[3],
            (
                "task export of user reader".to_owned(),
                "its weight (1 of 1501) is too small for the 900 iterations user type \
                 `reader` ran"
                    .to_owned()
            )
        );
        // 900 iterations with a third of the weight: about 300 expected, none ran.
        assert_eq!(
            got[5],
            (
                "task search of user reader".to_owned(),
                "unknown".to_owned()
            )
        );
        assert_eq!(got.len(), 7);
    }

    #[test]
    fn nothing_when_everything_ran() {
        let shapes = [shape("u", 10, &[], vec![task(0, "t", 1, &[0])])];
        assert!(explain(&shapes, &doc(&[("/", 5, 0)], &[5])).is_empty());
    }
}
