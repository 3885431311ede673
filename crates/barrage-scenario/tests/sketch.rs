//! The scenario sketch from DESIGN.md must parse as written, into exactly this model.

mod common;

use std::time::Duration;

use barrage_scenario::{
    Body, JsonExpect, Method, OnFailure, SaveSource, Span, StatusMatch, Step, Think, Value,
};
use common::{ok, source};

/// Verbatim from DESIGN.md, "The scenario file".
const SKETCH: &str = r#"target: http://127.0.0.1:8000
defaults: { headers: { accept: application/json }, timeout: 10s }
users:
  shopper:
    weight: 3
    think: 0.5s..2.5s
    setup:
      - post: /login
        json: { username: testuser, password: secret }
        save: { token: $.access_token }
    tasks:
      read_item:
        weight: 10
        steps:
          - get: "/items/Item {{ int(1, 100) }}"
            name: /items/[item_name]
      create_and_read:
        weight: 2
        steps:
          - post: /items/
            headers: { authorization: "Bearer {{ token }}" }
            json: { name: "Item {{ int(1000, 9999) }}", price: "{{ float(1, 100, 2) }}" }
            check: { status: 201 }
            save: { id: $.id }
          - get: /items/{{ id }}
load: { users: 500, spawn_rate: 50, duration: 5m }
thresholds:
  - p95 < 200ms
  - error_rate < 1%
"#;

fn at(span: Span) -> &'static str {
    &SKETCH[span.start..span.end]
}

fn request(step: &Step) -> &barrage_scenario::RequestStep {
    match step {
        Step::Request(r) => r,
        other => panic!("expected a request, found {other:?}"),
    }
}

fn string(value: &Value) -> &str {
    match value {
        Value::String(s) => s,
        other => panic!("expected a string, found {other:?}"),
    }
}

#[test]
fn the_fixture_is_the_sketch() {
    let fixture = std::fs::read_to_string(
        common::crate_dir().join("tests/fixtures/valid/design_sketch.yaml"),
    )
    .unwrap();
    assert_eq!(fixture, SKETCH);
}

#[test]
fn the_design_sketch_parses_into_the_model() {
    let (scenario, warnings) = barrage_scenario::parse(&source(SKETCH)).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");

    let target = scenario.target.as_ref().unwrap();
    assert_eq!(target.value, "http://127.0.0.1:8000");
    assert_eq!(at(target.span), "http://127.0.0.1:8000");

    let defaults = &scenario.defaults;
    assert_eq!(defaults.headers.len(), 1);
    assert_eq!(defaults.headers[0].0.value, "accept");
    assert_eq!(defaults.headers[0].1.value, "application/json");
    assert_eq!(defaults.timeout.unwrap().value, Duration::from_secs(10));
    assert_eq!(at(defaults.timeout.unwrap().span), "10s");
    assert_eq!(defaults.connect_timeout, None);
    assert_eq!(defaults.think, None);
    assert!(scenario.data.is_empty());

    assert_eq!(scenario.users.len(), 1);
    let shopper = &scenario.users[0];
    assert_eq!(shopper.name.value, "shopper");
    assert_eq!(shopper.weight.value, 3);
    assert_eq!(
        shopper.think.unwrap().value,
        Think::Range(Duration::from_millis(500), Duration::from_millis(2500))
    );
    assert_eq!(at(shopper.think.unwrap().span), "0.5s..2.5s");

    assert_eq!(shopper.setup.len(), 1);
    let login = request(&shopper.setup[0]);
    assert_eq!(login.method.value, Method::Post);
    assert_eq!(login.url.value, "/login");
    assert_eq!(at(login.method.span), "post");
    let Some(Body::Json(json)) = &login.body else {
        panic!("login has a JSON body: {:?}", login.body)
    };
    assert_eq!(at(json.span), "{ username: testuser, password: secret }");
    let Value::Map(fields) = &json.value else {
        panic!("{json:?}")
    };
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.value.as_str(), string(&v.value)))
        .collect();
    assert_eq!(fields, [("username", "testuser"), ("password", "secret")]);
    assert_eq!(login.save.len(), 1);
    assert_eq!(login.save[0].var.value, "token");
    assert_eq!(
        login.save[0].source.value,
        SaveSource::JsonPath("$.access_token".into())
    );
    assert_eq!(at(login.save[0].source.span), "$.access_token");
    assert_eq!(login.on_failure.value, OnFailure::Continue);

    let tasks = &shopper.tasks;
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0].name.value, "read_item");
    assert_eq!(tasks[0].weight.value, 10);
    assert_eq!(tasks[0].steps.len(), 1);
    let read = request(&tasks[0].steps[0]);
    assert_eq!(read.method.value, Method::Get);
    assert_eq!(read.url.value, "/items/Item {{ int(1, 100) }}");
    assert_eq!(at(read.url.span), "\"/items/Item {{ int(1, 100) }}\"");
    assert_eq!(read.name.as_ref().unwrap().value, "/items/[item_name]");

    assert_eq!(tasks[1].name.value, "create_and_read");
    assert_eq!(tasks[1].weight.value, 2);
    assert_eq!(tasks[1].steps.len(), 2);
    let create = request(&tasks[1].steps[0]);
    assert_eq!(create.method.value, Method::Post);
    assert_eq!(create.url.value, "/items/");
    assert_eq!(create.headers.len(), 1);
    assert_eq!(create.headers[0].0.value, "authorization");
    assert_eq!(create.headers[0].1.value, "Bearer {{ token }}");
    let Some(Body::Json(json)) = &create.body else {
        panic!("{:?}", create.body)
    };
    let Value::Map(fields) = &json.value else {
        panic!("{json:?}")
    };
    assert_eq!(string(&fields[0].1.value), "Item {{ int(1000, 9999) }}");
    assert_eq!(fields[1].0.value, "price");
    assert_eq!(string(&fields[1].1.value), "{{ float(1, 100, 2) }}");
    assert_eq!(create.check.status.len(), 1);
    assert_eq!(create.check.status[0].value, StatusMatch::Code(201));
    assert_eq!(create.save[0].var.value, "id");
    assert_eq!(
        create.save[0].source.value,
        SaveSource::JsonPath("$.id".into())
    );
    let read_back = request(&tasks[1].steps[1]);
    assert_eq!(read_back.url.value, "/items/{{ id }}");
    assert_eq!(at(read_back.span), "get: /items/{{ id }}");

    let load = &scenario.load;
    assert_eq!(load.users.unwrap().value, 500);
    assert_eq!(load.spawn_rate.unwrap().value, 50.0);
    assert_eq!(load.duration.unwrap().value, Duration::from_secs(300));
    assert_eq!(load.iterations, None);
    assert_eq!(load.stop_timeout, None);

    let thresholds: Vec<&str> = scenario
        .thresholds
        .iter()
        .map(|t| t.expr.value.as_str())
        .collect();
    assert_eq!(thresholds, ["p95 < 200ms", "error_rate < 1%"]);
    assert_eq!(at(scenario.thresholds[1].expr.span), "error_rate < 1%");
    assert_eq!(scenario.thresholds[1].abort_on_fail, None);
}

