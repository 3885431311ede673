//! The service a sweep starts for each configuration (`--serve`): its command line with
//! the values filled in, started by `sh -c` in a process group of its own with its output
//! kept in a file, waited for until it answers, and stopped (the whole group) after the
//! search, on Ctrl-C and on error, also when the caller unwinds (the guard's `Drop`).
//!
//! Why a process group: a service is rarely one process (`uvicorn --workers 4` is a master
//! and four workers, `sh -c` may add itself), and signalling only the child would leave its
//! workers holding the port for the next configuration. The group is also why a Ctrl-C at
//! the terminal does not reach the service: the terminal signals its foreground group, and
//! barrage, not the service, decides when the service stops.
//!
//! Why barrage makes itself a child subreaper (Linux): when the group is killed, the
//! service's workers are orphaned and handed to init, and an init that does not reap (a
//! container's first process often does not) leaves them as zombies in the group for good.
//! As a subreaper, barrage is handed them instead and reaps them itself, so "the group is
//! gone" is something it can check and make true.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How often a starting service is asked whether it answers.
const POLL: Duration = Duration::from_millis(100);
/// How long a service may take to end after SIGTERM before it gets SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(5);
/// How long the group may take to vanish after SIGKILL (only a process stuck in the kernel
/// takes any time at all).
const KILL_GRACE: Duration = Duration::from_secs(2);
/// Lines of the service's log quoted in an error.
const TAIL_LINES: usize = 20;

/// Why a service could not be started, did not answer, or could not be stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ServeError {
    #[error(
        "the sweep starts the service on this machine, so the target must be a loopback \
         http:// URL (http://127.0.0.1:PORT or http://localhost:PORT), not {target}; \
         set -H or the file's `target:`"
    )]
    NotLoopback { target: String },
    #[error("the scenario has no target: give -H http://127.0.0.1:PORT (where --serve listens)")]
    NoTarget,
    #[error(
        "something already answers on {authority} (a previous service still running, or \
         another program): stop it first"
    )]
    PortTaken { authority: String },
    #[error("cannot open the service's log {}: {source}", path.display())]
    Log { path: PathBuf, source: io::Error },
    #[error("cannot start `sh -c {command}`: {source}")]
    Spawn { command: String, source: io::Error },
    #[error(
        "the service exited ({status}) before answering {url}; the last lines of its log \
         {}:\n{tail}",
        log.display()
    )]
    Exited {
        status: ExitStatus,
        url: String,
        log: PathBuf,
        tail: String,
    },
    #[error(
        "the service's command ended ({status}) before answering {url}: the service probably \
         daemonized (went to the background), which takes it out of barrage's process group; \
         run it in the foreground (nginx: `daemon off;`, gunicorn: no --daemon). The last \
         lines of its log {}:\n{tail}",
        log.display()
    )]
    Daemonized {
        status: ExitStatus,
        url: String,
        log: PathBuf,
        tail: String,
    },
    #[error("the service exited during the search: {status}; see {}", log.display())]
    ExitedDuringSearch { status: ExitStatus, log: PathBuf },
    #[error(
        "the service did not answer {url} within {} s (last: {last}); raise --serve-timeout \
         if it starts slowly. The last lines of its log {}:\n{tail}",
        within.as_secs_f64(), log.display()
    )]
    Timeout {
        url: String,
        within: Duration,
        last: String,
        log: PathBuf,
        tail: String,
    },
    #[error("interrupted (Ctrl-C) while waiting for the service to answer")]
    Interrupted,
    #[error(
        "processes of the service's group {pgid} are still running after SIGKILL; the next \
         configuration cannot start beside them"
    )]
    Lingering { pgid: i32 },
}

/// Where a sweep's service must answer: a loopback `http://` origin and the base path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServeTarget {
    /// `host:port` as connected to and sent in `Host`.
    pub authority: String,
    /// The path asked for (the target's path, `/` at the root).
    pub path: String,
}

