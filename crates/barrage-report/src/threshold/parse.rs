//! Reading a threshold expression: `metric{label="value", ...} op value[unit]`.
//!
//! Written by hand: the grammar is five tokens long, and every error must carry the exact
//! byte range it is about (so the scenario file's diagnostic can underline it) plus a fix,
//! which parser-combinator crates make harder rather than easier. Label values are quoted
//! (`"..."` or `'...'`, with `\"`, `\'` and `\\` escapes) precisely so that names holding
//! braces, brackets and commas (`/items/{item_id}`, `/items/[name]`) need no other escaping.

use std::ops::Range;

use regex::Regex;

use super::{Label, MatchOp, Matcher, Metric, Op, Stat, Threshold, Timing, Unit};

/// Why an expression could not be read, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte range in the expression (empty at the end when something is missing).
    pub span: Range<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl ParseError {
    fn new(span: Range<usize>, message: impl Into<String>) -> ParseError {
        ParseError {
            span,
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> ParseError {
        self.help = Some(help.into());
        self
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

/// Every metric name accepted, for suggestions and the "expected" list.
pub const METRIC_NAMES: &[&str] = &[
    "p50",
    "p75",
    "p90",
    "p95",
    "p99",
    "p99.9",
    "p999",
    "median",
    "mean",
    "avg",
    "min",
    "max",
    "service_p50",
    "service_p75",
    "service_p90",
    "service_p95",
    "service_p99",
    "service_p99.9",
    "service_p999",
    "service_median",
    "service_mean",
    "service_avg",
    "service_min",
    "service_max",
    "error_rate",
    "rps",
    "checks",
    "requests",
    "failures",
    "dropped_iterations",
];

const LABELS: &[&str] = &["scenario", "method", "name", "check"];

/// Parses one threshold expression.
pub fn parse(text: &str) -> Result<Threshold, ParseError> {
    let mut p = Parser { text, pos: 0 };
    p.skip_ws();
    if p.pos == text.len() {
        return Err(ParseError::new(0..0, "the threshold is empty")
            .help("write a metric, a comparison and a limit, like `p95 < 200ms`"));
    }
    let (metric, metric_span) = p.metric()?;
    p.skip_ws();
    let matchers = if p.peek() == Some('{') {
        p.matchers(metric)?
    } else {
        Vec::new()
    };
    p.skip_ws();
    let op = p.op(metric)?;
    p.skip_ws();
    let (limit, limit_span) = p.limit(metric)?;
    p.skip_ws();
    if p.pos < text.len() {
        return Err(ParseError::new(
            p.pos..text.len(),
            format!("unexpected `{}` after the limit", &text[p.pos..]),
        )
        .help("a threshold is one comparison; write each condition as its own threshold"));
    }
    Ok(Threshold {
        text: text.to_owned(),
        metric,
        metric_span,
        matchers,
        op,
        limit,
        limit_span,
    })
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.text.len() - trimmed.len();
    }

    /// A run of chars from the current position while `keep` holds.
    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> Range<usize> {
        let start = self.pos;
        let len: usize = self
            .rest()
            .chars()
            .take_while(|&c| keep(c))
            .map(char::len_utf8)
            .sum();
        self.pos += len;
        start..self.pos
    }

    fn metric(&mut self) -> Result<(Metric, Range<usize>), ParseError> {
        let span = self.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        let word = &self.text[span.clone()];
        if word.is_empty() {
            let found: String = self.rest().chars().take(1).collect();
            return Err(ParseError::new(
                self.pos..self.pos + found.len(),
                format!("expected a metric name, found `{found}`"),
            )
            .help(format!("metrics: {}", metric_list())));
        }
        match metric_named(&word.to_ascii_lowercase()) {
            Some(m) => Ok((m, span)),
            None => Err(unknown_metric(word, span)),
        }
    }

    fn matchers(&mut self, metric: Metric) -> Result<Vec<Matcher>, ParseError> {
        let open = self.pos;
        self.pos += 1; // `{`
        let mut matchers = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some('}') => {
                    self.pos += 1;
                    return Ok(matchers);
                }
                None => {
                    return Err(ParseError::new(open..self.pos, "`{` is never closed")
                        .help("close the label matchers with `}`"))
                }
                _ => {}
            }
            matchers.push(self.matcher(metric)?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {}
                None => {
                    return Err(ParseError::new(open..self.pos, "`{` is never closed")
                        .help("close the label matchers with `}`"))
                }
                Some(c) => {
                    return Err(ParseError::new(
                        self.pos..self.pos + c.len_utf8(),
                        format!("expected `,` or `}}` after a label matcher, found `{c}`"),
                    )
                    .help("separate matchers with commas: `{name=\"/a\", method=\"GET\"}`"))
                }
            }
        }
    }

    fn matcher(&mut self, metric: Metric) -> Result<Matcher, ParseError> {
        let span = self.take_while(|c| c.is_ascii_alphanumeric() || c == '_');
        let word = &self.text[span.clone()];
        let label = match word {
            "scenario" => Label::Scenario,
            "method" => Label::Method,
            "name" => Label::Name,
            "check" => Label::Check,
            "" => {
                let found: String = self.rest().chars().take(1).collect();
                return Err(ParseError::new(
                    self.pos..self.pos + found.len(),
                    format!("expected a label name, found `{found}`"),
                )
                .help("labels: `scenario`, `method`, `name` (and `check` for `checks`)"));
            }
            other => {
                let help = match closest(other, LABELS) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => {
                        "labels: `scenario`, `method`, `name` (and `check` for `checks`)".to_owned()
                    }
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
        self.skip_ws();
        let op_start = self.pos;
        let op = if self.rest().starts_with("=~") {
            MatchOp::Regex
        } else if self.rest().starts_with("!~") {
            MatchOp::NotRegex
        } else if self.rest().starts_with("!=") {
            MatchOp::Ne
        } else if self.rest().starts_with("==") {
            return Err(ParseError::new(
                op_start..op_start + 2,
                "label matchers use `=`, not `==`",
            )
            .help(format!("write `{word}=\"...\"`")));
        } else if self.rest().starts_with('=') {
            MatchOp::Eq
        } else {
            let found: String = self.rest().chars().take(1).collect();
            return Err(ParseError::new(
                op_start..op_start + found.len(),
                format!("expected `=`, `!=`, `=~` or `!~` after `{word}`"),
            )
            .help(format!("write `{word}=\"...\"`")));
        };
        self.pos += if op == MatchOp::Eq { 1 } else { 2 };
        self.skip_ws();
        let (value, value_span) = self.quoted(word)?;
        let regex = match op {
            MatchOp::Regex | MatchOp::NotRegex => {
                // Anchored at both ends, as Prometheus does: `name=~"/items/.*"`.
                match Regex::new(&format!("^(?:{value})$")) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        let first = e.to_string().lines().last().unwrap_or("").to_owned();
                        return Err(ParseError::new(
                            value_span,
                            format!("invalid regular expression: {}", first.trim()),
                        )
                        .help(
                            "`=~` takes a regular expression; use `=` to match the text as written",
                        ));
                    }
                }
            }
            MatchOp::Eq | MatchOp::Ne => None,
        };
        Ok(Matcher {
            label,
            op,
            value,
            regex,
        })
    }

    /// A quoted label value with its escapes resolved.
    fn quoted(&mut self, label: &str) -> Result<(String, Range<usize>), ParseError> {
        let start = self.pos;
        let quote = match self.peek() {
            Some(q @ ('"' | '\'')) => q,
            _ => {
                let bare = self.take_while(|c| !matches!(c, ',' | '}') && !c.is_whitespace());
                let bare_text = &self.text[bare.clone()];
                return Err(ParseError::new(
                    start..bare.end.max(start + 1).min(self.text.len()),
                    format!("the value of `{label}` must be quoted"),
                )
                .help(format!("write `{label}=\"{bare_text}\"`")));
            }
        };
        self.pos += 1;
        let mut value = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, e @ ('\\' | '"' | '\''))) => value.push(e),
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, 't')) => value.push('\t'),
                    Some((j, e)) => {
                        let at = self.pos + j - 1;
                        return Err(ParseError::new(
                            at..at + 1 + e.len_utf8(),
                            format!("unknown escape `\\{e}`"),
                        )
                        .help("inside quotes, `\\` escapes only `\\`, `\"`, `'`, `n` and `t`; write `\\\\` for a backslash"));
                    }
                    None => break,
                },
                c if c == quote => {
                    self.pos += i + 1;
                    return Ok((value, start..self.pos));
                }
                c => value.push(c),
            }
        }
        Err(
            ParseError::new(start..self.text.len(), "this quoted value is never closed")
                .help(format!("end it with `{quote}`")),
        )
    }

    fn op(&mut self, metric: Metric) -> Result<Op, ParseError> {
        let start = self.pos;
        let (op, len) = match self.rest().get(..2) {
            Some("<=") => (Op::Le, 2),
            Some(">=") => (Op::Ge, 2),
            Some("==") => (Op::Eq, 2),
            Some("!=") => (Op::Ne, 2),
            _ => match self.peek() {
                Some('<') => (Op::Lt, 1),
                Some('>') => (Op::Gt, 1),
                Some('=') => {
                    return Err(ParseError::new(start..start + 1, "`=` is not a comparison")
                        .help("write `==` to compare for equality, or `<=` / `>=`"))
                }
                Some(c) => {
                    let span = start..start + c.len_utf8();
                    let mut e = ParseError::new(
                        span,
                        format!("expected a comparison (`<`, `<=`, `>`, `>=`, `==`, `!=`) after `{}`, found `{c}`", metric.name()),
                    );
                    e.help = Some(format!(
                        "write it like `{} < {}`",
                        metric.name(),
                        metric.unit().example()
                    ));
                    return Err(e);
                }
                None => {
                    return Err(ParseError::new(
                        start..start,
                        format!("`{}` needs a comparison and a limit", metric.name()),
                    )
                    .help(format!(
                        "write it like `{} < {}`",
                        metric.name(),
                        metric.unit().example()
                    )))
                }
            },
        };
        self.pos += len;
        Ok(op)
    }

    fn limit(&mut self, metric: Metric) -> Result<(f64, Range<usize>), ParseError> {
        let start = self.pos;
        let number = self.take_while(|c| c.is_ascii_digit() || c == '.');
        let digits = &self.text[number.clone()];
        let example = metric.unit().example();
        let Ok(value) = digits.parse::<f64>() else {
            let found: String = self
                .rest()
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            let (span, message) = if digits.is_empty() && found.is_empty() {
                (start..start, "the limit is missing".to_owned())
            } else {
                (
                    start..self.pos + found.len(),
                    format!("expected a number, found `{digits}{found}`"),
                )
            };
            return Err(ParseError::new(span, message).help(format!(
                "write a limit like `{} < {example}`",
                metric.name()
            )));
        };
        // `200 ms` reads as `200ms`.
        let after_number = self.pos;
        self.skip_ws();
        if !self
            .peek()
            .is_some_and(|c| c.is_alphabetic() || c == '%' || c == '/')
        {
            self.pos = after_number;
        }
        let unit_span = self.take_while(|c| c.is_alphabetic() || c == '%' || c == '/');
        let unit = &self.text[unit_span.clone()];
        let span = start..self.pos;
        let written = &self.text[span.clone()];
        let value = match (metric.unit(), unit) {
            (Unit::Ms, "") => {
                return Err(
                    ParseError::new(span, format!("`{written}` has no unit")).help(format!(
                        "latencies need a unit: `{digits}ms` or `{digits}s` (units: us, ms, s, m)"
                    )),
                )
            }
            (Unit::Ms, u) => match duration_unit_ms(u) {
                Some(scale) => scale(value),
                None => {
                    return Err(
                        ParseError::new(unit_span, format!("`{u}` is not a unit of time"))
                            .help(format!("write it like `{digits}ms` (units: us, ms, s, m)")),
                    )
                }
            },
            (Unit::Ratio, "%") => value / 100.0,
            (Unit::Ratio, "") if value <= 1.0 => value,
            (Unit::Ratio, "") => {
                return Err(ParseError::new(
                    span,
                    format!("`{written}` is not a rate: rates are fractions from 0 to 1"),
                )
                .help(format!(
                    "write a percentage, `{digits}%`, or a fraction like `0.01`"
                )))
            }
            (Unit::PerSecond, "" | "/s") => value,
            (Unit::Count, "") => value,
            (unit, u) => {
                let why = match unit {
                    Unit::Ratio => {
                        format!("write a percentage like `{digits}%` or a fraction like `0.01`")
                    }
                    Unit::PerSecond => {
                        format!("write requests per second as a plain number: `{digits}`")
                    }
                    Unit::Count | Unit::Ms => format!("write a plain number: `{digits}`"),
                };
                return Err(ParseError::new(
                    unit_span,
                    format!("`{}` takes no unit `{u}`", metric.name()),
                )
                .help(why));
            }
        };
        Ok((value, span))
    }
}

