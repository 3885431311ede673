//! barrage-openapi: from an OpenAPI 3.0/3.1 document to a scenario that runs as written.
//!
//! [`load`] reads the document (file, URL, or a service's base URL); [`generate`] writes
//! the scenario as YAML text: one task per operation, grouped into user types by tag;
//! parameters and bodies generated from their schemas as templates, valid by construction
//! and different on every request ([`values`]); ids flowing from links, creates and lists
//! to the reads, updates and deletes that need them ([`flows`]); logins and keys from environment
//! variables with no default ([`security`]); nothing that deletes or re-keys the logged-in
//! account, no privilege granted, health routes weighed low (`build::identity`); and, with `--check-responses`, checks that each response's
//! status is documented and its JSON body matches the documented schema ([`conformance`]).
//!
//! The output is text, written by hand ([`yaml`]), because its comments (where each value
//! came from, what to edit) matter as much as its values. It is meant to pass `barrage
//! validate` and run without edits; the tests hold it to that by parsing and compiling
//! every generated file, and by running them against FastAPI apps.
//!
//! Must not: send load or any request but the one GET that fetches the document (or, with
//! [`load_from_app`], start anything but the one Python process that reads it from the app
//! object); depend on the engine (the scenario format is the contract between the two).

mod app;
mod body;
mod build;
pub mod conformance;
pub mod document;
mod draft;
pub mod error;
pub mod flows;
pub mod security;
pub mod select;
mod source;
pub mod values;
pub mod yaml;

pub use app::{load_from_app, DEFAULT_APP_TIMEOUT, DEFAULT_PYTHON};
pub use document::{Document, Operation, Version};
pub use error::UnmatchedFilter;
pub use error::{GenError, InitError, LoadError, RefError};
pub use select::{Filter, Selection, Weights, WeightsError};
pub use source::{load, parse};

use draft::{Draft, TaskDraft, UserDraft};

/// What `barrage init --openapi` was asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub selection: Selection,
    pub weights: Weights,
    /// `--check-responses`: add status and schema checks from the document.
    pub check_responses: bool,
    /// The command that made the file, for its header comment.
    pub command: String,
    /// The think time written in `defaults` (`0.5s..1.5s`, `none`); `None`:
    /// [`DEFAULT_THINK`].
    pub think: Option<String>,
}

/// Think time between iterations written into a generated file: people pause between
/// clicks, and without a pause each user sends as fast as the service answers, which
/// makes the cheapest route the busiest. Short enough that a 30 s run of 10 users
/// reaches every task.
pub const DEFAULT_THINK: &str = "0.5s..1.5s";

/// A generated scenario.
#[derive(Debug, Clone)]
pub struct Output {
    pub yaml: String,
    /// One line per operation left out or generated with a caveat.
    pub warnings: Vec<String>,
    /// Tasks written (left-out ones included).
    pub tasks: usize,
    /// Tasks written commented out.
    pub left_out: usize,
    /// Environment variables the scenario reads (credentials).
    pub env: Vec<String>,
}

/// Writes the scenario for `doc`.
pub fn generate(doc: &Document, opts: &Options) -> Result<Output, InitError> {
    let (ops, ref_errors) = doc.operations();
    opts.selection.check(&ops)?;
    let mut warnings: Vec<String> = ref_errors
        .iter()
        .map(|(key, e)| format!("{key}: left out: {e}"))
        .collect();
    let mut skipped: Vec<String> = Vec::new();
    let selected: Vec<usize> = (0..ops.len())
        .filter(|&i| match opts.selection.wants(&ops[i]) {
            Ok(()) => true,
            Err(why) => {
                skipped.push(format!("{}: {why}", ops[i].key()));
                false
            }
        })
        .collect();
    if ops.is_empty() && !warnings.is_empty() {
        return Err(InitError::NothingUsable(warnings.join("\n")));
    }
    if selected.is_empty() {
        let why = if ops.is_empty() {
            "the document has no operations under `paths`".to_string()
        } else {
            format!(
                "all {} operations were left out ({})",
                ops.len(),
                skipped.join("; ")
            )
        };
        return Err(InitError::NothingSelected(why));
    }
    let all_logins = security::logins(doc);
    let token_paths: Vec<&str> = all_logins.iter().map(|l| l.token_url.as_str()).collect();
    let any_tags = selected.iter().any(|&i| !ops[i].tags().is_empty());
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for &i in &selected {
        let name = match ops[i].tags().first() {
            Some(tag) => build::user_name(tag),
            None if any_tags => "untagged".to_string(),
            None => "user".to_string(),
        };
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, list)) => list.push(i),
            None => groups.push((name, vec![i])),
        }
    }

    let mut builder = build::Builder::new(doc, &ops, opts);
    builder.selected = selected.clone();
    let mut built = Vec::new();
    let mut token_ops = Vec::new();
    for (name, members) in groups {
        builder.take_logins();
        let (tokens, regular): (Vec<usize>, Vec<usize>) = members
            .into_iter()
            .partition(|&i| ops[i].method == "post" && token_paths.contains(&ops[i].path.as_str()));
        let drafts: Vec<TaskDraft> = regular.iter().flat_map(|&i| builder.tasks(i)).collect();
        token_ops.extend(tokens.into_iter().map(|i| (built.len(), i)));
        built.push((name, drafts, builder.take_logins()));
    }
    // A token endpoint is exercised by the logins in `setup`; only when no operation
    // needs its login does it become a task of its own.
    let mut env: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    for (group, i) in token_ops {
        let op = &ops[i];
        let used = built
            .iter()
            .any(|(_, _, logins)| logins.iter().any(|l| l.token_url == op.path));
        if used {
            notes.push(format!("{} runs in `setup`: it is the login.", op.key()));
            continue;
        }
        let login = all_logins
            .iter()
            .find(|l| l.token_url == op.path)
            .expect("token operations are those whose path is a login's token URL");
        env.extend(login.env.iter().cloned());
        built[group].1.push(TaskDraft {
            key: op.key(),
            weight: builder.weight(i),
            comments: vec!["the OAuth2 token endpoint: logs in".into()],
            steps: vec![build::login_step(login)],
            left_out: None,
            utility: false,
        });
    }
    let mut users = Vec::new();
    let (mut tasks, mut left_out) = (0, 0);
    for (name, drafts, logins) in built {
        if drafts.is_empty() {
            continue;
        }
        for login in &logins {
            env.extend(login.env.iter().cloned());
        }
        for t in &drafts {
            tasks += 1;
            if let Some(reason) = &t.left_out {
                left_out += 1;
                warnings.push(format!("{}: written commented out: {reason}", t.key));
            }
        }
        // Users follow the operations: a tag's share of users is its number of tasks that
        // run, and a tag of only health and utility routes gets the least share.
        let runnable: Vec<&TaskDraft> = drafts.iter().filter(|t| t.left_out.is_none()).collect();
        let weight = if runnable.iter().all(|t| t.utility) {
            1
        } else {
            u32::try_from(runnable.len()).unwrap_or(u32::MAX).max(1)
        };
        users.push(UserDraft {
            weight,
            note: if any_tags && name != "untagged" {
                format!("operations tagged `{name}`")
            } else {
                String::new()
            },
            name,
            setup: logins.iter().map(build::login_step).collect(),
            tasks: drafts,
        });
    }
    if left_out == tasks {
        return Err(InitError::NothingUsable(warnings.join("\n")));
    }
    env.extend(builder.env.iter().cloned());
    env.sort();
    env.dedup();
    let (target, target_note) = target(doc);
    let draft = Draft {
        think: opts
            .think
            .clone()
            .unwrap_or_else(|| DEFAULT_THINK.to_string()),
        header: header(doc, opts, &env, tasks, left_out, &skipped, &notes),
        target,
        target_note,
        users,
    };
    Ok(Output {
        yaml: draft.render(),
        warnings,
        tasks,
        left_out,
        env,
    })
}

