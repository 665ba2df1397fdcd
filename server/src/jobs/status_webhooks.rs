//! The status page's subscriber jobs: the fan-out of a public update (an incident's, when
//! its timeline entry reaches the outbox; a maintenance's, enqueued with it), one delivery
//! per subscriber, and the challenge that confirms a new subscription.
//!
//! A subscriber's answer decides what happens next (`outbound::failure`): a 2xx delivers,
//! a permanent failure (404, 410, 401 …) stops at once and is shown to admins, a temporary
//! one (5xx, 429, no answer) is retried with backoff, no sooner than its `Retry-After`.

use std::sync::{Arc, OnceLock, Weak};

use anyhow::Context as _;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use underway::task::{Error as TaskError, Result as TaskResult, RetryPolicy};
use underway::{Job, To};
use warroom_app::integrations::model::{FailureNote, Outcome, STATUS_WEBHOOKS};
use warroom_app::jobs::FanOutPublicUpdate;
use warroom_app::status::model::{StatusEvent, StatusEventKind};
use warroom_app::status::store::subscribers;
use warroom_app::timeline::model::EntryEvent;

use super::timeline::{EntryAppended, Subscription};
use super::{JobContext, JobSpec};
use crate::outbound::Failure;

/// Deliver one public update to one subscriber.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct DeliverUpdate {
    pub update_id: i64,
    pub subscriber_id: i64,
    /// How many times the subscriber asked to wait (`Retry-After`) for this delivery.
    #[serde(default)]
    pub deferrals: u32,
}

/// Send a new subscription its challenge.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct ConfirmSubscriber {
    pub subscriber_id: i64,
}

pub const FAN_OUT: JobSpec = JobSpec {
    name: "status-update-fan-out",
    concurrency: 1,
};
pub const DELIVERY: JobSpec = JobSpec {
    name: "status-webhook-delivery",
    concurrency: 2,
};
pub const CHALLENGE: JobSpec = JobSpec {
    name: "status-subscriber-challenge",
    concurrency: 1,
};
/// The subscription to incidents' public updates on their timelines.
pub const ON_PUBLIC_UPDATE: JobSpec = JobSpec {
    name: "timeline-status-subscribers",
    concurrency: 1,
};

/// How many times one delivery honours a `Retry-After` before it counts as failed.
const MAX_DEFERRALS: u32 = 20;

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

fn retryable(err: impl std::fmt::Display) -> TaskError {
    TaskError::Retryable(err.to_string())
}

/// The status page's jobs, built.
#[derive(Clone)]
pub struct StatusJobs {
    pub fan_out: Job<FanOutPublicUpdate, ()>,
    pub deliver: Job<DeliverUpdate, ()>,
    pub confirm: Job<ConfirmSubscriber, ()>,
    /// The delivery job as its own step sees it (weakly, so a job does not keep itself —
    /// and its pool — alive).
    _deliver_itself: Arc<OnceLock<Job<DeliverUpdate, ()>>>,
    /// Fans out incidents' public updates as their timeline entries arrive.
    pub on_public_update: Subscription,
}

