//! `barrage capacity --serve CMD --vary NAME=V1,V2`: one capacity search per configuration
//! of the service (every combination of the `--vary` values), the service started before
//! and stopped after each, then the capacity per configuration as a table and a chart.
//!
//! The parts: [`Vary`] and [`configurations`] turn the flags into the list of
//! configurations (pure, tested here); [`crate::serve`] starts, waits for and stops one
//! service; [`crate::capacity_cmd::search`] runs one search; this module sequences them and
//! reports. A configuration that cannot start is recorded and the sweep goes on (the others
//! still say something); Ctrl-C ends the sweep with what was found; SIGTERM and SIGHUP
//! stop the running service and end barrage at once.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use barrage_engine::{CompileOptions, LoadOverrides};
use barrage_metrics::capacity::SweepEntry;
use barrage_metrics::{CapacityDoc, CapacityStatus, SearchModel, SweepDoc};

use crate::cli::{CapacityArgs, CapacityModel};
use crate::exit;
use crate::serve::{ServeError, ServeTarget, Service};

/// What is wrong with `--serve` and `--vary` (exit 2).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum SweepError {
    #[error("--vary {given:?}: expected NAME=V1,V2,... or env:NAME=V1,V2,... (e.g. --vary workers=1,2,4)")]
    Syntax { given: String },
    #[error("--vary {given:?}: {name:?} is not a name: use letters, digits, `_` and `-` (an env: name: letters, digits and `_`, not starting with a digit)")]
    BadName { given: String, name: String },
    #[error("--vary {given:?}: a value is empty; list the values separated by commas, none empty (workers=1,2,4)")]
    EmptyValue { given: String },
    #[error("--vary {given:?}: the value {value:?} is listed twice; list each value once")]
    RepeatedValue { given: String, value: String },
    #[error("--vary {name}: given twice; list all its values in one --vary {name}=V1,V2,...")]
    Duplicate { name: String },
    #[error("--serve uses {{{name}}}, but no --vary {name}=... gives its values")]
    Unbound { name: String },
    #[error("--vary {name}: --serve has no {{{name}}} to fill in; use {{{name}}} in the command, or env:{name} to set an environment variable")]
    Unused { name: String },
    #[error("{flag} is not written by a sweep (one file per configuration would overwrite the last); a sweep writes --json and --html")]
    Unsupported { flag: &'static str },
}

/// One `--vary`: a name as given (`workers`, `env:DB_POOL_SIZE`) and its values in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Vary {
    pub name: String,
    pub values: Vec<String>,
}

impl Vary {
    pub fn parse(given: &str) -> Result<Vary, SweepError> {
        let Some((name, list)) = given.split_once('=') else {
            return Err(SweepError::Syntax {
                given: given.to_string(),
            });
        };
        let name = name.trim();
        let valid = match name.strip_prefix("env:") {
            Some(var) => is_env_name(var),
            None => {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            }
        };
        if !valid {
            return Err(SweepError::BadName {
                given: given.to_string(),
                name: name.to_string(),
            });
        }
        let values: Vec<String> = list.split(',').map(|v| v.trim().to_string()).collect();
        if values.iter().any(String::is_empty) {
            return Err(SweepError::EmptyValue {
                given: given.to_string(),
            });
        }
        // Two equal values would be two equal configurations: the same search twice, into
        // one log file.
        if let Some(v) = values
            .iter()
            .enumerate()
            .find_map(|(i, v)| values[..i].contains(v).then_some(v))
        {
            return Err(SweepError::RepeatedValue {
                given: given.to_string(),
                value: v.clone(),
            });
        }
        Ok(Vary {
            name: name.to_string(),
            values,
        })
    }

    /// The environment variable this sets, for an `env:` name.
    fn env_var(&self) -> Option<&str> {
        self.name.strip_prefix("env:")
    }
}

fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The `{NAME}` placeholders of a `--serve` command, in order of first use. `${...}` is the
/// shell's, not a placeholder, so `{HOME}` in `${HOME}` is left to `sh`.
pub(crate) fn placeholders(command: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for (name, _) in placeholder_spans(command) {
        if !found.iter().any(|f| f == name) {
            found.push(name.to_string());
        }
    }
    found
}

/// Each placeholder's name and byte range (braces included).
fn placeholder_spans(command: &str) -> Vec<(&str, std::ops::Range<usize>)> {
    let bytes = command.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' && (i == 0 || bytes[i - 1] != b'$') {
            if let Some(len) = command[i + 1..].find('}') {
                let name = &command[i + 1..i + 1 + len];
                if !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    spans.push((name, i..i + len + 2));
                    i += len + 2;
                    continue;
                }
            }
        }
        i += 1;
    }
    spans
}

/// One configuration: a value for every `--vary`, in the order the flags were given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Configuration {
    pub values: Vec<(String, String)>,
}

