//! Compiling one request step: URL, query, headers, body, saves and checks, each template
//! bound to slots and checked against the variables that exist at that point.

use std::collections::BTreeSet;

use barrage_scenario::{Body, RequestStep, Span, Spanned, Value};
use barrage_template::{CompiledCheck, Extractor, JsonTemplate, Slot, Template};
use http::{HeaderName, HeaderValue};

use super::{unquote, Compiler, Defaults};

mod multipart;
mod stream;
use crate::plan::*;

impl Compiler<'_> {
    pub(super) fn request(
        &mut self,
        r: &RequestStep,
        defaults: &Defaults,
        available: &BTreeSet<String>,
        saved_elsewhere: &BTreeSet<String>,
        has_base: bool,
    ) -> Option<RequestPlan> {
        let errors_before = self.error_count();
        let method = http::Method::from_bytes(r.method.value.as_str().as_bytes())
            .expect("scenario methods are valid HTTP tokens");
        let absolute = r.url.value.starts_with("http://") || r.url.value.starts_with("https://");
        if !absolute && !has_base {
            self.error(
                r.url.span,
                "a path needs a target to be sent to",
                Some("set `target: http://127.0.0.1:8000` at the top, or pass -H/--host".into()),
            );
        }
        if !absolute && !r.url.value.starts_with('/') && !r.url.value.starts_with("{{") {
            self.error(
                r.url.span,
                format!("`{}` is neither a path nor a URL", r.url.value),
                Some(format!("start it with a slash: `/{}`", r.url.value)),
            );
        }
        let url = self.template(&r.url.value, r.url.span, available, saved_elsewhere);
        let name = r
            .name
            .as_ref()
            .map_or_else(|| r.url.value.clone(), |n| n.value.clone());
        let endpoint = self.endpoint(method.as_str(), &name);

        let mut query = Vec::new();
        for (k, v) in &r.query {
            // A list sends the key once per item (`?tag=a&tag=b`), as FastAPI, requests and
            // most frameworks read a list from a query string.
            let items: Vec<&Spanned<Value>> = match &v.value {
                Value::Seq(items) => items.iter().collect(),
                _ => vec![v],
            };
            for item in items {
                let text = value_text(&item.value);
                if let Some(t) = self.template(&text, item.span, available, saved_elsewhere) {
                    query.push((form_encode(&k.value), t));
                }
            }
        }

        let mut headers: Vec<(HeaderName, HeaderPlan)> = Vec::new();
        for (name, value) in &r.headers {
            if let Some(h) = self.header(name, value, available, saved_elsewhere) {
                headers.push(h);
            }
        }
        for (name, value) in &defaults.headers {
            if !headers.iter().any(|(n, _)| n == name) {
                headers.push((name.clone(), clone_header_plan(value)));
            }
        }

        let (body, implied_type) = match &r.body {
            None => (BodyPlan::None, None),
            Some(Body::Json(v)) => {
                let names = json_names(v);
                let ok = self.check_names(names, available, saved_elsewhere);
                let mut resolve = |n: &str| self.resolve(n);
                match JsonTemplate::compile(v, &mut resolve) {
                    Ok(t) if ok => (BodyPlan::Json(t), Some("application/json")),
                    Ok(_) => (BodyPlan::None, None),
                    Err((span, e)) => {
                        let text = self.source.text.get(span.start..span.end).unwrap_or("");
                        let inner = unquote(text).to_string();
                        self.template_error(&inner, span, e);
                        (BodyPlan::None, None)
                    }
                }
            }
            Some(Body::Form(fields)) => {
                let mut out = Vec::new();
                for (k, v) in fields {
                    let text = value_text(&v.value);
                    if let Some(t) = self.template(&text, v.span, available, saved_elsewhere) {
                        out.push((form_encode(&k.value), t));
                    }
                }
                (
                    BodyPlan::Form(out),
                    Some("application/x-www-form-urlencoded"),
                )
            }
            Some(Body::Raw(text)) => {
                let t = self.template(&text.value, text.span, available, saved_elsewhere);
                (t.map_or(BodyPlan::None, BodyPlan::Raw), None)
            }
            Some(Body::Multipart(fields)) => {
                let plan = self.multipart(fields, available, saved_elsewhere);
                (plan.map_or(BodyPlan::None, BodyPlan::Multipart), None)
            }
        };
        let has_content_type = headers.iter().any(|(n, _)| n == http::header::CONTENT_TYPE);
        let content_type = implied_type
            .filter(|_| !has_content_type)
            .map(HeaderValue::from_static);
        // A multipart body's content type carries its boundary: only the body can set it.
        let content_type = match &body {
            BodyPlan::Multipart(m) => {
                if let Some((name, _)) = r.headers.iter().find(|(n, _)| {
                    n.value
                        .eq_ignore_ascii_case(http::header::CONTENT_TYPE.as_str())
                }) {
                    self.error(
                        name.span,
                        "a `multipart:` body sets its own content-type (with its boundary)",
                        Some("remove this header".to_string()),
                    );
                }
                Some(m.content_type())
            }
            _ => content_type,
        };

        let mut saves = Vec::new();
        for save in &r.save {
            if matches!(save.var.value.as_str(), "user_id" | "iteration")
                || self.data_names.contains(&save.var.value)
            {
                self.error(
                    save.var.span,
                    format!(
                        "`{}` is a built-in name and cannot be saved to",
                        save.var.value
                    ),
                    None,
                );
            }
            // Event and count saves read the stream (`compile/request/stream.rs`).
            if save.event.is_some() || save.source.value == barrage_scenario::SaveSource::Events {
                continue;
            }
            match Extractor::compile(&save.source.value) {
                Ok(extractor) => saves.push(SavePlan {
                    slot: self.resolve(&save.var.value).map_or(0, |s| match s {
                        Slot::Var(v) => v,
                        _ => 0,
                    }),
                    what: describe_source(&save.source.value),
                    extractor,
                    default: save.default.as_ref().map(|d| value_to_json(&d.value)),
                }),
                Err(e) => self.error(save.source.span, e.to_string(), None),
            }
        }

        // Checks run after the step's own saves, so they may use them.
        let mut after = available.clone();
        after.extend(r.save.iter().map(|s| s.var.value.clone()));
        let check = {
            let resolve_ok = |c: &Compiler<'_>, n: &str| c.resolve(n);
            let mut resolve = |n: &str| resolve_ok(self, n);
            CompiledCheck::compile(&r.check, &mut resolve)
        };
        let check = match check {
            Ok(check) => {
                let names = check.names();
                self.check_names(names, &after, saved_elsewhere);
                Some(check)
            }
            Err((span, message, help)) => {
                self.error(span, message, help);
                None
            }
        };

        if self.error_count() > errors_before {
            return None;
        }
        let check = check?;
        let check_ids = check
            .items()
            .iter()
            .map(|item| self.check_id(endpoint, item.name()))
            .collect();
        let stream = self.stream_plan(r, endpoint, &after, saved_elsewhere);
        if self.error_count() > errors_before {
            return None;
        }
        let keep_body = !saves.is_empty() || !check.items().is_empty();
        let reads_headers =
            saves.iter().any(|s| s.extractor.reads_headers()) || check.reads_headers();
        let url = url?;
        let url = if absolute {
            UrlPlan::Absolute(url)
        } else {
            UrlPlan::Path(url)
        };
        let fixed = RequestPlan::renders_the_same(&url, &query, &headers, &body).then(|| {
            self.fixed_steps += 1;
            self.fixed_steps - 1
        });
        Some(RequestPlan {
            fixed,
            endpoint,
            method: method.clone(),
            url,
            query,
            headers,
            body,
            content_type,
            saves,
            check,
            check_ids,
            timeout: r.timeout.as_ref().map_or(defaults.timeout, |t| t.value),
            max_body: r.max_body_size.as_ref().map_or(defaults.max_body, |m| {
                usize::try_from(m.value).unwrap_or(usize::MAX)
            }),
            stop_on_failure: r.on_failure.value == barrage_scenario::OnFailure::StopIteration,
            keep_body,
            reads_headers,
            label: format!("{} {}", method.as_str(), name),
            stream,
        })
    }
}

