//! The process source: the service's processes read from `/proc` (with `procfs`), found by
//! pid (`--monitor-pid`) or by the TCP port they listen on (`--monitor-port`).
//!
//! A port is the usual way in: a FastAPI service is a uvicorn master and `--workers N`
//! children (gunicorn alike), and the workers are the ones doing the work. The listeners
//! are found through the socket inodes of `/proc/net/tcp{,6}` and the processes' open
//! descriptors; their children are found again at every sample (by parent pid, to any
//! depth), so a worker started or restarted mid-run joins with columns of its own. One
//! source covers them all: the summed columns are what the service costs, the per-process
//! ones show a worker pinned at one core while its siblings idle.
//!
//! Everything that is a counter in `/proc` (CPU ticks, context switches, I/O and network
//! bytes) becomes a rate over the time between this source's own samples; a process's
//! first sample has nothing to compare with, so its rates start on its second.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use barrage_metrics::{Column, ProcessInfo, SourceKind, SourceSeries};
use procfs::net::TcpState;
use procfs::process::{FDTarget, Process};

use crate::{Source, SourceError};

/// The summed columns, in order; each process adds `cpu_pid_N` and `rss_pid_N` after them.
const SUMMED: &[(&str, &str, &str, Option<&str>)] = &[
    ("cpu", "CPU", "%", Some("server_cpu")),
    ("rss", "RSS", "bytes", Some("server_rss")),
    ("threads", "threads", "count", Some("server_threads")),
    (
        "open_files",
        "open files",
        "count",
        Some("server_open_files"),
    ),
    ("context_switches", "context switches", "/s", None),
    ("read_bytes", "disk read", "bytes/s", None),
    ("write_bytes", "disk write", "bytes/s", None),
    ("net_rx", "network received", "bytes/s", None),
    ("net_tx", "network sent", "bytes/s", None),
];

/// The longest command line kept in [`ProcessInfo::command`].
const COMMAND_CHARS: usize = 120;

pub struct ProcessSource {
    pids: Vec<u32>,
    ports: Vec<u16>,
    name: String,
    target: String,
    columns: Vec<Column>,
    /// The processes found directly (by pid or port), as `(pid, start time, how found)`.
    roots: Vec<Root>,
    /// Every process watched so far: its info and its `cpu_pid_N` column's index.
    known: Vec<(ProcessInfo, u64, usize)>,
    previous: HashMap<u32, Reading>,
    /// Per network namespace (its inode): the last byte counts.
    previous_net: HashMap<u64, NetReading>,
    ticks_per_second: f64,
    page_size: u64,
}

struct Root {
    pid: u32,
    start_time: u64,
    found: String,
    /// Found by port: its children are watched too.
    with_children: bool,
}

/// One process's counters at one sample.
#[derive(Clone, Debug)]
struct Reading {
    at: Instant,
    start_time: u64,
    cpu_ticks: u64,
    switches: Option<u64>,
    io: Option<(u64, u64)>,
}

struct NetReading {
    at: Instant,
    rx: u64,
    tx: u64,
}

impl ProcessSource {
    pub fn new(pids: &[u32], ports: &[u16]) -> ProcessSource {
        let mut what: Vec<String> = pids.iter().map(|p| format!("pid {p}")).collect();
        what.extend(ports.iter().map(|p| format!("port {p}")));
        let columns = SUMMED
            .iter()
            .map(|(key, label, unit, figure)| Column {
                key: (*key).to_owned(),
                label: (*label).to_owned(),
                unit: (*unit).to_owned(),
                figure: figure.map(str::to_owned),
            })
            .collect();
        ProcessSource {
            pids: pids.to_vec(),
            ports: ports.to_vec(),
            name: format!("processes ({})", what.join(", ")),
            target: what.join(", "),
            columns,
            roots: Vec::new(),
            known: Vec::new(),
            previous: HashMap::new(),
            previous_net: HashMap::new(),
            ticks_per_second: procfs::ticks_per_second() as f64,
            page_size: procfs::page_size(),
        }
    }

    /// Finds the processes asked for by pid and port; `Err` says what was not found.
    fn discover(&mut self) -> Result<(), SourceError> {
        let mut roots = Vec::new();
        let mut missing = Vec::new();
        for &pid in &self.pids {
            match Process::new(pid as i32).and_then(|p| p.stat()) {
                Ok(stat) if !exited(&stat) => roots.push(Root {
                    pid,
                    start_time: stat.starttime,
                    found: "--monitor-pid".to_owned(),
                    with_children: false,
                }),
                _ => missing.push(format!("no process {pid}")),
            }
        }
        for &port in &self.ports {
            let listening = listeners(port);
            if listening.is_empty() {
                missing.push(format!("nothing listens on port {port}"));
            }
            // Workers that inherited the listening socket are found again as children of
            // the one that opened it, which is the root.
            let pids: HashSet<u32> = listening.iter().map(|(pid, _)| *pid).collect();
            for (pid, stat) in listening {
                if !pids.contains(&(stat.ppid as u32)) {
                    roots.push(Root {
                        pid,
                        start_time: stat.starttime,
                        found: format!("listening on port {port}"),
                        with_children: true,
                    });
                }
            }
        }
        if roots.is_empty() {
            return Err(SourceError::new(missing.join("; ")));
        }
        self.roots = roots;
        Ok(())
    }

