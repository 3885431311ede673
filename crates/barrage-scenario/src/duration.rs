//! Durations as people write them: `250ms`, `1.5s`, `2m`, `1h`, `500us`, `1m30s`.
//!
//! Written by hand rather than with `humantime` because the rules are ours to state (every
//! number needs a unit, as a bare `10` is the commonest mistake and must get a suggestion)
//! and the JSON Schema repeats them as a pattern, so both must stay small and exact.
//! Decimals are read as decimals, not through `f64`, so `0.1s` is exactly 100 ms.
//! Public because the command line reads `--run-time 5m` with the same rules.

use std::time::Duration;

/// Units, longest first so that `ms` is not read as `m`.
const UNITS: [(&str, u128); 7] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// The units a duration accepts, for messages and the schema.
pub const DURATION_UNITS: &str = "`h`, `m`, `s`, `ms`, `us` and `ns`";

/// The same rules as [`parse_duration`], as a regular expression (used in the JSON Schema).
pub const DURATION_PATTERN: &str = r"^\s*(([0-9]+(\.[0-9]+)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+\s*$";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("a duration cannot be empty")]
    Empty,
    #[error("a duration cannot be negative")]
    Negative,
    /// `10`: a number alone; `suggestion` is it with seconds added.
    #[error("`{text}` has no unit")]
    MissingUnit { text: String, suggestion: String },
    #[error("unknown unit `{unit}` in `{text}`")]
    UnknownUnit { text: String, unit: String },
    #[error("`{text}` is not a duration")]
    Invalid { text: String },
    #[error("`{text}` is too long a duration")]
    TooLarge { text: String },
}

impl DurationError {
    /// How to write it instead.
    pub fn help(&self) -> String {
        match self {
            DurationError::MissingUnit { suggestion, .. } => {
                format!("add a unit: `{suggestion}` (units: {DURATION_UNITS})")
            }
            DurationError::UnknownUnit { unit, .. } if unit.eq_ignore_ascii_case("sec") => {
                "write seconds as `s`, like `10s`".into()
            }
            DurationError::UnknownUnit { unit, .. } if unit.eq_ignore_ascii_case("min") => {
                "write minutes as `m`, like `5m`".into()
            }
            DurationError::Negative => "use `0s` for no time at all".into(),
            _ => format!(
                "write a number and a unit with no space, like `10s`, `250ms` or `1m30s` \
                 (units: {DURATION_UNITS})"
            ),
        }
    }
}

/// Parses a duration such as `250ms`, `1.5s` or `1m30s`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DurationError::Empty);
    }
    if trimmed.starts_with('-') {
        return Err(DurationError::Negative);
    }
    let invalid = || DurationError::Invalid {
        text: trimmed.to_string(),
    };
    let mut rest = trimmed;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        if unit.is_empty() {
            return if total == 0 && rest == trimmed && parse_decimal(number).is_some() {
                Err(DurationError::MissingUnit {
                    text: trimmed.to_string(),
                    suggestion: format!("{trimmed}s"),
                })
            } else {
                Err(invalid())
            };
        }
        let Some(&(_, scale)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return if unit.chars().all(char::is_alphabetic) && !number.is_empty() {
                Err(DurationError::UnknownUnit {
                    text: trimmed.to_string(),
                    unit: unit.to_string(),
                })
            } else {
                Err(invalid())
            };
        };
        let (whole, fraction, digits) = parse_decimal(number).ok_or_else(invalid)?;
        let too_large = || DurationError::TooLarge {
            text: trimmed.to_string(),
        };
        let nanos = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(fraction * scale / 10u128.pow(digits)))
            .ok_or_else(too_large)?;
        total = total.checked_add(nanos).ok_or_else(too_large)?;
        rest = after;
    }
    let nanos = u64::try_from(total).map_err(|_| DurationError::TooLarge {
        text: trimmed.to_string(),
    })?;
    Ok(Duration::from_nanos(nanos))
}

/// `12.5` -> (12, 5, 1): whole part, fraction digits as a number, how many digits. Digits
/// past the 18th of the fraction are dropped (far below a nanosecond).
fn parse_decimal(number: &str) -> Option<(u128, u128, u32)> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty())
        || number.ends_with('.')
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 24
    {
        return None;
    }
    let whole = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction = &fraction[..fraction.len().min(18)];
    let digits = u32::try_from(fraction.len()).ok()?;
    let fraction = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    Some((whole, fraction, digits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn accepts_every_unit_and_compounds() {
        assert_eq!(parse_duration("250ms"), Ok(ms(250)));
        assert_eq!(parse_duration("1.5s"), Ok(ms(1500)));
        assert_eq!(parse_duration("0.1s"), Ok(ms(100)));
        assert_eq!(parse_duration(".5s"), Ok(ms(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("500us"), Ok(Duration::from_micros(500)));
        assert_eq!(parse_duration("500µs"), Ok(Duration::from_micros(500)));
        assert_eq!(parse_duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(
            parse_duration("1h2m3s4ms"),
            Ok(Duration::new(3723, 4_000_000))
        );
        assert_eq!(parse_duration(" 10s "), Ok(Duration::from_secs(10)));
    }

    #[test]
    fn a_bare_number_suggests_seconds() {
        let err = parse_duration("10").unwrap_err();
        assert_eq!(
            err,
            DurationError::MissingUnit {
                text: "10".into(),
                suggestion: "10s".into()
            }
        );
        assert!(err.help().contains("`10s`"), "{}", err.help());
        assert!(matches!(
            parse_duration("1.5"),
            Err(DurationError::MissingUnit { suggestion, .. }) if suggestion == "1.5s"
        ));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(parse_duration("-1s"), Err(DurationError::Negative));
        assert!(matches!(
            parse_duration("10 s"),
            Err(DurationError::UnknownUnit { .. } | DurationError::Invalid { .. })
        ));
        assert!(matches!(
            parse_duration("10sec"),
            Err(DurationError::UnknownUnit { unit, .. }) if unit == "sec"
        ));
        for bad in ["s", "1.s", "1..2s", "abc", "1m30", "1.2.3s", "fast"] {
            assert!(parse_duration(bad).is_err(), "{bad} should fail");
        }
        assert!(matches!(
            parse_duration("99999999999999999999h"),
            Err(DurationError::TooLarge { .. })
        ));
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,24}") {
            let _ = parse_duration(&text);
        }

        #[test]
        fn milliseconds_round_trip(n in 0u64..10_000_000) {
            prop_assert_eq!(parse_duration(&format!("{n}ms")), Ok(ms(n)));
        }
    }
}
