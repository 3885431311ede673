//! From operations to tasks: parameters, bodies, security and flows for each operation,
//! grouped into user types by tag.
//!
//! One task per operation, keyed `get /items/{item_id}` and with every step named by its
//! documented path template, so the statistics group the way the API is documented. A
//! task whose path needs an id that a link, a create or a list supplies runs that
//! operation first and saves the id (see [`flows`](crate::flows)). A path parameter
//! nothing supplies gets a generated value and a check that also accepts 404, because a
//! healthy service answers 404 for an id that does not exist. A list may be empty, so an
//! id saved from one has a `default:` (a fixed value valid for the parameter) and the
//! steps that use it accept 404 too. 422 (the request was invalid) is never accepted: it
//! means the generated request is wrong, which is exactly what a run should show.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::body::body;
use crate::document::{escape_pointer, Document, Operation};
use crate::draft::{BodyDraft, SaveDraft, StepDraft, TaskDraft};
use crate::error::GenError;
use crate::flows::json_schema;
use crate::security::{self, Credential, Login};
use crate::values::{Gen, Generated, Generator};
use crate::yaml;
use crate::Options;

pub mod identity;
mod params;
mod path;

/// How many suppliers (creates, lists) may be chained to reach one operation
/// (`/a/{a}/b/{b}/c/{c}`).
const MAX_CHAIN: usize = 3;

pub struct Builder<'d, 'o> {
    pub doc: &'d Document,
    pub ops: &'o [Operation<'d>],
    pub opts: &'o Options,
    /// Logins the steps built since the last [`Builder::take_logins`] need.
    logins: Vec<Login>,
    /// Environment variables the credentials read (`env("NAME")`).
    pub env: std::collections::BTreeSet<String>,
    /// The operations being written (indexes into `ops`): a delete's task runs the reads
    /// and updates of the same path among them.
    pub selected: Vec<usize>,
}

/// A path parameter's value: a saved variable or a generated value.
enum PathValue {
    Var(String),
    Generated(Gen),
}

