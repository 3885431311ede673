//! The five targets. Each takes arbitrary bytes (read as UTF-8, invalid sequences replaced,
//! as a mutated file would be read after `String::from_utf8_lossy`) and asserts the
//! behaviour a user relies on: no panic, and every error located in the input (a span
//! inside the text, or a line and column).

use barrage_metrics::ResultDoc;
use barrage_scenario::{parse, render, SourceFile};
use barrage_template::Template;

/// A fuzz target: its name (also its corpus folder's) and its function.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, in the order the runner reports them.
pub const TARGETS: [Target; 5] = [
    Target {
        name: "scenario",
        run: scenario,
    },
    Target {
        name: "template",
        run: template,
    },
    Target {
        name: "threshold",
        run: threshold,
    },
    Target {
        name: "openapi",
        run: openapi,
    },
    Target {
        name: "result_file",
        run: result_file,
    },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.into_iter().find(|t| t.name == name)
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// A scenario file: parsed, every diagnostic's span inside the text on character
/// boundaries, and rendered (the renderer cuts and underlines the lines spans point at).
pub fn scenario(data: &[u8]) {
    let file = SourceFile {
        name: "fuzz.yaml".into(),
        text: text(data),
    };
    let diagnostics = match parse(&file) {
        Ok((_, warnings)) => warnings,
        Err(errors) => {
            assert!(!errors.is_empty(), "an Err carries at least one diagnostic");
            errors
        }
    };
    for d in &diagnostics {
        let (start, end) = (d.span.start, d.span.end);
        assert!(
            start <= end && end <= file.text.len(),
            "span out of the text: {d:?}"
        );
        assert!(
            file.text.is_char_boundary(start) && file.text.is_char_boundary(end),
            "span not on character boundaries: {d:?}"
        );
        assert!(
            !d.message.is_empty(),
            "a diagnostic without a message: {d:?}"
        );
    }
    let _ = render(&file, &diagnostics, false);
}

/// A `{{ }}` template: parsed; an error's range lies inside the source.
pub fn template(data: &[u8]) {
    let src = text(data);
    if let Err(e) = Template::parse(&src) {
        assert!(
            e.offset <= src.len() && e.offset.saturating_add(e.len) <= src.len(),
            "error range {}+{} outside a source of {} bytes: {e:?}",
            e.offset,
            e.len,
            src.len()
        );
        assert!(!e.message.is_empty(), "an error without a message: {e:?}");
    }
}

/// A threshold expression: parsed; an error's span lies inside the text. A limit that parsed
/// is a finite number (an impossible limit such as `1e309` must be an error, not infinity).
pub fn threshold(data: &[u8]) {
    let src = text(data);
    match barrage_report::threshold::parse(&src) {
        Ok(t) => assert!(
            t.limit.is_finite(),
            "a non-finite limit was accepted: {} from `{}`",
            t.limit,
            src.get(t.limit_span.clone()).unwrap_or("?")
        ),
        Err(e) => {
            assert!(
                e.span.start <= e.span.end && e.span.end <= src.len(),
                "span {:?} outside a text of {} bytes: {e:?}",
                e.span,
                src.len()
            );
            assert!(!e.message.is_empty(), "an error without a message: {e:?}");
        }
    }
}

/// An OpenAPI document (JSON or YAML): read; when it is one, a scenario is generated from it
/// and parsed back. A syntax error says where.
pub fn openapi(data: &[u8]) {
    let src = text(data);
    match barrage_openapi::parse("fuzz.yaml", &src) {
        Ok(doc) => {
            if let Ok(out) = barrage_openapi::generate(&doc, &barrage_openapi::Options::default()) {
                // `init` promises a file that reads (its credentials are environment
                // variables, set to placeholders here as `init` checks it).
                let file = SourceFile {
                    name: "generated.yaml".into(),
                    text: barrage_openapi::placeholder_credentials(&out.yaml),
                };
                if let Err(d) = parse(&file) {
                    panic!(
                        "a generated scenario that does not read: {d:?}\n{}",
                        file.text
                    );
                }
            }
        }
        Err(barrage_openapi::LoadError::Syntax { detail, .. }) => {
            assert!(
                !detail.trim().is_empty(),
                "a syntax error that says nothing"
            );
        }
        Err(_) => {}
    }
}

/// A result file: read; when it reads, its numbers are possible (failures within requests,
/// percentiles non-negative and in order, windows on their 10 s boundaries and in order),
/// it is written again and read back, and rendered as the Markdown summary `barrage report`
/// writes. A JSON error has a line and column.
pub fn result_file(data: &[u8]) {
    let src = text(data);
    match ResultDoc::from_json(&src) {
        Ok(doc) => {
            // Validation on read (issue 16): impossible numbers are refused with a located
            // error, so a file that reads has none.
            for e in doc.endpoints.iter().chain([&doc.aggregate]) {
                assert!(
                    e.failures <= e.requests,
                    "{} failures of {} requests read",
                    e.failures,
                    e.requests
                );
                for l in [&e.response_time, &e.service_time] {
                    let ordered = [l.min, l.p50, l.p75, l.p90, l.p95, l.p99, l.p999, l.max];
                    assert!(
                        ordered.iter().all(|v| *v >= 0.0)
                            && ordered.windows(2).all(|w| w[0] <= w[1]),
                        "negative or unordered percentiles read: {l:?}"
                    );
                }
            }
            let mut previous = None;
            for w in &doc.windows {
                assert!(
                    w.start % barrage_metrics::WINDOW_SECONDS == 0
                        && previous.is_none_or(|p| p < w.start),
                    "a window read off its boundary or out of order: {} after {previous:?}",
                    w.start
                );
                previous = Some(w.start);
                for e in std::iter::once(&w.aggregate).chain(w.endpoints.iter().map(|e| &e.entry)) {
                    assert!(e.failures <= e.requests, "a window's {e:?} read");
                }
            }
            let again = ResultDoc::from_json(&doc.to_json());
            assert!(
                again.is_ok(),
                "a file barrage wrote does not read back: {again:?}"
            );
            let _ = doc.snapshot();
            let _ = barrage_report::markdown::markdown(&doc);
        }
        Err(barrage_metrics::ResultError::Json(e)) => {
            assert!(e.line() >= 1, "a JSON error without a line: {e}");
        }
        Err(_) => {}
    }
}
