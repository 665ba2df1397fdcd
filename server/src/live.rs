//! Live fan-out for incident rooms, safe with several replicas.
//!
//! Postgres announces every committed timeline entry (`warroom_timeline`, "incident:entry")
//! and every presence change (`warroom_presence`, "incident") with NOTIFY. Each replica
//! listens once, loads an announced entry once, and hands the same serialised event to
//! every local viewer of that incident. A viewer that falls behind, or a listener that
//! lost its connection, catches up from the database: entry ids of one incident are in
//! commit order (see the incident store), so "after id N" is always complete.

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::sse::Event;
use futures::Stream;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use warroom_app::incidents::model::{LiveEntry, Presence};
use warroom_app::incidents::store;

const TIMELINE_CHANNEL: &str = "warroom_timeline";
const PRESENCE_CHANNEL: &str = "warroom_presence";
/// Events buffered per incident before a slow viewer has to catch up from the database.
const ROOM_BUFFER: usize = 1024;
/// Presence changes are coalesced: at most one presence event per room per period.
const PRESENCE_PERIOD: Duration = Duration::from_millis(300);
const HEARTBEAT_PERIOD: Duration = Duration::from_secs(15);

/// What a room's viewers receive. Payloads are serialised once per replica and shared.
#[derive(Clone, Debug)]
pub enum LiveMessage {
    Entry {
        id: i64,
        json: Arc<str>,
    },
    Presence(Arc<str>),
    /// Announcements may have been missed: every viewer re-reads after its last entry.
    Resync,
}

/// This replica's rooms and viewers.
pub struct LiveHub {
    pool: PgPool,
    shutdown: CancellationToken,
    rooms: Mutex<HashMap<i64, broadcast::Sender<LiveMessage>>>,
    presence_dirty: Mutex<HashSet<i64>>,
    /// Connection id → incident, for heartbeats and clean-up.
    viewers: Mutex<HashMap<Uuid, i64>>,
}

impl LiveHub {
    pub fn new(pool: PgPool, shutdown: CancellationToken) -> Arc<Self> {
        Arc::new(LiveHub {
            pool,
            shutdown,
            rooms: Mutex::default(),
            presence_dirty: Mutex::default(),
            viewers: Mutex::default(),
        })
    }

    /// Starts the listener, the presence flusher and the heartbeat; they end at shutdown.
    pub fn spawn_tasks(self: Arc<Self>) -> Vec<JoinHandle<()>> {
        vec![
            tokio::spawn(self.clone().listen()),
            tokio::spawn(self.clone().flush_presence_periodically()),
            tokio::spawn(self.heartbeat()),
        ]
    }

    /// Opens a viewer's stream of one incident: entries after `after_id` first (`None`:
    /// only what happens from now on), then live events, until the viewer leaves or the
    /// server stops. The viewer counts as present in the room while the stream lives.
    /// `None` when there is no such incident.
    pub async fn open_stream(
        self: &Arc<Self>,
        incident_id: i64,
        user_id: i64,
        after_id: Option<i64>,
    ) -> anyhow::Result<Option<impl Stream<Item = Result<Event, Infallible>> + Send + 'static>>
    {
        // Subscribe before reading where the timeline stands, so nothing falls between.
        let rx = self.subscribe(incident_id);
        let mut conn = self.pool.acquire().await?;
        let Some(latest) = store::latest_entry_id(&mut conn, incident_id).await? else {
            drop(rx);
            self.forget_if_unwatched(incident_id);
            return Ok(None);
        };
        drop(conn);
        let presence = self.join(incident_id, user_id).await?;
        let mut viewer = Viewer {
            hub: self.clone(),
            incident_id,
            last_sent: after_id.unwrap_or(latest),
            pending: VecDeque::new(),
            rx,
            _presence: presence,
        };
        if after_id.is_some_and(|after| after < latest) {
            viewer.catch_up().await;
        }
        Ok(Some(futures::stream::unfold(viewer, |viewer| {
            viewer.next_event()
        })))
    }

    fn subscribe(&self, incident_id: i64) -> broadcast::Receiver<LiveMessage> {
        let mut rooms = self.rooms.lock().expect("rooms lock");
        rooms
            .entry(incident_id)
            .or_insert_with(|| broadcast::channel(ROOM_BUFFER).0)
            .subscribe()
    }

    /// Sends to a room if anyone here is watching it; forgets rooms nobody watches.
    fn send(&self, incident_id: i64, message: LiveMessage) {
        let mut rooms = self.rooms.lock().expect("rooms lock");
        if let Some(sender) = rooms.get(&incident_id) {
            if sender.send(message).is_err() {
                rooms.remove(&incident_id);
            }
        }
    }

