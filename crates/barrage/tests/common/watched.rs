//! A barrage process watched while it runs: its peak memory (VmHWM, read from /proc while it
//! lives, since a reaped process has no /proc entry left), its exit status and output, and
//! a deadline after which it is killed. For tests that bound time and memory per run (the
//! fault matrix, the soak test).
//!
//! Output goes to files, not pipes: a run against a hostile server may print a lot, and an
//! unread pipe would stall it.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How a watched run ended.
#[derive(Debug)]
pub struct Watched {
    /// `None` when the run was killed at its deadline.
    pub status: Option<ExitStatus>,
    /// The highest resident set size seen (kB), 0 when /proc had nothing to say.
    pub peak_rss_kb: u64,
    pub took: Duration,
    pub stdout: String,
    pub stderr: String,
}

impl Watched {
    /// A panic anywhere in barrage shows as exit code 101 and Rust's panic message.
    pub fn panicked(&self) -> bool {
        self.status.and_then(|s| s.code()) == Some(101) || self.stderr.contains("panicked at")
    }
}

/// The high-water mark of `pid`'s resident memory, in kB.
pub fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Starts `command` with its output in `dir/LABEL.out` and `.err`.
pub fn spawn(command: &mut Command, dir: &Path, label: &str) -> Child {
    let out = std::fs::File::create(dir.join(format!("{label}.out"))).expect("stdout file");
    let err = std::fs::File::create(dir.join(format!("{label}.err"))).expect("stderr file");
    command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"))
}

/// Waits for `child` (started by [`spawn`] with the same `dir` and `label`) until
/// `deadline`, reading its peak memory every 10 ms; kills it at the deadline.
pub fn wait(
    mut child: Child,
    dir: &Path,
    label: &str,
    started: Instant,
    within: Duration,
) -> Watched {
    let mut peak = 0;
    let status = loop {
        // Read before try_wait: once the child is reaped its /proc entry is gone.
        if let Some(kb) = vm_hwm_kb(child.id()) {
            peak = peak.max(kb);
        }
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < within => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let read =
        |ext: &str| std::fs::read_to_string(dir.join(format!("{label}.{ext}"))).unwrap_or_default();
    Watched {
        status,
        peak_rss_kb: peak,
        took: started.elapsed(),
        stdout: read("out"),
        stderr: read("err"),
    }
}

/// Runs `command` to its end or `within`, watched.
pub fn run(command: &mut Command, dir: &Path, label: &str, within: Duration) -> Watched {
    let started = Instant::now();
    let child = spawn(command, dir, label);
    wait(child, dir, label, started, within)
}
