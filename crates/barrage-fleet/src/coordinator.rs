//! The coordinator's side: it listens, registers agents (token, version, clock offset),
//! hands each its segment, starts them together, and then presents them to the session as
//! one [`RemoteRun`]: agent `a`'s worker `w` is worker `offset(a) + w`, its intervals
//! arrive decoded, and the session's steering goes to every agent.
//!
//! The network runs on a thread of its own with a current-thread runtime (as the web UI's
//! server does), so decoding intervals never holds up the session's control thread, which
//! only merges them. What the session must not wait for is a lost agent: the moment one is
//! lost (its socket closed, or [`SILENCE`] without a message), its workers that had not
//! finished are reported finished with an empty last interval, so seconds keep closing
//! over the others; with [`LossPolicy::Fail`] the first of them is reported failed instead,
//! which makes the session stop every agent at once. Its share is never moved to the
//! other agents: they run exactly the segments they were given.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use barrage_engine::WorkerEvent;
use barrage_metrics::wire::decode_interval;
use barrage_metrics::{
    format_timestamp, GeneratorTally, HostInfo, Interval, NamedGenerator, Registry, SegmentMeta,
};
use barrage_session::{RunSource, SourceReport};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

use crate::clock::{Offset, RoundTrip};
use crate::link::{Io, Link, LinkError};
use crate::protocol::{FromAgent, Shape, ToAgent, HEARTBEAT, PROTOCOL, SILENCE};

type AgentLink = Link<FromAgent, ToAgent>;

/// What to do when an agent is lost mid-run (`--on-agent-loss`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LossPolicy {
    /// Stop every agent; the run ends as one that could not proceed.
    #[default]
    Fail,
    /// Go on with the others; the result says it is degraded, which agent and when.
    Continue,
}

/// How the coordinator runs.
pub struct CoordinatorConfig {
    pub listen: SocketAddr,
    /// The shared secret agents must present; required beyond loopback.
    pub token: Option<String>,
    /// TLS for the agents' connections.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// How many agents the run waits for.
    pub agents: usize,
    pub on_loss: LossPolicy,
    /// What the agents run (the front end's description, opaque here).
    pub spec: serde_json::Value,
    /// The plan's registry, which every agent's intervals must fit.
    pub registry: Arc<Registry>,
    /// How far ahead of the last registration the agents are told to start.
    pub start_delay: Duration,
}

/// Why a coordinated run could not start.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "listening on {0} (beyond loopback) needs a token: give --token or BARRAGE_TOKEN, and \
         the same to every agent"
    )]
    TokenNeeded(SocketAddr),
    #[error("agent {name} cannot run the scenario: {why}")]
    AgentRefused { name: String, why: String },
    #[error("agent {name} was lost before the start: {why}")]
    LostBeforeStart { name: String, why: String },
    #[error("cannot start the coordinator's network thread: {0}")]
    Thread(std::io::Error),
    #[error("the coordinator's network thread ended unexpectedly")]
    Ended,
}

/// Something to tell the person while agents come in.
pub type Progress = mpsc::UnboundedReceiver<String>;

/// A bound coordinator, waiting for its agents.
pub struct Coordinator {
    pub local_addr: SocketAddr,
    /// Answered once every agent has registered and been told the start (the run is then
    /// [`RemoteRun::start_wall`] away), or with why the run cannot start; a closed channel
    /// means the network thread ended ([`FleetError::Ended`]).
    pub gathered: oneshot::Receiver<Result<RemoteRun, FleetError>>,
    /// Lines for the person: agents registered, connections refused, agents lost.
    pub progress: Progress,
}

