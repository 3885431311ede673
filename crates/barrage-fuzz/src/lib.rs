//! barrage-fuzz: the fuzz targets for everything barrage reads from users (scenario files,
//! templates, thresholds, OpenAPI documents, result files), and what runs them on stable
//! Rust.
//!
//! Each target is a plain function from bytes to nothing that panics when barrage misbehaves:
//! a panic inside barrage, or an error that does not say where the input is wrong. The same
//! functions are driven two ways, so no target is written twice:
//!
//! - by libFuzzer, through cargo-fuzz (`fuzz/`, nightly or `RUSTC_BOOTSTRAP=1`), for deep
//!   runs by hand (docs/RELIABILITY.md says how);
//! - by [`runner`], on stable in CI: every input of the target's corpus
//!   (`fuzz/corpus/NAME/`) and the generated hostile inputs of [`seeds`], then a bounded
//!   number of seeded byte-level mutations of them ([`mutate`], libFuzzer's kinds of edit),
//!   so a failure repeats exactly.
//!
//! Must not: do I/O beyond reading corpus files and writing a failing input for repro, or
//! depend on the engine (nothing here sends a request).

pub mod mutate;
pub mod runner;
pub mod seeds;
pub mod targets;

pub use runner::{run_target, RunReport};
pub use targets::{Target, TARGETS};
