//! The demo target's API: routing, the handlers and their answers, and the per-route counts.
//!
//! Kept apart from the server's lifecycle (`super`) because this is the part that must stay
//! in step with `examples/fastapi-items/app.py`: same routes, same keys for the counts, same
//! answers, same FastAPI-shaped 422 bodies, same price for the same item name.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use rand::Rng;
use serde_json::{json, Map, Value};

use super::slots::Slots;
use super::{DemoOptions, COUNTS_PATH};

/// Request bodies larger than this are refused with 413: the demo API takes small JSON only.
const MAX_BODY_BYTES: usize = 1 << 20;

/// The routes that are counted, in the order their keys sort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Root,
    ReadItem,
    CreateItem,
    Login,
}

impl Route {
    const ALL: [Route; 4] = [
        Route::Root,
        Route::ReadItem,
        Route::CreateItem,
        Route::Login,
    ];

    /// The key under which the route is counted: method and path template, as FastAPI names
    /// the route, so that both targets report the same keys.
    fn key(self) -> &'static str {
        match self {
            Route::Root => "GET /",
            Route::ReadItem => "GET /items/{name}",
            Route::CreateItem => "POST /items/",
            Route::Login => "POST /login",
        }
    }
}

/// What the handlers share: the options, the counts and the last item id.
pub(super) struct State {
    opts: DemoOptions,
    served: [AtomicU64; Route::ALL.len()],
    last_item_id: AtomicU64,
    /// How long each delayed request really spent in its delay (ns): the server's own
    /// ground truth, which a latency test compares with what the client measured.
    delays_ns: std::sync::Mutex<Vec<u64>>,
    /// The line of a service of known capacity, when the options ask for one.
    slots: Option<Slots>,
}

impl State {
    pub(super) fn new(opts: DemoOptions) -> State {
        State {
            opts,
            served: Default::default(),
            last_item_id: AtomicU64::new(0),
            delays_ns: std::sync::Mutex::new(Vec::new()),
            slots: opts.capacity.map(Slots::new),
        }
    }

    pub(super) fn delays_ns(&self) -> Vec<u64> {
        self.delays_ns.lock().map(|v| v.clone()).unwrap_or_default()
    }

    fn count(&self, route: Route) {
        self.served[route as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn counts(&self) -> BTreeMap<String, u64> {
        Route::ALL
            .iter()
            .map(|&route| {
                let n = self.served[route as usize].load(Ordering::Relaxed);
                (route.key().to_owned(), n)
            })
            .collect()
    }

    fn stall(&self) -> Option<super::Stall> {
        self.opts.stall
    }

    fn delay(&self) -> Duration {
        let DemoOptions {
            min_delay,
            max_delay,
            ..
        } = self.opts;
        if max_delay <= min_delay {
            return min_delay;
        }
        rand::rng().random_range(min_delay..=max_delay)
    }
}

/// Sleeps with sub-millisecond precision (tokio's own timer rounds up to the next
/// millisecond): latency tests compare measured percentiles with these delays.
async fn precise_sleep(d: Duration) {
    precise_sleep_until(std::time::Instant::now() + d).await;
}

async fn precise_sleep_until(until: std::time::Instant) {
    barrage_engine::timer::PreciseTimer::new()
        .sleep_until(until)
        .await;
}

/// Answers one request; never fails (every error is an HTTP answer).
pub(super) async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    // Route on the percent-decoded path, as ASGI servers do, so both targets agree on which
    // path matches which route (`/items/a%2Fb` is `/items/a/b`: no route).
    let path = percent_encoding::percent_decode_str(req.uri().path())
        .decode_utf8_lossy()
        .into_owned();
    let method = req.method().clone();

    if path == COUNTS_PATH {
        return Ok(if method == Method::GET {
            json_response(StatusCode::OK, &json!(state.counts()))
        } else {
            method_not_allowed()
        });
    }

    if let Some(stall) = state.stall() {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let wait = stall.wait_at(since_epoch);
        if !wait.is_zero() {
            precise_sleep(wait).await;
        }
    }

    if let Some(rest) = path.strip_prefix(TEST_PREFIX) {
        return Ok(test_route(&method, rest, req.headers()).await);
    }

    let item_name = path
        .strip_prefix("/items/")
        .filter(|name| !name.is_empty() && !name.contains('/'));
    let route = match (path.as_str(), item_name) {
        ("/", _) if method == Method::GET => Route::Root,
        (_, Some(_)) if method == Method::GET => Route::ReadItem,
        ("/items/", _) if method == Method::POST => Route::CreateItem,
        ("/login", _) if method == Method::POST => Route::Login,
        ("/" | "/items/" | "/login", _) | (_, Some(_)) => return Ok(method_not_allowed()),
        _ => {
            return Ok(json_response(
                StatusCode::NOT_FOUND,
                &json!({ "detail": "Not Found" }),
            ))
        }
    };

    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            state.count(route);
            return Ok(json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &json!({ "detail": "Request body too large or unreadable" }),
            ));
        }
    };

    if let Some(slots) = &state.slots {
        // Answered at its due time (see `slots`): the delays do not apply.
        precise_sleep_until(slots.due(std::time::Instant::now())).await;
    } else {
        let delay = state.delay();
        if !delay.is_zero() {
            let slept = std::time::Instant::now();
            precise_sleep(delay).await;
            if let Ok(mut v) = state.delays_ns.lock() {
                v.push(slept.elapsed().as_nanos() as u64);
            }
        }
    }

    let (status, answer) = match route {
        Route::Root => (StatusCode::OK, json!({ "message": "Hello World" })),
        Route::ReadItem => {
            let name = item_name.expect("the ReadItem route is chosen only with an item name");
            (
                StatusCode::OK,
                json!({ "name": name, "price": price_of(name) }),
            )
        }
        Route::CreateItem => create_item(&state, &body),
        Route::Login => login(&content_type, &body),
    };
    // Counted before the response leaves, so a client that has its answer always finds it
    // in the counts.
    state.count(route);
    Ok(json_response(status, &answer))
}

