//! Outgoing webhooks to status-page subscribers: which URLs may be subscribed, the client
//! that posts to them (Warroom's outbound client: a deadline, a capped answer, no proxy,
//! no redirects, and — unless allowed — only public addresses, checked at every
//! connection so a DNS answer cannot point a subscription into the internal network),
//! the challenge that confirms a subscription, the body of each delivery and the
//! signature every request carries.

use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgPool;
use url::Url;
use warroom_app::status::store::subscribers::{
    PendingSubscriber, Recipient, SigningSecret, UpdateSubject,
};

use crate::outbound::{self, Destinations, Failure, Limits, OutboundClient};
use crate::status::site::StatusSite;
use crate::status::v2;

/// The most of a subscriber's answer that is read (the challenge echo fits easily).
pub const MAX_ANSWER: usize = 64 * 1024;

/// The header of the signature every request to a subscriber carries.
pub const SIGNATURE_HEADER: &str = "X-Warroom-Signature";

/// The signature of a request with `body` sent at `at`, Stripe's scheme:
/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The timestamp is signed
/// too, so a receiver can refuse an old request replayed.
pub fn signature(secret: &SigningSecret, at: DateTime<Utc>, body: &[u8]) -> String {
    let timestamp = at.timestamp();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
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
            url::Host::Ipv4(ip) => Some(ip.into()),
            url::Host::Ipv6(ip) => Some(ip.into()),
            url::Host::Domain(name) if outbound::is_localhost_name(name) => {
                return Err("Updates cannot be sent to this machine.".into())
            }
            url::Host::Domain(_) => None,
        };
        if literal.is_some_and(|ip| !outbound::address::is_public(ip)) {
            return Err("Updates can only be sent to public internet addresses.".into());
        }
    }
    Ok(url)
}

/// The client that talks to subscribers.
#[derive(Clone)]
pub struct WebhookClient {
    outbound: OutboundClient,
    allow_private: bool,
}

impl WebhookClient {
    pub fn new(allow_private: bool) -> anyhow::Result<WebhookClient> {
        Self::with_deadline(allow_private, crate::config::WEBHOOK_DEADLINE)
    }

    /// A client whose calls each end after `deadline`.
    pub fn with_deadline(allow_private: bool, deadline: Duration) -> anyhow::Result<WebhookClient> {
        let destinations = if allow_private {
            Destinations::AnyAddress
        } else {
            Destinations::PublicOnly
        };
        let limits = Limits {
            deadline,
            connect_timeout: Duration::from_secs(5).min(deadline),
            max_answer: MAX_ANSWER,
        };
        let outbound = OutboundClient::new(
            destinations,
            limits,
            concat!("Warroom-Status/", env!("CARGO_PKG_VERSION")),
        )
        .context("building the webhook client")?;
        Ok(WebhookClient {
            outbound,
            allow_private,
        })
    }

    /// Whether subscribers inside private networks are accepted (tests, intranets).
    pub fn allows_private(&self) -> bool {
        self.allow_private
    }

    /// POSTs a JSON body signed with `secret`; any 2xx answer counts as delivered, and
    /// anything else says whether trying again can help (`outbound::failure`).
    /// `delivery_id` lets the receiver drop a repeat (a delivery is retried if our record
    /// of it failed).
    pub async fn post(
        &self,
        url: &str,
        delivery_id: &str,
        secret: &SigningSecret,
        body: &serde_json::Value,
    ) -> Result<String, Failure> {
        parse_subscriber_url(url, self.allow_private).map_err(Failure::permanent)?;
        // Signed as sent: these exact bytes.
        let body = serde_json::to_vec(body)
            .map_err(|e| Failure::permanent(format!("serialising the request: {e}")))?;
        let sent = self
            .outbound
            .post(url)
            .header("X-Warroom-Delivery", delivery_id)
            .header(SIGNATURE_HEADER, signature(secret, Utc::now(), &body))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let answer = outbound::classify(sent, Utc::now())
            .map_err(|failure| failure.context("posting to the subscriber"))?;
        Ok(answer.text())
    }

    /// Sends a new subscription its challenge; it must answer 2xx with the challenge as
    /// its body (or as `{"challenge": "…"}`).
    pub async fn challenge(
        &self,
        site: &StatusSite,
        pending: &PendingSubscriber,
    ) -> Result<(), Failure> {
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
            .post(
                &pending.url,
                &format!("challenge:{}", pending.id),
                &pending.signing_secret,
                &body,
            )
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
            // It may still be setting up: asked again a few times.
            Err(Failure::Temporary {
                message: "the subscriber did not answer with the challenge".into(),
                status: None,
                retry_after: None,
            })
        }
    }
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
    use super::{parse_subscriber_url, signature, WebhookClient};
    use chrono::TimeZone;
    use warroom_app::status::store::subscribers::SigningSecret;

    #[test]
    fn signatures_are_stripes_scheme_over_the_timestamp_and_the_raw_body() {
        let secret = SigningSecret::generate();
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(secret.expose().len(), 6 + 43);
        assert_eq!(format!("{secret:?}"), "SigningSecret(…)");
        assert_ne!(secret, SigningSecret::generate());
        // Python: hmac.new(b"whsec_test", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
        let test_secret = SigningSecret::from("whsec_test".to_string());
        let at = chrono::Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        assert_eq!(
            signature(&test_secret, at, br#"{"a":1}"#),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }

    #[tokio::test]
    async fn delivery_errors_say_why_without_the_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = WebhookClient::new(true)
            .unwrap()
            .post(
                &format!("http://127.0.0.1:{port}/hooks/secret-token"),
                "delivery",
                &SigningSecret::generate(),
                &serde_json::json!({}),
            )
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            !err.is_permanent(),
            "a refused connection is worth another try"
        );
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

    /// Every spelling of a non-public address the security review tried (V6, attack table
    /// rows 39–41): refused by the parser, or — names — refused when they are resolved.
    #[test]
    fn subscriber_urls_in_every_spelling_of_a_non_public_address_are_refused() {
        let accepted = [
            // Row 39: refused before, and still.
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://017700000001/",
            "http://0.0.0.0/",
            "http://0/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:ffff:127.0.0.1]/",
            "http://[::]/",
            "http://localhost/",
            "http://LOCALHOST/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://[fd00::1]/",
            "http://127.0.0.1:3100/",
            // Row 41 and V6: accepted before.
            "http://[64:ff9b::7f00:1]/",
            "http://[::127.0.0.1]/",
            "http://[fec0::1]/",
            "http://0.0.0.1:3100/",
            "http://198.18.0.1/",
            "http://[2002:c0a8:101::1]/",
            "http://[2001:db8::1]/",
            "http://192.0.0.1/",
            "http://[64:ff9b:1::a00:1]/",
            // Row 40: a name for this machine.
            "http://localhost./",
            "http://warroom.localhost/",
        ]
        .into_iter()
        .filter(|bad| {
            !parse_subscriber_url(bad, false)
                .is_err_and(|e| e.contains("public") || e.contains("this machine"))
        })
        .collect::<Vec<_>>();
        assert!(accepted.is_empty(), "accepted: {accepted:?}");
        // Names are only known when resolved (at every connection, see `outbound`).
        for name in ["http://vm/", "http://runsc/", "http://127.0.0.1.nip.io/"] {
            assert!(parse_subscriber_url(name, false).is_ok(), "{name}");
        }
    }
}
