//! Interned ids and the registry that names them.
//!
//! The engine compiles a scenario once and hands every endpoint, task and check a small
//! integer id; the recorder indexes plain vectors with those ids on the hot path, so it never
//! hashes or compares a string per request. Names live only here, in the [`Registry`], and are
//! looked up when a snapshot is built (about once a second, off the hot path).
//!
//! This module must not grow behaviour: it is the vocabulary shared by the engine, the
//! recorder and the aggregator.

/// An endpoint: one (scenario, method, name) triple. Indexes [`Registry::endpoints`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EndpointId(pub u32);

/// A task of a user type. Indexes [`Registry::tasks`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TaskId(pub u32);

/// A check attached to an endpoint. Indexes [`Registry::checks`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CheckId(pub u32);

impl EndpointId {
    /// The index into [`Registry::endpoints`].
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl TaskId {
    /// The index into [`Registry::tasks`].
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl CheckId {
    /// The index into [`Registry::checks`].
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Everything the engine registered when it compiled the scenario, in file order.
///
/// The recorder and aggregator size their vectors from it; an id outside it is a bug in
/// whoever handed it out, and recording with such an id panics.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    pub endpoints: Vec<EndpointInfo>,
    pub tasks: Vec<TaskInfo>,
    pub checks: Vec<CheckInfo>,
}

/// The names of one endpoint. `name` is the step's `name:` or its unrendered path template,
/// never a rendered URL, so the number of endpoints stays bounded.
#[derive(Clone, Debug)]
pub struct EndpointInfo {
    pub scenario: String,
    pub method: String,
    pub name: String,
}

/// The names of one task: which scenario, which user type, which task.
#[derive(Clone, Debug)]
pub struct TaskInfo {
    pub scenario: String,
    pub user: String,
    pub name: String,
}

/// One check: the endpoint whose responses it inspects, and its human name
/// (for example `status == 201`).
#[derive(Clone, Debug)]
pub struct CheckInfo {
    pub endpoint: EndpointId,
    pub name: String,
}

impl Registry {
    /// Adds an endpoint and returns its id (a convenience for the engine and for tests).
    pub fn add_endpoint(&mut self, scenario: &str, method: &str, name: &str) -> EndpointId {
        self.endpoints.push(EndpointInfo {
            scenario: scenario.to_owned(),
            method: method.to_owned(),
            name: name.to_owned(),
        });
        EndpointId(id_for(self.endpoints.len()))
    }

    /// Adds a task and returns its id.
    pub fn add_task(&mut self, scenario: &str, user: &str, name: &str) -> TaskId {
        self.tasks.push(TaskInfo {
            scenario: scenario.to_owned(),
            user: user.to_owned(),
            name: name.to_owned(),
        });
        TaskId(id_for(self.tasks.len()))
    }

    /// Adds a check on `endpoint` and returns its id.
    pub fn add_check(&mut self, endpoint: EndpointId, name: &str) -> CheckId {
        self.checks.push(CheckInfo {
            endpoint,
            name: name.to_owned(),
        });
        CheckId(id_for(self.checks.len()))
    }
}

fn id_for(len_after_push: usize) -> u32 {
    u32::try_from(len_after_push - 1).expect("a scenario never has more than u32::MAX endpoints")
}

/// Why a request failed. Every failure gets exactly one category; the category decides how it
/// is counted and shown, never whether the run goes on (a failure never stops a run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureCategory {
    ConnectRefused,
    ConnectTimeout,
    Reset,
    Tls,
    Protocol,
    ResponseTimeout,
    Status,
    Check,
    Template,
    /// The load generator itself ran out of something a connection needs: file
    /// descriptors (EMFILE, ENFILE), local ports or addresses (EADDRNOTAVAIL, EADDRINUSE),
    /// socket buffers (ENOBUFS). The target never saw these requests; the fix is on the
    /// generating machine (`ulimit -n`, fewer users, `--local-addresses`).
    LocalResources,
    /// A WebSocket was closed by the server (or the connection dropped) while the
    /// scenario still had messages to send or receive.
    WsClosed,
    /// A WebSocket `receive` waited its whole timeout for a message.
    WsTimeout,
    Other,
}

impl FailureCategory {
    /// Every category, in declaration order (which is also the index order used internally).
    pub const ALL: [FailureCategory; 13] = [
        FailureCategory::ConnectRefused,
        FailureCategory::ConnectTimeout,
        FailureCategory::Reset,
        FailureCategory::Tls,
        FailureCategory::Protocol,
        FailureCategory::ResponseTimeout,
        FailureCategory::Status,
        FailureCategory::Check,
        FailureCategory::Template,
        FailureCategory::LocalResources,
        FailureCategory::WsClosed,
        FailureCategory::WsTimeout,
        FailureCategory::Other,
    ];

