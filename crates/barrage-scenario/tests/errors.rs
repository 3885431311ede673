//! Every kind of mistake gets a located error that says what was expected, what was
//! found, and how to fix it.

mod common;

use barrage_scenario::{parse, parse_file, render, LoadError, Severity};
use common::{error, errors, ok, source};

/// A minimal valid scenario body to append to.
const TASK: &str = "tasks: { t: [ { get: / } ] }\n";

#[test]
fn yaml_syntax_errors_are_located() {
    let e = error("a:\n  b: 1\n c: 2\n", "invalid YAML");
    assert_eq!((e.line, e.col), (3, 2));
    assert!(e.help.unwrap().contains("indentation"));

    let e = error("users:\n\t- x\n", "invalid YAML");
    assert_eq!(e.line, 2);
    assert!(e.help.unwrap().contains("tabs"));
}

#[test]
fn duplicate_keys_are_errors() {
    let text = format!("{TASK}load:\n  users: 1\n  users: 2\n");
    let e = error(&text, "duplicate key `users`");
    assert_eq!((e.line, e.col), (4, 3));
    assert!(e.help.unwrap().contains("line 3"));
}

#[test]
fn misspelled_keys_get_a_suggestion() {
    let text = "tasks:\n  t:\n    - get: /\n      tiemout: 5s\n";
    let e = error(text, "unknown key `tiemout`");
    assert_eq!(e.message, "unknown key `tiemout` in a request step");
    assert_eq!((e.line, e.col), (4, 7));
    assert_eq!(e.help.as_deref(), Some("did you mean `timeout`?"));

    let text = "users:\n  u:\n    wieght: 2\n    tasks: { t: [ { get: / } ] }\n";
    let e = error(text, "unknown key `wieght`");
    assert_eq!(e.message, "unknown key `wieght` in a user type");
    assert_eq!((e.line, e.col), (3, 5));
    assert_eq!(e.help.as_deref(), Some("did you mean `weight`?"));

    let text = "tasks:\n  t:\n    wieght: 2\n    stpes:\n      - get: /\n";
    let diags = errors(text);
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "unknown key `wieght` in a task",
            "unknown key `stpes` in a task"
        ],
        "the misspelt `stpes` is not also reported as missing `steps`"
    );
    assert_eq!(diags[1].help.as_deref(), Some("did you mean `steps`?"));
    assert_eq!(
        barrage_scenario::line_col(text, diags[1].span.start),
        (4, 5)
    );
}

#[test]
fn unknown_keys_far_from_any_list_the_allowed_ones() {
    let e = error(
        &format!("{TASK}load: {{ banana: 1 }}\n"),
        "unknown key `banana`",
    );
    assert_eq!(e.message, "unknown key `banana` in `load`");
    assert_eq!((e.line, e.col), (2, 9));
    assert_eq!(
        e.help.as_deref(),
        Some(
            "expected one of `users`, `spawn_rate`, `duration`, `iterations`, `stop_timeout`, \
             `rate`, `stages`, `max_users`, `pre_allocated_users`, `on_max_users` or `arrivals`"
        )
    );
    let e = error(&format!("{TASK}colour: red\n"), "unknown key `colour`");
    assert_eq!(e.message, "unknown key `colour` at the top level");
}

#[test]
fn x_keys_at_the_top_level_are_free() {
    ok(&format!("x-anchors: {{ a: 1 }}\n{TASK}"));
}

#[test]
fn unquoted_templates_say_to_quote() {
    let text = "tasks:\n  t:\n    - get: /items\n      name: {{ x }}\n";
    let e = error(text, "template");
    assert_eq!(e.message, "this looks like a template: quote it");
    assert_eq!((e.line, e.col), (4, 13));
    assert_eq!(e.snippet, "{{ x }}");
    assert!(e.help.unwrap().contains("\"{{ x }}\""));

    let text = "tasks:\n  t:\n    - post: /items\n      json: { price: {{ x }} }\n";
    let e = error(text, "template");
    assert_eq!((e.line, e.col), (4, 22));
    assert!(e.help.unwrap().contains("\"{{ x }}\""));

    let text = "tasks:\n  t:\n    - get: {{ id }}\n";
    let e = error(text, "template");
    assert_eq!((e.line, e.col), (3, 12));

    // A template that starts a value and goes on is a YAML error; the help still says why.
    let text = "tasks:\n  t:\n    - get: {{ base }}/items\n";
    let e = error(text, "invalid YAML");
    assert_eq!(e.line, 3);
    assert_eq!(
        e.help.as_deref(),
        Some("templates must be quoted in YAML: write \"{{ base }}/items\"")
    );

    // Templates inside a plain path are fine.
    ok("tasks:\n  t:\n    - get: /items/{{ id }}\n");
}

