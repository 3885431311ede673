//! The Plan: a scenario compiled for running.
//!
//! Everything that can be decided before the first request is decided here, once:
//! templates parsed and bound to variable slots, endpoint and check ids interned, weight
//! tables built, static headers pre-built, data files read. A virtual user only walks the
//! plan; it never looks at the scenario's text or at strings it would have to hash.

use std::sync::Arc;
use std::time::Duration;

use barrage_metrics::{CheckId, EndpointId, Registry, TaskId};
use barrage_scenario::{DataOrder, Think};
use barrage_template::{CompiledCheck, Extractor, JsonTemplate, Template};
use http::{HeaderName, HeaderValue};

use crate::http::{Origin, Scheme};
pub use crate::load::{LoadModel, Stage};

mod ws;
pub use ws::{ReceivePlan, WsMessagePlan, WsPlan, WsSendPlan};

pub struct Plan {
    pub registry: Arc<Registry>,
    /// Where relative paths go; `None` when every request names an absolute URL.
    pub base: Option<BaseUrl>,
    /// The scenarios that run at once (one, named `default`, in the simple form).
    pub scenarios: Vec<ScenarioPlan>,
    /// Saved variables by slot.
    pub var_names: Vec<String>,
    pub data: Vec<DataTable>,
    pub cookies: bool,
    pub max_redirects: u32,
    pub connect_timeout: Duration,
    /// Which HTTP connections speak (`defaults.http2`; `--http1`/`--http2` override it
    /// in [`RunOptions::http`](crate::RunOptions::http)).
    pub http: crate::http::HttpVersion,
    /// The most streams one HTTP/2 connection carries at once (`defaults.max_streams`);
    /// `None`: the server's limit. A user sends one request at a time on connections of
    /// its own, so one stream at a time is what a connection carries today.
    pub max_streams: Option<u32>,
    /// The names whose values stay out of failure samples (the built-in lists and the
    /// scenario's `redact:`); `None` turns redaction off (`--no-redact`).
    pub redact: Option<barrage_redact::Redactor>,
    /// The variable slots `setup` steps save into: their values (a login's token) are
    /// scrubbed from failure samples wherever they appear.
    pub setup_slots: Vec<usize>,
}

impl Plan {
    /// Whether a request may need TLS without anything having been answered first: the
    /// base URL is https, or a step names a whole URL (whose scheme may be https). Only a
    /// redirect can take the other runs to TLS.
    pub fn may_speak_tls_at_once(&self) -> bool {
        if self
            .base
            .as_ref()
            .is_none_or(|b| b.origin.scheme == Scheme::Https)
        {
            return true;
        }
        let whole = |url: &UrlPlan| matches!(url, UrlPlan::Absolute(_));
        let users = self.scenarios.iter().flat_map(|s| &s.users);
        users
            .flat_map(|u| u.setup.iter().chain(u.tasks.iter().flat_map(|t| &t.steps)))
            .any(|step| match step {
                Step::Request(r) => whole(&r.url),
                Step::Ws(w) => whole(&w.url),
                Step::Think(_) => false,
            })
    }
}

/// One scenario: its user types, and the load model that decides when they run.
pub struct ScenarioPlan {
    pub name: String,
    pub users: Vec<UserPlan>,
    /// User type of the n-th user is `user_cycle[n % len]`: weights spread evenly.
    pub user_cycle: Vec<u16>,
    pub load: LoadModel,
    /// How long after the run's start this scenario starts.
    pub start: Duration,
}

impl ScenarioPlan {
    /// The user type of the `n`-th user (0-based) of this scenario.
    pub fn user_type(&self, n: u64) -> usize {
        self.user_cycle[(n % self.user_cycle.len() as u64) as usize] as usize
    }
}

/// The target's origin and the path every relative request path is appended to.
#[derive(Debug, Clone)]
pub struct BaseUrl {
    pub origin: Origin,
    /// Without a trailing slash (`""` for a target at the root).
    pub path_prefix: String,
}

pub struct UserPlan {
    pub name: String,
    pub think: Think,
    pub setup: Vec<Step>,
    pub tasks: Vec<TaskPlan>,
    /// Cumulative task weights, for a binary search with one random number.
    pub cumulative_weights: Vec<u64>,
}

impl UserPlan {
    /// The task for a uniform draw `r` in `0..total_weight()`.
    pub fn pick(&self, r: u64) -> usize {
        self.cumulative_weights.partition_point(|&c| c <= r)
    }

    pub fn total_weight(&self) -> u64 {
        self.cumulative_weights.last().copied().unwrap_or(0)
    }
}

pub struct TaskPlan {
    pub id: TaskId,
    pub name: String,
    pub steps: Vec<Step>,
}

pub enum Step {
    Request(Box<RequestPlan>),
    Think(Think),
    /// A WebSocket step (`vu/ws.rs` runs it).
    Ws(Box<WsPlan>),
}

