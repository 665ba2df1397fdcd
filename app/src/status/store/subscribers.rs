//! Webhook subscribers of the status page and the deliveries of public updates to them.
//! A subscription counts once its URL echoed the challenge; every (update, subscriber)
//! pair gets one `status_deliveries` row, which is what keeps an update from being sent
//! twice to one subscriber.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::error::AppError;
use crate::random::token;
use crate::status::model::{url_hint, SubscriberInfo};

/// The key a subscriber checks every request from Warroom with (HMAC-SHA256): shown to
/// whoever subscribes, once, and never again. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

impl SigningSecret {
    /// A fresh secret: `whsec_` and 32 random bytes, base64url.
    pub fn generate() -> SigningSecret {
        SigningSecret(format!("whsec_{}", token::<32>()))
    }

    /// The secret itself, to sign with or to show the subscriber.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A secret known already (read back, or a receiver's in tests).
impl From<String> for SigningSecret {
    fn from(secret: String) -> Self {
        SigningSecret(secret)
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(…)")
    }
}

/// A new subscription, to be confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingSubscriber {
    pub id: i64,
    pub url: String,
    pub challenge: String,
    pub unsubscribe_token: String,
    pub signing_secret: SigningSecret,
}

/// A subscriber a delivery goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub url: String,
    pub unsubscribe_token: String,
    pub signing_secret: SigningSecret,
    pub active: bool,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// What a public update is about, by public ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateSubject {
    pub update_public_id: String,
    pub incident_public_id: Option<String>,
    pub maintenance_public_id: Option<String>,
}

/// Records a subscription of `url` (already checked by the caller) with fresh random
/// `challenge`, `unsubscribe_token` and `signing_secret`. A URL already subscribed and
/// confirmed is a conflict; an unconfirmed one gets a new challenge and secret (whoever
/// subscribes it now is shown the new secret).
pub async fn subscribe(
    conn: &mut PgConnection,
    url: &str,
    challenge: &str,
    unsubscribe_token: &str,
    signing_secret: &SigningSecret,
) -> Result<PendingSubscriber, AppError> {
    let existing = sqlx::query!(
        r#"SELECT id, confirmed_at AS "confirmed_at: DateTime<Utc>" FROM status_subscribers
           WHERE url = $1 AND unsubscribed_at IS NULL FOR UPDATE"#,
        url
    )
    .fetch_optional(&mut *conn)
    .await?;
    let id = match existing {
        Some(row) if row.confirmed_at.is_some() => {
            return Err(AppError::Conflict("This URL is already subscribed.".into()))
        }
        Some(row) => {
            sqlx::query!(
                "UPDATE status_subscribers
                 SET challenge = $2, unsubscribe_token = $3, signing_secret = $4, last_error = NULL,
                     last_challenge_at = now()
                 WHERE id = $1",
                row.id,
                challenge,
                unsubscribe_token,
                signing_secret.expose()
            )
            .execute(&mut *conn)
            .await?;
            row.id
        }
        None => {
            sqlx::query_scalar!(
                "INSERT INTO status_subscribers (url, challenge, unsubscribe_token, signing_secret)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                url,
                challenge,
                unsubscribe_token,
                signing_secret.expose()
            )
            .fetch_one(&mut *conn)
            .await?
        }
    };
    Ok(PendingSubscriber {
        id,
        url: url.to_string(),
        challenge: challenge.to_string(),
        unsubscribe_token: unsubscribe_token.to_string(),
        signing_secret: signing_secret.clone(),
    })
}

/// The subscription to confirm, unless it was confirmed, replaced or withdrawn since.
pub async fn pending(
    conn: &mut PgConnection,
    id: i64,
) -> Result<Option<PendingSubscriber>, AppError> {
    Ok(sqlx::query!(
        "SELECT id, url, challenge, unsubscribe_token, signing_secret FROM status_subscribers
         WHERE id = $1 AND confirmed_at IS NULL AND unsubscribed_at IS NULL",
        id
    )
    .fetch_optional(conn)
    .await?
    .map(|row| PendingSubscriber {
        id: row.id,
        url: row.url,
        challenge: row.challenge,
        unsubscribe_token: row.unsubscribe_token,
        signing_secret: SigningSecret(row.signing_secret),
    }))
}