/// Routes for barrage's own tests, beside the items API and not counted: a known delay
/// (`delay/{ms}`, ground truth for latency and timeouts), a redirect to `/`, and a cookie
/// round trip (`session` sets one, `me` answers 401 without it).
const TEST_PREFIX: &str = "/__barrage/";

async fn test_route(
    method: &Method,
    rest: &str,
    headers: &http::HeaderMap,
) -> Response<Full<Bytes>> {
    if method != Method::GET {
        return method_not_allowed();
    }
    if let Some(ms) = rest.strip_prefix("delay/") {
        let Ok(ms) = ms.parse::<u64>() else {
            return json_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                &json!({ "detail": "ms must be an integer" }),
            );
        };
        tokio::time::sleep(Duration::from_millis(ms.min(60_000))).await;
        return json_response(StatusCode::OK, &json!({ "delayed_ms": ms }));
    }
    match rest {
        "redirect" => Response::builder()
            .status(StatusCode::FOUND)
            .header(http::header::LOCATION, "/")
            .body(Full::new(Bytes::new()))
            .expect("a static response is valid"),
        "session" => {
            let mut r = json_response(StatusCode::OK, &json!({ "session": "started" }));
            r.headers_mut().insert(
                http::header::SET_COOKIE,
                http::HeaderValue::from_static("barrage_session=s3cr3t; Path=/"),
            );
            r
        }
        "me" => {
            let has = headers
                .get_all(http::header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| v.split(';').any(|c| c.trim() == "barrage_session=s3cr3t"));
            if has {
                json_response(StatusCode::OK, &json!({ "user": "testuser" }))
            } else {
                json_response(
                    StatusCode::UNAUTHORIZED,
                    &json!({ "detail": "Not authenticated" }),
                )
            }
        }
        _ => json_response(StatusCode::NOT_FOUND, &json!({ "detail": "Not Found" })),
    }
}

/// The price of an item that was never created: derived from its name by 32-bit FNV-1a, in
/// cents below 100.00, so that the same name always has the same price, here and in the
/// FastAPI example (`price_of` in app.py computes the same).
fn price_of(name: &str) -> f64 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in name.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    f64::from(hash % 10_000) / 100.0
}

fn create_item(state: &State, body: &[u8]) -> (StatusCode, Value) {
    let fields = match parse_json_object(body) {
        Ok(fields) => fields,
        Err(detail) => return (StatusCode::UNPROCESSABLE_ENTITY, detail),
    };
    let input = Value::Object(fields.clone());
    let mut errors = Vec::new();
    let name = string_field(&fields, "name", &input, &mut errors);
    let price = match fields.get("price") {
        None => {
            errors.push(missing("price", &input));
            None
        }
        Some(value) => {
            let parsed = match value {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            match parsed.filter(|p| p.is_finite()) {
                Some(price) => Some(price),
                None => {
                    errors.push(json!({
                        "type": "float_parsing",
                        "loc": ["body", "price"],
                        "msg": "Input should be a valid number, unable to parse string as a number",
                        "input": value,
                    }));
                    None
                }
            }
        }
    };
    match (name, price) {
        (Some(name), Some(price)) if errors.is_empty() => {
            let id = state.last_item_id.fetch_add(1, Ordering::Relaxed) + 1;
            (
                StatusCode::CREATED,
                json!({ "id": id, "name": name, "price": price }),
            )
        }
        _ => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "detail": errors }),
        ),
    }
}

