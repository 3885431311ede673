//! Templates and the expression language, through the public API.

mod common;

use std::collections::BTreeSet;

use barrage_template::{Template, TemplateError};
use common::{compile, eval, render, User};
use serde_json::{json, Value};

fn parse_err(src: &str) -> TemplateError {
    Template::parse(src).expect_err(src)
}

fn bind_err(src: &str) -> TemplateError {
    let mut t = Template::parse(src).expect(src);
    t.bind(&mut common::resolve).expect_err(src)
}

/// Every distinct rendering of `src` over many draws.
fn outcomes(src: &str, draws: usize) -> BTreeSet<String> {
    let t = compile(src);
    let mut user = User::new();
    (0..draws).map(|_| user.render(&t).unwrap()).collect()
}

#[test]
fn static_templates_are_copied() {
    let t = compile("/items/all");
    assert!(t.is_static());
    assert_eq!(t.as_static(), Some("/items/all"));
    assert!(!t.is_whole_expression());
    assert_eq!(render("/items/all"), "/items/all");
    assert_eq!(compile("").as_static(), Some(""));
    assert_eq!(eval("plain"), json!("plain"));
}

#[test]
fn stray_closing_braces_are_text() {
    assert_eq!(render("a }} b }"), "a }} b }");
    assert_eq!(render("{{ 1 }}}}"), "1}}");
    assert_eq!(render(r#"{{ "{{" }} x"#), "{{ x");
}

#[test]
fn whole_expression_is_exactly_one_expression() {
    assert!(compile("{{ token }}").is_whole_expression());
    assert!(compile("{{token}}").is_whole_expression());
    assert!(!compile(" {{ token }}").is_whole_expression());
    assert!(!compile("{{ token }} ").is_whole_expression());
    assert!(!compile("{{ token }}{{ id }}").is_whole_expression());
}

#[test]
fn literals() {
    assert_eq!(eval("{{ 1 }}"), json!(1));
    assert_eq!(eval("{{ -7 }}"), json!(-7));
    assert_eq!(eval("{{ 2.5 }}"), json!(2.5));
    assert_eq!(eval(r"{{ 'it\'s' }}"), json!("it's"));
    assert_eq!(eval(r#"{{ "a \"b\" \\ c" }}"#), json!(r#"a "b" \ c"#));
    assert_eq!(eval("{{ true }}"), json!(true));
    assert_eq!(eval("{{ false }}"), json!(false));
    assert_eq!(eval("{{ null }}"), Value::Null);
    assert_eq!(
        render("[{{ null }}|{{ true }}|{{ 2.50 }}|{{ 3.0 }}]"),
        "[null|true|2.5|3.0]"
    );
}

#[test]
fn names_render_their_values() {
    assert_eq!(render("Bearer {{ token }}"), "Bearer abc");
    assert_eq!(render("/items/{{ id }}"), "/items/42");
    assert_eq!(eval("{{ id }}"), json!(42));
    assert_eq!(eval("{{ items }}"), json!(["a", "b", "c"]));
    assert_eq!(render("{{ items }}"), r#"["a","b","c"]"#);
    assert_eq!(render("u{{ user_id }}-i{{ iteration }}"), "u7-i3");
    assert_eq!(eval("{{ user_id }}"), json!(7));
}

#[test]
fn data_fields_use_their_slot() {
    assert_eq!(
        render("{{ accounts.username }}:{{ accounts.age }}"),
        "alice:31"
    );
    let t = compile("{{ accounts.missing }}");
    let e = User::new().render(&t).unwrap_err();
    assert_eq!(
        e.message,
        "data field `accounts.missing` has no value in the current row"
    );
}

#[test]
fn unset_variable_is_a_render_error() {
    let t = compile("/items/{{ unset }}");
    let e = User::new().render(&t).unwrap_err();
    assert_eq!(
        e.message,
        "variable `unset` is not set (it is saved by a step that has not run or found nothing)"
    );
    assert!(User::new().eval(&t).is_err());
}

#[test]
fn unbound_template_fails_without_panicking() {
    let t = Template::parse("{{ token }}").unwrap();
    assert!(User::new().render(&t).is_err());
}

#[test]
fn int_includes_both_ends() {
    let seen = outcomes("{{ int(1, 3) }}", 300);
    assert_eq!(seen, ["1", "2", "3"].map(String::from).into());
    assert_eq!(render("{{ int(5, 5) }}"), "5");
    let seen = outcomes("{{ int(-2, 2) }}", 500);
    assert_eq!(seen.len(), 5);
    assert_eq!(eval("{{ int(9, 9) }}"), json!(9));
}

#[test]
fn int_takes_variable_and_data_arguments() {
    assert_eq!(render("{{ int(id, id) }}"), "42");
    // CSV columns are text; integer text works as a number.
    assert_eq!(render("{{ int(accounts.age, accounts.age) }}"), "31");
    let e = User::new()
        .render(&compile("{{ int(token, 5) }}"))
        .unwrap_err();
    assert_eq!(e.message, r#"int(): `min` must be an integer, got "abc""#);
    let e = User::new()
        .render(&compile("{{ int(id, 1) }}"))
        .unwrap_err();
    assert_eq!(e.message, "int(42, 1): min is greater than max");
}

#[test]
fn int_with_min_above_max_is_a_compile_error() {
    let e = parse_err("{{ int(5, 1) }}");
    assert_eq!((e.offset, e.len), (3, 9));
    assert_eq!(e.message, "int(5, 1): min is greater than max");
    assert_eq!(e.help.as_deref(), Some("write int(1, 5)"));
    let e = parse_err("{{ int(1.5, 3) }}");
    assert_eq!((e.offset, e.len), (7, 3));
    assert_eq!(e.message, "`min` must be an integer");
}

#[test]
fn float_is_a_number_rounded_to_digits() {
    let t = compile("{{ float(1, 100, 2) }}");
    let mut user = User::new();
    for _ in 0..200 {
        let v = user.eval(&t).unwrap();
        let f = v.as_f64().expect("a JSON number");
        assert!((1.0..=100.0).contains(&f), "{f}");
        assert!(((f * 100.0).round() - f * 100.0).abs() < 1e-6, "{f}");
        let text = user.render(&t).unwrap();
        let decimals = text.split('.').nth(1).map_or(0, str::len);
        assert!(decimals <= 2, "{text}");
    }
    let seen = outcomes("{{ float(1, 2, 0) }}", 200);
    assert_eq!(seen, ["1.0", "2.0"].map(String::from).into());
    let v = eval("{{ float(0.5, 0.75) }}").as_f64().unwrap();
    assert!((0.5..=0.75).contains(&v));
    assert_eq!(eval("{{ float(3, 3) }}"), json!(3.0));
}

#[test]
fn float_arguments_are_checked() {
    let e = parse_err("{{ float(2, 1) }}");
    assert_eq!(e.message, "float(2, 1): min is greater than max");
    let e = parse_err("{{ float(1, 2, 20) }}");
    assert_eq!((e.offset, e.len), (15, 2));
    assert_eq!(e.message, "digits must be from 0 to 15");
    let e = parse_err("{{ float('a', 2) }}");
    assert_eq!(e.message, "`min` must be a number");
}

#[test]
fn uuid_is_a_v4_string() {
    let v = eval("{{ uuid() }}");
    let s = v.as_str().expect("a string");
    assert_eq!(s.len(), 36);
    assert_eq!(&s[14..15], "4");
    assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"));
    assert_eq!(outcomes("{{ uuid() }}", 50).len(), 50);
    assert_eq!(render("id-{{ uuid() }}").len(), 39);
}

#[test]
fn choice_picks_an_argument_or_a_list_element() {
    let seen = outcomes("{{ choice('red', 'green', 'blue') }}", 200);
    assert_eq!(seen, ["blue", "green", "red"].map(String::from).into());
    let seen = outcomes("{{ choice(items) }}", 200);
    assert_eq!(seen, ["a", "b", "c"].map(String::from).into());
    assert_eq!(eval("{{ choice(1) }}"), json!(1));
    let v = eval("{{ choice(1, 2) }}");
    assert!(v == json!(1) || v == json!(2));
    let e = User::new()
        .render(&compile("{{ choice(empty) }}"))
        .unwrap_err();
    assert_eq!(e.message, "choice() was given an empty list");
}

#[test]
fn string_is_random_alphanumeric() {
    let s = render("{{ string(12) }}");
    assert_eq!(s.len(), 12);
    assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(render("{{ string(0) }}"), "");
    assert_eq!(eval("{{ string(3) }}").as_str().map(str::len), Some(3));
    let e = parse_err("{{ string(-1) }}");
    assert_eq!(e.message, "length must be from 0 to 1048576");
}

#[test]
fn env_is_read_at_bind_time() {
    std::env::set_var("BARRAGE_TEMPLATE_TEST_HOST", "api.test");
    let t = compile("https://{{ env('BARRAGE_TEMPLATE_TEST_HOST') }}/x");
    std::env::remove_var("BARRAGE_TEMPLATE_TEST_HOST");
    assert_eq!(User::new().render(&t).unwrap(), "https://api.test/x");

    assert_eq!(
        render(r#"{{ env("BARRAGE_TEMPLATE_TEST_UNSET", "fallback") }}"#),
        "fallback"
    );
    let e = bind_err(r#"x {{ env("BARRAGE_TEMPLATE_TEST_UNSET") }}"#);
    assert_eq!((e.offset, e.len), (5, 34));
    assert_eq!(
        e.message,
        "environment variable `BARRAGE_TEMPLATE_TEST_UNSET` is not set"
    );
    assert!(e
        .help
        .unwrap()
        .contains("env(\"BARRAGE_TEMPLATE_TEST_UNSET\", \"...\")"));
    let e = parse_err("{{ env(token) }}");
    assert_eq!(e.message, "env() takes quoted strings");
}

#[test]
fn timestamps_are_now() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let s = eval("{{ timestamp() }}").as_i64().unwrap();
    assert!((s - now.as_secs() as i64).abs() <= 5);
    let ms = eval("{{ timestamp_ms() }}").as_i64().unwrap();
    assert!((ms - now.as_millis() as i64).abs() <= 5000);
}

#[test]
fn whole_expressions_keep_their_type() {
    assert!(eval("{{ float(1, 100, 2) }}").is_number());
    assert!(eval("{{ int(1, 2) }}").is_i64());
    let v = eval("{{ str(int(1, 2)) }}");
    assert!(v == json!("1") || v == json!("2"), "{v}");
    let v = eval("Item {{ int(1, 3) }}");
    assert!(["Item 1", "Item 2", "Item 3"].contains(&v.as_str().unwrap()));
    assert_eq!(eval("{{ str(id) }}"), json!("42"));
    assert_eq!(eval("{{ str(items) }}"), json!(r#"["a","b","c"]"#));
    assert_eq!(eval(" {{ id }}"), json!(" 42"));
}

#[test]
fn upper_and_lower() {
    assert_eq!(render("{{ upper('straße') }}"), "STRASSE");
    assert_eq!(render("{{ lower('ABC') }}-{{ upper(token) }}"), "abc-ABC");
    assert_eq!(eval("{{ upper(str(id)) }}"), json!("42"));
    assert_eq!(eval("{{ lower(upper(lower('MiXeD'))) }}"), json!("mixed"));
    assert_eq!(render("{{ choice(upper('a'), upper('a')) }}"), "A");
    let v = eval("{{ choice(upper('a'), lower('A')) }}");
    assert!(v == json!("A") || v == json!("a"), "{v}");
}

#[test]
fn unknown_function_suggests_the_closest() {
    let e = parse_err("{{ itn(1, 2) }}");
    assert_eq!((e.offset, e.len), (3, 3));
    assert_eq!(e.message, "unknown function `itn`");
    assert_eq!(e.help.as_deref(), Some("did you mean `int`?"));
    let e = parse_err("x {{ frobnicate() }}");
    assert_eq!((e.offset, e.len), (5, 10));
    let help = e.help.unwrap();
    assert!(
        help.starts_with("the functions are: int, float, uuid, choice"),
        "{help}"
    );
}

#[test]
fn wrong_arity_names_the_call() {
    let e = parse_err("{{ int(1) }}");
    assert_eq!((e.offset, e.len), (3, 6));
    assert_eq!(e.message, "`int` takes 2 arguments, got 1");
    assert_eq!(e.help.as_deref(), Some("write int(min, max)"));
    let e = parse_err("{{ uuid(1) }}");
    assert_eq!(e.message, "`uuid` takes no arguments, got 1");
    let e = parse_err("{{ float(1, 2, 3, 4) }}");
    assert_eq!(e.message, "`float` takes 2 or 3 arguments, got 4");
    let e = parse_err("{{ choice() }}");
    assert_eq!(e.message, "`choice` takes at least 1 argument, got 0");
    let e = parse_err("{{ upper() }}");
    assert_eq!(e.message, "`upper` takes 1 argument, got 0");
}

#[test]
fn syntax_errors_are_located() {
    let e = parse_err("/items/{{ id");
    assert_eq!(
        (e.offset, e.len, e.message.as_str()),
        (7, 2, "unterminated `{{`")
    );
    let e = parse_err("abc {{");
    assert_eq!((e.offset, e.len), (4, 2));
    let e = parse_err("{{ int(1, 2 }}");
    assert_eq!(e.message, "expected `,` or `)`, found `}}`");
    assert_eq!(e.offset, 12);
    let e = parse_err("{{ }}");
    assert_eq!(
        (e.offset, e.len, e.message.as_str()),
        (0, 5, "empty `{{ }}`")
    );
    let e = parse_err("{{ 1.2.3 }}");
    assert_eq!(
        (e.offset, e.len, e.message.as_str()),
        (3, 5, "bad number `1.2.3`")
    );
    let e = parse_err("{{ token id }}");
    assert_eq!((e.offset, e.len), (9, 2));
    assert_eq!(e.message, "expected `}}`, found `id`");
    let e = parse_err("{{ 'open }}");
    assert_eq!(e.message, "unterminated string");
    let e = parse_err("{{ a + b }}");
    assert_eq!((e.offset, e.len), (5, 1));
    let deep = format!("{{{{ {}1{} }}}}", "str(".repeat(40), ")".repeat(40));
    assert!(parse_err(&deep).message.contains("nested"));
}

#[test]
fn unknown_variable_is_a_bind_error() {
    let e = bind_err("/x/{{ nope }}");
    assert_eq!((e.offset, e.len), (6, 4));
    assert_eq!(e.message, "unknown variable `nope`");
    let e = bind_err("{{ uuid }}");
    assert_eq!(
        e.help.as_deref(),
        Some("to call the function, write `uuid()`")
    );
    let e = bind_err("{{ userid }}");
    assert_eq!(e.help.as_deref(), Some("did you mean `user_id`?"));
}

#[test]
fn names_lists_every_reference_in_order() {
    let t =
        Template::parse("{{ token }}/{{ accounts.username }}?n={{ int(1, id) }}&u={{ user_id }}")
            .unwrap();
    assert_eq!(
        t.names(),
        vec![
            ("token".to_string(), 3, 5),
            ("accounts.username".to_string(), 15, 17),
            ("id".to_string(), 48, 2),
            ("user_id".to_string(), 60, 7),
        ]
    );
    assert!(Template::parse("{{ int(1, 2) }}")
        .unwrap()
        .names()
        .is_empty());
}

#[test]
fn render_appends() {
    let t = compile("b{{ id }}");
    let mut out = String::from("a");
    User::new().with(|ctx| t.render(ctx, &mut out)).unwrap();
    assert_eq!(out, "ab42");
}

#[test]
fn template_is_send_and_sync() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
    check::<Template>();
    check::<barrage_template::JsonTemplate>();
    check::<barrage_template::CompiledCheck>();
    check::<barrage_template::Extractor>();
}
