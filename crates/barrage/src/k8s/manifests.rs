//! The Kubernetes objects of a distributed run, as JSON values in the API's shape. Pure:
//! everything comes from [`Spec`], nothing is read or written here, so each field can be
//! tested on its own.
//!
//! The pods' file layout is the same in every pod, so the commands never change with the
//! options:
//!
//! - `/barrage/scenario/`: the scenario and its files at their relative paths. Without a
//!   data claim, this is the ConfigMap itself (its keys mapped to the paths). With one, it is
//!   an emptyDir that an init container fills with links: the scenario from the ConfigMap
//!   (mounted at `/barrage/config/`), every data file from the claim (mounted read-only at
//!   `/barrage/data/`). The claim cannot be mounted over the scenario's folder itself: a
//!   file mounted inside a read-only volume needs its mount point created there, which
//!   fails.
//! - `/barrage/results/NAME/`: result files, on the results claim when there is one, else
//!   on an emptyDir of the coordinator's pod.

use serde_json::{json, Map, Value};

pub const SCENARIO_DIR: &str = "/barrage/scenario";
pub const CONFIG_DIR: &str = "/barrage/config";
pub const DATA_DIR: &str = "/barrage/data";
pub const RESULTS_DIR: &str = "/barrage/results";
/// The coordinator's port for agents (the coordinator's own default, on all addresses).
pub const COORDINATOR_PORT: u16 = 5710;
/// What the API server accepts in one ConfigMap: the values of `data` and `binaryData`
/// added up (the keys are not counted), 1 MiB.
pub const CONFIG_MAP_LIMIT: usize = 1024 * 1024;

/// Everything the manifests depend on.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Prefix of every object's name (`barrage` gives `barrage-agents`, ...).
    pub name: String,
    pub namespace: Option<String>,
    pub image: String,
    /// Pods in the Indexed Job (agents, or segments without a coordinator).
    pub agents: u32,
    /// The scenario's file name, in `/barrage/scenario/`.
    pub scenario: String,
    /// The scenario's text, then each file it refers to: (path below the scenario's folder,
    /// bytes). Without a data claim all go into the ConfigMap; with one, only the scenario.
    pub files: Vec<(String, Vec<u8>)>,
    /// A PersistentVolumeClaim the user filled with the data files, at the same paths.
    pub data_claim: Option<String>,
    /// Where result files go: a PersistentVolumeClaim (needed without a coordinator).
    pub results_claim: Option<String>,
    pub mode: Mode,
    pub agent: Resources,
    pub coordinator: Resources,
    /// Given after `--`: appended to `barrage coordinator` (or to each `barrage run`).
    pub extra: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// A coordinator Deployment and Service; the Job's pods are agents.
    Coordinator { token: Token },
    /// No coordinator: each pod runs its segment, all starting at `start_at` (RFC 3339).
    Segments { start_at: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A Secret `NAME-token` holding this token is written with the manifests.
    Generated(String),
    /// The user's Secret of this name (its key `token`).
    Existing(String),
}

/// CPU and memory, as Kubernetes quantities; requests equal limits (Guaranteed QoS).
#[derive(Debug, Clone, PartialEq)]
pub struct Resources {
    pub cpu: String,
    pub memory: String,
    /// Worker threads for barrage: the whole cores in `cpu`, at least 1 (agents and
    /// segments; the coordinator sends no load).
    pub workers: u64,
}

impl Spec {
    fn object_name(&self, part: &str) -> String {
        format!("{}-{part}", self.name)
    }

    pub fn coordinator_address(&self) -> String {
        format!("{}:{COORDINATOR_PORT}", self.object_name("coordinator"))
    }

    pub fn token_secret(&self) -> Option<String> {
        match &self.mode {
            Mode::Coordinator {
                token: Token::Generated(_),
            } => Some(self.object_name("token")),
            Mode::Coordinator {
                token: Token::Existing(name),
            } => Some(name.clone()),
            Mode::Segments { .. } => None,
        }
    }

    /// Where this run's result files go inside the pods.
    pub fn results_dir(&self) -> String {
        format!("{RESULTS_DIR}/{}", self.name)
    }