    /// The number of categories.
    pub const COUNT: usize = Self::ALL.len();

    /// The stable machine name, as written in result files (`"connect_refused"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCategory::ConnectRefused => "connect_refused",
            FailureCategory::ConnectTimeout => "connect_timeout",
            FailureCategory::Reset => "reset",
            FailureCategory::Tls => "tls",
            FailureCategory::Protocol => "protocol",
            FailureCategory::ResponseTimeout => "response_timeout",
            FailureCategory::Status => "status",
            FailureCategory::Check => "check",
            FailureCategory::Template => "template",
            FailureCategory::LocalResources => "local_resources",
            FailureCategory::WsClosed => "ws_closed",
            FailureCategory::WsTimeout => "ws_timeout",
            FailureCategory::Other => "other",
        }
    }

    /// A label for people (`"connection refused"`, ...).
    pub fn label(self) -> &'static str {
        match self {
            FailureCategory::ConnectRefused => "connection refused",
            FailureCategory::ConnectTimeout => "connect timeout",
            FailureCategory::Reset => "connection reset",
            FailureCategory::Tls => "TLS error",
            FailureCategory::Protocol => "protocol error",
            FailureCategory::ResponseTimeout => "response timeout",
            FailureCategory::Status => "HTTP status",
            FailureCategory::Check => "check failed",
            FailureCategory::Template => "template error",
            FailureCategory::LocalResources => "local resources exhausted",
            FailureCategory::WsClosed => "WebSocket closed",
            FailureCategory::WsTimeout => "WebSocket receive timeout",
            FailureCategory::Other => "other",
        }
    }

    /// The inverse of [`FailureCategory::as_str`].
    pub fn from_name(name: &str) -> Option<FailureCategory> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The position in [`FailureCategory::ALL`].
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for FailureCategory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// The two latencies of one request that got a response, in nanoseconds.
///
/// `response_time_ns` runs from the intended start (what a user waiting in line feels; it
/// corrects coordinated omission); `service_time_ns` runs from the moment the request was
/// written. Both end when the body is complete.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub response_time_ns: u64,
    pub service_time_ns: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_names_round_trip_and_indexes_match_all() {
        for (i, c) in FailureCategory::ALL.into_iter().enumerate() {
            assert_eq!(c.index(), i);
            assert_eq!(FailureCategory::from_name(c.as_str()), Some(c));
        }
        assert_eq!(
            FailureCategory::ConnectRefused.label(),
            "connection refused"
        );
        assert_eq!(FailureCategory::from_name("nope"), None);
    }

    #[test]
    fn registry_hands_out_sequential_ids() {
        let mut r = Registry::default();
        assert_eq!(r.add_endpoint("s", "GET", "/a"), EndpointId(0));
        let b = r.add_endpoint("s", "POST", "/b");
        assert_eq!(b, EndpointId(1));
        assert_eq!(r.add_check(b, "status == 201"), CheckId(0));
        assert_eq!(r.add_task("s", "u", "t"), TaskId(0));
    }
}
