//! The server's lines in the live view and its block in the summary, from a hand-made
//! section whose numbers are known.

use super::*;
use crate::server_testdata::{live, section, HINT};

const PLAIN: ViewOptions = ViewOptions { color: false };

#[test]
fn a_live_line_per_source_with_its_most_telling_values() {
    let out = live_lines(&live(), 200, &PLAIN);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "  processes (port 8000): CPU 100% (2 processes), RSS 150.0 MiB, threads 9",
            "  prometheus 127.0.0.1:8000/metrics: process CPU 50%, requests/s /items 300.00/s",
            "  postgres 127.0.0.1:5432/app: connections 11, active 4, tx 50.00/s, longest query 4.00 ms",
            "  prometheus 127.0.0.1:9187/metrics: lost: unreachable (connection refused)",
            "  probe GET /health: longest stall 1020 ms, stalled > 100 ms for 1.00 s, 30 sent, 1 failed",
        ]
    );
}

#[test]
fn live_lines_keep_within_the_width_and_colour_what_was_lost() {
    let out = live_lines(&live(), 40, &PLAIN);
    for line in out.lines() {
        assert!(line.chars().count() <= 40, "{line}");
    }
    assert!(out.lines().next().unwrap().ends_with('…'));
    let colored = live_lines(&live(), 200, &ViewOptions { color: true });
    assert!(colored.contains("\x1b[31m  prometheus 127.0.0.1:9187/metrics: lost:"));
    // A source with no sample yet says so, and a name from the network cannot carry
    // escape codes to the terminal.
    let mut l = live();
    l.sources[0].last = None;
    l.sources[0].name = "evil\x1b[2J".into();
    let out = live_lines(&l, 200, &PLAIN);
    assert_eq!(out.lines().next(), Some("  evil [2J: no sample yet"));
}

#[test]
fn the_summary_block_has_max_and_mean_per_source_statements_and_hints() {
    let out = server_section(Some(&section()), &PLAIN);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "Server",
            "  processes (port 8000): CPU max 150%, mean 100%; RSS max 200.0 MiB; threads max 9; pids 4242 4243",
            "  prometheus 127.0.0.1:8000/metrics: process CPU max 50%, mean 40%; requests/s /items max 300.00/s, mean 200.00/s",
            "  postgres 127.0.0.1:5432/app: connections max 12; waiting max 1; longest query 30.0 ms; tx mean 50.00/s",
            "  prometheus 127.0.0.1:9187/metrics: lost: unreachable (connection refused)",
            "  probe GET /health: longest stall 1020 ms at 2.2 s; stalled over 50 ms 1.10 s, over 100 ms 1.00 s, over 500 ms 0.60 s; 30 probes, 1 failed",
            "  Statements that added the most time:",
            "    4000 ms in 100 calls (40.0 ms mean): UPDATE items SET n = n + $1",
            "    1250 ms in 500 calls (2.50 ms mean): SELECT * FROM items WHERE id = $1",
            "    6.00 ms in 600 calls (0.01 ms mean): BEGIN",
        ]
        .into_iter()
        .chain([format!("  Hint: {HINT}").as_str()])
        .collect::<Vec<_>>()
    );
    assert_eq!(server_section(None, &PLAIN), "");
}

#[test]
fn a_late_probe_sender_is_said_beside_the_stalls() {
    let mut s = section();
    s.probe.as_mut().unwrap().max_send_delay_ms = 45.0;
    let out = server_section(Some(&s), &PLAIN);
    assert!(
        out.contains("\n  barrage sent a probe up to 45.0 ms late (its own CPU)"),
        "{out}"
    );
}

#[test]
fn a_source_lost_late_still_shows_what_it_measured() {
    let mut s = section();
    s.sources[0].lost = Some("the process exited".into());
    let out = server_section(Some(&s), &PLAIN);
    assert!(
        out.contains(
            "  processes (port 8000): CPU max 150%, mean 100%; RSS max 200.0 MiB; threads max 9; \
             pids 4242 4243; lost: the process exited"
        ),
        "{out}"
    );
}