#[test]
fn a_bare_number_duration_suggests_a_unit() {
    let e = error(&format!("{TASK}defaults: {{ timeout: 10 }}\n"), "duration");
    assert_eq!(
        e.message,
        "expected a duration like `10s`, found a number without a unit"
    );
    assert_eq!((e.line, e.col), (2, 22));
    assert!(e.help.unwrap().starts_with("add a unit: `10s`"));

    let e = error(&format!("{TASK}load: {{ duration: 1.5 }}\n"), "duration");
    assert!(e.help.unwrap().starts_with("add a unit: `1.5s`"));

    let e = error(&format!("{TASK}load: {{ duration: '90' }}\n"), "duration");
    assert!(e.help.unwrap().starts_with("add a unit: `90s`"));
}

#[test]
fn body_sizes_need_a_unit_and_are_located() {
    let e = error(
        &format!("{TASK}defaults: {{ max_body_size: 16 }}\n"),
        "size",
    );
    assert_eq!(
        e.message,
        "expected a size like `16MiB`, found a number without a unit"
    );
    assert_eq!((e.line, e.col), (2, 28));
    assert!(e.help.unwrap().starts_with("add a unit: `16MiB`"));

    let e = error(
        "tasks: { t: [ { get: /, max_body_size: 16mib } ] }\n",
        "size",
    );
    assert_eq!(e.message, "invalid size: unknown unit `mib` in `16mib`");
    assert_eq!((e.line, e.col), (1, 40));
    assert!(e.help.unwrap().starts_with("write `MiB`"));

    let e = error(
        &format!("{TASK}defaults: {{ max_body_size: 0B }}\n"),
        "size",
    );
    assert_eq!(e.message, "invalid size: a size of zero keeps nothing");

    let (s, _) = parse(&source(
        "defaults: { max_body_size: 1GiB }\ntasks: { t: [ { get: /, max_body_size: 512 KiB } ] }\n",
    ))
    .unwrap();
    assert_eq!(s.defaults.max_body_size.unwrap().value, 1 << 30);
    let step = match &s.users[0].tasks[0].steps[0] {
        barrage_scenario::Step::Request(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(step.max_body_size.as_ref().unwrap().value, 512 << 10);
}

#[test]
fn invalid_durations_are_errors() {
    let e = error(&format!("{TASK}load: {{ duration: -5s }}\n"), "negative");
    assert_eq!(e.message, "invalid duration: a duration cannot be negative");
    assert_eq!((e.line, e.col), (2, 19));

    let e = error(
        &format!("{TASK}load: {{ duration: 5 minutes }}\n"),
        "duration",
    );
    assert_eq!(e.message, "invalid duration: `5 minutes` is not a duration");

    let e = error(&format!("{TASK}load: {{ duration: 10sec }}\n"), "duration");
    assert_eq!(e.message, "invalid duration: unknown unit `sec` in `10sec`");
    assert_eq!(e.help.as_deref(), Some("write seconds as `s`, like `10s`"));
}

#[test]
fn zero_lengths_and_timeouts_are_errors_with_a_suggestion() {
    let e = error(&format!("{TASK}load: {{ duration: 0s }}\n"), "zero");
    assert_eq!(e.message, "a duration of zero is not allowed here");
    assert_eq!((e.line, e.col), (2, 19));
    assert!(e.help.unwrap().contains("like `30s`"));

    for key in ["timeout", "connect_timeout"] {
        let e = error(&format!("{TASK}defaults: {{ {key}: 0ms }}\n"), "zero");
        assert_eq!(e.message, "a duration of zero is not allowed here");
        assert!(e
            .help
            .unwrap()
            .starts_with("a timeout of zero fails every request"));
    }
    let text = "tasks:\n  t:\n    - get: /\n      timeout: 0s\n";
    let e = error(text, "zero");
    assert_eq!((e.line, e.col), (4, 16));

    let e = error(&format!("{TASK}think: {{ pacing: 0s }}\n"), "zero");
    assert!(e.help.unwrap().contains("`think: none`"));

    // Zero stays right where it means something: an immediate stop, a stage that jumps.
    ok(&format!(
        "{TASK}load: {{ users: 2, duration: 5s, stop_timeout: 0s }}\n"
    ));
}

#[test]
fn type_errors_say_what_was_expected_and_found() {
    let e = error(&format!("{TASK}load: {{ duration: [1s] }}\n"), "expected");
    assert_eq!(e.message, "expected a duration like `10s`, found a list");
    assert_eq!((e.line, e.col), (2, 19));

    let e = error(&format!("{TASK}defaults: {{ cookies: yes }}\n"), "expected");
    assert_eq!(e.message, "expected `true` or `false`, found `yes`");
    assert!(e.help.unwrap().contains("write `true`"));

    let e = error(&format!("{TASK}load: {{ users: \"10\" }}\n"), "expected");
    assert_eq!(
        e.message,
        "expected a whole number of at least 1, found the string \"10\""
    );
    assert_eq!(e.help.as_deref(), Some("remove the quotes: `10`"));

    let e = error(&format!("{TASK}load: {{ users: 0 }}\n"), "expected");
    assert_eq!(
        e.message,
        "expected a whole number of at least 1, found the number `0`"
    );

    let e = error(&format!("{TASK}load: {{ spawn_rate: 0 }}\n"), "expected");
    assert_eq!(
        e.message,
        "expected a number of users per second above 0, found the number `0`"
    );

    let e = error(&format!("{TASK}defaults: {{ headers: [a] }}\n"), "expected");
    assert_eq!(
        e.message,
        "expected a mapping of header names to values, found a list"
    );

    let e = error("tasks:\n  t:\n    - get: 42\n", "expected");
    assert_eq!(
        e.message,
        "expected a path like `/items` or a URL, found the number `42`"
    );
    assert_eq!(e.help.as_deref(), Some("quote it: \"42\""));
}

#[test]
fn think_times() {
    let e = error(&format!("{TASK}defaults: {{ think: 2 }}\n"), "think");
    assert!(
        e.message.ends_with("found a number without a unit"),
        "{}",
        e.message
    );
    assert_eq!(e.help.as_deref(), Some("add a unit: `2s`"));

    let e = error(&format!("{TASK}defaults: {{ think: 0.5..2.5 }}\n"), "think");
    assert_eq!(e.message, "invalid think range `0.5..2.5`");
    assert_eq!(e.help.as_deref(), Some("add units: `0.5s..2.5s`"));

    let e = error(&format!("{TASK}defaults: {{ think: 3s..1s }}\n"), "think");
    assert_eq!(
        e.message,
        "the think range starts above where it ends (`3s` > `1s`)"
    );
    assert_eq!((e.line, e.col), (2, 20));
    assert_eq!(
        e.help.as_deref(),
        Some("write the shorter time first: `1s..3s`")
    );

    let e = error(
        &format!("{TASK}defaults: {{ think: {{ pacng: 1s }} }}\n"),
        "pacng",
    );
    assert_eq!(e.message, "unknown key `pacng` in a think time");
    assert_eq!(e.help.as_deref(), Some("did you mean `pacing`?"));
}

#[test]
fn steps_need_exactly_one_method() {
    let text = "tasks:\n  t:\n    - get: /a\n      post: /b\n";
    let e = error(text, "method");
    assert_eq!(
        e.message,
        "a step has one method, and this one has `get` and `post`"
    );
    assert_eq!((e.line, e.col), (4, 7));

    let text = "tasks:\n  t:\n    - name: x\n      timeout: 1s\n";
    let e = error(text, "method");
    assert_eq!(e.message, "this step has no method");
    assert_eq!((e.line, e.col), (3, 7));
    let help = e.help.unwrap();
    assert!(
        help.contains("`get`, `post`, `put`, `patch`, `delete`, `head` or `options`"),
        "{help}"
    );

    let text = "tasks:\n  t:\n    - GET: /a\n";
    let diags = errors(text);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].message, "unknown key `GET` in a request step");
    assert_eq!(diags[0].help.as_deref(), Some("did you mean `get`?"));

    let text = "tasks:\n  t:\n    - get: /a\n      think: 1s\n";
    let e = error(text, "think");
    assert_eq!(e.message, "a step is either a request or a think, not both");
    assert_eq!((e.line, e.col), (4, 7));

    let text = "tasks:\n  t:\n    - /items\n";
    let e = error(text, "step");
    assert_eq!(
        e.message,
        "expected a step like `get: /items` or `think: 1s`, found `/items`"
    );
    assert_eq!(
        e.help.as_deref(),
        Some("a step is a mapping: write `- get: /items`")
    );

    let text = "tasks:\n  t:\n    - think: 1s\n      name: pause\n";
    let e = error(text, "name");
    assert_eq!(e.message, "unknown key `name` in a think step");
}

