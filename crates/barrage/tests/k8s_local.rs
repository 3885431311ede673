//! The Indexed Job of `barrage k8s --no-coordinator`, simulated on this machine: the
//! generated Job's own command runs N times, as the Job's N pods would, each with its
//! `JOB_COMPLETION_INDEX`, in a folder laid out as the pod's volumes (the ConfigMap's items
//! written at their paths, the results claim a folder), against a target on loopback; then
//! `barrage merge` combines their result files. The merged per-endpoint counts must equal
//! what the target itself counted, and the split must lose or repeat no iteration.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use barrage_target::{DemoOptions, DemoTarget};
use common::{barrage, endpoint, isolate, read_json, run, run_with_timeout, stderr, write};
use saphyr::{LoadableYamlNode, Yaml};

const SCENARIO: &str = r#"
data:
  accounts:
    file: data/accounts.csv
users:
  u:
    setup:
      - post: /login
        json:
          username: "{{ accounts.username }}"
          password: "{{ accounts.password }}"
    tasks:
      browse:
        - get: /
        - get: "/items/{{ accounts.username }}"
          name: /items/[name]
"#;

const AGENTS: usize = 4;

/// The kubelet's part: the ConfigMap's items written under `root/scenario` at their paths.
fn lay_out_config_map(docs: &[Yaml], root: &Path) {
    let cm = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("ConfigMap"))
        .expect("a ConfigMap");
    let job = job(docs);
    let volume = job["spec"]["template"]["spec"]["volumes"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|v| v["name"].as_str() == Some("scenario"))
        .expect("the scenario volume");
    for item in volume["configMap"]["items"].as_vec().unwrap() {
        let key = item["key"].as_str().unwrap();
        let path = root.join("scenario").join(item["path"].as_str().unwrap());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = cm["data"][key].as_str().expect("a text file");
        std::fs::write(&path, text).unwrap();
    }
}

fn job<'a, 'y>(docs: &'a [Yaml<'y>]) -> &'a Yaml<'y> {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some("Job"))
        .expect("a Job")
}

/// `/barrage/...` in the pod is `root/...` here. (The run's `--name` is not `barrage`, so
/// the only `/barrage/` in a path is its first folder.)
fn in_pod(s: &str, root: &Path) -> String {
    s.replace("/barrage/", &format!("{}/", root.display()))
}

#[test]
fn the_indexed_job_run_locally_and_merged_counts_what_the_target_served() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    write(
        dir.path(),
        "data/accounts.csv",
        "username,password\nalice,a1\nbob,b2\ncarol,c3\ndave,d4\nerin,e5\n",
    );
    let scenario = write(dir.path(), "load.yaml", SCENARIO);
    let o = run(barrage()
        .arg("k8s")
        .arg(&scenario)
        .args(["--agents", &AGENTS.to_string(), "--image", "local"])
        .args(["--no-coordinator", "--results-claim", "results"])
        .args(["--start-at", "+3s", "--agent-cpu", "1", "--name", "local"])
        .args(["--", "-u", "6", "--iterations", "300", "-H"])
        .arg(target.url()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let yaml = String::from_utf8(o.stdout).unwrap();
    let docs = Yaml::load_from_str(&yaml).unwrap();

    let root = dir.path().join("pod");
    lay_out_config_map(&docs, &root);
    std::fs::create_dir_all(root.join("results")).unwrap();
    let container = &job(&docs)["spec"]["template"]["spec"]["containers"][0];
    let command: Vec<String> = container["command"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|a| in_pod(a.as_str().unwrap(), &root))
        .collect();
    let workdir = in_pod(container["workingDir"].as_str().unwrap(), &root);
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_barrage")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    // The Job's N pods, at once.
    let pods: Vec<_> = (0..AGENTS)
        .map(|index| {
            let mut c = Command::new(&command[0]);
            c.args(&command[1..])
                .current_dir(&workdir)
                .env("PATH", &path)
                .env("JOB_COMPLETION_INDEX", index.to_string());
            isolate(&mut c);
            std::thread::spawn(move || run_with_timeout(&mut c, Duration::from_secs(60)))
        })
        .collect();
    for (index, pod) in pods.into_iter().enumerate() {
        let o = pod.join().unwrap().expect("the pod's command ends");
        assert_eq!(o.status.code(), Some(0), "pod {index}: {}", stderr(&o));
    }

    let results = root.join("results/local");
    let files: Vec<PathBuf> = (1..=AGENTS)
        .map(|i| results.join(format!("segment-{i}-of-{AGENTS}.json")))
        .collect();
    let merged = dir.path().join("merged.json");
    let o = run(barrage()
        .arg("merge")
        .args(&files)
        .arg("--json")
        .arg(&merged));
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "merge accepts the segments: {}",
        stderr(&o)
    );
    let doc = read_json(&merged);
    let served = target.counts();
    let served = |k: &str| served.get(k).copied().unwrap_or(0);
    assert_eq!(
        endpoint(&doc, "POST", "/login")["requests"],
        served("POST /login")
    );
    assert_eq!(endpoint(&doc, "GET", "/")["requests"], served("GET /"));
    assert_eq!(
        endpoint(&doc, "GET", "/items/[name]")["requests"],
        served("GET /items/{name}")
    );
    // The segments together ran the one-process load: each user's setup once, and the
    // 300 iterations once each.
    assert_eq!(served("POST /login"), 6);
    assert_eq!(served("GET /"), 300);
    assert_eq!(served("GET /items/{name}"), 300);
}
