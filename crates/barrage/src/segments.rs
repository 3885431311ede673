//! `--segment I/N` and `--start-at TIME`: one process's share of a load split over several
//! (docs/DISTRIBUTED.md, "Segments"), and the wall-clock moment they all start at.
//!
//! The split itself is the engine's (`barrage_engine::segment`): this module only reads
//! the flags, turns `I/N` (counted from 1, as people number machines) into the engine's
//! 0-based [`Segment`], and waits for the start. The wait is on the wall clock, since the
//! processes run on different machines: each sleeps at most a second at a time and reads
//! the clock again, so a clock stepped by NTP during a long wait is followed, and Ctrl-C
//! (or SIGTERM, as Kubernetes sends it) ends the wait at once.

use std::time::{Duration, SystemTime};

use barrage_engine::Segment;
use barrage_metrics::{format_timestamp, SegmentMeta};
use clap::Args;

use crate::exit;

/// The furthest ahead `--start-at` may be: a start a day or more away is far more likely a
/// wrong date or time zone than a plan.
const MOST_AHEAD: Duration = Duration::from_secs(24 * 3600);

/// The flags of a split run, shared by `run` and `hit`.
#[derive(Args, Debug, Clone, Default)]
pub struct SegmentArgs {
    /// Run only the I-th of N shares of every scenario's load, e.g. 2/4 (I counts from 1):
    /// users, spawn rates, stages, arrival rates, iteration counts and data rows are split
    /// so that N processes with 1/N ... N/N together run the whole load exactly. Combine
    /// their result files with `barrage merge`.
    #[arg(long, value_name = "I/N", env = "BARRAGE_SEGMENT", value_parser = parse_segment)]
    pub segment: Option<SegmentArg>,
    /// Wait until this wall-clock time before starting, so that the processes of a split
    /// run start together: RFC 3339, e.g. 2026-12-06T03:00:00Z (`date -u -d +1min
    /// +%FT%TZ`). A time already past starts at once, with a notice of how late; one more
    /// than 24 hours ahead is refused. Ctrl-C during the wait exits without running.
    #[arg(long, value_name = "TIME", env = "BARRAGE_START_AT", value_parser = parse_start_at)]
    pub start_at: Option<StartAt>,
}

impl SegmentArgs {
    /// No split, no wait (commands without the flags).
    pub const NONE: SegmentArgs = SegmentArgs {
        segment: None,
        start_at: None,
    };
}

/// `--segment I/N`: share `index` of `count`, both as typed (`1 <= index <= count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentArg {
    pub index: u64,
    pub count: u64,
}

impl SegmentArg {
    /// The engine's 0-based stripe.
    pub fn engine(self) -> Segment {
        Segment::new(self.index - 1, self.count)
            .expect("parse_segment only accepts 1 <= index <= count")
    }

    /// The result file's `run.segment`.
    pub fn meta(self) -> SegmentMeta {
        SegmentMeta {
            index: self.index,
            count: self.count,
        }
    }
}

impl std::fmt::Display for SegmentArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `I/N` with `1 <= I <= N`; each mistake gets its own fix.
pub fn parse_segment(s: &str) -> Result<SegmentArg, String> {
    let Some((i, n)) = s.trim().split_once('/') else {
        return Err(format!(
            "`{s}` is not a segment: write I/N, like 2/4 for the 2nd of 4 shares (I counts \
             from 1)"
        ));
    };
    let number = |part: &str| part.trim().parse::<u64>().ok();
    let (Some(index), Some(count)) = (number(i), number(n)) else {
        return Err(format!(
            "`{s}`: I and N must be whole numbers, like 2/4 for the 2nd of 4 shares"
        ));
    };
    if count == 0 {
        return Err(format!("`{s}`: N is the number of shares, at least 1"));
    }
    if index == 0 {
        return Err(format!(
            "`{s}`: I counts from 1, so the first of {count} shares is 1/{count}"
        ));
    }
    if index > count {
        return Err(format!(
            "`{s}`: there are only {count} shares, so I goes from 1 to {count}"
        ));
    }
    Ok(SegmentArg { index, count })
}

/// `--start-at`: the wall-clock moment to start at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartAt(pub SystemTime);

impl StartAt {
    /// As the result file's `run.start_at` writes it: RFC 3339 in UTC, to the millisecond.
    pub fn text(self) -> String {
        format_timestamp(self.0)
    }
}

/// An RFC 3339 time, at most [`MOST_AHEAD`] from now.
pub fn parse_start_at(s: &str) -> Result<StartAt, String> {
    parse_start_at_from(s, SystemTime::now())
}

