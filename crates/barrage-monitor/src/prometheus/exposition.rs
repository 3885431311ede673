//! The Prometheus text exposition format (version 0.0.4, and the OpenMetrics lines a
//! scrape may carry), read into series: scalars, and histograms and summaries gathered
//! from their `_bucket`, `_sum` and `_count` lines.
//!
//! Written by hand, on purpose: the maintained crates fall short here. `prometheus-parse`
//! (the usual one) reads label values with a regular expression that stops at the first
//! `}`, `,` or `=`, so FastAPI's templated handlers (`handler="/items/{item_id}"`, exactly
//! what prometheus-fastapi-instrumentator exposes) are dropped without a word, and it
//! ignores escapes; `openmetrics-parser` is LGPL-3.0, which this MIT/Apache project cannot
//! link statically; `prom_text_format_parser` had one release, in 2023. The format is
//! line-based and small (the grammar is the 40 lines of the Prometheus documentation), so a
//! reader of our own, with the tests below, costs less than any of those.
//!
//! Timestamps and exemplars are read past and dropped: a sample counts at the time of the
//! scrape.

use std::collections::BTreeMap;

/// A metric family's type, from its `# TYPE` line (`Untyped` without one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

/// One series of a scrape: a name and a label set (sorted by label name), with its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The family's name for histograms and summaries (`http_request_duration_seconds`),
    /// the sample's own name otherwise (`http_requests_total`).
    pub name: String,
    pub kind: Kind,
    /// Without `le` (histograms) and `quantile` (summaries).
    pub labels: Vec<(String, String)>,
    pub value: Value,
}

impl Series {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A counter's, gauge's or untyped sample's value.
    Scalar(f64),
    /// Cumulative bucket counts by upper bound (`le`), ascending, `+Inf` last when given.
    Histogram { buckets: Vec<(f64, f64)> },
    /// The summary's quantiles (`quantile`, value), its `_count` and `_sum`.
    Summary {
        quantiles: Vec<(f64, f64)>,
        count: Option<f64>,
    },
}

/// Where a scrape does not follow the format: said with the line and column.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ExpositionError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Reads a whole scrape. Series keep the order of their first line.
pub fn parse(text: &str) -> Result<Vec<Series>, ExpositionError> {
    let mut types: BTreeMap<String, Kind> = BTreeMap::new();
    let mut out: Vec<Series> = Vec::new();
    // Where each histogram's or summary's series (name and label set) sits in `out`.
    let mut grouped: BTreeMap<(String, Vec<(String, String)>), usize> = BTreeMap::new();

    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim_start();
        let indent = raw.len() - line.len();
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.split_whitespace();
            if words.next() == Some("TYPE") {
                if let (Some(name), Some(kind)) = (words.next(), words.next()) {
                    types.insert(name.to_owned(), kind_of(kind));
                }
            }
            continue;
        }
        let sample = parse_sample(line).map_err(|(column, message)| ExpositionError {
            line: line_no,
            column: indent + column + 1,
            message,
        })?;
        let (family, kind, part) = family_of(&sample.name, &types);
        match kind {
            Kind::Histogram | Kind::Summary => {
                let mut labels = sample.labels;
                let bound_label = if kind == Kind::Histogram {
                    "le"
                } else {
                    "quantile"
                };
                let bound = take_label(&mut labels, bound_label);
                let key = (family.to_owned(), labels.clone());
                let at = *grouped.entry(key).or_insert_with(|| {
                    out.push(Series {
                        name: family.to_owned(),
                        kind,
                        labels,
                        value: if kind == Kind::Histogram {
                            Value::Histogram {
                                buckets: Vec::new(),
                            }
                        } else {
                            Value::Summary {
                                quantiles: Vec::new(),
                                count: None,
                            }
                        },
                    });
                    out.len() - 1
                });
                match (&mut out[at].value, part, bound) {
                    (Value::Histogram { buckets }, Part::Bucket, Some(le)) => {
                        let le = parse_float(&le).map_err(|m| ExpositionError {
                            line: line_no,
                            column: indent + 1,
                            message: format!("le=\"{le}\": {m}"),
                        })?;
                        buckets.push((le, sample.value));
                    }
                    (Value::Summary { quantiles, .. }, Part::Plain, Some(q)) => {
                        let q = parse_float(&q).map_err(|m| ExpositionError {
                            line: line_no,
                            column: indent + 1,
                            message: format!("quantile=\"{q}\": {m}"),
                        })?;
                        quantiles.push((q, sample.value));
                    }
                    (Value::Summary { count, .. }, Part::Count, _) => *count = Some(sample.value),
                    // `_sum`, a histogram's `_count` (its `+Inf` bucket says the same) and
                    // `_created` are not needed for rates and quantiles.
                    _ => {}
                }
            }
            _ if part == Part::Created => {}
            _ => out.push(Series {
                name: sample.name,
                kind,
                labels: sample.labels,
                value: Value::Scalar(sample.value),
            }),
        }
    }
    for series in &mut out {
        if let Value::Histogram { buckets } = &mut series.value {
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
    }
    Ok(out)
}

