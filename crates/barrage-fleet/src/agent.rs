//! The agent's side: connect, register, receive what to run, and then serve the run:
//! forward every worker event, apply the coordinator's steering, and stop the load when
//! the coordinator is gone.
//!
//! The agent never runs load the coordinator cannot see: when its connection closes or
//! [`SILENCE`] passes without a message (the coordinator heartbeats every second), it
//! stops its workers at once (a hard stop) and ends with [`AgentError::CoordinatorLost`].
//! Compiling the plan and starting the engine are the front end's (it knows the flags);
//! this module only talks.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use barrage_engine::segment::Segment;
use barrage_engine::{Run, WorkerEvent};
use barrage_metrics::wire::encode_interval;
use barrage_metrics::HostInfo;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::link::{Io, Link, LinkError};
use crate::protocol::{FromAgent, Shape, ToAgent, HEARTBEAT, PROTOCOL, SILENCE};

type CoordinatorLink = Link<ToAgent, FromAgent>;

/// How an agent reaches its coordinator.
pub struct AgentConfig {
    /// `HOST:PORT`.
    pub coordinator: String,
    pub token: Option<String>,
    pub name: String,
    pub workers: usize,
    /// TLS to the coordinator, trusting these roots.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// Why an agent stopped short.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot connect to the coordinator at {addr}: {why}")]
    Connect { addr: String, why: String },
    #[error(
        "the coordinator refused the token (HTTP 401): give the coordinator's --token (or \
         BARRAGE_TOKEN) to the agent"
    )]
    Token,
    #[error("the coordinator refused this agent: {0}")]
    Refused(String),
    #[error("lost the coordinator ({0}); the load was stopped")]
    CoordinatorLost(String),
    #[error("the coordinator broke the protocol: {0}")]
    Protocol(String),
}

/// What the coordinator asked this agent to run.
pub struct Assignment {
    /// The front end's description of the run (scenario, data files, flags).
    pub spec: serde_json::Value,
    /// This agent's share.
    pub segment: Segment,
}

/// A registered agent, between its setup and its run.
pub struct AgentLink {
    link: CoordinatorLink,
}

/// Connects, registers (answering the clock's round trips) and waits for the setup, which
/// comes once the run has all its agents.
pub async fn connect(config: &AgentConfig) -> Result<(AgentLink, Assignment), AgentError> {
    let addr = config.coordinator.clone();
    let connect_error = |why: String| AgentError::Connect {
        addr: addr.clone(),
        why,
    };
    let tcp = tokio::net::TcpStream::connect(&addr)
        .await
        .map_err(|e| connect_error(e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let (io, scheme): (Box<dyn Io>, &str) = match &config.tls {
        Some(tls) => {
            let name = rustls::pki_types::ServerName::try_from(host.to_owned())
                .map_err(|e| connect_error(format!("`{host}` is not a TLS server name: {e}")))?;
            let stream = tokio_rustls::TlsConnector::from(tls.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| connect_error(format!("TLS handshake failed: {e}")))?;
            (Box::new(stream), "wss")
        }
        None => (Box::new(tcp), "ws"),
    };
    let mut request = format!("{scheme}://{addr}/agent")
        .into_client_request()
        .map_err(|e| connect_error(e.to_string()))?;
    if let Some(token) = &config.token {
        let value = http::HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| connect_error("the token has characters a header cannot carry".into()))?;
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, value);
    }
    let (ws, _) = tokio_tungstenite::client_async(request, io)
        .await
        .map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(r)
                if r.status() == http::StatusCode::UNAUTHORIZED =>
            {
                AgentError::Token
            }
            e => connect_error(format!("WebSocket handshake failed: {e}")),
        })?;
    let mut link = CoordinatorLink::new(ws);
    link.send(&FromAgent::Hello {
        name: config.name.clone(),
        workers: config.workers.max(1),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        protocol: PROTOCOL,
        host: HostInfo::current(),
    })
    .await
    .map_err(lost)?;
    loop {
        match link.recv().await.map_err(lost)? {
            ToAgent::Ping { t0_ns } => {
                let agent_ns = unix_ns(SystemTime::now());
                link.send(&FromAgent::Pong { t0_ns, agent_ns })
                    .await
                    .map_err(lost)?;
            }
            ToAgent::Heartbeat => {}
            ToAgent::Setup { spec, index, count } => {
                let segment = Segment::new(index, count)
                    .map_err(|e| AgentError::Protocol(format!("an impossible segment: {e}")))?;
                return Ok((AgentLink { link }, Assignment { spec, segment }));
            }
            ToAgent::Refused { why } => return Err(AgentError::Refused(why)),
            other => {
                return Err(AgentError::Protocol(format!(
                    "unexpected before the setup: {other:?}"
                )))
            }
        }
    }
}

fn lost(e: LinkError) -> AgentError {
    AgentError::CoordinatorLost(e.to_string())
}