impl Configuration {
    /// `env:DB_POOL_SIZE=10 workers=2`: how the terminal, the log file, the JSON and the
    /// HTML name it, the names sorted (as the JSON's map has them).
    pub fn label(&self) -> String {
        label_from(
            self.values
                .iter()
                .cloned()
                .collect::<BTreeMap<_, _>>()
                .iter(),
        )
    }

    /// The `--serve` command with each `{NAME}` replaced by this configuration's value, as
    /// written (no quoting: the command is the person's shell text, so they quote).
    pub fn command(&self, template: &str) -> String {
        let mut out = String::new();
        let mut at = 0;
        for (name, range) in placeholder_spans(template) {
            let value = self.values.iter().find(|(n, _)| n == name);
            if let Some((_, v)) = value {
                out.push_str(&template[at..range.start]);
                out.push_str(v);
                at = range.end;
            }
        }
        out.push_str(&template[at..]);
        out
    }

    /// The service's environment variables (`env:` names).
    pub fn env(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .filter_map(|(n, v)| n.strip_prefix("env:").map(|e| (e.to_string(), v.clone())))
            .collect()
    }

    /// The log file's name: `barrage-serve-workers=2.log`; characters a shell or another
    /// system would trip on become `_` (`env:A=1 B=2` -> `env_A=1_B=2`). `index` is the
    /// configuration's place in the sweep (from 1), added as `+INDEX` when the name alone
    /// could collide or be too long (see [`Self::needs_index`]).
    pub fn log_name(&self, index: usize) -> String {
        let mut safe: String = self.label().chars().map(safe_char).collect();
        if !self.needs_index(&safe) {
            return format!("barrage-serve-{safe}.log");
        }
        // `safe` is ASCII (every other character became `_`), so any cut is on a boundary.
        safe.truncate(LOG_NAME_MAX);
        format!("barrage-serve-{safe}+{index}.log")
    }

    /// Whether the log name needs the index to stay unique and short. Sanitizing is
    /// one-to-one only while every value is made of characters it keeps and holds no `_`
    /// (the separator a space and `env:`'s colon become): then the names, the same and in
    /// the same order in every configuration, split the name back into its values. Past
    /// [`LOG_NAME_MAX`] bytes the name is cut, which can make two equal. `+` is never kept by
    /// sanitizing, so a name with the index never equals one without.
    fn needs_index(&self, safe: &str) -> bool {
        safe.len() > LOG_NAME_MAX
            || self
                .values
                .iter()
                .any(|(_, v)| v.chars().any(|c| c == '_' || safe_char(c) != c))
    }
}

/// The most bytes of the configuration's label in its log's name: with `barrage-serve-`,
/// `+INDEX` and `.log` it stays well under the usual 255-byte file-name limit.
const LOG_NAME_MAX: usize = 200;

/// A label's character as it goes into a file name.
fn safe_char(c: char) -> char {
    if c.is_ascii_alphanumeric() || matches!(c, '=' | '-' | '.' | ',') {
        c
    } else {
        '_'
    }
}

/// Every combination of the values, the first `--vary` outermost: `a=1,2 b=x,y` gives
/// `a=1 b=x`, `a=1 b=y`, `a=2 b=x`, `a=2 b=y`.
pub(crate) fn configurations(varies: &[Vary]) -> Vec<Configuration> {
    let mut all = vec![Configuration { values: Vec::new() }];
    for vary in varies {
        all = all
            .into_iter()
            .flat_map(|c| {
                vary.values.iter().map(move |v| {
                    let mut values = c.values.clone();
                    values.push((vary.name.clone(), v.clone()));
                    Configuration { values }
                })
            })
            .collect();
    }
    all
}

/// Checks `--serve` against the `--vary`s and returns them parsed.
pub(crate) fn parse_varies(serve: &str, given: &[String]) -> Result<Vec<Vary>, SweepError> {
    let mut varies: Vec<Vary> = Vec::new();
    for g in given {
        let vary = Vary::parse(g)?;
        if varies.iter().any(|v| v.name == vary.name) {
            return Err(SweepError::Duplicate { name: vary.name });
        }
        varies.push(vary);
    }
    let used = placeholders(serve);
    if let Some(name) = used.iter().find(|u| !varies.iter().any(|v| &v.name == *u)) {
        return Err(SweepError::Unbound { name: name.clone() });
    }
    if let Some(v) = varies
        .iter()
        .find(|v| v.env_var().is_none() && !used.contains(&v.name))
    {
        return Err(SweepError::Unused {
            name: v.name.clone(),
        });
    }
    Ok(varies)
}

/// Flags a sweep refuses rather than ignores.
fn refuse_unsupported(args: &CapacityArgs) -> Result<(), SweepError> {
    let o = &args.common.outputs;
    let given = [
        ("--csv", o.csv.is_some()),
        ("--junit", o.junit.is_some()),
        ("--summary-md", o.summary_md.is_some()),
        ("--baseline", args.baseline.is_some()),
    ];
    match given.iter().find(|(_, on)| *on) {
        Some((flag, _)) => Err(SweepError::Unsupported { flag }),
        None => Ok(()),
    }
}

