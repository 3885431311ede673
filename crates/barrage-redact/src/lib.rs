//! barrage's one redactor: what of a request may go into the files and reports people
//! share (result files committed as baselines, CSV, JUnit, Markdown for pull-request
//! comments, and later the web UI and the HTML report).
//!
//! Two tools, because secrets reach a file in two ways:
//!
//! - **By name** ([`Redactor`]): a header called `authorization`, a JSON field called
//!   `password`, a `user:pass@` in a URL. The value is replaced wherever the name is seen:
//!   in the command line kept in the result file (`hit -H`, `hit -b`), in a response body
//!   quoted in a failure sample. The names are a default list the scenario may extend
//!   (`redact: { headers: [...], fields: [...] }`).
//! - **By value** ([`Secrets`]): a server that echoes the request (FastAPI's 422 repeats
//!   the body; a debugging endpoint repeats the headers) puts the values barrage sent
//!   under names nobody can list in advance. So the values barrage itself sent in secret
//!   places (secret headers, secret fields of the body and query, values saved by `setup`
//!   steps) are collected for the request that failed and scrubbed from its sample
//!   wherever they appear.
//!
//! Neither runs per request: a failure sample is built once per interval per endpoint and
//! category, and the command line once per run. So clarity wins over speed here (strings
//! are lowercased and copied freely).
//!
//! What it must not do: decide *whether* to redact (`--no-redact` and `--debug` are the
//! front end's to honour, by not calling it), or know about HTTP connections or files.

mod command;
mod json;
mod secrets;

use std::borrow::Cow;

pub use secrets::{Secrets, MIN_SECRET_CHARS};

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Headers whose values are secret unless the scenario adds more: `*` matches any run of
/// characters, names compare without regard to case.
pub const DEFAULT_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "*token*",
    "*key*",
    "*secret*",
];

/// Fields (JSON bodies; also form fields and query parameters) whose values are secret
/// unless the scenario adds more.
pub const DEFAULT_FIELDS: &[&str] = &["*password*", "*secret*", "*token*"];

/// The names whose values are secret: headers, and fields of bodies and queries. Query
/// parameters and form fields match either list, since API keys travel there under
/// header-like names (`?api_key=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redactor {
    headers: Vec<String>,
    fields: Vec<String>,
}

impl Default for Redactor {
    fn default() -> Redactor {
        Redactor::extended(std::iter::empty::<&str>(), std::iter::empty::<&str>())
    }
}

impl Redactor {
    /// The default lists with `headers` and `fields` added (patterns as in
    /// [`DEFAULT_HEADERS`]).
    pub fn extended<H, F>(headers: H, fields: F) -> Redactor
    where
        H: IntoIterator,
        H::Item: AsRef<str>,
        F: IntoIterator,
        F::Item: AsRef<str>,
    {
        let lower = |s: &str| s.trim().to_ascii_lowercase();
        let mut r = Redactor {
            headers: DEFAULT_HEADERS.iter().map(|s| lower(s)).collect(),
            fields: DEFAULT_FIELDS.iter().map(|s| lower(s)).collect(),
        };
        for h in headers {
            let h = lower(h.as_ref());
            if !h.is_empty() && !r.headers.contains(&h) {
                r.headers.push(h);
            }
        }
        for f in fields {
            let f = lower(f.as_ref());
            if !f.is_empty() && !r.fields.contains(&f) {
                r.fields.push(f);
            }
        }
        r
    }

    /// The header patterns, defaults first.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The field patterns, defaults first.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Whether a header of this name carries a secret.
    pub fn secret_header(&self, name: &str) -> bool {
        matches_any(&self.headers, name)
    }

    /// Whether a JSON field of this name carries a secret.
    pub fn secret_field(&self, name: &str) -> bool {
        matches_any(&self.fields, name)
    }

    /// Whether a query parameter or form field of this name carries a secret.
    pub fn secret_param(&self, name: &str) -> bool {
        self.secret_field(name) || self.secret_header(name)
    }

