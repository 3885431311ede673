//! Running a compiled [`Program`]: the per-request half of the expression language.
//!
//! Three ways to run an expression, each avoiding work the others would do:
//! - [`Program::write_text`] writes its text straight into the caller's writer; strings,
//!   numbers and UUIDs are never put in a temporary `String`, and `upper()`/`lower()`/
//!   `string()` map or generate character by character.
//! - [`Program::write_json`] writes it as one JSON value (a whole-expression template
//!   inside a JSON body), escaping strings on the way.
//! - [`Program::eval`] yields a [`Val`] that borrows variables, data and literals; only
//!   nested calls that build new text (`upper(x)` as an argument) allocate.

use std::fmt::{self, Write as _};

use rand::Rng;
use serde_json::Value;

use crate::ctx::{RenderCtx, Slot};
use crate::error::RenderError;
use crate::expr::{Const, Node, Program};
use crate::functions::{self, Func};
use crate::json_text::{self, JsonEscaper};

/// An evaluated expression; borrows from the template and the context where it can.
#[derive(Debug, Clone)]
pub(crate) enum Val<'t> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'t str),
    Owned(String),
    Json(&'t Value),
    Uuid(uuid::Uuid),
}

impl Val<'_> {
    /// The value as an integer, if it is one (numbers with no fraction and integer text
    /// count, so CSV columns work as arguments).
    fn as_i64(&self) -> Option<i64> {
        match self {
            Val::Int(n) => Some(*n),
            Val::Float(f) => float_to_i64(*f),
            Val::Str(s) => s.trim().parse().ok(),
            Val::Owned(s) => s.trim().parse().ok(),
            Val::Json(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().and_then(float_to_i64)),
            Val::Json(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn as_f64(&self) -> Option<f64> {
        let f = match self {
            Val::Int(n) => Some(*n as f64),
            Val::Float(f) => Some(*f),
            Val::Str(s) => s.trim().parse().ok(),
            Val::Owned(s) => s.trim().parse().ok(),
            Val::Json(Value::Number(n)) => n.as_f64(),
            Val::Json(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        f.filter(|f| f.is_finite())
    }

    /// Writes the value as text: strings raw, everything else as JSON text (`null`,
    /// `true`, `3.5`, `[1,2]`).
    pub fn write_text<W: fmt::Write + ?Sized>(&self, w: &mut W) -> fmt::Result {
        match self {
            Val::Null => w.write_str("null"),
            Val::Bool(b) => w.write_str(if *b { "true" } else { "false" }),
            Val::Int(n) => json_text::write_int(w, *n),
            Val::Float(f) => json_text::write_float(w, *f),
            Val::Str(s) => w.write_str(s),
            Val::Owned(s) => w.write_str(s),
            Val::Json(Value::String(s)) => w.write_str(s),
            Val::Json(v) => write!(w, "{v}"),
            Val::Uuid(u) => w.write_str(
                u.hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer()),
            ),
        }
    }

    /// Appends the value as one JSON value.
    pub fn write_json(&self, out: &mut Vec<u8>) -> Result<(), RenderError> {
        match self {
            Val::Str(s) => json_text::quoted_into(out, s),
            Val::Owned(s) => json_text::quoted_into(out, s),
            Val::Uuid(_) => {
                out.push(b'"');
                self.write_text(&mut JsonEscaper(out))?;
                out.push(b'"');
            }
            Val::Json(v) => serde_json::to_writer(&mut *out, v)
                .map_err(|e| RenderError::new(format!("cannot write JSON: {e}")))?,
            Val::Float(f) if !f.is_finite() => return Err(not_finite(*f)),
            _ => self.write_text(&mut JsonEscaper(out))?,
        }
        Ok(())
    }

    /// The value as an owned JSON value.
    pub fn into_json(self) -> Result<Value, RenderError> {
        Ok(match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(b),
            Val::Int(n) => Value::from(n),
            Val::Float(f) => serde_json::Number::from_f64(f)
                .map(Value::Number)
                .ok_or_else(|| not_finite(f))?,
            Val::Str(s) => Value::String(s.to_string()),
            Val::Owned(s) => Value::String(s),
            Val::Json(v) => v.clone(),
            Val::Uuid(u) => Value::String(u.to_string()),
        })
    }

    /// A short description for error messages.
    fn describe(&self) -> String {
        let mut s = String::new();
        let _ = match self {
            Val::Str(_) | Val::Owned(_) | Val::Json(Value::String(_)) | Val::Uuid(_) => {
                let mut text = String::new();
                let _ = self.write_text(&mut text);
                write!(s, "{:?}", text)
            }
            _ => self.write_text(&mut s),
        };
        if s.len() > 60 {
            let mut cut = 57;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s.push_str("...");
        }
        s
    }
}

fn float_to_i64(f: f64) -> Option<i64> {
    // 2^63 as f64; every integral f64 in (-2^63, 2^63) converts exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.fract() == 0.0 && f > -LIMIT && f < LIMIT).then_some(f as i64)
}

fn not_finite(f: f64) -> RenderError {
    RenderError::new(format!("{f} cannot be written as JSON"))
}

/// A `fmt::Write` adapter that upper- or lower-cases what passes through it.
struct CaseMap<'w, W: ?Sized> {
    inner: &'w mut W,
    upper: bool,
}

impl<W: fmt::Write + ?Sized> fmt::Write for CaseMap<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.upper {
                c.to_uppercase()
                    .try_for_each(|u| self.inner.write_char(u))?;
            } else {
                c.to_lowercase()
                    .try_for_each(|l| self.inner.write_char(l))?;
            }
        }
        Ok(())
    }
}

