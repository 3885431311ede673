//! `barrage k8s SCENARIO --agents N --image IMAGE`: writes the Kubernetes manifests of a
//! distributed run, after checking the scenario as `barrage validate` does. It applies
//! nothing and talks to no cluster: the output goes to `kubectl apply -f`.
//!
//! Two shapes (docs/DISTRIBUTED.md, "Kubernetes"):
//! - with a coordinator (default): a Deployment and Service running `barrage coordinator`,
//!   and an Indexed Job of N agents. The coordinator starts all agents at once, merges
//!   their results live and writes one result file.
//! - `--no-coordinator`: an Indexed Job whose pod I runs `barrage run --segment I/N` with a
//!   `--start-at` fixed when the manifests are written (pods start when each is ready, so
//!   only that agreed time lines them up), each writing its result file to a claim for
//!   `barrage merge`.
//!
//! What the objects hold is decided in [`manifests`]; this module reads the files, checks
//! the flags and writes the YAML.

pub mod args;
mod files;
pub mod manifests;
mod yaml;

use std::path::Path;
use std::time::Duration;

use barrage_engine::CompileOptions;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::commands::{load, read};
use crate::exit;
use args::K8sArgs;
use manifests::{Mode, Resources, Spec, Token};

/// How long from now the segments start when --start-at is not given: time to apply the
/// manifests and for the pods to be scheduled and pull the image.
const DEFAULT_START_DELAY: Duration = Duration::from_secs(120);

pub fn k8s(args: K8sArgs) -> u8 {
    match build(&args) {
        Ok(objects) => write(&args, &objects),
        Err(Failure::Printed(code)) => code,
        Err(Failure::Message(e)) => {
            eprintln!("error: {e}");
            exit::USAGE
        }
    }
}

enum Failure {
    /// Diagnostics were printed already.
    Printed(u8),
    Message(String),
}

impl From<String> for Failure {
    fn from(e: String) -> Self {
        Failure::Message(e)
    }
}