    fn forget_if_unwatched(&self, incident_id: i64) {
        let mut rooms = self.rooms.lock().expect("rooms lock");
        if rooms
            .get(&incident_id)
            .is_some_and(|s| s.receiver_count() == 0)
        {
            rooms.remove(&incident_id);
        }
    }

    fn watched(&self, incident_id: i64) -> bool {
        self.rooms
            .lock()
            .expect("rooms lock")
            .get(&incident_id)
            .is_some_and(|s| s.receiver_count() > 0)
    }

    fn resync_everyone(&self) {
        let rooms: Vec<i64> = self
            .rooms
            .lock()
            .expect("rooms lock")
            .keys()
            .copied()
            .collect();
        for incident_id in rooms {
            self.send(incident_id, LiveMessage::Resync);
            self.presence_dirty
                .lock()
                .expect("presence lock")
                .insert(incident_id);
        }
    }

    async fn listen(self: Arc<Self>) {
        let mut backoff = Duration::from_millis(250);
        while !self.shutdown.is_cancelled() {
            match self.listen_once().await {
                Ok(()) => return,
                Err(err) => {
                    tracing::warn!(error = %err, "live listener lost Postgres; retrying");
                    tokio::select! {
                        _ = self.shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// Listens until shutdown (`Ok`) or until the connection cannot be re-established.
    async fn listen_once(&self) -> anyhow::Result<()> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener
            .listen_all([TIMELINE_CHANNEL, PRESENCE_CHANNEL])
            .await?;
        // Whatever was announced while we were not listening is caught up from the database.
        self.resync_everyone();
        loop {
            let notification = tokio::select! {
                _ = self.shutdown.cancelled() => return Ok(()),
                n = listener.try_recv() => n?,
            };
            match notification {
                Some(n) if n.channel() == TIMELINE_CHANNEL => self.on_timeline(n.payload()).await,
                Some(n) => self.on_presence(n.payload()),
                None => {
                    tracing::warn!("live listener reconnected to Postgres; viewers catch up");
                    self.resync_everyone();
                }
            }
        }
    }

    async fn on_timeline(&self, payload: &str) {
        let Some((incident_id, entry_id)) = parse_entry_announcement(payload) else {
            tracing::warn!(payload, "unreadable timeline announcement");
            return;
        };
        if !self.watched(incident_id) {
            return;
        }
        match self.load_entry(incident_id, entry_id).await {
            Ok(json) => self.send(incident_id, LiveMessage::Entry { id: entry_id, json }),
            Err(err) => {
                tracing::warn!(error = %err, incident.id = incident_id, "could not load a live entry");
                self.send(incident_id, LiveMessage::Resync);
            }
        }
    }

    fn on_presence(&self, payload: &str) {
        if let Ok(incident_id) = payload.parse::<i64>() {
            self.presence_dirty
                .lock()
                .expect("presence lock")
                .insert(incident_id);
        }
    }

    async fn load_entry(&self, incident_id: i64, entry_id: i64) -> anyhow::Result<Arc<str>> {
        let mut conn = self.pool.acquire().await?;
        let entry = store::entry(&mut conn, incident_id, entry_id).await?;
        let incident = store::summary(&mut conn, incident_id).await?;
        Ok(serde_json::to_string(&LiveEntry { entry, incident })?.into())
    }

    /// Entries after `after_id`, each with the incident as it is now.
    async fn load_backlog(
        &self,
        incident_id: i64,
        after_id: i64,
    ) -> anyhow::Result<Vec<(i64, String)>> {
        let mut conn = self.pool.acquire().await?;
        let entries = store::timeline(&mut conn, incident_id, after_id).await?;
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let incident = store::summary(&mut conn, incident_id).await?;
        entries
            .into_iter()
            .map(|entry| {
                Ok((
                    entry.id,
                    serde_json::to_string(&LiveEntry {
                        entry,
                        incident: incident.clone(),
                    })?,
                ))
            })
            .collect()
    }

    async fn flush_presence_periodically(self: Arc<Self>) {
        let shutdown = self.shutdown.clone();
        crate::every(PRESENCE_PERIOD, shutdown, || self.flush_presence()).await;
    }

    async fn flush_presence(&self) {
        let dirty: Vec<i64> = self
            .presence_dirty
            .lock()
            .expect("presence lock")
            .drain()
            .collect();
        for incident_id in dirty.into_iter().filter(|id| self.watched(*id)) {
            match store::viewers(&self.pool, incident_id).await {
                Ok(viewers) => match serde_json::to_string(&Presence { viewers }) {
                    Ok(json) => self.send(incident_id, LiveMessage::Presence(json.into())),
                    Err(err) => tracing::warn!(error = %err, "could not serialise presence"),
                },
                Err(err) => tracing::warn!(error = %err, "could not load presence"),
            }
        }
    }

    async fn join(
        self: &Arc<Self>,
        incident_id: i64,
        user_id: i64,
    ) -> anyhow::Result<PresenceGuard> {
        let connection_id = Uuid::new_v4();
        store::join_room(&self.pool, connection_id, incident_id, user_id).await?;
        self.viewers
            .lock()
            .expect("viewers lock")
            .insert(connection_id, incident_id);
        Ok(PresenceGuard {
            hub: self.clone(),
            connection_id,
        })
    }

    fn local_connections(&self) -> Vec<Uuid> {
        self.viewers
            .lock()
            .expect("viewers lock")
            .keys()
            .copied()
            .collect()
    }

    async fn heartbeat(self: Arc<Self>) {
        let shutdown = self.shutdown.clone();
        crate::every(HEARTBEAT_PERIOD, shutdown, || async {
            if let Err(err) = store::refresh_presence(&self.pool, &self.local_connections()).await {
                tracing::warn!(error = %err, "presence heartbeat failed");
            }
        })
        .await;
    }

    /// At shutdown: this replica's viewers leave their rooms at once.
    pub async fn leave_all(&self) {
        let ids = self.local_connections();
        if let Err(err) = store::leave_room(&self.pool, &ids).await {
            tracing::warn!(error = %err, "could not clear presence at shutdown");
        }
    }
}

/// "incident:entry" → (incident, entry).
fn parse_entry_announcement(payload: &str) -> Option<(i64, i64)> {
    let (incident, entry) = payload.split_once(':')?;
    Some((incident.parse().ok()?, entry.parse().ok()?))
}

/// Removes a viewer from the room when its stream ends (or, failing that, at shutdown
/// or when its heartbeats stop).
struct PresenceGuard {
    hub: Arc<LiveHub>,
    connection_id: Uuid,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        // The id stays in `viewers` until its row is gone, so that `leave_all` at
        // shutdown also covers viewers whose removal is still under way.
        let hub = self.hub.clone();
        let id = self.connection_id;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(err) = store::leave_room(&hub.pool, &[id]).await {
                    // No more heartbeats for it: the row expires with the presence TTL.
                    tracing::debug!(error = %err, "could not remove a viewer's presence");
                }
                hub.viewers.lock().expect("viewers lock").remove(&id);
            });
        }
    }
}

