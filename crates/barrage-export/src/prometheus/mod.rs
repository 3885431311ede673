//! `--prometheus-listen`: a sink that serves the run's figures at `/metrics` for Prometheus
//! to scrape.
//!
//! The listener is bound before the run ([`PrometheusSink::start`]), so a taken port fails
//! the command instead of the export quietly missing. The server runs on a thread of its
//! own with a one-thread tokio runtime: a scrape never runs on the session's threads, let
//! alone a worker's. Each closed second replaces the page's figures (an `Arc` swap under a
//! lock held for that swap only); a scrape renders whatever is newest.
//!
//! The end: the final figures arrive after the last second, and a scraper that polls every
//! 15 s would never see them if the server stopped at once. So when someone scraped during
//! the run, [`Sink::finished`] waits until a scrape has read the final figures, or
//! [`FINAL_WAIT`] at most, and no longer than one and a half times the scrape period seen
//! during the run (plus half a second); with no scraper, or when the run was interrupted
//! (Ctrl-C, before or during the wait), it does not wait.

mod access;
mod render;

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use barrage_session::{Finished, Live, Sink, SinkError};

use crate::figures::Figures;
use crate::ExportError;

pub(crate) use access::check_listen;

/// How long the end waits for a scrape to read the final figures: Prometheus' usual
/// scrape interval.
pub(crate) const FINAL_WAIT: Duration = Duration::from_secs(15);

/// After the stop, how long a scrape being answered may take to finish before the server
/// is dropped anyway (a scraper's keep-alive connection must not hold the exit).
const STOP_GRACE: Duration = Duration::from_secs(2);

/// The text format's content type (Prometheus 0.0.4).
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the server thread and the sink share.
struct Shared {
    run_id: String,
    token: Option<String>,
    page: Mutex<PageState>,
    /// Signalled when a scrape has read the final figures.
    read_final: Condvar,
}

#[derive(Default)]
struct PageState {
    /// The newest figures; `None` before the first second closed (the page is empty).
    figures: Option<Arc<Figures>>,
    /// `figures` are the run's final ones.
    is_final: bool,
    /// Scrapes served so far, and those that read the final figures.
    scrapes: u64,
    final_scrapes: u64,
    /// When the first and the latest scrape came: the scraper's period.
    first_scrape: Option<Instant>,
    last_scrape: Option<Instant>,
}