pub(super) fn describe_source(s: &barrage_scenario::SaveSource) -> String {
    use barrage_scenario::SaveSource;
    match s {
        SaveSource::JsonPath(p) => p.clone(),
        SaveSource::Header(h) => format!("header `{h}`"),
        SaveSource::Regex { pattern, group } => format!("regex `{pattern}` group {group}"),
        SaveSource::Status => "status".to_string(),
        SaveSource::Data => "the event's data".to_string(),
        SaveSource::Events => "the event count".to_string(),
    }
}

pub(super) fn clone_header_plan(h: &HeaderPlan) -> HeaderPlan {
    match h {
        HeaderPlan::Static(v) => HeaderPlan::Static(v.clone()),
        HeaderPlan::Dynamic(t) => HeaderPlan::Dynamic(t.clone()),
    }
}

pub(super) fn json_names(v: &Spanned<Value>) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    collect_json_names(v, &mut out);
    out
}

fn collect_json_names(v: &Spanned<Value>, out: &mut Vec<(String, Span)>) {
    match &v.value {
        Value::String(s) => {
            // Parse errors are reported by JsonTemplate::compile; names only matter for
            // strings that parse.
            if let Ok(t) = Template::parse(s) {
                out.extend(t.names().into_iter().map(|(n, _, _)| (n, v.span)));
            }
        }
        Value::Seq(items) => items.iter().for_each(|i| collect_json_names(i, out)),
        Value::Map(entries) => entries
            .iter()
            .for_each(|(_, val)| collect_json_names(val, out)),
        _ => {}
    }
}

/// The text of a scalar as a template source (numbers and booleans as written).
fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::String(s) => s.clone(),
        Value::Seq(_) | Value::Map(_) => value_to_json(v).to_string(),
    }
}

pub(crate) fn value_to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => (*i).into(),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::String(s) => s.clone().into(),
        Value::Seq(items) => items.iter().map(|i| value_to_json(&i.value)).collect(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| (k.value.clone(), value_to_json(&v.value)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
