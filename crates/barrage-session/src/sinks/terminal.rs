//! The terminal's sinks: the live table (every two seconds, as Locust's headless output)
//! with a line per monitored server source and the run's notices, and the summary (with
//! its Server block when something was monitored) at the end. They write to whatever the front end
//! gives them (stderr, for the CLI, so machine output on stdout stays clean).

use std::io::Write;

use barrage_report::ViewOptions;

use crate::sink::{Finished, Live, Sink, SinkError};

/// How often the live table is printed, in closed seconds.
const TABLE_EVERY: u64 = 2;

/// The live table and the run's notices.
pub struct LiveTable {
    out: Box<dyn Write + Send>,
    view: ViewOptions,
    /// Print the table (`--only-summary` turns it off; notices still show).
    table: bool,
}

impl LiveTable {
    pub fn new(out: Box<dyn Write + Send>, view: ViewOptions, table: bool) -> LiveTable {
        LiveTable { out, view, table }
    }
}

impl Sink for LiveTable {
    fn name(&self) -> &str {
        "live table"
    }

    /// Only the notices without the table (`--only-summary`).
    fn reads_seconds(&self) -> bool {
        self.table
    }

    fn second(&mut self, live: &Live) {
        // A table that fell behind prints the next second it gets, whatever its number.
        if !self.table || (!live.second.is_multiple_of(TABLE_EVERY) && live.missed == 0) {
            return;
        }
        let mut text =
            barrage_report::live_view(&live.snapshot, live.server.as_deref(), &self.view);
        text.push('\n');
        text.push_str(&live.thresholds.status(&self.view));
        if let Some(line) =
            barrage_report::generator::live_line(&live.snapshot, live.schedule_matters)
        {
            text.push_str(&line);
            text.push('\n');
        }
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }

    fn notice(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }
}

/// The summary, the generator's health and the thresholds' verdicts, at the end.
pub struct Summary {
    out: Box<dyn Write + Send>,
    view: ViewOptions,
}

impl Summary {
    pub fn new(out: Box<dyn Write + Send>, view: ViewOptions) -> Summary {
        Summary { out, view }
    }
}

impl Sink for Summary {
    fn name(&self) -> &str {
        "summary"
    }

    fn reads_seconds(&self) -> bool {
        false
    }

    fn finished(&mut self, end: &Finished) -> Result<Vec<String>, SinkError> {
        let r = &end.result;
        let mut text = barrage_report::summary(&end.snapshot, &self.view);
        let never_ran = barrage_report::never_ran_section(&r.never_ran, &self.view);
        if !never_ran.is_empty() {
            text.push('\n');
            text.push_str(&never_ran);
        }
        let server = barrage_report::server_section(r.server.as_ref(), &self.view);
        if !server.is_empty() {
            text.push('\n');
            text.push_str(&server);
        }
        text.push('\n');
        text.push_str(&barrage_report::generator::summary_section(
            &r.generator,
            &r.warnings,
            r.run.workers,
            end.schedule_matters,
        ));
        if let Some(s) = r.run.segment {
            text.push_str(&format!(
                "segment {}/{}: this process ran that share of the load; `barrage merge` \
                 combines the {} shares' result files\n",
                s.index, s.count, s.count
            ));
        }
        text.push('\n');
        let section = barrage_report::threshold::thresholds_section(&r.thresholds, &self.view);
        if !section.is_empty() {
            text.push_str(&section);
            text.push('\n');
        }
        self.out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(|source| SinkError::Write {
                what: "the summary".to_owned(),
                source,
            })?;
        Ok(Vec::new())
    }
}