#[test]
fn a_request_has_one_body() {
    let text = "tasks:\n  t:\n    - post: /\n      json: { a: 1 }\n      form: { a: 1 }\n";
    let e = error(text, "body");
    assert_eq!(
        e.message,
        "a request has one body, and `json` is already given"
    );
    assert_eq!((e.line, e.col), (5, 7));
}

#[test]
fn a_get_with_a_body_is_a_warning() {
    let text = "tasks:\n  t:\n    - get: /\n      json: { a: 1 }\n";
    let (_, warnings) = parse(&source(text)).unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].severity, Severity::Warning);
    assert_eq!(warnings[0].message, "a GET request with a body");
}

#[test]
fn save_structure() {
    let step = |save: &str| format!("tasks:\n  t:\n    - get: /\n      save: {save}\n");

    let e = error(&step("{ id: id }"), "JSONPath");
    assert_eq!(e.message, "`id` is not a JSONPath");
    assert_eq!((e.line, e.col), (4, 19));
    assert!(e.help.unwrap().contains("`$.id`"));

    let e = error(&step("{ v: { header: a, status: true } }"), "save");
    assert!(
        e.message.contains("and this one has `header` and `status`"),
        "{}",
        e.message
    );

    let e = error(&step("{ v: { default: 1 } }"), "comes from");
    assert_eq!(
        e.message,
        "`save` of `v` does not say where the value comes from"
    );

    let e = error(&step("{ v: { header: a, group: 2 } }"), "group");
    assert_eq!(e.message, "`group` only applies to `regex`");

    let e = error(&step("{ v: { status: false } }"), "status");
    assert_eq!(e.message, "`status: false` saves nothing");

    let e = error(&step("{ my-var: $.id }"), "variable");
    assert_eq!(e.message, "`my-var` cannot be used as a variable name");
    assert!(e.help.unwrap().contains("`my_var`"));

    // Regex and JSONPath syntax is the engine's to judge.
    let scenario = ok(&step("{ a: '$[?(', b: { regex: '(' } }"));
    let barrage_scenario::Step::Request(r) = &scenario.users[0].tasks[0].steps[0] else {
        panic!()
    };
    assert_eq!(r.save.len(), 2);
}