impl ServeTarget {
    /// From the target's base URL. Only loopback http is accepted: the sweep started the
    /// service on this machine, and a TLS handshake is not worth writing a readiness check
    /// for.
    pub fn from_url(url: &str) -> Result<ServeTarget, ServeError> {
        let refused = || ServeError::NotLoopback {
            target: url.to_string(),
        };
        let parsed = url::Url::parse(url).map_err(|_| refused())?;
        if parsed.scheme() != "http" {
            return Err(refused());
        }
        let loopback = match parsed.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            None => false,
        };
        if !loopback {
            return Err(refused());
        }
        let host = match parsed.host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            Some(h) => h.to_string(),
            None => return Err(refused()),
        };
        let port = parsed.port_or_known_default().unwrap_or(80);
        Ok(ServeTarget {
            authority: format!("{host}:{port}"),
            path: parsed.path().to_string(),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}{}", self.authority, self.path)
    }

    /// Whether something accepts a connection on the target's port already. Asked before a
    /// service starts: a readiness check would take the other program's answer for the new
    /// service's, and the search would measure the wrong thing.
    pub async fn answers(&self) -> bool {
        let connect = tokio::net::TcpStream::connect(&self.authority);
        matches!(
            tokio::time::timeout(Duration::from_secs(1), connect).await,
            Ok(Ok(_))
        )
    }

    /// One `GET`: `Ok` with the status line's code when an HTTP response starts, whatever
    /// its status (a 404 or 401 at the root still means the service is up).
    async fn ask(&self) -> Result<u16, String> {
        let exchange = async {
            let mut stream = tokio::net::TcpStream::connect(&self.authority)
                .await
                .map_err(|e| e.to_string())?;
            let request = format!(
                "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nUser-Agent: barrage\r\n\r\n",
                self.path, self.authority
            );
            stream
                .write_all(request.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            let mut head = [0u8; 12];
            let mut got = 0;
            while got < head.len() {
                match stream.read(&mut head[got..]).await {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) => return Err(e.to_string()),
                }
            }
            status_code(&head[..got]).ok_or_else(|| "an answer that is not HTTP".to_string())
        };
        tokio::time::timeout(Duration::from_secs(2), exchange)
            .await
            .unwrap_or_else(|_| Err("no answer within 2 s".to_string()))
    }
}

/// The code of an `HTTP/1.x NNN` status line's start.
fn status_code(head: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(head).ok()?;
    let rest = text.strip_prefix("HTTP/")?;
    let code = rest.split(' ').nth(1)?;
    code.get(..3)?.parse().ok()
}

/// A started service: its process group, stopped when [`Service::stop`] is called or the
/// guard drops (an error, a panic), so no path out of a sweep leaves it running.
pub(crate) struct Service {
    child: Child,
    pgid: Pid,
    log: PathBuf,
    /// The log's length when this start began: the tail quoted in errors is this start's.
    log_start: u64,
    stopped: bool,
}

