//! barrage-scenario: the scenario file.
//!
//! Reads YAML into the [`model`], with a [`Span`] on every value so that every error, here
//! or in the engine's later checks, names file, line and column. Must not do I/O beyond
//! reading the scenario file, and must not depend on tokio or HTTP.

pub mod model;

pub use model::*;
