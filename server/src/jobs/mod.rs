//! Background jobs, on every replica: the `underway` job workers and the timeline's
//! outbox dispatcher. One module per integration's jobs over a shared [`JobContext`]; the
//! registry here ([`JOBS`]) lists every job with how many of its tasks run at once, which
//! sizes the workers' connection pool. Time-driven work is in `crate::clock`.
//!
//! Why `underway`: it is a Postgres queue (no new service to run), enqueues through any
//! sqlx executor — so a job commits or rolls back with the change that caused it — claims
//! tasks with `FOR UPDATE SKIP LOCKED` (replicas share the work, each task runs once at a
//! time), retries with exponential backoff, and hands each step a transaction that holds
//! the task's lock, so a step's own writes commit only when the step succeeds. Its tables
//! live in its own `underway` schema, created by its own migrations at start (`db::migrate`).

pub mod status_webhooks;
pub mod timeline;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use warroom_app::jobs::Jobs;

use crate::status::site::StatusSite;
use webhooks::WebhookClient;

/// What every job's steps work with.
#[derive(Clone)]
pub struct JobContext {
    /// The workers' own pool (see [`pool_size`]).
    pub pool: PgPool,
    /// Status-page subscribers are called through it (Warroom's outbound client).
    pub webhooks: Arc<WebhookClient>,
    pub site: Arc<StatusSite>,
}

/// A job as the registry knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobSpec {
    /// The queue's name.
    pub name: &'static str,
    /// How many of its tasks one replica runs at once.
    pub concurrency: usize,
}

/// Every job this server runs. A job built but missing here has no worker (a test checks).
pub const JOBS: &[JobSpec] = &[
    status_webhooks::FAN_OUT,
    status_webhooks::DELIVERY,
    status_webhooks::CHALLENGE,
    status_webhooks::ON_PUBLIC_UPDATE,
];

/// Connections one running task holds from the pool at most: the task's transaction and
/// a short one its heartbeat or its step takes (recording a failure outside the task's
/// transaction, which rolls back). Each worker's two listeners (new tasks, its shutdown)
/// are detached from the pool and not counted.
const CONNECTIONS_PER_TASK: usize = 2;
/// The outbox dispatcher's transaction (its listener is detached too).
const DISPATCHER_CONNECTIONS: usize = 1;

/// The size of the workers' pool: enough for every job's running tasks, so the workers
/// never wait for one another, and separate from the requests' pool so they never starve
/// requests.
pub fn pool_size() -> u32 {
    let tasks: usize = JOBS
        .iter()
        .map(|job| job.concurrency * CONNECTIONS_PER_TASK)
        .sum();
    (tasks + DISPATCHER_CONNECTIONS) as u32
}

/// The workers' pool on the same database as `serving`, sized by [`pool_size`].
pub fn pool_for(serving: &PgPool) -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(pool_size())
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy_with((*serving.connect_options()).clone())
}

/// The built jobs of this replica.
#[derive(Clone)]
pub struct ServerJobs {
    /// What application code enqueues.
    pub app: Jobs,
    pub status: status_webhooks::StatusJobs,
}

/// Builds every job with its steps (the queue's schema is migrated by `db::migrate`).
pub async fn build(context: &JobContext) -> anyhow::Result<ServerJobs> {
    let status = status_webhooks::build(context).await?;
    Ok(ServerJobs {
        app: Jobs {
            fan_out_public_update: status.fan_out.clone(),
        },
        status,
    })
}

impl ServerJobs {
    /// The timeline subscriptions of every integration.
    pub fn subscriptions(&self) -> Vec<timeline::Subscription> {
        vec![self.status.on_public_update.clone()]
    }

    /// Runs the workers of every job and the outbox dispatcher until `shutdown`.
    pub fn spawn(&self, pool: PgPool, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
        let status = &self.status;
        vec![
            spawn_worker(status.fan_out.worker(), status_webhooks::FAN_OUT, &shutdown),
            spawn_worker(
                status.deliver.worker(),
                status_webhooks::DELIVERY,
                &shutdown,
            ),
            spawn_worker(
                status.confirm.worker(),
                status_webhooks::CHALLENGE,
                &shutdown,
            ),
            spawn_worker(
                status.on_public_update.job.worker(),
                status_webhooks::ON_PUBLIC_UPDATE,
                &shutdown,
            ),
            tokio::spawn(timeline::run_dispatcher(
                pool,
                self.subscriptions(),
                shutdown.clone(),
            )),
        ]
    }
}

fn spawn_worker<T>(
    mut worker: underway::Worker<T>,
    spec: JobSpec,
    shutdown: &CancellationToken,
) -> JoinHandle<()>
where
    T: underway::Task + Sync + 'static,
{
    worker.set_concurrency_limit(spec.concurrency);
    tokio::spawn(run_worker(worker, shutdown.clone()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_has_one_registry_entry() {
        let names: std::collections::BTreeSet<_> = JOBS.iter().map(|j| j.name).collect();
        assert_eq!(names.len(), JOBS.len(), "a job is listed twice");
        assert!(JOBS.iter().all(|j| j.concurrency >= 1));
    }
}
