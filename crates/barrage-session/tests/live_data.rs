//! What a session gives a live front end beyond the snapshot, from real runs against the
//! built-in target: the 10-second windows as they close, the last few seconds, the open
//! window, the in-flight gauge, and the result of the run so far.
//!
//! Load goes only to the target on 127.0.0.1; each run is bounded by its duration (or
//! stopped sooner). The tests take one lock, so their runs do not share the machine.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use barrage_engine::{compile, CompileOptions, LoadOverrides, RunOptions};
use barrage_metrics::{decode_histogram, new_histogram, ResultDoc, Window, WINDOW_SECONDS};
use barrage_scenario::SourceFile;
use barrage_session::{
    Control, ControlError, Live, Outcome, Session, Settings, Sink, RECENT_SECONDS,
};
use barrage_target::{DemoOptions, DemoTarget};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Keeps every second it is given.
struct Keep(Arc<Mutex<Vec<Live>>>);

impl Sink for Keep {
    fn name(&self) -> &str {
        "kept seconds"
    }
    fn second(&mut self, live: &Live) {
        self.0.lock().unwrap().push(live.clone());
    }
    fn reads_open_window(&self) -> bool {
        true
    }
}

/// Runs `yaml` against a fresh target with `workers`, calling `steer` with the handle once
/// the session has started; returns the outcome, every second the sink got, what `steer`
/// returned, and the wall clock just before the start.
fn run<T: 'static>(
    yaml: &str,
    load: LoadOverrides,
    workers: usize,
    steer: impl FnOnce(Control) -> tokio::task::JoinHandle<T>,
) -> (Outcome, Vec<Live>, T, f64) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let target = DemoTarget::start(DemoOptions::no_delay()).expect("the target starts");
    let file = SourceFile {
        name: "live.yaml".into(),
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
            workers,
            ..RunOptions::default()
        },
        ..Settings::default()
    };
    let kept = Arc::new(Mutex::new(Vec::new()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let (outcome, steered) = local.block_on(&runtime, async {
        let session = Session::start(plan, settings).expect("the session starts");
        let steering = steer(session.control());
        let outcome = session.run(vec![Box::new(Keep(kept.clone()))]).await;
        (
            outcome,
            steering.await.expect("the steering did what it was told"),
        )
    });
    let seconds = std::mem::take(&mut *kept.lock().unwrap());
    (outcome, seconds, steered, before)
}

/// Each user waits 700 ms for `/slow`, then asks `/fast`: a request is nearly always in
/// flight for every user.
const TWO_ENDPOINTS: &str = "
users:
  u:
    tasks:
      t:
        steps:
          - get: /__barrage/delay/700
            name: /slow
          - get: /
            name: /fast
";

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "runs 12 s of load: needs an optimized build; scripts/test.sh runs it optimized (--profile ci)"
)]
fn a_live_run_shows_windows_in_flight_requests_and_its_result_so_far() {
    let load = LoadOverrides {
        users: Some(4),
        spawn_rate: Some(100.0),
        duration: Some(Duration::from_secs(12)),
        ..LoadOverrides::default()
    };
    let (outcome, seconds, (so_far, after), before) = run(TWO_ENDPOINTS, load, 2, |control| {
        tokio::task::spawn_local(async move {
            tokio::time::sleep(Duration::from_millis(2500)).await;
            let so_far = (
                control.result_so_far().await,
                control.histogram(Some(0)).await,
                control.histogram(Some(99)).await,
            );
            // Asked again and again until the run is over; each answer is a whole document.
            let mut asked = 0;
            let after = loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                match control.result_so_far().await {
                    Ok(doc) => assert!(doc.aggregate.requests > 0),
                    Err(e) => break Err::<ResultDoc, _>(e),
                }
                asked += 1;
                assert!(asked < 60, "the run did not end");
            };
            (so_far, after)
        })
    });
    assert!(outcome.worker_error.is_none(), "{:?}", outcome.worker_error);
    let result = &outcome.result;

    // The result so far, mid-run: a whole document of what had happened by then.
    let (so_far, one, missing) = so_far;
    let so_far = so_far.expect("the run was still going");
    // One endpoint's histogram alone, asked just after it: as many as the document's
    // count of that endpoint or a few more, and no endpoint 99.
    let one = one.expect("still going").expect("endpoint 0 exists");
    let one = decode_histogram(&one).unwrap();
    let in_doc = so_far.histograms.endpoints[0].response_time().unwrap();
    assert!(
        one.len() >= in_doc.len() && !in_doc.is_empty(),
        "{} {}",
        one.len(),
        in_doc.len()
    );
    assert!(
        one.len()
            < result.histograms.endpoints[0]
                .response_time()
                .unwrap()
                .len()
                + 1
    );
    assert_eq!(missing, Ok(None));
    assert_eq!(so_far.version, ResultDoc::VERSION);
    assert!(so_far.aggregate.requests > 0, "{:?}", so_far.aggregate);
    assert!(so_far.aggregate.requests < result.aggregate.requests);
    assert!(
        (2.5..4.0).contains(&so_far.run.duration_s),
        "{}",
        so_far.run.duration_s
    );
    assert!(!so_far.windows.is_empty(), "the open window at least");
    assert!(so_far.series.len() >= 2);
    assert!(
        ResultDoc::from_json(&so_far.to_json()).is_ok(),
        "it reads as a file"
    );
    assert_eq!(after, Err(ControlError::Ended));

    // In flight: every user has a request out nearly all the time, never more than one.
    let in_flight: Vec<u64> = seconds.iter().map(|l| l.snapshot.in_flight).collect();
    assert!(seconds.len() >= 11, "{} seconds", seconds.len());
    assert!(
        in_flight[1..11].iter().all(|&n| (1..=4).contains(&n)),
        "{in_flight:?}"
    );
    assert_eq!(in_flight.iter().max(), Some(&4), "{in_flight:?}");
    assert_eq!(
        result.series.last().unwrap().in_flight,
        0,
        "none left at the end"
    );
    assert_eq!(outcome.snapshot.in_flight, 0);

    // The last few seconds, newest last, ending with the second that closed.
    for live in &seconds {
        let n = (live.second as usize).min(RECENT_SECONDS);
        assert_eq!(live.recent.len(), n, "second {}", live.second);
        assert_eq!(live.recent.last().unwrap().t, live.second as f64);
        assert_eq!(
            live.recent.last().unwrap().in_flight,
            live.snapshot.in_flight
        );
    }

    // Windows appear as the wall clock passes 10 s boundaries (12 s of run pass at least
    // one), shared rather than copied from one second to the next.
    let open: Vec<&Window> = seconds
        .iter()
        .map(|l| l.open_window.as_ref().unwrap())
        .collect();
    assert!(open
        .iter()
        .all(|w| w.endpoints.is_empty() && w.start % WINDOW_SECONDS == 0));
    let closed: Vec<usize> = seconds.iter().map(|l| l.windows.len()).collect();
    assert!(closed.windows(2).all(|p| p[0] <= p[1]), "{closed:?}");
    assert!(*closed.last().unwrap() >= 1, "{closed:?}");
    let first = seconds.iter().position(|l| !l.windows.is_empty()).unwrap();
    let seen = &seconds[first].windows[0];
    assert!(Arc::ptr_eq(seen, &seconds.last().unwrap().windows[0]));
    // A window closes when the first second of the next one closes: that second is then
    // the open window's only one.
    assert_eq!(open[first].t, seconds[first].second as f64);
    assert_eq!(
        open[first].aggregate.requests,
        seconds[first].recent.last().unwrap().requests
    );
    assert_eq!(seen.start + WINDOW_SECONDS, open[first].start);

    // The result's windows: on the wall clock from the run's start, in order, adding up to
    // the run, their histograms merging into the run's exactly.
    let starts: Vec<u64> = result.windows.iter().map(|w| w.start).collect();
    let floor = (before as u64) - (before as u64) % WINDOW_SECONDS;
    assert!(
        floor <= starts[0] && starts[0] <= before as u64 + 1,
        "{starts:?} {before}"
    );
    assert!(
        starts.windows(2).all(|p| p[1] == p[0] + WINDOW_SECONDS),
        "{starts:?}"
    );
    assert!((2..=3).contains(&starts.len()), "{starts:?}");
    assert_eq!(result.windows[0], **seen);
    let requests: u64 = result.windows.iter().map(|w| w.aggregate.requests).sum();
    assert_eq!(requests, result.aggregate.requests);
    for (i, e) in result.endpoints.iter().enumerate() {
        let mut merged = new_histogram();
        for w in &result.windows {
            for x in w.endpoints.iter().filter(|x| x.i as usize == i) {
                merged
                    .add(decode_histogram(&x.entry.response_time).unwrap())
                    .unwrap();
            }
        }
        assert_eq!(
            merged,
            result.histograms.endpoints[i].response_time().unwrap(),
            "{}",
            e.name
        );
        assert_eq!(merged.len(), e.response_time.count);
    }
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "load test: needs an optimized build; scripts/test.sh runs it optimized (--profile ci)"
)]
fn requests_cut_off_by_a_hard_stop_leave_the_in_flight_count() {
    let load = LoadOverrides {
        users: Some(3),
        spawn_rate: Some(100.0),
        duration: Some(Duration::from_secs(20)),
        ..LoadOverrides::default()
    };
    let slow = "users:\n  u:\n    tasks:\n      t:\n        - get: /__barrage/delay/5000\n";
    let (outcome, seconds, (), _) = run(slow, load, 1, |control| {
        tokio::task::spawn_local(async move {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            control.hard_stop("test").unwrap();
        })
    });
    assert!(outcome.interrupted && outcome.worker_error.is_none());
    // At 1 s all three users had written their request and none was answered.
    assert_eq!(seconds[0].snapshot.in_flight, 3);
    assert_eq!(outcome.result.series[0].in_flight, 3);
    let e = &outcome.result.endpoints[0];
    assert_eq!((e.requests, e.interrupted), (0, 3));
    assert_eq!(outcome.result.series.last().unwrap().in_flight, 0);
    assert_eq!(outcome.snapshot.in_flight, 0);
}
