//! The hostile target: a loopback server that misbehaves in one chosen way ([`Fault`]), for
//! proving that barrage survives servers that break HTTP, stall, reset or flood, and that it
//! counts what happened honestly. One behaviour per listener, so a test of one fault shares
//! nothing with another, and every listener counts what it saw ([`Seen`]): connections
//! accepted, requests received whole, answers written whole, and when each request arrived.
//!
//! Why plain threads and blocking sockets, unlike the demo target's tokio server: a peer that
//! misbehaves at the byte level (a head dribbled a byte a second, a reset in the middle of a
//! body, an answer written before the request) reads best as straight-line code, and hyper
//! would refuse to write most of these answers. One thread per connection is cheap at the
//! few dozen connections a fault test opens.
//!
//! Must not: listen anywhere but 127.0.0.1, or outlive its [`HostileTarget`] handle
//! (dropping it shuts every open connection down and joins every thread). Every loop that
//! writes without end (endless bodies, the dribbled head) stops when the peer goes away or
//! the handle is dropped, and after [`MAX_CONNECTION_LIFE`] in any case.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The longest a connection is served, whatever the fault: a bound on every endless loop.
pub const MAX_CONNECTION_LIFE: Duration = Duration::from_secs(120);

/// A request head longer than this is not read further and the connection is closed: barrage
/// never sends one, and the target must not buffer without bound either.
const MAX_REQUEST_HEAD: usize = 64 * 1024;

/// The body of every successful answer: JSON, so a scenario can save from it (`$.ok`).
const OK_BODY: &str = r#"{"ok":true}"#;

/// One way of misbehaving. Each is what a real server, proxy or wrong port has been seen to
/// do; docs/RELIABILITY.md says what barrage does with each, and which test proves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Nothing listens on the port: every connect is refused.
    Refused,
    /// Accepts the connection and closes it at once, reading nothing.
    CloseAtOnce,
    /// Reads the request, writes the head and a tenth of the announced body, then resets
    /// (RST).
    ResetMidBody,
    /// Reads the request and dribbles the response head at one byte a second, for ever.
    SlowHead,
    /// Reads the request and never answers, holding the connection open.
    NeverAnswer,
    /// Answers every request with 500, 502 or 503 in turn, keeping the connection.
    ServerErrors,
    /// A status line whose code is not a number (`HTTP/1.1 abc OK`).
    MalformedStatus,
    /// Bytes that are not HTTP at all.
    Garbage,
    /// One header line of 100 KB, past barrage's 64 KiB head limit.
    LongHeader,
    /// One header line of 10 MB.
    HugeHeader,
    /// 10,000 short headers (a head of 60 KB: under the size limit, over the count).
    ManyHeaders,
    /// `content-length` larger than the body sent, then the connection is closed.
    ContentLengthLong,
    /// `content-length` smaller than the body sent: the rest is left in the stream.
    ContentLengthShort,
    /// `content-length: -5`.
    ContentLengthNegative,
    /// `content-length: twelve`.
    ContentLengthInvalid,
    /// `transfer-encoding: chunked` with a chunk size that is not hexadecimal.
    BadChunking,
    /// A chunked body that never ends.
    EndlessChunked,
    /// A body without length or chunking (ended by closing) that never ends.
    EndlessBody,
    /// An HTTP/0.9 answer: the body alone, no status line or head, then close.
    Http09,
    /// Writes a whole answer (with `connection: close`) as soon as the connection is
    /// accepted, before the request arrives; then reads the request and closes.
    AnswerBeforeRequest,
    /// Answers each request whole with keep-alive (no `connection: close`), then closes the
    /// connection: every kept-alive connection is gone by the time it would be reused.
    CloseKeptAlive,
    /// The soak test's server: each request drawn at random from a seed, 70 % answered
    /// 200, 10 % 503, 10 % reset in the middle of the body, 10 % stalled for 0.2 to 1.5 s
    /// before a 200.
    Mixed { seed: u64 },
}

impl Fault {
    /// Every fault of the matrix (all but [`Fault::Mixed`], which is a load, not a fault).
    pub const MATRIX: [Fault; 21] = [
        Fault::Refused,
        Fault::CloseAtOnce,
        Fault::ResetMidBody,
        Fault::SlowHead,
        Fault::NeverAnswer,
        Fault::ServerErrors,
        Fault::MalformedStatus,
        Fault::Garbage,
        Fault::LongHeader,
        Fault::HugeHeader,
        Fault::ManyHeaders,
        Fault::ContentLengthLong,
        Fault::ContentLengthShort,
        Fault::ContentLengthNegative,
        Fault::ContentLengthInvalid,
        Fault::BadChunking,
        Fault::EndlessChunked,
        Fault::EndlessBody,
        Fault::Http09,
        Fault::AnswerBeforeRequest,
        Fault::CloseKeptAlive,
    ];

