//! Server functions of the incident room: authorise, parse, call the store, return.

use leptos::prelude::*;

use super::model::{IncidentListPage, NoteRevision, RoleStint, RoomData, Severity};
use crate::error::AppError;
use crate::timeline::model::{TimelineEntry, TimelinePage};

#[cfg(feature = "ssr")]
use {
    super::model::{
        IncidentTitle, MarkdownText, NoteKind, Role, Status, INCIDENTS_PER_PAGE, TIMELINE_PAGE_SIZE,
    },
    super::store,
    crate::auth::api::Caller,
    crate::auth::model::Capability,
    crate::error::respond,
};

/// Incidents for the list page. `status` is empty (all), `open`, or one status;
/// `severity` is empty or a severity key; `q` searches titles; `page` counts from 1.
#[server(endpoint = "list_incidents")]
pub async fn list_incidents(
    status: String,
    severity: String,
    q: String,
    #[server(default)] page: i64,
) -> Result<IncidentListPage, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::ReadIncidents).await?;
            let statuses = match status.trim() {
                "" | "all" => None,
                "open" => Some(Status::ALL.into_iter().filter(|s| s.is_open()).collect()),
                one => Some(vec![Status::parse(one)?]),
            };
            let filter = store::ListFilter {
                statuses,
                severity_key: Some(severity.trim().to_string()).filter(|s| !s.is_empty()),
                title_contains: Some(q.trim().to_string()).filter(|s| !s.is_empty()),
                page: page.max(1),
                per_page: INCIDENTS_PER_PAGE,
            };
            store::list(&caller.state.pool, &filter).await
        }
        .await,
    )
}

/// The configured severities, most severe first.
#[server(endpoint = "list_severities")]
pub async fn list_severities() -> Result<Vec<Severity>, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::ReadIncidents).await?;
            store::severities(&caller.state.pool).await
        }
        .await,
    )
}

/// The severities to choose from when declaring; refused to those who cannot declare,
/// so the declare page itself answers 403 to them.
#[server(endpoint = "declare_choices")]
pub async fn declare_choices() -> Result<Vec<Severity>, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::WorkIncidents).await?;
            store::severities(&caller.state.pool).await
        }
        .await,
    )
}

/// Declares an incident and opens its room.
#[server(endpoint = "declare_incident")]
pub async fn declare_incident(
    title: String,
    summary: String,
    severity: String,
) -> Result<i64, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::WorkIncidents).await?;
            let title = IncidentTitle::parse(&title)?;
            let summary = MarkdownText::parse_optional("summary", &summary)?;
            let summary = crate::markdown::render_new("summary", summary.as_str()).await?;
            let mut tx = caller.begin().await?;
            let id = store::declare(&mut tx, &caller.person, &title, &summary, &severity).await?;
            tx.commit().await?;
            leptos_axum::redirect(&format!("/incidents/{id}"));
            Ok(id)
        }
        .await,
    )
}

/// Everything the incident room shows on first render.
#[server(endpoint = "incident_room")]
pub async fn get_incident_room(id: i64) -> Result<RoomData, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::ReadIncidents).await?;
            let pool = &caller.state.pool;
            let mut conn = pool.acquire().await?;
            let incident = store::summary(&mut conn, id).await?;
            let timeline =
                crate::timeline::store::timeline_page(&mut conn, id, None, TIMELINE_PAGE_SIZE)
                    .await?;
            let pinned = crate::timeline::store::pinned_entries(&mut conn, id).await?;
            drop(conn);
            Ok(RoomData {
                bridge_url: caller
                    .state
                    .settings
                    .bridge_url(incident.id, &incident.title),
                incident,
                timeline,
                pinned,
                severities: store::severities(pool).await?,
                people: crate::auth::store::responders(pool).await?,
                can_work: caller.role.can(Capability::WorkIncidents),
                me: caller.person,
                now: chrono::Utc::now(),
            })
        }
        .await,
    )
}

/// Moves the incident to another status (see `Status::check_transition`).
#[server(endpoint = "set_status")]
pub async fn set_status(incident_id: i64, status: String) -> Result<i64, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::WorkIncidents).await?;
            let to = Status::parse(&status)?;
            let mut tx = caller.begin().await?;
            let changed =
                store::change_status(&mut tx, &caller.person, incident_id, to, chrono::Utc::now())
                    .await?;
            tx.commit().await?;
            Ok(changed)
        }
        .await,
    )
}

/// Changes the severity.
#[server(endpoint = "set_severity")]
pub async fn set_severity(incident_id: i64, severity: String) -> Result<i64, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::WorkIncidents).await?;
            let mut tx = caller.begin().await?;
            let changed =
                store::change_severity(&mut tx, &caller.person, incident_id, &severity).await?;
            tx.commit().await?;
            Ok(changed)
        }
        .await,
    )
}

