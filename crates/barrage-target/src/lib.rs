//! barrage-target, the built-in demo target: a small items API that `barrage demo` and the integration tests
//! send load to, so that trying barrage needs nothing but the binary.
//!
//! It serves the same API as the FastAPI example in `examples/fastapi-items/app.py`
//! (`GET /`, `GET /items/{name}`, `POST /items/`, `POST /login`), with the same answers and
//! the same error shapes, and counts the requests it serves per route so that a test can
//! check barrage's counts against the server's own (`GET /__barrage/counts`).
//!
//! Why its own OS thread and runtime: the target must not share the load generator's workers.
//! If it ran on them, its work would show up as generator load, and a stalled worker would
//! stall the target too. Counting takes an atomic per route on every request: that is the
//! target's cost, not the generator's, and it keeps the counts exact.
//!
//! Beside it, [`hostile`]: a target that misbehaves in one chosen way per listener (resets,
//! stalls, malformed or endless answers), counting what it saw, for the fault-matrix and
//! soak tests (docs/RELIABILITY.md).
//!
//! Must not: listen anywhere but where it is told (`start` binds 127.0.0.1), or outlive its
//! [`DemoTarget`] handle (dropping the handle stops the server and joins its thread).

mod api;
pub mod hostile;
mod slots;

pub use hostile::{Fault, HostileTarget, Seen};

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use api::State;

/// The path that reports the counts. It is not counted itself.
pub const COUNTS_PATH: &str = "/__barrage/counts";

/// How the demo target behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DemoOptions {
    /// Shortest time spent on a request before answering.
    pub min_delay: Duration,
    /// Longest time spent on a request before answering; the delay of each request is drawn
    /// uniformly from `min_delay..=max_delay` (`min_delay` when `max_delay` is not larger).
    pub max_delay: Duration,
    /// Stop answering everything for a while at a fixed period: ground truth for latency
    /// measurement (coordinated omission).
    pub stall: Option<Stall>,
    /// Serve the items API as a service of known capacity instead of with the delays above
    /// (see [`ServiceCapacity`]).
    pub capacity: Option<ServiceCapacity>,
}

/// A service of known capacity: at most `slots` requests in service at once, each taking
/// exactly `service`, the rest waiting in line in arrival order: capacity `slots / service`
/// requests per second. Completion times are computed on the clock (each request is due
/// `service` after the later of its arrival and its slot coming free) and slept to, so
/// timer jitter adds to a request's latency but never lowers the throughput: ground truth
/// for `barrage capacity` (the D/D/c and M/D/c queues of `barrage_capacity::queue`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceCapacity {
    pub slots: u32,
    pub service: Duration,
}

/// The target answers nothing during the first `length` of every `every`, counted on the
/// wall clock from the Unix epoch (so a separate process can know the phase); a request
/// that arrives during a stall is answered when the stall ends. Over a whole number of
/// periods, a constant stream of requests sees exactly `length / every` of them wait, each a
/// uniform share of the stall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stall {
    pub every: Duration,
    pub length: Duration,
}

impl Stall {
    /// How long a request arriving at `now` (since the Unix epoch) waits for the stall to end.
    pub fn wait_at(&self, since_epoch: Duration) -> Duration {
        let every = self.every.as_nanos().max(1);
        let phase = Duration::from_nanos((since_epoch.as_nanos() % every) as u64);
        self.length.saturating_sub(phase)
    }
}

impl Default for DemoOptions {
    /// A few milliseconds per request, like a small service reading a warm database, so that
    /// the demo's latency figures have something to show.
    fn default() -> Self {
        DemoOptions {
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            stall: None,
            capacity: None,
        }
    }
}

impl DemoOptions {
    /// No delay at all: for benchmarks of barrage itself.
    pub fn no_delay() -> Self {
        DemoOptions {
            min_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            stall: None,
            capacity: None,
        }
    }

    /// The same delay on every items-API request: ground truth for latency tests.
    pub fn fixed(delay: Duration) -> Self {
        DemoOptions {
            min_delay: delay,
            max_delay: delay,
            stall: None,
            capacity: None,
        }
    }
}

