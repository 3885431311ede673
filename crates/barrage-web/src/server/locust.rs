//! Locust's web API, so scripts, exporters and CI jobs written for Locust's web UI drive
//! barrage unchanged: `POST /swarm` (the form fields `user_count`, `spawn_rate`, `host`,
//! `run_time`), `GET /stop`, `GET /stats/reset` and `GET /stats/requests` in Locust's shape
//! (the fields its `web.py` writes; which of them barrage fills, and how, is in the README).

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use std::sync::atomic::Ordering;

use super::api::{begin, reset_run, stop_run, SOURCE};
use super::error::ApiError;
use super::{Shared, StartForm};
use crate::view::{Row, State as RunState, View};

/// Locust's start form. Every field is text (an empty one means "as the file says").
#[derive(Debug, Deserialize)]
pub(crate) struct Swarm {
    user_count: Option<String>,
    spawn_rate: Option<String>,
    host: Option<String>,
    run_time: Option<String>,
}

fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn number<T: std::str::FromStr>(field: &Option<String>, name: &str) -> Result<Option<T>, ApiError> {
    given(field)
        .map(|v| {
            v.parse()
                .map_err(|_| ApiError::bad(format!("`{name}` must be a number, not `{v}`")))
        })
        .transpose()
}

/// Locust's answer to `/swarm`: `success`, `message`, `host`.
fn answer(status: StatusCode, success: bool, message: &str, host: &str) -> Response {
    (
        status,
        Json(json!({ "success": success, "message": message, "host": host })),
    )
        .into_response()
}

pub(crate) async fn swarm(
    State(s): State<Arc<Shared>>,
    form: Result<Form<Swarm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(f)) => f,
        Err(e) => return answer(StatusCode::BAD_REQUEST, false, &e.body_text(), ""),
    };
    let parsed = (|| {
        Ok::<_, ApiError>(StartForm {
            host: given(&form.host).map(str::to_owned),
            users: number(&form.user_count, "user_count")?,
            spawn_rate: number(&form.spawn_rate, "spawn_rate")?,
            rate: None,
            run_time_s: None,
            run_time: given(&form.run_time).map(str::to_owned),
        })
    })();
    let start = match parsed {
        Ok(f) => f,
        Err(e) => return answer(StatusCode::BAD_REQUEST, false, e.text(), ""),
    };
    // Locust's `/swarm` during a run changes the user count (its web.py does); the spawn
    // rate of a change is the scenario's, as for every other load change.
    if let (true, Some(control)) = (s.started.load(Ordering::SeqCst), s.control()) {
        let host = s.live.with_view(|v| v.run.target.clone());
        let Some(users) = start.users else {
            return answer(
                StatusCode::BAD_REQUEST,
                false,
                "the run is going: give `user_count` to change the number of users",
                &host,
            );
        };
        return match control.set_users(None, users, SOURCE) {
            Ok(()) => answer(StatusCode::OK, true, "Swarming started", &host),
            Err(e) => {
                let e = ApiError::control(e);
                answer(e.status(), false, e.text(), &host)
            }
        };
    }
    match begin(&s, start).await {
        Ok(()) => {
            let host = s.live.with_view(|v| v.run.target.clone());
            answer(StatusCode::OK, true, "Swarming started", &host)
        }
        Err(e) => answer(e.status(), false, e.text(), ""),
    }
}

pub(crate) async fn stop(State(s): State<Arc<Shared>>) -> Response {
    // Locust answers success whatever the state; a run that is over or not started has
    // nothing to stop.
    let _ = stop_run(&s);
    Json(json!({ "success": true, "message": "Test stopped" })).into_response()
}

