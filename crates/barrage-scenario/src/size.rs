//! Sizes in bytes as people write them: `16MiB`, `512KiB`, `1GB`, `1000B`.
//!
//! Every size needs a unit, as every duration does: a bare `16` could mean bytes or
//! megabytes, and guessing wrong is a factor of a million. The JSON Schema repeats the rules
//! as a pattern, so both stay small and exact. Public because the command line reads
//! `--max-body-size 32MiB` with the same rules.

/// Units, the binary ones (powers of 1024) beside the decimal ones (powers of 1000).
const UNITS: [(&str, u64); 8] = [
    ("B", 1),
    ("kB", 1_000),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
];

/// The units a size accepts, for messages.
pub const SIZE_UNITS: &str = "`B`, `KiB`, `MiB`, `GiB` (1024-based) and `kB`, `MB`, `GB`";

/// The same rules as [`parse_size`], as a regular expression (used in the JSON Schema).
pub const SIZE_PATTERN: &str = r"^\s*[0-9]+\s*(B|kB|KB|MB|GB|KiB|MiB|GiB)\s*$";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// `16`: a number alone.
    #[error("`{text}` has no unit")]
    MissingUnit { text: String },
    #[error("unknown unit `{unit}` in `{text}`")]
    UnknownUnit { text: String, unit: String },
    #[error("`{text}` is not a size")]
    Invalid { text: String },
    #[error("`{text}` is too large")]
    TooLarge { text: String },
    #[error("a size of zero keeps nothing")]
    Zero,
}

impl SizeError {
    /// How to write it instead.
    pub fn help(&self) -> String {
        match self {
            SizeError::MissingUnit { text } => {
                format!("add a unit: `{}MiB` (units: {SIZE_UNITS})", text.trim())
            }
            SizeError::UnknownUnit { unit, .. } => {
                let lower = unit.to_ascii_lowercase();
                let near = UNITS
                    .iter()
                    .find(|(u, _)| u.to_ascii_lowercase() == lower)
                    .map(|(u, _)| format!("write `{u}`; "))
                    .unwrap_or_default();
                format!("{near}units: {SIZE_UNITS}")
            }
            SizeError::Invalid { .. } => {
                format!("write a whole number and a unit, like `16MiB` (units: {SIZE_UNITS})")
            }
            SizeError::TooLarge { .. } => "write a size below 16 EiB".to_string(),
            SizeError::Zero => "write at least `1B`".to_string(),
        }
    }
}

/// Reads a size such as `16MiB` into bytes.
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let t = text.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(SizeError::Invalid {
            text: text.to_string(),
        });
    }
    let unit = t[digits..].trim_start();
    if unit.is_empty() {
        return Err(SizeError::MissingUnit {
            text: text.to_string(),
        });
    }
    let Some(&(_, scale)) = UNITS.iter().find(|(u, _)| *u == unit) else {
        if !unit.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(SizeError::Invalid {
                text: text.to_string(),
            });
        }
        return Err(SizeError::UnknownUnit {
            text: text.to_string(),
            unit: unit.to_string(),
        });
    };
    let too_large = || SizeError::TooLarge {
        text: text.to_string(),
    };
    let n: u64 = t[..digits].parse().map_err(|_| too_large())?;
    let bytes = n.checked_mul(scale).ok_or_else(too_large)?;
    if bytes == 0 {
        return Err(SizeError::Zero);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_their_units() {
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size(" 512 KiB "), Ok(512 << 10));
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("1000B"), Ok(1000));
        assert_eq!(parse_size("2kB"), Ok(2000));
        let e = parse_size("16").unwrap_err();
        assert_eq!(
            e.help(),
            format!("add a unit: `16MiB` (units: {SIZE_UNITS})")
        );
        let e = parse_size("16mib").unwrap_err();
        assert!(e.help().starts_with("write `MiB`"), "{}", e.help());
        assert!(matches!(
            parse_size("1.5MiB"),
            Err(SizeError::Invalid { .. })
        ));
        assert!(matches!(
            parse_size("-1MiB"),
            Err(SizeError::Invalid { .. })
        ));
        assert_eq!(parse_size("0MiB"), Err(SizeError::Zero));
        assert!(matches!(
            parse_size("99999999999GiB"),
            Err(SizeError::TooLarge { .. })
        ));
    }
}
