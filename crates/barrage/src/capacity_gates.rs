//! `barrage capacity`'s gates: `--fail-below RATE`, and `--fail-if 'capacity<-10%'` against
//! `--baseline OLD.json`'s capacity. Read (and refused, exit 2) before the search starts, so
//! a typo costs no search; judged on the capacity found.

use std::path::Path;

use barrage_capacity::judge::rate;
use barrage_metrics::capacity::SearchModel;
use barrage_metrics::{CapacityDoc, ResultDoc};

use crate::cli::{CapacityArgs, CapacityModel};
use crate::exit;

/// `--fail-below`, and `--fail-if` against `--baseline`.
pub(crate) struct Gates {
    model: SearchModel,
    fail_below: Option<f64>,
    pub baseline: Option<ResultDoc>,
    /// The baseline's capacity (requests/s, or users) and the gates against it.
    base: Option<f64>,
    fail_if: Vec<FailIf>,
}

/// `capacity<-10%` (relative) or `capacity<-200` (requests/s, or users).
#[derive(Debug, Clone, Copy, PartialEq)]
struct FailIf {
    change: f64,
    percent: bool,
    inclusive: bool,
}

impl FailIf {
    fn parse(text: &str) -> Result<FailIf, String> {
        let help = "write it like 'capacity<-10%' (fail when the capacity dropped by more \
                    than 10 %) or 'capacity<-200' (by more than 200 requests/s)";
        let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let Some(rest) = t.strip_prefix("capacity") else {
            return Err(format!(
                "--fail-if `{text}`: only `capacity` can be gated here; {help}"
            ));
        };
        let (inclusive, rest) = if let Some(r) = rest.strip_prefix("<=") {
            (true, r)
        } else if let Some(r) = rest.strip_prefix('<') {
            (false, r)
        } else {
            return Err(format!(
                "--fail-if `{text}`: expected `<` after `capacity`; {help}"
            ));
        };
        let (number, percent) = match rest.strip_suffix('%') {
            Some(n) => (n, true),
            None => (rest.strip_suffix("/s").unwrap_or(rest), false),
        };
        let change: f64 = number
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("--fail-if `{text}`: `{number}` is not a number; {help}"))?;
        Ok(FailIf {
            change,
            percent,
            inclusive,
        })
    }

    /// Whether the gate fails for a capacity of `now` against `base`.
    fn fails(&self, base: f64, now: f64) -> bool {
        let change = if self.percent {
            (now - base) / base * 100.0
        } else {
            now - base
        };
        if self.inclusive {
            change <= self.change
        } else {
            change < self.change
        }
    }
}

impl Gates {
    pub(crate) fn of(args: &CapacityArgs) -> Result<Gates, u8> {
        let model = match args.model {
            CapacityModel::Rate => SearchModel::Rate,
            CapacityModel::Users => SearchModel::Users,
        };
        let mut fail_if = Vec::new();
        for text in &args.fail_if {
            match FailIf::parse(text) {
                Ok(f) => fail_if.push(f),
                Err(e) => {
                    eprintln!("error: {e}");
                    return Err(exit::USAGE);
                }
            }
        }
        let baseline = args.baseline.as_deref().map(read_baseline).transpose()?;
        let base = match &baseline {
            None => None,
            Some(doc) => {
                let cap = doc.capacity.as_ref();
                let value = match model {
                    SearchModel::Rate => cap.and_then(|c| c.rps),
                    SearchModel::Users => cap.and_then(|c| c.users),
                };
                let path = args.baseline.as_deref().unwrap_or(Path::new(""));
                match value {
                    Some(v) if v > 0.0 => Some(v),
                    _ => {
                        eprintln!(
                            "error: {}: {}\n  help: give a result written by `barrage capacity \
                             --json` that found a capacity{}",
                            path.display(),
                            if cap.is_none() {
                                "no `capacity` object (not a capacity search's result)".to_owned()
                            } else {
                                format!(
                                    "its search found no capacity in {}",
                                    model.unit().trim_start_matches("iterations/")
                                )
                            },
                            if model == SearchModel::Users {
                                " with --model users"
                            } else {
                                ""
                            }
                        );
                        return Err(exit::USAGE);
                    }
                }
            }
        };
        Ok(Gates {
            model,
            fail_below: args.fail_below,
            baseline,
            base,
            fail_if,
        })
    }

    /// Prints each gate's verdict; `true` when one failed.
    pub(crate) fn judge(&self, doc: &CapacityDoc) -> bool {
        let (now, unit) = match self.model {
            SearchModel::Rate => (doc.rps, "requests/s"),
            SearchModel::Users => (doc.users, "users"),
        };
        let Some(now) = now else {
            return false;
        };
        let mut failed = false;
        if let Some(floor) = self.fail_below {
            let fails = now < floor;
            eprintln!(
                "Gate --fail-below {}: capacity {} {unit}: {}",
                rate(floor),
                rate(now),
                if fails { "FAILED" } else { "passed" }
            );
            failed |= fails;
        }
        if let Some(base) = self.base {
            for f in &self.fail_if {
                let fails = f.fails(base, now);
                eprintln!(
                    "Gate --fail-if capacity{}{}{}: baseline {} {unit}, now {} ({:+.1}%): {}",
                    if f.inclusive { "<=" } else { "<" },
                    f.change,
                    if f.percent { "%" } else { "" },
                    rate(base),
                    rate(now),
                    (now - base) / base * 100.0,
                    if fails { "FAILED" } else { "passed" }
                );
                failed |= fails;
            }
        }
        failed
    }
}

fn read_baseline(path: &Path) -> Result<ResultDoc, u8> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read --baseline {}: {e}", path.display());
        exit::USAGE
    })?;
    ResultDoc::from_json(&text).map_err(|e| {
        eprintln!(
            "error: --baseline {}: {e}\n  help: give a file written by `barrage capacity --json PATH`",
            path.display()
        );
        exit::USAGE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_if_reads_a_drop_in_percent_or_in_requests_per_second() {
        let f = FailIf::parse("capacity<-10%").unwrap();
        assert_eq!(
            f,
            FailIf {
                change: -10.0,
                percent: true,
                inclusive: false
            }
        );
        assert!(f.fails(1000.0, 899.0));
        assert!(!f.fails(1000.0, 900.0));
        let f = FailIf::parse(" capacity <= -200 ").unwrap();
        assert!(f.fails(1000.0, 800.0));
        assert!(!f.fails(1000.0, 801.0));
        for bad in ["rps<-10%", "capacity>-10%", "capacity<-ten%", "capacity<"] {
            let e = FailIf::parse(bad).unwrap_err();
            assert!(e.contains("capacity<-10%"), "{bad}: {e}");
        }
    }
}
