//! Signs the error messages that form posts without JavaScript carry back in the URL.
//!
//! When a server function called by a plain HTML form fails, Leptos redirects back to the
//! page with `__path` and `__err` (the error, base64 JSON) in the query, and the page
//! shows that error. Anyone could craft such a link ("Warroom has moved. Sign in at
//! https://evil.example") and have Warroom show their words as its own. So every such
//! redirect gets `__sig`, an HMAC of both values under a key all replicas share, and a
//! page request whose `__err`/`__path` lack a valid signature is sent to the same page
//! without them.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PATH: &str = "__path";
const ERROR: &str = "__err";
const SIGNATURE: &str = "__sig";

/// The key (from the database's `server_secrets`, shared by every replica).
#[derive(Clone)]
pub struct FormErrorKey(Arc<[u8]>);

impl FormErrorKey {
    pub fn new(secret: Vec<u8>) -> Self {
        FormErrorKey(secret.into())
    }

    fn mac(&self, path: &str, error: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(path.as_bytes());
        mac.update(&[0]);
        mac.update(error.as_bytes());
        mac
    }

    fn sign(&self, path: &str, error: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(path, error).finalize().into_bytes())
    }

    fn verify(&self, path: &str, error: &str, signature: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(signature)
            .is_ok_and(|bytes| self.mac(path, error).verify_slice(&bytes).is_ok())
    }
}

/// The `__path`, `__err` and `__sig` values of a query, if any of them is there.
fn error_params(query: &str) -> Option<(String, String, String)> {
    let mut found = (None, None, None);
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            PATH => found.0 = Some(value.into_owned()),
            ERROR => found.1 = Some(value.into_owned()),
            SIGNATURE => found.2 = Some(value.into_owned()),
            _ => {}
        }
    }
    match found {
        (None, None, None) => None,
        (p, e, s) => Some((
            p.unwrap_or_default(),
            e.unwrap_or_default(),
            s.unwrap_or_default(),
        )),
    }
}

/// The query without the error parameters.
fn without_error_params(query: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            url::form_urlencoded::parse(query.as_bytes())
                .filter(|(k, _)| ![PATH, ERROR, SIGNATURE].contains(&k.as_ref())),
        )
        .finish()
}

/// Adds `__sig` to a redirect target carrying `__err`.
fn signed_location(key: &FormErrorKey, location: &str) -> Option<String> {
    let (before_fragment, fragment) = match location.split_once('#') {
        Some((l, f)) => (l, Some(f)),
        None => (location, None),
    };
    let (_, query) = before_fragment.split_once('?')?;
    let (path, error, _) = error_params(query)?;
    if error.is_empty() {
        return None;
    }
    let mut signed = format!("{before_fragment}&{SIGNATURE}={}", key.sign(&path, &error));
    if let Some(fragment) = fragment {
        signed.push('#');
        signed.push_str(fragment);
    }
    Some(signed)
}

pub async fn sign_form_errors(
    State(key): State<FormErrorKey>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        let query = request.uri().query().unwrap_or_default();
        if let Some((path, error, signature)) = error_params(query) {
            if error.is_empty() || !key.verify(&path, &error, &signature) {
                let rest = without_error_params(query);
                let target = if rest.is_empty() {
                    request.uri().path().to_string()
                } else {
                    format!("{}?{rest}", request.uri().path())
                };
                tracing::warn!(
                    path = request.uri().path(),
                    "unsigned form error in a URL dropped"
                );
                return (
                    StatusCode::SEE_OTHER,
                    [(header::LOCATION, target)],
                    "This link carried an error message Warroom did not write.",
                )
                    .into_response();
            }
        }
    }
    let mut response = next.run(request).await;
    if response.status().is_redirection() {
        let signed = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .filter(|l| l.contains(ERROR))
            .and_then(|l| signed_location(&key, l))
            .and_then(|l| HeaderValue::from_str(&l).ok());
        if let Some(location) = signed {
            response.headers_mut().insert(header::LOCATION, location);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::{error_params, signed_location, without_error_params, FormErrorKey};

    #[test]
    fn only_warroom_signed_errors_verify() {
        let key = FormErrorKey::new(vec![7; 32]);
        let signed = signed_location(
            &key,
            "http://127.0.0.1:3000/login?x=1&__path=%2Fapi%2Fdev_sign_in&__err=eyJ9#top",
        )
        .unwrap();
        assert!(signed.ends_with("#top"), "{signed}");
        let query = signed.split_once('?').unwrap().1.split('#').next().unwrap();
        let (path, error, signature) = error_params(query).unwrap();
        assert_eq!(
            (path.as_str(), error.as_str()),
            ("/api/dev_sign_in", "eyJ9")
        );
        assert!(key.verify(&path, &error, &signature));
        assert!(!key.verify(&path, "eyJ8", &signature), "another message");
        assert!(
            !key.verify("/api/other", &error, &signature),
            "another function"
        );
        assert!(!FormErrorKey::new(vec![8; 32]).verify(&path, &error, &signature));
        assert!(!key.verify(&path, &error, "not base64!"));
        assert_eq!(without_error_params(query), "x=1");
        assert_eq!(signed_location(&key, "/incidents/4"), None);
    }
}
