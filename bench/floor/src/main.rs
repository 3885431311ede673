//! The floor: a bare HTTP/1.1 load loop on tokio, with nothing of barrage's engine.
//!
//! One current-thread runtime, one task per connection, each writing the same GET and
//! reading its answer (head parsed by `httparse`, body framed by `content-length`) as
//! fast as the server answers, and one HDR histogram of the latencies. That is what a
//! tokio-based generator cannot avoid doing per request; barrage's engine does the same
//! and more (plans, checks, saves, cookies, timeouts, per-endpoint statistics), so the
//! difference between `barrage hit` and this program, measured side by side, is what the
//! engine itself costs (docs/PERFORMANCE.md, "The engine against a bare tokio client").
//!
//! `--touch-lines N` also reads N cache lines of a per-connection 64 KiB block after
//! each answer: the cost of touching memory the kernel's work has pushed out of the
//! core's caches since the connection's last answer.
//!
//!     barrage-floor http://127.0.0.1:8000/items/foo -c 50 -d 10 [--touch-lines N]
//!
//! Loopback only; every run is bounded by `-d SECONDS` or `-n REQUESTS` per connection.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const USAGE: &str = "usage: barrage-floor URL [-c CONNECTIONS] (-d SECONDS | -n REQUESTS_PER_CONNECTION) [--touch-lines N]
  URL must be http://127.0.0.1:PORT/PATH or http://[::1]:PORT/PATH (loopback only)";

/// The block `--touch-lines` reads from, and the stride between the lines it reads.
const BLOCK: usize = 64 * 1024;
const STRIDE: usize = 320;

#[derive(Debug)]
struct Args {
    host: String,
    port: u16,
    path: String,
    connections: usize,
    limit: Limit,
    touch_lines: usize,
}

#[derive(Debug, Clone, Copy)]
enum Limit {
    For(Duration),
    Count(u64),
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut url = None;
    let mut connections = 50;
    let mut limit = None;
    let mut touch_lines = 0;
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "-c" => connections = number(&value("-c")?, "-c")?,
            "-d" => {
                limit = Some(Limit::For(Duration::from_secs(number(
                    &value("-d")?,
                    "-d",
                )?)))
            }
            "-n" => limit = Some(Limit::Count(number(&value("-n")?, "-n")?)),
            "--touch-lines" => touch_lines = number(&value("--touch-lines")?, "--touch-lines")?,
            "-h" | "--help" => return Err(String::new()),
            _ if url.is_none() && !a.starts_with('-') => url = Some(a),
            _ => return Err(format!("unexpected argument `{a}`")),
        }
    }
    let url = url.ok_or("a URL is needed")?;
    let limit =
        limit.ok_or("give -d SECONDS or -n REQUESTS_PER_CONNECTION: every run is bounded")?;
    if connections == 0 {
        return Err("-c must be at least 1".into());
    }
    if touch_lines > BLOCK / 64 {
        return Err(format!("--touch-lines is at most {}", BLOCK / 64));
    }
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// URLs (no TLS here)")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = authority
        .rsplit_once(':')
        .ok_or("the URL needs a port, e.g. http://127.0.0.1:8080/")?;
    if host != "127.0.0.1" && host != "[::1]" {
        return Err(format!(
            "`{host}` is not loopback: only 127.0.0.1 and [::1] are loaded"
        ));
    }
    Ok(Args {
        host: host.to_string(),
        port: number(port, "the port")?,
        path: path.to_string(),
        connections,
        limit,
        touch_lines,
    })
}

fn number<T: std::str::FromStr>(s: &str, name: &str) -> Result<T, String> {
    s.parse()
        .map_err(|_| format!("{name}: `{s}` is not a number"))
}

fn main() {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("barrage-floor: {e}");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    match run(&args) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("barrage-floor: {e}");
            std::process::exit(1);
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let local = tokio::task::LocalSet::new();
    let histogram = Rc::new(RefCell::new(
        hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)
            .map_err(|e| format!("histogram: {e}"))?,
    ));
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: barrage-floor\r\n\r\n",
        args.path, args.host, args.port
    );
    let request: Rc<[u8]> = Rc::from(request.into_bytes());
    let address = format!("{}:{}", args.host.trim_matches(['[', ']']), args.port);
    let started = Instant::now();
    let results = local.block_on(&rt, async {
        let users: Vec<_> = (0..args.connections)
            .map(|_| {
                let histogram = histogram.clone();
                let request = request.clone();
                let address = address.clone();
                let (limit, touch_lines) = (args.limit, args.touch_lines);
                tokio::task::spawn_local(async move {
                    user(&address, &request, limit, started, touch_lines, &histogram).await
                })
            })
            .collect();
        let mut results = Vec::new();
        for u in users {
            results.push(u.await.map_err(|e| e.to_string()).and_then(|r| r));
        }
        results
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut requests = 0;
    let mut errors = 0;
    for r in &results {
        match r {
            Ok(n) => requests += n,
            Err(e) => {
                errors += 1;
                eprintln!("barrage-floor: a connection ended: {e}");
            }
        }
    }
    let h = histogram.borrow();
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{requests} requests in {elapsed:.2}s ({:.1} req/s), p50 {:.3} ms, p99 {:.3} ms, {errors} connections failed",
        requests as f64 / elapsed,
        ms(0.5),
        ms(0.99)
    );
    println!(
        "BENCH_RESULT {{\"requests\":{requests},\"errors\":{errors},\"rps\":{:.1},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"mean_ms\":{:.3}}}",
        requests as f64 / elapsed,
        ms(0.5),
        ms(0.99),
        h.mean() / 1000.0
    );
    if requests == 0 {
        return Err("no request was answered".into());
    }
    Ok(())
}

