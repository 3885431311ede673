//! Privilege flags in bodies (`is_superuser`, `is_admin`, `role`): always the value that
//! grants the least.
//!
//! A generated `is_superuser: choice(true, false)` made half the users a run created
//! administrators (seen on the full-stack FastAPI template). No document marks a field as
//! a privilege, so the names decide (normalized: `isAdmin`, `is-admin` and `is_admin` are
//! one name). An optional flag is never sent, so the service's own default applies: a
//! `false` sent on an update would demote the login's own superuser. A required flag gets
//! the value that grants least: `false`, the least privileged of a role's enum values (by
//! name).

use serde_json::Value;

use super::{Gen, Generated};
use crate::document::Document;

/// Normalized (lower case, no `_` or `-`): compared with a normalized name.
const FLAGS: [&str; 12] = [
    "issuperuser",
    "superuser",
    "isadmin",
    "admin",
    "isstaff",
    "staff",
    "isroot",
    "role",
    "roles",
    "ismoderator",
    "permissions",
    "scopes",
];
/// Role values that grant the least, most preferred first.
const LEAST: [&str; 9] = [
    "user", "member", "viewer", "reader", "read", "guest", "basic", "customer", "none",
];

/// Whether a property named `name` grants privileges.
pub fn is_flag(name: &str) -> bool {
    let n = crate::build::identity::normalize(name);
    FLAGS.contains(&n.as_str()) || (n.starts_with("is") && n.ends_with("admin"))
}

/// The least privileged value of a required flag's schema; `None` when there is none to
/// be had (the field must then be filled in by hand).
pub fn least(doc: &Document, schema: &Value, at: &str) -> Option<Generated> {
    let branches: Vec<&Value> = match schema.get("anyOf").or_else(|| schema.get("oneOf")) {
        Some(Value::Array(b)) => b.iter().filter_map(|b| doc.resolve(b, at).ok()).collect(),
        _ => vec![schema],
    };
    let note = |what: &str| format!("{what}: least privilege, never creates an administrator");
    for b in &branches {
        let types: Vec<&str> = match b.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(t)) => t.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if types.contains(&"boolean") {
            return Some(Generated::new(
                Gen::Literal(Value::Bool(false)),
                note("false"),
            ));
        }
        if let Some(values) = b.get("enum").and_then(Value::as_array) {
            let pick = LEAST.iter().find_map(|l| {
                values
                    .iter()
                    .find(|v| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(l)))
            });
            if let Some(v) = pick {
                return Some(Generated::new(Gen::Literal(v.clone()), note("role")));
            }
        }
        if types.contains(&"array") {
            let min = b.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            if min == 0 {
                return Some(Generated::new(Gen::Array(Vec::new()), note("none")));
            }
        }
        if types.contains(&"string") && b.get("enum").is_none() {
            return Some(Generated::new(
                Gen::Literal(Value::String("user".into())),
                note("`user`"),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_recognised_by_name() {
        assert!(is_flag("is_superuser"));
        assert!(is_flag("Is-Admin"));
        assert!(is_flag("isAdmin"));
        assert!(is_flag("isSuperuser"));
        assert!(is_flag("isStaff"));
        assert!(!is_flag("isActive"));
        assert!(is_flag("role"));
        assert!(!is_flag("full_name"));
        assert!(!is_flag("is_active"));
    }
}
