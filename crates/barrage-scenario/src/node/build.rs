//! Building the located tree from `saphyr-parser` events.
//!
//! The parser reports positions in characters and gives collections no end position of
//! their own (the end event of a block collection sits wherever the next token starts), so
//! this module converts to byte offsets and computes each collection's span from its
//! brackets or its children. It pulls events one by one and keeps its own stack of open
//! collections instead of recursing, and caps depth and alias expansion, so that no input
//! can exhaust the stack or memory.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr::Scalar as CoreScalar;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Tag};

use super::{Kind, Loaded, Node, Scalar, ScalarValue};
use crate::diagnostic::Diagnostic;
use crate::model::Span;

/// Deeper nesting than this is refused: no scenario needs it, and it bounds recursion in
/// the decoder and in `Drop`.
const MAX_DEPTH: usize = 128;

/// Nodes that alias expansion may create in total ("billion laughs" guard).
const MAX_ALIAS_NODES: usize = 100_000;

pub(super) fn build(text: &str) -> Loaded {
    let mut builder = Builder::new(text);
    match builder.run() {
        Ok(()) => Loaded {
            root: builder.root,
            diagnostics: builder.diagnostics,
        },
        Err(fatal) => {
            let mut diagnostics = builder.diagnostics;
            diagnostics.push(fatal);
            Loaded {
                root: None,
                diagnostics,
            }
        }
    }
}

/// Converts the parser's character indices to byte offsets.
struct Offsets {
    /// Byte offset of each character, plus the text length; empty when the text is ASCII
    /// (then character index and byte offset are the same).
    table: Vec<usize>,
    len: usize,
}

impl Offsets {
    fn new(text: &str) -> Self {
        let table = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(text.len()))
                .collect()
        };
        Offsets {
            table,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.table.is_empty() {
            char_index.min(self.len)
        } else {
            self.table.get(char_index).copied().unwrap_or(self.len)
        }
    }

    fn span(&self, span: saphyr_parser::Span) -> Span {
        Span::new(self.byte(span.start.index()), self.byte(span.end.index()))
    }
}

enum Frame {
    Seq {
        start: usize,
        flow: bool,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        flow: bool,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

struct Builder<'t> {
    text: &'t str,
    offsets: Offsets,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    alias_nodes: usize,
    documents: usize,
    root: Option<Node>,
    diagnostics: Vec<Diagnostic>,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str) -> Self {
        Builder {
            text,
            offsets: Offsets::new(text),
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_nodes: 0,
            documents: 0,
            root: None,
            diagnostics: Vec::new(),
        }
    }

