//! A session run in-process against the built-in target, steered while it runs: users and
//! rate changed mid-run, statistics reset, a stop; the result is read back, no CLI spawned.
//!
//! Load goes only to the target on 127.0.0.1; every run is bounded by its duration. The
//! tests take one lock, so their per-second counts are not disturbed by each other.

use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use barrage_engine::{compile, CompileOptions, LoadOverrides, RunOptions};
use barrage_metrics::ResultDoc;
use barrage_scenario::SourceFile;
use barrage_session::{Control, Finished, Session, Settings, Sink, SinkError};
use barrage_target::{DemoOptions, DemoTarget};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Keeps the result for the test to read.
struct Keep(Arc<Mutex<Option<ResultDoc>>>);

impl Sink for Keep {
    fn name(&self) -> &str {
        "kept result"
    }
    fn finished(&mut self, end: &Finished) -> Result<Vec<String>, SinkError> {
        *self.0.lock().unwrap() = Some(end.result.clone());
        Ok(Vec::new())
    }
}

/// Starts a target and runs `yaml` against it with two workers, under the lock, calling
/// `steer` with the control handle once the session has started; returns the result the
/// sinks got, the outcome, and the target (to ask what it served). A panic in `steer` fails
/// the test.
fn run(
    yaml: &str,
    load: LoadOverrides,
    steer: impl FnOnce(Control, Rc<DemoTarget>) -> tokio::task::JoinHandle<()>,
) -> (ResultDoc, barrage_session::Outcome, Rc<DemoTarget>) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let target = Rc::new(DemoTarget::start(DemoOptions::default()).expect("the target starts"));
    let file = SourceFile {
        name: "steer.yaml".into(),
        text: yaml.into(),
    };
    let (scenario, _) = barrage_scenario::parse(&file).expect("the test's scenario parses");
    let opts = CompileOptions {
        host: Some(target.url()),
        load,
        ..CompileOptions::default()
    };
    let (plan, _) = compile(&scenario, &file, &opts).expect("the test's scenario compiles");
    let settings = Settings {
        run: RunOptions {
            workers: 2,
            ..RunOptions::default()
        },
        ..Settings::default()
    };
    let kept = Arc::new(Mutex::new(None));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let outcome = local.block_on(&runtime, async {
        let session = Session::start(plan, settings).expect("the session starts");
        let steering = steer(session.control(), target.clone());
        let outcome = session.run(vec![Box::new(Keep(kept.clone()))]).await;
        assert!(steering.is_finished(), "the steering outlived the run");
        steering.await.expect("the steering did what it was told");
        outcome
    });
    let kept = kept
        .lock()
        .unwrap()
        .take()
        .expect("the sink got the result");
    (kept, outcome, target)
}

const SCENARIO: &str = "
users:
  reader:
    think: 100ms
    tasks:
      root:
        steps:
          - get: /
