#!/usr/bin/env bash
# What the web UI costs the generator: CPU microseconds per request of a plain-GET run
# without `--web`, and with `--web --autostart` plus a live-update client attached (curl
# reading `/api/events`, the server-sent events the page follows). One invocation,
# repetitions in rotating order, so drift on the machine falls on both alike. barrage is
# pinned to CPU 1 with one worker (its control, sink and web threads share that core); the
# target and the curl client should be on CPU 0 (../shared/bench/targets.sh pins nginx).
#
#   bench/bench_web.sh [BARRAGE] [URL] [REPS] [SECONDS]
#   e.g. (after ../shared/bench/targets.sh start nginx)
#   bench/bench_web.sh target/release/barrage http://127.0.0.1:8080/ 5 8
#
# Prints one line per run, the medians and with/without. Loopback only; each run is
# bounded by SECONDS (the scenario's duration).
set -euo pipefail
bin="${1:-target/release/barrage}"; url="${2:-http://127.0.0.1:8080/}"; reps="${3:-5}"; secs="${4:-8}"
case "$url" in
  http://127.0.0.1:*|http://\[::1\]:*) ;;
  *) echo "only loopback targets (127.0.0.1, [::1])" >&2; exit 2;;
esac
work="$(mktemp -d)"
trap 'kill "${curl_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
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

# run MODE -> "cpu_us_per_request requests events"
run() {
  local mode="$1" extra=() port
  rm -f "$work/r.json" "$work/events"
  if [[ $mode == web ]]; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    extra=(--web --web-port "$port" --autostart)
  fi
  /usr/bin/time -f "%U %S" -o "$work/time" taskset -c 1 "$bin" run "$work/get.yaml" \
    --workers 1 --only-summary "${extra[@]}" --json "$work/r.json" >/dev/null 2>"$work/err" &
  local pid=$!
  if [[ $mode == web ]]; then
    # Attach the client as soon as the server answers (it starts before the load).
    for _ in $(seq 1 100); do
      grep -q "Web UI:" "$work/err" 2>/dev/null && break
      sleep 0.02
    done
    taskset -c 0 curl -sN "http://127.0.0.1:$port/api/events" > "$work/events" &
    curl_pid=$!
  fi
  wait "$pid" || true
  if [[ $mode == web ]]; then kill "$curl_pid" 2>/dev/null || true; wait "$curl_pid" 2>/dev/null || true; fi
  local req cpu events=0
  req=$(python3 -c "import json; print(json.load(open('$work/r.json'))['aggregate']['requests'])")
  cpu=$(awk '{print ($1+$2)*1e6}' "$work/time")
  [[ -f $work/events ]] && events=$(grep -c '^event: second' "$work/events" || true)
  python3 -c "print(f'{$cpu/$req:.3f} $req $events')"
}

declare -A results
for rep in $(seq 1 "$reps"); do
  if (( rep % 2 )); then order=(plain web); else order=(web plain); fi
  for mode in "${order[@]}"; do
    line=$(run "$mode")
    read -r us req events <<< "$line"
    echo "rep $rep $mode: $us us/request, $req requests, $events second events received"
    results[$mode]+="$us "
  done
done

median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.3f}')" "$@"; }
p=$(median ${results[plain]}); w=$(median ${results[web]})
python3 -c "print(f'plain GET: without --web {$p} us/request, with --web and an SSE client {$w} us/request, ratio {$w/$p:.3f}')"