/// Scales a number in `unit` to milliseconds, by multiplication or division by exact
/// powers of ten and 60, so a limit copied from a result file in `ms` compares exactly.
fn duration_unit_ms(unit: &str) -> Option<fn(f64) -> f64> {
    Some(match unit {
        "ns" => |v| v / 1e6,
        "us" | "µs" => |v| v / 1e3,
        "ms" => |v| v,
        "s" => |v| v * 1e3,
        "m" => |v| v * 60e3,
        "h" => |v| v * 3_600e3,
        _ => return None,
    })
}

fn metric_named(name: &str) -> Option<Metric> {
    let (timing, stat) = match name.strip_prefix("service_") {
        Some(rest) => (Timing::Service, rest),
        None => (Timing::Response, name),
    };
    let stat = match stat {
        "p50" | "median" => Stat::P50,
        "p75" => Stat::P75,
        "p90" => Stat::P90,
        "p95" => Stat::P95,
        "p99" => Stat::P99,
        "p99.9" | "p999" => Stat::P999,
        "mean" | "avg" => Stat::Mean,
        "min" => Stat::Min,
        "max" => Stat::Max,
        _ if timing == Timing::Service => return None,
        "error_rate" => return Some(Metric::ErrorRate),
        "rps" => return Some(Metric::Rps),
        "checks" => return Some(Metric::Checks),
        "requests" => return Some(Metric::Requests),
        "failures" => return Some(Metric::Failures),
        "dropped_iterations" => return Some(Metric::DroppedIterations),
        _ => return None,
    };
    Some(Metric::Latency(timing, stat))
}

