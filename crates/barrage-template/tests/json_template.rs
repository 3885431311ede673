//! JSON bodies with templates inside.

mod common;

use barrage_scenario::{Span, Spanned, Value as Yaml};
use barrage_template::{scalar_template, JsonTemplate};
use common::{sp, ystr, User};
use serde_json::{json, Value};

fn map(entries: Vec<(&str, Spanned<Yaml>)>) -> Spanned<Yaml> {
    sp(
        Yaml::Map(
            entries
                .into_iter()
                .map(|(k, v)| (sp(k.to_string(), 0, 0), v))
                .collect(),
        ),
        0,
        0,
    )
}

fn seq(items: Vec<Spanned<Yaml>>) -> Spanned<Yaml> {
    sp(Yaml::Seq(items), 0, 0)
}

fn y(v: Yaml) -> Spanned<Yaml> {
    sp(v, 0, 0)
}

fn compile(v: &Spanned<Yaml>) -> JsonTemplate {
    JsonTemplate::compile(v, &mut common::resolve).expect("compiles")
}

fn render_bytes(t: &JsonTemplate, user: &mut User) -> Vec<u8> {
    let mut out = Vec::new();
    user.with(|ctx| t.render_json(ctx, &mut out))
        .expect("renders");
    out
}

fn render(t: &JsonTemplate) -> Value {
    let bytes = render_bytes(t, &mut User::new());
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
}

