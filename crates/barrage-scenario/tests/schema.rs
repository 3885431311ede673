//! The JSON Schema must describe the format the decoder reads: same keys, same verdict.

mod common;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use barrage_scenario::{json_schema, keys, parse, to_json, SourceFile};
use common::{crate_dir, valid_scenarios, yaml_files};
use proptest::prelude::*;
use serde_json::Value;

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| jsonschema::validator_for(&json_schema()).expect("the schema compiles"))
}

fn read(path: &std::path::Path) -> SourceFile {
    SourceFile {
        name: path.display().to_string(),
        text: std::fs::read_to_string(path).unwrap(),
    }
}

fn schema_errors(file: &SourceFile) -> Vec<String> {
    let json = to_json(file).unwrap_or_else(|d| panic!("{}: {d:?}", file.name));
    validator()
        .iter_errors(&json)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_schema_is_a_draft_2020_12_schema() {
    let schema = json_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("not a valid schema: {e}");
    }
}

/// The decoder's key lists and the schema's `properties` name exactly the same keys.
#[test]
fn the_schema_lists_exactly_the_decoder_keys() {
    let schema = json_schema();
    for (def, allowed) in keys::ALL {
        let object = if *def == "scenario" {
            &schema
        } else {
            &schema["$defs"][*def]
        };
        let properties: BTreeSet<&str> = object["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("$defs/{def} has no properties"))
            .keys()
            .map(String::as_str)
            .collect();
        let decoder: BTreeSet<&str> = allowed.iter().copied().collect();
        assert_eq!(properties, decoder, "keys of `{def}`");
        assert_eq!(
            object["additionalProperties"],
            Value::Bool(false),
            "`{def}` must reject unknown keys, as the decoder does"
        );
    }
}

/// No object in the schema escapes the check above.
#[test]
fn every_schema_object_with_properties_has_a_key_list() {
    let schema = json_schema();
    let named: BTreeSet<&str> = keys::ALL.iter().map(|(def, _)| *def).collect();
    for (def, body) in schema["$defs"].as_object().unwrap() {
        if body.get("properties").is_some() {
            assert!(
                named.contains(def.as_str()),
                "$defs/{def} is not in keys::ALL"
            );
        }
    }
}

/// Every property says what it is for, so editors can show it.
#[test]
fn every_property_has_a_description() {
    fn walk(path: &str, value: &Value) {
        let Some(object) = value.as_object() else {
            return;
        };
        if let Some(Value::Object(properties)) = object.get("properties") {
            for (name, property) in properties {
                assert!(
                    property
                        .get("description")
                        .and_then(Value::as_str)
                        .is_some_and(|d| !d.is_empty()),
                    "{path}/properties/{name} has no description"
                );
            }
        }
        for (key, child) in object {
            match child {
                Value::Object(_) => walk(&format!("{path}/{key}"), child),
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        walk(&format!("{path}/{key}/{i}"), item);
                    }
                }
                _ => {}
            }
        }
    }
    walk("#", &json_schema());
}

#[test]
fn valid_scenarios_validate_against_the_schema() {
    let files = valid_scenarios();
    assert!(files.len() >= 5, "fixtures and examples found: {files:?}");
    for path in files {
        let file = read(&path);
        if let Err(diags) = parse(&file) {
            panic!("{}", barrage_scenario::render(&file, &diags, false));
        }
        let errors = schema_errors(&file);
        assert!(errors.is_empty(), "{}: {errors:#?}", file.name);
    }
}

#[test]
fn invalid_scenarios_fail_the_decoder_and_the_schema() {
    let files = yaml_files(&crate_dir().join("tests/fixtures/invalid"));
    assert!(files.len() >= 10);
    for path in files {
        let file = read(&path);
        assert!(parse(&file).is_err(), "{} parses", file.name);
        assert!(
            !schema_errors(&file).is_empty(),
            "{} validates against the schema",
            file.name
        );
    }
}

#[test]
fn to_json_keeps_yaml_types() {
    let file = SourceFile {
        name: "t.yaml".into(),
        text: "a: 1\nb: '1'\nc: 1.5\nd: true\ne:\nf: [x, {g: h}]\n".into(),
    };
    assert_eq!(
        to_json(&file).unwrap(),
        serde_json::json!({"a": 1, "b": "1", "c": 1.5, "d": true, "e": null, "f": ["x", {"g": "h"}]})
    );
    let broken = SourceFile {
        name: "t.yaml".into(),
        text: "a: [".into(),
    };
    assert!(to_json(&broken).is_err());
}

