//! Label matchers, `{name="/items/{item_id}", method!="POST"}`: which endpoints (or checks)
//! a threshold or a gate is about.
//!
//! As in Prometheus: `=` and `!=` compare the text exactly (`method` ignores case), `=~` and
//! `!~` take a regular expression anchored at both ends. Values are quoted (`"..."` or
//! `'...'`, with `\"`, `\'`, `\\`, `\n` and `\t` escapes) precisely so that names holding
//! braces, brackets and commas (`/items/{item_id}`, `/items/[name]`) need no other escaping.

use regex::Regex;

use super::cursor::Cursor;
use super::{closest, Metric, ParseError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    Scenario,
    Method,
    Name,
    /// The check's own name; `checks` only.
    Check,
}

const LABELS: &[&str] = &["scenario", "method", "name", "check"];
const LABEL_HELP: &str = "labels: `scenario`, `method`, `name` (and `check` for `checks`)";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    Eq,
    Ne,
    Regex,
    NotRegex,
}

/// `name="/items/{item_id}"`.
#[derive(Clone, Debug)]
pub struct Matcher {
    pub label: Label,
    pub op: MatchOp,
    /// The value with its escapes resolved.
    pub value: String,
    /// For `=~` and `!~`: the value compiled, anchored at both ends.
    pub regex: Option<Regex>,
}

/// Two matchers are equal when written alike; a compiled regex is compared by its pattern.
impl PartialEq for Matcher {
    fn eq(&self, other: &Matcher) -> bool {
        (self.label, self.op, &self.value) == (other.label, other.op, &other.value)
            && self.regex.as_ref().map(Regex::as_str) == other.regex.as_ref().map(Regex::as_str)
    }
}

impl Matcher {
    /// Whether a label's value satisfies this matcher.
    pub fn matches(&self, value: &str) -> bool {
        let equal = if self.label == Label::Method {
            value.eq_ignore_ascii_case(&self.value)
        } else {
            value == self.value
        };
        match (self.op, &self.regex) {
            (MatchOp::Eq, _) => equal,
            (MatchOp::Ne, _) => !equal,
            (MatchOp::Regex, Some(r)) => r.is_match(value),
            (MatchOp::NotRegex, Some(r)) => !r.is_match(value),
            // The parser always compiles the regex of `=~` and `!~`.
            (MatchOp::Regex | MatchOp::NotRegex, None) => false,
        }
    }
}

/// Whether an endpoint (or a check on it) is selected by every one of `matchers`: the one
/// rule thresholds and gates select by. The `check` label is compared with `check` when
/// given, and passes otherwise (only `checks` may have it, and only it passes a check).
pub fn selects(
    matchers: &[Matcher],
    scenario: &str,
    method: &str,
    name: &str,
    check: Option<&str>,
) -> bool {
    matchers.iter().all(|m| match m.label {
        Label::Scenario => m.matches(scenario),
        Label::Method => m.matches(method),
        Label::Name => m.matches(name),
        Label::Check => check.is_none_or(|c| m.matches(c)),
    })
}

/// Reads the `{...}` block that starts at byte `open` of `text` (a `{`), for `metric`
/// (which decides whether `check` is a label, and whether labels are allowed at all).
/// Returns the matchers and the position after the closing `}`; errors locate their bytes
/// in `text`. (The parsers read blocks from their own cursor with `block`; this is its
/// face for the tests.)
#[cfg(test)]
pub(crate) fn parse_matchers(
    text: &str,
    open: usize,
    metric: Metric,
) -> Result<(Vec<Matcher>, usize), ParseError> {
    let mut c = Cursor::new(text, open);
    let matchers = block(&mut c, metric)?;
    Ok((matchers, c.pos))
}

fn never_closed(open: usize, c: &Cursor<'_>) -> ParseError {
    ParseError::new(open..c.pos, "`{` is never closed").help("close the label matchers with `}`")
}

pub(crate) fn block(c: &mut Cursor<'_>, metric: Metric) -> Result<Vec<Matcher>, ParseError> {
    let open = c.pos;
    if !c.eat("{") {
        return Err(ParseError::new(
            open..open + c.next_char().len(),
            format!("expected `{{`, found `{}`", c.next_char()),
        ));
    }
    if metric.is_server() {
        // Point at the whole block, so the fix (delete it) is underlined.
        let end = c.rest().find('}').map_or(c.text.len(), |i| c.pos + i + 1);
        return Err(ParseError::new(
            open..end,
            format!(
                "`{}` is a figure of the server, not of an endpoint: it takes no label matchers",
                metric.name()
            ),
        )
        .help("remove the `{...}`; the monitored processes, PostgreSQL servers and probe are judged together"));
    }
    let mut matchers = Vec::new();
    loop {
        c.skip_ws();
        match c.peek() {
            Some('}') => {
                c.pos += 1;
                return Ok(matchers);
            }
            None => return Err(never_closed(open, c)),
            _ => {}
        }
        matchers.push(matcher(c, metric)?);
        c.skip_ws();
        match c.peek() {
            Some(',') => c.pos += 1,
            Some('}') => {}
            None => return Err(never_closed(open, c)),
            Some(found) => {
                return Err(ParseError::new(
                    c.pos..c.pos + found.len_utf8(),
                    format!("expected `,` or `}}` after a label matcher, found `{found}`"),
                )
                .help("separate matchers with commas: `{name=\"/a\", method=\"GET\"}`"))
            }
        }
    }
}

