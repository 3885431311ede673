//! The streams section of the summary and the Markdown report: for each endpoint of
//! `stream:` steps, its streams, events per stream, and the first byte, first event, gap
//! between events and duration (docs/STREAMS.md). Endpoints that never streamed are left
//! out, and so is the whole section when none did.

use std::fmt::Write as _;

use barrage_metrics::{EndpointStats, LatencyStats};

use crate::format;
use crate::naming::Naming;
use crate::table::{Cell, Column, Table};

const TITLE: &str = "Streams (ms): first byte and first event from the intended start, the gap between events, the stream's duration";

/// The summary's section, or nothing when no endpoint streamed.
pub(crate) fn summary_section(
    busy: &[&EndpointStats],
    naming: Naming,
    color: bool,
) -> Option<(&'static str, String)> {
    let streamed: Vec<_> = busy
        .iter()
        .filter_map(|e| e.stream.as_ref().map(|s| (*e, s)))
        .collect();
    if streamed.is_empty() {
        return None;
    }
    let mut cols = naming.columns();
    cols.extend([
        Column::right("Streams"),
        Column::right("Events/stream"),
        Column::right("1st byte p50").group(),
        Column::right("1st event p50").group(),
        Column::right("p95"),
        Column::right("Gap p50").group(),
        Column::right("p95"),
        Column::right("Duration p50").group(),
    ]);
    let mut t = Table::new(cols);
    for (e, s) in streamed {
        let mut cells = naming.endpoint(e);
        cells.extend([
            Cell::new(s.events.streams.to_string()),
            Cell::new(format!("{:.1}", s.events.mean())),
            Cell::new(p(&s.first_byte, |l| l.p50)),
            Cell::new(p(&s.first_event, |l| l.p50)),
            Cell::new(p(&s.first_event, |l| l.p95)),
            Cell::new(p(&s.event_gap, |l| l.p50)),
            Cell::new(p(&s.event_gap, |l| l.p95)),
            Cell::new(p(&s.duration, |l| l.p50)),
        ]);
        t.row(cells);
    }
    Some((TITLE, t.render(color)))
}

/// The Markdown report's section, empty when no endpoint streamed.
pub(crate) fn markdown_section(
    endpoints: &[EndpointStats],
    code: impl Fn(&str) -> String,
) -> String {
    let mut out = String::new();
    let streamed: Vec<_> = endpoints
        .iter()
        .filter_map(|e| e.stream.as_ref().map(|s| (e, s)))
        .collect();
    if streamed.is_empty() {
        return out;
    }
    let _ = write!(
        out,
        "### Streams\n\n{TITLE}, of successful requests.\n\n\
         | Type | Name | Streams | Events/stream | First byte p50 | First event p50 | First event p95 | Gap p50 | Gap p95 | Duration p50 |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    );
    for (e, s) in streamed {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} |",
            e.method,
            code(&e.name),
            s.events.streams,
            s.events.mean(),
            p(&s.first_byte, |l| l.p50),
            p(&s.first_event, |l| l.p50),
            p(&s.first_event, |l| l.p95),
            p(&s.event_gap, |l| l.p50),
            p(&s.event_gap, |l| l.p95),
            p(&s.duration, |l| l.p50),
        );
    }
    out.push('\n');
    out
}

fn p(l: &LatencyStats, field: impl Fn(&LatencyStats) -> f64) -> String {
    format::latency(l, field)
}
