//! The scenario about to be written: user types, tasks and steps with their comments, and
//! how each is written as YAML.
//!
//! A small model of its own rather than `barrage_scenario::Scenario`: that one holds what
//! a file *says* (with spans), this one what a file *will say and why* (notes for
//! comments, tasks left out with their reason), in the order it will be written.

use serde_json::Value;

use crate::values::{Gen, Generated};
use crate::yaml::{self, Lines};

pub struct Draft {
    /// Comment lines at the top of the file.
    pub header: Vec<String>,
    pub target: String,
    pub target_note: String,
    /// Think time between iterations, for `defaults`.
    pub think: String,
    pub users: Vec<UserDraft>,
}

pub struct UserDraft {
    pub name: String,
    /// Share of the users.
    pub weight: u32,
    pub note: String,
    pub setup: Vec<StepDraft>,
    pub tasks: Vec<TaskDraft>,
}

pub struct TaskDraft {
    /// `get /items/{item_id}`.
    pub key: String,
    pub weight: u32,
    pub comments: Vec<String>,
    pub steps: Vec<StepDraft>,
    /// Written commented out, with this reason, when the task cannot run as generated.
    pub left_out: Option<String>,
    /// A health or utility route (weighs little, and so does a user type of only those).
    pub utility: bool,
}

#[derive(Clone)]
pub struct StepDraft {
    pub comments: Vec<String>,
    pub method: &'static str,
    /// The URL as a template (`/items/{{ item_id }}`).
    pub url: String,
    /// Statistics name: the path template as documented.
    pub name: String,
    pub query: Vec<(String, Gen, String)>,
    pub headers: Vec<(String, String, String)>,
    pub body: BodyDraft,
    pub save: Vec<SaveDraft>,
    /// Accepted statuses as written (`2xx`, `404`), each with a note.
    pub status: Vec<(String, String)>,
    /// `check: schema:` entries: status key and standalone JSON Schema.
    pub schemas: Vec<(String, Value)>,
}

/// `save:` of one variable from a JSONPath, with a default when the value may be missing.
#[derive(Clone, PartialEq)]
pub struct SaveDraft {
    pub var: String,
    pub json_path: String,
    /// Static JSON used when the path finds nothing, and the note its comment shows.
    pub default: Option<(Value, String)>,
}

#[derive(Clone)]
pub enum BodyDraft {
    None,
    Json(Generated),
    /// Field name, value (a scalar), note.
    Form(Vec<(String, Gen, String)>),
    Multipart(Vec<PartDraft>),
    /// A body sent as written, with its content type in a header.
    Raw {
        text: String,
        note: String,
    },
}

#[derive(Clone)]
pub enum PartDraft {
    Text {
        name: String,
        value: Gen,
        note: String,
    },
    /// A file part with generated content.
    File {
        name: String,
        content: String,
        filename: String,
        content_type: String,
        note: String,
    },
}

impl Draft {
    pub fn render(&self) -> String {
        let mut out = Lines::default();
        for h in &self.header {
            out.comment(0, h);
        }
        out.blank();
        out.push_noted(
            0,
            format!("target: {}", yaml::scalar(&self.target)),
            &self.target_note,
        );
        out.push(0, "defaults:");
        out.push(2, "headers:");
        out.push(4, "accept: application/json");
        out.push_noted(
            2,
            format!("think: {}", yaml::scalar(&self.think)),
            "pause between iterations, for every user type: `none` sends as fast as answers come",
        );
        out.blank();
        out.push(0, "users:");
        for user in &self.users {
            user.render(&mut out);
        }
        out.blank();
        out.comment(
            0,
            "Bounded on purpose: raise users and duration for a real test (flags override: -u -t).",
        );
        out.push(0, "load:");
        out.push(2, "users: 10");
        out.push(2, "spawn_rate: 10");
        out.push(2, "duration: 30s");
        out.render()
    }
}

impl UserDraft {
    fn render(&self, out: &mut Lines) {
        let mut user = Lines::default();
        user.push_noted(2, format!("{}:", yaml::scalar(&self.name)), &self.note);
        user.push_noted(
            4,
            format!("weight: {}", self.weight),
            "share of users: its tasks that run; health and utility routes least",
        );
        if !self.setup.is_empty() {
            user.push(4, "setup:");
            for step in &self.setup {
                step.render(&mut user, 6);
            }
        }
        user.push(4, "tasks:");
        for task in &self.tasks {
            task.render(&mut user);
        }
        // A user type needs one task that runs; without one it is left out as a whole.
        if self.tasks.iter().all(|t| t.left_out.is_some()) {
            out.comment(
                2,
                &format!("LEFT OUT: every task of `{}` is left out", self.name),
            );
            out.extend(user.commented_out());
        } else {
            out.extend(user);
        }
    }
}

