//! The page and its files, served from the binary: `assets/` (`page.html` with its marks
//! filled by [`assets::live_page`], `dom.js`, `capacity.js`, `app.js`, `app.css`) and
//! uPlot's script and style sheet. The page finds no View embedded in it and so runs live:
//! it fetches `/api/view` and follows `/api/events`.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::assets;

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

pub(crate) async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, HTML),
            // The page is the same for every run; the View it draws is fetched.
            (header::CACHE_CONTROL, "no-store"),
        ],
        assets::live_page(),
    )
        .into_response()
}

/// No icon: an empty answer rather than a 404 in the browser's console.
pub(crate) async fn favicon() -> StatusCode {
    StatusCode::NO_CONTENT
}

pub(crate) async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    let (kind, body) = match name.as_str() {
        "app.js" => (JS, assets::APP_JS),
        "dom.js" => (JS, assets::DOM_JS),
        "capacity.js" => (JS, assets::CAPACITY_JS),
        "app.css" => (CSS, assets::APP_CSS),
        "uplot.js" => (JS, assets::UPLOT_JS),
        "uplot.css" => (CSS, assets::UPLOT_CSS),
        "LICENSE.uplot.txt" => ("text/plain; charset=utf-8", assets::UPLOT_LICENSE),
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no asset `{name}`"),
            ))
        }
    };
    Ok(([(header::CONTENT_TYPE, kind)], body).into_response())
}
