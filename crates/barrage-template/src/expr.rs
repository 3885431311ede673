//! The expression language: parsing `{{ ... }}` contents into a flat program, and binding
//! its names to slots.
//!
//! Why by hand and not a general template engine (minijinja, handlebars, tera): an
//! expression here is compiled once, when the scenario is loaded, into a flat array of
//! nodes whose names are already resolved to [`Slot`]s, so a render is an index walk with
//! no parsing, no map look-ups and no allocation for the common cases. Whole-expression
//! templates keep their type (`"{{ float(1, 100, 2) }}"` is a JSON number), and every
//! error points at a byte range of the template source, so the scenario error can show
//! the exact place. A general engine parses or allocates more per render, renders only to
//! text, and reports positions in its own terms. The language is small on purpose:
//! literals, names, function calls; no operators, no control flow.

use crate::ctx::{Slot, BUILTIN_NAMES};
use crate::error::TemplateError;
use crate::functions::{self, Func, MAX_DIGITS, MAX_STRING_LEN};
use crate::lexer::{Lexer, Tok, TokKind};

/// Deepest nesting of calls accepted; deeper is surely a mistake, and the limit keeps
/// parsing and rendering from overflowing the stack on hostile input.
const MAX_DEPTH: usize = 32;

/// A literal, or a value fixed at bind time (`env(...)`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Const {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Const(Const),
    /// A name as written; `slot` is filled by [`Program::bind`].
    Name {
        name: Box<str>,
        slot: Option<Slot>,
    },
    /// A function call; `args` index into [`Program::nodes`].
    Call {
        func: Func,
        args: Box<[u32]>,
    },
}

/// All expressions of one template, as a flat array; children before parents.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Program {
    pub nodes: Vec<Node>,
    /// `(offset, len)` of each node in the template source.
    pub spans: Vec<(usize, usize)>,
}

impl Program {
    pub fn node(&self, i: u32) -> Option<&Node> {
        self.nodes.get(i as usize)
    }

    fn push(&mut self, node: Node, span: (usize, usize)) -> Result<u32, TemplateError> {
        let i = u32::try_from(self.nodes.len())
            .map_err(|_| TemplateError::new(span.0, span.1, "template too large"))?;
        self.nodes.push(node);
        self.spans.push(span);
        Ok(i)
    }

    /// Parses one expression starting at `pos` of `src` and the `}}` after it; returns the
    /// root node and the position after `}}`. `open` is where the `{{` starts.
    pub fn parse_expr(
        &mut self,
        src: &str,
        open: usize,
        pos: usize,
    ) -> Result<(u32, usize), TemplateError> {
        let mut p = Parser {
            lexer: Lexer::new(src, pos),
            peeked: None,
            prog: self,
            open,
        };
        if p.peek()?.kind == TokKind::Close {
            let t = p.take()?;
            return Err(TemplateError::new(open, t.end - open, "empty `{{ }}`")
                .with_help("put an expression inside, like `{{ user_id }}`"));
        }
        let root = p.expr(0)?;
        let t = p.take()?;
        match t.kind {
            TokKind::Close => Ok((root, t.end)),
            TokKind::End => Err(p.unterminated()),
            _ => Err(TemplateError::new(
                t.start,
                t.end - t.start,
                format!("expected `}}}}`, found {}", describe(&t.kind)),
            )
            .with_help("an expression is one value or one function call")),
        }
    }

    /// Every name referenced, with its `(offset, len)` in the source.
    pub fn names(&self) -> impl Iterator<Item = (&str, usize, usize)> {
        self.nodes
            .iter()
            .zip(&self.spans)
            .filter_map(|(n, &(o, l))| match n {
                Node::Name { name, .. } => Some((&**name, o, l)),
                _ => None,
            })
    }

    /// Resolves every name to a slot and evaluates `env()` calls.
    pub fn bind(
        &mut self,
        resolve: &mut dyn FnMut(&str) -> Option<Slot>,
    ) -> Result<(), TemplateError> {
        for i in 0..self.nodes.len() {
            let (offset, len) = self.spans[i];
            if let Node::Name { name, slot } = &mut self.nodes[i] {
                match resolve(name).or_else(|| Slot::builtin(name)) {
                    Some(s) => *slot = Some(s),
                    None => return Err(unknown_variable(name, offset, len)),
                }
            }
            let env_args = match &self.nodes[i] {
                Node::Call {
                    func: Func::Env,
                    args,
                } => args.clone(),
                _ => continue,
            };
            let value = self.env_value(&env_args, offset, len)?;
            self.nodes[i] = Node::Const(Const::Str(value.into()));
        }
        Ok(())
    }

