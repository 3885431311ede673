//! Which operations become tasks, and how much each weighs: `--include`/`--exclude` (by
//! tag, path pattern or method), `--include-deprecated`, `--weights get=10,post=2,...`.

use std::collections::BTreeMap;

use crate::document::{Operation, METHODS};

/// Task weight by method. Reads weigh more than writes, as in most services' traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weights(BTreeMap<String, u32>);

impl Default for Weights {
    fn default() -> Self {
        let mut w = BTreeMap::new();
        for (m, n) in [
            ("get", 10),
            ("post", 2),
            ("put", 1),
            ("patch", 1),
            ("delete", 1),
            ("head", 1),
            ("options", 1),
        ] {
            w.insert(m.to_string(), n);
        }
        Weights(w)
    }
}

impl Weights {
    /// `get=10,post=2`: the methods given change, the others keep their default.
    pub fn parse(text: &str) -> Result<Weights, WeightsError> {
        let mut weights = Weights::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((method, n)) = part.split_once('=') else {
                return Err(WeightsError::NotMethodEquals { part: part.into() });
            };
            let method = method.trim().to_ascii_lowercase();
            if !METHODS.contains(&method.as_str()) {
                return Err(WeightsError::UnknownMethod { method });
            }
            let n: u32 = n
                .trim()
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| WeightsError::BadWeight { part: part.into() })?;
            weights.0.insert(method, n);
        }
        Ok(weights)
    }

    pub fn of(&self, method: &str) -> u32 {
        self.0.get(method).copied().unwrap_or(1)
    }
}

/// Why a `--weights` value does not parse; `part` is one comma-separated item, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    #[error("--weights: `{part}` is not METHOD=N; write e.g. `get=10,post=2`")]
    NotMethodEquals { part: String },
    /// `method` is lowercased.
    #[error("--weights: `{method}` is not a method; use {}", METHODS.join(", "))]
    UnknownMethod { method: String },
    #[error("--weights: `{part}` needs a whole number of at least 1")]
    BadWeight { part: String },
}

/// For callers that report errors as text (the CLI's `init`).
/// One `--include`/`--exclude` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `GET`, `post`: a method name.
    Method(String),
    /// `/items*`: starts with `/`; `*` matches any characters, `/` included.
    Path(String),
    /// Anything else: a tag, compared without regard to case.
    Tag(String),
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let t = text.trim();
        if t.starts_with('/') {
            Filter::Path(t.to_string())
        } else if METHODS.contains(&t.to_ascii_lowercase().as_str()) && t == t.to_ascii_uppercase()
        {
            Filter::Method(t.to_ascii_lowercase())
        } else {
            Filter::Tag(t.to_string())
        }
    }

    pub fn matches(&self, op: &Operation<'_>) -> bool {
        match self {
            Filter::Method(m) => op.method == m,
            Filter::Path(p) => glob(p, &op.path),
            Filter::Tag(t) => op.tags().iter().any(|tag| tag.eq_ignore_ascii_case(t)),
        }
    }
}

/// The operations the user asked for.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub include: Vec<Filter>,
    pub exclude: Vec<Filter>,
    pub include_deprecated: bool,
}

impl Selection {
    /// Whether `op` is wanted, or why not.
    pub fn wants(&self, op: &Operation<'_>) -> Result<(), &'static str> {
        if op.deprecated() && !self.include_deprecated {
            return Err("deprecated (--include-deprecated adds it)");
        }
        if !self.include.is_empty() && !self.include.iter().any(|f| f.matches(op)) {
            return Err("not matched by --include");
        }
        if self.exclude.iter().any(|f| f.matches(op)) {
            return Err("matched by --exclude");
        }
        Ok(())
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse_and_reject_mistakes() {
        let w = Weights::parse("get=5, DELETE=3").unwrap();
        assert_eq!((w.of("get"), w.of("post"), w.of("delete")), (5, 2, 3));
        let err = |text| Weights::parse(text).unwrap_err().to_string();
        assert_eq!(
            err("get"),
            "--weights: `get` is not METHOD=N; write e.g. `get=10,post=2`"
        );
        assert!(err("fetch=1").contains("not a method"));
        assert_eq!(
            err("get=0"),
            "--weights: `get=0` needs a whole number of at least 1"
        );
    }

    #[test]
    fn filters_tell_methods_paths_and_tags_apart() {
        assert_eq!(Filter::parse("GET"), Filter::Method("get".into()));
        assert_eq!(Filter::parse("/items*"), Filter::Path("/items*".into()));
        assert_eq!(Filter::parse("get"), Filter::Tag("get".into()));
        assert!(glob("/items*", "/items/{item_id}"));
        assert!(glob("/*/admin", "/v1/admin"));
        assert!(!glob("/items", "/items/"));
        assert!(!glob("/a*b*c", "/abx"));
    }
}
