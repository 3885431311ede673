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
//! first sample has nothing to compare with, so its rates start on its second. A reading
//! less than half an interval after the last gives no rate and is not kept as the next
//! one's base: CPU is counted in 10 ms ticks, so one tick over 5 ms would read as 200 %.
//!
//! A process reached several ways (a pid and its port, two ports) is one root, counted
//! once. Targets missing while others are found are looked for again at every sample and
//! said once each ([`Source::notes`]). At most [`MAX_PROCESS_COLUMNS`] processes get
//! columns of their own; the rest count in the sums only, so a server that keeps
//! replacing its workers cannot grow the table without end.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

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
/// At most this many processes get columns of their own (`cpu_pid_N`, `rss_pid_N`). A
/// server that replaces its workers all the time (gunicorn `--max-requests`) would
/// otherwise grow the table without end; later processes still count in the sums.
pub const MAX_PROCESS_COLUMNS: usize = 32;

pub struct ProcessSource {
    pids: Vec<u32>,
    ports: Vec<u16>,
    name: String,
    target: String,
    columns: Vec<Column>,
    /// The processes found directly (by pid or port), one per pid.
    roots: Vec<Root>,
    /// Targets asked for and not found at the last look: looked for again at every sample.
    missing: Vec<(Target, String)>,
    /// Missing targets already said on the timeline (each is said once).
    said_missing: HashSet<Target>,
    /// Every process with columns of its own, in the order they joined.
    known: Vec<ProcessInfo>,
    /// Every process seen, by `(pid, start time)` (pids are reused): its `cpu_pid_N`
    /// column's index, `None` past [`MAX_PROCESS_COLUMNS`].
    columns_of: HashMap<(u32, u64), Option<usize>>,
    /// Processes seen past the cap.
    uncolumned: u64,
    previous: HashMap<u32, Reading>,
    /// Per network namespace (its inode): the last byte counts.
    previous_net: HashMap<u64, NetReading>,
    /// Rates need at least this long between two readings: a tick is 10 ms of CPU, so
    /// over a few ms one tick would read as hundreds of percent.
    min_gap: Duration,
    notes: Vec<String>,
    ticks_per_second: f64,
    page_size: u64,
}

/// What was asked: `--monitor-pid P` or `--monitor-port N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Target {
    Pid(u32),
    Port(u16),
}