impl<'d, 'o> Builder<'d, 'o> {
    pub fn new(doc: &'d Document, ops: &'o [Operation<'d>], opts: &'o Options) -> Self {
        Builder {
            doc,
            ops,
            opts,
            logins: Vec::new(),
            env: Default::default(),
            selected: Vec::new(),
        }
    }

    pub fn take_logins(&mut self) -> Vec<Login> {
        std::mem::take(&mut self.logins)
    }

    /// The weight of `ops[index]`'s task: by method, and 1 for health and utility routes.
    pub fn weight(&self, index: usize) -> u32 {
        let op = &self.ops[index];
        if identity::is_utility(op) {
            1
        } else {
            self.opts.weights.of(op.method)
        }
    }

    /// The tasks for `ops[index]`: its task, and when it has optional parameters the
    /// document cannot vouch for, a second, rare task that sends them (weight 1). Those
    /// may be validated in ways the schema does not say (a FastAPI validator), so most
    /// requests leave them out and stay valid, and the rare one still exercises them.
    pub fn tasks(&mut self, index: usize) -> Vec<TaskDraft> {
        let mut main = self.task(index, false);
        if main.left_out.is_some() || !self.has_optional(index) {
            return vec![main];
        }
        let mut rare = self.task(index, true);
        if rare.left_out.is_some() {
            return vec![main];
        }
        rare.key = format!("{} (optional parameters)", main.key);
        rare.weight = 1;
        rare.comments = vec![
            "the same request with its optional parameters, rarely: the document cannot say \
             every value the service accepts"
                .into(),
        ];
        main.comments.push(
            "optional parameters: defaults and first pages here; the task below sends them".into(),
        );
        vec![main, rare]
    }

    /// The task for `ops[index]`; with `optional`, every optional parameter is sent.
    fn task(&mut self, index: usize, optional: bool) -> TaskDraft {
        let op = &self.ops[index];
        let mut comments = Vec::new();
        if let Some(summary) = op.summary() {
            comments.push(summary.to_string());
        }
        let mut task = TaskDraft {
            key: op.key(),
            weight: self.weight(index),
            comments,
            steps: Vec::new(),
            left_out: None,
            utility: identity::is_utility(op),
        };
        if let Some(reason) = identity::left_out(self.doc, op) {
            task.steps.push(self.skeleton(index));
            task.left_out = Some(reason);
            return task;
        }
        let path = match self.path_values(index, 0, &mut vec![index]) {
            Ok(found) => found,
            Err(e) => {
                task.steps.push(self.skeleton(index));
                task.left_out = Some(e.to_string());
                return task;
            }
        };
        match self.request_with(index, &path.values, optional) {
            Ok(mut step) => {
                let op = &self.ops[index];
                match identity::keep_credentials(self.doc, op, &mut step.body) {
                    Ok(removed) if !removed.is_empty() => step.comments.push(format!(
                        "not sent: {} (they would change the login of the account the \
                         scenario logs in with)",
                        removed.join(", ")
                    )),
                    Ok(_) => {}
                    Err(reason) => {
                        task.steps.push(self.skeleton(index));
                        task.left_out = Some(reason);
                        return task;
                    }
                }
                step.status.extend(path.not_found());
                task.steps.extend(path.before.iter().cloned());
                if op.method == "delete" && path.created() {
                    let between = self.reads_and_updates(index, &path);
                    if !between.is_empty() {
                        task.comments.push(
                            "create -> read -> update -> delete: the delete removes only what \
                             this iteration made"
                                .into(),
                        );
                    }
                    task.steps.extend(between);
                }
                task.steps.push(step);
            }
            Err(e) => {
                task.steps.push(self.skeleton(index));
                task.left_out = Some(e.to_string());
            }
        }
        task
    }

    /// The reads and updates written for the same path as the delete `ops[index]`, with
    /// its path values, in read-then-update order.
    fn reads_and_updates(&mut self, index: usize, path: &path::PathValues) -> Vec<StepDraft> {
        let mut steps = Vec::new();
        for method in ["get", "put", "patch"] {
            let sibling = self.selected.iter().copied().find(|&i| {
                i != index
                    && self.ops[i].method == method
                    && self.ops[i].path == self.ops[index].path
                    && identity::left_out(self.doc, &self.ops[i]).is_none()
            });
            let Some(i) = sibling else { continue };
            if let Ok(mut step) = self.request(i, &path.values) {
                if identity::keep_credentials(self.doc, &self.ops[i], &mut step.body).is_ok() {
                    step.status.extend(path.not_found());
                    steps.push(step);
                }
            }
        }
        steps
    }

    /// The request step for `ops[index]` with its path parameters filled, its optional
    /// parameters at their defaults (see [`Builder::request_with`]).
    fn request(
        &mut self,
        index: usize,
        values: &BTreeMap<String, PathValue>,
    ) -> Result<StepDraft, GenError> {
        self.request_with(index, values, false)
    }

    /// The request step; an optional parameter is sent with a generated value only when
    /// `optional` is set, else at its documented default (when there is one) or not at
    /// all. Paging parameters stay at the first page either way.
    fn request_with(
        &mut self,
        index: usize,
        values: &BTreeMap<String, PathValue>,
        optional: bool,
    ) -> Result<StepDraft, GenError> {
        let op = &self.ops[index];
        let mut step = self.skeleton(index);
        step.url = fill_path(&op.path, values);
        let mut cookies: Vec<String> = Vec::new();
        for (p, at) in &op.parameters {
            let (Some(name), Some(place)) = (
                p.get("name").and_then(Value::as_str),
                p.get("in").and_then(Value::as_str),
            ) else {
                continue;
            };
            if place == "path" || (place == "header" && is_reserved_header(name)) {
                continue;
            }
            let required = p.get("required").and_then(Value::as_bool) == Some(true);
            let schema = parameter_schema(p);
            let schema_at = format!("{at}/schema");
            if !required {
                let fixed = self.optional_value(name, &schema, &schema_at, optional);
                match (fixed, place) {
                    (Some((value, note)), "query") => {
                        step.query
                            .push((name.to_string(), Gen::Literal(value), note));
                        continue;
                    }
                    (Some((value, note)), "header") => {
                        step.headers.push((
                            name.to_ascii_lowercase(),
                            text(&Gen::Literal(value)),
                            note,
                        ));
                        continue;
                    }
                    (Some((value, _)), "cookie") => {
                        cookies.push(format!("{name}={}", text(&Gen::Literal(value))));
                        continue;
                    }
                    (None, _) if !optional || params::paging(name).is_some() => continue,
                    _ => {}
                }
            }
            let g = match self.parameter_example(p, &schema, at) {
                Some(g) => Ok(g),
                None => Generator::new(self.doc).generate(&schema, &schema_at),
            };
            let g = match (g, required) {
                (Ok(g), _) => g,
                (Err(_), false) => continue,
                (Err(e), true) => return Err(e),
            };
            // A list in the query string is the key repeated (`?tag=a&tag=b`): keep every
            // item, so `minItems` holds. Headers and cookies take one value.
            let g_gen = match (place, g.gen) {
                ("query", Gen::Array(items))
                    if items.iter().all(|i| scalar(i.clone()).is_some()) && !items.is_empty() =>
                {
                    step.query.push((
                        name.to_string(),
                        Gen::Array(items.into_iter().filter_map(scalar).collect()),
                        if required {
                            g.note
                        } else {
                            format!("{}, optional", g.note)
                        },
                    ));
                    continue;
                }
                (_, other) => other,
            };
            let value = match scalar(g_gen) {
                Some(v) => v,
                None if !required => continue,
                None => {
                    return Err(GenError::unsatisfiable(
                        &schema_at,
                        format!(
                        "{place} parameter `{name}` is an object, which barrage cannot send there"
                    ),
                    ))
                }
            };
            let note = if required {
                g.note
            } else {
                format!("{}, optional", g.note)
            };
            match place {
                "query" => step.query.push((name.to_string(), value, note)),
                "header" if !header_name(name) => step.comments.push(format!(
                    "header parameter `{name}` left out: not a valid header name"
                )),
                "header" => step
                    .headers
                    .push((name.to_ascii_lowercase(), text(&value), note)),
                "cookie" => cookies.push(format!("{name}={}", text(&value))),
                _ => {}
            }
        }
        let (body, content_type) = body(self.doc, op)?;
        step.body = body;
        // A header the document also lists as a parameter is set once: the body's type
        // and the credentials below win over the generated parameter (a step with the same
        // header twice does not read).
        let unset = |headers: &mut Vec<(String, String, String)>, name: &str| {
            headers.retain(|(n, ..)| !n.eq_ignore_ascii_case(name));
        };
        if let Some(ct) = content_type {
            unset(&mut step.headers, "content-type");
            step.headers
                .push(("content-type".into(), ct, String::new()));
        }
        match security::for_operation(self.doc, op) {
            Ok(credentials) => {
                for c in credentials {
                    if let Credential::Header { value, .. }
                    | Credential::Query { value, .. }
                    | Credential::Cookie { value, .. } = &c
                    {
                        self.env.extend(env_names(value));
                    }
                    match c {
                        Credential::Header { name, .. } if !header_name(&name) => {
                            step.comments.push(format!(
                                "security header `{name}` left out: not a valid header name"
                            ));
                        }
                        Credential::Header { name, value, note } => {
                            unset(&mut step.headers, &name);
                            step.headers.push((name, value, note))
                        }
                        Credential::Query { name, value, note } => {
                            step.query.retain(|(n, ..)| *n != name);
                            step.query.push((
                                name,
                                Gen::Leaf(crate::values::Leaf::Text(value)),
                                note,
                            ));
                        }
                        Credential::Cookie { name, value, .. } => {
                            cookies.push(format!("{name}={value}"))
                        }
                        Credential::Login(login) => {
                            unset(&mut step.headers, "authorization");
                            step.headers.push((
                                "authorization".into(),
                                format!("Bearer {{{{ {} }}}}", login.var),
                                format!("token from the `{}` login in setup", login.scheme),
                            ));
                            if !self.logins.iter().any(|l| l.scheme == login.scheme) {
                                self.logins.push(login);
                            }
                        }
                    }
                }
            }
            Err(e) => step.comments.push(format!("security not generated: {e}")),
        }
        if !cookies.is_empty() {
            unset(&mut step.headers, "cookie");
            step.headers.push((
                "cookie".into(),
                cookies.join("; "),
                "cookie parameters".into(),
            ));
        }
        let (status, schemas) = self.responses(op)?;
        step.status = status;
        step.schemas = schemas;
        Ok(step)
    }

    /// Accepted statuses (and, with `--check-responses`, the schemas their bodies must
    /// match).
    #[allow(clippy::type_complexity)]
    fn responses(
        &self,
        op: &Operation<'_>,
    ) -> Result<(Vec<(String, String)>, Vec<(String, Value)>), GenError> {
        let documented: Vec<String> = op
            .op
            .get("responses")
            .and_then(Value::as_object)
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        let success: Vec<&String> = documented
            .iter()
            .filter(|c| c.starts_with('2') || c.starts_with('3'))
            .collect();
        if success.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        if !self.opts.check_responses {
            let listed: Vec<&str> = success.iter().map(|s| s.as_str()).collect();
            return Ok((
                vec![(
                    "2xx".to_string(),
                    format!("any success; the document lists {}", listed.join(", ")),
                )],
                Vec::new(),
            ));
        }
        let mut status = Vec::new();
        let mut schemas = Vec::new();
        for code in success {
            let key = code.to_ascii_lowercase();
            status.push((key.clone(), "documented".to_string()));
            let at = format!("{}/responses/{}", op.pointer, escape_pointer(code));
            let response = self.doc.resolve(&op.op["responses"][code.as_str()], &at)?;
            let Some(schema) = json_schema(response) else {
                continue;
            };
            if schema.as_object().is_some_and(|o| o.is_empty()) {
                continue;
            }
            schemas.push((key, crate::conformance::bundle_lean(self.doc, schema, &at)?));
        }
        Ok((status, schemas))
    }

    /// A parameter's own example(s), when valid: `example`, or the first valid of
    /// `examples` (a map of Example objects).
    fn parameter_example(&self, p: &Value, schema: &Value, at: &str) -> Option<Generated> {
        let mut candidates: Vec<Value> = p.get("example").cloned().into_iter().collect();
        if let Some(examples) = p.get("examples").and_then(Value::as_object) {
            for e in examples.values() {
                if let Some(v) = self.doc.resolve(e, at).ok().and_then(|e| e.get("value")) {
                    candidates.push(v.clone());
                }
            }
        }
        let valid = candidates
            .into_iter()
            .find(|e| crate::conformance::is_valid(self.doc, schema, at, e))?;
        Some(Generated {
            gen: Gen::Literal(valid),
            note: "example".into(),
        })
    }

    /// The step with only method, URL and name: the start of every step, and what a task
    /// left out still shows.
    fn skeleton(&self, index: usize) -> StepDraft {
        let op = &self.ops[index];
        StepDraft {
            comments: Vec::new(),
            method: op.method,
            url: op.path.replace("{{", "{{ \"{{\" }}"),
            name: op.path.clone(),
            query: Vec::new(),
            headers: Vec::new(),
            body: BodyDraft::None,
            save: Vec::new(),
            status: Vec::new(),
            schemas: Vec::new(),
        }
    }
}

/// The setup step that logs in.
pub fn login_step(login: &Login) -> StepDraft {
    let form = login
        .form
        .iter()
        .map(|(k, v)| {
            let value = if v.contains("{{") {
                Gen::Leaf(crate::values::Leaf::Text(v.clone()))
            } else {
                Gen::Literal(Value::String(v.clone()))
            };
            (k.clone(), value, String::new())
        })
        .collect();
    StepDraft {
        comments: vec![format!(
            "OAuth2 login (`{}`): set {} in the environment",
            login.scheme,
            login.env.join(" and ")
        )],
        method: "post",
        url: login.token_url.clone(),
        name: login.token_url.clone(),
        query: Vec::new(),
        headers: Vec::new(),
        body: BodyDraft::Form(form),
        save: vec![SaveDraft {
            var: login.var.clone(),
            json_path: "$.access_token".into(),
            default: None,
        }],
        status: vec![("2xx".into(), String::new())],
        schemas: Vec::new(),
    }
}

/// The variables `env("NAME", ...)` calls in a template read.
fn env_names(template: &str) -> Vec<String> {
    template
        .split("env(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

/// The names in a path template, in order (`/a/{x}/b/{y}` -> x, y).
fn path_names(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push(rest[open + 1..open + close].to_string());
        rest = &rest[open + close + 1..];
    }
    out
}

fn fill_path(path: &str, values: &BTreeMap<String, PathValue>) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..open]);
        let name = &rest[open + 1..open + close];
        match values.get(name) {
            Some(PathValue::Var(var)) => out.push_str(&format!("{{{{ {var} }}}}")),
            Some(PathValue::Generated(g)) => out.push_str(&text(g)),
            None => out.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// Whether `name` can be sent as a header name (RFC 9110's token): a document may name a
/// header parameter with a space or worse, and a step with it would not read.
fn header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A generated scalar as template text (for paths, headers, cookies).
fn text(g: &Gen) -> String {
    match g {
        Gen::Leaf(leaf) => leaf.template(),
        Gen::Literal(Value::String(s)) => s.replace("{{", "{{ \"{{\" }}"),
        Gen::Literal(v) => v.to_string(),
        Gen::Object(_) | Gen::Array(_) => String::new(),
    }
}

/// A parameter value that can go in a query, header or cookie: lists send their first
/// item (one `?tag=x` is a valid list), objects cannot be sent.
fn scalar(g: Gen) -> Option<Gen> {
    match g {
        Gen::Array(mut items) if !items.is_empty() => scalar(items.remove(0)),
        Gen::Literal(Value::Array(mut items)) if !items.is_empty() => {
            scalar(Gen::Literal(items.remove(0)))
        }
        Gen::Object(_) | Gen::Array(_) | Gen::Literal(Value::Object(_) | Value::Array(_)) => None,
        other => Some(other),
    }
}

/// The documented path parameter `name` of `op` and where it is.
fn path_parameter<'v>(op: &'v Operation<'_>, name: &str) -> Option<(&'v Value, &'v String)> {
    op.parameters
        .iter()
        .find(|(p, _)| {
            p.get("in").and_then(Value::as_str) == Some("path")
                && p.get("name").and_then(Value::as_str) == Some(name)
        })
        .map(|(p, at)| (*p, at))
}

