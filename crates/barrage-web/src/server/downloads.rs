//! The downloads: the result file, the one-file HTML report and Locust's four CSV files,
//! each made from the judged result (the run so far while it runs) by the code that writes
//! the same files from the command line, so a download equals the file `--json`, `--html`
//! or `--csv` would have written.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use barrage_metrics::ResultDoc;
use barrage_report::csv::LocustCsv;

use super::error::ApiError;
use super::Shared;
use crate::view::View;

/// The result of the run: the final one once it is over; while it runs, the run so far
/// (`Control::result_so_far`: the session's loop builds it between two seconds, at most
/// once per closed second of the run whoever asks).
pub(crate) async fn result_now(s: &Shared) -> Result<Arc<ResultDoc>, ApiError> {
    if let Some(done) = s.live.result() {
        return Ok(done);
    }
    let control = control_now(s).await?;
    // One result per closed second: the lock is held while the session builds it, so the
    // callers of the same second wait for that one instead of asking for their own.
    let second = s.live.with_view(|v| v.elapsed_s.max(0.0).floor() as u64);
    let mut cached = s.so_far.lock().await;
    if let Some((at, doc)) = cached.as_ref() {
        if *at == second {
            return Ok(doc.clone());
        }
    }
    match control.result_so_far().await {
        Ok(doc) => {
            let doc = Arc::new(doc);
            *cached = Some((second, doc.clone()));
            Ok(doc)
        }
        // The run ended while the request waited: the final result is on its way to the
        // web sink (it is handed to the sinks right after the loop ends).
        Err(_) => {
            drop(cached);
            for _ in 0..50 {
                if let Some(done) = s.live.result() {
                    return Ok(done);
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(ApiError::new(
                StatusCode::CONFLICT,
                "the run has just ended: download again in a moment",
            ))
        }
    }
}

/// The run's control handle; between the start being accepted and the session handing
/// it over (compiling, starting the workers) the run is starting: waits for it.
pub(crate) async fn control_now(s: &Shared) -> Result<barrage_session::Control, ApiError> {
    let mut control = s.control();
    for _ in 0..50 {
        if control.is_some() || s.live.state() == crate::view::State::Ready {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        control = s.control();
    }
    control.ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "the run has not started"))
}

pub(crate) async fn download(
    State(s): State<Arc<Shared>>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let (kind, name) = match file.as_str() {
        "result.json" => ("application/json", "barrage_result.json"),
        "report.html" => ("text/html; charset=utf-8", "barrage_report.html"),
        "stats.csv" => ("text/csv", "barrage_stats.csv"),
        "stats_history.csv" => ("text/csv", "barrage_stats_history.csv"),
        "failures.csv" => ("text/csv", "barrage_failures.csv"),
        "exceptions.csv" => ("text/csv", "barrage_exceptions.csv"),
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "no download `{file}`: result.json, report.html, stats.csv, \
                     stats_history.csv, failures.csv or exceptions.csv"
                ),
            ))
        }
    };
    let doc = result_now(&s).await?;
    let body = match file.as_str() {
        "result.json" => doc.to_json(),
        "report.html" => crate::report::html(&View::from_result(&doc, None)),
        csv => {
            let files = LocustCsv::from_result(&doc, false);
            match csv {
                "stats.csv" => files.stats,
                "stats_history.csv" => files.stats_history,
                "failures.csv" => files.failures,
                _ => files.exceptions,
            }
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename={name}"),
            ),
        ],
        body,
    )
        .into_response())
}
