//! `run --debug`'s view: every request, response and saved value as one user of each type
//! runs through the scenario once, so a new scenario can be put right before it is used for
//! load. The engine tells an [`Observer`]; this one writes what it hears where the front end
//! says (the CLI: stderr).

use std::cell::RefCell;
use std::io::Write;
use std::time::Duration;

use barrage_engine::Observer;
use barrage_metrics::FailureCategory;
use http::{HeaderMap, StatusCode};

/// How much of a body is shown.
const BODY_EXCERPT: usize = 600;

/// Prints what the debug user does.
pub struct DebugView {
    out: RefCell<Box<dyn Write>>,
}

impl DebugView {
    pub fn new(out: Box<dyn Write>) -> DebugView {
        DebugView {
            out: RefCell::new(out),
        }
    }

    fn line(&self, text: &str) {
        let _ = writeln!(self.out.borrow_mut(), "{text}");
    }

    fn message(&self, head: String, h: &HeaderMap, body: &[u8]) {
        let mut text = head;
        for (n, v) in h {
            text.push_str(&format!(
                "\n    {n}: {}",
                String::from_utf8_lossy(v.as_bytes())
            ));
        }
        if !body.is_empty() {
            text.push_str(&format!("\n    body: {}", excerpt(body)));
        }
        self.line(&text);
    }
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

impl Observer for DebugView {
    fn request(&self, label: &str, method: &http::Method, url: &str, h: &HeaderMap, body: &[u8]) {
        self.message(format!("\n→ {method} {url}    [{label}]"), h, body);
    }

    fn response(&self, status: StatusCode, h: &HeaderMap, body: &[u8], elapsed: Duration) {
        let head = format!(
            "← {} {}    ({:.1} ms)",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            elapsed.as_secs_f64() * 1000.0
        );
        self.message(head, h, body);
    }

    fn connection(&self, version: http::Version, connect: Duration, tls: Option<Duration>) {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let version = match version {
            http::Version::HTTP_2 => "HTTP/2",
            _ => "HTTP/1.1",
        };
        let mut line = format!("  new connection: {version}, connect {:.1} ms", ms(connect));
        if let Some(tls) = tls {
            line.push_str(&format!(", TLS handshake {:.1} ms", ms(tls)));
        }
        self.line(&line);
    }

    fn failure(&self, label: &str, category: FailureCategory, message: &str) {
        self.line(&format!(
            "  ✗ FAILED {label} [{}]: {message}",
            category.as_str()
        ));
    }

    fn saved(&self, var: &str, value: &serde_json::Value) {
        self.line(&format!("  saved {var} = {value}"));
    }

    fn check(&self, name: &str, passed: bool, detail: &str) {
        if passed {
            self.line(&format!("  ✓ check {name}"));
        } else {
            self.line(&format!("  ✗ check {name}: {detail}"));
        }
    }

    fn think(&self, d: Duration) {
        self.line(&format!("  … think {:.3} s", d.as_secs_f64()));
    }

    fn task(&self, user: &str, task: &str) {
        self.line(&format!("\n=== user `{user}`: {task}"));
    }

    fn event(&self, name: &str, data: &[u8], at: Duration) {
        let data = String::from_utf8_lossy(data);
        let data = data.trim_end();
        self.line(&format!(
            "  ⇣ {name} +{:.1} ms  {data}",
            at.as_secs_f64() * 1000.0
        ));
    }

    fn ws_message(&self, sent: bool, data: &[u8], skipped: bool) {
        let (arrow, note) = match (sent, skipped) {
            (true, _) => ("⇢ sent", ""),
            (false, false) => ("⇠ received", ""),
            (false, true) => ("⇠ received", "    (skipped: `until` did not pass)"),
        };
        self.line(&format!("  {arrow} {}{note}", excerpt(data)));
    }

    fn ws_closed(&self, label: &str) {
        self.line(&format!("  ⇥ closed {label}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Rc<RefCell<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_request_and_its_answer_read_as_they_went() {
        let out = Shared::default();
        let view = DebugView::new(Box::new(out.clone()));
        let mut h = HeaderMap::new();
        h.insert("accept", "application/json".parse().unwrap());
        view.task("shopper", "setup");
        view.request(
            "/login",
            &http::Method::POST,
            "http://127.0.0.1:1/login",
            &h,
            b"{}",
        );
        view.response(
            StatusCode::OK,
            &HeaderMap::new(),
            &[b'x'; 700],
            Duration::from_millis(3),
        );
        view.saved("token", &serde_json::json!("abc"));
        view.check("status 200", false, "got 500");
        let text = String::from_utf8(out.0.borrow().clone()).unwrap();
        assert_eq!(
            text,
            format!(
                "\n=== user `shopper`: setup\n\n→ POST http://127.0.0.1:1/login    [/login]\n    \
                 accept: application/json\n    body: {{}}\n← 200 OK    (3.0 ms)\n    body: {} … \
                 (700 bytes in all)\n  saved token = \"abc\"\n  ✗ check status 200: got 500\n",
                "x".repeat(600)
            )
        );
    }

    #[test]
    fn websocket_messages_show_their_direction() {
        let out = Shared::default();
        let view = DebugView::new(Box::new(out.clone()));
        view.ws_message(true, b"hello", false);
        view.ws_message(false, b"tick", true);
        view.ws_message(false, b"hello", false);
        view.ws_closed("WS /ws/echo");
        let text = String::from_utf8(out.0.borrow().clone()).unwrap();
        assert_eq!(
            text,
            "  ⇢ sent hello\n  ⇠ received tick    (skipped: `until` did not pass)\n  \
             ⇠ received hello\n  ⇥ closed WS /ws/echo\n"
        );
    }
}
