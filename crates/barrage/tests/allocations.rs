//! Steady-state heap allocations per request of the engine's hot path, counted, with a
//! ceiling that fails the test when they grow (issue 3, "hot-path discipline").
//!
//! A test binary of its own: its `#[global_allocator]` counts every allocation of the
//! process, and it holds one test so no other test's threads run beside it. Only the
//! engine's worker threads (named `barrage-worker-N`) are counted: the built-in target runs
//! in this process too, on its own thread, and its allocations are the server's, not the
//! generator's; the test's own thread (draining intervals) is the control side.
//!
//! Start-up (threads, runtimes, connections, first buffers) costs the same in a run of `N`
//! iterations as in one of `2N`, so allocations per request = (A(2N) - A(N)) / (N x requests
//! per iteration). Both runs last well under a second, so the once-a-second interval
//! hand-off happens equally often in both and cancels out too.
//!
//! Counts depend on the optimizer, so the test is ignored in debug builds;
//! `scripts/test.sh` runs the suite optimized with `--profile ci --include-ignored`:
//! `cargo test -p barrage --test allocations --profile ci`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use barrage_engine::{compile, CompileOptions, Run, RunOptions, WorkerEvent};
use barrage_scenario::{parse, SourceFile};
use barrage_target::{DemoOptions, DemoTarget};

/// Ceilings, allocations per request: the measured numbers plus one allocation.
/// Measured with `cargo test -p barrage --test allocations --release -- --nocapture` on the
/// 2-vCPU development machine (Rust 1.95, 2026-11-26, lean HTTP/1.1 connection, requests
/// rendered straight into the VU's buffer): plain GET 0.00 (104 allocations for 2,000
/// requests, 102 for 4,000: all of them start-up); scenario (a templated GET and a
/// templated JSON POST with a JSONPath save, averaged over both requests) 4.00 (16,135 for
/// 4,000 requests, 32,136 for 8,000: parsing the POST's JSON answer for the save). Raise a
/// ceiling only with a measurement that justifies the new allocations (STYLE.md, "the hot
/// path"), and update docs/PERFORMANCE.md with it.
const MAX_PER_REQUEST_PLAIN_GET: f64 = 1.0;
const MAX_PER_REQUEST_SCENARIO: f64 = 5.0;
/// `--traceparent` may cost at most one allocation per request (issue 12): measured 0.00
/// for a plain GET with it on (the header is formatted on the stack and copied into the
/// request's reused buffer; the slowest are kept in a fixed array).
const MAX_PER_REQUEST_TRACED: f64 = 1.0;

/// Iterations of the shorter run; the longer one has twice as many.
const N: u64 = 2_000;
const USERS: u64 = 4;

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

const UNKNOWN: u8 = 0;
const LOOKING: u8 = 1;
const WORKER: u8 = 2;
const OTHER: u8 = 3;

thread_local! {
    /// Whether this thread is an engine worker, found from its name on its first
    /// allocation while counting. `const` and without a destructor, so reading it never
    /// allocates.
    static KIND: Cell<u8> = const { Cell::new(UNKNOWN) };
}

/// True on engine worker threads. Reading the thread's name may itself allocate; `LOOKING`
/// keeps that allocation from recursing into the lookup (and from being counted).
fn on_worker_thread() -> bool {
    KIND.try_with(|kind| match kind.get() {
        UNKNOWN => {
            kind.set(LOOKING);
            let worker = std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with("barrage-worker-"));
            kind.set(if worker { WORKER } else { OTHER });
            worker
        }
        k => k == WORKER,
    })
    .unwrap_or(false)
}

