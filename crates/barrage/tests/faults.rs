//! The fault matrix: `barrage hit` and a scenario run against every hostile behaviour of
//! `barrage_target::hostile` (docs/RELIABILITY.md lists them), each run asserting what a user
//! relies on when a server misbehaves:
//!
//! - no panic, and an exit code that follows the gate (1 when a request failed, 0 otherwise);
//! - finished within the fault's own time limit (its requests times the worst wait each can
//!   take, plus the stop timeout, plus [`SLACK`] for a loaded machine); killed otherwise;
//! - peak memory (the child's VmHWM) under [`MEMORY_LIMIT_KB`];
//! - every failure under the fault's one category, with exactly the requests asked for;
//! - a result file that barrage-metrics reads back, whose numbers agree with each other;
//! - barrage's counts equal to what the target saw (connections, whole requests, answers).
//!
//! The runs are independent (a target each) and go several at a time, so the matrix fits
//! CI's budget on two cores. Every failing check of every run is collected and reported
//! together, so one broken fault does not hide another.

mod common;

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use barrage_metrics::ResultDoc;
use barrage_target::{Fault, HostileTarget, Seen};
use common::barrage;
use common::watched::{self, Watched};

/// Users (`-c`, `-u`) and requests (`-n`, `--iterations`) of a run.
const USERS: u64 = 4;
const REQUESTS: u64 = 12;
/// Enough requests that a close caught in the instant before reuse happens (and is retried).
const KEPT_ALIVE_REQUESTS: u64 = 400;
/// The response timeout of every run but the kept-body endless ones.
const TIMEOUT_S: u64 = 1;
/// The scenario run's stop timeout.
const STOP_TIMEOUT_S: u64 = 2;
/// Start-up, result writing and a machine shared with other builds.
const SLACK: Duration = Duration::from_secs(20);
/// The longest the target's connection threads may take to finish once barrage has gone
/// (the slow head notices the peer gone at its next byte, a second later).
const SETTLE: Duration = Duration::from_secs(10);
/// 200 MiB: barrage's own few MiB, plus the per-response cap on kept bodies (16 MiB) for
/// each of the users, with room to spare; far below what an unbounded body would take.
const MEMORY_LIMIT_KB: u64 = 200 * 1024;
/// Runs going at once.
const PARALLEL: usize = 4;

/// What barrage must report for a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Every request fails under this category.
    All(&'static str),
    /// Every request succeeds.
    Success,
    /// Every request succeeds, and at least one of them was sent once more on a fresh
    /// connection (a kept-alive connection the server closed, caught in the instant before
    /// reuse).
    SuccessRetried,
}

/// Which of the target's counts equals barrage's request count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Truth {
    /// Nothing reached the target (nothing listens).
    Nothing,
    /// Connections: the target reads nothing, so each request is one connection.
    Connections,
    /// Whole requests.
    Requests,
    /// Whole requests plus barrage's failures (a request on a closed connection never
    /// arrives whole), and answers equal the successes.
    RequestsPlusFailures,
}

/// One run of the matrix.
#[derive(Clone, Copy, Debug)]
struct Case {
    fault: Fault,
    /// `hit` (bodies counted, not kept) or a scenario that saves from the body (kept).
    kept: bool,
    expect: Expect,
    truth: Truth,
    requests: u64,
    /// The longest one request may take (the response timeout when it can time out).
    worst: Duration,
    timeout_s: u64,
}

/// What a fault must do, with bodies counted (`hit`) and kept (a save).
fn expectation(fault: Fault, kept: bool) -> (Expect, Truth) {
    use Expect::*;
    use Truth::*;
    match fault {
        Fault::Refused => (All("connect_refused"), Nothing),
        Fault::CloseAtOnce => (All("reset"), Connections),
        Fault::ResetMidBody => (All("reset"), Requests),
        Fault::SlowHead | Fault::NeverAnswer => (All("response_timeout"), Requests),
        Fault::ServerErrors => (All("status"), Requests),
        Fault::MalformedStatus
        | Fault::Garbage
        | Fault::LongHeader
        | Fault::HugeHeader
        | Fault::ManyHeaders
        | Fault::ContentLengthNegative
        | Fault::ContentLengthInvalid
        | Fault::BadChunking
        | Fault::Http09 => (All("protocol"), Requests),
        Fault::ContentLengthLong => (All("reset"), Requests),
        Fault::ContentLengthShort | Fault::AnswerBeforeRequest => (Success, Requests),
        // Counted and dropped as it streams, the body ends only by the response timeout;
        // kept for a save, it fails once it passes the per-response cap.
        Fault::EndlessChunked | Fault::EndlessBody if kept => (All("protocol"), Requests),
        Fault::EndlessChunked | Fault::EndlessBody => (All("response_timeout"), Requests),
        Fault::CloseKeptAlive => (SuccessRetried, RequestsPlusFailures),
        Fault::Mixed { .. } => unreachable!("not in the matrix"),
    }
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for fault in Fault::MATRIX {
        for kept in [false, true] {
            let (expect, truth) = expectation(fault, kept);
            let endless_kept = kept && matches!(fault, Fault::EndlessChunked | Fault::EndlessBody);
            // A kept endless body must reach the cap before the response timeout does.
            let timeout_s = if endless_kept { 10 } else { TIMEOUT_S };
            let can_time_out = matches!(
                fault,
                Fault::SlowHead | Fault::NeverAnswer | Fault::EndlessChunked | Fault::EndlessBody
            );
            cases.push(Case {
                fault,
                kept,
                expect,
                truth,
                requests: if fault == Fault::CloseKeptAlive {
                    KEPT_ALIVE_REQUESTS
                } else {
                    REQUESTS
                },
                worst: if can_time_out {
                    Duration::from_secs(timeout_s)
                } else {
                    Duration::from_millis(100)
                },
                timeout_s,
            });
        }
    }
    cases
}