/// A running demo target. Dropping it (or calling [`DemoTarget::stop`]) stops the server,
/// closes its connections and joins its thread.
pub struct DemoTarget {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl DemoTarget {
    /// Starts the target on a free port of 127.0.0.1.
    pub fn start(opts: DemoOptions) -> std::io::Result<DemoTarget> {
        DemoTarget::start_on(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0).into(), opts)
    }

    /// Starts the target on `addr`. Binding happens before this returns, so a taken port is
    /// an error here, and the target accepts connections as soon as it returns.
    pub fn start_on(addr: SocketAddr, opts: DemoOptions) -> std::io::Result<DemoTarget> {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;

        // The runtime is built here, and the listener registered with it here, so that every
        // error reaches the caller; the runtime then moves to the target's own thread.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };

        let state = Arc::new(State::new(opts));
        let (shutdown, shutdown_rx) = oneshot::channel();
        let serve_state = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("barrage-demo-target".into())
            .spawn(move || {
                runtime.block_on(serve(listener, serve_state, shutdown_rx));
                // Dropping the runtime here cancels the connection tasks still open.
            })?;

        Ok(DemoTarget {
            addr,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The address the target listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of the target, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests served so far per route key (`"GET /"`, `"GET /items/{name}"`,
    /// `"POST /items/"`, `"POST /login"`), every route listed, zero or not. A request is
    /// counted just before its response is sent, whatever its status, once it matched a route;
    /// requests that matched none (404, 405) and the counts path itself are not counted.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.state.counts()
    }

    /// How long each delayed request really waited in the target (ns, arrival order): on
    /// a shared machine a requested sleep sometimes takes longer, and a latency test must hold
    /// barrage to what the server did, not to what it was asked to do.
    pub fn delays_ns(&self) -> Vec<u64> {
        self.state.delays_ns()
    }

    /// Stops the server and waits for its thread to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // An error means the server loop has already ended; joining is all that is left.
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            // The server thread has nothing that panics by design; if it did, there is
            // nothing left to clean up, and panicking in drop would abort.
            let _ = thread.join();
        }
    }
}

impl Drop for DemoTarget {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for DemoTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoTarget")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    mut shutdown: oneshot::Receiver<()>,
) {
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(_) => {
                    // Out of file descriptors or a connection reset before accept: back off
                    // briefly rather than spin, and keep serving the connections we have.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        // Small JSON answers: Nagle's algorithm would only add delay.
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = service_fn(move |req| api::handle(Arc::clone(&state), req));
            // A connection error (the client went away mid-request) ends that connection only.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    /// One keep-alive HTTP/1.1 connection, spoken by hand so the test depends on nothing but
    /// the target.
    struct Conn {
        reader: BufReader<TcpStream>,
    }

    impl Conn {
        fn open(target: &DemoTarget) -> Conn {
            let stream = TcpStream::connect(target.addr()).expect("connect to the demo target");
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            Conn {
                reader: BufReader::new(stream),
            }
        }

        fn send(
            &mut self,
            method: &str,
            path: &str,
            content_type: &str,
            body: &str,
        ) -> (u16, Value) {
            let mut request = format!("{method} {path} HTTP/1.1\r\nhost: test\r\n");
            if !content_type.is_empty() {
                request.push_str(&format!("content-type: {content_type}\r\n"));
            }
            request.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
            self.reader.get_mut().write_all(request.as_bytes()).unwrap();

            let mut status_line = String::new();
            self.reader.read_line(&mut status_line).unwrap();
            let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
            let mut length = 0;
            loop {
                let mut line = String::new();
                self.reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            self.reader.read_exact(&mut body).unwrap();
            (status, serde_json::from_slice(&body).unwrap())
        }
    }

    #[test]
    fn serves_the_items_api_and_counts_it() {
        let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
        assert!(target.url().starts_with("http://127.0.0.1:"));
        // Everything on one connection: keep-alive must hold across all of it.
        let mut conn = Conn::open(&target);

        let (status, body) = conn.send("GET", "/", "", "");
        assert_eq!((status, body), (200, json!({ "message": "Hello World" })));

        let (status, body) = conn.send("GET", "/items/Item%2042", "", "");
        assert_eq!(status, 200);
        assert_eq!(body["name"], "Item 42");
        assert_eq!(body["price"], 68.0);

        let item = r#"{"name": "Locust Item 1234", "price": 12.5}"#;
        let (status, first) = conn.send("POST", "/items/", "application/json", item);
        assert_eq!(status, 201);
        assert_eq!(
            first,
            json!({ "id": 1, "name": "Locust Item 1234", "price": 12.5 })
        );
        let (status, second) = conn.send("POST", "/items/", "application/json", item);
        assert_eq!((status, second["id"].clone()), (201, json!(2)));

        let (status, body) = conn.send("POST", "/items/", "application/json", r#"{"name": "x"}"#);
        assert_eq!(status, 422);
        assert_eq!(body["detail"][0]["loc"], json!(["body", "price"]));
        assert_eq!(body["detail"][0]["type"], "missing");
        let (status, body) = conn.send("POST", "/items/", "application/json", "{not json");
        assert_eq!(status, 422);
        assert_eq!(body["detail"][0]["type"], "json_invalid");

        let credentials = r#"{"username": "testuser", "password": "secret"}"#;
        let (status, body) = conn.send("POST", "/login", "application/json", credentials);
        assert_eq!(status, 200);
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["access_token"].as_str().unwrap().len(), 32);
        let form = "username=test+user&password=s%26cret";
        let (status, body) = conn.send("POST", "/login", "application/x-www-form-urlencoded", form);
        assert_eq!((status, body["token_type"].clone()), (200, json!("bearer")));
        let (status, _) = conn.send("POST", "/login", "application/json", r#"{"username": "a"}"#);
        assert_eq!(status, 422);

        assert_eq!(conn.send("GET", "/nowhere", "", "").0, 404);
        assert_eq!(conn.send("GET", "/items/a%2Fb", "", "").0, 404);
        assert_eq!(conn.send("DELETE", "/", "", "").0, 405);
        assert_eq!(conn.send("GET", "/login", "", "").0, 405);

        let expected = BTreeMap::from([
            ("GET /".to_owned(), 1),
            ("GET /items/{name}".to_owned(), 1),
            ("POST /items/".to_owned(), 4),
            ("POST /login".to_owned(), 3),
        ]);
        assert_eq!(target.counts(), expected);
        // The counts path reports the same and is not counted itself.
        let (status, reported) = conn.send("GET", COUNTS_PATH, "", "");
        assert_eq!((status, reported), (200, json!(expected)));
        assert_eq!(conn.send("GET", COUNTS_PATH, "", "").1, json!(expected));
    }

    #[test]
    fn counts_stay_exact_under_concurrent_connections() {
        let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
        let (connections, requests) = (16, 50);
        std::thread::scope(|scope| {
            for _ in 0..connections {
                scope.spawn(|| {
                    let mut conn = Conn::open(&target);
                    for i in 0..requests {
                        assert_eq!(conn.send("GET", &format!("/items/{i}"), "", "").0, 200);
                    }
                });
            }
        });
        assert_eq!(target.counts()["GET /items/{name}"], connections * requests);
    }

    #[test]
    fn answers_after_the_configured_delay() {
        let delay = Duration::from_millis(30);
        let opts = DemoOptions::fixed(delay);
        let target = DemoTarget::start(opts).unwrap();
        let mut conn = Conn::open(&target);
        let started = Instant::now();
        assert_eq!(conn.send("GET", "/", "", "").0, 200);
        assert!(
            started.elapsed() >= delay,
            "answered in {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn stop_closes_the_port_and_start_on_reports_a_taken_one() {
        let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
        let addr = target.addr();
        let taken = DemoTarget::start_on(addr, DemoOptions::no_delay());
        assert_eq!(taken.unwrap_err().kind(), std::io::ErrorKind::AddrInUse);
        // An open keep-alive connection must not keep the server (or stop()) waiting.
        let mut conn = Conn::open(&target);
        assert_eq!(conn.send("GET", "/", "", "").0, 200);
        target.stop();
        assert!(
            TcpStream::connect(addr).is_err(),
            "still listening on {addr}"
        );
    }
}