#[test]
fn check_structure() {
    let step = |check: &str| format!("tasks:\n  t:\n    - get: /\n      check: {check}\n");

    let e = error(&step("{ status: 999 }"), "status");
    assert_eq!(
        e.message,
        "expected a status code like `201` or a class like `2xx`, found the number `999`"
    );
    assert_eq!((e.line, e.col), (4, 24));

    let e = error(&step("{ status: [200, 6xx] }"), "status");
    assert_eq!((e.line, e.col), (4, 30));

    let e = error(&step("{ json: { id: exists } }"), "JSONPath");
    assert_eq!(e.message, "`id` is not a JSONPath");

    let e = error(&step("{ max_latency: 500 }"), "duration");
    assert!(e.help.unwrap().contains("`500s`"));

    let e = error(&step("{ stauts: 200 }"), "stauts");
    assert_eq!(e.help.as_deref(), Some("did you mean `status`?"));
}

#[test]
fn users_tasks_and_weights() {
    let e = error("users: {}\n", "user types");
    assert_eq!(e.message, "`users` has no user types");
    assert_eq!((e.line, e.col), (1, 1));

    let e = error("users:\n  idle:\n    weight: 2\n", "tasks");
    assert_eq!(e.message, "user type `idle` has no `tasks`");
    assert_eq!((e.line, e.col), (2, 3));

    let e = error("users:\n  u:\n    tasks: {}\n", "empty");
    assert_eq!(e.message, "`tasks` is empty");
    assert_eq!((e.line, e.col), (3, 5));

    let e = error("tasks:\n  t:\n    weight: 2\n", "steps");
    assert_eq!(e.message, "task `t` has no `steps`");
    assert_eq!((e.line, e.col), (2, 3));

    let e = error("tasks:\n  t: []\n", "step");
    assert_eq!(e.message, "a task needs at least one step");
    assert_eq!((e.line, e.col), (2, 6));

    let e = error(
        "users:\n  u:\n    weight: 0\n    tasks: { t: [ { get: / } ] }\n",
        "number",
    );
    assert_eq!(
        e.message,
        "expected a whole number of at least 1, found the number `0`"
    );
    assert_eq!((e.line, e.col), (3, 13));

    let e = error(
        "tasks:\n  t: { weight: 0, steps: [ { get: / } ] }\n",
        "number",
    );
    assert_eq!((e.line, e.col), (2, 16));

    let e = error("users: 500\n", "user types");
    assert_eq!(
        e.help.as_deref(),
        Some("the number of users goes in `load: { users: 500 }`")
    );

    let e = error("tasks:\n  - get: /\n", "task");
    assert!(e.help.unwrap().contains("tasks have names"));
}

