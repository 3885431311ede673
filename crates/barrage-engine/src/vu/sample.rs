//! The failure sample a result file keeps for each endpoint and category: what went wrong
//! and the start of the answer, so a failure explains itself without `--debug`
//! (`HTTP 400 Bad Request (expected status in [2xx]): Incorrect email or password`), with
//! what barrage sent in secret places scrubbed from both.
//!
//! Built once per interval per endpoint and category at most (the recorder asks only when
//! it holds no sample yet), so it may parse and allocate freely. Every report prints the
//! sample as it is built here: the summary, the result file, CSV, JUnit, Markdown.

use std::borrow::Cow;

use barrage_redact::{Redactor, Secrets};

use super::Vu;
use crate::http::Exchange;

/// How much of a body a sample shows, in characters: enough for FastAPI's `detail` or the
/// first lines of an error page, short enough for a table cell and a CSV field.
pub(super) const BODY_CHARS: usize = 240;

/// How many entries of a validation error's `detail` list are shown (FastAPI's 422 lists
/// one per invalid field).
const DETAIL_ITEMS: usize = 3;

impl Vu {
    /// The sample for a failed request step: `message`, then (when an answer came) the
    /// start of its body. Unless redaction is off, secret fields in either are hidden and
    /// the values this request sent in secret places (and what `setup` saved) scrubbed.
    /// `sent` says whether `self.request` holds the request that failed.
    #[cold]
    pub(super) fn sample(&self, message: &str, x: Option<&Exchange>, sent: bool) -> String {
        let secrets = self
            .plan
            .redact
            .as_ref()
            .map(|rules| (rules, self.secrets(rules, sent)));
        let clean = |text: &str| -> String {
            match &secrets {
                Some((rules, secrets)) => secrets.scrub(&rules.json_text(text)).into_owned(),
                None => text.to_string(),
            }
        };
        let mut sample = clean(message);
        if let Some(body) = x.and_then(|x| excerpt(sampled(x), x.body_len(), clean)) {
            sample.push_str(": ");
            sample.push_str(&body);
        }
        sample
    }

    /// What to scrub from this user's failure samples: the values `setup` saved and, when
    /// `sent`, the secret headers, body fields and query parameters of the request as it
    /// went out.
    fn secrets(&self, rules: &Redactor, sent: bool) -> Secrets {
        let mut secrets = Secrets::new();
        for &slot in &self.plan.setup_slots {
            if let Some(value) = &self.vars[slot] {
                secrets.add_value(value);
            }
        }
        if let Some(request) = sent.then(|| self.request.read_back()).flatten() {
            for (name, value) in &request.headers {
                if let Ok(value) = value.to_str() {
                    secrets.add_header(rules, name.as_str(), value);
                }
            }
            secrets.add_body(rules, request.body);
            if let Some((_, query)) = request.target.split_once('?') {
                secrets.add_pairs(rules, query);
            }
        }
        secrets
    }
}

/// What of an answer's body a sample reads: all of a kept body up to [`KEPT_READ`] (a
/// FastAPI 422 that echoes its inputs passes 1 KiB, and its `detail` is read only whole),
/// else the start every answer keeps.
fn sampled(x: &Exchange) -> &[u8] {
    let kept = x.body();
    if !kept.is_empty() && kept.len() <= KEPT_READ {
        kept
    } else {
        x.body_start()
    }
}

/// The most of a kept body a sample parses for its `detail`.
const KEPT_READ: usize = 64 * 1024;

/// The start of a body as a sample shows it: `None` for an empty (or unkept) start; the
/// size for a body that is not text; FastAPI's `detail` as it is; otherwise the text, on
/// one line, cut at [`BODY_CHARS`] whole characters. `clean` redacts the text before
/// anything is cut from it, so a cut never leaves half a secret.
pub(super) fn excerpt(start: &[u8], total: u64, clean: impl Fn(&str) -> String) -> Option<String> {
    if start.is_empty() {
        return None;
    }
    let not_text = || Some(format!("({total}-byte body, not text)"));
    let text = match std::str::from_utf8(start) {
        Ok(text) => text,
        // Cut inside a character at the end of the start: the whole characters before it.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&start[..e.valid_up_to()]).expect("valid up to here")
        }
        Err(_) => return not_text(),
    };
    if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return not_text();
    }
    let whole = total <= start.len() as u64;
    let text = clean(text);
    let shown = match whole.then(|| detail(&text)).flatten() {
        Some(detail) => detail,
        None => text,
    };
    Some(cap(&one_line(&shown), BODY_CHARS, whole))
}

