//! Optional parameters: which are sent, and with what, so most requests are valid and
//! list reads answer rows.
//!
//! Paging parameters stay on the first page (an offset at its default or minimum, a page
//! size at its default): `skip: int(1, 1000)` made most list reads of a small table
//! answer nothing. Other optional parameters send their documented default, or nothing;
//! a rare second task sends them all generated (see [`Builder::tasks`]), since a
//! validator the document cannot show (FastAPI's `AfterValidator`) may reject values the
//! schema allows.

use serde_json::Value;

use super::{is_reserved_header, Builder};
use crate::document::Document;

/// Optional parameters whose meaning is the position in a list: they stay at their
/// default (or minimum), the first page, where lists have rows. `skip: int(1, 1000)` made
/// most list reads of a small table answer nothing.
const OFFSETS: [&str; 6] = ["skip", "offset", "start", "page", "cursor", "after"];
/// Optional parameters that size a page: they keep their default.
const PAGE_SIZES: [&str; 8] = [
    "limit",
    "size",
    "page_size",
    "pagesize",
    "per_page",
    "perpage",
    "count",
    "max_results",
];

impl Builder<'_, '_> {
    /// Whether `ops[index]` has an optional query, header or cookie parameter other than
    /// paging.
    pub(super) fn has_optional(&self, index: usize) -> bool {
        self.ops[index].parameters.iter().any(|(p, _)| {
            let place = p.get("in").and_then(Value::as_str);
            let name = p.get("name").and_then(Value::as_str).unwrap_or("");
            p.get("required").and_then(Value::as_bool) != Some(true)
                && matches!(place, Some("query" | "header" | "cookie"))
                && !(place == Some("header") && is_reserved_header(name))
                && paging(name).is_none()
        })
    }

    /// The fixed value of an optional parameter, and its note: a paging parameter's
    /// default (else its minimum for an offset), or, unless `optional` asks for generated
    /// values, its documented default. `None`: leave it out (or, with `optional`,
    /// generate it).
    pub(super) fn optional_value(
        &self,
        name: &str,
        schema: &Value,
        at: &str,
        optional: bool,
    ) -> Option<(Value, String)> {
        let resolved = self.doc.resolve(schema, at).unwrap_or(schema);
        let default = resolved
            .get("default")
            .filter(|d| !d.is_null())
            .filter(|d| crate::conformance::is_valid(self.doc, schema, at, d))
            .cloned();
        match paging(name) {
            Some(Paging::Offset) => {
                let first = default.or_else(|| {
                    numeric_bound(self.doc, resolved, at, "minimum").map(Value::from)
                })?;
                Some((
                    first,
                    "paging: the first page, where lists have rows".into(),
                ))
            }
            Some(Paging::Size) => default.map(|d| (d, "page size: the documented default".into())),
            None if optional => None,
            None => default.map(|d| {
                (
                    d,
                    "documented default, optional (the task below varies it)".into(),
                )
            }),
        }
    }
}

/// What a paging parameter does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Paging {
    Offset,
    Size,
}

pub(super) fn paging(name: &str) -> Option<Paging> {
    let n = name.to_ascii_lowercase();
    if OFFSETS.contains(&n.as_str()) {
        Some(Paging::Offset)
    } else if PAGE_SIZES.contains(&n.as_str()) {
        Some(Paging::Size)
    } else {
        None
    }
}

/// An integer bound of a schema or of its non-null `anyOf` branch (`Optional[int]`).
fn numeric_bound(doc: &Document, schema: &Value, at: &str, key: &str) -> Option<i64> {
    if let Some(n) = schema.get(key).and_then(Value::as_i64) {
        return Some(n);
    }
    schema
        .get("anyOf")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(|b| doc.resolve(b, at).ok())
        .find_map(|b| b.get(key).and_then(Value::as_i64))
}