/// `schema`, or the schema of the first `content` entry (parameters may use either).
fn parameter_schema(p: &Value) -> Value {
    p.get("schema")
        .or_else(|| {
            p.get("content")
                .and_then(Value::as_object)
                .and_then(|c| c.values().next())
                .and_then(|m| m.get("schema"))
        })
        .cloned()
        .unwrap_or(Value::Bool(true))
}

/// Header parameters never generated: OpenAPI says `Accept`, `Content-Type` and
/// `Authorization` are ignored (the media type and security set them); `Host` must stay
/// the real one (FastAPI header models document it, and a generated one breaks routing
/// behind any proxy); the framing headers are barrage's own.
fn is_reserved_header(name: &str) -> bool {
    [
        "accept",
        "content-type",
        "authorization",
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
    ]
    .contains(&name.to_ascii_lowercase().as_str())
}

/// A scenario variable name for a path parameter: an identifier, never a built-in.
pub fn var_name(param: &str) -> String {
    let mut v: String = param
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !v.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        v.insert(0, '_');
    }
    if matches!(v.as_str(), "user_id" | "iteration" | "token") {
        v.push_str("_param");
    }
    v
}

/// A user type name for a tag.
pub fn user_name(tag: &str) -> String {
    let s = yaml::scalar(tag);
    if s.is_empty() {
        "default".into()
    } else {
        tag.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fill_with_variables_and_values() {
        let mut values = BTreeMap::new();
        values.insert("a".to_string(), PathValue::Var("a".into()));
        values.insert(
            "b".to_string(),
            PathValue::Generated(Gen::Literal(Value::from(7))),
        );
        assert_eq!(fill_path("/x/{a}/y/{b}", &values), "/x/{{ a }}/y/7");
        assert_eq!(path_names("/x/{a}/y/{b}"), ["a", "b"]);
        assert_eq!(var_name("item-id"), "item_id");
        assert_eq!(var_name("user_id"), "user_id_param");
    }
}