#[test]
fn the_scenario_needs_users() {
    let e = error("target: http://localhost\n", "users");
    assert_eq!(e.message, "the scenario has no `users`");
    assert_eq!((e.line, e.col), (1, 1));

    let e = error("", "empty");
    assert_eq!(e.message, "the scenario file is empty");

    let e = error("- get: /\n", "expected");
    assert!(e.message.ends_with("found a list"), "{}", e.message);
}

#[test]
fn the_shorthand_does_not_mix_with_users() {
    let text = format!("users:\n  u:\n    {TASK}{TASK}");
    let e = error(&text, "shorthand");
    assert_eq!(
        e.message,
        "top-level `tasks` is the shorthand for a single user type and cannot be used with `users`"
    );
    assert_eq!((e.line, e.col), (4, 1));

    let e = error(
        "think: 1s\nusers:\n  u:\n    tasks: { t: [ { get: / } ] }\n",
        "shorthand",
    );
    assert!(e.help.unwrap().contains("defaults: { think"));

    let e = error("setup: [ { get: / } ]\n", "without `tasks`");
    assert_eq!(e.message, "top-level `setup` without `tasks`");
}

#[test]
fn data_sources() {
    let e = error(
        &format!("{TASK}data: {{ rows: {{ file: a.csv, order: sequentially }} }}\n"),
        "order",
    );
    assert_eq!(e.message, "unknown data order `sequentially`");
    assert_eq!(e.help.as_deref(), Some("did you mean `sequential`?"));
    assert_eq!((e.line, e.col), (2, 37));

    let e = error(
        &format!("{TASK}data: {{ rows: {{ order: random }} }}\n"),
        "file",
    );
    assert_eq!(e.message, "data source `rows` has no `file`");

    let e = error(&format!("{TASK}data: {{ my rows: a.csv }}\n"), "data name");
    assert_eq!(e.message, "`my rows` cannot be used as a data name");
}