fn malformed() -> RenderError {
    RenderError::new("internal error: malformed template program")
}

impl Program {
    fn node_or_err(&self, i: u32) -> Result<&Node, RenderError> {
        self.node(i).ok_or_else(malformed)
    }

    /// Evaluates node `i`.
    pub fn eval<'t, 'a: 't>(
        &'t self,
        i: u32,
        ctx: &mut RenderCtx<'a>,
    ) -> Result<Val<'t>, RenderError> {
        match self.node_or_err(i)? {
            Node::Const(c) => Ok(match c {
                Const::Null => Val::Null,
                Const::Bool(b) => Val::Bool(*b),
                Const::Int(n) => Val::Int(*n),
                Const::Float(f) => Val::Float(*f),
                Const::Str(s) => Val::Str(s),
            }),
            Node::Name { name, slot } => lookup(name, *slot, ctx),
            Node::Call { func, args } => self.call(*func, args, ctx),
        }
    }

    fn call<'t, 'a: 't>(
        &'t self,
        func: Func,
        args: &'t [u32],
        ctx: &mut RenderCtx<'a>,
    ) -> Result<Val<'t>, RenderError> {
        match func {
            Func::Int => {
                let min = self.int_arg(func, args, 0, "min", ctx)?;
                let max = self.int_arg(func, args, 1, "max", ctx)?;
                functions::random_int(ctx.rng, min, max).map(Val::Int)
            }
            Func::Float => {
                let min = self.float_arg(args, 0, "min", ctx)?;
                let max = self.float_arg(args, 1, "max", ctx)?;
                let digits = match args.get(2) {
                    Some(_) => Some(self.int_arg(func, args, 2, "digits", ctx)?),
                    None => None,
                };
                functions::random_float(ctx.rng, min, max, digits).map(Val::Float)
            }
            Func::Uuid => Ok(Val::Uuid(functions::random_uuid(ctx.rng))),
            Func::Choice => {
                if let [only] = args {
                    return match self.eval(*only, ctx)? {
                        Val::Json(Value::Array(items)) if items.is_empty() => {
                            Err(RenderError::new("choice() was given an empty list"))
                        }
                        Val::Json(Value::Array(items)) => {
                            Ok(Val::Json(&items[ctx.rng.random_range(0..items.len())]))
                        }
                        v => Ok(v),
                    };
                }
                self.eval(self.pick(args, ctx)?, ctx)
            }
            Func::Timestamp => Ok(Val::Int(functions::timestamp())),
            Func::TimestampMs => Ok(Val::Int(functions::timestamp_ms())),
            Func::String | Func::Str | Func::Upper | Func::Lower => {
                let mut s = String::new();
                self.write_call_text(func, args, ctx, &mut s)?;
                Ok(Val::Owned(s))
            }
            Func::Env => Err(RenderError::new("template used before it was bound")),
        }
    }

    /// One of several `choice()` arguments, uniformly.
    fn pick(&self, args: &[u32], ctx: &mut RenderCtx<'_>) -> Result<u32, RenderError> {
        if args.is_empty() {
            return Err(malformed());
        }
        Ok(args[ctx.rng.random_range(0..args.len())])
    }

    fn int_arg(
        &self,
        func: Func,
        args: &[u32],
        k: usize,
        what: &str,
        ctx: &mut RenderCtx<'_>,
    ) -> Result<i64, RenderError> {
        let v = self.eval(*args.get(k).ok_or_else(malformed)?, ctx)?;
        v.as_i64().ok_or_else(|| {
            RenderError::new(format!(
                "{}(): `{what}` must be an integer, got {}",
                functions::info_of(func).name,
                v.describe()
            ))
        })
    }

    fn float_arg(
        &self,
        args: &[u32],
        k: usize,
        what: &str,
        ctx: &mut RenderCtx<'_>,
    ) -> Result<f64, RenderError> {
        let v = self.eval(*args.get(k).ok_or_else(malformed)?, ctx)?;
        v.as_f64().ok_or_else(|| {
            RenderError::new(format!(
                "float(): `{what}` must be a number, got {}",
                v.describe()
            ))
        })
    }

    /// Writes node `i` as text. The writer is dynamic because `upper(lower(...))` nests
    /// writer adapters as deep as the expression, which generics cannot express.
    pub fn write_text(
        &self,
        i: u32,
        ctx: &mut RenderCtx<'_>,
        w: &mut dyn fmt::Write,
    ) -> Result<(), RenderError> {
        match self.node_or_err(i)? {
            Node::Call { func, args } => match func {
                Func::String | Func::Str | Func::Upper | Func::Lower => {
                    self.write_call_text(*func, args, ctx, w)
                }
                Func::Choice if args.len() > 1 => {
                    let k = self.pick(args, ctx)?;
                    self.write_text(k, ctx, w)
                }
                _ => Ok(self.eval(i, ctx)?.write_text(w)?),
            },
            _ => Ok(self.eval(i, ctx)?.write_text(w)?),
        }
    }

    fn write_call_text(
        &self,
        func: Func,
        args: &[u32],
        ctx: &mut RenderCtx<'_>,
        w: &mut dyn fmt::Write,
    ) -> Result<(), RenderError> {
        let arg = *args.first().ok_or_else(malformed)?;
        match func {
            Func::String => {
                let len = self.int_arg(func, args, 0, "length", ctx)?;
                functions::write_random_string(ctx.rng, len, w)
            }
            Func::Upper | Func::Lower => {
                let mut mapped = CaseMap {
                    inner: w,
                    upper: func == Func::Upper,
                };
                self.write_text(arg, ctx, &mut mapped)
            }
            _ => self.write_text(arg, ctx, w),
        }
    }

    /// Writes node `i` as one JSON value, keeping its type.
    pub fn write_json(
        &self,
        i: u32,
        ctx: &mut RenderCtx<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), RenderError> {
        match self.node_or_err(i)? {
            Node::Call {
                func: Func::String | Func::Str | Func::Upper | Func::Lower | Func::Uuid,
                ..
            } => {
                out.push(b'"');
                self.write_text(i, ctx, &mut JsonEscaper(out))?;
                out.push(b'"');
                Ok(())
            }
            Node::Call {
                func: Func::Choice,
                args,
            } if args.len() > 1 => {
                let k = self.pick(args, ctx)?;
                self.write_json(k, ctx, out)
            }
            _ => self.eval(i, ctx)?.write_json(out),
        }
    }
}

fn lookup<'t>(name: &str, slot: Option<Slot>, ctx: &RenderCtx<'t>) -> Result<Val<'t>, RenderError> {
    let vars = ctx.vars;
    let data = ctx.data;
    match slot {
        Some(Slot::UserId) => Ok(Val::Int(i64::try_from(ctx.user_id).unwrap_or(i64::MAX))),
        Some(Slot::Iteration) => Ok(Val::Int(i64::try_from(ctx.iteration).unwrap_or(i64::MAX))),
        Some(Slot::Var(v)) => match vars.get(usize::from(v)) {
            Some(Some(value)) => Ok(Val::Json(value)),
            _ => Err(RenderError::new(format!(
                "variable `{name}` is not set (it is saved by a step that has not run or found \
                 nothing)"
            ))),
        },
        Some(Slot::Data { source, column }) => data
            .get(usize::from(source))
            .and_then(|row| row.get(usize::from(column)))
            .map(Val::Json)
            .ok_or_else(|| {
                RenderError::new(format!(
                    "data field `{name}` has no value in the current row"
                ))
            }),
        None => Err(RenderError::new(format!(
            "template used before it was bound (`{name}` has no slot)"
        ))),
    }
}
