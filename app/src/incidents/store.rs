//! All SQL of incidents: declaring, status, severity, roles, the timeline and presence.
//!
//! Every change to an incident locks its row first (`lock_incident`), then writes the
//! change and its timeline entry (`timeline::store::append_entry`, which also queues it
//! for the integrations) on the caller's transaction: the server function or handler owns
//! `begin`/`commit`, so several changes from one command commit together or not at all.
//! The lock also serialises timeline appends per incident, so entry ids of one incident
//! are in commit order: live viewers resume with "everything after id N".

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::model::{
    IncidentEvent, IncidentListItem, IncidentListPage, IncidentSummary, IncidentTitle, Milestones,
    NoteBody, NoteKind, NoteRevision, Role, RoleHolder, RoleStint, Severity, Status,
};
use crate::auth::model::Person;
use crate::error::AppError;
use crate::markdown::{self, Rendered, RENDERER_VERSION};
use crate::timeline::store::append_entry;

/// How long a viewer stays "in the room" without a heartbeat (a crashed replica's viewers
/// disappear after this).
pub const PRESENCE_TTL_SECONDS: f64 = 60.0;

/// Filters of the incident list.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// Only these statuses (none: all).
    pub statuses: Option<Vec<Status>>,
    pub severity_key: Option<String>,
    pub title_contains: Option<String>,
    /// Which page, from 1.
    pub page: i64,
    /// Incidents per page.
    pub per_page: i64,
}

/// The configured severities, most severe first.
pub async fn severities(pool: &PgPool) -> Result<Vec<Severity>, AppError> {
    Ok(sqlx::query_as!(
        Severity,
        "SELECT key, name, description, color, response_target_seconds, rank
         FROM severities ORDER BY rank"
    )
    .fetch_all(pool)
    .await?)
}

/// The id of a severity by its key, or a validation error naming the choices.
async fn severity_id(conn: &mut PgConnection, key: &str) -> Result<i64, AppError> {
    let found = sqlx::query_scalar!("SELECT id FROM severities WHERE key = $1", key.trim())
        .fetch_optional(&mut *conn)
        .await?;
    match found {
        Some(id) => Ok(id),
        None => {
            let keys = sqlx::query_scalar!("SELECT key FROM severities ORDER BY rank")
                .fetch_all(&mut *conn)
                .await?;
            Err(AppError::invalid(
                "severity",
                format!(
                    "Unknown severity \"{}\": choose one of {}.",
                    key.trim(),
                    keys.join(", ")
                ),
            ))
        }
    }
}

/// Declares an incident: the incident and its "declared" entry, in one transaction.
#[tracing::instrument(skip_all)]
pub async fn declare(
    tx: &mut PgConnection,
    actor: &Person,
    title: &IncidentTitle,
    summary: &Rendered,
    severity_key: &str,
) -> Result<i64, AppError> {
    let severity_id = severity_id(tx, severity_key).await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO incidents (title, summary_md, summary_html, summary_html_version,
                                severity_id, status, declared_by)
         VALUES ($1, $2, $3, $4, $5, 'investigating', $6) RETURNING id",
        title.as_str(),
        summary.source,
        summary.html,
        RENDERER_VERSION,
        severity_id,
        actor.id,
    )
    .fetch_one(&mut *tx)
    .await?;
    let event = IncidentEvent::Declared {
        title: title.as_str().to_string(),
        severity: severity_key.trim().to_string(),
    };
    append_entry(tx, id, actor.id, &event.into()).await?;
    tracing::info!(incident.id = id, "incident declared");
    Ok(id)
}

