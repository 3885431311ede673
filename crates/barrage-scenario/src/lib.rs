//! barrage-scenario: the scenario file.
//!
//! Reads YAML into the [`model`], with a [`Span`] on every value so that every error, here
//! or in the engine's later checks, names file, line and column. Must not do I/O beyond
//! reading the scenario file, and must not depend on tokio or HTTP.
//!
//! The pipeline: `node` builds a located YAML tree (syntax errors and duplicate keys become
//! diagnostics), `decode` reads the tree into the model by hand, reporting every mistake it
//! can find with a suggestion, and [`render`] shows the diagnostics the way `rustc` does. [`json_schema`] describes the same format for editors; [`keys`] holds
//! the key lists both are checked against.

mod decode;
mod diagnostic;
pub mod duration;
pub mod keys;
pub mod model;
mod node;
mod schema;
pub mod size;

use std::path::{Path, PathBuf};

pub use decode::{parse_stage, StageError};
pub use diagnostic::{line_col, render, Diagnostic, Severity};
pub use duration::{parse_duration, DurationError};
pub use model::*;
pub use schema::{json_schema, to_json};

/// A scenario file's text and the name to show in diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as the user gave it.
    pub name: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read scenario file {}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file was read but is not a valid scenario; render `diagnostics` against `file`.
    #[error("{} is not a valid scenario ({} error{})", file.name, error_count(diagnostics), if error_count(diagnostics) == 1 { "" } else { "s" })]
    Invalid {
        file: SourceFile,
        diagnostics: Vec<Diagnostic>,
    },
}

fn error_count(diagnostics: &[Diagnostic]) -> usize {
    diagnostics.iter().filter(|d| d.is_error()).count()
}

/// Parses a scenario. `Ok` carries the warnings (which do not stop a run); `Err` carries
/// every diagnostic found, errors and warnings, in source order.
pub fn parse(file: &SourceFile) -> Result<(Scenario, Vec<Diagnostic>), Vec<Diagnostic>> {
    let loaded = node::load(&file.text);
    let mut ctx = decode::Ctx::new(&file.text, loaded.diagnostics);
    let scenario = match &loaded.root {
        Some(root) => decode::scenario(&mut ctx, root),
        None => {
            if ctx.diagnostics.is_empty() {
                ctx.error_help(
                    Span::new(0, 0),
                    "the scenario file is empty",
                    "start with `target: http://127.0.0.1:8000` and `users:`",
                );
            }
            None
        }
    };
    let mut diagnostics = ctx.diagnostics;
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    // A node reached twice through a YAML alias reports its mistakes twice.
    diagnostics.dedup();
    match scenario {
        Some(scenario) if !diagnostics.iter().any(Diagnostic::is_error) => {
            Ok((scenario, diagnostics))
        }
        _ => Err(diagnostics),
    }
}

/// Reads and parses the scenario file at `path`.
pub fn parse_file(path: &Path) -> Result<(SourceFile, Scenario, Vec<Diagnostic>), LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.display().to_string();
    let file = match String::from_utf8(bytes) {
        Ok(text) => SourceFile { name, text },
        Err(err) => {
            let at = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let diagnostic = Diagnostic::error(Span::new(at, at + 1), "the file is not UTF-8 text")
                .with_help("save the scenario as UTF-8");
            return Err(LoadError::Invalid {
                file: SourceFile { name, text },
                diagnostics: vec![diagnostic],
            });
        }
    };
    match parse(&file) {
        Ok((scenario, warnings)) => Ok((file, scenario, warnings)),
        Err(diagnostics) => Err(LoadError::Invalid { file, diagnostics }),
    }
}
