//! `barrage hit URL`: one URL loaded as hey, oha or wrk would, built as a one-step
//! scenario so it runs on the same engine, statistics and outputs as `run`.

use std::time::Duration;

use barrage_engine::CompileOptions;
use barrage_metrics::RunMeta;
use barrage_scenario::{
    Load, Method, RequestStep, Scenario, SourceFile, Span, Spanned, Step, Task, Think, UserType,
};

use crate::cli::HitArgs;
use crate::commands::{compile_scenario, execute, RunSettings};
use crate::exit;
use crate::live::stderr_color;

pub async fn hit(args: HitArgs) -> u8 {
    let method = match Method::ALL
        .iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(&args.method))
    {
        Some(m) => *m,
        None => {
            eprintln!(
                "error: -m {}: use one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
                args.method
            );
            return exit::USAGE;
        }
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
        headers.push((
            spanned(name.trim()),
            spanned(&escape_template(value.trim())),
        ));
    }
    // The URL is sent as given: braces in it are not template syntax here.
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
    let step = RequestStep {
        span: Span::default(),
        method: Spanned::new(method, Span::default()),
        url: spanned(&escape_template(&path)),
        name: Some(spanned(&path)),
        query: Vec::new(),
        headers,
        body: args
            .body
            .as_ref()
            .map(|b| barrage_scenario::Body::Raw(spanned(&escape_template(b)))),
        save: Vec::new(),
        check: Default::default(),
        timeout: Some(Spanned::new(args.timeout, Span::default())),
        on_failure: Spanned::new(Default::default(), Span::default()),
    };
    let scenario = Scenario {
        target: Some(spanned(&origin)),
        defaults: Default::default(),
        data: Vec::new(),
        users: vec![UserType {
            name: spanned("hit"),
            weight: Spanned::new(1, Span::default()),
            think: Some(Spanned::new(Think::None, Span::default())),
            setup: Vec::new(),
            tasks: vec![Task {
                name: spanned("request"),
                weight: Spanned::new(1, Span::default()),
                steps: vec![Step::Request(Box::new(step))],
            }],
        }],
        load: hit_load(&args),
        scenarios: Vec::new(),
        thresholds: Vec::new(),
    };
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
    let file = SourceFile {
        name: "<hit>".to_string(),
        text: String::new(),
    };
    let (_file, _scenario, plan) =
        match compile_scenario(file, scenario, Vec::new(), &CompileOptions::default()) {
            Ok(x) => x,
            Err(code) => return code,
        };
    let s = RunSettings {
        stop_timeout: crate::load_flags::DEFAULT_STOP_TIMEOUT,
        reset_stats: false,
    };
    let meta = RunMeta {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        target: origin,
        ..RunMeta::default()
    };
    let thresholds = match crate::judge::collect(
        None,
        &[],
        &args.common.outputs.thresholds,
        &crate::judge::Known::of_registry(&plan.registry),
        stderr_color(),
    ) {
        Ok(t) => t,
        Err(code) => return code,
    };
    execute(plan, s, &args.common, meta, thresholds).await
}

/// `hit`'s load: `-c` users looping as fast as they can for `-n` requests (200 by default,
/// as hey) or `-d`; with `--rate`, requests started on a schedule by up to `-c` users
/// (more are queued, latency counted from their scheduled time, as wrk2 and oha -q).
fn hit_load(args: &HitArgs) -> Load {
    let s = |v| Spanned::new(v, Span::default());
    match args.rate {
        Some(rate) => Load {
            rate: Some(s(rate)),
            duration: Some(Spanned::new(
                // `-n N` at `R`/s: starts at 0, 1/R, ... (N-1)/R. A length half a step
                // past the last start takes exactly N, whatever the float rounding.
                args.duration.unwrap_or_else(|| {
                    let n = args.requests.unwrap_or(200) as f64;
                    Duration::try_from_secs_f64((n - 0.5).max(0.0) / rate).unwrap_or(Duration::MAX)
                }),
                Span::default(),
            )),
            max_users: Some(Spanned::new(args.connections, Span::default())),
            pre_allocated_users: Some(Spanned::new(args.connections, Span::default())),
            ..Load::default()
        },
        None => Load {
            users: Some(Spanned::new(args.connections, Span::default())),
            duration: args.duration.map(|d| Spanned::new(d, Span::default())),
            iterations: match (args.requests, args.duration) {
                (Some(n), _) => Some(Spanned::new(n, Span::default())),
                (None, Some(_)) => None,
                (None, None) => Some(Spanned::new(200, Span::default())),
            },
            ..Load::default()
        },
    }
}

fn spanned(s: &str) -> Spanned<String> {
    Spanned::new(s.to_string(), Span::default())
}

/// `hit` sends its URL and body literally: `{{` becomes a template expression that
/// evaluates to the same two characters.
fn escape_template(s: &str) -> String {
    s.replace("{{", "{{ '{{' }}")
}