/// One page of the incident list: open incidents first, most severe first, newest first.
pub async fn list(pool: &PgPool, filter: &ListFilter) -> Result<IncidentListPage, AppError> {
    let statuses: Option<Vec<String>> = filter
        .statuses
        .as_ref()
        .map(|list| list.iter().map(|s| s.as_str().to_string()).collect());
    let pattern = filter.title_contains.as_deref().map(like_pattern);
    let rows = sqlx::query!(
        r#"SELECT i.id, i.title, i.status, i.declared_at AS "declared_at: DateTime<Utc>",
                  s.key, s.name, s.description, s.color, s.response_target_seconds, s.rank,
                  cu.id AS "commander_id?", cu.display_name AS "commander_name?"
           FROM incidents i
           JOIN severities s ON s.id = i.severity_id
           LEFT JOIN role_assignments c
                  ON c.incident_id = i.id AND c.role = 'commander' AND c.ended_at IS NULL
           LEFT JOIN users cu ON cu.id = c.user_id
           WHERE ($1::text[] IS NULL OR i.status = ANY($1))
             AND ($2::text IS NULL OR s.key = $2)
             AND ($3::text IS NULL OR i.title ILIKE $3)
           ORDER BY (i.status = 'resolved'), s.rank, i.declared_at DESC, i.id DESC
           LIMIT $4 OFFSET $5"#,
        statuses.as_deref(),
        filter.severity_key.as_deref(),
        pattern,
        filter.per_page + 1,
        (filter.page.max(1) - 1) * filter.per_page,
    )
    .fetch_all(pool)
    .await?;
    let has_next = rows.len() as i64 > filter.per_page;
    let items = rows
        .into_iter()
        .take(filter.per_page.max(0) as usize)
        .map(|r| {
            Ok(IncidentListItem {
                id: r.id,
                title: r.title,
                status: Status::parse(&r.status)?,
                declared_at: r.declared_at,
                severity: Severity {
                    key: r.key,
                    name: r.name,
                    description: r.description,
                    color: r.color,
                    response_target_seconds: r.response_target_seconds,
                    rank: r.rank,
                },
                commander: r
                    .commander_id
                    .zip(r.commander_name)
                    .map(|(id, name)| Person { id, name }),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(IncidentListPage {
        items,
        page: filter.page.max(1),
        has_next,
    })
}

/// `%text%` for ILIKE, with the user's `%`, `_` and `\` taken literally.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The incident as the room shows it, with its current role holders.
pub async fn summary(
    conn: &mut PgConnection,
    incident_id: i64,
) -> Result<IncidentSummary, AppError> {
    let row = sqlx::query!(
        r#"SELECT i.id, i.title, i.summary_md, i.summary_html, i.summary_html_version,
                  i.status, i.declared_at AS "declared_at: DateTime<Utc>",
                  i.acknowledged_at AS "acknowledged_at: DateTime<Utc>",
                  i.mitigated_at AS "mitigated_at: DateTime<Utc>", i.resolved_at AS "resolved_at: DateTime<Utc>", u.id AS declared_by_id, u.display_name AS declared_by_name,
                  s.key, s.name, s.description, s.color, s.response_target_seconds, s.rank
           FROM incidents i
           JOIN severities s ON s.id = i.severity_id
           JOIN users u ON u.id = i.declared_by
           WHERE i.id = $1"#,
        incident_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("incident {incident_id}")))?;
    let roles = current_holders(conn, incident_id).await?;
    let stored = markdown::stored(row.summary_html, row.summary_html_version);
    let summary_html = markdown::complete(vec![(row.summary_md, stored)])
        .await?
        .pop()
        .unwrap_or_default();
    Ok(IncidentSummary {
        id: row.id,
        title: row.title,
        summary_html,
        severity: Severity {
            key: row.key,
            name: row.name,
            description: row.description,
            color: row.color,
            response_target_seconds: row.response_target_seconds,
            rank: row.rank,
        },
        status: Status::parse(&row.status)?,
        declared_by: Person {
            id: row.declared_by_id,
            name: row.declared_by_name,
        },
        declared_at: row.declared_at,
        milestones: Milestones {
            acknowledged_at: row.acknowledged_at,
            mitigated_at: row.mitigated_at,
            resolved_at: row.resolved_at,
        },
        roles,
    })
}

/// Who holds which role now, in role order then by start.
async fn current_holders(
    conn: &mut PgConnection,
    incident_id: i64,
) -> Result<Vec<RoleHolder>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT r.role, r.started_at AS "started_at: DateTime<Utc>", u.id, u.display_name
         FROM role_assignments r JOIN users u ON u.id = r.user_id
         WHERE r.incident_id = $1 AND r.ended_at IS NULL
         ORDER BY r.started_at"#,
        incident_id
    )
    .fetch_all(conn)
    .await?;
    let mut holders = rows
        .into_iter()
        .map(|r| {
            Ok(RoleHolder {
                role: Role::parse(&r.role)?,
                person: Person {
                    id: r.id,
                    name: r.display_name,
                },
                since: r.started_at,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    holders.sort_by_key(|h| Role::ALL.iter().position(|r| *r == h.role));
    Ok(holders)
}

/// The lockable part of an incident row.
pub(crate) struct LockedIncident {
    status: Status,
    severity_id: i64,
    milestones: Milestones,
}

/// Locks the incident for the rest of the transaction (see the module note).
pub(crate) async fn lock_incident(
    conn: &mut PgConnection,
    incident_id: i64,
) -> Result<LockedIncident, AppError> {
    let row = sqlx::query!(
        r#"SELECT status, severity_id, acknowledged_at AS "acknowledged_at: DateTime<Utc>",
                mitigated_at AS "mitigated_at: DateTime<Utc>", resolved_at AS "resolved_at: DateTime<Utc>"
         FROM incidents WHERE id = $1 FOR UPDATE"#,
        incident_id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("incident {incident_id}")))?;
    Ok(LockedIncident {
        status: Status::parse(&row.status)?,
        severity_id: row.severity_id,
        milestones: Milestones {
            acknowledged_at: row.acknowledged_at,
            mitigated_at: row.mitigated_at,
            resolved_at: row.resolved_at,
        },
    })
}

/// Moves an incident to `to` if the lifecycle allows it, stamping milestones at `now`.
#[tracing::instrument(skip_all, fields(incident.id = incident_id))]
pub async fn change_status(
    tx: &mut PgConnection,
    actor: &Person,
    incident_id: i64,
    to: Status,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let current = lock_incident(tx, incident_id).await?;
    current.status.check_transition(to)?;
    let milestones = current.milestones.after_transition(current.status, to, now);
    sqlx::query!(
        "UPDATE incidents SET status = $2, acknowledged_at = $3, mitigated_at = $4,
                resolved_at = $5, updated_at = $6
         WHERE id = $1",
        incident_id,
        to.as_str(),
        milestones.acknowledged_at as _,
        milestones.mitigated_at as _,
        milestones.resolved_at as _,
        now as _,
    )
    .execute(&mut *tx)
    .await?;
    let event = IncidentEvent::StatusChanged {
        from: current.status,
        to,
    };
    let entry_id = append_entry(tx, incident_id, actor.id, &event.into()).await?;
    Ok(entry_id)
}

/// Changes the severity of an incident.
#[tracing::instrument(skip_all, fields(incident.id = incident_id))]
pub async fn change_severity(
    tx: &mut PgConnection,
    actor: &Person,
    incident_id: i64,
    severity_key: &str,
) -> Result<i64, AppError> {
    let current = lock_incident(tx, incident_id).await?;
    let to_id = severity_id(tx, severity_key).await?;
    if to_id == current.severity_id {
        return Err(AppError::Conflict(format!(
            "The incident is already {}.",
            severity_key.trim()
        )));
    }
    let from = sqlx::query_scalar!(
        "UPDATE incidents SET severity_id = $2, updated_at = now()
         FROM severities old
         WHERE incidents.id = $1 AND old.id = $3
         RETURNING old.key",
        incident_id,
        to_id,
        current.severity_id,
    )
    .fetch_one(&mut *tx)
    .await?;
    let event = IncidentEvent::SeverityChanged {
        from,
        to: severity_key.trim().to_string(),
    };
    let entry_id = append_entry(tx, incident_id, actor.id, &event.into()).await?;
    Ok(entry_id)
}

/// Gives `role` to `assignee`. For a single-holder role the current holder is relieved
/// in the same transaction (a handoff); a commander's first assignment acknowledges the
/// incident.
#[tracing::instrument(skip_all, fields(incident.id = incident_id, role = role.as_str()))]
pub async fn assign_role(
    tx: &mut PgConnection,
    actor: &Person,
    incident_id: i64,
    role: Role,
    assignee_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    lock_incident(tx, incident_id).await?;
    let assignee = crate::auth::store::person(tx, assignee_id)
        .await?
        .ok_or_else(|| AppError::invalid("user_id", "That person does not exist."))?;
    if let Some(why) = crate::auth::store::why_cannot_work_incidents(tx, assignee.id).await? {
        return Err(AppError::invalid(
            "user_id",
            format!("{} cannot work incidents ({why}).", assignee.name),
        ));
    }
    if role == Role::Liaison && !crate::auth::store::may_publish(tx, assignee.id).await? {
        return Err(AppError::invalid(
            "user_id",
            format!(
                "{} may not publish to the status page, which the communications liaison does: an admin allows that on Admin → People.",
                assignee.name
            ),
        ));
    }
    let holders = active_holders(tx, incident_id, role).await?;
    if holders.iter().any(|p| p.id == assignee.id) {
        return Err(AppError::Conflict(format!(
            "{} is already {}.",
            assignee.name,
            role.label().to_lowercase()
        )));
    }
    let previous = if role.single_holder() {
        holders.into_iter().next()
    } else {
        None
    };
    if let Some(previous) = &previous {
        end_stint(tx, incident_id, role, previous.id, actor.id, now).await?;
    }
    sqlx::query!(
        "INSERT INTO role_assignments (incident_id, role, user_id, assigned_by, started_at)
         VALUES ($1, $2, $3, $4, $5)",
        incident_id,
        role.as_str(),
        assignee.id,
        actor.id,
        now as _,
    )
    .execute(&mut *tx)
    .await?;
    if role == Role::Commander {
        sqlx::query!(
            "UPDATE incidents SET acknowledged_at = COALESCE(acknowledged_at, $2), updated_at = $2
             WHERE id = $1",
            incident_id,
            now as _
        )
        .execute(&mut *tx)
        .await?;
    }
    let event = IncidentEvent::RoleAssigned {
        role,
        person: assignee,
        previous,
    };
    let entry_id = append_entry(tx, incident_id, actor.id, &event.into()).await?;
    Ok(entry_id)
}

/// Relieves `person_id` of `role` (stepping down, or a fixer leaving).
#[tracing::instrument(skip_all, fields(incident.id = incident_id, role = role.as_str()))]
pub async fn end_role(
    tx: &mut PgConnection,
    actor: &Person,
    incident_id: i64,
    role: Role,
    person_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    lock_incident(tx, incident_id).await?;
    let holder = active_holders(tx, incident_id, role)
        .await?
        .into_iter()
        .find(|p| p.id == person_id)
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "Nobody by that id is {} now.",
                role.label().to_lowercase()
            ))
        })?;
    end_stint(tx, incident_id, role, holder.id, actor.id, now).await?;
    let event = IncidentEvent::RoleEnded {
        role,
        person: holder,
    };
    let entry_id = append_entry(tx, incident_id, actor.id, &event.into()).await?;
    Ok(entry_id)
}

