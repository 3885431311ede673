//! WebSocket steps: what a valid one decodes to, and a located error with its fix for
//! each new key written wrong.

mod common;

use std::time::Duration;

use barrage_scenario::{OnFailure, SaveSource, Step, Think, WsMessage, WsSend};
use common::{error, ok};

const CHAT: &str = "\
target: http://127.0.0.1:8000
tasks:
  chat:
    - ws: /ws/chat?user={{ user_id }}
      name: chat
      keep: true
      timeout: 2s
      on_failure: stop_iteration
      headers: { x-room: lobby }
      messages:
        - send: hello {{ user_id }}
        - receive:
            timeout: 500ms
            until: { json: { '$.type': reply } }
            check: { body_contains: hello, max_latency: 1s }
            save: { n: $.n }
        - think: 1s
        - send: { json: { n: '{{ n }}' } }
        - receive:
";

#[test]
fn a_websocket_step_decodes_with_its_messages_in_order() {
    let scenario = ok(CHAT);
    let Step::Ws(w) = &scenario.users[0].tasks[0].steps[0] else {
        panic!("not a WebSocket step");
    };
    assert_eq!(w.url.value, "/ws/chat?user={{ user_id }}");
    assert_eq!(w.name.as_ref().unwrap().value, "chat");
    assert_eq!(w.keep.as_ref().map(|k| k.value), Some(true));
    assert_eq!(w.timeout.as_ref().unwrap().value, Duration::from_secs(2));
    assert_eq!(w.on_failure.value, OnFailure::StopIteration);
    assert_eq!(w.headers[0].0.value, "x-room");
    assert_eq!(w.messages.len(), 5);
    assert!(
        matches!(&w.messages[0], WsMessage::Send(WsSend::Text(t)) if t.value == "hello {{ user_id }}")
    );
    let WsMessage::Receive(r) = &w.messages[1] else {
        panic!("not a receive");
    };
    assert_eq!(
        r.timeout.as_ref().unwrap().value,
        Duration::from_millis(500)
    );
    assert_eq!(r.until.as_ref().unwrap().json.len(), 1);
    assert_eq!(r.check.body_contains[0].value, "hello");
    assert_eq!(
        r.check.max_latency.as_ref().unwrap().value,
        Duration::from_secs(1)
    );
    assert_eq!(r.save[0].source.value, SaveSource::JsonPath("$.n".into()));
    assert!(
        matches!(&w.messages[2], WsMessage::Think(t) if t.value == Think::Constant(Duration::from_secs(1)))
    );
    assert!(matches!(&w.messages[3], WsMessage::Send(WsSend::Json(_))));
    // `- receive:` with nothing waits for any message.
    let WsMessage::Receive(last) = &w.messages[4] else {
        panic!("not a receive");
    };
    assert!(last.until.is_none() && last.save.is_empty() && last.timeout.is_none());
}

/// The step with `messages` replaced by `messages` (indented under the step).
fn step(extra: &str) -> String {
    format!("target: http://127.0.0.1:8000\ntasks:\n  t:\n    - ws: /ws\n{extra}")
}

#[test]
fn misspelled_step_and_message_keys_get_a_suggestion() {
    let e = error(
        &step("      mesages:\n        - send: x\n"),
        "unknown key `mesages`",
    );
    assert_eq!(e.message, "unknown key `mesages` in a WebSocket step");
    assert_eq!((e.line, e.col), (5, 7));
    assert_eq!(e.help.as_deref(), Some("did you mean `messages`?"));

    let e = error(
        &step("      messages:\n        - recieve: {}\n"),
        "unknown key `recieve`",
    );
    assert_eq!((e.line, e.col), (6, 11));
    assert_eq!(e.help.as_deref(), Some("did you mean `receive`?"));

    let e = error(
        &step("      messages:\n        - receive: { timout: 1s }\n"),
        "unknown key `timout`",
    );
    assert_eq!(e.message, "unknown key `timout` in `receive`");
    assert_eq!(e.help.as_deref(), Some("did you mean `timeout`?"));

    let e = error(
        &step("      messages:\n        - send: { jsn: { a: 1 } }\n"),
        "unknown key `jsn`",
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `json`?"));
}

#[test]
fn a_step_without_messages_or_with_empty_ones_says_what_to_write() {
    let e = error(&step(""), "needs `messages:`");
    assert_eq!((e.line, e.col), (4, 7));
    assert_eq!(e.snippet, "ws");

    let e = error(&step("      messages: []\n"), "at least one message");
    assert!(e.help.unwrap().contains("- send: hello"));

    let e = error(
        &step("      messages:\n        - send: x\n          receive: {}\n"),
        "this one has `send` and `receive`",
    );
    assert_eq!((e.line, e.col), (7, 11));
    assert!(e.help.unwrap().contains("two list items"));
}

#[test]
fn what_a_message_cannot_have_is_rejected_at_its_key() {
    let e = error(
        &step("      messages:\n        - receive: { check: { status: 200 } }\n"),
        "no `status` to check",
    );
    assert_eq!(e.snippet, "status");
    assert_eq!(
        e.help.as_deref(),
        Some("check the message with `json`, `body_contains` or `max_latency`")
    );

    let e = error(
        &step("      messages:\n        - receive: { until: { headers: { a: b } } }\n"),
        "no `headers` to check",
    );
    assert_eq!(e.snippet, "headers");

    let e = error(
        &step("      messages:\n        - receive: { save: { s: { status: true } } }\n"),
        "a WebSocket message has no status",
    );
    assert!(e.help.unwrap().contains("JSONPath"));
}

#[test]
fn a_websocket_step_is_not_also_a_request_or_a_think() {
    let e = error(
        "target: http://x\ntasks:\n  t:\n    - ws: /ws\n      get: /\n      messages: [ { send: x } ]\n",
        "either a request or a WebSocket",
    );
    assert_eq!((e.line, e.col), (5, 7));

    let e = error(
        "target: http://x\ntasks:\n  t:\n    - ws: /ws\n      think: 1s\n      messages: [ { send: x } ]\n",
        "no `think` of its own",
    );
    assert!(e.help.unwrap().contains("under `messages:`"));
}

#[test]
fn keep_and_timeout_are_typed() {
    let e = error(
        &step("      keep: yes please\n      messages: [ { send: x } ]\n"),
        "expected",
    );
    assert_eq!(e.line, 5);

    let e = error(
        &step("      timeout: 0s\n      messages: [ { send: x } ]\n"),
        "zero",
    );
    assert_eq!(e.line, 5);
}
