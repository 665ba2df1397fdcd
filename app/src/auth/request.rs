//! Where a request comes from (address and browser), for sign-in records, the audit log
//! and rate limits.

use std::net::SocketAddr;

use axum::http::HeaderMap;

/// The source of one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    /// The client address: the TCP peer, or the last `X-Forwarded-For` hop when Warroom is
    /// told it sits behind a proxy (`WARROOM_TRUST_PROXY=1`).
    pub ip: String,
    /// The `User-Agent`, shortened.
    pub user_agent: String,
}

impl Source {
    pub fn from_parts(headers: &HeaderMap, peer: Option<SocketAddr>, trust_proxy: bool) -> Self {
        let forwarded = trust_proxy
            .then(|| headers.get("x-forwarded-for")?.to_str().ok())
            .flatten()
            .and_then(|v| v.rsplit(',').next())
            .map(|v| v.trim().to_string())
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok());
        let ip = forwarded
            .or_else(|| peer.map(|p| p.ip().to_string()))
            .unwrap_or_default();
        let user_agent = headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        Source { ip, user_agent }
    }

    /// The source of the request behind the current server function call.
    pub async fn current(trust_proxy: bool) -> Self {
        let headers = leptos_axum::extract::<HeaderMap>()
            .await
            .unwrap_or_default();
        let peer = leptos_axum::extract::<axum::extract::ConnectInfo<SocketAddr>>()
            .await
            .ok()
            .map(|c| c.0);
        Source::from_parts(&headers, peer, trust_proxy)
    }
}

/// Headers a proxy adds: a request carrying any of them did not come straight from a
/// browser on this machine.
const FORWARDING_HEADERS: [&str; 6] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "via",
];

/// Whether `host` (as sent in `Host`) is a loopback literal, with or without a port.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "[::1]"
    )
}

/// Whether a request comes straight from this machine: no proxy's forwarding headers, and
/// a loopback host name. The development sign-in is honoured only for such requests: a
/// reverse proxy on the same host would otherwise hand it to anyone who reaches the proxy.
pub fn is_direct_local_request(headers: &HeaderMap) -> bool {
    let forwarded = FORWARDING_HEADERS.iter().any(|h| headers.contains_key(*h));
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    !forwarded && is_loopback_host(host)
}

/// [`is_direct_local_request`] for the request behind the current server function call.
pub async fn current_request_is_direct_and_local() -> bool {
    leptos_axum::extract::<HeaderMap>()
        .await
        .is_ok_and(|headers| is_direct_local_request(&headers))
}

#[cfg(test)]
mod tests {
    use super::{is_direct_local_request, is_loopback_host, Source};
    use axum::http::HeaderMap;

    #[test]
    fn forwarded_for_is_believed_only_behind_a_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.9".parse().unwrap());
        let peer = Some("10.0.0.2:5555".parse().unwrap());
        assert_eq!(Source::from_parts(&headers, peer, false).ip, "10.0.0.2");
        assert_eq!(Source::from_parts(&headers, peer, true).ip, "203.0.113.9");
        headers.insert("x-forwarded-for", "not-an-ip".parse().unwrap());
        assert_eq!(Source::from_parts(&headers, peer, true).ip, "10.0.0.2");
    }

    #[test]
    fn loopback_hosts_are_recognised_with_or_without_port() {
        for host in [
            "localhost",
            "localhost:3000",
            "127.0.0.1:1",
            "[::1]:3000",
            "[::1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "localhost.evil.example",
            "127.0.0.2:3000",
            "10.0.0.1",
            "rebind:3000",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn requests_through_a_proxy_or_for_another_host_are_not_local() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:3000".parse().unwrap());
        assert!(is_direct_local_request(&headers));
        headers.insert("x-forwarded-for", "203.0.113.9".parse().unwrap());
        assert!(!is_direct_local_request(&headers));
        let mut headers = HeaderMap::new();
        headers.insert("host", "warroom.example.com".parse().unwrap());
        assert!(!is_direct_local_request(&headers));
        let mut headers = HeaderMap::new();
        headers.insert("host", "localhost:3000".parse().unwrap());
        headers.insert("forwarded", "for=203.0.113.9".parse().unwrap());
        assert!(!is_direct_local_request(&headers));
    }
}
