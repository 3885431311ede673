//! [`Leaf`]: one generated scalar, as a template that draws a fresh valid value for each
//! request (`"{{ int(1, 100) }}"`), or as a fixed choice of values.
//!
//! A leaf is a small description (a range, a list of choices, a template text) rather than
//! the template string itself, so the generator can still reason about it: split a range
//! into disjoint parts for `uniqueItems`, or tell whether it renders as a number.

use serde_json::Value;

/// A generated scalar value.
#[derive(Debug, Clone, PartialEq)]
pub enum Leaf {
    /// `int(lo, hi)`, both ends included.
    Int { lo: i64, hi: i64 },
    /// `float(lo, hi, digits)`: `lo` and `hi` are already multiples of `10^-digits`, so
    /// rounding never leaves the range.
    Float { lo: f64, hi: f64, digits: u32 },
    /// `choice(a, b, ...)` of scalars (strings, numbers, booleans, null).
    Choice(Vec<Value>),
    /// A template that renders as text (`{{ uuid() }}`, `user{{ int(1, 9) }}@example.com`).
    Text(String),
}

impl Leaf {
    /// The template string (what goes between the YAML quotes).
    pub fn template(&self) -> String {
        match self {
            Leaf::Int { lo, hi } => format!("{{{{ int({lo}, {hi}) }}}}"),
            Leaf::Float { lo, hi, digits } => {
                format!(
                    "{{{{ float({}, {}, {digits}) }}}}",
                    number_literal(*lo),
                    number_literal(*hi)
                )
            }
            Leaf::Choice(values) => {
                let args: Vec<String> = values.iter().map(literal).collect();
                format!("{{{{ choice({}) }}}}", args.join(", "))
            }
            Leaf::Text(t) => t.clone(),
        }
    }

    /// `n` leaves whose values can never be equal to each other (for `uniqueItems`), or
    /// `None` when this leaf cannot be split that way.
    pub fn split(&self, n: usize) -> Option<Vec<Leaf>> {
        let count = i128::try_from(n).ok()?;
        match self {
            Leaf::Int { lo, hi } => {
                let span = i128::from(*hi) - i128::from(*lo) + 1;
                if span < count {
                    return None;
                }
                let width = span / count;
                Some(
                    (0..count)
                        .map(|i| {
                            let a = i128::from(*lo) + i * width;
                            let b = if i == count - 1 {
                                i128::from(*hi)
                            } else {
                                a + width - 1
                            };
                            // Both ends lie within lo..=hi, which are i64.
                            Leaf::Int {
                                lo: i64::try_from(a).unwrap_or(*lo),
                                hi: i64::try_from(b).unwrap_or(*hi),
                            }
                        })
                        .collect(),
                )
            }
            Leaf::Choice(values) => {
                if values.len() < n {
                    return None;
                }
                let mut groups = vec![Vec::new(); n];
                for (i, v) in values.iter().enumerate() {
                    groups[i % n].push(v.clone());
                }
                Some(
                    groups
                        .into_iter()
                        .map(|g| match g.as_slice() {
                            [one] => Leaf::Choice(vec![one.clone()]),
                            _ => Leaf::Choice(g),
                        })
                        .collect(),
                )
            }
            Leaf::Float { lo, hi, digits } => {
                let step = 10f64.powi(i32::try_from(*digits).ok()?);
                let (a, b) = ((lo * step).round() as i128, (hi * step).round() as i128);
                let span = b - a + 1;
                if span < count {
                    return None;
                }
                let width = span / count;
                Some(
                    (0..count)
                        .map(|i| {
                            let x = a + i * width;
                            let y = if i == count - 1 { b } else { x + width - 1 };
                            Leaf::Float {
                                lo: x as f64 / step,
                                hi: y as f64 / step,
                                digits: *digits,
                            }
                        })
                        .collect(),
                )
            }
            // Random text of eight or more characters (or a UUID) repeats with a chance
            // too small to matter; fixed-shape texts (dates) are not split.
            Leaf::Text(t) if t.contains("string(") || t.contains("uuid()") => {
                Some(vec![self.clone(); n])
            }
            Leaf::Text(_) => None,
        }
    }
}

/// A value as a literal of the template language: `'text'` (with `\'` and `\\`), numbers,
/// `true`, `false`, `null`.
pub fn literal(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let mut out = String::with_capacity(s.len() + 2);
            out.push('\'');
            for c in s.chars() {
                match c {
                    '\'' => out.push_str("\\'"),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            out.push('\'');
            out
        }
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => number_literal(f),
            (None, None) => "0".to_string(),
        },
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        // Choices hold scalars only; a compound value is never turned into a literal.
        other => literal(&Value::String(other.to_string())),
    }
}

/// A float as the template lexer reads it back: a decimal point or an exponent, so that
/// large whole numbers are not read as (overflowing) integers.
pub fn number_literal(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.1}")
    } else if f.abs() >= 1e15 || (f != 0.0 && f.abs() < 1e-6) {
        format!("{f:e}")
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_read_as_the_template_language_writes_them() {
        assert_eq!(Leaf::Int { lo: 1, hi: 100 }.template(), "{{ int(1, 100) }}");
        let f = Leaf::Float {
            lo: 0.01,
            hi: 1e20,
            digits: 2,
        };
        assert_eq!(f.template(), "{{ float(0.01, 1e20, 2) }}");
        let c = Leaf::Choice(vec![json!("it's"), json!(2), json!(true), json!(null)]);
        assert_eq!(c.template(), r"{{ choice('it\'s', 2, true, null) }}");
        assert_eq!(literal(&json!("a\\b")), r"'a\\b'");
    }

    #[test]
    fn splits_are_disjoint_and_cover_only_the_range() {
        let parts = Leaf::Int { lo: 1, hi: 10 }.split(3).unwrap();
        assert_eq!(
            parts,
            [
                Leaf::Int { lo: 1, hi: 3 },
                Leaf::Int { lo: 4, hi: 6 },
                Leaf::Int { lo: 7, hi: 10 }
            ]
        );
        assert!(Leaf::Int { lo: 1, hi: 2 }.split(3).is_none());
        let parts = Leaf::Choice(vec![json!("a"), json!("b"), json!("c")])
            .split(2)
            .unwrap();
        assert_eq!(
            parts,
            [
                Leaf::Choice(vec![json!("a"), json!("c")]),
                Leaf::Choice(vec![json!("b")])
            ]
        );
        let parts = Leaf::Float {
            lo: 0.0,
            hi: 1.0,
            digits: 1,
        }
        .split(2)
        .unwrap();
        assert_eq!(
            parts,
            [
                Leaf::Float {
                    lo: 0.0,
                    hi: 0.4,
                    digits: 1
                },
                Leaf::Float {
                    lo: 0.5,
                    hi: 1.0,
                    digits: 1
                }
            ]
        );
    }
}