fn parse_start_at_from(s: &str, now: SystemTime) -> Result<StartAt, String> {
    let parsed =
        time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
            .map_err(|e| {
                format!(
                    "`{s}` is not an RFC 3339 time ({e}): write it like 2026-12-06T03:00:00Z \
                     or 2026-12-06T04:00:00+01:00 (`date -u -d +1min +%FT%TZ` prints one)"
                )
            })?;
    let at = SystemTime::from(parsed);
    if let Ok(ahead) = at.duration_since(now) {
        if ahead > MOST_AHEAD {
            return Err(format!(
                "`{s}` is {} from now: more than 24 hours ahead is refused as a probable \
                 mistake (a wrong date or time zone?); give a time within the next 24 hours",
                span(ahead)
            ));
        }
    }
    Ok(StartAt(at))
}

/// `1.8 s`, `3 min 20 s`, `5 h 3 min`: how long a wait or a delay is, for people.
fn span(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{:.1} s", d.as_secs_f64()),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// Waits until `at` on the wall clock; at once (with a notice) when it is past. `Err` is
/// the exit code when Ctrl-C or SIGTERM ended the wait: nothing ran, nothing is written.
pub async fn wait_until(at: StartAt, segment: Option<SegmentArg>) -> Result<(), u8> {
    let what = match segment {
        Some(s) => format!("segment {s}"),
        None => "the run".to_owned(),
    };
    let now = SystemTime::now();
    match at.0.duration_since(now) {
        Err(late) => {
            eprintln!(
                "warning: --start-at {} passed {} ago: starting {what} now, that much late \
                 (processes that started on time are ahead by as much)",
                at.text(),
                span(late.duration())
            );
            return Ok(());
        }
        Ok(left) => eprintln!(
            "Waiting until {} (in {}) to start {what}; Ctrl-C cancels.",
            at.text(),
            span(left)
        ),
    }
    let mut signals = Signals::new();
    loop {
        let Ok(left) = at.0.duration_since(SystemTime::now()) else {
            return Ok(());
        };
        tokio::select! {
            _ = tokio::time::sleep(left.min(Duration::from_secs(1))) => {}
            _ = signals.recv() => {
                eprintln!("\nInterrupted before the start: no run, no files.");
                return Err(exit::INTERRUPTED);
            }
        }
    }
}

/// Ctrl-C, and on Unix SIGTERM (what `kubectl delete` sends a pod), during the wait.
struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Signals {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            if self.interrupt.is_some() || self.terminate.is_some() {
                tokio::select! {
                    _ = next(&mut self.interrupt) => {}
                    _ = next(&mut self.terminate) => {}
                }
                return;
            }
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_counted_from_one_and_each_mistake_says_its_fix() {
        let s = parse_segment("2/4").unwrap();
        assert_eq!(s, SegmentArg { index: 2, count: 4 });
        assert_eq!(s.engine(), Segment::new(1, 4).unwrap());
        assert_eq!(s.meta(), SegmentMeta { index: 2, count: 4 });
        assert_eq!(s.to_string(), "2/4");
        assert_eq!(parse_segment(" 4/4 ").unwrap().engine().index(), 3);
        assert_eq!(parse_segment("1/1").unwrap().engine(), Segment::WHOLE);
        let err = |s: &str| parse_segment(s).unwrap_err();
        assert!(err("0/4").contains("I counts from 1, so the first of 4 shares is 1/4"));
        assert!(err("5/4").contains("only 4 shares, so I goes from 1 to 4"));
        assert!(err("x/4").contains("I and N must be whole numbers"));
        assert!(err("-1/4").contains("whole numbers"));
        assert!(err("4").contains("is not a segment: write I/N, like 2/4"));
        assert!(err("1/0").contains("at least 1"));
    }

    #[test]
    fn start_times_are_rfc_3339_and_at_most_a_day_ahead() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        // 2027-01-15T08:00:00Z
        let at = parse_start_at_from("2027-01-15T08:00:00Z", now).unwrap();
        assert_eq!(at.text(), "2027-01-15T08:00:00Z");
        let offset = parse_start_at_from("2027-01-15T09:00:00.250+01:00", now).unwrap();
        assert_eq!(offset.text(), "2027-01-15T08:00:00.25Z");
        // In the past: accepted (the wait starts at once, with a notice).
        assert!(parse_start_at_from("2020-01-01T00:00:00Z", now).is_ok());
        // Just under a day ahead, and just over.
        assert!(parse_start_at_from("2027-01-16T07:59:59Z", now).is_ok());
        let far = parse_start_at_from("2027-01-16T08:00:01Z", now).unwrap_err();
        assert!(far.contains("24 h 0 min from now"), "{far}");
        assert!(far.contains("more than 24 hours ahead is refused as a probable mistake"));
        let bad = parse_start_at_from("tomorrow", now).unwrap_err();
        assert!(bad.contains("not an RFC 3339 time"), "{bad}");
        assert!(parse_start_at_from("2027-01-15 08:00:00", now).is_err());
    }

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(Duration::from_millis(1800)), "1.8 s");
        assert_eq!(span(Duration::from_secs(200)), "3 min 20 s");
        assert_eq!(span(Duration::from_secs(5 * 3600 + 180)), "5 h 3 min");
    }
}
