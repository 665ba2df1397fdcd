//! All SQL of integration failures: recording each call's outcome per target.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::model::Outcome;
use crate::error::AppError;

/// Records the outcome of one call at `now`: a failure updates the target's record (and
/// counts it), a success removes it.
pub async fn record(
    conn: &mut PgConnection,
    outcome: &Outcome<'_>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    match &outcome.failure {
        None => {
            sqlx::query!(
                "DELETE FROM integration_failures WHERE integration = $1 AND target = $2",
                outcome.integration,
                outcome.target
            )
            .execute(conn)
            .await?;
        }
        Some(failure) => {
            sqlx::query!(
                "INSERT INTO integration_failures
                     (integration, target, error, http_status, permanent, first_failed_at, last_failed_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $6)
                 ON CONFLICT (integration, target) DO UPDATE
                 SET error = EXCLUDED.error, http_status = EXCLUDED.http_status,
                     permanent = EXCLUDED.permanent, last_failed_at = EXCLUDED.last_failed_at,
                     failures = integration_failures.failures + 1",
                outcome.integration,
                outcome.target,
                failure.error,
                failure.http_status.map(|s| s as i16),
                failure.permanent,
                now as _,
            )
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}
