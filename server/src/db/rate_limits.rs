//! Per-source request counters in Postgres, so every replica enforces one shared limit.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

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
pub async fn hit(pool: &PgPool, bucket: &str, limit: u32) -> anyhow::Result<Verdict> {
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

/// Forgets finished minutes every ten minutes until shutdown.
pub async fn delete_old(pool: PgPool, shutdown: CancellationToken) {
    crate::every(Duration::from_secs(600), shutdown, || async {
        let deleted = sqlx::query!(
            "DELETE FROM rate_limits WHERE window_start < date_trunc('minute', now())"
        )
        .execute(&pool)
        .await;
        if let Err(err) = deleted {
            tracing::warn!(error = %err, "could not delete old rate-limit counters");
        }
    })
    .await;
}
