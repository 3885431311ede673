//! The command line as the result file keeps it (`run.command`, for reproducing a run):
//! `-H 'authorization: Bearer ...'`, a `-b` body with a password and a URL with
//! `user:pass@` are what people type, and result files are committed as baselines.
//!
//! The flags are recognised by spelling, not by parsing the command (this crate knows no
//! CLI): `-H`/`--header` values of the form `name: value` with a secret name, and
//! `-b`/`--body` values; every argument is also read as a possible URL. `run`'s `-H` is
//! the host, a URL, which the URL rule covers. A long flag whose name says it holds a
//! secret (`--web-auth-token`, any `--*token*`, `--*password*`, `--*secret*`) has its
//! value replaced whole, as `--flag VALUE` or `--flag=VALUE`: such a value is a secret
//! by itself, not a header or a body with secret parts.

use crate::{Redactor, REDACTED};

enum Next {
    Header,
    Body,
    Secret,
    /// `--monitor-postgres`'s connection string.
    Connection,
}

/// Words that make a long flag's value secret (`--web-auth-token`, `--db-password`).
const SECRET_FLAG_WORDS: &[&str] = &["token", "password", "secret"];

/// Whether `flag` (as typed, with its dashes) takes a secret value.
fn secret_flag(flag: &str) -> bool {
    let Some(name) = flag.strip_prefix("--") else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    name == "web-auth-token" || SECRET_FLAG_WORDS.iter().any(|w| name.contains(w))
}

pub(crate) fn redact<S: AsRef<str>>(rules: &Redactor, args: &[S]) -> String {
    let mut next = None;
    let mut out = Vec::with_capacity(args.len());
    for arg in args {
        let arg = arg.as_ref();
        let shown = match next.take() {
            Some(Next::Header) => header(rules, arg),
            Some(Next::Body) => rules.body_text(arg).into_owned(),
            Some(Next::Secret) => REDACTED.to_string(),
            Some(Next::Connection) => connection(rules, arg),
            None => match arg {
                "-H" | "--header" => {
                    next = Some(Next::Header);
                    arg.to_string()
                }
                "-b" | "--body" => {
                    next = Some(Next::Body);
                    arg.to_string()
                }
                "--monitor-postgres" => {
                    next = Some(Next::Connection);
                    arg.to_string()
                }
                _ if !arg.contains('=') && secret_flag(arg) => {
                    next = Some(Next::Secret);
                    arg.to_string()
                }
                _ => {
                    if let Some(v) = arg.strip_prefix("--monitor-postgres=") {
                        format!("--monitor-postgres={}", connection(rules, v))
                    } else if let Some(v) = arg.strip_prefix("--header=") {
                        format!("--header={}", header(rules, v))
                    } else if let Some(v) = arg.strip_prefix("--body=") {
                        format!("--body={}", rules.body_text(v))
                    } else if let Some((flag, v)) = glued(arg, "-H") {
                        format!("{flag}{}", header(rules, v))
                    } else if let Some((flag, v)) = glued(arg, "-b") {
                        format!("{flag}{}", rules.body_text(v))
                    } else if let Some((flag, _)) =
                        arg.split_once('=').filter(|(f, _)| secret_flag(f))
                    {
                        format!("{flag}={REDACTED}")
                    } else if let Some((flag, v)) =
                        arg.split_once('=').filter(|(f, _)| f.starts_with("--"))
                    {
                        // `--host=http://alice:pw@...`: the value alone is the URL.
                        format!("{flag}={}", rules.url(v))
                    } else {
                        rules.url(arg).into_owned()
                    }
                }
            },
        };
        out.push(shown);
    }
    out.join(" ")
}

/// A short flag with its value glued on, `-Hvalue` or `-H=value` (clap takes both): the
/// flag as written (with its `=`) and the value.
fn glued<'a>(arg: &'a str, flag: &str) -> Option<(&'a str, &'a str)> {
    let rest = arg.strip_prefix(flag)?;
    let at = arg.len() - rest.len() + usize::from(rest.starts_with('='));
    Some((&arg[..at], &arg[at..]))
}

