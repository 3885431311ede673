//! A refused request: its status and why, as every route answers it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use barrage_session::ControlError;
use serde_json::json;

/// A refused request: its status and why, sent as `{"error": "..."}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    text: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, text: impl Into<String>) -> ApiError {
        ApiError {
            status,
            text: text.into(),
        }
    }

    pub(crate) fn bad(text: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, text)
    }

    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn control(e: ControlError) -> ApiError {
        let status = match e {
            ControlError::Ended => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.text }))).into_response()
    }
}
