//! Extraction from responses.

use barrage_scenario::SaveSource;
use barrage_template::{Extractor, Response, ResponseView};
use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};

fn headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("location", HeaderValue::from_static("/items/17"));
    h
}

fn extract(src: SaveSource, status: u16, body: &str) -> Option<Value> {
    let h = headers();
    let view = ResponseView::new(Response {
        status,
        headers: &h,
        body: body.as_bytes(),
    });
    Extractor::compile(&src).expect("compiles").extract(&view)
}

fn path(p: &str) -> SaveSource {
    SaveSource::JsonPath(p.to_string())
}

#[test]
fn json_path_takes_the_first_match() {
    let body = r#"{"access_token": "t0k", "id": 5, "items": [{"id": 1}, {"id": 2}], "n": null}"#;
    assert_eq!(
        extract(path("$.access_token"), 200, body),
        Some(json!("t0k"))
    );
    assert_eq!(extract(path("$.id"), 200, body), Some(json!(5)));
    assert_eq!(extract(path("$.items[*].id"), 200, body), Some(json!(1)));
    assert_eq!(
        extract(path("$.items"), 200, body),
        Some(json!([{"id": 1}, {"id": 2}]))
    );
    assert_eq!(extract(path("$.n"), 200, body), Some(Value::Null));
    assert_eq!(extract(path("$.missing"), 200, body), None);
    assert_eq!(extract(path("$.id"), 200, "not json"), None);
    assert_eq!(extract(path("$.id"), 200, ""), None);
}

#[test]
fn bad_json_path_says_what_is_wrong() {
    let e = Extractor::compile(&path("$.items["))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("invalid JSONPath `$.items[`"), "{e}");
    let e = Extractor::compile(&path("id")).unwrap_err().to_string();
    assert!(e.contains("starts with `$`"), "{e}");
}

#[test]
fn header_is_case_insensitive() {
    let src = SaveSource::Header("Location".into());
    assert_eq!(extract(src, 201, ""), Some(json!("/items/17")));
    assert_eq!(
        extract(SaveSource::Header("x-missing".into()), 200, ""),
        None
    );
    assert!(Extractor::compile(&SaveSource::Header("bad header".into())).is_err());
}

#[test]
fn regex_takes_the_group_or_the_whole_match() {
    let re = |pattern: &str, group| SaveSource::Regex {
        pattern: pattern.into(),
        group,
    };
    let body = "<a href=\"/orders?id=123&x=9\">";
    assert_eq!(extract(re(r"id=(\d+)", 1), 200, body), Some(json!("123")));
    assert_eq!(extract(re(r"id=\d+", 1), 200, body), Some(json!("id=123")));
    assert_eq!(extract(re(r"(\w)=(\d+)", 2), 200, body), Some(json!("123")));
    assert_eq!(extract(re(r"zzz(\d)", 1), 200, body), None);
    // An optional group that did not take part in the match finds nothing.
    assert_eq!(extract(re(r"id=(\d+)|(nope)", 2), 200, body), None);
    // Bodies that are not UTF-8 still work.
    let h = headers();
    let view = ResponseView::new(Response {
        status: 200,
        headers: &h,
        body: b"\xff\xfeid=7",
    });
    let ex = Extractor::compile(&re(r"id=(\d)", 1)).unwrap();
    assert_eq!(ex.extract(&view), Some(json!("7")));
}

#[test]
fn status_is_a_number() {
    assert_eq!(extract(SaveSource::Status, 404, ""), Some(json!(404)));
}

#[test]
fn view_parses_json_once_and_reads_headers() {
    let h = headers();
    let view = ResponseView::new(Response {
        status: 200,
        headers: &h,
        body: br#"{"a": 1}"#,
    });
    let first = view.json().unwrap() as *const Value;
    let second = view.json().unwrap() as *const Value;
    assert_eq!(first, second);
    assert_eq!(view.header("Content-Type"), Some("application/json"));
    assert_eq!(view.header("nope"), None);
    assert_eq!(view.status(), 200);
    assert_eq!(view.body(), br#"{"a": 1}"#);
}
