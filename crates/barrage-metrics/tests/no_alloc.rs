//! The hot-path promise, checked: once an interval has been taken, recording allocates
//! nothing. A counting allocator (per thread, so the test harness does not interfere) counts
//! every allocation made while recording.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use barrage_metrics::{FailureCategory, Recorder, Registry, Timing};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; it only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller upholds `alloc`'s contract, which is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn recording_allocates_nothing_in_steady_state() {
    let mut r = Registry::default();
    let a = r.add_endpoint("s", "GET", "/a");
    let b = r.add_endpoint("s", "POST", "/b");
    let task = r.add_task("s", "u", "t");
    let check = r.add_check(b, "ok");
    let mut rec = Recorder::new(&r);
    let t = Timing {
        response_time_ns: 12_000_000,
        service_time_ns: 9_000_000,
    };
    let record_everything = |rec: &mut Recorder, i: u64| {
        rec.success(a, 200, t, 100, 1000);
        rec.success(b, [201, 409][(i % 2) as usize], t, 100, 1000);
        // A message that needs no allocation, so only the recorder's own behaviour is counted.
        rec.failure(
            a,
            FailureCategory::Status,
            Some(500),
            Some(t),
            1,
            1,
            String::new,
        );
        rec.failure(b, FailureCategory::Reset, None, None, 0, 0, String::new);
        rec.check(check, i % 3 == 1);
        rec.connection(1_000_000, Some(2_000_000));
        rec.iteration(task, 50_000_000);
        rec.interrupted(a);
        rec.set_users(i);
    };

    // The first interval allocates histograms as endpoints see traffic.
    record_everything(&mut rec, 0);
    let first = rec.take_interval();
    assert!(!first.is_empty());

    let before = allocations();
    for i in 0..10_000 {
        record_everything(&mut rec, i);
    }
    let during = allocations() - before;
    assert_eq!(during, 0, "recording allocated {during} times");

    // Taking the interval is where allocation happens (fresh histograms for the next one),
    // which also shows the counter counts.
    let before = allocations();
    let second = rec.take_interval();
    assert!(allocations() > before);
    assert_eq!(second.requests(), 40_000);
}