/// Where the services' logs go: beside the `--json` file when there is one (the run's
/// files together), else the current directory (`--json -` writes to stdout, which has no
/// folder).
fn log_dir(args: &CapacityArgs) -> PathBuf {
    match args.common.json.as_deref() {
        Some(p) if p != Path::new("-") => match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        },
        _ => PathBuf::from("."),
    }
}

/// The target the services must answer on: `-H`, else the file's `target:`.
fn serve_target(args: &CapacityArgs) -> Result<ServeTarget, u8> {
    let file = crate::commands::read(&args.scenario)?;
    let opts = CompileOptions {
        host: args.host.clone(),
        load: LoadOverrides::default(),
        max_body_size: args.common.max_body_size,
        no_redact: true,
    };
    // Only the target is wanted here; the search compiles the file again and shows its
    // warnings then, so they are not printed twice.
    let loaded = match crate::commands::compile_text(file, &opts, crate::terminal::stderr_color()) {
        Ok((loaded, _warnings)) => loaded,
        Err(shown) => {
            eprint!("{shown}");
            return Err(exit::USAGE);
        }
    };
    let Some(base) = loaded.plan.base.as_ref() else {
        eprintln!("error: {}", ServeError::NoTarget);
        return Err(exit::USAGE);
    };
    let url = format!("{}{}", base.origin, base.path_prefix);
    ServeTarget::from_url(&url).map_err(|e| {
        eprintln!("error: {e}");
        exit::USAGE
    })
}

/// `barrage capacity --serve ... --vary ...`.
pub async fn run(args: CapacityArgs) -> u8 {
    let serve = args
        .serve
        .clone()
        .expect("sweep::run is called only with --serve (capacity_cmd::run checks)");
    let varies = match refuse_unsupported(&args).and_then(|()| parse_varies(&serve, &args.vary)) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let target = match serve_target(&args) {
        Ok(t) => t,
        Err(code) => return code,
    };
    // The search writes nothing itself in a sweep: --json and --html are the sweep's.
    let mut search_args = args.clone();
    search_args.common.json = None;
    search_args.common.outputs.html = None;

    let dir = log_dir(&args);
    let configs = configurations(&varies);
    let mut doc = SweepDoc {
        kind: "capacity-sweep".to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario_file: args.scenario.display().to_string(),
        serve: serve.clone(),
        configurations: Vec::new(),
        interrupted: false,
    };
    let mut usage_error = false;
    // One Ctrl-C listener for the whole sweep, made before the first service starts: it
    // interrupts a start, and it sees a press that comes while nothing else listens (while
    // a service stops, between two configurations), which would otherwise be lost, since
    // tokio's handler has replaced the default one that ends the process. A press during a
    // search reaches the search's own listener as well.
    let mut interrupts =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    let running = stop_on_termination();
    for (i, config) in configs.iter().enumerate() {
        let label = config.label();
        let command = config.command(&serve);
        let log = dir.join(config.log_name(i + 1));
        eprintln!(
            "\n=== {label} ({} of {}): starting `{command}`, output in {}",
            i + 1,
            configs.len(),
            log.display()
        );
        let mut entry = SweepEntry {
            values: config.values.iter().cloned().collect::<BTreeMap<_, _>>(),
            command: command.clone(),
            log: log.display().to_string(),
            capacity: None,
            error: None,
        };
        let ran = run_one(
            &search_args,
            &target,
            config,
            (&command, &log, &label),
            &mut interrupts,
            &running,
        )
        .await;
        let stop_failed = ran.stop_error.is_some();
        match ran.outcome {
            Outcome::Searched {
                capacity,
                run_failed,
            } => {
                entry.capacity = Some(*capacity);
                if run_failed {
                    entry.error = Some(
                        "a worker failed or an output could not be written during the search"
                            .to_owned(),
                    );
                }
            }
            Outcome::NotStarted(e) => entry.error = Some(e),
            Outcome::Died(capacity, e) => {
                entry.capacity = Some(*capacity);
                entry.error = Some(e);
            }
            Outcome::SearchFailed(code) => {
                entry.error = Some(format!("the search could not run (exit {code})"));
                usage_error = code == exit::USAGE;
            }
        }
        if let Some(e) = ran.stop_error {
            eprintln!("error: {e}");
            let prior = entry.error.take().map_or(String::new(), |p| p + "; ");
            entry.error = Some(format!("{prior}{e}"));
        }
        doc.configurations.push(entry);
        if ran.interrupted || pressed(&mut interrupts).await {
            doc.interrupted = true;
            break;
        }
        // A bad scenario or flag fails every configuration the same way; a group that would
        // not die holds the port the next one needs.
        if usage_error || stop_failed {
            break;
        }
    }

    print_summary(&doc, args.model);
    let written = write_files(&doc, &args);
    let ended = Ended {
        usage_error,
        written,
    };
    sweep_exit_code(&doc, ended, args.fail_below, args.model)
}