    fn scenario_path(&self) -> String {
        format!("{SCENARIO_DIR}/{}", self.scenario)
    }

    fn metadata(&self, name: String, component: &str) -> Value {
        let mut m = json!({ "name": name, "labels": self.labels(component) });
        if let Some(ns) = &self.namespace {
            m["namespace"] = json!(ns);
        }
        m
    }

    fn labels(&self, component: &str) -> Value {
        json!({
            "app.kubernetes.io/name": "barrage",
            "app.kubernetes.io/instance": self.name,
            "app.kubernetes.io/component": component,
        })
    }
}

/// Every object, in the order `kubectl apply` should create them. `Err` when the files do
/// not fit in a ConfigMap (the message says what to do).
pub fn objects(spec: &Spec) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    if let Mode::Coordinator {
        token: Token::Generated(token),
    } = &spec.mode
    {
        out.push(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": spec.metadata(spec.object_name("token"), "token"),
            "type": "Opaque",
            "stringData": { "token": token },
        }));
    }
    out.push(config_map(spec)?);
    if let Mode::Coordinator { .. } = spec.mode {
        out.push(service(spec));
        out.push(deployment(spec));
    }
    out.push(job(spec));
    if let (Mode::Segments { .. }, Some(claim)) = (&spec.mode, &spec.results_claim) {
        out.push(results_pod(spec, claim));
    }
    Ok(out)
}

/// A ConfigMap key for a path: keys may hold only letters, digits, `-`, `_` and `.`.
fn key_of(path: &str, taken: &[String]) -> String {
    let base: String = path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut key = base.clone();
    let mut n = 2;
    while taken.contains(&key) {
        key = format!("{base}-{n}");
        n += 1;
    }
    key
}

/// The files the ConfigMap carries, each with its key: the scenario alone with a data
/// claim, else the scenario and all its files.
fn carried(spec: &Spec) -> Vec<(String, &str, &[u8])> {
    let n = if spec.data_claim.is_some() {
        1
    } else {
        spec.files.len()
    };
    let mut keys: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (path, bytes) in spec.files.iter().take(n) {
        let key = key_of(path, &keys);
        keys.push(key.clone());
        out.push((key, path.as_str(), bytes.as_slice()));
    }
    out
}

fn config_map(spec: &Spec) -> Result<Value, String> {
    let files = carried(spec);
    let total: usize = files.iter().map(|(_, _, b)| b.len()).sum();
    if total > CONFIG_MAP_LIMIT {
        let mut sizes: Vec<String> = files
            .iter()
            .map(|(_, p, b)| format!("{p} ({} bytes)", b.len()))
            .collect();
        sizes.sort();
        return Err(format!(
            "the scenario and its files take {total} bytes, more than a ConfigMap holds \
             ({CONFIG_MAP_LIMIT} bytes, 1 MiB): {}\n  help: put the data files on a \
             PersistentVolumeClaim at the same paths relative to the scenario, and give \
             `--data-claim CLAIM`: the ConfigMap then carries the scenario alone",
            sizes.join(", ")
        ));
    }
    let mut data = Map::new();
    let mut binary = Map::new();
    for (key, _, bytes) in &files {
        match std::str::from_utf8(bytes) {
            Ok(text) => data.insert(key.clone(), json!(text)),
            Err(_) => {
                use base64::Engine;
                let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
                binary.insert(key.clone(), json!(b64))
            }
        };
    }
    let mut cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": spec.metadata(spec.object_name("scenario"), "scenario"),
        "data": data,
    });
    if !binary.is_empty() {
        cm["binaryData"] = Value::Object(binary);
    }
    Ok(cm)
}

fn service(spec: &Spec) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": spec.metadata(spec.object_name("coordinator"), "coordinator"),
        "spec": {
            "selector": spec.labels("coordinator"),
            "ports": [{ "name": "agents", "port": COORDINATOR_PORT, "targetPort": COORDINATOR_PORT }],
        },
    })
}

/// `sh -c SCRIPT NAME ARGS...`: the arguments given after `--` reach the script as `"$@"`,
/// so they need no quoting.
fn shell(script: String, name: &str, extra: &[String]) -> Value {
    let mut command = vec![json!("sh"), json!("-c"), json!(script), json!(name)];
    command.extend(extra.iter().map(|a| json!(a)));
    Value::Array(command)
}

