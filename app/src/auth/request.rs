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

#[cfg(test)]
mod tests {
    use super::Source;
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
}
