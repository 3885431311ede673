//! Diagnostics: what is wrong with a scenario file, and where.
//!
//! A [`Diagnostic`] is plain data (a severity, a byte span, a message and an optional
//! help line) so that the engine's later checks can produce them too and every caller can
//! decide how to show them. [`render`] is the one place that turns them into text, through
//! `codespan-reporting`, so every error looks the same: `file:line:col`, the source line
//! with the span underlined, then `help:`.

use std::fmt;

use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor::Ansi, Config};

use crate::model::Span;
use crate::SourceFile;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The scenario cannot run.
    Error,
    /// The scenario runs, but probably not as meant.
    Warning,
}

/// One finding about a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Byte range in the source the finding is about.
    pub span: Span,
    /// What is wrong, in one sentence without a trailing period.
    pub message: String,
    /// How to fix it, when there is something specific to say.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            span,
            message: message.into(),
            help: None,
        }
    }

    pub fn warning(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            span,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// 1-based line and column of the start of the span in `text`.
    pub fn line_col(&self, text: &str) -> (usize, usize) {
        line_col(text, self.span.start)
    }
}

impl fmt::Display for Diagnostic {
    /// The message alone (`error: ...`); use [`render`] to show it with its place.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{label}: {}", self.message)
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
///
/// An offset past the end, or inside a multi-byte character, counts as the nearest valid
/// position before it, so this never panics.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset);
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Renders diagnostics the way `rustc` does: header, `file:line:col`, the source snippet
/// with the span underlined, and the help line. With `color`, ANSI escapes are included.
pub fn render(file: &SourceFile, diags: &[Diagnostic], color: bool) -> String {
    let files = SimpleFile::new(file.name.as_str(), file.text.as_str());
    let config = Config::default();
    let mut out = String::new();
    for diag in diags {
        let report = to_report(&file.text, diag);
        let rendered = if color {
            let mut writer = Ansi::new(Vec::new());
            term::emit_to_write_style(&mut writer, &config, &files, &report)
                .map(|()| String::from_utf8_lossy(&writer.into_inner()).into_owned())
        } else {
            term::emit_into_string(&config, &files, &report)
        };
        match rendered {
            Ok(text) => out.push_str(&text),
            // codespan only fails on spans it cannot place; `to_report` clamps them, so this
            // is a fallback that still names the place rather than losing the diagnostic.
            Err(_) => {
                let (line, col) = line_col(&file.text, diag.span.start);
                out.push_str(&format!("{}:{line}:{col}: {diag}\n", file.name));
                if let Some(help) = &diag.help {
                    out.push_str(&format!("  = help: {help}\n"));
                }
            }
        }
    }
    out
}

fn to_report(text: &str, diag: &Diagnostic) -> Report<()> {
    let start = floor_char_boundary(text, diag.span.start);
    let end = ceil_char_boundary(text, diag.span.end.max(start));
    let report = match diag.severity {
        Severity::Error => Report::error(),
        Severity::Warning => Report::warning(),
    };
    let notes = diag
        .help
        .iter()
        .map(|help| format!("help: {help}"))
        .collect();
    report
        .with_message(diag.message.clone())
        .with_labels(vec![Label::primary((), start..end)])
        .with_notes(notes)
}

/// `value` in YAML quotes: double quotes unless it holds `"` or `\` (an escape in double
/// quotes), then single quotes.
pub(crate) fn yaml_quote(value: &str) -> String {
    if value.contains('"') || value.contains('\\') {
        format!("'{}'", value.replace('\'', "''"))
    } else {
        format!("\"{value}\"")
    }
}

pub(crate) fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn ceil_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset += 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one_in_characters() {
        let text = "a: 1\nbé: x\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (1, 4));
        assert_eq!(line_col(text, 5), (2, 1));
        // `x` is at byte 10 but character column 5.
        assert_eq!(line_col(text, 10), (2, 5));
        assert_eq!(line_col(text, 7), (2, 2), "inside `é` counts as its start");
        assert_eq!(line_col(text, 999), (3, 1));
    }

    #[test]
    fn render_shows_place_snippet_and_help() {
        let file = SourceFile {
            name: "s.yaml".into(),
            text: "load:\n  duration: 10\n".into(),
        };
        let diag = Diagnostic::error(Span::new(18, 20), "expected a duration like `10s`")
            .with_help("add a unit: `10s`");
        let out = render(&file, &[diag], false);
        assert!(
            out.contains("error: expected a duration like `10s`"),
            "{out}"
        );
        assert!(out.contains("s.yaml:2:13"), "{out}");
        assert!(out.contains("duration: 10"), "{out}");
        assert!(out.contains("^^"), "{out}");
        assert!(out.contains("help: add a unit: `10s`"), "{out}");
        assert!(!out.contains('\u{1b}'), "no escapes without color: {out}");
        assert!(
            render(&file, &[Diagnostic::warning(Span::new(0, 4), "w")], true).contains('\u{1b}')
        );
    }

    #[test]
    fn render_survives_spans_outside_the_text() {
        let file = SourceFile {
            name: "s.yaml".into(),
            text: "é".into(),
        };
        let out = render(&file, &[Diagnostic::error(Span::new(1, 99), "bad")], false);
        assert!(out.contains("bad"), "{out}");
    }
}
