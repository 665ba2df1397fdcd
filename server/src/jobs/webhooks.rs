//! Outgoing webhooks to status-page subscribers: which URLs may be subscribed, the HTTP
//! client that posts to them (short timeouts, no redirects, and — unless allowed —
//! no private, loopback or link-local addresses, checked on every connection so a DNS
//! answer cannot point a subscription into the internal network), the challenge that
//! confirms a subscription and the body of each delivery.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sqlx::PgPool;
use url::Url;
use warroom_app::status::store::subscribers::{PendingSubscriber, Recipient, UpdateSubject};

use crate::status::site::StatusSite;
use crate::status::v2;

/// Whether an address is one the public internet can reach.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64 // carrier-grade NAT
                || v4.octets()[0] >= 224)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80) // link local
        }
    }
}

/// Parses a subscriber URL: http(s), a host, no credentials, at most 2,000 characters,
/// and (unless `allow_private`) not an address inside a private network.
pub fn parse_subscriber_url(value: &str, allow_private: bool) -> Result<Url, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("Enter the URL that should receive the updates.".into());
    }
    if value.len() > 2000 {
        return Err("That URL is too long (at most 2,000 characters).".into());
    }
    let url = Url::parse(value).map_err(|_| {
        "That is not a URL (it should look like https://example.com/hooks/status).".to_string()
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("Only http:// and https:// URLs can receive updates.".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Leave user names and passwords out of the URL.".into());
    }
    let Some(host) = url.host() else {
        return Err("The URL needs a host name.".into());
    };
    if !allow_private {
        let literal = match host {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(name) if name.eq_ignore_ascii_case("localhost") => {
                return Err("Updates cannot be sent to this machine.".into())
            }
            url::Host::Domain(_) => None,
        };
        if literal.is_some_and(|ip| !is_public(ip)) {
            return Err("Updates can only be sent to public internet addresses.".into());
        }
    }
    Ok(url)
}

/// Resolves names with the system resolver and drops private addresses.
struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = format!("{}:0", name.as_str());
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host(host)
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if addresses.is_empty() {
                return Err(format!("{} has no public address", name.as_str()).into());
            }
            let addrs: Addrs = Box::new(addresses.into_iter());
            Ok(addrs)
        })
    }
}

/// The client that talks to subscribers.
#[derive(Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    allow_private: bool,
}

impl WebhookClient {
    pub fn new(allow_private: bool) -> anyhow::Result<WebhookClient> {
        Self::with_deadline(allow_private, crate::config::WEBHOOK_DEADLINE)
    }

    /// A client whose calls each end after `deadline`.
    pub fn with_deadline(allow_private: bool, deadline: Duration) -> anyhow::Result<WebhookClient> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("Warroom-Status/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .timeout(deadline)
            .redirect(reqwest::redirect::Policy::none());
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnlyResolver));
        }
        Ok(WebhookClient {
            http: builder.build().context("building the webhook client")?,
            allow_private,
        })
    }

    /// Whether subscribers inside private networks are accepted (tests, intranets).
    pub fn allows_private(&self) -> bool {
        self.allow_private
    }

    /// POSTs a JSON body; any 2xx answer counts as delivered. `delivery_id` lets the
    /// receiver drop a repeat (a delivery is retried if our record of it failed).
    pub async fn post(
        &self,
        url: &str,
        delivery_id: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<String> {
        parse_subscriber_url(url, self.allow_private).map_err(|e| anyhow!(e))?;
        let response = self
            .http
            .post(url)
            .header("X-Warroom-Delivery", delivery_id)
            .json(body)
            .send()
            .await
            .map_err(|e| anyhow!("could not reach the subscriber: {}", without_url(e)))?;
        let status = response.status();
        if !status.is_success() {
            bail!("the subscriber answered {status}");
        }
        // At most 64 KiB of the answer matters (the challenge echo).
        let bytes = response.bytes().await.unwrap_or_default();
        Ok(String::from_utf8_lossy(&bytes[..bytes.len().min(65_536)]).into_owned())
    }

    /// Sends a new subscription its challenge; it must answer 2xx with the challenge as
    /// its body (or as `{"challenge": "…"}`).
    pub async fn challenge(
        &self,
        site: &StatusSite,
        pending: &PendingSubscriber,
    ) -> anyhow::Result<()> {
        let data = site.current().data.clone();
        let body = serde_json::json!({
            "type": "subscription_confirmation",
            "challenge": pending.challenge,
            "page": {
                "id": v2::page_id(&data.base_url),
                "name": data.branding.name,
                "url": format!("{}/status", data.base_url),
            },
            "meta": { "unsubscribe": unsubscribe_url(&data.base_url, &pending.unsubscribe_token) },
        });
        let answer = self
            .post(&pending.url, &format!("challenge:{}", pending.id), &body)
            .await?;
        let echoed = answer.trim() == pending.challenge
            || serde_json::from_str::<serde_json::Value>(&answer)
                .ok()
                .and_then(|v| {
                    v.get("challenge")
                        .and_then(|c| c.as_str())
                        .map(str::to_owned)
                })
                .is_some_and(|c| c == pending.challenge);
        if echoed {
            Ok(())
        } else {
            bail!("the subscriber did not answer with the challenge")
        }
    }
}

