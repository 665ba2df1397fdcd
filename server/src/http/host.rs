//! Answers only to the host names Warroom is meant to be reached by (DNS rebinding).
//!
//! A web page on `rebind.attacker.example`, whose name is re-resolved to 127.0.0.1, is
//! "same-origin" with a Warroom on this machine as far as the browser is concerned; the
//! only trace left is the `Host` header, which then names the attacker's domain. So every
//! request must name an expected host: the public URL's, the loopback names and the bound
//! address at the port Warroom listens on, and any listed in `WARROOM_ALLOWED_HOSTS`.
//! Loopback names are safe to accept: a page can only send them if it was itself loaded
//! from that very origin. Health checks are exempt (orchestrators probe by pod address;
//! the answers reveal nothing).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The host names (with port, lower-case) Warroom answers to.
#[derive(Clone, Debug)]
pub struct HostPolicy {
    allowed: Arc<HashSet<String>>,
}

/// Paths answered whatever the host (load balancer and orchestrator probes).
const EXEMPT: [&str; 2] = ["/healthz", "/readyz"];

impl HostPolicy {
    /// `public_url`: `WARROOM_PUBLIC_URL`; `bound`: the listening address; `extra`:
    /// `WARROOM_ALLOWED_HOSTS` (`name` or `name:port`).
    pub fn new(public_url: Option<&str>, bound: SocketAddr, extra: &[String]) -> Self {
        let mut allowed = HashSet::new();
        let port = bound.port();
        for name in ["localhost", "127.0.0.1", "[::1]"] {
            allowed.insert(format!("{name}:{port}"));
        }
        if !bound.ip().is_unspecified() {
            allowed.insert(authority_of(bound));
        }
        if let Some(url) = public_url.and_then(|u| url::Url::parse(u).ok()) {
            if let Some(host) = url.host_str() {
                let host = host.to_ascii_lowercase();
                match url.port() {
                    Some(port) => {
                        allowed.insert(format!("{host}:{port}"));
                    }
                    None => {
                        allowed.insert(host.clone());
                        let default = if url.scheme() == "https" { 443 } else { 80 };
                        allowed.insert(format!("{host}:{default}"));
                    }
                }
            }
        }
        for entry in extra {
            let entry = entry.trim().to_ascii_lowercase();
            if !entry.is_empty() {
                allowed.insert(entry);
            }
        }
        HostPolicy {
            allowed: Arc::new(allowed),
        }
    }

    /// Whether a request naming `host` (the `Host` header or the URI's authority) is for us.
    pub fn allows(&self, host: &str) -> bool {
        self.allowed.contains(&host.trim().to_ascii_lowercase())
    }
}

/// `ip:port`, with brackets around IPv6 addresses.
fn authority_of(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(v4) => v4.to_string(),
        SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
    }
}

/// The host a request names: its `Host` header, else (HTTP/2) its URI's authority.
pub fn requested_host(request: &Request) -> Option<String> {
    request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()))
}

pub async fn require_known_host(
    State(policy): State<HostPolicy>,
    request: Request,
    next: Next,
) -> Response {
    if EXEMPT.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    match requested_host(&request) {
        Some(host) if policy.allows(&host) => next.run(request).await,
        host => {
            tracing::warn!(
                host,
                path = request.uri().path(),
                "request for an unknown host refused"
            );
            (
                StatusCode::MISDIRECTED_REQUEST,
                [(header::CACHE_CONTROL, "no-store")],
                "This Warroom does not answer to that host name. If it should, set WARROOM_PUBLIC_URL or add the name to WARROOM_ALLOWED_HOSTS.",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HostPolicy;

    #[test]
    fn without_a_public_url_only_loopback_names_and_the_bound_address_are_answered() {
        let policy = HostPolicy::new(None, "127.0.0.1:3000".parse().unwrap(), &[]);
        for host in [
            "127.0.0.1:3000",
            "localhost:3000",
            "LOCALHOST:3000",
            "[::1]:3000",
        ] {
            assert!(policy.allows(host), "{host}");
        }
        for host in [
            "rebind.attacker.example:3000",
            "127.0.0.1:3001",
            "localhost",
            "127.0.0.1.nip.io:3000",
            "",
        ] {
            assert!(!policy.allows(host), "{host}");
        }
    }

    #[test]
    fn the_public_url_and_listed_hosts_are_answered() {
        let policy = HostPolicy::new(
            Some("https://Warroom.Example.com/base"),
            "0.0.0.0:8080".parse().unwrap(),
            &["status.example.com".into(), "10.0.0.7:8080".into()],
        );
        for host in [
            "warroom.example.com",
            "warroom.example.com:443",
            "status.example.com",
            "10.0.0.7:8080",
            "127.0.0.1:8080",
        ] {
            assert!(policy.allows(host), "{host}");
        }
        for host in ["warroom.example.com:80", "0.0.0.0:8080", "evil.example"] {
            assert!(!policy.allows(host), "{host}");
        }
        let bound = HostPolicy::new(None, "192.0.2.10:3000".parse().unwrap(), &[]);
        assert!(bound.allows("192.0.2.10:3000"));
        let v6 = HostPolicy::new(None, "[2001:db8::1]:3000".parse().unwrap(), &[]);
        assert!(v6.allows("[2001:db8::1]:3000"));
    }
}
