//! Background work, on every replica: the `underway` job workers (subscriber fan-out,
//! webhook deliveries, subscription challenges), the maintenance clock and the purge of
//! subscriptions never confirmed.
//!
//! Why `underway`: it is a Postgres queue (no new service to run), enqueues through any
//! sqlx executor — so a job commits or rolls back with the change that caused it — claims
//! tasks with `FOR UPDATE SKIP LOCKED` (replicas share the work, each task runs once at a
//! time), retries with exponential backoff, and hands each step a transaction that holds
//! the task's lock, so a step's own writes commit only when the step succeeds. Its tables
//! live in its own `underway` schema, created by its own migrations at start (`db::migrate`).

pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use underway::task::{Error as TaskError, RetryPolicy};
use underway::{Job, To};
use warroom_app::jobs::{FanOutPublicUpdate, Jobs};
use warroom_app::status::store::{maintenance, subscribers};

use crate::status::site::StatusSite;
use webhooks::WebhookClient;

/// Deliver one public update to one subscriber.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct DeliverUpdate {
    pub update_id: i64,
    pub subscriber_id: i64,
}

/// Send a new subscription its challenge.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct ConfirmSubscriber {
    pub subscriber_id: i64,
}

/// How often each replica moves maintenance windows that are due.
const MAINTENANCE_PERIOD: Duration = Duration::from_secs(5);

/// How often each replica deletes subscriptions never confirmed (kept a week).
const PURGE_PERIOD: Duration = Duration::from_secs(3600);

/// Delivery retries: 1 s, 2 s, 4 s … up to an hour apart, 20 attempts (about 14 hours).
fn delivery_retries() -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(20)
        .initial_interval_ms(1_000)
        .backoff_coefficient(2.0)
        .max_interval_ms(3_600_000)
        .build()
}

/// Challenge retries: a subscriber that does not answer within a few minutes stays
/// unconfirmed (and is never sent anything).
fn challenge_retries() -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(6)
        .initial_interval_ms(1_000)
        .backoff_coefficient(3.0)
        .max_interval_ms(120_000)
        .build()
}

/// The built jobs of this replica.
#[derive(Clone)]
pub struct ServerJobs {
    /// What application code enqueues.
    pub app: Jobs,
    pub deliver: Job<DeliverUpdate, ()>,
    pub confirm: Job<ConfirmSubscriber, ()>,
}

fn retryable(err: impl std::fmt::Display) -> TaskError {
    TaskError::Retryable(err.to_string())
}

