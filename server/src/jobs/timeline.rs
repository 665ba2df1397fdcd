//! The timeline as the outbox: every entry appended is queued (`timeline_outbox`, in the
//! transaction of the change); the dispatcher on each replica claims queued entries with
//! `FOR UPDATE SKIP LOCKED`, enqueues the job of every [`Subscription`] to the entry's
//! kind and removes the entries, in one transaction. Integrations subscribe here instead
//! of being called from other domains' stores; each gets its own job, so a slow or failing
//! one never holds up another.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use underway::Job;
use warroom_app::timeline::store::{self as timeline, QueuedEntry};

/// The input of every subscription's job: which entry arrived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryAppended {
    pub entry_id: i64,
    pub incident_id: i64,
    pub kind: String,
}

/// An integration's interest in timeline entries of some kinds.
#[derive(Clone)]
pub struct Subscription {
    /// Its job's name (also the subscription's, in logs).
    pub name: &'static str,
    /// The entry kinds it wants (`EntryEvent::kinds()` lists them all).
    pub kinds: Vec<&'static str>,
    pub job: Job<EntryAppended, ()>,
}

impl Subscription {
    pub fn wants(&self, kind: &str) -> bool {
        self.kinds.contains(&kind)
    }
}

/// Entries one dispatch claims at a time.
const BATCH: i64 = 200;
/// How often the dispatcher looks without being told (a missed notification, a replica
/// that crashed mid-dispatch: its claim ends with its connection).
const POLL: Duration = Duration::from_secs(1);

/// Hands every queued entry to its subscriptions; returns how many entries it handled.
pub async fn dispatch(pool: &PgPool, subscriptions: &[Subscription]) -> anyhow::Result<usize> {
    let mut handled = 0;
    loop {
        let mut tx = pool.begin().await?;
        let queued = timeline::claim_queued(&mut tx, BATCH).await?;
        if queued.is_empty() {
            return Ok(handled);
        }
        for entry in &queued {
            enqueue(&mut tx, subscriptions, entry).await?;
        }
        let ids: Vec<i64> = queued.iter().map(|e| e.entry_id).collect();
        timeline::release(&mut tx, &ids).await?;
        tx.commit().await?;
        handled += queued.len();
    }
}

async fn enqueue(
    conn: &mut sqlx::PgConnection,
    subscriptions: &[Subscription],
    entry: &QueuedEntry,
) -> anyhow::Result<()> {
    let input = EntryAppended {
        entry_id: entry.entry_id,
        incident_id: entry.incident_id,
        kind: entry.kind.clone(),
    };
    for subscription in subscriptions.iter().filter(|s| s.wants(&entry.kind)) {
        subscription.job.enqueue_using(&mut *conn, &input).await?;
    }
    Ok(())
}

/// Dispatches as entries are appended (woken by the timeline's notification) and every
/// second regardless, until `shutdown`.
pub async fn run_dispatcher(
    pool: PgPool,
    subscriptions: Vec<Subscription>,
    shutdown: CancellationToken,
) {
    let mut listener = None;
    while !shutdown.is_cancelled() {
        if listener.is_none() {
            listener = listen(&pool).await;
        }
        if let Err(err) = dispatch(&pool, &subscriptions).await {
            tracing::warn!(
                error = format!("{err:#}"),
                "could not dispatch timeline entries"
            );
        }
        let woken = async {
            match listener.as_mut() {
                Some(listener) => listener.recv().await.map(|_| ()),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(POLL) => {}
            woken = woken => if woken.is_err() { listener = None },
        }
    }
}

async fn listen(pool: &PgPool) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(pool).await.ok()?;
    listener.listen("warroom_timeline").await.ok()?;
    Some(listener)
}