/// People holding `role` now.
async fn active_holders(
    conn: &mut PgConnection,
    incident_id: i64,
    role: Role,
) -> Result<Vec<Person>, AppError> {
    Ok(sqlx::query_as!(
        Person,
        "SELECT u.id, u.display_name AS name
         FROM role_assignments r JOIN users u ON u.id = r.user_id
         WHERE r.incident_id = $1 AND r.role = $2 AND r.ended_at IS NULL
         ORDER BY r.started_at",
        incident_id,
        role.as_str()
    )
    .fetch_all(conn)
    .await?)
}

/// Closes the open stint of one person in one role.
async fn end_stint(
    conn: &mut PgConnection,
    incident_id: i64,
    role: Role,
    person_id: i64,
    ended_by: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE role_assignments SET ended_at = $5, ended_by = $4
         WHERE incident_id = $1 AND role = $2 AND user_id = $3 AND ended_at IS NULL",
        incident_id,
        role.as_str(),
        person_id,
        ended_by,
        now as _,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Every stint in every role, oldest first: who held what, when, and who assigned them.
pub async fn role_history(pool: &PgPool, incident_id: i64) -> Result<Vec<RoleStint>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT r.role, r.started_at AS "started_at: DateTime<Utc>", r.ended_at AS "ended_at: DateTime<Utc>",
                  u.id AS person_id, u.display_name AS person_name,
                  a.id AS by_id, a.display_name AS by_name
           FROM role_assignments r
           JOIN users u ON u.id = r.user_id
           JOIN users a ON a.id = r.assigned_by
           WHERE r.incident_id = $1
           ORDER BY r.started_at, r.id"#,
        incident_id
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(RoleStint {
                role: Role::parse(&r.role)?,
                person: Person {
                    id: r.person_id,
                    name: r.person_name,
                },
                assigned_by: Person {
                    id: r.by_id,
                    name: r.by_name,
                },
                started_at: r.started_at,
                ended_at: r.ended_at,
            })
        })
        .collect()
}

