//! Properties of the threshold parser: any input gives a value or a located error (never a
//! panic, never a span outside the text), and any label value, however many braces, commas,
//! quotes or backslashes it holds, is read back exactly once quoted.

use barrage_report::threshold::{parse, Label, MatchOp};
use proptest::prelude::*;

/// `s` quoted for a threshold: `"` and `\` escaped.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

proptest! {
    #[test]
    fn never_panics_and_errors_stay_inside_the_text(text in "\\PC{0,60}") {
        if let Err(e) = parse(&text) {
            prop_assert!(e.span.start <= e.span.end && e.span.end <= text.len(), "{e:?} in {text:?}");
            prop_assert!(text.is_char_boundary(e.span.start) && text.is_char_boundary(e.span.end));
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn near_misses_of_the_grammar_never_panic(
        text in "[ pservice_9.{}=!~<>,\"'\\\\a-z0-9%msu/]{0,40}",
    ) {
        if let Err(e) = parse(&text) {
            prop_assert!(e.span.end <= text.len());
        }
    }

    #[test]
    fn label_values_read_back_exactly(
        name in "[ -~{}\\[\\],\"'\\\\]{0,30}",
        method in "[A-Z]{1,7}",
        limit in 0u32..100_000,
    ) {
        let text = format!(
            "p99{{name={}, method!={}}} <= {limit}ms",
            quoted(&name),
            quoted(&method)
        );
        let t = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(t.matchers.len(), 2);
        prop_assert_eq!(t.matchers[0].label, Label::Name);
        prop_assert_eq!(&t.matchers[0].value, &name);
        prop_assert_eq!(t.matchers[1].op, MatchOp::Ne);
        prop_assert_eq!(&t.matchers[1].value, &method);
        prop_assert_eq!(t.limit, f64::from(limit));
        prop_assert!(t.selects("default", "X", &name, None) == (method != "X"));
    }
}
