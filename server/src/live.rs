//! Live fan-out for incident rooms, safe with several replicas.
//!
//! Postgres announces every committed timeline entry (`warroom_timeline`, "incident:entry")
//! and every presence change (`warroom_presence`, "incident") with NOTIFY. Each replica
//! listens once, loads an announced entry once, and hands the same serialised event to
//! every local viewer of that incident. A viewer that falls behind, or a listener that
//! lost its connection, catches up from the database: entry ids of one incident are in
//! commit order (see the incident store), so "after id N" is always complete.
//!
//! A stream lives only as long as its sign-in may read incidents: Postgres announces
//! ended sign-ins and role changes (`warroom_access`, the person's id), and every
//! `ACCESS_CHECK_PERIOD` each replica checks all its streams' sign-ins in one query, which
//! catches expiry; a stream whose sign-in fails either check ends at once.

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
use warroom_app::timeline::store as timeline;

const TIMELINE_CHANNEL: &str = "warroom_timeline";
const PRESENCE_CHANNEL: &str = "warroom_presence";
const ACCESS_CHANNEL: &str = "warroom_access";
/// How often every stream's sign-in is checked again (expiry needs no announcement).
const ACCESS_CHECK_PERIOD: Duration = Duration::from_secs(10);
/// Entries one catch-up reads; a viewer far behind catches up batch by batch.
const CATCH_UP_BATCH: i64 = 200;
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
    limits: StreamLimits,
    rooms: Mutex<HashMap<i64, broadcast::Sender<LiveMessage>>>,
    presence_dirty: Mutex<HashSet<i64>>,
    /// Connection id → the stream's incident and sign-in, for heartbeats, access checks
    /// and clean-up.
    viewers: Mutex<HashMap<Uuid, ViewerAccess>>,
}

/// What bounds the live streams of one replica.
#[derive(Clone, Copy, Debug)]
pub struct StreamLimits {
    /// A sign-in unused this long is over (streams count as use).
    pub session_idle: chrono::Duration,
    /// Streams one sign-in may hold open at once, over all replicas.
    pub per_sign_in: i64,
}

/// Whose stream a connection is.
#[derive(Clone, Debug)]
struct ViewerAccess {
    incident_id: i64,
    user_id: i64,
    sign_in: Uuid,
    /// Cancelled when the sign-in may no longer read: the stream ends.
    revoked: CancellationToken,
}

/// The signed-in person a stream is opened for.
#[derive(Clone, Copy, Debug)]
pub struct StreamOwner {
    pub user_id: i64,
    pub sign_in: Uuid,
}

/// What became of a request to open a stream.
pub enum Opened<S> {
    Stream(S),
    NoSuchIncident,
    /// The sign-in already holds as many streams as it may.
    TooManyStreams,
}

impl LiveHub {
    pub fn new(pool: PgPool, shutdown: CancellationToken, limits: StreamLimits) -> Arc<Self> {
        Arc::new(LiveHub {
            pool,
            shutdown,
            limits,
            rooms: Mutex::default(),
            presence_dirty: Mutex::default(),
            viewers: Mutex::default(),
        })
    }

    /// Starts the listener, the presence flusher, the heartbeat and the access check;
    /// they end at shutdown.
    pub fn spawn_tasks(self: Arc<Self>) -> Vec<JoinHandle<()>> {
        vec![
            tokio::spawn(self.clone().listen()),
            tokio::spawn(self.clone().flush_presence_periodically()),
            tokio::spawn(self.clone().check_access_periodically()),
            tokio::spawn(self.heartbeat()),
        ]
    }

    /// The streams per sign-in this replica allows.
    /// Live streams open on this replica (for `/metrics`).
    pub fn viewer_count(&self) -> usize {
        self.viewers.lock().expect("viewers lock").len()
    }

    pub fn limits(&self) -> StreamLimits {
        self.limits
    }