impl Service {
    /// Starts `sh -c COMMAND` in a new process group with `env` added to its environment,
    /// stdin closed, stdout and stderr appended to `log` (after a line saying what started).
    pub fn start(
        command: &str,
        env: &[(String, String)],
        log: &Path,
    ) -> Result<Service, ServeError> {
        become_subreaper();
        let log_error = |source| ServeError::Log {
            path: log.to_path_buf(),
            source,
        };
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(log_error)?;
        let log_start = out.seek(SeekFrom::End(0)).map_err(log_error)?;
        let env_words: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        writeln!(
            out,
            "--- barrage capacity: starting `{}sh -c {command}` ---",
            env_words.concat()
        )
        .map_err(log_error)?;
        let err = out.try_clone().map_err(log_error)?;
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new("sh")
                .arg("-c")
                .arg(command)
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .process_group(0)
                .spawn()
                .map_err(|source| ServeError::Spawn {
                    command: command.to_string(),
                    source,
                })?
        };
        let pgid = Pid::from_raw(child.id() as i32);
        Ok(Service {
            child,
            pgid,
            log: log.to_path_buf(),
            log_start,
            stopped: false,
        })
    }

    /// The process group (the `sh` process's id).
    pub fn pgid(&self) -> i32 {
        self.pgid.as_raw()
    }

    /// Waits until `target` answers an HTTP request (any status), asking every 100 ms for at
    /// most `within`. Fails, quoting the end of the log, when the service exits first or the
    /// time runs out; `Interrupted` when `interrupts` (the caller's Ctrl-C listener, made
    /// before the service started so no press is missed) fires. The caller stops the
    /// service in every case.
    pub async fn wait_ready(
        &mut self,
        target: &ServeTarget,
        within: Duration,
        interrupts: &mut Option<tokio::signal::unix::Signal>,
    ) -> Result<(), ServeError> {
        let interrupted = async {
            match interrupts.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            ready = self.poll_ready(target, within) => ready,
            () = interrupted => Err(ServeError::Interrupted),
        }
    }

    async fn poll_ready(
        &mut self,
        target: &ServeTarget,
        within: Duration,
    ) -> Result<(), ServeError> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // `sh` ending well before the service answers is a service that forked
                // into the background and left its foreground process to exit.
                if status.success() {
                    return Err(ServeError::Daemonized {
                        status,
                        url: target.url(),
                        log: self.log.clone(),
                        tail: self.tail(),
                    });
                }
                return Err(ServeError::Exited {
                    status,
                    url: target.url(),
                    log: self.log.clone(),
                    tail: self.tail(),
                });
            }
            let last = match target.ask().await {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                return Err(ServeError::Timeout {
                    url: target.url(),
                    within,
                    last,
                    log: self.log.clone(),
                    tail: self.tail(),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// `Err` when the service's process (`sh`, or what it `exec`ed) has exited: asked after a
    /// search, whose figures then describe a service that went away part-way.
    pub fn check_running(&mut self) -> Result<(), ServeError> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(ServeError::ExitedDuringSearch {
                status,
                log: self.log.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// The last lines this start wrote to the log, indented for quoting.
    fn tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            let _ = f.seek(SeekFrom::Start(self.log_start));
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(TAIL_LINES);
        let shown: Vec<String> = lines[from..].iter().map(|l| format!("    {l}")).collect();
        if shown.is_empty() {
            "    (nothing)".to_string()
        } else {
            shown.join("\n")
        }
    }

    /// SIGTERM to the whole group, up to 5 s for it to end, then SIGKILL; every process of
    /// the group that is barrage's child is reaped. `Ok` once no process of the group is left
    /// (zombies of another parent aside: they hold nothing). Calling it again does nothing.
    pub fn stop(&mut self) -> Result<(), ServeError> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let pgid = self.pgid;
        if end_group(pgid, || self.reap()) {
            Ok(())
        } else {
            Err(ServeError::Lingering {
                pgid: pgid.as_raw(),
            })
        }
    }

    /// Reaps the `sh` child, then any other ended process of the group handed to barrage
    /// as their subreaper.
    fn reap(&mut self) {
        // An error means `sh` was already reaped by the group wait below.
        let _ = self.child.try_wait();
        reap_group(self.pgid);
    }
}

/// SIGTERM to group `pgid`, up to 5 s for it to end, then SIGKILL and up to 2 s more,
/// calling `reap` while waiting; `true` once no process of the group is left.
fn end_group(pgid: Pid, mut reap: impl FnMut()) -> bool {
    for (signal, grace) in [(Signal::SIGTERM, TERM_GRACE), (Signal::SIGKILL, KILL_GRACE)] {
        // ESRCH: the group is already empty, which is the goal.
        let _ = killpg(pgid, signal);
        let deadline = Instant::now() + grace;
        loop {
            reap();
            if !group_alive(pgid) {
                // Those that ended since the reap above are zombies now: reap them too
                // (including any handed to barrage when their parent in the group died).
                reap();
                return true;
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    false
}

/// Reaps every ended process of group `pgid` that is barrage's child.
fn reap_group(pgid: Pid) {
    let group = Pid::from_raw(-pgid.as_raw());
    loop {
        match waitpid(group, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) | Err(_) => break,
            Ok(_) => continue,
        }
    }
}

/// Stops group `pgid` as [`Service::stop`] does, for a caller that has only the group's id
/// (the sweep's SIGTERM handler, which runs beside the code that owns the [`Service`]);
/// `false` when processes outlive SIGKILL.
pub(crate) fn stop_group(pgid: i32) -> bool {
    let pgid = Pid::from_raw(pgid);
    end_group(pgid, || reap_group(pgid))
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("error: {e}");
        }
    }
}

/// Makes barrage the reaper of its orphaned descendants (see the module comment). Failing
/// is harmless where init reaps, so the error is not reported.
fn become_subreaper() {
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

/// Whether any process of group `pgid` still runs (zombies do not count: they hold no
/// port and no memory, and those that are barrage's are reaped before this is asked).
#[cfg(target_os = "linux")]
pub(crate) fn group_alive(pgid: Pid) -> bool {
    group_members(pgid.as_raw())
        .iter()
        .any(|&(_, state)| state != 'Z')
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn group_alive(pgid: Pid) -> bool {
    killpg(pgid, None).is_ok()
}

/// The processes of group `pgid`, with their state letter, from `/proc/PID/stat`.
#[cfg(target_os = "linux")]
fn group_members(pgid: i32) -> Vec<(i32, char)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        // A process may end between the listing and the read: then it is not there.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some((state, group)) = state_and_group(&stat) {
            if group == pgid {
                found.push((pid, state));
            }
        }
    }
    found
}

/// The state and process group of a `/proc/PID/stat` line. The command name in parentheses
/// may hold spaces and parentheses, so the fields are counted from the last `)`.
fn state_and_group(stat: &str) -> Option<(char, i32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let group = fields.next()?.parse().ok()?;
    Some((state, group))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_targets_are_served() {
        let t = ServeTarget::from_url("http://127.0.0.1:8000").unwrap();
        assert_eq!(t.authority, "127.0.0.1:8000");
        assert_eq!(t.path, "/");
        let t = ServeTarget::from_url("http://localhost:9000/api/v1").unwrap();
        assert_eq!(
            (t.authority.as_str(), t.path.as_str()),
            ("localhost:9000", "/api/v1")
        );
        let t = ServeTarget::from_url("http://[::1]/").unwrap();
        assert_eq!(t.authority, "[::1]:80");
        for refused in [
            "https://127.0.0.1:8443",
            "http://10.0.0.5:8000",
            "http://example.com",
            "not a url",
        ] {
            let e = ServeTarget::from_url(refused).unwrap_err();
            assert!(
                matches!(e, ServeError::NotLoopback { .. }),
                "{refused}: {e}"
            );
            assert!(e.to_string().contains(refused), "{e}");
        }
    }

    #[test]
    fn status_lines_are_read() {
        assert_eq!(status_code(b"HTTP/1.1 404 Not"), Some(404));
        assert_eq!(status_code(b"HTTP/1.0 200"), Some(200));
        assert_eq!(status_code(b"SSH-2.0-Open"), None);
        assert_eq!(status_code(b""), None);
    }

    #[test]
    fn proc_stat_lines_are_read_past_odd_names() {
        let line = "4242 (my (odd) name) S 1 4240 4240 0 -1 4194560 ...";
        assert_eq!(state_and_group(line), Some(('S', 4240)));
        assert_eq!(state_and_group("12 (sh) Z 1 12 12"), Some(('Z', 12)));
        assert_eq!(state_and_group("garbage"), None);
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the test")
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port()
    }

    /// A Python `http.server` behind `sh -c`, with a `sleep` beside it in the same group:
    /// it answers, and after `stop` nothing of the group is left, not even the child that
    /// ignores SIGTERM.
    #[test]
    fn a_started_service_answers_and_its_whole_group_is_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("svc.log");
        let port = free_port();
        let command = format!(
            "(trap '' TERM; sleep 60) & exec python3 -m http.server {port} --bind 127.0.0.1"
        );
        let mut service = Service::start(&command, &[("GREETING".into(), "hi".into())], &log)
            .expect("starting the service");
        let pgid = Pid::from_raw(service.pgid());
        let target = ServeTarget::from_url(&format!("http://127.0.0.1:{port}")).unwrap();
        runtime()
            .block_on(service.wait_ready(&target, Duration::from_secs(20), &mut None))
            .expect("python's http.server answers");
        assert!(group_alive(pgid));
        let started = Instant::now();
        service.stop().expect("the group ends");
        assert!(!group_alive(pgid), "{:?}", group_members(pgid.as_raw()));
        assert!(group_members(pgid.as_raw()).is_empty(), "zombies left");
        // The sleep ignores SIGTERM: it takes the 5 s grace and then SIGKILL.
        assert!(started.elapsed() >= TERM_GRACE, "{:?}", started.elapsed());
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.contains("GREETING=hi sh -c (trap"), "{text}");
    }

    #[test]
    fn a_service_that_exits_at_once_is_an_error_quoting_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("svc.log");
        std::fs::write(&log, "an earlier start's line\n").unwrap();
        let mut service = Service::start("echo 'no such module: app'; exit 3", &[], &log).unwrap();
        let target = ServeTarget::from_url(&format!("http://127.0.0.1:{}", free_port())).unwrap();
        let e = runtime()
            .block_on(service.wait_ready(&target, Duration::from_secs(10), &mut None))
            .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, ServeError::Exited { .. }), "{text}");
        assert!(text.contains("exit status: 3"), "{text}");
        assert!(text.contains("no such module: app"), "{text}");
        assert!(text.contains(&log.display().to_string()), "{text}");
        assert!(!text.contains("an earlier start"), "{text}");
        service.stop().unwrap();
    }

    #[test]
    fn a_service_that_never_answers_times_out_and_drop_stops_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("svc.log");
        let pgid;
        {
            let mut service = Service::start("echo starting; sleep 60", &[], &log).unwrap();
            pgid = Pid::from_raw(service.pgid());
            let target =
                ServeTarget::from_url(&format!("http://127.0.0.1:{}", free_port())).unwrap();
            let started = Instant::now();
            let e = runtime()
                .block_on(service.wait_ready(&target, Duration::from_millis(500), &mut None))
                .unwrap_err();
            assert!(started.elapsed() < Duration::from_secs(3));
            let text = e.to_string();
            assert!(matches!(e, ServeError::Timeout { .. }), "{text}");
            assert!(text.contains("within 0.5 s"), "{text}");
            assert!(text.contains("    starting"), "{text}");
            assert!(group_alive(pgid));
        }
        assert!(!group_alive(pgid), "Drop did not stop the group");
    }

    #[test]
    fn a_port_that_already_answers_is_seen() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = ServeTarget::from_url(&format!("http://127.0.0.1:{port}")).unwrap();
        assert!(runtime().block_on(target.answers()));
        // That a free port does not answer is what every other start relies on (a port
        // freed here could be taken at once by a test running beside this one).
        drop(listener);
        let e = ServeError::PortTaken {
            authority: target.authority.clone(),
        };
        assert_eq!(
            e.to_string(),
            format!(
                "something already answers on 127.0.0.1:{port} (a previous service still \
                 running, or another program): stop it first"
            )
        );
    }

    #[test]
    fn a_command_that_ends_well_before_answering_is_taken_for_a_daemon() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("svc.log");
        // What a daemon does: the real work goes on in the background, the foreground ends 0.
        let mut service = Service::start("(sleep 30 &); echo forked", &[], &log).unwrap();
        let pgid = Pid::from_raw(service.pgid());
        let target = ServeTarget::from_url(&format!("http://127.0.0.1:{}", free_port())).unwrap();
        let e = runtime()
            .block_on(service.wait_ready(&target, Duration::from_secs(10), &mut None))
            .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, ServeError::Daemonized { .. }), "{text}");
        assert!(text.contains("probably daemonized"), "{text}");
        assert!(text.contains("daemon off;"), "{text}");
        assert!(text.contains("    forked"), "{text}");
        service.stop().unwrap();
        assert!(!group_alive(pgid));
    }

    #[test]
    fn a_service_that_exits_after_answering_is_seen_after_the_search() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("svc.log");
        let mut running = Service::start("sleep 30", &[], &log).unwrap();
        let mut quits = Service::start("sleep 0.2; exit 4", &[], &log).unwrap();
        std::thread::sleep(Duration::from_millis(800));
        running.check_running().expect("sleep 30 still runs");
        let e = quits.check_running().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "the service exited during the search: exit status: 4; see {}",
                log.display()
            )
        );
        running.stop().unwrap();
        quits.stop().unwrap();
    }

    #[test]
    fn stop_group_ends_a_group_known_only_by_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("svc.log");
        let mut service = Service::start("sleep 30 & sleep 30", &[], &log).unwrap();
        let pgid = service.pgid();
        std::thread::sleep(Duration::from_millis(200));
        assert!(group_alive(Pid::from_raw(pgid)));
        assert!(stop_group(pgid));
        assert!(group_members(pgid).is_empty(), "{:?}", group_members(pgid));
        service.stop().unwrap();
    }
}
