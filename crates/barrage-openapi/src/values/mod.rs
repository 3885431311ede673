//! Values from JSON Schemas: for each schema, a [`Gen`] that is valid by construction and
//! mostly a template, so every request sends a fresh value (`"{{ int(1, 100) }}"`).
//!
//! Order of preference for a value: the schema's own examples (when they validate against
//! it), `const`, `enum`, then a draw from the type's constraints. `allOf` is folded into
//! one schema ([`merge`]); `anyOf`/`oneOf` take the first branch that can be generated,
//! non-null first, so pydantic's `Optional[X]` sends an `X`; a discriminator's property is
//! set to the branch's mapping key. Optional properties are included near the top of a
//! body (where they exercise the service) and left out deeper down; a `$ref` that comes
//! back to a schema already being generated is left out where it is optional, and is an
//! error where it is required all the way down (no finite value exists). Where the
//! scenario takes static JSON instead of a template, [`fixed`] renders one value.

mod fixed;
mod formats;
pub mod leaf;
mod merge;
pub mod numbers;
pub mod pattern;
mod privilege;

use serde_json::Value;

use crate::conformance;
use crate::document::{Document, Version};
use crate::error::GenError;
pub use fixed::fixed;
pub use leaf::Leaf;
pub use merge::fold_all_of;

/// Deepest nesting generated; deeper schemas are left out where optional.
const MAX_DEPTH: usize = 8;
/// Optional properties are generated down to this depth (0 is the body itself).
const OPTIONAL_DEPTH: usize = 2;
/// The longest `string(n)` the template language makes (its `MAX_STRING_LEN`).
const MAX_STRING_LEN: usize = 1 << 20;
/// Length of `string(n)` when the schema leaves it open.
const DEFAULT_STRING_LEN: usize = 8;

/// A generated value: fixed parts and templates.
#[derive(Debug, Clone, PartialEq)]
pub enum Gen {
    Literal(Value),
    Leaf(Leaf),
    Object(Vec<Field>),
    Array(Vec<Gen>),
}

/// One property of a generated object, with the note its comment shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: Gen,
    pub note: String,
}

/// A value and where it came from (`integer 1..100`, `example`, `enum`), for the comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub gen: Gen,
    pub note: String,
}

impl Generated {
    fn new(gen: Gen, note: impl Into<String>) -> Self {
        Generated {
            gen,
            note: note.into(),
        }
    }
}

/// Generates values from one document's schemas.
pub struct Generator<'d> {
    doc: &'d Document,
    /// `$ref`s being generated, outermost first (recursion guard).
    stack: Vec<String>,
    /// Characters a string must not contain (a path parameter cannot hold `/`).
    forbidden: &'static [char],
}

impl<'d> Generator<'d> {
    /// A generator for request bodies, query, header and cookie values.
    pub fn new(doc: &'d Document) -> Self {
        Generator {
            doc,
            stack: Vec::new(),
            forbidden: &[],
        }
    }

    /// A generator for path parameters: no `/`, `?`, `#` or `%` in strings.
    pub fn for_path(doc: &'d Document) -> Self {
        Generator {
            doc,
            stack: Vec::new(),
            forbidden: &['/', '?', '#', '%'],
        }
    }

    /// A value for `schema`, found at JSON pointer `at`.
    pub fn generate(&mut self, schema: &Value, at: &str) -> Result<Generated, GenError> {
        self.value(schema, at, 0)
    }