#[test]
fn target_and_thresholds() {
    let e = error(&format!("target: localhost:8000\n{TASK}"), "URL");
    assert_eq!(
        e.message,
        "`localhost:8000` is not an http:// or https:// URL"
    );
    assert_eq!(
        e.help.as_deref(),
        Some("write the whole base URL, like `http://localhost:8000`")
    );

    let e = error(&format!("{TASK}thresholds: p95 < 200ms\n"), "thresholds");
    assert_eq!(
        e.message,
        "expected a list of thresholds, found `p95 < 200ms`"
    );
    assert_eq!(
        e.help.as_deref(),
        Some("write it as a list item: `- p95 < 200ms`")
    );

    let e = error(
        &format!("{TASK}thresholds:\n  - {{ treshold: p95 < 1s }}\n"),
        "treshold",
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `threshold`?"));

    let e = error(
        &format!("{TASK}thresholds:\n  - {{ threshold: p95 < 1s, abort_on_fail: yes }}\n"),
        "expected `true` or `false`",
    );
    assert_eq!((e.line, e.col), (3, 43));
    assert_eq!(
        e.help.as_deref(),
        Some("YAML 1.2 booleans are `true` and `false`: write `true`")
    );
    let e = error(
        &format!(
            "{TASK}thresholds:\n  - {{ threshold: p95 < 1s, abort_on_fail: true, delay: 30 }}\n"
        ),
        "unit",
    );
    assert_eq!(
        e.help.as_deref(),
        Some("add a unit: `30s` (units: `h`, `m`, `s`, `ms`, `us` and `ns`)")
    );
}

#[test]
fn a_threshold_delay_without_abort_is_a_warning() {
    let text = format!("{TASK}thresholds:\n  - {{ threshold: p95 < 1s, delay: 5s }}\n");
    let (scenario, warnings) = parse(&source(&text)).expect("a warning is not an error");
    assert_eq!(scenario.thresholds.len(), 1);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].severity, Severity::Warning);
    assert_eq!(
        warnings[0].message,
        "`delay` does nothing without `abort_on_fail: true`"
    );
}

#[test]
fn headers_are_checked() {
    let e = error(
        &format!("{TASK}defaults: {{ headers: {{ 'x y': 1 }} }}\n"),
        "header name",
    );
    assert_eq!(e.message, "`x y` is not a valid header name");
    let e = error(
        &format!("{TASK}defaults:\n  headers:\n    x-empty:\n"),
        "header value",
    );
    assert_eq!(e.message, "expected a header value, found nothing");
    assert_eq!(e.help.as_deref(), Some("write \"\" for an empty value"));
}

#[test]
fn errors_are_collected_across_the_file() {
    let text = "\
target: localhost
defaults: { timeout: 10, cookies: maybe }
users:
  a:
    wieght: 2
    tasks: { t: [ { get: / , tiemout: 1s } ] }
  b:
    tasks: {}
load: { users: 0, duration: 5 }
";
    let diags = errors(text);
    let lines: Vec<usize> = diags
        .iter()
        .map(|d| barrage_scenario::line_col(text, d.span.start).0)
        .collect();
    assert_eq!(lines, [1, 2, 2, 5, 6, 8, 9, 9], "{diags:#?}");
}

#[test]
fn render_names_file_line_and_column() {
    let file = source("tasks:\n  t:\n    - get: /\n      tiemout: 5s\n");
    let diags = parse(&file).unwrap_err();
    let out = render(&file, &diags, false);
    assert!(
        out.contains("error: unknown key `tiemout` in a request step"),
        "{out}"
    );
    assert!(out.contains("scenario.yaml:4:7"), "{out}");
    assert!(out.contains("tiemout: 5s"), "{out}");
    assert!(out.contains("^^^^^^^"), "{out}");
    assert!(out.contains("help: did you mean `timeout`?"), "{out}");
}