fn build(args: &K8sArgs) -> Result<Vec<serde_json::Value>, Failure> {
    check_names(args)?;
    let agent = resources(
        "--agent-cpu",
        &args.agent_cpu,
        "--agent-memory",
        &args.agent_memory,
    )?;
    let coordinator = resources(
        "--coordinator-cpu",
        &args.coordinator_cpu,
        "--coordinator-memory",
        &args.coordinator_memory,
    )?;
    if args.image.trim().is_empty() || args.image.contains(char::is_whitespace) {
        return Err(format!("--image `{}` is not an image reference", args.image).into());
    }
    if args.no_coordinator && args.results_claim.is_none() {
        return Err(
            "--no-coordinator needs --results-claim CLAIM: each pod writes its \
                    result file there for `barrage merge` (a PersistentVolumeClaim all pods \
                    can write, ReadWriteMany); a finished pod's own volumes cannot be read"
                .to_string()
                .into(),
        );
    }

    // The same checks as `barrage validate`: parse, compile (which reads the data files)
    // and the thresholds.
    let source = read(&args.scenario).map_err(Failure::Printed)?;
    let opts = CompileOptions {
        host: host_flag(&args.extra),
        ..CompileOptions::default()
    };
    let loaded = load(source, &opts, exit::USAGE).map_err(Failure::Printed)?;
    loaded.thresholds(true, &[]).map_err(Failure::Printed)?;

    let scenario_name = args
        .scenario
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: not a file name in UTF-8", args.scenario.display()))?
        .to_string();
    let dir = args.scenario.parent().unwrap_or(Path::new(""));
    let referenced = files::referenced(&loaded.scenario)?;
    let mut carried = vec![(scenario_name.clone(), loaded.file.text.clone().into_bytes())];
    for f in &referenced {
        if f.path == scenario_name {
            return Err(format!(
                "{}: the scenario refers to itself as a data file",
                f.used_by
            )
            .into());
        }
        // With a data claim the files stay out of the ConfigMap, but compiling read them:
        // only their paths are kept.
        let bytes = if args.data_claim.is_some() {
            Vec::new()
        } else {
            std::fs::read(dir.join(&f.path))
                .map_err(|e| format!("{}: cannot read `{}`: {e}", f.used_by, f.path))?
        };
        carried.push((f.path.clone(), bytes));
    }

    let mode = if args.no_coordinator {
        let start_at = start_at(args.start_at.as_deref(), OffsetDateTime::now_utc())?;
        announce_start(&start_at);
        Mode::Segments { start_at }
    } else {
        Mode::Coordinator {
            token: match &args.token_secret {
                Some(name) => Token::Existing(name.clone()),
                None => Token::Generated(uuid::Uuid::new_v4().simple().to_string()),
            },
        }
    };
    if args.data_claim.is_some() && !referenced.is_empty() {
        eprintln!(
            "barrage k8s: the data claim `{}` must hold, at these paths: {}",
            args.data_claim.as_deref().unwrap_or_default(),
            referenced
                .iter()
                .map(|f| f.path.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let spec = Spec {
        name: args.name.clone(),
        namespace: args.namespace.clone(),
        image: args.image.clone(),
        agents: args.agents,
        scenario: scenario_name,
        files: carried,
        data_claim: args.data_claim.clone(),
        results_claim: args.results_claim.clone(),
        mode,
        agent,
        coordinator,
        extra: args.extra.clone(),
    };
    Ok(manifests::objects(&spec)?)
}

fn write(args: &K8sArgs, objects: &[serde_json::Value]) -> u8 {
    let Some(dir) = &args.out else {
        print!("{}", yaml::documents(objects));
        return exit::OK;
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("error: cannot make {}: {e}", dir.display());
        return exit::CANNOT_RUN;
    }
    for (i, object) in objects.iter().enumerate() {
        let kind = object["kind"].as_str().unwrap_or("object").to_lowercase();
        let name = object["metadata"]["name"].as_str().unwrap_or("unnamed");
        let path = dir.join(format!("{i:02}-{kind}-{name}.yaml"));
        if let Err(e) = std::fs::write(&path, yaml::document(object)) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return exit::CANNOT_RUN;
        }
    }
    eprintln!(
        "barrage k8s: wrote {} objects to {}; apply them with `kubectl apply -f {}`",
        objects.len(),
        dir.display(),
        dir.display()
    );
    exit::OK
}

/// `-H/--host` among the flags after `--`: the scenario is checked with the target the
/// pods will be given (a file without `target:` needs one).
fn host_flag(extra: &[String]) -> Option<String> {
    let mut host = None;
    let mut it = extra.iter();
    while let Some(a) = it.next() {
        if a == "-H" || a == "--host" {
            host = it.next().cloned();
        } else if let Some(v) = a.strip_prefix("--host=") {
            host = Some(v.to_string());
        } else if let Some(v) = a.strip_prefix("-H").filter(|v| !v.is_empty()) {
            host = Some(v.trim_start_matches('=').to_string());
        }
    }
    host
}

/// `--start-at`: RFC 3339, or `+DURATION` from `now`; by default two minutes from now.
/// Written in UTC to the second. A time already past is refused, and so is one more than
/// 24 hours ahead (as `run --start-at` does).
fn start_at(given: Option<&str>, now: OffsetDateTime) -> Result<String, String> {
    let at = match given {
        None => now + DEFAULT_START_DELAY,
        Some(s) if s.starts_with('+') => {
            now + crate::durations::parse_duration(&s[1..])
                .map_err(|e| format!("--start-at `{s}`: {e}"))?
        }
        Some(s) => OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
            format!(
                "--start-at `{s}`: {e}; write an RFC 3339 time (2026-05-04T12:00:00Z) or a \
                 delay from now (+5m)"
            )
        })?,
    };
    if at <= now {
        return Err(format!(
            "--start-at `{}` is already past; give a later time, or a delay like +2m",
            given.unwrap_or_default()
        ));
    }
    if at - now > time::Duration::DAY {
        return Err(format!(
            "--start-at `{}` is more than 24 hours ahead, which `barrage run --start-at` \
             refuses as a probable mistake; give a time within the next 24 hours",
            given.unwrap_or_default()
        ));
    }
    // Up to the next whole second: the pods' command reads better, and starts no earlier.
    let whole = if at.nanosecond() == 0 {
        at
    } else {
        at.replace_nanosecond(0).expect("0 ns is valid") + Duration::from_secs(1)
    };
    Ok(whole
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .expect("a UTC time within years 0..9999 formats as RFC 3339"))
}

