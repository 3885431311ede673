//! `--traceparent` end to end: every request carries a valid W3C `traceparent` header, and
//! the result file's `slowest` names exactly the requests the server made slow, by the ids
//! the server received (issue 12, item 8).
//!
//! The server is a small keep-alive HTTP/1.1 responder in this file, on loopback, that
//! writes down the `traceparent` of every request it reads (by hand over `TcpStream`, so
//! barrage's own client is not what checks it), and delays five chosen requests of one
//! endpoint by five distinct amounts.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{endpoint, read_json, run_scenario, stderr, write};

/// The delays of the 20th, 40th, ... 100th request to `/work`, in ms: distinct and far
/// apart, so the slowest five come out in a known order whatever the machine's noise.
const DELAYS_MS: [u64; 5] = [100, 260, 140, 220, 180];
const EVERY: usize = 20;
const ITERATIONS: usize = 150;

/// What the server read: each request's path and its `traceparent`, if any, and which
/// `traceparent`s it delayed, by how much.
#[derive(Default)]
struct Seen {
    requests: Vec<(String, Option<String>)>,
    delayed: Vec<(String, u64)>,
    work: usize,
}

fn serve(seen: Arc<Mutex<Seen>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let seen = seen.clone();
            std::thread::spawn(move || connection(stream, &seen));
        }
    });
    format!("http://{addr}")
}

/// Answers the requests of one kept-alive connection until the client closes it.
fn connection(mut s: TcpStream, seen: &Mutex<Seen>) {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            continue;
        };
        // GETs only: no body follows the head.
        let head = String::from_utf8_lossy(&got[..end]).into_owned();
        got.drain(..end + 4);
        let path = head.split(' ').nth(1).unwrap_or("").to_string();
        let traceparent = head
            .lines()
            .find_map(|l| l.strip_prefix("traceparent: "))
            .map(str::to_string);
        let delay = {
            let mut seen = seen.lock().unwrap();
            seen.requests.push((path.clone(), traceparent.clone()));
            let mut delay = 0;
            if path == "/work" {
                seen.work += 1;
                if seen.work.is_multiple_of(EVERY) && seen.work / EVERY <= DELAYS_MS.len() {
                    delay = DELAYS_MS[seen.work / EVERY - 1];
                    let tp = traceparent.clone().unwrap_or_default();
                    seen.delayed.push((tp, delay));
                }
            }
            delay
        };
        std::thread::sleep(Duration::from_millis(delay));
        let answer: &[u8] = if path == "/hop" {
            b"HTTP/1.1 302 Found\r\nlocation: /landing\r\ncontent-length: 0\r\n\r\n"
        } else {
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
        };
        if s.write_all(answer).is_err() {
            return;
        }
    }
}

/// The scenario's own `traceparent` on `/own`, which must win over the flag's.
const OWN: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn scenario(dir: &std::path::Path) -> std::path::PathBuf {
    write(
        dir,
        "trace.yaml",
        &format!(
            "users:\n  u:\n    tasks:\n      t:\n        - get: /work\n        - get: /other\n\
             \x20       - get: /hop\n        - get: /own\n          headers:\n            \
             traceparent: \"{OWN}\"\n"
        ),
    )
}

/// (trace id, span id) of a valid version-00, sampled `traceparent`; panics otherwise.
fn ids(value: &str) -> (String, String) {
    let parts: Vec<&str> = value.split('-').collect();
    let lower_hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    assert!(
        parts.len() == 4
            && parts[0] == "00"
            && lower_hex(parts[1], 32)
            && lower_hex(parts[2], 16)
            && parts[3] == "01",
        "not a version-00 sampled traceparent: {value:?}"
    );
    assert!(
        parts[1].bytes().any(|b| b != b'0') && parts[2].bytes().any(|b| b != b'0'),
        "an all-zero id: {value:?}"
    );
    (parts[1].to_string(), parts[2].to_string())
}

