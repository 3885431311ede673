//! Compiling a [`Scenario`] into a [`Plan`], with every check `validate` promises.
//!
//! The scenario crate checked the file's shape; this pass checks its meaning: templates
//! parse and call known functions, JSONPaths and regexes compile, headers are valid, and
//! no step uses a variable before anything could have saved it. Variables are resolved to
//! slots here so the hot path indexes a vector instead of hashing a name.
//!
//! "Before it can exist" is decided per task, in order: a task may use what `setup` saved
//! and what its own earlier steps saved. A variable saved only by another task is a
//! warning (it exists once that task has run for this user, which a weighted pick may or
//! may not have done); a variable saved nowhere is an error.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use barrage_metrics::{CheckId, CheckInfo, EndpointId, EndpointInfo, Registry, TaskId, TaskInfo};
use barrage_scenario::{
    Body, Diagnostic, RequestStep, Scenario, Severity, SourceFile, Span, Spanned, Think, Value,
};
use barrage_template::{CompiledCheck, Extractor, JsonTemplate, Slot, Template, TemplateError};
use http::{HeaderName, HeaderValue};

use crate::data::load_table;
use crate::http::Origin;
use crate::plan::*;

/// Default response timeout, as Locust users would expect from `requests`-style clients
/// that wait long: generous, so slow answers are measured rather than cut off.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_MAX_REDIRECTS: u32 = 10;

/// The statistics' scenario name for a file with one scenario.
pub const DEFAULT_SCENARIO: &str = "default";

#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// `-H/--host`: replaces the file's `target`.
    pub host: Option<String>,
}

/// Compiles `scenario` (read from `source`) into a runnable plan, or says why it can't.
/// `Ok` carries warnings.
pub fn compile(
    scenario: &Scenario,
    source: &SourceFile,
    opts: &CompileOptions,
) -> Result<(Plan, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut c = Compiler {
        source,
        diags: Vec::new(),
        registry: Registry::default(),
        endpoints: HashMap::new(),
        checks: HashMap::new(),
        vars: Vec::new(),
        data_names: Vec::new(),
        data_columns: Vec::new(),
    };
    let base = c.base_url(scenario, opts);
    let data = c.data(scenario, source);
    c.collect_vars(scenario);

    let defaults = Defaults::from(scenario, &mut c);
    let mut users = Vec::new();
    for user in &scenario.users {
        let think = user
            .think
            .as_ref()
            .or(scenario.defaults.think.as_ref())
            .map(|t| t.value)
            .unwrap_or(Think::None);
        let mut available = BTreeSet::new();
        // Setup runs before any task, so nothing a task saves can help it.
        let setup = c.steps(
            &user.setup,
            &defaults,
            &mut available,
            &BTreeSet::new(),
            base.is_some(),
        );
        let mut tasks = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0u64;
        for (index, task) in user.tasks.iter().enumerate() {
            let mut avail = available.clone();
            let others = saved_in_other_tasks(user, index);
            let steps = c.steps(&task.steps, &defaults, &mut avail, &others, base.is_some());
            let id = TaskId(c.registry.tasks.len() as u32);
            c.registry.tasks.push(TaskInfo {
                scenario: DEFAULT_SCENARIO.to_string(),
                user: user.name.value.clone(),
                name: task.name.value.clone(),
            });
            total += u64::from(task.weight.value);
            cumulative.push(total);
            tasks.push(TaskPlan {
                id,
                name: task.name.value.clone(),
                steps,
            });
        }
        users.push(UserPlan {
            name: user.name.value.clone(),
            think,
            setup,
            tasks,
            cumulative_weights: cumulative,
        });
    }
    let weights: Vec<u32> = scenario.users.iter().map(|u| u.weight.value).collect();
    let user_cycle = smooth_weighted_cycle(&weights);

    if c.diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(c.diags);
    }
    let plan = Plan {
        registry: Arc::new(c.registry),
        base,
        users,
        user_cycle,
        var_names: c.vars,
        data,
        cookies: defaults.cookies,
        max_redirects: defaults.max_redirects,
        connect_timeout: defaults.connect_timeout,
    };
    Ok((plan, c.diags))
}

/// Settings from `defaults:`, with the engine's own defaults filled in.
struct Defaults {
    headers: Vec<(HeaderName, HeaderPlan)>,
    timeout: Duration,
    connect_timeout: Duration,
    cookies: bool,
    max_redirects: u32,
}

