//! Refuses state-changing requests that do not come from Warroom's own pages (CSRF):
//! every method but GET, HEAD and OPTIONS needs a same-origin `Origin` header.

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The token-authenticated API (see `http::api`).
const TOKEN_API_PREFIX: &str = "/api/v1/";

/// Which origin may change state.
#[derive(Clone, Debug)]
pub struct OriginPolicy {
    /// The configured public origin; without one, the request's own `Host` is the origin.
    public_origin: Option<String>,
}

impl OriginPolicy {
    pub fn new(public_url: Option<String>) -> Self {
        OriginPolicy {
            public_origin: public_url.map(|u| origin_of(&u)),
        }
    }

    /// Whether a request with this `Origin` and `Host` comes from our own pages.
    pub fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        match (&self.public_origin, host) {
            (Some(public), _) => origin == public,
            (None, Some(host)) => {
                origin == format!("http://{host}") || origin == format!("https://{host}")
            }
            (None, None) => false,
        }
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{authority}")
}

pub async fn require_same_origin(
    State(policy): State<OriginPolicy>,
    request: Request,
    next: Next,
) -> Response {
    // The token API never reads cookies, so a cross-site page cannot borrow a session
    // there; automation sends no Origin.
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || request.uri().path().starts_with(TOKEN_API_PREFIX)
    {
        return next.run(request).await;
    }
    let headers = request.headers();
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let allowed = match origin {
        Some(origin) => policy.allows(origin, host),
        // Browsers always send Origin on POST; a request without one is not from our pages.
        None => false,
    };
    if allowed {
        next.run(request).await
    } else {
        tracing::warn!(method = %request.method(), path = request.uri().path(), origin, "cross-origin request refused");
        (
            StatusCode::FORBIDDEN,
            "Refused: this request did not come from Warroom's own pages (cross-origin or missing Origin header).",
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::OriginPolicy;

    #[test]
    fn without_a_public_url_the_host_is_the_origin() {
        let policy = OriginPolicy::new(None);
        assert!(policy.allows("http://127.0.0.1:3000", Some("127.0.0.1:3000")));
        assert!(!policy.allows("http://evil.example", Some("127.0.0.1:3000")));
        assert!(!policy.allows("http://127.0.0.1:3001", Some("127.0.0.1:3000")));
        assert!(!policy.allows("null", Some("127.0.0.1:3000")));
    }

    #[test]
    fn with_a_public_url_only_that_origin_is_accepted() {
        let policy = OriginPolicy::new(Some("https://warroom.example.com/base".into()));
        assert!(policy.allows("https://warroom.example.com", Some("internal:3000")));
        assert!(!policy.allows("http://warroom.example.com", Some("warroom.example.com")));
        assert!(!policy.allows("https://internal:3000", Some("internal:3000")));
    }
}
