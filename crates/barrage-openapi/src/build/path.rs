//! Path parameters: where each value of an operation's path comes from, and the steps
//! that must run first to get it.
//!
//! A value comes from a supplier's response when [`flows`] finds one (a link, a create,
//! a list), chained up to [`MAX_CHAIN`] deep for nested paths, else it is generated. The
//! supplier's step saves the value; a list's save carries a `default:` because a list
//! may be empty, and every step that uses a value that may be a default (or a generated
//! value) accepts 404, with the reason in a comment.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{
    parameter_schema, path_names, path_parameter, var_name, Builder, PathValue, MAX_CHAIN,
};
use crate::draft::{SaveDraft, StepDraft};
use crate::error::GenError;
use crate::flows::{self, Source};
use crate::values::Generator;

/// How the path parameters of one operation get their values.
#[derive(Default)]
pub(crate) struct PathValues {
    /// Steps that run first, each saving a value used below.
    pub before: Vec<StepDraft>,
    pub values: BTreeMap<String, PathValue>,
    /// Parameters nothing supplies: their generated value may name nothing (enum-like
    /// ones are not counted).
    unsupplied: Vec<String>,
    /// Parameters saved from a list (or from a step whose own path took a list's
    /// default): when the list was empty, the save's default is used, which may name
    /// nothing.
    defaulted: Vec<String>,
}

impl PathValues {
    /// Whether every path value came from a create (or a link): nothing listed or
    /// generated, so the resource is this iteration's own.
    pub fn created(&self) -> bool {
        self.unsupplied.is_empty()
            && self.defaulted.is_empty()
            && self.values.values().all(|v| matches!(v, PathValue::Var(_)))
            && !self.values.is_empty()
    }

    /// The 404 the operation must accept, with the reason, when one of its values may
    /// name nothing. A healthy service answers 404 for those; 422 is never accepted.
    pub fn not_found(&self) -> Option<(String, String)> {
        let mut reasons = Vec::new();
        if !self.unsupplied.is_empty() {
            reasons.push(format!(
                "nothing creates or lists {{{}}}: the generated value may name nothing",
                self.unsupplied.join("}, {")
            ));
        }
        if !self.defaulted.is_empty() {
            reasons.push(format!(
                "a list may be empty: then the saved default of {{{}}} may name nothing",
                self.defaulted.join("}, {")
            ));
        }
        (!reasons.is_empty()).then(|| ("404".to_string(), reasons.join("; ")))
    }
}

/// The steps that supply one path parameter, and the variable they save it in.
struct Supplied {
    steps: Vec<StepDraft>,
    var: String,
    /// The value may be the save's default (see [`PathValues::defaulted`]).
    defaulted: bool,
}

impl Builder<'_, '_> {
    /// How each path parameter of `ops[index]` gets its value: from a supplier's
    /// response (its steps run first), else generated.
    pub(super) fn path_values(
        &mut self,
        index: usize,
        depth: usize,
        visiting: &mut Vec<usize>,
    ) -> Result<PathValues, GenError> {
        let op = &self.ops[index];
        let mut found = PathValues::default();
        for name in path_names(&op.path) {
            let parameter = path_parameter(op, &name);
            if depth < MAX_CHAIN {
                if let Some(supplied) = self.supplied(index, &name, depth, visiting) {
                    for step in supplied.steps {
                        if !found.before.iter().any(|b| same_saves(b, &step)) {
                            found.before.push(step);
                        }
                    }
                    if supplied.defaulted {
                        found.defaulted.push(name.clone());
                    }
                    found.values.insert(name, PathValue::Var(supplied.var));
                    continue;
                }
            }
            let (schema, at) = match parameter {
                Some((p, at)) => (parameter_schema(p), format!("{at}/schema")),
                None => (Value::Bool(true), format!("{}/parameters", op.pointer)),
            };
            let g = match parameter.and_then(|(p, at)| self.parameter_example(p, &schema, at)) {
                Some(g) => g,
                None => Generator::for_path(self.doc).generate(&schema, &at)?,
            };
            // An enum names values that exist by definition: no 404 to expect.
            let resolved = self.doc.resolve(&schema, &at).unwrap_or(&schema);
            let enumerated = resolved.get("enum").is_some() || resolved.get("const").is_some();
            if !enumerated {
                found.unsupplied.push(name.clone());
            }
            found.values.insert(name, PathValue::Generated(g.gen));
        }
        Ok(found)
    }

    /// The steps that supply path parameter `name` of `ops[index]` from another
    /// operation's response (see [`flows`]), ending with the one that saves it; `None`
    /// when no operation can, or its own path needs a value nothing supplies.
    fn supplied(
        &mut self,
        index: usize,
        name: &str,
        depth: usize,
        visiting: &mut Vec<usize>,
    ) -> Option<Supplied> {
        let s = flows::supplier(self.doc, self.ops, index, name)?;
        if visiting.contains(&s.op) {
            return None;
        }
        visiting.push(s.op);
        let chained = self.path_values(s.op, depth + 1, visiting);
        visiting.pop();
        let chained = chained.ok()?;
        if !chained.unsupplied.is_empty() {
            return None;
        }
        let mut step = self.request(s.op, &chained.values).ok()?;
        // A list may be empty, and a step whose own path took a default may answer 404
        // with no id in it: either way the save falls back to a value valid for the
        // parameter, and the steps that use it accept 404.
        let defaulted = s.source == Source::List || !chained.defaulted.is_empty();
        let default = if defaulted {
            Some(self.default_value(index, name)?)
        } else {
            None
        };
        let var = var_name(name);
        step.save.push(SaveDraft {
            var: var.clone(),
            json_path: s.json_path,
            default,
        });
        let role = match s.source {
            Source::Link => format!("answers the {{{name}}} used below (an OpenAPI link)"),
            Source::Create => format!("creates the {{{name}}} used below"),
            Source::List => format!("lists the {{{name}}} used below"),
        };
        step.status = vec![("2xx".into(), role)];
        step.status.extend(chained.not_found());
        step.schemas.clear();
        let mut steps = chained.before;
        steps.push(step);
        Some(Supplied {
            steps,
            var,
            defaulted,
        })
    }

    /// A fixed value for path parameter `name` of `ops[index]`, for a save's `default:`:
    /// the parameter's example, else one generated from its schema; `None` when there is
    /// no scalar value to be had.
    fn default_value(&self, index: usize, name: &str) -> Option<(Value, String)> {
        let op = &self.ops[index];
        let (schema, at) = match path_parameter(op, name) {
            Some((p, at)) => (parameter_schema(p), format!("{at}/schema")),
            None => (Value::Bool(true), format!("{}/parameters", op.pointer)),
        };
        let example =
            path_parameter(op, name).and_then(|(p, at)| self.parameter_example(p, &schema, at));
        let g = match example {
            Some(g) => g,
            None => Generator::for_path(self.doc).generate(&schema, &at).ok()?,
        };
        let value = crate::values::fixed(&g.gen)?;
        let scalar = !matches!(value, Value::Object(_) | Value::Array(_));
        if !scalar || !crate::conformance::is_valid(self.doc, &schema, &at, &value) {
            return None;
        }
        Some((
            value,
            format!("used when the list is empty (from: {})", g.note),
        ))
    }
}

/// Whether two steps save the same variables from the same places (one of them is enough
/// when two chains need the same id; their defaults may differ, either will do).
fn same_saves(a: &StepDraft, b: &StepDraft) -> bool {
    a.save.len() == b.save.len()
        && a.save
            .iter()
            .zip(&b.save)
            .all(|(x, y)| x.var == y.var && x.json_path == y.json_path)
}
