//! The logged-in identity and the shape of real traffic: what a generated run must not do
//! to the account it logs in with, and which operations are plumbing rather than use.
//!
//! A scenario logs in once per user with one account from the environment. An update of
//! that account's email or password, or its deletion, makes every later login fail, so a
//! run sabotages itself after its first iteration (seen on the full-stack FastAPI
//! template). The rules, by the path and the body, since the document does not say which
//! operations act on the caller:
//!
//! - a delete of "me" itself (the last literal segment is `me`, `self`, ...: `/users/me`,
//!   not `/users/me/items/{id}`) is left out with the reason, and so is a write under "me"
//!   with a `password` segment (`PATCH /users/me/password`; a read of it stays);
//! - an update of "me" itself sends no credential field (username, email, password):
//!   optional ones are left out of the body, a required one leaves the operation out;
//! - a body anywhere that changes or resets a password (`current_password`,
//!   `old_password`, `new_password`) is left out, since it needs the real password or a
//!   mailed token, and so is a reset or recovery route (`/reset-password/`,
//!   `/password-recovery/{email}`): with generated values it fails on every request.
//!
//! Names are compared normalized (lower case, no `_` or `-`), so `currentPassword`,
//! `current-password` and `current_password` are one name.
//!
//! Health and utility routes (`/health`, `/utils/...`, `/ping`, `/metrics`) answer in
//! microseconds and no user calls them; equal weight made them 40 % of a run. The words
//! match whole: a business route that merely contains one (`/healthcare/patients`,
//! `/orders/{id}/status`) is use, not plumbing.

use serde_json::Value;

use crate::document::{Document, Operation};
use crate::draft::BodyDraft;
use crate::values::Gen;

/// Path segments that name the caller's own account.
const ME: [&str; 4] = ["me", "self", "current", "currentuser"];
/// Body fields a login is made of: changing one on "me" breaks the next login.
const CREDENTIAL_FIELDS: [&str; 6] = [
    "username",
    "email",
    "password",
    "newpassword",
    "login",
    "phone",
];
/// Body fields only a password change or reset has (normalized).
const PASSWORD_CHANGE_FIELDS: [&str; 3] = ["currentpassword", "oldpassword", "newpassword"];
/// Path segments of a password reset or recovery (normalized): it needs a mailed token or
/// a real account's address, so generated values fail on every request.
const RESET_SEGMENTS: [&str; 10] = [
    "resetpassword",
    "passwordreset",
    "passwordrecovery",
    "recoverpassword",
    "forgotpassword",
    "passwordforgot",
    "recover",
    "recovery",
    "reset",
    "forgot",
];
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

/// A name lower-cased without `_` and `-`: `currentPassword`, `current_password` and
/// `current-password` are one name.
pub(crate) fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether `path` is under the caller's own account (`/users/me`, `/me/password`).
pub fn is_me(path: &str) -> bool {
    normalized_segments(path).any(|s| ME.contains(&s.as_str()))
}

/// Whether `path` is the caller's own account itself: its last literal segment is the
/// "me" word (`/users/me`, not `/users/me/items/{id}`).
pub fn is_me_itself(path: &str) -> bool {
    normalized_segments(path)
        .last()
        .is_some_and(|s| ME.contains(&s.as_str()))
}

/// Whether `method` changes something.
fn writes(method: &str) -> bool {
    matches!(method, "put" | "patch" | "post" | "delete")
}

