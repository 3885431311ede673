//! Helpers shared by the integration tests: finding the repository and a free loopback port,
//! owning a child process so it dies with the test (panics included), running a command
//! with a time bound, and a minimal HTTP/1.1 GET for asking a server what it saw.
//!
//! The HTTP GET is written by hand over a `TcpStream` on purpose: a test that checks
//! barrage's client must not lean on that same client to read the server's side.
//! `scripted` holds raw TCP peers that misbehave on purpose (see its own comment); `nginx`
//! and `postgres` start throwaway servers of those kinds.

// Each test binary compiles its own copy of this module and uses a part of it.
#![allow(dead_code)]

pub mod nginx;
pub mod postgres;
pub mod scripted;
pub mod watched;

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// One timing-sensitive test at a time within a test binary (each binary has its own copy
/// of this lock): a load test beside a latency test makes the latency test's generator
/// late.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A finished command's exit status and both outputs, for an assertion's message.
pub fn text(o: &Output) -> String {
    format!(
        "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The target directory and Cargo profile this test binary was built in (from
/// `<target>/<profile>/barrage`; the `dev` profile's folder is `debug`), so that a script a
/// test runs (`build-wheel.sh`, `build-bolt.sh`) reuses that build instead of repeating it.
pub fn tests_build() -> (PathBuf, String) {
    let exe = Path::new(env!("CARGO_BIN_EXE_barrage"));
    let folder = exe
        .parent()
        .expect("the binary sits in <target>/<profile>/");
    let profile = match folder.file_name().map(|f| f.to_string_lossy()).as_deref() {
        Some("debug") => "dev".to_string(),
        Some(other) => other.to_string(),
        None => panic!("the binary sits in <target>/<profile>/"),
    };
    let target = folder.parent().expect("<target>/<profile>/").to_path_buf();
    (target, profile)
}

/// One of the repository's scripts (`scripts/NAME`), run as a user runs it: without the
/// variables cargo sets for a test, whose build scripts watch `CARGO_MANIFEST_DIR` and
/// would see it change and rebuild half the tree, for the script's build and the next
/// `cargo test`.
pub fn repo_script(name: &str) -> Command {
    let mut script = Command::new(repo_root().join("scripts").join(name));
    script.current_dir(repo_root());
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("CARGO_") && key_text != "CARGO_HOME" {
            script.env_remove(&key);
        }
    }
    script
}

/// Asserts that a `barrage --version`'s output names this crate's version.
pub fn assert_version(o: &Output) {
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("barrage {}", env!("CARGO_PKG_VERSION")),
        "{}",
        text(o)
    );
}

/// The per-second series' `field` (`users`, `requests`) from a result file.
pub fn series(doc: &serde_json::Value, field: &str) -> Vec<u64> {
    doc["series"]
        .as_array()
        .expect("the result file has a series")
        .iter()
        .map(|s| s[field].as_u64().expect("a count"))
        .collect()
}

/// The repository's root (the workspace holding `crates/barrage`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/barrage sits two levels below the repository root")
        .to_path_buf()
}

/// A port of 127.0.0.1 that was free a moment ago. Another process may take it before the
/// caller binds it; on a test machine that is rare enough to accept.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("binding 127.0.0.1:0 to find a free port")
        .port()
}

/// A child process that is killed and reaped when the guard drops, so a failing test never
/// leaves a server behind. Its output goes to a log file, read back for failure messages:
/// an unread pipe would fill up and stall a chatty server.
pub struct ChildGuard {
    name: String,
    child: Child,
    log: PathBuf,
}

impl ChildGuard {
    /// Starts `command` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, command: &mut Command, log: &Path) -> io::Result<ChildGuard> {
        let out = File::create(log)?;
        let err = out.try_clone()?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()?;
        Ok(ChildGuard {
            name: name.to_owned(),
            child,
            log: log.to_path_buf(),
        })
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the process has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// What the process has written so far, for failure messages.
    pub fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!(
            "--- {} output ({}) ---\n{text}",
            self.name,
            self.log.display()
        )
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Either may fail only because the process is already gone, which is the goal.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `command` to its end, capturing its output, or kills it after `within`.
pub fn run_with_timeout(command: &mut Command, within: Duration) -> Result<Output, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    // Both pipes are drained while the command runs, or it would block on a full one.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout is piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr is piped")));

    let deadline = Instant::now() + within;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        Some(status) => Ok(Output {
            status,
            stdout,
            stderr,
        }),
        None => Err(format!(
            "{command:?} was still running after {within:?} and was killed\n\
             --- stdout ---\n{}\n--- stderr ---\n{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr),
        )),
    }
}

/// `GET path` on a new connection (`connection: close`); the status and the body.
pub fn http_get(addr: SocketAddr, path: &str) -> io::Result<(u16, Vec<u8>)> {
    let timeout = Duration::from_secs(10);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\naccept: application/json\r\nconnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    parse_response(&response)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "malformed HTTP response"))
}

/// Splits a whole HTTP/1.1 response into status and body (content-length or chunked).
pub fn parse_response(response: &[u8]) -> Option<(u16, Vec<u8>)> {
    let head_end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&response[..head_end]).ok()?;
    let body = &response[head_end + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().ok()?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    let body = if chunked {
        decode_chunked(body)?
    } else {
        body.get(..length.unwrap_or(body.len()))?.to_vec()
    };
    Some((status, body))
}