    /// The fault's name in kebab case, as the `hostile` example takes it.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Refused => "refused",
            Fault::CloseAtOnce => "close-at-once",
            Fault::ResetMidBody => "reset-mid-body",
            Fault::SlowHead => "slow-head",
            Fault::NeverAnswer => "never-answer",
            Fault::ServerErrors => "server-errors",
            Fault::MalformedStatus => "malformed-status",
            Fault::Garbage => "garbage",
            Fault::LongHeader => "long-header",
            Fault::HugeHeader => "huge-header",
            Fault::ManyHeaders => "many-headers",
            Fault::ContentLengthLong => "content-length-long",
            Fault::ContentLengthShort => "content-length-short",
            Fault::ContentLengthNegative => "content-length-negative",
            Fault::ContentLengthInvalid => "content-length-invalid",
            Fault::BadChunking => "bad-chunking",
            Fault::EndlessChunked => "endless-chunked",
            Fault::EndlessBody => "endless-body",
            Fault::Http09 => "http09",
            Fault::AnswerBeforeRequest => "answer-before-request",
            Fault::CloseKeptAlive => "close-kept-alive",
            Fault::Mixed { .. } => "mixed",
        }
    }

    /// The fault named `name` (as [`Fault::name`] gives it; `mixed` with seed 0).
    pub fn from_name(name: &str) -> Option<Fault> {
        if name == "mixed" {
            return Some(Fault::Mixed { seed: 0 });
        }
        Fault::MATRIX.into_iter().find(|f| f.name() == name)
    }
}

/// What a hostile target saw, counted by the target itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Connections accepted.
    pub connections: u64,
    /// Requests read whole (head and any `content-length` body).
    pub requests: u64,
    /// Answers written whole (a partial answer, as `ResetMidBody` writes, is not one).
    pub answers: u64,
}

/// A hostile target on a free port of 127.0.0.1. Dropping it (or [`HostileTarget::stop`])
/// shuts down every open connection and joins every thread.
pub struct HostileTarget {
    addr: SocketAddr,
    fault: Fault,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    /// [`Fault::Refused`]'s socket: bound, never listening, so connects to the port are
    /// refused and no other listener can take it while the target lives.
    _reserved: Option<socket2::Socket>,
}

