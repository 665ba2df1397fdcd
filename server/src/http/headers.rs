//! Response headers every answer of the app gets unless it set its own: nothing about an
//! incident may be cached (browser back-forward and disk caches, proxies), and under
//! https browsers are told to use nothing else (HSTS).

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Static files that hold nothing private and may be cached.
fn is_public_file(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
}

/// Whether to send `Strict-Transport-Security` (Warroom is served over https).
#[derive(Clone, Copy, Debug)]
pub struct Hsts(pub bool);

/// One year: the usual value once https is settled (no `includeSubDomains`: other
/// services may live on sibling names).
const HSTS: &str = "max-age=31536000";

pub async fn private_by_default(
    State(hsts): State<Hsts>,
    request: Request,
    next: Next,
) -> Response {
    let public = is_public_file(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !public && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if hsts.0 {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    response
}
