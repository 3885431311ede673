//! The scenario file's model: what a parsed, structurally valid scenario says.
//!
//! Every value a user wrote keeps its [`Span`] (byte offsets into the source), so that the
//! engine's later checks (templates, JSONPath, variables used before they exist) can point
//! at the exact place in the file. Nothing here knows about HTTP or runs anything: strings
//! that may hold `{{ ... }}` templates are kept as written and compiled by the engine.

use std::time::Duration;

/// Byte range `start..end` in the scenario source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// A value with the place in the source it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// A whole scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Base URL requests with a path are sent to (`-H/--host` overrides it).
    pub target: Option<Spanned<String>>,
    pub defaults: Defaults,
    /// Test data files bound to users, in file order.
    pub data: Vec<DataSource>,
    /// User types, in file order. At least one, unless `scenarios` is used.
    pub users: Vec<UserType>,
    pub load: Load,
    /// Several scenarios run at once, each with its own users, load and start offset. Empty
    /// for the simple form (top-level `users` and `load`, one scenario named `default`).
    pub scenarios: Vec<ScenarioDef>,
    /// Pass/fail expressions, kept as written (`p95 < 200ms`); judged by a later stage.
    pub thresholds: Vec<Threshold>,
    /// Names added to the built-in lists of secret headers and fields (`redact:`).
    pub redact: Redact,
}

/// `redact: { headers: [x-session], fields: [ssn, "card_*"] }`: more header and field
/// names whose values are kept out of result files and reports, beside the built-in ones
/// (`authorization`, `cookie`, `*token*`, `password`, ...). `*` matches any run of
/// characters; names compare without regard to case.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Redact {
    pub headers: Vec<Spanned<String>>,
    pub fields: Vec<Spanned<String>>,
}

/// One `thresholds:` entry: `- p95 < 200ms`, or the mapping form with options
/// (`{ threshold: "error_rate < 1%", abort_on_fail: true, delay: 30s }`). The expression is
/// kept as written; `barrage-report` parses and judges it, pointing back at `expr.span`.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub expr: Spanned<String>,
    /// Stop the run (gracefully) as soon as the threshold fails, once `delay` has passed.
    pub abort_on_fail: Option<Spanned<bool>>,
    /// With `abort_on_fail`: how long after the start the threshold is first judged for
    /// aborting (k6's `delayAbortEval`), so a warming-up target does not end the run.
    pub delay: Option<Spanned<Duration>>,
}

impl Threshold {
    /// A threshold without options.
    pub fn plain(expr: Spanned<String>) -> Threshold {
        Threshold {
            expr,
            abort_on_fail: None,
            delay: None,
        }
    }
}

/// Settings every request and user inherits unless it says otherwise.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Defaults {
    /// Headers sent with every request; a step's own header of the same name wins.
    pub headers: Vec<(Spanned<String>, Spanned<String>)>,
    /// Response timeout (whole response, from request written). Default 30 s when absent.
    pub timeout: Option<Spanned<Duration>>,
    /// TCP (and TLS) connect timeout. Default 10 s when absent.
    pub connect_timeout: Option<Spanned<Duration>>,
    /// Think time between tasks for user types that set none. Default: none.
    pub think: Option<Spanned<Think>>,
    /// Keep a cookie jar per user. Default true.
    pub cookies: Option<Spanned<bool>>,
    /// Redirects followed per request; 0 turns following off. Default 10.
    pub max_redirects: Option<Spanned<u32>>,
    /// The largest response body kept for saves and checks, in bytes. Default 16 MiB.
    pub max_body_size: Option<Spanned<u64>>,
    /// HTTP/2: `true` always (h2c with prior knowledge over cleartext, only `h2` offered
    /// over TLS), `false` never. Absent: over TLS when the server picks it by ALPN.
    pub http2: Option<Spanned<bool>>,
    /// The most streams one HTTP/2 connection carries at once, below the server's own
    /// limit. Absent: the server's limit.
    pub max_streams: Option<Spanned<u32>>,
}

/// Time a user waits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Think {
    /// `none` or `0s`.
    None,
    /// `1s`.
    Constant(Duration),
    /// `0.5s..2.5s`: uniform in the closed range.
    Range(Duration, Duration),
    /// `{ pacing: 5s }`: each iteration starts this long after the previous one started
    /// (the wait is what is left of the interval; none when the iteration overran it).
    Pacing(Duration),
}

