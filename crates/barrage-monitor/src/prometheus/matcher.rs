//! `--monitor-series`: which more series to keep, by name (`db_pool_size`) or by a
//! Prometheus-style selector (`http_requests_total{handler="/items",status=~"5.."}`), with
//! PromQL's four label operators and its meaning: `=~` and `!~` match the whole value.

use regex::Regex;

use super::exposition::{quoted, Series};

/// One `--monitor-series` value, parsed.
#[derive(Clone, Debug)]
pub struct SeriesMatcher {
    pub name: String,
    labels: Vec<LabelMatcher>,
}

#[derive(Clone, Debug)]
struct LabelMatcher {
    label: String,
    op: Op,
}

#[derive(Clone, Debug)]
enum Op {
    Equal(String),
    NotEqual(String),
    Matches(Regex),
    NotMatches(Regex),
}

impl SeriesMatcher {
    /// Reads `name` or `name{label="value",...}`; the error names the column and the fix.
    pub fn parse(text: &str) -> Result<SeriesMatcher, String> {
        let fail = |column: usize, what: &str| {
            format!(
                "--monitor-series {text:?}, column {}: {what}; write a metric name, or a \
                 selector such as http_requests_total{{handler=\"/items\"}} (operators =, !=, \
                 =~, !~)",
                column + 1
            )
        };
        let bytes = text.as_bytes();
        let name_end = bytes
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b':'))
            .unwrap_or(bytes.len());
        if name_end == 0 || bytes[0].is_ascii_digit() {
            return Err(fail(0, "a metric name was expected"));
        }
        let name = text[..name_end].to_owned();
        let mut labels = Vec::new();
        let mut at = name_end;
        if at == bytes.len() {
            return Ok(SeriesMatcher { name, labels });
        }
        if bytes[at] != b'{' {
            return Err(fail(at, "`{` or the end was expected after the name"));
        }
        at += 1;
        loop {
            at = skip_spaces(bytes, at);
            match bytes.get(at) {
                Some(b'}') if at + 1 == bytes.len() => break,
                Some(b'}') => return Err(fail(at + 1, "nothing may follow the `}`")),
                None => return Err(fail(at, "the selector is not closed with `}`")),
                _ => {}
            }
            let start = at;
            while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
                at += 1;
            }
            if at == start {
                return Err(fail(at, "a label name was expected"));
            }
            let label = text[start..at].to_owned();
            at = skip_spaces(bytes, at);
            let op_text = ["=~", "!~", "!=", "="]
                .into_iter()
                .find(|op| text[at..].starts_with(op))
                .ok_or_else(|| fail(at, "an operator (=, !=, =~, !~) was expected"))?;
            at = skip_spaces(bytes, at + op_text.len());
            let (value, next) = quoted(text, at).map_err(|(column, what)| fail(column, &what))?;
            let regex = |value: &str| {
                Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| fail(at, &format!("the regular expression is invalid: {e}")))
            };
            let op = match op_text {
                "=" => Op::Equal(value),
                "!=" => Op::NotEqual(value),
                "=~" => Op::Matches(regex(&value)?),
                _ => Op::NotMatches(regex(&value)?),
            };
            labels.push(LabelMatcher { label, op });
            at = skip_spaces(bytes, next);
            match bytes.get(at) {
                Some(b',') => at += 1,
                Some(b'}') => {}
                None => return Err(fail(at, "the selector is not closed with `}`")),
                _ => return Err(fail(at, "`,` or `}` was expected after a label")),
            }
        }
        Ok(SeriesMatcher { name, labels })
    }

    /// Whether `series` is selected: its name, and every label matcher (a missing label
    /// reads as empty, as in PromQL).
    pub fn matches(&self, series: &Series) -> bool {
        series.name == self.name
            && self.labels.iter().all(|m| {
                let value = series.label(&m.label).unwrap_or("");
                match &m.op {
                    Op::Equal(v) => value == v,
                    Op::NotEqual(v) => value != v,
                    Op::Matches(re) => re.is_match(value),
                    Op::NotMatches(re) => !re.is_match(value),
                }
            })
    }
}

fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && bytes[at] == b' ' {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::super::exposition::{Kind, Value};
    use super::*;

    fn series(name: &str, labels: &[(&str, &str)]) -> Series {
        Series {
            name: name.to_owned(),
            kind: Kind::Gauge,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value: Value::Scalar(1.0),
        }
    }

    #[test]
    fn names_and_selectors_select_as_promql_does() {
        let s = series(
            "http_requests_total",
            &[("handler", "/items"), ("status", "5xx")],
        );
        assert!(SeriesMatcher::parse("http_requests_total")
            .unwrap()
            .matches(&s));
        assert!(!SeriesMatcher::parse("http_requests").unwrap().matches(&s));
        let m = SeriesMatcher::parse(r#"http_requests_total{handler="/items", status=~"5.."}"#)
            .unwrap();
        assert!(m.matches(&s));
        let m = SeriesMatcher::parse(r#"http_requests_total{status!~"5.*",}"#).unwrap();
        assert!(!m.matches(&s));
        let m =
            SeriesMatcher::parse(r#"http_requests_total{handler!="/other",method=""}"#).unwrap();
        assert!(m.matches(&s), "a missing label reads as empty");
        // `=~` matches the whole value, not a part of it.
        let m = SeriesMatcher::parse(r#"http_requests_total{status=~"5"}"#).unwrap();
        assert!(!m.matches(&s));
    }

    #[test]
    fn a_bad_selector_says_where_and_how_to_write_it() {
        for (text, column, what) in [
            ("", 1, "a metric name was expected"),
            ("{a=\"b\"}", 1, "a metric name was expected"),
            ("m{a=\"b\"", 8, "not closed"),
            ("m{a:\"b\"}", 4, "an operator"),
            ("m{a=b}", 5, "double-quoted"),
            ("m{a=~\"(\"}", 6, "regular expression"),
            ("m{a=\"b\"} x", 9, "nothing may follow"),
            ("m x", 2, "`{` or the end"),
        ] {
            let err = SeriesMatcher::parse(text).unwrap_err();
            assert!(
                err.contains(&format!("column {column}:")) && err.contains(what),
                "{text:?}: {err}"
            );
            assert!(
                err.contains("http_requests_total{handler=\"/items\"}"),
                "{err}"
            );
        }
    }
}