/// FastAPI's `{"detail": ...}`: a string as it is; a validation error's list as
/// `body.email: Field required; ...`; anything else as compact JSON.
fn detail(text: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(text).ok()?;
    let detail = doc.as_object()?.get("detail")?;
    Some(match detail {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => {
            let mut parts: Vec<String> = items
                .iter()
                .take(DETAIL_ITEMS)
                .map(
                    |item| match (item.get("loc"), item.get("msg").and_then(|m| m.as_str())) {
                        (Some(serde_json::Value::Array(loc)), Some(msg)) => {
                            let loc: Vec<Cow<'_, str>> = loc
                                .iter()
                                .map(|l| match l {
                                    serde_json::Value::String(s) => Cow::Borrowed(s.as_str()),
                                    other => Cow::Owned(other.to_string()),
                                })
                                .collect();
                            format!("{}: {msg}", loc.join("."))
                        }
                        _ => item.to_string(),
                    },
                )
                .collect();
            if items.len() > DETAIL_ITEMS {
                parts.push(format!("(+{} more)", items.len() - DETAIL_ITEMS));
            }
            parts.join("; ")
        }
        other => other.to_string(),
    })
}

/// Runs of whitespace (newlines included) as one space: a sample is one line in a table,
/// a CSV field and a JUnit message.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `chars` characters, with `…` when something was left out (here or before).
fn cap(text: &str, chars: usize, whole: bool) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None if !whole => format!("{text}…"),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(start: &[u8], total: u64) -> Option<String> {
        excerpt(start, total, str::to_string)
    }

    #[test]
    fn fastapi_details_are_shown_as_they_are() {
        let body = br#"{"detail": "Incorrect email or password"}"#;
        assert_eq!(
            plain(body, body.len() as u64).as_deref(),
            Some("Incorrect email or password")
        );
        let body = br#"{"detail":{"code":7,"why":"locked"}}"#;
        assert_eq!(
            plain(body, body.len() as u64).as_deref(),
            Some(r#"{"code":7,"why":"locked"}"#)
        );
    }

    #[test]
    fn a_validation_error_list_is_shortened_to_its_places_and_messages() {
        let body = br#"{"detail":[
            {"type":"missing","loc":["body","email"],"msg":"Field required","input":{"password":"x"}},
            {"type":"int_parsing","loc":["query","limit"],"msg":"Input should be a valid integer"},
            {"type":"missing","loc":["body","items",0,"name"],"msg":"Field required"},
            {"type":"missing","loc":["body","a"],"msg":"Field required"},
            {"type":"missing","loc":["body","b"],"msg":"Field required"}]}"#;
        assert_eq!(
            plain(body, body.len() as u64).as_deref(),
            Some(
                "body.email: Field required; query.limit: Input should be a valid integer; \
                 body.items.0.name: Field required; (+2 more)"
            )
        );
    }

    #[test]
    fn other_text_is_one_line_cut_at_whole_characters() {
        let body = "<html>\n  <h1>Bad   Gateway</h1>\n</html>";
        assert_eq!(
            plain(body.as_bytes(), body.len() as u64).as_deref(),
            Some("<html> <h1>Bad Gateway</h1> </html>")
        );
        let long = "é".repeat(300);
        let shown = plain(long.as_bytes(), long.len() as u64).unwrap();
        assert_eq!(shown.chars().count(), BODY_CHARS + 1);
        assert!(shown.ends_with("é…"));
        // A start cut inside a character, of a longer body: whole characters, marked cut.
        let start = &"ab€".as_bytes()[..4];
        assert_eq!(plain(start, 1000).as_deref(), Some("ab…"));
        // A JSON body longer than its start is not parsed: its text is shown.
        let start = br#"{"detail": "cut"#;
        assert_eq!(plain(start, 5000).as_deref(), Some(r#"{"detail": "cut…"#));
    }

    #[test]
    fn bodies_that_are_not_text_are_shown_as_their_size_and_empty_ones_not_at_all() {
        assert_eq!(
            plain(&[0x89, b'P', b'N', b'G', 0, 0], 20_480).as_deref(),
            Some("(20480-byte body, not text)")
        );
        assert_eq!(
            plain(&[0xff, 0xfe, b'a'], 3).as_deref(),
            Some("(3-byte body, not text)")
        );
        assert_eq!(plain(b"", 0), None);
        assert_eq!(plain(b"", 512), None, "a body nobody kept the start of");
    }

    #[test]
    fn the_text_is_cleaned_before_it_is_cut_or_its_detail_read() {
        let body = br#"{"detail":[{"loc":["body"],"msg":"tok-123456 expired"}]}"#;
        let shown = excerpt(body, body.len() as u64, |t| {
            t.replace("tok-123456", "[redacted]")
        });
        assert_eq!(shown.as_deref(), Some("body: [redacted] expired"));
        let long = format!("{}tok-123456", "x".repeat(BODY_CHARS - 4));
        let shown = excerpt(long.as_bytes(), long.len() as u64, |t| {
            t.replace("tok-123456", "[redacted]")
        })
        .unwrap();
        assert!(
            !shown.contains("tok-"),
            "no half secret at the cut: {shown}"
        );
    }
}