/// What the accept loop, the connection threads and the handle share.
struct Shared {
    stop: AtomicBool,
    connections: AtomicU64,
    /// Connections whose thread has finished (its counts are final): equal to
    /// `connections` when nothing is being served.
    finished: AtomicU64,
    requests: AtomicU64,
    answers: AtomicU64,
    started: Instant,
    /// When each whole request arrived, since `started`: for per-second comparisons.
    arrivals: Mutex<Vec<Duration>>,
    /// A clone of each open connection, by id, so that stopping can shut them down and so
    /// wake threads blocked in a read or a write.
    open: Mutex<HashMap<u64, TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Locks a mutex whose data stays consistent even if a holder panicked (counts and lists).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl HostileTarget {
    /// Starts a target that misbehaves as `fault` says. For [`Fault::Refused`] nothing
    /// listens: a socket is bound to the port and never listens, so connects to it are
    /// refused and the port stays reserved until the target is dropped.
    pub fn start(fault: Fault) -> io::Result<HostileTarget> {
        if fault == Fault::Refused {
            return HostileTarget::refused();
        }
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new());
        // Non-blocking and polled: the loop must notice `stop` with no connection coming.
        listener.set_nonblocking(true)?;
        let accept = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name(format!("hostile-{}", fault.name()))
                .spawn(move || accept_loop(listener, fault, shared))?
        };
        Ok(HostileTarget {
            addr,
            fault,
            shared,
            accept: Some(accept),
            _reserved: None,
        })
    }

    /// [`Fault::Refused`]: a TCP socket bound to a free port of 127.0.0.1 that never
    /// listens. A connect to it is answered with RST, as to a closed port, but unlike a
    /// port bound and released no other target can take it meanwhile.
    fn refused() -> io::Result<HostileTarget> {
        use socket2::{Domain, Protocol, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
        let addr = socket
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("the bound address is not an IP address"))?;
        Ok(HostileTarget {
            addr,
            fault: Fault::Refused,
            shared: Arc::new(Shared::new()),
            accept: None,
            _reserved: Some(socket),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn fault(&self) -> Fault {
        self.fault
    }

    /// Waits until every accepted connection's thread has finished (so its counts are
    /// final) or `within` has passed, and returns the counts. Call it once the client has
    /// gone: a connection still served (an endless body to a live peer) keeps it waiting
    /// the whole of `within`. A connection not yet accepted is not waited for; a client
    /// that saw an answer or a reset on it was accepted already.
    pub fn settle(&self, within: Duration) -> Seen {
        let deadline = Instant::now() + within;
        while self.shared.finished.load(Ordering::SeqCst)
            < self.shared.connections.load(Ordering::SeqCst)
            && Instant::now() < deadline
        {
            thread::sleep(Duration::from_millis(5));
        }
        self.seen()
    }

    /// The counts so far (connection threads may still be counting: see
    /// [`HostileTarget::settle`]).
    pub fn seen(&self) -> Seen {
        Seen {
            connections: self.shared.connections.load(Ordering::SeqCst),
            requests: self.shared.requests.load(Ordering::SeqCst),
            answers: self.shared.answers.load(Ordering::SeqCst),
        }
    }

    /// Whole requests per second, counted from the first request's arrival (second 0 holds
    /// it): the target's side of a per-second comparison with a run that started sending at
    /// once.
    pub fn requests_per_second(&self) -> Vec<u64> {
        let mut arrivals = lock(&self.shared.arrivals).clone();
        arrivals.sort();
        let Some(&first) = arrivals.first() else {
            return Vec::new();
        };
        let mut buckets = Vec::new();
        for at in arrivals {
            let second = (at - first).as_secs() as usize;
            if buckets.len() <= second {
                buckets.resize(second + 1, 0);
            }
            buckets[second] += 1;
        }
        buckets
    }

    /// Stops the target: no more connections, every open one shut down, every thread joined.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            // The accept loop has nothing that panics by design; a test already failing
            // needs no second panic from a drop.
            let _ = accept.join();
        }
        for stream in lock(&self.shared.open).values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let threads = std::mem::take(&mut *lock(&self.shared.threads));
        for t in threads {
            let _ = t.join();
        }
    }
}

impl Drop for HostileTarget {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for HostileTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostileTarget")
            .field("addr", &self.addr)
            .field("fault", &self.fault)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn new() -> Shared {
        Shared {
            stop: AtomicBool::new(false),
            connections: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            answers: AtomicU64::new(0),
            started: Instant::now(),
            arrivals: Mutex::new(Vec::new()),
            open: Mutex::new(HashMap::new()),
            threads: Mutex::new(Vec::new()),
        }
    }
}

