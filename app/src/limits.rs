//! Counters per minute in Postgres, shared by every replica: rate limits (per source
//! address, per account) and the counting of refusals that are not each written to the
//! audit log.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::audit::model::AuditAction;
use crate::audit::store::{record, AuditEvent};
use crate::error::AppError;

/// The verdict on one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over the limit; `first` is the first refusal this minute (worth recording once),
    /// `retry_after` the seconds until the minute ends.
    Limited {
        first: bool,
        retry_after: u64,
    },
}

/// Counts one request against `limit` per minute for `bucket` (e.g. "sign-in:192.0.2.7").
pub async fn hit(pool: &PgPool, bucket: &str, limit: u32) -> Result<Verdict, AppError> {
    let row = sqlx::query!(
        r#"INSERT INTO rate_limits (bucket, window_start, hits)
           VALUES ($1, date_trunc('minute', now()), 1)
           ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1
           RETURNING hits,
                     60 - extract(epoch FROM now() - window_start)::int AS "retry_after!""#,
        bucket,
    )
    .fetch_one(pool)
    .await?;
    let hits = i64::from(row.hits);
    if hits > i64::from(limit) {
        Ok(Verdict::Limited {
            first: hits == i64::from(limit) + 1,
            retry_after: row.retry_after.clamp(1, 60) as u64,
        })
    } else {
        Ok(Verdict::Allowed)
    }
}

/// Refusals of one kind by one actor written to the audit log per minute; further ones
/// are counted and summed up in one entry when the minute is over. Refusals cost the
/// refused nothing, so without this anyone signed in (or anyone at all, for the token
/// API) could grow the append-only log at will.
pub const REFUSALS_RECORDED_PER_MINUTE: u32 = 5;

/// Who was refused, for counting: a person, or (unauthenticated) a source address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    User(i64),
    Token(i64),
    Address(String),
}

impl Refused {
    fn key(&self) -> String {
        match self {
            Refused::User(id) => format!("user:{id}"),
            Refused::Token(id) => format!("token:{id}"),
            Refused::Address(ip) => format!("ip:{ip}"),
        }
    }
}

const AUDIT_PREFIX: &str = "audit:";

/// Records a refusal in the audit log, unless `who` was refused this way more than
/// [`REFUSALS_RECORDED_PER_MINUTE`] times this minute: then it is only counted.
pub async fn record_refusal(
    pool: &PgPool,
    event: &AuditEvent,
    action: AuditAction,
    who: &Refused,
) -> Result<(), AppError> {
    metrics::counter!("warroom_refusals_total", "action" => action.as_str()).increment(1);
    let bucket = format!("{AUDIT_PREFIX}{}:{}", action.as_str(), who.key());
    if hit(pool, &bucket, REFUSALS_RECORDED_PER_MINUTE).await? == Verdict::Allowed {
        record(&mut *pool.acquire().await?, event).await?;
    }
    Ok(())
}

/// Forgets the counters of finished minutes; refusals that were counted but not each
/// recorded get one summary entry per actor and minute, in the same transaction (so a
/// counter is summed up exactly once, whichever replica gets there first).
pub async fn close_finished_minutes(pool: &PgPool) -> Result<u64, AppError> {
    let mut tx = pool.begin().await?;
    let finished = sqlx::query!(
        r#"DELETE FROM rate_limits WHERE window_start < date_trunc('minute', now())
           RETURNING bucket, window_start AS "window_start: DateTime<Utc>", hits"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut summaries = 0;
    for row in &finished {
        let Some(rest) = row.bucket.strip_prefix(AUDIT_PREFIX) else {
            continue;
        };
        let unrecorded = i64::from(row.hits) - i64::from(REFUSALS_RECORDED_PER_MINUTE);
        if unrecorded <= 0 {
            continue;
        }
        let Some((action, who)) = rest.split_once(':') else {
            continue;
        };
        let Some(action) = AuditAction::ALL.into_iter().find(|a| a.as_str() == action) else {
            continue;
        };
        let source = crate::auth::request::Source::default();
        let mut event = AuditEvent::new(action, &source)
            .refused()
            .details(serde_json::json!({
                "summary": true,
                "refusals": row.hits,
                "not_recorded_individually": unrecorded,
                "minute": row.window_start,
            }));
        match who.split_once(':') {
            Some(("user", id)) => match id.parse::<i64>() {
                Ok(id) => event = event.by_user(id),
                Err(_) => continue,
            },
            Some(("token", id)) => match id.parse::<i64>() {
                Ok(id) => event = event.by_token(id),
                Err(_) => continue,
            },
            Some(("ip", ip)) => event = event.from_address(ip),
            _ => continue,
        }
        record(&mut tx, &event).await?;
        summaries += 1;
    }
    tx.commit().await?;
    Ok(summaries)
}