/// How the sweep itself went, beside what its configurations found.
#[derive(Clone, Copy)]
struct Ended {
    /// A search could not start for a usage or scenario error (it said which).
    usage_error: bool,
    /// `--json` and `--html` were written.
    written: bool,
}

/// The sweep's exit code: 130 when interrupted, whatever else went wrong (the docs'
/// order: a person who pressed Ctrl-C learns that first); then 2 for a usage error, 3
/// when a file could not be written, then [`exit_code`].
fn sweep_exit_code(
    doc: &SweepDoc,
    ended: Ended,
    fail_below: Option<f64>,
    model: CapacityModel,
) -> u8 {
    if doc.interrupted {
        return exit::INTERRUPTED;
    }
    if ended.usage_error {
        return exit::USAGE;
    }
    if !ended.written {
        return exit::CANNOT_RUN;
    }
    exit_code(doc, fail_below, model)
}

/// SIGTERM and SIGHUP end barrage at once (a supervisor or a closed terminal wants it
/// gone, not a report), but never leave the service running: a task listens for them for
/// the whole sweep, stops the group whose id is in the returned cell (0: none is
/// running), restores the terminal the search may have put in cbreak mode, and exits 143
/// or 129 (128 + the signal, as a shell reports it). It runs beside the search, which
/// hears only Ctrl-C, so it needs nothing from the search. SIGKILL cannot be caught: the
/// service then outlives barrage.
fn stop_on_termination() -> Arc<AtomicI32> {
    use tokio::signal::unix::{signal, SignalKind};
    let running = Arc::new(AtomicI32::new(0));
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return running;
    };
    let terminal = saved_terminal();
    let group = Arc::clone(&running);
    tokio::spawn(async move {
        let (name, code) = tokio::select! {
            _ = term.recv() => ("SIGTERM", 143),
            _ = hup.recv() => ("SIGHUP", 129),
        };
        let pgid = group.load(Ordering::SeqCst);
        if pgid != 0 {
            eprintln!("\n{name}: stopping the service (process group {pgid}), then exiting.");
            if !crate::serve::stop_group(pgid) {
                eprintln!("error: processes of the service's group {pgid} outlived SIGKILL");
            }
        } else {
            eprintln!("\n{name}: exiting.");
        }
        restore_terminal(terminal);
        std::process::exit(code);
    });
    running
}

/// The terminal's settings as the sweep found them, when stdin is one.
fn saved_terminal() -> Option<nix::sys::termios::Termios> {
    use std::io::IsTerminal;
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return None;
    }
    nix::sys::termios::tcgetattr(&stdin).ok()
}

fn restore_terminal(saved: Option<nix::sys::termios::Termios>) {
    if let Some(t) = saved {
        let _ =
            nix::sys::termios::tcsetattr(std::io::stdin(), nix::sys::termios::SetArg::TCSANOW, &t);
    }
}

/// Whether a Ctrl-C has come since the last look, without waiting for one.
async fn pressed(signal: &mut Option<tokio::signal::unix::Signal>) -> bool {
    let Some(s) = signal.as_mut() else {
        return false;
    };
    tokio::select! {
        biased;
        _ = s.recv() => true,
        () = std::future::ready(()) => false,
    }
}

/// What became of one configuration.
struct Ran {
    outcome: Outcome,
    interrupted: bool,
    /// The service could not be stopped (its group outlived SIGKILL).
    stop_error: Option<ServeError>,
}

enum Outcome {
    /// What the search found; `run_failed` when a worker failed or an output could not be
    /// written during it (said on stderr).
    Searched {
        capacity: Box<CapacityDoc>,
        run_failed: bool,
    },
    /// The service did not start or answer: why.
    NotStarted(String),
    /// The search could not start: its exit code (it said why).
    SearchFailed(u8),
    /// The search ran, but the service exited during it: what was measured, and why it
    /// does not count.
    Died(Box<CapacityDoc>, String),
}