/// One connection's loop: the requests it completed, or why it stopped.
async fn user(
    address: &str,
    request: &[u8],
    limit: Limit,
    started: Instant,
    touch_lines: usize,
    histogram: &RefCell<hdrhistogram::Histogram<u64>>,
) -> Result<u64, String> {
    let mut stream = TcpStream::connect(address)
        .await
        .map_err(|e| format!("connect to {address}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(8192);
    let block = vec![1u8; if touch_lines > 0 { BLOCK } else { 0 }];
    let mut done = 0u64;
    loop {
        match limit {
            Limit::For(d) if started.elapsed() >= d => break,
            Limit::Count(n) if done >= n => break,
            _ => {}
        }
        let t0 = Instant::now();
        stream.write_all(request).await.map_err(|e| e.to_string())?;
        buf.clear();
        loop {
            if stream.read_buf(&mut buf).await.map_err(|e| e.to_string())? == 0 {
                return Err("the server closed the connection".into());
            }
            if let Some(end) = response_end(&buf)? {
                if buf.len() >= end {
                    break;
                }
            }
        }
        histogram
            .borrow_mut()
            .saturating_record(t0.elapsed().as_micros() as u64);
        done += 1;
        let mut sum = 0u8;
        for i in 0..touch_lines {
            // Volatile: the reads are the point, the compiler must not drop them.
            // SAFETY: the pointer comes from a reference into `block`, valid and aligned.
            sum = sum.wrapping_add(unsafe { std::ptr::read_volatile(&block[i * STRIDE % BLOCK]) });
        }
        std::hint::black_box(sum);
    }
    Ok(done)
}

/// Where the response in `buf` ends, once its head is complete.
fn response_end(buf: &[u8]) -> Result<Option<usize>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response
        .parse(buf)
        .map_err(|e| format!("bad response head: {e}"))?
    {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial => return Ok(None),
    };
    let length = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .ok_or("the floor reads content-length bodies only")?;
    let length: usize = std::str::from_utf8(length.value)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .ok_or("bad content-length")?;
    Ok(Some(head + length))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Args, String> {
        parse_args(line.split_whitespace().map(String::from))
    }

    #[test]
    fn only_loopback_is_loaded_and_every_run_is_bounded() {
        let a = args("http://127.0.0.1:8000/items/foo -c 7 -n 3").unwrap();
        assert_eq!(
            (a.host.as_str(), a.port, a.path.as_str()),
            ("127.0.0.1", 8000, "/items/foo")
        );
        assert_eq!(a.connections, 7);
        assert!(matches!(a.limit, Limit::Count(3)));
        let a = args("http://[::1]:8080 -d 2").unwrap();
        assert_eq!((a.host.as_str(), a.path.as_str()), ("[::1]", "/"));
        assert!(args("http://example.com:80/ -d 1")
            .unwrap_err()
            .contains("not loopback"));
        assert!(args("http://127.0.0.1:8000/")
            .unwrap_err()
            .contains("bounded"));
        assert!(args("https://127.0.0.1:8443/ -d 1")
            .unwrap_err()
            .contains("http://"));
        assert!(args("http://127.0.0.1/ -d 1").unwrap_err().contains("port"));
        assert!(args("http://127.0.0.1:8000/ -d 1 -c 0").is_err());
        assert!(args("http://127.0.0.1:8000/ -d x")
            .unwrap_err()
            .contains("not a number"));
        assert!(args("http://127.0.0.1:8000/ -d 1 --touch-lines 5000").is_err());
    }

    #[test]
    fn a_response_ends_where_its_length_says() {
        let whole = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(response_end(whole), Ok(Some(whole.len())));
        assert_eq!(response_end(&whole[..20]), Ok(None));
        assert_eq!(response_end(&whole[..40]), Ok(Some(whole.len())));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(response_end(chunked)
            .unwrap_err()
            .contains("content-length"));
        assert!(response_end(b"HTTP/1.1 2x0 OK\r\n\r\n").is_err());
    }
}
