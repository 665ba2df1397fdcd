//! Closing the shared per-minute counters (`warroom_app::limits`): forgetting finished
//! minutes and summing up the refusals that were counted but not each recorded.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// Closes finished minutes every minute until shutdown (a minute's counted refusals are
/// in the audit log at most two minutes after it ended).
pub async fn delete_old(pool: PgPool, shutdown: CancellationToken) {
    crate::every(Duration::from_secs(60), shutdown, || async {
        if let Err(err) = warroom_app::limits::close_finished_minutes(&pool).await {
            tracing::warn!(error = %err, "could not close finished rate-limit minutes");
        }
    })
    .await;
}