fn unknown_metric(word: &str, span: Range<usize>) -> ParseError {
    let lower = word.to_ascii_lowercase();
    let is_percentile = lower
        .trim_start_matches("service_")
        .strip_prefix('p')
        .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit() || c == '.'));
    let help = if is_percentile {
        "the percentiles kept are p50, p75, p90, p95, p99 and p99.9 (also written p999); \
         prefix `service_` for service time"
            .to_owned()
    } else {
        match closest(&lower, METRIC_NAMES) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("metrics: {}", metric_list()),
        }
    };
    ParseError::new(span, format!("unknown metric `{word}`")).help(help)
}

fn metric_list() -> String {
    "p50, p75, p90, p95, p99, p99.9, mean, min, max (response time; `service_` before any of \
     them for service time), error_rate, rps, checks, requests, failures, dropped_iterations"
        .to_owned()
}

/// The allowed word closest to `word`, when it is close enough to be a likely slip.
fn closest(word: &str, allowed: &[&'static str]) -> Option<&'static str> {
    allowed
        .iter()
        .map(|&w| {
            (
                w,
                strsim::damerau_levenshtein(word, w),
                strsim::jaro_winkler(word, w),
            )
        })
        .filter(|&(w, edits, similar)| edits <= (w.len() / 3).max(1) || similar >= 0.9)
        .min_by(|a, b| a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)))
        .map(|(w, _, _)| w)
}
