//! Integers and numbers within `minimum`/`maximum` (inclusive or exclusive, in both the 3.0
//! boolean form and the 3.1 number form) and `multipleOf`.
//!
//! A range becomes `int(lo, hi)` or `float(lo, hi, digits)`; exclusive bounds move inward
//! by one unit of the last digit. `multipleOf` becomes a `choice` of up to eight multiples
//! in the range (the template language has no arithmetic), except a power of ten for
//! numbers, which is just the number of digits. Open ranges default to 1..1000: positive,
//! as ids, counts and prices usually are.

use serde_json::Value;

use super::{Gen, Generated, Leaf};
use crate::error::GenError;

/// Ends of an open range (`lo` or `hi` missing): 1..=1000, or 999 wide.
const DEFAULT_LO: i128 = 1;
const DEFAULT_WIDTH: i128 = 999;
/// Multiples offered for `multipleOf`.
const MULTIPLES: i128 = 8;
/// Bounds beyond this are treated as this (floats lose whole-number precision past 2^53).
const FLOAT_LIMIT: f64 = 1e15;

#[derive(Debug, Clone, Copy)]
struct Bound {
    value: f64,
    exclusive: bool,
}

fn bounds(schema: &Value) -> (Option<Bound>, Option<Bound>) {
    let side = |inclusive: &str, exclusive: &str| {
        let plain = schema.get(inclusive).and_then(Value::as_f64);
        match schema.get(exclusive) {
            // 3.0: `exclusiveMinimum: true` qualifies `minimum`.
            Some(Value::Bool(true)) => plain.map(|value| Bound {
                value,
                exclusive: true,
            }),
            // 3.1: `exclusiveMinimum: 5` is a bound of its own; the stricter one wins.
            Some(Value::Number(n)) => {
                let e = n.as_f64().map(|value| Bound {
                    value,
                    exclusive: true,
                });
                match (plain, e) {
                    (Some(p), Some(e)) if inclusive == "minimum" && p > e.value => Some(Bound {
                        value: p,
                        exclusive: false,
                    }),
                    (Some(p), Some(e)) if inclusive == "maximum" && p < e.value => Some(Bound {
                        value: p,
                        exclusive: false,
                    }),
                    (_, e) => e,
                }
            }
            _ => plain.map(|value| Bound {
                value,
                exclusive: false,
            }),
        }
    };
    (
        side("minimum", "exclusiveMinimum"),
        side("maximum", "exclusiveMaximum"),
    )
}

fn range_words(lo: impl std::fmt::Display, hi: impl std::fmt::Display) -> String {
    format!("{lo}..{hi}")
}

/// An `integer` schema.
pub fn integer(schema: &Value, at: &str) -> Result<Generated, GenError> {
    let (min, max) = bounds(schema);
    let lo = min.map(|b| {
        if b.exclusive {
            b.value.floor() as i128 + 1
        } else {
            b.value.ceil() as i128
        }
    });
    let hi = max.map(|b| {
        if b.exclusive {
            b.value.ceil() as i128 - 1
        } else {
            b.value.floor() as i128
        }
    });
    let (type_lo, type_hi) = match schema.get("format").and_then(Value::as_str) {
        Some("int32") => (i128::from(i32::MIN), i128::from(i32::MAX)),
        _ => (i128::from(i64::MIN), i128::from(i64::MAX)),
    };
    let (lo, hi) = match (lo, hi) {
        (Some(lo), Some(hi)) => (lo, hi),
        (Some(lo), None) => (lo, lo.saturating_add(DEFAULT_WIDTH)),
        (None, Some(hi)) if hi >= DEFAULT_LO => (DEFAULT_LO, hi),
        (None, Some(hi)) => (hi - DEFAULT_WIDTH, hi),
        (None, None) => (DEFAULT_LO, DEFAULT_LO + DEFAULT_WIDTH),
    };
    let (lo, hi) = (lo.max(type_lo), hi.min(type_hi));
    if lo > hi {
        return Err(GenError::unsatisfiable(
            at,
            format!("no integer lies in {}", describe(min, max)),
        ));
    }
    if let Some(m) = schema.get("multipleOf").and_then(Value::as_f64) {
        return integer_multiples(m, lo, hi, at);
    }
    // Both ends were clamped to the i64 range above.
    let (lo, hi) = (lo as i64, hi as i64);
    if lo == hi {
        return Ok(Generated::new(
            Gen::Literal(lo.into()),
            "the only allowed integer",
        ));
    }
    Ok(Generated::new(
        Gen::Leaf(Leaf::Int { lo, hi }),
        format!("integer {}", range_words(lo, hi)),
    ))
}

