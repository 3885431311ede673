//! The located YAML tree: every node with the byte span it was written at.
//!
//! Built from `saphyr-parser` events rather than from `saphyr`'s own document types because
//! the decoder needs three things those do not keep together: byte spans for every node
//! (the parser counts characters), the scalar style (`"10"` is a string, `10` a number) and
//! duplicate keys, which YAML forbids but loaders silently merge. Events are pulled one at
//! a time and the tree is built with an explicit stack, so no input can overflow the call
//! stack; nesting depth and alias expansion are capped for the same reason.
//!
//! Beyond YAML 1.2 core, `<<` merge keys are honoured (`<<: *defaults`), as most YAML
//! users expect them to be: keys written in the mapping itself win over merged ones.

mod build;

use crate::diagnostic::Diagnostic;
use crate::model::Span;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: Kind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalar {
    /// The scalar's content after YAML unescaping and folding.
    pub text: String,
    /// Written in quotes or as a block scalar, so never a number, boolean or null.
    pub quoted: bool,
    pub value: ScalarValue,
}

/// A scalar resolved by the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ScalarValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str,
}

impl Node {
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar(s) if s.value == ScalarValue::Null)
    }

    fn count(&self) -> usize {
        match &self.kind {
            Kind::Scalar(_) => 1,
            Kind::Seq(items) => 1 + items.iter().map(Node::count).sum::<usize>(),
            Kind::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.count() + v.count())
                    .sum::<usize>()
            }
        }
    }
}

/// What loading YAML produced: the document's root (absent when the file holds no document
/// or is not valid YAML) and the errors found on the way.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub root: Option<Node>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses `text` as a single YAML document.
pub(crate) fn load(text: &str) -> Loaded {
    build::build(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        let loaded = load(text);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        loaded.root.expect("a document")
    }

    fn entries(node: &Node) -> &[(Node, Node)] {
        match &node.kind {
            Kind::Map(e) => e,
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn spans_are_byte_offsets() {
        let text = "é: { b: \"x\" }   # c\nz: [1, 2]\n";
        let root = root(text);
        let e = entries(&root);
        assert_eq!(&text[e[0].0.span.start..e[0].0.span.end], "é");
        assert_eq!(&text[e[0].1.span.start..e[0].1.span.end], "{ b: \"x\" }");
        let inner = entries(&e[0].1);
        assert_eq!(&text[inner[0].1.span.start..inner[0].1.span.end], "\"x\"");
        assert_eq!(&text[e[1].1.span.start..e[1].1.span.end], "[1, 2]");
        assert_eq!(root.span, Span::new(0, text.find(']').unwrap() + 1));
    }

    #[test]
    fn scalars_resolve_by_core_schema_and_quotes() {
        let root = root("a: 10\nb: '10'\nc: 1.5\nd: true\ne:\nf: yes\ng: !!str 3\n");
        let values: Vec<ScalarValue> = entries(&root)
            .iter()
            .map(|(_, v)| v.as_scalar().unwrap().value)
            .collect();
        use ScalarValue::*;
        assert_eq!(
            values,
            [Int(10), Str, Float(1.5), Bool(true), Null, Str, Str]
        );
    }

    #[test]
    fn duplicate_keys_are_errors_with_the_first_line() {
        let loaded = load("a: 1\nb: 2\na: 3\n");
        assert_eq!(loaded.diagnostics.len(), 1);
        let d = &loaded.diagnostics[0];
        assert_eq!(d.message, "duplicate key `a`");
        assert_eq!(d.span, Span::new(10, 11));
        assert!(d.help.as_deref().unwrap().contains("line 1"));
    }

    #[test]
    fn syntax_errors_are_located() {
        let loaded = load("a:\n  b: 1\n c: 2\n");
        assert!(loaded.root.is_none());
        let d = &loaded.diagnostics[0];
        assert!(d.message.starts_with("invalid YAML"), "{}", d.message);
        assert_eq!(crate::line_col("a:\n  b: 1\n c: 2\n", d.span.start), (3, 2));
    }

    #[test]
    fn unquoted_template_in_a_yaml_error_gets_quote_help() {
        let loaded = load("get: {{ base }}/items\n");
        let help = loaded.diagnostics[0].help.clone().unwrap();
        assert!(help.contains("\"{{ base }}/items\""), "{help}");
    }

    #[test]
    fn aliases_and_merge_keys() {
        let root = root("base: &b { x: 1, y: 2 }\nother:\n  <<: *b\n  y: 3\n");
        let other = entries(&entries(&root)[1].1);
        let keys: Vec<(&str, &str)> = other
            .iter()
            .map(|(k, v)| {
                (
                    k.as_scalar().unwrap().text.as_str(),
                    v.as_scalar().unwrap().text.as_str(),
                )
            })
            .collect();
        assert_eq!(keys, [("x", "1"), ("y", "3")]);
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            bomb.push_str(&format!(
                "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let loaded = load(&bomb);
        assert!(loaded.root.is_none());
        assert!(loaded.diagnostics[0].message.contains("aliases expand"));

        let deep = "[".repeat(10_000);
        let loaded = load(&deep);
        assert!(loaded.root.is_none());
        assert!(!loaded.diagnostics.is_empty());
    }

    #[test]
    fn second_document_is_an_error_and_empty_is_no_root() {
        let loaded = load("a: 1\n---\nb: 2\n");
        assert!(loaded.diagnostics[0].message.contains("one YAML document"));
        let loaded = load("# nothing\n");
        assert!(loaded.root.is_none() && loaded.diagnostics.is_empty());
    }
}