#[test]
fn static_body_is_pre_serialized() {
    let body = map(vec![
        ("username", ystr("testuser")),
        ("n", y(Yaml::Int(-3))),
        ("x", y(Yaml::Float(2.5))),
        (
            "flags",
            seq(vec![y(Yaml::Bool(true)), y(Yaml::Null), ystr("a \"q\"")]),
        ),
        ("empty", map(vec![])),
    ]);
    let t = compile(&body);
    assert!(t.is_static());
    assert_eq!(
        t.as_static()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .as_deref(),
        Some(r#"{"username":"testuser","n":-3,"x":2.5,"flags":[true,null,"a \"q\""],"empty":{}}"#)
    );
    assert!(t.names().is_empty());
}

#[test]
fn dynamic_strings_keep_whole_expression_types() {
    let body = map(vec![
        ("name", ystr("Item {{ int(1000, 9999) }}")),
        ("price", ystr("{{ float(1, 100, 2) }}")),
        ("id", ystr("{{ id }}")),
        ("id_text", ystr("{{ str(id) }}")),
        (
            "tags",
            seq(vec![
                ystr("{{ token }}"),
                ystr("static"),
                ystr("{{ items }}"),
            ]),
        ),
        (
            "nested",
            map(vec![
                ("quote", ystr("{{ quote }}")),
                ("said", ystr("he said {{ quote }}")),
                ("uuid", ystr("{{ uuid() }}")),
                ("upper", ystr("{{ upper(token) }}")),
                ("who", ystr("{{ accounts.username }}")),
                ("flag", ystr("{{ true }}")),
                ("nothing", ystr("{{ null }}")),
            ]),
        ),
    ]);
    let t = compile(&body);
    assert!(!t.is_static());
    let v = render(&t);
    let name = v["name"].as_str().unwrap();
    let n: i64 = name.strip_prefix("Item ").unwrap().parse().unwrap();
    assert!((1000..=9999).contains(&n));
    let price = v["price"].as_f64().expect("price is a number");
    assert!((1.0..=100.0).contains(&price));
    assert_eq!(v["id"], json!(42));
    assert_eq!(v["id_text"], json!("42"));
    assert_eq!(v["tags"], json!(["abc", "static", ["a", "b", "c"]]));
    assert_eq!(v["nested"]["quote"], json!("say \"hi\"\n"));
    assert_eq!(v["nested"]["said"], json!("he said say \"hi\"\n"));
    assert_eq!(v["nested"]["uuid"].as_str().map(str::len), Some(36));
    assert_eq!(v["nested"]["upper"], json!("ABC"));
    assert_eq!(v["nested"]["who"], json!("alice"));
    assert_eq!(v["nested"]["flag"], json!(true));
    assert_eq!(v["nested"]["nothing"], Value::Null);
    // Key order is kept as written.
    let text = String::from_utf8(render_bytes(&t, &mut User::new())).unwrap();
    assert!(text.starts_with(r#"{"name":"Item "#), "{text}");
}

#[test]
fn render_appends_and_repeats() {
    let t = compile(&map(vec![("id", ystr("{{ id }}"))]));
    let mut user = User::new();
    let mut out = b"prefix".to_vec();
    user.with(|ctx| t.render_json(ctx, &mut out)).unwrap();
    user.with(|ctx| t.render_json(ctx, &mut out)).unwrap();
    assert_eq!(out, br#"prefix{"id":42}{"id":42}"#);
}

#[test]
fn names_carry_the_string_span() {
    let body = map(vec![
        ("a", sp(Yaml::String("{{ token }}".into()), 10, 23)),
        (
            "b",
            seq(vec![sp(
                Yaml::String("{{ id }}-{{ user_id }}".into()),
                30,
                54,
            )]),
        ),
    ]);
    let t = compile(&body);
    assert_eq!(
        t.names(),
        vec![
            ("token".to_string(), Span::new(10, 23)),
            ("id".to_string(), Span::new(30, 54)),
            ("user_id".to_string(), Span::new(30, 54)),
        ]
    );
}

#[test]
fn errors_point_at_the_string() {
    let body = map(vec![
        ("ok", ystr("fine")),
        ("bad", sp(Yaml::String("{{ itn(1, 2) }}".into()), 40, 57)),
    ]);
    let (span, e) = JsonTemplate::compile(&body, &mut common::resolve).unwrap_err();
    assert_eq!(span, Span::new(40, 57));
    assert_eq!((e.offset, e.len), (3, 3));
    assert_eq!(e.help.as_deref(), Some("did you mean `int`?"));

    let body = seq(vec![sp(Yaml::String("{{ nope }}".into()), 5, 17)]);
    let (span, e) = JsonTemplate::compile(&body, &mut common::resolve).unwrap_err();
    assert_eq!(span, Span::new(5, 17));
    assert_eq!(e.message, "unknown variable `nope`");

    let body = seq(vec![sp(Yaml::Float(f64::INFINITY), 8, 12)]);
    let (span, _) = JsonTemplate::compile(&body, &mut common::resolve).unwrap_err();
    assert_eq!(span, Span::new(8, 12));
}

#[test]
fn unset_variable_fails_the_render() {
    let t = compile(&map(vec![("t", ystr("{{ unset }}"))]));
    let mut out = Vec::new();
    let e = User::new()
        .with(|ctx| t.render_json(ctx, &mut out))
        .unwrap_err();
    assert!(e.message.starts_with("variable `unset` is not set"));
}

#[test]
fn scalar_templates_use_the_scalar_text() {
    let mut user = User::new();
    let t = scalar_template(&y(Yaml::Int(5))).unwrap();
    assert_eq!(t.as_static(), Some("5"));
    let t = scalar_template(&y(Yaml::Bool(true))).unwrap();
    assert_eq!(t.as_static(), Some("true"));
    let t = scalar_template(&y(Yaml::Float(0.5))).unwrap();
    assert_eq!(t.as_static(), Some("0.5"));
    assert_eq!(
        scalar_template(&y(Yaml::Null)).unwrap().as_static(),
        Some("")
    );
    let mut t = scalar_template(&ystr("p{{ id }}")).unwrap();
    t.bind(&mut common::resolve).unwrap();
    assert_eq!(user.render(&t).unwrap(), "p42");
    let (span, _) = scalar_template(&sp(Yaml::Seq(vec![]), 3, 5)).unwrap_err();
    assert_eq!(span, Span::new(3, 5));
}