/// Quotes `s` for the shell (the scenario's and results' paths inside the scripts).
pub fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+@%,".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r#"'\''"#))
}

fn deployment(spec: &Spec) -> Value {
    let results = spec.results_dir();
    let json_path = format!("{results}/result.json");
    // The coordinator runs once; then the container stays up (an exited container would
    // be restarted by the Deployment, and its new coordinator would wait for agents that
    // never come) so that `kubectl cp` can fetch the result from the pod.
    let script = format!(
        "mkdir -p {dir} && barrage coordinator {scenario} --agents {n} --listen 0.0.0.0:{port} \
         --json {json} \"$@\"; code=$?; \
         echo \"barrage k8s: the coordinator exited with code $code; its result file is {json} \
         (kubectl cp); this container now waits until the run is deleted\" >&2; \
         exec sleep infinity",
        dir = sh_quote(&results),
        scenario = sh_quote(&spec.scenario_path()),
        n = spec.agents,
        port = COORDINATOR_PORT,
        json = sh_quote(&json_path),
    );
    let mut container = json!({
        "name": "coordinator",
        "image": spec.image,
        "command": shell(script, "coordinator", &spec.extra),
        "workingDir": SCENARIO_DIR,
        "env": [token_env(spec)],
        "ports": [{ "name": "agents", "containerPort": COORDINATOR_PORT }],
        "readinessProbe": { "tcpSocket": { "port": COORDINATOR_PORT }, "periodSeconds": 2 },
        "resources": resources(&spec.coordinator),
        "volumeMounts": scenario_mounts(spec),
        "securityContext": container_security(),
    });
    push(
        &mut container["volumeMounts"],
        json!({ "name": "results", "mountPath": RESULTS_DIR }),
    );
    let mut volumes = scenario_volumes(spec);
    push(&mut volumes, results_volume(spec));
    let mut pod = pod_spec(vec![container], volumes, "Always");
    if let Some(link) = link_data(spec) {
        pod["initContainers"] = json!([link]);
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": spec.metadata(spec.object_name("coordinator"), "coordinator"),
        "spec": {
            "replicas": 1,
            "strategy": { "type": "Recreate" },
            "selector": { "matchLabels": spec.labels("coordinator") },
            "template": {
                "metadata": { "labels": spec.labels("coordinator") },
                "spec": pod,
            },
        },
    })
}

fn job(spec: &Spec) -> Value {
    let n = spec.agents;
    let (container, volumes) = match &spec.mode {
        Mode::Coordinator { .. } => (agent_container(spec), scenario_volumes(spec)),
        Mode::Segments { start_at } => {
            let mut volumes = scenario_volumes(spec);
            push(&mut volumes, results_volume(spec));
            (segment_container(spec, start_at), volumes)
        }
    };
    let mut init = Vec::new();
    if let Mode::Coordinator { .. } = spec.mode {
        init.push(wait_for_coordinator(spec));
    }
    if let Some(link) = link_data(spec) {
        init.push(link);
    }
    let mut pod = pod_spec(vec![container], volumes, "Never");
    if !init.is_empty() {
        pod["initContainers"] = Value::Array(init);
    }
    // Agents on different nodes where the cluster has them: one node's CPU or network is
    // what a distributed run is there to get past.
    pod["topologySpreadConstraints"] = json!([{
        "maxSkew": 1,
        "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": { "matchLabels": spec.labels("agent") },
    }]);
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": spec.metadata(spec.object_name("agents"), "agent"),
        "spec": {
            "completionMode": "Indexed",
            "completions": n,
            "parallelism": n,
            // A segment run again would send its share a second time, late; an agent
            // started again cannot join a run that has begun. A failed pod fails the Job.
            "backoffLimit": 0,
            "template": {
                "metadata": { "labels": spec.labels("agent") },
                "spec": pod,
            },
        },
    })
}

