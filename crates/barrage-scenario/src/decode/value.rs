//! Typed reads of located YAML nodes: "this must be a whole number of at least 1".
//!
//! Every read that fails records a diagnostic saying what was expected and what was found,
//! then returns `None`, so callers carry on with sibling keys and one run of the decoder
//! reports as many mistakes as it can. The unquoted-template check lives here because a
//! template written without quotes shows up as a mapping exactly where a read expected a
//! string or a value.

use crate::decode::Ctx;
use crate::diagnostic::yaml_quote;
use crate::keys;
use crate::model::{Span, Spanned, Value};
use crate::node::{Kind, Node, Scalar, ScalarValue};

/// A known key of a mapping, with its value.
pub(crate) struct Field<'n> {
    pub name: &'n str,
    pub key: &'n Node,
    pub value: &'n Node,
}

/// How a node reads in "found ..." messages.
pub(crate) fn describe(node: &Node) -> String {
    match &node.kind {
        Kind::Seq(_) => "a list".into(),
        Kind::Map(_) => "a mapping".into(),
        Kind::Scalar(s) => match s.value {
            ScalarValue::Null if s.text.is_empty() => "nothing".into(),
            ScalarValue::Null => format!("`{}`", s.text),
            ScalarValue::Bool(_) => format!("the boolean `{}`", s.text),
            ScalarValue::Int(_) | ScalarValue::Float(_) => format!("the number `{}`", s.text),
            ScalarValue::Str if s.text.chars().count() > 40 || s.text.contains('\n') => {
                "a string".into()
            }
            ScalarValue::Str if s.quoted => format!("the string \"{}\"", s.text),
            ScalarValue::Str => format!("`{}`", s.text),
        },
    }
}

/// Records "expected X, found Y" (or the template hint when that is what went wrong).
pub(crate) fn mismatch(ctx: &mut Ctx, node: &Node, expected: &str) {
    if !template_hint(ctx, node) {
        ctx.error(
            node.span,
            format!("expected {expected}, found {}", describe(node)),
        );
    }
}

pub(crate) fn mismatch_help(ctx: &mut Ctx, node: &Node, expected: &str, help: impl Into<String>) {
    if !template_hint(ctx, node) {
        ctx.error_help(
            node.span,
            format!("expected {expected}, found {}", describe(node)),
            help,
        );
    }
}

/// An unquoted `{{ x }}` is a YAML flow mapping whose key is a mapping. When a mapping's
/// source starts with `{{`, say so and show the quoted form.
pub(crate) fn template_hint(ctx: &mut Ctx, node: &Node) -> bool {
    if !matches!(node.kind, Kind::Map(_)) {
        return false;
    }
    let source = ctx.source(node.span).trim_end();
    if !source.starts_with("{{") {
        return false;
    }
    let shown = if source.contains('\n') || source.chars().count() > 60 {
        "\"{{ ... }}\"".to_string()
    } else {
        yaml_quote(source)
    };
    ctx.error_help(
        node.span,
        "this looks like a template: quote it",
        format!("unquoted `{{{{` starts a YAML mapping; write {shown}"),
    );
    true
}

pub(crate) fn map<'n>(ctx: &mut Ctx, node: &'n Node, expected: &str) -> Option<&'n [(Node, Node)]> {
    match &node.kind {
        Kind::Map(entries) => {
            if ctx.source(node.span).starts_with("{{") {
                template_hint(ctx, node);
                return None;
            }
            Some(entries)
        }
        _ => {
            mismatch(ctx, node, expected);
            None
        }
    }
}

/// A mapping key as a name.
pub(crate) fn key(ctx: &mut Ctx, key: &Node) -> Option<Spanned<String>> {
    match &key.kind {
        Kind::Scalar(s) if s.value != ScalarValue::Null || !s.text.is_empty() => {
            Some(Spanned::new(s.text.clone(), key.span))
        }
        _ => {
            mismatch(ctx, key, "a key name");
            None
        }
    }
}

/// The entries of a mapping whose keys are from `allowed`; every other key is reported as
/// unknown `place` ("in a request step"), with the closest allowed key when one is close.
pub(crate) fn fields<'n>(
    ctx: &mut Ctx,
    entries: impl IntoIterator<Item = &'n (Node, Node)>,
    allowed: &[&'static str],
    place: &str,
) -> Vec<Field<'n>> {
    let mut known = Vec::new();
    for (k, value) in entries {
        let Some(name) = k.as_scalar().map(|s| s.text.as_str()) else {
            mismatch(ctx, k, "a key name");
            continue;
        };
        if allowed.contains(&name) {
            known.push(Field {
                name,
                key: k,
                value,
            });
        } else {
            unknown_key(ctx, k.span, name, allowed, place);
        }
    }
    known
}

