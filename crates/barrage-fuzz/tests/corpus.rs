//! The fuzz targets on stable Rust, bounded for CI: each target's corpus
//! (`fuzz/corpus/NAME/`), its generated hostile seeds (billion laughs, 100,000-deep nesting,
//! 10 MB strings, 1e309), and a fixed number of seeded mutations. Every input must leave
//! barrage without a panic and with every error located.
//!
//! `BARRAGE_FUZZ_MUTATIONS` sets the number of mutations per target (default 3,000, about
//! a second or two each here) and `BARRAGE_FUZZ_SEED` the seed, for longer runs by hand;
//! a failing input is saved under the system temporary directory's
//! `barrage-fuzz-failures/` (its path is printed).

use std::path::PathBuf;

use barrage_fuzz::targets::target;
use barrage_fuzz::{run_target, RunReport};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn fuzz(name: &str) -> RunReport {
    let t = target(name).expect("a known target");
    let corpus = repo().join("fuzz/corpus").join(name);
    let failures = std::env::temp_dir().join("barrage-fuzz-failures");
    let report = run_target(
        t,
        &corpus,
        setting("BARRAGE_FUZZ_MUTATIONS", 3_000) as usize,
        setting("BARRAGE_FUZZ_SEED", 16),
        &failures,
    );
    println!(
        "{name}: {} inputs ({} from the corpus) in {:?}",
        report.inputs, report.corpus, report.took
    );
    assert!(
        report.corpus > 0,
        "the corpus of {name} is empty: {}",
        corpus.display()
    );
    // The first few failing inputs are enough to start from; mutants of one bad input
    // repeat its message.
    let shown: Vec<&str> = report
        .failures
        .iter()
        .take(10)
        .map(String::as_str)
        .collect();
    assert!(
        report.failures.is_empty(),
        "{} of {} inputs failed; the first {}:\n{}",
        report.failures.len(),
        report.inputs,
        shown.len(),
        shown.join("\n")
    );
    report
}

#[test]
fn scenario_files() {
    fuzz("scenario");
}

#[test]
fn templates() {
    fuzz("template");
}

#[test]
fn thresholds() {
    fuzz("threshold");
}

#[test]
fn openapi_documents() {
    fuzz("openapi");
}

#[test]
fn result_files() {
    fuzz("result_file");
}