impl Case {
    fn label(&self) -> String {
        format!(
            "{}-{}",
            self.fault.name(),
            if self.kept { "scenario" } else { "hit" }
        )
    }

    /// The fault's own time limit: its rounds of requests at their worst, the stop timeout,
    /// and the slack.
    fn limit(&self) -> Duration {
        let rounds = self.requests.div_ceil(USERS) as u32;
        self.worst * rounds + Duration::from_secs(STOP_TIMEOUT_S) + SLACK
    }

    /// Starts barrage against `target` (not waiting for it).
    fn command(&self, dir: &Path, url: &str) -> std::process::Command {
        let out = dir.join(format!("{}.json", self.label()));
        let mut c = barrage();
        if self.kept {
            let scenario = format!(
                "defaults:\n  timeout: {}s\nusers:\n  u:\n    think: none\n    tasks:\n      t:\n        \
                 - get: /\n          save:\n            ok: '$.ok'\n",
                self.timeout_s
            );
            let file = dir.join(format!("{}.yaml", self.label()));
            std::fs::write(&file, scenario).expect("writing the scenario");
            c.arg("run").arg(file).args([
                "-u",
                &USERS.to_string(),
                "--iterations",
                &self.requests.to_string(),
                "--stop-timeout",
                &format!("{STOP_TIMEOUT_S}s"),
                "-H",
                url,
            ]);
        } else {
            c.args(["hit", &format!("{url}/")]).args([
                "-c",
                &USERS.to_string(),
                "-n",
                &self.requests.to_string(),
                "--timeout",
                &format!("{}s", self.timeout_s),
            ]);
        }
        c.args(["--workers", "1", "--only-summary", "--json"])
            .arg(out);
        c
    }

    /// Runs the case; every check that failed, in words.
    fn run(&self, dir: &Path) -> Vec<String> {
        let label = self.label();
        let target = match HostileTarget::start(self.fault) {
            Ok(t) => t,
            Err(e) => return vec![format!("{label}: cannot start the target: {e}")],
        };
        let run = watched::run(
            &mut self.command(dir, &target.url()),
            dir,
            &label,
            self.limit(),
        );
        // barrage has gone: wait until every connection thread has finished counting.
        let seen = target.settle(SETTLE);
        target.stop();
        let mut problems = Vec::new();
        self.judge(dir, &run, seen, &mut problems);
        if problems.is_empty() {
            return problems;
        }
        problems.push(format!(
            "barrage's failures table:\n{}",
            failures_table(&run.stderr)
        ));
        problems
            .into_iter()
            .map(|p| format!("{label}: {p}"))
            .collect()
    }

