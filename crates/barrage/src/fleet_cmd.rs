//! `barrage coordinator` and `barrage agent`: a run split over machines and steered live
//! as one (`barrage-fleet` talks; this module compiles, prints and picks exit codes).
//!
//! The coordinator compiles the scenario (to check it and to know its registry), describes
//! the run as a [`RunSpec`] (the scenario's text, its data files and the flags that shape
//! the load), waits for its agents, and runs the usual session over them: the live table,
//! the summary, the result file and every other sink see one run. Each agent compiles the
//! same spec with its segment, so it runs exactly its share.

use std::path::{Component, Path};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use barrage_engine::http::HttpVersion;
use barrage_engine::{CompileOptions, LoadOverrides, RunOptions};
use barrage_fleet::{AgentConfig, AgentError, Coordinator, CoordinatorConfig, LossPolicy, Shape};
use barrage_metrics::format_timestamp;
use barrage_scenario::SourceFile;
use barrage_session::Session;
use barrage_web::live::LiveView;
use serde::{Deserialize, Serialize};

use crate::cli::{AgentArgs, CoordinatorArgs, LossArg, RunArgs};
use crate::commands::{self, Loaded, DEFAULT_STOP_TIMEOUT};
use crate::exit;
use crate::terminal::stderr_color;

/// What every agent runs: the scenario and the flags that shape its plan and its engine.
/// The coordinator's own outputs, thresholds and monitoring stay with it.
#[derive(Debug, Serialize, Deserialize)]
struct RunSpec {
    /// The scenario file's name (its directory is the agent's own).
    scenario_name: String,
    scenario_text: String,
    /// `data:` files, by the path the scenario gives.
    data: Vec<DataFile>,
    host: Option<String>,
    users: Option<u64>,
    spawn_rate: Option<f64>,
    run_time_ms: Option<u64>,
    iterations: Option<u64>,
    rate: Option<f64>,
    stages_ms: Option<Vec<(u64, f64)>>,
    max_users: Option<u64>,
    poisson: Option<bool>,
    max_body_size: Option<u64>,
    no_redact: bool,
    stop_timeout_ms: u64,
    insecure: bool,
    no_retry: bool,
    http: Option<u8>,
    max_head_size: Option<u64>,
    max_body_memory: Option<u64>,
    traceparent: bool,
    batch_window_us: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct DataFile {
    path: String,
    text: String,
}

impl RunSpec {
    fn of(args: &RunArgs, loaded: &Loaded, stop_timeout: Duration) -> Result<RunSpec, String> {
        let dir = args.scenario.parent().unwrap_or(Path::new(""));
        let mut data = Vec::new();
        for d in &loaded.scenario.data {
            let path = d.file.value.clone();
            if !is_plain_relative(Path::new(&path)) {
                return Err(format!(
                    "data file `{path}`: a coordinated run sends data files to its agents by \
                     their path relative to the scenario, so it must be a relative path without \
                     `..` (move the file beside the scenario)"
                ));
            }
            let text = std::fs::read_to_string(dir.join(&path))
                .map_err(|e| format!("cannot read data file {path}: {e}"))?;
            data.push(DataFile { path, text });
        }
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let c = &args.common;
        Ok(RunSpec {
            scenario_name: args
                .scenario
                .file_name()
                .map_or("scenario.yaml".to_owned(), |n| {
                    n.to_string_lossy().into_owned()
                }),
            scenario_text: loaded.file.text.clone(),
            data,
            host: args.host.clone(),
            users: args.users,
            spawn_rate: args.spawn_rate,
            run_time_ms: args.run_time.map(ms),
            iterations: args.iterations,
            rate: args.rate,
            stages_ms: args
                .stages
                .as_ref()
                .map(|s| s.0.iter().map(|&(d, t)| (ms(d), t)).collect()),
            max_users: args.max_users,
            poisson: args.arrivals.map(|a| a == crate::cli::ArrivalsArg::Poisson),
            max_body_size: c.max_body_size,
            no_redact: c.no_redact,
            stop_timeout_ms: ms(stop_timeout),
            insecure: c.insecure,
            no_retry: c.no_retry,
            http: match (c.http1, c.http2) {
                (true, _) => Some(1),
                (_, true) => Some(2),
                _ => None,
            },
            max_head_size: c.max_head_size,
            max_body_memory: c.max_body_memory,
            traceparent: c.monitor.traceparent,
            batch_window_us: c
                .batch_window
                .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
        })
    }

