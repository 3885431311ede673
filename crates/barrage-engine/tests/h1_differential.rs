//! barrage's lean HTTP/1.1 connection against hyper's client, on the same bytes.
//!
//! A scripted server on loopback answers each request with fixed bytes (content-length,
//! chunked with extensions and trailers, bodies ended by closing, HTTP/1.0, 1xx before the
//! answer, HEAD, 204, bytes dribbled one write at a time, broken answers). Each script
//! runs once through `barrage_engine::http::h1::Conn` and once through hyper 1.x's
//! `client::conn::http1`; status, version, headers (order and repeats included), body
//! and whether the connection may carry another request must agree, and so must the
//! bytes each client wrote for the same `http::Request`.

use std::time::Duration;

use barrage_engine::http::h1::{parse_request, Conn, RequestWriter};
use barrage_engine::http::{BodyBudget, BodyLimits, RequestSink, Stream, DEFAULT_MAX_BODY};
use bytes::Bytes;
use http::{Method, Request, Version};
use http_body_util::{BodyExt, Full};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Keep the body, within the default cap, from a budget of this test binary's own.
fn keep() -> Option<BodyLimits<'static>> {
    static BUDGET: std::sync::LazyLock<std::sync::Arc<BodyBudget>> =
        std::sync::LazyLock::new(|| BodyBudget::new(1 << 30));
    Some(BodyLimits {
        max_body: DEFAULT_MAX_BODY,
        budget: &BUDGET,
    })
}

/// What one client made of one answer.
#[derive(Debug, PartialEq)]
enum Outcome {
    Response {
        status: u16,
        version: Version,
        headers: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
        reusable: bool,
    },
    Failed,
}

/// How the server sends an answer.
#[derive(Clone, Copy)]
enum Delivery {
    Whole,
    /// One byte per write, with a pause now and then so reads see partial heads.
    Dribble,
}

/// One scripted connection: the answers to its requests in order, then the server closes
/// (or, with `close_after` false, keeps the connection open until the client leaves).
struct Script {
    answers: Vec<&'static [u8]>,
    close_after: bool,
    delivery: Delivery,
}

/// Serves `script` on one connection; returns the address and a handle giving the raw
/// request bytes received.
async fn serve(script: Script) -> (std::net::SocketAddr, tokio::task::JoinHandle<Vec<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        sock.set_nodelay(true).unwrap();
        let mut received = Vec::new();
        for answer in &script.answers {
            let Some(request) = read_request(&mut sock).await else {
                return received;
            };
            received.push(request);
            match script.delivery {
                Delivery::Whole => sock.write_all(answer).await.unwrap(),
                Delivery::Dribble => {
                    for (i, b) in answer.iter().enumerate() {
                        if sock.write_all(&[*b]).await.is_err() {
                            return received;
                        }
                        if i % 7 == 0 {
                            tokio::time::sleep(Duration::from_micros(200)).await;
                        }
                    }
                }
            }
        }
        if script.close_after {
            let _ = sock.shutdown().await;
        } else {
            // Until the client closes, bounded.
            let mut rest = [0u8; 64];
            let _ = tokio::time::timeout(Duration::from_secs(5), sock.read(&mut rest)).await;
        }
        received
    });
    (addr, handle)
}

/// One request's bytes: the head, and a body of its content-length.
async fn read_request(sock: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if sock.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |n| n.trim().parse::<usize>().unwrap());
    let mut body = vec![0u8; len];
    sock.read_exact(&mut body).await.ok()?;
    buf.extend_from_slice(&body);
    Some(buf)
}

fn request(method: Method, body: &'static [u8]) -> Request<Bytes> {
    Request::builder()
        .method(method)
        .uri("/items/7?q=a%20b")
        .header("host", "127.0.0.1")
        .header("user-agent", "differential")
        .body(Bytes::from_static(body))
        .unwrap()
}

fn deadline() -> std::time::Instant {
    std::time::Instant::now() + Duration::from_secs(5)
}

/// `req` as barrage writes it: the `RequestWriter` a virtual user writes with.
fn wire(req: &Request<Bytes>) -> Vec<u8> {
    let mut out = Vec::new();
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut w = RequestWriter::start(&mut out, req.method(), target);
    for (name, value) in req.headers() {
        w.header(name, value.as_bytes());
    }
    w.finish(req.body());
    out
}

