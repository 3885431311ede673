//! barrage's own HTTP API (the page's calls) and the router that puts every route behind
//! the security guard. All JSON; errors are `{"error": "text"}` with a 4xx status.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{self, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use barrage_session::Control;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::oneshot;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

use super::error::ApiError;
use super::{downloads, Shared, StartForm, StartRequest};
use crate::view::{self, State as RunState};

/// How the web UI names itself in the result's timeline and the notices.
pub(crate) const SOURCE: &str = "web UI";

pub(crate) async fn view_json(State(s): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        s.live.view_json(),
    )
        .into_response()
}

/// The live events. A client that falls more than the channel behind is dropped; its
/// browser reconnects and re-fetches the View.
pub(crate) async fn events(
    State(s): State<Arc<Shared>>,
) -> Sse<impl Stream<Item = Result<sse::Event, Infallible>>> {
    let stream = BroadcastStream::new(s.live.subscribe()).map_while(|item| {
        item.ok()
            .map(|e| Ok(sse::Event::default().event(e.name).data(&*e.data)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

pub(crate) async fn start(
    State(s): State<Arc<Shared>>,
    body: Result<Json<StartForm>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(form) = body.map_err(|e| ApiError::bad(e.body_text()))?;
    begin(&s, form).await?;
    Ok(Json(json!({ "state": "running" })))
}

/// Hands the form to the front end and waits for its answer.
pub(crate) async fn begin(s: &Shared, form: StartForm) -> Result<(), ApiError> {
    if s.started.swap(true, Ordering::SeqCst) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "the run has already started",
        ));
    }
    let (reply, answer) = oneshot::channel();
    if s.starts.send(StartRequest { form, reply }).is_err() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "barrage is no longer waiting for a start",
        ));
    }
    match answer.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) => {
            s.started.store(false, Ordering::SeqCst);
            Err(ApiError::bad(why))
        }
        Err(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "barrage is no longer waiting for a start",
        )),
    }
}

fn running(s: &Shared) -> Result<Control, ApiError> {
    s.control()
        .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "the run has not started"))
}

/// Asks for a graceful stop; the View says `stopping` until the run is over.
pub(crate) fn stop_run(s: &Shared) -> Result<(), ApiError> {
    running(s)?.end(SOURCE).map_err(ApiError::control)?;
    if s.live.state() == RunState::Running {
        s.live.set_state(RunState::Stopping);
    }
    Ok(())
}

pub(crate) fn reset_run(s: &Shared) -> Result<(), ApiError> {
    running(s)?.reset_stats(SOURCE).map_err(ApiError::control)
}

pub(crate) async fn stop(
    State(s): State<Arc<Shared>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    stop_run(&s)?;
    Ok(Json(json!({ "state": "stopping" })))
}

pub(crate) async fn reset(
    State(s): State<Arc<Shared>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    reset_run(&s)?;
    Ok(Json(json!({})))
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoadChange {
    scenario: Option<String>,
    users: Option<u64>,
    rate: Option<f64>,
}

pub(crate) async fn load(
    State(s): State<Arc<Shared>>,
    body: Result<Json<LoadChange>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(change) = body.map_err(|e| ApiError::bad(e.body_text()))?;
    let control = running(&s)?;
    let scenario = change.scenario.as_deref();
    match (change.users, change.rate) {
        (Some(users), None) => control.set_users(scenario, users, SOURCE),
        (None, Some(rate)) => control.set_rate(scenario, rate, SOURCE),
        _ => return Err(ApiError::bad("give either `users` or `rate`")),
    }
    .map_err(ApiError::control)?;
    Ok(Json(json!({})))
}

pub(crate) async fn quit(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    s.quit.notify_one();
    Json(json!({}))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Which {
    endpoint: String,
}

/// The latency distribution of an endpoint (its index) or of `aggregate`, so far.
pub(crate) async fn distribution(
    State(s): State<Arc<Shared>>,
    Query(which): Query<Which>,
) -> Result<Json<view::Spectrum>, ApiError> {
    let i: Option<u32> = if which.endpoint == "aggregate" {
        None
    } else {
        Some(which.endpoint.parse().map_err(|_| {
            ApiError::bad(format!(
                "endpoint `{}` is neither `aggregate` nor an endpoint's index",
                which.endpoint
            ))
        })?)
    };
    let missing = |i: u32| ApiError::new(StatusCode::NOT_FOUND, format!("no endpoint {i}"));
    // While the run goes on, one histogram from the session (one encode); once it is
    // over, or if it ends while asked, the final result's.
    let so_far = match s.live.result() {
        Some(_) => None,
        None => match downloads::control_now(&s)
            .await?
            .histogram(i.map(|i| i as usize))
            .await
        {
            Ok(Some(encoded)) => Some(encoded),
            Ok(None) => return Err(missing(i.unwrap_or_default())),
            Err(_) => None,
        },
    };
    let encoded = match so_far {
        Some(encoded) => encoded,
        None => {
            let doc = downloads::result_now(&s).await?;
            let h = &doc.histograms;
            match i {
                None => h.aggregate.response_time.clone(),
                Some(i) => h
                    .endpoints
                    .get(i as usize)
                    .ok_or_else(|| missing(i))?
                    .response_time
                    .clone(),
            }
        }
    };
    let h = barrage_metrics::decode_histogram(&encoded).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot read the histogram: {e}"),
        )
    })?;
    Ok(Json(view::spectrum(&h, i)))
}