impl Coordinator {
    /// Binds the listener and starts the network thread, which registers agents until the
    /// run has them all. Errors here are the listener's (address in use, no token).
    pub fn start(config: CoordinatorConfig) -> Result<Coordinator, FleetError> {
        if !config.listen.ip().is_loopback() && config.token.is_none() {
            return Err(FleetError::TokenNeeded(config.listen));
        }
        let listener =
            std::net::TcpListener::bind(config.listen).map_err(|source| FleetError::Listen {
                addr: config.listen,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| FleetError::Listen {
            addr: config.listen,
            source,
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| FleetError::Listen {
                addr: config.listen,
                source,
            })?;
        let (gathered_tx, gathered) = oneshot::channel();
        let (progress_tx, progress) = mpsc::unbounded_channel();
        let (thread_tx, thread_rx) = std::sync::mpsc::channel::<JoinHandle<()>>();
        let handle = std::thread::Builder::new()
            .name("barrage-coordinator".to_owned())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    let _ = gathered_tx.send(Err(FleetError::Ended));
                    return;
                };
                let own = thread_rx.recv().ok();
                let local = tokio::task::LocalSet::new();
                local.block_on(&rt, async move {
                    let Ok(listener) = TcpListener::from_std(listener) else {
                        let _ = gathered_tx.send(Err(FleetError::Ended));
                        return;
                    };
                    serve(config, listener, progress_tx, gathered_tx, own).await;
                });
            })
            .map_err(FleetError::Thread)?;
        // The thread hands its own handle to the `RemoteRun` it builds (for `join`).
        let _ = thread_tx.send(handle);
        Ok(Coordinator {
            local_addr,
            gathered,
            progress,
        })
    }
}

/// An agent that said hello and had its clock read.
struct Registered {
    link: AgentLink,
    name: String,
    workers: usize,
    host: HostInfo,
    offset: Offset,
}

/// What the session and the report share about one agent.
#[derive(Clone, Debug)]
struct AgentState {
    name: String,
    index: u64,
    count: u64,
    host: HostInfo,
    workers: usize,
    offset: Offset,
    started_at: String,
    lost_at_s: Option<f64>,
    warnings: Vec<String>,
    /// Its own schedule lag, queue, drops and CPU, from its intervals.
    generator: GeneratorTally,
}

/// What the session's steering asks of every agent.
#[derive(Clone, Copy, Debug)]
enum Steer {
    Stop { hard: bool },
    Load { scenario: usize, target: f64 },
    Bye,
}

async fn serve(
    config: CoordinatorConfig,
    listener: TcpListener,
    progress: mpsc::UnboundedSender<String>,
    gathered: oneshot::Sender<Result<RemoteRun, FleetError>>,
    own: Option<JoinHandle<()>>,
) {
    let config = Arc::new(config);
    let (registered_tx, mut registered_rx) = mpsc::unbounded_channel::<Registered>();
    // Open while agents may still register; closed (true) once the run has them all,
    // after which a late agent is told so.
    let (full_tx, full_rx) = watch::channel(false);
    let (end_tx, end_rx) = watch::channel(false);
    tokio::task::spawn_local(accept(
        listener,
        config.clone(),
        registered_tx,
        full_rx,
        end_rx,
        progress.clone(),
    ));
    let mut agents: Vec<Registered> = Vec::with_capacity(config.agents);
    while agents.len() < config.agents {
        let Some(mut agent) = registered_rx.recv().await else {
            let _ = gathered.send(Err(FleetError::Ended));
            return;
        };
        // Two agents of the same name would be told apart only by their segments.
        if agents.iter().any(|a| a.name == agent.name) {
            agent.name = format!("{}#{}", agent.name, agents.len() + 1);
        }
        let _ = progress.send(format!(
            "agent {} registered ({} worker{}, clock offset {:+.1} ms ± {:.1} ms): {}/{}",
            agent.name,
            agent.workers,
            if agent.workers == 1 { "" } else { "s" },
            agent.offset.offset_ms(),
            agent.offset.delay_ns as f64 / 2e6,
            agents.len() + 1,
            config.agents
        ));
        agents.push(agent);
    }
    full_tx.send_replace(true);
    match setup(&config, &mut agents).await {
        Ok(()) => {}
        Err(e) => {
            for a in agents {
                let mut link = a.link;
                let _ = link
                    .send(&ToAgent::Refused {
                        why: format!("the run could not start: {e}"),
                    })
                    .await;
                link.close().await;
            }
            end_tx.send_replace(true);
            let _ = gathered.send(Err(e));
            return;
        }
    }
    let start_delay = config.start_delay;
    let now = SystemTime::now();
    let start_wall = now + start_delay;
    let start = Instant::now() + start_delay;
    let start_ns = unix_ns(start_wall);
    let count = agents.len() as u64;
    let states: Vec<AgentState> = agents
        .iter()
        .enumerate()
        .map(|(i, a)| AgentState {
            name: a.name.clone(),
            index: i as u64,
            count,
            host: a.host.clone(),
            workers: a.workers,
            offset: a.offset,
            started_at: format_timestamp(start_wall),
            lost_at_s: None,
            warnings: Vec::new(),
            generator: GeneratorTally::default(),
        })
        .collect();
    let states = Arc::new(Mutex::new(states));
    let (events_tx, events) = mpsc::unbounded_channel();
    let (steer_tx, _) = broadcast::channel::<Steer>(256);
    let mut tasks = Vec::with_capacity(agents.len());
    let mut first_worker = 0usize;
    for (i, mut a) in agents.into_iter().enumerate() {
        let at_ns = a.offset.to_agent(start_ns);
        if let Err(e) = a.link.send(&ToAgent::Start { at_ns }).await {
            // Its loss is noticed by its task as soon as the run starts.
            let _ = progress.send(format!("agent {}: cannot send the start: {e}", a.name));
        }
        let task = AgentTask {
            link: a.link,
            index: i,
            first_worker,
            workers: a.workers,
            finished: vec![false; a.workers],
            registry: config.registry.clone(),
            on_loss: config.on_loss,
            events: events_tx.clone(),
            steer: steer_tx.subscribe(),
            states: states.clone(),
            start,
            progress: progress.clone(),
        };
        first_worker += a.workers;
        tasks.push(tokio::task::spawn_local(task.run()));
    }
    drop(events_tx);
    let run = RemoteRun {
        workers: first_worker,
        start,
        start_wall,
        events,
        steer: steer_tx,
        states,
        thread: own,
    };
    if gathered.send(Ok(run)).is_err() {
        // The front end gave up (Ctrl-C before the start): the tasks notice their steer
        // channel closed and say goodbye.
    }
    for t in tasks {
        let _ = t.await;
    }
    end_tx.send_replace(true);
}

