//! The OpenAPI document as loaded: its JSON tree, its version, local `$ref` resolution,
//! and the operations under `paths`.
//!
//! The document is kept as a `serde_json::Value` rather than typed structs: real documents
//! are loose (extensions everywhere, schemas that are booleans, fields of the wrong type
//! in one corner), and generation only reads a few fields, each with its own fallback.
//! Every place is named by its JSON pointer (`/paths/~1items/post/requestBody`), which is
//! how errors and warnings locate a problem in the document.

use serde_json::Value;

use crate::error::RefError;

/// Longest chain of `$ref`s followed to reach a value (`A -> B -> C`); longer is a loop.
const MAX_REF_HOPS: usize = 32;

/// The OpenAPI minor line a document follows; it decides the schema dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// 3.0.x: schemas are a JSON Schema draft-4 variant (`nullable`, boolean
    /// `exclusiveMinimum`, `example`).
    V30,
    /// 3.1.x: schemas are JSON Schema 2020-12.
    V31,
}

/// A loaded OpenAPI 3.0/3.1 document.
#[derive(Debug, Clone)]
pub struct Document {
    pub root: Value,
    pub version: Version,
    /// The `openapi` field as written (`3.1.0`).
    pub version_text: String,
    /// Where it came from, as the user gave it (a path or URL).
    pub source: String,
    /// The URL it was fetched from, when it was fetched: the default target.
    pub fetched_from: Option<url::Url>,
}

/// HTTP methods an operation may have, in the order tasks are written.
pub const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];

/// One operation: a method on a path.
#[derive(Debug, Clone)]
pub struct Operation<'d> {
    /// Lower case (`get`).
    pub method: &'static str,
    /// The path template as written (`/items/{item_id}`).
    pub path: String,
    /// The operation object (refs resolved).
    pub op: &'d Value,
    /// JSON pointer of the operation object, for messages.
    pub pointer: String,
    /// Path-level and operation-level parameters merged (the operation's win), refs resolved,
    /// each with its pointer.
    pub parameters: Vec<(&'d Value, String)>,
}

impl Operation<'_> {
    /// `get /items/{item_id}`: the task key and how messages name the operation.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    pub fn operation_id(&self) -> Option<&str> {
        self.op.get("operationId").and_then(Value::as_str)
    }

    pub fn tags(&self) -> Vec<&str> {
        self.op
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    pub fn deprecated(&self) -> bool {
        self.op.get("deprecated").and_then(Value::as_bool) == Some(true)
    }

    pub fn summary(&self) -> Option<&str> {
        self.op
            .get("summary")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    }
}