#[derive(Clone, Debug)]
struct Root {
    pid: u32,
    start_time: u64,
    /// How it was found; every way, when it was found more than one way.
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
    /// `interval` is the runner's: rates over less than half of it are not computed.
    pub fn new(pids: &[u32], ports: &[u16], interval: Duration) -> ProcessSource {
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
            missing: Vec::new(),
            said_missing: HashSet::new(),
            known: Vec::new(),
            columns_of: HashMap::new(),
            uncolumned: 0,
            previous: HashMap::new(),
            previous_net: HashMap::new(),
            min_gap: interval / 2,
            notes: Vec::new(),
            ticks_per_second: procfs::ticks_per_second() as f64,
            page_size: procfs::page_size(),
        }
    }

    /// Finds every process asked for by pid and port; `Err` says what was not found when
    /// nothing was. Targets not found while others were are kept in `missing`.
    fn discover(&mut self) -> Result<(), SourceError> {
        let mut targets: Vec<Target> = self.pids.iter().map(|&p| Target::Pid(p)).collect();
        targets.extend(self.ports.iter().map(|&p| Target::Port(p)));
        let mut roots = Vec::new();
        let mut missing = Vec::new();
        for target in targets {
            match find(target) {
                Ok(found) => roots.extend(found),
                Err(why) => missing.push((target, why)),
            }
        }
        if roots.is_empty() {
            return Err(SourceError::new(
                missing
                    .iter()
                    .map(|(_, why)| why.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
        }
        self.roots = Vec::new();
        add_roots(&mut self.roots, roots);
        self.missing = missing;
        self.say_missing();
        Ok(())
    }

    /// Looks again for the targets missing at the last look; those found join the roots.
    fn retry_missing(&mut self) {
        let missing = std::mem::take(&mut self.missing);
        for (target, why) in missing {
            match find(target) {
                Ok(found) => {
                    if self.said_missing.remove(&target) {
                        let pids: Vec<String> = found.iter().map(|r| r.pid.to_string()).collect();
                        self.notes.push(format!(
                            "{}: found now (pid {}), watched from here on",
                            target_words(target),
                            pids.join(", ")
                        ));
                    }
                    add_roots(&mut self.roots, found);
                }
                Err(now) => self
                    .missing
                    .push((target, if now.is_empty() { why } else { now })),
            }
        }
        self.say_missing();
    }

    fn say_missing(&mut self) {
        for (target, why) in &self.missing {
            if self.said_missing.insert(*target) {
                self.notes.push(format!(
                    "{why}; the others are watched, and {} is looked for again at every sample",
                    target_words(*target)
                ));
            }
        }
    }

    /// The processes to read now: the roots still alive and, for those found by port,
    /// their descendants, with how each was found. A process reached more than one way
    /// is read once.
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
            // The roots first: a root that is also another root's child is read as a root.
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

    /// The `cpu_pid_N` column of a process, adding its two columns when it is new; `None`
    /// for a process past [`MAX_PROCESS_COLUMNS`].
    fn column_of(
        &mut self,
        pid: u32,
        ppid: Option<u32>,
        found: String,
        start: u64,
    ) -> Option<usize> {
        if let Some(column) = self.columns_of.get(&(pid, start)) {
            return *column;
        }
        if self.known.len() >= MAX_PROCESS_COLUMNS {
            self.columns_of.insert((pid, start), None);
            self.uncolumned += 1;
            if self.uncolumned == 1 {
                self.notes.push(format!(
                    "more than {MAX_PROCESS_COLUMNS} processes (pid {pid} is the first past \
                     that): later ones count in the summed columns only"
                ));
            }
            return None;
        }
        let i = self.columns.len();
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
        self.known.push(ProcessInfo {
            pid,
            ppid,
            command: command_of(pid),
            found,
        });
        self.columns_of.insert((pid, start), Some(i));
        Some(i)
    }
}

/// The roots a target names: the process, or the processes listening on the port (those
/// that inherited the socket from another listener are found as its children instead).
fn find(target: Target) -> Result<Vec<Root>, String> {
    match target {
        Target::Pid(pid) => match Process::new(pid as i32).and_then(|p| p.stat()) {
            Ok(stat) if !exited(&stat) => Ok(vec![Root {
                pid,
                start_time: stat.starttime,
                found: "--monitor-pid".to_owned(),
                with_children: false,
            }]),
            _ => Err(format!("no process {pid}")),
        },
        Target::Port(port) => {
            let listening = listeners(port);
            let pids: HashSet<u32> = listening.iter().map(|(pid, _)| *pid).collect();
            let roots: Vec<Root> = listening
                .into_iter()
                .filter(|(_, stat)| !pids.contains(&(stat.ppid as u32)))
                .map(|(pid, stat)| Root {
                    pid,
                    start_time: stat.starttime,
                    found: format!("listening on port {port}"),
                    with_children: true,
                })
                .collect();
            if roots.is_empty() {
                Err(format!("nothing listens on port {port}"))
            } else {
                Ok(roots)
            }
        }
    }
}

/// Adds `found` to `roots`, one root per process: a process found again (the same pid
/// twice, a pid and its port, two ports of one server) gets every way it was found.
fn add_roots(roots: &mut Vec<Root>, found: Vec<Root>) {
    for root in found {
        match roots
            .iter_mut()
            .find(|r| r.pid == root.pid && r.start_time == root.start_time)
        {
            Some(known) => {
                if !known.found.split("; ").any(|f| f == root.found) {
                    known.found = format!("{}; {}", known.found, root.found);
                }
                known.with_children |= root.with_children;
            }
            None => roots.push(root),
        }
    }
}

fn target_words(target: Target) -> String {
    match target {
        Target::Pid(pid) => format!("pid {pid}"),
        Target::Port(port) => format!("port {port}"),
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

    fn notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    fn sample(&mut self) -> Result<Vec<Option<f64>>, SourceError> {
        if !self.missing.is_empty() {
            self.retry_missing();
        }
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
            // Too soon after the last reading for a rate: no rate now, and the last
            // reading stays the base of the next one.
            let base = before.filter(|b| now.duration_since(b.at) >= self.min_gap);
            let mut cpu = None;
            if let Some(b) = base {
                let seconds = now.duration_since(b.at).as_secs_f64();
                let rate = |new: u64, old: u64| new.saturating_sub(old) as f64 / seconds;
                cpu = Some(rate(reading.cpu_ticks, b.cpu_ticks) / self.ticks_per_second * 100.0);
                if let (Some(n), Some(o)) = (reading.switches, b.switches) {
                    sums.switches.add(Some(rate(n, o)));
                }
                if let (Some(n), Some(o)) = (reading.io, b.io) {
                    sums.read.add(Some(rate(n.0, o.0)));
                    sums.write.add(Some(rate(n.1, o.1)));
                }
            }
            let rss = (stat.rss * self.page_size) as f64;
            sums.cpu.add(cpu);
            sums.rss.add(Some(rss));
            sums.threads.add(Some(stat.num_threads as f64));
            sums.open_files
                .add(process.fd_count().ok().map(|n| n as f64));
            if let Some(ns) = net_namespace(pid) {
                if !namespaces.iter().any(|(n, _)| *n == ns) {
                    namespaces.push((ns, pid));
                }
            }
            if let Some(column) = column {
                per_process.push((column, cpu, rss));
            }
            let kept = match before {
                Some(b) if base.is_none() => b.clone(),
                _ => reading,
            };
            readings.insert(pid, kept);
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
            let reading = match self.previous_net.remove(&ns) {
                Some(before) if now.duration_since(before.at) < self.min_gap => before,
                Some(before) => {
                    let seconds = now.duration_since(before.at).as_secs_f64();
                    let rate = |new: u64, old: u64| new.saturating_sub(old) as f64 / seconds;
                    sums.net_rx.add(Some(rate(rx, before.rx)));
                    sums.net_tx.add(Some(rate(tx, before.tx)));
                    NetReading { at: now, rx, tx }
                }
                None => NetReading { at: now, rx, tx },
            };
            net_now.insert(ns, reading);
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
        series.processes = self.known.clone();
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

/// The command line, shortened; a kernel thread or an unreadable one shows its name. Read
/// as bytes: an argument need not be UTF-8, and a lossy line beats none.
fn command_of(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let line = String::from_utf8_lossy(&raw)
        .split('\0')
        .filter(|a| !a.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let line = if line.is_empty() {
        Process::new(pid as i32)
            .and_then(|p| p.stat())
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
    use std::os::unix::ffi::OsStrExt;
    use std::process::{Child, Command};
    use std::sync::{Mutex, MutexGuard};

    /// Tests that start children of this process or watch it by port take turns: the
    /// children of one would be watched by another's source.
    fn serial() -> MutexGuard<'static, ()> {
        static SERIAL: Mutex<()> = Mutex::new(());
        SERIAL.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn column(source: &ProcessSource, key: &str) -> usize {
        source
            .columns()
            .iter()
            .position(|c| c.key == key)
            .unwrap_or_else(|| panic!("no column {key}"))
    }

    fn listener() -> (TcpListener, u16) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        (listener, port)
    }

    /// This process's CPU ticks so far, and when they were read.
    fn my_ticks() -> (u64, Instant) {
        let stat = Process::myself().unwrap().stat().unwrap();
        (stat.utime + stat.stime, Instant::now())
    }

    fn busy(for_how_long: Duration) {
        let busy = Instant::now();
        let mut x = 0u64;
        while busy.elapsed() < for_how_long {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
    }

    /// The CPU (% of a core) a sample taken between the `outer` readings and outside the
    /// `inner` ones can show for this process: the bounds of its tick count over the
    /// bounds of its time span.
    fn cpu_bounds(outer: [(u64, Instant); 2], inner: [(u64, Instant); 2]) -> (f64, f64) {
        let tps = procfs::ticks_per_second() as f64;
        let ticks = |r: [(u64, Instant); 2]| (r[1].0 - r[0].0) as f64 / tps;
        let seconds = |r: [(u64, Instant); 2]| r[1].1.duration_since(r[0].1).as_secs_f64();
        (
            ticks(inner) / seconds(outer) * 100.0,
            ticks(outer) / seconds(inner) * 100.0,
        )
    }

    fn kill(mut child: Child) {
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn this_process_is_found_by_the_port_it_listens_on_and_measured() {
        let _serial = serial();
        let (listener, port) = listener();
        let me = std::process::id();
        let mut source = ProcessSource::new(&[], &[port], Duration::from_millis(500));
        source.open().unwrap();
        let o0 = my_ticks();
        let first = source.sample().unwrap();
        let i0 = my_ticks();
        // A child started after the first sample joins at the next, through its parent.
        let child = Command::new("sleep").arg("30").spawn().unwrap();
        let child_id = child.id();
        // Half a second of work, so the CPU figure has something to show.
        busy(Duration::from_millis(500));
        let i1 = my_ticks();
        let second = source.sample().unwrap();
        let o1 = my_ticks();
        kill(child);
        let child_rss = column(&source, &format!("rss_pid_{child_id}"));
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
        // This process's CPU is what /proc says it used between the two samples.
        assert!(i1.0 > i0.0, "the busy loop got some CPU");
        let (low, high) = cpu_bounds([o0, o1], [i0, i1]);
        let mine = second[column(&source, &format!("cpu_pid_{me}"))].unwrap();
        assert!(
            mine >= low - 1e-9 && mine <= high + 1e-9,
            "this process's cpu {mine} %, measured {low}-{high} %"
        );
        let cpu = second[column(&source, "cpu")].unwrap();
        assert!(mine <= cpu, "this process's cpu {mine} % of {cpu} %");
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
            found.contains(&(child_id, child_found.as_str())),
            "{found:?}"
        );
        drop(listener);
    }

    #[test]
    fn a_sample_soon_after_the_last_has_no_rates_and_the_next_counts_from_the_last_base() {
        let _serial = serial();
        let me = std::process::id();
        let mut source = ProcessSource::new(&[me], &[], Duration::from_secs(1));
        source.open().unwrap();
        let o0 = my_ticks();
        source.sample().unwrap();
        let i0 = my_ticks();
        // 5 ms later (the sample at the stop, say): a tick or two over 5 ms would read as
        // hundreds of percent.
        busy(Duration::from_millis(5));
        let soon = source.sample().unwrap();
        let cpu = column(&source, &format!("cpu_pid_{me}"));
        for key in ["cpu", "context_switches", "net_rx", "net_tx"] {
            assert_eq!(soon[column(&source, key)], None, "{key}");
        }
        assert_eq!(soon[cpu], None);
        assert!(soon[column(&source, "rss")].is_some(), "levels are kept");
        // Half an interval after the first: a rate over the whole span since it.
        busy(Duration::from_millis(500));
        let i1 = my_ticks();
        let later = source.sample().unwrap();
        let o1 = my_ticks();
        let (low, high) = cpu_bounds([o0, o1], [i0, i1]);
        let measured = later[cpu].unwrap();
        assert!(
            measured >= low - 1e-9 && measured <= high + 1e-9,
            "{measured} %, measured {low}-{high} %"
        );
        assert!(later[column(&source, "net_rx")].is_some());
    }

    #[test]
    fn a_process_reached_several_ways_is_counted_once() {
        let _serial = serial();
        let (a, port_a) = listener();
        let (b, port_b) = listener();
        let me = std::process::id();
        let mut source =
            ProcessSource::new(&[me, me], &[port_a, port_b], Duration::from_millis(10));
        source.open().unwrap();
        let row = source.sample().unwrap();
        let mut series = SourceSeries::default();
        source.finish(&mut series);
        let mine: Vec<&ProcessInfo> = series.processes.iter().filter(|p| p.pid == me).collect();
        assert_eq!(mine.len(), 1, "{:?}", series.processes);
        assert_eq!(
            mine[0].found,
            format!("--monitor-pid; listening on port {port_a}; listening on port {port_b}")
        );
        // The sums are the sums of the processes, each once.
        let per_process: f64 = source
            .columns()
            .iter()
            .enumerate()
            .filter(|(_, c)| c.key.starts_with("rss_pid_"))
            .filter_map(|(i, _)| row[i])
            .sum();
        assert_eq!(row[column(&source, "rss")], Some(per_process));
        drop((a, b));
    }

    #[test]
    fn past_the_cap_processes_count_in_the_sums_only_and_it_is_said() {
        let _serial = serial();
        let (listener, port) = listener();
        let children: Vec<Child> = (0..MAX_PROCESS_COLUMNS + 2)
            .map(|_| Command::new("sleep").arg("30").spawn().unwrap())
            .collect();
        let mut source = ProcessSource::new(&[], &[port], Duration::from_millis(10));
        source.open().unwrap();
        let row = source.sample().unwrap();
        let notes = source.notes();
        let mut series = SourceSeries::default();
        source.finish(&mut series);
        for child in children {
            kill(child);
        }
        assert_eq!(series.processes.len(), MAX_PROCESS_COLUMNS);
        assert_eq!(
            source.columns().len(),
            SUMMED.len() + 2 * MAX_PROCESS_COLUMNS
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("more than 32 processes (pid ")
                && notes[0].ends_with("): later ones count in the summed columns only"),
            "{notes:?}"
        );
        // This process and 34 children: 35 counted in the sums, 32 with columns.
        let threads = row[column(&source, "threads")].unwrap();
        assert!(threads >= (MAX_PROCESS_COLUMNS + 3) as f64, "{threads}");
        let listed_rss: f64 = (SUMMED.len()..source.columns().len())
            .step_by(2)
            .filter_map(|i| row[i + 1])
            .sum();
        assert!(row[column(&source, "rss")].unwrap() > listed_rss);
        drop(listener);
    }

    #[test]
    fn a_target_missing_at_the_start_is_said_once_and_joins_when_it_appears() {
        let _serial = serial();
        let (here, port) = listener();
        let (later, late_port) = listener();
        drop(later);
        let me = std::process::id();
        let mut source = ProcessSource::new(&[], &[port, late_port], Duration::from_millis(10));
        source.open().unwrap();
        assert_eq!(
            source.notes(),
            [format!(
                "nothing listens on port {late_port}; the others are watched, and port \
                 {late_port} is looked for again at every sample"
            )]
        );
        source.sample().unwrap();
        source.sample().unwrap();
        assert!(source.notes().is_empty(), "said once");
        let later = TcpListener::bind(("127.0.0.1", late_port)).unwrap();
        source.sample().unwrap();
        assert_eq!(
            source.notes(),
            [format!(
                "port {late_port}: found now (pid {me}), watched from here on"
            )]
        );
        assert_eq!(
            source.roots[0].found,
            format!("listening on port {port}; listening on port {late_port}")
        );
        assert!(source.missing.is_empty());
        drop((here, later));
    }

    #[test]
    fn a_process_that_exits_leaves_null_columns_and_all_gone_is_an_error() {
        let _serial = serial();
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        let mut source = ProcessSource::new(&[pid], &[], Duration::from_millis(10));
        source.open().unwrap();
        let first = source.sample().unwrap();
        assert!(first[column(&source, &format!("rss_pid_{pid}"))].is_some());
        child.kill().unwrap();
        // Not reaped yet: a zombie, which has exited all the same.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Process::new(pid as i32).unwrap().stat().unwrap().state != 'Z' {
            assert!(Instant::now() < deadline, "{pid} never became a zombie");
            std::thread::sleep(Duration::from_millis(5));
        }
        let gone = source.sample().unwrap_err();
        child.wait().unwrap();
        assert_eq!(gone.to_string(), "every monitored process has exited");
    }

    #[test]
    fn nothing_to_watch_says_what_was_not_found() {
        let port = listener().1;
        let mut source = ProcessSource::new(&[], &[port], Duration::from_secs(1));
        assert_eq!(
            source.open().unwrap_err().to_string(),
            format!("nothing listens on port {port}")
        );
    }

    #[test]
    fn a_command_line_that_is_not_utf8_is_kept_lossily() {
        let _serial = serial();
        // `; true` keeps the shell from replacing itself with `sleep`.
        let child = Command::new("sh")
            .args(["-c", "sleep 30; true"])
            .arg(std::ffi::OsStr::from_bytes(b"caf\xe9"))
            .spawn()
            .unwrap();
        // Right after the exec the new command line may not be readable yet.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut command = command_of(child.id());
        while command.starts_with('[') && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
            command = command_of(child.id());
        }
        kill(child);
        assert_eq!(command, "sh -c sleep 30; true caf\u{fffd}");
    }

    #[test]
    fn long_commands_are_shortened() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