    /// `value` as it may be shown for a header called `name`.
    pub fn header_value<'a>(&self, name: &str, value: &'a str) -> Cow<'a, str> {
        if self.secret_header(name) {
            Cow::Borrowed(REDACTED)
        } else {
            Cow::Borrowed(value)
        }
    }

    /// A URL with the password of its `user:pass@` and the values of secret query
    /// parameters replaced. Text that is not a URL comes back as it was.
    pub fn url<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let Some(scheme_end) = text.find("://") else {
            return Cow::Borrowed(text);
        };
        let scheme = &text[..scheme_end];
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Cow::Borrowed(text);
        }
        let rest_at = scheme_end + 3;
        let authority_end = text[rest_at..]
            .find(['/', '?', '#'])
            .map_or(text.len(), |i| rest_at + i);
        let mut out = String::with_capacity(text.len());
        let authority = &text[rest_at..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                out.push_str(&text[..rest_at]);
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push(':');
                        out.push_str(REDACTED);
                    }
                    // A lone user part is as often a token (`https://TOKEN@host`).
                    None => out.push_str(REDACTED),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(&text[..authority_end]),
        }
        let tail = &text[authority_end..];
        match tail.split_once('?') {
            Some((path, query)) => {
                let (query, fragment) = match query.split_once('#') {
                    Some((q, f)) => (q, Some(f)),
                    None => (query, None),
                };
                out.push_str(path);
                out.push('?');
                out.push_str(&self.pairs(query));
                if let Some(f) = fragment {
                    out.push('#');
                    out.push_str(f);
                }
            }
            None => out.push_str(tail),
        }
        if out == text {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(out)
        }
    }

    /// A URL, or a path with a query as a step writes it (`/items?api_key=...`), with its
    /// secrets replaced: what an endpoint may be named.
    pub fn path<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if text.contains("://") {
            return self.url(text);
        }
        let Some((path, query)) = text.split_once('?') else {
            return Cow::Borrowed(text);
        };
        match self.pairs(query) {
            Cow::Owned(query) => Cow::Owned(format!("{path}?{query}")),
            Cow::Borrowed(_) => Cow::Borrowed(text),
        }
    }

    /// `a=1&password=x` (a form body or a query) with secret values replaced.
    pub fn pairs<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut changed = false;
        let parts: Vec<Cow<'_, str>> = text
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if self.secret_param(&decode(name)) => {
                    changed = true;
                    Cow::Owned(format!("{name}={REDACTED}"))
                }
                _ => Cow::Borrowed(pair),
            })
            .collect();
        if changed {
            Cow::Owned(parts.join("&"))
        } else {
            Cow::Borrowed(text)
        }
    }

    /// JSON text (whole, or cut short as a sample of a body is) with the values of
    /// secret fields replaced: `"password": "x"` becomes `"password": "[redacted]"`.
    /// Text that is not JSON passes through, save for anything that looks like a
    /// secret field in it.
    pub fn json_text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        json::redact(text, |name| self.secret_field(name))
    }

    /// A request body given on the command line (`hit -b`): JSON, or else form pairs.
    pub fn body_text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.json_text(text) {
            Cow::Borrowed(_)
                if text.contains('=') && !text.trim_start().starts_with(['{', '[']) =>
            {
                self.pairs(text)
            }
            other => other,
        }
    }

    /// The command line as it may be kept in a result file: the values of secret `-H`
    /// headers, secret fields of `-b` bodies, and passwords in URLs replaced.
    pub fn command_line<S: AsRef<str>>(&self, args: &[S]) -> String {
        command::redact(self, args)
    }
}

/// Whether `name` matches one of `patterns` (lowercase; `*` matches any run of characters).
fn matches_any(patterns: &[String], name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    patterns.iter().any(|p| glob(p, &name))
}

/// `*`-only glob matching of a whole name.
fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, .., last] = parts.as_slice() else {
        return pattern == name;
    };
    if name.len() < first.len() + last.len() || !name.starts_with(first) || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

