//! What the source tests share: a uvicorn app on a free loopback port (the apps of
//! crates/barrage/tests/apps/), killed when its guard drops, and a plain HTTP/1.1 GET
//! written over a `TcpStream` (the tests check what a server counted, so the client is
//! the simplest one there is).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// crates/barrage/tests/apps, where the test apps live.
pub fn apps_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../barrage/tests/apps")
}

/// The Python with the test requirements: `BARRAGE_PYTHON` (scripts/test.sh sets it), or
/// the repository's `.venv`.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("BARRAGE_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        venv.exists(),
        "BARRAGE_PYTHON is not set and {} does not exist: run scripts/test.sh",
        venv.display()
    );
    venv
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// `uvicorn MODULE:app` on 127.0.0.1:`port`, killed on drop.
pub struct Uvicorn {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Uvicorn {
    /// Starts the app and waits (up to 30 s) until `ready_path` answers 200.
    pub fn start(module: &str, port: u16, env: &[(&str, &str)], ready_path: &str) -> Uvicorn {
        let log = std::env::temp_dir().join(format!("barrage-monitor-{module}-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(python())
            .current_dir(apps_dir())
            .args([
                "-m",
                "uvicorn",
                &format!("{module}:app"),
                "--host",
                "127.0.0.1",
            ])
            .args(["--port", &port.to_string(), "--log-level", "warning"])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("starting uvicorn");
        let mut app = Uvicorn { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = app.child.try_wait() {
                panic!("uvicorn exited ({status}):\n{}", app.log());
            }
            if matches!(get(port, ready_path), Ok(200)) {
                return app;
            }
            assert!(
                Instant::now() < deadline,
                "uvicorn did not answer:\n{}",
                app.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Uvicorn {
    fn drop(&mut self) {
        // Both fail only when the process is gone already, which is the goal.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `method path` on a new connection; the status.
pub fn request(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:?}")))
}

pub fn get(port: u16, path: &str) -> std::io::Result<u16> {
    request(port, "GET", path)
}
