//! Load models in the file: which keys mean which model, stages in both forms, several
//! scenarios, and the errors for keys that belong to another model.

mod common;

use std::time::Duration;

use barrage_scenario::{parse, parse_stage, Arrivals, OnMaxUsers};
use common::{error, source};

const TASK: &str = "tasks: { t: [ { get: / } ] }\n";

#[test]
fn an_arrival_rate_with_stages_and_pool_settings() {
    let text = format!(
        "{TASK}load:\n  rate: 10\n  stages:\n    - {{ duration: 30s, target: 100 }}\n    - 1m:100\n  max_users: 50\n  pre_allocated_users: 5\n  on_max_users: drop\n"
    );
    let (s, _) = parse(&source(&text)).unwrap();
    let l = &s.load;
    assert_eq!(l.rate.as_ref().unwrap().value, 10.0);
    assert_eq!(l.stages.len(), 2);
    assert_eq!(l.stages[1].duration.value, Duration::from_secs(60));
    assert_eq!(l.stages[1].target.value, 100.0);
    assert_eq!(l.max_users.as_ref().unwrap().value, 50);
    assert_eq!(l.pre_allocated_users.as_ref().unwrap().value, 5);
    assert_eq!(l.on_max_users.as_ref().unwrap().value, OnMaxUsers::Drop);
    assert!(l.is_open());
    assert_eq!(l.arrivals, None);
}

#[test]
fn arrivals_are_even_or_poisson_and_only_with_a_rate() {
    for (written, arrivals) in [("poisson", Arrivals::Poisson), ("even", Arrivals::Even)] {
        let text = format!("{TASK}load:\n  rate: 10\n  arrivals: {written}\n");
        let (s, _) = parse(&source(&text)).unwrap();
        assert_eq!(s.load.arrivals.as_ref().unwrap().value, arrivals);
    }
    let e = error(
        &format!("{TASK}load:\n  rate: 10\n  arrivals: random\n"),
        "`random` is not a choice for `arrivals`",
    );
    assert_eq!((e.line, e.col), (4, 13));
    let help = e.help.unwrap();
    assert!(
        help.contains("`even`") && help.contains("`poisson`"),
        "{help}"
    );
    let e = error(
        &format!("{TASK}load:\n  users: 3\n  arrivals: poisson\n"),
        "`arrivals` applies only to an arrival rate",
    );
    assert_eq!((e.line, e.col), (4, 3));
    assert!(e.help.unwrap().contains("rate: N"));
}

#[test]
fn keys_of_another_model_are_errors_that_name_the_model() {
    let e = error(
        &format!("{TASK}load:\n  rate: 10\n  spawn_rate: 2\n"),
        "does not apply with `rate`",
    );
    assert_eq!((e.line, e.col), (4, 3));
    let e = error(
        &format!("{TASK}load:\n  users: 10\n  max_users: 20\n"),
        "applies only to an arrival rate",
    );
    assert!(e.help.unwrap().contains("rate: N"));
    let e = error(
        &format!("{TASK}load:\n  stages: [ 10s:5 ]\n  duration: 1m\n"),
        "does not apply with `stages`",
    );
    assert_eq!(e.line, 4);
    let e = error(
        &format!("{TASK}load:\n  rate: 1\n  on_max_users: later\n"),
        "not a choice for `on_max_users`",
    );
    assert!(e.help.unwrap().contains("drop"));
    let e = error(
        &format!("{TASK}load:\n  stages: [ 10s ]\n"),
        "is not a stage",
    );
    assert!(e.help.unwrap().contains("30s:100"));
}

#[test]
fn several_scenarios_each_with_users_load_and_start() {
    let text = "scenarios:\n  browse:\n    users: { u: { tasks: { t: [ { get: / } ] } } }\n    load: { users: 5, duration: 1m }\n  checkout:\n    start: 10s\n    users: { b: { tasks: { t: [ { post: /x } ] } } }\n    load: { rate: 20, duration: 1m }\n";
    let (s, _) = parse(&source(text)).unwrap();
    assert!(s.users.is_empty());
    assert_eq!(s.scenarios.len(), 2);
    assert_eq!(s.scenarios[1].name.value, "checkout");
    assert_eq!(
        s.scenarios[1].start.as_ref().unwrap().value,
        Duration::from_secs(10)
    );
    assert!(s.scenarios[1].load.is_open());

    let both = format!("{text}users: {{ u: {{ tasks: {{ t: [ {{ get: / }} ] }} }} }}\n");
    error(&both, "cannot both be at the top level");
    error(
        "scenarios:\n  a:\n    load: { users: 1 }\n",
        "has no `users`",
    );
}

#[test]
fn the_short_stage_form_is_checked() {
    assert_eq!(parse_stage("30s:100"), Ok((Duration::from_secs(30), 100.0)));
    assert_eq!(
        parse_stage(" 1m30s : 2.5 "),
        Ok((Duration::from_secs(90), 2.5))
    );
    assert!(parse_stage("30:100")
        .unwrap_err()
        .to_string()
        .contains("unit"));
    assert!(parse_stage("30s:-1").is_err());
    assert!(parse_stage("30s").is_err());
    let message = |text| parse_stage(text).unwrap_err().to_string();
    assert_eq!(message("30s"), "`30s` is not a stage");
    assert_eq!(message("30:100"), "stage `30:100`: `30` has no unit");
    assert_eq!(
        message("30s: x"),
        "stage `30s: x`: ` x` is not a target (a number from 0 to 10,000,000)"
    );
}