/// Builds every job with its steps (the queue's schema is migrated by `db::migrate`).
pub async fn build(
    pool: &PgPool,
    site: Arc<StatusSite>,
    client: WebhookClient,
) -> anyhow::Result<ServerJobs> {
    let client = Arc::new(client);

    let deliver = Job::<DeliverUpdate, ()>::builder()
        .step({
            let (pool, site, client) = (pool.clone(), site.clone(), client.clone());
            move |cx, input: DeliverUpdate| {
                let (pool, site, client) = (pool.clone(), site.clone(), client.clone());
                async move {
                    let mut tx = cx.tx;
                    let recipient =
                        subscribers::recipient(&mut tx, input.update_id, input.subscriber_id)
                            .await
                            .map_err(retryable)?;
                    let Some(recipient) = recipient else {
                        return To::done();
                    };
                    if recipient.delivered_at.is_some() || !recipient.active {
                        return To::done();
                    }
                    let subject = subscribers::update_subject(&mut tx, input.update_id)
                        .await
                        .map_err(retryable)?;
                    let body = webhooks::update_payload(&site, &pool, &subject, &recipient)
                        .await
                        .map_err(retryable)?;
                    let delivery_id =
                        format!("{}:{}", subject.update_public_id, input.subscriber_id);
                    let sent = client
                        .post(
                            &recipient.url,
                            &delivery_id,
                            &recipient.signing_secret,
                            &body,
                        )
                        .await;
                    match sent {
                        Ok(_) => {
                            subscribers::record_attempt(
                                &mut tx,
                                input.update_id,
                                input.subscriber_id,
                                None,
                            )
                            .await
                            .map_err(retryable)?;
                            tx.commit().await?;
                            To::done()
                        }
                        Err(err) => {
                            let message = format!("{err:#}");
                            // Recorded outside the step's transaction, which rolls back.
                            let mut conn = pool.acquire().await?;
                            let _ = subscribers::record_attempt(
                                &mut conn,
                                input.update_id,
                                input.subscriber_id,
                                Some(&message),
                            )
                            .await;
                            Err(TaskError::Retryable(message))
                        }
                    }
                }
            }
        })
        .retry_policy(delivery_retries())
        .name("status-webhook-delivery")
        .pool(pool.clone())
        .build()
        .await
        .context("building the delivery job")?;

    let fan_out = Job::<FanOutPublicUpdate, ()>::builder()
        .step({
            let deliver = deliver.clone();
            move |cx, input: FanOutPublicUpdate| {
                let deliver = deliver.clone();
                async move {
                    let mut tx = cx.tx;
                    let planned = subscribers::plan_deliveries(&mut tx, input.update_id)
                        .await
                        .map_err(retryable)?;
                    for subscriber_id in planned {
                        deliver
                            .enqueue_using(
                                &mut *tx,
                                &DeliverUpdate {
                                    update_id: input.update_id,
                                    subscriber_id,
                                },
                            )
                            .await
                            .map_err(retryable)?;
                    }
                    tx.commit().await?;
                    To::done()
                }
            }
        })
        .retry_policy(delivery_retries())
        .name("status-update-fan-out")
        .pool(pool.clone())
        .build()
        .await
        .context("building the fan-out job")?;

    let confirm = Job::<ConfirmSubscriber, ()>::builder()
        .step({
            let (pool, site, client) = (pool.clone(), site.clone(), client.clone());
            move |_cx, input: ConfirmSubscriber| {
                let (pool, site, client) = (pool.clone(), site.clone(), client.clone());
                async move {
                    let Some(pending) = subscribers::pending(&pool, input.subscriber_id)
                        .await
                        .map_err(retryable)?
                    else {
                        return To::done();
                    };
                    match client.challenge(&site, &pending).await {
                        Ok(()) => {
                            subscribers::confirm(&pool, pending.id, &pending.challenge)
                                .await
                                .map_err(retryable)?;
                            tracing::info!(
                                subscriber.id = pending.id,
                                "status subscriber confirmed"
                            );
                            To::done()
                        }
                        Err(err) => {
                            let message = format!("{err:#}");
                            let _ = subscribers::record_error(&pool, pending.id, &message).await;
                            Err(TaskError::Retryable(message))
                        }
                    }
                }
            }
        })
        .retry_policy(challenge_retries())
        .name("status-subscriber-challenge")
        .pool(pool.clone())
        .build()
        .await
        .context("building the challenge job")?;

    Ok(ServerJobs {
        app: Jobs {
            fan_out_public_update: fan_out,
        },
        deliver,
        confirm,
    })
}

impl ServerJobs {
    /// Runs the workers of every job and the maintenance clock until `shutdown`.
    pub fn spawn(&self, pool: PgPool, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
        vec![
            tokio::spawn(run_worker(
                self.app.fan_out_public_update.worker(),
                shutdown.clone(),
            )),
            tokio::spawn(run_worker(self.deliver.worker(), shutdown.clone())),
            tokio::spawn(run_worker(self.confirm.worker(), shutdown.clone())),
            tokio::spawn(maintenance_clock(
                pool.clone(),
                self.app.clone(),
                shutdown.clone(),
            )),
            tokio::spawn(purge_unconfirmed_subscribers(pool, shutdown)),
        ]
    }
}

/// Runs one worker until `shutdown`; a worker that stops on a database error starts again.
async fn run_worker<T>(mut worker: underway::Worker<T>, shutdown: CancellationToken)
where
    T: underway::Task + Sync + 'static,
{
    // Retries become due between announcements: look every second.
    let period = jiff::Span::new().seconds(1);
    loop {
        worker.set_shutdown_token(shutdown.child_token());
        if let Err(err) = worker.run_every(period).await {
            tracing::warn!(error = %err, "a job worker stopped; starting it again");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

/// Moves maintenance windows at their times, on every replica (each move happens once).
async fn maintenance_clock(pool: PgPool, jobs: Jobs, shutdown: CancellationToken) {
    crate::every(MAINTENANCE_PERIOD, shutdown, || async {
        match maintenance::advance(&pool, &jobs, Utc::now()).await {
            Ok(moves) => {
                for (id, status) in moves {
                    tracing::info!(
                        maintenance.id = id,
                        status = status.as_str(),
                        "maintenance moved"
                    );
                }
            }
            Err(err) => tracing::warn!(error = %err, "could not move due maintenance"),
        }
    })
    .await;
}

/// Deletes stale unconfirmed subscriptions, on every replica (each row goes once).
async fn purge_unconfirmed_subscribers(pool: PgPool, shutdown: CancellationToken) {
    crate::every(PURGE_PERIOD, shutdown, || async {
        let purged = async {
            let mut conn = pool.acquire().await?;
            subscribers::purge_unconfirmed(&mut conn, Utc::now()).await
        }
        .await;
        match purged {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "unconfirmed status subscriptions deleted"),
            Err(err) => {
                tracing::warn!(error = %err, "could not delete unconfirmed status subscriptions")
            }
        }
    })
    .await;
}
