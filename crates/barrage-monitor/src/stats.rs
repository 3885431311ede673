//! The threshold figures' statistics ([`barrage_metrics::ServerStats`]), kept as running
//! sums as rows arrive, so reading them each second costs nothing however long the run.
//!
//! One column feeds a figure: the first source, in the section's order, with a column that
//! names it. Two sources feeding one figure (two `--monitor-port`s would be one process
//! source, so this means e.g. two PostgreSQL servers) are not summed: their samples are
//! taken at different moments, and summing them per sample time would need a resampling
//! that says less than the first source's own figure.

use barrage_metrics::{Column, FigureStats, ProbeSummary, ServerStats, FIGURES};

/// One figure's running statistics over one source's samples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Accumulator {
    count: u64,
    max: f64,
    min: f64,
    sum: f64,
    last: f64,
}

impl Accumulator {
    pub fn add(&mut self, value: f64) {
        if self.count == 0 {
            self.max = value;
            self.min = value;
        } else {
            self.max = self.max.max(value);
            self.min = self.min.min(value);
        }
        self.count += 1;
        self.sum += value;
        self.last = value;
    }

    fn stats(&self, name: &str, unit: &str) -> FigureStats {
        FigureStats {
            name: name.to_owned(),
            unit: unit.to_owned(),
            count: self.count,
            max: self.max,
            min: self.min,
            mean: if self.count == 0 {
                0.0
            } else {
                self.sum / self.count as f64
            },
            last: self.last,
        }
    }
}

/// A source's figures: one accumulator per figure in [`FIGURES`] order, fed by the columns
/// that name them.
#[derive(Clone, Debug, Default)]
pub struct SourceFigures {
    /// Parallel to [`FIGURES`]; `None` where no column of the source names the figure.
    by_figure: Vec<Option<Accumulator>>,
}

impl SourceFigures {
    /// Feeds a sample of the source whose columns are `columns`.
    pub fn add_row(&mut self, columns: &[Column], values: &[Option<f64>]) {
        if self.by_figure.is_empty() {
            self.by_figure = vec![None; FIGURES.len()];
        }
        for (column, value) in columns.iter().zip(values) {
            let Some(figure) = &column.figure else {
                continue;
            };
            let Some(i) = FIGURES.iter().position(|(name, _, _)| name == figure) else {
                continue;
            };
            let acc = self.by_figure[i].get_or_insert_with(Accumulator::default);
            if let Some(v) = value {
                acc.add(*v);
            }
        }
    }
}

/// The section's figures from its sources' (in the section's order): each figure from the
/// first source that has a column for it and a sample of it.
pub fn merge<'a>(sources: impl IntoIterator<Item = &'a SourceFigures>) -> ServerStats {
    let sources: Vec<&SourceFigures> = sources.into_iter().collect();
    let mut figures = Vec::new();
    for (i, (name, unit, _)) in FIGURES.iter().enumerate() {
        let first = sources
            .iter()
            .filter_map(|s| s.by_figure.get(i).and_then(Option::as_ref))
            .find(|acc| acc.count > 0);
        if let Some(acc) = first {
            figures.push(acc.stats(name, unit));
        }
    }
    ServerStats { figures }
}

/// The probe's figures made whole from its summary: while the probed service is lost (a
/// freeze past two intervals, every probe failing) the probe's source gives no rows, yet
/// the wait goes on and the failures add up. So `probe_max_stall` is at least the summary's
/// longest stall (a probe still waiting counts with its wait so far) and `probe_failures`
/// ends at the summary's count; a probe that never got a row still has both.
pub fn with_probe(mut stats: ServerStats, probe: Option<&ProbeSummary>) -> ServerStats {
    let Some(p) = probe else {
        return stats;
    };
    if p.sent == 0 {
        return stats;
    }
    let mut floor = |name: &str, value: f64, is_last: bool| match stats
        .figures
        .iter_mut()
        .find(|f| f.name == name)
    {
        Some(f) => {
            f.max = f.max.max(value);
            if is_last {
                f.last = value;
            }
        }
        None => stats.figures.push(FigureStats {
            name: name.to_owned(),
            unit: unit_of(name).to_owned(),
            count: 1,
            max: value,
            min: value,
            mean: value,
            last: value,
        }),
    };
    floor("probe_max_stall", p.longest_stall_ms, false);
    floor("probe_failures", p.failed as f64, true);
    // In FIGURES order, as `merge` gives them.
    stats
        .figures
        .sort_by_key(|f| FIGURES.iter().position(|(n, _, _)| *n == f.name));
    stats
}

