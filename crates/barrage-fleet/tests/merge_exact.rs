//! The coordinator's merge is exact: three agents (speaking the protocol from this test)
//! each send known samples; the intervals that come out of the `RemoteRun`, merged, give
//! the percentiles of one histogram fed every agent's samples.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use barrage_engine::WorkerEvent;
use barrage_fleet::protocol::{FromAgent, Shape, ToAgent, PROTOCOL};
use barrage_fleet::{Coordinator, CoordinatorConfig, LossPolicy};
use barrage_metrics::{
    new_histogram, Aggregator, EndpointId, EndpointInfo, HostInfo, Recorder, Registry, Timing,
};
use barrage_session::RunSource;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

fn registry() -> Arc<Registry> {
    let mut r = Registry::default();
    r.endpoints.push(EndpointInfo {
        scenario: "default".into(),
        method: "GET".into(),
        name: "/x".into(),
    });
    Arc::new(r)
}

/// Agent `a`'s samples, in microseconds: each agent's own range, so the merged
/// percentiles differ from any one agent's.
fn samples(a: u64) -> Vec<u64> {
    (0..500)
        .map(|i| 1_000 + a * 7_000 + (i * 37) % 9_000)
        .collect()
}

async fn agent(addr: String, a: u64, registry: Arc<Registry>) {
    let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut request = format!("ws://{addr}/agent").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", "Bearer k".parse().unwrap());
    let (ws, _) = tokio_tungstenite::client_async(request, tcp).await.unwrap();
    let (mut tx, mut rx) = ws.split();
    let msg = |m: &FromAgent| Message::text(serde_json::to_string(m).unwrap());
    tx.send(msg(&FromAgent::Hello {
        name: format!("a{a}"),
        workers: 1,
        version: env!("CARGO_PKG_VERSION").into(),
        protocol: PROTOCOL,
        host: HostInfo::current(),
    }))
    .await
    .unwrap();
    loop {
        let Some(Ok(Message::Text(t))) = rx.next().await else {
            panic!("closed before the start")
        };
        match serde_json::from_str::<ToAgent>(&t).unwrap() {
            ToAgent::Ping { t0_ns } => {
                let agent_ns = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64;
                tx.send(msg(&FromAgent::Pong { t0_ns, agent_ns }))
                    .await
                    .unwrap();
            }
            ToAgent::Setup { .. } => tx
                .send(msg(&FromAgent::Ready {
                    shape: Shape::of(&registry),
                }))
                .await
                .unwrap(),
            ToAgent::Start { .. } => break,
            _ => {}
        }
    }
    let mut rec = Recorder::new(&registry);
    for us in samples(a) {
        let t = Timing {
            response_time_ns: us * 1_000,
            service_time_ns: us * 1_000,
        };
        rec.success(EndpointId(0), 200, t, 1, 1);
    }
    let interval = barrage_metrics::wire::encode_interval(&rec.take_interval());
    tx.send(msg(&FromAgent::Interval {
        worker: 0,
        second: 1,
        last: true,
        interval,
    }))
    .await
    .unwrap();
    tx.send(msg(&FromAgent::Done)).await.unwrap();
    // Until the goodbye.
    while let Some(Ok(m)) = rx.next().await {
        if matches!(m, Message::Close(_)) {
            break;
        }
    }
}

#[test]
fn three_agents_merge_into_the_percentiles_of_one_histogram() {
    let registry = registry();
    let coordinator = Coordinator::start(CoordinatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        token: Some("k".into()),
        tls: None,
        agents: 3,
        on_loss: LossPolicy::Fail,
        spec: serde_json::Value::Null,
        registry: registry.clone(),
        start_delay: Duration::from_millis(200),
    })
    .unwrap();
    let addr = coordinator.local_addr.to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        for a in 0..3 {
            tokio::task::spawn_local(agent(addr.clone(), a, registry.clone()));
        }
        let mut run = coordinator.gathered.await.unwrap().unwrap();
        assert_eq!(run.workers(), 3);
        let mut agg = Aggregator::new(registry.clone());
        let mut last = 0;
        while last < 3 {
            let event = tokio::time::timeout(Duration::from_secs(10), run.events().recv())
                .await
                .expect("every agent's interval within 10 s")
                .expect("the events go on until every worker is done");
            match event {
                WorkerEvent::Interval {
                    worker,
                    last: true,
                    interval,
                    ..
                } => {
                    agg.absorb(worker, *interval);
                    last += 1;
                }
                _ => panic!("an event other than a last interval"),
            }
        }
        let report = run.report();
        assert_eq!(report.generators.len(), 3);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        Box::new(run).join();

        let mut one = new_histogram();
        for a in 0..3 {
            for us in samples(a) {
                one.record(us * 1_000).unwrap();
            }
        }
        let snap = agg.snapshot(Duration::from_secs(1));
        let merged = &snap.endpoints[0].response_time;
        assert_eq!(snap.endpoints[0].requests, 1_500);
        for (q, got) in [(0.5, merged.p50), (0.9, merged.p90), (0.99, merged.p99)] {
            let want = one.value_at_quantile(q) as f64 / 1e6;
            assert_eq!(got, want, "p{}", q * 100.0);
        }
        assert_eq!(merged.max, one.max() as f64 / 1e6);
    });
}
