//! Request bodies: JSON, HTML forms, multipart uploads (FastAPI's `UploadFile` and `Form`),
//! and anything else as a raw body.
//!
//! The media type is chosen in that order of preference when an operation offers several.
//! A multipart property is a file when its schema says binary (`format: binary`, 3.0 and
//! FastAPI) or names a `contentMediaType` (3.1); a list of them becomes one part per file.

use serde_json::Value;

use crate::document::{escape_pointer, Document, Operation};
use crate::draft::{BodyDraft, PartDraft};
use crate::error::GenError;
use crate::flows::is_json;
use crate::values::{Gen, Generated, Generator, Leaf};

/// Bytes of generated content in a file part.
const FILE_CONTENT: &str = "barrage upload {{ uuid() }}\n{{ string(64) }}\n";

/// The body of `op`, and the content type to send in a header when the body key does not
/// imply it (`json:` implies `application/json`).
pub fn body(doc: &Document, op: &Operation<'_>) -> Result<(BodyDraft, Option<String>), GenError> {
    let Some(request_body) = op.op.get("requestBody") else {
        return Ok((BodyDraft::None, None));
    };
    let at = format!("{}/requestBody", op.pointer);
    let request_body = doc.resolve(request_body, &at)?;
    let Some(content) = request_body.get("content").and_then(Value::as_object) else {
        return Ok((BodyDraft::None, None));
    };
    let base = |m: &str| {
        m.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    let pick = |want: &dyn Fn(&str) -> bool| content.iter().find(|(m, _)| want(&base(m)));
    let chosen = pick(&|m| is_json(m))
        .or_else(|| pick(&|m| m == "application/x-www-form-urlencoded"))
        .or_else(|| pick(&|m| m == "multipart/form-data"))
        .or_else(|| pick(&|m| m.starts_with("text/")))
        .or_else(|| content.iter().next());
    let Some((media, media_object)) = chosen else {
        return Ok((BodyDraft::None, None));
    };
    let media_at = format!("{at}/content/{}", escape_pointer(media));
    let schema = media_object
        .get("schema")
        .cloned()
        .unwrap_or(Value::Bool(true));
    let schema_at = format!("{media_at}/schema");
    let kind = base(media);
    let mut generator = Generator::new(doc);
    if is_json(&kind) {
        let g = match media_example(doc, media_object, &schema, &schema_at) {
            Some(g) => g,
            None => generator.generate(&schema, &schema_at)?,
        };
        let header = (kind != "application/json").then(|| media.clone());
        return Ok((BodyDraft::Json(g), header));
    }
    if kind == "application/x-www-form-urlencoded" {
        let g = generator.generate(&schema, &schema_at)?;
        return Ok((BodyDraft::Form(flat_fields(g.gen, &schema_at)?), None));
    }
    if kind == "multipart/form-data" {
        let encoding = media_object.get("encoding");
        return Ok((
            BodyDraft::Multipart(multipart(doc, &schema, &schema_at, encoding)?),
            None,
        ));
    }
    let text = if kind.starts_with("text/") {
        "{{ string(32) }}"
    } else {
        FILE_CONTENT
    };
    Ok((
        BodyDraft::Raw {
            text: text.to_string(),
            note: format!("{media}: generated text; edit to send real content"),
        },
        Some(media.clone()),
    ))
}

/// The media type's own example, when it validates.
fn media_example(doc: &Document, media: &Value, schema: &Value, at: &str) -> Option<Generated> {
    let mut candidates: Vec<Value> = media.get("example").cloned().into_iter().collect();
    if let Some(examples) = media.get("examples").and_then(Value::as_object) {
        for e in examples.values() {
            if let Some(v) = doc.resolve(e, at).ok().and_then(|e| e.get("value")) {
                candidates.push(v.clone());
            }
        }
    }
    let valid = candidates
        .into_iter()
        .find(|e| crate::conformance::is_valid(doc, schema, at, e))?;
    Some(Generated {
        gen: Gen::Literal(valid),
        note: "example from the document".into(),
    })
}

/// Top-level fields of a form as scalars: a list sends its first item; a nested object
/// cannot be sent in a form, so an optional one is left out (Pydantic form models with an
/// `Optional[Model]` field publish one) and only a required one is an error.
fn flat_fields(gen: Gen, at: &str) -> Result<Vec<(String, Gen, String)>, GenError> {
    let fields: Vec<(String, Gen, String)> = match gen {
        Gen::Object(fields) => fields
            .into_iter()
            .map(|f| (f.name, f.value, f.note))
            .collect(),
        Gen::Literal(Value::Object(m)) => m
            .into_iter()
            .map(|(k, v)| (k, Gen::Literal(v), "example".to_string()))
            .collect(),
        _ => return Err(GenError::unsatisfiable(at, "a form body must be an object")),
    };
    let mut out = Vec::new();
    for (name, value, note) in fields {
        // The generator marks optional properties so in their note.
        let optional = note.ends_with(", optional");
        let scalar = match value {
            Gen::Array(mut items) if !items.is_empty() => items.remove(0),
            Gen::Literal(Value::Array(mut items)) if !items.is_empty() => {
                Gen::Literal(items.remove(0))
            }
            Gen::Object(_)
            | Gen::Literal(Value::Object(_))
            | Gen::Array(_)
            | Gen::Literal(Value::Array(_))
                if optional =>
            {
                continue
            }
            Gen::Object(_)
            | Gen::Literal(Value::Object(_))
            | Gen::Array(_)
            | Gen::Literal(Value::Array(_)) => {
                return Err(GenError::unsatisfiable(
                    at,
                    format!(
                    "form field `{name}` is an object or an empty list, which a form cannot send"
                ),
                ))
            }
            other => other,
        };
        out.push((name, scalar, note));
    }
    Ok(out)
}

fn multipart(
    doc: &Document,
    schema: &Value,
    at: &str,
    encoding: Option<&Value>,
) -> Result<Vec<PartDraft>, GenError> {
    let schema = doc.resolve(schema, at)?;
    let schema = crate::values::fold_all_of(doc, schema, at)?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut parts = Vec::new();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Ok(parts);
    };
    for (name, property) in properties {
        let property_at = format!("{at}/properties/{}", escape_pointer(name));
        let is_required = required.contains(&name.as_str());
        let resolved = doc.resolve(property, &property_at)?;
        let content_type = encoding
            .and_then(|e| e.get(name))
            .and_then(|e| e.get("contentType"))
            .and_then(Value::as_str)
            .map(|c| c.split(',').next().unwrap_or(c).trim().to_string());
        if let Some(files) = file_count(doc, resolved, &property_at) {
            for i in 0..files {
                let note = if is_required {
                    "file"
                } else {
                    "file, optional"
                };
                parts.push(PartDraft::File {
                    name: name.clone(),
                    content: FILE_CONTENT.to_string(),
                    filename: if files == 1 {
                        format!("{name}.txt")
                    } else {
                        format!("{name}-{}.txt", i + 1)
                    },
                    content_type: content_type.clone().unwrap_or_else(|| "text/plain".into()),
                    note: note.to_string(),
                });
            }
            continue;
        }
        let g = match Generator::new(doc).generate(property, &property_at) {
            Ok(g) => g,
            Err(_) if !is_required => continue,
            Err(e) => return Err(e),
        };
        let note = if is_required {
            g.note
        } else {
            format!("{}, optional", g.note)
        };
        match g.gen {
            Gen::Array(items) => {
                for item in items {
                    parts.push(PartDraft::Text {
                        name: name.clone(),
                        value: text_part(item),
                        note: note.clone(),
                    });
                }
            }
            other => parts.push(PartDraft::Text {
                name: name.clone(),
                value: text_part(other),
                note,
            }),
        }
    }
    Ok(parts)
}

