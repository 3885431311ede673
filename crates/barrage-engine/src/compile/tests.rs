//! Tests of compiling scenarios into plans.

use super::*;

#[test]
fn weighted_cycle_spreads_types_evenly() {
    assert_eq!(smooth_weighted_cycle(&[3, 1]), vec![0, 0, 1, 0]);
    let c = smooth_weighted_cycle(&[5, 2, 1]);
    assert_eq!(c.len(), 8);
    assert_eq!(c.iter().filter(|&&i| i == 0).count(), 5);
    assert_eq!(c.iter().filter(|&&i| i == 1).count(), 2);
    assert_eq!(c.iter().filter(|&&i| i == 2).count(), 1);
}

#[test]
fn sub_span_points_into_plain_and_quoted_scalars() {
    let text = "a: \"x {{ y }}\"\nb: x {{ y }}\n".to_string();
    let file = SourceFile {
        name: "t.yaml".into(),
        text,
    };
    // quoted: value starts one byte after the quote
    let s = sub_span(&file, Span::new(3, 14), "x {{ y }}", 5, 1);
    assert_eq!(&file.text[s.start..s.end], "y");
    let s = sub_span(&file, Span::new(18, 27), "x {{ y }}", 5, 1);
    assert_eq!(&file.text[s.start..s.end], "y");
}

fn compile_text(text: &str) -> Result<(Plan, Vec<Diagnostic>), Vec<Diagnostic>> {
    let file = SourceFile {
        name: "t.yaml".into(),
        text: text.into(),
    };
    let (scenario, _) = barrage_scenario::parse(&file).expect("the test scenario parses");
    compile(&scenario, &file, &CompileOptions::default())
}

#[test]
fn variables_are_checked_in_step_order() {
    // Saved by setup: fine everywhere. Saved by an earlier step: fine. Saved only by
    // another task: a warning. Saved nowhere: an error pointing at the name.
    let ok = "target: http://127.0.0.1:1\nusers:\n  u:\n    setup:\n      - post: /login\n        save:\n          token: '$.t'\n    tasks:\n      a:\n        - post: /x\n          headers:\n            authorization: \"Bearer {{ token }}\"\n          save:\n            id: '$.id'\n        - get: \"/x/{{ id }}\"\n      b:\n        - get: \"/y/{{ id }}\"\n";
    let (plan, warnings) = compile_text(ok).unwrap();
    assert_eq!(plan.var_names, ["token", "id"]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].message.contains("only by another task"));
    let bad = "target: http://127.0.0.1:1\nusers:\n  u:\n    tasks:\n      a:\n        - get: \"/x/{{ idd }}\"\n";
    let errors = compile_text(bad).err().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.contains("unknown variable `idd`"));
    assert_eq!(&bad[errors[0].span.start..errors[0].span.end], "idd");
}

#[test]
fn endpoints_are_named_by_name_or_unrendered_path_and_interned() {
    let text = "target: http://127.0.0.1:1/api/\nusers:\n  u:\n    tasks:\n      a:\n        - get: \"/items/{{ int(1, 5) }}\"\n        - get: \"/items/{{ int(1, 5) }}\"\n        - get: /other\n          name: named\n";
    let (plan, _) = compile_text(text).unwrap();
    let names: Vec<_> = plan
        .registry
        .endpoints
        .iter()
        .map(|e| format!("{} {}", e.method, e.name))
        .collect();
    assert_eq!(names, ["GET /items/{{ int(1, 5) }}", "GET named"]);
    assert_eq!(plan.base.as_ref().unwrap().path_prefix, "/api");
}

#[test]
fn a_path_without_a_target_is_an_error() {
    let errors = compile_text("users:\n  u:\n    tasks:\n      a:\n        - get: /x\n")
        .err()
        .unwrap();
    assert!(errors[0].message.contains("needs a target"), "{errors:?}");
}

#[test]
fn a_step_cannot_frame_its_own_body() {
    for header in ["content-length: '3'", "Transfer-Encoding: chunked"] {
        let text = format!(
            "target: http://127.0.0.1:1\nusers:\n  u:\n    tasks:\n      a:\n        - post: /x\n          headers:\n            {header}\n          body: abc\n"
        );
        let errors = compile_text(&text).err().unwrap();
        assert!(errors[0].message.contains("sets"), "{errors:?}");
        assert_eq!(errors[0].help.as_deref(), Some("remove this header"));
    }
}

#[test]
fn the_plan_redacts_the_scenarios_names_and_knows_what_setup_saves() {
    let (plan, _) = compile_text(
        "target: http://127.0.0.1:1\nredact: { headers: [x-session], fields: ssn }\n\
         users:\n  u:\n    setup:\n      - post: /login\n        save: { token: $.token, who: $.id }\n\
         \x20   tasks:\n      t:\n        - get: /a\n          save: { item: $.id }\n",
    )
    .expect("compiles");
    let rules = plan.redact.as_ref().expect("redaction is on by default");
    assert!(rules.secret_header("X-Session") && rules.secret_header("authorization"));
    assert!(rules.secret_field("ssn") && rules.secret_field("password"));
    let mut setup: Vec<&str> = plan
        .setup_slots
        .iter()
        .map(|&s| plan.var_names[s].as_str())
        .collect();
    setup.sort_unstable();
    assert_eq!(setup, ["token", "who"]);
}

#[test]
fn websocket_steps_compile_with_their_errors_located() {
    let errors = |text: &str| -> Vec<(String, String)> {
        let Err(diags) = compile_text(text) else {
            panic!("compiled: {text}");
        };
        diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                (
                    text[d.span.start..d.span.end].to_string(),
                    d.message.clone(),
                )
            })
            .collect()
    };
    let e = errors(
        "target: http://x\ntasks: { t: [ { ws: 'http://x/ws', messages: [ { send: a } ] } ] }\n",
    );
    assert_eq!(e[0].0, "'http://x/ws'");
    assert!(e[0].1.contains("needs a `ws://` or `wss://` one"), "{e:?}");
    let e = errors("tasks: { t: [ { ws: /ws, messages: [ { send: a } ] } ] }\n");
    assert!(e[0].1.contains("needs a target"), "{e:?}");
    // A send may use what an earlier receive of the step saved, not what a later one saves.
    let e = errors(
        "target: http://x\ntasks: { t: [ { ws: /ws, messages: [ { send: '{{ late }}' }, \
         { receive: { save: { late: $.a } } } ] } ] }\n",
    );
    assert_eq!(e[0].0, "late");
    assert!(e[0].1.contains("used before"), "{e:?}");

    let (plan, _) = compile_text(
        "target: https://x:8443\ntasks: { t: [ { ws: /ws, keep: true, messages: [ \
         { receive: { save: { a: $.a } } }, { send: '{{ a }}' } ] }, \
         { ws: 'wss://y/z', messages: [ { send: b } ] } ] }\n",
    )
    .expect("compiles");
    let steps = &plan.scenarios[0].users[0].tasks[0].steps;
    let (Step::Ws(first), Step::Ws(second)) = (&steps[0], &steps[1]) else {
        panic!("not WebSocket steps");
    };
    assert_eq!((first.keep, second.keep), (Some(1), None));
    assert_eq!(first.label, "WS /ws");
    assert_eq!(plan.registry.endpoints[first.endpoint.index()].method, "WS");
    assert_eq!(first.saved_slots(), vec![0]);
}
