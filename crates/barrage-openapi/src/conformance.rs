//! Self-contained JSON Schemas (Draft 2020-12) from the document's schemas: for the
//! `check: schema:` of `--check-responses`, and to test the document's examples before
//! preferring them.
//!
//! A response schema in the document leans on the rest of it (`$ref:
//! '#/components/schemas/Item'`), and in 3.0 it speaks a draft-4 dialect of its own
//! (`nullable`, boolean `exclusiveMinimum`). The scenario must carry a schema that stands
//! alone and means the same thing to a standard validator, so each one is *bundled*: every
//! schema it reaches by a local `$ref` is copied under `$defs` (once, so recursive models
//! stay recursive) and the reference rewritten to point there; 3.0 keywords are rewritten to
//! their 2020-12 equivalents on the way. The result is plain JSON Schema, readable in the
//! scenario file and usable by any validator.

use std::collections::BTreeMap;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};

use crate::document::{escape_pointer, Document, Version};
use crate::error::RefError;

/// Characters kept as they are in a `$ref` fragment; the rest are percent-encoded.
const FRAGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Keywords whose value is a schema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "additionalProperties",
    "items",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
];
/// Keywords whose value is a list of schemas.
const SCHEMA_LISTS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value maps names to schemas.
const SCHEMA_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];

/// Keywords that only annotate (left out of the schemas written into scenarios, where
/// they would only make the file longer).
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "examples",
    "example",
    "default",
    "$comment",
    "deprecated",
    "xml",
    "externalDocs",
];

/// `schema` (found at `at`) as a standalone Draft 2020-12 schema.
pub fn bundle(doc: &Document, schema: &Value, at: &str) -> Result<Value, RefError> {
    bundle_with(doc, schema, at, false)
}

/// [`bundle`] without annotation keywords (`title`, `description`, `default`, ...), for
/// writing into a scenario.
pub fn bundle_lean(doc: &Document, schema: &Value, at: &str) -> Result<Value, RefError> {
    bundle_with(doc, schema, at, true)
}

fn bundle_with(doc: &Document, schema: &Value, at: &str, lean: bool) -> Result<Value, RefError> {
    let mut b = Bundler {
        lean,
        doc,
        names: BTreeMap::new(),
        defs: Map::new(),
        queue: Vec::new(),
    };
    let mut root = b.convert(schema, at)?;
    while let Some((reference, name)) = b.queue.pop() {
        let target = doc.lookup(&reference, at)?;
        let converted = b.convert(target, &reference)?;
        b.defs.insert(name, converted);
    }
    if !b.defs.is_empty() {
        match &mut root {
            Value::Object(o) => {
                o.insert("$defs".into(), Value::Object(b.defs));
            }
            other => {
                // A boolean schema has no place for `$defs`, and needs none: it refers to
                // nothing. Kept for completeness.
                *other = serde_json::json!({"allOf": [other.clone()], "$defs": b.defs});
            }
        }
    }
    Ok(root)
}

/// Whether `value` is valid against `schema` (found at `at`); `false` when the schema
/// cannot be bundled or compiled, so a doubtful example is simply not used.
pub fn is_valid(doc: &Document, schema: &Value, at: &str, value: &Value) -> bool {
    let Ok(bundled) = bundle(doc, schema, at) else {
        return false;
    };
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&bundled)
        .is_ok_and(|v| v.is_valid(value))
}

struct Bundler<'d> {
    /// Leave annotation keywords out.
    lean: bool,
    doc: &'d Document,
    /// Reference -> name under `$defs`.
    names: BTreeMap<String, String>,
    defs: Map<String, Value>,
    queue: Vec<(String, String)>,
}