impl Defaults {
    fn from(s: &Scenario, c: &mut Compiler<'_>) -> Defaults {
        let d = &s.defaults;
        let mut headers = Vec::new();
        for (name, value) in &d.headers {
            // Defaults apply to setup too, before anything is saved: an empty set of
            // available variables makes a saved variable here an error.
            if let Some(h) = c.header(name, value, &BTreeSet::new(), &BTreeSet::new()) {
                headers.push(h);
            }
        }
        Defaults {
            headers,
            timeout: d.timeout.as_ref().map_or(DEFAULT_TIMEOUT, |t| t.value),
            connect_timeout: d
                .connect_timeout
                .as_ref()
                .map_or(DEFAULT_CONNECT_TIMEOUT, |t| t.value),
            cookies: d.cookies.as_ref().is_none_or(|c| c.value),
            max_redirects: d
                .max_redirects
                .as_ref()
                .map_or(DEFAULT_MAX_REDIRECTS, |m| m.value),
        }
    }
}

struct Compiler<'a> {
    source: &'a SourceFile,
    diags: Vec<Diagnostic>,
    registry: Registry,
    endpoints: HashMap<(String, String), EndpointId>,
    checks: HashMap<(EndpointId, String), CheckId>,
    vars: Vec<String>,
    data_names: Vec<String>,
    data_columns: Vec<Vec<String>>,
}