fn agent_container(spec: &Spec) -> Value {
    let mut env = vec![token_env(spec)];
    env.push(json!({
        "name": "POD_NAME",
        "valueFrom": { "fieldRef": { "fieldPath": "metadata.name" } },
    }));
    json!({
        "name": "agent",
        "image": spec.image,
        "command": [
            "barrage", "agent",
            "--coordinator", spec.coordinator_address(),
            "--name", "$(POD_NAME)",
            "--workers", spec.agent.workers.to_string(),
        ],
        "workingDir": SCENARIO_DIR,
        "env": env,
        "resources": resources(&spec.agent),
        "volumeMounts": scenario_mounts(spec),
        "securityContext": container_security(),
    })
}

/// The command of a pod without a coordinator: segment `JOB_COMPLETION_INDEX + 1` of N,
/// all starting at `start_at`.
pub fn segment_script(spec: &Spec, start_at: &str) -> String {
    let n = spec.agents;
    let results = spec.results_dir();
    // Exit 1 is a threshold judged on this segment's share alone (an `rps` threshold fails
    // on any share): the merged run is what thresholds judge (`barrage merge`), so the pod
    // succeeds; any other failure fails it.
    format!(
        "mkdir -p {dir} && barrage run {scenario} --segment \"$((JOB_COMPLETION_INDEX + 1))/{n}\" \
         --start-at {start_at} --workers {workers} \
         --json {dir}/\"segment-$((JOB_COMPLETION_INDEX + 1))-of-{n}.json\" \"$@\"; code=$?; \
         if [ \"$code\" -eq 1 ]; then echo \"barrage k8s: thresholds are judged on the merged \
         run (barrage merge), not on one segment\" >&2; exit 0; fi; exit \"$code\"",
        dir = sh_quote(&results),
        scenario = sh_quote(&spec.scenario_path()),
        start_at = sh_quote(start_at),
        workers = spec.agent.workers,
    )
}

fn segment_container(spec: &Spec, start_at: &str) -> Value {
    let mut mounts = scenario_mounts(spec);
    push(
        &mut mounts,
        json!({ "name": "results", "mountPath": RESULTS_DIR }),
    );
    json!({
        "name": "segment",
        "image": spec.image,
        "command": shell(segment_script(spec, start_at), "segment", &spec.extra),
        "workingDir": SCENARIO_DIR,
        "resources": resources(&spec.agent),
        "volumeMounts": mounts,
        "securityContext": container_security(),
    })
}

/// Agents start when their pods are ready, which may be before the coordinator's: each
/// waits (at most 5 minutes) until the coordinator's port answers.
fn wait_for_coordinator(spec: &Spec) -> Value {
    let host = spec.object_name("coordinator");
    let script = format!(
        "for i in $(seq 300); do timeout 2 bash -c '</dev/tcp/{host}/{COORDINATOR_PORT}' \
         2>/dev/null && exit 0; sleep 1; done; \
         echo \"barrage k8s: the coordinator {host}:{COORDINATOR_PORT} did not answer within 5 minutes\" >&2; \
         exit 1"
    );
    json!({
        "name": "wait-for-coordinator",
        "image": spec.image,
        "command": ["bash", "-c", script],
        "resources": small_resources(),
        "securityContext": container_security(),
    })
}

/// With a data claim: links the scenario and every data file into the scenario's folder,
/// after checking that the claim holds each file.
fn link_data(spec: &Spec) -> Option<Value> {
    spec.data_claim.as_ref()?;
    let mut lines = Vec::new();
    let mut tops: Vec<&str> = Vec::new();
    for (path, _) in spec.files.iter().skip(1) {
        let in_claim = sh_quote(&format!("{DATA_DIR}/{path}"));
        lines.push(format!(
            "test -e {in_claim} || {{ echo \"barrage k8s: the data claim has no {path} \
             (the scenario refers to it)\" >&2; exit 1; }}"
        ));
        let top = path.split('/').next().unwrap_or(path);
        if !tops.contains(&top) {
            tops.push(top);
        }
    }
    for top in tops {
        lines.push(format!(
            "ln -s {} {}",
            sh_quote(&format!("{DATA_DIR}/{top}")),
            sh_quote(&format!("{SCENARIO_DIR}/{top}"))
        ));
    }
    lines.push(format!(
        "ln -sf {} {}",
        sh_quote(&format!("{CONFIG_DIR}/{}", spec.scenario)),
        sh_quote(&spec.scenario_path())
    ));
    Some(json!({
        "name": "link-data",
        "image": spec.image,
        "command": ["sh", "-c", lines.join("\n")],
        "resources": small_resources(),
        "volumeMounts": scenario_mounts(spec),
        "securityContext": container_security(),
    }))
}

