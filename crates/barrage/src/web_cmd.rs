//! `run --web` and `demo --web`: the web UI as a front end of a run. Serves the page
//! (barrage-web's server, on its own thread), waits for its start form unless
//! `--autostart`, compiles the scenario with the form's values (a bad host is answered
//! with its diagnostics and the page stays ready), runs the session with the terminal's
//! sinks, the files the flags ask for and the web sink, and keeps the page up `--autoquit`
//! seconds after the end.
//!
//! Exit codes are the headless run's ([`crate::exit::of_run`]), whether the run ended by
//! itself or was stopped from the page; Ctrl-C before the start (no run, no files) or
//! during the run is 130.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use barrage_engine::{CompileOptions, Plan, Steer};
use barrage_metrics::RunMeta;
use barrage_scenario::SourceFile;
use barrage_session::Sink;
use barrage_web::live::LiveView;
use barrage_web::server::{Config, Server, StartForm};
use barrage_web::view::{Form, FormScenario, Mode, State, View};
use tokio::sync::watch;

use crate::cli::{CommonArgs, RunArgs, WebArgs};
use crate::commands::{self, Loaded, Run, DEFAULT_STOP_TIMEOUT};
use crate::exit;
use crate::segments::SegmentArgs;

/// Locust's port.
const DEFAULT_PORT: u16 = 8089;

/// What a web front end runs: the scenario file, the options and flags it compiles and
/// runs with (the form's values replace them).
pub(crate) struct Setup {
    pub file: SourceFile,
    pub opts: CompileOptions,
    pub common: CommonArgs,
    /// `--stop-timeout`; else the file's, else the default.
    pub stop_timeout: Option<Duration>,
    pub reset_stats: bool,
    pub web: WebArgs,
    /// The exit code of a scenario that does not compile (2 for a user's file).
    pub usage_error: u8,
}

pub async fn run(args: RunArgs) -> u8 {
    if args.debug {
        eprintln!("error: --debug runs one user in the terminal; leave out --web");
        return exit::USAGE;
    }
    if args.split.segment.is_some() || args.split.start_at.is_some() {
        eprintln!(
            "error: --segment and --start-at run one share of a split load headless; leave \
             out --web (`barrage merge` combines the shares' result files)"
        );
        return exit::USAGE;
    }
    let file = match commands::read(&args.scenario) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let opts = CompileOptions {
        host: args.host.clone(),
        load: commands::overrides(&args),
        max_body_size: args.common.max_body_size,
        no_redact: args.common.no_redact,
    };
    serve(Setup {
        file,
        opts,
        common: args.common.clone(),
        stop_timeout: args.stop_timeout,
        reset_stats: args.reset_stats,
        web: args.web.clone(),
        usage_error: exit::USAGE,
    })
    .await
}

/// The address to listen on; off loopback only with a token. `Err` is the exit code.
pub(crate) fn listen_address(web: &WebArgs) -> Result<SocketAddr, u8> {
    let port = web.web_port.unwrap_or(DEFAULT_PORT);
    let host = web.web_host.as_deref().unwrap_or("127.0.0.1");
    let ip = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => match (host, port).to_socket_addrs().map(|mut a| a.next()) {
            Ok(Some(addr)) => addr.ip(),
            _ => {
                eprintln!(
                    "error: --web-host `{host}` is neither an IP address nor a name this \
                     machine resolves; use 127.0.0.1 (the default) or an address of this \
                     machine"
                );
                return Err(exit::USAGE);
            }
        },
    };
    match web.web_auth_token.as_deref() {
        Some(t) if t.trim().is_empty() => {
            eprintln!("error: --web-auth-token is empty; give a hard-to-guess token");
            return Err(exit::USAGE);
        }
        None if !ip.is_loopback() => {
            eprintln!(
                "error: --web-host {host} is not loopback: anyone who can reach it could \
                 start load from this machine. Give --web-auth-token TOKEN (every request \
                 must then carry it), or keep the default 127.0.0.1"
            );
            return Err(exit::USAGE);
        }
        _ => {}
    }
    // The page keeps the token in a cookie: one it cannot hold would never work.
    let unfit = web
        .web_auth_token
        .as_deref()
        .and_then(|t| t.chars().find(|c| !cookie_octet(*c)));
    if let Some(bad) = unfit {
        eprintln!(
            "error: --web-auth-token holds {bad:?}, which a cookie cannot carry (the page \
             keeps the token in one); use printable ASCII without space, `\"`, `,`, `;` \
             or `\\`, e.g. the output of `openssl rand -hex 16`"
        );
        return Err(exit::USAGE);
    }
    Ok(SocketAddr::new(ip, port))
}

