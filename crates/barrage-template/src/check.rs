//! [`CompiledCheck`]: what makes a response count as failed, compiled once per step.
//!
//! A check is a status rule plus named items (`$.id exists`, `body contains "ok"`,
//! `response time <= 500ms`). Items are evaluated one by one and reported by index, so the
//! engine counts passes and failures per item with no strings on the hot path; the
//! description of a failure (`expected "x", got "y"`) is a closure the engine calls only
//! when it wants the text, so a passing check builds no message at all.
//!
//! Equality follows JSON, not text: numbers compare by value (`1` equals `1.0`), objects
//! regardless of key order. Expected strings may be templates; a whole-expression template
//! keeps its type (`'$.id': "{{ id }}"` compares with the saved number).

use std::time::Duration;

use http::HeaderName;
use memchr::memmem::Finder;
use serde_json::Value;
use serde_json_path::JsonPath;

use barrage_scenario::{Check, JsonExpect, Span, Spanned, StatusMatch, Value as YamlValue};

use crate::ctx::{RenderCtx, Slot};
use crate::error::TemplateError;
use crate::extract::{compile_json_path, ResponseView};
use crate::json_template::JsonTemplate;
use crate::schema_check::SchemaRule;
use crate::template::Template;

/// Longest value shown in a failure description; longer ones are cut with `...`.
const MAX_SHOWN: usize = 200;

/// A compile error: where in the scenario, what, and how to fix it.
pub type CheckError = (Span, String, Option<String>);

/// What [`CompiledCheck::evaluate`] calls for each item: `(index, passed, detail)`, where
/// `detail()` builds the failure description on demand.
pub type ReportFn<'a> = dyn FnMut(usize, bool, &dyn Fn() -> String) + 'a;

/// A compiled `check:`.
#[derive(Debug, Clone)]
pub struct CompiledCheck {
    status: Vec<StatusMatch>,
    items: Vec<CheckItem>,
    names: Vec<(String, Span)>,
}

/// One named rule of a check.
#[derive(Debug, Clone)]
pub struct CheckItem {
    name: String,
    rule: Rule,
}

