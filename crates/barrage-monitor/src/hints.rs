//! Hints: what the numbers suggest about the service, each naming its evidence, read from a
//! finished (or mid-run) result.
//!
//! The main one is the signature of blocking calls in async code, or of an exhausted
//! connection pool: over the steady part of the run, latency rose while no monitored
//! process came near a core, and the request rate either stayed flat or, in a closed model
//! at a steady number of users, fell. A service short of CPU shows its CPU high; one that
//! is waiting on something it cannot see (a sync call holding the event loop, a pool with
//! every connection taken) does not. The falling rate is the same sign in a closed model:
//! by Little's law requests/s is about users / latency, so with the users steady a rise in
//! latency *must* lower the rate; it is high CPU that tells overload apart, not the rate.
//! The rule only speaks with process data: without the CPU, rising latency has too many
//! other causes to name one.
//!
//! The CPU compared is each process's typical second over the steady part (its 90th
//! percentile), not the run's maximum: a start-up spike, the ramp-up or the last, shorter
//! sample say nothing about the steady state.

use barrage_metrics::{ResultDoc, SecondSummary, ServerSection, SourceKind};

/// The share of the steady seconds compared at each end (the first and last third).
const PART: f64 = 1.0 / 3.0;
/// Fewest steady seconds to compare.
const MIN_STEADY_SECONDS: usize = 6;
/// A load setting (users, or iterations started) within this of the last is the same one.
const SAME_LOAD: f64 = 0.10;
/// Requests/s late within this of early is flat.
const FLAT_RATE: f64 = 0.15;
/// Latency late over early by this factor, and by at least [`MIN_RISE_MS`], has risen.
const RISE_FACTOR: f64 = 1.5;
const MIN_RISE_MS: f64 = 5.0;
/// Below this CPU (% of one core) a process is not what limits the service.
const IDLE_CPU: f64 = 50.0;
/// The percentile of a process's per-sample CPU over the steady part that stands for it.
const CPU_PERCENTILE: f64 = 0.90;
/// Probe stalls over 100 ms adding up to more than this are worth a hint.
const STALLED_HINT_S: f64 = 1.0;

/// What the numbers suggest (see the module comment); empty when nothing stood out.
pub fn hints(result: &ResultDoc) -> Vec<String> {
    match &result.server {
        Some(server) => hints_from(&result.series, server),
        None => Vec::new(),
    }
}

/// [`hints`] from the run's per-second series and its server section.
fn hints_from(series: &[SecondSummary], server: &ServerSection) -> Vec<String> {
    let mut hints = Vec::new();
    if let Some(hint) = blocked_not_busy(series, server) {
        hints.push(hint);
    }
    if let Some(probe) = &server.probe {
        if probe.stalled_over_100ms_s > STALLED_HINT_S {
            hints.push(format!(
                "the stall probe waited over 100 ms for {:.1} s in all (the longest {:.0} ms, \
                 at {:.1} s): the service stopped answering at times; a blocking call in async \
                 code, or a pause of the whole process (garbage collection, swapping), does this",
                probe.stalled_over_100ms_s, probe.longest_stall_ms, probe.longest_stall_at_s
            ));
        }
    }
    hints
}

