//! `barrage hit URL`: one URL loaded as hey, oha or wrk would, written as a one-step
//! scenario (YAML text, so it goes through the same parser and every value has a real place
//! for diagnostics) with the load as typed overrides, so it runs on the same session,
//! statistics and outputs as `run`.

use std::fmt::Write as _;
use std::time::Duration;

use barrage_engine::{CompileOptions, LoadOverrides};
use barrage_scenario::{Method, SourceFile};

use crate::cli::HitArgs;
use crate::commands::{execute, load, DEFAULT_STOP_TIMEOUT};
use crate::exit;

pub async fn hit(args: HitArgs) -> u8 {
    let Some(method) = Method::ALL
        .iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(&args.method))
    else {
        eprintln!(
            "error: -m {}: use one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
            args.method
        );
        return exit::USAGE;
    };
    let Ok(url) = url::Url::parse(&args.url) else {
        eprintln!(
            "error: `{}` is not a URL (e.g. http://127.0.0.1:8000/)",
            args.url
        );
        return exit::USAGE;
    };
    if !matches!(url.scheme(), "http" | "https") {
        eprintln!("error: `{}`: only http:// and https:// URLs", args.url);
        return exit::USAGE;
    }
    let mut headers = Vec::new();
    for h in &args.headers {
        let Some((name, value)) = h.split_once(':') else {
            eprintln!("error: -H `{h}`: write headers as `name: value`");
            return exit::USAGE;
        };
        headers.push((name.trim(), value.trim()));
    }
    if args.connections == 0 {
        eprintln!("error: -c must be at least 1");
        return exit::USAGE;
    }
    if let Some(r) = args.rate {
        if !(r > 0.0 && r.is_finite()) {
            eprintln!("error: --rate must be a positive number of requests per second");
            return exit::USAGE;
        }
    }
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let origin = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    let origin = match url.port() {
        Some(p) => format!("{origin}:{p}"),
        None => origin,
    };
    let file = SourceFile {
        name: "<hit>".to_string(),
        text: scenario_text(
            &origin,
            *method,
            &path,
            &headers,
            args.body.as_deref(),
            args.timeout,
        ),
    };
    let opts = CompileOptions {
        host: None,
        load: hit_load(&args),
        max_body_size: args.common.max_body_size,
        no_redact: args.common.no_redact,
    };
    let loaded = match load(file, &opts, exit::USAGE) {
        Ok(l) => l,
        Err(code) => return code,
    };
    execute(
        loaded,
        &args.common,
        &args.split,
        DEFAULT_STOP_TIMEOUT,
        false,
        false,
    )
    .await
}

/// The one-step scenario `hit` runs. Every value is a YAML double-quoted string (a JSON
/// string is one) with `{{` escaped: `hit` sends its URL, headers and body literally.
fn scenario_text(
    origin: &str,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    timeout: Duration,
) -> String {
    let q =
        |s: &str| serde_json::to_string(&escape_template(s)).expect("a string always serializes");
    let mut text = format!(
        "target: {}\nusers:\n  hit:\n    think: none\n    tasks:\n      request:\n        \
         steps:\n          - {}: {}\n            name: {}\n            timeout: {}us\n",
        q(origin),
        method.as_str().to_ascii_lowercase(),
        q(path),
        serde_json::to_string(path).expect("a string always serializes"),
        timeout.as_micros(),
    );
    if !headers.is_empty() {
        text.push_str("            headers:\n");
        for (name, value) in headers {
            let _ = writeln!(text, "              {}: {}", q(name), q(value));
        }
    }
    if let Some(body) = body {
        let _ = writeln!(text, "            body: {}", q(body));
    }
    text
}

/// `hit`'s load: `-c` users looping as fast as they can for `-n` requests (200 by default,
/// as hey) or `-d`; with `--rate`, requests started on a schedule by up to `-c` users
/// (more are queued, latency counted from their scheduled time, as wrk2 and oha -q).
fn hit_load(args: &HitArgs) -> LoadOverrides {
    match args.rate {
        Some(rate) => LoadOverrides {
            rate: Some(rate),
            // `-n N` at `R`/s: starts at 0, 1/R, ... (N-1)/R. A length half a step past the
            // last start takes exactly N, whatever the float rounding.
            duration: Some(args.duration.unwrap_or_else(|| {
                let n = args.requests.unwrap_or(200) as f64;
                Duration::try_from_secs_f64((n - 0.5).max(0.0) / rate).unwrap_or(Duration::MAX)
            })),
            max_users: Some(args.connections),
            pre_allocated_users: Some(args.connections),
            ..LoadOverrides::default()
        },
        None => LoadOverrides {
            users: Some(args.connections),
            duration: args.duration,
            iterations: match (args.requests, args.duration) {
                (Some(n), _) => Some(n),
                (None, Some(_)) => None,
                (None, None) => Some(200),
            },
            ..LoadOverrides::default()
        },
    }
}

/// `hit` sends its URL and body literally: `{{` becomes a template expression that
/// evaluates to the same two characters.
fn escape_template(s: &str) -> String {
    s.replace("{{", "{{ '{{' }}")
}