    /// The processes to read now: the roots still alive and, for those found by port,
    /// their descendants, with how each was found.
    fn watched(&self) -> Vec<(u32, Option<u32>, String)> {
        let mut watched: Vec<(u32, Option<u32>, String)> = Vec::new();
        let alive: Vec<&Root> = self
            .roots
            .iter()
            .filter(|r| start_time(r.pid) == Some(r.start_time))
            .collect();
        for root in &alive {
            watched.push((root.pid, None, root.found.clone()));
        }
        if alive.iter().any(|r| r.with_children) {
            let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
            if let Ok(all) = procfs::process::all_processes() {
                for stat in all.flatten().filter_map(|p| p.stat().ok()) {
                    if exited(&stat) {
                        continue;
                    }
                    children
                        .entry(stat.ppid as u32)
                        .or_default()
                        .push(stat.pid as u32);
                }
            }
            let mut seen: HashSet<u32> = watched.iter().map(|w| w.0).collect();
            let mut queue: Vec<u32> = alive
                .iter()
                .filter(|r| r.with_children)
                .map(|r| r.pid)
                .collect();
            while let Some(parent) = queue.pop() {
                let mut kids = children.remove(&parent).unwrap_or_default();
                kids.sort_unstable();
                for kid in kids {
                    if seen.insert(kid) {
                        watched.push((kid, Some(parent), format!("child of {parent}")));
                        queue.push(kid);
                    }
                }
            }
        }
        watched
    }

    /// The `cpu_pid_N` column of a process, adding its two columns when it is new.
    fn column_of(&mut self, pid: u32, ppid: Option<u32>, found: String, start: u64) -> usize {
        if let Some((_, _, i)) = self
            .known
            .iter()
            .find(|(info, started, _)| info.pid == pid && *started == start)
        {
            return *i;
        }
        let i = self.columns.len();
        let command = command_of(pid);
        self.columns.push(Column {
            key: format!("cpu_pid_{pid}"),
            label: format!("CPU pid {pid}"),
            unit: "%".to_owned(),
            figure: None,
        });
        self.columns.push(Column {
            key: format!("rss_pid_{pid}"),
            label: format!("RSS pid {pid}"),
            unit: "bytes".to_owned(),
            figure: None,
        });
        self.known.push((
            ProcessInfo {
                pid,
                ppid,
                command,
                found,
            },
            start,
            i,
        ));
        i
    }
}