#[test]
fn the_full_fixture_reads_every_option() {
    let text = std::fs::read_to_string(common::crate_dir().join("tests/fixtures/valid/full.yaml"))
        .unwrap();
    let scenario = ok(&text);
    let d = &scenario.defaults;
    assert_eq!(d.headers[1].1.value, "2", "numbers become their text");
    assert_eq!(d.connect_timeout.unwrap().value, Duration::from_secs(90));
    assert_eq!(d.think.unwrap().value, Think::None);
    assert!(!d.cookies.unwrap().value);
    assert_eq!(d.max_redirects.unwrap().value, 0);

    assert_eq!(scenario.data.len(), 2);
    assert_eq!(
        scenario.data[0].order.value,
        barrage_scenario::DataOrder::Sequential
    );
    assert_eq!(scenario.data[1].file.value, "data/products.json");
    assert_eq!(
        scenario.data[1].order.value,
        barrage_scenario::DataOrder::PerUser
    );

    let buyer = &scenario.users[0];
    assert_eq!(
        buyer.think.unwrap().value,
        Think::Pacing(Duration::from_secs(5))
    );
    let login = request(&buyer.setup[0]);
    assert!(matches!(&login.body, Some(Body::Form(f)) if f.len() == 2));
    let sources: Vec<&SaveSource> = login.save.iter().map(|s| &s.source.value).collect();
    assert_eq!(
        sources,
        [
            &SaveSource::JsonPath("$.access_token".into()),
            &SaveSource::Header("set-cookie".into()),
            &SaveSource::Regex {
                pattern: r"csrf=(\w+)".into(),
                group: 1
            },
            &SaveSource::Status,
        ]
    );
    assert_eq!(
        login.save[2].default.as_ref().unwrap().value,
        Value::String(String::new())
    );
    assert_eq!(
        login
            .check
            .status
            .iter()
            .map(|s| s.value)
            .collect::<Vec<_>>(),
        [StatusMatch::Code(200), StatusMatch::Class(2)]
    );

    let search = &buyer.tasks[0];
    assert_eq!(search.weight.value, 1, "a bare list of steps has weight 1");
    let get = request(&search.steps[0]);
    let query: Vec<(&str, &Value)> = get
        .query
        .iter()
        .map(|(k, v)| (k.value.as_str(), &v.value))
        .collect();
    assert_eq!(
        query,
        [
            ("q", &Value::String("{{ products.name }}".into())),
            ("page", &Value::Int(1)),
            ("exact", &Value::Bool(true)),
        ]
    );
    assert_eq!(get.timeout.unwrap().value, Duration::from_secs(2));
    assert_eq!(get.on_failure.value, OnFailure::StopIteration);
    let json: Vec<(&str, &JsonExpect)> = get
        .check
        .json
        .iter()
        .map(|(k, v)| (k.value.as_str(), &v.value))
        .collect();
    assert_eq!(
        json,
        [
            ("$.total", &JsonExpect::Exists),
            (
                "$.items[0].name",
                &JsonExpect::Equals(Value::String("{{ products.name }}".into()))
            ),
            ("$.page", &JsonExpect::Equals(Value::Int(1))),
        ]
    );
    assert_eq!(get.check.body_contains.len(), 2);
    assert_eq!(
        get.check.max_latency.unwrap().value,
        Duration::from_millis(500)
    );
    assert_eq!(
        search.steps[1],
        Step::Think(barrage_scenario::Spanned::new(
            Think::Range(Duration::from_millis(250), Duration::from_secs(1)),
            match &search.steps[1] {
                Step::Think(t) => t.span,
                _ => unreachable!(),
            }
        ))
    );

    let order = &buyer.tasks[1];
    assert_eq!(order.weight.value, 2);
    let methods: Vec<Method> = order
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Request(r) => Some(r.method.value),
            _ => None,
        })
        .collect();
    assert_eq!(
        methods,
        Method::ALL[1..],
        "every method but GET (used in `search`)"
    );
    let create = request(&order.steps[0]);
    assert_eq!(create.name.as_ref().unwrap().value, "create order");
    assert_eq!(
        create.save[1].source.value,
        SaveSource::Regex {
            pattern: r"order-(\d+)".into(),
            group: 1
        }
    );
    assert!(
        matches!(&request(&order.steps[1]).body, Some(Body::Raw(b)) if b.value == r#"{"status": "paid"}"#)
    );
    assert!(matches!(order.steps.last(), Some(Step::Think(t)) if t.value == Think::None));

    assert_eq!(scenario.users[1].weight.value, 1);
    assert_eq!(scenario.load.spawn_rate.unwrap().value, 12.5);
    assert_eq!(scenario.load.iterations.unwrap().value, 1000);
    assert_eq!(
        scenario.load.stop_timeout.unwrap().value,
        Duration::from_millis(500)
    );
    assert_eq!(scenario.thresholds[1].expr.value, "error_rate < 1%");
    let options = &scenario.thresholds[2];
    assert_eq!(
        options.expr.value,
        "p99{name=\"/orders/{id}\", method=\"GET\"} < 1s"
    );
    assert_eq!(options.abort_on_fail.map(|a| a.value), Some(true));
    assert_eq!(
        options.delay.map(|d| d.value),
        Some(Duration::from_secs(30))
    );
}

