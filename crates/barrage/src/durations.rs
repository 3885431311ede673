//! Durations as flags take them (`--run-time`, `--monitor-interval`): the scenario file's
//! syntax, with the fix in the error.

use std::time::Duration;

/// Durations on the command line use the scenario file's syntax (`500ms`, `1m30s`).
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    barrage_scenario::parse_duration(s).map_err(|e| format!("{e}; {}", e.help()))
}

/// A run's length or a timeout: zero would end the run before it starts or fail every
/// request unsent, so it is refused with what to write instead.
pub(crate) fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err(format!(
            "`{s}` is zero; write a length above zero, like `10s` (or leave the flag out for \
             its default)"
        )),
        d => Ok(d),
    }
}
