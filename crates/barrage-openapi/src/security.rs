//! Security schemes: what a request must carry, with secrets read from environment
//! variables (`env("NAME")`, evaluated once when the scenario loads) so the file can be
//! committed.
//!
//! The variables have no default on purpose: a login with a made-up `user`/`password`
//! fails on every request with an answer that does not say why, where an unset variable
//! stops `validate` and `run` before any load, naming every variable to set.
//!
//! FastAPI's OAuth2 password flow (`OAuth2PasswordBearer(tokenUrl=...)`) becomes a login
//! step in the user's `setup` that saves `access_token`; the operations that need it send
//! `authorization: Bearer {{ token }}`. The client-credentials flow works the same way.
//! API keys go where the scheme says (header, query, cookie); HTTP basic and bearer send
//! the `authorization` header. Basic needs the base64 of `user:password`, which the
//! template language cannot compute, so its variable holds the encoded value.

use serde_json::Value;

use crate::document::{Document, Operation};
use crate::error::RefError;

/// What one scheme asks of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Credential {
    /// A header with a template value.
    Header {
        name: String,
        value: String,
        note: String,
    },
    Query {
        name: String,
        value: String,
        note: String,
    },
    /// One `name=value` pair of the `cookie` header.
    Cookie {
        name: String,
        value: String,
        note: String,
    },
    /// A login in `setup` that saves a token into `var`.
    Login(Login),
}

/// An OAuth2 token request, run once per user in `setup`.
#[derive(Debug, Clone, PartialEq)]
pub struct Login {
    pub scheme: String,
    /// Path (joined to the target) or absolute URL.
    pub token_url: String,
    /// Form fields with template values.
    pub form: Vec<(String, String)>,
    /// The variable the token is saved into.
    pub var: String,
    /// Environment variables the user sets, for the header comment.
    pub env: Vec<String>,
}

/// The credentials `op` needs: the first of its security alternatives (or the document's)
/// whose schemes are all known; `Err` names the schemes that are not.
pub fn for_operation(doc: &Document, op: &Operation<'_>) -> Result<Vec<Credential>, SecurityError> {
    let requirements = op
        .op
        .get("security")
        .or_else(|| doc.root.get("security"))
        .and_then(Value::as_array);
    let Some(requirements) = requirements else {
        return Ok(Vec::new());
    };
    let mut problems = Vec::new();
    for requirement in requirements {
        let Some(schemes) = requirement.as_object() else {
            continue;
        };
        // `{}` among the alternatives: authentication is optional.
        if schemes.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        for name in schemes.keys() {
            match credential(doc, name) {
                Ok(c) => found.push(c),
                Err(e) => problems.push(e),
            }
        }
        if found.len() == schemes.len() {
            return Ok(found);
        }
    }
    if requirements.is_empty() {
        return Ok(Vec::new());
    }
    Err(SecurityError { problems })
}

/// No security alternative of an operation has only known schemes: why each scheme that
/// was tried gives no credential, shown joined by `; `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", join(problems))]
pub struct SecurityError {
    pub problems: Vec<CredentialError>,
}

fn join(problems: &[CredentialError]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a security scheme gives no credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("security scheme `{name}` is not defined in components/securitySchemes")]
    Undefined { name: String },
    #[error("{0}")]
    Ref(RefError),
}

