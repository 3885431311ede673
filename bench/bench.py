#!/usr/bin/env python3
"""barrage's own benchmark cases (issue 3), beside the shared peer harness.

The plain-GET peer table comes from ../shared/bench/run_peers.sh; this script measures the
cases that harness has no column for:

  scenario  the scenario case (bench/scenario.yaml) vs Locust FastHttpUser doing the same
            (bench/locust_scenario.py), with wrk's plain GET as the reference
  users     1,000 / 5,000 / 10,000 mostly idle users (bench/users.yaml): RSS, CPU, and
            memory per additional user from the slope
  live      CPU per request with the live view on (stderr on a pseudo-terminal) vs off
  soak      constant rate for a long time, RSS every 10 s (on demand, never in CI)

The method is the shared harness's: the generator is pinned to one CPU (`taskset -c 1`;
nginx is on CPU 0), and its cost is the CPU the kernel charged to it (user + system, from
`wait4`) divided by the requests it completed, so a tool that is merely slower is not
mistaken for a cheaper one. Peak RSS is the generator's VmHWM, followed while it runs
(see Measured for why not ru_maxrss). Every run has a deadline (SIGINT, then SIGKILL), and
only loopback targets are accepted.

Each subcommand prints a Markdown table and writes it, the per-run rows and every tool's
raw output under OUT/<case>/ (OUT: --out, default $BENCH_WORK/barrage-bench-project, or
$TMPDIR/barrage-bench-project). Standard library only.
"""

import argparse
import csv
import fcntl
import ipaddress
import json
import math
import os
import platform
import pty
import re
import resource
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
TMP = Path(os.environ.get("TMPDIR", "/tmp"))

# A run may overrun its duration by this much (start-up, Locust's import, barrage's stop
# timeout) before it is interrupted; after SIGINT it gets KILL_AFTER_S more to write its
# result before SIGKILL.
GRACE_S = 60
KILL_AFTER_S = 15
POLL_S = 0.1


class BenchError(Exception):
    """A problem with the set-up (missing tool, bad flag): printed, exit status 2."""


# ------------------------------------------------------------------ arguments