/// Starts the service, waits for it, searches, and stops it: on every path out, the
/// service is stopped here (and by its guard's `Drop` on a panic).
async fn run_one(
    args: &CapacityArgs,
    target: &ServeTarget,
    config: &Configuration,
    (command, log, label): (&str, &Path, &str),
    interrupts: &mut Option<tokio::signal::unix::Signal>,
    running: &AtomicI32,
) -> Ran {
    // A readiness check would take another program's answer for this service's.
    if target.answers().await {
        let e = ServeError::PortTaken {
            authority: target.authority.clone(),
        };
        eprintln!("error: {label}: {e}");
        return Ran {
            outcome: Outcome::NotStarted(e.to_string()),
            interrupted: false,
            stop_error: None,
        };
    }
    let mut service = match Service::start(command, &config.env(), log) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {label}: {e}");
            return Ran {
                outcome: Outcome::NotStarted(e.to_string()),
                interrupted: false,
                stop_error: None,
            };
        }
    };
    running.store(service.pgid(), Ordering::SeqCst);
    let ready = service
        .wait_ready(target, args.serve_timeout, interrupts)
        .await;
    let (outcome, interrupted) = match ready {
        Err(ServeError::Interrupted) => {
            eprintln!("\nInterrupted while {label} was starting: stopping it.");
            (
                Outcome::NotStarted(ServeError::Interrupted.to_string()),
                true,
            )
        }
        Err(e) => {
            eprintln!("error: {label}: {e}");
            (Outcome::NotStarted(e.to_string()), false)
        }
        Ok(()) => {
            eprintln!("{label}: the service answers {}", target.url());
            // A Ctrl-C while the service came up: the search would start a load first
            // and only then hear of it (its own listener is not made yet).
            if pressed(interrupts).await {
                eprintln!("\nInterrupted before {label}'s search: stopping the service.");
                (
                    Outcome::NotStarted(
                        "interrupted (Ctrl-C) before the search started".to_string(),
                    ),
                    true,
                )
            } else {
                searched(args, label, &mut service).await
            }
        }
    };
    let stop_error = service.stop().err();
    running.store(0, Ordering::SeqCst);
    Ran {
        outcome,
        interrupted,
        stop_error,
    }
}

/// The search of a running service; then, whether the service lasted through it.
async fn searched(args: &CapacityArgs, label: &str, service: &mut Service) -> (Outcome, bool) {
    match crate::capacity_cmd::search(args, None, Some(label)).await {
        Ok(searched) => {
            crate::capacity_cmd::print_report(&searched.capacity);
            let capacity = Box::new(searched.capacity);
            match service.check_running() {
                Ok(()) => (
                    Outcome::Searched {
                        capacity,
                        run_failed: searched.run_failed,
                    },
                    searched.interrupted,
                ),
                Err(e) => {
                    eprintln!("error: {label}: {e}");
                    (Outcome::Died(capacity, e.to_string()), searched.interrupted)
                }
            }
        }
        Err(code) => (Outcome::SearchFailed(code), false),
    }
}

/// The capacity a configuration is compared by: requests/s, or users with `--model users`.
/// A configuration's capacity, or `None` when there is none or its entry has an error (a
/// service that exited during its search: the figure describes a service that went away).
fn measured(e: &SweepEntry, model: CapacityModel) -> Option<f64> {
    if e.error.is_some() {
        return None;
    }
    e.capacity.as_ref().and_then(|c| capacity_of(c, model))
}

fn capacity_of(doc: &CapacityDoc, model: CapacityModel) -> Option<f64> {
    match model {
        CapacityModel::Rate => doc.rps,
        CapacityModel::Users => doc.users,
    }
}

fn status_word(entry: &SweepEntry) -> &'static str {
    match (&entry.capacity, &entry.error) {
        (_, Some(_)) | (None, None) => "error",
        (Some(c), None) => match c.status {
            CapacityStatus::Found => "found",
            CapacityStatus::AtLeast => "at least",
            CapacityStatus::StartFails => "start fails",
            CapacityStatus::GeneratorLimit => "generator limit",
            CapacityStatus::Interrupted => "interrupted",
            CapacityStatus::Incomplete => "incomplete",
        },
    }
}

