//! Regression gates: `--fail-if 'p95>+10%'`.
//!
//! ```text
//! gate    = metric [ "{" matcher { "," matcher } "}" ] (">" | "<") amount
//! metric  = p50 | p75 | p90 | p95 | p99 | p999 | p99.9 | median | mean | avg | max
//!         | error_rate | rps
//! matcher = (scenario | method | name) ("=" | "!=" | "=~" | "!~") quoted-value
//! amount  = [+|-] number unit
//! ```
//!
//! `>` fails on an increase beyond the amount, `<` on a decrease beyond it (`rps<-10%`). The
//! unit says what kind of change: for latencies `%` is relative and `ms`, `s`, `us` absolute;
//! for `error_rate` the amount is always in percentage points (`+0.5%` allows 0.2 % -> 0.7 %;
//! a relative change of a rate near zero means nothing); for `rps` `%` is relative and a bare
//! number (or `/s`) absolute.
//!
//! The label matchers are the thresholds' own (Prometheus' quoted form, since endpoint names
//! hold braces and brackets: `p95{name="/items/{item_id}", method="GET"}>+10%`): the `{...}`
//! block is handed to [`crate::threshold::parse`], so a matcher written for a threshold works
//! unchanged in a gate, with the same escapes, regexes and error messages. A gate without
//! matchers applies to every endpoint present in both runs and to the aggregate; with
//! matchers, to the endpoints whose labels all match.
//!
//! This module parses and answers "is this change beyond the gate?"; whether the change is also
//! beyond the noise is the comparison's business.

use std::fmt;

use super::metric::{Metric, Unit};
use crate::threshold::{self, Label, Matcher};

/// One parsed `--fail-if` gate.
#[derive(Clone, Debug)]
pub struct Gate {
    text: String,
    pub metric: Metric,
    pub matchers: Vec<Matcher>,
    pub direction: Direction,
    pub amount: Amount,
}

/// Which way of change fails the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `>`: an increase beyond the amount.
    Increase,
    /// `<`: a decrease beyond the amount.
    Decrease,
}

/// How large a change the gate allows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Amount {
    /// A fraction of the base value (`+10%` is `0.10`).
    Relative(f64),
    /// In the metric's unit: milliseconds, percentage points, or requests/s.
    Absolute(f64),
}

/// A gate that could not be read, with what to write instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateError {
    gate: String,
    problem: String,
}

impl fmt::Display for GateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "--fail-if `{}`: {} (e.g. `p95>+10%`, `p99>+20ms`, `error_rate>+0.5%`, `rps<-10%`, \
             `p95{{name=\"/items/{{id}}\"}}>+10%`)",
            self.gate, self.problem
        )
    }
}

impl std::error::Error for GateError {}

impl Gate {
    /// Parses `text`; see the module documentation for the syntax.
    pub fn parse(text: &str) -> Result<Gate, GateError> {
        let fail = |problem: String| GateError {
            gate: text.to_owned(),
            problem,
        };
        let mut p = Scanner { rest: text };
        p.skip_ws();
        let name = p.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if name.is_empty() {
            return Err(fail("a gate starts with a metric".into()));
        }
        let metric = Metric::parse(name).ok_or_else(|| {
            fail(format!(
                "unknown metric `{name}`; compare gates take p50 p75 p90 p95 p99 p99.9 mean max \
                 (response time), error_rate and rps"
            ))
        })?;
        p.skip_ws();
        let matchers = if p.rest.starts_with('{') {
            let block = p.take_matcher_block();
            // A latency metric and any limit: only the matchers are kept.
            threshold::parse(&format!("p50{block} < 1ms"))
                .map_err(|e| fail(e.to_string()))?
                .matchers
        } else {
            Vec::new()
        };
        p.skip_ws();
        let direction = if p.eat('>') {
            Direction::Increase
        } else if p.eat('<') {
            Direction::Decrease
        } else {
            return Err(fail(format!(
                "expected `>` or `<` after `{name}`, found `{}`",
                p.rest.trim()
            )));
        };
        if p.rest.starts_with('=') {
            return Err(fail(
                "use `>` or `<` alone: a gate fails when the change goes beyond its amount".into(),
            ));
        }
        p.skip_ws();
        let amount = parse_amount(metric, p.rest.trim()).map_err(fail)?;
        Ok(Gate {
            text: text.trim().to_owned(),
            metric,
            matchers,
            direction,
            amount,
        })
    }

    /// The gate as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True for a gate that narrows itself to some endpoints.
    pub fn has_matchers(&self) -> bool {
        !self.matchers.is_empty()
    }