fn decode_chunked(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size_text = size_text.split(';').next()?.trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

/// Polls `GET path` until it answers 200, for at most `within`; gives up early, with the
/// server's output, if the server process ends.
pub fn wait_for_http(
    addr: SocketAddr,
    path: &str,
    within: Duration,
    server: &mut ChildGuard,
) -> Result<Vec<u8>, String> {
    let deadline = Instant::now() + within;
    let mut last = String::from("no attempt yet");
    while Instant::now() < deadline {
        if let Some(status) = server.exited() {
            return Err(format!(
                "the server exited ({status}) before answering\n{}",
                server.log()
            ));
        }
        match http_get(addr, path) {
            Ok((200, body)) => return Ok(body),
            Ok((status, _)) => last = format!("status {status}"),
            Err(e) => last = e.to_string(),
        }
        thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "http://{addr}{path} did not answer 200 within {within:?} (last: {last})\n{}",
        server.log()
    ))
}

/// The barrage binary under test, with colour off and no `BARRAGE_*` settings leaking in
/// from the environment the tests run in. Every integration test starts barrage through
/// this (or [`barrage_limited`]), so a developer's `BARRAGE_USERS` never changes a test.
pub fn barrage() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_barrage"));
    isolate(&mut c);
    c
}

/// The barrage binary under test, started by `sh` after `ulimit LIMITS` (e.g. `-v 4194304`),
/// for tests of what barrage does when the system refuses it something. Arguments added to
/// the returned command go to barrage.
pub fn barrage_limited(limits: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("ulimit {limits} && exec \"$@\""))
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_barrage"));
    isolate(&mut c);
    c
}

/// Colour off and no `BARRAGE_*` variable from the test's environment, for a command that
/// runs barrage itself (a script given the binary's path).
pub fn isolate(c: &mut Command) -> &mut Command {
    c.env("NO_COLOR", "1");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BARRAGE_") {
            c.env_remove(key);
        }
    }
    c
}

/// Runs `c` to its end within a minute.
pub fn run(c: &mut Command) -> Output {
    run_with_timeout(c, Duration::from_secs(60)).expect("barrage finishes within 60 s")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
    p
}

pub fn read_json(p: &Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()))
}

/// The result file's endpoint entry for `method` and `name`.
pub fn endpoint<'a>(doc: &'a serde_json::Value, method: &str, name: &str) -> &'a serde_json::Value {
    doc["endpoints"]
        .as_array()
        .expect("the result file has an endpoints array")
        .iter()
        .find(|e| e["method"] == method && e["name"] == name)
        .unwrap_or_else(|| panic!("no endpoint {method} {name} in {doc}"))
}

/// The Python that has the test requirements: `BARRAGE_PYTHON`, as `scripts/test.sh` sets
/// it, or else the venv that script makes.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("BARRAGE_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = repo_root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "BARRAGE_PYTHON is not set and {} does not exist: run scripts/test.sh, which makes \
         the venv with the example's and the tests' requirements and sets BARRAGE_PYTHON",
        venv.display()
    );
    venv
}

/// `barrage run SCENARIO ARGS... -H HOST --json OUT`, within a minute.
pub fn run_scenario(
    scenario: &Path,
    args: &[&str],
    host: impl AsRef<std::ffi::OsStr>,
    out: &Path,
) -> Output {
    run(barrage()
        .arg("run")
        .arg(scenario)
        .args(args)
        .arg("-H")
        .arg(host)
        .arg("--json")
        .arg(out))
}

/// Holds the test binary's browser tests to one at a time: they measure the page's main
/// thread (no task over 200 ms), which a second Chromium and its load run on the machine's
/// two cores would slow down for reasons that are not the page's.
pub fn one_browser_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts `barrage ARGS --web --web-port 0` and waits for its `Web UI: URL` line; returns
/// the process and the URL.
pub fn serve_web(args: &[&str], dir: &Path) -> (ChildGuard, String) {
    let log = dir.join("barrage.log");
    let mut cmd = barrage();
    cmd.args(args).args(["--web", "--web-port", "0"]);
    let mut child = ChildGuard::spawn("barrage", &mut cmd, &log).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(url) = text.lines().find_map(|l| l.strip_prefix("Web UI: ")) {
            return (child, url.trim().to_owned());
        }
        assert!(child.exited().is_none(), "barrage ended\n{}", child.log());
        assert!(
            std::time::Instant::now() < deadline,
            "no Web UI line\n{}",
            child.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The exporters' tests' scenario (`export_prometheus.rs`, `export_otlp.rs`): items read
/// three times as often as a path that fails, so every counter has something to count;
/// `DURATION` is replaced with the run's length.
pub const EXPORT_SCENARIO: &str = r#"
load:
  users: 4
  spawn_rate: 4
  duration: DURATION
users:
  browser:
    think: 5ms
    tasks:
      items:
        weight: 3
        steps:
          - get: /items/1
      missing:
        weight: 1
        steps:
          - get: /nowhere
"#;

/// The exit code of a run of [`EXPORT_SCENARIO`]: 1, since every `/nowhere` fails (a 404),
/// which is how the failure counters get something to count.
pub const EXPORT_FAILED_REQUESTS: Option<i32> = Some(1);