fn integer_multiples(m: f64, lo: i128, hi: i128, at: &str) -> Result<Generated, GenError> {
    if !(m.is_finite() && m > 0.0) {
        return Err(GenError::unsatisfiable(
            at,
            format!("multipleOf {m} is not above 0"),
        ));
    }
    // The smallest whole multiple of m: m itself, or m times the k that makes it whole.
    let step = (1..=1000)
        .map(|k| m * f64::from(k))
        .find(|s| (s - s.round()).abs() < 1e-9)
        .map(|s| s.round() as i128)
        .filter(|s| *s > 0)
        .ok_or_else(|| GenError::unsatisfiable(at, format!("no integer is a multiple of {m}")))?;
    let (k_lo, k_hi) = (div_ceil(lo, step), div_floor(hi, step));
    if k_lo > k_hi {
        return Err(GenError::unsatisfiable(
            at,
            format!("no multiple of {m} lies in {}", range_words(lo, hi)),
        ));
    }
    let values: Vec<Value> = spread(k_lo, k_hi)
        .into_iter()
        .filter_map(|k| i64::try_from(k * step).ok())
        .map(Value::from)
        .collect();
    Ok(choice_or_literal(
        values,
        format!("multiple of {step} in {}", range_words(lo, hi)),
    ))
}

/// A `number` schema.
pub fn number(schema: &Value, at: &str) -> Result<Generated, GenError> {
    let (min, max) = bounds(schema);
    let clamp = |v: f64| v.clamp(-FLOAT_LIMIT, FLOAT_LIMIT);
    let lo = min.map(|b| clamp(b.value));
    let hi = max.map(|b| clamp(b.value));
    let (lo, hi) = match (lo, hi) {
        (Some(lo), Some(hi)) => (lo, hi),
        (Some(lo), None) => (lo, lo + DEFAULT_WIDTH as f64),
        (None, Some(hi)) if hi >= 1.0 => (1.0, hi),
        (None, Some(hi)) => (hi - DEFAULT_WIDTH as f64, hi),
        (None, None) => (1.0, 1000.0),
    };
    let lo_excl = min.is_some_and(|b| b.exclusive);
    let hi_excl = max.is_some_and(|b| b.exclusive);
    let multiple = schema.get("multipleOf").and_then(Value::as_f64);
    let mut digits = 2;
    if let Some(m) = multiple {
        if !(m.is_finite() && m > 0.0) {
            return Err(GenError::unsatisfiable(
                at,
                format!("multipleOf {m} is not above 0"),
            ));
        }
        match (0..=10).find(|&d| (m * 10f64.powi(d) - 1.0).abs() < 1e-9) {
            Some(d) => digits = d,
            None => return number_multiples(m, lo, hi, lo_excl, hi_excl, at),
        }
    }
    // With a multipleOf of 10^-d the digits are fixed; otherwise more digits may be
    // needed to fit inside a narrow (or exclusive) range.
    let max_digits = if multiple.is_some() { digits } else { 10 };
    for d in digits..=max_digits {
        let scale = 10f64.powi(d);
        let a = if lo_excl {
            (lo * scale).floor() + 1.0
        } else {
            (lo * scale).ceil()
        };
        let b = if hi_excl {
            (hi * scale).ceil() - 1.0
        } else {
            (hi * scale).floor()
        };
        if a > b {
            continue;
        }
        let (a, b) = (a / scale, b / scale);
        // d is at most 10 and non-negative.
        let digits = d as u32;
        if a == b {
            return Ok(Generated::new(
                Gen::Literal(float_value(a)),
                "the only allowed number",
            ));
        }
        return Ok(Generated::new(
            Gen::Leaf(Leaf::Float {
                lo: a,
                hi: b,
                digits,
            }),
            format!("number {}", range_words(a, b)),
        ));
    }
    Err(GenError::unsatisfiable(
        at,
        format!("no number lies in {}", describe(min, max)),
    ))
}

fn number_multiples(
    m: f64,
    lo: f64,
    hi: f64,
    lo_excl: bool,
    hi_excl: bool,
    at: &str,
) -> Result<Generated, GenError> {
    let mut k_lo = (lo / m).ceil() as i128;
    let mut k_hi = (hi / m).floor() as i128;
    if lo_excl && (k_lo as f64 * m) <= lo {
        k_lo += 1;
    }
    if hi_excl && (k_hi as f64 * m) >= hi {
        k_hi -= 1;
    }
    if k_lo > k_hi {
        return Err(GenError::unsatisfiable(
            at,
            format!("no multiple of {m} lies in {}", range_words(lo, hi)),
        ));
    }
    let values = spread(k_lo, k_hi)
        .into_iter()
        .map(|k| float_value(round(k as f64 * m, 10)))
        .collect();
    Ok(choice_or_literal(
        values,
        format!("multiple of {m} in {}", range_words(lo, hi)),
    ))
}