/// Adds a note or decision to the timeline.
#[tracing::instrument(skip_all, fields(incident.id = incident_id))]
pub async fn add_note(
    tx: &mut PgConnection,
    actor: &Person,
    incident_id: i64,
    kind: NoteKind,
    body: &Rendered,
) -> Result<i64, AppError> {
    lock_incident(tx, incident_id).await?;
    let text = NoteBody {
        body_md: String::new(),
        body_html: String::new(),
        revision: 1,
    };
    let event = match kind {
        NoteKind::Note => IncidentEvent::Note(text),
        NoteKind::Decision => IncidentEvent::Decision(text),
    };
    let entry_id = append_entry(tx, incident_id, actor.id, &event.into()).await?;
    insert_revision(tx, entry_id, 1, body, actor.id).await?;
    Ok(entry_id)
}

/// Replaces the text of a note or decision; earlier versions stay readable, and a
/// "note edited" entry tells live viewers.
#[tracing::instrument(skip_all, fields(entry.id = entry_id))]
pub async fn edit_note(
    tx: &mut PgConnection,
    actor: &Person,
    entry_id: i64,
    body: &Rendered,
) -> Result<i64, AppError> {
    let incident_id = note_incident(tx, entry_id).await?;
    lock_incident(tx, incident_id).await?;
    let current = sqlx::query!(
        r#"SELECT revision, body_md FROM note_revisions WHERE entry_id = $1
           ORDER BY revision DESC LIMIT 1"#,
        entry_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if current.body_md == body.source {
        return Err(AppError::Conflict(
            "Nothing changed: the note already says that.".into(),
        ));
    }
    let revision = current.revision + 1;
    insert_revision(tx, entry_id, revision, body, actor.id).await?;
    let event = IncidentEvent::NoteEdited {
        target_id: entry_id,
        body: NoteBody {
            body_md: String::new(),
            body_html: String::new(),
            revision,
        },
    };
    let edit_id = append_entry(tx, incident_id, actor.id, &event.into()).await?;
    Ok(edit_id)
}

/// Pins or unpins a note or decision (recorded as a timeline entry, never an update).
#[tracing::instrument(skip_all, fields(entry.id = entry_id))]
pub async fn set_pin(
    tx: &mut PgConnection,
    actor: &Person,
    entry_id: i64,
    pinned: bool,
) -> Result<i64, AppError> {
    let incident_id = note_incident(tx, entry_id).await?;
    lock_incident(tx, incident_id).await?;
    let last = sqlx::query_scalar!(
        "SELECT kind FROM timeline_entries
         WHERE incident_id = $1 AND kind IN ('pinned', 'unpinned')
           AND (details->>'target_id')::bigint = $2
         ORDER BY id DESC LIMIT 1",
        incident_id,
        entry_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let is_pinned = last.as_deref() == Some("pinned");
    if is_pinned == pinned {
        let state = if pinned { "pinned" } else { "not pinned" };
        return Err(AppError::Conflict(format!(
            "That entry is already {state}."
        )));
    }
    let event = if pinned {
        IncidentEvent::Pinned {
            target_id: entry_id,
        }
    } else {
        IncidentEvent::Unpinned {
            target_id: entry_id,
        }
    };
    let id = append_entry(tx, incident_id, actor.id, &event.into()).await?;
    Ok(id)
}

/// The incident of a note or decision; anything else is not editable or pinnable.
async fn note_incident(conn: &mut PgConnection, entry_id: i64) -> Result<i64, AppError> {
    sqlx::query_scalar!(
        "SELECT incident_id FROM timeline_entries WHERE id = $1 AND kind IN ('note', 'decision')",
        entry_id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("note {entry_id}")))
}

/// Every version of a note, newest first.
pub async fn note_history(pool: &PgPool, entry_id: i64) -> Result<Vec<NoteRevision>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT r.revision, r.body_md, r.body_html, r.html_version,
                  r.edited_at AS "edited_at: DateTime<Utc>", u.id, u.display_name
         FROM note_revisions r JOIN users u ON u.id = r.edited_by
         WHERE r.entry_id = $1 ORDER BY r.revision DESC"#,
        entry_id
    )
    .fetch_all(pool)
    .await?;
    if rows.is_empty() {
        return Err(AppError::NotFound(format!("note {entry_id}")));
    }
    let html = markdown::complete(
        rows.iter()
            .map(|r| {
                (
                    r.body_md.clone(),
                    markdown::stored(r.body_html.clone(), r.html_version),
                )
            })
            .collect(),
    )
    .await?;
    Ok(rows
        .into_iter()
        .zip(html)
        .map(|(r, body_html)| NoteRevision {
            revision: r.revision,
            body_html,
            edited_by: Person {
                id: r.id,
                name: r.display_name,
            },
            edited_at: r.edited_at,
        })
        .collect())
}