/// A multipart text part carries text: a nested value is sent as its JSON.
fn text_part(gen: Gen) -> Gen {
    match gen {
        Gen::Object(_) | Gen::Array(_) => Gen::Leaf(Leaf::Text("{}".into())),
        Gen::Literal(v @ (Value::Object(_) | Value::Array(_))) => {
            Gen::Literal(Value::String(v.to_string()))
        }
        other => other,
    }
}

/// How many files a property takes: one for a binary string, `max(minItems, 1)` for a list
/// of them; `None` when it is not a file.
fn file_count(doc: &Document, schema: &Value, at: &str) -> Option<usize> {
    let is_file = |s: &Value| {
        let s = doc.resolve(s, at).unwrap_or(s);
        s.get("format").and_then(Value::as_str) == Some("binary")
            || s.get("contentMediaType").is_some()
    };
    let branches: Vec<&Value> = match schema.get("anyOf").or_else(|| schema.get("oneOf")) {
        Some(Value::Array(b)) => b.iter().collect(),
        _ => vec![schema],
    };
    for branch in branches {
        let branch = doc.resolve(branch, at).unwrap_or(branch);
        if is_file(branch) {
            return Some(1);
        }
        if let Some(items) = branch.get("items") {
            if is_file(items) {
                let min = branch
                    .get("minItems")
                    .and_then(Value::as_u64)
                    .unwrap_or(1)
                    .max(1);
                return Some(usize::try_from(min).unwrap_or(1));
            }
        }
    }
    None
}
