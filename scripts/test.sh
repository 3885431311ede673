#!/usr/bin/env bash
# Runs every test of the project, from anywhere: prepares what the tests need, then runs the
# Rust tests with the ignored ones included (they are ignored only because a bare
# `cargo test` lacks what this script prepares).
#
#   scripts/test.sh                                  every test
#   scripts/test.sh -p barrage --test fastapi_e2e    arguments replace `--workspace`: a part
#
# What it prepares:
#   .venv/   a Python venv with examples/fastapi-items/requirements.txt, for the end-to-end
#            test against the FastAPI example (exported as BARRAGE_PYTHON), and
#            scripts/requirements-test.txt (Locust, junitparser and kubernetes-validate,
#            for the output-format and manifest tests). Reused while both requirement files and the Python that made it are
#            unchanged (a stamp file holds their hash); made anew otherwise.
#   web/node_modules/   uPlot (embedded in the binary) and playwright-core (drives the
#            browser tests), by `npm ci` from web/package-lock.json; reused while the lock
#            file is unchanged.
#   chromium  Debian's package, for the browser tests (installed with apt-get when missing
#            and this runs as root; exported as BARRAGE_CHROMIUM).
#   postgresql, prometheus  Debian's packages, for the server-monitoring tests: a real
#            PostgreSQL behind a FastAPI endpoint (its binaries' folder exported as
#            BARRAGE_PG_BIN; the tests start their own server in a temporary folder, as the
#            `postgres` user when this runs as root) and a real Prometheus server scraping
#            `--prometheus-listen` (exported as BARRAGE_PROMETHEUS). Installed with apt-get
#            when missing, in one go with chromium.
#   nginx    Debian's package, for the capacity test where the generator, not the server, is
#            the limit (exported as BARRAGE_NGINX; the test starts its own nginx on loopback
#            with a configuration in a temporary folder). Installed with the others.
#   bolt-22  LLVM's post-link optimizer, Debian's package, for the test of
#            scripts/build-bolt.sh (its folder exported as BARRAGE_BOLT_DIR). Installed
#            with the others.
#
# Not prepared here: crates/barrage/tests/wheel.rs makes its own venv (from PyPI) and builds
# the Python wheel with scripts/build-wheel.sh, which makes its own maturin venv.
#
# Why `--profile ci`: tests that assert on timing (schedule lag, latency bounds) must measure
# the generator optimized, as users run it, and a debug build is several times slower on the
# hot path. The `ci` profile (Cargo.toml) is the release profile without its whole-program
# (fat LTO, one codegen unit) step, which every test binary would repeat: the code is
# optimized the same way crate by crate. If the build grows too slow, tune `[profile.ci]`
# rather than test a debug build.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

requirements="examples/fastapi-items/requirements.txt"
# Test-only packages (Locust and junitparser, for the output-format tests), in the same venv.
test_requirements="scripts/requirements-test.txt"
venv="$repo/.venv"
stamp="$venv/.barrage-requirements.sha256"
# The Python that makes the venv; BARRAGE_BOOTSTRAP_PYTHON picks another one.
python="${BARRAGE_BOOTSTRAP_PYTHON:-python3}"

phase() { printf '\n==> %s\n' "$*"; }

# `python -m venv` needs ensurepip, which Debian and Ubuntu ship apart from python3 (in
# python3.X-venv). Try venv; then, as root with apt-get, install that package and try again;
# then fall back to virtualenv from PyPI, which brings its own pip.
make_venv() {
    rm -rf "$venv"
    if "$python" -m venv "$venv"; then
        return 0
    fi
    rm -rf "$venv"
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
        local version
        version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
        phase "python venv is missing: installing python${version}-venv with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python${version}-venv" \
            || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv \
            || true
        if "$python" -m venv "$venv"; then
            return 0
        fi
        rm -rf "$venv"
    fi
    phase "python venv still fails: making the venv with virtualenv from PyPI"
    # --break-system-packages: a Debian python3 refuses --user installs without it (PEP 668);
    # older pips don't know the flag, hence the plain retry.
    "$python" -m pip install -q --user --no-warn-script-location --break-system-packages virtualenv \
        || "$python" -m pip install -q --user --no-warn-script-location virtualenv
    "$python" -m virtualenv -q "$venv"
}

if ! command -v "$python" >/dev/null 2>&1; then
    echo "error: $python not found; the FastAPI end-to-end test needs Python 3 (set BARRAGE_BOOTSTRAP_PYTHON)" >&2
    exit 1
fi

wanted="$( { sha256sum "$requirements" "$test_requirements"; "$python" -c 'import sys; print(sys.executable, sys.version)'; } \
    | sha256sum | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    phase "python venv: .venv is up to date with $requirements and $test_requirements"
else
    phase "python venv: making .venv and installing $requirements and $test_requirements"
    started=$SECONDS
    make_venv
    "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        -r "$requirements" -r "$test_requirements"
    # Written last, so an interrupted or failed install is redone next time.
    echo "$wanted" > "$stamp"
    echo "    done in $((SECONDS - started)) s"
fi
export BARRAGE_PYTHON="$venv/bin/python"

# Front-end packages: uPlot, which the barrage-web build embeds, and playwright-core for the
# browser tests (it drives the system Chromium; it never downloads a browser).
web_stamp="web/node_modules/.barrage-lock.sha256"
web_wanted="$(sha256sum web/package-lock.json | cut -d' ' -f1)"
if [ -d web/node_modules ] && [ "$(cat "$web_stamp" 2>/dev/null)" = "$web_wanted" ]; then
    phase "npm: web/node_modules is up to date with web/package-lock.json"
else
    phase "npm: installing web/package-lock.json (uPlot, playwright-core)"
    (cd web && npm ci --no-audit --no-fund)
    echo "$web_wanted" > "$web_stamp"
fi

# Debian's Chromium for the browser tests, PostgreSQL and Prometheus for the monitoring tests,
# nginx for the capacity test of the generator's limit, BOLT for the test of build-bolt.sh.
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
bolt_dir() { ls -d /usr/lib/llvm-22/bin 2>/dev/null; }
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -x "$(pg_bin)/postgres" ] || missing+=(postgresql)
[ -x /usr/bin/prometheus ] || missing+=(prometheus)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x "$(bolt_dir)/llvm-bolt" ] || missing+=(bolt-22)
if [ "${#missing[@]}" -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
        phase "apt: installing Debian's ${missing[*]} (browser and monitoring tests)"
        started=$SECONDS
        apt-get update -qq
        # No recommends: prometheus would bring its node exporter, postgresql its contrib
        # docs. A package's own service is never started here (no init in CI containers);
        # the tests start what they need on loopback.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
        echo "    done in $((SECONDS - started)) s"
    else
        echo "error: the browser and monitoring tests need Debian's ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" >&2
        exit 1
    fi
fi
export BARRAGE_CHROMIUM="$(command -v chromium)"
export BARRAGE_PG_BIN="$(pg_bin)"
export BARRAGE_PROMETHEUS=/usr/bin/prometheus
export BARRAGE_NGINX=/usr/sbin/nginx
export BARRAGE_BOLT_DIR="$(bolt_dir)"

if [ "$#" -eq 0 ]; then
    set -- --workspace
fi
phase "rust tests: cargo test --profile ci $* (ignored tests included)"
cargo test --profile ci "$@" -- --include-ignored