/// Why `op` must not run as generated: it would delete or re-key the login's account, or
/// it is a password reset that generated values cannot pass.
pub fn left_out(doc: &Document, op: &Operation<'_>) -> Option<String> {
    let password_segment = segments(&op.path).any(|s| s.contains("password"));
    if is_me_itself(&op.path) && op.method == "delete" {
        return Some(
            "it deletes the account the scenario logs in with, so every later login would \
             fail; run it by hand if you mean to"
                .into(),
        );
    }
    if is_me(&op.path) && password_segment && writes(op.method) {
        return Some(
            "it changes the password of the account the scenario logs in with (and needs the \
             current one), so later logins would fail"
                .into(),
        );
    }
    if let Some(s) = segments(&op.path).find(|s| RESET_SEGMENTS.contains(&normalize(s).as_str())) {
        return Some(format!(
            "its `{s}` path makes it a password reset or recovery, which needs a mailed token \
             or a real account's address: with generated values it fails on every request"
        ));
    }
    let fields = body_properties(doc, op);
    if let Some(f) = fields
        .iter()
        .find(|f| PASSWORD_CHANGE_FIELDS.contains(&normalize(f).as_str()))
    {
        return Some(format!(
            "its body's `{f}` makes it a password change or reset, which needs the real \
             password or a mailed token (generated ones are refused on every request) and \
             would change the password the scenario logs in with"
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
    if !is_me_itself(&op.path) || !matches!(op.method, "put" | "patch" | "post") {
        return Ok(Vec::new());
    }
    let required = body_required(doc, op);
    if let Some(r) = required
        .iter()
        .find(|r| CREDENTIAL_FIELDS.contains(&normalize(r).as_str()))
    {
        return Err(format!(
            "it must send `{r}`, which would change the login of the account the scenario \
             logs in with"
        ));
    }
    let credential = |name: &str| CREDENTIAL_FIELDS.contains(&normalize(name).as_str());
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

/// Whether `op` is a health or utility route: a tag that is a utility word, or a path
/// with no parameters whose last segment is one and whose other segments are a prefix
/// (`api`, `v1`) or utility words too (`/api/v1/utils/health-check/`). Whole words only:
/// `/healthcare/patients` and `/orders/{id}/status` are use.
pub fn is_utility(op: &Operation<'_>) -> bool {
    let word = |s: &str| UTILITY.contains(&s.to_ascii_lowercase().as_str());
    if op.tags().into_iter().any(word) {
        return true;
    }
    if op.path.contains('{') {
        return false;
    }
    let prefix = |s: &str| {
        s == "api"
            || word(s)
            || (s.len() > 1
                && s.starts_with('v')
                && s[1..].chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    let segments: Vec<String> = segments(&op.path).collect();
    match segments.split_last() {
        Some((last, before)) => word(last) && before.iter().all(|s| prefix(s)),
        None => false,
    }
}

/// The literal segments of a path, lowercased (`/users/{id}/me` -> users, me).
fn segments(path: &str) -> impl Iterator<Item = String> + '_ {
    path.split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('{'))
        .map(str::to_ascii_lowercase)
}

/// The literal segments of a path, normalized (`/reset-password/` -> resetpassword).
fn normalized_segments(path: &str) -> impl Iterator<Item = String> + '_ {
    segments(path).map(|s| normalize(&s))
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
    use serde_json::json;

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

    fn doc(paths: Value) -> Document {
        Document {
            root: json!({"openapi": "3.1.0", "paths": paths}),
            version: crate::document::Version::V31,
            version_text: "3.1.0".into(),
            source: "t".into(),
            fetched_from: None,
        }
    }

    fn op<'d>(doc: &'d Document, method: &str, path: &str) -> Operation<'d> {
        let (ops, _) = doc.operations();
        ops.into_iter()
            .find(|o| o.method == method && o.path == path)
            .expect("the operation is in the document")
    }

    fn body(required: &[&str], names: &[&str]) -> Value {
        let props: serde_json::Map<String, Value> = names
            .iter()
            .map(|n| (n.to_string(), json!({"type": "string"})))
            .collect();
        json!({"requestBody": {"content": {"application/json": {"schema":
            {"type": "object", "required": required, "properties": props}}}},
            "responses": {"200": {"description": "ok"}}})
    }

    #[test]
    fn utility_words_match_whole_and_last() {
        let ok = json!({"responses": {"200": {"description": "ok"}}});
        let tagged = json!({"tags": ["Health"], "responses": {"200": {"description": "ok"}}});
        let business = json!({"tags": ["healthcare"], "responses": {"200": {"description": "ok"}}});
        let d = doc(json!({
            "/health": {"get": ok},
            "/api/v1/utils/health-check/": {"get": ok},
            "/v2/metrics": {"get": ok},
            "/probe": {"get": tagged},
            "/healthcare/patients": {"get": business},
            "/orders/{id}/status": {"get": ok},
            "/documents/{id}/version": {"get": ok},
            "/orders/status": {"get": ok},
            "/status/{id}": {"get": ok},
        }));
        for path in [
            "/health",
            "/api/v1/utils/health-check/",
            "/v2/metrics",
            "/probe",
        ] {
            assert!(is_utility(&op(&d, "get", path)), "{path}");
        }
        for path in [
            "/healthcare/patients",
            "/orders/{id}/status",
            "/documents/{id}/version",
            "/orders/status",
            "/status/{id}",
        ] {
            assert!(!is_utility(&op(&d, "get", path)), "{path}");
        }
    }

    #[test]
    fn camel_case_names_are_the_same_names() {
        assert_eq!(normalize("currentPassword"), "currentpassword");
        assert_eq!(normalize("current-password"), normalize("current_password"));
        let d = doc(json!({
            "/account/password": {"post": body(&["currentPassword"], &["currentPassword"])},
            "/users/me": {"patch": body(&[], &["userName", "fullName"])},
            "/users/me/": {"put": body(&["userName"], &["userName"])},
        }));
        let reason = left_out(&d, &op(&d, "post", "/account/password")).unwrap();
        assert!(reason.contains("`currentPassword`"), "{reason}");
        let update = op(&d, "patch", "/users/me");
        let mut draft = BodyDraft::Form(vec![
            ("userName".into(), Gen::Literal(json!("a")), String::new()),
            ("fullName".into(), Gen::Literal(json!("b")), String::new()),
        ]);
        assert_eq!(
            keep_credentials(&d, &update, &mut draft).unwrap(),
            ["userName"]
        );
        let required = op(&d, "put", "/users/me/");
        let mut draft = BodyDraft::None;
        assert!(keep_credentials(&d, &required, &mut draft).is_err());
    }

    #[test]
    fn only_me_itself_is_the_account() {
        let ok = json!({"responses": {"200": {"description": "ok"}}});
        let d = doc(json!({
            "/users/me": {"delete": ok},
            "/users/me/items/{id}": {"delete": ok},
            "/me/password-policy": {"get": ok},
            "/me/password": {"put": body(&[], &["hint"])},
            "/users/me/contacts": {"post": body(&["email"], &["email", "phone"])},
        }));
        assert!(left_out(&d, &op(&d, "delete", "/users/me")).is_some());
        assert!(left_out(&d, &op(&d, "delete", "/users/me/items/{id}")).is_none());
        assert!(left_out(&d, &op(&d, "get", "/me/password-policy")).is_none());
        assert!(left_out(&d, &op(&d, "put", "/me/password")).is_some());
        let contacts = op(&d, "post", "/users/me/contacts");
        let mut draft = BodyDraft::Form(vec![(
            "email".into(),
            Gen::Literal(json!("a@b.c")),
            String::new(),
        )]);
        assert_eq!(keep_credentials(&d, &contacts, &mut draft), Ok(Vec::new()));
        assert!(matches!(&draft, BodyDraft::Form(f) if f.len() == 1));
    }

    #[test]
    fn password_resets_are_left_out() {
        let ok = json!({"responses": {"200": {"description": "ok"}}});
        let d = doc(json!({
            "/reset-password/": {"post": body(&["token", "new_password"], &["token", "new_password"])},
            "/password-recovery/{email}": {"post": ok},
            "/auth/forgotPassword": {"post": body(&["email"], &["email"])},
            "/resets/{id}/items": {"get": ok},
        }));
        let reset = left_out(&d, &op(&d, "post", "/reset-password/")).unwrap();
        assert!(reset.contains("password reset"), "{reset}");
        let recovery = left_out(&d, &op(&d, "post", "/password-recovery/{email}")).unwrap();
        assert!(recovery.contains("`password-recovery`"), "{recovery}");
        assert!(left_out(&d, &op(&d, "post", "/auth/forgotPassword")).is_some());
        assert!(left_out(&d, &op(&d, "get", "/resets/{id}/items")).is_none());
        // The body alone is enough: `new_password` needs a token or the current password.
        let d = doc(
            json!({"/tokens/use": {"post": body(&["new_password"], &["token", "new_password"])}}),
        );
        assert!(left_out(&d, &op(&d, "post", "/tokens/use")).is_some());
    }
}
