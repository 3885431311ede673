//! Tests of the shared test helpers in `common/`, kept in a binary of their own so that they
//! run once rather than in every test binary that uses the helpers.

mod common;

use barrage_target::{DemoOptions, DemoTarget};

#[test]
fn parses_plain_and_chunked_responses() {
    let plain = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
    assert_eq!(common::parse_response(plain), Some((200, b"{}".to_vec())));
    let chunked = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n\
                    3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
    assert_eq!(
        common::parse_response(chunked),
        Some((201, b"abcde".to_vec()))
    );
    assert_eq!(common::parse_response(b"garbage"), None);
}

#[test]
fn http_get_reads_the_demo_targets_counts() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let (status, body) = common::http_get(target.addr(), "/").unwrap();
    assert_eq!(
        (status, body.as_slice()),
        (200, &br#"{"message":"Hello World"}"#[..])
    );
    let (status, body) = common::http_get(target.addr(), "/__barrage/counts").unwrap();
    let counts: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, &counts["GET /"]), (200, &serde_json::json!(1)));
}

#[test]
fn run_with_timeout_captures_output_and_kills_what_overruns() {
    let output = common::run_with_timeout(
        std::process::Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
        std::time::Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(
        (output.stdout.as_slice(), output.stderr.as_slice()),
        (&b"out\n"[..], &b"err\n"[..])
    );

    let started = std::time::Instant::now();
    let overrun = common::run_with_timeout(
        std::process::Command::new("sleep").arg("30"),
        std::time::Duration::from_millis(200),
    );
    assert!(overrun.is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn a_child_guard_kills_its_process_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new("sleep");
    command.arg("30");
    let mut guard =
        common::ChildGuard::spawn("sleep", &mut command, &dir.path().join("log")).unwrap();
    assert!(guard.exited().is_none());
    let pid = guard.id();
    drop(guard);
    // Reaped by the guard: the pid no longer names a live process of ours.
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}
