#!/usr/bin/env bash
# What `--batch-window` trades: CPU microseconds per request of an open-model run at a high
# rate on one worker, by window, beside a saturated closed run (`hit -c 50`) on the same
# target, with the schedule lag and the response times each window gives. One invocation,
# repetitions in rotating order; barrage pinned to CPU 1 with `taskset -c 1` and the target
# on CPU 0 (../shared/bench/targets.sh pins nginx).
#
#   bench/bench_batch_window.sh [BARRAGE] [URL] [RATE] [REPS] [SECONDS] [WINDOWS...]
#   e.g. (after ../shared/bench/targets.sh start nginx)
#   bench/bench_batch_window.sh target/release/barrage http://127.0.0.1:8080/ 50000 5 5 0us 50us 200us 500us 1ms
#
# Prints one line per run and then the medians. Loopback only; each run lasts SECONDS.
set -euo pipefail
bin="${1:-target/release/barrage}"; url="${2:-http://127.0.0.1:8080/}"; rate="${3:-50000}"
reps="${4:-5}"; secs="${5:-5}"; shift $(( $# < 5 ? $# : 5 ))
windows=("$@"); [[ ${#windows[@]} -gt 0 ]] || windows=(0us 50us 200us 500us 1ms)
case "$url" in
  http://127.0.0.1:*|http://\[::1\]:*) ;;
  *) echo "only loopback targets (127.0.0.1, [::1])" >&2; exit 2;;
esac
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for rep in $(seq "$reps"); do
  for window in "${windows[@]}" saturated; do
    if [[ $window == saturated ]]; then
      args=(hit -c 50 -d "${secs}s")
    else
      args=(hit --rate "$rate" -c 200 -d "${secs}s" --batch-window "$window")
    fi
    taskset -c 1 /usr/bin/time -f "%U %S" -o "$work/time" "$bin" "${args[@]}" --workers 1 \
      --only-summary --json "$work/r.json" "$url" >/dev/null 2>&1
    python3 - "$work" "$rep" "$window" <<'PY'
import json, sys
work, rep, window = sys.argv[1:]
d = json.load(open(f"{work}/r.json"))
user, system = map(float, open(f"{work}/time").read().split())
a, lag = d["aggregate"], d["generator"]["schedule_lag"]
n = a["requests"]
print(rep, window, f"{(user + system) / n * 1e6:.2f}", f"{lag['p99'] if lag['count'] else 0:.3f}",
      f"{a['response_time']['p50']:.3f}", f"{a['response_time']['p99']:.3f}", n)
PY
  done
done | tee "$work/runs"
python3 - "$work/runs" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    _, window, *figures = line.split()
    rows[window].append([float(f) for f in figures])
saturated = statistics.median(r[0] for r in rows["saturated"])
print("window      µs/request  x saturated  lag p99 ms  response p50 ms  response p99 ms")
for window, runs in rows.items():
    m = [statistics.median(r[i] for r in runs) for i in range(4)]
    print(f"{window:10}  {m[0]:10.2f}  {m[0] / saturated:11.2f}  {m[1]:10.3f}  {m[2]:15.3f}  {m[3]:15.3f}")
PY