    fn judge(&self, dir: &Path, run: &Watched, seen: Seen, problems: &mut Vec<String>) {
        let mut check = |ok: bool, what: String| {
            if !ok {
                problems.push(what);
            }
        };
        if run.panicked() {
            check(false, "barrage panicked".into());
        }
        let Some(status) = run.status else {
            check(
                false,
                format!(
                    "still running after its limit of {:?}: killed",
                    self.limit()
                ),
            );
            return;
        };
        check(
            run.peak_rss_kb > 0 && run.peak_rss_kb < MEMORY_LIMIT_KB,
            format!(
                "peak memory {} kB, limit {MEMORY_LIMIT_KB} kB",
                run.peak_rss_kb
            ),
        );

        let path = dir.join(format!("{}.json", self.label()));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let doc = match ResultDoc::from_json(&text) {
            Ok(doc) => doc,
            Err(e) => {
                check(false, format!("the result file does not read back: {e}"));
                return;
            }
        };
        let (requests, failures) = (doc.aggregate.requests, doc.aggregate.failures);
        consistent(&doc, problems);
        let mut check = |ok: bool, what: String| {
            if !ok {
                problems.push(what);
            }
        };

        check(
            requests == self.requests,
            format!("{requests} requests counted, {} asked for", self.requests),
        );
        let categories = &doc.aggregate.failures_by_category;
        match self.expect {
            Expect::All(category) => check(
                failures == requests && categories.get(category) == Some(&requests),
                format!("expected all {requests} failed as {category}; failures {failures}, by category {categories:?}"),
            ),
            Expect::Success => check(
                failures == 0,
                format!("expected no failure; failures {failures}, by category {categories:?}"),
            ),
            Expect::SuccessRetried => check(
                failures == 0 && doc.aggregate.retries >= 1,
                format!("expected no failure and a retry; failures {failures}, by category {categories:?}, retries {}", doc.aggregate.retries),
            ),
        }
        // What the body counts say: bytes_received counts body bytes only (a head never).
        let received = doc.aggregate.bytes_received;
        match self.fault {
            // The head is refused once past 64 KiB: no body is ever reached.
            Fault::HugeHeader | Fault::LongHeader => check(
                received == 0,
                format!("{received} body bytes received past a head over 64 KiB"),
            ),
            // The endless body is counted as it streams (and, kept, up to the cap).
            Fault::EndlessChunked | Fault::EndlessBody => check(
                received >= requests,
                format!("{received} body bytes received from {requests} endless bodies"),
            ),
            _ => {}
        }
        let gate = i32::from(failures > 0);
        check(
            status.code() == Some(gate),
            format!("exit status {status}, expected {gate}"),
        );
        let truth = match self.truth {
            Truth::Nothing => (
                seen == Seen::default(),
                format!("the target saw {seen:?}, expected nothing"),
            ),
            Truth::Connections => (
                seen.connections == requests && seen.requests == 0,
                format!("{requests} requests, the target saw {seen:?}"),
            ),
            Truth::Requests => (
                seen.requests == requests,
                format!("{requests} requests, the target saw {seen:?}"),
            ),
            Truth::RequestsPlusFailures => (
                seen.requests + failures == requests && seen.answers == requests - failures,
                format!("{requests} requests and {failures} failures, the target saw {seen:?}"),
            ),
        };
        check(truth.0, truth.1);
        if matches!(self.expect, Expect::Success | Expect::SuccessRetried) {
            check(
                seen.answers == requests,
                format!("{requests} successes, the target answered {}", seen.answers),
            );
        }
    }
}

/// The "Failures" table of barrage's summary (category and sample message), or the end of
/// its output when there is none: enough to see why a run failed without the whole summary.
fn failures_table(stderr: &str) -> String {
    let table: Vec<&str> = stderr
        .lines()
        .skip_while(|l| *l != "Failures")
        .take_while(|l| !l.is_empty())
        .collect();
    if table.is_empty() {
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    } else {
        table.join("\n")
    }
}

/// The result file agrees with itself: the aggregate is the sum of the endpoints, the
/// categories add up to the failures, and the histograms decode and hold one response time
/// per successful request.
fn consistent(doc: &ResultDoc, problems: &mut Vec<String>) {
    let sum =
        |f: fn(&barrage_metrics::EndpointStats) -> u64| doc.endpoints.iter().map(f).sum::<u64>();
    let a = &doc.aggregate;
    if sum(|e| e.requests) != a.requests || sum(|e| e.failures) != a.failures {
        problems.push(format!(
            "aggregate {} requests / {} failures is not the endpoints' sum",
            a.requests, a.failures
        ));
    }
    let by_category: u64 = a.failures_by_category.values().sum();
    if by_category != a.failures {
        problems.push(format!(
            "failures by category add up to {by_category}, failures are {}",
            a.failures
        ));
    }
    if a.failures > a.requests {
        problems.push(format!(
            "{} failures of {} requests",
            a.failures, a.requests
        ));
    }
    match doc.histograms.aggregate.response_time() {
        Ok(h) if h.len() == a.requests - a.failures.min(a.requests) => {}
        Ok(h) => problems.push(format!(
            "the response-time histogram holds {} values for {} successes",
            h.len(),
            a.requests - a.failures.min(a.requests)
        )),
        Err(e) => problems.push(format!("the response-time histogram does not decode: {e}")),
    }
    if let Err(e) = doc.histograms.aggregate.failed() {
        problems.push(format!("the failed-request histogram does not decode: {e}"));
    }
    if doc.run.interrupted {
        problems.push("the run says it was interrupted".into());
    }
}

#[test]
fn every_hostile_server_behaviour_is_survived_categorized_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Mutex::new(cases());
    let problems = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL {
            scope.spawn(|| loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let Some(case) = next else { break };
                let found = case.run(dir.path());
                problems
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(found);
            });
        }
    });
    let problems = problems.into_inner().unwrap_or_else(|e| e.into_inner());
    assert!(
        problems.is_empty(),
        "{} problems in the fault matrix:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