pub(crate) async fn reset(State(s): State<Arc<Shared>>) -> Response {
    match reset_run(&s) {
        Ok(()) => "ok".into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn requests(State(s): State<Arc<Shared>>) -> Json<Value> {
    Json(s.live.with_view(stats))
}

/// Reads one figure of a latency summary.
type Read = fn(&barrage_metrics::LatencyStats) -> f64;

/// The quantiles of Locust's `response_time_percentile_Q` keys that barrage fills.
const PERCENTILES: [(&str, Read); 7] = [
    ("0.5", |l| l.p50),
    ("0.75", |l| l.p75),
    ("0.9", |l| l.p90),
    ("0.95", |l| l.p95),
    ("0.99", |l| l.p99),
    ("0.999", |l| l.p999),
    ("1.0", |l| l.max),
];

/// One entry of `stats`, as Locust's `request_stats` writes it.
fn entry(row: &Row) -> Value {
    let s = &row.stats;
    let rt = &s.response_time;
    let mut e = Map::new();
    // Locust's `Aggregated` entry has no method: `null`.
    let method = Some(&s.method).filter(|m| !m.is_empty());
    e.insert("method".into(), json!(method));
    e.insert("name".into(), json!(s.name));
    e.insert("safe_name".into(), json!(escape(&s.name, false)));
    e.insert("num_requests".into(), json!(s.requests));
    e.insert("num_failures".into(), json!(s.failures));
    e.insert("avg_response_time".into(), json!(rt.mean));
    e.insert("min_response_time".into(), json!(rt.min));
    e.insert("max_response_time".into(), json!(rt.max));
    e.insert("current_rps".into(), json!(row.current_rps));
    e.insert("current_fail_per_sec".into(), json!(row.failures_per_s));
    e.insert("median_response_time".into(), json!(rt.p50));
    e.insert("ninetieth_response_time".into(), json!(rt.p90));
    e.insert("ninety_ninth_response_time".into(), json!(rt.p99));
    let content_length = if s.requests == 0 {
        0.0
    } else {
        s.bytes_received as f64 / s.requests as f64
    };
    e.insert("avg_content_length".into(), json!(content_length));
    for (q, read) in PERCENTILES {
        e.insert(format!("response_time_percentile_{q}"), json!(read(rt)));
    }
    Value::Object(e)
}

/// Locust's words for the run's state.
fn state(v: &View) -> &'static str {
    match v.state {
        RunState::Ready => "ready",
        RunState::Running => "running",
        RunState::Stopping => "stopping",
        RunState::Ended => "stopped",
    }
}

#[derive(Serialize)]
struct Error<'a> {
    method: &'a str,
    name: &'a str,
    error: String,
    occurrences: u64,
}

/// `GET /stats/requests`: every endpoint in the file's order, then `Aggregated`.
fn stats(v: &View) -> Value {
    // Locust sorts its entries by (name, method) (`sort_stats`); endpoints of several
    // scenarios with the same name and method keep the file's order among themselves.
    let mut rows: Vec<&Row> = v.endpoints.iter().collect();
    rows.sort_by(|a, b| (&a.stats.name, &a.stats.method).cmp(&(&b.stats.name, &b.stats.method)));
    let mut stats: Vec<Value> = rows.into_iter().map(entry).collect();
    let mut total = v.aggregate.clone();
    total.stats.name = "Aggregated".to_owned();
    total.stats.method = String::new();
    stats.push(entry(&total));
    let errors: Vec<Error> = v
        .failures
        .iter()
        .map(|f| Error {
            method: &f.method,
            name: &f.name,
            error: escape(&format!("{}: {}", f.category, f.sample), true),
            occurrences: f.count,
        })
        .collect();
    let agg = &v.aggregate.stats;
    let fail_ratio = if agg.requests == 0 {
        0.0
    } else {
        agg.failures as f64 / agg.requests as f64
    };
    // Locust's "current" percentiles are of its last seconds; barrage's of the last closed
    // second.
    let p50 = v.series.p50.last().copied();
    let p95 = v.series.p95.last().copied();
    json!({
        "stats": stats,
        "errors": errors,
        "total_rps": v.aggregate.current_rps,
        "total_fail_per_sec": v.aggregate.failures_per_s,
        "fail_ratio": fail_ratio,
        "current_response_time_percentile_1": p50,
        "current_response_time_percentile_2": p95,
        "current_response_time_percentiles": {
            "response_time_percentile_0.5": p50,
            "response_time_percentile_0.95": p95,
        },
        "total_avg_response_time": agg.response_time.mean,
        "user_count": v.users,
        "state": state(v),
    })
}

