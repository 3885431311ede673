#!/usr/bin/env bash
# The CI load test, in one script: start the FastAPI example app, run its scenario with
# thresholds, compare the result with a stored baseline, and write a Markdown summary
# (appended to $GITHUB_STEP_SUMMARY when GitHub Actions sets it).
#
# github-actions.yml beside this file calls it, and the project's own tests run it too
# (crates/barrage/tests/ci_example.rs), so the example cannot rot.
#
# Settings, all optional (environment variables):
#   BARRAGE    the barrage binary                                   default: barrage (on PATH)
#   PYTHON     a Python with examples/fastapi-items/requirements.txt  default: python3
#   PORT       the app's port on 127.0.0.1                           default: 8000
#   USERS      concurrent users (all started within a second)        default: 100
#   DURATION   how long the load runs                                default: 30s
#   OUT_DIR    where the result file and the summaries go            default: loadtest-results
#   BASELINE   the result file to compare with                       default: examples/ci/baseline.json
#
# Exit code: 0 when the thresholds hold and no comparison gate fails; 1 when one of them
# fails; 2 or 3 when something could not run (bad usage, the app did not start).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Paths given relative to where the script was started, made absolute: the script works from
# the repository's root. A bare command name (`barrage`, `python3`) is looked up on PATH.
absolute() {
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        */*) printf '%s\n' "$PWD/$1" ;;
        *) printf '%s\n' "$1" ;;
    esac
}
barrage="$(absolute "${BARRAGE:-barrage}")"
python="$(absolute "${PYTHON:-python3}")"
port="${PORT:-8000}"
users="${USERS:-100}"
duration="${DURATION:-30s}"
mkdir -p "${OUT_DIR:-loadtest-results}"
out="$(cd "${OUT_DIR:-loadtest-results}" && pwd)"
baseline="$(absolute "${BASELINE:-$repo/examples/ci/baseline.json}")"
url="http://127.0.0.1:$port"
cd "$repo"

# 1. The app under test, in the background, stopped on exit whatever happens.
(cd examples/fastapi-items &&
    exec "$python" -m uvicorn app:app --host 127.0.0.1 --port "$port" --no-access-log) \
    >"$out/app.log" 2>&1 &
app=$!
trap 'kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true' EXIT

# 2. Wait (up to 30 s) until it answers.
ready=no
for _ in $(seq 150); do
    if "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
        "$url/" 2>/dev/null; then
        ready=yes
        break
    fi
    if ! kill -0 "$app" 2>/dev/null; then
        break
    fi
    sleep 0.2
done
if [ "$ready" != yes ]; then
    echo "error: the app did not answer on $url; its log:" >&2
    cat "$out/app.log" >&2
    exit 3
fi

# 3. The load test, judged by thresholds (exit 1 when one fails).
run_code=0
"$barrage" run examples/fastapi-items/scenario.yaml -H "$url" \
    -u "$users" -r "$users" -t "$duration" \
    --threshold 'p95<500ms' --threshold 'error_rate<1%' \
    --json "$out/result.json" --summary-md "$out/run.md" || run_code=$?

# 4. The comparison with the baseline. The gates are absolute because a stored baseline may
#    come from another machine; with a baseline from the same kind of runner (say, main's
#    last result kept as an artifact) relative gates such as 'p95>+10%' are sharper.
#    A gate whose endpoint saw too few requests says "not enough data" and does not fail.
compare_code=0
if [ -f "$out/result.json" ]; then
    "$barrage" compare "$baseline" "$out/result.json" \
        --fail-if 'p95>+50ms' --fail-if 'error_rate>+1%' \
        --json "$out/compare.json" --summary-md "$out/compare.md" || compare_code=$?
fi

# 5. One Markdown summary: the run's, then the comparison's.
: >"$out/summary.md"
for part in "$out/run.md" "$out/compare.md"; do
    if [ -f "$part" ]; then
        cat "$part" >>"$out/summary.md"
        echo >>"$out/summary.md"
    fi
done
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat "$out/summary.md" >>"$GITHUB_STEP_SUMMARY"
fi
echo "Summary: $out/summary.md (run exit code $run_code, compare exit code $compare_code)" >&2

if [ "$run_code" -ne 0 ]; then
    exit "$run_code"
fi
exit "$compare_code"
