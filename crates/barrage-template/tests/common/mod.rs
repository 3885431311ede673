//! Shared fixtures: a user with a few variables and a data row, and a resolver for them.
#![allow(dead_code)]

use barrage_scenario::{Span, Spanned, Value as Yaml};
use barrage_template::{RenderCtx, RenderError, Slot, Template};
use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde_json::{json, Value};

/// Variables: token = "abc", id = 42, items = ["a","b","c"], unset (never saved),
/// empty = [], quote = `say "hi"\n`.
pub fn resolve(name: &str) -> Option<Slot> {
    Some(match name {
        "token" => Slot::Var(0),
        "id" => Slot::Var(1),
        "items" => Slot::Var(2),
        "unset" => Slot::Var(3),
        "empty" => Slot::Var(4),
        "quote" => Slot::Var(5),
        "accounts.username" => Slot::Data {
            source: 0,
            column: 0,
        },
        "accounts.age" => Slot::Data {
            source: 0,
            column: 1,
        },
        "accounts.missing" => Slot::Data {
            source: 0,
            column: 9,
        },
        _ => return None,
    })
}

pub struct User {
    pub vars: Vec<Option<Value>>,
    pub rows: Vec<Vec<Value>>,
    pub rng: SmallRng,
    pub user_id: u64,
    pub iteration: u64,
}

impl User {
    pub fn new() -> Self {
        User {
            vars: vec![
                Some(json!("abc")),
                Some(json!(42)),
                Some(json!(["a", "b", "c"])),
                None,
                Some(json!([])),
                Some(json!("say \"hi\"\n")),
            ],
            rows: vec![vec![json!("alice"), json!("31")]],
            rng: SmallRng::seed_from_u64(42),
            user_id: 7,
            iteration: 3,
        }
    }

    pub fn with<R>(&mut self, f: impl FnOnce(&mut RenderCtx<'_>) -> R) -> R {
        let rows: Vec<&[Value]> = self.rows.iter().map(Vec::as_slice).collect();
        let mut ctx = RenderCtx {
            vars: &self.vars,
            user_id: self.user_id,
            iteration: self.iteration,
            rng: &mut self.rng,
            data: &rows,
        };
        f(&mut ctx)
    }

    pub fn render(&mut self, t: &Template) -> Result<String, RenderError> {
        let mut out = String::new();
        self.with(|ctx| t.render(ctx, &mut out))?;
        Ok(out)
    }

    pub fn eval(&mut self, t: &Template) -> Result<Value, RenderError> {
        self.with(|ctx| t.eval(ctx))
    }
}

/// Parses and binds `src` with [`resolve`]; panics with the error on failure.
pub fn compile(src: &str) -> Template {
    let mut t = Template::parse(src).unwrap_or_else(|e| panic!("parse {src:?}: {e:?}"));
    t.bind(&mut resolve)
        .unwrap_or_else(|e| panic!("bind {src:?}: {e:?}"));
    t
}

pub fn render(src: &str) -> String {
    User::new().render(&compile(src)).unwrap()
}

pub fn eval(src: &str) -> Value {
    User::new().eval(&compile(src)).unwrap()
}

pub fn sp<T>(value: T, start: usize, end: usize) -> Spanned<T> {
    Spanned::new(value, Span::new(start, end))
}

pub fn ystr(s: &str) -> Spanned<Yaml> {
    sp(Yaml::String(s.to_string()), 0, 0)
}
