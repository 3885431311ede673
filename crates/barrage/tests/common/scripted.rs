//! Scripted loopback peers: raw TCP servers that answer every request in one scripted way,
//! often a wrong one on purpose, so that a test can produce each failure category from a
//! real cause (a reset, garbage, a redirect barrage cannot follow), and a listener whose
//! accept queue is full, so that a connect can only time out. They also note when each
//! request arrived, for tests that must see a schedule from the server's side (pacing).
//!
//! Plain threads and blocking sockets on purpose: a peer that misbehaves at the byte level
//! is easier to read as straight-line code, and it must not share barrage's async stack.
//!
//! Must not: listen anywhere but 127.0.0.1, or outlive its handle by more than a moment
//! (dropping a [`Scripted`] stops its accept loop; a connection's thread ends when barrage
//! closes its side, or after 10 s without a request).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How a [`Scripted`] server answers each request it reads.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// `200 OK` with the body `ok`, keeping the connection open. A path `/sleep/MS` waits MS
    /// milliseconds first.
    Ok,
    /// These bytes as they are; the connection stays open for the next request.
    Raw(&'static str),
    /// Closes with SO_LINGER 0 once the request is read: the client's read sees a reset (RST).
    Reset,
    /// Closes normally (FIN) once the request is read, without answering.
    Close,
}

/// A request as the server read it.
#[derive(Clone, Debug)]
pub struct Arrival {
    /// When its request line had been read.
    pub at: Instant,
    /// The request line and headers, as sent.
    pub head: String,
}

/// A scripted server on a free port of 127.0.0.1; stops when dropped.
pub struct Scripted {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Arrival>>>,
    accept: Option<JoinHandle<()>>,
}

impl Scripted {
    pub fn start(answer: Answer) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        // Non-blocking, polled: the loop must notice `stop` without a connection arriving.
        listener
            .set_nonblocking(true)
            .expect("a listener can be made non-blocking");
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stop_flag, log) = (stop.clone(), seen.clone());
        let accept = thread::spawn(move || {
            while !stop_flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let log = log.clone();
                        thread::spawn(move || serve(stream, answer, &log));
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Scripted {
            addr,
            stop,
            seen,
            accept: Some(accept),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests read so far (whole heads), answered or not.
    pub fn requests(&self) -> usize {
        self.arrivals().len()
    }

    /// Every request read so far, in order of arrival.
    pub fn arrivals(&self) -> Vec<Arrival> {
        let mut all = self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        all.sort_by_key(|a| a.at);
        all
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            // The accept loop does not panic by design; a test already failing needs no
            // second panic from here.
            let _ = t.join();
        }
    }
}

/// Answers the requests of one connection until the client closes it (or the script does).
fn serve(stream: TcpStream, answer: Answer, log: &Mutex<Vec<Arrival>>) {
    // Accepted sockets inherit nothing from the non-blocking listener on Linux, but say so.
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(arrival) = read_request(&mut reader) {
        let path = arrival
            .head
            .split(' ')
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        log.lock().unwrap_or_else(|e| e.into_inner()).push(arrival);
        match answer {
            Answer::Ok => {
                if let Some(ms) = path.strip_prefix("/sleep/") {
                    let ms = ms.parse().unwrap_or(0u64).min(10_000);
                    thread::sleep(Duration::from_millis(ms));
                }
                if writer
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .is_err()
                {
                    return;
                }
            }
            Answer::Raw(bytes) => {
                if writer.write_all(bytes.as_bytes()).is_err() {
                    return;
                }
            }
            Answer::Reset => {
                // With a zero linger time, close sends RST and drops what is unsent.
                let _ = socket2::SockRef::from(&writer).set_linger(Some(Duration::ZERO));
                return;
            }
            Answer::Close => {
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
        }
    }
}

/// Reads one request (head and any content-length body); `None` at the end of the stream.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Arrival> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let at = Instant::now();
    let mut head = line.clone();
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
        head.push_str(&line);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Arrival { at, head })
}

/// A listener on 127.0.0.1 whose accept queue is full and is never drained: a connect to it
/// is neither accepted nor refused (Linux drops the SYN while the queue is full), so it can
/// only time out. Loopback only, no firewall rule, no unroutable address.
pub struct FullBacklog {
    addr: SocketAddr,
    _listener: socket2::Socket,
    /// The connections that filled the queue; kept open, never accepted.
    _queued: Vec<TcpStream>,
}

impl FullBacklog {
    pub fn new() -> FullBacklog {
        use socket2::{Domain, Socket, Type};
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a TCP socket");
        listener
            .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .expect("binding 127.0.0.1:0");
        // A backlog of 1 (Linux queues one connection past it): small to fill, and above 0
        // so the kernel never falls back to SYN cookies for the connections that fill it.
        listener.listen(1).expect("listening");
        let addr = listener
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .expect("a bound IPv4 socket has an address");
        // Connect until a connect times out: the ones that got in fill the queue, and the one
        // that timed out proves a further connect cannot complete.
        let mut queued = Vec::new();
        for _ in 0..16 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(s) => queued.push(s),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    assert!(!queued.is_empty(), "the first connect already timed out");
                    return FullBacklog {
                        addr,
                        _listener: listener,
                        _queued: queued,
                    };
                }
                Err(e) => panic!("filling the accept queue of {addr}: {e}"),
            }
        }
        panic!(
            "{} connects to {addr} completed and none timed out: the accept queue does not fill",
            queued.len()
        );
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}
