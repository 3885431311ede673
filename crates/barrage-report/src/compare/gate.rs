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
//! Metric names, label matchers and the number+unit are read by [`crate::vocab`], as
//! thresholds read them, so a name or matcher written for a threshold works unchanged in a
//! gate, with the same aliases, escapes, regexes and error messages (Prometheus' quoted
//! form, since endpoint names hold braces and brackets:
//! `p95{name="/items/{item_id}", method="GET"}>+10%`). A gate without matchers applies to
//! every endpoint present in both runs and to the aggregate; with matchers, to the endpoints
//! whose labels all match.
//!
//! Server figures (`server_cpu`, `avg(probe_max_stall)`, ...) are refused with a clear error:
//! a gate tells a change from noise with both runs' request histograms, and a figure sampled
//! once a second has none, so "CPU went from 61 % to 64 %" could not be called real or not.
//! A threshold in each run (`server_cpu < 90%`) is the check to write instead.
//!
//! This module parses and answers "is this change beyond the gate?"; whether the change is also
//! beyond the noise is the comparison's business.

use super::metric::{Metric, Unit};
use crate::vocab::{self, metric_word, quantity, Cursor, Matcher, Quantity};

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
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "--fail-if `{gate}`: {problem} (e.g. `p95>+10%`, `p99>+20ms`, `error_rate>+0.5%`, \
     `rps<-10%`, `p95{{name=\"/items/{{id}}\"}}>+10%`)"
)]
pub struct GateError {
    gate: String,
    problem: String,
}

/// What compare gates take, for the messages that refuse a metric.
const TAKES: &str =
    "compare gates take p50 p75 p90 p95 p99 p99.9 mean max (response time), error_rate and rps";