async fn insert_revision(
    conn: &mut PgConnection,
    entry_id: i64,
    revision: i32,
    body: &Rendered,
    editor_id: i64,
) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO note_revisions (entry_id, revision, body_md, body_html, html_version, edited_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
        entry_id,
        revision,
        body.source,
        body.html,
        RENDERER_VERSION,
        editor_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Rewrites up to `batch` stored renderings made by an older renderer (or none): note
/// versions and incident summaries. Returns how many it rewrote; run until 0. Safe on
/// several replicas at once (each row is rendered from its own unchanged source).
pub async fn upgrade_renderings(pool: &PgPool, batch: i64) -> Result<u64, AppError> {
    let notes = sqlx::query!(
        "SELECT entry_id, revision, body_md FROM note_revisions
         WHERE html_version IS DISTINCT FROM $1 LIMIT $2",
        RENDERER_VERSION,
        batch
    )
    .fetch_all(pool)
    .await?;
    let summaries = sqlx::query!(
        "SELECT id, summary_md FROM incidents
         WHERE summary_html_version IS DISTINCT FROM $1 LIMIT $2",
        RENDERER_VERSION,
        batch
    )
    .fetch_all(pool)
    .await?;
    let note_html =
        markdown::render_texts(notes.iter().map(|n| n.body_md.clone()).collect()).await?;
    let summary_html =
        markdown::render_texts(summaries.iter().map(|s| s.summary_md.clone()).collect()).await?;
    let mut done = 0;
    for (note, html) in notes.iter().zip(note_html) {
        done += sqlx::query!(
            "UPDATE note_revisions SET body_html = $3, html_version = $4
             WHERE entry_id = $1 AND revision = $2",
            note.entry_id,
            note.revision,
            html,
            RENDERER_VERSION
        )
        .execute(pool)
        .await?
        .rows_affected();
    }
    for (summary, html) in summaries.iter().zip(summary_html) {
        done += sqlx::query!(
            "UPDATE incidents SET summary_html = $2, summary_html_version = $3 WHERE id = $1",
            summary.id,
            html,
            RENDERER_VERSION
        )
        .execute(pool)
        .await?
        .rows_affected();
    }
    Ok(done)
}

/// Records that a viewer opened the room (one row per browser connection), unless its
/// sign-in already has `max_per_sign_in` live streams open on any replica: then `false`
/// and nothing is recorded. Concurrent opens of one sign-in are counted one at a time.
pub async fn join_room(
    pool: &PgPool,
    connection_id: Uuid,
    incident_id: i64,
    user_id: i64,
    sign_in: Uuid,
    max_per_sign_in: i64,
) -> Result<bool, AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))",
        sign_in.to_string()
    )
    .execute(&mut *tx)
    .await?;
    let open = sqlx::query_scalar!(
        r#"SELECT count(*) AS "open!" FROM room_presence
           WHERE sign_in_id = $1 AND last_seen > now() - make_interval(secs => $2)"#,
        sign_in,
        PRESENCE_TTL_SECONDS
    )
    .fetch_one(&mut *tx)
    .await?;
    if open >= max_per_sign_in {
        return Ok(false);
    }
    sqlx::query!(
        "INSERT INTO room_presence (connection_id, incident_id, user_id, sign_in_id)
         VALUES ($1, $2, $3, $4)",
        connection_id,
        incident_id,
        user_id,
        sign_in
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Removes viewers that left.
pub async fn leave_room(pool: &PgPool, connection_ids: &[Uuid]) -> Result<(), AppError> {
    sqlx::query!(
        "DELETE FROM room_presence WHERE connection_id = ANY($1)",
        connection_ids
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Keeps this replica's viewers present and forgets viewers whose replica stopped
/// sending heartbeats.
pub async fn refresh_presence(pool: &PgPool, connection_ids: &[Uuid]) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE room_presence SET last_seen = now() WHERE connection_id = ANY($1)",
        connection_ids
    )
    .execute(pool)
    .await?;
    sqlx::query!(
        "DELETE FROM room_presence WHERE last_seen < now() - make_interval(secs => $1)",
        PRESENCE_TTL_SECONDS
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The people looking at an incident now, by name.
pub async fn viewers(pool: &PgPool, incident_id: i64) -> Result<Vec<Person>, AppError> {
    Ok(sqlx::query_as!(
        Person,
        "SELECT DISTINCT u.id, u.display_name AS name
         FROM room_presence p JOIN users u ON u.id = p.user_id
         WHERE p.incident_id = $1 AND p.last_seen > now() - make_interval(secs => $2)
         ORDER BY name, id",
        incident_id,
        PRESENCE_TTL_SECONDS
    )
    .fetch_all(pool)
    .await?)
}
