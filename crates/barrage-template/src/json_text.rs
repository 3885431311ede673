//! Writing JSON text by hand: string escaping and number formatting.
//!
//! Rendering writes straight into the caller's buffer. A rendered string that ends up inside
//! a JSON body is escaped while it is written (through [`JsonEscaper`]) instead of being
//! rendered into a temporary `String` and escaped afterwards, and numbers are formatted with
//! `itoa` and serde_json's own float formatting, so that a template's numbers look exactly
//! like serde_json's.

use std::fmt;

/// A `fmt::Write` that appends what it is given to a byte buffer as the inside of a JSON
/// string (without the quotes).
pub(crate) struct JsonEscaper<'a>(pub &'a mut Vec<u8>);

impl fmt::Write for JsonEscaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s);
        Ok(())
    }
}

/// Appends `s` JSON-escaped (no quotes), as serde_json escapes it.
pub(crate) fn escape_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(short);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends `s` as a quoted JSON string.
pub(crate) fn quoted_into(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape_into(out, s);
    out.push(b'"');
}

/// Writes an integer as text.
pub(crate) fn write_int<W: fmt::Write + ?Sized>(w: &mut W, n: i64) -> fmt::Result {
    w.write_str(itoa::Buffer::new().format(n))
}

/// Writes a float exactly as serde_json does (`3.0`, `0.1`, `1e+21`), by asking it; a
/// non-finite value (which no expression produces from finite inputs) is written as Rust
/// prints it.
pub(crate) fn write_float<W: fmt::Write + ?Sized>(w: &mut W, f: f64) -> fmt::Result {
    match serde_json::Number::from_f64(f) {
        Some(n) => write!(w, "{n}"),
        None => write!(w, "{f}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_serde_json() {
        for s in [
            "plain",
            "quote \" and \\",
            "line\nbreak\ttab",
            "\u{1}\u{1f}\u{7f}",
            "é ✓ 🎉",
            "",
        ] {
            let mut out = Vec::new();
            quoted_into(&mut out, s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    #[test]
    fn numbers_match_serde_json() {
        for f in [3.0, 0.1, 12.34, 1e21, -0.5, 1e-7] {
            let mut s = String::new();
            write_float(&mut s, f).unwrap();
            assert_eq!(s, serde_json::to_string(&f).unwrap());
        }
        let mut s = String::new();
        write_int(&mut s, i64::MIN).unwrap();
        assert_eq!(s, i64::MIN.to_string());
    }
}