    fn value(&mut self, schema: &Value, at: &str, depth: usize) -> Result<Generated, GenError> {
        if depth > MAX_DEPTH {
            return Err(GenError::unsatisfiable(
                at,
                format!("nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let object = match schema {
            Value::Bool(true) => return Ok(any_value()),
            Value::Object(o) => o,
            Value::Bool(false) => {
                return Err(GenError::unsatisfiable(
                    at,
                    "the schema is `false`: no value is valid",
                ))
            }
            _ => return Ok(any_value()),
        };
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            return self.reference(schema, reference, at, depth);
        }
        if let Some(example) = self.example(schema, at) {
            return Ok(example);
        }
        if let Some(c) = object.get("const") {
            return Ok(Generated::new(Gen::Literal(c.clone()), "const"));
        }
        if let Some(values) = object.get("enum").and_then(Value::as_array) {
            return self.enumeration(values, at);
        }
        if object.contains_key("allOf") {
            let merged = merge::fold_all_of(self.doc, schema, at)?;
            return self.value(&merged, at, depth);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = object.get(key).and_then(Value::as_array) {
                return self.branches(schema, key, branches, at, depth);
            }
        }
        match self.type_of(schema) {
            Some("null") => Ok(Generated::new(Gen::Literal(Value::Null), "null")),
            Some("boolean") => Ok(Generated::new(
                Gen::Leaf(Leaf::Choice(vec![Value::Bool(true), Value::Bool(false)])),
                "boolean",
            )),
            Some("integer") => numbers::integer(schema, at),
            Some("number") => numbers::number(schema, at),
            Some("string") => self.string(schema, at),
            Some("array") => self.array(schema, at, depth),
            Some("object") => self.object(schema, at, depth),
            _ => Ok(any_value()),
        }
    }

    fn reference(
        &mut self,
        schema: &Value,
        reference: &str,
        at: &str,
        depth: usize,
    ) -> Result<Generated, GenError> {
        if self.stack.iter().any(|r| r == reference) {
            return Err(GenError::Recursive {
                at: at.to_string(),
                reference: reference.to_string(),
            });
        }
        let target = self.doc.lookup(reference, at)?;
        // In 3.1 keywords beside `$ref` apply too (in 3.0 they are ignored): fold them in.
        let siblings = schema.as_object().is_some_and(|o| {
            o.keys()
                .any(|k| !matches!(k.as_str(), "$ref" | "description" | "title" | "$comment"))
        });
        let target = if self.doc.version == Version::V31 && siblings {
            let mut rest = schema.clone();
            if let Some(o) = rest.as_object_mut() {
                o.remove("$ref");
            }
            serde_json::json!({"allOf": [target, rest]})
        } else {
            target.clone()
        };
        // Problems inside the target are located there, where the fix belongs.
        let target_at = percent_encoding::percent_decode_str(reference.trim_start_matches('#'))
            .decode_utf8_lossy()
            .into_owned();
        self.stack.push(reference.to_string());
        let result = self.value(&target, &target_at, depth);
        self.stack.pop();
        let name = reference.rsplit('/').next().unwrap_or(reference);
        result.map(|g| match g.gen {
            Gen::Object(_) => Generated::new(g.gen, name.to_string()),
            _ => g,
        })
    }

    /// The schema's own example(s), when they validate against it: `examples` (3.1, a
    /// list) or `example`.
    fn example(&self, schema: &Value, at: &str) -> Option<Generated> {
        let mut candidates: Vec<Value> = match schema.get("examples") {
            Some(Value::Array(list)) => list.clone(),
            _ => schema.get("example").cloned().into_iter().collect(),
        };
        candidates.retain(|e| self.allowed(e) && conformance::is_valid(self.doc, schema, at, e));
        match candidates.len() {
            0 => None,
            1 => Some(Generated::new(
                Gen::Literal(candidates.remove(0)),
                "example",
            )),
            _ if candidates.iter().all(is_scalar) => Some(Generated::new(
                Gen::Leaf(Leaf::Choice(candidates)),
                "examples",
            )),
            _ => Some(Generated::new(
                Gen::Literal(candidates.remove(0)),
                "first example",
            )),
        }
    }

    fn enumeration(&self, values: &[Value], at: &str) -> Result<Generated, GenError> {
        let mut allowed: Vec<Value> = values.iter().filter(|v| self.allowed(v)).cloned().collect();
        if allowed.len() > 1 {
            allowed.retain(|v| !v.is_null());
        }
        match allowed.len() {
            0 => Err(GenError::unsatisfiable(at, "`enum` lists no usable value")),
            1 => Ok(Generated::new(
                Gen::Literal(allowed.remove(0)),
                "the only enum value",
            )),
            n if allowed.iter().all(is_scalar) => Ok(Generated::new(
                Gen::Leaf(Leaf::Choice(allowed)),
                format!("enum of {n}"),
            )),
            _ => Ok(Generated::new(
                Gen::Literal(allowed.remove(0)),
                "first enum value",
            )),
        }
    }

    fn allowed(&self, v: &Value) -> bool {
        match v {
            Value::String(s) => !s.contains(self.forbidden),
            _ => true,
        }
    }

    fn branches(
        &mut self,
        schema: &Value,
        key: &str,
        branches: &[Value],
        at: &str,
        depth: usize,
    ) -> Result<Generated, GenError> {
        let mut order: Vec<usize> = (0..branches.len()).collect();
        // Non-null branches first: pydantic's Optional[X] is `anyOf: [X, {type: null}]`.
        order.sort_by_key(|&i| {
            let b = self.doc.resolve(&branches[i], at).unwrap_or(&branches[i]);
            self.type_of(b) == Some("null")
        });
        let mut first_error = None;
        for i in order {
            let branch_at = format!("{at}/{key}/{i}");
            match self.value(&branches[i], &branch_at, depth) {
                Ok(mut g) => {
                    self.set_discriminator(schema, &branches[i], &mut g);
                    let n = branches
                        .iter()
                        .filter(|b| {
                            self.type_of(self.doc.resolve(b, at).unwrap_or(b)) != Some("null")
                        })
                        .count();
                    let note = if n <= 1 {
                        g.note
                    } else {
                        format!("{} ({key} {n}: edit to send another)", g.note)
                    };
                    return Ok(Generated::new(g.gen, note));
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| GenError::unsatisfiable(at, format!("`{key}` is empty"))))
    }

    /// Sets the discriminator property of a generated branch to its mapping key (or the
    /// schema name), unless the branch fixed it itself (`const`).
    fn set_discriminator(&self, schema: &Value, branch: &Value, g: &mut Generated) {
        let Some(d) = schema.get("discriminator") else {
            return;
        };
        let Some(property) = d.get("propertyName").and_then(Value::as_str) else {
            return;
        };
        let Gen::Object(fields) = &mut g.gen else {
            return;
        };
        let reference = branch
            .get("$ref")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let key = d
            .get("mapping")
            .and_then(Value::as_object)
            .and_then(|m| m.iter().find(|(_, v)| v.as_str() == Some(reference)))
            .map(|(k, _)| k.clone())
            .or_else(|| reference.rsplit('/').next().map(str::to_string))
            .filter(|k| !k.is_empty());
        let Some(key) = key else { return };
        match fields.iter_mut().find(|f| f.name == property) {
            Some(f) if matches!(f.value, Gen::Literal(_)) => {}
            Some(f) => {
                f.value = Gen::Literal(Value::String(key));
                f.note = "discriminator".into();
            }
            None => fields.insert(
                0,
                Field {
                    name: property.to_string(),
                    value: Gen::Literal(Value::String(key)),
                    note: "discriminator".into(),
                },
            ),
        }
    }

    /// The type to generate: the first non-null one listed, else what the keywords imply.
    fn type_of<'s>(&self, schema: &'s Value) -> Option<&'s str> {
        match schema.get("type") {
            Some(Value::String(t)) => Some(t),
            Some(Value::Array(types)) => {
                let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
                names
                    .iter()
                    .find(|t| **t != "null")
                    .or(names.first())
                    .copied()
            }
            _ => {
                let has = |k: &str| schema.get(k).is_some();
                if has("properties") || has("additionalProperties") || has("required") {
                    Some("object")
                } else if has("items") || has("prefixItems") {
                    Some("array")
                } else if has("pattern") || has("minLength") || has("maxLength") || has("format") {
                    Some("string")
                } else if has("minimum") || has("maximum") || has("multipleOf") {
                    Some("number")
                } else {
                    None
                }
            }
        }
    }

    fn string(&self, schema: &Value, at: &str) -> Result<Generated, GenError> {
        let min = usize_of(schema, "minLength").unwrap_or(0);
        let max = usize_of(schema, "maxLength").unwrap_or(usize::MAX);
        if min > max {
            return Err(GenError::unsatisfiable(
                at,
                format!("minLength {min} is above maxLength {max}"),
            ));
        }
        if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
            let forbidden = self.forbidden;
            let keep = move |s: &str| !s.contains(forbidden);
            let mut found = pattern::samples(p, min, max, &keep)
                .map_err(|e| GenError::unsatisfiable(at, e.to_string()))?;
            let note = format!("pattern {p}");
            return Ok(if found.len() == 1 {
                Generated::new(Gen::Literal(Value::String(found.remove(0))), note)
            } else {
                let values = found.into_iter().map(Value::String).collect();
                Generated::new(
                    Gen::Leaf(Leaf::Choice(values)),
                    format!("{note}: drawn at init"),
                )
            });
        }
        if let Some(format) = schema.get("format").and_then(Value::as_str) {
            if let Some((template, note, fmin, fmax)) = formats::template(format) {
                let fits = min <= fmin && fmax <= max;
                let clean = !template.contains(self.forbidden);
                if fits && clean {
                    return Ok(Generated::new(Gen::Leaf(Leaf::Text(template.into())), note));
                }
                if !fits {
                    return Err(GenError::unsatisfiable(
                        at,
                        format!(
                            "format {format} values are {fmin} to {fmax} characters long, \
                             outside the {} allowed",
                            length_words(min, max)
                        ),
                    ));
                }
            }
        }
        if max == 0 {
            return Ok(Generated::new(
                Gen::Literal(Value::String(String::new())),
                "empty string",
            ));
        }
        let len = DEFAULT_STRING_LEN.clamp(min, max);
        if len > MAX_STRING_LEN {
            return Err(GenError::unsatisfiable(
                at,
                format!("minLength {min} is too long to send"),
            ));
        }
        let note = match (min, max) {
            (0, usize::MAX) => "string".to_string(),
            (a, usize::MAX) => format!("string, at least {a} characters"),
            (a, b) => format!("string, {a} to {b} characters"),
        };
        Ok(Generated::new(
            Gen::Leaf(Leaf::Text(format!("{{{{ string({len}) }}}}"))),
            note,
        ))
    }

