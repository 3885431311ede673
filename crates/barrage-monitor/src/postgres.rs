//! Placeholder for the postgres source, written by the helper "monitor-sources" in
//! parallel: its file replaces this one at the merge. Until then a postgres source is
//! unreachable, which the runner reports on the timeline like any unreachable source.

use barrage_metrics::{Column, SourceKind};

use crate::{Source, SourceError};

pub struct PostgresSource;

impl PostgresSource {
    pub fn new(_url: &str) -> Result<Self, SourceError> {
        Err(SourceError::new("not built yet"))
    }
}

impl Source for PostgresSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Postgres
    }

    fn name(&self) -> String {
        "postgres".to_owned()
    }

    fn target(&self) -> String {
        String::new()
    }

    fn open(&mut self) -> Result<(), SourceError> {
        Err(SourceError::new("not built yet"))
    }

    fn columns(&self) -> &[Column] {
        &[]
    }

    fn sample(&mut self) -> Result<Vec<Option<f64>>, SourceError> {
        Err(SourceError::new("not built yet"))
    }
}