#[test]
fn parse_file_reads_and_reports() {
    let dir = std::env::temp_dir().join(format!("barrage-scenario-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let good = dir.join("good.yaml");
    std::fs::write(&good, TASK).unwrap();
    let (file, scenario, warnings) = parse_file(&good).unwrap();
    assert_eq!(file.name, good.display().to_string());
    assert_eq!(scenario.users.len(), 1);
    assert!(warnings.is_empty());

    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "users: {}\n").unwrap();
    match parse_file(&bad) {
        Err(LoadError::Invalid { file, diagnostics }) => {
            assert_eq!(file.text, "users: {}\n");
            assert_eq!(diagnostics.len(), 1);
        }
        other => panic!("{other:?}"),
    }

    let binary = dir.join("binary.yaml");
    std::fs::write(&binary, b"target: \xff\n").unwrap();
    match parse_file(&binary) {
        Err(LoadError::Invalid { diagnostics, .. }) => {
            assert_eq!(diagnostics[0].message, "the file is not UTF-8 text");
            assert_eq!(diagnostics[0].span.start, 8);
        }
        other => panic!("{other:?}"),
    }

    match parse_file(&dir.join("missing.yaml")) {
        Err(err @ LoadError::Io { .. }) => assert!(err.to_string().contains("missing.yaml")),
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn options_without_a_method_are_not_mistaken_for_a_misspelt_method() {
    // `headers` is close to `head`, but it is a known option: the method is missing.
    let e = error("tasks:\n  t:\n    - headers: { a: b }\n", "method");
    assert_eq!(e.message, "this step has no method");
}

#[test]
fn a_mistake_reached_through_two_aliases_is_reported_once() {
    let text = "x-step: &s { get: /, tiemout: 1s }\ntasks: { a: [*s], b: [*s] }\n";
    let diags = errors(text);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(
        barrage_scenario::line_col(text, diags[0].span.start),
        (1, 22)
    );
}

#[test]
fn redact_lists_are_read_and_their_mistakes_located() {
    let text = format!("{TASK}redact:\n  headers: [x-session, 'X-*-Id']\n  fields: ssn\n");
    let s = ok(&text);
    let headers: Vec<&str> = s.redact.headers.iter().map(|h| h.value.as_str()).collect();
    assert_eq!(headers, ["x-session", "X-*-Id"]);
    assert_eq!(s.redact.fields.len(), 1);
    assert_eq!(s.redact.fields[0].value, "ssn");

    let text = format!("{TASK}redact:\n  headers: ['authorization: Bearer']\n");
    let e = error(&text, "is not a header name");
    assert_eq!(
        e.message,
        "`authorization: Bearer` is not a header name (`:` may not appear in one)"
    );
    assert_eq!((e.line, e.col), (3, 13));
    assert!(e.help.unwrap().contains("like `authorization`"));

    let text = format!("{TASK}redact:\n  feilds: [ssn]\n");
    let e = error(&text, "unknown key `feilds`");
    assert_eq!(e.message, "unknown key `feilds` in `redact`");
    assert_eq!((e.line, e.col), (3, 3));
    assert_eq!(e.help.as_deref(), Some("did you mean `fields`?"));

    let text = format!("{TASK}redact: [authorization]\n");
    let e = error(&text, "expected a mapping");
    assert_eq!((e.line, e.col), (2, 9));
    assert!(e.help.unwrap().contains("redact: { headers:"));
}

#[test]
fn http2_settings_are_checked_where_they_are_written() {
    let text = format!("defaults:\n  http2: sometimes\n{TASK}");
    let e = error(&text, "expected `true` or `false`, found `sometimes`");
    assert_eq!((e.line, e.col), (2, 10), "{e:?}");

    let text = format!("defaults:\n  max_streams: 0\n{TASK}");
    let e = error(&text, "at least 1");
    assert_eq!((e.line, e.col), (2, 16), "{e:?}");

    let text = format!("defaults:\n  http_2: true\n{TASK}");
    let e = error(&text, "unknown key `http_2`");
    assert_eq!(e.help.as_deref(), Some("did you mean `http2`?"));

    let text = format!("defaults:\n  http2: true\n  max_streams: 100\n{TASK}");
    let d = ok(&text).defaults;
    assert_eq!(d.http2.map(|h| h.value), Some(true));
    assert_eq!(d.max_streams.map(|m| m.value), Some(100));

    // A cap on HTTP/2 streams with HTTP/2 turned off is a mistake worth a word.
    let text = format!("defaults:\n  http2: false\n  max_streams: 100\n{TASK}");
    let (_, warnings) = parse(&source(&text)).unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].severity, Severity::Warning);
    assert_eq!(
        warnings[0].message,
        "`max_streams` has no effect with `http2: false`"
    );
}