fn login(content_type: &str, body: &[u8]) -> (StatusCode, Value) {
    let fields = if content_type.starts_with("application/x-www-form-urlencoded") {
        url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect::<Map<String, Value>>()
    } else {
        match parse_json_object(body) {
            Ok(fields) => fields,
            Err(detail) => return (StatusCode::UNPROCESSABLE_ENTITY, detail),
        }
    };
    let input = Value::Object(fields.clone());
    let mut errors = Vec::new();
    let username = string_field(&fields, "username", &input, &mut errors);
    let password = string_field(&fields, "password", &input, &mut errors);
    if username.is_none() || password.is_none() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "detail": errors }),
        );
    }
    // Any credentials are accepted: the demo has no users, only a login step to exercise.
    let token = format!("{:032x}", rand::rng().random::<u128>());
    (
        StatusCode::OK,
        json!({ "access_token": token, "token_type": "bearer" }),
    )
}

/// Parses a JSON object body, or gives the 422 detail FastAPI would give.
fn parse_json_object(body: &[u8]) -> Result<Map<String, Value>, Value> {
    if body.is_empty() {
        return Err(json!({ "detail": [{
            "type": "missing", "loc": ["body"], "msg": "Field required", "input": null,
        }] }));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(other) => Err(json!({ "detail": [{
            "type": "model_attributes_type",
            "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": other,
        }] })),
        Err(error) => Err(json!({ "detail": [{
            "type": "json_invalid",
            "loc": ["body", error.column().saturating_sub(1)],
            "msg": "JSON decode error",
            "input": {},
            "ctx": { "error": error.to_string() },
        }] })),
    }
}

fn string_field(
    fields: &Map<String, Value>,
    key: &str,
    input: &Value,
    errors: &mut Vec<Value>,
) -> Option<String> {
    match fields.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            errors.push(json!({
                "type": "string_type",
                "loc": ["body", key],
                "msg": "Input should be a valid string",
                "input": other,
            }));
            None
        }
        None => {
            errors.push(missing(key, input));
            None
        }
    }
}

fn missing(key: &str, input: &Value) -> Value {
    json!({ "type": "missing", "loc": ["body", key], "msg": "Field required", "input": input })
}

fn method_not_allowed() -> Response<Full<Bytes>> {
    json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &json!({ "detail": "Method Not Allowed" }),
    )
}

fn json_response(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(value).expect("a serde_json::Value always serializes");
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_delays_are_small_and_draws_stay_in_range() {
        let state = State::new(DemoOptions::default());
        for _ in 0..1000 {
            let d = state.delay();
            assert!(
                d >= Duration::from_millis(1) && d <= Duration::from_millis(5),
                "{d:?}"
            );
        }
        assert_eq!(State::new(DemoOptions::no_delay()).delay(), Duration::ZERO);
    }

    #[test]
    fn prices_match_the_fastapi_example() {
        // Values printed by `price_of` in examples/fastapi-items/app.py.
        assert_eq!(price_of(""), 62.61);
        assert_eq!(price_of("Item 1"), 15.29);
        assert_eq!(price_of("Item 42"), 68.0);
    }

    #[test]
    fn create_item_validates_like_pydantic() {
        let state = State::new(DemoOptions::no_delay());
        // A numeric string is a number, as in pydantic's lax mode.
        let (status, item) = create_item(&state, br#"{"name": "a", "price": "3.25"}"#);
        assert_eq!(
            (status, item),
            (
                StatusCode::CREATED,
                json!({"id": 1, "name": "a", "price": 3.25})
            )
        );

        let (status, body) = create_item(&state, br#"{"name": 7, "price": "cheap"}"#);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let kinds: Vec<_> = body["detail"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].clone())
            .collect();
        assert_eq!(kinds, [json!("string_type"), json!("float_parsing")]);

        let (status, body) = create_item(&state, b"[1]");
        assert_eq!(
            (status, body["detail"][0]["type"].clone()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!("model_attributes_type")
            )
        );
        let (status, body) = create_item(&state, b"");
        assert_eq!(
            (status, body["detail"][0]["loc"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!(["body"]))
        );

        // Refused items take no id.
        assert_eq!(
            create_item(&state, br#"{"name": "b", "price": 1}"#).1["id"],
            2
        );
    }
}
