use serde_json::Value;
use time::macros::datetime;

use super::manifests::{objects, Mode, Resources, Spec, Token, CONFIG_MAP_LIMIT};
use super::*;

const SCENARIO: &str = "target: http://127.0.0.1:1\ntasks:\n  t:\n    - get: /\n";

fn spec(mode: Mode) -> Spec {
    Spec {
        name: "load".into(),
        namespace: Some("perf".into()),
        image: "registry.example/barrage:1".into(),
        agents: 4,
        scenario: "s.yaml".into(),
        files: vec![
            ("s.yaml".into(), SCENARIO.as_bytes().to_vec()),
            ("data/users.csv".into(), b"id\n1\n2\n".to_vec()),
            ("img/p.png".into(), vec![0x89, b'P', b'N', b'G', 0xff]),
        ],
        data_claim: None,
        results_claim: Some("results".into()),
        mode,
        agent: resources("--agent-cpu", "2", "--agent-memory", "1Gi").unwrap(),
        coordinator: Resources {
            cpu: "1".into(),
            memory: "1Gi".into(),
            workers: 1,
        },
        extra: vec!["-t".into(), "30s".into()],
    }
}

fn segments() -> Spec {
    spec(Mode::Segments {
        start_at: "2026-05-04T12:00:00Z".into(),
    })
}