/// `1,234` for a rate or users figure: whole numbers with thousands separators, under 100
/// with one decimal.
fn figure(x: f64) -> String {
    if x < 100.0 {
        return format!("{x:.1}");
    }
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bracket_text(c: &CapacityDoc) -> String {
    let side = |x: Option<f64>| x.map_or("-".to_string(), figure);
    format!("{}..{}", side(c.bracket.passed), side(c.bracket.failed))
}

/// Width of the longest bar, in characters.
const BAR_WIDTH: usize = 40;

/// The table, the chart and the scaling, as printed at the end of a sweep.
pub(crate) fn summary_text(doc: &SweepDoc, model: CapacityModel) -> String {
    let unit = match model {
        CapacityModel::Rate => "requests/s",
        CapacityModel::Users => "users",
    };
    let level_unit = match model {
        CapacityModel::Rate => SearchModel::Rate.unit(),
        CapacityModel::Users => SearchModel::Users.unit(),
    };
    let rows: Vec<[String; 5]> = doc
        .configurations
        .iter()
        .map(|e| {
            let label = label_of(e);
            let cap = e.capacity.as_ref();
            [
                label,
                measured(e, model).map_or("-".to_string(), |x| match c_status(cap) {
                    Some(CapacityStatus::AtLeast) => format!(">= {}", figure(x)),
                    _ => figure(x),
                }),
                cap.map_or("-".to_string(), bracket_text),
                status_word(e).to_string(),
                e.log.clone(),
            ]
        })
        .collect();
    let headers = [
        "configuration".to_string(),
        format!("capacity {unit}"),
        format!("bracket {level_unit}"),
        "status".to_string(),
        "log".to_string(),
    ];
    let mut widths = headers.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[String; 5], out: &mut String| {
        let _ = writeln!(
            out,
            "  {:<w0$}  {:>w1$}  {:>w2$}  {:<w3$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
        );
    };
    let _ = writeln!(
        out,
        "Capacity per configuration{}:",
        if doc.interrupted {
            " (interrupted: the configurations run so far)"
        } else {
            ""
        }
    );
    line(&headers, &mut out);
    for row in &rows {
        line(row, &mut out);
    }
    for e in &doc.configurations {
        if let Some(err) = &e.error {
            let first = err.lines().next().unwrap_or_default();
            let _ = writeln!(out, "  {}: {first}", label_of(e));
        }
    }

    let caps: Vec<(String, Option<f64>)> = doc
        .configurations
        .iter()
        .map(|e| (label_of(e), measured(e, model)))
        .collect();
    let largest = caps.iter().filter_map(|(_, c)| *c).fold(0.0_f64, f64::max);
    if largest > 0.0 {
        let label_width = caps
            .iter()
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(0);
        let _ = writeln!(out, "\n{unit}:");
        for (label, cap) in &caps {
            let (bar, value) = match cap {
                Some(x) => {
                    let n = ((x / largest) * BAR_WIDTH as f64).round() as usize;
                    ("#".repeat(n.max(usize::from(*x > 0.0))), figure(*x))
                }
                None => (String::new(), "none".to_string()),
            };
            let _ = writeln!(out, "  {label:<label_width$}  {bar:<BAR_WIDTH$}  {value}");
        }
    }

    // Scaling: each configuration against the first that found a capacity.
    if let Some((base_label, Some(base))) = caps.iter().find(|(_, c)| c.is_some_and(|x| x > 0.0)) {
        let others: Vec<String> = caps
            .iter()
            .filter(|(l, _)| l != base_label)
            .filter_map(|(l, c)| c.map(|x| format!("  {l}: {:.2} x {base_label}", x / base)))
            .collect();
        if !others.is_empty() {
            let _ = writeln!(out, "\nScaling:");
            for o in others {
                let _ = writeln!(out, "{o}");
            }
        }
    }
    out
}

fn c_status(c: Option<&CapacityDoc>) -> Option<CapacityStatus> {
    c.map(|c| c.status)
}

fn label_of(e: &SweepEntry) -> String {
    label_from(e.values.iter())
}

fn label_from<'a>(values: impl Iterator<Item = (&'a String, &'a String)>) -> String {
    values
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn print_summary(doc: &SweepDoc, model: CapacityModel) {
    eprintln!("\n{}", summary_text(doc, model));
}

/// Writes `--json` (the sweep document) and `--html`; `false` when one could not be.
fn write_files(doc: &SweepDoc, args: &CapacityArgs) -> bool {
    let mut ok = true;
    if let Some(path) = &args.common.json {
        let text = serde_json::to_string_pretty(doc)
            .expect("a SweepDoc holds only strings, numbers and maps: it serializes");
        if path == Path::new("-") {
            println!("{text}");
        } else {
            match barrage_report::write_atomic(path, &text) {
                Ok(()) => eprintln!("Sweep result: {}", path.display()),
                Err(e) => {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    ok = false;
                }
            }
        }
    }
    if let Some(path) = &args.common.outputs.html {
        match barrage_report::write_atomic(path, &barrage_web::report::sweep_html(doc)) {
            Ok(()) => eprintln!("HTML report: {}", path.display()),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                ok = false;
            }
        }
    }
    ok
}

