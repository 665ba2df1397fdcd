//! The database: connecting, migrating, session clean-up, and the embedded Postgres.

pub mod embedded;
pub mod rate_limits;

use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tower_sessions::ExpiredDeletion;

/// Prepares the pool (without logging the URL: it may hold a password). Connections are
/// opened on first use, so Warroom starts — and serves its status page — while Postgres
/// is still down.
pub fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url
        .parse()
        .context("DATABASE_URL is not a valid Postgres URL")?;
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy_with(options))
}

/// Applies the migrations in `migrations/` (forward-only).
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::migrate!("../migrations")
        .run(pool)
        .await
        .context("running migrations")
}

/// Deletes expired sessions every ten minutes until shutdown.
pub async fn delete_expired_sessions(pool: PgPool, shutdown: CancellationToken) {
    let store = tower_sessions_sqlx_store::PostgresStore::new(pool);
    crate::every(Duration::from_secs(600), shutdown, || async {
        if let Err(err) = store.delete_expired().await {
            tracing::warn!(error = %err, "could not delete expired sessions");
        }
    })
    .await;
}