    fn array(&mut self, schema: &Value, at: &str, depth: usize) -> Result<Generated, GenError> {
        let min = usize_of(schema, "minItems").unwrap_or(0);
        let max = usize_of(schema, "maxItems").unwrap_or(usize::MAX);
        if min > max {
            return Err(GenError::unsatisfiable(
                at,
                format!("minItems {min} is above maxItems {max}"),
            ));
        }
        let n = min.max(1).min(max);
        let prefix = schema
            .get("prefixItems")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let items_schema = schema.get("items").cloned().unwrap_or(Value::Bool(true));
        let mut out = Vec::with_capacity(n);
        for (i, p) in prefix.iter().take(n).enumerate() {
            out.push(
                self.value(p, &format!("{at}/prefixItems/{i}"), depth + 1)?
                    .gen,
            );
        }
        let rest = n.saturating_sub(out.len());
        if rest > 0 {
            let item = match self.value(&items_schema, &format!("{at}/items"), depth + 1) {
                Ok(g) => g.gen,
                Err(_) if min == 0 => {
                    return Ok(Generated::new(Gen::Array(Vec::new()), "empty list"));
                }
                Err(e) => return Err(e),
            };
            let unique = schema.get("uniqueItems").and_then(Value::as_bool) == Some(true);
            match (&item, unique && n > 1) {
                (Gen::Leaf(leaf), true) => {
                    let parts = leaf.split(rest).ok_or_else(|| {
                        GenError::unsatisfiable(at, format!("cannot make {n} distinct items"))
                    })?;
                    out.extend(parts.into_iter().map(Gen::Leaf));
                }
                (Gen::Literal(_), true) => {
                    return Err(GenError::unsatisfiable(
                        at,
                        format!("{n} distinct items are needed, and the item has one value"),
                    ))
                }
                _ => out.extend(std::iter::repeat_n(item, rest)),
            }
        }
        let note = match n {
            1 => "list of 1".to_string(),
            n => format!("list of {n}"),
        };
        Ok(Generated::new(Gen::Array(out), note))
    }

