//! `--junit PATH`: the run's verdicts as JUnit XML, the format CI systems show as tests.
//!
//! Suites, each written only when it has cases:
//!
//! - `thresholds`: one case per threshold (named by its expression); a failed one carries a
//!   `<failure>` whose message says what was seen and by how much (the summary's words).
//! - `checks`: one case per check (`GET /items/ check status`); it fails when any evaluation
//!   of the check failed, with the count and share.
//! - `requests`: only when the run had no thresholds, one case per endpoint, "no failed
//!   requests", failing with the count and the categories. That is the gate the exit code
//!   applies then (any failed request fails the run, as in Locust); with thresholds the
//!   thresholds are the gate, and failed requests show up through them and the checks.
//!
//! The XML is written with `quick-xml`, which escapes names such as `p95 < 200ms` and
//! `/items/{id}?a=1&b=2` correctly. `tests/locust_compat.rs` reads the file back with the
//! `junitparser` Python package, as a CI consumer would.

use barrage_metrics::{EndpointStats, ResultDoc};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::threshold::describe;

/// One test case.
struct Case {
    name: String,
    /// `Some(message)` when it failed.
    failure: Option<String>,
}

struct Suite {
    name: &'static str,
    cases: Vec<Case>,
}

/// Renders the JUnit XML of a result; its verdicts are `doc.thresholds`.
pub fn junit(doc: &ResultDoc) -> String {
    let mut suites = vec![
        Suite {
            name: "thresholds",
            cases: doc
                .thresholds
                .iter()
                .map(|v| Case {
                    name: v.expr.clone(),
                    failure: (!v.passed).then(|| describe(v)),
                })
                .collect(),
        },
        Suite {
            name: "checks",
            cases: doc
                .checks
                .iter()
                .map(|c| Case {
                    name: format!("{} {} check {}", c.method, c.name, c.check),
                    failure: (c.fails > 0).then(|| {
                        format!(
                            "{} of {} evaluations failed ({:.2}%)",
                            c.fails,
                            c.passes + c.fails,
                            c.fails as f64 * 100.0 / (c.passes + c.fails) as f64
                        )
                    }),
                })
                .collect(),
        },
    ];
    if doc.thresholds.is_empty() {
        suites.push(Suite {
            name: "requests",
            cases: doc
                .endpoints
                .iter()
                .filter(|e| e.requests > 0)
                .map(|e| Case {
                    name: format!("{} {} has no failed requests", e.method, e.name),
                    failure: (e.failures > 0).then(|| failed_requests(e)),
                })
                .collect(),
        });
    }
    suites.retain(|s| !s.cases.is_empty());
    render(doc, &suites).expect("writing XML into memory cannot fail")
}

fn failed_requests(e: &EndpointStats) -> String {
    let categories: Vec<String> = e
        .failures_by_category
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    format!(
        "{} of {} requests failed ({:.2}%): {}",
        e.failures,
        e.requests,
        e.failures as f64 * 100.0 / e.requests as f64,
        categories.join(", ")
    )
}

fn render(doc: &ResultDoc, suites: &[Suite]) -> std::io::Result<String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites
        .iter()
        .flat_map(|s| &s.cases)
        .filter(|c| c.failure.is_some())
        .count();
    let time = format!("{:.3}", doc.run.duration_s);
    let root = BytesStart::new("testsuites").with_attributes([
        ("name", "barrage"),
        ("tests", tests.to_string().as_str()),
        ("failures", failures.to_string().as_str()),
        ("errors", "0"),
        ("time", time.as_str()),
    ]);
    w.write_event(Event::Start(root))?;
    for suite in suites {
        let failed = suite.cases.iter().filter(|c| c.failure.is_some()).count();
        let mut start = BytesStart::new("testsuite").with_attributes([
            ("name", suite.name),
            ("tests", suite.cases.len().to_string().as_str()),
            ("failures", failed.to_string().as_str()),
            ("errors", "0"),
            ("skipped", "0"),
            ("time", time.as_str()),
        ]);
        if !doc.run.started_at.is_empty() {
            start.push_attribute(("timestamp", doc.run.started_at.as_str()));
        }
        w.write_event(Event::Start(start))?;
        let classname = format!("barrage.{}", suite.name);
        for case in &suite.cases {
            let start = BytesStart::new("testcase").with_attributes([
                ("classname", classname.as_str()),
                ("name", case.name.as_str()),
                ("time", "0"),
            ]);
            match &case.failure {
                None => w.write_event(Event::Empty(start))?,
                Some(message) => {
                    w.write_event(Event::Start(start))?;
                    let failure = BytesStart::new("failure")
                        .with_attributes([("message", message.as_str()), ("type", suite.name)]);
                    w.write_event(Event::Start(failure))?;
                    w.write_event(Event::Text(BytesText::new(message)))?;
                    w.write_event(Event::End(BytesEnd::new("failure")))?;
                    w.write_event(Event::End(BytesEnd::new("testcase")))?;
                }
            }
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    let mut xml = String::from_utf8(w.into_inner())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    xml.push('\n');
    Ok(xml)
}

#[cfg(test)]
mod tests {
    use barrage_metrics::ThresholdVerdict;

    use super::*;
    use crate::result_testdata::result;

    fn verdict(expr: &str, observed: f64, passed: bool) -> ThresholdVerdict {
        ThresholdVerdict {
            expr: expr.to_owned(),
            metric: "p95".to_owned(),
            op: "<".to_owned(),
            limit: 200.0,
            unit: "ms".to_owned(),
            observed: Some(observed),
            passed,
            ..Default::default()
        }
    }

    #[test]
    fn thresholds_and_checks_are_test_cases() {
        let mut doc = result();
        doc.thresholds = vec![
            verdict("p95 < 200ms", 120.0, true),
            verdict(r#"p95{name="/items/{id}"} < 200ms"#, 250.0, false),
        ];
        let xml = junit(&doc);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"barrage\" tests=\"4\" failures=\"2\""), "{xml}");
        assert!(xml.contains(r#"<testsuite name="thresholds" tests="2" failures="1""#));
        assert!(xml.contains(
            r#"<testcase classname="barrage.thresholds" name="p95 &lt; 200ms" time="0"/>"#
        ));
        assert!(xml.contains(
            r#"<failure message="observed 250 ms, 50.0 ms over the limit of 200 ms (+25.0%)" type="thresholds">"#
        ));
        assert!(
            xml.contains(r#"name="p95{name=&quot;/items/{id}&quot;} &lt; 200ms""#),
            "{xml}"
        );
        assert!(xml.contains(r#"<testsuite name="checks" tests="2" failures="1""#));
        assert!(xml.contains(r#"message="3 of 100 evaluations failed (3.00%)""#));
        assert!(
            !xml.contains(r#"name="requests""#),
            "with thresholds, they are the gate"
        );
    }

    #[test]
    fn without_thresholds_each_endpoint_is_a_no_failed_requests_case() {
        let xml = junit(&result());
        assert!(
            xml.contains(r#"<testsuite name="requests" tests="2" failures="1""#),
            "{xml}"
        );
        assert!(xml.contains(r#"name="GET /items/[item_name] has no failed requests""#));
        assert!(
            xml.contains(r#"message="3 of 1200 requests failed (0.25%): status 3""#),
            "{xml}"
        );
    }
}