impl CheckItem {
    /// The item's name as reports show it (`$.id exists`, `header content-type == "..."`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name of what the item compares a value of, when a failure would show that
    /// value: a header's name, or the last key of a JSON path (`$.data.access_token` ->
    /// `access_token`). A redactor decides from it whether the value is a secret.
    pub fn subject(&self) -> Option<&str> {
        match &self.rule {
            Rule::Header { name, .. } => Some(name.as_str()),
            Rule::JsonEquals { .. } => {
                let path = self.name.split(" == ").next()?;
                let last = path.rsplit(['.', '[']).next()?;
                Some(last.trim_end_matches(']').trim_matches(['\'', '"']))
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
enum Rule {
    JsonExists(JsonPath),
    JsonEquals {
        path: JsonPath,
        expected: Expected,
    },
    BodyContains(Needle),
    Header {
        name: HeaderName,
        expected: Template,
    },
    MaxLatency(Duration),
    /// `schema:` entry: the JSON body of a response it applies to must validate.
    Schema(SchemaRule),
}

#[derive(Debug, Clone)]
enum Expected {
    Static(Value),
    /// A string with templates.
    Template(Template),
    /// A list or map with templates inside.
    Json(JsonTemplate),
}

#[derive(Debug, Clone)]
enum Needle {
    Static(Finder<'static>),
    Template(Template),
}

impl CompiledCheck {
    /// Compiles `c`, binding its templates with `resolve`.
    pub fn compile(
        c: &Check,
        resolve: &mut dyn FnMut(&str) -> Option<Slot>,
    ) -> Result<CompiledCheck, CheckError> {
        let mut names = Vec::new();
        let mut items = Vec::new();
        for (path, expect) in &c.json {
            let json_path =
                compile_json_path(&path.value).map_err(|e| (path.span, e.to_string(), None))?;
            let (name, rule) = match &expect.value {
                JsonExpect::Exists => (
                    format!("{} exists", path.value),
                    Rule::JsonExists(json_path),
                ),
                JsonExpect::Equals(v) => {
                    let name = format!("{} == {}", path.value, written_json(v));
                    let expected = match v {
                        YamlValue::String(s) => {
                            let t = compile_string(
                                &Spanned::new(s.clone(), expect.span),
                                resolve,
                                &mut names,
                            )?;
                            match t.as_static() {
                                Some(text) => Expected::Static(Value::String(text.to_string())),
                                None => Expected::Template(t),
                            }
                        }
                        _ => {
                            let spanned = Spanned::new(v.clone(), expect.span);
                            let t = JsonTemplate::compile(&spanned, resolve)
                                .map_err(|(span, e)| (span, e.message, e.help))?;
                            names.extend(t.names());
                            match t.as_static().and_then(|b| serde_json::from_slice(b).ok()) {
                                Some(v) => Expected::Static(v),
                                None => Expected::Json(t),
                            }
                        }
                    };
                    (
                        name,
                        Rule::JsonEquals {
                            path: json_path,
                            expected,
                        },
                    )
                }
            };
            items.push(CheckItem { name, rule });
        }
        for needle in &c.body_contains {
            let t = compile_string(needle, resolve, &mut names)?;
            let rule = match t.as_static() {
                Some(text) => {
                    Rule::BodyContains(Needle::Static(Finder::new(text.as_bytes()).into_owned()))
                }
                None => Rule::BodyContains(Needle::Template(t)),
            };
            items.push(CheckItem {
                name: format!("body contains {}", quoted(&needle.value)),
                rule,
            });
        }
        for (header, value) in &c.headers {
            let name = HeaderName::from_bytes(header.value.trim().as_bytes()).map_err(|_| {
                (
                    header.span,
                    format!("`{}` is not a valid header name", header.value),
                    None,
                )
            })?;
            let expected = compile_string(value, resolve, &mut names)?;
            items.push(CheckItem {
                name: format!("header {} == {}", name.as_str(), quoted(&value.value)),
                rule: Rule::Header { name, expected },
            });
        }
        for (name, rule) in crate::schema_check::compile(&c.schema)? {
            items.push(CheckItem {
                name,
                rule: Rule::Schema(rule),
            });
        }
        if let Some(max) = &c.max_latency {
            items.push(CheckItem {
                name: format!("response time <= {}", format_duration(max.value)),
                rule: Rule::MaxLatency(max.value),
            });
        }
        Ok(CompiledCheck {
            status: c.status.iter().map(|s| s.value).collect(),
            items,
            names,
        })
    }

    /// Whether `status` is accepted: one of the listed codes or classes, or below 400 when
    /// none are listed.
    pub fn status_ok(&self, status: u16) -> bool {
        if self.status.is_empty() {
            status < 400
        } else {
            self.status.iter().any(|m| m.matches(status))
        }
    }

    /// The status rule in words, for failure messages: `status < 400`, `status in [201]`.
    pub fn status_description(&self) -> String {
        if self.status.is_empty() {
            return "status < 400".to_string();
        }
        let list: Vec<String> = self
            .status
            .iter()
            .map(|m| match m {
                StatusMatch::Code(c) => c.to_string(),
                StatusMatch::Class(c) => format!("{c}xx"),
            })
            .collect();
        format!("status in [{}]", list.join(", "))
    }

    /// The items besides status, in evaluation (and report) order.
    pub fn items(&self) -> &[CheckItem] {
        &self.items
    }

    /// Whether any item looks at a response header (the others need none built).
    pub fn reads_headers(&self) -> bool {
        self.items
            .iter()
            .any(|i| matches!(i.rule, Rule::Header { .. }))
    }

    /// Variables the check's templates reference, with the span of the string each is in.
    pub fn names(&self) -> Vec<(String, Span)> {
        self.names.clone()
    }

    /// Evaluates every item (not the status) and calls `report(index, passed, detail)` for
    /// each; `detail` describes a failure and is only worth calling when `passed` is false.
    pub fn evaluate(
        &self,
        r: &ResponseView<'_>,
        response_time: Duration,
        ctx: &mut RenderCtx<'_>,
        report: &mut ReportFn<'_>,
    ) {
        for (index, item) in self.items.iter().enumerate() {
            item.evaluate(index, r, response_time, ctx, report);
        }
    }
}

impl CheckItem {
    fn evaluate(
        &self,
        index: usize,
        r: &ResponseView<'_>,
        response_time: Duration,
        ctx: &mut RenderCtx<'_>,
        report: &mut ReportFn<'_>,
    ) {
        match &self.rule {
            Rule::JsonExists(path) => match r.json() {
                None => report(index, false, &not_json),
                Some(json) => {
                    let found = !path.query(json).is_empty();
                    report(index, found, &|| "no match".to_string());
                }
            },
            Rule::JsonEquals { path, expected } => {
                let Some(json) = r.json() else {
                    return report(index, false, &not_json);
                };
                let rendered;
                let expected: &Value = match expected {
                    Expected::Static(v) => v,
                    Expected::Template(t) => match t.eval(ctx) {
                        Ok(v) => {
                            rendered = v;
                            &rendered
                        }
                        Err(e) => return report(index, false, &|| e.message.clone()),
                    },
                    Expected::Json(t) => {
                        let mut bytes = Vec::new();
                        let parsed = t
                            .render_json(ctx, &mut bytes)
                            .map_err(|e| e.message)
                            .and_then(|()| {
                                serde_json::from_slice(&bytes).map_err(|e| e.to_string())
                            });
                        match parsed {
                            Ok(v) => {
                                rendered = v;
                                &rendered
                            }
                            Err(m) => return report(index, false, &|| m.clone()),
                        }
                    }
                };
                match path.query(json).first() {
                    None => report(index, false, &|| {
                        format!("expected {}, got no match", shown(expected))
                    }),
                    Some(actual) => report(index, json_eq(expected, actual), &|| {
                        format!("expected {}, got {}", shown(expected), shown(actual))
                    }),
                }
            }
            Rule::BodyContains(needle) => match needle {
                Needle::Static(finder) => {
                    let found = finder.find(r.body()).is_some();
                    report(index, found, &|| {
                        let text = String::from_utf8_lossy(finder.needle());
                        format!("body does not contain {}", quoted(&text))
                    });
                }
                Needle::Template(t) => {
                    let mut text = String::new();
                    if let Err(e) = t.render(ctx, &mut text) {
                        return report(index, false, &|| e.message.clone());
                    }
                    let found = memchr::memmem::find(r.body(), text.as_bytes()).is_some();
                    report(index, found, &|| {
                        format!("body does not contain {}", quoted(&text))
                    });
                }
            },
            Rule::Header { name, expected } => {
                let owned;
                let expected: &str = match expected.as_static() {
                    Some(text) => text,
                    None => {
                        let mut text = String::new();
                        if let Err(e) = expected.render(ctx, &mut text) {
                            return report(index, false, &|| e.message.clone());
                        }
                        owned = text;
                        &owned
                    }
                };
                let values = r.headers().get_all(name);
                let passed = values.iter().any(|v| v.as_bytes() == expected.as_bytes());
                report(index, passed, &|| match values.iter().next() {
                    None => format!("expected {}, got no `{name}` header", quoted(expected)),
                    Some(v) => format!(
                        "expected {}, got {}",
                        quoted(expected),
                        quoted(&String::from_utf8_lossy(v.as_bytes()))
                    ),
                });
            }
            Rule::Schema(rule) => {
                if !rule.applies(r.status()) {
                    return;
                }
                match r.json() {
                    None => report(index, false, &|| {
                        format!("response body is not JSON; body: {}", body_sample(r.body()))
                    }),
                    Some(json) => report(index, rule.is_valid(json), &|| {
                        format!("{}; body: {}", rule.describe(json), body_sample(r.body()))
                    }),
                }
            }
            Rule::MaxLatency(max) => {
                report(index, response_time <= *max, &|| {
                    format!("took {:.1}ms", response_time.as_secs_f64() * 1000.0)
                });
            }
        }
    }
}

/// Parses and binds one string of a check, collecting the names it uses.
fn compile_string(
    s: &Spanned<String>,
    resolve: &mut dyn FnMut(&str) -> Option<Slot>,
    names: &mut Vec<(String, Span)>,
) -> Result<Template, CheckError> {
    let mut t = Template::parse(&s.value).map_err(|e| template_error(s.span, &s.value, e))?;
    names.extend(t.names().into_iter().map(|(n, _, _)| (n, s.span)));
    t.bind(resolve)
        .map_err(|e| template_error(s.span, &s.value, e))?;
    Ok(t)
}

/// The start of a body, as text, for a failure message.
fn body_sample(body: &[u8]) -> String {
    cut(String::from_utf8_lossy(body).into_owned())
}

fn not_json() -> String {
    "response body is not JSON".to_string()
}

/// JSON equality with numbers compared by value.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(i), Some(j)) => i == j,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, a)| y.get(k).is_some_and(|b| json_eq(a, b)))
        }
        _ => a == b,
    }
}

/// A JSON value as text for a failure message, cut to a readable length.
fn shown(v: &Value) -> String {
    cut(v.to_string())
}

fn quoted(s: &str) -> String {
    cut(Value::from(s).to_string())
}

fn cut(mut s: String) -> String {
    if s.len() > MAX_SHOWN {
        let mut at = MAX_SHOWN - 3;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
        s.push_str("...");
    }
    s
}

/// The expected value as the user wrote it (templates unrendered), as JSON text.
fn written_json(v: &YamlValue) -> String {
    fn to_json(v: &YamlValue) -> Value {
        match v {
            YamlValue::Null => Value::Null,
            YamlValue::Bool(b) => Value::Bool(*b),
            YamlValue::Int(n) => Value::from(*n),
            YamlValue::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            YamlValue::String(s) => Value::String(s.clone()),
            YamlValue::Seq(items) => {
                Value::Array(items.iter().map(|i| to_json(&i.value)).collect())
            }
            YamlValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.value.clone(), to_json(&v.value)))
                    .collect(),
            ),
        }
    }
    to_json(v).to_string()
}

