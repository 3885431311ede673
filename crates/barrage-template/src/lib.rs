//! barrage-template: the pure, per-request rules of a scenario.
//!
//! - [`Template`] and [`JsonTemplate`]: text and JSON bodies with `{{ expression }}`
//!   parts, and the small expression language inside them (literals, names, built-in
//!   functions; see the `expr` module for why it is written by hand).
//! - [`Extractor`]: takes a value out of a response for `save:`.
//! - [`CompiledCheck`]: decides whether a response passes its `check:`.
//!
//! Everything here runs on the load generator's hot path, so the rule is: compile once,
//! when the scenario is loaded, then render and evaluate with no parsing and as little
//! allocation as the data allows; static templates cost a copy. This crate does no I/O
//! (beyond reading `env()` variables once, at bind time), nothing async, and takes no
//! locks; what varies per user (variables, data rows, the random generator) is passed in
//! through a [`RenderCtx`].

mod check;
mod ctx;
mod error;
mod eval;
mod expr;
mod extract;
mod functions;
mod json_template;
mod json_text;
mod lexer;
mod schema_check;
mod template;

pub use check::{json_eq, CheckError, CheckItem, CompiledCheck, ReportFn};
pub use ctx::{RenderCtx, Slot, BUILTIN_NAMES};
pub use error::{RenderError, TemplateError};
pub use extract::{Extractor, ExtractorError, JsonPathError, Response, ResponseView};
pub use functions::{function_names, MAX_DIGITS, MAX_STRING_LEN};
pub use json_template::{scalar_template, JsonTemplate};
pub use template::Template;