/// Errors without the URL (it may carry a token of the subscriber's), with their causes
/// ("error sending request" alone does not tell a refused connection from a DNS failure).
fn without_url(err: reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".into();
    }
    let err = err.without_url();
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(&err);
    while let Some(next) = cause {
        let next_text = next.to_string();
        if !text.contains(&next_text) {
            text.push_str(": ");
            text.push_str(&next_text);
        }
        cause = next.source();
    }
    text
}

/// Where a subscriber ends its subscription.
pub fn unsubscribe_url(base_url: &str, token: &str) -> String {
    format!(
        "{}/status/unsubscribe?token={token}",
        base_url.trim_end_matches('/')
    )
}

/// The body of one delivery: Statuspage's incident webhook for the update's incident or
/// maintenance, as the status page shows it (read again if this replica's page does not
/// have the update yet).
pub async fn update_payload(
    site: &StatusSite,
    pool: &PgPool,
    subject: &UpdateSubject,
    recipient: &Recipient,
) -> anyhow::Result<serde_json::Value> {
    for attempt in 0..2 {
        let current = site.current();
        let data = &current.data;
        let notice = match (&subject.incident_public_id, &subject.maintenance_public_id) {
            (Some(id), _) => data
                .incidents
                .iter()
                .find(|i| &i.id == id)
                .map(v2::Notice::Incident),
            (_, Some(id)) => data
                .maintenances
                .iter()
                .find(|m| &m.id == id)
                .map(v2::Notice::Maintenance),
            _ => None,
        };
        let update = notice.and_then(|n| {
            let updates = match n {
                v2::Notice::Incident(i) => &i.updates,
                v2::Notice::Maintenance(m) => &m.updates,
            };
            updates.iter().find(|u| u.id == subject.update_public_id)
        });
        if let (Some(notice), Some(update)) = (notice, update) {
            let body = v2::incident_webhook(
                data,
                notice,
                update,
                &unsubscribe_url(&data.base_url, &recipient.unsubscribe_token),
            );
            return serde_json::to_value(body).context("serialising the delivery");
        }
        if attempt == 0 {
            site.refresh(pool).await?;
        }
    }
    bail!("the update is not on the status page (yet)")
}

#[cfg(test)]
mod tests {
    use super::{parse_subscriber_url, without_url};

    #[tokio::test]
    async fn delivery_errors_say_why_without_the_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/hooks/secret-token"))
            .send()
            .await
            .unwrap_err();
        let text = without_url(err);
        assert!(text.contains("Connection refused"), "{text}");
        assert!(!text.contains("secret-token"), "{text}");
    }

    #[test]
    fn subscriber_urls_must_be_public_http() {
        assert!(parse_subscriber_url("https://hooks.example.com/status", false).is_ok());
        for bad in [
            "",
            "ftp://example.com/x",
            "https://user:pw@example.com/",
            "http://127.0.0.1:8080/",
            "http://10.1.2.3/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://localhost/",
            "not a url",
        ] {
            assert!(parse_subscriber_url(bad, false).is_err(), "{bad} accepted");
        }
        assert!(parse_subscriber_url("http://127.0.0.1:8080/", true).is_ok());
    }
}