/// Whether `c` may stand in a cookie's value (RFC 6265's cookie-octet).
fn cookie_octet(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '"' | ',' | ';' | '\\')
}

/// Serves the web UI and runs the scenario from it (see the module comment).
pub(crate) async fn serve(setup: Setup) -> u8 {
    let addr = match listen_address(&setup.web) {
        Ok(a) => a,
        Err(code) => return code,
    };
    // The file is checked before the page is served: a scenario that cannot run never
    // reaches the browser.
    let loaded = match commands::load(setup.file.clone(), &setup.opts, setup.usage_error) {
        Ok(l) => l,
        Err(code) => return code,
    };
    if let Err(code) = loaded.thresholds(true, &setup.common.outputs.thresholds) {
        return code;
    }
    // The host as the form shows it (redacted): sent back unchanged, it means "as given".
    let shown_host = commands::target_of(&loaded.plan);
    let live = LiveView::new(ready(&loaded, &setup.file));
    let (server, mut starts) = match Server::start(
        Config {
            addr,
            token: setup.web.web_auth_token.clone(),
        },
        live.clone(),
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: the web UI {e}");
            return exit::CANNOT_RUN;
        }
    };
    eprintln!("Web UI: {}", server.url());
    let interrupts = interrupts();
    let loaded = if setup.web.autostart {
        server.mark_started();
        loaded
    } else {
        eprintln!("Waiting for the start form (or POST /swarm); Ctrl-C quits.");
        let mut ctrl_c = interrupts.clone();
        loop {
            tokio::select! {
                request = starts.recv() => {
                    let Some(request) = request else {
                        eprintln!("error: the web UI stopped before the start");
                        return exit::CANNOT_RUN;
                    };
                    match compile_form(&setup, &request.form, &shown_host) {
                        Ok(loaded) => {
                            live.accepted(commands::target_of(&loaded.plan));
                            let _ = request.reply.send(Ok(()));
                            break loaded;
                        }
                        Err(why) => {
                            let _ = request.reply.send(Err(why));
                        }
                    }
                }
                _ = ctrl_c.changed() => {
                    eprintln!("\nInterrupted before the start: no run, no files.");
                    server.stop();
                    return exit::INTERRUPTED;
                }
            }
        }
    };
    drop(starts);
    let stop_timeout = setup
        .stop_timeout
        .or(loaded.scenario.load.stop_timeout.as_ref().map(|t| t.value))
        .unwrap_or(DEFAULT_STOP_TIMEOUT);
    let run = Run {
        common: &setup.common,
        split: &SegmentArgs::NONE,
        stop_timeout,
        reset_stats: setup.reset_stats,
        from_file: true,
    };
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(live.sink())];
    let outcome = match commands::run_session(loaded, &run, sinks, |c| server.set_control(c)).await
    {
        Ok(o) => o,
        Err(code) => {
            server.stop();
            return code;
        }
    };
    // A stop from the page ends the run as its run time would (`Control::end`): the verdict
    // decides. Only Ctrl-C makes it 130.
    let code = exit::of_run(&outcome);
    live.end(code);
    if let Some(seconds) = setup.web.autoquit {
        eprintln!(
            "Web UI stays up {seconds} s at {} (POST /api/quit or Ctrl-C ends it).",
            server.url()
        );
        let mut ctrl_c = interrupts.clone();
        ctrl_c.mark_unchanged();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(seconds)) => {}
            _ = server.quit_asked() => {}
            _ = ctrl_c.changed() => {}
        }
    }
    server.stop();
    code
}