impl TaskDraft {
    fn render(&self, out: &mut Lines) {
        for c in &self.comments {
            out.comment(6, c);
        }
        let mut body = Lines::default();
        body.push(6, format!("{}:", yaml::scalar(&self.key)));
        body.push(8, format!("weight: {}", self.weight));
        body.push(8, "steps:");
        for step in &self.steps {
            step.render(&mut body, 10);
        }
        match &self.left_out {
            None => out.extend(body),
            Some(reason) => {
                out.comment(6, &format!("LEFT OUT: {reason}"));
                out.comment(
                    6,
                    "Fix the value below (or the document), then remove the `# `s.",
                );
                out.extend(body.commented_out());
            }
        }
    }
}

impl StepDraft {
    /// Writes `- method: url` and its options with the dash at `indent`.
    pub fn render(&self, out: &mut Lines, indent: usize) {
        for c in &self.comments {
            out.comment(indent, c);
        }
        let at = indent + 2;
        out.push(
            indent,
            format!("- {}: {}", self.method, url_scalar(&self.url)),
        );
        out.push(at, format!("name: {}", yaml::scalar(&self.name)));
        if !self.query.is_empty() {
            out.push(at, "query:");
            for (name, value, note) in &self.query {
                out.entry(at + 2, name, value, note);
            }
        }
        if !self.headers.is_empty() {
            out.push(at, "headers:");
            for (name, value, note) in &self.headers {
                out.push_noted(
                    at + 2,
                    format!("{}: {}", yaml::scalar(name), text(value)),
                    note,
                );
            }
        }
        match &self.body {
            BodyDraft::None => {}
            BodyDraft::Json(g) => out.entry(at, "json", &g.gen, &g.note),
            BodyDraft::Form(fields) => {
                out.push(at, "form:");
                for (name, value, note) in fields {
                    out.entry(at + 2, name, value, note);
                }
            }
            BodyDraft::Multipart(parts) => {
                out.push(at, "multipart:");
                for part in parts {
                    part.render(out, at + 2);
                }
            }
            BodyDraft::Raw { text: t, note } => {
                out.push_noted(at, format!("body: {}", text(t)), note);
            }
        }
        if !self.save.is_empty() {
            out.push(at, "save:");
            for save in &self.save {
                save.render(out, at + 2);
            }
        }
        if self.status.is_empty() && self.schemas.is_empty() {
            return;
        }
        out.push(at, "check:");
        match self.status.as_slice() {
            [] => {}
            [(s, note)] => out.push_noted(at + 2, format!("status: {}", status_scalar(s)), note),
            many => {
                out.push(at + 2, "status:");
                for (s, note) in many {
                    out.push_noted(at + 4, format!("- {}", status_scalar(s)), note);
                }
            }
        }
        if !self.schemas.is_empty() {
            out.push_noted(
                at + 2,
                "schema:",
                "the JSON body must match the documented schema for its status (--check-responses)",
            );
            for (status, schema) in &self.schemas {
                out.entry(at + 4, status, &Gen::Literal(schema.clone()), "");
            }
        }
    }
}

impl SaveDraft {
    fn render(&self, out: &mut Lines, indent: usize) {
        let path = yaml::single_quoted(&self.json_path);
        let Some((default, note)) = &self.default else {
            out.push(indent, format!("{}: {path}", self.var));
            return;
        };
        out.push(indent, format!("{}:", self.var));
        out.push(indent + 2, format!("jsonpath: {path}"));
        // A default is static JSON, never a template: a string is written as it is.
        let value = match default {
            Value::String(s) => yaml::scalar(s),
            other => yaml::literal(other),
        };
        out.push_noted(indent + 2, format!("default: {value}"), note);
    }
}

impl PartDraft {
    fn render(&self, out: &mut Lines, indent: usize) {
        match self {
            PartDraft::Text { name, value, note } => out.entry(indent, name, value, note),
            PartDraft::File {
                name,
                content,
                filename,
                content_type,
                note,
            } => {
                out.push_noted(indent, format!("{}:", yaml::scalar(name)), note);
                out.push_noted(
                    indent + 2,
                    format!("content: {}", text(content)),
                    "generated file content; or `file: path` to send a file",
                );
                out.push(indent + 2, format!("filename: {}", yaml::scalar(filename)));
                out.push(
                    indent + 2,
                    format!("content_type: {}", yaml::scalar(content_type)),
                );
            }
        }
    }
}

/// A string that may be a template.
fn text(s: &str) -> String {
    if s.contains("{{") {
        yaml::template(s)
    } else {
        yaml::scalar(s)
    }
}

fn url_scalar(url: &str) -> String {
    text(url)
}

/// `2xx` and `404` are written as YAML reads them back into the check: codes as numbers.
fn status_scalar(s: &str) -> String {
    if s.parse::<u16>().is_ok() {
        s.to_string()
    } else {
        yaml::scalar(s)
    }
}
