//! Which operations become tasks, and how much each weighs: `--include`/`--exclude` (by
//! tag, operationId, path pattern, method, or `METHOD /path`), `--include-deprecated`,
//! `--weights get=10,post=2,...`.

use std::collections::BTreeMap;

use crate::document::{Operation, METHODS};
use crate::error::UnmatchedFilter;

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

/// One `--include`/`--exclude` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `GET`, `post`: a method name.
    Method(String),
    /// `/items*`: starts with `/`; `*` matches any characters, `/` included.
    Path(String),
    /// `PATCH /users/me`, `delete /items/*`: one method on the paths the pattern matches.
    Operation { method: String, path: String },
    /// Anything else: a tag or an operationId, compared without regard to case; `*`
    /// matches any characters.
    Name(String),
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let t = text.trim();
        if let Some((method, path)) = t.split_once(char::is_whitespace) {
            let (method, path) = (method.to_ascii_lowercase(), path.trim());
            if METHODS.contains(&method.as_str()) && path.starts_with('/') {
                return Filter::Operation {
                    method,
                    path: path.to_string(),
                };
            }
        }
        if t.starts_with('/') {
            Filter::Path(t.to_string())
        } else if METHODS.contains(&t.to_ascii_lowercase().as_str()) && t == t.to_ascii_uppercase()
        {
            Filter::Method(t.to_ascii_lowercase())
        } else {
            Filter::Name(t.to_string())
        }
    }

    pub fn matches(&self, op: &Operation<'_>) -> bool {
        match self {
            Filter::Method(m) => op.method == m,
            Filter::Path(p) => glob(p, &op.path),
            Filter::Operation { method, path } => op.method == method && glob(path, &op.path),
            Filter::Name(n) => {
                let n = n.to_ascii_lowercase();
                let named = |s: &str| glob(&n, &s.to_ascii_lowercase());
                op.tags().into_iter().any(named) || op.operation_id().is_some_and(named)
            }
        }
    }

    /// The filter as the user wrote it (methods in capitals).
    fn text(&self) -> String {
        match self {
            Filter::Method(m) => m.to_ascii_uppercase(),
            Filter::Path(p) | Filter::Name(p) => p.clone(),
            Filter::Operation { method, path } => format!("{} {path}", method.to_ascii_uppercase()),
        }
    }

    /// The names of the document this filter could have meant, nearest first: for a
    /// path, paths; for `METHOD /path`, operations; for a name, tags, operationIds, paths
    /// and operations (a path is scored without its slashes, so `items` finds `/items/`).
    fn nearest(&self, ops: &[Operation<'_>]) -> Vec<String> {
        let mut candidates: Vec<String> = Vec::new();
        // Paths and operations a name may have meant, after the tags: `/items/` is not
        // offered beside the tag `items`.
        let mut routes: Vec<String> = Vec::new();
        for op in ops {
            match self {
                Filter::Path(_) => candidates.push(op.path.clone()),
                Filter::Operation { .. } => {
                    candidates.push(format!("{} {}", op.method.to_ascii_uppercase(), op.path))
                }
                Filter::Name(_) | Filter::Method(_) => {
                    candidates.extend(op.tags().into_iter().map(str::to_string));
                    candidates.extend(op.operation_id().map(str::to_string));
                    routes.push(op.path.clone());
                    routes.push(format!("{} {}", op.method.to_ascii_uppercase(), op.path));
                }
            }
        }
        for r in routes {
            if !candidates
                .iter()
                .any(|c| c.eq_ignore_ascii_case(r.trim_matches('/')))
            {
                candidates.push(r);
            }
        }
        candidates.sort();
        candidates.dedup();
        let wanted = self.text().to_ascii_lowercase();
        let mut scored: Vec<(f64, String)> = candidates
            .into_iter()
            .map(|c| {
                let bare = c.trim_matches('/').to_ascii_lowercase();
                (strsim::jaro_winkler(&wanted, &bare), c)
            })
            .filter(|(score, _)| *score >= SIMILAR)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        scored
            .into_iter()
            .take(SUGGESTIONS)
            .map(|(_, c)| c)
            .collect()
    }
}

/// How alike (Jaro-Winkler) a name must be to be suggested: `itemz` and `items` score
/// 0.92, unrelated tags of similar length about 0.5.
const SIMILAR: f64 = 0.7;
/// Most names suggested for one filter.
const SUGGESTIONS: usize = 3;

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

    /// Every filter must match some operation of the document: a filter that matches
    /// nothing is a typo, and an `--exclude` typo would otherwise leave in exactly what
    /// the user meant to keep out.
    pub fn check(&self, ops: &[Operation<'_>]) -> Result<(), UnmatchedFilter> {
        let flags = [("--include", &self.include), ("--exclude", &self.exclude)];
        for (flag, filters) in flags {
            for f in filters.iter() {
                if !ops.iter().any(|op| f.matches(op)) {
                    return Err(UnmatchedFilter {
                        flag,
                        filter: f.text(),
                        nearest: f.nearest(ops),
                    });
                }
            }
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
    fn a_name_filter_suggests_paths_and_operations_too() {
        let doc = crate::document::Document {
            root: serde_json::json!({"openapi": "3.1.0", "paths": {
                "/invoices/": {"get": {"responses": {"200": {"description": "ok"}}}},
                "/users/": {"get": {"tags": ["users"], "responses": {"200": {"description": "ok"}}}}
            }}),
            version: crate::document::Version::V31,
            version_text: "3.1.0".into(),
            source: "t".into(),
            fetched_from: None,
        };
        let (ops, _) = doc.operations();
        let nearest = Filter::parse("invoice").nearest(&ops);
        assert_eq!(
            nearest.first().map(String::as_str),
            Some("/invoices/"),
            "{nearest:?}"
        );
        let nearest = Filter::parse("user").nearest(&ops);
        assert_eq!(
            nearest.first().map(String::as_str),
            Some("users"),
            "{nearest:?}"
        );
        assert!(!nearest.contains(&"/users/".to_string()), "{nearest:?}");
    }

    #[test]
    fn filters_tell_methods_paths_and_tags_apart() {
        assert_eq!(Filter::parse("GET"), Filter::Method("get".into()));
        assert_eq!(Filter::parse("/items*"), Filter::Path("/items*".into()));
        assert_eq!(Filter::parse("get"), Filter::Name("get".into()));
        assert_eq!(
            Filter::parse("patch  /users/me"),
            Filter::Operation {
                method: "patch".into(),
                path: "/users/me".into()
            }
        );
        assert_eq!(Filter::parse("read_item"), Filter::Name("read_item".into()));
        assert!(glob("/items*", "/items/{item_id}"));
        assert!(glob("/*/admin", "/v1/admin"));
        assert!(!glob("/items", "/items/"));
        assert!(!glob("/a*b*c", "/abx"));
    }
}
