//! User types and their tasks, including the single-user shorthand.
//!
//! The shorthand exists because most scenarios have one kind of user: `tasks:` (with
//! `setup:` and `think:`) at the top level is read as `users: { user: { ... } }`. Mixing it
//! with `users:` is an error rather than a merge, so there is never a question of which
//! part of the file a user type came from.

use crate::decode::step::steps;
use crate::decode::value::{self, fields, map, Field};
use crate::decode::{mentions, time, Ctx};
use crate::keys;
use crate::model::{Spanned, Task, UserType};
use crate::node::{Kind, Node};

const WEIGHT: &str = "a whole number of at least 1";

/// Top-level `setup`, `tasks` and `think`, when given.
#[derive(Default)]
pub(super) struct Shorthand<'n> {
    pub setup: Option<Field<'n>>,
    pub tasks: Option<Field<'n>>,
    pub think: Option<Field<'n>>,
}

impl Shorthand<'_> {
    pub fn reject_with_users(&self, ctx: &mut Ctx) {
        for field in [&self.setup, &self.tasks].into_iter().flatten() {
            ctx.error_help(
                field.key.span,
                format!(
                    "top-level `{}` is the shorthand for a single user type and cannot be \
                     used with `users`",
                    field.name
                ),
                "move it under one of the user types in `users`",
            );
        }
        if let Some(think) = &self.think {
            ctx.error_help(
                think.key.span,
                "top-level `think` is the shorthand for a single user type and cannot be used \
                 with `users`",
                "to set the think time of every user type, use `defaults: { think: ... }`",
            );
        }
    }

    /// The user type named `user` the shorthand stands for; `None` without `tasks`.
    pub fn into_user_type(self, ctx: &mut Ctx) -> Option<UserType> {
        let Some(tasks_field) = self.tasks else {
            for field in [&self.setup, &self.think].into_iter().flatten() {
                ctx.error_help(
                    field.key.span,
                    format!("top-level `{}` without `tasks`", field.name),
                    "add `tasks:` next to it, or put it under a user type in `users`",
                );
            }
            return None;
        };
        let span = tasks_field.key.span;
        Some(UserType {
            name: Spanned::new("user".to_string(), span),
            weight: Spanned::new(1, span),
            think: self.think.and_then(|f| time::think(ctx, f.value)),
            setup: self
                .setup
                .map(|f| steps(ctx, f.value, false))
                .unwrap_or_default(),
            tasks: tasks(ctx, tasks_field.key, tasks_field.value),
        })
    }
}

pub(super) fn users(ctx: &mut Ctx, key: &Node, node: &Node) -> Vec<UserType> {
    if let Some(s) = node.as_scalar() {
        if s.text.parse::<u64>().is_ok() {
            value::mismatch_help(
                ctx,
                node,
                "a mapping of user types",
                format!(
                    "the number of users goes in `load: {{ users: {} }}`",
                    s.text
                ),
            );
            return Vec::new();
        }
    }
    let Some(entries) = map(ctx, node, "a mapping of user types") else {
        return Vec::new();
    };
    if entries.is_empty() {
        ctx.error_help(
            key.span,
            "`users` has no user types",
            "add one, like `shopper: { tasks: { browse: [ { get: / } ] } }`",
        );
    }
    let mut users = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let Some(name) = value::key(ctx, k) else {
            continue;
        };
        if let Some(user) = user_type(ctx, name, v) {
            users.push(user);
        }
    }
    users
}

fn user_type(ctx: &mut Ctx, name: Spanned<String>, node: &Node) -> Option<UserType> {
    let help = "a user type is a mapping with `tasks:` (and optionally `weight`, `think`, `setup`)";
    let entries = if let Kind::Map(_) = node.kind {
        map(ctx, node, "a user type")?
    } else {
        value::mismatch_help(ctx, node, "a user type", help);
        return None;
    };
    // A default was not written anywhere; its span is that of the name it belongs to.
    let mut user = UserType {
        weight: Spanned::new(1, name.span),
        name,
        think: None,
        setup: Vec::new(),
        tasks: Vec::new(),
    };
    let mut ok = true;
    for field in fields(ctx, entries, keys::USER_TYPE, "in a user type") {
        match field.name {
            "weight" => match value::u32_at_least(ctx, field.value, WEIGHT, 1) {
                Some(w) => user.weight = w,
                None => ok = false,
            },
            "think" => user.think = time::think(ctx, field.value),
            "setup" => user.setup = steps(ctx, field.value, false),
            "tasks" => user.tasks = tasks(ctx, field.key, field.value),
            // `fields` yields only the names listed in `keys::USER_TYPE`.
            _ => {}
        }
    }
    if !mentions(entries, "tasks", keys::USER_TYPE) {
        ctx.error_help(
            user.name.span,
            format!("user type `{}` has no `tasks`", user.name.value),
            "add `tasks:` with at least one task, like `browse: [ { get: / } ]`",
        );
        ok = false;
    }
    ok.then_some(user)
}

pub(super) fn tasks(ctx: &mut Ctx, key: &Node, node: &Node) -> Vec<Task> {
    const EXPECTED: &str = "a mapping of task names to tasks";
    if let Kind::Seq(_) = node.kind {
        value::mismatch_help(
            ctx,
            node,
            EXPECTED,
            "tasks have names: write `tasks: { browse: [ ...steps... ] }`",
        );
        return Vec::new();
    }
    let Some(entries) = map(ctx, node, EXPECTED) else {
        return Vec::new();
    };
    if entries.is_empty() {
        ctx.error_help(
            key.span,
            "`tasks` is empty",
            "add at least one task, like `browse: [ { get: / } ]`",
        );
    }
    let mut tasks = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let Some(name) = value::key(ctx, k) else {
            continue;
        };
        if let Some(task) = task(ctx, name, v) {
            tasks.push(task);
        }
    }
    tasks
}

/// `name: { weight: 2, steps: [...] }`, or `name: [...]` for weight 1.
fn task(ctx: &mut Ctx, name: Spanned<String>, node: &Node) -> Option<Task> {
    let default_weight = Spanned::new(1, name.span);
    if let Kind::Seq(_) = node.kind {
        let steps = steps(ctx, node, true);
        return Some(Task {
            name,
            weight: default_weight,
            steps,
        });
    }
    let entries = map(
        ctx,
        node,
        "a task (a list of steps, or `{ weight, steps }`)",
    )?;
    let mut weight = Some(default_weight);
    let mut task_steps = None;
    for field in fields(ctx, entries, keys::TASK, "in a task") {
        match field.name {
            "weight" => weight = value::u32_at_least(ctx, field.value, WEIGHT, 1),
            "steps" => task_steps = Some(steps(ctx, field.value, true)),
            // `fields` yields only the names listed in `keys::TASK`.
            _ => {}
        }
    }
    let Some(task_steps) = task_steps else {
        if !mentions(entries, "steps", keys::TASK) {
            ctx.error_help(
                name.span,
                format!("task `{}` has no `steps`", name.value),
                "add `steps:` with a list of requests, like `- get: /items`",
            );
        }
        return None;
    };
    Some(Task {
        name,
        weight: weight?,
        steps: task_steps,
    })
}