impl Source for ProcessSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Process
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn target(&self) -> String {
        self.target.clone()
    }

    fn open(&mut self) -> Result<(), SourceError> {
        self.discover()
    }

    fn columns(&self) -> &[Column] {
        &self.columns
    }

    fn sample(&mut self) -> Result<Vec<Option<f64>>, SourceError> {
        let mut watched = self.watched();
        if watched.is_empty() && !self.ports.is_empty() {
            // The service was restarted: whoever listens now is the service.
            if self.discover().is_ok() {
                watched = self.watched();
            }
        }
        let now = Instant::now();
        let mut sums = Sums::default();
        let mut per_process: Vec<(usize, Option<f64>, f64)> = Vec::new();
        let mut readings = HashMap::new();
        let mut namespaces: Vec<(u64, u32)> = Vec::new();
        for (pid, parent, found) in watched {
            let Ok(process) = Process::new(pid as i32) else {
                continue;
            };
            let Ok(stat) = process.stat() else {
                continue;
            };
            if exited(&stat) {
                continue;
            }
            let ppid = parent.or(Some(stat.ppid as u32));
            let column = self.column_of(pid, ppid, found, stat.starttime);
            let status = process.status().ok();
            let reading = Reading {
                at: now,
                start_time: stat.starttime,
                cpu_ticks: stat.utime + stat.stime,
                switches: status
                    .as_ref()
                    .and_then(|s| Some(s.voluntary_ctxt_switches? + s.nonvoluntary_ctxt_switches?)),
                // Unreadable for another user's process without privileges: no figure,
                // not an error.
                io: process.io().ok().map(|io| (io.read_bytes, io.write_bytes)),
            };
            let before = self
                .previous
                .get(&pid)
                .filter(|b| b.start_time == reading.start_time);
            let cpu = before.and_then(|b| {
                let seconds = now.duration_since(b.at).as_secs_f64();
                (seconds > 0.0).then(|| {
                    let ticks = reading.cpu_ticks.saturating_sub(b.cpu_ticks) as f64;
                    ticks / self.ticks_per_second / seconds * 100.0
                })
            });
            let rss = (stat.rss * self.page_size) as f64;
            sums.cpu.add(cpu);
            sums.rss.add(Some(rss));
            sums.threads.add(Some(stat.num_threads as f64));
            sums.open_files
                .add(process.fd_count().ok().map(|n| n as f64));
            if let Some(b) = before {
                let seconds = now.duration_since(b.at).as_secs_f64();
                let rate = |new: u64, old: u64| new.saturating_sub(old) as f64 / seconds;
                if seconds > 0.0 {
                    if let (Some(n), Some(o)) = (reading.switches, b.switches) {
                        sums.switches.add(Some(rate(n, o)));
                    }
                    if let (Some(n), Some(o)) = (reading.io, b.io) {
                        sums.read.add(Some(rate(n.0, o.0)));
                        sums.write.add(Some(rate(n.1, o.1)));
                    }
                }
            }
            if let Some(ns) = net_namespace(pid) {
                if !namespaces.iter().any(|(n, _)| *n == ns) {
                    namespaces.push((ns, pid));
                }
            }
            per_process.push((column, cpu, rss));
            readings.insert(pid, reading);
        }
        if readings.is_empty() {
            self.previous.clear();
            return Err(SourceError::new(
                "every monitored process has exited".to_owned(),
            ));
        }
        self.previous = readings;
        let mut net_now = HashMap::new();
        for (ns, pid) in namespaces {
            let Ok(devices) = Process::new(pid as i32).and_then(|p| p.dev_status()) else {
                continue;
            };
            let rx = devices.values().map(|d| d.recv_bytes).sum();
            let tx = devices.values().map(|d| d.sent_bytes).sum();
            if let Some(before) = self.previous_net.get(&ns) {
                let seconds = now.duration_since(before.at).as_secs_f64();
                if seconds > 0.0 {
                    let rate = |new: u64, old: u64| new.saturating_sub(old) as f64 / seconds;
                    sums.net_rx.add(Some(rate(rx, before.rx)));
                    sums.net_tx.add(Some(rate(tx, before.tx)));
                }
            }
            net_now.insert(ns, NetReading { at: now, rx, tx });
        }
        self.previous_net = net_now;
        let mut values = vec![
            sums.cpu.0,
            sums.rss.0,
            sums.threads.0,
            sums.open_files.0,
            sums.switches.0,
            sums.read.0,
            sums.write.0,
            sums.net_rx.0,
            sums.net_tx.0,
        ];
        values.resize(self.columns.len(), None);
        for (column, cpu, rss) in per_process {
            values[column] = cpu;
            values[column + 1] = Some(rss);
        }
        Ok(values)
    }

    fn finish(&mut self, series: &mut SourceSeries) {
        series.processes = self.known.iter().map(|(info, _, _)| info.clone()).collect();
    }
}

/// A sum over processes that is `None` until some process measured it.
#[derive(Default)]
struct Sum(Option<f64>);

impl Sum {
    fn add(&mut self, value: Option<f64>) {
        if let Some(v) = value {
            self.0 = Some(self.0.unwrap_or(0.0) + v);
        }
    }
}

#[derive(Default)]
struct Sums {
    cpu: Sum,
    rss: Sum,
    threads: Sum,
    open_files: Sum,
    switches: Sum,
    read: Sum,
    write: Sum,
    net_rx: Sum,
    net_tx: Sum,
}

/// The start time of a running process (pids are reused, so a pid and its start time
/// name one process); `None` when it is gone or a zombie (exited, not yet reaped by its
/// parent: it has no CPU, memory or files left to read).
fn start_time(pid: u32) -> Option<u64> {
    Process::new(pid as i32)
        .and_then(|p| p.stat())
        .ok()
        .filter(|s| !exited(s))
        .map(|s| s.starttime)
}

fn exited(stat: &procfs::process::Stat) -> bool {
    matches!(stat.state, 'Z' | 'X')
}