    /// True when every matcher accepts the endpoint (always, without matchers).
    pub fn matches(&self, scenario: &str, method: &str, name: &str) -> bool {
        self.matchers.iter().all(|m| match m.label {
            Label::Scenario => m.matches(scenario),
            Label::Method => m.matches(method),
            Label::Name => m.matches(name),
            // The thresholds' parser gives `check` only to the `checks` metric.
            Label::Check => false,
        })
    }

    /// True when a change of `change` (in the metric's unit), `relative` to the base (a
    /// fraction; `None` when the base is 0), goes beyond the gate's amount.
    pub fn exceeded_by(&self, change: f64, relative: Option<f64>) -> bool {
        let (measured, allowed) = match self.amount {
            Amount::Absolute(a) => (change, a),
            Amount::Relative(r) => {
                let rel = relative.unwrap_or(if change > 0.0 {
                    f64::INFINITY
                } else if change < 0.0 {
                    f64::NEG_INFINITY
                } else {
                    0.0
                });
                (rel, r)
            }
        };
        match self.direction {
            Direction::Increase => measured > allowed,
            Direction::Decrease => measured < allowed,
        }
    }
}

struct Scanner<'a> {
    rest: &'a str,
}

impl<'a> Scanner<'a> {
    fn skip_ws(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(r) => {
                self.rest = r;
                true
            }
            None => false,
        }
    }

    /// Takes `{ ... }` up to the `}` that closes it outside quotes (or everything, when
    /// nothing closes it: the thresholds' parser then says what is missing).
    fn take_matcher_block(&mut self) -> &'a str {
        let mut quote = None;
        let mut escaped = false;
        let mut end = self.rest.len();
        for (i, c) in self.rest.char_indices() {
            match quote {
                Some(_) if escaped => escaped = false,
                Some(_) if c == '\\' => escaped = true,
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '"' || c == '\'' => quote = Some(c),
                None if c == '}' => {
                    end = i + 1;
                    break;
                }
                None => {}
            }
        }
        let (taken, rest) = self.rest.split_at(end);
        self.rest = rest;
        taken
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let end = self.rest.find(|c| !f(c)).unwrap_or(self.rest.len());
        let (taken, rest) = self.rest.split_at(end);
        self.rest = rest;
        taken
    }
}

