//! Strings that match a schema's `pattern`.
//!
//! The template language has no regex function, so a handful of matching strings is drawn
//! here, once, at init time, and the scenario picks among them with `choice(...)`: each
//! request still varies, and the file shows exactly what will be sent. The strings are
//! drawn by `rand_regex` from the pattern's parsed form, with a seed taken from the pattern
//! so that the same document always gives the same file.
//!
//! JSON Schema patterns are unanchored ECMA-262 regexes, almost always written `^...$`.
//! `rand_regex` refuses anchors and word boundaries, so they are dropped from the parsed
//! pattern before drawing; every drawn string is then checked against the real pattern
//! (with `regex`, unanchored as JSON Schema means it), so dropping them can only cost a
//! rejected draw, never a wrong value. Classes are read as ASCII first (`\d` is `[0-9]`,
//! not every Unicode digit) so the strings stay readable; patterns that need Unicode mode
//! are read in it.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use regex_syntax::hir::{Capture, Hir, HirKind, Repetition};

/// How many distinct strings to offer.
const SAMPLES: usize = 5;
/// Draws tried before giving up (length limits can reject most draws).
const ATTEMPTS: usize = 400;
/// Extra repetitions `*`, `+` and `{n,}` may add.
const MAX_REPEAT: u32 = 8;

/// Why no strings could be drawn for a pattern.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    /// The `regex` crate cannot read the pattern (look-around, back-references, ...).
    #[error(
        "pattern `{pattern}` cannot be read ({detail}); look-around and back-references are \
         not supported: give the value an `example` instead"
    )]
    Unsupported { pattern: String, detail: String },
    /// The pattern's syntax cannot be parsed for drawing.
    #[error("pattern `{pattern}` cannot be read: {detail}")]
    Unreadable { pattern: String, detail: String },
    /// The parsed pattern cannot be drawn from.
    #[error("cannot generate strings for pattern `{pattern}`: {source}")]
    Generate {
        pattern: String,
        source: rand_regex::Error,
    },
    /// No drawn string had an allowed length (or was kept).
    #[error("no string matching pattern `{pattern}` with {lengths} was found")]
    NoMatch { pattern: String, lengths: String },
}

/// Up to [`SAMPLES`] distinct strings matching `pattern` whose length (in characters) is
/// within `min..=max` and that `keep` accepts; an error says why there are none.
pub fn samples(
    pattern: &str,
    min: usize,
    max: usize,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>, PatternError> {
    let checker = regex::Regex::new(pattern).map_err(|e| PatternError::Unsupported {
        pattern: pattern.to_string(),
        detail: first_line(&e.to_string()).to_string(),
    })?;
    let ascii = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .build()
        .parse(pattern);
    let hir =
        match ascii {
            Ok(hir) => hir,
            Err(_) => regex_syntax::Parser::new().parse(pattern).map_err(|e| {
                PatternError::Unreadable {
                    pattern: pattern.to_string(),
                    detail: first_line(&e.to_string()).to_string(),
                }
            })?,
        };
    let generator =
        rand_regex::Regex::with_hir(without_assertions(hir), MAX_REPEAT).map_err(|source| {
            PatternError::Generate {
                pattern: pattern.to_string(),
                source,
            }
        })?;
    let mut rng = SmallRng::seed_from_u64(seed(pattern));
    let mut found: Vec<String> = Vec::new();
    for _ in 0..ATTEMPTS {
        let s: String = rng.sample(&generator);
        let len = s.chars().count();
        if (min..=max).contains(&len) && checker.is_match(&s) && keep(&s) && !found.contains(&s) {
            found.push(s);
            if found.len() == SAMPLES {
                break;
            }
        }
    }
    if found.is_empty() {
        return Err(PatternError::NoMatch {
            pattern: pattern.to_string(),
            lengths: length_words(min, max),
        });
    }
    Ok(found)
}

fn length_words(min: usize, max: usize) -> String {
    match (min, max) {
        (0, usize::MAX) => "any length".to_string(),
        (a, usize::MAX) => format!("at least {a} characters"),
        (a, b) => format!("{a} to {b} characters"),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s).trim()
}

/// FNV-1a of the pattern: a fixed seed per pattern, stable across runs and platforms.
fn seed(pattern: &str) -> u64 {
    pattern.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The pattern with every anchor and word boundary replaced by "nothing".
fn without_assertions(hir: Hir) -> Hir {
    match hir.into_kind() {
        HirKind::Look(_) => Hir::empty(),
        HirKind::Capture(c) => Hir::capture(Capture {
            sub: Box::new(without_assertions(*c.sub)),
            ..c
        }),
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            sub: Box::new(without_assertions(*r.sub)),
            ..r
        }),
        HirKind::Concat(items) => Hir::concat(items.into_iter().map(without_assertions).collect()),
        HirKind::Alternation(items) => {
            Hir::alternation(items.into_iter().map(without_assertions).collect())
        }
        kind @ (HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_)) => kind_to_hir(kind),
    }
}

fn kind_to_hir(kind: HirKind) -> Hir {
    match kind {
        HirKind::Literal(l) => Hir::literal(l.0),
        HirKind::Class(c) => Hir::class(c),
        _ => Hir::empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(_: &str) -> bool {
        true
    }

    #[test]
    fn samples_match_and_respect_length() {
        let found = samples(r"^[A-Z]{3}-\d{2,4}$", 0, usize::MAX, &any).unwrap();
        assert_eq!(found.len(), SAMPLES);
        let re = regex::Regex::new(r"^[A-Z]{3}-[0-9]{2,4}$").unwrap();
        assert!(found.iter().all(|s| re.is_match(s)), "{found:?}");
        let short = samples(r"^[a-z]+$", 2, 3, &any).unwrap();
        assert!(
            short.iter().all(|s| (2..=3).contains(&s.len())),
            "{short:?}"
        );
        // The same pattern gives the same strings.
        assert_eq!(
            found,
            samples(r"^[A-Z]{3}-\d{2,4}$", 0, usize::MAX, &any).unwrap()
        );
    }

    #[test]
    fn unanchored_and_alternated_patterns_work() {
        let found = samples(r"^(cat|dog)$|^bird\b", 0, usize::MAX, &any).unwrap();
        assert!(
            found
                .iter()
                .all(|s| ["cat", "dog", "bird"].contains(&s.as_str())),
            "{found:?}"
        );
        let found = samples(r"ab+", 0, usize::MAX, &any).unwrap();
        assert!(found.iter().all(|s| s.starts_with("ab")));
    }

    #[test]
    fn impossible_or_unsupported_patterns_are_errors() {
        let e = samples(r"^(?!x)a$", 0, 10, &any).unwrap_err().to_string();
        assert!(e.contains("look-around"), "{e}");
        let e = samples(r"^a{5}$", 0, 3, &any).unwrap_err().to_string();
        assert_eq!(
            e,
            "no string matching pattern `^a{5}$` with 0 to 3 characters was found"
        );
        let e = samples(r"^[a/]$", 0, 3, &|s: &str| !s.contains('/')).unwrap();
        assert_eq!(e, ["a"]);
    }
}
