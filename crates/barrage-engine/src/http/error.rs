//! Every way a request can fail, and the category each one is counted under.

use std::time::Duration;

use barrage_metrics::FailureCategory;

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("connection refused by {0}")]
    Refused(String),
    #[error("connect to {0} timed out after {1:?}")]
    ConnectTimeout(String, Duration),
    #[error("connect to {0} failed: {1}")]
    Connect(String, std::io::Error),
    /// This machine ran out of what a connection needs (see `connect::local_shortage`).
    #[error("connect to {0} failed for lack of local resources: {1} (raise the open-files limit with `ulimit -n`, run fewer users, or spread connections with --local-addresses)")]
    LocalResources(String, std::io::Error),
    #[error("TLS handshake with {0} failed: {1}")]
    Tls(String, std::io::Error),
    #[error("no response within {0:?}")]
    ResponseTimeout(Duration),
    #[error("{0}")]
    Io(std::io::Error),
    #[error("the server closed the connection before the response was complete")]
    Closed,
    #[error("invalid response: {0}")]
    Protocol(String),
    #[error("{0}")]
    Invalid(String),
    /// The process's budget for kept bodies was in use (`http/budget.rs`): a limit of this
    /// machine's run, not the server's fault.
    #[error("{0}")]
    BodyMemory(String),
}

/// The category a failed request is counted under.
pub fn categorize(e: &RequestError) -> FailureCategory {
    match e {
        RequestError::Refused(_) => FailureCategory::ConnectRefused,
        RequestError::ConnectTimeout(..) => FailureCategory::ConnectTimeout,
        RequestError::Connect(..) => FailureCategory::Other,
        // The body budget is this machine's memory running short, like descriptors or
        // ports: not the server's fault.
        RequestError::LocalResources(..) | RequestError::BodyMemory(_) => {
            FailureCategory::LocalResources
        }
        RequestError::Tls(..) => FailureCategory::Tls,
        RequestError::ResponseTimeout(_) => FailureCategory::ResponseTimeout,
        RequestError::Invalid(_) => FailureCategory::Other,
        RequestError::Protocol(_) => FailureCategory::Protocol,
        RequestError::Closed => FailureCategory::Reset,
        RequestError::Io(e) => match e.kind() {
            std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::BrokenPipe
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::UnexpectedEof => FailureCategory::Reset,
            _ => FailureCategory::Other,
        },
    }
}
