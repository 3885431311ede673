//! The built-in functions: their names and arities, the checks made when a call is
//! compiled, and the random and clock primitives they run on.
//!
//! The set is small on purpose (what load tests need to vary requests) and closed: a
//! misspelt function is a compile error with a suggestion, never a silent empty string.
//! Every random draw uses the user's own [`SmallRng`], so a run needs no shared generator
//! and no lock.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::distr::Alphanumeric;
use rand::rngs::SmallRng;
use rand::Rng;

use crate::error::{RenderError, TemplateError};

/// Longest string `string(len)` makes (1 MiB); a longer one is a mistake, not a payload.
pub const MAX_STRING_LEN: i64 = 1 << 20;
/// Most decimals `float(a, b, digits)` rounds to.
pub const MAX_DIGITS: i64 = 15;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    Int,
    Float,
    Uuid,
    Choice,
    String,
    Env,
    Timestamp,
    TimestampMs,
    Str,
    Upper,
    Lower,
}

pub(crate) struct FuncInfo {
    pub name: &'static str,
    pub func: Func,
    pub min_args: usize,
    pub max_args: usize,
    pub usage: &'static str,
}

const fn info(
    name: &'static str,
    func: Func,
    min_args: usize,
    max_args: usize,
    usage: &'static str,
) -> FuncInfo {
    FuncInfo {
        name,
        func,
        min_args,
        max_args,
        usage,
    }
}

pub(crate) const FUNCTIONS: &[FuncInfo] = &[
    info("int", Func::Int, 2, 2, "int(min, max)"),
    info(
        "float",
        Func::Float,
        2,
        3,
        "float(min, max) or float(min, max, digits)",
    ),
    info("uuid", Func::Uuid, 0, 0, "uuid()"),
    info(
        "choice",
        Func::Choice,
        1,
        usize::MAX,
        "choice(a, b, ...) or choice(list)",
    ),
    info("string", Func::String, 1, 1, "string(length)"),
    info(
        "env",
        Func::Env,
        1,
        2,
        "env(\"NAME\") or env(\"NAME\", \"default\")",
    ),
    info("timestamp", Func::Timestamp, 0, 0, "timestamp()"),
    info("timestamp_ms", Func::TimestampMs, 0, 0, "timestamp_ms()"),
    info("str", Func::Str, 1, 1, "str(value)"),
    info("upper", Func::Upper, 1, 1, "upper(text)"),
    info("lower", Func::Lower, 1, 1, "lower(text)"),
];

/// The names of all built-in functions, for documentation and suggestions.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().map(|f| f.name)
}

pub(crate) fn lookup(name: &str) -> Option<&'static FuncInfo> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

pub(crate) fn info_of(func: Func) -> &'static FuncInfo {
    // Every `Func` has exactly one row in FUNCTIONS; the fallback is never taken.
    FUNCTIONS
        .iter()
        .find(|f| f.func == func)
        .unwrap_or(&FUNCTIONS[0])
}

/// The closest function name to `name`, if one is close enough to be a likely typo.
pub(crate) fn suggest(name: &str) -> Option<&'static str> {
    function_names()
        .map(|f| (strsim::normalized_damerau_levenshtein(name, f), f))
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, f)| f)
}

pub(crate) fn unknown_function(name: &str, offset: usize) -> TemplateError {
    let err = TemplateError::new(offset, name.len(), format!("unknown function `{name}`"));
    match suggest(name) {
        Some(f) => err.with_help(format!("did you mean `{f}`?")),
        None => err.with_help(format!(
            "the functions are: {}",
            function_names().collect::<Vec<_>>().join(", ")
        )),
    }
}

pub(crate) fn wrong_arity(f: &FuncInfo, got: usize, offset: usize, len: usize) -> TemplateError {
    let expected = match (f.min_args, f.max_args) {
        (0, 0) => "no arguments".to_string(),
        (1, 1) => "1 argument".to_string(),
        (a, b) if a == b => format!("{a} arguments"),
        (a, usize::MAX) => format!("at least {a} argument{}", if a == 1 { "" } else { "s" }),
        (a, b) => format!("{a} or {b} arguments"),
    };
    TemplateError::new(
        offset,
        len,
        format!("`{}` takes {expected}, got {got}", f.name),
    )
    .with_help(format!("write {}", f.usage))
}

