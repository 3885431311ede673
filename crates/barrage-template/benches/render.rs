//! Micro-benchmarks of the per-request template work: rendering a static template, a path
//! with a random integer, a JSON body with two templated strings, and extracting `$.id` from
//! a small JSON response.
//!
//! Run with `cargo bench -p barrage-template --bench render`. The numbers in
//! `docs/PERFORMANCE.md` came from this file; measurement times are short so the whole
//! workspace's benches finish in a couple of minutes.

use std::hint::black_box;
use std::time::Duration;

use barrage_scenario::{SaveSource, Span, Spanned, Value};
use barrage_template::{Extractor, JsonTemplate, RenderCtx, Response, ResponseView, Template};
use criterion::{criterion_group, criterion_main, Criterion};
use rand::rngs::SmallRng;
use rand::SeedableRng;

/// A template that is bound with no user variables (only built-ins resolve).
fn template(src: &str) -> Template {
    let mut t = Template::parse(src).expect("the bench's templates are valid");
    t.bind(&mut |_| None)
        .expect("the bench's templates use no user variables");
    t
}

fn spanned<T>(value: T) -> Spanned<T> {
    Spanned::new(value, Span::default())
}

/// `{ name: "Item {{ int(1000, 9999) }}", price: "{{ float(1, 100, 2) }}" }`
fn item_body() -> JsonTemplate {
    let body = spanned(Value::Map(vec![
        (
            spanned("name".to_string()),
            spanned(Value::String("Item {{ int(1000, 9999) }}".to_string())),
        ),
        (
            spanned("price".to_string()),
            spanned(Value::String("{{ float(1, 100, 2) }}".to_string())),
        ),
    ]));
    JsonTemplate::compile(&body, &mut |_| None).expect("the bench's body is valid")
}

fn render(c: &mut Criterion) {
    let mut rng = SmallRng::seed_from_u64(1);
    let vars: Vec<Option<serde_json::Value>> = Vec::new();
    let data: Vec<&[serde_json::Value]> = Vec::new();
    // Output buffers are reused across iterations, as a virtual user reuses its own.
    let mut text = String::with_capacity(256);
    let mut bytes = Vec::with_capacity(256);

    let mut group = c.benchmark_group("template");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let static_path = template("/api/v1/items?limit=20");
    group.bench_function("render static path", |b| {
        b.iter(|| {
            text.clear();
            let mut ctx = RenderCtx {
                vars: &vars,
                user_id: 1,
                iteration: 0,
                rng: &mut rng,
                data: &data,
            };
            static_path
                .render(&mut ctx, &mut text)
                .expect("a static template renders");
            black_box(text.len())
        })
    });

    let int_path = template("/items/{{ int(1, 100) }}");
    group.bench_function("render path with int(1, 100)", |b| {
        b.iter(|| {
            text.clear();
            let mut ctx = RenderCtx {
                vars: &vars,
                user_id: 1,
                iteration: 0,
                rng: &mut rng,
                data: &data,
            };
            int_path
                .render(&mut ctx, &mut text)
                .expect("int(1, 100) renders");
            black_box(text.len())
        })
    });

    let body = item_body();
    group.bench_function("render JSON body (name + price)", |b| {
        b.iter(|| {
            bytes.clear();
            let mut ctx = RenderCtx {
                vars: &vars,
                user_id: 1,
                iteration: 0,
                rng: &mut rng,
                data: &data,
            };
            body.render_json(&mut ctx, &mut bytes)
                .expect("the item body renders");
            black_box(bytes.len())
        })
    });
    group.finish();
}

fn extract(c: &mut Criterion) {
    // About 200 bytes, the shape of the built-in items API's answer to a POST.
    let body = br#"{"id":4711,"name":"Item 1234","price":42.5,"tags":["red","large","sale"],"stock":{"warehouse":"north","count":17},"created_at":"2026-11-25T23:00:00Z","description":"A sample item for benchmarks"}"#;
    let headers = http::HeaderMap::new();
    let id = Extractor::compile(&SaveSource::JsonPath("$.id".to_string()))
        .expect("`$.id` is a valid JSONPath");

    let mut group = c.benchmark_group("extract");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function(format!("JSONPath $.id on {} B body", body.len()), |b| {
        b.iter(|| {
            // A fresh view per iteration: the body is parsed once per response, as in a run.
            let view = ResponseView::new(Response {
                status: 201,
                headers: &headers,
                body: black_box(body),
            });
            black_box(id.extract(&view))
        })
    });
    group.finish();
}

criterion_group!(benches, render, extract);
criterion_main!(benches);