/// One browser's stream.
struct Viewer {
    hub: Arc<LiveHub>,
    incident_id: i64,
    last_sent: i64,
    pending: VecDeque<Event>,
    rx: broadcast::Receiver<LiveMessage>,
    _presence: PresenceGuard,
}

impl Viewer {
    async fn next_event(mut self) -> Option<(Result<Event, Infallible>, Viewer)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            let message = tokio::select! {
                _ = self.hub.shutdown.cancelled() => return None,
                message = self.rx.recv() => message,
            };
            match message {
                Ok(LiveMessage::Entry { id, json }) if id > self.last_sent => {
                    self.last_sent = id;
                    return Some((Ok(entry_event(id, &json)), self));
                }
                Ok(LiveMessage::Entry { .. }) => {}
                Ok(LiveMessage::Presence(json)) => {
                    return Some((Ok(Event::default().event("presence").data(&*json)), self));
                }
                Ok(LiveMessage::Resync) | Err(RecvError::Lagged(_)) => self.catch_up().await,
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Queues every entry after the last one sent.
    async fn catch_up(&mut self) {
        match self
            .hub
            .load_backlog(self.incident_id, self.last_sent)
            .await
        {
            Ok(entries) => {
                for (id, json) in entries {
                    self.last_sent = id;
                    self.pending.push_back(entry_event(id, &json));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, incident.id = self.incident_id, "live catch-up failed")
            }
        }
    }
}

fn entry_event(id: i64, json: &str) -> Event {
    Event::default()
        .event("entry")
        .id(id.to_string())
        .data(json)
}

#[cfg(test)]
mod tests {
    use super::parse_entry_announcement;

    #[test]
    fn announcements_carry_ids_only() {
        assert_eq!(parse_entry_announcement("12:345"), Some((12, 345)));
        assert_eq!(parse_entry_announcement("12"), None);
        assert_eq!(parse_entry_announcement("x:1"), None);
    }
}