    /// Opens a viewer's stream of one incident: entries after `after_id` first (`None`:
    /// only what happens from now on), then live events, until the viewer leaves, its
    /// sign-in may no longer read, or the server stops. The viewer counts as present in
    /// the room while the stream lives.
    pub async fn open_stream(
        self: &Arc<Self>,
        incident_id: i64,
        owner: StreamOwner,
        after_id: Option<i64>,
    ) -> anyhow::Result<Opened<impl Stream<Item = Result<Event, Infallible>> + Send + 'static>>
    {
        // Subscribe before reading where the timeline stands, so nothing falls between.
        let rx = self.subscribe(incident_id);
        let mut conn = self.pool.acquire().await?;
        let Some(latest) = timeline::latest_entry_id(&mut conn, incident_id).await? else {
            drop(rx);
            self.forget_if_unwatched(incident_id);
            return Ok(Opened::NoSuchIncident);
        };
        drop(conn);
        let Some(presence) = self.join(incident_id, owner).await? else {
            drop(rx);
            self.forget_if_unwatched(incident_id);
            return Ok(Opened::TooManyStreams);
        };
        let mut viewer = Viewer {
            hub: self.clone(),
            incident_id,
            last_sent: after_id.unwrap_or(latest),
            behind: after_id.is_some_and(|after| after < latest),
            pending: VecDeque::new(),
            rx,
            revoked: presence.revoked.clone(),
            _presence: presence,
        };
        if viewer.behind {
            viewer.catch_up().await;
        }
        Ok(Opened::Stream(futures::stream::unfold(viewer, |viewer| {
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
            .listen_all([TIMELINE_CHANNEL, PRESENCE_CHANNEL, ACCESS_CHANNEL])
            .await?;
        // Whatever was announced while we were not listening is caught up from the database.
        self.resync_everyone();
        self.check_access(None).await;
        loop {
            let notification = tokio::select! {
                _ = self.shutdown.cancelled() => return Ok(()),
                n = listener.try_recv() => n?,
            };
            match notification {
                Some(n) if n.channel() == TIMELINE_CHANNEL => self.on_timeline(n.payload()).await,
                Some(n) if n.channel() == ACCESS_CHANNEL => match n.payload().parse::<i64>() {
                    Ok(user_id) => self.check_access(Some(user_id)).await,
                    Err(_) => tracing::warn!("unreadable access announcement"),
                },
                Some(n) => self.on_presence(n.payload()),
                None => {
                    tracing::warn!("live listener reconnected to Postgres; viewers catch up");
                    self.resync_everyone();
                    self.check_access(None).await;
                }
            }
        }
    }

    /// Ends the streams (of one person, or all) whose sign-in may no longer read.
    async fn check_access(&self, user_id: Option<i64>) {
        let streams: Vec<ViewerAccess> = self
            .viewers
            .lock()
            .expect("viewers lock")
            .values()
            .filter(|v| user_id.is_none_or(|id| v.user_id == id))
            .filter(|v| !v.revoked.is_cancelled())
            .cloned()
            .collect();
        if streams.is_empty() {
            return;
        }
        let mut sign_ins: Vec<Uuid> = streams.iter().map(|v| v.sign_in).collect();
        sign_ins.sort();
        sign_ins.dedup();
        match warroom_app::auth::store::sign_ins_still_reading(
            &self.pool,
            &sign_ins,
            self.limits.session_idle,
        )
        .await
        {
            Ok(valid) => {
                for stream in streams.iter().filter(|v| !valid.contains(&v.sign_in)) {
                    tracing::info!(
                        user.id = stream.user_id,
                        incident.id = stream.incident_id,
                        "live stream ended: its sign-in may no longer read"
                    );
                    stream.revoked.cancel();
                }
            }
            // The next check (or announcement) tries again.
            Err(err) => tracing::warn!(error = %err, "could not check live streams' sign-ins"),
        }
    }

    async fn check_access_periodically(self: Arc<Self>) {
        let shutdown = self.shutdown.clone();
        crate::every(ACCESS_CHECK_PERIOD, shutdown, || self.check_access(None)).await;
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
        let entry = timeline::entry(&mut conn, incident_id, entry_id).await?;
        let incident = store::summary(&mut conn, incident_id).await?;
        Ok(serde_json::to_string(&LiveEntry { entry, incident })?.into())
    }

    /// Up to `CATCH_UP_BATCH` entries after `after_id`, each with the incident as it is now.
    async fn load_backlog(
        &self,
        incident_id: i64,
        after_id: i64,
    ) -> anyhow::Result<Vec<(i64, String)>> {
        let mut conn = self.pool.acquire().await?;
        let entries =
            timeline::timeline_after(&mut conn, incident_id, after_id, CATCH_UP_BATCH).await?;
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

    /// Enters the room, unless the sign-in holds as many streams as it may (`None`).
    async fn join(
        self: &Arc<Self>,
        incident_id: i64,
        owner: StreamOwner,
    ) -> anyhow::Result<Option<PresenceGuard>> {
        let connection_id = Uuid::new_v4();
        let joined = store::join_room(
            &self.pool,
            connection_id,
            incident_id,
            owner.user_id,
            owner.sign_in,
            self.limits.per_sign_in,
        )
        .await?;
        if !joined {
            return Ok(None);
        }
        let revoked = self.shutdown.child_token();
        self.viewers.lock().expect("viewers lock").insert(
            connection_id,
            ViewerAccess {
                incident_id,
                user_id: owner.user_id,
                sign_in: owner.sign_in,
                revoked: revoked.clone(),
            },
        );
        Ok(Some(PresenceGuard {
            hub: self.clone(),
            connection_id,
            revoked,
        }))
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
    revoked: CancellationToken,
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
    /// More entries than one catch-up reads were missed: read on when `pending` empties.
    behind: bool,
    pending: VecDeque<Event>,
    rx: broadcast::Receiver<LiveMessage>,
    /// Cancelled at shutdown and when the sign-in may no longer read.
    revoked: CancellationToken,
    _presence: PresenceGuard,
}

impl Viewer {
    async fn next_event(mut self) -> Option<(Result<Event, Infallible>, Viewer)> {
        loop {
            if self.revoked.is_cancelled() {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            if self.behind {
                self.catch_up().await;
                continue;
            }
            let message = tokio::select! {
                _ = self.revoked.cancelled() => return None,
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
                self.behind = entries.len() as i64 >= CATCH_UP_BATCH;
                for (id, json) in entries {
                    self.last_sent = id;
                    self.pending.push_back(entry_event(id, &json));
                }
            }
            Err(err) => {
                // The next resync or reconnect tries again.
                self.behind = false;
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