    fn env_value(&self, args: &[u32], offset: usize, len: usize) -> Result<String, TemplateError> {
        let text = |k: usize| match args.get(k).and_then(|&a| self.node(a)) {
            Some(Node::Const(Const::Str(s))) => Some(&**s),
            _ => None,
        };
        let name = text(0).unwrap_or_default();
        match std::env::var(name) {
            Ok(v) => Ok(v),
            Err(std::env::VarError::NotUnicode(_)) => Err(TemplateError::new(
                offset,
                len,
                format!("environment variable `{name}` is not valid UTF-8"),
            )),
            Err(std::env::VarError::NotPresent) => match text(1) {
                Some(default) => Ok(default.to_string()),
                None => Err(TemplateError::new(
                    offset,
                    len,
                    format!("environment variable `{name}` is not set"),
                )
                .with_help(format!(
                    "set it before the run, or give a default: env(\"{name}\", \"...\")"
                ))),
            },
        }
    }
}

fn unknown_variable(name: &str, offset: usize, len: usize) -> TemplateError {
    let err = TemplateError::new(offset, len, format!("unknown variable `{name}`"));
    if let Some(f) = functions::lookup(name) {
        return err.with_help(format!("to call the function, write `{}`", f.usage));
    }
    let builtin = BUILTIN_NAMES
        .iter()
        .find(|b| strsim::jaro_winkler(name, b) > 0.85);
    match builtin {
        Some(b) => err.with_help(format!("did you mean `{b}`?")),
        None => err.with_help(
            "variables come from `save:`, data sources (`NAME.column`) and the built-ins \
             `user_id` and `iteration`",
        ),
    }
}

fn describe(kind: &TokKind<'_>) -> String {
    match kind {
        TokKind::Name(n) => format!("`{n}`"),
        TokKind::Int(n) => format!("`{n}`"),
        TokKind::Float(f) => format!("`{f}`"),
        TokKind::Str(_) => "a string".into(),
        TokKind::LParen => "`(`".into(),
        TokKind::RParen => "`)`".into(),
        TokKind::Comma => "`,`".into(),
        TokKind::Close => "`}}`".into(),
        TokKind::End => "the end of the text".into(),
    }
}

/// What a literal argument must be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Number,
}

struct Parser<'s, 'p> {
    lexer: Lexer<'s>,
    peeked: Option<Tok<'s>>,
    prog: &'p mut Program,
    open: usize,
}

