//! All SQL of the timeline: appending an entry (and queueing it in the outbox), reading
//! entries back by page, after an id, or one by one, and the outbox's claim and release.
//!
//! Entries of one incident are appended under its row lock (`incidents::store::lock_incident`),
//! so their ids are in commit order: live viewers resume with "everything after id N".

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::model::{EntryEvent, TimelineEntry, TimelinePage};
use crate::auth::model::Person;
use crate::error::AppError;
use crate::incidents::model::{IncidentEvent, NoteBody};
use crate::markdown;

/// Appends one entry and queues it in the outbox for the integrations that subscribe to
/// its kind, both in the caller's transaction; the caller holds the incident lock
/// (`incidents::store::lock_incident`). Note texts live in `note_revisions`, so note
/// kinds keep only references in `details`.
pub async fn append_entry(
    conn: &mut PgConnection,
    incident_id: i64,
    author_id: i64,
    event: &EntryEvent,
) -> Result<i64, AppError> {
    let details = match event {
        EntryEvent::Incident(IncidentEvent::Note(_) | IncidentEvent::Decision(_)) => {
            serde_json::json!({})
        }
        EntryEvent::Incident(IncidentEvent::NoteEdited { target_id, body }) => {
            serde_json::json!({ "target_id": target_id, "revision": body.revision })
        }
        other => serde_json::to_value(other).map_err(|e| AppError::internal(e.into()))?,
    };
    Ok(sqlx::query_scalar!(
        r#"WITH entry AS (
               INSERT INTO timeline_entries (incident_id, kind, author_id, details)
               VALUES ($1, $2, $3, $4) RETURNING id, incident_id, kind
           )
           INSERT INTO timeline_outbox (entry_id, incident_id, kind)
           SELECT id, incident_id, kind FROM entry
           RETURNING entry_id"#,
        incident_id,
        event.kind(),
        author_id,
        details,
    )
    .fetch_one(conn)
    .await?)
}

/// The entries of an incident after entry `after_id` (0: from the start), oldest first,
/// at most `limit` of them, with the current text of notes and the text an edit
/// introduced: what a live viewer missed.
pub async fn timeline_after(
    conn: &mut PgConnection,
    incident_id: i64,
    after_id: i64,
    limit: i64,
) -> Result<Vec<TimelineEntry>, AppError> {
    let ids = sqlx::query_scalar!(
        "SELECT id FROM timeline_entries WHERE incident_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        incident_id,
        after_id,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    entries_by_id(conn, incident_id, &ids).await
}

/// One page of a timeline, read from its newest end: the `limit` entries before
/// `before_id` (`None`: the newest), oldest first, and whether older ones exist.
pub async fn timeline_page(
    conn: &mut PgConnection,
    incident_id: i64,
    before_id: Option<i64>,
    limit: i64,
) -> Result<TimelinePage, AppError> {
    let mut ids = sqlx::query_scalar!(
        "SELECT id FROM timeline_entries
         WHERE incident_id = $1 AND ($2::bigint IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3",
        incident_id,
        before_id,
        limit + 1
    )
    .fetch_all(&mut *conn)
    .await?;
    let older = ids.len() as i64 > limit;
    ids.truncate(limit.max(0) as usize);
    Ok(TimelinePage {
        entries: entries_by_id(conn, incident_id, &ids).await?,
        older,
    })
}

/// The notes and decisions pinned now, oldest first, with their current text.
pub async fn pinned_entries(
    conn: &mut PgConnection,
    incident_id: i64,
) -> Result<Vec<TimelineEntry>, AppError> {
    let ids = sqlx::query_scalar!(
        r#"SELECT target AS "target!" FROM (
               SELECT DISTINCT ON ((details->>'target_id')::bigint)
                      (details->>'target_id')::bigint AS target, kind
               FROM timeline_entries
               WHERE incident_id = $1 AND kind IN ('pinned', 'unpinned')
               ORDER BY (details->>'target_id')::bigint, id DESC
           ) latest
           WHERE kind = 'pinned'"#,
        incident_id
    )
    .fetch_all(&mut *conn)
    .await?;
    entries_by_id(conn, incident_id, &ids).await
}

/// One entry of an incident, as the timeline shows it.
pub async fn entry(
    conn: &mut PgConnection,
    incident_id: i64,
    entry_id: i64,
) -> Result<TimelineEntry, AppError> {
    entries_by_id(conn, incident_id, &[entry_id])
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound(format!("timeline entry {entry_id}")))
}