fn matcher(c: &mut Cursor<'_>, metric: Metric) -> Result<Matcher, ParseError> {
    let span = c.take_while(|c| c.is_ascii_alphanumeric() || c == '_');
    let word = &c.text[span.clone()];
    let label = match word {
        "scenario" => Label::Scenario,
        "method" => Label::Method,
        "name" => Label::Name,
        "check" => Label::Check,
        "" => {
            let found = c.next_char();
            return Err(ParseError::new(
                c.pos..c.pos + found.len(),
                format!("expected a label name, found `{found}`"),
            )
            .help(LABEL_HELP));
        }
        other => {
            let help = match closest(other, LABELS) {
                Some(close) => format!("did you mean `{close}`?"),
                None => LABEL_HELP.to_owned(),
            };
            return Err(ParseError::new(span, format!("unknown label `{other}`")).help(help));
        }
    };
    if label == Label::Check && metric != Metric::Checks {
        return Err(ParseError::new(
            span,
            "the `check` label selects checks: only `checks` has it",
        )
        .help("select endpoints with `scenario`, `method` or `name`"));
    }
    if metric == Metric::DroppedIterations {
        return Err(ParseError::new(
            span,
            "`dropped_iterations` is counted for the whole run, not per endpoint",
        )
        .help("remove the `{...}` label matchers"));
    }
    c.skip_ws();
    let op_start = c.pos;
    let op = if c.eat("=~") {
        MatchOp::Regex
    } else if c.eat("!~") {
        MatchOp::NotRegex
    } else if c.eat("!=") {
        MatchOp::Ne
    } else if c.rest().starts_with("==") {
        return Err(
            ParseError::new(op_start..op_start + 2, "label matchers use `=`, not `==`")
                .help(format!("write `{word}=\"...\"`")),
        );
    } else if c.eat("=") {
        MatchOp::Eq
    } else {
        return Err(ParseError::new(
            op_start..op_start + c.next_char().len(),
            format!("expected `=`, `!=`, `=~` or `!~` after `{word}`"),
        )
        .help(format!("write `{word}=\"...\"`")));
    };
    c.skip_ws();
    let (value, value_span) = quoted(c, word)?;
    let regex = match op {
        // Anchored at both ends, as Prometheus does: `name=~"/items/.*"`.
        MatchOp::Regex | MatchOp::NotRegex => match Regex::new(&format!("^(?:{value})$")) {
            Ok(r) => Some(r),
            Err(e) => {
                let first = e.to_string().lines().last().unwrap_or("").to_owned();
                return Err(ParseError::new(
                    value_span,
                    format!("invalid regular expression: {}", first.trim()),
                )
                .help("`=~` takes a regular expression; use `=` to match the text as written"));
            }
        },
        MatchOp::Eq | MatchOp::Ne => None,
    };
    Ok(Matcher {
        label,
        op,
        value,
        regex,
    })
}

/// A quoted label value with its escapes resolved, and where it was written.
fn quoted(c: &mut Cursor<'_>, label: &str) -> Result<(String, std::ops::Range<usize>), ParseError> {
    let start = c.pos;
    let quote = match c.peek() {
        Some(q @ ('"' | '\'')) => q,
        _ => {
            let bare = c.take_while(|c| !matches!(c, ',' | '}') && !c.is_whitespace());
            let bare_text = &c.text[bare.clone()];
            return Err(ParseError::new(
                start..bare.end.max(start + 1).min(c.text.len()),
                format!("the value of `{label}` must be quoted"),
            )
            .help(format!("write `{label}=\"{bare_text}\"`")));
        }
    };
    c.pos += 1;
    let mut value = String::new();
    let mut chars = c.rest().char_indices();
    while let Some((i, ch)) = chars.next() {
        match ch {
            '\\' => match chars.next() {
                Some((_, e @ ('\\' | '"' | '\''))) => value.push(e),
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((j, e)) => {
                    let at = c.pos + j - 1;
                    return Err(ParseError::new(
                        at..at + 1 + e.len_utf8(),
                        format!("unknown escape `\\{e}`"),
                    )
                    .help("inside quotes, `\\` escapes only `\\`, `\"`, `'`, `n` and `t`; write `\\\\` for a backslash"));
                }
                None => break,
            },
            ch if ch == quote => {
                c.pos += i + 1;
                return Ok((value, start..c.pos));
            }
            ch => value.push(ch),
        }
    }
    Err(
        ParseError::new(start..c.text.len(), "this quoted value is never closed")
            .help(format!("end it with `{quote}`")),
    )
}