fn kind_of(word: &str) -> Kind {
    match word {
        "counter" => Kind::Counter,
        "gauge" => Kind::Gauge,
        "histogram" | "gaugehistogram" => Kind::Histogram,
        "summary" => Kind::Summary,
        _ => Kind::Untyped,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Plain,
    Bucket,
    Count,
    Created,
}

/// The family a sample name belongs to, by the `# TYPE` lines seen: `x_bucket` of
/// histogram `x`, `x_total` of OpenMetrics counter `x`, and so on.
fn family_of<'a>(name: &'a str, types: &BTreeMap<String, Kind>) -> (&'a str, Kind, Part) {
    if let Some(kind) = types.get(name) {
        return (name, *kind, Part::Plain);
    }
    for (suffix, part) in [
        ("_bucket", Part::Bucket),
        ("_count", Part::Count),
        ("_sum", Part::Plain),
        ("_total", Part::Plain),
        ("_created", Part::Created),
    ] {
        if let Some(family) = name.strip_suffix(suffix) {
            if let Some(kind) = types.get(family) {
                let part = match (kind, suffix) {
                    // A summary's `_sum` is not a quantile line.
                    (Kind::Summary | Kind::Histogram, "_sum") => Part::Created,
                    _ => part,
                };
                if *kind == Kind::Counter && suffix == "_total" {
                    // OpenMetrics names the family without `_total`; the series keeps it,
                    // so `http_requests_total` is found under its usual name either way.
                    return (name, Kind::Counter, Part::Plain);
                }
                return (family, *kind, part);
            }
        }
    }
    (name, Kind::Untyped, Part::Plain)
}

fn take_label(labels: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let at = labels.iter().position(|(k, _)| k == name)?;
    Some(labels.remove(at).1)
}

struct RawSample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

/// `name{label="value",...} value [timestamp] [# exemplar]`; an error is (column, what).
fn parse_sample(line: &str) -> Result<RawSample, (usize, String)> {
    let bytes = line.as_bytes();
    let mut at = 0;
    while at < bytes.len() && is_name_byte(bytes[at], at == 0) {
        at += 1;
    }
    if at == 0 {
        return Err((0, "a metric name was expected".to_owned()));
    }
    let name = line[..at].to_owned();
    let mut labels = Vec::new();
    if bytes.get(at) == Some(&b'{') {
        at += 1;
        loop {
            at = skip_spaces(bytes, at);
            match bytes.get(at) {
                Some(b'}') => {
                    at += 1;
                    break;
                }
                None => return Err((at, "the label set is not closed with }".to_owned())),
                _ => {}
            }
            let start = at;
            while at < bytes.len() && is_label_byte(bytes[at], at == start) {
                at += 1;
            }
            if at == start {
                return Err((at, "a label name was expected".to_owned()));
            }
            let label = line[start..at].to_owned();
            at = skip_spaces(bytes, at);
            if bytes.get(at) != Some(&b'=') {
                return Err((at, format!("`=` was expected after label {label}")));
            }
            at = skip_spaces(bytes, at + 1);
            let (value, next) = quoted(line, at)?;
            labels.push((label, value));
            at = skip_spaces(bytes, next);
            match bytes.get(at) {
                Some(b',') => at += 1,
                Some(b'}') => {}
                _ => return Err((at, "`,` or `}` was expected after a label".to_owned())),
            }
        }
    }
    let rest = &line[at..];
    if !rest.starts_with([' ', '\t']) {
        return Err((at, "a space and the value were expected".to_owned()));
    }
    let value_text = rest.split_whitespace().next().unwrap_or("");
    let value = parse_float(value_text).map_err(|m| (at + 1, m))?;
    labels.sort();
    Ok(RawSample {
        name,
        labels,
        value,
    })
}

/// A double-quoted label value from `at` (at its opening quote), with `\\`, `\"` and `\n`
/// unescaped; returns it and the position after the closing quote.
pub(crate) fn quoted(line: &str, at: usize) -> Result<(String, usize), (usize, String)> {
    if line.as_bytes().get(at) != Some(&b'"') {
        return Err((at, "a double-quoted label value was expected".to_owned()));
    }
    let mut value = String::new();
    let mut chars = line[at + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((value, at + 1 + i + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, other)) => value.push(other),
                None => break,
            },
            c => value.push(c),
        }
    }
    Err((at, "the label value's closing quote is missing".to_owned()))
}

