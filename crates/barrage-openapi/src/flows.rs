//! Linked operations: which operation can supply a path parameter of another.
//!
//! A read, update or delete of `/items/{item_id}` needs the id of an item that exists. The
//! supplier is, in order:
//!
//! 1. an OpenAPI `link` from another operation's response that fills that parameter
//!    (`$response.body#/id`): the document's author said so;
//! 2. the create of the collection, `POST /items` (or `/items/`), when its success
//!    response is an object with a property of the parameter's name or an `id` (for
//!    `item_id`, `itemId` or `id`): what it made exists;
//! 3. the list of the collection, `GET /items` (or `/items/`), when its success response
//!    is a JSON array of such objects, or a page that wraps one in an `items`, `results`
//!    or `data` property (`{"items": [...], "total": 3}`, as FastAPI pagination libraries
//!    answer): the first element's id (`$[0].id`, `$.items[0].id`).
//!
//! A list comes last because it may be empty: the flow then needs a default value and
//! must accept 404 for the step that uses it (see [`Source::List`]), where a create's id
//! is certain. Other page shapes (a cursor object holding the array deeper down, an array
//! under another name) are not guessed at: an OpenAPI link names them exactly.
//!
//! The scenario runs the supplier first, saves the value and uses it; the builder chains
//! suppliers for nested paths (`/users/{user_id}/items/{item_id}`) through the same
//! function.

use serde_json::Value;

use crate::document::{escape_pointer, Document, Operation};

/// Properties of a page object that may hold the listed elements, in the order looked for.
const PAGE_PROPERTIES: [&str; 3] = ["items", "results", "data"];

/// An operation that answers with a value for a parameter, and where in its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supplier {
    /// Index into the operation list.
    pub op: usize,
    /// JSONPath of the value in its response (`$.id`, `$[0].id`).
    pub json_path: String,
    pub source: Source,
}

/// Why an operation supplies the value, which decides what a flow can count on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An OpenAPI link names the field.
    Link,
    /// The collection's create answers what it made: the id names something that exists.
    Create,
    /// The collection's list answers its first element's id, unless the list is empty: the
    /// flow saves the id with a default, and the step that uses it accepts 404.
    List,
}

/// The supplier of path parameter `param` of `ops[target]`, if any.
pub fn supplier(
    doc: &Document,
    ops: &[Operation<'_>],
    target: usize,
    param: &str,
) -> Option<Supplier> {
    linked(doc, ops, target, param)
        .or_else(|| creator(doc, ops, target, param))
        .or_else(|| lister(doc, ops, target, param))
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
                    source: Source::Link,
                });
            }
        }
    }
    None
}

/// `POST` on the collection the parameter's segment belongs to, answering an object with
/// the id.
fn creator(doc: &Document, ops: &[Operation<'_>], target: usize, param: &str) -> Option<Supplier> {
    let collection = collection_of(&ops[target].path, param)?;
    ops.iter().enumerate().find_map(|(i, op)| {
        if i == target || op.method != "post" || !is_path_of(&op.path, collection) {
            return None;
        }
        let property = id_property(param, &success_properties(doc, op)?)?;
        Some(Supplier {
            op: i,
            json_path: json_path(&format!("/{}", escape_pointer(&property))),
            source: Source::Create,
        })
    })
}

/// `GET` on the collection the parameter's segment belongs to, answering a list (or a
/// page of one) of objects with the id.
fn lister(doc: &Document, ops: &[Operation<'_>], target: usize, param: &str) -> Option<Supplier> {
    let collection = collection_of(&ops[target].path, param)?;
    ops.iter().enumerate().find_map(|(i, op)| {
        if i == target || op.method != "get" || !is_path_of(&op.path, collection) {
            return None;
        }
        let (list, properties) = listed_properties(doc, op)?;
        let property = id_property(param, &properties)?;
        Some(Supplier {
            op: i,
            json_path: json_path(&format!("{list}/0/{}", escape_pointer(&property))),
            source: Source::List,
        })
    })
}

/// The collection path a parameter's segment belongs to: `/users/{user_id}/items` for
/// `item_id` in `/users/{user_id}/items/{item_id}`; none for a parameter at the root.
fn collection_of<'p>(path: &'p str, param: &str) -> Option<&'p str> {
    let prefix = &path[..path.find(&format!("/{{{param}}}"))?];
    (!prefix.is_empty()).then_some(prefix)
}

/// Whether `path` is `collection`, with or without a trailing slash.
fn is_path_of(path: &str, collection: &str) -> bool {
    path.trim_end_matches('/') == collection.trim_end_matches('/')
}

/// The property that holds `param`'s value: one of its own name, else `id` when the
/// parameter is named like an id (`item_id`, `itemId`, `itemID`, `id`).
fn id_property(param: &str, properties: &[String]) -> Option<String> {
    let id_like =
        param == "id" || param.ends_with("_id") || param.ends_with("Id") || param.ends_with("ID");
    if properties.iter().any(|p| p == param) {
        Some(param.to_string())
    } else if id_like && properties.iter().any(|p| p == "id") {
        Some("id".to_string())
    } else {
        None
    }
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
    success_responses(doc, op)
        .into_iter()
        .filter_map(|(_, response)| json_schema(response))
        .map(|schema| object_properties(doc, schema, &op.pointer))
        .find(|names| !names.is_empty())
}