/// 130 interrupted; 3 when a configuration found no capacity or could not start; 1 when
/// one is below `--fail-below`; else 0. A sweep that could not measure a configuration
/// says so before any gate does: a gate over a missing figure means nothing.
pub(crate) fn exit_code(doc: &SweepDoc, fail_below: Option<f64>, model: CapacityModel) -> u8 {
    if doc.interrupted {
        return exit::INTERRUPTED;
    }
    // An incomplete search's figure is only a lower bound: no capacity was found.
    let missing = doc.configurations.iter().any(|e| {
        measured(e, model).is_none()
            || e.capacity
                .as_ref()
                .is_some_and(|c| c.status == CapacityStatus::Incomplete)
    });
    if missing {
        return exit::CANNOT_RUN;
    }
    if let Some(floor) = fail_below {
        let below: Vec<String> = doc
            .configurations
            .iter()
            .filter_map(|e| {
                let cap = measured(e, model)?;
                (cap < floor).then(|| format!("{} ({})", label_of(e), figure(cap)))
            })
            .collect();
        if !below.is_empty() {
            eprintln!(
                "Result: FAILED (capacity below --fail-below {}: {})",
                figure(floor),
                below.join(", ")
            );
            return exit::FAILED;
        }
    }
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varies(serve: &str, given: &[&str]) -> Result<Vec<Vary>, SweepError> {
        let given: Vec<String> = given.iter().map(|s| s.to_string()).collect();
        parse_varies(serve, &given)
    }

    #[test]
    fn every_combination_runs_in_the_order_given() {
        let v = varies(
            "uvicorn app:app --workers {workers} --limit-concurrency {limit}",
            &["workers=1,2", "limit=10,20", "env:POOL=5"],
        )
        .unwrap();
        let labels: Vec<String> = configurations(&v).iter().map(|c| c.label()).collect();
        assert_eq!(
            labels,
            [
                "env:POOL=5 limit=10 workers=1",
                "env:POOL=5 limit=20 workers=1",
                "env:POOL=5 limit=10 workers=2",
                "env:POOL=5 limit=20 workers=2",
            ]
        );
        let c = &configurations(&v)[3];
        assert_eq!(
            c.command("uvicorn app:app --workers {workers} --limit-concurrency {limit}"),
            "uvicorn app:app --workers 2 --limit-concurrency 20"
        );
        assert_eq!(c.env(), [("POOL".to_string(), "5".to_string())]);
        assert_eq!(
            c.log_name(4),
            "barrage-serve-env_POOL=5_limit=20_workers=2.log"
        );
    }

    #[test]
    fn log_names_never_collide_and_stay_short() {
        let names = |given: &[&str]| -> Vec<String> {
            let v = varies("app {a} {b}", given).unwrap();
            configurations(&v)
                .iter()
                .enumerate()
                .map(|(i, c)| c.log_name(i + 1))
                .collect()
        };
        // Values sanitizing keeps as they are: no index, the name says it all.
        assert_eq!(
            names(&["a=1,2", "b=x"]),
            ["barrage-serve-a=1_b=x.log", "barrage-serve-a=2_b=x.log"]
        );
        // `a/b` and `a:b` both become `a_b`; `1_b=x` with `b=y` reads like `1` with
        // `b=x_b=y`: each changed or `_`-holding value gets the index.
        assert_eq!(
            names(&["a=x/y,x:y", "b=1"]),
            [
                "barrage-serve-a=x_y_b=1+1.log",
                "barrage-serve-a=x_y_b=1+2.log"
            ]
        );
        let tricky = names(&["a=1_b=x,1", "b=x_b=x,x"]);
        assert_eq!(tricky.len(), 4);
        assert!(
            tricky
                .iter()
                .all(|n| tricky.iter().filter(|m| *m == n).count() == 1),
            "{tricky:?}"
        );
        // Long values: cut to 200 bytes of label, made unique by the index.
        let long = "x".repeat(300);
        let given = format!("a={long}1,{long}2");
        let both = names(&[given.as_str(), "b=1"]);
        assert_ne!(both[0], both[1]);
        for n in &both {
            assert!(n.len() <= 255, "{} bytes", n.len());
            assert_eq!(
                n.len(),
                "barrage-serve-".len() + 200 + "+1.log".len(),
                "{n}"
            );
        }
        assert!(both[1].ends_with("xx+2.log"), "{}", both[1]);
    }

    #[test]
    fn placeholders_are_filled_everywhere_and_shell_braces_are_left_alone() {
        let serve = "cd ${HOME} && app --a {n} --b {n} {}";
        assert_eq!(placeholders(serve), ["n"]);
        let c = Configuration {
            values: vec![("n".into(), "7".into())],
        };
        assert_eq!(c.command(serve), "cd ${HOME} && app --a 7 --b 7 {}");
    }

    #[test]
    fn bad_vary_flags_are_refused_with_the_fix() {
        let serve = "app --workers {workers}";
        assert_eq!(
            varies(serve, &["workers"]),
            Err(SweepError::Syntax {
                given: "workers".into()
            })
        );
        assert!(matches!(
            varies(serve, &["workers=1,,2"]),
            Err(SweepError::EmptyValue { .. })
        ));
        assert!(matches!(
            varies(serve, &["workers="]),
            Err(SweepError::EmptyValue { .. })
        ));
        assert_eq!(
            varies(serve, &["workers=1,2,1"]),
            Err(SweepError::RepeatedValue {
                given: "workers=1,2,1".into(),
                value: "1".into()
            })
        );
        assert!(matches!(
            varies(serve, &["work ers=1"]),
            Err(SweepError::BadName { .. })
        ));
        assert!(matches!(
            varies(serve, &["env:1X=1"]),
            Err(SweepError::BadName { .. })
        ));
        assert_eq!(
            varies(serve, &["env:POOL=1"]),
            Err(SweepError::Unbound {
                name: "workers".into()
            })
        );
        assert_eq!(
            varies(serve, &["workers=1", "threads=2"]),
            Err(SweepError::Unused {
                name: "threads".into()
            })
        );
        assert_eq!(
            varies(serve, &["workers=1", "workers=2"]),
            Err(SweepError::Duplicate {
                name: "workers".into()
            })
        );
        let e = SweepError::Unbound {
            name: "workers".into(),
        };
        assert_eq!(
            e.to_string(),
            "--serve uses {workers}, but no --vary workers=... gives its values"
        );
    }

    fn entry(workers: &str, status: CapacityStatus, rps: Option<f64>) -> SweepEntry {
        SweepEntry {
            values: BTreeMap::from([("workers".to_string(), workers.to_string())]),
            command: format!("app --workers {workers}"),
            log: format!("barrage-serve-workers={workers}.log"),
            capacity: Some(CapacityDoc {
                status,
                rps,
                bracket: barrage_metrics::capacity::Bracket {
                    passed: rps.map(|r| r * 0.98),
                    failed: rps.map(|r| r * 1.03),
                },
                ..CapacityDoc::default()
            }),
            error: None,
        }
    }

    fn doc(entries: Vec<SweepEntry>) -> SweepDoc {
        SweepDoc {
            kind: "capacity-sweep".into(),
            configurations: entries,
            ..SweepDoc::default()
        }
    }

    #[test]
    fn the_summary_shows_each_capacity_bars_to_scale_and_the_scaling() {
        let d = doc(vec![
            entry("1", CapacityStatus::Found, Some(1000.0)),
            entry("2", CapacityStatus::Found, Some(1860.0)),
            SweepEntry {
                error: Some("the service exited (exit status: 1) before answering".into()),
                capacity: None,
                ..entry("4", CapacityStatus::Found, None)
            },
        ]);
        let text = summary_text(&d, CapacityModel::Rate);
        assert!(text.contains("workers=2: 1.86 x workers=1"), "{text}");
        let bar = |label: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(label) && l.contains('#'))
                .map(|l| l.matches('#').count())
        };
        assert_eq!(bar("workers=2"), Some(40), "{text}");
        assert_eq!(bar("workers=1"), Some(22), "{text}"); // 40 x 1000 / 1860 = 21.5
        assert!(text.contains("workers=4  "), "{text}");
        assert!(text.contains("1,860"), "{text}");
        assert!(text.contains("980..1,030"), "{text}");
        assert!(
            text.contains("workers=4: the service exited (exit status: 1)"),
            "{text}"
        );
        assert_eq!(exit_code(&d, None, CapacityModel::Rate), exit::CANNOT_RUN);
    }

    #[test]
    fn the_exit_code_is_interrupt_then_missing_then_the_gate() {
        let found = || {
            doc(vec![
                entry("1", CapacityStatus::Found, Some(1000.0)),
                entry("2", CapacityStatus::AtLeast, Some(2000.0)),
            ])
        };
        assert_eq!(exit_code(&found(), None, CapacityModel::Rate), exit::OK);
        assert_eq!(
            exit_code(&found(), Some(999.0), CapacityModel::Rate),
            exit::OK
        );
        assert_eq!(
            exit_code(&found(), Some(1500.0), CapacityModel::Rate),
            exit::FAILED
        );
        let mut none = found();
        none.configurations[1] = entry("2", CapacityStatus::GeneratorLimit, None);
        assert_eq!(
            exit_code(&none, Some(1500.0), CapacityModel::Rate),
            exit::CANNOT_RUN
        );
        let mut stopped = none.clone();
        stopped.interrupted = true;
        assert_eq!(
            exit_code(&stopped, None, CapacityModel::Rate),
            exit::INTERRUPTED
        );
    }

    #[test]
    fn an_interrupted_sweep_exits_130_before_a_usage_or_file_error() {
        let mut d = doc(vec![entry("1", CapacityStatus::Found, Some(1000.0))]);
        let ended = |usage_error, written| Ended {
            usage_error,
            written,
        };
        let code = |d: &SweepDoc, e| sweep_exit_code(d, e, None, CapacityModel::Rate);
        assert_eq!(code(&d, ended(false, true)), exit::OK);
        assert_eq!(code(&d, ended(true, true)), exit::USAGE);
        assert_eq!(code(&d, ended(false, false)), exit::CANNOT_RUN);
        d.interrupted = true;
        assert_eq!(code(&d, ended(true, false)), exit::INTERRUPTED);
        assert_eq!(code(&d, ended(false, false)), exit::INTERRUPTED);
    }

    #[test]
    fn a_service_that_died_during_its_search_counts_as_not_found() {
        let mut died = entry("2", CapacityStatus::Found, Some(1800.0));
        died.error = Some("the service exited during the search: exit status: 5; see x.log".into());
        let d = doc(vec![entry("1", CapacityStatus::Found, Some(1000.0)), died]);
        assert_eq!(exit_code(&d, None, CapacityModel::Rate), exit::CANNOT_RUN);
        let text = summary_text(&d, CapacityModel::Rate);
        assert!(
            text.contains("workers=2: the service exited during the search"),
            "{text}"
        );
        // Its figure is neither charted nor compared.
        assert!(!text.contains("1,800"), "{text}");
        assert!(!text.contains("Scaling"), "{text}");
    }

    #[test]
    fn figures_read_as_rates() {
        assert_eq!(figure(1234567.4), "1,234,567");
        assert_eq!(figure(999.6), "1,000");
        assert_eq!(figure(42.25), "42.2");
        assert_eq!(figure(100.0), "100");
    }
}