#[test]
fn every_request_carries_a_traceparent_and_the_slowest_are_the_delayed_ones() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let host = serve(seen.clone());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trace.json");
    let iterations = ITERATIONS.to_string();
    let o = run_scenario(
        &scenario(dir.path()),
        &["-u", "2", "--iterations", &iterations, "--traceparent"],
        &host,
        &out,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = read_json(&out);
    let seen = seen.lock().unwrap();

    // Every request, redirects included, carried one; the scenario's own was kept as is.
    let mut by_path: HashMap<&str, Vec<(String, String)>> = HashMap::new();
    for (path, tp) in &seen.requests {
        let tp = tp
            .as_deref()
            .unwrap_or_else(|| panic!("{path} went without a traceparent"));
        if path == "/own" {
            assert_eq!(tp, OWN, "the scenario's header wins");
        }
        by_path.entry(path).or_default().push(ids(tp));
    }
    let count = |p: &str| by_path.get(p).map_or(0, Vec::len);
    for p in ["/work", "/other", "/hop", "/landing", "/own"] {
        assert_eq!(count(p), ITERATIONS, "{p}");
    }
    // Span ids are distinct across every request barrage made up; trace ids across steps.
    let ours = ["/work", "/other", "/hop", "/landing"];
    let spans: HashSet<&String> = ours
        .iter()
        .flat_map(|p| &by_path[p])
        .map(|i| &i.1)
        .collect();
    assert_eq!(spans.len(), 4 * ITERATIONS, "a span id was used twice");
    let traces: HashSet<&String> = ["/work", "/other", "/hop"]
        .iter()
        .flat_map(|p| &by_path[p])
        .map(|i| &i.0)
        .collect();
    assert_eq!(traces.len(), 3 * ITERATIONS, "a trace id was used twice");
    // A redirect's next request stays in its step's trace.
    let hop_traces: HashSet<&String> = by_path["/hop"].iter().map(|i| &i.0).collect();
    let landing_traces: HashSet<&String> = by_path["/landing"].iter().map(|i| &i.0).collect();
    assert_eq!(hop_traces, landing_traces);

    // The slowest of /work are exactly the five the server delayed, slowest first.
    let mut delayed = seen.delayed.clone();
    assert_eq!(delayed.len(), 5);
    delayed.sort_by_key(|d| std::cmp::Reverse(d.1));
    let work = endpoint(&doc, "GET", "/work");
    let slowest = work["slowest"].as_array().expect("/work has `slowest`");
    let got: Vec<(String, String)> = slowest
        .iter()
        .map(|s| {
            (
                s["trace_id"].as_str().unwrap().to_string(),
                s["span_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = delayed.iter().map(|(tp, _)| ids(tp)).collect();
    assert_eq!(got, want, "{slowest:#?}");
    let duration = doc["run"]["duration_s"].as_f64().unwrap();
    for (s, (_, delay)) in slowest.iter().zip(&delayed) {
        let ms = s["response_time_ms"].as_f64().unwrap();
        assert!(ms >= *delay as f64, "{ms} ms for a {delay} ms delay");
        let at = s["at_s"].as_f64().unwrap();
        assert!((0.0..=duration).contains(&at), "at_s {at} outside the run");
    }
    // Over all endpoints, the delayed ones are still the slowest.
    assert_eq!(doc["aggregate"]["slowest"], work["slowest"]);

    // Every other endpoint keeps its own five, by ids the server received.
    for (name, path) in [("/other", "/other"), ("/hop", "/hop"), ("/own", "/own")] {
        let e = endpoint(&doc, "GET", name);
        let slowest = e["slowest"]
            .as_array()
            .expect("each endpoint has `slowest`");
        assert_eq!(slowest.len(), 5, "{name}");
        let ms: Vec<f64> = slowest
            .iter()
            .map(|s| s["response_time_ms"].as_f64().unwrap())
            .collect();
        assert!(ms.windows(2).all(|w| w[0] >= w[1]), "{name}: {ms:?}");
        for s in slowest {
            let pair = (
                s["trace_id"].as_str().unwrap().to_string(),
                s["span_id"].as_str().unwrap().to_string(),
            );
            assert!(by_path[path].contains(&pair), "{name}: {pair:?} never sent");
        }
    }
}

#[test]
fn without_the_flag_no_request_carries_a_traceparent() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let host = serve(seen.clone());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plain.json");
    let o = run_scenario(
        &write(
            dir.path(),
            "plain.yaml",
            "users:\n  u:\n    tasks:\n      t:\n        - get: /work\n        - get: /hop\n",
        ),
        &["-u", "2", "--iterations", "30"],
        &host,
        &out,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.requests.len(), 90, "30 x /work, /hop and /landing");
    assert!(seen.requests.iter().all(|(_, tp)| tp.is_none()));
    let doc = read_json(&out);
    for e in doc["endpoints"].as_array().unwrap() {
        assert!(e.get("slowest").is_none(), "{e}");
    }
    assert!(doc["aggregate"].get("slowest").is_none());
}
