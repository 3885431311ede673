//! The coordinator's scale benchmark (issue 14 item 5): one real `barrage coordinator`
//! process and N simulated agents in this process, each sending one worker's per-second
//! interval with E endpoints (every endpoint with 100 samples a second, so both of its
//! histograms are in use), for S seconds. It prints the coordinator's CPU time and peak
//! memory and checks the merged result counts every request the agents reported.
//!
//! ```text
//! cargo build --release -p barrage
//! cargo run --release -p barrage-fleet --example simulated_agents -- \
//!     target/release/barrage 100 50 20
//! ```
//!
//! Arguments: the barrage binary, agents (100), endpoints (50), seconds (20). The agents'
//! intervals are encoded once before the run (an agent's own encoding is its machine's
//! cost, not the coordinator's), so what this process spends is mostly the sockets.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use barrage_fleet::protocol::{FromAgent, Shape, ToAgent, PROTOCOL};
use barrage_metrics::{EndpointId, EndpointInfo, HostInfo, Recorder, Registry, TaskInfo, Timing};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const TOKEN: &str = "bench";
const SAMPLES_PER_ENDPOINT: u64 = 100;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let barrage = args
        .get(1)
        .cloned()
        .unwrap_or("target/release/barrage".into());
    let agents: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
    let endpoints: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(50);
    let seconds: u64 = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(20);

    let dir = std::env::temp_dir().join(format!("barrage-fleet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let scenario = dir.join("s.yaml");
    let mut text = String::from("target: http://127.0.0.1:9\ntasks:\n  t:\n");
    for e in 0..endpoints {
        text.push_str(&format!("    - get: /e{e}\n"));
    }
    std::fs::write(&scenario, text).expect("writing the scenario");
    let out = dir.join("out.json");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut coordinator = Command::new(&barrage)
        .args(["coordinator", scenario.to_str().unwrap(), "--agents"])
        .arg(agents.to_string())
        .args([
            "--listen",
            &listen,
            "--token",
            TOKEN,
            "--only-summary",
            "-t",
        ])
        .arg(format!("{seconds}s"))
        .args(["--json", out.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("coordinator.log")).expect("a log file"))
        .spawn()
        .expect("starting the coordinator");
    let pid = coordinator.id();
    std::thread::sleep(Duration::from_millis(500));
    let (cpu_idle, rss_idle) = (cpu_s(pid), rss_kb(pid));

    let interval = interval_text(endpoints);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let local = tokio::task::LocalSet::new();
    let watcher = std::thread::spawn(move || {
        // CPU and peak memory of the coordinator, sampled until it ends.
        let mut peak = 0u64;
        let mut cpu = 0.0;
        let mut at_start = None;
        loop {
            match (
                std::fs::read_to_string(format!("/proc/{pid}/stat")),
                rss_kb(pid),
            ) {
                (Ok(_), Some(rss)) => {
                    peak = peak.max(rss);
                    cpu = cpu_s(pid).unwrap_or(cpu);
                    if at_start.is_none() && rss > 0 {
                        at_start = Some(cpu);
                    }
                }
                _ => return (cpu, peak),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let started = Instant::now();
    let start_cpu = std::sync::Arc::new(std::sync::Mutex::new(None::<f64>));
    let sc = start_cpu.clone();
    local.block_on(&rt, async move {
        let mut tasks = Vec::new();
        for a in 0..agents {
            let (listen, interval) = (listen.clone(), interval.clone());
            let sc = sc.clone();
            tasks.push(tokio::task::spawn_local(async move {
                agent(a, &listen, endpoints, seconds, &interval, pid, &sc).await
            }));
            // Registrations a little apart, as machines would come up.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        for t in tasks {
            t.await.expect("agent task").expect("agent");
        }
    });
    let status = coordinator.wait().expect("the coordinator ends");
    let wall = started.elapsed();
    let (cpu_end, peak_kb) = watcher.join().expect("watcher");
    let cpu_at_start = start_cpu.lock().unwrap().unwrap_or(0.0);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("the result file"))
            .expect("JSON");
    let merged = doc["aggregate"]["requests"].as_u64().unwrap_or(0);
    let sent = agents as u64 * seconds * endpoints as u64 * SAMPLES_PER_ENDPOINT;
    let run_cpu = cpu_end - cpu_at_start;
    println!(
        "coordinator exit: {status}; run {:.1} s wall (incl. registration)",
        wall.as_secs_f64()
    );
    println!(
        "agents {agents}, endpoints {endpoints}, seconds {seconds}: {} agent intervals/s, {} endpoint intervals/s",
        agents,
        agents * endpoints
    );
    println!(
        "merged requests {merged} (agents sent {sent}): {}",
        if merged == sent { "exact" } else { "MISMATCH" }
    );
    println!(
        "coordinator CPU during the run: {run_cpu:.2} s over {seconds} s = {:.1}% of a core, \
         {:.3}% per agent; CPU before the start (idle, registration) {:.2} s",
        100.0 * run_cpu / seconds as f64,
        100.0 * run_cpu / seconds as f64 / agents as f64,
        cpu_at_start - cpu_idle.unwrap_or(0.0),
    );
    println!(
        "coordinator memory: idle {} MiB, peak {} MiB, {:.0} KiB per agent",
        rss_idle.unwrap_or(0) / 1024,
        peak_kb / 1024,
        (peak_kb.saturating_sub(rss_idle.unwrap_or(0))) as f64 / agents as f64
    );
    if status.success() && merged == sent {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!(
            "coordinator's output: {}",
            dir.join("coordinator.log").display()
        );
    }
}

/// One agent's interval (as the wire carries it), the same every second.
fn interval_text(endpoints: usize) -> String {
    let mut registry = Registry::default();
    for e in 0..endpoints {
        registry.endpoints.push(EndpointInfo {
            scenario: "default".into(),
            method: "GET".into(),
            name: format!("/e{e}"),
        });
    }
    registry.tasks.push(TaskInfo {
        scenario: "default".into(),
        user: "default".into(),
        name: "t".into(),
    });
    let mut recorder = Recorder::new(&registry);
    for e in 0..endpoints {
        for i in 0..SAMPLES_PER_ENDPOINT {
            // 1 .. 50 ms, spread over the histogram's buckets.
            let ns = 1_000_000 + (i * 7_919 + e as u64 * 104_729) % 49_000_000;
            let t = Timing {
                response_time_ns: ns,
                service_time_ns: ns - ns / 10,
            };
            recorder.success(EndpointId(e as u32), 200, t, 120, 800);
        }
    }
    serde_json::to_string(&barrage_metrics::wire::encode_interval(
        &recorder.take_interval(),
    ))
    .expect("JSON")
}

fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

async fn agent(
    a: usize,
    listen: &str,
    endpoints: usize,
    seconds: u64,
    interval: &str,
    pid: u32,
    start_cpu: &std::sync::Mutex<Option<f64>>,
) -> Result<(), String> {
    let tcp = tokio::net::TcpStream::connect(listen)
        .await
        .map_err(|e| e.to_string())?;
    let mut request = format!("ws://{listen}/agent")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {TOKEN}").parse().expect("a header value"),
    );
    let (ws, _) = tokio_tungstenite::client_async(request, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let (mut tx, mut rx) = ws.split();
    let send = |m: &FromAgent| Message::text(serde_json::to_string(m).expect("JSON"));
    tx.send(send(&FromAgent::Hello {
        name: format!("sim-{a}"),
        workers: 1,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        protocol: PROTOCOL,
        host: HostInfo::current(),
    }))
    .await
    .map_err(|e| e.to_string())?;
    let start_ns = loop {
        let Some(Ok(Message::Text(text))) = rx.next().await else {
            return Err("closed before the start".into());
        };
        match serde_json::from_str::<ToAgent>(&text).map_err(|e| e.to_string())? {
            ToAgent::Ping { t0_ns } => tx
                .send(send(&FromAgent::Pong {
                    t0_ns,
                    agent_ns: unix_ns(),
                }))
                .await
                .map_err(|e| e.to_string())?,
            ToAgent::Setup { .. } => tx
                .send(send(&FromAgent::Ready {
                    shape: Shape {
                        endpoints,
                        tasks: 1,
                        checks: 0,
                    },
                }))
                .await
                .map_err(|e| e.to_string())?,
            ToAgent::Start { at_ns } => break at_ns,
            _ => {}
        }
    };
    // Read (and drop) heartbeats while sending, until the goodbye.
    let reader = tokio::task::spawn_local(async move {
        while let Some(Ok(m)) = rx.next().await {
            if let Message::Text(t) = m {
                if t.contains("\"bye\"") {
                    return;
                }
            }
        }
    });
    let start = Instant::now() + Duration::from_nanos(start_ns.saturating_sub(unix_ns()));
    tokio::time::sleep_until(start.into()).await;
    if a == 0 {
        *start_cpu.lock().unwrap() = cpu_s(pid);
    }
    for second in 1..=seconds {
        tokio::time::sleep_until((start + Duration::from_secs(second)).into()).await;
        let last = second == seconds;
        let text = format!(
            r#"{{"type":"interval","worker":0,"second":{second},"last":{last},"interval":{interval}}}"#
        );
        tx.send(Message::text(text))
            .await
            .map_err(|e| e.to_string())?;
    }
    tx.send(send(&FromAgent::Done))
        .await
        .map_err(|e| e.to_string())?;
    let _ = tokio::time::timeout(Duration::from_secs(60), reader).await;
    Ok(())
}

/// The process's user + system CPU time, in seconds.
fn cpu_s(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime), counted after the command's `)`.
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The process's resident memory, in KiB.
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
