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
    Diagnostic, Load, Scenario, Severity, SourceFile, Span, Spanned, Think, UserType,
};
use barrage_template::{Slot, Template, TemplateError};
use http::{HeaderName, HeaderValue};

use crate::data::load_table;
use crate::http::Origin;
use crate::plan::*;

mod load;
mod request;
mod ws;

pub use load::{load_model, LoadOverrides, OverrideError};
pub use ws::WS_METHOD;

/// Default response timeout, as Locust users would expect from `requests`-style clients
/// that wait long: generous, so slow answers are measured rather than cut off.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_MAX_REDIRECTS: u32 = 10;
use crate::http::DEFAULT_MAX_BODY;

/// The statistics' scenario name for a file with one scenario.
pub const DEFAULT_SCENARIO: &str = "default";

#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// `-H/--host`: replaces the file's `target`.
    pub host: Option<String>,
    /// The load a front end asks for instead of the file's (simple form only).
    pub load: LoadOverrides,
    /// `--max-body-size`: replaces `defaults.max_body_size` (a step's own still wins).
    pub max_body_size: Option<u64>,
    /// `--no-redact`: the plan keeps secrets in its samples and endpoint names.
    pub no_redact: bool,
}

/// Whether `overrides` can apply to `scenario`'s load (the front end's check before
/// [`compile`], which would otherwise report the problem without a place in the file).
pub fn check_overrides(
    scenario: &Scenario,
    overrides: &LoadOverrides,
) -> Result<(), OverrideError> {
    if !scenario.scenarios.is_empty() {
        return if overrides.any() {
            Err(OverrideError::SeveralScenarios)
        } else {
            Ok(())
        };
    }
    load_model(&scenario.load, overrides).map(drop)
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
        scenario: DEFAULT_SCENARIO.to_string(),
        checks: HashMap::new(),
        vars: Vec::new(),
        data_names: Vec::new(),
        data_columns: Vec::new(),
        ws_kept: 0,
        fixed_steps: 0,
    };
    let base = c.base_url(scenario, opts);
    let data = c.data(scenario, source);
    c.collect_vars(scenario);

    let mut defaults = Defaults::from(scenario, &mut c);
    if let Some(max) = opts.max_body_size {
        defaults.max_body = usize::try_from(max).unwrap_or(usize::MAX);
    }
    // The simple form is one scenario named `default` made of the top-level users and load.
    let simple;
    let defs: Vec<(&str, &[UserType], &Load, Duration)> = if scenario.scenarios.is_empty() {
        simple = [(
            DEFAULT_SCENARIO,
            &scenario.users[..],
            &scenario.load,
            Duration::ZERO,
        )];
        simple.to_vec()
    } else {
        scenario
            .scenarios
            .iter()
            .map(|d| {
                let start = d.start.as_ref().map_or(Duration::ZERO, |s| s.value);
                (d.name.value.as_str(), &d.users[..], &d.load, start)
            })
            .collect()
    };
    let none = LoadOverrides::default();
    let overrides = if scenario.scenarios.is_empty() {
        &opts.load
    } else {
        if opts.load.any() {
            c.error(
                Span::default(),
                OverrideError::SeveralScenarios.to_string(),
                None,
            );
        }
        &none
    };
    let mut scenarios = Vec::new();
    for (name, user_types, load, start) in defs {
        c.scenario = name.to_string();
        let users = user_types
            .iter()
            .map(|user| c.user(scenario, user, &defaults, base.is_some()))
            .collect();
        let weights: Vec<u32> = user_types.iter().map(|u| u.weight.value).collect();
        let load = match load_model(load, overrides) {
            Ok(load) => load,
            Err(e) => {
                c.error(Span::default(), e.to_string(), None);
                continue;
            }
        };
        scenarios.push(ScenarioPlan {
            name: name.to_string(),
            users,
            user_cycle: smooth_weighted_cycle(&weights),
            load,
            start,
        });
    }

    if c.diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(c.diags);
    }
    let redact = (!opts.no_redact).then(|| {
        barrage_redact::Redactor::extended(
            scenario.redact.headers.iter().map(|h| &h.value),
            scenario.redact.fields.iter().map(|f| &f.value),
        )
    });
    if let Some(rules) = &redact {
        // An endpoint is named by its path as written, query included
        // (`/items?api_key=...`), and names reach every file and report.
        for e in &mut c.registry.endpoints {
            if let std::borrow::Cow::Owned(name) = rules.path(&e.name) {
                e.name = name;
            }
        }
    }
    let plan = Plan {
        registry: Arc::new(c.registry),
        base,
        scenarios,
        var_names: c.vars,
        data,
        cookies: defaults.cookies,
        max_redirects: defaults.max_redirects,
        connect_timeout: defaults.connect_timeout,
        http: defaults.http,
        max_streams: defaults.max_streams,
        redact,
        setup_slots: Vec::new(),
    };
    let plan = Plan {
        setup_slots: setup_slots(&plan),
        ..plan
    };
    Ok((plan, c.diags))
}

/// The variable slots any user type's `setup` saves into, in order, once each.
fn setup_slots(plan: &Plan) -> Vec<usize> {
    let mut slots: Vec<usize> = plan
        .scenarios
        .iter()
        .flat_map(|s| &s.users)
        .flat_map(|u| &u.setup)
        .filter_map(|step| match step {
            Step::Request(r) => Some(r.saves.iter().map(|save| save.slot as usize).collect()),
            Step::Ws(w) => Some(w.saved_slots()),
            Step::Think(_) => None,
        })
        .flatten()
        .collect();
    slots.sort_unstable();
    slots.dedup();
    slots
}