/// A PostgreSQL connection string: a URL (`postgres://app:pw@db/app`), or libpq's
/// `key=value` words, whose `password=` value is hidden.
fn connection(rules: &Redactor, arg: &str) -> String {
    if arg.contains("://") {
        return rules.url(arg).into_owned();
    }
    arg.split(' ')
        .map(|word| match word.split_once('=') {
            Some((key, _)) if key.trim().eq_ignore_ascii_case("password") => {
                format!("{key}={REDACTED}")
            }
            _ => word.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `name: value` header argument, or else a URL (`run -H http://...`).
fn header(rules: &Redactor, arg: &str) -> String {
    match arg.split_once(':') {
        Some((name, _)) if rules.secret_header(name) => format!("{name}: {REDACTED}"),
        _ => rules.url(arg).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::Redactor;

    fn line(args: &[&str]) -> String {
        Redactor::default().command_line(args)
    }

    #[test]
    fn hit_headers_bodies_and_urls_are_redacted() {
        assert_eq!(
            line(&[
                "barrage",
                "hit",
                "http://u:pw@127.0.0.1:8000/items/",
                "-H",
                "authorization: Bearer abc",
                "-H",
                "content-type: application/json",
                "--header=X-API-Key: k-1",
                "-Hcookie: a=b",
                "-b",
                r#"{"name":"x","password":"hunter2"}"#,
                "-n",
                "10",
            ]),
            "barrage hit http://u:[redacted]@127.0.0.1:8000/items/ -H authorization: [redacted] \
             -H content-type: application/json --header=X-API-Key: [redacted] -Hcookie: [redacted] \
             -b {\"name\":\"x\",\"password\":\"[redacted]\"} -n 10"
        );
    }

    #[test]
    fn run_commands_keep_their_host_and_flags() {
        let args = [
            "barrage",
            "run",
            "s.yaml",
            "-H",
            "http://127.0.0.1:8000",
            "--threshold",
            "p95<200ms",
            "--body=a=1&token=zz",
        ];
        assert_eq!(
            line(&args),
            "barrage run s.yaml -H http://127.0.0.1:8000 --threshold p95<200ms --body=a=1&token=[redacted]"
        );
    }

    #[test]
    fn values_glued_on_with_an_equals_sign_are_redacted_too() {
        assert_eq!(
            line(&[
                "barrage",
                "hit",
                "-H=authorization: Bearer X",
                "-b=password=x",
                "--host=http://alice:pw@127.0.0.1:8000",
            ]),
            "barrage hit -H=authorization: [redacted] -b=password=[redacted] \
             --host=http://alice:[redacted]@127.0.0.1:8000"
        );
    }

    #[test]
    fn flags_named_for_secrets_have_their_values_replaced_in_both_spellings() {
        assert_eq!(
            line(&[
                "barrage",
                "run",
                "s.yaml",
                "--web",
                "--web-auth-token",
                "SECRET-1",
                "--web-auth-token=SECRET-2",
                "--DB-Password",
                "pw",
                "--api-secret=s3",
                "--my-token-file=t",
                "--web-port",
                "8089",
            ]),
            "barrage run s.yaml --web --web-auth-token [redacted] --web-auth-token=[redacted] \
             --DB-Password [redacted] --api-secret=[redacted] --my-token-file=[redacted] \
             --web-port 8089"
        );
    }

    #[test]
    fn postgres_connection_strings_lose_their_passwords_in_both_forms() {
        assert_eq!(
            line(&[
                "barrage",
                "run",
                "s.yaml",
                "--monitor-postgres",
                "host=db user=app password=hunter2 dbname=app",
                "--monitor-postgres=postgres://app:hunter2@db:5432/app",
            ]),
            "barrage run s.yaml --monitor-postgres host=db user=app password=[redacted] \
             dbname=app --monitor-postgres=postgres://app:[redacted]@db:5432/app"
        );
    }
}
