//! The JSON Schema of the scenario file, and the YAML-to-JSON view it validates.
//!
//! The schema is hand-written JSON (`schema/scenario.schema.json`) so that its
//! descriptions read as documentation in editors; the tests keep it honest against the
//! decoder (same keys, same verdict on the fixtures). It describes the file as written,
//! so it is stricter than nothing and looser than the decoder in places JSON Schema cannot
//! say (think ranges whose minimum is above the maximum, for example).

use serde_json::{Map, Number, Value};

use crate::diagnostic::Diagnostic;
use crate::node::{self, Kind, Node, ScalarValue};
use crate::SourceFile;

const SCHEMA: &str = include_str!("../schema/scenario.schema.json");

/// The Draft 2020-12 JSON Schema of the scenario file format.
pub fn json_schema() -> Value {
    // The file is part of the crate and checked by its tests, so it always parses.
    serde_json::from_str(SCHEMA).expect("schema/scenario.schema.json is valid JSON")
}

/// The scenario file as JSON (for validating it against [`json_schema`], or for tools that
/// read JSON). `null` for a file without a document. Errors when the YAML does not parse
/// or has duplicate keys. Mapping keys become their text; `.inf` and `.nan` become `null`.
pub fn to_json(file: &SourceFile) -> Result<Value, Vec<Diagnostic>> {
    let loaded = node::load(&file.text);
    if loaded.diagnostics.iter().any(Diagnostic::is_error) {
        return Err(loaded.diagnostics);
    }
    Ok(loaded.root.as_ref().map_or(Value::Null, node_to_json))
}

fn node_to_json(node: &Node) -> Value {
    match &node.kind {
        Kind::Scalar(s) => match s.value {
            ScalarValue::Null => Value::Null,
            ScalarValue::Bool(b) => Value::Bool(b),
            ScalarValue::Int(n) => Value::Number(n.into()),
            ScalarValue::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            ScalarValue::Str => Value::String(s.text.clone()),
        },
        Kind::Seq(items) => Value::Array(items.iter().map(node_to_json).collect()),
        Kind::Map(entries) => {
            let mut map = Map::new();
            for (k, v) in entries {
                let key = match &k.kind {
                    Kind::Scalar(s) => s.text.clone(),
                    // JSON keys are strings; a complex key has no faithful JSON form.
                    _ => serde_json::to_string(&node_to_json(k)).unwrap_or_default(),
                };
                map.insert(key, node_to_json(v));
            }
            Value::Object(map)
        }
    }
}
