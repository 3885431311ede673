#!/usr/bin/env bash
# What monitoring and the exporters cost the generator: CPU microseconds per request of a
# plain-GET run without them, and with `--prometheus-listen` and a scraper attached (curl
# reading `/metrics` once a second, as Prometheus would), plus `--monitor-pid PID` when
# MONITOR_PID is set (e.g. nginx's master: `MONITOR_PID=$(cat $BENCH_WORK/nginx/nginx.pid)`).
# One invocation, repetitions in rotating order, so drift on the machine falls on both
# alike. barrage is pinned to CPU 1 with one worker (its control, sink, exporter and monitor
# threads share that core); the target and the scraper are on CPU 0
# (../shared/bench/targets.sh pins nginx). The same approach as bench/bench_web.sh.
#
#   [MONITOR_PID=PID] bench/bench_monitor.sh [BARRAGE] [URL] [REPS] [SECONDS]
#   e.g. (after ../shared/bench/targets.sh start nginx)
#   bench/bench_monitor.sh target/release/barrage http://127.0.0.1:8080/ 5 8
#
# Prints one line per run, the medians and with/without. Loopback only; each run is
# bounded by SECONDS (the scenario's duration), the scraper by the run.
set -euo pipefail
bin="${1:-target/release/barrage}"; url="${2:-http://127.0.0.1:8080/}"; reps="${3:-5}"; secs="${4:-8}"
case "$url" in
  http://127.0.0.1:*|http://\[::1\]:*) ;;
  *) echo "only loopback targets (127.0.0.1, [::1])" >&2; exit 2;;
esac
monitor=()
if [[ -n ${MONITOR_PID:-} ]]; then monitor=(--monitor-pid "$MONITOR_PID"); fi
work="$(mktemp -d)"
trap 'kill "${scraper_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/get.yaml" <<YAML
target: ${url%/}
load:
  users: 50
  spawn_rate: 50
  duration: ${secs}s
users:
  plain:
    think: none
    tasks:
      get:
        - get: /
YAML

# run MODE -> "cpu_us_per_request requests scrapes"
run() {
  local mode="$1" extra=() port
  rm -f "$work/r.json" "$work/scrapes"
  if [[ $mode == monitored ]]; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    extra=(--prometheus-listen "127.0.0.1:$port" "${monitor[@]}")
  fi
  /usr/bin/time -f "%U %S" -o "$work/time" taskset -c 1 "$bin" run "$work/get.yaml" \
    --workers 1 --only-summary "${extra[@]}" --json "$work/r.json" >/dev/null 2>"$work/err" &
  local pid=$!
  if [[ $mode == monitored ]]; then
    # The scraper: one GET a second while barrage runs (the listener is bound before the
    # load starts), each a line of its status in $work/scrapes.
    ( while kill -0 "$pid" 2>/dev/null; do
        taskset -c 0 curl -s -o /dev/null -w '%{http_code}\n' --max-time 2 \
          "http://127.0.0.1:$port/metrics" >> "$work/scrapes" || true
        sleep 1
      done ) &
    scraper_pid=$!
  fi
  wait "$pid" || true
  if [[ $mode == monitored ]]; then wait "$scraper_pid" 2>/dev/null || true; fi
  local req cpu scrapes=0
  req=$(python3 -c "import json; print(json.load(open('$work/r.json'))['aggregate']['requests'])")
  cpu=$(awk '{print ($1+$2)*1e6}' "$work/time")
  [[ -f $work/scrapes ]] && scrapes=$(grep -c '^200$' "$work/scrapes" || true)
  python3 -c "print(f'{$cpu/$req:.3f} $req $scrapes')"
}

declare -A results
for rep in $(seq 1 "$reps"); do
  if (( rep % 2 )); then order=(plain monitored); else order=(monitored plain); fi
  for mode in "${order[@]}"; do
    line=$(run "$mode")
    read -r us req scrapes <<< "$line"
    echo "rep $rep $mode: $us us/request, $req requests, $scrapes scrapes answered 200"
    results[$mode]+="$us "
  done
done

median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.3f}')" "$@"; }
p=$(median ${results[plain]}); m=$(median ${results[monitored]})
what="--prometheus-listen and a scraper"
[[ ${#monitor[@]} -gt 0 ]] && what="--prometheus-listen, a scraper and ${monitor[*]}"
python3 -c "print(f'plain GET: without {$p} us/request, with $what {$m} us/request, ratio {$m/$p:.3f}')"