async fn lean(script: Script, reqs: &[Request<Bytes>]) -> (Vec<Outcome>, Vec<Vec<u8>>) {
    let (addr, server) = serve(script).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut conn = Conn::new(Stream::Plain(tcp));
    let mut out = Vec::new();
    for req in reqs {
        if !out.is_empty() && !conn.reusable() {
            break;
        }
        let head_only = req.method() == Method::HEAD;
        let bytes = wire(req);
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            conn.exchange(&bytes, head_only, keep(), deadline()),
        )
        .await
        .expect("the lean client answers within 5 s");
        match answer {
            Ok(r) => out.push(Outcome::Response {
                status: r.status.as_u16(),
                version: r.version,
                headers: headers(&r.head.header_map()),
                body: r.body.to_vec(),
                reusable: conn.reusable(),
            }),
            Err(_) => {
                out.push(Outcome::Failed);
                break;
            }
        }
    }
    drop(conn);
    (out, server.await.unwrap())
}

async fn hyper(script: Script, reqs: &[Request<Bytes>]) -> (Vec<Outcome>, Vec<Vec<u8>>) {
    let (addr, server) = serve(script).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake::<_, Full<Bytes>>(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    let driver = tokio::spawn(conn);
    let mut out = Vec::new();
    for req in reqs {
        if !out.is_empty() {
            let ready = tokio::time::timeout(Duration::from_millis(500), sender.ready()).await;
            if !matches!(ready, Ok(Ok(()))) {
                break;
            }
        }
        let (parts, body) = req.clone().into_parts();
        let req = Request::from_parts(parts, Full::new(body));
        let answer = tokio::time::timeout(Duration::from_secs(5), async {
            let resp = sender.send_request(req).await?;
            let (head, body) = resp.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok::<_, hyper::Error>((head, body))
        })
        .await
        .expect("hyper answers within 5 s");
        match answer {
            Ok((head, body)) => {
                // hyper closes a connection it may not reuse; give its task a moment.
                let reusable = tokio::time::timeout(Duration::from_millis(200), sender.ready())
                    .await
                    .is_ok_and(|r| r.is_ok());
                out.push(Outcome::Response {
                    status: head.status.as_u16(),
                    version: head.version,
                    headers: headers(&head.headers),
                    body: body.to_vec(),
                    reusable,
                });
            }
            Err(_) => {
                out.push(Outcome::Failed);
                break;
            }
        }
    }
    drop(sender);
    let _ = tokio::time::timeout(Duration::from_secs(5), driver).await;
    (out, server.await.unwrap())
}

fn headers(h: &http::HeaderMap) -> Vec<(String, Vec<u8>)> {
    h.iter()
        .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
        .collect()
}

/// Runs the script through both clients; both must see the same answers and the server
/// the same requests. Returns the lean client's outcomes for further checks.
async fn same(
    answers: &[&'static [u8]],
    close_after: bool,
    reqs: &[Request<Bytes>],
) -> Vec<Outcome> {
    let mut first = None;
    for delivery in [Delivery::Whole, Delivery::Dribble] {
        let script = || Script {
            answers: answers.to_vec(),
            close_after,
            delivery,
        };
        let (ours, our_requests) = lean(script(), reqs).await;
        let (theirs, their_requests) = hyper(script(), reqs).await;
        assert_eq!(ours, theirs, "answers differ ({})", show(answers));
        let (our_requests, their_requests) = (
            our_requests
                .iter()
                .map(|r| deviations(r))
                .collect::<Vec<_>>(),
            their_requests
                .iter()
                .map(|r| deviations(r))
                .collect::<Vec<_>>(),
        );
        assert_eq!(our_requests, their_requests, "requests differ");
        first.get_or_insert(ours);
    }
    first.unwrap()
}

/// The two places where barrage writes a request differently from hyper, on purpose,
/// taken out before comparing:
/// - a POST, PUT or PATCH without a body carries `content-length: 0` (RFC 9110 8.6 says
///   a user agent should send it; curl and browsers do, and some servers answer 411
///   without it); hyper leaves it out;
/// - after an HTTP/1.0 answer with keep-alive, hyper writes its next request as HTTP/1.0
///   with `connection: keep-alive`; barrage stays with HTTP/1.1, which such a server
///   answers all the same.
fn deviations(request: &[u8]) -> String {
    String::from_utf8_lossy(request)
        .replace("content-length: 0\r\n", "")
        .replacen(" HTTP/1.0\r\n", " HTTP/1.1\r\n", 1)
        .replace("connection: keep-alive\r\n", "")
}

fn show(answers: &[&[u8]]) -> String {
    answers
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" | ")
}

fn gets(n: usize) -> Vec<Request<Bytes>> {
    (0..n).map(|_| request(Method::GET, b"")).collect()
}

fn body_of(o: &Outcome) -> &[u8] {
    match o {
        Outcome::Response { body, .. } => body,
        Outcome::Failed => panic!("failed"),
    }
}

#[tokio::test]
async fn content_length_bodies_on_a_kept_alive_connection() {
    let out = same(
        &[
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nX-Custom: one\r\nSet-Cookie: b=2\r\n\r\nhello",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"id\": 42}\n",
        ],
        false,
        &gets(3),
    )
    .await;
    assert_eq!(out.len(), 3);
    assert_eq!(body_of(&out[2]), b"{\"id\": 42}\n");
}

#[tokio::test]
async fn chunked_bodies_with_extensions_and_trailers() {
    let out = same(
        &[
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nx-trailer: t\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
        ],
        false,
        &gets(2),
    )
    .await;
    assert_eq!(body_of(&out[0]), b"hello, world");
    assert_eq!(body_of(&out[1]), b"0123456789");
}

#[tokio::test]
async fn a_body_ended_by_closing_the_connection() {
    let out = same(
        &[b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end"],
        true,
        &gets(2),
    )
    .await;
    assert_eq!(out.len(), 1, "the connection cannot carry a second request");
    assert_eq!(body_of(&out[0]), b"until the end");
}

#[tokio::test]
async fn connection_close_and_http_1_0() {
    same(
        &[b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"],
        true,
        &gets(2),
    )
    .await;
    same(
        &[b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"],
        true,
        &gets(2),
    )
    .await;
    same(
        &[
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nyes",
        ],
        false,
        &gets(2),
    )
    .await;
}

#[tokio::test]
async fn no_body_after_head_204_and_304_and_1xx_skipped() {
    let reqs = vec![
        request(Method::HEAD, b""),
        request(Method::GET, b""),
        request(Method::GET, b""),
        request(Method::GET, b""),
    ];
    let out = same(
        &[
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal",
        ],
        false,
        &reqs,
    )
    .await;
    assert_eq!(out.len(), 4);
    assert_eq!(body_of(&out[3]), b"real");
}

#[tokio::test]
async fn request_bytes_match_for_bodies_and_methods() {
    let reqs = vec![
        request(Method::POST, b"{\"name\":\"x\"}"),
        request(Method::POST, b""),
        request(Method::PUT, b"v"),
        request(Method::DELETE, b""),
        request(Method::PATCH, b"p"),
    ];
    let ok: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
    same(&[ok, ok, ok, ok, ok], false, &reqs).await;
}

#[tokio::test]
async fn a_large_body_arrives_whole() {
    let body = vec![b'x'; 1 << 20];
    let mut answer =
        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
    answer.extend_from_slice(&body);
    let answer: &'static [u8] = Box::leak(answer.into_boxed_slice());
    let script = || Script {
        answers: vec![answer],
        close_after: false,
        delivery: Delivery::Whole,
    };
    let (ours, _) = lean(script(), &gets(1)).await;
    let (theirs, _) = hyper(script(), &gets(1)).await;
    assert_eq!(body_of(&ours[0]).len(), 1 << 20);
    assert_eq!(ours, theirs);
}

#[tokio::test]
async fn broken_answers_fail_in_both() {
    for broken in [
        &b"this is not http\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
    ] {
        let out = same(&[broken], true, &gets(1)).await;
        assert_eq!(
            out,
            vec![Outcome::Failed],
            "{}",
            String::from_utf8_lossy(broken)
        );
    }
}

#[tokio::test]
async fn the_lean_client_counts_a_closed_idle_connection_as_closed() {
    let (addr, server) = serve(Script {
        answers: vec![b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"],
        close_after: true,
        delivery: Delivery::Whole,
    })
    .await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut conn = Conn::new(Stream::Plain(tcp));
    conn.exchange(&wire(&request(Method::GET, b"")), false, None, deadline())
        .await
        .unwrap();
    assert!(conn.reusable(), "keep-alive by default in HTTP/1.1");
    server.await.unwrap();
    // The server has closed its end; the idle check sees it before a request is written.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!conn.still_open().await);
}

/// The request side as a virtual user builds it from a scenario (templates rendered,
/// defaults, a JSON body, a form body, a step's own headers): the bytes barrage writes are
/// the bytes hyper writes for the same request.
#[tokio::test]
async fn requests_built_from_a_plan_are_what_hyper_writes() {
    use barrage_engine::vu::bench::BenchUser;
    use barrage_engine::{compile, CompileOptions};
    use barrage_scenario::{parse, SourceFile};
    const SCENARIO: &str = r#"
target: http://127.0.0.1:1
defaults:
  headers:
    accept: application/json
users:
  u:
    tasks:
      t:
        - get: "/items/{{ int(1, 9) }}"
          query:
            q: "a b&c"
          headers:
            x-trace: "t-{{ int(100, 999) }}"
        - post: /items/
          json:
            name: "Item {{ int(1000, 9999) }}"
            price: "{{ float(1, 100, 2) }}"
        - put: /items/1
          form:
            name: "x y"
        - delete: /items/1
        - post: /empty
"#;
    let file = SourceFile {
        name: "plan.yaml".to_string(),
        text: SCENARIO.to_string(),
    };
    let (parsed, _) = parse(&file).expect("parses");
    let (plan, _) = compile(&parsed, &file, &CompileOptions::default()).expect("compiles");
    let mut user = BenchUser::new(std::sync::Arc::new(plan)).unwrap();
    let ok: &'static [u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
    for step in 0..5 {
        user.build(0, step).unwrap().unwrap();
        let ours = user.wire().to_vec();
        let (method, target, headers, body) = parse_request(&ours).expect("a whole request");
        let mut req = Request::builder()
            .method(method)
            .uri(target.as_str())
            .body(Bytes::copy_from_slice(body))
            .unwrap();
        // hyper adds content-length itself; give it the rest.
        for (name, value) in headers
            .iter()
            .filter(|(n, _)| *n != http::header::CONTENT_LENGTH)
        {
            req.headers_mut().append(name, value.clone());
        }
        let (_, theirs) = hyper(
            Script {
                answers: vec![ok],
                close_after: false,
                delivery: Delivery::Whole,
            },
            &[req],
        )
        .await;
        assert_eq!(
            deviations(&theirs[0]),
            deviations(&ours),
            "step {step}: hyper wrote (left) what barrage wrote (right)?"
        );
        assert!(
            String::from_utf8_lossy(&ours).contains("\r\nuser-agent: barrage/"),
            "{}",
            String::from_utf8_lossy(&ours)
        );
    }
}

/// A server that never answers: the exchange ends at its deadline, not before, and the
/// connection is not used again.
#[tokio::test]
async fn an_exchange_ends_at_its_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    // Accepted and held open, never read from or answered.
    let (_held, _) = listener.accept().await.unwrap();
    let mut conn = Conn::new(Stream::Plain(tcp));
    let started = std::time::Instant::now();
    let deadline = started + Duration::from_millis(150);
    let failed = conn
        .exchange(&wire(&request(Method::GET, b"")), false, None, deadline)
        .await
        .unwrap_err();
    assert!(
        matches!(failed.error, barrage_engine::http::h1::H1Error::TimedOut),
        "{failed:?}"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    assert!(!conn.reusable());
}

/// A server's content-length alone never makes barrage allocate it: a body to keep that
/// is announced larger than barrage keeps is an error of that request, not an abort.
/// (hyper has no such limit to compare with.)
#[tokio::test]
async fn an_absurd_content_length_is_a_protocol_error() {
    for answer in [
        &b"HTTP/1.1 200 OK\r\ncontent-length: 18446744073709551615\r\n\r\nabc"[..],
        b"HTTP/1.1 200 OK\r\ncontent-length: 900000000000000\r\n\r\nabc",
    ] {
        let (addr, _server) = serve(Script {
            answers: vec![answer],
            close_after: false,
            delivery: Delivery::Whole,
        })
        .await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut conn = Conn::new(Stream::Plain(tcp));
        let failed = conn
            .exchange(&wire(&request(Method::GET, b"")), false, keep(), deadline())
            .await
            .unwrap_err();
        assert!(
            matches!(
                failed.error,
                barrage_engine::http::h1::H1Error::BodyLimit(
                    barrage_engine::http::KeepRefused::TooLong { .. }
                )
            ),
            "{failed:?}"
        );
    }
}
