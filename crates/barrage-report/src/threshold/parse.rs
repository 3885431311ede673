//! Reading a threshold expression: `metric{label="value", ...} op value[unit]`.
//!
//! Written by hand: the grammar is five tokens long, and every error must carry the exact
//! byte range it is about (so the scenario file's diagnostic can underline it) plus a fix,
//! which parser-combinator crates make harder rather than easier. The metric name, the label
//! matchers and the number+unit are read by [`crate::vocab`], as compare gates read them;
//! what is the threshold's own is the comparison and what a limit's unit means.

use std::ops::Range;

use barrage_scenario::size::{parse_size, SIZE_UNITS};

use super::{Op, Threshold};
use crate::vocab::{
    closest, matcher_block, metric_word, quantity, time_to_ms, Cursor, FigureStat, Metric,
    ParseError, Unit, FIGURE_NAMES, METRIC_NAMES,
};

/// Parses one threshold expression.
pub fn parse(text: &str) -> Result<Threshold, ParseError> {
    let mut c = Cursor::new(text, 0);
    c.skip_ws();
    if c.at_end() {
        return Err(ParseError::new(0..0, "the threshold is empty")
            .help("write a metric, a comparison and a limit, like `p95 < 200ms`"));
    }
    let (metric, metric_span) = read_metric(&mut c)?;
    c.skip_ws();
    let matchers = if c.peek() == Some('{') {
        matcher_block(&mut c, metric)?
    } else {
        Vec::new()
    };
    c.skip_ws();
    let op = op(&mut c, metric)?;
    c.skip_ws();
    let (limit, limit_span) = limit(&mut c, metric)?;
    c.skip_ws();
    if !c.at_end() {
        return Err(ParseError::new(
            c.pos..text.len(),
            format!("unexpected `{}` after the limit", c.rest()),
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

fn read_metric(c: &mut Cursor<'_>) -> Result<(Metric, Range<usize>), ParseError> {
    let span = metric_word(c);
    let word = &c.text[span.clone()];
    if word.is_empty() {
        let found = c.next_char();
        return Err(ParseError::new(
            c.pos..c.pos + found.len(),
            format!("expected a metric name, found `{found}`"),
        )
        .help(format!("metrics: {METRIC_LIST}")));
    }
    if c.peek() == Some('(') {
        return statistic_of_figure(c, span);
    }
    match Metric::named(word) {
        Some(m) => Ok((m, span)),
        None => Err(unknown_metric(word, span)),
    }
}

/// `avg(server_cpu)`: a statistic of a server figure's samples. `stat_span` is the word
/// before the `(` the cursor is at; the metric's span runs from it to the `)`.
fn statistic_of_figure(
    c: &mut Cursor<'_>,
    stat_span: Range<usize>,
) -> Result<(Metric, Range<usize>), ParseError> {
    let written_stat = &c.text[stat_span.clone()];
    let Some(stat) = FigureStat::named(written_stat) else {
        let help = match closest(&written_stat.to_ascii_lowercase(), STAT_NAMES) {
            Some(close) => format!("did you mean `{close}(...)`?"),
            None => format!("statistics: {STAT_LIST}"),
        };
        return Err(
            ParseError::new(stat_span, format!("unknown statistic `{written_stat}`")).help(help),
        );
    };
    let open = c.pos;
    c.pos += 1;
    c.skip_ws();
    let inner_span = metric_word(c);
    let inner = &c.text[inner_span.clone()];
    c.skip_ws();
    if !c.eat(")") {
        let found = c.next_char();
        return Err(if inner.is_empty() {
            ParseError::new(
                c.pos..c.pos + found.len(),
                format!("expected a server figure after `{written_stat}(`, found `{found}`"),
            )
            .help(format!("figures: {}", FIGURE_NAMES.join(", ")))
        } else {
            ParseError::new(open..c.pos + found.len(), "`(` is never closed")
                .help(format!("write `{written_stat}({inner})`"))
        });
    }
    let whole = stat_span.start..c.pos;
    match Metric::named(inner) {
        Some(Metric::Server(figure, _)) => Ok((Metric::Server(figure, stat), whole)),
        Some(other) => {
            let help = match other {
                Metric::Latency(..) if stat == FigureStat::Avg => {
                    format!("for the mean response time write `mean`; `{}` is already a statistic over the run", other.name())
                }
                _ => format!(
                    "`{0}` is already a figure over the run: write `{0} < {1}`",
                    other.name(),
                    other.unit().example()
                ),
            };
            Err(ParseError::new(
                whole,
                format!("`{written_stat}(...)` takes a server figure, and `{inner}` is not one"),
            )
            .help(help))
        }
        None => {
            let help = match closest(&inner.to_ascii_lowercase(), FIGURE_NAMES) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!("figures: {}", FIGURE_NAMES.join(", ")),
            };
            Err(ParseError::new(inner_span, format!("unknown server figure `{inner}`")).help(help))
        }
    }
}

const STAT_NAMES: &[&str] = &["max", "avg", "mean", "min", "last"];
const STAT_LIST: &str = "`max(...)` (the default), `avg(...)` (or `mean(...)`), `min(...)`, \
     `last(...)`, of a server figure";

fn op(c: &mut Cursor<'_>, metric: Metric) -> Result<Op, ParseError> {
    let start = c.pos;
    let write_it = || {
        format!(
            "write it like `{} < {}`",
            metric.name(),
            metric.unit().example()
        )
    };
    // Two-char operators first, so `<=` is not read as `<` followed by `=`.
    for (written, op) in [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
    ] {
        if c.eat(written) {
            return Ok(op);
        }
    }
    Err(match c.peek() {
        Some('=') => ParseError::new(start..start + 1, "`=` is not a comparison")
            .help("write `==` to compare for equality, or `<=` / `>=`"),
        Some(found) => ParseError::new(
            start..start + found.len_utf8(),
            format!(
                "expected a comparison (`<`, `<=`, `>`, `>=`, `==`, `!=`) after `{}`, found `{found}`",
                metric.name()
            ),
        )
        .help(write_it()),
        None => ParseError::new(
            start..start,
            format!("`{}` needs a comparison and a limit", metric.name()),
        )
        .help(write_it()),
    })
}

/// The limit in the metric's unit. A threshold's unit says what the number is in: a time
/// for latencies, a percentage (or a plain fraction) for rates, nothing or `/s` for rps.
fn limit(c: &mut Cursor<'_>, metric: Metric) -> Result<(f64, Range<usize>), ParseError> {
    let q = quantity(c, false).map_err(|e| {
        let message = if e.found.is_empty() {
            "the limit is missing".to_owned()
        } else {
            e.to_string()
        };
        ParseError::new(e.span, message).help(format!(
            "write a limit like `{} < {}`",
            metric.name(),
            metric.unit().example()
        ))
    })?;
    let (digits, unit, span) = (q.digits, q.unit, q.span.clone());
    let written = &c.text[span.clone()];
    let value = match (metric.unit(), unit) {
        (Unit::Ms, "") => {
            return Err(
                ParseError::new(span, format!("`{written}` has no unit")).help(format!(
                "latencies need a unit: `{digits}ms` or `{digits}s` (units: ns, us, ms, s, m, h)"
            )),
            )
        }
        (Unit::Ms, u) => match time_to_ms(q.value, u) {
            Some(ms) => ms,
            None => {
                return Err(
                    ParseError::new(q.unit_span, format!("`{u}` is not a unit of time")).help(
                        format!("write it like `{digits}ms` (units: ns, us, ms, s, m, h)"),
                    ),
                )
            }
        },
        (Unit::Ratio, "%") if q.value <= 100.0 => q.value / 100.0,
        (Unit::Ratio, "%") => {
            return Err(ParseError::new(
                span,
                format!("`{written}` is not a rate: rates run from 0% to 100%"),
            )
            .help("write a percentage from 0% to 100%, like `1%`"))
        }
        (Unit::Ratio, "") if q.value <= 1.0 => q.value,
        (Unit::Ratio, "") => {
            return Err(ParseError::new(
                span,
                format!("`{written}` is not a rate: rates are fractions from 0 to 1"),
            )
            .help(format!(
                "write a percentage, `{digits}%`, or a fraction like `0.01`"
            )))
        }
        (Unit::PerSecond | Unit::Rate, "" | "/s") => q.value,
        (Unit::Count, "") => q.value,
        // % of one core, as `top` shows it: `90%` is 90, not 0.9, and `150%` is one and a
        // half cores. A bare number means the same, except one at or below 1, which reads
        // like `error_rate`'s fractions (`0.9` for 90 %) and would judge 0.9 % of a core.
        (Unit::Percent, "") if q.value > 0.0 && q.value <= 1.0 => {
            return Err(ParseError::new(
                span,
                format!("`{written}` would be {written}% of one core"),
            )
            .help(format!(
                "CPU is in % of one core: write `{written}%` if that is meant, or `{}%` for \
                 {} of a core",
                q.value * 100.0,
                q.value
            )))
        }
        (Unit::Percent, "" | "%") => q.value,
        (Unit::Bytes, "") => {
            return Err(
                ParseError::new(span, format!("`{written}` has no unit")).help(format!(
                    "sizes need a unit: `{digits}MB` or `{digits}MiB` (units: {SIZE_UNITS})"
                )),
            )
        }
        // The scenario's size units, read by its own reader (a whole `1` of the unit, scaled
        // here, so `1.5GiB` reads too).
        (Unit::Bytes, u) => match parse_size(&format!("1{u}")) {
            Ok(scale) => q.value * scale as f64,
            Err(e) => {
                return Err(
                    ParseError::new(q.unit_span, format!("`{u}` is not a unit of size"))
                        .help(e.help()),
                )
            }
        },
        (unit, u) => {
            let why = match unit {
                Unit::Ratio => {
                    format!("write a percentage like `{digits}%` or a fraction like `0.01`")
                }
                Unit::PerSecond => {
                    format!("write requests per second as a plain number: `{digits}`")
                }
                Unit::Rate => format!("write a rate per second as a plain number: `{digits}`"),
                Unit::Percent => format!(
                    "CPU is in % of one core: write `{digits}%` (150% is one and a half cores)"
                ),
                Unit::Count | Unit::Ms | Unit::Bytes => {
                    format!("write a plain number: `{digits}`")
                }
            };
            return Err(ParseError::new(
                q.unit_span,
                format!("`{}` takes no unit `{u}`", metric.name()),
            )
            .help(why));
        }
    };
    // A number past f64's range reads as infinity, and a limit of infinity is judged
    // ("inf under the limit of inf"): refuse it where it is written.
    if !value.is_finite() {
        return Err(
            ParseError::new(span, format!("`{written}` is too large to be a limit")).help(format!(
                "write a limit like `{} < {}`",
                metric.name(),
                metric.unit().example()
            )),
        );
    }
    Ok((value, span))
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
        let all: Vec<&'static str> = METRIC_NAMES.iter().chain(FIGURE_NAMES).copied().collect();
        match closest(&lower, &all) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("metrics: {METRIC_LIST}"),
        }
    };
    ParseError::new(span, format!("unknown metric `{word}`")).help(help)
}

const METRIC_LIST: &str = "p50, p75, p90, p95, p99, p99.9, mean, min, max (response time; \
     `service_` before any of them for service time), error_rate, rps, checks, requests, \
     failures, dropped_iterations; server figures: server_cpu, server_rss, server_threads, \
     server_open_files, probe_max_stall, probe_failures, pg_connections, \
     pg_connections_active, pg_connections_idle_in_transaction, pg_connections_waiting, \
     pg_transactions, pg_longest_query (`avg(...)`, `min(...)`, `last(...)` for other \
     statistics than the maximum)";
