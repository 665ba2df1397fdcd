//! Background jobs the application enqueues inside its own transactions. The queue is
//! the `underway` crate's (Postgres, `FOR UPDATE SKIP LOCKED`, retries with backoff); the
//! server builds the jobs with their steps and runs their workers on every replica.

use serde::{Deserialize, Serialize};
use underway::Job;

/// "Tell every confirmed subscriber about this public update": enqueued in the same
/// transaction as the update, so an update is never published without its deliveries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FanOutPublicUpdate {
    pub update_id: i64,
}

/// The jobs application code enqueues. Cheap to clone.
#[derive(Clone)]
pub struct Jobs {
    pub fan_out_public_update: Job<FanOutPublicUpdate, ()>,
}

impl Jobs {
    /// Enqueues the subscriber fan-out of a public update inside `tx`.
    pub async fn enqueue_fan_out(
        &self,
        tx: &mut sqlx::PgConnection,
        update_id: i64,
    ) -> anyhow::Result<()> {
        use anyhow::Context;
        self.fan_out_public_update
            .enqueue_using(&mut *tx, &FanOutPublicUpdate { update_id })
            .await
            .context("enqueueing the subscriber fan-out")?;
        Ok(())
    }
}
