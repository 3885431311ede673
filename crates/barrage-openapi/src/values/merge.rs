//! `allOf`: one schema that asks for everything its parts ask for.
//!
//! Generation needs a single schema to draw from, so the parts are folded into one:
//! properties and `required` are united, bounds take the stricter side, `enum`s and types
//! intersect. Pydantic writes `allOf` mostly around a single `$ref` (a field with a
//! default or a description), where this is exact; for hand-written compositions it covers
//! the keywords that matter for generating a value (a value that still misses shows up as
//! a 422 in the run's report, never as a silent pass).

use serde_json::{Map, Value};

use crate::document::Document;
use crate::error::GenError;

/// `schema` with its `allOf` folded in (recursively; refs of the parts resolved).
pub fn fold_all_of(doc: &Document, schema: &Value, at: &str) -> Result<Value, GenError> {
    let Some(parts) = schema.get("allOf").and_then(Value::as_array) else {
        return Ok(schema.clone());
    };
    let mut merged = schema.clone();
    if let Some(object) = merged.as_object_mut() {
        object.remove("allOf");
    }
    for (i, part) in parts.iter().enumerate() {
        let part_at = format!("{at}/allOf/{i}");
        let part = doc.resolve(part, &part_at)?;
        let part = fold_all_of(doc, part, &part_at)?;
        merged = merge(&merged, &part, &part_at)?;
    }
    Ok(merged)
}

fn merge(a: &Value, b: &Value, at: &str) -> Result<Value, GenError> {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return match (a, b) {
            (Value::Bool(false), _) | (_, Value::Bool(false)) => {
                Err(GenError::unsatisfiable(at, "`allOf` includes `false`"))
            }
            (Value::Object(_), _) => Ok(a.clone()),
            _ => Ok(b.clone()),
        };
    };
    let mut out = a.clone();
    for (key, bv) in b {
        let Some(av) = out.get(key).cloned() else {
            out.insert(key.clone(), bv.clone());
            continue;
        };
        let value = match key.as_str() {
            "properties" => merge_properties(&av, bv),
            "required" => union(&av, bv),
            "minimum" | "minLength" | "minItems" | "minProperties" => pick(&av, bv, f64::max),
            "maximum" | "maxLength" | "maxItems" | "maxProperties" => pick(&av, bv, f64::min),
            "exclusiveMinimum" if av.is_number() && bv.is_number() => pick(&av, bv, f64::max),
            "exclusiveMaximum" if av.is_number() && bv.is_number() => pick(&av, bv, f64::min),
            "enum" => {
                let both: Vec<Value> = as_list(&av)
                    .into_iter()
                    .filter(|v| as_list(bv).contains(v))
                    .collect();
                if both.is_empty() {
                    return Err(GenError::unsatisfiable(
                        at,
                        "the `enum`s of `allOf` share no value",
                    ));
                }
                Value::Array(both)
            }
            "type" => {
                let both: Vec<Value> = types(&av)
                    .into_iter()
                    .filter(|t| types(bv).contains(t))
                    .collect();
                match both.as_slice() {
                    [] => {
                        return Err(GenError::unsatisfiable(
                            at,
                            format!("`allOf` asks for types {av} and {bv} at once"),
                        ))
                    }
                    [one] => one.clone(),
                    _ => Value::Array(both),
                }
            }
            "const" if av != *bv => {
                return Err(GenError::unsatisfiable(
                    at,
                    format!("`allOf` asks for const {av} and {bv}"),
                ))
            }
            "nullable" => Value::Bool(av.as_bool() == Some(true) && bv.as_bool() == Some(true)),
            "additionalProperties" if *bv == Value::Bool(false) => bv.clone(),
            "items" => {
                let mut both = Map::new();
                both.insert("allOf".into(), Value::Array(vec![av.clone(), bv.clone()]));
                Value::Object(both)
            }
            _ => av,
        };
        out.insert(key.clone(), value);
    }
    Ok(Value::Object(out))
}

fn merge_properties(a: &Value, b: &Value) -> Value {
    let mut out = a.as_object().cloned().unwrap_or_default();
    for (name, schema) in b.as_object().into_iter().flatten() {
        let value = match out.remove(name) {
            Some(existing) => {
                let mut both = Map::new();
                both.insert("allOf".into(), Value::Array(vec![existing, schema.clone()]));
                Value::Object(both)
            }
            None => schema.clone(),
        };
        out.insert(name.clone(), value);
    }
    Value::Object(out)
}

fn union(a: &Value, b: &Value) -> Value {
    let mut out = as_list(a);
    for v in as_list(b) {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Value::Array(out)
}

fn pick(a: &Value, b: &Value, f: fn(f64, f64) -> f64) -> Value {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => {
            if f(x, y) == x {
                a.clone()
            } else {
                b.clone()
            }
        }
        (Some(_), None) => a.clone(),
        _ => b.clone(),
    }
}

fn as_list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

fn types(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Version;
    use serde_json::json;

    fn doc() -> Document {
        Document {
            root: json!({"components": {"schemas": {"Base": {
                "type": "object", "required": ["id"],
                "properties": {"id": {"type": "integer", "minimum": 1}}
            }}}}),
            version: Version::V31,
            version_text: "3.1.0".into(),
            source: "t".into(),
            fetched_from: None,
        }
    }

    #[test]
    fn parts_fold_into_one_schema() {
        let schema = json!({"allOf": [
            {"$ref": "#/components/schemas/Base"},
            {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "id": {"maximum": 9}
            }}
        ]});
        let merged = fold_all_of(&doc(), &schema, "/s").unwrap();
        assert_eq!(merged["type"], "object");
        assert_eq!(merged["required"], json!(["id", "name"]));
        assert_eq!(
            merged["properties"]["id"],
            json!({"allOf": [{"type": "integer", "minimum": 1}, {"maximum": 9}]})
        );
    }

    #[test]
    fn contradictions_are_unsatisfiable() {
        let schema = json!({"allOf": [{"type": "string"}, {"type": "integer"}]});
        assert!(matches!(
            fold_all_of(&doc(), &schema, "/s"),
            Err(GenError::Unsatisfiable { .. })
        ));
        let schema = json!({"allOf": [{"minimum": 1, "maximum": 5}, {"minimum": 3}]});
        let merged = fold_all_of(&doc(), &schema, "/s").unwrap();
        assert_eq!(
            (merged["minimum"].clone(), merged["maximum"].clone()),
            (json!(3), json!(5))
        );
    }
}