def duration_s(text):
    """'90', '90s', '30m', '1h' -> whole seconds (barrage, wrk and Locust all take `Ns`)."""
    m = re.fullmatch(r"\s*(\d+)\s*(s|m|h)?\s*", text)
    if not m or int(m.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration: use 10, 10s, 30m or 1h")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2) or "s"]


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def count_list(text):
    """'1000,5000,10000' -> [1000, 5000, 10000]."""
    try:
        counts = sorted({positive_int(part) for part in text.split(",") if part.strip()})
    except argparse.ArgumentTypeError:
        counts = []
    if not counts:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of user counts, e.g. 1000,5000")
    return counts


def loopback_url(url):
    """The URL, if it is plain HTTP to a loopback address: load never leaves this machine."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not loopback:
        raise BenchError(f"refusing {url!r}: only http:// to 127.0.0.0/8, ::1 or localhost")
    return url.rstrip("/")


def default_out():
    work = os.environ.get("BENCH_WORK")
    return Path(work) / "barrage-bench-project" if work else TMP / "barrage-bench-project"


def default_locust():
    work = Path(os.environ.get("BENCH_WORK") or TMP / "barrage-bench")
    return os.environ.get("LOCUST") or str(work / "venv" / "bin" / "locust")


def require_exe(path, hint):
    if not (path and os.path.isfile(path) and os.access(path, os.X_OK)):
        raise BenchError(f"{path or '(none)'} is not an executable: {hint}")
    return path


# ------------------------------------------------------------------ measuring one run


class Measured:
    """One finished child: exit code, the CPU and memory charged to it, RSS samples.

    `maxrss_kib` is the generator's own peak, VmHWM read every POLL_S (so a peak in the
    last POLL_S of its life can be missed). wait4's ru_maxrss (`ru_maxrss_kib`) can't be
    used alone: Python starts children with vfork, and exec carries the parent's peak RSS
    into the child's ru_maxrss, so every tool would read at least this script's ~15 MiB.
    """

    def __init__(self, cmd, rc, cpu_s, maxrss_kib, ru_maxrss_kib, wall_s, samples, timed_out):
        self.cmd = cmd
        self.rc = rc
        self.cpu_s = cpu_s
        self.maxrss_kib = maxrss_kib
        self.ru_maxrss_kib = ru_maxrss_kib
        self.wall_s = wall_s
        self.samples = samples
        self.timed_out = timed_out


def proc_status_kib(pid, field):
    """A `kB` field of /proc/PID/status (VmRSS, VmHWM), or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def proc_cpu_s(pid):
    """utime + stime of a live process so far (all threads), from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run_measured(cmd, cpu, limit_s, stdout, stderr, sample_every=None, on_sample=None):
    """Runs `cmd` pinned to `cpu` and reaps it with wait4 for its own rusage.

    taskset execs the command, so the pid is the generator's and wait4's rusage is the
    generator's alone (all its threads). Its peak RSS is followed in VmHWM, which exec
    resets (see Measured). Every `sample_every` seconds the VmRSS is recorded (and handed
    to `on_sample`); past `limit_s` the child gets SIGINT, then SIGKILL.
    """
    full = ["taskset", "-c", cpu, *cmd]
    t0 = time.monotonic()
    proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
    samples, timed_out, interrupted_at, hwm = [], False, None, None
    next_sample = t0 + sample_every if sample_every else math.inf
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            now = time.monotonic()
            hwm = max(filter(None, (hwm, proc_status_kib(proc.pid, "VmHWM"))), default=None)
            if now >= next_sample:
                sample = {"t_s": round(now - t0, 2), "rss_kib": proc_status_kib(proc.pid, "VmRSS"),
                          "cpu_s": proc_cpu_s(proc.pid)}
                if sample["rss_kib"] is not None:
                    samples.append(sample)
                    if on_sample:
                        on_sample(sample)
                next_sample += sample_every
            if interrupted_at is None and now - t0 > limit_s:
                timed_out, interrupted_at = True, now
                proc.send_signal(signal.SIGINT)
            elif interrupted_at is not None and now - interrupted_at > KILL_AFTER_S:
                proc.kill()
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        # Ctrl-C reached the child too (same process group); let it write its result.
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(KILL_AFTER_S)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        cmd=full,
        rc=proc.returncode,
        cpu_s=usage.ru_utime + usage.ru_stime,
        maxrss_kib=hwm if hwm is not None else usage.ru_maxrss,
        ru_maxrss_kib=usage.ru_maxrss,  # kilobytes on Linux
        wall_s=time.monotonic() - t0,
        samples=samples,
        timed_out=timed_out,
    )


def run_to_files(cmd, cpu, limit_s, prefix, stderr=None, **kw):
    """run_measured with stdout to PREFIX.out and stderr to PREFIX.err (unless given)."""
    with open(f"{prefix}.out", "wb") as out:
        if stderr is not None:
            return run_measured(cmd, cpu, limit_s, out, stderr, **kw)
        with open(f"{prefix}.err", "wb") as err:
            return run_measured(cmd, cpu, limit_s, out, err, **kw)


def base_row(gen, rep, m):
    return {
        "gen": gen,
        "rep": rep,
        "cmd": " ".join(map(str, m.cmd)),
        "rc": m.rc,
        "timed_out": m.timed_out,
        "wall_s": round(m.wall_s, 3),
        "cpu_s": round(m.cpu_s, 4),
        "maxrss_kib": m.maxrss_kib,
        "ru_maxrss_kib": m.ru_maxrss_kib,
    }


def finish_row(row):
    """CPU per completed request, and a note when the run did not end as it should."""
    req = row.get("requests") or 0
    row["cpu_us_per_req"] = row["cpu_s"] * 1e6 / req if req else None
    ok_codes = (0, 1)  # 1: the run finished but some request failed
    if row["rc"] not in ok_codes or row["timed_out"] or not req:
        row["problem"] = (f"exit {row['rc']}" + (", timed out" if row["timed_out"] else "")
                          + ("" if req else ", no requests"))
    return row


# ------------------------------------------------------------------ reading the tools' output


def read_json(path):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def barrage_figures(path):
    """The result file's `aggregate`: requests include failures (every completed request)."""
    doc = read_json(path)
    if not doc or "aggregate" not in doc:
        return {}
    agg = doc["aggregate"]
    rt = agg.get("response_time") or {}
    return {
        "requests": agg.get("requests"),
        "failures": agg.get("failures"),
        "rps": agg.get("rps"),
        "p50_ms": rt.get("p50"),
        "p99_ms": rt.get("p99"),
        "connections_opened": (doc.get("connections") or {}).get("opened"),
        "workers": (doc.get("run") or {}).get("workers"),
        "warnings": doc.get("warnings") or [],
        "endpoints": {f"{e.get('method')} {e.get('name')}": e.get("requests")
                      for e in doc.get("endpoints") or []},
    }