/// Sends each agent its setup and waits for all to be ready with the coordinator's shape.
async fn setup(config: &CoordinatorConfig, agents: &mut [Registered]) -> Result<(), FleetError> {
    let count = agents.len() as u64;
    for (i, a) in agents.iter_mut().enumerate() {
        let setup = ToAgent::Setup {
            spec: config.spec.clone(),
            index: i as u64,
            count,
        };
        a.link
            .send(&setup)
            .await
            .map_err(|e| FleetError::LostBeforeStart {
                name: a.name.clone(),
                why: e.to_string(),
            })?;
    }
    let want = Shape::of(&config.registry);
    for a in agents.iter_mut() {
        let lost = |why: String| FleetError::LostBeforeStart {
            name: a.name.clone(),
            why,
        };
        // Compiling a scenario (reading its data files) takes well under this.
        let answer = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match a.link.recv().await {
                    Ok(FromAgent::Heartbeat | FromAgent::Pong { .. }) => continue,
                    other => return other,
                }
            }
        })
        .await
        .map_err(|_| lost("no answer to the setup within 60 s".to_owned()))?;
        match answer {
            Ok(FromAgent::Ready { shape }) if shape == want => {}
            Ok(FromAgent::Ready { shape }) => {
                return Err(FleetError::AgentRefused {
                    name: a.name.clone(),
                    why: format!(
                        "its plan has {} endpoints, {} tasks and {} checks, the coordinator's \
                         {}, {} and {} (another barrage version?)",
                        shape.endpoints,
                        shape.tasks,
                        shape.checks,
                        want.endpoints,
                        want.tasks,
                        want.checks
                    ),
                })
            }
            Ok(FromAgent::Refuse { why }) => {
                return Err(FleetError::AgentRefused {
                    name: a.name.clone(),
                    why,
                })
            }
            Ok(other) => return Err(lost(format!("unexpected message {other:?}"))),
            Err(e) => return Err(lost(e.to_string())),
        }
    }
    Ok(())
}

/// Accepts connections for the whole run: registers agents until the run has them all,
/// then tells late ones it is full.
async fn accept(
    listener: TcpListener,
    config: Arc<CoordinatorConfig>,
    registered: mpsc::UnboundedSender<Registered>,
    full: watch::Receiver<bool>,
    mut end: watch::Receiver<bool>,
    progress: mpsc::UnboundedSender<String>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(_) => continue,
            },
            _ = end.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let (config, registered, full, progress) = (
            config.clone(),
            registered.clone(),
            full.clone(),
            progress.clone(),
        );
        tokio::task::spawn_local(async move {
            // A connection that does not finish its handshake in time is dropped.
            let done = tokio::time::timeout(
                Duration::from_secs(10),
                register(stream, &config, *full.borrow()),
            )
            .await;
            match done {
                Ok(Ok(Some(agent))) => {
                    let _ = registered.send(agent);
                }
                Ok(Ok(None)) => {}
                Ok(Err(why)) => {
                    let _ = progress.send(format!("connection from {peer} refused: {why}"));
                }
                Err(_) => {
                    let _ = progress.send(format!(
                        "connection from {peer} dropped: no registration within 10 s"
                    ));
                }
            }
        });
    }
}

