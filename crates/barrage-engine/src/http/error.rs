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
    #[error("TLS handshake with {0} failed: {1}")]
    Tls(String, std::io::Error),
    #[error("no response within {0:?}")]
    ResponseTimeout(Duration),
    #[error("{0}")]
    Http(hyper::Error),
    #[error("reading the body failed: {0}")]
    Body(hyper::Error),
    #[error("{0}")]
    Invalid(String),
}

fn io_kind(e: &hyper::Error) -> Option<std::io::ErrorKind> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = s.source();
    }
    None
}

/// The category a failed request is counted under.
pub fn categorize(e: &RequestError) -> FailureCategory {
    match e {
        RequestError::Refused(_) => FailureCategory::ConnectRefused,
        RequestError::ConnectTimeout(..) => FailureCategory::ConnectTimeout,
        RequestError::Connect(..) => FailureCategory::Other,
        RequestError::Tls(..) => FailureCategory::Tls,
        RequestError::ResponseTimeout(_) => FailureCategory::ResponseTimeout,
        RequestError::Invalid(_) => FailureCategory::Other,
        RequestError::Http(h) | RequestError::Body(h) => {
            if h.is_parse() || h.is_parse_status() || h.is_parse_too_large() {
                FailureCategory::Protocol
            } else if h.is_incomplete_message() || h.is_canceled() || h.is_closed() {
                FailureCategory::Reset
            } else if let Some(kind) = io_kind(h) {
                match kind {
                    std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::UnexpectedEof => FailureCategory::Reset,
                    _ => FailureCategory::Other,
                }
            } else {
                FailureCategory::Protocol
            }
        }
    }
}