/// As Locust escapes names and errors for its page: Python's `html.escape`, which with
/// `quote` (its default, errors) also escapes quotes; `safe_name` is `escape(name,
/// quote=False)`.
fn escape(s: &str, quote: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quote => out.push_str("&quot;"),
            '\'' if quote => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use barrage_metrics::{EndpointStats, FailureStats, LatencyStats};

    fn row(name: &str, requests: u64, failures: u64, p50: f64) -> Row {
        Row {
            stats: EndpointStats {
                scenario: "default".into(),
                method: "GET".into(),
                name: name.into(),
                requests,
                failures,
                bytes_received: requests * 100,
                response_time: LatencyStats {
                    count: requests - failures,
                    min: 1.0,
                    mean: 2.5,
                    max: 9.0,
                    p50,
                    p75: 3.0,
                    p90: 4.0,
                    p95: 5.0,
                    p99: 8.0,
                    p999: 9.0,
                },
                ..EndpointStats::default()
            },
            current_rps: 40.0,
            failures_per_s: 1.0,
        }
    }

    #[test]
    fn stats_requests_has_locusts_fields_and_an_aggregated_entry_last() {
        let view = View {
            state: RunState::Running,
            users: 7,
            endpoints: vec![row("/items/<id>", 90, 10, 2.0), row("/health", 10, 0, 1.0)],
            aggregate: row("Aggregated", 100, 10, 2.0),
            failures: vec![FailureStats {
                scenario: "default".into(),
                method: "GET".into(),
                name: "/items/<id>".into(),
                category: "status".into(),
                count: 10,
                sample: "HTTP 500".into(),
            }],
            ..View::default()
        };
        let v = stats(&view);
        assert_eq!(v["state"], "running");
        assert_eq!(v["user_count"], 7);
        assert_eq!(v["fail_ratio"], 0.1);
        assert_eq!(v["total_rps"], 40.0);
        assert_eq!(v["total_fail_per_sec"], 1.0);
        let stats = v["stats"].as_array().unwrap();
        assert_eq!(stats.len(), 3);
        assert_eq!(
            escape(r#"/a?b="c"&d='e'<f>"#, false),
            r#"/a?b="c"&amp;d='e'&lt;f&gt;"#
        );
        assert_eq!(escape(r#""'"#, true), "&quot;&#x27;");
        // Sorted by name, as Locust's: `/health` before `/items/<id>`, whatever the file's
        // order.
        assert_eq!(stats[0]["name"], "/health");
        let first = &stats[1];
        assert_eq!(first["name"], "/items/<id>");
        assert_eq!(first["safe_name"], "/items/&lt;id&gt;");
        assert_eq!(first["method"], "GET");
        assert_eq!(first["num_requests"], 90);
        assert_eq!(first["num_failures"], 10);
        assert_eq!(first["median_response_time"], 2.0);
        assert_eq!(first["avg_response_time"], 2.5);
        assert_eq!(first["min_response_time"], 1.0);
        assert_eq!(first["max_response_time"], 9.0);
        assert_eq!(first["ninetieth_response_time"], 4.0);
        assert_eq!(first["ninety_ninth_response_time"], 8.0);
        assert_eq!(first["response_time_percentile_0.95"], 5.0);
        assert_eq!(first["response_time_percentile_0.999"], 9.0);
        assert_eq!(first["avg_content_length"], 100.0);
        assert_eq!(first["current_rps"], 40.0);
        assert_eq!(first["current_fail_per_sec"], 1.0);
        assert_eq!(stats[2]["name"], "Aggregated");
        assert_eq!(stats[2]["method"], Value::Null);
        assert_eq!(stats[2]["num_requests"], 100);
        assert_eq!(
            v["errors"],
            json!([{"method": "GET", "name": "/items/<id>", "error": "status: HTTP 500", "occurrences": 10}])
        );
    }
}
