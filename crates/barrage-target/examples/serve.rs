//! Serves the built-in demo target on 127.0.0.1 for a while, for measuring barrage against
//! it from the command line (docs/PERFORMANCE.md names the runs that use it):
//!
//! ```sh
//! cargo run --release -p barrage-target --example serve -- 300    # prints the URL, serves 300 s
//! ```
//!
//! No delay per request (`DemoOptions::no_delay`), so the generator's own cost is what a
//! run measures.

use std::time::Duration;

use barrage_target::{DemoOptions, DemoTarget};

fn main() {
    let seconds: u64 = match std::env::args().nth(1).map(|s| s.parse()) {
        None => 60,
        Some(Ok(s)) => s,
        Some(Err(_)) => {
            eprintln!("usage: serve [SECONDS]   (default 60)");
            std::process::exit(2);
        }
    };
    let target = match DemoTarget::start(DemoOptions::no_delay()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot start the demo target: {e}");
            std::process::exit(1);
        }
    };
    println!("{}", target.url());
    std::thread::sleep(Duration::from_secs(seconds));
}
