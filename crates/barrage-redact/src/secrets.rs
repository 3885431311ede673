//! The values barrage sent in secret places, scrubbed from text wherever they appear.
//!
//! A server that echoes a request puts its secrets under names nobody can list in advance
//! (`"input": {...}`, a debugging endpoint's `"headers"`), so names are not enough: the
//! values themselves are searched for. Each is searched in the forms an echo would write
//! it: as sent, as a JSON string escapes it, and percent-encoded.

use std::borrow::Cow;

use crate::{Redactor, REDACTED};

/// Values shorter than this (in characters) are not searched for: they would match
/// ordinary words and numbers and leave samples unreadable.
pub const MIN_SECRET_CHARS: usize = 4;

/// Secret values to scrub from text: what one request sent in secret places.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    values: Vec<String>,
}

impl Secrets {
    pub fn new() -> Secrets {
        Secrets::default()
    }

    /// Whether no value is held (nothing will be scrubbed).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// One secret value (surrounding whitespace ignored).
    pub fn add(&mut self, value: &str) {
        let value = value.trim();
        if value.chars().count() < MIN_SECRET_CHARS {
            return;
        }
        let json = serde_json::to_string(value).expect("a string always serializes");
        let json = &json[1..json.len() - 1];
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        for form in [value, json, &encoded] {
            if !self.values.iter().any(|v| v == form) {
                self.values.push(form.to_string());
            }
        }
    }

    /// A header that was sent: its value when `name` is secret, and the parts an echo may
    /// show alone (the credential after `Bearer `, each cookie's value).
    pub fn add_header(&mut self, rules: &Redactor, name: &str, value: &str) {
        if !rules.secret_header(name) {
            return;
        }
        self.add(value);
        if let Some((_scheme, credential)) = value.trim().split_once(' ') {
            self.add(credential);
        }
        if value.contains('=') {
            for pair in value.split(';') {
                if let Some((_, v)) = pair.split_once('=') {
                    self.add(v);
                }
            }
        }
    }

    /// The values of secret fields in a JSON document that was sent (every string and
    /// number under a secret name, however deep).
    pub fn add_json(&mut self, rules: &Redactor, doc: &serde_json::Value) {
        match doc {
            serde_json::Value::Object(fields) => {
                for (name, value) in fields {
                    if rules.secret_field(name) {
                        self.add_value(value);
                    } else {
                        self.add_json(rules, value);
                    }
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    self.add_json(rules, item);
                }
            }
            _ => {}
        }
    }

    /// The values of secret names in `a=1&password=x` (a form body or a query).
    pub fn add_pairs(&mut self, rules: &Redactor, text: &str) {
        for (name, value) in url::form_urlencoded::parse(text.as_bytes()) {
            if rules.secret_param(&name) {
                self.add(&value);
            }
        }
    }

    /// A request body that was sent: JSON or form pairs (other bodies hold no field names).
    pub fn add_body(&mut self, rules: &Redactor, body: &[u8]) {
        if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(body) {
            self.add_json(rules, &doc);
        } else if let Ok(text) = std::str::from_utf8(body) {
            if text.contains('=') {
                self.add_pairs(rules, text);
            }
        }
    }

    /// A whole value as secret (a value saved by a `setup` step): a string as it is, any
    /// other value as its JSON text, and every string and number inside an object or list.
    pub fn add_value(&mut self, value: &serde_json::Value) {
        match value {
            serde_json::Value::String(s) => self.add(s),
            serde_json::Value::Number(n) => self.add(&n.to_string()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| self.add_value(v)),
            serde_json::Value::Object(fields) => fields.values().for_each(|v| self.add_value(v)),
            serde_json::Value::Bool(_) | serde_json::Value::Null => {}
        }
    }

    /// `text` with every held value replaced by [`REDACTED`]; longer values first, so a
    /// header's whole value goes before the credential inside it.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut values: Vec<&str> = self
            .values
            .iter()
            .map(String::as_str)
            .filter(|v| text.contains(v))
            .collect();
        if values.is_empty() {
            return Cow::Borrowed(text);
        }
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        let mut out = text.to_string();
        for v in values {
            out = out.replace(v, REDACTED);
        }
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_values_and_their_parts_are_scrubbed() {
        let rules = Redactor::default();
        let mut s = Secrets::new();
        s.add_header(&rules, "Authorization", "Bearer tok-abc-123");
        s.add_header(&rules, "cookie", "session=c00kie-v; theme=dark");
        s.add_header(&rules, "accept", "application/json");
        let echoed = r#"{"authorization":"Bearer tok-abc-123","token":"tok-abc-123","cookie":"session=c00kie-v; theme=dark","s":"c00kie-v","accept":"application/json"}"#;
        assert_eq!(
            s.scrub(echoed),
            r#"{"authorization":"[redacted]","token":"[redacted]","cookie":"[redacted]","s":"[redacted]","accept":"application/json"}"#
        );
    }

    #[test]
    fn body_fields_are_found_in_json_and_forms_and_scrubbed_in_their_echoed_forms() {
        let rules = Redactor::default();
        let mut s = Secrets::new();
        s.add_body(
            &rules,
            br#"{"user":{"email":"a@b.c","password":"p\"w d/1"}}"#,
        );
        s.add_body(&rules, b"username=alice&password=won+der%26land");
        assert_eq!(
            s.scrub(r#"input: {"password":"p\"w d/1"} raw p"w d/1 form won%2Bder%26land? no: won der&land"#),
            r#"input: {"password":"[redacted]"} raw [redacted] form won%2Bder%26land? no: [redacted]"#
        );
        assert_eq!(s.scrub("a@b.c alice"), "a@b.c alice", "only secret fields");
    }

    #[test]
    fn short_values_are_not_searched_for_and_saved_values_of_any_type_are() {
        let mut s = Secrets::new();
        s.add("abc");
        assert!(s.is_empty());
        s.add_value(&json!({"t": "setup-tok", "n": 987654, "ok": true, "l": ["x1y2z3"]}));
        assert_eq!(
            s.scrub("setup-tok 987654 true x1y2z3 abc"),
            "[redacted] [redacted] true [redacted] abc"
        );
    }
}
