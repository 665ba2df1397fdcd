//! Content-Security-Policy with a fresh nonce per response: only scripts Warroom itself
//! rendered (and what they load) run, WebAssembly may compile, nothing may frame us.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The nonce of one request, for the page renderer to put on its `<script>` tags.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

impl CspNonce {
    fn fresh() -> Self {
        CspNonce(warroom_app::random::token::<16>())
    }
}

/// The policy for one nonce. Styles allow inline attributes: severity colours are data
/// and arrive as `style="--sev: …"`; style injection cannot run code. Images only from
/// Warroom itself: notes show other hosts' images as links (`markdown`), and the policy
/// holds even for markup that slipped past that.
pub fn policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'strict-dynamic' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

pub async fn content_security_policy(mut request: Request, next: Next) -> Response {
    let nonce = CspNonce::fresh();
    let value = HeaderValue::from_str(&policy(&nonce.0)).expect("nonce is URL-safe base64");
    request.extensions_mut().insert(nonce);
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, value);
    response
}

/// Inside a page render: hands this request's nonce to Leptos.
pub fn provide_nonce_to_leptos() {
    use leptos::prelude::{provide_context, use_context};
    let nonce = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(nonce) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
}

#[cfg(test)]
mod tests {
    use super::{policy, CspNonce};

    #[test]
    fn every_response_gets_its_own_nonce() {
        assert_ne!(CspNonce::fresh().0, CspNonce::fresh().0);
        assert_eq!(CspNonce::fresh().0.len(), 22);
    }

    #[test]
    fn the_policy_allows_only_nonced_scripts_and_wasm() {
        let csp = policy("abc");
        assert!(csp.contains("script-src 'strict-dynamic' 'nonce-abc' 'wasm-unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(
            csp.contains("img-src 'self' data:;"),
            "no images from other hosts"
        );
        let scripts = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(
            !scripts.contains("unsafe-inline") && !scripts.contains("'unsafe-eval'"),
            "{scripts}"
        );
    }
}