#[test]
fn top_level_tasks_are_one_user_type_named_user() {
    let text =
        std::fs::read_to_string(common::crate_dir().join("tests/fixtures/valid/shorthand.yaml"))
            .unwrap();
    let scenario = ok(&text);
    assert_eq!(scenario.users.len(), 1);
    let user = &scenario.users[0];
    assert_eq!(user.name.value, "user");
    assert_eq!(user.weight.value, 1);
    assert_eq!(
        user.think.unwrap().value,
        Think::Range(Duration::from_secs(1), Duration::from_secs(2))
    );
    assert_eq!(user.setup.len(), 1);
    assert_eq!(user.tasks[0].name.value, "ping");
}

#[test]
fn anchors_and_merge_keys_are_expanded() {
    let text =
        std::fs::read_to_string(common::crate_dir().join("tests/fixtures/valid/anchors.yaml"))
            .unwrap();
    let scenario = ok(&text);
    let steps = &scenario.users[0].tasks[0].steps;
    let headers = |i: usize| -> Vec<(String, String)> {
        request(&steps[i])
            .headers
            .iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect()
    };
    let auth = (
        "authorization".to_string(),
        "Bearer {{ token }}".to_string(),
    );
    assert_eq!(
        headers(0),
        [auth.clone(), ("accept".into(), "application/json".into())]
    );
    assert_eq!(headers(1), [auth, ("accept".into(), "text/plain".into())]);
}