fn count() {
    if COUNTING.load(Ordering::Relaxed) && on_worker_thread() {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to `System`; counting only adds an atomic
// increment and a thread-local read, neither of which allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A growing buffer is an allocation on the hot path as much as a new one.
        count();
        // SAFETY: `ptr` was allocated by this allocator, that is by `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, that is by `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A plain GET of `/`: one request per iteration.
fn plain_get(target: &str, iterations: u64) -> String {
    format!(
        "target: {target}\nload: {{ users: {USERS}, iterations: {iterations} }}\n\
         users:\n  u:\n    tasks:\n      root:\n        - get: /\n"
    )
}

/// A templated path, then a templated JSON POST whose id is saved: two requests per
/// iteration.
fn scenario(target: &str, iterations: u64) -> String {
    format!(
        r#"target: {target}
load: {{ users: {USERS}, iterations: {iterations} }}
users:
  u:
    tasks:
      browse_and_create:
        - get: "/items/{{{{ int(1, 100) }}}}"
          name: /items/[n]
        - post: /items/
          json:
            name: "Item {{{{ int(1000, 9999) }}}}"
            price: "{{{{ float(1, 100, 2) }}}}"
          save:
            id: '$.id'
"#
    )
}

/// Runs `text` in-process and returns (allocations on worker threads, requests, failures).
fn allocations_of(text: String, traceparent: bool) -> (u64, u64, u64) {
    let file = SourceFile {
        name: "allocations.yaml".to_string(),
        text,
    };
    let (parsed, _) = parse(&file).expect("the test's scenario parses");
    let (plan, _) =
        compile(&parsed, &file, &CompileOptions::default()).expect("the test's scenario compiles");
    let opts = RunOptions {
        stop_timeout: Duration::from_secs(10),
        workers: 1,
        insecure: false,
        local_addresses: Vec::new(),
        pin_workers: false,
        traceparent,
        ..RunOptions::default()
    };
    let control = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds");

    ALLOCATIONS.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let mut run = Run::start(Arc::new(plan), &opts).expect("the run starts");
    let (mut requests, mut failures) = (0, 0);
    control.block_on(async {
        // The workers drop their senders when they end, which closes the channel. The
        // timeout only bounds a hang; a run here takes well under a second.
        tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(event) = run.events.recv().await {
                match event {
                    WorkerEvent::Interval { interval, .. } => {
                        requests += interval.requests();
                        failures += interval.failures();
                    }
                    WorkerEvent::Failed { message, .. } | WorkerEvent::Crashed { message, .. } => {
                        panic!("a worker failed: {message}")
                    }
                    WorkerEvent::Warning { .. } => {}
                }
            }
        })
        .await
        .expect("the run ends within 60 s");
    });
    run.join();
    COUNTING.store(false, Ordering::SeqCst);
    (ALLOCATIONS.load(Ordering::SeqCst), requests, failures)
}

/// Allocations per request in steady state, from runs of `N` and `2N` iterations.
fn per_request(
    name: &str,
    make: impl Fn(u64) -> String,
    requests_per_iteration: u64,
    traceparent: bool,
) -> f64 {
    let (a1, r1, f1) = allocations_of(make(N), traceparent);
    let (a2, r2, f2) = allocations_of(make(2 * N), traceparent);
    assert_eq!(
        (r1, r2, f1, f2),
        (
            N * requests_per_iteration,
            2 * N * requests_per_iteration,
            0,
            0
        ),
        "{name}: every iteration's requests are sent and succeed"
    );
    let per = (a2 as f64 - a1 as f64) / (N * requests_per_iteration) as f64;
    println!("{name}: {a1} allocations for {r1} requests, {a2} for {r2}: {per:.2} per request");
    per
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "counts allocations of the optimized build: scripts/test.sh runs it optimized (--profile ci)"
)]
fn steady_state_allocations_per_request_stay_under_the_documented_ceilings() {
    let target = DemoTarget::start(DemoOptions::no_delay()).expect("the demo target starts");
    let url = target.url();

    let plain = per_request("plain GET", |n| plain_get(&url, n), 1, false);
    let scenario = per_request("scenario", |n| scenario(&url, n), 2, false);
    let traced = per_request(
        "plain GET with --traceparent",
        |n| plain_get(&url, n),
        1,
        true,
    );

    assert!(
        plain <= MAX_PER_REQUEST_PLAIN_GET,
        "plain GET: {plain:.2} allocations per request, more than the documented \
         {MAX_PER_REQUEST_PLAIN_GET}; find the new allocation on the hot path, or measure \
         and document a new ceiling here and in docs/PERFORMANCE.md"
    );
    assert!(
        traced <= MAX_PER_REQUEST_TRACED,
        "plain GET with --traceparent: {traced:.2} allocations per request, more than the \
         {MAX_PER_REQUEST_TRACED} issue 12 allows; find the new allocation on the hot path"
    );
    assert!(
        scenario <= MAX_PER_REQUEST_SCENARIO,
        "scenario: {scenario:.2} allocations per request, more than the documented \
         {MAX_PER_REQUEST_SCENARIO}; find the new allocation on the hot path, or measure \
         and document a new ceiling here and in docs/PERFORMANCE.md"
    );
}
