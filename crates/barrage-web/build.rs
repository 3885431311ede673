//! Embeds uPlot (the charting library, from the npm registry) into the binary.
//!
//! uPlot is installed by `npm ci` in `web/` (its version pinned in `web/package.json`, its
//! checksum in `web/package-lock.json`); `scripts/test.sh` runs that. When the files are
//! missing (a plain `cargo build` of a fresh clone), this script runs `npm ci` once itself;
//! without npm it stops with the command to run. No third-party source is committed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What is embedded, relative to `web/node_modules/uplot/`.
const FILES: [&str; 3] = ["dist/uPlot.iife.min.js", "dist/uPlot.min.css", "LICENSE"];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let web = manifest.join("../../web");
    let uplot = web.join("node_modules/uplot");
    println!(
        "cargo:rerun-if-changed={}",
        web.join("package-lock.json").display()
    );
    for f in FILES {
        println!("cargo:rerun-if-changed={}", uplot.join(f).display());
    }
    if !FILES.iter().all(|f| uplot.join(f).is_file()) {
        npm_ci(&web);
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    for f in FILES {
        let from = uplot.join(f);
        let name = Path::new(f).file_name().expect("a file name");
        if let Err(e) = std::fs::copy(&from, out.join(name)) {
            panic!(
                "cannot copy {} ({e}); run `npm ci --prefix web` in the repository",
                from.display()
            );
        }
    }
}

fn npm_ci(web: &Path) {
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--omit=dev"])
        .current_dir(web)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`npm ci` in {} failed ({s}): barrage embeds uPlot from the npm registry; run \
             `npm ci --prefix web` where the registry is reachable",
            web.display()
        ),
        Err(e) => panic!(
            "cannot run npm ({e}): barrage embeds uPlot from the npm registry; install Node.js \
             and npm, then run `npm ci --prefix web`"
        ),
    }
}