/// Latency up, every process below half a core, and the rate flat (or, in a closed model,
/// falling at steady users).
fn blocked_not_busy(series: &[SecondSummary], server: &ServerSection) -> Option<String> {
    let steady = steady_part(series);
    if steady.len() < MIN_STEADY_SECONDS {
        return None;
    }
    let busiest = busiest_process_cpu(server, steady)?;
    if busiest >= IDLE_CPU {
        return None;
    }
    let n = ((steady.len() as f64 * PART).floor() as usize).max(1);
    let (early, late) = (&steady[..n], &steady[steady.len() - n..]);
    let rate = |part: &[SecondSummary]| part.iter().map(|s| s.rps).sum::<f64>() / part.len() as f64;
    let (rate_early, rate_late) = (rate(early), rate(late));
    if rate_early <= 0.0 {
        return None;
    }
    let (p95_early, p95_late) = (median_p95_ms(early), median_p95_ms(late));
    if p95_late < p95_early * RISE_FACTOR || p95_late - p95_early < MIN_RISE_MS {
        return None;
    }
    let change = rate_late / rate_early - 1.0;
    let signs = "the signs of a blocking call inside async code, or an exhausted connection pool";
    if change.abs() <= FLAT_RATE {
        let (low, high) = steady.iter().fold((f64::MAX, f64::MIN), |(lo, hi), s| {
            (lo.min(s.rps), hi.max(s.rps))
        });
        return Some(format!(
            "p95 rose from {p95_early:.0} ms to {p95_late:.0} ms while requests/s stayed at \
             {low:.0}-{high:.0} and no monitored process used more than {busiest:.0} % of a \
             core: {signs}"
        ));
    }
    if change < -FLAT_RATE && !open_model(series) {
        let users = steady.last().map_or(0, |s| s.users);
        return Some(format!(
            "p95 rose from {p95_early:.0} ms to {p95_late:.0} ms and requests/s fell from \
             {rate_early:.0} to {rate_late:.0} at a steady {users} users, while no monitored \
             process used more than {busiest:.0} % of a core: {signs}"
        ));
    }
    None
}

/// The busiest monitored process over the steady seconds: the highest, over processes, of
/// a process's [`CPU_PERCENTILE`] of its samples taken within them (a sample's CPU covers
/// the interval before it, so it must start and end inside). The per-process columns
/// (`cpu_pid_N`), or the summed `cpu` of a source without them. `None` without process
/// data in the steady seconds.
fn busiest_process_cpu(server: &ServerSection, steady: &[SecondSummary]) -> Option<f64> {
    let (first, last) = (steady.first()?, steady.last()?);
    let (from, to) = (first.t - 1.0, last.t);
    let interval = server.interval_s.max(0.0);
    let mut busiest: Option<f64> = None;
    for source in &server.sources {
        if source.kind != Some(SourceKind::Process) {
            continue;
        }
        let per_process: Vec<usize> = source
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.key.starts_with("cpu_pid_"))
            .map(|(i, _)| i)
            .collect();
        let columns = if per_process.is_empty() {
            source
                .columns
                .iter()
                .position(|c| c.key == "cpu")
                .into_iter()
                .collect()
        } else {
            per_process
        };
        let rows: Vec<_> = source
            .rows
            .iter()
            .filter(|row| row.t - interval >= from - 1e-9 && row.t <= to + 1e-9)
            .collect();
        for &i in &columns {
            let mut values: Vec<f64> = rows.iter().filter_map(|row| row.get(i)).collect();
            if values.is_empty() {
                continue;
            }
            values.sort_by(f64::total_cmp);
            let rank = ((values.len() as f64 * CPU_PERCENTILE).ceil() as usize).max(1);
            let typical = values[rank - 1];
            busiest = Some(busiest.map_or(typical, |b| b.max(typical)));
        }
    }
    busiest
}

/// Whether the run used an open model (iterations started at a rate, not users).
fn open_model(series: &[SecondSummary]) -> bool {
    series.iter().any(|s| s.iterations_started > 0)
}

/// The trailing seconds run at the last load setting (users in a closed model, iterations
/// started in an open one), less the last second (usually cut short by the end).
fn steady_part(series: &[SecondSummary]) -> &[SecondSummary] {
    let whole = &series[..series.len().saturating_sub(1)];
    let open = open_model(whole);
    let load = |s: &SecondSummary| {
        if open {
            s.iterations_started as f64
        } else {
            s.users as f64
        }
    };
    let Some(last) = whole.last().map(load) else {
        return whole;
    };
    let start = whole
        .iter()
        .rposition(|s| (load(s) - last).abs() > last * SAME_LOAD)
        .map_or(0, |i| i + 1);
    &whole[start..]
}

