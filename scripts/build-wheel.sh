#!/usr/bin/env bash
# Builds this platform's Python wheel, barrage-load (the barrage binary, the pytest plugin,
# the man pages and shell completions), into target/wheels/, and prints its path as the last
# line of standard output.
#
#   scripts/build-wheel.sh
#   scripts/build-wheel.sh --strip        arguments go to `maturin build` (CI's release wheels)
#   BARRAGE_CARGO_PROFILE=ci scripts/build-wheel.sh   another Cargo profile than `release`
#                                         (the wheel test reuses the tests' own build)
#   pip install target/wheels/barrage_load-*.whl
#
# What it does:
#   1. a venv with maturin (scripts/requirements-wheel.txt, pinned) under the Cargo target
#      directory ($CARGO_TARGET_DIR, else target/), reused while that file is unchanged;
#   2. `cargo build --profile $BARRAGE_CARGO_PROFILE -p barrage` (default `release`), then
#      runs that binary to write its man pages and completions into python/wheel-data/data/share/ (pyproject.toml's `data`, where
#      only a README is committed, so `pip install .` builds without this script), so they
#      describe exactly the flags of the binary in the wheel;
#   3. `maturin build` in the same profile, which reuses the build of step 2 (same profile,
#      same target directory) and checks the manylinux policy of the result.
# Wheels for the other platforms are built in CI: examples/ci/wheels.yml.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

target="${CARGO_TARGET_DIR:-$repo/target}"
venv="$target/maturin-venv"
requirements="scripts/requirements-wheel.txt"
stamp="$venv/.barrage-requirements.sha256"
python="${BARRAGE_BOOTSTRAP_PYTHON:-python3}"
data="$repo/python/wheel-data"
wheels="$repo/target/wheels"
profile="${BARRAGE_CARGO_PROFILE:-release}"

phase() { printf '\n==> %s\n' "$*" >&2; }

wanted="$( { sha256sum "$requirements"; "$python" -c 'import sys; print(sys.executable, sys.version)'; } \
    | sha256sum | cut -d' ' -f1)"
if [ -x "$venv/bin/maturin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    phase "maturin: $venv is up to date with $requirements"
else
    phase "maturin: making $venv from $requirements"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
    echo "$wanted" > "$stamp"
fi

phase "barrage: cargo build --profile $profile -p barrage"
cargo build --profile "$profile" --locked -p barrage >&2
barrage="$target/$profile/barrage"

phase "man pages and completions: $data"
share="$data/data/share"
# The generated ones only: share/doc/barrage-load/README.md is committed.
rm -rf "$share/man" "$share/bash-completion" "$share/zsh" "$share/fish"
mkdir -p "$share/bash-completion/completions" "$share/zsh/site-functions" \
    "$share/fish/vendor_completions.d"
"$barrage" man --dir "$share/man/man1"
# Where each shell looks under a prefix: bash-completion by the command's name (also
# relative to the command's own directory), zsh in site-functions when that is on $fpath,
# fish in vendor_completions.d under $XDG_DATA_DIRS.
"$barrage" completions bash > "$share/bash-completion/completions/barrage"
"$barrage" completions zsh > "$share/zsh/site-functions/_barrage"
"$barrage" completions fish > "$share/fish/vendor_completions.d/barrage.fish"

phase "wheel: maturin build --profile $profile --out $wheels"
mkdir -p "$wheels"
"$venv/bin/maturin" build --profile "$profile" --locked --out "$wheels" "$@" >&2
# The wheel just written: the newest of the directory (an unchanged name is rewritten).
wheel="$(ls -t "$wheels"/barrage_load-*.whl | head -n 1)"
echo "$wheel"