impl Compiler<'_> {
    fn error(&mut self, span: Span, message: impl Into<String>, help: Option<String>) {
        self.diags.push(Diagnostic {
            severity: Severity::Error,
            span,
            message: message.into(),
            help,
        });
    }

    fn warning(&mut self, span: Span, message: impl Into<String>, help: Option<String>) {
        self.diags.push(Diagnostic {
            severity: Severity::Warning,
            span,
            message: message.into(),
            help,
        });
    }

    fn base_url(&mut self, s: &Scenario, opts: &CompileOptions) -> Option<BaseUrl> {
        let (text, span) = match (&opts.host, &s.target) {
            (Some(h), _) => (h.clone(), None),
            (None, Some(t)) => (t.value.clone(), Some(t.span)),
            (None, None) => return None,
        };
        let parsed = url::Url::parse(&text).ok().and_then(|u| {
            let origin = Origin::from_url(&u)?;
            let path = u.path().trim_end_matches('/').to_string();
            Some(BaseUrl {
                origin,
                path_prefix: path,
            })
        });
        if parsed.is_none() {
            let msg = format!("`{text}` is not an http:// or https:// URL");
            let help = Some("write the target as `http://127.0.0.1:8000`".to_string());
            match span {
                Some(span) => self.error(span, msg, help),
                None => self.error(Span::default(), format!("--host: {msg}"), help),
            }
        }
        parsed
    }

    fn data(&mut self, s: &Scenario, source: &SourceFile) -> Vec<DataTable> {
        let dir = Path::new(&source.name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut tables = Vec::new();
        for d in &s.data {
            match load_table(&dir.join(&d.file.value)) {
                Ok((columns, rows)) if rows.is_empty() => {
                    self.error(d.file.span, format!("`{}` has no rows", d.file.value), None);
                    let _ = columns;
                }
                Ok((columns, rows)) => {
                    self.data_names.push(d.name.value.clone());
                    self.data_columns.push(columns.clone());
                    tables.push(DataTable {
                        name: d.name.value.clone(),
                        columns,
                        rows,
                        order: d.order.value,
                    });
                }
                Err(e) => self.error(
                    d.file.span,
                    format!("cannot read data file `{}`: {e}", d.file.value),
                    Some("paths are relative to the scenario file".to_string()),
                ),
            }
        }
        tables
    }

    /// Gives every variable any step saves a slot, so templates anywhere can bind to it;
    /// whether it exists yet at a given step is checked separately.
    fn collect_vars(&mut self, s: &Scenario) {
        for user in &s.users {
            let all = user
                .setup
                .iter()
                .chain(user.tasks.iter().flat_map(|t| t.steps.iter()));
            for step in all {
                if let barrage_scenario::Step::Request(r) = step {
                    for save in &r.save {
                        if !self.vars.contains(&save.var.value) {
                            self.vars.push(save.var.value.clone());
                        }
                    }
                }
            }
        }
    }

    fn resolve(&self, name: &str) -> Option<Slot> {
        match name {
            "user_id" => return Some(Slot::UserId),
            "iteration" => return Some(Slot::Iteration),
            _ => {}
        }
        if let Some((source, column)) = name.split_once('.') {
            let s = self.data_names.iter().position(|n| n == source)?;
            let c = self.data_columns[s].iter().position(|n| n == column)?;
            return Some(Slot::Data {
                source: s as u16,
                column: c as u16,
            });
        }
        let v = self.vars.iter().position(|n| n == name)?;
        Some(Slot::Var(v as u16))
    }

    /// Checks that every name a template uses exists at this point; reports each problem
    /// at the name's place in the file.
    fn check_names(
        &mut self,
        names: impl IntoIterator<Item = (String, Span)>,
        available: &BTreeSet<String>,
        saved_elsewhere: &BTreeSet<String>,
    ) -> bool {
        let mut ok = true;
        for (name, span) in names {
            match self.resolve(&name) {
                Some(Slot::Var(_)) if available.contains(&name) => {}
                Some(Slot::Var(_)) if saved_elsewhere.contains(&name) => self.warning(
                    span,
                    format!("`{name}` is saved only by another task"),
                    Some(format!(
                        "until that task has run for this user, this step fails with \
                         \"variable `{name}` is not set\"; save it in `setup` or earlier in \
                         this task to be sure"
                    )),
                ),
                Some(Slot::Var(_)) => {
                    ok = false;
                    self.error(
                        span,
                        format!("`{name}` is used before any step can have saved it"),
                        Some(
                            "a step can use what `setup` saved and what earlier steps of \
                             the same task saved"
                                .to_string(),
                        ),
                    )
                }
                Some(_) => {}
                None => {
                    ok = false;
                    let help = self.name_help(&name);
                    self.error(span, format!("unknown variable `{name}`"), Some(help));
                }
            }
        }
        ok
    }

    fn name_help(&self, name: &str) -> String {
        if let Some((source, column)) = name.split_once('.') {
            if let Some(s) = self.data_names.iter().position(|n| n == source) {
                return format!(
                    "data source `{source}` has no column `{column}`; its columns are: {}",
                    self.data_columns[s].join(", ")
                );
            }
        }
        let mut known: Vec<String> = self.vars.clone();
        known.push("user_id".into());
        known.push("iteration".into());
        for (s, cols) in self.data_names.iter().zip(&self.data_columns) {
            known.extend(cols.iter().map(|c| format!("{s}.{c}")));
        }
        let best = known
            .iter()
            .map(|k| (strsim_jw(name, k), k))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        match best {
            Some((_, k)) => format!("did you mean `{k}`?"),
            None => format!(
                "variables come from `save:`, data sources (`NAME.column`) and the \
                 built-ins `user_id` and `iteration`; known here: {}",
                known.join(", ")
            ),
        }
    }

    /// Parses and binds one template string found at `span`.
    fn template(
        &mut self,
        text: &str,
        span: Span,
        available: &BTreeSet<String>,
        saved_elsewhere: &BTreeSet<String>,
    ) -> Option<Template> {
        let mut t = match Template::parse(text) {
            Ok(t) => t,
            Err(e) => {
                self.template_error(text, span, e);
                return None;
            }
        };
        let names: Vec<(String, Span)> = t
            .names()
            .into_iter()
            .map(|(n, off, len)| (n, sub_span(self.source, span, text, off, len)))
            .collect();
        if !self.check_names(names, available, saved_elsewhere) {
            return None;
        }
        let mut resolve = |n: &str| self.resolve(n);
        if let Err(e) = t.bind(&mut resolve) {
            self.template_error(text, span, e);
            return None;
        }
        Some(t)
    }

    fn template_error(&mut self, text: &str, span: Span, e: TemplateError) {
        let at = sub_span(self.source, span, text, e.offset, e.len);
        self.error(at, e.message, e.help);
    }

    fn header(
        &mut self,
        name: &Spanned<String>,
        value: &Spanned<String>,
        available: &BTreeSet<String>,
        saved_elsewhere: &BTreeSet<String>,
    ) -> Option<(HeaderName, HeaderPlan)> {
        let Ok(header) = HeaderName::from_bytes(name.value.to_ascii_lowercase().as_bytes()) else {
            self.error(
                name.span,
                format!("`{}` is not a valid header name", name.value),
                None,
            );
            return None;
        };
        let t = self.template(&value.value, value.span, available, saved_elsewhere)?;
        match t.as_static() {
            Some(s) => match HeaderValue::from_str(s) {
                Ok(v) => Some((header, HeaderPlan::Static(v))),
                Err(_) => {
                    self.error(value.span, "not a valid header value", None);
                    None
                }
            },
            None => Some((header, HeaderPlan::Dynamic(t))),
        }
    }

    fn steps(
        &mut self,
        steps: &[barrage_scenario::Step],
        defaults: &Defaults,
        available: &mut BTreeSet<String>,
        saved_elsewhere: &BTreeSet<String>,
        has_base: bool,
    ) -> Vec<Step> {
        let mut out = Vec::new();
        for step in steps {
            match step {
                barrage_scenario::Step::Think(t) => out.push(Step::Think(t.value)),
                barrage_scenario::Step::Request(r) => {
                    if let Some(p) = self.request(r, defaults, available, saved_elsewhere, has_base)
                    {
                        out.push(Step::Request(Box::new(p)));
                    }
                    for save in &r.save {
                        available.insert(save.var.value.clone());
                    }
                }
            }
        }
        out
    }

    fn request(
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
            let text = value_text(&v.value);
            if let Some(t) = self.template(&text, v.span, available, saved_elsewhere) {
                query.push((form_encode(&k.value), t));
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
        };
        let has_content_type = headers.iter().any(|(n, _)| n == http::header::CONTENT_TYPE);
        let content_type = implied_type
            .filter(|_| !has_content_type)
            .map(HeaderValue::from_static);

        let mut saves = Vec::new();
        for save in &r.save {
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
                Err(message) => self.error(save.source.span, message, None),
            }
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
        let keep_body = !saves.is_empty() || !check.items().is_empty();
        Some(RequestPlan {
            endpoint,
            method: method.clone(),
            url: if absolute {
                UrlPlan::Absolute(url?)
            } else {
                UrlPlan::Path(url?)
            },
            query,
            headers,
            body,
            content_type,
            saves,
            check,
            check_ids,
            timeout: r.timeout.as_ref().map_or(defaults.timeout, |t| t.value),
            stop_on_failure: r.on_failure.value == barrage_scenario::OnFailure::StopIteration,
            keep_body,
            label: format!("{} {}", method.as_str(), name),
        })
    }

    fn error_count(&self) -> usize {
        self.diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    fn endpoint(&mut self, method: &str, name: &str) -> EndpointId {
        let key = (method.to_string(), name.to_string());
        if let Some(id) = self.endpoints.get(&key) {
            return *id;
        }
        let id = EndpointId(self.registry.endpoints.len() as u32);
        self.registry.endpoints.push(EndpointInfo {
            scenario: DEFAULT_SCENARIO.to_string(),
            method: key.0.clone(),
            name: key.1.clone(),
        });
        self.endpoints.insert(key, id);
        id
    }

    fn check_id(&mut self, endpoint: EndpointId, name: &str) -> CheckId {
        let key = (endpoint, name.to_string());
        if let Some(id) = self.checks.get(&key) {
            return *id;
        }
        let id = CheckId(self.registry.checks.len() as u32);
        self.registry.checks.push(CheckInfo {
            endpoint,
            name: name.to_string(),
        });
        self.checks.insert(key, id);
        id
    }
}

fn describe_source(s: &barrage_scenario::SaveSource) -> String {
    use barrage_scenario::SaveSource;
    match s {
        SaveSource::JsonPath(p) => p.clone(),
        SaveSource::Header(h) => format!("header `{h}`"),
        SaveSource::Regex { pattern, group } => format!("regex `{pattern}` group {group}"),
        SaveSource::Status => "status".to_string(),
    }
}

/// Variables that the user's other tasks save (for the "saved only by another task"
/// warning).
fn saved_in_other_tasks(user: &barrage_scenario::UserType, this: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, task) in user.tasks.iter().enumerate() {
        if i == this {
            continue;
        }
        for step in &task.steps {
            if let barrage_scenario::Step::Request(r) = step {
                out.extend(r.save.iter().map(|s| s.var.value.clone()));
            }
        }
    }
    out
}