fn median_p95_ms(part: &[SecondSummary]) -> f64 {
    let mut p95: Vec<u32> = part.iter().map(|s| s.p95).collect();
    p95.sort_unstable();
    p95[p95.len() / 2] as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use barrage_metrics::{Column, ProbeSummary, Row, SourceSeries};

    /// `seconds` of 10 users at `rps(i)` requests/s with p95 `p95_ms(i)`.
    fn series(
        seconds: usize,
        rps: impl Fn(usize) -> f64,
        p95_ms: impl Fn(usize) -> f64,
    ) -> Vec<SecondSummary> {
        (0..seconds)
            .map(|i| SecondSummary {
                t: i as f64 + 1.0,
                users: if i < 2 { 5 } else { 10 },
                in_flight: 0,
                requests: rps(i) as u64,
                failures: 0,
                rps: rps(i),
                p50: 0,
                p95: (p95_ms(i) * 1000.0) as u32,
                p99: 0,
                max: 0,
                endpoints: Vec::new(),
                iterations_started: 0,
                dropped: 0,
                cpu_percent: 0.0,
            })
            .collect()
    }

    /// A process source with two workers at the given CPU, sampled every second of the
    /// 22 s runs below (rows at 0..=22 s).
    fn processes(worker_cpu: [f64; 2]) -> SourceSeries {
        processes_over_time(|_| worker_cpu)
    }

    /// Two workers whose CPU at the row of `t` seconds is `cpu(t)`.
    fn processes_over_time(cpu: impl Fn(usize) -> [f64; 2]) -> SourceSeries {
        let column = |key: &str| Column {
            key: key.to_owned(),
            unit: "%".to_owned(),
            ..Column::default()
        };
        SourceSeries {
            kind: Some(SourceKind::Process),
            columns: vec![column("cpu"), column("cpu_pid_1"), column("cpu_pid_2")],
            rows: (0..=22)
                .map(|t| {
                    let worker_cpu = cpu(t);
                    Row {
                        t: t as f64,
                        values: vec![
                            Some(worker_cpu[0] + worker_cpu[1]),
                            Some(worker_cpu[0]),
                            Some(worker_cpu[1]),
                        ],
                    }
                })
                .collect(),
            ..SourceSeries::default()
        }
    }

    /// A result's series and server section, as [`hints`] reads them.
    struct Doc {
        series: Vec<SecondSummary>,
        server: ServerSection,
    }

    fn result(series: Vec<SecondSummary>, sources: Vec<SourceSeries>) -> Doc {
        Doc {
            series,
            server: ServerSection {
                interval_s: 1.0,
                sources,
                ..ServerSection::default()
            },
        }
    }

    fn hints(doc: &Doc) -> Vec<String> {
        hints_from(&doc.series, &doc.server)
    }

    /// Rising from 12 ms to 480 ms over 20 s at 95-100 requests/s.
    fn rising() -> Vec<SecondSummary> {
        series(
            22,
            |i| 95.0 + (i % 6) as f64,
            |i| if i < 10 { 12.0 } else { 480.0 },
        )
    }

    #[test]
    fn rising_latency_at_a_flat_rate_with_idle_workers_names_its_evidence() {
        let hints = hints(&result(rising(), vec![processes([31.0, 20.0])]));
        assert_eq!(
            hints,
            [
                "p95 rose from 12 ms to 480 ms while requests/s stayed at 95-100 and no \
              monitored process used more than 31 % of a core: the signs of a blocking call \
              inside async code, or an exhausted connection pool"
            ]
        );
    }

    #[test]
    fn a_busy_worker_explains_the_latency_so_no_hint() {
        // Summed, the two are 60 %; one of them alone is not past half a core...
        assert_eq!(
            hints(&result(rising(), vec![processes([30.0, 30.0])])).len(),
            1
        );
        // ...but one at 80 % is.
        assert!(hints(&result(rising(), vec![processes([80.0, 5.0])])).is_empty());
    }

    /// Falling from 100 to 40 requests/s at 10 users while p95 rises from 12 to 480 ms.
    fn falling() -> Vec<SecondSummary> {
        series(
            22,
            |i| if i < 10 { 100.0 } else { 40.0 },
            |i| if i < 10 { 12.0 } else { 480.0 },
        )
    }

    #[test]
    fn a_falling_rate_at_steady_users_with_idle_workers_is_the_same_sign() {
        // Closed model: requests/s is about users / latency, so it must fall as latency
        // rises; the CPU is what says whether the service was busy.
        assert_eq!(
            hints(&result(falling(), vec![processes([10.0, 12.0])])),
            [
                "p95 rose from 12 ms to 480 ms and requests/s fell from 100 to 40 at a steady \
              10 users, while no monitored process used more than 12 % of a core: the signs \
              of a blocking call inside async code, or an exhausted connection pool"
            ]
        );
    }

    #[test]
    fn a_falling_rate_with_a_busy_worker_is_overload_not_blocking() {
        assert!(hints(&result(falling(), vec![processes([80.0, 10.0])])).is_empty());
    }

    #[test]
    fn a_falling_rate_in_an_open_model_is_no_hint() {
        let mut open = falling();
        for s in &mut open {
            s.iterations_started = 100;
        }
        assert!(hints(&result(open, vec![processes([10.0, 10.0])])).is_empty());
    }

    #[test]
    fn only_the_steady_seconds_typical_cpu_counts() {
        // Busy at start-up and during the ramp-up (rows 0-2 s, before the steady part
        // starts at 2 s), at the last, short sample (22 s), and for one steady second:
        // none of it is what the steady part looked like.
        let spiky = processes_over_time(|t| match t {
            0..=2 | 22 => [95.0, 90.0],
            10 => [99.0, 5.0],
            _ => [20.0, 25.0],
        });
        assert_eq!(
            hints(&result(rising(), vec![spiky])),
            [
                "p95 rose from 12 ms to 480 ms while requests/s stayed at 95-100 and no \
              monitored process used more than 25 % of a core: the signs of a blocking call \
              inside async code, or an exhausted connection pool"
            ]
        );
        // Busy for a third of the steady seconds is busy.
        let busy_third =
            processes_over_time(|t| if t % 3 == 0 { [90.0, 5.0] } else { [20.0, 5.0] });
        assert!(hints(&result(rising(), vec![busy_third])).is_empty());
    }

    #[test]
    fn no_process_data_no_hint_and_flat_latency_no_hint() {
        assert!(hints(&result(rising(), Vec::new())).is_empty());
        let flat = series(22, |_| 100.0, |_| 12.0);
        assert!(hints(&result(flat, vec![processes([10.0, 10.0])])).is_empty());
        // A rise of a few hundred microseconds is not worth a word, even if it is +50 %.
        let tiny = series(22, |_| 100.0, |i| if i < 10 { 2.0 } else { 4.0 });
        assert!(hints(&result(tiny, vec![processes([10.0, 10.0])])).is_empty());
    }

    #[test]
    fn the_ramp_up_is_left_out_of_the_comparison() {
        // Slow while 5 users ramped (the first two seconds), then flat at 12 ms.
        let ramp = series(22, |_| 100.0, |i| if i < 2 { 1.0 } else { 12.0 });
        assert!(hints(&result(ramp, vec![processes([10.0, 10.0])])).is_empty());
        assert_eq!(steady_part(&rising()).len(), 19);
    }

    #[test]
    fn stalls_over_a_second_in_all_are_a_hint() {
        let mut doc = result(series(22, |_| 100.0, |_| 12.0), Vec::new());
        let probe = |stalled| ProbeSummary {
            stalled_over_100ms_s: stalled,
            longest_stall_ms: 1003.0,
            longest_stall_at_s: 5.0,
            ..ProbeSummary::default()
        };
        doc.server.probe = Some(probe(1.8));
        assert_eq!(
            hints(&doc),
            [
                "the stall probe waited over 100 ms for 1.8 s in all (the longest 1003 ms, at \
              5.0 s): the service stopped answering at times; a blocking call in async code, \
              or a pause of the whole process (garbage collection, swapping), does this"
            ]
        );
        doc.server.probe = Some(probe(0.9));
        assert!(hints(&doc).is_empty());
    }
}