def locust_figures(path):
    """Locust's --json-file: one entry per endpoint; num_requests include failures."""
    entries = read_json(path)
    if not entries:
        return {}
    n = sum(e["num_requests"] for e in entries)
    start = min(e["start_time"] for e in entries)
    last = max(e["last_request_timestamp"] or start for e in entries)
    return {
        "requests": n,
        "failures": sum(e["num_failures"] for e in entries),
        "rps": n / (last - start) if last > start else None,
        "endpoints": {f"{e['method']} {e['name']}": e["num_requests"] for e in entries},
    }


def wrk_figures(path):
    text = Path(path).read_text(errors="replace") if Path(path).exists() else ""
    req = re.search(r"(\d+) requests in", text)
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "requests": int(req.group(1)) if req else None,
        "failures": errors + (int(non2xx.group(1)) if non2xx else 0),
        "rps": float(rps.group(1)) if rps else None,
    }


# ------------------------------------------------------------------ the machine and the target


def tool_version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0] if lines else None


def git_state():
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return f"{rev}{' + uncommitted changes' if dirty else ''}" if rev else None


def target_cpus(url):
    """CPUs the processes listening on the target's port may run on (from `ss`), if found."""
    port = urllib.parse.urlsplit(url).port or 80
    try:
        out = subprocess.run(["ss", "-Hltnp", f"( sport = :{port} )"], capture_output=True,
                             text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    cpus = set()
    for pid in {int(p) for p in re.findall(r"pid=(\d+)", out)}:
        try:
            cpus |= os.sched_getaffinity(pid)
        except OSError:
            continue
    return sorted(cpus) or None


def cpu_list(spec):
    """'1' / '0-1' / '1,3' -> {1} / {0, 1} / {1, 3}, as taskset reads them."""
    cpus = set()
    for part in spec.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m:
            raise BenchError(f"bad --cpu {spec!r}: use a CPU list such as 1, 0-1 or 1,3")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        cpus |= set(range(lo, hi + 1))
    return cpus


def machine(args, extra_tools=()):
    """What a reader needs to rerun and compare: host, versions, pinning."""
    cpu_model = None
    try:
        with open("/proc/cpuinfo") as fh:
            cpu_model = next((line.split(":", 1)[1].strip() for line in fh
                              if line.startswith("model name")), None)
    except OSError:
        pass
    info = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "host": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "barrage": tool_version([args.barrage, "--version"]),
        "git": git_state(),
        "generator_cpu": args.cpu,
        "target": args.host,
        "target_cpus": target_cpus(args.host),
    }
    for name, cmd in extra_tools:
        info[name] = tool_version(cmd)
    return info


def warn_shared_cpu(info, args):
    if info["target_cpus"] is None:
        print(f"warning: no process found listening for {args.host}; is nginx running "
              "(../shared/bench/targets.sh start nginx)?", file=sys.stderr)
    elif set(info["target_cpus"]) & cpu_list(args.cpu):
        print(f"warning: the target may run on CPUs {info['target_cpus']}, which include the "
              f"generator's ({args.cpu}); the figures mix the two", file=sys.stderr)


def describe(info):
    keys = ("date", "host", "cpus", "cpu_model", "barrage", "git", "wrk", "locust",
            "generator_cpu", "target", "target_cpus")
    return "\n".join(f"{k}: {info[k]}" for k in keys if info.get(k) is not None)


