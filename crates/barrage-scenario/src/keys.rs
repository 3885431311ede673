//! The keys each mapping of the scenario file accepts.
//!
//! One list per kind of mapping, used by the decoder to reject unknown keys (with a
//! suggestion) and by the schema test to prove that the JSON Schema's `properties` name
//! exactly the same keys, so the two cannot drift apart.

/// Top level. `setup`, `tasks` and `think` are the shorthand for a single user type.
pub const SCENARIO: &[&str] = &[
    "target",
    "defaults",
    "data",
    "users",
    "load",
    "thresholds",
    "setup",
    "tasks",
    "think",
    "scenarios",
    "redact",
];

/// `redact:`, the names added to the secret lists.
pub const REDACT: &[&str] = &["headers", "fields"];

/// One entry of `scenarios:`.
pub const SCENARIO_DEF: &[&str] = &["users", "load", "start"];

/// One entry of `load.stages` in the mapping form.
pub const STAGE: &[&str] = &["duration", "target"];

pub const DEFAULTS: &[&str] = &[
    "headers",
    "timeout",
    "connect_timeout",
    "think",
    "cookies",
    "max_redirects",
    "max_body_size",
    "http2",
    "max_streams",
];

pub const DATA_SOURCE: &[&str] = &["file", "order"];

pub const USER_TYPE: &[&str] = &["weight", "think", "setup", "tasks"];

pub const TASK: &[&str] = &["weight", "steps"];

/// The method keys, one of which makes a mapping a request step.
pub const METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options"];

/// A request step: one method key plus these options.
pub const REQUEST_STEP: &[&str] = &[
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "name",
    "query",
    "headers",
    "json",
    "form",
    "body",
    "multipart",
    "save",
    "check",
    "timeout",
    "max_body_size",
    "on_failure",
    "stream",
    "max_events",
];

pub const THINK_STEP: &[&str] = &["think"];

/// A WebSocket step: `ws` plus these options.
pub const WS_STEP: &[&str] = &[
    "ws",
    "name",
    "headers",
    "messages",
    "keep",
    "timeout",
    "on_failure",
];

/// One entry of a WebSocket step's `messages:`: exactly one of these.
pub const WS_MESSAGE: &[&str] = &["send", "receive", "think"];

/// The mapping form of `send:`.
pub const WS_SEND: &[&str] = &["json"];

/// `receive:`.
pub const WS_RECEIVE: &[&str] = &["timeout", "check", "save", "until"];

/// The checks that apply to a WebSocket message (in `check` and `until`): a message has
/// no status and no headers.
pub const WS_CHECK: &[&str] = &["json", "body_contains", "max_latency"];

/// The long form of a `save` entry.
pub const SAVE_SOURCE: &[&str] = &[
    "jsonpath", "header", "regex", "group", "status", "default", "event", "events",
];

pub const CHECK: &[&str] = &[
    "status",
    "json",
    "body_contains",
    "headers",
    "max_latency",
    "schema",
    "events",
    "event",
];

/// `check.events` in the mapping form.
pub const EVENT_COUNT: &[&str] = &["min", "max"];

/// One entry of `check.event`.
pub const EVENT_CHECK: &[&str] = &["json", "data_contains"];

/// A file part of a `multipart:` body.
pub const MULTIPART_FILE: &[&str] = &["file", "content", "filename", "content_type"];

pub const LOAD: &[&str] = &[
    "users",
    "spawn_rate",
    "duration",
    "iterations",
    "stop_timeout",
    "rate",
    "stages",
    "max_users",
    "pre_allocated_users",
    "on_max_users",
    "arrivals",
];

/// `think: { pacing: 5s }`.
pub const PACING: &[&str] = &["pacing"];

/// A threshold written as a mapping.
pub const THRESHOLD: &[&str] = &["threshold", "abort_on_fail", "delay"];

/// Every key list with the name of the JSON Schema definition (`$defs`) it describes;
/// `scenario` is the schema's root.
pub const ALL: &[(&str, &[&str])] = &[
    ("scenario", SCENARIO),
    ("defaults", DEFAULTS),
    ("data_source", DATA_SOURCE),
    ("user_type", USER_TYPE),
    ("task", TASK),
    ("request_step", REQUEST_STEP),
    ("think_step", THINK_STEP),
    ("ws_step", WS_STEP),
    ("ws_message", WS_MESSAGE),
    ("ws_send", WS_SEND),
    ("ws_receive", WS_RECEIVE),
    ("ws_check", WS_CHECK),
    ("save_source", SAVE_SOURCE),
    ("check", CHECK),
    ("event_count", EVENT_COUNT),
    ("event_check", EVENT_CHECK),
    ("multipart_file", MULTIPART_FILE),
    ("load", LOAD),
    ("scenario_def", SCENARIO_DEF),
    ("stage", STAGE),
    ("pacing", PACING),
    ("threshold", THRESHOLD),
    ("redact", REDACT),
];

/// The allowed key closest to `unknown`, when it is close enough to be a likely typo: a
/// few edits away (Damerau-Levenshtein, so a swap of two letters is one edit), or sharing
/// most of its letters from the start (Jaro-Winkler, for `max_latency_ms` -> `max_latency`).
pub fn suggest(unknown: &str, allowed: &[&'static str]) -> Option<&'static str> {
    let unknown = unknown.to_lowercase();
    allowed
        .iter()
        .map(|&key| {
            let edits = strsim::damerau_levenshtein(&unknown, key);
            let similar = strsim::jaro_winkler(&unknown, key);
            (key, edits, similar)
        })
        .filter(|&(key, edits, similar)| {
            edits <= (key.chars().count() / 3).max(1) || similar >= 0.9
        })
        .min_by(|a, b| a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)))
        .map(|(key, _, _)| key)
}

/// "`a`, `b` and `c`".
pub(crate) fn list(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        assert_eq!(suggest("tiemout", REQUEST_STEP), Some("timeout"));
        assert_eq!(suggest("wieght", TASK), Some("weight"));
        assert_eq!(suggest("stpes", TASK), Some("steps"));
        assert_eq!(suggest("GET", REQUEST_STEP), Some("get"));
        assert_eq!(suggest("header", REQUEST_STEP), Some("headers"));
        assert_eq!(suggest("pacin", PACING), Some("pacing"));
        assert_eq!(suggest("max_latency_ms", CHECK), Some("max_latency"));
        assert_eq!(suggest("banana", REQUEST_STEP), None);
        assert_eq!(suggest("colour", SCENARIO), None);
        assert_eq!(suggest("x", TASK), None);
    }

    #[test]
    fn request_step_keys_start_with_the_methods() {
        assert_eq!(&REQUEST_STEP[..METHODS.len()], METHODS);
        let from_model: Vec<&str> = crate::Method::ALL.iter().map(|m| m.key()).collect();
        assert_eq!(from_model, METHODS);
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(list(&["a"]), "`a`");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