/// Marks a subscription confirmed (its URL answered with the challenge).
pub async fn confirm(conn: &mut PgConnection, id: i64, challenge: &str) -> Result<bool, AppError> {
    Ok(sqlx::query!(
        "UPDATE status_subscribers SET confirmed_at = now(), last_error = NULL
         WHERE id = $1 AND challenge = $2 AND confirmed_at IS NULL AND unsubscribed_at IS NULL",
        id,
        challenge
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Keeps the latest failure of a subscriber's challenge for whoever operates Warroom (and
/// when it happened: a subscription never confirmed is purged a week later).
pub async fn record_error(conn: &mut PgConnection, id: i64, error: &str) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE status_subscribers SET last_error = $2, last_challenge_at = now() WHERE id = $1",
        id,
        error
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// How long a subscription that was never confirmed is kept after its last challenge
/// was sent or failed (its retries end within minutes).
pub const UNCONFIRMED_KEPT_FOR: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// Deletes the subscriptions never confirmed whose last challenge is older than
/// [`UNCONFIRMED_KEPT_FOR`] at `now`, so anonymous sign-ups cannot grow the table forever;
/// returns how many. One statement: replicas running it together each delete a row once,
/// and one subscribed again meanwhile (its challenge time renewed) stays.
pub async fn purge_unconfirmed(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let cutoff = now - UNCONFIRMED_KEPT_FOR;
    Ok(sqlx::query!(
        "DELETE FROM status_subscribers s
         WHERE s.confirmed_at IS NULL AND s.last_challenge_at < $1
           AND NOT EXISTS (SELECT 1 FROM status_deliveries d WHERE d.subscriber_id = s.id)",
        cutoff as _
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Ends the subscription that `token` belongs to. `false` when there is none.
pub async fn unsubscribe(pool: &PgPool, token: &str) -> Result<bool, AppError> {
    Ok(sqlx::query!(
        "UPDATE status_subscribers SET unsubscribed_at = now()
         WHERE unsubscribe_token = $1 AND unsubscribed_at IS NULL",
        token
    )
    .execute(pool)
    .await?
    .rows_affected()
        == 1)
}

/// Creates the delivery rows of an update, one per confirmed subscriber, and returns
/// the subscribers that did not have one yet (running this twice plans nothing twice).
pub async fn plan_deliveries(
    conn: &mut PgConnection,
    update_id: i64,
) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO status_deliveries (update_id, subscriber_id)
         SELECT $1, id FROM status_subscribers
         WHERE confirmed_at IS NOT NULL AND unsubscribed_at IS NULL
         ON CONFLICT DO NOTHING
         RETURNING subscriber_id",
        update_id
    )
    .fetch_all(conn)
    .await?)
}

/// What an update is about.
pub async fn update_subject(
    conn: &mut PgConnection,
    update_id: i64,
) -> Result<UpdateSubject, AppError> {
    let row = sqlx::query!(
        r#"SELECT p.public_id, n.public_id AS "incident_public_id?", m.public_id AS "maintenance_public_id?"
           FROM public_updates p
           LEFT JOIN incidents n ON n.id = p.incident_id
           LEFT JOIN maintenances m ON m.id = p.maintenance_id
           WHERE p.id = $1"#,
        update_id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("public update {update_id}")))?;
    Ok(UpdateSubject {
        update_public_id: row.public_id,
        incident_public_id: row.incident_public_id,
        maintenance_public_id: row.maintenance_public_id,
    })
}

/// The subscriber of one delivery and whether it already arrived.
pub async fn recipient(
    conn: &mut PgConnection,
    update_id: i64,
    subscriber_id: i64,
) -> Result<Option<Recipient>, AppError> {
    Ok(sqlx::query!(
        r#"SELECT s.url, s.unsubscribe_token, s.signing_secret, s.unsubscribed_at IS NULL AS "active!",
                  d.delivered_at AS "delivered_at: DateTime<Utc>"
           FROM status_deliveries d JOIN status_subscribers s ON s.id = d.subscriber_id
           WHERE d.update_id = $1 AND d.subscriber_id = $2"#,
        update_id,
        subscriber_id
    )
    .fetch_optional(conn)
    .await?
    .map(|row| Recipient {
        url: row.url,
        unsubscribe_token: row.unsubscribe_token,
        signing_secret: SigningSecret(row.signing_secret),
        active: row.active,
        delivered_at: row.delivered_at,
    }))
}

/// Records one attempt of a delivery: arrived (`error` None) or failed with `error`.
pub async fn record_attempt(
    conn: &mut PgConnection,
    update_id: i64,
    subscriber_id: i64,
    error: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE status_deliveries SET attempts = attempts + 1, last_error = $3,
                delivered_at = CASE WHEN $3::text IS NULL THEN now() ELSE delivered_at END
         WHERE update_id = $1 AND subscriber_id = $2",
        update_id,
        subscriber_id,
        error
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Every current subscriber (not unsubscribed), oldest first, with how its deliveries fare.
pub async fn overview(conn: &mut PgConnection) -> Result<Vec<SubscriberInfo>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT s.id, s.url, s.created_at AS "created_at: DateTime<Utc>",
                  s.confirmed_at AS "confirmed_at: DateTime<Utc>",
                  count(d.update_id) FILTER (WHERE d.delivered_at IS NOT NULL) AS "delivered!",
                  count(d.update_id) FILTER (WHERE d.delivered_at IS NULL AND d.attempts > 0)
                      AS "failing!",
                  count(d.update_id) FILTER (WHERE d.delivered_at IS NULL AND d.attempts = 0)
                      AS "queued!",
                  max(d.delivered_at) AS "last_delivered_at: DateTime<Utc>",
                  COALESCE(
                      (SELECT f.last_error FROM status_deliveries f
                       WHERE f.subscriber_id = s.id AND f.delivered_at IS NULL
                         AND f.last_error IS NOT NULL
                       ORDER BY f.enqueued_at DESC, f.update_id DESC LIMIT 1),
                      s.last_error) AS last_error
           FROM status_subscribers s
           LEFT JOIN status_deliveries d ON d.subscriber_id = s.id
           WHERE s.unsubscribed_at IS NULL
           GROUP BY s.id
           ORDER BY s.created_at, s.id"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| SubscriberInfo {
            id: row.id,
            url_hint: url_hint(&row.url),
            created_at: row.created_at,
            confirmed_at: row.confirmed_at,
            delivered: row.delivered,
            failing: row.failing,
            queued: row.queued,
            last_delivered_at: row.last_delivered_at,
            last_error: row.last_error,
        })
        .collect())
}

/// Ends subscription `id` on an admin's word; returns its URL hint, `None` when there is
/// no such current subscription. Its queued deliveries are then skipped.
pub async fn remove(conn: &mut PgConnection, id: i64) -> Result<Option<String>, AppError> {
    let url = sqlx::query_scalar!(
        "UPDATE status_subscribers SET unsubscribed_at = now()
         WHERE id = $1 AND unsubscribed_at IS NULL RETURNING url",
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(url.as_deref().map(url_hint))
}