def warm_up(args):
    """A few seconds of untimed wrk load, so the first measured run is not the cold one."""
    if args.warmup and shutil.which("wrk"):
        subprocess.run(["taskset", "-c", args.cpu, "wrk", "-t1", "-c50", f"-d{args.warmup}s",
                        args.host + "/"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=args.warmup + GRACE_S, check=False)
        time.sleep(args.cooldown)


# ------------------------------------------------------------------ tables


def median(rows, key):
    vals = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
    return statistics.median(vals) if vals else None


def fmt(value, digits=0, scale=1.0):
    if value is None:
        return "n/a"
    return f"{value * scale:,.{digits}f}"


def markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def problems(rows):
    """Lines naming every run that did not end cleanly, so no bad run hides in a median."""
    return [f"- {r['gen']} rep {r['rep']}: {r['problem']} (see its .out/.err/.json)"
            for r in rows if r.get("problem")]


def publish(case_dir, name, info, rows, text, extra=None):
    """Prints the report and keeps it with the rows: OUT/<case>/results.md and runs.json."""
    report = f"## {name}\n\n```\n{describe(info)}\n```\n\n{text}\n"
    (case_dir / "results.md").write_text(report)
    doc = {"case": name, "machine": info, "runs": rows}
    doc.update(extra or {})
    (case_dir / "runs.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print()
    print(report)
    print(f"(raw runs and results.md in {case_dir})")


def case_dir(args, name):
    path = Path(args.out) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def progress(row):
    cost = fmt(row.get("cpu_us_per_req"), 1)
    note = f"  !! {row['problem']}" if row.get("problem") else ""
    print(f"  {row['gen']:<10} rep {row['rep']}: {fmt(row.get('requests'))} requests, "
          f"{fmt(row.get('rps'))}/s, {cost} CPU µs/req, "
          f"{fmt(row['maxrss_kib'] / 1024, 1)} MiB peak{note}", flush=True)


# ------------------------------------------------------------------ scenario


def scenario_barrage(args, prefix, rep):
    cmd = [args.barrage, "run", str(args.scenario), "-u", args.users, "-r", args.users,
           "-t", f"{args.duration}s", "--workers", args.workers, "--only-summary",
           "-H", args.host, "--json", f"{prefix}.json"]
    m = run_to_files(cmd, args.cpu, args.duration + GRACE_S, prefix)
    return finish_row({**base_row("barrage", rep, m), **barrage_figures(f"{prefix}.json")})


def scenario_locust(args, prefix, rep):
    cmd = [args.locust, "-f", str(args.locustfile), "--headless", "-u", args.users,
           "-r", args.users, "-t", f"{args.duration}s", "--host", args.host, "--only-summary",
           "--json-file", prefix, "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    m = run_to_files(cmd, args.cpu, args.duration + GRACE_S, prefix)
    return finish_row({**base_row("locust", rep, m), **locust_figures(f"{prefix}.json")})


def scenario_wrk(args, prefix, rep):
    cmd = ["wrk", "-t1", f"-c{args.users}", f"-d{args.duration}s", args.host + "/"]
    m = run_to_files(cmd, args.cpu, args.duration + GRACE_S, prefix)
    return finish_row({**base_row("wrk", rep, m), **wrk_figures(f"{prefix}.out")})


SCENARIO_GENS = {"barrage": scenario_barrage, "locust": scenario_locust, "wrk": scenario_wrk}
SCENARIO_LABELS = {
    "barrage": "barrage `run bench/scenario.yaml`",
    "locust": "Locust FastHttpUser (bench/locust_scenario.py)",
    "wrk": "wrk plain `GET /` (reference)",
}


def ratio_lines(rows, num, den):
    """CPU µs/req of `num` over `den`: median of the per-rep ratios, and ratio of the medians."""
    per_rep = []
    for rep in sorted({r["rep"] for r in rows}):
        a = next((r.get("cpu_us_per_req") for r in rows if r["rep"] == rep and r["gen"] == num), None)
        b = next((r.get("cpu_us_per_req") for r in rows if r["rep"] == rep and r["gen"] == den), None)
        if a and b:
            per_rep.append(a / b)
    a, b = median([r for r in rows if r["gen"] == num], "cpu_us_per_req"), \
        median([r for r in rows if r["gen"] == den], "cpu_us_per_req")
    return (statistics.median(per_rep) if per_rep else None,
            a / b if a and b else None,
            ", ".join(f"{x:.2f}" for x in per_rep))


def endpoint_shares(rows, gen):
    """Median share of each endpoint's requests: shows both tools ran the same mix."""
    shares = {}
    for r in rows:
        total = sum((r.get("endpoints") or {}).values())
        if r["gen"] != gen or not total:
            continue
        for name, n in r["endpoints"].items():
            shares.setdefault(name, []).append(n / total)
    return {name: statistics.median(v) for name, v in shares.items()}


def cmd_scenario(args):
    args.barrage = require_exe(args.barrage, "build it: cargo build --release -p barrage")
    args.locust = require_exe(args.locust, "run ../shared/bench/setup.sh, or pass --locust")
    require_exe(shutil.which("wrk"), "install wrk (../shared/bench/setup.sh)")
    args.users, args.workers = str(args.users), str(args.workers)
    out = case_dir(args, "scenario")
    info = machine(args, [("wrk", ["wrk", "-v"]), ("locust", [args.locust, "--version"])])
    warn_shared_cpu(info, args)
    print(f"scenario: {args.reps} reps x {args.duration}s, {args.users} users, CPU {args.cpu}")
    warm_up(args)
    gens, rows = list(SCENARIO_GENS), []
    for rep in range(1, args.reps + 1):
        shift = (rep - 1) % len(gens)
        for gen in gens[shift:] + gens[:shift]:  # rotate the order every repetition
            row = SCENARIO_GENS[gen](args, out / f"{gen}_rep{rep}", rep)
            rows.append(row)
            progress(row)
            time.sleep(args.cooldown)
    publish(out, "Scenario case", info, rows, scenario_report(args, rows))


def scenario_report(args, rows):
    table = []
    for gen in SCENARIO_GENS:
        mine = [r for r in rows if r["gen"] == gen]
        table.append([SCENARIO_LABELS[gen], len(mine), fmt(median(mine, "requests")),
                      fmt(median(mine, "failures")), fmt(median(mine, "rps")),
                      f"**{fmt(median(mine, 'cpu_us_per_req'), 1)}**",
                      fmt(median(mine, "maxrss_kib"), 1, 1 / 1024)])
    text = [f"{args.users} users (wrk: connections), zero think time, {args.duration} s, "
            f"medians of {args.reps}; generator on CPU {args.cpu}.", "",
            markdown(["generator", "runs", "requests", "failures", "req/s", "CPU µs/req",
                      "peak RSS MiB"], table), ""]
    ratios = []
    for num, den, label, target in (("barrage", "wrk", "barrage scenario / wrk plain GET", "≤ 1.3"),
                                    ("locust", "barrage", "Locust scenario / barrage scenario", "≥ 20")):
        per_rep, of_medians, each = ratio_lines(rows, num, den)
        ratios.append([label, fmt(per_rep, 2), fmt(of_medians, 2), each or "n/a", target])
    text += [markdown(["CPU µs/req ratio", "median of per-rep ratios", "ratio of medians",
                       "per rep", "issue 3 target"], ratios), ""]
    b, loc = endpoint_shares(rows, "barrage"), endpoint_shares(rows, "locust")
    names = sorted(set(b) | set(loc))
    text += ["Request mix (share of requests; 5/7, 1/7, 1/7 expected):", "",
             markdown(["endpoint", "barrage", "Locust"],
                      [[n, fmt(b.get(n), 1, 100) + " %", fmt(loc.get(n), 1, 100) + " %"] for n in names])]
    bad = problems(rows)
    if bad:
        text += ["", "Runs that did not end cleanly:", *bad]
    return "\n".join(text)


# ------------------------------------------------------------------ users


def steady_rss(samples, duration):
    """The last VmRSS sample taken while the load was still on (before the run's end)."""
    during = [s for s in samples if s["t_s"] <= duration]
    return (during or samples or [{}])[-1].get("rss_kib")


def cmd_users(args):
    args.barrage = require_exe(args.barrage, "build it: cargo build --release -p barrage")
    out = case_dir(args, "users")
    info = machine(args)
    warn_shared_cpu(info, args)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    info["open_files_limit"] = f"soft {soft}, hard {hard} (barrage raises its soft limit to the hard one)"
    if max(args.counts) + 64 > hard:
        print(f"warning: {max(args.counts)} users need about as many open files; the hard "
              f"limit is {hard}, so the largest runs will be capped", file=sys.stderr)
    if args.duration - args.spawn < 20:
        print(f"warning: all users run together for only {args.duration - args.spawn} s "
              "(the case wants at least 20 s: raise --duration)", file=sys.stderr)
    print(f"users: {args.counts} users, spawned over {args.spawn}s, {args.duration}s each, "
          f"think 1-5 s, CPU {args.cpu}")
    rows = []
    for rep in range(1, args.reps + 1):
        for n in args.counts:
            rows.append(users_run(args, out, n, rep))
            time.sleep(args.cooldown)
    text, slope = users_report(args, rows)
    publish(out, "Many users", info, rows, text, {"kib_per_additional_user": slope})


def users_run(args, out, n, rep):
    rate = math.ceil(n / args.spawn)
    prefix = out / f"barrage_{n}u_rep{rep}"
    cmd = [args.barrage, "run", str(args.scenario), "-u", str(n), "-r", str(rate),
           "-t", f"{args.duration}s", "--workers", str(args.workers), "--only-summary",
           "-H", args.host, "--json", f"{prefix}.json"]
    m = run_to_files(cmd, args.cpu, args.duration + GRACE_S, prefix, sample_every=1.0)
    (Path(f"{prefix}.rss.json")).write_text(json.dumps(m.samples) + "\n")
    row = {**base_row(f"{n} users", rep, m), **barrage_figures(f"{prefix}.json"),
           "users": n, "spawn_rate": rate, "all_running_s": args.duration - n / rate,
           "steady_rss_kib": steady_rss(m.samples, args.duration),
           "peak_sampled_rss_kib": max((s["rss_kib"] for s in m.samples), default=None)}
    row = finish_row(row)
    row["cpu_util"] = m.cpu_s / m.wall_s if m.wall_s else None
    progress(row)
    return row


def users_report(args, rows):
    table = []
    for n in args.counts:
        mine = [r for r in rows if r["users"] == n]
        steady = median(mine, "steady_rss_kib")
        table.append([f"{n:,}", len(mine), fmt(median(mine, "all_running_s")),
                      fmt(median(mine, "connections_opened")),
                      fmt(median(mine, "requests")), fmt(median(mine, "failures")),
                      fmt(median(mine, "rps")), fmt(median(mine, "cpu_s"), 2),
                      fmt(median(mine, "cpu_util"), 1, 100) + " %",
                      fmt(median(mine, "cpu_us_per_req"), 1),
                      f"**{fmt(steady, 1, 1 / 1024)}**", fmt(median(mine, "maxrss_kib"), 1, 1 / 1024),
                      fmt(steady / n if steady is not None else None, 1)])
    text = [f"GET / with think time 1-5 s (bench/users.yaml), users spawned over {args.spawn} s, "
            f"{args.duration} s per run, {args.workers} worker(s) on CPU {args.cpu}; steady RSS is "
            "the last 1-second VmRSS sample before the run's end, peak RSS the process's VmHWM.", "",
            markdown(["users", "runs", "all running s", "connections opened", "requests", "failures", "req/s",
                      "CPU s", "CPU %", "CPU µs/req", "steady RSS MiB", "peak RSS MiB",
                      "KiB/user (total)"], table)]
    small, large = args.counts[0], args.counts[-1]
    rss_small = median([r for r in rows if r["users"] == small], "steady_rss_kib")
    rss_large = median([r for r in rows if r["users"] == large], "steady_rss_kib")
    slope = None
    if large > small and rss_small is not None and rss_large is not None:
        slope = (rss_large - rss_small) / (large - small)
        text += ["", f"Memory per additional user (steady RSS, {small:,} -> {large:,} users): "
                     f"**{slope:.1f} KiB** (issue 3 target: ≤ 20 KB; 10,000 users ≤ 200 MB)."]
    warnings = sorted({w if isinstance(w, str) else json.dumps(w) for r in rows for w in r.get("warnings", [])})
    if warnings:
        text += ["", "barrage's warnings:", *[f"- {w}" for w in warnings]]
    bad = problems(rows)
    if bad:
        text += ["", "Runs that did not end cleanly:", *bad]
    return "\n".join(text), slope


# ------------------------------------------------------------------ live


def drain(fd, counter):
    """Reads and discards the pseudo-terminal's output so the child never blocks on it."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: every copy of the other end is closed
            return
        if not chunk:
            return
        counter[0] += len(chunk)


def live_run(args, out, mode, rep):
    prefix = out / f"{mode}_rep{rep}"
    cmd = [args.barrage, "hit", "-c", str(args.connections), "-d", f"{args.duration}s",
           "--workers", str(args.workers), "--json", f"{prefix}.json"]
    if mode == "off":
        cmd.append("--only-summary")
    cmd.append(args.host + "/")
    limit = args.duration + GRACE_S
    if mode == "off":
        m = run_to_files(cmd, args.cpu, limit, prefix, stderr=subprocess.DEVNULL)
        shown = 0
    else:
        primary, secondary = pty.openpty()
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        shown = [0]
        reader = threading.Thread(target=drain, args=(primary, shown), daemon=True)
        reader.start()
        try:
            m = run_to_files(cmd, args.cpu, limit, prefix, stderr=secondary)
        finally:
            os.close(secondary)
            reader.join(5)
            os.close(primary)
        shown = shown[0]
    row = finish_row({**base_row(f"live {mode}", rep, m), **barrage_figures(f"{prefix}.json"),
                      "mode": mode, "terminal_bytes": shown})
    progress(row)
    return row


def cmd_live(args):
    args.barrage = require_exe(args.barrage, "build it: cargo build --release -p barrage")
    out = case_dir(args, "live")
    info = machine(args)
    warn_shared_cpu(info, args)
    print(f"live: {args.reps} x on and off, {args.duration}s, {args.connections} connections, CPU {args.cpu}")
    warm_up(args)
    rows = []
    for rep in range(1, args.reps + 1):
        # Alternate which mode goes first, so a drift over time favours neither.
        for mode in (("on", "off") if rep % 2 else ("off", "on")):
            rows.append(live_run(args, out, mode, rep))
            time.sleep(args.cooldown)
    publish(out, "Cost of the live view", info, rows, live_report(args, rows))


def live_report(args, rows):
    table, med = [], {}
    for mode, label in (("on", "live view (stderr on a pseudo-terminal)"),
                        ("off", "`--only-summary` (stderr to /dev/null)")):
        mine = [r for r in rows if r["mode"] == mode]
        med[mode] = median(mine, "cpu_us_per_req")
        table.append([label, len(mine), fmt(median(mine, "rps")), f"**{fmt(med[mode], 2)}**",
                      ", ".join(fmt(r.get("cpu_us_per_req"), 2) for r in mine),
                      fmt(median(mine, "terminal_bytes"))])
    diff = (med["on"] - med["off"]) / med["off"] * 100 if med["on"] and med["off"] else None
    text = [f"`barrage hit -c {args.connections} -d {args.duration}s --workers {args.workers}` "
            f"against {args.host}/, {args.reps} alternating runs each; generator on CPU {args.cpu}.", "",
            markdown(["mode", "runs", "req/s", "CPU µs/req (median)", "per run",
                      "bytes drawn on the terminal"], table), "",
            f"The live view costs **{fmt(diff, 1)} %** CPU per request (median on vs median off; "
            "issue 3 target: < 2 %)."]
    bad = problems(rows)
    if bad:
        text += ["", "Runs that did not end cleanly:", *bad]
    return "\n".join(text)


# ------------------------------------------------------------------ soak


def cmd_soak(args):
    args.barrage = require_exe(args.barrage, "build it: cargo build --release -p barrage")
    out = case_dir(args, "soak")
    info = machine(args)
    warn_shared_cpu(info, args)
    prefix = out / "barrage_soak"
    cmd = [args.barrage, "hit", "--rate", str(args.rate), "-c", str(args.connections),
           "-d", f"{args.duration}s", "--workers", str(args.workers), "--only-summary",
           "--json", f"{prefix}.json", args.host + "/"]
    csv_path = out / "rss.csv"
    print(f"soak: {args.rate} req/s for {args.duration}s, RSS every {args.interval}s to {csv_path}")
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["t_s", "rss_kib", "cpu_s"])
        writer.writeheader()

        def record(sample):
            writer.writerow(sample)
            fh.flush()
            print(f"  {sample['t_s']:>8.0f} s  {sample['rss_kib'] / 1024:8.1f} MiB", flush=True)

        m = run_to_files(cmd, args.cpu, args.duration + GRACE_S, prefix,
                         sample_every=args.interval, on_sample=record)
    row = finish_row({**base_row("soak", 1, m), **barrage_figures(f"{prefix}.json")})
    during = [s for s in m.samples if s["t_s"] <= args.duration]
    ref = next((s for s in during if s["t_s"] >= args.reference), None)
    end = during[-1] if during else None
    row.update(reference_rss_kib=ref and ref["rss_kib"], reference_t_s=ref and ref["t_s"],
               end_rss_kib=end and end["rss_kib"], end_t_s=end and end["t_s"])
    publish(out, "Soak", info, [row], soak_report(args, row, during, csv_path))


def soak_report(args, row, during, csv_path):
    ref, end = row["reference_rss_kib"], row["end_rss_kib"]
    change = (end - ref) / ref * 100 if ref and end else None
    rss = [s["rss_kib"] for s in during]
    table = [[f"{args.rate:,}/s", f"{args.duration:,} s", fmt(row.get("requests")),
              fmt(row.get("failures")), fmt(row.get("rps")), fmt(row.get("cpu_us_per_req"), 1),
              f"{fmt(ref, 1, 1 / 1024)} (at {fmt(row['reference_t_s'])} s)",
              f"{fmt(end, 1, 1 / 1024)} (at {fmt(row['end_t_s'])} s)", f"**{fmt(change, 1)} %**",
              f"{fmt(min(rss, default=None), 1, 1 / 1024)}–{fmt(max(rss, default=None), 1, 1 / 1024)}"]]
    text = [f"`barrage hit --rate {args.rate} -c {args.connections} -d {args.duration}s "
            f"--workers {args.workers}` against {args.host}/; VmRSS every {args.interval} s in "
            f"{csv_path.name}; generator on CPU {args.cpu}.", "",
            markdown(["rate", "duration", "requests", "failures", "req/s", "CPU µs/req",
                      f"RSS MiB at {args.reference} s", "RSS MiB at the end", "change",
                      "RSS MiB min–max"], table), "",
            "Issue 3 target: RSS after 30 minutes within 5 % of RSS after 1 minute."]
    if ref is None:
        text.append(f"(No sample at or after {args.reference} s: the run is shorter than "
                    "--reference.)")
    bad = problems([row])
    if bad:
        text += ["", "Runs that did not end cleanly:", *bad]
    return "\n".join(text)


# ------------------------------------------------------------------ command line


def parser():
    top = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                  formatter_class=argparse.RawDescriptionHelpFormatter,
                                  epilog="Each subcommand has --help.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--barrage", default=os.environ.get("BARRAGE", str(REPO / "target/release/barrage")),
                        help="the binary (default: $BARRAGE or target/release/barrage)")
    common.add_argument("--host", default="http://127.0.0.1:8080",
                        help="the target, loopback only (default: the shared nginx)")
    common.add_argument("--cpu", default="1", help="CPU list the generator is pinned to (default 1)")
    common.add_argument("--workers", type=positive_int, default=1, help="barrage --workers (default 1)")
    common.add_argument("--out", default=str(default_out()),
                        help="where results go (default $BENCH_WORK/barrage-bench-project)")
    common.add_argument("--cooldown", type=float, default=2.0, help="idle seconds between runs")
    sub = top.add_subparsers(dest="case", required=True)

    p = sub.add_parser("scenario", parents=[common], help="scenario case vs Locust FastHttpUser, wrk reference")
    p.add_argument("--reps", type=positive_int, default=3)
    p.add_argument("--duration", type=duration_s, default=10, help="per run (default 10s)")
    p.add_argument("--users", type=positive_int, default=50)
    p.add_argument("--warmup", type=int, default=3, help="seconds of wrk load first (0: none)")
    p.add_argument("--scenario", type=Path, default=BENCH_DIR / "scenario.yaml")
    p.add_argument("--locustfile", type=Path, default=BENCH_DIR / "locust_scenario.py")
    p.add_argument("--locust", default=default_locust(), help="the locust executable (default: the shared venv's)")
    p.set_defaults(run=cmd_scenario)

    p = sub.add_parser("users", parents=[common], help="thousands of users with think time: RSS per user")
    p.add_argument("--counts", type=count_list, default=[1000, 5000, 10000], help="default 1000,5000,10000")
    p.add_argument("--duration", type=duration_s, default=40, help="per run, spawn included (default 40s)")
    p.add_argument("--spawn", type=duration_s, default=10, help="start all users within this (default 10s)")
    p.add_argument("--reps", type=positive_int, default=1)
    p.add_argument("--scenario", type=Path, default=BENCH_DIR / "users.yaml")
    p.set_defaults(run=cmd_users)

    p = sub.add_parser("live", parents=[common], help="CPU per request with the live view on vs off")
    p.add_argument("--reps", type=positive_int, default=5, help="runs of each mode (default 5)")
    p.add_argument("--duration", type=duration_s, default=10)
    p.add_argument("--connections", type=positive_int, default=50)
    p.add_argument("--warmup", type=int, default=3, help="seconds of wrk load first (0: none)")
    p.set_defaults(run=cmd_live)

    p = sub.add_parser("soak", parents=[common], help="constant rate for a long time, RSS every 10 s")
    p.add_argument("--rate", type=positive_int, default=2000, help="requests/s (default 2000)")
    p.add_argument("--duration", type=duration_s, default=1800, help="default 30m")
    p.add_argument("--connections", type=positive_int, default=50)
    p.add_argument("--interval", type=duration_s, default=10, help="RSS sample interval (default 10s)")
    p.add_argument("--reference", type=duration_s, default=60,
                   help="compare the end's RSS with the RSS at this time (default 1m)")
    p.set_defaults(run=cmd_soak)
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        args.host = loopback_url(args.host)
        cpu_list(args.cpu)
        args.run(args)
    except BenchError as exc:
        print(f"bench.py: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench.py: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
