//! Secret fields in JSON *text*, whole or cut short.
//!
//! Why a scanner rather than `serde_json`: a failure sample holds the first kilobyte of a
//! body, which is rarely a whole document, and the command line's `-b` must keep the
//! user's formatting. The scanner finds each `"name"` followed by `:` and, when the name
//! is secret, replaces the string or number after it; objects and arrays under a secret
//! name are left to the scan of their own fields (and to [`crate::Secrets`], which scrubs
//! the values barrage sent wherever they appear).

use std::borrow::Cow;

use crate::REDACTED;

/// `text` with the values of fields whose names `secret` accepts replaced.
pub(crate) fn redact<'a>(text: &'a str, secret: impl Fn(&str) -> bool) -> Cow<'a, str> {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'"' {
            i += 1;
            continue;
        }
        let Some(key_end) = string_end(b, i) else {
            break;
        };
        let colon = skip_ws(b, key_end);
        if colon >= b.len() || b[colon] != b':' || !secret(&text[i + 1..key_end - 1]) {
            i = key_end;
            continue;
        }
        let start = skip_ws(b, colon + 1);
        let end = match b.get(start) {
            // A value cut off by the end of the sample is still hidden.
            Some(b'"') => string_end(b, start).unwrap_or(b.len()),
            Some(c) if c.is_ascii_digit() || *c == b'-' => start + scalar_len(&b[start..]),
            _ => {
                i = start;
                continue;
            }
        };
        out.push_str(&text[copied..start]);
        out.push('"');
        out.push_str(REDACTED);
        out.push('"');
        copied = end;
        i = end;
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The index just past the closing quote of the string opening at `open`, or `None` when
/// the text ends first.
fn string_end(b: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The length of a number at the start of `b`.
fn scalar_len(b: &[u8]) -> usize {
    b.iter()
        .position(|c| !(c.is_ascii_digit() || b"+-.eE".contains(c)))
        .unwrap_or(b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(text: &str) -> String {
        redact(text, |n| n.to_ascii_lowercase().contains("password")).into_owned()
    }

    #[test]
    fn strings_and_numbers_under_secret_names_are_replaced() {
        assert_eq!(
            password(r#"{"email": "a@b.c", "password": "hunter2", "n": 1}"#),
            r#"{"email": "a@b.c", "password": "[redacted]", "n": 1}"#
        );
        assert_eq!(
            password(r#"{"Password":12345,"x":[{"old_password":"a\"b"}]}"#),
            r#"{"Password":"[redacted]","x":[{"old_password":"[redacted]"}]}"#
        );
    }

    #[test]
    fn a_value_cut_short_is_hidden_and_names_as_values_are_not_keys() {
        assert_eq!(
            password(r#"{"detail":[{"input":{"password":"hunt"#),
            r#"{"detail":[{"input":{"password":"[redacted]""#
        );
        assert_eq!(
            password(r#"{"loc":["body","password"],"msg":"x"}"#),
            r#"{"loc":["body","password"],"msg":"x"}"#
        );
        assert_eq!(password("no json at all"), "no json at all");
        assert_eq!(password(r#""unclosed"#), r#""unclosed"#);
    }

    #[test]
    fn objects_under_secret_names_are_left_to_their_fields() {
        assert_eq!(
            password(r#"{"password": {"v": "x"}, "password2": null}"#),
            r#"{"password": {"v": "x"}, "password2": null}"#
        );
    }
}