/// A form or query name, percent-decoded (`+` is a space).
fn decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_headers_match_by_pattern_and_without_case() {
        let r = Redactor::default();
        for name in [
            "Authorization",
            "cookie",
            "Set-Cookie",
            "proxy-authorization",
            "X-API-Key",
            "x-auth-token",
            "X-Client-Secret",
        ] {
            assert!(r.secret_header(name), "{name}");
        }
        for name in [
            "content-type",
            "accept",
            "keep-alive",
            "x-request-id",
            "host",
        ] {
            assert!(!r.secret_header(name), "{name}");
        }
    }

    #[test]
    fn fields_match_by_pattern_and_the_scenario_extends_both_lists() {
        let r = Redactor::default();
        assert!(r.secret_field("password"));
        assert!(r.secret_field("new_password"));
        assert!(r.secret_field("access_token"));
        assert!(r.secret_field("client_secret"));
        assert!(!r.secret_field("email"));
        assert!(!r.secret_field("ssn"));
        assert!(
            r.secret_param("api_key"),
            "query parameters match header names too"
        );
        let r = Redactor::extended(["X-Session"], ["SSN", "card_*"]);
        assert!(r.secret_header("x-session"));
        assert!(r.secret_field("ssn"));
        assert!(r.secret_field("card_number"));
        assert!(!r.secret_field("discard_number"));
        assert_eq!(r.headers().len(), DEFAULT_HEADERS.len() + 1);
        assert_eq!(r.fields().len(), DEFAULT_FIELDS.len() + 2);
    }

    #[test]
    fn globs_anchor_at_both_ends_unless_starred() {
        assert!(glob("a*c", "abc"));
        assert!(glob("a*c", "ac"));
        assert!(!glob("a*c", "abcd"));
        assert!(glob("*b*", "abc"));
        assert!(glob("*", ""));
        assert!(!glob("ab", "abc"));
        assert!(glob("a*b*c", "a-b-c"));
        assert!(!glob("a*b*c", "a-c-b"));
        assert!(!glob("aa*aa", "aaa"), "the ends may not overlap");
    }

    #[test]
    fn urls_lose_passwords_and_secret_query_values() {
        let r = Redactor::default();
        assert_eq!(
            r.url("http://alice:wonderland@127.0.0.1:8000/x?a=1"),
            "http://alice:[redacted]@127.0.0.1:8000/x?a=1"
        );
        assert_eq!(
            r.url("https://ghp_abc123@example.com/"),
            "https://[redacted]@example.com/"
        );
        assert_eq!(
            r.url("http://h/items?api_key=k-123&limit=5#top"),
            "http://h/items?api_key=[redacted]&limit=5#top"
        );
        assert!(matches!(
            r.url("http://127.0.0.1:8000/items"),
            Cow::Borrowed(_)
        ));
        assert_eq!(r.url("p95<200ms"), "p95<200ms");
        assert_eq!(r.url("a@b"), "a@b", "not a URL");
    }

    #[test]
    fn form_bodies_lose_secret_values() {
        let r = Redactor::default();
        assert_eq!(
            r.body_text("username=alice&password=wonderland"),
            "username=alice&password=[redacted]"
        );
        assert_eq!(
            r.body_text(r#"{"email":"a@b.c","password":"pw-1"}"#),
            r#"{"email":"a@b.c","password":"[redacted]"}"#
        );
        assert_eq!(r.body_text("plain text"), "plain text");
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_scanned_without_panicking(text in "\\PC*") {
            let r = Redactor::default();
            let _ = r.json_text(&text);
            let _ = r.url(&text);
            let _ = r.body_text(&text);
        }

        #[test]
        fn a_secret_field_of_a_serialized_document_never_survives(
            password in "\\PC{0,24}",
            other in "\\PC{0,12}",
            pretty in proptest::bool::ANY,
        ) {
            let doc = serde_json::json!({"other": other, "login": {"password": password}});
            let text = if pretty {
                serde_json::to_string_pretty(&doc).unwrap()
            } else {
                doc.to_string()
            };
            let out = Redactor::default().json_text(&text);
            let back: serde_json::Value = serde_json::from_str(&out).unwrap();
            proptest::prop_assert_eq!(&back["login"]["password"], REDACTED);
            proptest::prop_assert_eq!(&back["other"], &doc["other"]);
        }
    }
}