    fn object(&mut self, schema: &Value, at: &str, depth: usize) -> Result<Generated, GenError> {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let empty = serde_json::Map::new();
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut fields = Vec::new();
        for (name, property) in properties {
            let is_required = required.contains(&name.as_str());
            let property_at = format!("{at}/properties/{}", crate::document::escape_pointer(name));
            let resolved = self.doc.resolve(property, &property_at).unwrap_or(property);
            if resolved.get("readOnly").and_then(Value::as_bool) == Some(true) && !is_required {
                continue;
            }
            if !is_required && depth >= OPTIONAL_DEPTH {
                continue;
            }
            if privilege::is_flag(name) {
                // An optional flag is never sent: the service's default applies, where a
                // `false` on an update would demote the login's own superuser.
                if !is_required {
                    continue;
                }
                let Some(g) = privilege::least(self.doc, resolved, &property_at) else {
                    return Err(GenError::unsatisfiable(
                        &property_at,
                        format!(
                            "`{name}` grants privileges and has no value that grants none; \
                             fill it in by hand"
                        ),
                    ));
                };
                fields.push(Field {
                    name: name.clone(),
                    value: g.gen,
                    note: g.note,
                });
                continue;
            }
            match self.value(property, &property_at, depth + 1) {
                Ok(g) => fields.push(Field {
                    name: name.clone(),
                    value: g.gen,
                    note: if is_required {
                        g.note
                    } else {
                        format!("{}, optional", g.note)
                    },
                }),
                Err(_) if !is_required => {}
                Err(e) => return Err(e),
            }
        }
        let extra = schema.get("additionalProperties").filter(|a| a.is_object());
        let wanted = usize_of(schema, "minProperties").unwrap_or(0);
        let mut missing: Vec<String> = required
            .iter()
            .filter(|r| !properties.contains_key(**r))
            .map(|r| r.to_string())
            .collect();
        // A map's keys: numbers as text (`"1"`), valid for `dict[str, ...]` and for
        // `dict[int, ...]`, which FastAPI documents with no key type at all.
        let mut k = 1;
        while fields.len() + missing.len()
            < wanted.max(usize::from(extra.is_some() && fields.is_empty()))
        {
            missing.push(k.to_string());
            k += 1;
        }
        for name in missing {
            let g = match extra {
                Some(s) => self.value(s, &format!("{at}/additionalProperties"), depth + 1)?,
                None => any_value(),
            };
            fields.push(Field {
                name,
                value: g.gen,
                note: g.note,
            });
        }
        Ok(Generated::new(Gen::Object(fields), "object"))
    }
}

fn length_words(min: usize, max: usize) -> String {
    match (min, max) {
        (a, usize::MAX) => format!("{a} or more"),
        (a, b) => format!("{a} to {b}"),
    }
}

/// A value for a schema that says nothing about it.
fn any_value() -> Generated {
    Generated::new(
        Gen::Leaf(Leaf::Text("{{ string(8) }}".into())),
        "any value (no type given)",
    )
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

fn usize_of(schema: &Value, key: &str) -> Option<usize> {
    schema.get(key).and_then(Value::as_f64).map(|f| {
        if f <= 0.0 {
            0
        } else {
            f.min(usize::MAX as f64) as usize
        }
    })
}

#[cfg(test)]
mod tests;
