//! Serves one hostile behaviour on 127.0.0.1 for a while, for trying barrage against it by
//! hand (docs/RELIABILITY.md lists the faults and what barrage does with each):
//!
//! ```sh
//! cargo run --release -p barrage-target --example hostile -- slow-head 60
//! barrage hit http://127.0.0.1:PORT/ -n 10 -c 2 --timeout 2s
//! ```
//!
//! Prints the URL, serves for SECONDS (default 60), then prints what the target saw.

use std::time::Duration;

use barrage_target::{Fault, HostileTarget};

fn usage() -> ! {
    let names: Vec<&str> = Fault::MATRIX.iter().map(|f| f.name()).collect();
    eprintln!(
        "usage: hostile FAULT [SECONDS]   (default 60)\nfaults: {}, mixed",
        names.join(", ")
    );
    std::process::exit(2);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(fault) = args.next().as_deref().and_then(Fault::from_name) else {
        usage()
    };
    let seconds: u64 = match args.next().map(|s| s.parse()) {
        None => 60,
        Some(Ok(s)) => s,
        Some(Err(_)) => usage(),
    };
    let target = match HostileTarget::start(fault) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot start the hostile target: {e}");
            std::process::exit(1);
        }
    };
    println!("{} ({})", target.url(), fault.name());
    std::thread::sleep(Duration::from_secs(seconds));
    let seen = target.seen();
    println!(
        "saw {} connections, {} whole requests, {} whole answers",
        seen.connections, seen.requests, seen.answers
    );
}