fn unit_of(name: &str) -> &'static str {
    FIGURES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or("", |(_, unit, _)| unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(key: &str, figure: Option<&str>) -> Column {
        Column {
            key: key.to_owned(),
            label: key.to_owned(),
            unit: "%".to_owned(),
            figure: figure.map(str::to_owned),
        }
    }

    #[test]
    fn a_figure_has_the_count_extremes_mean_and_last_of_its_measured_samples() {
        let columns = [column("cpu", Some("server_cpu")), column("x", None)];
        let mut source = SourceFigures::default();
        for v in [Some(10.0), None, Some(40.0), Some(25.0)] {
            source.add_row(&columns, &[v, Some(99.0)]);
        }
        let stats = merge([&source]);
        assert_eq!(stats.figures.len(), 1);
        let cpu = stats.figure("server_cpu").unwrap();
        assert_eq!(
            (cpu.count, cpu.max, cpu.min, cpu.mean, cpu.last),
            (3, 40.0, 10.0, 25.0, 25.0)
        );
        assert_eq!(cpu.unit, "%");
    }

    #[test]
    fn figures_come_in_the_vocabulary_order_from_the_first_source_that_measured_them() {
        let probe_columns = [column("max_ms", Some("probe_max_stall"))];
        let cpu_columns = [column("cpu", Some("server_cpu"))];
        let (mut first, mut second, mut probe) = Default::default();
        SourceFigures::add_row(&mut first, &cpu_columns, &[None]);
        SourceFigures::add_row(&mut second, &cpu_columns, &[Some(7.0)]);
        SourceFigures::add_row(&mut probe, &probe_columns, &[Some(3.0)]);
        let stats = merge([&probe, &first, &second]);
        let names: Vec<&str> = stats.figures.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["server_cpu", "probe_max_stall"]);
        // The first source never measured it, so the second one's sample stands.
        assert_eq!(stats.figure("server_cpu").unwrap().max, 7.0);
    }

    #[test]
    fn the_probes_figures_are_made_whole_from_its_summary() {
        let probe = ProbeSummary {
            sent: 100,
            failed: 40,
            longest_stall_ms: 25_000.0,
            ..ProbeSummary::default()
        };
        // Rows stopped at a 1.9 s wait and 3 failures when the service was lost.
        let mut f = SourceFigures::default();
        f.add_row(
            &[
                column("max_ms", Some("probe_max_stall")),
                column("failed", Some("probe_failures")),
            ],
            &[Some(1_900.0), Some(3.0)],
        );
        let stats = with_probe(merge([&f]), Some(&probe));
        let stall = stats.figure("probe_max_stall").unwrap();
        assert_eq!((stall.max, stall.last), (25_000.0, 1_900.0));
        let failures = stats.figure("probe_failures").unwrap();
        assert_eq!((failures.max, failures.last), (40.0, 40.0));
        // A probe lost from its first probe on has no rows, and still both figures.
        let alone = with_probe(ServerStats::default(), Some(&probe));
        let names: Vec<&str> = alone.figures.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["probe_max_stall", "probe_failures"]);
        assert_eq!(alone.figure("probe_max_stall").unwrap().unit, "ms");
        // Nothing sent: nothing made up.
        assert!(
            with_probe(ServerStats::default(), Some(&ProbeSummary::default()))
                .figures
                .is_empty()
        );
    }
}