fn parse_float(text: &str) -> Result<f64, String> {
    // Rust reads `+Inf`, `-Inf` and `NaN` in any case, as the format writes them.
    text.parse::<f64>()
        .map_err(|_| format!("`{text}` is not a number"))
}

fn is_name_byte(b: u8, first: bool) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || (!first && b.is_ascii_digit())
}

fn is_label_byte(b: u8, first: bool) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || (!first && b.is_ascii_digit())
}

fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && (bytes[at] == b' ' || bytes[at] == b'\t') {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_templated_handlers_escapes_and_special_values() {
        let text = "# TYPE http_requests_total counter\n\
            http_requests_total{handler=\"/items/{item_id}\",method=\"GET\",status=\"2xx\"} 7.0\n\
            http_requests_total{handler=\"/a,b=c\",method=\"GET\"} 2 1700000000000\n\
            weird{path=\"C:\\\\x \\\"q\\\"\\n\"} +Inf\n\
            nan_gauge NaN\n";
        let series = parse(text).unwrap();
        assert_eq!(series.len(), 4);
        assert_eq!(series[0].kind, Kind::Counter);
        assert_eq!(series[0].label("handler"), Some("/items/{item_id}"));
        assert_eq!(series[0].value, Value::Scalar(7.0));
        assert_eq!(
            series[1].labels,
            labels(&[("handler", "/a,b=c"), ("method", "GET")])
        );
        assert_eq!(series[1].value, Value::Scalar(2.0));
        assert_eq!(series[2].kind, Kind::Untyped);
        assert_eq!(series[2].label("path"), Some("C:\\x \"q\"\n"));
        assert_eq!(series[2].value, Value::Scalar(f64::INFINITY));
        assert!(matches!(series[3].value, Value::Scalar(v) if v.is_nan()));
    }

    #[test]
    fn gathers_histograms_and_summaries_by_label_set() {
        let text = "# TYPE d histogram\n\
            d_bucket{handler=\"/a\",le=\"0.1\"} 3\n\
            d_bucket{handler=\"/a\",le=\"+Inf\"} 4\n\
            d_count{handler=\"/a\"} 4\n\
            d_sum{handler=\"/a\"} 0.3\n\
            d_bucket{handler=\"/b\",le=\"0.1\"} 1\n\
            d_bucket{handler=\"/b\",le=\"+Inf\"} 1\n\
            # TYPE d_created gauge\n\
            d_created{handler=\"/a\"} 1.7e9\n\
            # TYPE s summary\n\
            s{quantile=\"0.5\"} 0.02\n\
            s{quantile=\"0.99\"} 0.2\n\
            s_sum 4\n\
            s_count 100\n";
        let series = parse(text).unwrap();
        assert_eq!(series.len(), 4, "{series:?}");
        assert_eq!(series[0].name, "d");
        assert_eq!(series[0].labels, labels(&[("handler", "/a")]));
        assert_eq!(
            series[0].value,
            Value::Histogram {
                buckets: vec![(0.1, 3.0), (f64::INFINITY, 4.0)]
            }
        );
        assert_eq!(series[1].labels, labels(&[("handler", "/b")]));
        assert_eq!(series[2].name, "d_created");
        assert_eq!(
            series[3].value,
            Value::Summary {
                quantiles: vec![(0.5, 0.02), (0.99, 0.2)],
                count: Some(100.0)
            }
        );
    }

    #[test]
    fn open_metrics_counters_keep_their_total_name() {
        let text = "# TYPE jobs counter\njobs_total 5\njobs_created 1.7e9\n# EOF\n";
        let series = parse(text).unwrap();
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].name, "jobs_total");
        assert_eq!(series[0].kind, Kind::Counter);
    }

    #[test]
    fn a_broken_line_is_an_error_with_line_and_column() {
        let err = parse("ok 1\n  bad{a=\"x} 1\n").unwrap_err();
        assert_eq!((err.line, err.column), (2, 9), "{err}");
        assert!(err.message.contains("closing quote"), "{err}");
        let err = parse("x{a=\"1\"} one\n").unwrap_err();
        assert_eq!((err.line, err.column), (1, 10), "{err}");
        assert!(err.message.contains("`one` is not a number"), "{err}");
    }

    proptest::proptest! {
        /// Any label value, written with the format's escapes, reads back as it was.
        #[test]
        fn label_values_round_trip(value in "\\PC*", v in -1e12f64..1e12) {
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
            let text = format!("m{{a=\"{escaped}\",b=\"x\"}} {v}\n");
            let series = parse(&text).unwrap();
            proptest::prop_assert_eq!(series[0].label("a"), Some(value.as_str()));
            proptest::prop_assert_eq!(&series[0].value, &Value::Scalar(v));
        }
    }
}