/// A generated file with each credential, `{{ env(\"NAME\") }}` as written inside a YAML
/// double-quoted string, replaced by the text `NAME`: what checks that the file compiles
/// use, since an unset variable is (on purpose) a compile error.
pub fn placeholder_credentials(yaml: &str) -> String {
    const OPEN: &str = "{{ env(\\\"";
    const CLOSE: &str = "\\\") }}";
    let mut out = String::with_capacity(yaml.len());
    let mut rest = yaml;
    while let Some(at) = rest.find(OPEN) {
        let after = &rest[at + OPEN.len()..];
        let Some(end) = after.find(CLOSE) else { break };
        out.push_str(&rest[..at]);
        out.push_str(&after[..end]);
        rest = &after[end + CLOSE.len()..];
    }
    out.push_str(rest);
    out
}

/// Where the service is: the server the document names, else the place it was fetched
/// from (plus the server's base path), else the FastAPI default.
fn target(doc: &Document) -> (String, String) {
    let (base_path, absolute) = doc.server();
    if let Some(url) = absolute {
        return (
            url.as_str().trim_end_matches('/').to_string(),
            "from `servers` in the document".into(),
        );
    }
    if let Some(fetched) = &doc.fetched_from {
        let origin = fetched.origin().ascii_serialization();
        return (
            format!("{origin}{base_path}"),
            "where the document was fetched from; -H overrides".into(),
        );
    }
    (
        format!("http://127.0.0.1:8000{base_path}"),
        "the document names no server: edit this, or pass -H".into(),
    )
}

#[allow(clippy::too_many_arguments)]
fn header(
    doc: &Document,
    opts: &Options,
    env: &[String],
    tasks: usize,
    left_out: usize,
    skipped: &[String],
    notes: &[String],
) -> Vec<String> {
    let mut h = vec![
        format!(
            "Generated by `{}` from {} (\"{}\", OpenAPI {}).",
            if opts.command.is_empty() { "barrage init --openapi" } else { &opts.command },
            doc.source,
            doc.title(),
            doc.version_text
        ),
        "Runs as written: `barrage run THIS_FILE` (try `--debug` first: one user, every task once).".into(),
        "Each `{{ ... }}` draws a new valid value per request; comments say where values came".into(),
        "from. Edit freely: weights, values, checks. `barrage validate THIS_FILE` checks edits.".into(),
    ];
    if !env.is_empty() {
        h.push(format!(
            "Credentials come from the environment, with no default: set {} (validate and \
             run name any that is unset).",
            env.join(", ")
        ));
    }
    if left_out > 0 {
        h.push(format!(
            "{left_out} of {tasks} tasks are LEFT OUT (commented out): search for LEFT OUT."
        ));
    }
    h.extend(notes.iter().cloned());
    let deprecated = skipped.iter().filter(|s| s.contains("deprecated")).count();
    if deprecated > 0 {
        h.push(format!(
            "{deprecated} deprecated operation(s) not included (--include-deprecated)."
        ));
    }
    h
}

#[cfg(test)]
use serde_json::Value;

#[cfg(test)]
mod tests;