fn credential(doc: &Document, name: &str) -> Result<Credential, CredentialError> {
    let scheme = doc
        .root
        .pointer("/components/securitySchemes")
        .and_then(|s| s.get(name))
        .ok_or_else(|| CredentialError::Undefined { name: name.into() })?;
    let scheme = doc
        .resolve(scheme, "/components/securitySchemes")
        .map_err(CredentialError::Ref)?;
    let prefix = env_prefix(name);
    let kind = scheme.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "apiKey" => {
            let key_name = scheme
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("X-API-Key");
            let var = format!("{prefix}_KEY");
            let value = env(&var);
            let note = format!("API key `{name}`: set {var}");
            match scheme.get("in").and_then(Value::as_str) {
                Some("query") => Ok(Credential::Query {
                    name: key_name.into(),
                    value,
                    note,
                }),
                Some("cookie") => Ok(Credential::Cookie {
                    name: key_name.into(),
                    value,
                    note,
                }),
                _ => Ok(Credential::Header {
                    name: key_name.to_ascii_lowercase(),
                    value,
                    note,
                }),
            }
        }
        "http" => match scheme
            .get("scheme")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("basic") => {
                let var = format!("{prefix}_CREDENTIALS");
                Ok(Credential::Header {
                    name: "authorization".into(),
                    // base64("user:password")
                    value: format!("Basic {}", env(&var)),
                    note: format!(
                        "HTTP basic `{name}`: set {var} to the base64 of user:password \
                         (printf 'user:password' | base64)"
                    ),
                })
            }
            _ => bearer(name, &prefix),
        },
        "oauth2" => {
            let flows = scheme.get("flows");
            let flow = |f: &str| flows.and_then(|fl| fl.get(f));
            let (flow, grant) = match (flow("password"), flow("clientCredentials")) {
                (Some(f), _) => (f, "password"),
                (None, Some(f)) => (f, "client_credentials"),
                _ => return bearer(name, &prefix),
            };
            let Some(url) = flow.get("tokenUrl").and_then(Value::as_str) else {
                return bearer(name, &prefix);
            };
            let (form, env_vars) = if grant == "password" {
                let (u, p) = (format!("{prefix}_USERNAME"), format!("{prefix}_PASSWORD"));
                let form = vec![
                    ("grant_type".to_string(), "password".to_string()),
                    ("username".to_string(), env(&u)),
                    ("password".to_string(), env(&p)),
                ];
                (form, vec![u, p])
            } else {
                let (i, s) = (
                    format!("{prefix}_CLIENT_ID"),
                    format!("{prefix}_CLIENT_SECRET"),
                );
                let form = vec![
                    ("grant_type".to_string(), "client_credentials".to_string()),
                    ("client_id".to_string(), env(&i)),
                    ("client_secret".to_string(), env(&s)),
                ];
                (form, vec![i, s])
            };
            Ok(Credential::Login(Login {
                scheme: name.to_string(),
                token_url: token_path(url),
                form,
                var: token_var(doc, name),
                env: env_vars,
            }))
        }
        // openIdConnect and others: a token the user provides.
        _ => bearer(name, &prefix),
    }
}

/// Every login the document's schemes describe (OAuth2 password and client-credentials
/// flows), in scheme name order.
pub fn logins(doc: &Document) -> Vec<Login> {
    let schemes = doc
        .root
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object);
    schemes
        .into_iter()
        .flat_map(|s| s.keys())
        .filter_map(|name| match credential(doc, name) {
            Ok(Credential::Login(l)) => Some(l),
            _ => None,
        })
        .collect()
}

/// `token` for the first OAuth2 scheme (by name), `token_2`, ... for the others.
fn token_var(doc: &Document, scheme: &str) -> String {
    let schemes = doc
        .root
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object);
    let oauth2: Vec<&String> = schemes
        .into_iter()
        .flatten()
        .filter(|(_, s)| s.get("type").and_then(Value::as_str) == Some("oauth2"))
        .map(|(n, _)| n)
        .collect();
    match oauth2.iter().position(|n| *n == scheme) {
        Some(0) | None => "token".to_string(),
        Some(i) => format!("token_{}", i + 1),
    }
}

fn bearer(name: &str, prefix: &str) -> Result<Credential, CredentialError> {
    let var = format!("{prefix}_TOKEN");
    Ok(Credential::Header {
        name: "authorization".into(),
        value: format!("Bearer {}", env(&var)),
        note: format!("bearer token `{name}`: set {var}"),
    })
}

/// `{{ env("NAME") }}`: no default, so an unset variable is an error before the run.
fn env(var: &str) -> String {
    format!("{{{{ env(\"{var}\") }}}}")
}

/// The token URL as the scenario writes it: absolute URLs stay, relative ones become a
/// path under the server's base path (FastAPI writes `tokenUrl="token"` for `/token`).
pub fn token_path(url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") || url.starts_with('/') {
        url.to_string()
    } else {
        format!("/{url}")
    }
}

/// `OAuth2PasswordBearer` -> `OAUTH2_PASSWORD_BEARER`, `APIKeyHeader` -> `API_KEY_HEADER`.
pub fn env_prefix(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            continue;
        }
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let boundary = prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                // The end of an acronym of two or more letters: `APIKey` -> `API_Key`.
                || (prev.is_ascii_uppercase()
                    && next_lower
                    && i >= 2
                    && chars[i - 2].is_ascii_uppercase());
            if boundary && !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
        }
        out.push(c.to_ascii_uppercase());
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("AUTH_{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_read_as_shell_variables() {
        assert_eq!(env_prefix("OAuth2PasswordBearer"), "OAUTH2_PASSWORD_BEARER");
        assert_eq!(env_prefix("APIKeyHeader"), "API_KEY_HEADER");
        assert_eq!(env_prefix("api_key"), "API_KEY");
        assert_eq!(env_prefix("HTTPBasic"), "HTTP_BASIC");
        assert_eq!(env_prefix("bearer-auth"), "BEARER_AUTH");
        assert_eq!(env_prefix("2fa"), "AUTH_2FA");
    }
}