/// Counts Ctrl-C presses from now on (the terminal's steering listens too, and stops the
/// run; this count says whether the person or the page ended it).
fn interrupts() -> watch::Receiver<u32> {
    let (tx, rx) = watch::channel(0u32);
    #[cfg(unix)]
    if let Ok(mut signal) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
    {
        tokio::task::spawn_local(async move {
            while signal.recv().await.is_some() {
                tx.send_modify(|n| *n += 1);
            }
        });
    }
    #[cfg(not(unix))]
    tokio::task::spawn_local(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            tx.send_modify(|n| *n += 1);
        }
    });
    rx
}

/// The scenario compiled with the start form's values over the flags'. `Err` is the
/// diagnostics, as the terminal would show them (without colour).
fn compile_form(setup: &Setup, form: &StartForm, shown_host: &str) -> Result<Loaded, String> {
    let mut opts = setup.opts.clone();
    // The pre-filled host is the redacted one (a password in it shows as `[redacted]`):
    // sent back as it was shown, the host stays the one the file or flag gave.
    if let Some(host) = form
        .host
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty() && *h != shown_host)
    {
        opts.host = Some(host.to_owned());
    }
    if let Some(users) = form.users {
        opts.load.users = Some(users);
    }
    if let Some(rate) = form.spawn_rate {
        if !(rate > 0.0 && rate.is_finite()) {
            return Err(format!("spawn_rate must be above 0, not {rate}"));
        }
        opts.load.spawn_rate = Some(rate);
    }
    if let Some(rate) = form.rate {
        if !(rate > 0.0 && rate.is_finite()) {
            return Err(format!("rate must be above 0 iterations/s, not {rate}"));
        }
        opts.load.rate = Some(rate);
    }
    if let Some(s) = form.run_time_s {
        match Duration::try_from_secs_f64(s) {
            Ok(d) if !d.is_zero() => opts.load.duration = Some(d),
            _ => {
                return Err(format!(
                    "run_time_s must be a number of seconds above 0, not {s}"
                ))
            }
        }
    }
    if let Some(text) = form
        .run_time
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        // Locust's form sends bare seconds (`20`) as well as `20s`, `3m`, `1h20m`.
        let parsed = match text.parse::<u64>() {
            Ok(secs) => Ok(Duration::from_secs(secs)),
            Err(_) => barrage_scenario::parse_duration(text),
        };
        match parsed {
            Ok(d) if !d.is_zero() => opts.load.duration = Some(d),
            Ok(_) => return Err(format!("run_time `{text}` is zero; write e.g. 30s or 2m")),
            Err(e) => return Err(format!("run_time `{text}`: {e}; {}", e.help())),
        }
    }
    commands::compile_text(setup.file.clone(), &opts, false).map(|(loaded, _)| loaded)
}

/// The View before the start: the form pre-filled from the file and the flags.
pub(crate) fn ready(loaded: &Loaded, file: &SourceFile) -> View {
    let plan = &loaded.plan;
    let target = commands::target_of(plan);
    View {
        mode: Mode::Live,
        state: State::Ready,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        run: RunMeta {
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            scenario_file: Some(file.name.clone()),
            target: target.clone(),
            load: barrage_session::load_info(plan),
            ..RunMeta::default()
        },
        load: barrage_session::describe(plan),
        form: Some(form(plan, target)),
        ..View::default()
    }
}

fn form(plan: &Plan, host: String) -> Form {
    Form {
        host,
        run_time_s: barrage_session::load_info(plan).duration_s,
        scenarios: plan
            .scenarios
            .iter()
            .map(|s| {
                let e = s.load.executor();
                let info = e.load_info();
                FormScenario {
                    name: s.name.clone(),
                    steers: match e.steers() {
                        Steer::Users => "users",
                        Steer::Rate => "rate",
                    }
                    .to_owned(),
                    users: info.users,
                    spawn_rate: info.spawn_rate,
                    rate: info.rate,
                    load: e.describe(),
                }
            })
            .collect(),
        editable: plan.scenarios.len() == 1,
    }
}
