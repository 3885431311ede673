//! The logged-in identity and the shape of real traffic: what a generated run must not do
//! to the account it logs in with, and which operations are plumbing rather than use.
//!
//! A scenario logs in once per user with one account from the environment. An update of
//! that account's email or password, or its deletion, makes every later login fail, so a
//! run sabotages itself after its first iteration (seen on the full-stack FastAPI
//! template). The rules, by the path and the body, since the document does not say which
//! operations act on the caller:
//!
//! - an operation on "me" (`/users/me`, `/me`, `/self`) that deletes, or that changes a
//!   password (a `password` segment), is left out with the reason;
//! - an update of "me" sends no credential field (username, email, password): optional
//!   ones are left out of the body, a required one leaves the operation out;
//! - a body anywhere that changes a password (`current_password`, `old_password`) is left
//!   out, since it needs the real password and changes it.
//!
//! Health and utility routes (`/health`, `/utils/...`, `/ping`, `/metrics`) answer in
//! microseconds and no user calls them; equal weight made them 40 % of a run.

use serde_json::Value;

use crate::document::{Document, Operation};
use crate::draft::BodyDraft;
use crate::values::Gen;

/// Path segments that name the caller's own account.
const ME: [&str; 4] = ["me", "self", "current", "current_user"];
/// Body fields a login is made of: changing one on "me" breaks the next login.
const CREDENTIAL_FIELDS: [&str; 7] = [
    "username",
    "user_name",
    "email",
    "password",
    "new_password",
    "login",
    "phone",
];
/// Body fields only a password change has.
const PASSWORD_CHANGE_FIELDS: [&str; 3] = ["current_password", "old_password", "new_password"];
/// Path segments and tags of routes that are plumbing, not use.
const UTILITY: [&str; 16] = [
    "health",
    "healthz",
    "health-check",
    "healthcheck",
    "ping",
    "status",
    "ready",
    "readyz",
    "live",
    "livez",
    "heartbeat",
    "version",
    "metrics",
    "utils",
    "util",
    "utilities",
];

/// Whether `path` is about the caller's own account (`/users/me`, `/me/password`).
pub fn is_me(path: &str) -> bool {
    segments(path).any(|s| ME.contains(&s.as_str()))
}

/// Why `op` must not run as generated: it would delete or re-key the login's account.
pub fn left_out(doc: &Document, op: &Operation<'_>) -> Option<String> {
    let password_segment = segments(&op.path).any(|s| s.contains("password"));
    if is_me(&op.path) && op.method == "delete" {
        return Some(
            "it deletes the account the scenario logs in with, so every later login would \
             fail; run it by hand if you mean to"
                .into(),
        );
    }
    if is_me(&op.path) && password_segment {
        return Some(
            "it changes the password of the account the scenario logs in with (and needs the \
             current one), so later logins would fail"
                .into(),
        );
    }
    let fields = body_properties(doc, op);
    if let Some(f) = fields
        .iter()
        .find(|f| PASSWORD_CHANGE_FIELDS.contains(&f.as_str()) && f.as_str() != "new_password")
    {
        return Some(format!(
            "its body's `{f}` makes it a password change, which needs the real password and \
             would change the one the scenario logs in with"
        ));
    }
    None
}

/// Removes credential fields from an update of "me"; `Err` names a required one (the
/// operation cannot run without changing the login).
pub fn keep_credentials(
    doc: &Document,
    op: &Operation<'_>,
    body: &mut BodyDraft,
) -> Result<Vec<String>, String> {
    if !is_me(&op.path) || !matches!(op.method, "put" | "patch" | "post") {
        return Ok(Vec::new());
    }
    let required = body_required(doc, op);
    if let Some(r) = required
        .iter()
        .find(|r| CREDENTIAL_FIELDS.contains(&r.to_ascii_lowercase().as_str()))
    {
        return Err(format!(
            "it must send `{r}`, which would change the login of the account the scenario \
             logs in with"
        ));
    }
    let credential = |name: &str| CREDENTIAL_FIELDS.contains(&name.to_ascii_lowercase().as_str());
    let mut removed = Vec::new();
    match body {
        BodyDraft::Json(g) => {
            if let Gen::Object(fields) = &mut g.gen {
                fields.retain(|f| {
                    let keep = !credential(&f.name);
                    if !keep {
                        removed.push(f.name.clone());
                    }
                    keep
                });
            }
        }
        BodyDraft::Form(fields) => fields.retain(|(name, _, _)| {
            let keep = !credential(name);
            if !keep {
                removed.push(name.clone());
            }
            keep
        }),
        _ => {}
    }
    Ok(removed)
}

/// Whether `op` is a health or utility route.
pub fn is_utility(op: &Operation<'_>) -> bool {
    let word = |s: &str| {
        let s = s.to_ascii_lowercase();
        UTILITY.contains(&s.as_str()) || s.contains("health")
    };
    segments(&op.path).any(|s| word(&s)) || op.tags().into_iter().any(word)
}

/// The literal segments of a path, lowercased (`/users/{id}/me` -> users, me).
fn segments(path: &str) -> impl Iterator<Item = String> + '_ {
    path.split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('{'))
        .map(str::to_ascii_lowercase)
}

/// The top-level properties of `op`'s request body (any media type), `allOf` folded.
fn body_properties(doc: &Document, op: &Operation<'_>) -> Vec<String> {
    body_schema(doc, op)
        .and_then(|s| {
            s.get("properties")
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
        })
        .unwrap_or_default()
}

fn body_required(doc: &Document, op: &Operation<'_>) -> Vec<String> {
    body_schema(doc, op)
        .and_then(|s| {
            s.get("required").and_then(Value::as_array).map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
        })
        .unwrap_or_default()
}

fn body_schema(doc: &Document, op: &Operation<'_>) -> Option<Value> {
    let at = format!("{}/requestBody", op.pointer);
    let body = doc.resolve(op.op.get("requestBody")?, &at).ok()?;
    let schema = body
        .get("content")?
        .as_object()?
        .values()
        .find_map(|m| m.get("schema"))?;
    let schema = doc.resolve(schema, &at).ok()?;
    crate::values::fold_all_of(doc, schema, &at).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn me_and_utility_paths_are_recognised() {
        assert!(is_me("/api/v1/users/me"));
        assert!(is_me("/me/password"));
        assert!(!is_me("/users/{me}"));
        assert!(!is_me("/memes"));
        assert_eq!(
            segments("/api/v1/utils/health-check/").collect::<Vec<_>>(),
            ["api", "v1", "utils", "health-check"]
        );
    }
}
