//! A number and the unit written after it: `200ms`, `1.5 s`, `+10%`, `12.5/s`, `0.01`.
//!
//! Reading is shared; meaning is not. A threshold's limit is a value in its metric's unit
//! (`1%` of error rate is 0.01), a gate's amount is a change (`+10%` of a latency is relative,
//! `+0.5%` of error rate is half a percentage point). So this module only splits the text
//! and scales units of time; each caller matches on the unit it was given.

use std::ops::Range;

use super::cursor::Cursor;

/// A number with the unit written after it, located in the text it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity<'a> {
    /// With its sign applied.
    pub value: f64,
    /// The number as written, without its sign (for "write `{digits}ms`" help).
    pub digits: &'a str,
    /// The unit as written: letters, `%` and `/` (`ms`, `%`, `/s`); empty when none.
    pub unit: &'a str,
    /// From the sign (or the first digit) to the end of the unit.
    pub span: Range<usize>,
    pub unit_span: Range<usize>,
}

/// No number where one was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected a number, found `{found}`")]
pub struct NotANumber {
    /// What stands where the number should be, up to the next space; empty at the end.
    pub found: String,
    /// Where `found` is (empty at the end).
    pub span: Range<usize>,
}

/// Reads a quantity from `text` at byte `start`. With `signed`, a leading `+` or `-` is
/// read too (a gate's change); without, a sign is not a number (a threshold's limit).
/// `200 ms` reads as `200ms`. Returns the quantity and the position after it. (The parsers
/// read quantities from their own cursor with `quantity`; this is its face for the tests.)
#[cfg(test)]
pub(crate) fn read_quantity(
    text: &str,
    start: usize,
    signed: bool,
) -> Result<(Quantity<'_>, usize), NotANumber> {
    let mut c = Cursor::new(text, start);
    let q = quantity(&mut c, signed)?;
    Ok((q, c.pos))
}

pub(crate) fn quantity<'a>(c: &mut Cursor<'a>, signed: bool) -> Result<Quantity<'a>, NotANumber> {
    let start = c.pos;
    let sign = if !signed {
        1.0
    } else if c.eat("-") {
        -1.0
    } else {
        c.eat("+");
        1.0
    };
    if c.pos > start {
        c.skip_ws();
    }
    let number = c.take_while(|c| c.is_ascii_digit() || c == '.');
    let digits = &c.text[number.clone()];
    let Ok(value) = digits.parse::<f64>() else {
        let found = &c.text[start..];
        let found = &found[..found.find(char::is_whitespace).unwrap_or(found.len())];
        return Err(NotANumber {
            found: found.to_owned(),
            span: start..start + found.len(),
        });
    };
    let after_number = c.pos;
    c.skip_ws();
    if !c.peek().is_some_and(is_unit_char) {
        c.pos = after_number;
    }
    let unit_span = c.take_while(is_unit_char);
    Ok(Quantity {
        value: sign * value,
        digits,
        unit: &c.text[unit_span.clone()],
        span: start..c.pos,
        unit_span,
    })
}

fn is_unit_char(c: char) -> bool {
    c.is_alphabetic() || c == '%' || c == '/'
}

/// `value` in the unit of time `unit` as milliseconds (`ns us µs ms s m h`), by
/// multiplication or division by exact powers of ten and 60, so a limit copied from a
/// result file in `ms` compares exactly.
pub fn time_to_ms(value: f64, unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => value / 1e6,
        "us" | "µs" => value / 1e3,
        "ms" => value,
        "s" => value * 1e3,
        "m" => value * 60e3,
        "h" => value * 3_600e3,
        _ => return None,
    })
}