/// `500ms`, `2s`, `1500ms`, `250µs`.
fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos.is_multiple_of(1_000_000_000) {
        format!("{}s", d.as_secs())
    } else if nanos.is_multiple_of(1_000_000) {
        format!("{}ms", d.as_millis())
    } else if nanos.is_multiple_of(1_000) {
        format!("{}µs", d.as_micros())
    } else {
        format!("{nanos}ns")
    }
}

/// A template error inside a check string, placed as precisely as the span allows: when
/// the string's span is its text (plain) or its text in quotes, the error's own range is
/// used; otherwise (escapes, block scalars) the whole string.
fn template_error(span: Span, src: &str, e: TemplateError) -> CheckError {
    let written = span.end.saturating_sub(span.start);
    let base = if written == src.len() + 2 {
        Some(span.start + 1)
    } else if written == src.len() {
        Some(span.start)
    } else {
        None
    };
    let at = match base {
        Some(base) if e.len > 0 => Span::new(base + e.offset, base + e.offset + e.len),
        _ => span,
    };
    (at, e.message, e.help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(format_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(format_duration(Duration::from_secs(2)), "2s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_micros(250)), "250µs");
    }

    #[test]
    fn numbers_compare_by_value() {
        use serde_json::json;
        assert!(json_eq(&json!(1), &json!(1.0)));
        assert!(json_eq(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
        assert!(!json_eq(&json!(1), &json!("1")));
        assert!(!json_eq(&json!([1]), &json!([1, 2])));
        assert!(json_eq(&json!(u64::MAX), &json!(u64::MAX)));
    }
}