impl<'s> Parser<'s, '_> {
    fn peek(&mut self) -> Result<&Tok<'s>, TemplateError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lexer.next_tok()?);
        }
        // Filled just above.
        Ok(self.peeked.as_ref().expect("peeked token was just filled"))
    }

    fn take(&mut self) -> Result<Tok<'s>, TemplateError> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lexer.next_tok(),
        }
    }

    fn unterminated(&self) -> TemplateError {
        TemplateError::new(self.open, 2, "unterminated `{{`")
            .with_help("close the expression with `}}`")
    }

    fn expr(&mut self, depth: usize) -> Result<u32, TemplateError> {
        let t = self.take()?;
        if depth > MAX_DEPTH {
            return Err(TemplateError::new(
                t.start,
                t.end - t.start,
                format!("expression nested more than {MAX_DEPTH} calls deep"),
            ));
        }
        let span = (t.start, t.end - t.start);
        let c = match t.kind {
            TokKind::Int(n) => Const::Int(n),
            TokKind::Float(f) => Const::Float(f),
            TokKind::Str(s) => Const::Str(s.into()),
            TokKind::Name("true") => Const::Bool(true),
            TokKind::Name("false") => Const::Bool(false),
            TokKind::Name("null") => Const::Null,
            TokKind::Name(name) => {
                if self.peek()?.kind == TokKind::LParen {
                    return self.call(name, t.start, depth);
                }
                let node = Node::Name {
                    name: name.into(),
                    slot: None,
                };
                return self.prog.push(node, span);
            }
            TokKind::End => return Err(self.unterminated()),
            other => {
                return Err(TemplateError::new(
                    t.start,
                    t.end - t.start,
                    format!("expected a value, found {}", describe(&other)),
                ))
            }
        };
        self.prog.push(Node::Const(c), span)
    }

    fn call(&mut self, name: &str, start: usize, depth: usize) -> Result<u32, TemplateError> {
        let info =
            functions::lookup(name).ok_or_else(|| functions::unknown_function(name, start))?;
        self.take()?; // the `(`
        let mut args = Vec::new();
        let end = loop {
            if self.peek()?.kind == TokKind::RParen {
                break self.take()?.end;
            }
            args.push(self.expr(depth + 1)?);
            let t = self.take()?;
            match t.kind {
                TokKind::Comma => {}
                TokKind::RParen => break t.end,
                TokKind::End => return Err(self.unterminated()),
                other => {
                    return Err(TemplateError::new(
                        t.start,
                        t.end - t.start,
                        format!("expected `,` or `)`, found {}", describe(&other)),
                    ))
                }
            }
        };
        let span = (start, end - start);
        if args.len() < info.min_args || args.len() > info.max_args {
            return Err(functions::wrong_arity(info, args.len(), span.0, span.1));
        }
        self.check_literal_args(info.func, &args, span)?;
        self.prog.push(
            Node::Call {
                func: info.func,
                args: args.into(),
            },
            span,
        )
    }

    /// Checks what can be known before any request: literal arguments of the right kind
    /// and in range.
    fn check_literal_args(
        &self,
        func: Func,
        args: &[u32],
        (offset, len): (usize, usize),
    ) -> Result<(), TemplateError> {
        let lit = |k: usize| match args.get(k).and_then(|&a| self.prog.node(a)) {
            Some(Node::Const(c)) => Some(c),
            _ => None,
        };
        let arg_err = |k: usize, msg: String| {
            let (o, l) = args
                .get(k)
                .and_then(|&a| self.prog.spans.get(a as usize).copied())
                .unwrap_or((offset, len));
            TemplateError::new(o, l, msg)
        };
        // `Integer` accepts integer literals only; `Number` accepts floats too.
        let number = |k: usize, name: &str, kind: Kind| -> Result<Option<f64>, TemplateError> {
            match lit(k) {
                Some(Const::Int(n)) => Ok(Some(*n as f64)),
                Some(Const::Float(f)) if kind == Kind::Number => Ok(Some(*f)),
                Some(_) => {
                    let what = match kind {
                        Kind::Integer => "an integer",
                        Kind::Number => "a number",
                    };
                    Err(arg_err(k, format!("`{name}` must be {what}")))
                }
                None => Ok(None),
            }
        };
        match func {
            Func::Int => {
                number(0, "min", Kind::Integer)?;
                number(1, "max", Kind::Integer)?;
                if let (Some(Const::Int(a)), Some(Const::Int(b))) = (lit(0), lit(1)) {
                    if a > b {
                        return Err(TemplateError::new(
                            offset,
                            len,
                            format!("int({a}, {b}): min is greater than max"),
                        )
                        .with_help(format!("write int({b}, {a})")));
                    }
                }
            }
            Func::Float => {
                let min = number(0, "min", Kind::Number)?;
                let max = number(1, "max", Kind::Number)?;
                if let (Some(a), Some(b)) = (min, max) {
                    if a > b {
                        return Err(TemplateError::new(
                            offset,
                            len,
                            format!("float({a}, {b}): min is greater than max"),
                        )
                        .with_help(format!("write float({b}, {a}, ...)")));
                    }
                }
                if let Some(d) = number(2, "digits", Kind::Integer)? {
                    if !(0.0..=MAX_DIGITS as f64).contains(&d) {
                        return Err(arg_err(2, format!("digits must be from 0 to {MAX_DIGITS}")));
                    }
                }
            }
            Func::String => {
                if let Some(n) = number(0, "length", Kind::Integer)? {
                    if !(0.0..=MAX_STRING_LEN as f64).contains(&n) {
                        return Err(arg_err(
                            0,
                            format!("length must be from 0 to {MAX_STRING_LEN}"),
                        ));
                    }
                }
            }
            Func::Env => {
                for k in 0..args.len() {
                    if !matches!(lit(k), Some(Const::Str(_))) {
                        return Err(arg_err(k, "env() takes quoted strings".into())
                            .with_help("write env(\"NAME\") or env(\"NAME\", \"default\")"));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}
