//! `check: schema:`: the entry for the response's status applies (code, then class, then
//! `default`), and a failure names the place, the rule and the start of the body.

mod common;

use std::time::Duration;

use barrage_scenario::{parse, Check, SourceFile, Step};
use barrage_template::{CompiledCheck, Response, ResponseView};
use common::User;
use http::HeaderMap;

/// The check of the one step of a scenario whose `check:` is `yaml` (indented by 8).
fn check(yaml: &str) -> Check {
    let text = format!("tasks:\n  t:\n    - get: /x\n      check:\n{yaml}");
    let file = SourceFile {
        name: "t.yaml".into(),
        text,
    };
    let (scenario, _) =
        parse(&file).unwrap_or_else(|d| panic!("{}", barrage_scenario::render(&file, &d, false)));
    match &scenario.users[0].tasks[0].steps[0] {
        Step::Request(r) => r.check.clone(),
        _ => unreachable!(),
    }
}

/// `(item name, passed, detail)` for the items that applied.
fn run(c: &CompiledCheck, status: u16, body: &str) -> Vec<(String, bool, Option<String>)> {
    let headers = HeaderMap::new();
    let view = ResponseView::new(Response {
        status,
        headers: &headers,
        body: body.as_bytes(),
    });
    let mut out = Vec::new();
    User::new().with(|ctx| {
        c.evaluate(&view, Duration::ZERO, ctx, &mut |i, passed, detail| {
            out.push((
                c.items()[i].name().to_string(),
                passed,
                (!passed).then(detail),
            ));
        })
    });
    out
}

const ITEM: &str = "        schema:
          200:
            type: object
            required: [id, name]
            properties:
              id: { type: integer }
              name: { type: string }
          4xx:
            type: object
            required: [detail]
          default: false
";

fn compiled() -> CompiledCheck {
    CompiledCheck::compile(&check(ITEM), &mut common::resolve).expect("compiles")
}

#[test]
fn a_conforming_body_passes() {
    let r = run(&compiled(), 200, r#"{"id": 1, "name": "x"}"#);
    assert_eq!(r, [("body matches schema for 200".to_string(), true, None)]);
}

#[test]
fn a_missing_field_or_a_wrong_type_fails_with_a_sample() {
    let r = run(&compiled(), 200, r#"{"id": "1"}"#);
    assert_eq!(r.len(), 1);
    let detail = r[0].2.clone().unwrap();
    assert!(
        detail.starts_with("at /: \"name\" is a required property (and 1 more)"),
        "{detail}"
    );
    assert!(detail.ends_with(r#"body: {"id": "1"}"#), "{detail}");
    let r = run(&compiled(), 200, r#"{"id": 1, "name": 5}"#);
    assert_eq!(
        r[0].2.as_deref(),
        Some(r#"at /name: 5 is not of type "string"; body: {"id": 1, "name": 5}"#)
    );
    let long = format!(r#"{{"id": 1, "name": 2, "pad": "{}"}}"#, "x".repeat(500));
    let detail = run(&compiled(), 200, &long)[0].2.clone().unwrap();
    assert!(detail.ends_with("..."), "long bodies are cut: {detail}");
    let r = run(&compiled(), 200, "<html>");
    assert_eq!(
        r[0].2.as_deref(),
        Some("response body is not JSON; body: <html>")
    );
}

#[test]
fn the_most_specific_entry_applies() {
    let c = compiled();
    assert_eq!(
        run(&c, 404, r#"{"detail": "no"}"#),
        [("body matches schema for 4xx".to_string(), true, None)]
    );
    // `default: false` takes every status no other entry names.
    let r = run(&c, 500, "{}");
    assert_eq!(
        (r[0].0.as_str(), r[0].1),
        ("body matches schema for other statuses", false)
    );
    // 200 is the code's: neither the class nor the default applies to it.
    assert_eq!(run(&c, 200, r#"{"id": 1, "name": "x"}"#).len(), 1);
}

#[test]
fn only_named_statuses_are_checked() {
    let c = CompiledCheck::compile(
        &check("        schema:\n          201: { type: object }\n"),
        &mut common::resolve,
    )
    .unwrap();
    assert!(run(&c, 200, "[]").is_empty());
    assert!(!run(&c, 201, "[]")[0].1);
}

#[test]
fn unusable_schemas_are_compile_errors() {
    let e = CompiledCheck::compile(
        &check("        schema:\n          200: { type: 5 }\n"),
        &mut common::resolve,
    )
    .unwrap_err();
    assert!(e.1.starts_with("not a usable JSON Schema"), "{}", e.1);
    let e = CompiledCheck::compile(
        &check("        schema:\n          200: { $ref: 'https://example.com/s.json' }\n"),
        &mut common::resolve,
    )
    .unwrap_err();
    assert!(e.1.starts_with("not a usable JSON Schema"), "{}", e.1);
}
