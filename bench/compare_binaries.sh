#!/usr/bin/env bash
# Two barrage binaries side by side in one invocation: CPU microseconds per request
# (user + sys of the generator, pinned to CPU 1; the target should be pinned to CPU 0, as
# ../shared/bench/targets.sh does), for a closed-loop plain GET and a constant 2,000/s.
# Repetitions rotate the order, so drift on the machine falls on both alike.
#
#   bench/compare_binaries.sh OLD NEW [URL] [REPS] [SECONDS]
#   e.g. (after ../shared/bench/targets.sh start nginx)
#   bench/compare_binaries.sh /tmp/barrage-old target/release/barrage http://127.0.0.1:8080/ 5 8
#
# Prints one line per run and, per case, the medians and new/old. Loopback only: the URL
# must be on 127.0.0.1 or [::1]; each run is bounded by SECONDS.
set -euo pipefail
old="$1"; new="$2"; url="${3:-http://127.0.0.1:8080/}"; reps="${4:-5}"; secs="${5:-8}"
case "$url" in
  http://127.0.0.1:*|http://\[::1\]:*) ;;
  *) echo "only loopback targets (127.0.0.1, [::1])" >&2; exit 2;;
esac
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# run BIN CASE -> "cpu_us_per_request requests"
run() {
  local bin="$1" case="$2" extra=()
  [[ $case == rate2000 ]] && extra=(--rate 2000 -c 200)
  [[ $case == get ]] && extra=(-c 50)
  /usr/bin/time -f "%U %S" -o "$work/time" taskset -c 1 "$bin" hit "$url" -d "${secs}s" \
    --workers 1 --only-summary "${extra[@]}" --json "$work/r.json" >/dev/null 2>"$work/err" || true
  local req cpu
  req=$(python3 -c "import json,sys; print(json.load(open('$work/r.json'))['aggregate']['requests'])")
  cpu=$(awk '{print ($1+$2)*1e6}' "$work/time")
  python3 -c "print(f'{$cpu/$req:.3f} $req')"
}

declare -A results
for rep in $(seq 1 "$reps"); do
  if (( rep % 2 )); then order=(old new); else order=(new old); fi
  for case in get rate2000; do
    for which in "${order[@]}"; do
      bin=$old; [[ $which == new ]] && bin=$new
      line=$(run "$bin" "$case")
      echo "rep $rep $case $which: ${line%% *} us/request, ${line##* } requests"
      results[$case.$which]+="${line%% *} "
    done
  done
done

median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.3f}')" "$@"; }
for case in get rate2000; do
  o=$(median ${results[$case.old]}); n=$(median ${results[$case.new]})
  python3 -c "print(f'$case: old {$o} us/request, new {$n} us/request, new/old {$n/$o:.3f}')"
done
