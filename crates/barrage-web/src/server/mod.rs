//! The web UI's server: the page, the View of the run so far and its server-sent events,
//! the buttons as [`Control`] calls, the downloads, and Locust's own paths (`/swarm`,
//! `/stop`, `/stats/reset`, `/stats/requests`) so scripts written for Locust keep working.
//!
//! Why a thread and a runtime of its own: the session's control loop runs on the main
//! thread's current-thread runtime and the load on worker threads. A server on either would
//! make the run wait for browsers. Here it only reads the [`LiveView`] (kept by the web sink
//! on the sink's thread) and sends requests: steering through the [`Control`] handle, the
//! start form through a channel to the front end, which compiles and starts the run. A
//! browser that stops reading costs a lagged broadcast receiver, then nothing. Stopping
//! is graceful but bounded: the event streams end after their last event (the `ended`
//! state, so a page without `--autoquit` still sees the end), requests under way finish,
//! and after [`SHUTDOWN_GRACE`] the runtime is dropped with whatever is still open, so no
//! browser holds the process open.
//!
//! Security (see [`security`]): loopback by default, a bearer token (or the cookie set from
//! `?token=`) for every request when one is given, and requests from other sites refused.

mod api;
mod downloads;
mod error;
mod locust;
mod page;
pub mod security;

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use axum::routing::{get, post};
use axum::Router;
use barrage_session::Control;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot, Notify};

use crate::live::LiveView;

/// How long a stopping server waits for open requests to finish before dropping them.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Where and how the server listens.
#[derive(Clone, Debug)]
pub struct Config {
    /// Port 0 picks a free port ([`Server::addr`] says which).
    pub addr: SocketAddr,
    /// With a token, every request must carry it (see [`security`]).
    pub token: Option<String>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the web server's thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// The start form's values (`POST /api/start` as JSON, Locust's `POST /swarm` as a form):
/// each one given replaces the scenario file's and the flags'.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct StartForm {
    pub host: Option<String>,
    pub users: Option<u64>,
    pub spawn_rate: Option<f64>,
    pub rate: Option<f64>,
    pub run_time_s: Option<f64>,
    /// A run time as the scenario file writes it (`30s`, `2m`): Locust's form field.
    pub run_time: Option<String>,
}

/// A start asked from the page: the front end compiles the scenario with the form's values
/// and answers `Ok` (the run starts) or the diagnostics that stopped it (a bad host).
pub struct StartRequest {
    pub form: StartForm,
    pub reply: oneshot::Sender<Result<(), String>>,
}

/// What the handlers share.
pub(crate) struct Shared {
    live: LiveView,
    control: Mutex<Option<Control>>,
    starts: mpsc::UnboundedSender<StartRequest>,
    /// A start was accepted (or is being tried): a second one is refused.
    started: AtomicBool,
    quit: Notify,
    security: security::Security,
    /// The last result of the run so far, by the run's closed second it was built at:
    /// building one costs the session's loop the whole result, so the distribution and
    /// the downloads asked within one second share it.
    so_far: tokio::sync::Mutex<Option<(u64, Arc<barrage_metrics::ResultDoc>)>>,
}

impl Shared {
    pub(crate) fn control(&self) -> Option<Control> {
        self.control
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// The running server (see the module comment).
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on `config.addr` and serves `live` from a thread of its own. Returns the
    /// server and the start requests the page sends.
    pub fn start(
        config: Config,
        live: LiveView,
    ) -> Result<(Server, mpsc::UnboundedReceiver<StartRequest>), ServerError> {
        let bind = |source| ServerError::Bind {
            addr: config.addr,
            source,
        };
        let listener = std::net::TcpListener::bind(config.addr).map_err(bind)?;
        listener.set_nonblocking(true).map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        let (starts, inbox) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            live,
            control: Mutex::new(None),
            starts,
            started: AtomicBool::new(false),
            quit: Notify::new(),
            security: security::Security::new(config.token, config.addr.ip().is_loopback()),
            so_far: tokio::sync::Mutex::new(None),
        });
        let (shutdown, stopped) = oneshot::channel::<()>();
        let app = router(shared.clone());
        let thread = std::thread::Builder::new()
            .name("barrage-web".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        eprintln!("error: the web UI cannot start its runtime: {e}");
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("error: the web UI cannot listen: {e}");
                            return;
                        }
                    };
                    let (asked, grace) = oneshot::channel::<()>();
                    let served = axum::serve(listener, app).with_graceful_shutdown(async move {
                        let _ = stopped.await;
                        let _ = asked.send(());
                    });
                    tokio::select! {
                        served = served => {
                            if let Err(e) = served {
                                eprintln!("error: the web UI stopped: {e}");
                            }
                        }
                        _ = async {
                            match grace.await {
                                Ok(()) => tokio::time::sleep(SHUTDOWN_GRACE).await,
                                Err(_) => std::future::pending().await,
                            }
                        } => {}
                    }
                });
                // Dropping the runtime here ends whatever connection outlived the grace.
            })
            .map_err(ServerError::Thread)?;
        Ok((
            Server {
                addr,
                shared,
                shutdown: Some(shutdown),
                thread: Some(thread),
            },
            inbox,
        ))
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's address.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The run has started: the buttons steer it through `control`.
    pub fn set_control(&self, control: Control) {
        *self
            .shared
            .control
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(control);
    }

    /// Marks the run as started without the form (`--autostart`): the form is refused.
    pub fn mark_started(&self) {
        self.shared
            .started
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Resolves when the page asks to quit (`POST /api/quit`), even if it asked earlier.
    pub async fn quit_asked(&self) {
        self.shared.quit.notified().await
    }

    /// Stops serving and ends every connection.
    pub fn stop(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        // The event streams end after their last event, or the graceful shutdown would
        // wait the whole grace for them.
        self.shared.live.close();
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut();
    }
}

/// Every route, behind the security guard.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/assets/{name}", get(page::asset))
        .route("/favicon.ico", get(page::favicon))
        .route("/api/view", get(api::view_json))
        .route("/api/events", get(api::events))
        .route("/api/start", post(api::start))
        .route("/api/stop", post(api::stop))
        .route("/api/reset", post(api::reset))
        .route("/api/load", post(api::load))
        .route("/api/quit", post(api::quit))
        .route("/api/distribution", get(api::distribution))
        .route("/download/{file}", get(downloads::download))
        .route("/swarm", post(locust::swarm))
        .route("/stop", get(locust::stop))
        .route("/stats/reset", get(locust::reset))
        .route("/stats/requests", get(locust::requests))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            security::guard,
        ))
        .with_state(shared)
}