impl Gate {
    /// Parses `text`; see the module documentation for the syntax.
    pub fn parse(text: &str) -> Result<Gate, GateError> {
        let fail = |problem: String| GateError {
            gate: text.to_owned(),
            problem,
        };
        let mut c = Cursor::new(text, 0);
        c.skip_ws();
        let name = &text[metric_word(&mut c)];
        if name.is_empty() {
            return Err(fail("a gate starts with a metric".into()));
        }
        let statistic_of = c.peek() == Some('(') && vocab::FigureStat::named(name).is_some();
        if statistic_of || vocab::Metric::named(name).is_some_and(|m| m.is_server()) {
            return Err(fail(format!(
                "server figures are not compared between runs: a gate sizes the \
                 noise from both runs' request histograms, which sampled figures lack; judge \
                 them in each run with a threshold such as `server_cpu < 90%`; {TAKES}"
            )));
        }
        let metric = match vocab::Metric::named(name) {
            None => return Err(fail(format!("unknown metric `{name}`; {TAKES}"))),
            Some(m) => Metric::new(m).ok_or_else(|| {
                fail(format!("`{name}` cannot be compared between runs; {TAKES}"))
            })?,
        };
        c.skip_ws();
        let matchers = if c.peek() == Some('{') {
            vocab::matcher_block(&mut c, metric.metric()).map_err(|e| fail(e.to_string()))?
        } else {
            Vec::new()
        };
        c.skip_ws();
        let direction = if c.eat(">") {
            Direction::Increase
        } else if c.eat("<") {
            Direction::Decrease
        } else {
            return Err(fail(format!(
                "expected `>` or `<` after `{name}`, found `{}`",
                c.rest().trim()
            )));
        };
        if c.peek() == Some('=') {
            return Err(fail(
                "use `>` or `<` alone: a gate fails when the change goes beyond its amount".into(),
            ));
        }
        c.skip_ws();
        let written = c.rest().trim();
        if written.is_empty() {
            return Err(fail("the amount is missing after `>`/`<`".into()));
        }
        let q = quantity(&mut c, true).map_err(|_| {
            fail(format!(
                "`{written}` is not an amount such as `+10%` or `+20ms`"
            ))
        })?;
        c.skip_ws();
        if !c.at_end() {
            return Err(fail(format!(
                "unexpected `{}` after the amount `{}`",
                c.rest(),
                &text[q.span.clone()]
            )));
        }
        let amount = amount(metric, &q, written).map_err(|e| fail(e.to_string()))?;
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

    /// True when every matcher accepts the endpoint (always, without matchers): the rule
    /// thresholds select endpoints by.
    pub fn matches(&self, scenario: &str, method: &str, name: &str) -> bool {
        vocab::selects(&self.matchers, scenario, method, name, None)
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

/// Why a gate's amount does not fit its metric (the problem text of a [`GateError`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum AmountError {
    /// A latency amount without a unit.
    #[error("`{0}` needs a unit: `{0}%` for a relative change or `{0}ms` for an absolute one")]
    LatencyNeedsUnit(String),
    /// A latency amount in a unit latencies don't take.
    #[error("unknown unit `{0}`; latencies take `%` (relative) or `ms`, `s`, `us`")]
    LatencyUnit(String),
    /// An error-rate amount not in percentage points: the sign and digits as written.
    #[error("error_rate changes are in percentage points: write `{sign}{digits}%`")]
    ErrorRateNotPoints { sign: char, digits: String },
    /// An rps amount in a unit rps doesn't take.
    #[error("unknown unit `{0}`; rps takes `%` (relative) or a number of requests/s")]
    RpsUnit(String),
    /// A number past f64's range (it would read as infinity).
    #[error("`{0}` is too large to be an amount; write one such as `+10%` or `+20ms`")]
    TooLarge(String),
}

/// What a gate's amount means for `metric`. `written` is the amount as given, for messages.
fn amount(metric: Metric, q: &Quantity<'_>, written: &str) -> Result<Amount, AmountError> {
    let v = q.value;
    if !v.is_finite() {
        return Err(AmountError::TooLarge(written.to_string()));
    }
    match (metric.unit(), q.unit) {
        (Unit::Ms, "%") => Ok(Amount::Relative(v / 100.0)),
        // A regression budget is microseconds to seconds; gates have never taken the
        // thresholds' `ns`, `m` or `h`, and `+10h` is likelier a slip than a budget.
        (Unit::Ms, u @ ("us" | "µs" | "ms" | "s")) => Ok(Amount::Absolute(
            vocab::time_to_ms(v, u).expect("us, µs, ms and s are units of time"),
        )),
        (Unit::Ms, "") => Err(AmountError::LatencyNeedsUnit(written.to_string())),
        (Unit::Ms, other) => Err(AmountError::LatencyUnit(other.to_string())),
        (Unit::Percent, "%") => Ok(Amount::Absolute(v)),
        (Unit::Percent, _) => Err(AmountError::ErrorRateNotPoints {
            sign: if v.is_sign_negative() { '-' } else { '+' },
            digits: q.digits.to_string(),
        }),
        (Unit::PerSecond, "%") => Ok(Amount::Relative(v / 100.0)),
        (Unit::PerSecond, "" | "/s") => Ok(Amount::Absolute(v)),
        (Unit::PerSecond, other) => Err(AmountError::RpsUnit(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Label;

    fn gate(s: &str) -> Gate {
        Gate::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn error(s: &str) -> String {
        Gate::parse(s).expect_err(s).to_string()
    }

    #[test]
    fn an_amount_past_the_range_of_numbers_is_refused() {
        let huge = format!("+1{}%", "0".repeat(309));
        let e = error(&format!("p95>{huge}"));
        assert!(
            e.contains(&format!("`{huge}` is too large to be an amount")),
            "{e}"
        );
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
    fn server_figures_are_refused_with_the_threshold_to_write_instead() {
        for text in [
            "server_cpu>+10%",
            "avg(server_cpu)>+10%",
            "probe_max_stall>+20ms",
        ] {
            let e = error(text);
            assert!(e.contains("server figures"), "{text}: {e}");
            assert!(e.contains("not compared between runs"), "{text}: {e}");
            assert!(e.contains("`server_cpu < 90%`"), "{text}: {e}");
        }
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
        assert!(error("p95{name=\"/\"").contains("`{` is never closed"));
        assert!(error("rps<-10% foo").contains("unexpected `foo` after the amount `-10%`"));
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
