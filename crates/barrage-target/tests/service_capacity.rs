//! The demo target as a service of known capacity (`DemoOptions.capacity`): held to its
//! `slots / service` requests a second under a full line, and to its service time for a
//! lone client. Loopback only, every loop bounded in time and count.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use barrage_target::{DemoOptions, DemoTarget, ServiceCapacity};

/// The tests here measure time: they take turns, so that one's 50 client threads do not
/// delay another's wake-ups.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

fn capacity_target(slots: u32, service: Duration) -> DemoTarget {
    DemoTarget::start(DemoOptions {
        capacity: Some(ServiceCapacity { slots, service }),
        ..DemoOptions::no_delay()
    })
    .expect("start the demo target on loopback")
}

/// One keep-alive connection speaking just enough HTTP/1.1 for `GET /`.
struct Conn(BufReader<TcpStream>);

impl Conn {
    fn open(target: &DemoTarget) -> Conn {
        let stream = TcpStream::connect(target.addr()).expect("connect to the demo target");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Conn(BufReader::new(stream))
    }

    /// Sends `GET /` and reads the whole answer; its status.
    fn get_root(&mut self) -> u16 {
        self.0
            .get_mut()
            .write_all(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n")
            .unwrap();
        let mut line = String::new();
        self.0.read_line(&mut line).unwrap();
        let status = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut length = 0;
        loop {
            line.clear();
            self.0.read_line(&mut line).unwrap();
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.0.read_exact(&mut body).unwrap();
        status
    }
}

/// 4 slots of 20 ms: 200 requests a second. 50 clients keep the line full for 2 s: the
/// answers completed in those 2 s are 400, within 3 % (the last answers may be a timer's
/// lateness past the end; none can come early).
#[test]
fn a_full_line_completes_exactly_the_capacity() {
    let _turn = one_at_a_time();
    let target = capacity_target(4, Duration::from_millis(20));
    let clients = 50;
    let window = Duration::from_secs(2);
    let barrier = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let mut conn = Conn::open(&target);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let start = Instant::now();
                let mut completed = 0u32;
                // Bounded: each answer takes at least 20 ms, and the loop ends at 2 s.
                loop {
                    assert_eq!(conn.get_root(), 200);
                    if start.elapsed() > window {
                        return completed;
                    }
                    completed += 1;
                }
            })
        })
        .collect();
    barrier.wait();
    let completed: u32 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    println!("{completed} requests completed in 2 s (capacity 200/s)");
    assert!(
        (388..=412).contains(&completed),
        "{completed} requests in 2 s, expected 400 +- 3 %"
    );
    assert_eq!(
        target.counts()["GET /"],
        u64::from(completed) + clients as u64
    );
}

/// A lone client never waits in line: each request takes the service time, plus what
/// loopback and a timer's wake-up add.
#[test]
fn a_lone_client_sees_the_service_time() {
    let _turn = one_at_a_time();
    let target = capacity_target(4, Duration::from_millis(20));
    let mut conn = Conn::open(&target);
    let mut took: Vec<Duration> = (0..25)
        .map(|_| {
            let sent = Instant::now();
            assert_eq!(conn.get_root(), 200);
            sent.elapsed()
        })
        .collect();
    took.sort();
    println!(
        "lone client: min {:?}, median {:?}, max {:?}",
        took[0], took[12], took[24]
    );
    // Never early: the answer is due 20 ms after the request arrived.
    assert!(took[0] >= Duration::from_millis(20), "{took:?}");
    // On a machine shared with other work a wake-up is sometimes late; most are not.
    assert!(took[20] <= Duration::from_millis(22), "{took:?}");
}

/// One slot: requests from two clients take turns, so each waits for the other's.
#[test]
fn a_single_slot_serves_one_at_a_time() {
    let _turn = one_at_a_time();
    let target = capacity_target(1, Duration::from_millis(25));
    let started = Instant::now();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let mut conn = Conn::open(&target);
            std::thread::spawn(move || {
                for _ in 0..4 {
                    assert_eq!(conn.get_root(), 200);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Eight requests of 25 ms through one slot: at least 200 ms, whatever the overlap.
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(200), "{took:?}");
    assert!(took < Duration::from_millis(400), "{took:?}");
}
