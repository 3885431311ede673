//! `barrage k8s`'s flags, apart from the command so that the CLI's definition imports
//! nothing that imports the CLI back.

use std::path::PathBuf;

use clap::Args;

#[derive(Args, Debug)]
pub struct K8sArgs {
    /// The scenario file (YAML). Its data files go with it, at the same relative paths.
    pub scenario: PathBuf,
    /// Pods in the Indexed Job: agents, or segments with --no-coordinator.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub agents: u32,
    /// The container image with barrage in it (the repository's Dockerfile builds one).
    #[arg(long)]
    pub image: String,
    /// No coordinator: each pod runs `barrage run --segment I/N --start-at TIME` and writes
    /// its result file to --results-claim, for `barrage merge`.
    #[arg(long)]
    pub no_coordinator: bool,
    /// With --no-coordinator: when every segment starts, as RFC 3339
    /// (2026-05-04T12:00:00Z) or from now (+2m). Default +2m: apply the manifests before.
    #[arg(long, value_name = "TIME", requires = "no_coordinator")]
    pub start_at: Option<String>,
    /// The coordinator and agents take their token from this existing Secret (key
    /// `token`); by default a Secret NAME-token with a random token is written.
    #[arg(long, value_name = "SECRET", conflicts_with = "no_coordinator")]
    pub token_secret: Option<String>,
    /// Data files come from this PersistentVolumeClaim, filled beforehand with them at the
    /// same paths relative to the scenario (for files past a ConfigMap's 1 MiB); the
    /// ConfigMap then holds the scenario alone.
    #[arg(long, value_name = "CLAIM")]
    pub data_claim: Option<String>,
    /// Result files go to this PersistentVolumeClaim, under NAME/ (needed with
    /// --no-coordinator: ReadWriteMany, every pod writes to it). Default with a
    /// coordinator: the coordinator pod's own volume, fetched with `kubectl cp`.
    #[arg(long, value_name = "CLAIM")]
    pub results_claim: Option<String>,
    /// Prefix of every object's name: NAME-coordinator, NAME-agents, NAME-scenario, ...
    #[arg(long, default_value = "barrage")]
    pub name: String,
    /// The namespace of every object (default: kubectl's current one).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Each agent's CPU, requested and limited alike (Guaranteed QoS); its whole cores are
    /// barrage's worker threads.
    #[arg(long, value_name = "CPU", default_value = "2")]
    pub agent_cpu: String,
    /// Each agent's memory, requested and limited alike.
    #[arg(long, value_name = "MEMORY", default_value = "1Gi")]
    pub agent_memory: String,
    /// The coordinator's CPU, requested and limited alike.
    #[arg(long, value_name = "CPU", default_value = "1")]
    pub coordinator_cpu: String,
    /// The coordinator's memory, requested and limited alike.
    #[arg(long, value_name = "MEMORY", default_value = "1Gi")]
    pub coordinator_memory: String,
    /// Write one file per object into this folder (made if missing) instead of one YAML
    /// stream on stdout.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// After `--`: flags for `barrage coordinator` (or, with --no-coordinator, for each
    /// `barrage run`): -t 5m, -u 200, --rate 500, --threshold 'p95<200ms', -H URL, ...
    #[arg(last = true, value_name = "RUN FLAGS")]
    pub extra: Vec<String>,
}