/// Parses `[+|-]number unit` for `metric`.
fn parse_amount(metric: Metric, s: &str) -> Result<Amount, String> {
    if s.is_empty() {
        return Err("the amount is missing after `>`/`<`".into());
    }
    let (sign, body) = match s.as_bytes()[0] {
        b'+' => (1.0, &s[1..]),
        b'-' => (-1.0, &s[1..]),
        _ => (1.0, s),
    };
    let body = body.trim_start();
    let end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, unit) = body.split_at(end);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not an amount such as `+10%` or `+20ms`"))?;
    let v = sign * value;
    let unit = unit.trim();
    match (metric.unit(), unit) {
        (Unit::Ms, "%") => Ok(Amount::Relative(v / 100.0)),
        (Unit::Ms, "ms") => Ok(Amount::Absolute(v)),
        (Unit::Ms, "s") => Ok(Amount::Absolute(v * 1_000.0)),
        (Unit::Ms, "us" | "µs") => Ok(Amount::Absolute(v / 1_000.0)),
        (Unit::Ms, "") => Err(format!(
            "`{s}` needs a unit: `{s}%` for a relative change or `{s}ms` for an absolute one"
        )),
        (Unit::Ms, other) => Err(format!(
            "unknown unit `{other}`; latencies take `%` (relative) or `ms`, `s`, `us`"
        )),
        (Unit::Percent, "%") => Ok(Amount::Absolute(v)),
        (Unit::Percent, _) => Err(format!(
            "error_rate changes are in percentage points: write `{}{number}%`",
            if sign < 0.0 { '-' } else { '+' }
        )),
        (Unit::PerSecond, "%") => Ok(Amount::Relative(v / 100.0)),
        (Unit::PerSecond, "" | "/s") => Ok(Amount::Absolute(v)),
        (Unit::PerSecond, other) => Err(format!(
            "unknown unit `{other}`; rps takes `%` (relative) or a number of requests/s"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(s: &str) -> Gate {
        Gate::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn error(s: &str) -> String {
        Gate::parse(s).expect_err(s).to_string()
    }

    #[test]
    fn relative_and_absolute_latency_gates() {
        let g = gate("p95>+10%");
        assert_eq!(g.metric, Metric::P95);
        assert_eq!(g.direction, Direction::Increase);
        assert_eq!(g.amount, Amount::Relative(0.10));
        assert!(g.matchers.is_empty());
        assert_eq!(gate(" p99 > +20ms ").amount, Amount::Absolute(20.0));
        assert_eq!(gate("p99>1.5s").amount, Amount::Absolute(1_500.0));
        assert_eq!(gate("max>+500us").amount, Amount::Absolute(0.5));
        assert_eq!(gate("p99.9>+5%").metric, Metric::P999);
        assert_eq!(gate("p999>+5%").metric, Metric::P999);
        assert_eq!(gate("median>+5%").metric, Metric::P50);
        assert_eq!(gate("avg>+5%").metric, Metric::Mean);
        assert_eq!(gate("mean<-5%").direction, Direction::Decrease);
        assert_eq!(gate("mean<-5%").amount, Amount::Relative(-0.05));
        assert_eq!(gate(" p95>+10%").text(), "p95>+10%");
    }

    #[test]
    fn error_rate_is_in_points_and_rps_in_either() {
        assert_eq!(gate("error_rate>+0.5%").amount, Amount::Absolute(0.5));
        assert_eq!(gate("rps<-10%").amount, Amount::Relative(-0.10));
        assert_eq!(gate("rps<-50").amount, Amount::Absolute(-50.0));
        assert_eq!(gate("rps<-50/s").amount, Amount::Absolute(-50.0));
        assert!(error("error_rate>+0.5").contains("percentage points: write `+0.5%`"));
    }

    #[test]
    fn matchers_are_the_thresholds_own() {
        let g = gate(r#"p95{name="/items/{item_id}", method="get"}>+10%"#);
        let labels: Vec<(Label, &str)> = g
            .matchers
            .iter()
            .map(|m| (m.label, m.value.as_str()))
            .collect();
        assert_eq!(
            labels,
            [(Label::Name, "/items/{item_id}"), (Label::Method, "get")]
        );
        assert!(g.matches("default", "GET", "/items/{item_id}"));
        assert!(!g.matches("default", "POST", "/items/{item_id}"));
        assert!(!g.matches("default", "GET", "/items/[item_name]"));
        // A `}` or `>` inside quotes does not end the block.
        let esc = gate(r#"p95{name="a \"}>\" \\ name",}>+1ms"#);
        assert_eq!(esc.matchers[0].value, r#"a "}>" \ name"#);
        assert_eq!(esc.amount, Amount::Absolute(1.0));
        assert!(gate(r#"p95{scenario='checkout'}>+1%"#).matches("checkout", "GET", "/x"));
        let re = gate(r#"p95{name=~"/items/.*", method!="POST"}>+1%"#);
        assert!(re.matches("s", "GET", "/items/{id}"));
        assert!(!re.matches("s", "POST", "/items/{id}"));
        assert!(!re.matches("s", "GET", "/login"));
        assert!(gate("p95{}>+1%").matchers.is_empty());
    }

    #[test]
    fn mistakes_say_what_to_write() {
        assert!(error("p96>+10%").contains("unknown metric `p96`"));
        assert!(error("p95>10").contains("`10%` for a relative change or `10ms`"));
        assert!(error("p95=+10%").contains("expected `>` or `<`"));
        assert!(error("p95>=+10%").contains("use `>` or `<` alone"));
        assert!(error("p95>").contains("amount is missing"));
        assert!(error("p95>+10h").contains("unknown unit `h`"));
        assert!(error("p95>abc").contains("not an amount"));
        assert!(error("").contains("starts with a metric"));
        // Matcher mistakes get the thresholds' messages.
        assert!(error("p95{path=\"/\"}>+1%").contains("unknown label `path`"));
        assert!(error("p95{name=/}>+1%").contains("must be quoted"));
        assert!(error("p95{name=\"/}>+1%").contains("never closed"));
        assert!(error("p95{name=\"/\" method=\"GET\"}>+1%").contains("expected `,` or `}`"));
        assert!(error("p95{check=\"x\"}>+1%").contains("only `checks` has it"));
    }

    #[test]
    fn exceeded_compares_in_the_gates_terms() {
        let rel = gate("p95>+10%");
        assert!(rel.exceeded_by(11.0, Some(0.11)));
        assert!(!rel.exceeded_by(10.0, Some(0.10)));
        assert!(!rel.exceeded_by(-50.0, Some(-0.5)));
        assert!(
            rel.exceeded_by(1.0, None),
            "from zero, any increase is infinite"
        );
        let abs = gate("p95>+20ms");
        assert!(abs.exceeded_by(20.5, Some(0.01)));
        assert!(!abs.exceeded_by(19.5, Some(5.0)));
        let drop = gate("rps<-10%");
        assert!(drop.exceeded_by(-20.0, Some(-0.2)));
        assert!(!drop.exceeded_by(-5.0, Some(-0.05)));
        assert!(!drop.exceeded_by(30.0, Some(0.3)));
    }
}