pub(crate) fn unknown_key(
    ctx: &mut Ctx,
    span: Span,
    name: &str,
    allowed: &[&'static str],
    place: &str,
) {
    let help = match keys::suggest(name, allowed) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("expected one of {}", keys::list(allowed)),
    };
    ctx.error_help(span, format!("unknown key `{name}` {place}"), help);
}

/// Any scalar but null, as the text it was written with (`name: 404` is the name "404").
pub(crate) fn text(ctx: &mut Ctx, node: &Node, expected: &str) -> Option<Spanned<String>> {
    match &node.kind {
        Kind::Scalar(s) if s.value != ScalarValue::Null || s.quoted => {
            Some(Spanned::new(s.text.clone(), node.span))
        }
        _ => {
            mismatch(ctx, node, expected);
            None
        }
    }
}

/// A string scalar only (paths, thresholds): a number there is a slip worth naming.
pub(crate) fn string(ctx: &mut Ctx, node: &Node, expected: &str) -> Option<Spanned<String>> {
    match node.as_scalar() {
        Some(s) if s.value == ScalarValue::Str => Some(Spanned::new(s.text.clone(), node.span)),
        Some(s) if !s.text.is_empty() => {
            mismatch_help(
                ctx,
                node,
                expected,
                format!("quote it: {}", yaml_quote(&s.text)),
            );
            None
        }
        _ => {
            mismatch(ctx, node, expected);
            None
        }
    }
}

/// A whole number in `min..=max`.
pub(crate) fn int(
    ctx: &mut Ctx,
    node: &Node,
    expected: &str,
    min: i64,
    max: i64,
) -> Option<Spanned<i64>> {
    let Kind::Scalar(s) = &node.kind else {
        mismatch(ctx, node, expected);
        return None;
    };
    match s.value {
        ScalarValue::Int(n) if (min..=max).contains(&n) => Some(Spanned::new(n, node.span)),
        ScalarValue::Str if s.text.trim().parse::<i64>().is_ok() => {
            mismatch_help(
                ctx,
                node,
                expected,
                format!("remove the quotes: `{}`", s.text.trim()),
            );
            None
        }
        _ => {
            mismatch(ctx, node, expected);
            None
        }
    }
}

pub(crate) fn u32_at_least(
    ctx: &mut Ctx,
    node: &Node,
    expected: &str,
    min: u32,
) -> Option<Spanned<u32>> {
    let n = int(ctx, node, expected, i64::from(min), i64::from(u32::MAX))?;
    u32::try_from(n.value).ok().map(|v| Spanned::new(v, n.span))
}

pub(crate) fn u64_at_least(
    ctx: &mut Ctx,
    node: &Node,
    expected: &str,
    min: u64,
) -> Option<Spanned<u64>> {
    let min = i64::try_from(min).unwrap_or(i64::MAX);
    let n = int(ctx, node, expected, min, i64::MAX)?;
    u64::try_from(n.value).ok().map(|v| Spanned::new(v, n.span))
}

/// A finite number above zero.
pub(crate) fn positive(ctx: &mut Ctx, node: &Node, expected: &str) -> Option<Spanned<f64>> {
    let number = match node.as_scalar().map(|s| s.value) {
        // Precision loss only past 2^53, far beyond any rate anyone asks for.
        #[allow(clippy::cast_precision_loss)]
        Some(ScalarValue::Int(n)) => n as f64,
        Some(ScalarValue::Float(f)) => f,
        _ => {
            mismatch(ctx, node, expected);
            return None;
        }
    };
    if number.is_finite() && number > 0.0 {
        Some(Spanned::new(number, node.span))
    } else {
        mismatch(ctx, node, expected);
        None
    }
}

pub(crate) fn boolean(ctx: &mut Ctx, node: &Node) -> Option<Spanned<bool>> {
    match node.as_scalar() {
        Some(Scalar {
            value: ScalarValue::Bool(b),
            ..
        }) => Some(Spanned::new(*b, node.span)),
        Some(s) if matches!(s.text.to_lowercase().as_str(), "yes" | "no" | "on" | "off") => {
            let meant = matches!(s.text.to_lowercase().as_str(), "yes" | "on");
            mismatch_help(
                ctx,
                node,
                "`true` or `false`",
                format!("YAML 1.2 booleans are `true` and `false`: write `{meant}`"),
            );
            None
        }
        _ => {
            mismatch(ctx, node, "`true` or `false`");
            None
        }
    }
}

