//! Diagnostics: what is wrong with a scenario file, and where.
//!
//! A [`Diagnostic`] is plain data (a severity, a byte span, a message and an optional
//! help line) so that the engine's later checks can produce them too and every caller can
//! decide how to show them. [`render`] is the one place that turns them into text, through
//! `codespan-reporting`, so every error looks the same: `file:line:col`, the source line
//! with the span underlined, then `help:`.
//!
//! A source line longer than [`LONGEST_LINE`] characters (a 10 MB key, a minified JSON body
//! on one line) is not printed whole: the snippet shows a window around the column with an
//! ellipsis on each cut side, and a message or help that quotes such text is cut in the
//! middle, so one bad byte never floods the terminal.

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

/// Source lines longer than this many characters are shown as a window around the column.
pub const LONGEST_LINE: usize = 160;
/// Characters of context kept on each side of the span in such a window.
const CONTEXT: usize = 60;
/// The most characters of a message or help line; longer ones are cut in the middle.
const LONGEST_TEXT: usize = 300;

/// Renders diagnostics the way `rustc` does: header, `file:line:col`, the source snippet
/// with the span underlined, and the help line. With `color`, ANSI escapes are included.
pub fn render(file: &SourceFile, diags: &[Diagnostic], color: bool) -> String {
    let config = Config::default();
    let mut out = String::new();
    for diag in diags {
        let diag = &Diagnostic {
            message: clip(&diag.message),
            help: diag.help.as_deref().map(clip),
            ..diag.clone()
        };
        let window = Window::of(&file.text, diag.span);
        let (text, span) = match &window {
            Some(w) => (w.text.as_str(), w.span),
            None => (file.text.as_str(), diag.span),
        };
        let files = SimpleFile::new(file.name.as_str(), text);
        let report = to_report(
            text,
            &Diagnostic {
                span,
                ..diag.clone()
            },
        );
        let rendered = if color {
            let mut writer = Ansi::new(Vec::new());
            term::emit_to_write_style(&mut writer, &config, &files, &report)
                .map(|()| String::from_utf8_lossy(&writer.into_inner()).into_owned())
        } else {
            term::emit_into_string(&config, &files, &report)
        };
        match rendered {
            Ok(text) => match &window {
                // The window keeps the line number but not the column: name the real one.
                Some(w) => out.push_str(&text.replacen(&w.locus_shown, &w.locus_true, 1)),
                None => out.push_str(&text),
            },
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

/// A long source line cut down to the part around a span, laid out so that codespan puts it
/// on its own line number: the text is that many newlines and then the window.
struct Window {
    text: String,
    /// The span within `text`.
    span: Span,
    /// `file:line:col` as codespan will print it from `text`, and as it really is.
    locus_shown: String,
    locus_true: String,
}

impl Window {
    /// `None` when the span's line is short enough to show whole.
    fn of(text: &str, span: Span) -> Option<Window> {
        let start = floor_char_boundary(text, span.start);
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = &text[line_start..line_end];
        if line.chars().count() <= LONGEST_LINE {
            return None;
        }
        let end = ceil_char_boundary(text, span.end.clamp(start, line_end));
        // Char positions within the line, so a window never splits a character.
        let col = text[line_start..start].chars().count();
        let len = text[start..end]
            .chars()
            .count()
            .min(LONGEST_LINE - 2 * CONTEXT);
        let from = col.saturating_sub(CONTEXT);
        let to = (col + len + CONTEXT).min(line.chars().count());
        let head = if from > 0 { "…" } else { "" };
        let tail = if to < line.chars().count() { "…" } else { "" };
        let middle: String = line.chars().skip(from).take(to - from).collect();
        let (line_no, col_no) = line_col(text, start);
        let newlines = "\n".repeat(line_no - 1);
        let span_start = newlines.len()
            + head.len()
            + line
                .chars()
                .skip(from)
                .take(col - from)
                .map(char::len_utf8)
                .sum::<usize>();
        let span_len: usize = line.chars().skip(col).take(len).map(char::len_utf8).sum();
        let window = format!("{newlines}{head}{middle}{tail}\n");
        let shown_col = head.chars().count() + (col - from) + 1;
        Some(Window {
            span: Span::new(span_start, span_start + span_len),
            text: window,
            locus_shown: format!(":{line_no}:{shown_col}"),
            locus_true: format!(":{line_no}:{col_no}"),
        })
    }
}

/// `text` cut in the middle when longer than [`LONGEST_TEXT`] characters.
fn clip(text: &str) -> String {
    let n = text.chars().count();
    if n <= LONGEST_TEXT {
        return text.to_owned();
    }
    let keep = LONGEST_TEXT / 2;
    let head: String = text.chars().take(keep).collect();
    let tail: String = text.chars().skip(n - keep).collect();
    format!("{head}…({} characters left out)…{tail}", n - 2 * keep)
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
    fn a_long_line_is_shown_as_a_window_around_the_column_and_long_messages_are_cut() {
        let key = "k".repeat(10_000_000);
        let text = format!("tasks: {{ t: [ {{ get: / }} ] }}\nload:\n  x{key}y: 1\n");
        let at = text.find('y').unwrap();
        let file = SourceFile {
            name: "s.yaml".into(),
            text: text.clone(),
        };
        let diag = Diagnostic::error(Span::new(at, at + 1), format!("unknown key `x{key}y`"))
            .with_help(format!("did you mean `{key}`?"));
        let out = render(&file, &[diag], false);
        assert!(out.len() < 3_000, "{} bytes of output", out.len());
        // The real place: line 3, after two spaces, `x` and ten million `k`s.
        assert!(out.contains("s.yaml:3:10000004"), "{out}");
        let snippet = out
            .lines()
            .find(|l| l.starts_with("3 │"))
            .expect("a window");
        assert!(
            snippet.ends_with(&format!("…{}y: 1", "k".repeat(60))),
            "{snippet}"
        );
        let carets = out.lines().find(|l| l.contains('^')).unwrap();
        let char_at = |line: &str, c: char| line.chars().position(|x| x == c).unwrap();
        assert_eq!(
            char_at(carets, '^'),
            char_at(snippet, 'y'),
            "the caret stands under the `y`:\n{snippet}\n{carets}"
        );
        assert!(out.contains("characters left out"), "{out}");

        // Short lines are shown whole, as before.
        let file = SourceFile {
            name: "s.yaml".into(),
            text: "load:\n  duration: 10\n".into(),
        };
        let out = render(&file, &[Diagnostic::error(Span::new(18, 20), "bad")], false);
        assert!(
            out.contains("  duration: 10") && !out.contains('…'),
            "{out}"
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