/// One kind of simulated user.
#[derive(Debug, Clone, PartialEq)]
pub struct UserType {
    pub name: Spanned<String>,
    /// Relative share of users of this type. Default 1.
    pub weight: Spanned<u32>,
    /// Overrides `defaults.think`.
    pub think: Option<Spanned<Think>>,
    /// Steps run once when the user starts (log in).
    pub setup: Vec<Step>,
    /// Tasks, in file order. At least one.
    pub tasks: Vec<Task>,
}

/// A named unit of work a user picks by weight; one pass through its steps is an iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub name: Spanned<String>,
    /// Default 1.
    pub weight: Spanned<u32>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Request(Box<RequestStep>),
    /// `- think: 1s` or `- think: 0.5s..2s`.
    Think(Spanned<Think>),
    /// `- ws: /chat` and its `messages:`.
    Ws(Box<WsStep>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
}

impl Method {
    pub const ALL: [Method; 7] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
        Method::Options,
    ];

    /// The scenario key (`get`).
    pub fn key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Patch => "patch",
            Method::Delete => "delete",
            Method::Head => "head",
            Method::Options => "options",
        }
    }

    /// The HTTP token (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
        }
    }
}

/// `- get: /items/{{ id }}` and its options.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestStep {
    /// The whole step mapping.
    pub span: Span,
    pub method: Spanned<Method>,
    /// Path (joined to the target) or absolute URL; a template.
    pub url: Spanned<String>,
    /// Statistics name; default: the unrendered path template.
    pub name: Option<Spanned<String>>,
    /// Query parameters appended to the URL, in order; values are templates.
    pub query: Vec<(Spanned<String>, Spanned<Value>)>,
    /// Request headers; values are templates.
    pub headers: Vec<(Spanned<String>, Spanned<String>)>,
    pub body: Option<Body>,
    /// Values extracted into the user's variables, in order.
    pub save: Vec<Save>,
    pub check: Check,
    /// Overrides `defaults.timeout`.
    pub timeout: Option<Spanned<Duration>>,
    /// Overrides `defaults.max_body_size`.
    pub max_body_size: Option<Spanned<u64>>,
    /// What a failed request or check does to the rest of the iteration.
    pub on_failure: Spanned<OnFailure>,
    /// `stream: events` or `stream: chunks`: the answer is read as a stream and timed per
    /// event (docs/STREAMS.md).
    pub stream: Option<Spanned<StreamMode>>,
    /// `max_events: 20`: the stream is ended (and judged) after this many events.
    pub max_events: Option<Spanned<u64>>,
}

/// How a streamed answer is cut into events (`stream:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamMode {
    /// Server-sent events (`text/event-stream`): one event per dispatched block.
    Events,
    /// Any streamed body: one event per HTTP chunk (per read when the body is not chunked).
    Chunks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFailure {
    /// Count the failure and go on with the next step (default).
    #[default]
    Continue,
    /// Count the failure and end this iteration (the user goes on with its next one).
    StopIteration,
}

/// A request body. Strings anywhere inside may be templates.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// `json:`; sent with `content-type: application/json` unless a header says otherwise.
    Json(Spanned<Value>),
    /// `form:`; sent as `application/x-www-form-urlencoded`.
    Form(Vec<(Spanned<String>, Spanned<Value>)>),
    /// `body:`; sent as written (a template).
    Raw(Spanned<String>),
    /// `multipart:`; sent as `multipart/form-data`, parts in file order (a list value is
    /// one part per item, under the same name).
    Multipart(Vec<MultipartField>),
}