/// Any YAML value, as written (JSON bodies, expected values).
pub(crate) fn value(ctx: &mut Ctx, node: &Node) -> Option<Spanned<Value>> {
    let value = match &node.kind {
        Kind::Scalar(s) => scalar_value(s),
        Kind::Seq(items) => {
            let mut values = Vec::with_capacity(items.len());
            let mut ok = true;
            for item in items {
                match value(ctx, item) {
                    Some(v) => values.push(v),
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            Value::Seq(values)
        }
        Kind::Map(entries) => {
            if template_hint(ctx, node) {
                return None;
            }
            let mut values = Vec::with_capacity(entries.len());
            let mut ok = true;
            for (k, v) in entries {
                match (key(ctx, k), value(ctx, v)) {
                    (Some(k), Some(v)) => values.push((k, v)),
                    _ => ok = false,
                }
            }
            if !ok {
                return None;
            }
            Value::Map(values)
        }
    };
    Some(Spanned::new(value, node.span))
}

fn scalar_value(s: &Scalar) -> Value {
    match s.value {
        ScalarValue::Null => Value::Null,
        ScalarValue::Bool(b) => Value::Bool(b),
        ScalarValue::Int(n) => Value::Int(n),
        ScalarValue::Float(f) => Value::Float(f),
        ScalarValue::Str => Value::String(s.text.clone()),
    }
}

/// `name -> string` pairs (headers). Numbers and booleans are taken as the text written.
pub(crate) fn string_map(
    ctx: &mut Ctx,
    node: &Node,
    expected: &str,
    value_expected: &str,
) -> Vec<(Spanned<String>, Spanned<String>)> {
    let Some(entries) = map(ctx, node, expected) else {
        return Vec::new();
    };
    let mut pairs = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let name = key(ctx, k);
        let value = if v.is_null() && v.as_scalar().is_some_and(|s| !s.quoted) {
            mismatch_help(ctx, v, value_expected, "write \"\" for an empty value");
            None
        } else {
            text(ctx, v, value_expected)
        };
        if let (Some(name), Some(value)) = (name, value) {
            pairs.push((name, value));
        }
    }
    pairs
}

/// `name -> scalar` pairs (query parameters, form fields).
pub(crate) fn scalar_map(
    ctx: &mut Ctx,
    node: &Node,
    expected: &str,
) -> Vec<(Spanned<String>, Spanned<Value>)> {
    scalar_map_lists(ctx, node, expected, false)
}

/// Like [`scalar_map`], and with `lists` a value may also be a list of scalars (query
/// parameters: `tag: [a, b]` sends `?tag=a&tag=b`).
pub(crate) fn scalar_map_lists(
    ctx: &mut Ctx,
    node: &Node,
    expected: &str,
    lists: bool,
) -> Vec<(Spanned<String>, Spanned<Value>)> {
    let Some(entries) = map(ctx, node, expected) else {
        return Vec::new();
    };
    let value_expected = if lists {
        "a string, number or boolean, or a list of them"
    } else {
        "a string, number or boolean"
    };
    let mut pairs = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let name = key(ctx, k);
        if let (true, crate::node::Kind::Seq(items)) = (lists, &v.kind) {
            let mut values = Vec::with_capacity(items.len());
            for item in items {
                match item.as_scalar() {
                    Some(s) if s.value != ScalarValue::Null || s.quoted => {
                        values.push(Spanned::new(scalar_value(s), item.span));
                    }
                    _ => mismatch(ctx, item, "a string, number or boolean"),
                }
            }
            if let Some(name) = name {
                pairs.push((name, Spanned::new(Value::Seq(values), v.span)));
            }
            continue;
        }
        let value = match v.as_scalar() {
            Some(s) if s.value != ScalarValue::Null || s.quoted => {
                Some(Spanned::new(scalar_value(s), v.span))
            }
            Some(_) => {
                mismatch_help(ctx, v, value_expected, "write \"\" for an empty value");
                None
            }
            None => {
                mismatch(ctx, v, value_expected);
                None
            }
        };
        if let (Some(name), Some(value)) = (name, value) {
            pairs.push((name, value));
        }
    }
    pairs
}

