//! The stable runner: a target's corpus and hostile seeds, then `mutations` seeded
//! mutations of them, each run under `catch_unwind`. A failing input is written to a file
//! (named in the report) so it can be replayed, with cargo-fuzz or the runner, and added to
//! the corpus once fixed.
//!
//! Runs on a thread of its own with an 8 MiB stack, the size of the main thread the barrage
//! binary parses on (and libFuzzer runs on): the test harness's 2 MiB threads would report
//! stack overflows on deep inputs that the binary handles.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::mutate::{mutate, MAX_LEN};
use crate::seeds;
use crate::targets::Target;

/// What one run of a target did.
#[derive(Debug, Default)]
pub struct RunReport {
    /// Inputs run: corpus, seeds and mutations.
    pub inputs: usize,
    pub corpus: usize,
    pub took: Duration,
    /// One line per failing input: where it was saved and the panic message.
    pub failures: Vec<String>,
}

/// The files of `dir`, sorted by name, as bytes (an absent folder is an empty corpus).
pub fn read_corpus(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths
        .into_iter()
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

/// Runs `target` over the corpus in `corpus_dir`, its hostile seeds, and `mutations`
/// mutations drawn with `seed`. Failing inputs are saved under `failures_dir`.
pub fn run_target(
    target: Target,
    corpus_dir: &Path,
    mutations: usize,
    seed: u64,
    failures_dir: &Path,
) -> RunReport {
    let corpus = read_corpus(corpus_dir);
    let corpus_len = corpus.len();
    let failures_dir = failures_dir.to_path_buf();
    let worker = std::thread::Builder::new()
        .name(format!("fuzz-{}", target.name))
        .stack_size(8 << 20)
        .spawn(move || {
            let started = Instant::now();
            let mut report = RunReport {
                corpus: corpus_len,
                ..RunReport::default()
            };
            let mut one = |input: &[u8], report: &mut RunReport| {
                report.inputs += 1;
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| (target.run)(input))) {
                    let message = panic
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| panic.downcast_ref::<&str>().copied())
                        .unwrap_or("(no message)")
                        .to_owned();
                    let _ = std::fs::create_dir_all(&failures_dir);
                    let file = failures_dir.join(format!("{}-{}", target.name, report.inputs));
                    let saved = std::fs::write(&file, input).is_ok();
                    report.failures.push(format!(
                        "{} input #{} ({} bytes{}): {message}",
                        target.name,
                        report.inputs,
                        input.len(),
                        if saved {
                            format!(", saved as {}", file.display())
                        } else {
                            String::new()
                        }
                    ));
                }
            };
            for input in &corpus {
                one(input, &mut report);
            }
            for input in seeds::hostile(target.name) {
                one(&input, &mut report);
            }
            // Mutations start from the corpus (the big seeds are run whole, not mutated).
            let bases: Vec<Vec<u8>> = corpus.into_iter().filter(|c| c.len() <= MAX_LEN).collect();
            let mut rng = SmallRng::seed_from_u64(seed);
            for i in 0..mutations {
                let mut input = if bases.is_empty() {
                    Vec::new()
                } else {
                    bases[i % bases.len()].clone()
                };
                mutate(&mut input, &bases, &mut rng);
                one(&input, &mut report);
            }
            report.took = started.elapsed();
            report
        })
        .expect("a thread can be started for the runner");
    worker.join().unwrap_or_else(|_| RunReport {
        failures: vec![format!("{}: the runner itself panicked", target.name)],
        ..RunReport::default()
    })
}
