//! Checks: status rules, named items, pass/fail with failure details.

mod common;

use std::time::Duration;

use barrage_scenario::{Check, JsonExpect, Span, StatusMatch, Value as Yaml};
use barrage_template::{CompiledCheck, Response, ResponseView};
use common::{sp, User};
use http::{HeaderMap, HeaderValue};

fn compile(c: &Check) -> CompiledCheck {
    CompiledCheck::compile(c, &mut common::resolve).expect("compiles")
}

/// `(item name, passed, detail when failed)` for every item.
fn run(check: &CompiledCheck, body: &str, rt: Duration) -> Vec<(String, bool, Option<String>)> {
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.append("set-cookie", HeaderValue::from_static("a=1"));
    h.append("set-cookie", HeaderValue::from_static("b=2"));
    let view = ResponseView::new(Response {
        status: 200,
        headers: &h,
        body: body.as_bytes(),
    });
    let mut out = Vec::new();
    let mut user = User::new();
    user.with(|ctx| {
        check.evaluate(&view, rt, ctx, &mut |i, passed, detail| {
            let name = check.items()[i].name().to_string();
            out.push((name, passed, (!passed).then(detail)));
        })
    });
    out
}

fn json_check(entries: Vec<(&str, JsonExpect)>) -> Check {
    Check {
        json: entries
            .into_iter()
            .map(|(p, e)| (sp(p.to_string(), 0, 0), sp(e, 0, 0)))
            .collect(),
        ..Check::default()
    }
}

fn eq(v: Yaml) -> JsonExpect {
    JsonExpect::Equals(v)
}

fn s(v: &str) -> Yaml {
    Yaml::String(v.to_string())
}

#[test]
fn status_rules() {
    let any = compile(&Check::default());
    assert!(any.status_ok(200) && any.status_ok(302) && any.status_ok(399));
    assert!(!any.status_ok(400) && !any.status_ok(503));
    assert_eq!(any.status_description(), "status < 400");

    let listed = compile(&Check {
        status: vec![
            sp(StatusMatch::Code(201), 0, 0),
            sp(StatusMatch::Class(4), 0, 0),
        ],
        ..Check::default()
    });
    assert!(listed.status_ok(201) && listed.status_ok(404));
    assert!(!listed.status_ok(200) && !listed.status_ok(500));
    assert_eq!(listed.status_description(), "status in [201, 4xx]");
    assert!(listed.items().is_empty());
}