";

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "timing test: needs an optimized build; scripts/test.sh runs it optimized (--profile ci)"
)]
fn users_changed_mid_run_follow_at_the_spawn_rate() {
    let load = LoadOverrides {
        users: Some(2),
        spawn_rate: Some(4.0),
        duration: Some(Duration::from_secs(9)),
        ..LoadOverrides::default()
    };
    let (result, outcome, target) = run(SCENARIO, load, |control, _| {
        tokio::task::spawn_local(async move {
            tokio::time::sleep(Duration::from_millis(2500)).await;
            control.set_users(None, 10, "test").unwrap();
            tokio::time::sleep(Duration::from_millis(2700)).await;
            control.adjust(None, -7.0, "test").unwrap();
        })
    });
    assert!(!outcome.interrupted && outcome.worker_error.is_none());
    let users: Vec<u64> = result.series.iter().map(|s| s.users).collect();
    // 2 users until 2.5 s; 8 more at 4/s reach 10 by 4.25 s; 7 stopped at 4/s from 5.2 s
    // leave 3 by 6.7 s (a stop takes effect at the end of an iteration: 100 ms of think
    // time and a few ms of request later at most).
    assert_eq!(users[0..2], [2, 2], "{users:?}");
    assert_eq!(users[4], 10, "{users:?}");
    assert!(
        users[2] > 2 && users[2] < 10,
        "ramped at the spawn rate: {users:?}"
    );
    assert_eq!(users[6], 3, "{users:?}");
    // Each user makes about 10 requests a second: the per-second counts follow.
    let requests: Vec<u64> = result.series.iter().map(|s| s.requests).collect();
    assert!(
        requests[1] < 30 && requests[4] > 60 && requests[6] < 50,
        "{requests:?}"
    );
    let timeline: Vec<&str> = result.timeline.iter().map(|t| t.what.as_str()).collect();
    assert_eq!(
        timeline,
        [
            "users 2 -> 10 (scenario default)",
            "users 10 -> 3 (scenario default)"
        ]
    );
    assert!(result.timeline.iter().all(|t| t.source == "test"));
    assert!(
        (result.timeline[0].at_s - 2.5).abs() < 0.3,
        "{:?}",
        result.timeline
    );
    // What the target served is what the result counts.
    assert_eq!(
        target.counts().get("GET /").copied(),
        Some(result.aggregate.requests)
    );
    assert_eq!(outcome.result.timeline, result.timeline);
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "timing test: needs an optimized build; scripts/test.sh runs it optimized (--profile ci)"
)]
fn a_rate_changed_mid_run_is_followed_within_a_second() {
    let load = LoadOverrides {
        rate: Some(50.0),
        duration: Some(Duration::from_secs(7)),
        ..LoadOverrides::default()
    };
    let (result, _, target) = run(SCENARIO, load, |control, _| {
        tokio::task::spawn_local(async move {
            tokio::time::sleep(Duration::from_millis(3000)).await;
            control.set_rate(None, 200.0, "test").unwrap();
            assert!(control.set_users(None, 5, "test").is_err());
        })
    });
    let started = &result.iterations_by_second;
    // 50/s for seconds 0..3, 200/s from 3 s on (the change lands at 3.0 s, give or take
    // the scheduling of the test's own timer).
    assert!(started[1].abs_diff(50) <= 2, "{started:?}");
    assert!(started[2].abs_diff(50) <= 2, "{started:?}");
    assert!(started[4].abs_diff(200) <= 4, "{started:?}");
    assert!(started[5].abs_diff(200) <= 4, "{started:?}");
    assert_eq!(result.timeline.len(), 1);
    assert_eq!(result.timeline[0].what, "rate 50 -> 200 (scenario default)");
    assert_eq!(
        target.counts().get("GET /").copied(),
        Some(result.aggregate.requests)
    );
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "timing test: needs an optimized build; scripts/test.sh runs it optimized (--profile ci)"
)]
fn a_stop_through_the_handle_ends_the_run_early_and_keeps_what_was_measured() {
    let load = LoadOverrides {
        users: Some(3),
        duration: Some(Duration::from_secs(30)),
        ..LoadOverrides::default()
    };
    let started = std::time::Instant::now();
    let (result, outcome, target) = run(SCENARIO, load, |control, _| {
        tokio::task::spawn_local(async move {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            control.reset_stats("test").unwrap();
            tokio::time::sleep(Duration::from_millis(1000)).await;
            control.stop("test").unwrap();
        })
    });
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(outcome.interrupted && result.run.interrupted);
    let whats: Vec<&str> = result.timeline.iter().map(|t| t.what.as_str()).collect();
    assert_eq!(whats, ["statistics reset", "stopped"]);
    // Asked at 1.5 s, the reset happens when second 2 closes: the statistics are exactly
    // the seconds after it, while the series (and the target) saw the whole run.
    assert_eq!(result.stats_since_s, 2.0);
    let all: u64 = result.series.iter().map(|s| s.requests).sum();
    let after: u64 = result
        .series
        .iter()
        .filter(|s| s.t > 2.0)
        .map(|s| s.requests)
        .sum();
    assert_eq!(target.counts().get("GET /").copied(), Some(all));
    assert_eq!(result.aggregate.requests, after);
    // 3 users at about 10 requests/s for the half second between the reset and the stop.
    assert!((8..=22).contains(&after), "{after} of {all}");
}