/// Where the elements of a successful list response are (a JSON pointer: empty for a
/// bare array, `/items` for a page) and the property names of the objects listed.
fn listed_properties(doc: &Document, op: &Operation<'_>) -> Option<(String, Vec<String>)> {
    success_responses(doc, op)
        .into_iter()
        .filter_map(|(_, response)| json_schema(response))
        .find_map(|schema| {
            if let Some(names) = element_properties(doc, schema, &op.pointer) {
                return Some((String::new(), names));
            }
            PAGE_PROPERTIES.iter().find_map(|&name| {
                let list = property_schema(doc, schema, name, &op.pointer)?;
                let names = element_properties(doc, list, &op.pointer)?;
                Some((format!("/{name}"), names))
            })
        })
}

/// Property names of the objects an array schema holds; none when `schema` is not an
/// array of objects with properties.
fn element_properties(doc: &Document, schema: &Value, at: &str) -> Option<Vec<String>> {
    let schema = doc.resolve(schema, at).ok()?;
    let is_array = match schema.get("type") {
        Some(Value::String(t)) => t == "array",
        Some(Value::Array(types)) => types.iter().any(|t| t == "array"),
        Some(_) => false,
        None => schema.get("items").is_some(),
    };
    if !is_array {
        return None;
    }
    let names = object_properties(doc, schema.get("items")?, at);
    (!names.is_empty()).then_some(names)
}

/// The schema of property `name` of an object schema (its own or an `allOf` part's).
fn property_schema<'d>(
    doc: &'d Document,
    schema: &'d Value,
    name: &str,
    at: &str,
) -> Option<&'d Value> {
    object_parts(doc, schema, at)
        .into_iter()
        .find_map(|part| part.get("properties")?.get(name))
}

/// Property names of an object schema, `$ref`s resolved and `allOf` parts included.
fn object_properties(doc: &Document, schema: &Value, at: &str) -> Vec<String> {
    object_parts(doc, schema, at)
        .into_iter()
        .filter_map(|part| part.get("properties").and_then(Value::as_object))
        .flat_map(|props| props.keys().cloned())
        .collect()
}

/// An object schema and its `allOf` parts, `$ref`s resolved (parts that do not resolve
/// are left out: the operation's own checks report them).
fn object_parts<'d>(doc: &'d Document, schema: &'d Value, at: &str) -> Vec<&'d Value> {
    let Ok(schema) = doc.resolve(schema, at) else {
        return Vec::new();
    };
    let mut parts = vec![schema];
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        parts.extend(all.iter().filter_map(|s| doc.resolve(s, at).ok()));
    }
    parts
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
                json_path: "$.id".into(),
                source: Source::Create,
            })
        );
        let other = ops
            .iter()
            .position(|o| o.key() == "get /other/{item_id}")
            .unwrap();
        assert_eq!(supplier(&d, &ops, other, "item_id"), None);
    }

    fn listed(schema: Value) -> Value {
        json!({"responses": {"200": {"content": {"application/json": {"schema": schema}}}}})
    }

    fn position(ops: &[Operation<'_>], key: &str) -> usize {
        ops.iter().position(|o| o.key() == key).unwrap()
    }

    #[test]
    fn the_collection_list_supplies_the_id_when_nothing_creates_it() {
        let item = json!({"$ref": "#/components/schemas/Item"});
        let d = doc(json!({
            "/items": {"get": listed(json!({"type": "array", "items": item}))},
            "/items/{item_id}": {"get": {}},
            "/pages/": {"get": listed(json!({"allOf": [{"type": "object", "properties": {
                "total": {"type": "integer"},
                "results": {"type": "array", "items": item}
            }}]}))},
            "/pages/{id}": {"get": {}},
            "/users/{user_id}/items": {"get": listed(json!({"type": "array", "items": {"type": "object", "properties": {"item_id": {"type": "string"}}}}))},
            "/users/{user_id}/items/{item_id}": {"delete": {}},
            "/names": {"get": listed(json!({"type": "array", "items": {"type": "string"}}))},
            "/names/{name_id}": {"get": {}}
        }));
        let (ops, _) = d.operations();
        let list = |key: &str, json_path: &str| Supplier {
            op: position(&ops, key),
            json_path: json_path.into(),
            source: Source::List,
        };
        let find = |key: &str, param: &str| supplier(&d, &ops, position(&ops, key), param);
        assert_eq!(
            find("get /items/{item_id}", "item_id"),
            Some(list("get /items", "$[0].id"))
        );
        // A page: the array is a property of the object answered.
        assert_eq!(
            find("get /pages/{id}", "id"),
            Some(list("get /pages/", "$.results[0].id"))
        );
        // A nested collection; the parameter's own name wins over `id`.
        assert_eq!(
            find("delete /users/{user_id}/items/{item_id}", "item_id"),
            Some(list("get /users/{user_id}/items", "$[0].item_id"))
        );
        // A list of strings names no id.
        assert_eq!(find("get /names/{name_id}", "name_id"), None);
    }

    #[test]
    fn a_create_wins_over_a_list() {
        let item = json!({"$ref": "#/components/schemas/Item"});
        let d = doc(json!({
            "/items/": {"get": listed(json!({"type": "array", "items": item})), "post": created(item)},
            "/items/{item_id}": {"get": {}}
        }));
        let (ops, _) = d.operations();
        let found = supplier(&d, &ops, position(&ops, "get /items/{item_id}"), "item_id").unwrap();
        assert_eq!(found.op, position(&ops, "post /items/"));
        assert_eq!(found.source, Source::Create);
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
        assert_eq!(json_path("/items/0/id"), "$.items[0].id");
    }
}
