//! The keys of `stream:` steps: what they read into, and a located error (with the fix)
//! for each way of getting them wrong.

mod common;

use barrage_scenario::{EventCount, SaveSource, Step, StreamMode};
use common::{error, ok};

fn step(text: &str) -> barrage_scenario::RequestStep {
    let s = ok(text);
    let task = &s.users[0].tasks[0];
    match &task.steps[0] {
        Step::Request(r) => (**r).clone(),
        other => panic!("not a request: {other:?}"),
    }
}

#[test]
fn a_stream_step_reads_into_the_model() {
    let r = step(
        "tasks:\n  t:\n    - get: /chat\n      stream: events\n      max_events: 20\n      \
         check:\n        events: { min: 1 }\n        event:\n          done: { json: { '$.ok': true }, data_contains: fin }\n      \
         save:\n        n: { events: true }\n        id: { event: start, jsonpath: $.id }\n        all: { event: done }\n",
    );
    assert_eq!(r.stream.map(|s| s.value), Some(StreamMode::Events));
    assert_eq!(r.max_events.map(|m| m.value), Some(20));
    assert_eq!(
        r.check.events.map(|c| c.value),
        Some(EventCount {
            min: Some(1),
            max: None
        })
    );
    assert_eq!(r.check.event.len(), 1);
    assert_eq!(r.check.event[0].name.value, "done");
    assert_eq!(r.check.event[0].json.len(), 1);
    assert_eq!(r.check.event[0].data_contains[0].value, "fin");
    let sources: Vec<_> = r
        .save
        .iter()
        .map(|s| {
            (
                s.var.value.as_str(),
                s.event.as_ref().map(|e| e.value.as_str()),
                s.source.value.clone(),
            )
        })
        .collect();
    assert_eq!(
        sources,
        vec![
            ("n", None, SaveSource::Events),
            ("id", Some("start"), SaveSource::JsonPath("$.id".into())),
            ("all", Some("done"), SaveSource::Data),
        ]
    );
    let r = step("tasks:\n  t:\n    - get: /c\n      stream: chunks\n      check: { events: 4 }\n");
    assert_eq!(r.stream.map(|s| s.value), Some(StreamMode::Chunks));
    assert_eq!(
        r.check.events.map(|c| c.value),
        Some(EventCount {
            min: Some(4),
            max: Some(4)
        })
    );
}

#[test]
fn an_unknown_stream_mode_gets_a_suggestion() {
    let e = error(
        "tasks:\n  t:\n    - get: /chat\n      stream: event\n",
        "unknown `stream` value `event`",
    );
    assert_eq!((e.line, e.col), (4, 15));
    assert_eq!(e.help.as_deref(), Some("did you mean `events`?"));
    let e = error(
        "tasks:\n  t:\n    - get: /chat\n      stream: websocket\n",
        "unknown `stream` value",
    );
    assert!(e.help.unwrap().contains("`chunks` for any streamed body"));
}

#[test]
fn stream_keys_on_a_step_that_does_not_stream_say_to_add_stream() {
    let e = error(
        "tasks:\n  t:\n    - get: /chat\n      max_events: 5\n",
        "`max_events` ends a streamed answer",
    );
    assert_eq!((e.line, e.col), (4, 19));
    assert!(e.help.unwrap().contains("add `stream: events`"));

    let e = error(
        "tasks:\n  t:\n    - get: /chat\n      check:\n        events: 3\n",
        "the `events` check counts a stream's events",
    );
    assert_eq!((e.line, e.col), (5, 17));

    let e = error(
        "tasks:\n  t:\n    - get: /chat\n      save:\n        n: { events: true }\n",
        "`events: true` saves how many events",
    );
    assert_eq!((e.line, e.col), (5, 22));

    let e = error(
        "tasks:\n  t:\n    - get: /chat\n      save:\n        id: { event: start, jsonpath: $.id }\n",
        "a save `event` reads a server-sent event, and this step does not stream",
    );
    assert_eq!((e.line, e.col), (5, 22));
    assert_eq!(e.help.as_deref(), Some("add `stream: events` to the step"));
}

#[test]
fn named_events_on_chunks_are_refused() {
    let e = error(
        "tasks:\n  t:\n    - get: /c\n      stream: chunks\n      check:\n        event:\n          done: { json: { '$.ok': true } }\n",
        "chunks have no names",
    );
    assert_eq!((e.line, e.col), (7, 11));
    assert!(e.help.unwrap().contains("stream: events"));
}

#[test]
fn event_checks_and_saves_are_checked_for_shape() {
    let e = error(
        "tasks:\n  t:\n    - get: /c\n      stream: events\n      check:\n        events: { min: 5, max: 2 }\n",
        "at least 5 and at most 2",
    );
    assert_eq!((e.line, e.col), (6, 17));

    let e = error(
        "tasks:\n  t:\n    - get: /c\n      stream: events\n      check:\n        event:\n          done: { jsn: { '$.ok': true } }\n",
        "unknown key `jsn`",
    );
    assert_eq!((e.line, e.col), (7, 19));
    assert_eq!(e.help.as_deref(), Some("did you mean `json`?"));

    let e = error(
        "tasks:\n  t:\n    - get: /c\n      stream: events\n      save:\n        h: { event: done, header: x }\n",
        "has no headers, status or count",
    );
    assert_eq!((e.line, e.col), (6, 35));

    let e = error(
        "tasks:\n  t:\n    - get: /c\n      stream: events\n      max_events: 0\n",
        "a number of events (1 or more)",
    );
    assert_eq!((e.line, e.col), (5, 19));
}
