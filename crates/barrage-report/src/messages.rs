//! The WebSocket section of the summary and of the Markdown report: per WebSocket
//! endpoint, the sockets opened, the messages sent and received, and the upgrades' times.
//! Round trips are in the response-time tables already (a `receive` is an exchange of its
//! endpoint); what is here is what no other table has.

use std::fmt::Write as _;

use barrage_metrics::EndpointStats;

use crate::format;
use crate::naming::Naming;
use crate::table::{Column, Table};

/// The summary's table, or `None` when the run opened no WebSocket.
pub(crate) fn table(endpoints: &[EndpointStats], naming: Naming, color: bool) -> Option<String> {
    let mut cols = naming.columns();
    cols.extend([
        Column::right("Sockets").group(),
        Column::right("Sent"),
        Column::right("Received"),
        Column::right("Upgrade p50"),
        Column::right("max"),
    ]);
    let mut t = Table::new(cols);
    let mut any = false;
    for e in endpoints {
        let Some(m) = &e.messages else { continue };
        any = true;
        let mut cells = naming.endpoint(e);
        cells.extend([
            crate::table::Cell::new(m.sockets.to_string()),
            crate::table::Cell::new(m.sent.to_string()),
            crate::table::Cell::new(m.received.to_string()),
            crate::table::Cell::new(format::latency(&m.upgrade_time, |l| l.p50)),
            crate::table::Cell::new(format::latency(&m.upgrade_time, |l| l.max)),
        ]);
        t.row(cells);
    }
    any.then(|| t.render(color))
}

/// The Markdown report's section, or an empty string when the run opened no WebSocket.
pub(crate) fn markdown(endpoints: &[EndpointStats], code: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    for e in endpoints {
        let Some(m) = &e.messages else { continue };
        if out.is_empty() {
            out.push_str(
                "### WebSocket messages\n\nRound trips (each `receive` from the previous `send`) are in the endpoints' response times.\n\n\
                 | Type | Name | Sockets | Sent | Received | Upgrade p50 (ms) | Upgrade max (ms) |\n\
                 | --- | --- | ---: | ---: | ---: | ---: | ---: |\n",
            );
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            e.method,
            code(&e.name),
            m.sockets,
            m.sent,
            m.received,
            format::latency(&m.upgrade_time, |l| l.p50),
            format::latency(&m.upgrade_time, |l| l.max),
        );
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use barrage_metrics::{LatencyStats, MessageStats};

    fn socket(name: &str) -> EndpointStats {
        EndpointStats {
            scenario: "default".into(),
            method: "WS".into(),
            name: name.into(),
            messages: Some(MessageStats {
                sockets: 3,
                sent: 30,
                received: 41,
                upgrade_time: LatencyStats {
                    count: 3,
                    p50: 1.25,
                    max: 2.5,
                    ..LatencyStats::default()
                },
            }),
            ..EndpointStats::default()
        }
    }

    #[test]
    fn only_websocket_endpoints_get_a_row() {
        let plain = EndpointStats {
            method: "GET".into(),
            name: "/items".into(),
            ..EndpointStats::default()
        };
        let md = markdown(&[plain.clone(), socket("/ws/echo")], |s| format!("`{s}`"));
        assert!(
            md.ends_with("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n| WS | `/ws/echo` | 3 | 30 | 41 | 1.25 | 2.50 |\n\n"),
            "{md}"
        );
        assert_eq!(markdown(&[plain], |s| s.to_string()), "");
    }
}
