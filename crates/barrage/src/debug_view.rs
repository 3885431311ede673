//! `run --debug`: prints every request, response and saved value as a user runs through
//! the scenario once, so a new scenario can be put right before it is used for load.

use std::io::Write;
use std::time::Duration;

use barrage_engine::Observer;
use barrage_metrics::FailureCategory;
use http::{HeaderMap, StatusCode};

/// How much of a body is shown.
const BODY_EXCERPT: usize = 600;

pub struct DebugView;

fn out() -> std::io::StderrLock<'static> {
    std::io::stderr().lock()
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT)]);
    let more = if body.len() > BODY_EXCERPT {
        format!(" … ({} bytes in all)", body.len())
    } else {
        String::new()
    };
    format!("{text}{more}")
}

fn headers(h: &HeaderMap) -> String {
    h.iter()
        .map(|(n, v)| format!("    {n}: {}\n", String::from_utf8_lossy(v.as_bytes())))
        .collect()
}

impl Observer for DebugView {
    fn request(&self, label: &str, method: &http::Method, url: &str, h: &HeaderMap, body: &[u8]) {
        let mut o = out();
        let _ = writeln!(o, "\n→ {method} {url}    [{label}]");
        let _ = write!(o, "{}", headers(h));
        if !body.is_empty() {
            let _ = writeln!(o, "    body: {}", excerpt(body));
        }
    }

    fn response(&self, status: StatusCode, h: &HeaderMap, body: &[u8], elapsed: Duration) {
        let mut o = out();
        let _ = writeln!(
            o,
            "← {} {}    ({:.1} ms)",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            elapsed.as_secs_f64() * 1000.0
        );
        let _ = write!(o, "{}", headers(h));
        if !body.is_empty() {
            let _ = writeln!(o, "    body: {}", excerpt(body));
        }
    }

    fn failure(&self, label: &str, category: FailureCategory, message: &str) {
        let _ = writeln!(
            out(),
            "  ✗ FAILED {label} [{}]: {message}",
            category.as_str()
        );
    }

    fn saved(&self, var: &str, value: &serde_json::Value) {
        let _ = writeln!(out(), "  saved {var} = {value}");
    }

    fn check(&self, name: &str, passed: bool, detail: &str) {
        let mut o = out();
        if passed {
            let _ = writeln!(o, "  ✓ check {name}");
        } else {
            let _ = writeln!(o, "  ✗ check {name}: {detail}");
        }
    }

    fn think(&self, d: Duration) {
        let _ = writeln!(out(), "  … think {:.3} s", d.as_secs_f64());
    }

    fn task(&self, user: &str, task: &str) {
        let _ = writeln!(out(), "\n=== user `{user}`: {task}");
    }
}