/// The processes holding a listening TCP socket (IPv4 or IPv6) on `port`, with their stat.
fn listeners(port: u16) -> Vec<(u32, procfs::process::Stat)> {
    let mut inodes = HashSet::new();
    for table in [procfs::net::tcp(), procfs::net::tcp6()] {
        for entry in table.into_iter().flatten() {
            if entry.state == TcpState::Listen && entry.local_address.port() == port {
                inodes.insert(entry.inode);
            }
        }
    }
    if inodes.is_empty() {
        return Vec::new();
    }
    let Ok(all) = procfs::process::all_processes() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for process in all.flatten() {
        let Ok(fds) = process.fd() else {
            continue;
        };
        let holds = fds
            .flatten()
            .any(|fd| matches!(fd.target, FDTarget::Socket(inode) if inodes.contains(&inode)));
        if holds {
            if let Ok(stat) = process.stat() {
                found.push((process.pid as u32, stat));
            }
        }
    }
    found.sort_by_key(|(pid, _)| *pid);
    found
}

/// The inode of the process's network namespace, so each namespace's bytes count once.
fn net_namespace(pid: u32) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/net")).ok()?;
    let text = link.to_str()?;
    text.strip_prefix("net:[")?.strip_suffix(']')?.parse().ok()
}

/// The command line, shortened; a kernel thread or an unreadable one shows its name.
fn command_of(pid: u32) -> String {
    let Ok(process) = Process::new(pid as i32) else {
        return String::new();
    };
    let line = process.cmdline().unwrap_or_default().join(" ");
    let line = if line.is_empty() {
        process
            .stat()
            .map(|s| format!("[{}]", s.comm))
            .unwrap_or_default()
    } else {
        line
    };
    shorten(&line, COMMAND_CHARS)
}

fn shorten(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(chars - 1).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::process::Command;
    use std::time::Duration;

    fn column(source: &ProcessSource, key: &str) -> usize {
        source
            .columns()
            .iter()
            .position(|c| c.key == key)
            .unwrap_or_else(|| panic!("no column {key}"))
    }

    #[test]
    fn this_process_is_found_by_the_port_it_listens_on_and_measured() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = std::process::id();
        let mut source = ProcessSource::new(&[], &[port]);
        source.open().unwrap();
        let first = source.sample().unwrap();
        // A child started after the first sample joins at the next, through its parent.
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        // Half a second of work, so the CPU figure has something to show. The machine may be
        // shared (other tests run beside this one), so only a clear share of a core is
        // asserted; the integration test compares idle and loaded CPU on a real service.
        let busy = Instant::now();
        let mut x = 0u64;
        while busy.elapsed() < Duration::from_millis(500) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let second = source.sample().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        let child_rss = column(&source, &format!("rss_pid_{}", child.id()));
        assert!(
            first.len() <= child_rss,
            "the child's columns came after the first row"
        );
        assert!(second[child_rss].is_some_and(|b| b > 0.0));

        assert_eq!(
            first[column(&source, "cpu")],
            None,
            "no rate on the first sample"
        );
        let cpu = second[column(&source, "cpu")].unwrap();
        assert!(cpu >= 15.0, "cpu {cpu} %");
        let mine = second[column(&source, &format!("cpu_pid_{me}"))].unwrap();
        assert!(
            mine >= 15.0 && mine <= cpu,
            "this process's cpu {mine} % of {cpu} %"
        );
        let rss = second[column(&source, "rss")].unwrap();
        assert!(rss > 1e6, "rss {rss} bytes");
        assert!(second[column(&source, "threads")].unwrap() >= 1.0);
        assert!(second[column(&source, "open_files")].unwrap() >= 3.0);
        assert!(second[column(&source, "context_switches")].is_some());
        assert!(second[column(&source, "net_rx")].is_some());

        let mut series = SourceSeries::default();
        source.finish(&mut series);
        let found: Vec<(u32, &str)> = series
            .processes
            .iter()
            .map(|p| (p.pid, p.found.as_str()))
            .collect();
        assert_eq!(found[0], (me, &*format!("listening on port {port}")));
        let child_found = format!("child of {me}");
        assert!(
            found.contains(&(child.id(), child_found.as_str())),
            "{found:?}"
        );
        drop(listener);
    }

    #[test]
    fn a_process_that_exits_leaves_null_columns_and_all_gone_is_an_error() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        let mut source = ProcessSource::new(&[pid], &[]);
        source.open().unwrap();
        let first = source.sample().unwrap();
        assert!(first[column(&source, &format!("rss_pid_{pid}"))].is_some());
        child.kill().unwrap();
        // Not reaped yet: a zombie, which has exited all the same.
        std::thread::sleep(Duration::from_millis(100));
        let gone = source.sample().unwrap_err();
        child.wait().unwrap();
        assert_eq!(gone.to_string(), "every monitored process has exited");
    }

    #[test]
    fn nothing_to_watch_says_what_was_not_found() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut source = ProcessSource::new(&[], &[port]);
        assert_eq!(
            source.open().unwrap_err().to_string(),
            format!("nothing listens on port {port}")
        );
    }

    #[test]
    fn long_commands_are_shortened() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
