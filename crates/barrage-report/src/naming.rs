//! How an endpoint is named in a table: `Type` (the method) and `Name`, plus `Scenario` when
//! the run has more than one scenario (the same name can then appear in two of them).
//!
//! Names longer than [`NAME_WIDTH`] are cut with `…` so one long path template cannot push
//! every number off the screen.

use barrage_metrics::{EndpointStats, Snapshot};

use crate::table::{truncate, Cell, Column};

/// The widest a name column gets, in chars.
pub(crate) const NAME_WIDTH: usize = 40;

/// Which identifying columns a snapshot needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Naming {
    with_scenario: bool,
}

impl Naming {
    pub(crate) fn for_snapshot(s: &Snapshot) -> Naming {
        let mut scenarios = s.endpoints.iter().map(|e| e.scenario.as_str());
        let first = scenarios.next();
        Naming {
            with_scenario: scenarios.any(|sc| Some(sc) != first),
        }
    }

    /// True when rows need a `Scenario` column.
    pub(crate) fn with_scenario(self) -> bool {
        self.with_scenario
    }

    pub(crate) fn columns(self) -> Vec<Column> {
        let mut cols = Vec::new();
        if self.with_scenario {
            cols.push(Column::left("Scenario"));
        }
        cols.push(Column::left("Type"));
        cols.push(Column::left("Name"));
        cols
    }

    pub(crate) fn cells(self, scenario: &str, method: &str, name: &str) -> Vec<Cell> {
        let mut cells = Vec::new();
        if self.with_scenario {
            cells.push(Cell::new(truncate(scenario, NAME_WIDTH)));
        }
        cells.push(Cell::new(method));
        cells.push(Cell::new(truncate(name, NAME_WIDTH)));
        cells
    }

    pub(crate) fn endpoint(self, e: &EndpointStats) -> Vec<Cell> {
        self.cells(&e.scenario, &e.method, &e.name)
    }
}
