#!/usr/bin/env bash
# Builds barrage with its machine code laid out by BOLT, LLVM's post-link optimizer, into
# target/bolt/barrage, and prints that path as the last line of standard output. Linux
# x86-64 only (where BOLT runs).
#
#   scripts/build-bolt.sh                              the release profile
#   BARRAGE_CARGO_PROFILE=ci scripts/build-bolt.sh     another Cargo profile (CI's test of
#                                                      this script reuses the tests' build)
#
# Why: after each wake-up a generator runs its code from caches the kernel's work has
# cooled, so every 64-byte line of machine code a request runs through costs a fetch.
# The compiler places a function's rare branches between its common ones and orders
# functions by source, not by use; BOLT, given a profile, puts the code a request runs
# together and the rest aside. docs/PERFORMANCE.md, "The code laid out by BOLT", has the
# measurements (the lines a request runs through, and CPU per request against wrk).
#
# What it does:
#   1. llvm-bolt and merge-fdata: from $BARRAGE_BOLT_DIR, else the newest
#      /usr/lib/llvm-*/bin that has both, else (as root, with apt-get) Debian's bolt-22
#      package is installed, else it stops and says what to install.
#   2. Cargo builds the built-in target's `serve` example and barrage in the profile,
#      barrage linked with its relocations kept (`--emit-relocs`), which lets BOLT move
#      whole functions, not only the blocks inside each; only that last link differs from
#      the plain build (the dependencies are shared with it).
#   3. An instrumented copy runs a short training on loopback, bounded in time: a closed
#      `hit` (50 connections) and an open one (2,000 requests/s) against the built-in
#      target in its own process, and `barrage demo` (the bundled scenario: login, think
#      time, reads and writes). Its profile is what BOLT lays the code out by.
#   4. llvm-bolt writes target/bolt/barrage: blocks ordered by how often each path runs
#      (ext-tsp), functions ordered by who calls whom (cdsort), cold parts of functions
#      split off to the end, identical functions folded.
#
# The profile's own barrage is left as the relinked binary (the same code and layout, its
# relocations kept: a larger file); the next plain `cargo build` links it plainly again.
# BOLT's instrumentation needs the relocations: without them it stops ("instrumentation
# runtime libraries require relocations").
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

target="${CARGO_TARGET_DIR:-$repo/target}"
profile="${BARRAGE_CARGO_PROFILE:-release}"
out="$target/bolt"
work="$out/work"

phase() { printf '\n==> %s\n' "$*" >&2; }
fail() { printf 'build-bolt: %s\n' "$*" >&2; exit 1; }

case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) fail "BOLT lays out Linux x86-64 binaries; this is $(uname -s) $(uname -m)" ;;
esac

# 1. The tools.
find_bolt() {
    if [ -n "${BARRAGE_BOLT_DIR:-}" ]; then
        echo "$BARRAGE_BOLT_DIR"
        return
    fi
    local dir
    for dir in $(ls -d /usr/lib/llvm-*/bin 2>/dev/null | sort -t- -k2 -n -r); do
        if [ -x "$dir/llvm-bolt" ] && [ -x "$dir/merge-fdata" ]; then
            echo "$dir"
            return
        fi
    done
}
bolt_dir="$(find_bolt)"
if [ -z "$bolt_dir" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    phase "llvm-bolt: installing Debian's bolt-22"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q bolt-22 >&2 \
        || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bolt-22 >&2; }
    bolt_dir="$(find_bolt)"
fi
[ -n "$bolt_dir" ] && [ -x "$bolt_dir/llvm-bolt" ] && [ -x "$bolt_dir/merge-fdata" ] \
    || fail "llvm-bolt and merge-fdata not found: install LLVM's BOLT (Debian and Ubuntu: apt-get install bolt-22) or set BARRAGE_BOLT_DIR to the folder that holds both"
phase "llvm-bolt: $bolt_dir"

# 2. The binaries.
phase "the built-in target: cargo build --profile $profile --example serve"
cargo build --profile "$profile" --locked -p barrage-target --example serve >&2
phase "barrage, linked with its relocations kept: cargo rustc --profile $profile"
# One link, not a plain one and then this: `cargo rustc` builds what the binary needs as
# `cargo build` would (the dependencies are shared with the plain build) and passes the
# flag to the binary's own unit only.
cargo rustc --profile "$profile" --locked -p barrage --bin barrage \
    -- -C link-args=-Wl,--emit-relocs >&2
built="$target/$profile/barrage"
serve="$target/$profile/examples/serve"
rm -rf "$work"
mkdir -p "$work"
input="$work/barrage.relocs"
cp "$built" "$input"

# 3. Training.
phase "training: an instrumented barrage against the built-in target"
"$bolt_dir/llvm-bolt" "$input" -instrument -o "$work/barrage.instrumented" \
    --instrumentation-file="$work/profile" --instrumentation-file-append-pid >&2
# The target serves in its own process, so the profile holds barrage's side only.
"$serve" 120 > "$work/serve.url" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    [ -s "$work/serve.url" ] && break
    sleep 0.1
done
url="$(head -n 1 "$work/serve.url")"
case "$url" in
    http://127.0.0.1:*) ;;
    *) fail "the built-in target did not print its loopback URL (got '$url')" ;;
esac
trained="$work/barrage.instrumented"
"$trained" hit "$url/items/1" -c 50 -d 4s --workers 1 --only-summary >&2
"$trained" hit "$url/items/1" -c 50 --rate 2000 -d 3s --workers 1 --only-summary >&2
(cd "$work" && "$trained" demo -t 4s --workers 1 --json "$work/demo.json" >&2)
kill "$serve_pid" 2>/dev/null || true
wait "$serve_pid" 2>/dev/null || true
trap - EXIT
"$bolt_dir/merge-fdata" "$work"/profile.*.fdata > "$work/merged.fdata"

# 4. The layout.
phase "layout: llvm-bolt -> $out/barrage"
"$bolt_dir/llvm-bolt" "$input" -o "$out/barrage.new" -data="$work/merged.fdata" \
    -reorder-blocks=ext-tsp -reorder-functions=cdsort -split-functions -split-all-cold \
    -split-eh -icf=1 -use-gnu-stack >&2
mv "$out/barrage.new" "$out/barrage"
"$out/barrage" --version >&2
echo "$out/barrage"