/// Names used inside templates (`{{ token }}`, `{{ users.email }}`) must be identifiers.
pub(crate) fn check_identifier(ctx: &mut Ctx, name: &Spanned<String>, what: &str) {
    let mut chars = name.value.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        let mut suggestion: String = name
            .value
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if !suggestion.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            suggestion.insert(0, '_');
        }
        ctx.error_help(
            name.span,
            format!("`{}` cannot be used as {what} name", name.value),
            format!(
                "templates refer to it as `{{{{ name }}}}`, so use letters, digits and `_`, \
                 not starting with a digit, like `{suggestion}`"
            ),
        );
    }
}

/// A size in bytes such as `16MiB`; a bare number gets the unit suggested.
pub(crate) fn size(ctx: &mut Ctx, node: &Node) -> Option<Spanned<u64>> {
    const SIZE: &str = "a size like `16MiB`";
    let Some(scalar) = node.as_scalar() else {
        mismatch(ctx, node, SIZE);
        return None;
    };
    if matches!(scalar.value, ScalarValue::Null | ScalarValue::Bool(_)) {
        mismatch(ctx, node, SIZE);
        return None;
    }
    match crate::size::parse_size(&scalar.text) {
        Ok(bytes) => Some(Spanned::new(bytes, node.span)),
        Err(err) => {
            let message = match &err {
                crate::size::SizeError::MissingUnit { .. } => {
                    format!("expected {SIZE}, found a number without a unit")
                }
                _ => format!("invalid size: {err}"),
            };
            ctx.error_help(node.span, message, err.help());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::load;

    /// The value of the single key of a one-line YAML mapping, decoded by `read`.
    fn read<T>(yaml: &str, read: impl FnOnce(&mut Ctx, &Node) -> T) -> (T, Vec<String>) {
        let root = load(yaml).root.expect("a document");
        let Kind::Map(entries) = &root.kind else {
            panic!("not a mapping: {yaml}")
        };
        let mut ctx = Ctx::new(yaml, Vec::new());
        let value = read(&mut ctx, &entries[0].1);
        let messages = ctx.diagnostics.into_iter().map(|d| d.message).collect();
        (value, messages)
    }

    #[test]
    fn describes_what_was_found() {
        let found = |yaml: &str| read(yaml, |_, node| describe(node)).0;
        assert_eq!(found("a: [1]"), "a list");
        assert_eq!(found("a: {b: 1}"), "a mapping");
        assert_eq!(found("a:"), "nothing");
        assert_eq!(found("a: ~"), "`~`");
        assert_eq!(found("a: 1.50"), "the number `1.50`");
        assert_eq!(found("a: True"), "the boolean `True`");
        assert_eq!(found("a: '10'"), "the string \"10\"");
        assert_eq!(found("a: yes"), "`yes`");
    }

    #[test]
    fn an_unquoted_template_is_named_wherever_a_value_was_expected() {
        let (value, messages) = read("a: {{ x }}", |ctx, node| text(ctx, node, "a name"));
        assert_eq!(value, None);
        assert_eq!(messages, ["this looks like a template: quote it"]);

        let (json, messages) = read("a: { b: {{ x }} }", super::value);
        assert_eq!(json, None);
        assert_eq!(messages, ["this looks like a template: quote it"]);

        // A mapping that does not start with `{{` is just a mapping.
        let (value, messages) = read("a: { b: 1 }", |ctx, node| text(ctx, node, "a name"));
        assert_eq!(value, None);
        assert_eq!(messages, ["expected a name, found a mapping"]);
    }

    #[test]
    fn scalars_read_as_written() {
        let (value, _) = read("a: 1.50", |ctx, node| text(ctx, node, "text"));
        assert_eq!(value.unwrap().value, "1.50");
        let (value, messages) = read("a: 0", |ctx, node| u32_at_least(ctx, node, "one+", 1));
        assert_eq!(value, None);
        assert_eq!(messages, ["expected one+, found the number `0`"]);
        let (value, _) = read("a: 7", |ctx, node| u64_at_least(ctx, node, "one+", 1));
        assert_eq!(value.unwrap().value, 7);
        let (value, _) = read("a: 2", |ctx, node| positive(ctx, node, "rate"));
        assert_eq!(value.unwrap().value, 2.0);
        let (value, _) = read("a: .inf", |ctx, node| positive(ctx, node, "rate"));
        assert_eq!(value, None);
    }

    #[test]
    fn identifiers_suggest_a_valid_name() {
        let (_, messages) = read("a: 1", |ctx, _| {
            check_identifier(
                ctx,
                &Spanned::new("1st".into(), Span::default()),
                "a variable",
            );
            check_identifier(
                ctx,
                &Spanned::new("ok_1".into(), Span::default()),
                "a variable",
            );
        });
        assert_eq!(messages, ["`1st` cannot be used as a variable name"]);
    }
}
