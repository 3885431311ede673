//! Writing the scenario as YAML text: block style, comments beside the values, scalars
//! quoted only when YAML would read them as something else.
//!
//! Written by hand because no YAML serializer keeps comments, and the comments (where a
//! value came from, what to edit) are half of what makes a generated file usable. Output
//! is a list of [`Line`]s first, so a list item's first line can take its `- ` and a whole
//! task can be commented out, then joined.

use serde_json::Value;
use std::borrow::Cow;

use crate::values::Gen;

/// One output line: indentation (in spaces), text, and a trailing comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub indent: usize,
    pub text: String,
    pub comment: Option<String>,
}

/// The lines of a YAML document under construction.
#[derive(Debug, Default)]
pub struct Lines {
    pub lines: Vec<Line>,
}

impl Lines {
    pub fn push(&mut self, indent: usize, text: impl Into<String>) {
        self.lines.push(Line {
            indent,
            text: text.into(),
            comment: None,
        });
    }

    /// A line with a trailing `# comment` (none when `comment` is empty).
    pub fn push_noted(&mut self, indent: usize, text: impl Into<String>, comment: &str) {
        let comment = one_line(comment);
        self.lines.push(Line {
            indent,
            text: text.into(),
            comment: (!comment.is_empty()).then_some(comment),
        });
    }

    /// A whole-line comment.
    pub fn comment(&mut self, indent: usize, text: &str) {
        for part in text.lines() {
            self.push(
                indent,
                format!("# {}", printable(part.trim_end()))
                    .trim_end()
                    .to_string(),
            );
        }
    }

    pub fn blank(&mut self) {
        self.push(0, "");
    }

    pub fn extend(&mut self, other: Lines) {
        self.lines.extend(other.lines);
    }

    /// Every line turned into a comment (`# ...`), keeping indentation: a task left out.
    pub fn commented_out(mut self) -> Lines {
        for line in &mut self.lines {
            let mut text = line.text.clone();
            if let Some(c) = line.comment.take() {
                text = format!("{text}  # {c}");
            }
            line.text = format!("# {text}");
        }
        self
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            if line.text.is_empty() && line.comment.is_none() {
                out.push('\n');
                continue;
            }
            out.extend(std::iter::repeat_n(' ', line.indent));
            out.push_str(&line.text);
            if let Some(c) = &line.comment {
                // A note may quote the document (a status key, a description): one line,
                // and only what a YAML comment can hold.
                out.push_str("  # ");
                out.push_str(&printable(&c.lines().collect::<Vec<_>>().join(" ")));
            }
            out.push('\n');
        }
        out
    }

    /// `key: value` for a generated value, nested values on the lines below.
    pub fn entry(&mut self, indent: usize, key: &str, gen: &Gen, note: &str) {
        let key = scalar(key);
        match gen {
            Gen::Object(fields) if !fields.is_empty() => {
                self.push_noted(indent, format!("{key}:"), note);
                for f in fields {
                    self.entry(indent + 2, &f.name, &f.value, &f.note);
                }
            }
            Gen::Array(items) if !items.is_empty() => {
                self.push_noted(indent, format!("{key}:"), note);
                for item in items {
                    self.item(indent + 2, item);
                }
            }
            Gen::Literal(Value::Object(m)) if !m.is_empty() => {
                self.push_noted(indent, format!("{key}:"), note);
                for (k, v) in m {
                    self.entry(indent + 2, k, &Gen::Literal(v.clone()), "");
                }
            }
            Gen::Literal(Value::Array(items)) if !items.is_empty() => {
                self.push_noted(indent, format!("{key}:"), note);
                for v in items {
                    self.item(indent + 2, &Gen::Literal(v.clone()));
                }
            }
            other => self.push_noted(indent, format!("{key}: {}", inline(other)), note),
        }
    }

    /// `- value` at `indent`, nested values below.
    pub fn item(&mut self, indent: usize, gen: &Gen) {
        let mut inner = Lines::default();
        match gen {
            Gen::Object(fields) if !fields.is_empty() => {
                for f in fields {
                    inner.entry(indent + 2, &f.name, &f.value, &f.note);
                }
            }
            Gen::Literal(Value::Object(m)) if !m.is_empty() => {
                for (k, v) in m {
                    inner.entry(indent + 2, k, &Gen::Literal(v.clone()), "");
                }
            }
            Gen::Array(items) if !items.is_empty() => {
                for i in items {
                    inner.item(indent + 2, i);
                }
            }
            Gen::Literal(Value::Array(items)) if !items.is_empty() => {
                for v in items {
                    inner.item(indent + 2, &Gen::Literal(v.clone()));
                }
            }
            other => inner.push(indent + 2, inline(other)),
        }
        if let Some(first) = inner.lines.first_mut() {
            first.indent = indent;
            first.text = format!("- {}", first.text);
        }
        self.extend(inner);
    }
}