/// These entries of one incident, oldest first; notes with their current text.
async fn entries_by_id(
    conn: &mut PgConnection,
    incident_id: i64,
    ids: &[i64],
) -> Result<Vec<TimelineEntry>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query_as!(
        EntryRow,
        r#"SELECT e.id, e.incident_id, e.kind, e.created_at AS "created_at: DateTime<Utc>", e.details,
                  u.id AS author_id, u.display_name AS author_name,
                  r.body_md AS "body_md?", r.revision AS "revision?",
                  r.body_html AS "body_html?", r.html_version AS "html_version?"
           FROM timeline_entries e
           JOIN users u ON u.id = e.author_id
           LEFT JOIN LATERAL (
               SELECT nr.body_md, nr.revision, nr.body_html, nr.html_version FROM note_revisions nr
               WHERE (e.kind IN ('note', 'decision') AND nr.entry_id = e.id)
                  OR (e.kind = 'note_edited'
                      AND nr.entry_id = (e.details->>'target_id')::bigint
                      AND nr.revision = (e.details->>'revision')::int)
               ORDER BY nr.revision DESC LIMIT 1
           ) r ON true
           WHERE e.incident_id = $1 AND e.id = ANY($2)
           ORDER BY e.id"#,
        incident_id,
        ids
    )
    .fetch_all(conn)
    .await?;
    // Bodies written before rendering was stored (or by an older renderer) are rendered
    // now, together, off the async threads.
    let texts: Vec<(String, Option<String>)> = rows
        .iter()
        .filter_map(|r| {
            let source = r.body_md.clone()?;
            Some((
                source,
                markdown::stored(r.body_html.clone(), r.html_version),
            ))
        })
        .collect();
    let mut html = markdown::complete(texts).await?.into_iter();
    rows.into_iter()
        .map(|row| {
            let body_html = row.body_md.as_ref().and_then(|_| html.next());
            row.into_entry(body_html)
        })
        .collect()
}

/// The newest entry id of an incident (0 when it has none yet), or `None` when there is
/// no such incident: where a new live viewer starts.
pub async fn latest_entry_id(
    conn: &mut PgConnection,
    incident_id: i64,
) -> Result<Option<i64>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT COALESCE((SELECT MAX(e.id) FROM timeline_entries e WHERE e.incident_id = i.id), 0) AS "latest!"
           FROM incidents i WHERE i.id = $1"#,
        incident_id
    )
    .fetch_optional(conn)
    .await?)
}

struct EntryRow {
    id: i64,
    incident_id: i64,
    kind: String,
    created_at: DateTime<Utc>,
    details: serde_json::Value,
    author_id: i64,
    author_name: String,
    body_md: Option<String>,
    revision: Option<i32>,
    body_html: Option<String>,
    html_version: Option<i16>,
}

impl EntryRow {
    /// The entry, with the rendering of its note text (if it has one).
    fn into_entry(self, body_html: Option<String>) -> Result<TimelineEntry, AppError> {
        let body = || -> Result<NoteBody, AppError> {
            let body_md = self.body_md.clone().ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("entry {} has no note text", self.id))
            })?;
            Ok(NoteBody {
                body_html: body_html.clone().unwrap_or_default(),
                body_md,
                revision: self.revision.unwrap_or(1),
            })
        };
        let event = match self.kind.as_str() {
            "note" => IncidentEvent::Note(body()?).into(),
            "decision" => IncidentEvent::Decision(body()?).into(),
            "note_edited" => IncidentEvent::NoteEdited {
                target_id: self.details["target_id"].as_i64().unwrap_or_default(),
                body: body()?,
            }
            .into(),
            _ => serde_json::from_value(self.details.clone()).map_err(|e| {
                AppError::internal(anyhow::Error::new(e).context(format!("entry {}", self.id)))
            })?,
        };
        Ok(TimelineEntry {
            id: self.id,
            incident_id: self.incident_id,
            author: Person {
                id: self.author_id,
                name: self.author_name,
            },
            created_at: self.created_at,
            event,
        })
    }
}

/// One entry waiting in the outbox for the integrations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedEntry {
    pub entry_id: i64,
    pub incident_id: i64,
    pub kind: String,
}

/// Claims up to `limit` queued entries, oldest first, for the rest of the caller's
/// transaction (`FOR UPDATE SKIP LOCKED`: replicas dispatch different entries). The caller
/// hands each to its subscribers, then [`release`]s it, in that transaction.
pub async fn claim_queued(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<Vec<QueuedEntry>, AppError> {
    Ok(sqlx::query_as!(
        QueuedEntry,
        "SELECT entry_id, incident_id, kind FROM timeline_outbox
         ORDER BY entry_id LIMIT $1 FOR UPDATE SKIP LOCKED",
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// Removes dispatched entries from the outbox.
pub async fn release(conn: &mut PgConnection, entry_ids: &[i64]) -> Result<(), AppError> {
    sqlx::query!(
        "DELETE FROM timeline_outbox WHERE entry_id = ANY($1)",
        entry_ids
    )
    .execute(conn)
    .await?;
    Ok(())
}