#[test]
fn json_items_pass_and_fail_with_details() {
    let check = compile(&json_check(vec![
        ("$.id", JsonExpect::Exists),
        ("$.missing", JsonExpect::Exists),
        ("$.name", eq(s("Item 1"))),
        ("$.name", eq(s("Item 2"))),
        ("$.price", eq(Yaml::Int(10))),
        ("$.count", eq(Yaml::Float(3.0))),
        ("$.id", eq(s("{{ id }}"))),
        ("$.id", eq(s("{{ str(id) }}"))),
        (
            "$.tags",
            eq(Yaml::Seq(vec![
                sp(s("{{ token }}"), 0, 0),
                sp(Yaml::Int(2), 0, 0),
            ])),
        ),
        ("$.gone", eq(Yaml::Null)),
    ]));
    let body = r#"{"id": 42, "name": "Item 1", "price": 10.0, "count": 3, "tags": ["abc", 2]}"#;
    let results = run(&check, body, Duration::ZERO);
    let expected: Vec<(&str, bool, Option<&str>)> = vec![
        ("$.id exists", true, None),
        ("$.missing exists", false, Some("no match")),
        ("$.name == \"Item 1\"", true, None),
        (
            "$.name == \"Item 2\"",
            false,
            Some("expected \"Item 2\", got \"Item 1\""),
        ),
        ("$.price == 10", true, None),
        ("$.count == 3.0", true, None),
        ("$.id == \"{{ id }}\"", true, None),
        (
            "$.id == \"{{ str(id) }}\"",
            false,
            Some("expected \"42\", got 42"),
        ),
        ("$.tags == [\"{{ token }}\",2]", true, None),
        ("$.gone == null", false, Some("expected null, got no match")),
    ];
    let got: Vec<(&str, bool, Option<&str>)> = results
        .iter()
        .map(|(n, p, d)| (n.as_str(), *p, d.as_deref()))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn json_items_on_a_body_that_is_not_json() {
    let check = compile(&json_check(vec![
        ("$.id", JsonExpect::Exists),
        ("$.id", eq(Yaml::Int(1))),
    ]));
    for (_, passed, detail) in run(&check, "<html>", Duration::ZERO) {
        assert!(!passed);
        assert_eq!(detail.as_deref(), Some("response body is not JSON"));
    }
}

#[test]
fn unset_variable_in_expected_fails_the_item() {
    let check = compile(&json_check(vec![("$.id", eq(s("{{ unset }}")))]));
    let r = run(&check, r#"{"id": 1}"#, Duration::ZERO);
    assert!(!r[0].1);
    assert!(r[0]
        .2
        .as_deref()
        .unwrap()
        .starts_with("variable `unset` is not set"));
}

#[test]
fn body_header_and_latency_items() {
    let check = compile(&Check {
        body_contains: vec![
            sp("Item".to_string(), 0, 0),
            sp("user {{ token }}".to_string(), 0, 0),
            sp("absent".to_string(), 0, 0),
        ],
        headers: vec![
            (
                sp("Content-Type".to_string(), 0, 0),
                sp("application/json".to_string(), 0, 0),
            ),
            (
                sp("set-cookie".to_string(), 0, 0),
                sp("b=2".to_string(), 0, 0),
            ),
            (
                sp("x-trace".to_string(), 0, 0),
                sp("{{ id }}".to_string(), 0, 0),
            ),
        ],
        max_latency: Some(sp(Duration::from_millis(500), 0, 0)),
        ..Check::default()
    });
    let results = run(
        &check,
        r#"{"name": "Item 1", "who": "user abc"}"#,
        Duration::from_millis(734),
    );
    let got: Vec<(&str, bool, Option<&str>)> = results
        .iter()
        .map(|(n, p, d)| (n.as_str(), *p, d.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("body contains \"Item\"", true, None),
            ("body contains \"user {{ token }}\"", true, None),
            (
                "body contains \"absent\"",
                false,
                Some("body does not contain \"absent\"")
            ),
            ("header content-type == \"application/json\"", true, None),
            ("header set-cookie == \"b=2\"", true, None),
            (
                "header x-trace == \"{{ id }}\"",
                false,
                Some("expected \"42\", got no `x-trace` header")
            ),
            ("response time <= 500ms", false, Some("took 734.0ms")),
        ]
    );
    let fast = run(&check, "", Duration::from_millis(500));
    assert!(fast.last().unwrap().1, "the limit itself passes");
}

#[test]
fn names_and_compile_errors() {
    let mut c = json_check(vec![("$.id", eq(s("{{ id }}")))]);
    c.body_contains
        .push(sp("{{ token }}".to_string(), 100, 113));
    let check = compile(&c);
    assert_eq!(
        check.names(),
        vec![
            ("id".to_string(), Span::new(0, 0)),
            ("token".to_string(), Span::new(100, 113)),
        ]
    );

    let mut bad = Check::default();
    bad.json.push((
        sp("$.items[".to_string(), 10, 19),
        sp(JsonExpect::Exists, 21, 27),
    ));
    let (span, message, _) = CompiledCheck::compile(&bad, &mut common::resolve).unwrap_err();
    assert_eq!(span, Span::new(10, 19));
    assert!(message.starts_with("invalid JSONPath"), "{message}");

    // A quoted string: the error lands on the function name inside it.
    let mut bad = Check::default();
    bad.body_contains
        .push(sp("{{ itn(1, 2) }}".to_string(), 50, 67));
    let (span, message, help) = CompiledCheck::compile(&bad, &mut common::resolve).unwrap_err();
    assert_eq!(span, Span::new(54, 57));
    assert_eq!(message, "unknown function `itn`");
    assert_eq!(help.as_deref(), Some("did you mean `int`?"));

    let mut bad = Check::default();
    bad.headers.push((
        sp("bad header".to_string(), 5, 15),
        sp("x".to_string(), 17, 18),
    ));
    let (span, _, _) = CompiledCheck::compile(&bad, &mut common::resolve).unwrap_err();
    assert_eq!(span, Span::new(5, 15));
}

/// What a failed item would show a value of, for the redactor: a header's name, a JSON
/// path's last key; nothing for items that show no received value.
#[test]
fn items_name_their_subject() {
    let check = compile(&Check {
        json: vec![
            (
                sp("$.data.access_token".to_string(), 0, 0),
                sp(eq(s("x")), 0, 0),
            ),
            (
                sp("$['refresh_token']".to_string(), 0, 0),
                sp(eq(s("y")), 0, 0),
            ),
            (sp("$.id".to_string(), 0, 0), sp(JsonExpect::Exists, 0, 0)),
        ],
        headers: vec![(
            sp("Set-Cookie".to_string(), 0, 0),
            sp("a=1".to_string(), 0, 0),
        )],
        ..Check::default()
    });
    let subjects: Vec<Option<&str>> = check.items().iter().map(|i| i.subject()).collect();
    assert_eq!(
        subjects,
        [
            Some("access_token"),
            Some("refresh_token"),
            None,
            Some("set-cookie")
        ]
    );
}