impl Bundler<'_> {
    fn convert(&mut self, schema: &Value, at: &str) -> Result<Value, RefError> {
        let Value::Object(object) = schema else {
            return Ok(schema.clone());
        };
        let v30 = self.doc.version == Version::V30;
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            let name = self.def_name(reference, at)?;
            let target = Value::String(format!(
                "#/$defs/{}",
                utf8_percent_encode(&escape_pointer(&name), FRAGMENT)
            ));
            if v30 {
                // 3.0: everything beside `$ref` is ignored.
                let mut only = Map::new();
                only.insert("$ref".into(), target);
                return Ok(Value::Object(only));
            }
            let mut out = self.convert_keywords(object, at)?;
            out.insert("$ref".into(), target);
            return Ok(Value::Object(out));
        }
        let mut out = self.convert_keywords(object, at)?;
        if v30 {
            from_30(&mut out);
        }
        Ok(Value::Object(out))
    }

    fn convert_keywords(
        &mut self,
        object: &Map<String, Value>,
        at: &str,
    ) -> Result<Map<String, Value>, RefError> {
        let mut out = Map::new();
        for (key, value) in object {
            let k = key.as_str();
            if self.lean && (ANNOTATIONS.contains(&k) || k.starts_with("x-")) {
                continue;
            }
            let converted = if SCHEMA_KEYWORDS.contains(&k) {
                match value {
                    // Draft 4 tuples: `items: [a, b]`.
                    Value::Array(items) => Value::Array(
                        items
                            .iter()
                            .map(|i| self.convert(i, at))
                            .collect::<Result<_, _>>()?,
                    ),
                    other => self.convert(other, at)?,
                }
            } else if SCHEMA_LISTS.contains(&k) {
                match value {
                    Value::Array(items) => Value::Array(
                        items
                            .iter()
                            .map(|i| self.convert(i, at))
                            .collect::<Result<_, _>>()?,
                    ),
                    other => other.clone(),
                }
            } else if SCHEMA_MAPS.contains(&k) {
                match value {
                    Value::Object(entries) => {
                        let mut m = Map::new();
                        for (name, s) in entries {
                            m.insert(name.clone(), self.convert(s, at)?);
                        }
                        Value::Object(m)
                    }
                    other => other.clone(),
                }
            } else if k == "$ref" {
                continue;
            } else {
                value.clone()
            };
            out.insert(key.clone(), converted);
        }
        Ok(out)
    }

    /// The `$defs` name for a reference, queueing its target the first time.
    fn def_name(&mut self, reference: &str, at: &str) -> Result<String, RefError> {
        if let Some(name) = self.names.get(reference) {
            return Ok(name.clone());
        }
        // Fails early, with the place of the reference, when it leads nowhere.
        self.doc.lookup(reference, at)?;
        let base = reference.rsplit('/').next().unwrap_or("schema");
        let base = percent_encoding::percent_decode_str(base)
            .decode_utf8_lossy()
            .replace("~1", "/")
            .replace("~0", "~");
        let base = if base.is_empty() {
            "schema".to_string()
        } else {
            base
        };
        let mut name = base.clone();
        let mut n = 2;
        while self.names.values().any(|v| *v == name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.names.insert(reference.to_string(), name.clone());
        self.queue.push((reference.to_string(), name.clone()));
        Ok(name)
    }
}

/// 3.0 keywords in 2020-12 terms: `nullable`, boolean exclusive bounds.
fn from_30(out: &mut Map<String, Value>) {
    for (exclusive, inclusive) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        match out.get(exclusive) {
            Some(Value::Bool(true)) => {
                match out.remove(inclusive) {
                    Some(bound) => out.insert(exclusive.into(), bound),
                    None => out.remove(exclusive),
                };
            }
            Some(Value::Bool(false)) => {
                out.remove(exclusive);
            }
            _ => {}
        }
    }
    if out.remove("nullable") != Some(Value::Bool(true)) {
        return;
    }
    if let Some(Value::Array(values)) = out.get_mut("enum") {
        if !values.contains(&Value::Null) {
            values.push(Value::Null);
        }
    }
    match out.get("type").cloned() {
        Some(Value::String(t)) => {
            out.insert("type".into(), serde_json::json!([t, "null"]));
        }
        Some(_) => {}
        None if out.contains_key("enum") => {}
        None => {
            let rest = std::mem::take(out);
            out.insert(
                "anyOf".into(),
                serde_json::json!([Value::Object(rest), {"type": "null"}]),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(version: Version, root: Value) -> Document {
        Document {
            root,
            version,
            version_text: String::new(),
            source: "t".into(),
            fetched_from: None,
        }
    }

    #[test]
    fn references_move_under_defs_and_recursion_stays() {
        let d = doc(
            Version::V31,
            json!({"components": {"schemas": {
                "Node": {"type": "object", "properties": {
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                    "tag": {"$ref": "#/components/schemas/Tag"}
                }},
                "Tag": {"type": "string", "enum": ["a", "b"]}
            }}}),
        );
        let b = bundle(&d, &json!({"$ref": "#/components/schemas/Node"}), "/x").unwrap();
        assert_eq!(b["$ref"], "#/$defs/Node");
        assert_eq!(
            b["$defs"]["Node"]["properties"]["children"]["items"]["$ref"],
            "#/$defs/Node"
        );
        assert_eq!(b["$defs"]["Tag"]["enum"], json!(["a", "b"]));
        let v = jsonschema::validator_for(&b).unwrap();
        assert!(v.is_valid(&json!({"children": [{"tag": "a", "children": []}]})));
        assert!(!v.is_valid(&json!({"children": [{"tag": "c"}]})));
    }

    #[test]
    fn openapi_30_keywords_become_2020_12() {
        let d = doc(Version::V30, json!({}));
        let b = bundle(
            &d,
            &json!({"type": "object", "properties": {
                "n": {"type": "integer", "minimum": 0, "exclusiveMinimum": true, "nullable": true},
                "s": {"type": "string", "enum": ["x"], "nullable": true}
            }}),
            "/x",
        )
        .unwrap();
        assert_eq!(
            b["properties"]["n"],
            json!({"type": ["integer", "null"], "exclusiveMinimum": 0})
        );
        assert_eq!(b["properties"]["s"]["enum"], json!(["x", null]));
        let bad = bundle(
            &d,
            &json!({"$ref": "#/components/schemas/Missing"}),
            "/here",
        )
        .unwrap_err();
        assert_eq!(bad.at, "/here");
    }
}