/// A value that fits on one line: a scalar, a template, `{}` or `[]`.
pub fn inline(gen: &Gen) -> String {
    match gen {
        Gen::Leaf(leaf) => template(&leaf.template()),
        Gen::Literal(v) => literal(v),
        Gen::Object(_) => "{}".to_string(),
        Gen::Array(_) => "[]".to_string(),
    }
}

/// A fixed JSON value on one line. Strings are sent through the template language, so a
/// `{{` in them is written as the template of a literal `{{`.
pub fn literal(v: &Value) -> String {
    match v {
        Value::String(s) if s.contains("{{") => template(&s.replace("{{", "{{ \"{{\" }}")),
        Value::String(s) => scalar(s),
        Value::Null => "null".to_string(),
        Value::Object(m) if m.is_empty() => "{}".to_string(),
        Value::Array(a) if a.is_empty() => "[]".to_string(),
        other => other.to_string(),
    }
}

/// A template string: always double-quoted (a `{{` must never start a YAML mapping).
pub fn template(s: &str) -> String {
    double_quoted(s)
}

/// A string scalar, plain when YAML reads it back as the same string, else quoted.
pub fn scalar(s: &str) -> String {
    if plain_ok(s) {
        s.to_string()
    } else if s.chars().all(|c| !c.is_control() && yaml_printable(c)) {
        single_quoted(s)
    } else {
        double_quoted(s)
    }
}

/// Single-quoted (`'$.id'`): backslashes stay as they are, as JSONPaths and regexes want.
pub fn single_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || !yaml_printable(c) => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `s` can be written without quotes and read back as the same string under the
/// YAML 1.2 core schema (and by YAML 1.1 readers, hence `yes`/`no` are quoted too).
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s
        || "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.chars().any(|c| c.is_control() || !yaml_printable(c))
    {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    let reserved = [
        "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", ".inf", "-.inf", "+.inf",
        ".nan",
    ];
    if reserved.contains(&lower.as_str()) {
        return false;
    }
    // Anything that starts like a number is quoted rather than classified exactly.
    let numeric_start = first.is_ascii_digit()
        || (matches!(first, '+' | '.') && s[1..].starts_with(|c: char| c.is_ascii_digit()));
    !numeric_start
}

/// Whether YAML allows `c` as it is (its printable set; the rest must be escaped, and
/// cannot appear in a comment at all). Tab, line feed and carriage return are printable
/// but still escaped in a quoted scalar.
fn yaml_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// Text for a comment: what YAML cannot hold there becomes U+FFFD.
fn printable(s: &str) -> Cow<'_, str> {
    if s.chars().all(|c| c != '\r' && yaml_printable(c)) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(
            s.chars()
                .map(|c| {
                    if c != '\r' && yaml_printable(c) {
                        c
                    } else {
                        '\u{fffd}'
                    }
                })
                .collect(),
        )
    }
}

/// Comment text on one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Field, Leaf};
    use serde_json::json;

    #[test]
    fn scalars_are_quoted_only_when_needed() {
        assert_eq!(scalar("/items/{item_id}"), "/items/{item_id}");
        assert_eq!(scalar("get /items/{item_id}"), "get /items/{item_id}");
        assert_eq!(scalar("true"), "'true'");
        assert_eq!(scalar("10"), "'10'");
        assert_eq!(scalar("1e3"), "'1e3'");
        assert_eq!(scalar("a: b"), "'a: b'");
        assert_eq!(scalar("it's #1"), "'it''s #1'");
        assert_eq!(scalar("-x"), "'-x'");
        assert_eq!(scalar(""), "''");
        assert_eq!(scalar("line\nbreak"), "\"line\\nbreak\"");
        assert_eq!(literal(&json!("{{x}}")), "\"{{ \\\"{{\\\" }}x}}\"");
    }

    #[test]
    fn nested_values_are_written_in_block_style() {
        let gen = Gen::Object(vec![
            Field {
                name: "name".into(),
                value: Gen::Leaf(Leaf::Text("{{ string(8) }}".into())),
                note: "string".into(),
            },
            Field {
                name: "tags".into(),
                value: Gen::Array(vec![Gen::Object(vec![
                    Field {
                        name: "k".into(),
                        value: Gen::Literal(json!(1)),
                        note: String::new(),
                    },
                    Field {
                        name: "v".into(),
                        value: Gen::Literal(json!("yes")),
                        note: String::new(),
                    },
                ])]),
                note: "list of 1".into(),
            },
        ]);
        let mut lines = Lines::default();
        lines.entry(0, "json", &gen, "Item");
        assert_eq!(
            lines.render(),
            "json:  # Item\n  name: \"{{ string(8) }}\"  # string\n  tags:  # list of 1\n    - k: 1\n      v: 'yes'\n"
        );
        assert_eq!(
            lines.commented_out().render(),
            "# json:  # Item\n  # name: \"{{ string(8) }}\"  # string\n  # tags:  # list of 1\n    \
             # - k: 1\n      # v: 'yes'\n"
        );
    }
}
