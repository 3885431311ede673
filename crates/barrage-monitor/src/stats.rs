//! The threshold figures' statistics ([`barrage_metrics::ServerStats`]), kept as running
//! sums as rows arrive, so reading them each second costs nothing however long the run.
//!
//! One column feeds a figure: the first source, in the section's order, with a column that
//! names it. Two sources feeding one figure (two `--monitor-port`s would be one process
//! source, so this means e.g. two PostgreSQL servers) are not summed: their samples are
//! taken at different moments, and summing them per sample time would need a resampling
//! that says less than the first source's own figure.

use barrage_metrics::{Column, FigureStats, ServerStats, FIGURES};

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
}