pub struct RequestPlan {
    pub endpoint: EndpointId,
    pub method: http::Method,
    pub url: UrlPlan,
    /// Query parameters: key already form-encoded, value rendered and encoded per request.
    pub query: Vec<(String, Template)>,
    /// Defaults merged with the step's own (the step wins), in sending order.
    pub headers: Vec<(HeaderName, HeaderPlan)>,
    pub body: BodyPlan,
    /// Set when the body implies a content type and no header gives one.
    pub content_type: Option<HeaderValue>,
    pub saves: Vec<SavePlan>,
    pub check: CompiledCheck,
    /// `check.items()[i]` is counted as `check_ids[i]`.
    pub check_ids: Vec<CheckId>,
    pub timeout: Duration,
    pub stop_on_failure: bool,
    /// Whether anything reads the body (saves, checks); otherwise only its size is kept.
    pub keep_body: bool,
    /// The largest body kept when it is (`max_body_size`).
    pub max_body: usize,
    /// Whether a save or check reads a response header (otherwise no `HeaderMap` is
    /// built for the answer).
    pub reads_headers: bool,
    /// `GET /items/[item_name]`, for messages.
    pub label: String,
    /// Set for a `stream:` step: its answer is read by the stream path (`vu/stream.rs`),
    /// chosen once per step here so a plain request pays nothing for it.
    pub stream: Option<Box<StreamPlan>>,
    /// Set when nothing of the step is rendered per request (a path, query, headers and
    /// body without an expression): its number among the plan's fixed steps. Every user
    /// sends such a step as the same bytes (unless its cookie jar or `--traceparent` adds
    /// to them), so a worker renders it once and its users copy that (`Vu::build`).
    pub fixed: Option<u32>,
}

impl RequestPlan {
    /// Whether the step is [`fixed`](RequestPlan::fixed), from its parts.
    pub fn renders_the_same(
        url: &UrlPlan,
        query: &[(String, Template)],
        headers: &[(HeaderName, HeaderPlan)],
        body: &BodyPlan,
    ) -> bool {
        let body = match body {
            BodyPlan::None => true,
            BodyPlan::Json(t) => t.is_static(),
            BodyPlan::Form(fields) => fields.iter().all(|(_, t)| t.is_static()),
            BodyPlan::Raw(t) => t.is_static(),
            BodyPlan::Multipart(m) => m.is_static(),
        };
        matches!(url, UrlPlan::Path(t) if t.is_static())
            && query.iter().all(|(_, t)| t.is_static())
            && headers
                .iter()
                .all(|(_, h)| matches!(h, HeaderPlan::Static(_)))
            && body
    }
}

/// How a `stream:` step reads its answer, and its event checks and saves
/// (docs/STREAMS.md).
pub struct StreamPlan {
    pub mode: barrage_scenario::StreamMode,
    /// `max_events`: the stream is ended after this many events.
    pub max_events: Option<u64>,
    /// `check.events`: the bounds, counted as this check id under this name.
    pub count: Option<(barrage_scenario::EventCount, CheckId, String)>,
    pub event_checks: Vec<EventCheckPlan>,
    /// Saves from the first event of a name whose data yields a value.
    pub event_saves: Vec<(String, SavePlan)>,
    /// `{ events: true }` saves: the slots that get the event count.
    pub count_saves: Vec<u16>,
}

/// `check.event.NAME`: a check evaluated on the data of every event of that name.
pub struct EventCheckPlan {
    pub event: String,
    pub check: CompiledCheck,
    /// `check.items()[i]` is counted as `ids[i]` under `names[i]` (`event done: $.ok exists`).
    pub ids: Vec<CheckId>,
    pub names: Vec<String>,
}

pub enum UrlPlan {
    /// Appended to the base URL's path.
    Path(Template),
    /// A whole URL (`https://other.example/x`).
    Absolute(Template),
}

pub enum HeaderPlan {
    Static(HeaderValue),
    Dynamic(Template),
}

pub enum BodyPlan {
    None,
    Json(JsonTemplate),
    /// Keys already form-encoded.
    Form(Vec<(String, Template)>),
    Raw(Template),
    /// `multipart/form-data`, boundary and part headers fixed at compile time.
    Multipart(crate::multipart::MultipartPlan),
}

pub struct SavePlan {
    pub slot: u16,
    /// The source as a person reads it (`$.id`, `header location`), for messages.
    pub what: String,
    pub extractor: Extractor,
    pub default: Option<serde_json::Value>,
}

/// A data file's rows, read once at compile time.
pub struct DataTable {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
    pub order: DataOrder,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_are_picked_in_proportion_to_their_weights() {
        let user = UserPlan {
            name: "u".into(),
            think: Think::None,
            setup: Vec::new(),
            tasks: Vec::new(),
            cumulative_weights: vec![10, 12, 13],
        };
        assert_eq!(user.total_weight(), 13);
        let picks: Vec<usize> = (0..13).map(|r| user.pick(r)).collect();
        assert_eq!(picks, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2]);
    }
}
