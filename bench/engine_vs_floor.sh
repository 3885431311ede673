#!/usr/bin/env bash
# barrage, wrk and the floor (bench/floor: a bare tokio client) side by side in one
# invocation, closed loop: user and system CPU microseconds per request of the generator,
# pinned to CPU 1 (the target should be pinned to CPU 0, as ../shared/bench/targets.sh
# does). With TOUCH, the floor runs a second time reading TOUCH extra cache lines a request
# (--touch-lines): what each line the engine runs through costs once the kernel's work has
# pushed it out of the core's caches. Repetitions rotate the order.
#
#   bench/engine_vs_floor.sh BARRAGE FLOOR [URL] [REPS] [SECONDS] [TOUCH]
#   e.g. (after ../shared/bench/targets.sh start fastapi, and
#         cargo build --release -p barrage -p barrage-floor)
#   bench/engine_vs_floor.sh target/release/barrage target/release/barrage-floor \
#       http://127.0.0.1:8000/items/foo 4 8 300
#
# Prints one line per run and the medians per generator. Loopback only; each run is
# bounded by SECONDS. Needs wrk on PATH (../shared/bench/setup.sh installs it).
set -euo pipefail
barrage="$1"; floor="$2"; url="${3:-http://127.0.0.1:8000/items/foo}"
reps="${4:-4}"; secs="${5:-8}"; touch="${6:-}"
case "$url" in
  http://127.0.0.1:*|http://\[::1\]:*) ;;
  *) echo "only loopback targets (127.0.0.1, [::1])" >&2; exit 2;;
esac
command -v wrk >/dev/null || { echo "wrk is not on PATH" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

gens=(barrage wrk floor)
[[ -n $touch ]] && gens+=(floor+touch)

# run GEN -> "user_us sys_us requests" per request
run() {
  local cmd
  case "$1" in
    barrage) cmd=("$barrage" hit "$url" -c 50 -d "${secs}s" --workers 1 --only-summary) ;;
    wrk) cmd=(wrk -t 1 -c 50 -d "${secs}s" "$url") ;;
    floor) cmd=("$floor" "$url" -c 50 -d "$secs") ;;
    floor+touch) cmd=("$floor" "$url" -c 50 -d "$secs" --touch-lines "$touch") ;;
  esac
  /usr/bin/time -f "%U %S" -o "$work/time" taskset -c 1 "${cmd[@]}" >"$work/out" 2>&1 || true
  local req
  case "$1" in
    barrage) req=$(grep -oE '^[0-9]+ requests in' "$work/out" | grep -oE '^[0-9]+') ;;
    wrk) req=$(grep -oE '^ *[0-9]+ requests in' "$work/out" | grep -oE '[0-9]+' | head -1) ;;
    *) req=$(grep -oE '^[0-9]+ requests in' "$work/out" | grep -oE '^[0-9]+') ;;
  esac
  [[ -n $req && $req -gt 0 ]] || { echo "$1 made no request:" >&2; cat "$work/out" >&2; exit 1; }
  awk -v r="$req" '{printf "%.2f %.2f %d\n", $1*1e6/r, $2*1e6/r, r}' "$work/time"
}

declare -A user sys
for rep in $(seq 1 "$reps"); do
  n=${#gens[@]}
  for i in $(seq 0 $((n - 1))); do
    gen=${gens[$(((i + rep - 1) % n))]}
    read -r u s r <<<"$(run "$gen")"
    echo "rep $rep $gen: user $u sys $s total $(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}') us/request, $r requests"
    user[$gen]+="$u "; sys[$gen]+="$s "
    sleep 2
  done
done

median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.2f}')" "$@"; }
for gen in "${gens[@]}"; do
  u=$(median ${user[$gen]}); s=$(median ${sys[$gen]})
  echo "median $gen: user $u sys $s us/request"
done