/// Gives a role to someone; for single-holder roles this hands it off. A `user_id` of 0
/// means "me" (claiming the role).
#[server(endpoint = "assign_role")]
pub async fn assign_role(incident_id: i64, role: String, user_id: i64) -> Result<i64, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::WorkIncidents).await?;
            let role = Role::parse(&role)?;
            let assignee = if user_id == 0 {
                caller.person.id
            } else {
                user_id
            };
            let mut tx = caller.begin().await?;
            let changed = store::assign_role(
                &mut tx,
                &caller.person,
                incident_id,
                role,
                assignee,
                chrono::Utc::now(),
            )
            .await?;
            tx.commit().await?;
            Ok(changed)
        }
        .await,
    )
}

/// Relieves someone of a role (stepping down, or a fixer leaving).
#[server(endpoint = "end_role")]
pub async fn end_role(incident_id: i64, role: String, user_id: i64) -> Result<i64, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::WorkIncidents).await?;
            let role = Role::parse(&role)?;
            let mut tx = caller.begin().await?;
            let changed = store::end_role(
                &mut tx,
                &caller.person,
                incident_id,
                role,
                user_id,
                chrono::Utc::now(),
            )
            .await?;
            tx.commit().await?;
            Ok(changed)
        }
        .await,
    )
}

/// Who held which role, when.
#[server(endpoint = "role_history")]
pub async fn get_role_history(incident_id: i64) -> Result<Vec<RoleStint>, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::ReadIncidents).await?;
            store::role_history(&caller.state.pool, incident_id).await
        }
        .await,
    )
}

/// Adds a note (`kind` = note) or a decision (`kind` = decision) to the timeline.
#[server(endpoint = "add_note")]
pub async fn add_note(incident_id: i64, kind: String, body: String) -> Result<i64, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::WorkIncidents).await?;
            let kind = NoteKind::parse(&kind)?;
            let body = MarkdownText::parse("body", &body)?;
            let body = crate::markdown::render_new("body", body.as_str()).await?;
            let mut tx = caller.begin().await?;
            let changed =
                store::add_note(&mut tx, &caller.person, incident_id, kind, &body).await?;
            tx.commit().await?;
            Ok(changed)
        }
        .await,
    )
}

/// Replaces a note's text, keeping the earlier versions.
#[server(endpoint = "edit_note")]
pub async fn edit_note(entry_id: i64, body: String) -> Result<i64, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::WorkIncidents).await?;
            let body = MarkdownText::parse("body", &body)?;
            let body = crate::markdown::render_new("body", body.as_str()).await?;
            let mut tx = caller.begin().await?;
            let changed = store::edit_note(&mut tx, &caller.person, entry_id, &body).await?;
            tx.commit().await?;
            Ok(changed)
        }
        .await,
    )
}

/// Pins (`pinned` = true) or unpins a note or decision.
#[server(endpoint = "set_pin")]
pub async fn set_pin(entry_id: i64, pinned: bool) -> Result<i64, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::WorkIncidents).await?;
            let mut tx = caller.begin().await?;
            let changed = store::set_pin(&mut tx, &caller.person, entry_id, pinned).await?;
            tx.commit().await?;
            Ok(changed)
        }
        .await,
    )
}

/// Every version of a note, newest first.
#[server(endpoint = "note_history")]
pub async fn get_note_history(entry_id: i64) -> Result<Vec<NoteRevision>, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::ReadIncidents).await?;
            store::note_history(&caller.state.pool, entry_id).await
        }
        .await,
    )
}

/// The page of the timeline before entry `before` (older entries, for "show older").
#[server(endpoint = "timeline_page")]
pub async fn get_timeline_page(incident_id: i64, before: i64) -> Result<TimelinePage, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::ReadIncidents).await?;
            let mut conn = caller.state.pool.acquire().await?;
            crate::timeline::store::latest_entry_id(&mut conn, incident_id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("incident {incident_id}")))?;
            crate::timeline::store::timeline_page(
                &mut conn,
                incident_id,
                Some(before),
                TIMELINE_PAGE_SIZE,
            )
            .await
        }
        .await,
    )
}

/// The notes and decisions pinned now.
#[server(endpoint = "pinned_entries")]
pub async fn get_pinned_entries(incident_id: i64) -> Result<Vec<TimelineEntry>, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::ReadIncidents).await?;
            let mut conn = caller.state.pool.acquire().await?;
            crate::timeline::store::pinned_entries(&mut conn, incident_id).await
        }
        .await,
    )
}
