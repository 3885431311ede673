//! Micro-benchmarks of the engine's per-request work without a network: building one
//! request from a compiled plan, as a virtual user does before sending it (URL, headers
//! and body rendered straight into the bytes it sends; the engine's `vu::bench::BenchUser` exists
//! only so this bench measures the VU's own code, see that module), and parsing a
//! response head with the lean HTTP/1.1 connection's parser (`http::h1::parse_head`),
//! with and without building the `HeaderMap` a header check needs.
//!
//! Run with `cargo bench -p barrage-engine --bench request`. The numbers in
//! `docs/PERFORMANCE.md` came from this file.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use barrage_engine::http::h1::parse_head;
use barrage_engine::vu::bench::BenchUser;
use barrage_engine::{compile, CompileOptions};
use barrage_scenario::{parse, SourceFile};
use criterion::{criterion_group, criterion_main, Criterion};

/// Task 0: a plain GET; task 1: a templated path; task 2: a templated JSON POST.
const SCENARIO: &str = r#"
target: http://127.0.0.1:1
defaults:
  headers:
    accept: application/json
users:
  u:
    tasks:
      plain:
        - get: /
      path:
        - get: "/items/{{ int(1, 100) }}"
          name: /items/[id]
      create:
        - post: /items/
          json:
            name: "Item {{ int(1000, 9999) }}"
            price: "{{ float(1, 100, 2) }}"
          save:
            id: '$.id'
"#;

fn user() -> BenchUser {
    user_with(false)
}

/// A bench user, with `--traceparent` on or off.
fn user_with(traceparent: bool) -> BenchUser {
    let file = SourceFile {
        name: "bench.yaml".to_string(),
        text: SCENARIO.to_string(),
    };
    let (scenario, _) = parse(&file).expect("the bench's scenario parses");
    let (plan, _) = compile(&scenario, &file, &CompileOptions::default())
        .expect("the bench's scenario compiles");
    let plan = Arc::new(plan);
    match traceparent {
        true => BenchUser::traced(plan),
        false => BenchUser::new(plan),
    }
    .expect("a bench user needs no certificates")
}

fn build(c: &mut Criterion) {
    let mut user = user();
    let mut group = c.benchmark_group("request");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (task, name) in [
        (0, "build GET /"),
        (1, "build GET /items/{{ int(1, 100) }}"),
        (2, "build POST /items/ with JSON body"),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let size = user
                    .build(black_box(task), 0)
                    .expect("the task's first step is a request")
                    .expect("the request renders");
                black_box(size)
            })
        });
    }
    // `--traceparent`: the plain GET with the header's ids drawn and formatted.
    let mut traced = user_with(true);
    group.bench_function("build GET / with traceparent", |b| {
        b.iter(|| {
            let size = traced
                .build(black_box(0), 0)
                .expect("the task's first step is a request")
                .expect("the request renders");
            black_box(size)
        })
    });
    group.finish();
}

/// What a FastAPI app behind uvicorn answers to a create: a typical API response head.
const RESPONSE: &[u8] = b"HTTP/1.1 201 Created\r\ndate: Thu, 26 Nov 2026 00:00:00 GMT\r\n\
server: uvicorn\r\ncontent-length: 45\r\ncontent-type: application/json\r\n\r\n\
{\"id\":4242,\"name\":\"Item 1234\",\"price\":19.99}";

fn parse_response(c: &mut Criterion) {
    let mut group = c.benchmark_group("response");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let mut buf = bytes::BytesMut::with_capacity(8192);
    group.bench_function("parse head (uvicorn 201, 4 headers)", |b| {
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(black_box(RESPONSE));
            let parsed = parse_head(&mut buf).expect("valid").expect("complete");
            black_box(parsed.status)
        })
    });
    group.bench_function("parse head + build HeaderMap", |b| {
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(black_box(RESPONSE));
            let parsed = parse_head(&mut buf).expect("valid").expect("complete");
            black_box(parsed.head.header_map().len())
        })
    });
    group.finish();
}

criterion_group!(benches, build, parse_response);
criterion_main!(benches);