impl PageState {
    /// The mean time between scrapes, once there were two.
    fn scrape_period(&self) -> Option<Duration> {
        let (first, last) = (self.first_scrape?, self.last_scrape?);
        let gaps = u32::try_from(self.scrapes.checked_sub(1)?).ok()?;
        (gaps > 0).then(|| last.duration_since(first) / gaps)
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, PageState> {
        // A panic while holding the lock leaves only counters and an Arc behind: still
        // consistent enough to serve.
        self.page.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The sink; dropping it stops the server.
pub(crate) struct PrometheusSink {
    shared: Arc<Shared>,
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl PrometheusSink {
    /// Binds `addr` and starts serving; returns the sink and the URL it serves.
    pub(crate) fn start(
        addr: &str,
        token: Option<String>,
        run_id: &str,
    ) -> Result<PrometheusSink, ExportError> {
        let fail = |reason: String| ExportError::Listen {
            addr: addr.to_owned(),
            reason,
        };
        let socket = check_listen(addr, token.as_deref())?;
        let listener = TcpListener::bind(socket).map_err(|e| {
            fail(match e.kind() {
                std::io::ErrorKind::AddrInUse => format!(
                    "port {} is taken by another program; give another port, or 0 for any \
                     free one",
                    socket.port()
                ),
                _ => format!("cannot listen there: {e}"),
            })
        })?;
        let bound = listener
            .local_addr()
            .map_err(|e| fail(format!("cannot read the bound address: {e}")))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| fail(format!("cannot listen there: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| fail(format!("cannot start its server: {e}")))?;
        let shared = Arc::new(Shared {
            run_id: run_id.to_owned(),
            token,
            page: Mutex::new(PageState::default()),
            read_final: Condvar::new(),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let app = axum::Router::new()
            .route("/metrics", axum::routing::get(metrics))
            .with_state(shared.clone());
        let thread = std::thread::Builder::new()
            .name("barrage-prometheus".into())
            .spawn(move || runtime.block_on(serve(listener, app, stopped)))
            .map_err(|e| fail(format!("cannot start its thread: {e}")))?;
        Ok(PrometheusSink {
            shared,
            url: format!("http://{bound}/metrics"),
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT/metrics`, with the port actually bound.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    fn publish(&self, figures: Figures, is_final: bool) {
        let mut page = self.shared.lock();
        page.figures = Some(Arc::new(figures));
        page.is_final = is_final;
    }
}

/// Serves until `stopped`, then lets a scrape being answered finish (up to
/// [`STOP_GRACE`]).
async fn serve(
    listener: TcpListener,
    app: axum::Router,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let (graceful, grace_started) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stopped.await;
        let _ = graceful.send(());
    });
    tokio::select! {
        _ = server => {}
        _ = async {
            let _ = grace_started.await;
            tokio::time::sleep(STOP_GRACE).await;
        } => {}
    }
}

/// `GET /metrics`.
async fn metrics(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some((status, message)) = access::refusal(
        shared.token.as_deref(),
        text(header::HOST),
        text(header::AUTHORIZATION),
    ) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
        let mut r = (status, message).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        return r;
    }
    let (figures, is_final) = {
        let mut page = shared.lock();
        page.scrapes += 1;
        let now = Instant::now();
        page.first_scrape.get_or_insert(now);
        page.last_scrape = Some(now);
        (page.figures.clone(), page.is_final)
    };
    let body = figures.map_or_else(String::new, |f| render::render(f, &shared.run_id));
    if is_final {
        shared.lock().final_scrapes += 1;
        shared.read_final.notify_all();
    }
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response()
}

impl Sink for PrometheusSink {
    fn name(&self) -> &str {
        "Prometheus metrics"
    }

    fn second(&mut self, live: &Live) {
        self.publish(Figures::new(&live.snapshot, live.buckets.as_deref()), false);
    }

    fn finished(&mut self, end: &Finished) -> Result<Vec<String>, SinkError> {
        self.publish(Figures::new(&end.snapshot, end.buckets.as_deref()), true);
        Ok(self
            .wait_for_final_scrape(end.result.run.interrupted, &end.hurry, FINAL_WAIT)
            .into_iter()
            .collect())
    }
}

impl PrometheusSink {
    /// After the final figures are published: waits until a scrape has read them, or
    /// `longest`, or one and a half scrape periods (plus half a second) when the period is
    /// known; not at all when nobody scraped during the run or the run was interrupted
    /// (Ctrl-C means "stop now", also when it comes during the wait: `hurry`). Returns a
    /// line for the user if it gave up.
    fn wait_for_final_scrape(
        &self,
        interrupted: bool,
        hurry: &AtomicBool,
        longest: Duration,
    ) -> Option<String> {
        let mut page = self.shared.lock();
        if interrupted || page.scrapes == 0 {
            return None;
        }
        let longest = page.scrape_period().map_or(longest, |p| {
            longest.min(p.mul_f64(1.5) + Duration::from_millis(500))
        });
        let deadline = Instant::now() + longest;
        while page.final_scrapes == 0 {
            if hurry.load(Ordering::Relaxed) {
                return None;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Some(format!(
                    "Prometheus metrics: no scrape read the final figures within {:.1} s; {} \
                     stops now",
                    longest.as_secs_f64(),
                    self.url
                ));
            }
            // In slices, so a Ctrl-C (`hurry`) is heard within a tenth of a second.
            page = self
                .shared
                .read_final
                .wait_timeout(page, left.min(Duration::from_millis(100)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        None
    }
}

impl Drop for PrometheusSink {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests;