/// Builds the status page's jobs over `context`.
pub async fn build(context: &JobContext) -> anyhow::Result<StatusJobs> {
    let (deliver, deliver_itself) = build_delivery(context).await?;
    let fan_out_job = Job::<FanOutPublicUpdate, ()>::builder()
        .step({
            let deliver = deliver.clone();
            move |cx, input: FanOutPublicUpdate| {
                let deliver = deliver.clone();
                async move {
                    let mut tx = cx.tx;
                    fan_out(&mut tx, &deliver, input.update_id).await?;
                    tx.commit().await?;
                    To::done()
                }
            }
        })
        .retry_policy(delivery_retries())
        .name(FAN_OUT.name)
        .pool(context.pool.clone())
        .build()
        .await
        .context("building the fan-out job")?;
    let confirm = Job::<ConfirmSubscriber, ()>::builder()
        .step({
            let context = context.clone();
            move |_cx, input: ConfirmSubscriber| {
                let context = context.clone();
                async move { challenge(&context, input).await }
            }
        })
        .retry_policy(challenge_retries())
        .name(CHALLENGE.name)
        .pool(context.pool.clone())
        .build()
        .await
        .context("building the challenge job")?;
    let on_public_update = Job::<EntryAppended, ()>::builder()
        .step({
            let deliver = deliver.clone();
            move |cx, input: EntryAppended| {
                let deliver = deliver.clone();
                async move {
                    let mut tx = cx.tx;
                    if let Some(update_id) = public_update_of(&mut tx, &input).await? {
                        fan_out(&mut tx, &deliver, update_id).await?;
                    }
                    tx.commit().await?;
                    To::done()
                }
            }
        })
        .retry_policy(delivery_retries())
        .name(ON_PUBLIC_UPDATE.name)
        .pool(context.pool.clone())
        .build()
        .await
        .context("building the public-update subscription")?;
    Ok(StatusJobs {
        fan_out: fan_out_job,
        deliver,
        confirm,
        _deliver_itself: deliver_itself,
        on_public_update: Subscription {
            name: ON_PUBLIC_UPDATE.name,
            kinds: vec![StatusEventKind::PublicUpdate.into()],
            job: on_public_update,
        },
    })
}

/// The public update an incident's `public_update` entry announced.
async fn public_update_of(
    conn: &mut PgConnection,
    input: &EntryAppended,
) -> TaskResult<Option<i64>> {
    let entry = warroom_app::timeline::store::entry(conn, input.incident_id, input.entry_id)
        .await
        .map_err(retryable)?;
    Ok(match entry.event {
        EntryEvent::Status(StatusEvent::PublicUpdate { update_id, .. }) => update_id,
        _ => None,
    })
}

/// Plans one delivery per confirmed subscriber and enqueues each, in `conn`'s transaction
/// (a fan-out run twice plans nothing new: deliveries are unique per subscriber).
async fn fan_out(
    conn: &mut PgConnection,
    deliver: &Job<DeliverUpdate, ()>,
    update_id: i64,
) -> TaskResult<()> {
    let planned = subscribers::plan_deliveries(conn, update_id)
        .await
        .map_err(retryable)?;
    for subscriber_id in planned {
        let input = DeliverUpdate {
            update_id,
            subscriber_id,
            deferrals: 0,
        };
        deliver
            .enqueue_using(&mut *conn, &input)
            .await
            .map_err(retryable)?;
    }
    Ok(())
}

/// The delivery job, and the cell through which its step reaches it.
type SelfHandle = Arc<OnceLock<Job<DeliverUpdate, ()>>>;

async fn build_delivery(
    context: &JobContext,
) -> anyhow::Result<(Job<DeliverUpdate, ()>, SelfHandle)> {
    // The step re-enqueues its own job when a subscriber asks to wait.
    let itself: SelfHandle = Arc::new(OnceLock::new());
    let job = Job::<DeliverUpdate, ()>::builder()
        .step({
            let (context, itself) = (context.clone(), Arc::downgrade(&itself));
            move |cx, input: DeliverUpdate| {
                let (context, itself) = (context.clone(), itself.clone());
                async move { deliver(&context, cx.tx, &itself, input).await }
            }
        })
        .retry_policy(delivery_retries())
        .name(DELIVERY.name)
        .pool(context.pool.clone())
        .build()
        .await
        .context("building the delivery job")?;
    let _ = itself.set(job.clone());
    Ok((job, itself))
}