/// The handshake: TLS, the WebSocket upgrade with the token, hello, and five clock round
/// trips. `Ok(None)`: a late agent told the run is full.
async fn register(
    stream: tokio::net::TcpStream,
    config: &CoordinatorConfig,
    full: bool,
) -> Result<Option<Registered>, String> {
    let io: Box<dyn Io> = match &config.tls {
        Some(tls) => Box::new(
            tokio_rustls::TlsAcceptor::from(tls.clone())
                .accept(stream)
                .await
                .map_err(|e| format!("TLS handshake failed: {e}"))?,
        ),
        None => Box::new(stream),
    };
    let token = config.token.clone();
    // The error type is tungstenite's (its handshake callback's signature), not ours to box.
    #[allow(clippy::result_large_err)]
    let check = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        match &token {
            Some(t) if !crate::token_matches(req, t) => {
                let mut refusal = ErrorResponse::new(Some(
                    "wrong or missing token: give the coordinator's --token (or BARRAGE_TOKEN)"
                        .to_owned(),
                ));
                *refusal.status_mut() = http::StatusCode::UNAUTHORIZED;
                Err(refusal)
            }
            _ => Ok(resp),
        }
    };
    let ws = tokio_tungstenite::accept_hdr_async(io, check)
        .await
        .map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(r)
                if r.status() == http::StatusCode::UNAUTHORIZED =>
            {
                "wrong or missing token".to_owned()
            }
            e => format!("WebSocket handshake failed: {e}"),
        })?;
    let mut link = AgentLink::new(ws);
    let hello = link.recv().await.map_err(|e| e.to_string())?;
    let FromAgent::Hello {
        name,
        workers,
        version,
        protocol,
        host,
    } = hello
    else {
        return Err("the first message was not a hello".to_owned());
    };
    let mine = env!("CARGO_PKG_VERSION");
    let refuse = if protocol != PROTOCOL || version != mine {
        Some(format!(
            "agent {name} runs barrage {version} (protocol {protocol}), the coordinator \
             {mine} (protocol {PROTOCOL}): run the same version on both"
        ))
    } else if full {
        Some(format!(
            "the run already has its {} agents; agent {name} is not needed",
            config.agents
        ))
    } else if workers == 0 {
        Some(format!("agent {name} has no workers"))
    } else {
        None
    };
    if let Some(why) = refuse {
        let _ = link.send(&ToAgent::Refused { why: why.clone() }).await;
        link.close().await;
        return if full { Ok(None) } else { Err(why) };
    }
    let mut trips = Vec::with_capacity(5);
    for _ in 0..5 {
        let t0 = unix_ns(SystemTime::now());
        link.send(&ToAgent::Ping { t0_ns: t0 })
            .await
            .map_err(|e| e.to_string())?;
        match link.recv().await.map_err(|e| e.to_string())? {
            FromAgent::Pong { t0_ns, agent_ns } if t0_ns == t0 => trips.push(RoundTrip {
                t0,
                agent: agent_ns,
                t1: unix_ns(SystemTime::now()),
            }),
            other => return Err(format!("expected a pong, got {other:?}")),
        }
    }
    let offset = Offset::estimate(&trips).ok_or("no clock round trip")?;
    Ok(Some(Registered {
        link,
        name,
        workers,
        host,
        offset,
    }))
}