fn choice_or_literal(mut values: Vec<Value>, note: String) -> Generated {
    if values.len() == 1 {
        Generated::new(Gen::Literal(values.remove(0)), note)
    } else {
        Generated::new(Gen::Leaf(Leaf::Choice(values)), note)
    }
}

/// Up to [`MULTIPLES`] values from `a..=b`, evenly spread, both ends included.
fn spread(a: i128, b: i128) -> Vec<i128> {
    let n = b - a + 1;
    if n <= MULTIPLES {
        return (a..=b).collect();
    }
    let mut out: Vec<i128> = (0..MULTIPLES)
        .map(|i| a + i * (n - 1) / (MULTIPLES - 1))
        .collect();
    out.dedup();
    out
}

fn div_floor(a: i128, b: i128) -> i128 {
    a.div_euclid(b)
}

fn div_ceil(a: i128, b: i128) -> i128 {
    -(-a).div_euclid(b)
}

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

fn float_value(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

fn describe(min: Option<Bound>, max: Option<Bound>) -> String {
    let side = |b: Option<Bound>, excl: &str, incl: &str| {
        b.map(|b| format!("{} {}", if b.exclusive { excl } else { incl }, b.value))
    };
    let parts: Vec<String> = [side(min, ">", ">="), side(max, "<", "<=")]
        .into_iter()
        .flatten()
        .collect();
    if parts.is_empty() {
        "the allowed range".to_string()
    } else {
        parts.join(" and ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn leaf(g: Result<Generated, GenError>) -> Gen {
        g.unwrap().gen
    }

    #[test]
    fn integer_ranges() {
        assert_eq!(
            leaf(integer(&json!({}), "/")),
            Gen::Leaf(Leaf::Int { lo: 1, hi: 1000 })
        );
        assert_eq!(
            leaf(integer(
                &json!({"minimum": 0, "exclusiveMinimum": true, "maximum": 10}),
                "/"
            )),
            Gen::Leaf(Leaf::Int { lo: 1, hi: 10 })
        );
        assert_eq!(
            leaf(integer(
                &json!({"exclusiveMinimum": 0, "exclusiveMaximum": 3}),
                "/"
            )),
            Gen::Leaf(Leaf::Int { lo: 1, hi: 2 })
        );
        assert_eq!(
            leaf(integer(&json!({"maximum": -5}), "/")),
            Gen::Leaf(Leaf::Int { lo: -1004, hi: -5 })
        );
        assert_eq!(
            leaf(integer(&json!({"minimum": 7, "maximum": 7}), "/")),
            Gen::Literal(json!(7))
        );
        let e = integer(&json!({"minimum": 5, "maximum": 4}), "/x").unwrap_err();
        assert_eq!(e.to_string(), "/x: no integer lies in >= 5 and <= 4");
    }

    #[test]
    fn integer_multiples_are_a_choice() {
        assert_eq!(
            leaf(integer(
                &json!({"multipleOf": 5, "minimum": 1, "maximum": 20}),
                "/"
            )),
            Gen::Leaf(Leaf::Choice(vec![
                json!(5),
                json!(10),
                json!(15),
                json!(20)
            ]))
        );
        let g = leaf(integer(&json!({"multipleOf": 3}), "/"));
        let Gen::Leaf(Leaf::Choice(values)) = g else {
            panic!("{g:?}")
        };
        assert_eq!(values.len(), 8);
        assert!(values
            .iter()
            .all(|v| v.as_i64().unwrap() % 3 == 0 && (1..=1000).contains(&v.as_i64().unwrap())));
        assert!(integer(&json!({"multipleOf": 10, "minimum": 1, "maximum": 9}), "/").is_err());
    }

    #[test]
    fn number_ranges_keep_rounding_inside() {
        assert_eq!(
            leaf(number(&json!({"exclusiveMinimum": 0, "maximum": 1}), "/")),
            Gen::Leaf(Leaf::Float {
                lo: 0.01,
                hi: 1.0,
                digits: 2
            })
        );
        assert_eq!(
            leaf(number(&json!({"minimum": 0.001, "maximum": 0.002}), "/")),
            Gen::Leaf(Leaf::Float {
                lo: 0.001,
                hi: 0.002,
                digits: 3
            })
        );
        assert_eq!(
            leaf(number(
                &json!({"multipleOf": 0.1, "minimum": 0, "maximum": 1}),
                "/"
            )),
            Gen::Leaf(Leaf::Float {
                lo: 0.0,
                hi: 1.0,
                digits: 1
            })
        );
        assert_eq!(
            leaf(number(
                &json!({"multipleOf": 0.25, "minimum": 0, "maximum": 0.5}),
                "/"
            )),
            Gen::Leaf(Leaf::Choice(vec![json!(0.0), json!(0.25), json!(0.5)]))
        );
        assert!(number(&json!({"exclusiveMinimum": 1, "exclusiveMaximum": 1}), "/").is_err());
    }
}
