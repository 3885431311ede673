//! The two ways a template can fail: when it is compiled, and when it is rendered.
//!
//! Compile-time errors ([`TemplateError`]) carry a byte range inside the template's own
//! source string, so the engine can turn them into a file, line and column by adding the
//! string's place in the scenario. Render-time errors ([`RenderError`]) happen per request
//! (a variable not saved yet, a value of the wrong type) and carry only a message: they are
//! counted as failed requests, never shown with a source excerpt, and are built only on the
//! failure path so that rendering costs nothing extra when it succeeds.

use std::fmt;

/// A template that cannot be compiled or bound: where (`offset`, `len`, bytes within the
/// template source), what, and optionally how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub help: Option<String>,
}

impl TemplateError {
    pub(crate) fn new(offset: usize, len: usize, message: impl Into<String>) -> Self {
        TemplateError {
            offset,
            len,
            message: message.into(),
            help: None,
        }
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A template that could not be rendered for this request (for example
/// `variable `token` is not set (...)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RenderError {
    pub message: String,
}

impl RenderError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        RenderError {
            message: message.into(),
        }
    }
}

/// Writing into a `String` or a `Vec<u8>` cannot fail; a caller-supplied writer can, and
/// then the rendering is abandoned.
impl From<fmt::Error> for RenderError {
    fn from(_: fmt::Error) -> Self {
        RenderError::new("the output writer refused the rendered text")
    }
}