    fn run(&mut self) -> Result<(), Diagnostic> {
        let mut parser = Parser::new_from_str(self.text);
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(|e| self.scan_error(&e))?;
            let span = self.offsets.span(span);
            match event {
                Event::StreamEnd => break,
                Event::DocumentStart(_) => {
                    self.documents += 1;
                    if self.documents > 1 {
                        return Err(Diagnostic::error(
                            span,
                            "a scenario file holds one YAML document; this starts a second",
                        )
                        .with_help("remove this `---` and what follows, or merge the documents"));
                    }
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let node = self.scalar(value, style, tag.as_deref(), span);
                    self.finish(node, anchor);
                }
                Event::SequenceStart(anchor, _) => {
                    self.open(span)?;
                    self.stack.push(Frame::Seq {
                        start: span.start,
                        flow: self.is_flow_start(span, '['),
                        anchor,
                        items: Vec::new(),
                    });
                }
                Event::MappingStart(anchor, _) => {
                    self.open(span)?;
                    self.stack.push(Frame::Map {
                        start: span.start,
                        flow: self.is_flow_start(span, '{'),
                        anchor,
                        entries: Vec::new(),
                        key: None,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => self.close(span),
                Event::Alias(id) => {
                    let node = self.alias(id, span)?;
                    self.finish(node, 0);
                }
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            }
        }
        Ok(())
    }

    fn open(&self, span: Span) -> Result<(), Diagnostic> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(Diagnostic::error(
                span,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    /// Block collections start with an empty event span (or one covering only an anchor or
    /// tag); flow collections' start span ends with their bracket.
    fn is_flow_start(&self, span: Span, bracket: char) -> bool {
        self.text
            .get(span.start..span.end)
            .is_some_and(|s| s.trim_end().ends_with(bracket))
    }

    fn scalar(
        &mut self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: Span,
    ) -> Node {
        let tag_cow = tag.map(Cow::Borrowed);
        let resolved =
            CoreScalar::parse_from_cow_and_metadata(text.clone(), style, tag_cow.as_ref());
        let resolved = resolved.unwrap_or_else(|| {
            let tag = tag.map(ToString::to_string).unwrap_or_default();
            self.diagnostics.push(Diagnostic::error(
                span,
                format!("`{text}` is not a valid `{tag}` value"),
            ));
            CoreScalar::String(text.clone())
        });
        let value = match resolved {
            CoreScalar::Null => ScalarValue::Null,
            CoreScalar::Boolean(b) => ScalarValue::Bool(b),
            CoreScalar::Integer(i) => ScalarValue::Int(i),
            CoreScalar::FloatingPoint(f) => ScalarValue::Float(f.into_inner()),
            CoreScalar::String(_) => ScalarValue::Str,
        };
        // Scalar event spans may run on over the blanks after a quoted scalar.
        let trimmed = self
            .text
            .get(span.start..span.end)
            .map_or(0, |s| s.len() - s.trim_end().len());
        let span = Span::new(span.start, span.end - trimmed);
        Node {
            kind: Kind::Scalar(Scalar {
                text: text.into_owned(),
                quoted: style != ScalarStyle::Plain,
                value,
            }),
            span,
        }
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<Node, Diagnostic> {
        let Some(target) = self.anchors.get(&id) else {
            return Err(Diagnostic::error(span, "alias to an unknown anchor"));
        };
        self.alias_nodes += target.count();
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(Diagnostic::error(
                span,
                format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
            ));
        }
        // The copy keeps the anchored node's spans: errors in it point at where it was written.
        Ok(target.clone())
    }

    fn close(&mut self, end_span: Span) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let (node, anchor) = match frame {
            Frame::Seq {
                start,
                flow,
                anchor,
                items,
            } => {
                let end = self.end(flow, start, end_span, items.last().map(|n| n.span.end));
                let node = Node {
                    kind: Kind::Seq(items),
                    span: Span::new(start, end),
                };
                (node, anchor)
            }
            Frame::Map {
                start,
                flow,
                anchor,
                entries,
                key,
            } => {
                let mut entries = entries;
                if let Some(key) = key {
                    // A key without a value event cannot come from the parser, but an empty
                    // value is the honest reading if it ever did.
                    let null = Node {
                        kind: Kind::Scalar(Scalar {
                            text: String::new(),
                            quoted: false,
                            value: ScalarValue::Null,
                        }),
                        span: Span::new(key.span.end, key.span.end),
                    };
                    entries.push((key, null));
                }
                let last_end = entries.last().map(|(k, v)| k.span.end.max(v.span.end));
                let end = self.end(flow, start, end_span, last_end);
                self.check_duplicates(&entries);
                let node = Node {
                    kind: Kind::Map(merge_keys(entries)),
                    span: Span::new(start, end),
                };
                (node, anchor)
            }
        };
        self.finish(node, anchor);
    }

    /// A flow collection ends after its closing bracket (the end event's span also covers
    /// trailing blanks and comments); a block one ends where its last child ends.
    fn end(&self, flow: bool, start: usize, end_span: Span, last_child: Option<usize>) -> usize {
        if flow {
            let close = end_span.start;
            let width = self.text[close.min(self.text.len())..]
                .chars()
                .next()
                .map_or(0, char::len_utf8);
            close + width
        } else {
            last_child.unwrap_or(start).max(start)
        }
    }

    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }

    fn check_duplicates(&mut self, entries: &[(Node, Node)]) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for (key, _) in entries {
            let Some(scalar) = key.as_scalar() else {
                continue;
            };
            if !scalar.quoted && scalar.text == "<<" {
                continue;
            }
            if let Some(first) = seen.get(scalar.text.as_str()) {
                let (line, _) = crate::diagnostic::line_col(self.text, first.start);
                self.diagnostics.push(
                    Diagnostic::error(key.span, format!("duplicate key `{}`", scalar.text))
                        .with_help(format!(
                            "`{}` is already set on line {line}; keep one of them",
                            scalar.text
                        )),
                );
            } else {
                seen.insert(&scalar.text, key.span);
            }
        }
    }

    fn scan_error(&self, error: &ScanError) -> Diagnostic {
        let at = self.offsets.byte(error.marker().index());
        let width = self.text[at..].chars().next().map_or(0, char::len_utf8);
        let mut diag = Diagnostic::error(
            Span::new(at, at + width),
            format!("invalid YAML: {}", error.info()),
        );
        diag.help = yaml_error_help(self.text, at, error.info());
        diag
    }
}

/// Replaces `<<` entries by the entries of the mapping(s) they point at, except keys the
/// mapping sets itself.
fn merge_keys(entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    let is_merge = |k: &Node| k.as_scalar().is_some_and(|s| !s.quoted && s.text == "<<");
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return entries;
    }
    let mut present: Vec<String> = entries
        .iter()
        .filter(|(k, _)| !is_merge(k))
        .filter_map(|(k, _)| k.as_scalar().map(|s| s.text.clone()))
        .collect();
    let mut merged = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        if !is_merge(&key) {
            merged.push((key, value));
            continue;
        }
        let sources: Vec<Node> = match value.kind {
            Kind::Map(_) => vec![value],
            Kind::Seq(items) if items.iter().all(|i| matches!(i.kind, Kind::Map(_))) => items,
            // Not something to merge: keep it as an ordinary key for the decoder to reject.
            kind => {
                merged.push((key, Node { kind, ..value }));
                continue;
            }
        };
        for source in sources {
            let Kind::Map(source_entries) = source.kind else {
                continue;
            };
            for (k, v) in source_entries {
                let name = k.as_scalar().map(|s| s.text.clone());
                if let Some(name) = name {
                    if present.contains(&name) {
                        continue;
                    }
                    present.push(name);
                }
                merged.push((k, v));
            }
        }
    }
    merged
}

/// Help for the YAML errors people actually make: unquoted templates, tabs, indentation.
fn yaml_error_help(text: &str, at: usize, info: &str) -> Option<String> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = &text[line_start..line_end];
    if let Some(open) = line.find("{{") {
        let before = line[..open].trim_end();
        let value = line[open..].trim_end();
        if (before.ends_with(':') || before.ends_with('-')) && !value.contains(" #") {
            return Some(format!(
                "templates must be quoted in YAML: write {}",
                crate::diagnostic::yaml_quote(value)
            ));
        }
        return Some(
            "an unquoted `{{` starts a YAML mapping; put the whole value in quotes, \
             like \"{{ id }}\""
                .to_string(),
        );
    }
    if info.contains("tab") {
        return Some("indent with spaces; YAML does not allow tabs for indentation".into());
    }
    if info.contains("did not find expected key") || info.contains("did not find expected '-'") {
        return Some("check the indentation of this line against the lines above".into());
    }
    None
}
