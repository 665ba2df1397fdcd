//! The database: connecting, migrating, session clean-up, roles, and the embedded Postgres.

pub mod embedded;
pub mod roles;

use std::ops::DerefMut;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

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

/// The database as Warroom uses it: a pool that serves, and the schema owner's
/// connection options for migrating, when another role owns the schema.
#[derive(Clone)]
pub struct Database {
    /// Reads and writes rows: requests, job workers, live updates.
    pub serving: PgPool,
    /// The schema's owner, for migrations only (one connection, closed once they are
    /// done); without it a connection of `serving` migrates.
    pub owner: Option<PgConnectOptions>,
}

impl Database {
    /// One pool for everything (a superuser's, as in the test suite, or an external
    /// Postgres without `WARROOM_MIGRATION_DATABASE_URL`).
    pub fn single(pool: PgPool) -> Database {
        Database {
            serving: pool,
            owner: None,
        }
    }

    /// Applies every migration, as the owner when there is one. The owner's connection is
    /// closed before this returns: a pool's could outlive its `close` (sqlx 0.8 may put a
    /// connection being returned back among the idle ones after closing them).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.owner {
            Some(owner) => {
                let conn = PgConnection::connect_with(owner)
                    .await
                    .context("connecting as the schema's owner")?;
                let conn = migrate(Box::new(conn)).await?;
                conn.close()
                    .await
                    .context("closing the schema owner's connection")
            }
            None => {
                let conn = self.serving.acquire().await.context("connecting")?;
                migrate(conn).await.map(drop)
            }
        }
    }
}

/// Applies the migrations in `migrations/` (forward-only), then the job queue's own, on
/// `conn`; hands it back. Both migrators' generic `Acquire` bounds make their futures not
/// provably `Send` on a connection, so they run on a blocking thread of their own.
pub async fn migrate<C>(mut conn: C) -> anyhow::Result<C>
where
    C: DerefMut<Target = PgConnection> + Send + 'static,
{
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        runtime.block_on(async {
            sqlx::migrate!("../migrations")
                .run(&mut *conn)
                .await
                .context("running migrations")?;
            underway::run_migrations(&mut *conn)
                .await
                .context("running the job queue's migrations")?;
            Ok(conn)
        })
    })
    .await
    .context("the migration thread")?
}