/// Settings from `defaults:`, with the engine's own defaults filled in.
struct Defaults {
    headers: Vec<(HeaderName, HeaderPlan)>,
    timeout: Duration,
    connect_timeout: Duration,
    cookies: bool,
    max_redirects: u32,
    /// The largest body kept for saves and checks.
    max_body: usize,
    http: crate::http::HttpVersion,
    max_streams: Option<u32>,
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
            max_body: d.max_body_size.as_ref().map_or(DEFAULT_MAX_BODY, |m| {
                usize::try_from(m.value).unwrap_or(usize::MAX)
            }),
            http: match d.http2.as_ref().map(|h| h.value) {
                None => crate::http::HttpVersion::Negotiated,
                Some(true) => crate::http::HttpVersion::Http2,
                Some(false) => crate::http::HttpVersion::Http1,
            },
            max_streams: d.max_streams.as_ref().map(|m| m.value),
        }
    }
}

struct Compiler<'a> {
    source: &'a SourceFile,
    diags: Vec<Diagnostic>,
    registry: Registry,
    endpoints: HashMap<(String, String, String), EndpointId>,
    /// The scenario being compiled (statistics are kept per scenario).
    scenario: String,
    checks: HashMap<(EndpointId, String), CheckId>,
    vars: Vec<String>,
    data_names: Vec<String>,
    data_columns: Vec<Vec<String>>,
    /// The last id given to a `keep: true` WebSocket step.
    ws_kept: u32,
    /// Fixed steps numbered so far (`RequestPlan::fixed`).
    fixed_steps: u32,
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
        let defs = s.scenarios.iter().flat_map(|d| d.users.iter());
        for user in s.users.iter().chain(defs) {
            let all = user
                .setup
                .iter()
                .chain(user.tasks.iter().flat_map(|t| t.steps.iter()));
            for step in all {
                for save in step_saves(step) {
                    if !self.vars.contains(&save.var.value) {
                        self.vars.push(save.var.value.clone());
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
        // barrage frames every body itself (content-length): a header of the step's own
        // would contradict it and leave the connection out of step with the server.
        if header == http::header::CONTENT_LENGTH || header == http::header::TRANSFER_ENCODING {
            self.error(
                name.span,
                format!("barrage sets `{header}` itself, from the body it sends"),
                Some("remove this header".to_string()),
            );
            return None;
        }
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
                barrage_scenario::Step::Ws(w) => {
                    if let Some(p) = self.ws(w, defaults, available, saved_elsewhere, has_base) {
                        out.push(Step::Ws(Box::new(p)));
                    }
                }
            }
        }
        out
    }

    /// One user type of the current scenario: its setup and tasks, with the variables each
    /// step may use.
    fn user(
        &mut self,
        scenario: &Scenario,
        user: &UserType,
        defaults: &Defaults,
        has_base: bool,
    ) -> UserPlan {
        let think = user
            .think
            .as_ref()
            .or(scenario.defaults.think.as_ref())
            .map(|t| t.value)
            .unwrap_or(Think::None);
        let mut available = BTreeSet::new();
        // Setup runs before any task, so nothing a task saves can help it.
        let setup = self.steps(
            &user.setup,
            defaults,
            &mut available,
            &BTreeSet::new(),
            has_base,
        );
        let mut tasks = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0u64;
        for (index, task) in user.tasks.iter().enumerate() {
            let mut avail = available.clone();
            let others = saved_in_other_tasks(user, index);
            let steps = self.steps(&task.steps, defaults, &mut avail, &others, has_base);
            let id = TaskId(self.registry.tasks.len() as u32);
            self.registry.tasks.push(TaskInfo {
                scenario: self.scenario.clone(),
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
        UserPlan {
            name: user.name.value.clone(),
            think,
            setup,
            tasks,
            cumulative_weights: cumulative,
        }
    }

    fn error_count(&self) -> usize {
        self.diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    fn endpoint(&mut self, method: &str, name: &str) -> EndpointId {
        let key = (self.scenario.clone(), method.to_string(), name.to_string());
        if let Some(id) = self.endpoints.get(&key) {
            return *id;
        }
        let id = EndpointId(self.registry.endpoints.len() as u32);
        self.registry.endpoints.push(EndpointInfo {
            scenario: key.0.clone(),
            method: key.1.clone(),
            name: key.2.clone(),
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

/// Variables that the user's other tasks save (for the "saved only by another task"
/// warning).
fn saved_in_other_tasks(user: &barrage_scenario::UserType, this: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, task) in user.tasks.iter().enumerate() {
        if i == this {
            continue;
        }
        for step in &task.steps {
            out.extend(step_saves(step).map(|s| s.var.value.clone()));
        }
    }
    out
}

/// The saves of a step, in order: a request's, or those of a WebSocket step's receives.
fn step_saves(step: &barrage_scenario::Step) -> impl Iterator<Item = &barrage_scenario::Save> {
    let (request, ws): (&[barrage_scenario::Save], _) = match step {
        barrage_scenario::Step::Request(r) => (&r.save, None),
        barrage_scenario::Step::Ws(w) => (&[], Some(&w.messages)),
        barrage_scenario::Step::Think(_) => (&[], None),
    };
    let received = ws.into_iter().flatten().flat_map(|m| match m {
        barrage_scenario::WsMessage::Receive(r) => r.save.as_slice(),
        _ => &[],
    });
    request.iter().chain(received)
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
mod tests;