fn unix_ns(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// How the agent's part of the run ended.
#[derive(Debug)]
pub struct Served {
    /// Worker threads that panicked.
    pub panicked: Vec<String>,
}

impl AgentLink {
    /// Tells the coordinator this agent cannot run the assignment.
    pub async fn refuse(mut self, why: String) {
        let _ = self.link.send(&FromAgent::Refuse { why }).await;
        self.link.close().await;
    }

    /// Says the plan is compiled and waits for the start: the wall-clock time (this
    /// machine's clock) at which to start the load.
    pub async fn ready(&mut self, shape: Shape) -> Result<SystemTime, AgentError> {
        self.link
            .send(&FromAgent::Ready { shape })
            .await
            .map_err(lost)?;
        loop {
            match self.link.recv().await.map_err(lost)? {
                ToAgent::Start { at_ns } => {
                    return Ok(UNIX_EPOCH + Duration::from_nanos(at_ns));
                }
                ToAgent::Ping { t0_ns } => {
                    let agent_ns = unix_ns(SystemTime::now());
                    let _ = self.link.send(&FromAgent::Pong { t0_ns, agent_ns }).await;
                }
                ToAgent::Heartbeat => {}
                ToAgent::Refused { why } => return Err(AgentError::Refused(why)),
                ToAgent::Bye => return Err(AgentError::Refused("the run was called off".into())),
                other => {
                    return Err(AgentError::Protocol(format!(
                        "unexpected before the start: {other:?}"
                    )))
                }
            }
        }
    }

    /// Serves a started run to its end: forwards every worker event, applies steering,
    /// heartbeats. Returns once every worker sent its last interval and the coordinator
    /// said goodbye (or closed); with [`AgentError::CoordinatorLost`] after stopping the
    /// load when the coordinator went away.
    pub async fn serve(mut self, mut run: Run) -> Result<Served, AgentError> {
        let workers = run.workers;
        let mut finished = 0usize;
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        let mut heard = Instant::now();
        let mut lost_why: Option<String> = None;
        let mut bye = false;
        while finished < workers {
            let silence = tokio::time::sleep_until((heard + SILENCE).into());
            // Biased, in this order: the workers' events, then the coordinator's messages
            // (one already waiting must count before the silence it ends), then the timers.
            tokio::select! {
                biased;
                event = run.events.recv() => {
                    let Some(event) = event else { break };
                    let message = match event {
                        WorkerEvent::Interval { worker, second, last, interval } => {
                            if last {
                                finished += 1;
                            }
                            FromAgent::Interval {
                                worker,
                                second,
                                last,
                                interval: encode_interval(&interval),
                            }
                        }
                        WorkerEvent::Failed { worker, message } => {
                            finished += 1;
                            FromAgent::Failed { worker, message }
                        }
                        WorkerEvent::Crashed { worker, message } => FromAgent::Crashed { worker, message },
                        WorkerEvent::Warning { worker, message } => FromAgent::Warning { worker, message },
                    };
                    if lost_why.is_none() {
                        if let Err(e) = self.link.send(&message).await {
                            lost_why = Some(e.to_string());
                            run.hard_stop();
                        }
                    }
                }
                // After the goodbye the coordinator may close: nothing more to hear.
                message = self.link.recv(), if lost_why.is_none() && !bye => match message {
                    Ok(m) => {
                        heard = Instant::now();
                        match m {
                            ToAgent::Stop { hard: true } => run.hard_stop(),
                            ToAgent::Stop { hard: false } => run.graceful_stop(),
                            ToAgent::Load { scenario, target } => {
                                run.change_load(scenario, target);
                            }
                            ToAgent::Bye => {
                                // The coordinator is done with this run: nothing more is
                                // listened to, so stop what may still run.
                                bye = true;
                                run.hard_stop();
                            }
                            ToAgent::Heartbeat | ToAgent::Ping { .. } => {}
                            other => {
                                lost_why = Some(format!("unexpected during the run: {other:?}"));
                                run.hard_stop();
                            }
                        }
                    }
                    Err(e) => {
                        lost_why = Some(e.to_string());
                        run.hard_stop();
                    }
                },
                _ = heartbeat.tick(), if lost_why.is_none() => {
                    let _ = self.link.send(&FromAgent::Heartbeat).await;
                }
                _ = silence, if lost_why.is_none() && !bye => {
                    lost_why = Some(format!("no message for {} s", SILENCE.as_secs()));
                    run.hard_stop();
                }
            }
        }
        let panicked = run.join();
        if let Some(why) = lost_why {
            return Err(AgentError::CoordinatorLost(why));
        }
        let _ = self.link.send(&FromAgent::Done).await;
        // Wait for the goodbye, so the coordinator's last steering is not cut off; a
        // coordinator that closes instead is as good.
        if !bye {
            let _ = tokio::time::timeout(Duration::from_secs(30), async {
                loop {
                    match self.link.recv().await {
                        Ok(ToAgent::Bye) | Err(_) => return,
                        Ok(_) => continue,
                    }
                }
            })
            .await;
        }
        self.link.close().await;
        Ok(Served { panicked })
    }
}