fn results_pod(spec: &Spec, claim: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": spec.metadata(spec.object_name("results"), "results"),
        "spec": {
            // Nothing runs in it but `sleep`: no reason to wait on deletion.
            "terminationGracePeriodSeconds": 1,
            "securityContext": pod_security(),
            "containers": [{
                "name": "results",
                "image": spec.image,
                "command": ["sleep", "infinity"],
                "workingDir": RESULTS_DIR,
                "resources": { "requests": { "cpu": "100m", "memory": "256Mi" } },
                "volumeMounts": [{ "name": "results", "mountPath": RESULTS_DIR }],
                "securityContext": container_security(),
            }],
            "volumes": [{ "name": "results", "persistentVolumeClaim": { "claimName": claim } }],
        },
    })
}

fn pod_spec(containers: Vec<Value>, volumes: Value, restart: &str) -> Value {
    json!({
        "restartPolicy": restart,
        "securityContext": pod_security(),
        "containers": containers,
        "volumes": volumes,
    })
}

fn token_env(spec: &Spec) -> Value {
    json!({
        "name": "BARRAGE_TOKEN",
        "valueFrom": { "secretKeyRef": { "name": spec.token_secret(), "key": "token" } },
    })
}

/// Requests equal to limits: the pod is in the Guaranteed QoS class, so it is the last to
/// be evicted and its CPU is not shared beyond what it asked for; a generator that is
/// throttled or starved measures its own waiting as the server's latency.
fn resources(r: &Resources) -> Value {
    let both = json!({ "cpu": r.cpu, "memory": r.memory });
    json!({ "requests": both, "limits": both })
}

fn small_resources() -> Value {
    let both = json!({ "cpu": "100m", "memory": "64Mi" });
    json!({ "requests": both, "limits": both })
}

/// The restricted Pod Security Standard: non-root (the image's user 10001), no privilege
/// escalation, no capabilities, the runtime's seccomp profile.
fn pod_security() -> Value {
    json!({ "runAsNonRoot": true, "seccompProfile": { "type": "RuntimeDefault" } })
}

fn container_security() -> Value {
    json!({ "allowPrivilegeEscalation": false, "capabilities": { "drop": ["ALL"] } })
}

fn scenario_mounts(spec: &Spec) -> Value {
    if spec.data_claim.is_some() {
        json!([
            { "name": "scenario", "mountPath": SCENARIO_DIR },
            { "name": "config", "mountPath": CONFIG_DIR, "readOnly": true },
            { "name": "data", "mountPath": DATA_DIR, "readOnly": true },
        ])
    } else {
        json!([{ "name": "scenario", "mountPath": SCENARIO_DIR, "readOnly": true }])
    }
}

fn scenario_volumes(spec: &Spec) -> Value {
    let items: Vec<Value> = carried(spec)
        .into_iter()
        .map(|(key, path, _)| json!({ "key": key, "path": path }))
        .collect();
    let config = json!({ "name": spec.object_name("scenario"), "items": items });
    match &spec.data_claim {
        Some(claim) => json!([
            { "name": "scenario", "emptyDir": {} },
            { "name": "config", "configMap": config },
            { "name": "data", "persistentVolumeClaim": { "claimName": claim, "readOnly": true } },
        ]),
        None => json!([{ "name": "scenario", "configMap": config }]),
    }
}

fn results_volume(spec: &Spec) -> Value {
    match &spec.results_claim {
        Some(claim) => {
            json!({ "name": "results", "persistentVolumeClaim": { "claimName": claim } })
        }
        None => json!({ "name": "results", "emptyDir": {} }),
    }
}

fn push(array: &mut Value, item: Value) {
    if let Value::Array(a) = array {
        a.push(item);
    }
}