/// One part of a `multipart:` body.
#[derive(Debug, Clone, PartialEq)]
pub struct MultipartField {
    pub name: Spanned<String>,
    pub part: MultipartPart,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MultipartPart {
    /// `name: value`: a text field (a template).
    Text(Spanned<Value>),
    /// `name: { file: photo.png }` or `name: { content: "...", filename: notes.txt }`.
    File(FilePart),
}

/// A file part: its bytes come from a file or a template.
#[derive(Debug, Clone, PartialEq)]
pub struct FilePart {
    /// The whole mapping.
    pub span: Span,
    pub source: FileSource,
    /// Sent in `content-disposition`; default: the file's name, or the field's name.
    pub filename: Option<Spanned<String>>,
    /// Default `application/octet-stream` for a file, `text/plain` for content.
    pub content_type: Option<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FileSource {
    /// `file: path`: read once when the scenario is compiled, relative to the scenario file.
    Path(Spanned<String>),
    /// `content: "..."`: a template rendered per request.
    Content(Spanned<String>),
}

/// A YAML value as written, with spans; used for JSON bodies, query and form values.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// May hold templates.
    String(String),
    Seq(Vec<Spanned<Value>>),
    Map(Vec<(Spanned<String>, Spanned<Value>)>),
}

/// `save: { token: $.access_token }`: one variable and where its value comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Save {
    pub var: Spanned<String>,
    pub source: Spanned<SaveSource>,
    /// Used when the source finds nothing; without it a miss fails the request.
    pub default: Option<Spanned<Value>>,
    /// `{ event: done, jsonpath: $.id }`: read the first event of this name (of a
    /// `stream: events` step) instead of the response body.
    pub event: Option<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SaveSource {
    /// `$.id` or `{ jsonpath: '$.id' }`: RFC 9535 JSONPath on the JSON body; the first match.
    JsonPath(String),
    /// `{ header: location }`: a response header (case-insensitive).
    Header(String),
    /// `{ regex: 'id=(\d+)', group: 1 }`: a capture group on the body (default group 1, or
    /// the whole match when the pattern has no group).
    Regex { pattern: String, group: usize },
    /// `{ status: true }`: the status code as a number.
    Status,
    /// `{ event: done }` alone: the event's whole data (as JSON when it is JSON).
    Data,
    /// `{ events: true }`: how many events the stream carried.
    Events,
}

/// What makes a response count as failed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Check {
    /// Accepted statuses; when empty, any status below 400 passes.
    pub status: Vec<Spanned<StatusMatch>>,
    /// `json: { '$.id': exists, '$.name': "Item 1" }`.
    pub json: Vec<(Spanned<String>, Spanned<JsonExpect>)>,
    /// The body contains each of these strings (templates).
    pub body_contains: Vec<Spanned<String>>,
    /// `headers: { content-type: application/json }`: header equals (templates).
    pub headers: Vec<(Spanned<String>, Spanned<String>)>,
    /// `max_latency: 500ms`: response time at most this.
    pub max_latency: Option<Spanned<Duration>>,
    /// `schema: { 200: {...}, 4xx: {...}, default: {...} }`: the JSON body of a response
    /// with that status must validate against that JSON Schema (Draft 2020-12 unless its
    /// `$schema` says otherwise). The most specific entry applies: a code, then a class,
    /// then `default`; a status with none is not checked.
    pub schema: Vec<SchemaCheck>,
    /// `events: 5` or `events: { min: 1, max: 50 }`: how many events a stream carries.
    pub events: Option<Spanned<EventCount>>,
    /// `event: { done: { json: {...}, data_contains: ... } }`: checks on every event of a
    /// name (a stream step's).
    pub event: Vec<EventCheck>,
}

/// The bounds of `check.events`, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventCount {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

/// `check.event.NAME`: what every event of that name must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct EventCheck {
    /// The event name (`message` for events without an `event:` field).
    pub name: Spanned<String>,
    /// `json: { '$.text': exists }` on the event's data.
    pub json: Vec<(Spanned<String>, Spanned<JsonExpect>)>,
    /// The event's data contains each of these strings (templates).
    pub data_contains: Vec<Spanned<String>>,
}

/// One `schema:` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaCheck {
    pub status: Spanned<SchemaStatus>,
    /// The JSON Schema as written.
    pub schema: Spanned<Value>,
}

/// Which responses a `schema:` entry applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaStatus {
    Status(StatusMatch),
    /// `default`: statuses no other entry names.
    Default,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMatch {
    /// `201`.
    Code(u16),
    /// `2xx`: the hundreds digit.
    Class(u8),
}

impl StatusMatch {
    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusMatch::Code(c) => c == status,
            StatusMatch::Class(c) => status / 100 == u16::from(c),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonExpect {
    /// `exists`: the path matches at least one node.
    Exists,
    /// Any other value: the first match equals it (strings may be templates).
    Equals(Value),
}

/// `data:` entry: a CSV or JSON file whose rows users read as `{{ NAME.column }}`.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSource {
    pub name: Spanned<String>,
    /// As written; relative paths are relative to the scenario file.
    pub file: Spanned<String>,
    pub order: Spanned<DataOrder>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataOrder {
    /// Each user takes its own row (user id modulo the row count) for its whole life.
    #[default]
    PerUser,
    /// Each iteration takes the next row, wrapping around.
    Sequential,
    /// Each iteration takes a random row.
    Random,
}

/// `load:` — the closed model: how many users, how fast they start, for how long.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Load {
    /// Closed model: users running (with `stages`: users at the start, default 0).
    pub users: Option<Spanned<u64>>,
    /// Users started per second; default: all at once.
    pub spawn_rate: Option<Spanned<f64>>,
    pub duration: Option<Spanned<Duration>>,
    /// Total iterations over all users (as k6's shared iterations).
    pub iterations: Option<Spanned<u64>>,
    /// How long in-flight requests may take to finish at the end. Default 10 s.
    pub stop_timeout: Option<Spanned<Duration>>,
    /// Open model: iterations started per second (with `stages`: the rate at the start).
    pub rate: Option<Spanned<f64>>,
    /// Linear ramps, one after the other: to `target` users (closed model) or iterations
    /// per second (with `rate`) over `duration`.
    pub stages: Vec<Stage>,
    /// Open model: most users that may run scheduled iterations at once.
    pub max_users: Option<Spanned<u64>>,
    /// Open model: users created (and set up) when the scenario starts.
    pub pre_allocated_users: Option<Spanned<u64>>,
    /// Open model: what a scheduled iteration does when all `max_users` are busy.
    pub on_max_users: Option<Spanned<OnMaxUsers>>,
    /// Open model: how scheduled starts are spaced (default evenly).
    pub arrivals: Option<Spanned<Arrivals>>,
}

