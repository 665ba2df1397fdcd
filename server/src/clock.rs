//! Time-driven work, on every replica: each piece is a function of `now` (so tests move
//! the clock by passing another), run every period by one loop per piece. Work that must
//! happen once however many replicas run claims its rows with `FOR UPDATE SKIP LOCKED`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use warroom_app::jobs::Jobs;
use warroom_app::status::store::{maintenance, subscribers};

/// One piece of periodic work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tick {
    /// Moves maintenance windows that are due (scheduled → in progress → completed).
    Maintenance,
    /// Deletes subscriptions never confirmed, a week after their last challenge.
    UnconfirmedSubscribers,
    /// Deletes sign-in sessions that expired.
    ExpiredSessions,
    /// Closes finished rate-limit minutes (their counted refusals go to the audit log).
    RateLimitMinutes,
}

impl Tick {
    pub const ALL: [Tick; 4] = [
        Tick::Maintenance,
        Tick::UnconfirmedSubscribers,
        Tick::ExpiredSessions,
        Tick::RateLimitMinutes,
    ];

    /// How often it runs.
    pub fn period(self) -> Duration {
        match self {
            Tick::Maintenance => Duration::from_secs(5),
            Tick::UnconfirmedSubscribers => Duration::from_secs(3600),
            Tick::ExpiredSessions => Duration::from_secs(600),
            Tick::RateLimitMinutes => Duration::from_secs(60),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Tick::Maintenance => "maintenance",
            Tick::UnconfirmedSubscribers => "unconfirmed subscribers",
            Tick::ExpiredSessions => "expired sessions",
            Tick::RateLimitMinutes => "rate-limit minutes",
        }
    }
}

/// Does one tick's work as of `now`.
pub async fn run(tick: Tick, pool: &PgPool, jobs: &Jobs, now: DateTime<Utc>) -> anyhow::Result<()> {
    match tick {
        Tick::Maintenance => {
            let mut tx = pool.begin().await?;
            let moves = maintenance::advance(&mut tx, jobs, now).await?;
            tx.commit().await?;
            for (id, status) in moves {
                tracing::info!(
                    maintenance.id = id,
                    status = status.as_str(),
                    "maintenance moved"
                );
            }
        }
        Tick::UnconfirmedSubscribers => {
            let mut conn = pool.acquire().await?;
            let purged = subscribers::purge_unconfirmed(&mut conn, now).await?;
            if purged > 0 {
                tracing::info!(count = purged, "unconfirmed status subscriptions deleted");
            }
        }
        Tick::ExpiredSessions => {
            use tower_sessions::ExpiredDeletion;
            tower_sessions_sqlx_store::PostgresStore::new(pool.clone())
                .delete_expired()
                .await?;
        }
        Tick::RateLimitMinutes => {
            warroom_app::limits::close_finished_minutes(pool).await?;
        }
    }
    Ok(())
}

/// Runs every tick at its period (the first time at once) until `shutdown`.
pub fn spawn(pool: PgPool, jobs: Jobs, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
    Tick::ALL
        .into_iter()
        .map(|tick| {
            let (pool, jobs, shutdown) = (pool.clone(), jobs.clone(), shutdown.clone());
            tokio::spawn(async move {
                crate::every(tick.period(), shutdown, || async {
                    if let Err(err) = run(tick, &pool, &jobs, Utc::now()).await {
                        tracing::warn!(
                            tick = tick.name(),
                            error = format!("{err:#}"),
                            "periodic work failed"
                        );
                    }
                })
                .await;
            })
        })
        .collect()
}