impl Document {
    /// Follows `$ref`s from `value` (found at `at`) to the value they name.
    pub fn resolve<'a>(&'a self, value: &'a Value, at: &str) -> Result<&'a Value, RefError> {
        let mut current = value;
        for _ in 0..MAX_REF_HOPS {
            let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
                return Ok(current);
            };
            current = self.lookup(reference, at)?;
        }
        Err(RefError {
            at: at.to_string(),
            reference: value
                .get("$ref")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            message: format!("more than {MAX_REF_HOPS} `$ref`s in a row: a loop"),
        })
    }

    /// The value a local reference (`#/components/schemas/Item`) names.
    pub fn lookup(&self, reference: &str, at: &str) -> Result<&Value, RefError> {
        let error = |message: String| RefError {
            at: at.to_string(),
            reference: reference.to_string(),
            message,
        };
        let Some(fragment) = reference.strip_prefix('#') else {
            return Err(error(
                "only references inside the document (`#/...`) are supported; bundle the \
                 document first (e.g. `redocly bundle` or `swagger-cli bundle`)"
                    .to_string(),
            ));
        };
        let pointer = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy();
        self.root.pointer(&pointer).ok_or_else(|| {
            let mut parent = pointer.rsplit_once('/').map_or("", |(p, _)| p).to_string();
            while !parent.is_empty() && self.root.pointer(&parent).is_none() {
                parent = parent.rsplit_once('/').map_or("", |(p, _)| p).to_string();
            }
            let shown = if parent.is_empty() {
                "the document root"
            } else {
                &parent
            };
            error(format!(
                "nothing at `{pointer}` (the nearest existing part is {shown})"
            ))
        })
    }

    /// The document's title and version, for the generated file's header.
    pub fn title(&self) -> String {
        let info = self.root.get("info");
        let title = info
            .and_then(|i| i.get("title"))
            .and_then(Value::as_str)
            .unwrap_or("API");
        match info.and_then(|i| i.get("version")).and_then(Value::as_str) {
            Some(v) => format!("{title} {v}"),
            None => title.to_string(),
        }
    }

    /// Every operation under `paths`, in document order; path items or parameters whose
    /// `$ref` does not resolve are reported in `errors` by operation key.
    pub fn operations(&self) -> (Vec<Operation<'_>>, Vec<(String, RefError)>) {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        let Some(paths) = self.root.get("paths").and_then(Value::as_object) else {
            return (out, errors);
        };
        for (path, item) in paths {
            // OpenAPI's paths start with `/`; any other key is no path a request can take
            // (and an empty one would make a step without a path).
            if !path.starts_with('/') {
                continue;
            }
            let item_pointer = format!("/paths/{}", escape_pointer(path));
            let item = match self.resolve(item, &item_pointer) {
                Ok(item) => item,
                Err(e) => {
                    errors.push((format!("* {path}"), e));
                    continue;
                }
            };
            let shared = item.get("parameters").and_then(Value::as_array);
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let pointer = format!("{item_pointer}/{method}");
                let key = format!("{method} {path}");
                let mut parameters: Vec<(&Value, String)> = Vec::new();
                let mut failed = None;
                let own = op.get("parameters").and_then(Value::as_array);
                let lists = [(shared, &item_pointer), (own, &pointer)];
                for (list, base) in lists {
                    for (i, p) in list.into_iter().flatten().enumerate() {
                        let p_pointer = format!("{base}/parameters/{i}");
                        match self.resolve(p, &p_pointer) {
                            Ok(p) => {
                                let same = |q: &&(&Value, String)| {
                                    q.0.get("name") == p.get("name") && q.0.get("in") == p.get("in")
                                };
                                parameters.retain(|q| !same(&q));
                                parameters.push((p, p_pointer));
                            }
                            Err(e) => failed = Some(e),
                        }
                    }
                }
                if let Some(e) = failed {
                    errors.push((key, e));
                    continue;
                }
                out.push(Operation {
                    method,
                    path: path.clone(),
                    op,
                    pointer,
                    parameters,
                });
            }
        }
        (out, errors)
    }

    /// The base path of the first server (`/api/v1` of `servers: [{url: /api/v1}]`), and its
    /// whole URL when it is absolute.
    pub fn server(&self) -> (String, Option<url::Url>) {
        let url = self
            .root
            .get("servers")
            .and_then(Value::as_array)
            .and_then(|s| s.first())
            .and_then(|s| s.get("url"))
            .and_then(Value::as_str)
            .unwrap_or("");
        // Server variables (`{version}`) would need their defaults substituted; a
        // templated server is left to the user.
        if url.contains('{') {
            return (String::new(), None);
        }
        match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {
                (u.path().trim_end_matches('/').to_string(), Some(u))
            }
            _ => (url.trim_end_matches('/').to_string(), None),
        }
    }
}

/// JSON pointer escaping of one reference token (`/items` -> `~1items`).
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(root: Value) -> Document {
        Document {
            root,
            version: Version::V31,
            version_text: "3.1.0".into(),
            source: "t.json".into(),
            fetched_from: None,
        }
    }

    #[test]
    fn refs_resolve_and_misses_name_the_nearest_part() {
        let d = doc(json!({
            "components": {"schemas": {"A": {"$ref": "#/components/schemas/B"}, "B": {"type": "integer"}}}
        }));
        let a = json!({"$ref": "#/components/schemas/A"});
        assert_eq!(d.resolve(&a, "/x").unwrap(), &json!({"type": "integer"}));
        let missing = json!({"$ref": "#/components/schemas/Nope"});
        let e = d.resolve(&missing, "/x").unwrap_err();
        assert_eq!(
            e.message,
            "nothing at `/components/schemas/Nope` (the nearest existing part is /components/schemas)"
        );
        let external = json!({"$ref": "other.yaml#/A"});
        assert!(d
            .resolve(&external, "/x")
            .unwrap_err()
            .message
            .contains("bundle"));
        let looped = doc(json!({"a": {"$ref": "#/a"}}));
        let e = looped.resolve(&json!({"$ref": "#/a"}), "/x").unwrap_err();
        assert!(e.message.contains("loop"), "{}", e.message);
    }

    #[test]
    fn operation_parameters_override_path_parameters() {
        let d = doc(json!({"paths": {"/items/{id}": {
            "parameters": [{"name": "id", "in": "path", "schema": {"type": "string"}}],
            "get": {"parameters": [{"name": "id", "in": "path", "schema": {"type": "integer"}}]},
            "delete": {}
        }}}));
        let (ops, errors) = d.operations();
        assert!(errors.is_empty());
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0].key(), "get /items/{id}");
        assert_eq!(ops[0].parameters.len(), 1);
        assert_eq!(ops[0].parameters[0].0["schema"]["type"], "integer");
        assert_eq!(ops[1].parameters[0].0["schema"]["type"], "string");
    }
}