fn clone_header_plan(h: &HeaderPlan) -> HeaderPlan {
    match h {
        HeaderPlan::Static(v) => HeaderPlan::Static(v.clone()),
        HeaderPlan::Dynamic(t) => HeaderPlan::Dynamic(t.clone()),
    }
}

fn json_names(v: &Spanned<Value>) -> Vec<(String, Span)> {
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

fn unquote(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// The file span of `len` bytes at `off` inside a scalar whose value is `value` and whose
/// whole span is `span`. Exact when the scalar is written plainly or quoted without
/// escapes; otherwise the whole scalar.
fn sub_span(source: &SourceFile, span: Span, value: &str, off: usize, len: usize) -> Span {
    let raw = source.text.get(span.start..span.end).unwrap_or("");
    let start = if raw == value {
        Some(span.start)
    } else if unquote(raw) == value && raw.len() == value.len() + 2 {
        Some(span.start + 1)
    } else {
        None
    };
    match start {
        Some(s) if off + len <= value.len() => Span::new(s + off, s + off + len.max(1)),
        _ => span,
    }
}

fn strsim_jw(a: &str, b: &str) -> f64 {
    strsim::jaro_winkler(a, b)
}

/// The nginx smooth weighted round-robin order over `weights`: each type appears
/// `weight` times per cycle, spread as evenly as possible (3:1 gives A A B A, not A A A B),
/// so a run of any length has close to the configured mix.
fn smooth_weighted_cycle(weights: &[u32]) -> Vec<u16> {
    let total: i64 = weights.iter().map(|&w| i64::from(w)).sum();
    let mut current = vec![0i64; weights.len()];
    let mut out = Vec::with_capacity(total as usize);
    for _ in 0..total {
        let mut best = 0;
        for (i, w) in weights.iter().enumerate() {
            current[i] += i64::from(*w);
            if current[i] > current[best] {
                best = i;
            }
        }
        current[best] -= total;
        out.push(best as u16);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_cycle_spreads_types_evenly() {
        assert_eq!(smooth_weighted_cycle(&[3, 1]), vec![0, 0, 1, 0]);
        let c = smooth_weighted_cycle(&[5, 2, 1]);
        assert_eq!(c.len(), 8);
        assert_eq!(c.iter().filter(|&&i| i == 0).count(), 5);
        assert_eq!(c.iter().filter(|&&i| i == 1).count(), 2);
        assert_eq!(c.iter().filter(|&&i| i == 2).count(), 1);
    }

    #[test]
    fn sub_span_points_into_plain_and_quoted_scalars() {
        let text = "a: \"x {{ y }}\"\nb: x {{ y }}\n".to_string();
        let file = SourceFile {
            name: "t.yaml".into(),
            text,
        };
        // quoted: value starts one byte after the quote
        let s = sub_span(&file, Span::new(3, 14), "x {{ y }}", 5, 1);
        assert_eq!(&file.text[s.start..s.end], "y");
        let s = sub_span(&file, Span::new(18, 27), "x {{ y }}", 5, 1);
        assert_eq!(&file.text[s.start..s.end], "y");
    }

    fn compile_text(text: &str) -> Result<(Plan, Vec<Diagnostic>), Vec<Diagnostic>> {
        let file = SourceFile {
            name: "t.yaml".into(),
            text: text.into(),
        };
        let (scenario, _) = barrage_scenario::parse(&file).expect("the test scenario parses");
        compile(&scenario, &file, &CompileOptions::default())
    }

    #[test]
    fn variables_are_checked_in_step_order() {
        // Saved by setup: fine everywhere. Saved by an earlier step: fine. Saved only by
        // another task: a warning. Saved nowhere: an error pointing at the name.
        let ok = "target: http://127.0.0.1:1\nusers:\n  u:\n    setup:\n      - post: /login\n        save:\n          token: '$.t'\n    tasks:\n      a:\n        - post: /x\n          headers:\n            authorization: \"Bearer {{ token }}\"\n          save:\n            id: '$.id'\n        - get: \"/x/{{ id }}\"\n      b:\n        - get: \"/y/{{ id }}\"\n";
        let (plan, warnings) = compile_text(ok).unwrap();
        assert_eq!(plan.var_names, ["token", "id"]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].message.contains("only by another task"));
        let bad = "target: http://127.0.0.1:1\nusers:\n  u:\n    tasks:\n      a:\n        - get: \"/x/{{ idd }}\"\n";
        let errors = compile_text(bad).err().unwrap();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("unknown variable `idd`"));
        assert_eq!(&bad[errors[0].span.start..errors[0].span.end], "idd");
    }

    #[test]
    fn endpoints_are_named_by_name_or_unrendered_path_and_interned() {
        let text = "target: http://127.0.0.1:1/api/\nusers:\n  u:\n    tasks:\n      a:\n        - get: \"/items/{{ int(1, 5) }}\"\n        - get: \"/items/{{ int(1, 5) }}\"\n        - get: /other\n          name: named\n";
        let (plan, _) = compile_text(text).unwrap();
        let names: Vec<_> = plan
            .registry
            .endpoints
            .iter()
            .map(|e| format!("{} {}", e.method, e.name))
            .collect();
        assert_eq!(names, ["GET /items/{{ int(1, 5) }}", "GET named"]);
        assert_eq!(plan.base.as_ref().unwrap().path_prefix, "/api");
    }

    #[test]
    fn a_path_without_a_target_is_an_error() {
        let errors = compile_text("users:\n  u:\n    tasks:\n      a:\n        - get: /x\n")
            .err()
            .unwrap();
        assert!(errors[0].message.contains("needs a target"), "{errors:?}");
    }
}
