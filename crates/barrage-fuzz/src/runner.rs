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

/// Panics on the runner's threads are caught, cut short and reported by [`run_target`];
/// the default hook would print each in full first (ten megabytes, for some inputs). Panics
/// on every other thread still go to the hook that was there before.
fn quiet_runner_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let on_runner = std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with(RUNNER_THREAD));
            if !on_runner {
                previous(info);
            }
        }));
    });
}

/// The name the runner's threads start with.
const RUNNER_THREAD: &str = "fuzz-";

/// `text` cut to at most `max` bytes (on a character boundary), saying how much was cut:
/// a failing input's message may quote all ten megabytes of it.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let end = (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}… ({} bytes more)", &text[..end], text.len() - end)
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
    quiet_runner_panics();
    let corpus = read_corpus(corpus_dir);
    let corpus_len = corpus.len();
    let failures_dir = failures_dir.to_path_buf();
    let worker = std::thread::Builder::new()
        .name(format!("{RUNNER_THREAD}{}", target.name))
        .stack_size(8 << 20)
        .spawn(move || {
            let started = Instant::now();
            let mut report = RunReport {
                corpus: corpus_len,
                ..RunReport::default()
            };
            // The input under test is on disk while it runs: a stack overflow or an abort
            // ends the process before a failure could be saved, and this file is then the
            // input that did it.
            let current = failures_dir.join(format!("{}-current", target.name));
            let _ = std::fs::create_dir_all(&failures_dir);
            let one = |input: &[u8], report: &mut RunReport| {
                report.inputs += 1;
                let _ = std::fs::write(&current, input);
                let outcome = catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
                let _ = std::fs::remove_file(&current);
                if let Err(panic) = outcome {
                    let message = panic
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| panic.downcast_ref::<&str>().copied())
                        .unwrap_or("(no message)");
                    let message = cut(message, 400);
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