/// One delivery attempt.
async fn deliver(
    context: &JobContext,
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    itself: &Weak<OnceLock<Job<DeliverUpdate, ()>>>,
    input: DeliverUpdate,
) -> TaskResult<To<()>> {
    let recipient = subscribers::recipient(&mut tx, input.update_id, input.subscriber_id)
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
    let body = super::webhooks::update_payload(&context.site, &context.pool, &subject, &recipient)
        .await
        .map_err(retryable)?;
    let delivery_id = format!("{}:{}", subject.update_public_id, input.subscriber_id);
    let target = format!("subscriber {}", input.subscriber_id);
    let sent = context
        .webhooks
        .post(
            &recipient.url,
            &delivery_id,
            &recipient.signing_secret,
            &body,
        )
        .await;
    match sent {
        Ok(_) => {
            subscribers::record_attempt(&mut tx, input.update_id, input.subscriber_id, None)
                .await
                .map_err(retryable)?;
            record_outcome(&mut tx, &target, None).await?;
            tx.commit().await?;
            To::done()
        }
        Err(failure) => {
            let message = failure.to_string();
            // Recorded outside the step's transaction, which rolls back on an error.
            let mut conn = context.pool.acquire().await?;
            if let Err(err) = subscribers::record_attempt(
                &mut conn,
                input.update_id,
                input.subscriber_id,
                Some(&message),
            )
            .await
            {
                tracing::warn!(error = %err, "could not record a failed delivery");
            }
            record_outcome(&mut conn, &target, Some(&failure)).await?;
            if failure.is_permanent() {
                tracing::warn!(
                    subscriber.id = input.subscriber_id,
                    error = %message,
                    "status webhook refused: not retried"
                );
                return Err(TaskError::Fatal(message));
            }
            let itself = itself.upgrade();
            match (
                failure.retry_after(),
                itself.as_ref().and_then(|cell| cell.get()),
            ) {
                (Some(wait), Some(job)) if input.deferrals < MAX_DEFERRALS => {
                    let later = DeliverUpdate {
                        deferrals: input.deferrals + 1,
                        ..input
                    };
                    let seconds = wait.as_secs().max(1) as i64;
                    job.enqueue_after_using(&mut *tx, &later, jiff::Span::new().seconds(seconds))
                        .await
                        .map_err(retryable)?;
                    tx.commit().await?;
                    To::done()
                }
                _ => Err(TaskError::Retryable(message)),
            }
        }
    }
}

/// Sends a pending subscription its challenge and confirms it when it echoes.
async fn challenge(context: &JobContext, input: ConfirmSubscriber) -> TaskResult<To<()>> {
    let mut conn = context.pool.acquire().await?;
    let Some(pending) = subscribers::pending(&mut conn, input.subscriber_id)
        .await
        .map_err(retryable)?
    else {
        return To::done();
    };
    let target = format!("subscriber {}", pending.id);
    match context.webhooks.challenge(&context.site, &pending).await {
        Ok(()) => {
            subscribers::confirm(&mut conn, pending.id, &pending.challenge)
                .await
                .map_err(retryable)?;
            record_outcome(&mut conn, &target, None).await?;
            tracing::info!(subscriber.id = pending.id, "status subscriber confirmed");
            To::done()
        }
        Err(failure) => {
            let message = failure.to_string();
            if let Err(err) = subscribers::record_error(&mut conn, pending.id, &message).await {
                tracing::warn!(error = %err, "could not record a failed challenge");
            }
            record_outcome(&mut conn, &target, Some(&failure)).await?;
            if failure.is_permanent() {
                Err(TaskError::Fatal(message))
            } else {
                Err(TaskError::Retryable(message))
            }
        }
    }
}

/// Records how a call to a subscriber went, for the admin pages.
async fn record_outcome(
    conn: &mut PgConnection,
    target: &str,
    failure: Option<&Failure>,
) -> TaskResult<()> {
    let message = failure.map(|f| f.to_string());
    let outcome = Outcome {
        integration: STATUS_WEBHOOKS,
        target,
        failure: failure
            .zip(message.as_deref())
            .map(|(f, error)| FailureNote {
                error,
                http_status: f.status(),
                permanent: f.is_permanent(),
            }),
    };
    warroom_app::integrations::store::record(conn, &outcome, Utc::now())
        .await
        .map_err(retryable)
}
