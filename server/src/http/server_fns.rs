//! HTTP statuses of server-function answers that Warroom's own code never saw.
//!
//! Server functions answer their errors with the status `AppError::status_code` gives
//! (`warroom_app::error::respond`), but when the request cannot even be decoded — an
//! argument missing or not a number, a body over the limit — Leptos answers 500 before
//! any of Warroom's code runs. Here such answers get the status their error names (400,
//! 413, …), and a body announced as too large is refused before it is read.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use warroom_app::error::{AppError, MAX_REQUEST_BYTES};

/// Leptos marks server-function error answers with this header.
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";
/// Error answers are small; a larger one is left alone.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// Whether `path` is a server function's (the token API and Statuspage JSON are not).
fn is_server_fn(path: &str) -> bool {
    path.starts_with("/api/") && !path.starts_with("/api/v1/") && !path.starts_with("/api/v2/")
}

pub async fn server_fn_statuses(request: Request, next: Next) -> Response {
    if !is_server_fn(request.uri().path()) {
        return next.run(request).await;
    }
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|length| length > MAX_REQUEST_BYTES) {
        return error_answer(AppError::too_large());
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BYTES).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "error answer too large").into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(error.status_code()) {
            parts.status = status;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// An error in the form server functions answer with.
fn error_answer(error: AppError) -> Response {
    let status =
        StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(&error).unwrap_or_default();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(SERVER_FN_ERROR_HEADER, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::is_server_fn;

    #[test]
    fn only_server_functions_are_touched() {
        assert!(is_server_fn("/api/add_note"));
        assert!(!is_server_fn("/api/v1/incidents"));
        assert!(!is_server_fn("/api/v2/summary.json"));
        assert!(!is_server_fn("/incidents/1"));
    }
}