/// Small edits that keep YAML plausible: keys, values and punctuation of the format.
const TOKENS: &[&str] = &[
    " ", "\n", "  ", "- ", ": ", "{", "}", "[", "]", ",", "'", "\"", "#", "{{ x }}", "10", "0",
    "-1", "1.5", "s", "ms", "..", "none", "true", "null", "get", "post", "think", "weight",
    "steps", "tasks", "users", "timeout", "status", "2xx", "json", "save", "$.id", "header",
    "regex", "group", "check", "pacing", "x-y", "<<: ", "*a", "&a ",
];

fn mutate(text: &str, edits: &[(usize, usize, usize)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for &(at, op, token) in edits {
        let at = at % (chars.len() + 1);
        match op % 3 {
            0 => {
                let end = (at + 1 + token % 8).min(chars.len());
                chars.drain(at..end);
            }
            1 => {
                let insert: Vec<char> = TOKENS[token % TOKENS.len()].chars().collect();
                chars.splice(at..at, insert);
            }
            _ => {
                let end = (at + 1 + token % 4).min(chars.len());
                let insert: Vec<char> = TOKENS[token % TOKENS.len()].chars().collect();
                chars.splice(at..end, insert);
            }
        }
    }
    chars.into_iter().collect()
}

fn fixture_texts() -> &'static [String] {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    TEXTS.get_or_init(|| {
        valid_scenarios()
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Whatever the decoder accepts, the schema accepts: an editor never flags a file that
    /// runs.
    #[test]
    fn what_the_decoder_accepts_the_schema_accepts(
        which in 0usize..16,
        edits in proptest::collection::vec((any::<usize>(), any::<usize>(), any::<usize>()), 1..4),
    ) {
        let texts = fixture_texts();
        let text = mutate(&texts[which % texts.len()], &edits);
        let file = SourceFile { name: "mutated.yaml".into(), text };
        if parse(&file).is_ok() {
            let errors = schema_errors(&file);
            prop_assert!(errors.is_empty(), "{}\n{errors:#?}", file.text);
        }
    }
}

#[test]
fn the_schema_duration_pattern_is_the_parser_rule() {
    assert_eq!(
        json_schema()["$defs"]["duration"]["pattern"],
        barrage_scenario::duration::DURATION_PATTERN
    );
    let pattern = schema_pattern(barrage_scenario::duration::DURATION_PATTERN);
    for text in ["250ms", "1.5s", "1m30s", ".5s", "500µs", " 10s "] {
        assert!(pattern(text), "{text}");
        assert!(barrage_scenario::parse_duration(text).is_ok(), "{text}");
    }
    for text in ["10", "10 s", "1.s", "-1s", "10sec", "s"] {
        assert!(!pattern(text), "{text}");
        assert!(barrage_scenario::parse_duration(text).is_err(), "{text}");
    }
}

#[test]
fn the_schema_size_pattern_is_the_parser_rule() {
    assert_eq!(
        json_schema()["$defs"]["size"]["pattern"],
        barrage_scenario::size::SIZE_PATTERN
    );
    let pattern = schema_pattern(barrage_scenario::size::SIZE_PATTERN);
    for text in ["16MiB", " 512 KiB ", "1GB", "1000B", "2kB"] {
        assert!(pattern(text), "{text}");
        assert!(barrage_scenario::size::parse_size(text).is_ok(), "{text}");
    }
    for text in ["16", "16mib", "1.5MiB", "MiB", "-1MiB"] {
        assert!(!pattern(text), "{text}");
        assert!(barrage_scenario::size::parse_size(text).is_err(), "{text}");
    }
}

/// Matches `text` against `pattern` with the schema validator's own regex engine.
fn schema_pattern(pattern: &str) -> impl Fn(&str) -> bool {
    let validator = jsonschema::validator_for(&serde_json::json!({ "pattern": pattern }))
        .expect("the pattern compiles");
    move |text| validator.is_valid(&Value::String(text.into()))
}
