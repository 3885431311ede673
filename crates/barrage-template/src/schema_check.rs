//! `check: schema:` items: the JSON body of a response must validate against a JSON
//! Schema, chosen by the response's status.
//!
//! Validation is done by the `jsonschema` crate, compiled once per entry when the check is
//! compiled (Draft 2020-12 unless the schema names another with `$schema`; external
//! references are refused, since this crate does no I/O). On the hot path a passing body
//! costs one `is_valid` walk; the description of a failure (where, what, and the start of
//! the offending body) is only built when the engine asks for it.
//!
//! Entries are keyed like OpenAPI's `responses`: the most specific one applies (a code,
//! then its class, then `default`), so each item knows which statuses other entries take
//! from it. A response no entry applies to is not checked and not counted.

use std::sync::Arc;

use barrage_scenario::{SchemaCheck, SchemaStatus, StatusMatch, Value as YamlValue};
use serde_json::Value;

use crate::check::CheckError;

/// A compiled schema entry.
#[derive(Clone)]
pub(crate) struct SchemaRule {
    key: SchemaStatus,
    /// Statuses a more specific entry of the same check takes.
    shadowed: Vec<StatusMatch>,
    validator: Arc<jsonschema::Validator>,
}

impl std::fmt::Debug for SchemaRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaRule")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// The item name reports show: `body matches schema for 200`.
pub(crate) fn name(key: SchemaStatus) -> String {
    match key {
        SchemaStatus::Status(StatusMatch::Code(c)) => format!("body matches schema for {c}"),
        SchemaStatus::Status(StatusMatch::Class(c)) => format!("body matches schema for {c}xx"),
        SchemaStatus::Default => "body matches schema for other statuses".to_string(),
    }
}

/// Compiles every entry of `schema:`.
pub(crate) fn compile(entries: &[SchemaCheck]) -> Result<Vec<(String, SchemaRule)>, CheckError> {
    let keys: Vec<SchemaStatus> = entries.iter().map(|e| e.status.value).collect();
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let schema = to_json(&entry.schema.value);
        let mut options = jsonschema::options();
        if schema.get("$schema").is_none() {
            options = options.with_draft(jsonschema::Draft::Draft202012);
        }
        let validator = options.build(&schema).map_err(|e| {
            (
                entry.schema.span,
                format!("not a usable JSON Schema: {e}"),
                Some(
                    "write a JSON Schema (Draft 2020-12 unless `$schema` says otherwise); \
                     `$ref`s must point inside it (`#/$defs/...`)"
                        .to_string(),
                ),
            )
        })?;
        let key = entry.status.value;
        let shadowed = match key {
            SchemaStatus::Status(StatusMatch::Code(_)) => Vec::new(),
            SchemaStatus::Status(StatusMatch::Class(_)) => keys
                .iter()
                .filter_map(|k| match k {
                    SchemaStatus::Status(m @ StatusMatch::Code(_)) => Some(*m),
                    _ => None,
                })
                .collect(),
            SchemaStatus::Default => keys
                .iter()
                .filter_map(|k| match k {
                    SchemaStatus::Status(m) => Some(*m),
                    SchemaStatus::Default => None,
                })
                .collect(),
        };
        out.push((
            name(key),
            SchemaRule {
                key,
                shadowed,
                validator: Arc::new(validator),
            },
        ));
    }
    Ok(out)
}

impl SchemaRule {
    /// Whether this entry is the one that applies to `status`.
    pub(crate) fn applies(&self, status: u16) -> bool {
        let own = match self.key {
            SchemaStatus::Status(m) => m.matches(status),
            SchemaStatus::Default => true,
        };
        own && !self.shadowed.iter().any(|m| m.matches(status))
    }

    /// Whether `json` is valid against the schema.
    pub(crate) fn is_valid(&self, json: &Value) -> bool {
        self.validator.is_valid(json)
    }

    /// Where and how `json` fails (the first error, and how many there are).
    pub(crate) fn describe(&self, json: &Value) -> String {
        let errors: Vec<String> = self
            .validator
            .iter_errors(json)
            .take(10)
            .map(|e| {
                let at = e.instance_path().to_string();
                let at = if at.is_empty() { "/".to_string() } else { at };
                format!("at {at}: {e}")
            })
            .collect();
        match errors.as_slice() {
            [] => "valid".to_string(),
            [one] => one.clone(),
            [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
        }
    }
}

fn to_json(v: &YamlValue) -> Value {
    match v {
        YamlValue::Null => Value::Null,
        YamlValue::Bool(b) => Value::Bool(*b),
        YamlValue::Int(n) => Value::from(*n),
        YamlValue::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        YamlValue::String(s) => Value::String(s.clone()),
        YamlValue::Seq(items) => Value::Array(items.iter().map(|i| to_json(&i.value)).collect()),
        YamlValue::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.value.clone(), to_json(&v.value)))
                .collect(),
        ),
    }
}
