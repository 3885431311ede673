//! The HTTP/1.1 connection's limits and second chances, against scripted servers on
//! loopback: one size rule for response heads however TCP splits them, the start of every
//! body kept for failure samples, kept bodies capped with the bytes that arrived still
//! counted, and a request sent once more when a reused connection dies before answering.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use barrage_engine::http::h1::{Conn, H1Error};
use barrage_engine::http::{
    tls_config, BodyBudget, BodyLimits, Connections, Connector, InFlightGauge, Origin, Outgoing,
    RequestBuf, RequestSink, SendNotes, Stream,
};
use http::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

fn get() -> Vec<u8> {
    b"GET / HTTP/1.1\r\nhost: t\r\n\r\n".to_vec()
}

/// Reads one request head (the tests send no bodies); false at end of stream.
async fn read_request(sock: &mut TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        match sock.read(&mut byte).await {
            Ok(1) => seen.push(byte[0]),
            _ => return false,
        }
    }
    true
}

/// One connection that reads a request and answers `answer`, split as `piece` says:
/// `0` one write, else writes of `piece` bytes each (with a pause now and then, so the
/// reads see partial heads).
async fn answer_once(answer: Vec<u8>, piece: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        sock.set_nodelay(true).unwrap();
        if !read_request(&mut sock).await {
            return;
        }
        if piece == 0 {
            let _ = sock.write_all(&answer).await;
        } else {
            for (i, part) in answer.chunks(piece).enumerate() {
                if sock.write_all(part).await.is_err() {
                    return;
                }
                if i % 256 == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                } else {
                    tokio::task::yield_now().await;
                }
            }
        }
        // Held open until the client leaves.
        let _ = sock.read(&mut [0u8; 1]).await;
    });
    addr
}

async fn conn(addr: SocketAddr, max_head: usize) -> Conn {
    let tcp = TcpStream::connect(addr).await.unwrap();
    Conn::new(Stream::Plain(tcp)).with_max_head(max_head)
}

/// A head of exactly `len` bytes (one long header), then a 2-byte body.
fn head_of(len: usize) -> Vec<u8> {
    let start = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-long: ";
    let end = b"\r\n\r\n";
    let mut head = start.to_vec();
    head.resize(len - end.len(), b'a');
    head.extend_from_slice(end);
    assert_eq!(head.len(), len);
    head.extend_from_slice(b"ok");
    head
}

#[tokio::test]
async fn one_size_rule_for_heads_however_tcp_splits_them() {
    // One write, two writes, and (for the smaller heads) byte by byte.
    let max = 4096;
    for (len, accepted) in [(max, true), (max + 1, false), (100_000, false)] {
        let answer = head_of(len);
        let mut splits = vec![0, answer.len().div_ceil(2)];
        if len <= max + 1 {
            splits.push(1);
        }
        for piece in splits {
            let addr = answer_once(answer.clone(), piece).await;
            let mut c = conn(addr, max).await;
            let got = c.exchange(&get(), false, None, deadline()).await;
            match (&got, accepted) {
                (Ok(r), true) => assert_eq!(r.body_len, 2),
                (Err(f), false) => assert!(
                    matches!(&f.error, H1Error::Protocol(m) if m.contains("longer than 4096")),
                    "{f:?}"
                ),
                _ => panic!("a {len}-byte head in pieces of {piece}: {got:?}"),
            }
        }
    }
}

#[tokio::test]
async fn the_default_head_limit_refuses_100_000_bytes_in_one_write() {
    let addr = answer_once(head_of(100_000), 0).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut c = Conn::new(Stream::Plain(tcp));
    let failed = c
        .exchange(&get(), false, None, deadline())
        .await
        .unwrap_err();
    assert!(matches!(failed.error, H1Error::Protocol(_)), "{failed:?}");
}