    fn compile_options(&self) -> CompileOptions {
        let ms = Duration::from_millis;
        CompileOptions {
            host: self.host.clone(),
            load: LoadOverrides {
                users: self.users,
                spawn_rate: self.spawn_rate,
                duration: self.run_time_ms.map(ms),
                iterations: self.iterations,
                rate: self.rate,
                stages: self.stages_ms.as_ref().map(|s| {
                    s.iter()
                        .map(|&(d, target)| barrage_engine::plan::Stage {
                            duration: ms(d),
                            target,
                        })
                        .collect()
                }),
                max_users: self.max_users,
                pre_allocated_users: None,
                arrivals: self.poisson.map(|p| match p {
                    true => barrage_engine::load::Arrivals::Poisson,
                    false => barrage_engine::load::Arrivals::Even,
                }),
            },
            max_body_size: self.max_body_size,
            no_redact: self.no_redact,
        }
    }

    fn run_options(&self, workers: usize, segment: barrage_engine::segment::Segment) -> RunOptions {
        let defaults = RunOptions::default();
        let size = |n: Option<u64>, default: usize| {
            n.map_or(default, |n| usize::try_from(n).unwrap_or(usize::MAX))
        };
        RunOptions {
            stop_timeout: Duration::from_millis(self.stop_timeout_ms),
            workers,
            insecure: self.insecure,
            segment,
            retry_reused: !self.no_retry,
            traceparent: self.traceparent,
            batch_window: self
                .batch_window_us
                .map_or(defaults.batch_window, Duration::from_micros),
            max_head: size(self.max_head_size, defaults.max_head),
            body_memory: size(self.max_body_memory, defaults.body_memory),
            http: match self.http {
                Some(1) => Some(HttpVersion::Http1),
                Some(2) => Some(HttpVersion::Http2),
                _ => None,
            },
            ..defaults
        }
    }
}

/// A relative path that stays below its directory (no root, no `..`).
fn is_plain_relative(path: &Path) -> bool {
    path.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// `barrage coordinator`.
pub async fn coordinator(args: CoordinatorArgs) -> u8 {
    let run = &args.run;
    if run.debug {
        eprintln!("error: --debug runs one user on this machine: use `barrage run --debug`");
        return exit::USAGE;
    }
    let web_addr = match run.web.web {
        true => match crate::web_cmd::listen_address(&run.web) {
            Ok(a) => Some(a),
            Err(code) => return code,
        },
        false => None,
    };
    let opts = CompileOptions {
        host: run.host.clone(),
        load: commands::overrides(run),
        max_body_size: run.common.max_body_size,
        no_redact: run.common.no_redact,
    };
    let loaded =
        match commands::read(&run.scenario).and_then(|f| commands::load(f, &opts, exit::USAGE)) {
            Ok(l) => l,
            Err(code) => return code,
        };
    let stop_timeout = run
        .stop_timeout
        .or(loaded.scenario.load.stop_timeout.as_ref().map(|t| t.value))
        .unwrap_or(DEFAULT_STOP_TIMEOUT);
    let items = match loaded.thresholds(true, &run.common.outputs.thresholds) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let spec = match RunSpec::of(run, &loaded, stop_timeout) {
        Ok(s) => serde_json::to_value(s).expect("a RunSpec is plain data"),
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => match crate::fleet_tls::server_config(cert, key) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        },
        _ => None,
    };
    let agents = args.agents as usize;
    // The web UI shows the merged run as it shows one process's: it starts with the agents
    // (as with --autostart: the start form has nothing to start), and its buttons and
    // Locust's paths steer every agent.
    let web = match web_addr {
        Some(addr) => {
            let live = LiveView::new(crate::web_cmd::ready(&loaded, &loaded.file));
            let config = barrage_web::server::Config {
                addr,
                token: run.web.web_auth_token.clone(),
            };
            match barrage_web::server::Server::start(config, live.clone()) {
                Ok((server, _starts)) => {
                    eprintln!("Web UI: {}", server.url());
                    Some((server, live))
                }
                Err(e) => {
                    eprintln!("error: the web UI {e}");
                    return exit::CANNOT_RUN;
                }
            }
        }
        None => None,
    };
    let config = CoordinatorConfig {
        listen: args.listen,
        token: args.token.clone().filter(|t| !t.is_empty()),
        tls,
        agents,
        on_loss: match args.on_agent_loss {
            LossArg::Fail => LossPolicy::Fail,
            LossArg::Continue => LossPolicy::Continue,
        },
        spec,
        registry: loaded.plan.registry.clone(),
        start_delay: Duration::from_secs(2),
    };
    let coordinator = match Coordinator::start(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    eprintln!(
        "Coordinator listening on {}: waiting for {agents} agent{} (`barrage agent \
         --coordinator {}`{})...",
        coordinator.local_addr,
        if agents == 1 { "" } else { "s" },
        coordinator.local_addr,
        if args.token.is_some() {
            " --token ..."
        } else {
            ""
        }
    );
    let mut coordinator = coordinator;
    let mut interrupts = crate::terminal::Interrupts::new();
    let gathered = {
        loop {
            tokio::select! {
                result = &mut coordinator.gathered => {
                    break result.unwrap_or(Err(barrage_fleet::FleetError::Ended));
                }
                Some(line) = coordinator.progress.recv() => eprintln!("{line}"),
                _ = interrupts.recv() => {
                    eprintln!("\nInterrupted before the run started.");
                    return exit::INTERRUPTED;
                }
            }
        }
    };
    let mut progress = coordinator.progress;
    // Lines while the run goes on (an agent lost) are printed as they come.
    let printer = tokio::task::spawn_local(async move {
        while let Some(line) = progress.recv().await {
            eprintln!("{line}");
        }
    });
    let remote = match gathered {
        Ok(r) => r,
        Err(e) => {
            printer.abort();
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    let start_wall = remote.start_wall();
    eprintln!(
        "All {agents} agents registered; they start at {} (coordinator's clock).",
        format_timestamp(start_wall)
    );
    // The session's clock starts with the agents'.
    let wait = start_wall
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    tokio::select! {
        _ = tokio::time::sleep_until((Instant::now() + wait).into()) => {}
        _ = interrupts.recv() => {
            // The agents lose their coordinator and stop before (or as) they start.
            eprintln!("\nInterrupted before the run started.");
            return exit::INTERRUPTED;
        }
    }
    drop(interrupts);
    let common = &run.common;
    let frame = commands::Run {
        common,
        split: &crate::segments::SegmentArgs::NONE,
        stop_timeout,
        reset_stats: run.reset_stats,
        from_file: true,
    };
    let mut prepared = match commands::prepare(loaded, &frame, items) {
        Ok(p) => p,
        Err(code) => return code,
    };
    prepared.settings.meta.start_at = Some(format_timestamp(start_wall));
    let session = Session::with_source(
        prepared.plan,
        prepared.settings,
        Box::new(remote),
        start_wall,
    );
    commands::announce(
        &session,
        &prepared.target,
        common,
        None,
        &prepared.export_lines,
    );
    let extra: Vec<Box<dyn barrage_session::Sink>> = match &web {
        Some((server, live)) => {
            server.mark_started();
            vec![Box::new(live.sink())]
        }
        None => Vec::new(),
    };
    let outcome = commands::drive(session, prepared.export_sinks, common, extra, |c| {
        if let Some((server, _)) = &web {
            server.set_control(c);
        }
    })
    .await;
    printer.abort();
    let code = exit::of_run(&outcome);
    if let Some((server, live)) = web {
        live.end(code);
        server.stop();
    }
    code
}

/// `barrage agent`.
pub async fn agent(args: AgentArgs) -> u8 {
    let tls = match &args.tls_ca {
        Some(ca) => match crate::fleet_tls::client_config(ca) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        },
        None => None,
    };
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let name = args.name.clone().unwrap_or_else(|| {
        // The kernel's host name (Linux); two agents of one name are told apart by the
        // coordinator.
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "agent".to_owned())
    });
    let config = AgentConfig {
        coordinator: args.coordinator.clone(),
        token: args.token.clone().filter(|t| !t.is_empty()),
        name: name.clone(),
        workers,
        tls,
    };
    eprintln!(
        "Agent {name}: connecting to the coordinator at {}...",
        args.coordinator
    );
    let (mut link, assignment) = match barrage_fleet::agent::connect(&config).await {
        Ok(x) => x,
        Err(e) => return agent_error(&e),
    };
    let segment = assignment.segment;
    let spec: RunSpec = match serde_json::from_value(assignment.spec) {
        Ok(s) => s,
        Err(e) => {
            let why = format!("cannot read the run's description: {e}");
            eprintln!("error: {why}");
            link.refuse(why).await;
            return exit::CANNOT_RUN;
        }
    };
    // The scenario and its data files, as the coordinator has them, in a directory of
    // their own (removed when the agent ends).
    let dir = match write_files(&spec) {
        Ok(d) => d,
        Err(why) => {
            eprintln!("error: {why}");
            link.refuse(why).await;
            return exit::CANNOT_RUN;
        }
    };
    let file = SourceFile {
        name: dir.path().join(&spec.scenario_name).display().to_string(),
        text: spec.scenario_text.clone(),
    };
    let (loaded, warnings) =
        match commands::compile_text(file, &spec.compile_options(), stderr_color()) {
            Ok(x) => x,
            Err(text) => {
                eprint!("{text}");
                link.refuse(format!(
                    "the scenario does not compile on this agent:\n{text}"
                ))
                .await;
                return exit::USAGE;
            }
        };
    eprint!("{warnings}");
    let start = match link.ready(Shape::of(&loaded.plan.registry)).await {
        Ok(at) => at,
        Err(e) => return agent_error(&e),
    };
    let wait = start
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    eprintln!(
        "Agent {name}: segment {}/{}, {workers} worker{}; starting in {:.1} s.",
        segment.index() + 1,
        segment.count(),
        if workers == 1 { "" } else { "s" },
        wait.as_secs_f64()
    );
    tokio::time::sleep(wait).await;
    let options = spec.run_options(workers, segment);
    let run = match barrage_engine::Run::start(Arc::new(loaded.plan), &options) {
        Ok(r) => r,
        Err(e) => {
            // The coordinator sees the connection close: this agent is lost to it.
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    match link.serve(run).await {
        Ok(served) => {
            for p in &served.panicked {
                eprintln!("error: {p}");
            }
            eprintln!("Agent {name}: done.");
            if served.panicked.is_empty() {
                exit::OK
            } else {
                exit::CANNOT_RUN
            }
        }
        Err(e) => agent_error(&e),
    }
}

fn agent_error(e: &AgentError) -> u8 {
    eprintln!("error: {e}");
    match e {
        AgentError::Token | AgentError::Refused(_) => exit::USAGE,
        _ => exit::CANNOT_RUN,
    }
}

fn write_files(spec: &RunSpec) -> Result<tempfile::TempDir, String> {
    let dir = tempfile::tempdir()
        .map_err(|e| format!("cannot make a directory for the scenario: {e}"))?;
    if !is_plain_relative(Path::new(&spec.scenario_name)) {
        return Err(format!("`{}` is not a plain file name", spec.scenario_name));
    }
    for d in &spec.data {
        if !is_plain_relative(Path::new(&d.path)) {
            return Err(format!(
                "data file `{}` is not a relative path below the scenario",
                d.path
            ));
        }
        let path = dir.path().join(&d.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot write {}: {e}", d.path))?;
        }
        std::fs::write(&path, &d.text).map_err(|e| format!("cannot write {}: {e}", d.path))?;
    }
    Ok(dir)
}