impl Load {
    /// Nothing was said about the load.
    pub fn is_empty(&self) -> bool {
        *self == Load::default()
    }

    /// An open (arrival-rate) model: iterations are started on a schedule.
    pub fn is_open(&self) -> bool {
        self.rate.is_some()
    }
}

/// One stage of a ramp: reach `target` linearly over `duration`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub duration: Spanned<Duration>,
    pub target: Spanned<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnMaxUsers {
    /// Wait for a free user; the wait counts in the iteration's response times (default).
    #[default]
    Wait,
    /// Drop the iteration and count it.
    Drop,
}

/// `load.arrivals`: how an open model spaces its scheduled starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arrivals {
    /// `1 / rate` apart (default, as k6's arrival-rate executors).
    #[default]
    Even,
    /// A Poisson process: independent, exponentially distributed gaps with mean `1 / rate`.
    Poisson,
}

/// One of several scenarios in a file (`scenarios: NAME: { users, load, start }`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioDef {
    pub name: Spanned<String>,
    pub users: Vec<UserType>,
    pub load: Load,
    /// Starts this long after the run does. Default 0.
    pub start: Option<Spanned<Duration>>,
}

/// `- ws: /chat`: opens a WebSocket (the path is joined to the target, `http` becoming
/// `ws` and `https` `wss`), runs its messages in order, then closes it unless `keep`.
#[derive(Debug, Clone, PartialEq)]
pub struct WsStep {
    /// The whole step mapping.
    pub span: Span,
    /// Path (joined to the target) or absolute `ws://`/`wss://` URL; a template.
    pub url: Spanned<String>,
    /// Statistics name; default: the unrendered path template.
    pub name: Option<Spanned<String>>,
    /// Headers of the upgrade request; values are templates.
    pub headers: Vec<(Spanned<String>, Spanned<String>)>,
    pub messages: Vec<WsMessage>,
    /// `keep: true`: the socket stays open for the same step of the user's next iteration.
    pub keep: Option<Spanned<bool>>,
    /// How long each `receive` waits unless it says otherwise; default `defaults.timeout`.
    pub timeout: Option<Spanned<Duration>>,
    /// What a failed message does to the rest of the iteration.
    pub on_failure: Spanned<OnFailure>,
}

/// One entry of a WebSocket step's `messages:`.
#[derive(Debug, Clone, PartialEq)]
pub enum WsMessage {
    /// `send: text` or `send: { json: ... }`.
    Send(WsSend),
    /// `receive: { timeout, check, save, until }`.
    Receive(Box<WsReceive>),
    /// `think: 1s`.
    Think(Spanned<Think>),
}

/// What a `send:` sends, as one text message.
#[derive(Debug, Clone, PartialEq)]
pub enum WsSend {
    /// A template.
    Text(Spanned<String>),
    /// A JSON value whose strings are templates.
    Json(Spanned<Value>),
}

/// `receive:`: waits for the next message (or, with `until`, the first that matches).
#[derive(Debug, Clone, PartialEq)]
pub struct WsReceive {
    /// The `receive` key, where messages about this receive point.
    pub span: Span,
    pub timeout: Option<Spanned<Duration>>,
    /// Judged on the message: `json`, `body_contains` and `max_latency` (the round trip).
    pub check: Check,
    /// `jsonpath` and `regex` sources read the message.
    pub save: Vec<Save>,
    /// Messages that fail this are skipped (and counted) until one passes.
    pub until: Option<Check>,
}