fn coordinated() -> Spec {
    spec(Mode::Coordinator {
        token: Token::Generated("t0ken".into()),
    })
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {objects:#?}"))
}

fn kinds(objects: &[Value]) -> Vec<&str> {
    objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect()
}

#[test]
fn the_job_is_indexed_with_one_pod_per_agent_all_at_once() {
    for s in [segments(), coordinated()] {
        let all = objects(&s).unwrap();
        let job = find(&all, "Job");
        assert_eq!(job["metadata"]["name"], "load-agents");
        assert_eq!(job["metadata"]["namespace"], "perf");
        assert_eq!(job["spec"]["completionMode"], "Indexed");
        assert_eq!(job["spec"]["completions"], 4);
        assert_eq!(job["spec"]["parallelism"], 4);
        assert_eq!(job["spec"]["backoffLimit"], 0);
        let pod = &job["spec"]["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Never");
        let r = &pod["containers"][0]["resources"];
        assert_eq!(r["requests"], r["limits"], "Guaranteed QoS");
        assert_eq!(r["limits"]["cpu"], "2");
        assert_eq!(r["limits"]["memory"], "1Gi");
    }
}

#[test]
fn without_a_coordinator_pod_i_runs_segment_index_plus_one_of_n_from_the_start_time() {
    let s = segments();
    let all = objects(&s).unwrap();
    assert_eq!(kinds(&all), ["ConfigMap", "Job", "Pod"]);
    let c = &find(&all, "Job")["spec"]["template"]["spec"]["containers"][0];
    let command = c["command"].as_array().unwrap();
    assert_eq!(command[0], "sh");
    assert_eq!(command[1], "-c");
    let script = command[2].as_str().unwrap();
    assert!(
        script.contains(
            "barrage run /barrage/scenario/s.yaml --segment \"$((JOB_COMPLETION_INDEX + 1))/4\" \
             --start-at 2026-05-04T12:00:00Z --workers 2 \
             --json /barrage/results/load/\"segment-$((JOB_COMPLETION_INDEX + 1))-of-4.json\" \"$@\""
        ),
        "{script}"
    );
    // The flags after `--` reach the script as its arguments, unquoted.
    assert_eq!(command[3..], ["segment", "-t", "30s"]);
    // Exit 1 (a threshold on one share) is not the pod's failure; others are.
    assert!(script.contains("if [ \"$code\" -eq 1 ]"), "{script}");
    assert!(script.ends_with("exit \"$code\""), "{script}");
    let mounts = &c["volumeMounts"];
    assert_eq!(mounts[1]["mountPath"], "/barrage/results");
    let volumes = &find(&all, "Job")["spec"]["template"]["spec"]["volumes"];
    assert_eq!(volumes[1]["persistentVolumeClaim"]["claimName"], "results");
    let results = find(&all, "Pod");
    assert_eq!(
        results["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "results"
    );
}

#[test]
fn the_segment_expression_runs_as_sh_computes_it() {
    // What the pod's shell makes of the expression, for the first and last index.
    let script = super::manifests::segment_script(&segments(), "2026-05-04T12:00:00Z");
    let start = script.find("\"$((").unwrap();
    let expr = &script[start..script[start..].find("/4\"").unwrap() + start + 3];
    for (index, want) in [("0", "1/4"), ("3", "4/4")] {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {expr}"))
            .env("JOB_COMPLETION_INDEX", index)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    }
}

#[test]
fn agents_join_the_coordinator_service_with_the_token_and_their_pod_name() {
    let s = coordinated();
    let all = objects(&s).unwrap();
    assert_eq!(
        kinds(&all),
        ["Secret", "ConfigMap", "Service", "Deployment", "Job"]
    );
    assert_eq!(find(&all, "Secret")["stringData"]["token"], "t0ken");
    let pod = &find(&all, "Job")["spec"]["template"]["spec"];
    let agent = &pod["containers"][0];
    assert_eq!(
        agent["command"],
        serde_json::json!([
            "barrage",
            "agent",
            "--coordinator",
            "load-coordinator:5710",
            "--name",
            "$(POD_NAME)",
            "--workers",
            "2"
        ])
    );
    let env = agent["env"].as_array().unwrap();
    assert_eq!(env[0]["name"], "BARRAGE_TOKEN");
    assert_eq!(env[0]["valueFrom"]["secretKeyRef"]["name"], "load-token");
    assert_eq!(env[1]["name"], "POD_NAME");
    assert_eq!(
        env[1]["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.name"
    );
    assert_eq!(pod["initContainers"][0]["name"], "wait-for-coordinator");

    let service = find(&all, "Service");
    assert_eq!(service["metadata"]["name"], "load-coordinator");
    assert_eq!(service["spec"]["ports"][0]["port"], 5710);
    let deployment = find(&all, "Deployment");
    assert_eq!(
        service["spec"]["selector"],
        deployment["spec"]["template"]["metadata"]["labels"]
    );
    let coordinator = &deployment["spec"]["template"]["spec"]["containers"][0];
    let script = coordinator["command"][2].as_str().unwrap();
    assert!(
        script.contains(
            "barrage coordinator /barrage/scenario/s.yaml --agents 4 --listen 0.0.0.0:5710 \
             --json /barrage/results/load/result.json \"$@\""
        ),
        "{script}"
    );
    assert_eq!(
        coordinator["command"].as_array().unwrap()[3..],
        ["coordinator", "-t", "30s"]
    );
    assert_eq!(coordinator["env"][0]["name"], "BARRAGE_TOKEN");

    let existing = spec(Mode::Coordinator {
        token: Token::Existing("mine".into()),
    });
    let all = objects(&existing).unwrap();
    assert_eq!(kinds(&all)[0], "ConfigMap", "no Secret written");
    let agent = &find(&all, "Job")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(agent["env"][0]["valueFrom"]["secretKeyRef"]["name"], "mine");
}

#[test]
fn the_config_map_carries_the_scenario_and_its_files_at_their_relative_paths() {
    let all = objects(&segments()).unwrap();
    let cm = find(&all, "ConfigMap");
    assert_eq!(cm["metadata"]["name"], "load-scenario");
    assert_eq!(cm["data"]["s.yaml"], SCENARIO);
    assert_eq!(cm["data"]["data_users.csv"], "id\n1\n2\n");
    assert_eq!(cm["binaryData"]["img_p.png"], "iVBOR/8=");
    let volume = &find(&all, "Job")["spec"]["template"]["spec"]["volumes"][0];
    assert_eq!(volume["configMap"]["name"], "load-scenario");
    assert_eq!(
        volume["configMap"]["items"],
        serde_json::json!([
            { "key": "s.yaml", "path": "s.yaml" },
            { "key": "data_users.csv", "path": "data/users.csv" },
            { "key": "img_p.png", "path": "img/p.png" },
        ])
    );
}

#[test]
fn keys_of_paths_that_clash_stay_apart() {
    let mut s = segments();
    s.files.push(("data_users.csv".into(), b"x\n".to_vec()));
    let all = objects(&s).unwrap();
    let items = &find(&all, "Job")["spec"]["template"]["spec"]["volumes"][0]["configMap"]["items"];
    assert_eq!(items[3]["key"], "data_users.csv-2");
    assert_eq!(items[3]["path"], "data_users.csv");
}

#[test]
fn files_past_a_config_map_are_refused_with_the_data_claim_as_the_way() {
    let mut s = segments();
    s.files[1].1 = vec![b'a'; CONFIG_MAP_LIMIT - SCENARIO.len() - 5];
    assert!(objects(&s).is_ok(), "exactly at the limit");
    s.files[1].1.push(b'a');
    let e = objects(&s).unwrap_err();
    assert!(e.contains("1048577 bytes"), "{e}");
    assert!(e.contains("--data-claim"), "{e}");

    // With the claim, the ConfigMap holds the scenario alone and an init container links
    // the claim's files beside it.
    s.data_claim = Some("big-data".into());
    let all = objects(&s).unwrap();
    let cm = find(&all, "ConfigMap");
    assert_eq!(cm["data"].as_object().unwrap().len(), 1);
    assert!(cm.get("binaryData").is_none());
    let pod = &find(&all, "Job")["spec"]["template"]["spec"];
    let volumes = pod["volumes"].as_array().unwrap();
    assert!(volumes
        .iter()
        .any(|v| v["persistentVolumeClaim"]["claimName"] == "big-data"
            && v["persistentVolumeClaim"]["readOnly"] == true));
    let link = &pod["initContainers"][0];
    assert_eq!(link["name"], "link-data");
    let script = link["command"][2].as_str().unwrap();
    assert!(
        script.contains("test -e /barrage/data/data/users.csv"),
        "{script}"
    );
    assert!(
        script.contains("ln -s /barrage/data/data /barrage/scenario/data"),
        "{script}"
    );
    assert!(
        script.contains("ln -s /barrage/data/img /barrage/scenario/img"),
        "{script}"
    );
    assert!(
        script.ends_with("ln -sf /barrage/config/s.yaml /barrage/scenario/s.yaml"),
        "{script}"
    );

    // The coordinator reads the same folder, laid out the same way.
    s.mode = Mode::Coordinator {
        token: Token::Generated("t".into()),
    };
    let all = objects(&s).unwrap();
    let agents = &find(&all, "Job")["spec"]["template"]["spec"];
    let coordinator = &find(&all, "Deployment")["spec"]["template"]["spec"];
    assert_eq!(
        agents["initContainers"][1],
        coordinator["initContainers"][0]
    );
    assert_eq!(
        agents["containers"][0]["volumeMounts"].as_array().unwrap()[..],
        coordinator["containers"][0]["volumeMounts"]
            .as_array()
            .unwrap()[..3]
    );
}

#[test]
fn start_times_are_rfc3339_in_utc_or_a_delay_from_now() {
    let now = datetime!(2026-05-04 12:00:00.25 UTC);
    assert_eq!(start_at(None, now).unwrap(), "2026-05-04T12:02:01Z");
    assert_eq!(start_at(Some("+5m"), now).unwrap(), "2026-05-04T12:05:01Z");
    assert_eq!(
        start_at(Some("2026-05-04T14:30:00+02:00"), now).unwrap(),
        "2026-05-04T12:30:00Z"
    );
    let e = start_at(Some("2026-05-04T11:00:00Z"), now).unwrap_err();
    assert!(e.contains("already past"), "{e}");
    let e = start_at(Some("+25h"), now).unwrap_err();
    assert!(e.contains("more than 24 hours"), "{e}");
    let e = start_at(Some("tomorrow"), now).unwrap_err();
    assert!(e.contains("RFC 3339"), "{e}");
}

#[test]
fn cpu_and_memory_are_kubernetes_quantities() {
    assert_eq!(parse_cpu("2"), Some(2000));
    assert_eq!(parse_cpu("1.5"), Some(1500));
    assert_eq!(parse_cpu("500m"), Some(500));
    for bad in ["0", "0m", "two", "-1", "", "1.5m", "1e3"] {
        assert_eq!(parse_cpu(bad), None, "{bad}");
    }
    assert_eq!(resources("c", "500m", "m", "1Gi").unwrap().workers, 1);
    assert_eq!(resources("c", "3.5", "m", "1Gi").unwrap().workers, 3);
    for good in ["512Mi", "1Gi", "1G", "1073741824", "1.5Gi"] {
        assert!(is_memory(good), "{good}");
    }
    for bad in ["0", "1GB", "Gi", "lots", ""] {
        assert!(!is_memory(bad), "{bad}");
    }
}

#[test]
fn shell_quoting_keeps_odd_paths_whole() {
    use super::manifests::sh_quote;
    assert_eq!(
        sh_quote("/barrage/scenario/s.yaml"),
        "/barrage/scenario/s.yaml"
    );
    assert_eq!(sh_quote("my scenario.yaml"), "'my scenario.yaml'");
    assert_eq!(sh_quote("it's"), r#"'it'\''s'"#);
}

#[test]
fn the_host_among_the_run_flags_is_the_one_the_scenario_is_checked_with() {
    let flags = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(host_flag(&flags(&["-t", "1m"])), None);
    assert_eq!(
        host_flag(&flags(&["-H", "http://a:1"])).as_deref(),
        Some("http://a:1")
    );
    assert_eq!(
        host_flag(&flags(&["--host", "http://b"])).as_deref(),
        Some("http://b")
    );
    assert_eq!(
        host_flag(&flags(&["--host=http://c"])).as_deref(),
        Some("http://c")
    );
    assert_eq!(
        host_flag(&flags(&["-Hhttp://d"])).as_deref(),
        Some("http://d")
    );
}
