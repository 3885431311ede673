//! [`Template`]: text with `{{ expression }}` segments, compiled once and rendered per
//! request.
//!
//! A template is split at compile time into literal text and expressions; a template
//! with no expression is static and renders by copying one string. Rendering appends to a
//! caller-provided buffer (or any `fmt::Write`, so the engine can percent-encode a path
//! while it is rendered), and a template that is exactly one expression — `"{{ x }}"`,
//! nothing around it — keeps the expression's type when evaluated as a value.
//!
//! Text written between expressions is literal; a stray `}}` is plain text, and a literal
//! `{{` is written `{{ "{{" }}`.
//!
//! How values become text: strings as they are; numbers as JSON writes them (`3`, `2.5`,
//! `3.0`); `true`/`false`; `null` as `null` (as k6 prints it: a missing value shows up in
//! the request instead of vanishing); lists and objects as compact JSON text.

use std::fmt;

use serde_json::Value;

use crate::ctx::{RenderCtx, Slot};
use crate::error::{RenderError, TemplateError};
use crate::expr::Program;
use crate::json_text::{self, JsonEscaper};

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Text(Box<str>),
    /// Root node of one expression in the program.
    Expr(u32),
}

/// A compiled template. Parse it, [`bind`](Template::bind) its names, then render it as
/// often as needed; it is immutable after binding and may be shared between threads.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    source: Box<str>,
    segments: Vec<Segment>,
    program: Program,
}

impl Template {
    /// Compiles `src`. Names are not resolved yet: see [`Template::bind`].
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        let mut program = Program::default();
        let mut segments = Vec::new();
        let mut pos = 0;
        while let Some(found) = src[pos..].find("{{") {
            let open = pos + found;
            if open > pos {
                segments.push(Segment::Text(src[pos..open].into()));
            }
            let (root, after) = program.parse_expr(src, open, open + 2)?;
            segments.push(Segment::Expr(root));
            pos = after;
        }
        if pos < src.len() {
            segments.push(Segment::Text(src[pos..].into()));
        }
        Ok(Template {
            source: src.into(),
            segments,
            program,
        })
    }

    /// The source this template was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Every name the template references (dotted paths as written, built-ins included),
    /// with its byte offset and length in the source; in source order.
    pub fn names(&self) -> Vec<(String, usize, usize)> {
        let mut names: Vec<_> = self
            .program
            .names()
            .map(|(n, o, l)| (n.to_string(), o, l))
            .collect();
        names.sort_by_key(|&(_, o, _)| o);
        names
    }

    /// Resolves every name with `resolve` (the built-ins `user_id` and `iteration` resolve
    /// by themselves when `resolve` does not know them) and reads `env()` variables, which
    /// are constants from then on. Unknown names and unset environment variables without a
    /// default are errors.
    pub fn bind(
        &mut self,
        resolve: &mut dyn FnMut(&str) -> Option<Slot>,
    ) -> Result<(), TemplateError> {
        self.program.bind(resolve)
    }

    /// True when there is no expression: rendering copies the text.
    pub fn is_static(&self) -> bool {
        !self.segments.iter().any(|s| matches!(s, Segment::Expr(_)))
    }

    /// The text of a static template.
    pub fn as_static(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [] => Some(""),
            [Segment::Text(t)] => Some(t),
            _ => None,
        }
    }

    /// True when the source is exactly one `{{ expression }}` with no text around it
    /// (not even whitespace); such a template keeps the expression's type in
    /// [`Template::eval`] and in JSON bodies.
    pub fn is_whole_expression(&self) -> bool {
        matches!(self.segments.as_slice(), [Segment::Expr(_)])
    }

    fn whole_root(&self) -> Option<u32> {
        match self.segments.as_slice() {
            [Segment::Expr(root)] => Some(*root),
            _ => None,
        }
    }

    /// Appends the rendered text to `out`. On error `out` may hold part of the rendering.
    pub fn render(&self, ctx: &mut RenderCtx<'_>, out: &mut String) -> Result<(), RenderError> {
        self.render_to(ctx, out)
    }

    /// Writes the rendered text to any `fmt::Write` (an escaping or percent-encoding
    /// writer, say). On error the writer may have received part of the rendering.
    pub fn render_to<W: fmt::Write>(
        &self,
        ctx: &mut RenderCtx<'_>,
        w: &mut W,
    ) -> Result<(), RenderError> {
        for segment in &self.segments {
            match segment {
                Segment::Text(t) => w.write_str(t)?,
                Segment::Expr(root) => self.program.write_text(*root, ctx, w)?,
            }
        }
        Ok(())
    }

    /// The template's value: a whole expression keeps its type (`"{{ int(1, 3) }}"` is a
    /// number); anything else is the rendered text as a JSON string.
    pub fn eval(&self, ctx: &mut RenderCtx<'_>) -> Result<Value, RenderError> {
        if let Some(root) = self.whole_root() {
            return self.program.eval(root, ctx)?.into_json();
        }
        if let Some(text) = self.as_static() {
            return Ok(Value::String(text.to_string()));
        }
        let mut s = String::new();
        self.render_to(ctx, &mut s)?;
        Ok(Value::String(s))
    }

    /// Appends the template's value as one compact JSON value, typed as in
    /// [`Template::eval`], without building a `serde_json::Value`.
    pub fn write_json(
        &self,
        ctx: &mut RenderCtx<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), RenderError> {
        if let Some(root) = self.whole_root() {
            return self.program.write_json(root, ctx, out);
        }
        if let Some(text) = self.as_static() {
            json_text::quoted_into(out, text);
            return Ok(());
        }
        out.push(b'"');
        self.render_to(ctx, &mut JsonEscaper(out))?;
        out.push(b'"');
        Ok(())
    }
}
