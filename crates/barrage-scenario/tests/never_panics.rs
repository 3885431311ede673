//! Whatever the input, parsing returns: no panic, no hang, and every diagnostic points
//! inside the text so it can be rendered.

mod common;

use barrage_scenario::{parse, render, to_json, SourceFile};
use proptest::prelude::*;

fn check(text: String) -> Result<(), TestCaseError> {
    let file = SourceFile {
        name: "fuzz.yaml".into(),
        text,
    };
    let diagnostics = match parse(&file) {
        Ok((_, warnings)) => warnings,
        Err(errors) => {
            prop_assert!(!errors.is_empty(), "an Err carries at least one diagnostic");
            errors
        }
    };
    for d in &diagnostics {
        prop_assert!(d.span.start <= d.span.end, "{d:?}");
        prop_assert!(d.span.end <= file.text.len(), "{d:?}");
        prop_assert!(file.text.is_char_boundary(d.span.start), "{d:?}");
        prop_assert!(file.text.is_char_boundary(d.span.end), "{d:?}");
    }
    let _ = render(&file, &diagnostics, true);
    let _ = to_json(&file);
    Ok(())
}

/// Characters that matter to YAML and to the format, with some that do not.
const YAML_ALPHABET: &str = "[-:{}\\[\\],'\"#&*!|>%@` \n\ta-z0-9.$_é]{0,200}";

fn sketch() -> String {
    std::fs::read_to_string(common::crate_dir().join("tests/fixtures/valid/design_sketch.yaml"))
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check(String::from_utf8_lossy(&bytes).into_owned())?;
    }

    #[test]
    fn random_yaml_like_text(text in YAML_ALPHABET) {
        check(text)?;
    }

    #[test]
    fn garbled_sketch(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<char>()), 1..8),
    ) {
        let mut chars: Vec<char> = sketch().chars().collect();
        for (at, op, c) in edits {
            let at = at % (chars.len() + 1);
            match op % 4 {
                0 if at < chars.len() => { chars.remove(at); }
                1 => chars.insert(at, c),
                2 if at < chars.len() => chars[at] = c,
                // Structural characters are the interesting ones.
                _ => chars.insert(at, ['{', '}', '[', ']', ':', '-', '\n', ' ', '\'', '"', '&', '*'][usize::from(op) % 12]),
            }
        }
        check(chars.into_iter().collect())?;
    }

    #[test]
    fn truncated_sketch(cut in 0usize..800) {
        let text = sketch();
        let cut = cut.min(text.len());
        let cut = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        check(text[..cut].to_string())?;
    }
}

#[test]
fn pathological_inputs() {
    for text in [
        "[".repeat(100_000),
        "{".repeat(100_000),
        "- ".repeat(50_000),
        "a: ".repeat(10_000),
        format!(
            "a: &a [{}]\nb: [*a, *a, *a, *a, *a, *a, *a, *a]\n",
            "x, ".repeat(1000)
        ),
        "\u{feff}tasks: { t: [ { get: / } ] }\n".to_string(),
        "tasks: { t: [ { get: / } ] }\n...\n".to_string(),
        "%YAML 1.2\n---\ntasks: { t: [ { get: / } ] }\n".to_string(),
        "? [a]\n: b\n".to_string(),
        "tasks: { t: [ { get: / } ] }\nx: !!binary aGVsbG8=\n".to_string(),
        "tasks: !!map { t: [ { get: !!int / } ] }\n".to_string(),
        "\0".to_string(),
    ] {
        check(text).unwrap();
    }
}
