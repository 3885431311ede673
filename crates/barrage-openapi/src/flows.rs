//! Linked operations: which operation can supply a path parameter of another.
//!
//! A read, update or delete of `/items/{item_id}` needs the id of an item that exists. The
//! supplier is, in order: an OpenAPI `link` from another operation's response that fills
//! that parameter (`$response.body#/id`); else the create of the collection, `POST /items`
//! (or `/items/`), when its success response has a property of the parameter's name or an
//! `id` (for `item_id`, `itemId` or `id`). The scenario then runs the create first, saves
//! the id and uses it; the builder chains creates for nested paths
//! (`/users/{user_id}/items/{item_id}`) through the same function.

use serde_json::Value;

use crate::document::{Document, Operation};

/// An operation that answers with a value for a parameter, and where in its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supplier {
    /// Index into the operation list.
    pub op: usize,
    /// JSONPath of the value in its response (`$.id`).
    pub json_path: String,
}

/// The supplier of path parameter `param` of `ops[target]`, if any.
pub fn supplier(
    doc: &Document,
    ops: &[Operation<'_>],
    target: usize,
    param: &str,
) -> Option<Supplier> {
    linked(doc, ops, target, param).or_else(|| creator(doc, ops, target, param))
}

/// An OpenAPI link (in any operation's 2xx response) to `ops[target]` that fills `param`
/// from the response body.
fn linked(doc: &Document, ops: &[Operation<'_>], target: usize, param: &str) -> Option<Supplier> {
    let op = &ops[target];
    for (i, other) in ops.iter().enumerate() {
        if i == target || other.method == "delete" {
            continue;
        }
        for (_, response) in success_responses(doc, other) {
            let Some(links) = response.get("links").and_then(Value::as_object) else {
                continue;
            };
            for link in links.values() {
                let Ok(link) = doc.resolve(link, &other.pointer) else {
                    continue;
                };
                let to_target = match (link.get("operationId"), link.get("operationRef")) {
                    (Some(Value::String(id)), _) => op.operation_id() == Some(id.as_str()),
                    (_, Some(Value::String(r))) => {
                        let decoded = percent_encoding::percent_decode_str(r).decode_utf8_lossy();
                        decoded.trim_start_matches('#') == op.pointer
                    }
                    _ => false,
                };
                if !to_target {
                    continue;
                }
                let expression = link.get("parameters").and_then(|p| {
                    p.get(param)
                        .or_else(|| p.get(format!("path.{param}").as_str()))
                });
                let Some(pointer) = expression
                    .and_then(Value::as_str)
                    .and_then(|e| e.strip_prefix("$response.body#"))
                else {
                    continue;
                };
                return Some(Supplier {
                    op: i,
                    json_path: json_path(pointer),
                });
            }
        }
    }
    None
}

/// `POST` on the collection the parameter's segment belongs to, answering an id.
fn creator(doc: &Document, ops: &[Operation<'_>], target: usize, param: &str) -> Option<Supplier> {
    let path = &ops[target].path;
    let segment = format!("/{{{param}}}");
    let prefix = &path[..path.find(&segment)?];
    if prefix.is_empty() {
        return None;
    }
    let id_like =
        param == "id" || param.ends_with("_id") || param.ends_with("Id") || param.ends_with("ID");
    ops.iter().enumerate().find_map(|(i, op)| {
        let collection = op.path.trim_end_matches('/') == prefix.trim_end_matches('/');
        if i == target || op.method != "post" || !collection {
            return None;
        }
        let properties = success_properties(doc, op)?;
        let property = if properties.iter().any(|p| p == param) {
            param.to_string()
        } else if id_like && properties.iter().any(|p| p == "id") {
            "id".to_string()
        } else {
            return None;
        };
        Some(Supplier {
            op: i,
            json_path: json_path(&format!("/{}", crate::document::escape_pointer(&property))),
        })
    })
}

/// The 2xx responses of an operation, refs resolved, in status order.
pub fn success_responses<'d>(doc: &'d Document, op: &Operation<'d>) -> Vec<(String, &'d Value)> {
    let Some(responses) = op.op.get("responses").and_then(Value::as_object) else {
        return Vec::new();
    };
    responses
        .iter()
        .filter(|(code, _)| code.starts_with('2'))
        .filter_map(|(code, r)| Some((code.clone(), doc.resolve(r, &op.pointer).ok()?)))
        .collect()
}

/// The JSON schema of a response, when it has one (`content` of a JSON media type).
pub fn json_schema(response: &Value) -> Option<&Value> {
    let content = response.get("content")?.as_object()?;
    content
        .iter()
        .find(|(media, _)| is_json(media))
        .and_then(|(_, m)| m.get("schema"))
}

pub fn is_json(media: &str) -> bool {
    let m = media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    m == "application/json" || m.ends_with("+json")
}

/// Property names of the object a successful response answers with.
fn success_properties(doc: &Document, op: &Operation<'_>) -> Option<Vec<String>> {
    for (_, response) in success_responses(doc, op) {
        let Some(schema) = json_schema(response) else {
            continue;
        };
        let schema = doc.resolve(schema, &op.pointer).ok()?;
        let mut names: Vec<String> = Vec::new();
        let mut parts = vec![schema];
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            parts.extend(all.iter().filter_map(|s| doc.resolve(s, &op.pointer).ok()));
        }
        for part in parts {
            if let Some(props) = part.get("properties").and_then(Value::as_object) {
                names.extend(props.keys().cloned());
            }
        }
        if !names.is_empty() {
            return Some(names);
        }
    }
    None
}

/// A JSON pointer into a body as a JSONPath: `/id` -> `$.id`, `/a b/0` -> `$['a b'][0]`.
pub fn json_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{token}]"));
        } else if is_identifier(&token) {
            out.push('.');
            out.push_str(&token);
        } else {
            out.push_str(&format!(
                "['{}']",
                token.replace('\\', "\\\\").replace('\'', "\\'")
            ));
        }
    }
    out
}

pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Version;
    use serde_json::json;

    fn doc(paths: Value) -> Document {
        Document {
            root: json!({"openapi": "3.1.0", "paths": paths, "components": {"schemas": {
                "Item": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
            }}}),
            version: Version::V31,
            version_text: "3.1.0".into(),
            source: "t".into(),
            fetched_from: None,
        }
    }

    fn created(schema: Value) -> Value {
        json!({"responses": {"201": {"content": {"application/json": {"schema": schema}}}}})
    }

    #[test]
    fn the_collection_create_supplies_the_id() {
        let d = doc(json!({
            "/items/": {"post": created(json!({"$ref": "#/components/schemas/Item"}))},
            "/items/{item_id}": {"get": {}, "delete": {}},
            "/other/{item_id}": {"get": {}}
        }));
        let (ops, _) = d.operations();
        let get = ops
            .iter()
            .position(|o| o.key() == "get /items/{item_id}")
            .unwrap();
        let post = ops.iter().position(|o| o.key() == "post /items/").unwrap();
        assert_eq!(
            supplier(&d, &ops, get, "item_id"),
            Some(Supplier {
                op: post,
                json_path: "$.id".into()
            })
        );
        let other = ops
            .iter()
            .position(|o| o.key() == "get /other/{item_id}")
            .unwrap();
        assert_eq!(supplier(&d, &ops, other, "item_id"), None);
    }

    #[test]
    fn links_win_and_name_the_field() {
        let d = doc(json!({
            "/things": {"post": {"responses": {"201": {
                "content": {"application/json": {"schema": {"type": "object"}}},
                "links": {"GetThing": {"operationId": "getThing", "parameters": {"key": "$response.body#/thing key"}}}
            }}}},
            "/things/{key}": {"get": {"operationId": "getThing"}}
        }));
        let (ops, _) = d.operations();
        let get = ops.iter().position(|o| o.method == "get").unwrap();
        assert_eq!(
            supplier(&d, &ops, get, "key").unwrap().json_path,
            "$['thing key']"
        );
    }

    #[test]
    fn pointers_become_json_paths() {
        assert_eq!(json_path("/id"), "$.id");
        assert_eq!(json_path("/data/0/id"), "$.data[0].id");
        assert_eq!(json_path("/a~1b"), "$['a/b']");
    }
}