#[tokio::test]
async fn every_body_keeps_its_start_kept_or_not() {
    let long: Vec<u8> = (0..5000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut by_length =
        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", long.len()).into_bytes();
    by_length.extend_from_slice(&long);
    // Chunks shorter than the start: it is gathered across them.
    let mut chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for part in long.chunks(300) {
        chunked.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        chunked.extend_from_slice(part);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let mut to_close = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
    to_close.extend_from_slice(&long);
    let budget = BodyBudget::new(1 << 20);
    for (name, answer, closes) in [
        ("content-length", by_length, false),
        ("chunked", chunked, false),
        ("until close", to_close, true),
    ] {
        // In one write (the answer is read whole and finished from the buffer) and in
        // pieces (read as it arrives).
        for (keep, piece) in [
            (false, 700),
            (true, 700),
            (false, usize::MAX),
            (true, usize::MAX),
        ] {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let answer = answer.clone();
            tokio::spawn(async move {
                let (mut sock, _) = listener.accept().await.unwrap();
                read_request(&mut sock).await;
                // In pieces, the start split across reads too; or whole.
                for part in answer.chunks(piece) {
                    let _ = sock.write_all(part).await;
                    tokio::time::sleep(Duration::from_micros(300)).await;
                }
                if !closes {
                    let _ = sock.read(&mut [0u8; 1]).await;
                }
            });
            let mut c = conn(addr, 64 << 10).await;
            let limits = keep.then_some(BodyLimits {
                max_body: 1 << 20,
                budget: &budget,
            });
            let r = c
                .exchange(&get(), false, limits, deadline())
                .await
                .unwrap_or_else(|f| panic!("{name}: {f:?}"));
            assert_eq!(r.body_len, 5000, "{name}, in pieces of {piece}");
            assert_eq!(r.kept, keep, "{name}");
            let expect = if keep { &long[..] } else { &long[..1024] };
            // A length-framed body's start comes split off with the head
            // (`Exchange::body_start` looks in both places).
            let got = if r.body.is_empty() {
                r.head.body_start()
            } else {
                &r.body[..]
            };
            assert_eq!(got, expect, "{name}, kept: {keep}");
        }
    }
    assert_eq!(budget.used(), 0, "every kept body was dropped");
}

/// An endless chunked body to keep: the request fails at the cap, having counted what
/// arrived, and the budget is whole again afterwards.
#[tokio::test]
async fn a_kept_body_stops_at_its_cap_and_counts_what_arrived() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        read_request(&mut sock).await;
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            .await;
        let chunk = format!("{:x}\r\n{}\r\n", 4096, "x".repeat(4096));
        // Bounded: 64 MiB at most, far past the 1 MiB cap.
        for _ in 0..16_384 {
            if sock.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let budget = BodyBudget::new(8 << 20);
    let mut c = conn(addr, 64 << 10).await;
    let limits = BodyLimits {
        max_body: 1 << 20,
        budget: &budget,
    };
    let failed = c
        .exchange(&get(), false, Some(limits), deadline())
        .await
        .unwrap_err();
    assert!(
        failed
            .error
            .to_string()
            .contains("over the 1 MiB barrage keeps"),
        "{}",
        failed.error
    );
    // Every whole chunk up to the cap arrived and counts; the one past it was refused.
    assert_eq!(failed.received, 1 << 20);
    assert_eq!(budget.used(), 0);
    assert!(!c.reusable());
}

/// A server that reads each connection's second request and closes without a byte of an
/// answer (`reset`: with a reset instead of a FIN).
async fn drops_second_requests(reset: bool) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let count = count.clone();
            tokio::spawn(async move {
                for n in 0.. {
                    if !read_request(&mut sock).await {
                        return;
                    }
                    count.fetch_add(1, Ordering::SeqCst);
                    if n == 1 {
                        if reset {
                            // A zero linger makes the close a reset, and does not block.
                            #[allow(deprecated)]
                            let _ = sock.set_linger(Some(Duration::ZERO));
                        }
                        return;
                    }
                    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                    if sock.write_all(ok).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, seen)
}

async fn send_all(
    addr: SocketAddr,
    retry: bool,
    n: usize,
) -> (usize, Vec<String>, SendNotes, Connector) {
    let mut connector = Connector::new(Duration::from_secs(2), tls_config(true).unwrap());
    connector.retry_reused = retry;
    let origin = Origin::from_url(&url::Url::parse(&format!("http://{addr}/")).unwrap()).unwrap();
    let mut request = RequestBuf::default();
    let mut sink = request.start(&Method::POST, "/");
    sink.header(&http::header::HOST, b"t");
    sink.finish(b"");
    let mut conns = Connections::default();
    let in_flight = InFlightGauge::default();
    let (mut ok, mut failed) = (0, Vec::new());
    let mut notes = SendNotes::default();
    for _ in 0..n {
        let out = Outgoing {
            origin: &origin,
            request: &request,
            keep_body: false,
            max_body: 1 << 20,
            timeout: Duration::from_secs(2),
            in_flight: &in_flight,
        };
        match conns.send(&connector, &out).await {
            Ok(x) => {
                assert_eq!((x.status().as_u16(), x.body_start()), (200, &b"ok"[..]));
                ok += 1;
            }
            Err(e) => failed.push(e.to_string()),
        }
        let n = conns.take_notes();
        notes.retries += n.retries;
        notes.received += n.received;
    }
    assert_eq!(in_flight.get(), 0, "every send ended, answered or not");
    (ok, failed, notes, connector)
}

#[tokio::test]
async fn a_reused_connection_that_dies_unanswered_gets_the_request_once_more() {
    for reset in [false, true] {
        let (addr, seen) = drops_second_requests(reset).await;
        // Each connection answers one request and drops the next: every request after the
        // first meets a dead reused connection once, and the retry's fresh connection
        // answers it.
        let (ok, failed, notes, _) = send_all(addr, true, 50).await;
        assert_eq!((ok, failed.len()), (50, 0), "reset {reset}: {failed:?}");
        assert_eq!(notes.retries, 49, "reset {reset}");
        assert_eq!(seen.load(Ordering::SeqCst), 50 + 49);
        // Switched off, the same requests fail, and nothing is retried.
        let (ok, failed, notes, _) = send_all(addr, false, 10).await;
        assert_eq!((ok, failed.len(), notes.retries), (5, 5, 0), "{failed:?}");
    }
}

/// A request that fails again on the fresh connection is a failure as before.
#[tokio::test]
async fn a_retry_that_fails_again_is_a_failure() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // The first connection answers once and drops the second request; every later
        // connection drops its first.
        let mut first = true;
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let answers = if first { 1 } else { 0 };
            first = false;
            tokio::spawn(async move {
                for _ in 0..answers {
                    read_request(&mut sock).await;
                    let _ = sock
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await;
                }
                read_request(&mut sock).await;
            });
        }
    });
    let (ok, failed, notes, _) = send_all(addr, true, 2).await;
    assert_eq!((ok, notes.retries), (1, 1));
    assert_eq!(failed.len(), 1);
    assert!(failed[0].contains("closed the connection"), "{failed:?}");
}

/// A server that closes every kept-alive connection right after answering, without saying
/// `connection: close`: fewer than 1 % of requests fail (the idle check or the retry
/// catches the rest).
#[tokio::test]
async fn a_server_closing_every_connection_costs_under_one_percent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                if read_request(&mut sock).await {
                    let _ = sock
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await;
                }
            });
        }
    });
    let (ok, failed, _, _) = send_all(addr, true, 1000).await;
    assert!(
        failed.len() < 10,
        "{} of 1000 failed: {failed:?}",
        failed.len()
    );
    assert_eq!(ok + failed.len(), 1000);
}

/// The budget is one for the process: a connector's clones (one per worker) share it.
#[test]
fn a_connectors_clones_share_one_budget() {
    let connector = Connector::new(Duration::from_secs(1), tls_config(true).unwrap());
    let clone = connector.clone();
    assert!(Arc::ptr_eq(&connector.body_budget, &clone.body_budget));
}