/// A draw from `min..=max`.
pub(crate) fn random_int(rng: &mut SmallRng, min: i64, max: i64) -> Result<i64, RenderError> {
    if min > max {
        return Err(RenderError::new(format!(
            "int({min}, {max}): min is greater than max"
        )));
    }
    Ok(rng.random_range(min..=max))
}

/// A uniform draw between `min` and `max`, rounded to `digits` decimals when given.
pub(crate) fn random_float(
    rng: &mut SmallRng,
    min: f64,
    max: f64,
    digits: Option<i64>,
) -> Result<f64, RenderError> {
    if !(min.is_finite() && max.is_finite()) || min > max {
        return Err(RenderError::new(format!(
            "float({min}, {max}): needs finite bounds with min <= max"
        )));
    }
    let t: f64 = rng.random();
    // Interpolating this way stays finite even when max - min would overflow.
    let x = (min * (1.0 - t) + max * t).clamp(min, max);
    let Some(digits) = digits else { return Ok(x) };
    if !(0..=MAX_DIGITS).contains(&digits) {
        return Err(RenderError::new(format!(
            "float(): digits must be from 0 to {MAX_DIGITS}, got {digits}"
        )));
    }
    Ok(round_to(x, digits))
}

/// Rounds to `digits` decimals (half away from zero); values too large to have that many
/// decimals in an f64 are returned unchanged.
pub(crate) fn round_to(x: f64, digits: i64) -> f64 {
    let scale = 10f64.powi(i32::try_from(digits).unwrap_or(0));
    let scaled = x * scale;
    if !scaled.is_finite() || scaled.abs() >= 9_007_199_254_740_992.0 {
        return x;
    }
    scaled.round() / scale
}

/// A random (version 4) UUID drawn from the user's generator: no system call.
pub(crate) fn random_uuid(rng: &mut SmallRng) -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// Writes `len` random ASCII letters and digits.
pub(crate) fn write_random_string<W: fmt::Write + ?Sized>(
    rng: &mut SmallRng,
    len: i64,
    w: &mut W,
) -> Result<(), RenderError> {
    if !(0..=MAX_STRING_LEN).contains(&len) {
        return Err(RenderError::new(format!(
            "string(): length must be from 0 to {MAX_STRING_LEN}, got {len}"
        )));
    }
    for _ in 0..len {
        w.write_char(char::from(rng.sample(Alphanumeric)))?;
    }
    Ok(())
}

fn since_epoch() -> std::time::Duration {
    // A clock set before 1970 reads as 1970 rather than failing every request.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

pub(crate) fn timestamp() -> i64 {
    i64::try_from(since_epoch().as_secs()).unwrap_or(i64::MAX)
}

pub(crate) fn timestamp_ms() -> i64 {
    i64::try_from(since_epoch().as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("itn"), Some("int"));
        assert_eq!(suggest("uuid4"), Some("uuid"));
        assert_eq!(suggest("timestamp_s"), Some("timestamp_ms"));
        assert_eq!(suggest("flaot"), Some("float"));
        assert_eq!(suggest("rand"), None);
        assert_eq!(suggest("zzz"), None);
    }

    #[test]
    fn rounding() {
        assert_eq!(round_to(12.345_678, 2), 12.35);
        assert_eq!(round_to(12.344, 2), 12.34);
        assert_eq!(round_to(-1.5, 0), -2.0);
        assert_eq!(round_to(1e300, 5), 1e300);
    }

    #[test]
    fn floats_stay_in_range() {
        let mut rng = SmallRng::seed_from_u64(7);
        for _ in 0..1000 {
            let x = random_float(&mut rng, -f64::MAX, f64::MAX, None).unwrap();
            assert!(x.is_finite());
            let y = random_float(&mut rng, 1.0, 2.0, Some(1)).unwrap();
            assert!((1.0..=2.0).contains(&y));
            assert_eq!(y, round_to(y, 1));
        }
        assert!(random_float(&mut rng, 2.0, 1.0, None).is_err());
        assert!(random_float(&mut rng, 1.0, 2.0, Some(16)).is_err());
    }

    #[test]
    fn uuids_are_v4() {
        let mut rng = SmallRng::seed_from_u64(1);
        let u = random_uuid(&mut rng);
        assert_eq!(u.get_version_num(), 4);
        assert_ne!(u, random_uuid(&mut rng));
    }
}