fn unix_ns(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// One agent's connection during the run.
struct AgentTask {
    link: AgentLink,
    index: usize,
    first_worker: usize,
    workers: usize,
    finished: Vec<bool>,
    registry: Arc<Registry>,
    on_loss: LossPolicy,
    events: mpsc::UnboundedSender<WorkerEvent>,
    steer: broadcast::Receiver<Steer>,
    states: Arc<Mutex<Vec<AgentState>>>,
    start: Instant,
    progress: mpsc::UnboundedSender<String>,
}

impl AgentTask {
    async fn run(mut self) {
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        // The agent is quiet until its start (it waits for it): silence counts from then.
        let mut heard = self.start.max(Instant::now());
        let lost = loop {
            let silence = tokio::time::sleep_until((heard + SILENCE).into());
            // Biased, messages first: on a busy machine a message already waiting must
            // count before the silence that it ends.
            tokio::select! {
                biased;
                message = self.link.recv() => match message {
                    Ok(m) => {
                        heard = Instant::now();
                        if let Err(why) = self.handle(m) {
                            break Some(why);
                        }
                    }
                    Err(LinkError::Closed) if self.all_finished() => break None,
                    Err(e) => break Some(format!("connection lost ({e})")),
                },
                steer = self.steer.recv() => {
                    let message = match steer {
                        Ok(Steer::Stop { hard }) => ToAgent::Stop { hard },
                        Ok(Steer::Load { scenario, target }) => ToAgent::Load { scenario, target },
                        Ok(Steer::Bye) | Err(broadcast::error::RecvError::Closed) => {
                            if !self.all_finished() {
                                // The session is over without this agent's last intervals
                                // (a hard stop that outlasted it): stop it for good.
                                let _ = self.link.send(&ToAgent::Stop { hard: true }).await;
                            }
                            let _ = self.link.send(&ToAgent::Bye).await;
                            self.link.close().await;
                            return;
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    };
                    // A failed send shows as a failed receive next.
                    let _ = self.link.send(&message).await;
                }
                _ = heartbeat.tick() => {
                    let _ = self.link.send(&ToAgent::Heartbeat).await;
                }
                _ = silence => {
                    if !self.all_finished() {
                        break Some(format!("no message for {} s", SILENCE.as_secs()));
                    }
                    heard = Instant::now();
                }
            }
        };
        if let Some(why) = lost {
            self.lost(why);
            // Wait for the session's end, so a lost agent that comes back is not talked to.
            loop {
                match self.steer.recv().await {
                    Ok(Steer::Bye) | Err(broadcast::error::RecvError::Closed) => return,
                    _ => continue,
                }
            }
        }
        // The agent closed after its last intervals: wait for the end to say goodbye.
        loop {
            match self.steer.recv().await {
                Ok(Steer::Bye) | Err(broadcast::error::RecvError::Closed) => return,
                _ => continue,
            }
        }
    }

    fn all_finished(&self) -> bool {
        self.finished.iter().all(|&f| f)
    }

    fn name(&self) -> String {
        self.states.lock().map_or_else(
            |_| format!("agent {}", self.index + 1),
            |s| s[self.index].name.clone(),
        )
    }

    /// Forwards one message; `Err` says why the agent can no longer be trusted.
    fn handle(&mut self, message: FromAgent) -> Result<(), String> {
        let global = |w: usize| -> Result<usize, String> {
            if w < self.workers {
                Ok(self.first_worker + w)
            } else {
                Err(format!("it reported worker {w} of {}", self.workers))
            }
        };
        let event = match message {
            FromAgent::Interval {
                worker,
                second,
                last,
                interval,
            } => {
                let at = global(worker)?;
                if self.finished[worker] {
                    return Err(format!("worker {worker} reported after its last interval"));
                }
                let interval = decode_interval(interval, &self.registry)
                    .map_err(|e| format!("worker {worker}: {e}"))?;
                if let Ok(mut s) = self.states.lock() {
                    s[self.index].generator.absorb(worker, &interval, !last);
                }
                if last {
                    self.finished[worker] = true;
                }
                WorkerEvent::Interval {
                    worker: at,
                    second,
                    last,
                    interval: Box::new(interval),
                }
            }
            FromAgent::Failed { worker, message } => {
                let at = global(worker)?;
                self.finished[worker] = true;
                WorkerEvent::Failed {
                    worker: at,
                    message: format!("{}: {message}", self.name()),
                }
            }
            FromAgent::Crashed { worker, message } => WorkerEvent::Crashed {
                worker: global(worker)?,
                message: format!("{}: {message}", self.name()),
            },
            FromAgent::Warning { worker, message } => WorkerEvent::Warning {
                worker: global(worker)?,
                message: format!("{}: {message}", self.name()),
            },
            FromAgent::Heartbeat | FromAgent::Done | FromAgent::Pong { .. } => return Ok(()),
            other => return Err(format!("unexpected message during the run: {other:?}")),
        };
        let _ = self.events.send(event);
        Ok(())
    }

    /// The agent is gone: its unfinished workers are reported finished (the first failed,
    /// under [`LossPolicy::Fail`]) so the session stops waiting for them.
    fn lost(&mut self, why: String) {
        let at_s = self.start.elapsed().as_secs_f64();
        let name = self.name();
        let (index, count) = {
            let s = self
                .states
                .lock()
                .map(|s| (s[self.index].index, s[self.index].count));
            s.unwrap_or((self.index as u64, 0))
        };
        let segment = format!("segment {}/{count}", index + 1);
        let text = match self.on_loss {
            LossPolicy::Fail => format!(
                "agent {name} ({segment}) lost {at_s:.1} s into the run: {why}; \
                 --on-agent-loss fail stops every agent"
            ),
            LossPolicy::Continue => format!(
                "agent {name} ({segment}) lost {at_s:.1} s into the run: {why}; the run went \
                 on without it (--on-agent-loss continue): its share of the load was not \
                 moved to the other agents, so from then on the result covers less load \
                 than planned (degraded)"
            ),
        };
        if let Ok(mut s) = self.states.lock() {
            s[self.index].lost_at_s = Some(at_s);
            s[self.index].warnings.push(text.clone());
        }
        let _ = self.progress.send(text.clone());
        let mut failed = self.on_loss == LossPolicy::Fail;
        for w in 0..self.workers {
            if self.finished[w] {
                continue;
            }
            self.finished[w] = true;
            let worker = self.first_worker + w;
            if failed {
                failed = false;
                let _ = self.events.send(WorkerEvent::Failed {
                    worker,
                    message: text.clone(),
                });
            } else {
                let _ = self.events.send(WorkerEvent::Interval {
                    worker,
                    second: 0,
                    last: true,
                    interval: Box::new(Interval::empty(&self.registry)),
                });
            }
        }
    }
}

/// The agents as one run, for the session (see the module comment).
pub struct RemoteRun {
    workers: usize,
    start: Instant,
    start_wall: SystemTime,
    events: mpsc::UnboundedReceiver<WorkerEvent>,
    steer: broadcast::Sender<Steer>,
    states: Arc<Mutex<Vec<AgentState>>>,
    thread: Option<JoinHandle<()>>,
}

impl RemoteRun {
    /// The wall-clock start every agent was told (in the coordinator's clock).
    pub fn start_wall(&self) -> SystemTime {
        self.start_wall
    }

    /// The agents, in segment order: name, workers, clock offset (ms).
    pub fn agents(&self) -> Vec<(String, usize, f64)> {
        self.states.lock().map_or_else(
            |_| Vec::new(),
            |s| {
                s.iter()
                    .map(|a| (a.name.clone(), a.workers, a.offset.offset_ms()))
                    .collect()
            },
        )
    }
}

impl RunSource for RemoteRun {
    fn workers(&self) -> usize {
        self.workers
    }

    fn start(&self) -> Instant {
        self.start
    }

    fn events(&mut self) -> &mut mpsc::UnboundedReceiver<WorkerEvent> {
        &mut self.events
    }

    fn graceful_stop(&self) {
        let _ = self.steer.send(Steer::Stop { hard: false });
    }

    fn hard_stop(&self) {
        let _ = self.steer.send(Steer::Stop { hard: true });
    }

    fn change_load(&self, scenario: usize, target: f64) -> bool {
        self.steer.send(Steer::Load { scenario, target }).is_ok()
    }

    fn join(mut self: Box<Self>) -> Vec<String> {
        let _ = self.steer.send(Steer::Bye);
        if let Some(thread) = self.thread.take() {
            // The goodbyes are a few small messages; a thread that does not end is left.
            let deadline = Instant::now() + Duration::from_secs(5);
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Vec::new()
    }

    fn report(&self) -> SourceReport {
        let Ok(states) = self.states.lock() else {
            return SourceReport::default();
        };
        SourceReport {
            warnings: states.iter().flat_map(|a| a.warnings.clone()).collect(),
            generators: states
                .iter()
                .map(|a| NamedGenerator {
                    name: a.name.clone(),
                    segment: Some(SegmentMeta {
                        index: a.index + 1,
                        count: a.count,
                    }),
                    host: a.host.clone(),
                    started_at: a.started_at.clone(),
                    workers: a.workers as u32,
                    warnings: a.warnings.clone(),
                    clock_offset_ms: Some(a.offset.offset_ms()),
                    lost_at_s: a.lost_at_s,
                    generator: a.generator.stats(),
                })
                .collect(),
        }
    }
}
