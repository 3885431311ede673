//! [`JsonTemplate`]: a JSON request body whose strings may be templates, and templates
//! for query and form values.
//!
//! The body is compiled into a short list of pieces: runs of pre-serialized bytes for
//! everything that cannot change (braces, keys, static values, commas), and templates for
//! the strings that can. A fully static body is one byte string, copied per request. A
//! string that is one whole expression keeps the expression's type, so
//! `price: "{{ float(1, 100, 2) }}"` sends a JSON number. Map keys are written as they
//! are (not templates), because a body's shape should not change from request to request.

use barrage_scenario::{Span, Spanned, Value};

use crate::ctx::{RenderCtx, Slot};
use crate::error::{RenderError, TemplateError};
use crate::json_text;
use crate::template::Template;

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    /// Pre-serialized JSON text.
    Bytes(Box<[u8]>),
    /// A string template, written as a JSON string (or as its typed value when whole).
    Template(Template),
}

/// A compiled JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonTemplate {
    pieces: Vec<Piece>,
    names: Vec<(String, Span)>,
}

impl JsonTemplate {
    /// Compiles and binds every string of `v`. On failure, returns the span of the
    /// offending string in the scenario file (the error's offset is within that string's
    /// value) or of the offending value.
    pub fn compile(
        v: &Spanned<Value>,
        resolve: &mut dyn FnMut(&str) -> Option<Slot>,
    ) -> Result<JsonTemplate, (Span, TemplateError)> {
        let mut b = Builder {
            pieces: Vec::new(),
            pending: Vec::new(),
            names: Vec::new(),
            resolve,
        };
        b.value(v)?;
        if !b.pending.is_empty() {
            let bytes = std::mem::take(&mut b.pending);
            b.pieces.push(Piece::Bytes(bytes.into()));
        }
        Ok(JsonTemplate {
            pieces: b.pieces,
            names: b.names,
        })
    }

    /// Every name the body's templates reference, with the span of the string it is in.
    pub fn names(&self) -> Vec<(String, Span)> {
        self.names.clone()
    }

    /// True when the body is the same for every request.
    pub fn is_static(&self) -> bool {
        self.as_static().is_some()
    }

    /// The body's bytes, when it is static.
    pub fn as_static(&self) -> Option<&[u8]> {
        match self.pieces.as_slice() {
            [] => Some(b""),
            [Piece::Bytes(b)] => Some(b),
            _ => None,
        }
    }

    /// Appends the body as compact JSON. On error `out` may hold part of the body.
    pub fn render_json(
        &self,
        ctx: &mut RenderCtx<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), RenderError> {
        for piece in &self.pieces {
            match piece {
                Piece::Bytes(b) => out.extend_from_slice(b),
                Piece::Template(t) => t.write_json(ctx, out)?,
            }
        }
        Ok(())
    }
}

struct Builder<'r> {
    pieces: Vec<Piece>,
    pending: Vec<u8>,
    names: Vec<(String, Span)>,
    resolve: &'r mut dyn FnMut(&str) -> Option<Slot>,
}

impl Builder<'_> {
    fn value(&mut self, v: &Spanned<Value>) -> Result<(), (Span, TemplateError)> {
        match &v.value {
            Value::Null => self.pending.extend_from_slice(b"null"),
            Value::Bool(b) => self
                .pending
                .extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Int(n) => self
                .pending
                .extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
            Value::Float(f) if f.is_finite() => {
                let mut text = String::new();
                // Writing to a String cannot fail.
                let _ = json_text::write_float(&mut text, *f);
                self.pending.extend_from_slice(text.as_bytes());
            }
            Value::Float(f) => {
                return Err((
                    v.span,
                    TemplateError::new(0, 0, format!("{f} cannot be written as JSON"))
                        .with_help("JSON numbers are finite; quote it to send it as a string"),
                ))
            }
            Value::String(s) => self.string(s, v.span)?,
            Value::Seq(items) => {
                self.pending.push(b'[');
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        self.pending.push(b',');
                    }
                    self.value(item)?;
                }
                self.pending.push(b']');
            }
            Value::Map(entries) => {
                self.pending.push(b'{');
                for (k, (key, item)) in entries.iter().enumerate() {
                    if k > 0 {
                        self.pending.push(b',');
                    }
                    json_text::quoted_into(&mut self.pending, &key.value);
                    self.pending.push(b':');
                    self.value(item)?;
                }
                self.pending.push(b'}');
            }
        }
        Ok(())
    }

    fn string(&mut self, s: &str, span: Span) -> Result<(), (Span, TemplateError)> {
        let mut t = Template::parse(s).map_err(|e| (span, e))?;
        if let Some(text) = t.as_static() {
            json_text::quoted_into(&mut self.pending, text);
            return Ok(());
        }
        self.names
            .extend(t.names().into_iter().map(|(n, _, _)| (n, span)));
        t.bind(self.resolve).map_err(|e| (span, e))?;
        if !self.pending.is_empty() {
            let bytes = std::mem::take(&mut self.pending);
            self.pieces.push(Piece::Bytes(bytes.into()));
        }
        self.pieces.push(Piece::Template(t));
        Ok(())
    }
}

/// A query or form value as a template: strings are templates; other scalars are their
/// text (`null` as empty). Lists and maps are not values here.
pub fn scalar_template(v: &Spanned<Value>) -> Result<Template, (Span, TemplateError)> {
    let text = match &v.value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Float(f) => {
            let mut s = String::new();
            // Writing to a String cannot fail.
            let _ = json_text::write_float(&mut s, *f);
            s
        }
        Value::String(s) => return Template::parse(s).map_err(|e| (v.span, e)),
        Value::Seq(_) | Value::Map(_) => {
            return Err((
                v.span,
                TemplateError::new(0, 0, "expected a single value, not a list or a map")
                    .with_help("quote it to send it as text"),
            ))
        }
    };
    Template::parse(&text).map_err(|e| (v.span, e))
}