fn accept_loop(listener: TcpListener, fault: Fault, shared: Arc<Shared>) {
    let mut next_id = 0u64;
    while !shared.stop.load(Ordering::SeqCst) {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Nothing waiting (or out of descriptors): poll again shortly.
                thread::sleep(Duration::from_millis(2));
                continue;
            }
        };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        let id = next_id;
        next_id += 1;
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.open).insert(id, clone);
        }
        let conn_shared = Arc::clone(&shared);
        let seed = match fault {
            Fault::Mixed { seed } => seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            _ => id,
        };
        let spawned = thread::Builder::new()
            .name("hostile-conn".into())
            .spawn(move || {
                let conn = Conn {
                    stream,
                    shared: &conn_shared,
                    rng: SmallRng::seed_from_u64(seed),
                    opened: Instant::now(),
                };
                // An I/O error is the peer going away or the target stopping: the end of
                // this connection, nothing more.
                let _ = conn.serve(fault);
                lock(&conn_shared.open).remove(&id);
                conn_shared.finished.fetch_add(1, Ordering::SeqCst);
            });
        let mut threads = lock(&shared.threads);
        threads.retain(|t| !t.is_finished());
        match spawned {
            Ok(handle) => threads.push(handle),
            Err(_) => {
                lock(&shared.open).remove(&id);
                shared.finished.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// One accepted connection and what its thread needs.
struct Conn<'a> {
    stream: TcpStream,
    shared: &'a Shared,
    rng: SmallRng,
    opened: Instant,
}

impl Conn<'_> {
    fn live(&self) -> bool {
        !self.shared.stop.load(Ordering::SeqCst) && self.opened.elapsed() < MAX_CONNECTION_LIFE
    }

    /// Writes a whole answer and counts it.
    fn answer(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.shared.answers.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn serve(mut self, fault: Fault) -> io::Result<()> {
        self.stream.set_nodelay(true)?;
        // A bound on every blocking read: a peer that stays quiet this long ends the
        // connection (a kept-alive connection idles while its user waits for work).
        self.stream.set_read_timeout(Some(MAX_CONNECTION_LIFE))?;
        let mut reader = BufReader::new(self.stream.try_clone()?);
        match fault {
            Fault::Refused => Ok(()),
            Fault::CloseAtOnce => self.stream.shutdown(Shutdown::Both),
            Fault::AnswerBeforeRequest => {
                self.answer(&ok_answer("connection: close\r\n"))?;
                read_request(&mut reader, self.shared)?;
                self.stream.shutdown(Shutdown::Both)
            }
            Fault::NeverAnswer => {
                read_request(&mut reader, self.shared)?;
                // Hold the connection until the peer closes it (a read of 0) or we stop.
                let mut byte = [0u8; 1];
                self.stream
                    .set_read_timeout(Some(Duration::from_millis(200)))?;
                while self.live() {
                    match self.stream.read(&mut byte) {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) if is_timeout(&e) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            }
            _ => {
                while self.live() {
                    read_request(&mut reader, self.shared)?;
                    if !self.respond(fault)? {
                        break;
                    }
                }
                Ok(())
            }
        }
    }

    /// Answers one request as `fault` says; `false` when the connection is over.
    fn respond(&mut self, fault: Fault) -> io::Result<bool> {
        match fault {
            Fault::ResetMidBody => {
                self.stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")?;
                self.stream.write_all(&[b'x'; 100])?;
                self.stream.flush()?;
                // Let the partial answer reach the peer before the reset drops it.
                thread::sleep(Duration::from_millis(20));
                self.reset_on_close();
                Ok(false)
            }
            Fault::SlowHead => {
                let head = b"HTTP/1.1 200 OK\r\nx-slow: ";
                for &byte in head.iter().chain(std::iter::repeat(&b'a')) {
                    if !self.live() {
                        break;
                    }
                    self.stream.write_all(&[byte])?;
                    thread::sleep(Duration::from_secs(1));
                }
                Ok(false)
            }
            Fault::ServerErrors => {
                let n = self.shared.requests.load(Ordering::SeqCst);
                let status = [
                    "500 Internal Server Error",
                    "502 Bad Gateway",
                    "503 Service Unavailable",
                ][(n % 3) as usize];
                let body = r#"{"detail":"server error"}"#;
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                self.answer(answer.as_bytes())?;
                Ok(true)
            }
            Fault::MalformedStatus => {
                self.answer(b"HTTP/1.1 abc OK\r\ncontent-length: 0\r\n\r\n")?;
                Ok(true)
            }
            Fault::Garbage => {
                let mut bytes = [0u8; 256];
                self.rng.fill(&mut bytes[..]);
                // Never by chance the start of a status line.
                bytes[0] = 0;
                self.answer(&bytes)?;
                Ok(true)
            }
            Fault::LongHeader => {
                self.answer(&long_header_answer(100 * 1024))?;
                Ok(true)
            }
            Fault::HugeHeader => {
                self.answer(&long_header_answer(10 * 1024 * 1024))?;
                Ok(true)
            }
            Fault::ManyHeaders => {
                let mut answer = b"HTTP/1.1 200 OK\r\n".to_vec();
                for _ in 0..10_000 {
                    answer.extend_from_slice(b"a: b\r\n");
                }
                answer.extend_from_slice(
                    format!("content-length: {}\r\n\r\n{OK_BODY}", OK_BODY.len()).as_bytes(),
                );
                self.answer(&answer)?;
                Ok(true)
            }
            Fault::ContentLengthLong => {
                let answer = format!("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n{OK_BODY}");
                self.stream.write_all(answer.as_bytes())?;
                self.stream.shutdown(Shutdown::Write)?;
                Ok(false)
            }
            Fault::ContentLengthShort => {
                // The announced length covers the JSON; the extra bytes follow it.
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{OK_BODY}EXTRA BYTES",
                    OK_BODY.len()
                );
                self.answer(answer.as_bytes())?;
                Ok(true)
            }
            Fault::ContentLengthNegative => {
                self.answer(
                    format!("HTTP/1.1 200 OK\r\ncontent-length: -5\r\n\r\n{OK_BODY}").as_bytes(),
                )?;
                Ok(true)
            }
            Fault::ContentLengthInvalid => {
                self.answer(
                    format!("HTTP/1.1 200 OK\r\ncontent-length: twelve\r\n\r\n{OK_BODY}")
                        .as_bytes(),
                )?;
                Ok(true)
            }
            Fault::BadChunking => {
                self.answer(
                    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                )?;
                Ok(true)
            }
            Fault::EndlessChunked => {
                self.stream
                    .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")?;
                let mut chunk = b"10000\r\n".to_vec();
                chunk.extend_from_slice(&[b'x'; 0x10000]);
                chunk.extend_from_slice(b"\r\n");
                self.stream_forever(&chunk)?;
                Ok(false)
            }
            Fault::EndlessBody => {
                self.stream.write_all(b"HTTP/1.1 200 OK\r\n\r\n")?;
                self.stream_forever(&[b'x'; 0x10000])?;
                Ok(false)
            }
            Fault::Http09 => {
                self.answer(b"hello from 1991\n")?;
                self.stream.shutdown(Shutdown::Both)?;
                Ok(false)
            }
            Fault::CloseKeptAlive => {
                self.answer(&ok_answer(""))?;
                self.stream.shutdown(Shutdown::Both)?;
                Ok(false)
            }
            Fault::Mixed { .. } => {
                let draw: u32 = self.rng.random_range(0..100);
                match draw {
                    0..70 => self.answer(&ok_answer(""))?,
                    70..80 => {
                        let body = r#"{"detail":"unavailable"}"#;
                        self.answer(
                            format!(
                                "HTTP/1.1 503 Service Unavailable\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            )
                            .as_bytes(),
                        )?;
                    }
                    80..90 => {
                        self.stream.write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nxxxxxxxxxx",
                        )?;
                        thread::sleep(Duration::from_millis(5));
                        self.reset_on_close();
                        return Ok(false);
                    }
                    _ => {
                        let stall = self.rng.random_range(200..=1500);
                        thread::sleep(Duration::from_millis(stall));
                        self.answer(&ok_answer(""))?;
                    }
                }
                Ok(true)
            }
            Fault::Refused
            | Fault::CloseAtOnce
            | Fault::NeverAnswer
            | Fault::AnswerBeforeRequest => {
                unreachable!("served by Conn::serve without reading requests in a loop")
            }
        }
    }

    /// Makes the connection end in a reset: with SO_LINGER 0, closing sends RST and drops
    /// unsent data. The close itself happens when the last handle of the socket goes, right
    /// after the caller returns `false` (the thread's handles, then the one in `open`).
    fn reset_on_close(&mut self) {
        let _ = socket2::SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
    }

    /// Writes `piece` again and again until the peer goes away or the target stops.
    fn stream_forever(&mut self, piece: &[u8]) -> io::Result<()> {
        while self.live() {
            self.stream.write_all(piece)?;
        }
        Ok(())
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A 200 answer with [`OK_BODY`] and `extra` header lines.
fn ok_answer(extra: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\n\r\n{OK_BODY}",
        OK_BODY.len()
    )
    .into_bytes()
}

/// A 200 answer with one header line of `len` bytes of value.
fn long_header_answer(len: usize) -> Vec<u8> {
    let mut answer = b"HTTP/1.1 200 OK\r\nx-long: ".to_vec();
    answer.resize(answer.len() + len, b'a');
    answer.extend_from_slice(
        format!("\r\ncontent-length: {}\r\n\r\n{OK_BODY}", OK_BODY.len()).as_bytes(),
    );
    answer
}

/// Reads one request whole (head, then a `content-length` body) and counts it. An error at
/// the end of the stream, on a head over [`MAX_REQUEST_HEAD`], or on a malformed length.
fn read_request(reader: &mut BufReader<TcpStream>, shared: &Shared) -> io::Result<()> {
    let mut head_len = 0usize;
    let mut length = 0usize;
    let mut line = String::new();
    let mut first = true;
    loop {
        line.clear();
        let n = reader.read_line(&mut line)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head_len += n;
        if head_len > MAX_REQUEST_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too long",
            ));
        }
        if first {
            first = false;
            continue;
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidData, "invalid request content-length")
                })?;
            }
        }
    }
    io::copy(&mut reader.by_ref().take(length as u64), &mut io::sink())?;
    shared.requests.fetch_add(1, Ordering::SeqCst);
    lock(&shared.arrivals).push(shared.started.elapsed());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends one GET and reads what comes back until the end of the stream, a reset, or
    /// `within`; the bytes read and whether the read ended in an error.
    fn exchange(target: &HostileTarget, within: Duration) -> (Vec<u8>, bool) {
        let mut stream = TcpStream::connect(target.addr()).expect("connect");
        stream.set_read_timeout(Some(within)).unwrap();
        let _ = stream.write_all(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n");
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return (got, false),
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if got.len() > 1 << 20 {
                        return (got, false);
                    }
                }
                Err(_) => return (got, true),
            }
        }
    }

    /// Polls `done` until it holds (true) or `within` has passed (false).
    fn eventually(within: Duration, mut done: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if done() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn every_name_maps_back_to_its_fault() {
        for fault in Fault::MATRIX {
            assert_eq!(Fault::from_name(fault.name()), Some(fault));
        }
        assert_eq!(Fault::from_name("mixed"), Some(Fault::Mixed { seed: 0 }));
        assert_eq!(Fault::from_name("polite"), None);
    }

    #[test]
    fn refused_has_no_listener() {
        let target = HostileTarget::start(Fault::Refused).unwrap();
        let err = TcpStream::connect(target.addr()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(target.seen(), Seen::default());
        // The port stays taken while the target lives: no other listener gets it.
        assert!(TcpListener::bind(target.addr()).is_err());
    }

    #[test]
    fn reset_mid_body_sends_part_of_the_body_then_resets() {
        let target = HostileTarget::start(Fault::ResetMidBody).unwrap();
        let (got, errored) = exchange(&target, Duration::from_secs(5));
        let text = String::from_utf8_lossy(&got);
        assert!(
            text.starts_with("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n"),
            "{text}"
        );
        assert!(errored, "the read ended in a reset, not a clean close");
        target.stop();
    }

    #[test]
    fn close_kept_alive_answers_whole_then_closes_and_counts_both_sides() {
        let target = HostileTarget::start(Fault::CloseKeptAlive).unwrap();
        for _ in 0..3 {
            let (got, _) = exchange(&target, Duration::from_secs(5));
            assert!(
                got.ends_with(OK_BODY.as_bytes()),
                "{}",
                String::from_utf8_lossy(&got)
            );
        }
        // The target counts an answer after its last byte is written, which may be after the
        // client has read it: settle the counts first.
        assert_eq!(
            target.settle(Duration::from_secs(10)),
            Seen {
                connections: 3,
                requests: 3,
                answers: 3
            }
        );
    }

    #[test]
    fn endless_and_slow_answers_end_when_the_target_is_dropped() {
        let started = Instant::now();
        for fault in [Fault::EndlessChunked, Fault::SlowHead, Fault::NeverAnswer] {
            let target = HostileTarget::start(fault).unwrap();
            let mut stream = TcpStream::connect(target.addr()).unwrap();
            stream
                .write_all(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n")
                .unwrap();
            let mut buf = [0u8; 64];
            if fault != Fault::NeverAnswer {
                assert!(stream.read(&mut buf).unwrap() > 0, "{fault:?}");
            }
            // Wait until the request was read, then drop with the client still connected.
            assert!(
                eventually(Duration::from_secs(10), || target.seen().requests == 1),
                "{fault:?}: the request was not read within 10 s"
            );
            drop(target);
        }
        // The slow head sleeps a second between bytes; nothing should take much longer.
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn mixed_counts_per_second_from_the_first_request() {
        let target = HostileTarget::start(Fault::Mixed { seed: 7 }).unwrap();
        for _ in 0..5 {
            let _ = exchange(&target, Duration::from_millis(50));
        }
        // Five whole requests, all in the first second or so (stalls end the reads early).
        // A request may be read after its client gave up on the answer: wait for all five.
        assert!(
            eventually(Duration::from_secs(10), || target.seen().requests == 5),
            "{:?}",
            target.seen()
        );
        let by_second = target.requests_per_second();
        assert_eq!(by_second.iter().sum::<u64>(), 5, "{by_second:?}");
        assert_eq!(target.seen().requests, 5);
    }
}