fn announce_start(start_at: &str) {
    eprintln!(
        "\n  barrage k8s: every segment starts at {start_at}\n\n  \
         Apply the manifests well before then: each pod starts its segment at that time if \
         it is ready by then, and late (as soon as it is ready) otherwise, so only a \
         coordinator guarantees one start. Applying later? Write them again, or give \
         --start-at.\n"
    );
}

fn check_names(args: &K8sArgs) -> Result<(), String> {
    // Service names are DNS-1035 labels (a letter first), at most 63 characters; the
    // longest name made from the prefix adds 12 (`-coordinator`) and the Job's pods add
    // their index and a random suffix.
    if !is_label(&args.name, 40) || !args.name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!(
            "--name `{}`: write a prefix of lowercase letters, digits and `-`, starting \
             with a letter, at most 40 characters (like `barrage` or `checkout-load`)",
            args.name
        ));
    }
    if let Some(ns) = &args.namespace {
        if !is_label(ns, 63) {
            return Err(format!(
                "--namespace `{ns}`: a namespace is lowercase letters, digits and `-`, at \
                 most 63 characters"
            ));
        }
    }
    for (flag, value) in [
        ("--data-claim", &args.data_claim),
        ("--results-claim", &args.results_claim),
        ("--token-secret", &args.token_secret),
    ] {
        if let Some(v) = value {
            if !is_subdomain(v) {
                return Err(format!(
                    "{flag} `{v}` is not a Kubernetes object name (lowercase letters, digits, \
                     `-` and `.`, at most 253 characters)"
                ));
            }
        }
    }
    Ok(())
}

/// A DNS-1123 label: lowercase letters, digits and `-`, alphanumeric at both ends.
fn is_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(|part| is_label(part, 63))
}

fn resources(
    cpu_flag: &str,
    cpu: &str,
    memory_flag: &str,
    memory: &str,
) -> Result<Resources, String> {
    let millicores = parse_cpu(cpu).ok_or_else(|| {
        format!("{cpu_flag} `{cpu}`: write cores (2, 1.5) or millicores (500m), above zero")
    })?;
    if !is_memory(memory) {
        return Err(format!(
            "{memory_flag} `{memory}`: write a size with a unit, like 512Mi or 2Gi, above zero"
        ));
    }
    Ok(Resources {
        cpu: cpu.to_string(),
        memory: memory.to_string(),
        workers: (millicores / 1000).max(1),
    })
}

/// A CPU quantity in millicores: `2`, `1.5`, `500m`. None when it is not one, or is zero.
fn parse_cpu(s: &str) -> Option<u64> {
    let (number, scale) = match s.strip_suffix('m') {
        Some(n) => (n, 1.0),
        None => (s, 1000.0),
    };
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let milli = value * scale;
    (milli >= 1.0 && milli.fract() == 0.0).then_some(milli as u64)
}

/// A memory quantity: a number above zero with an optional unit (`Ki` .. `Ei`, `k` .. `E`).
fn is_memory(s: &str) -> bool {
    let digits_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(digits_end);
    let units = [
        "", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ];
    units.contains(&unit) && number.parse::<f64>().is_ok_and(|n| n > 0.0)
}

#[cfg(test)]
mod tests;
