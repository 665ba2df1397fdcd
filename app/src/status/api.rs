//! Server functions of the status page's internal side: the public side of an incident
//! (impacts, privacy, public updates) in its room, and scheduled maintenance for admins.

use leptos::prelude::*;

use super::model::PublicSide;
#[cfg(feature = "ssr")]
use super::store::maintenance::MaintenanceRow as Row;
use crate::error::AppError;

#[cfg(feature = "ssr")]
use {
    super::model::{Impact, PublicMessage, PublicStatus, PublicTitle},
    super::store::{maintenance, updates},
    crate::auth::api::Caller,
    crate::auth::model::Capability,
    crate::error::respond,
    chrono::{DateTime, NaiveDateTime, Utc},
};

/// A maintenance window as the admin page lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MaintenanceListItem {
    pub id: i64,
    pub public_id: String,
    pub title: String,
    pub status: super::model::MaintenanceStatus,
    pub scheduled_for: chrono::DateTime<chrono::Utc>,
    pub scheduled_until: chrono::DateTime<chrono::Utc>,
    pub components: Vec<String>,
}

#[cfg(feature = "ssr")]
impl From<Row> for MaintenanceListItem {
    fn from(row: Row) -> Self {
        MaintenanceListItem {
            id: row.id,
            public_id: row.public_id,
            title: row.title,
            status: row.status,
            scheduled_for: row.scheduled_for,
            scheduled_until: row.scheduled_until,
            components: row.components,
        }
    }
}

/// The public side of an incident, for its room.
#[server(endpoint = "incident_public_side")]
pub async fn incident_public_side(incident_id: i64) -> Result<PublicSide, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::ReadIncidents).await?;
            updates::public_side(&caller.state.pool, incident_id, caller.person.id).await
        }
        .await,
    )
}

/// Posts a public update (commander or communications liaison only).
#[server(endpoint = "post_public_update")]
pub async fn post_public_update(
    incident_id: i64,
    public_title: String,
    status: String,
    message: String,
) -> Result<i64, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::WorkIncidents).await?;
            let title = match public_title.trim() {
                "" => None,
                title => Some(PublicTitle::parse(title)?),
            };
            let update = updates::NewPublicUpdate {
                title,
                status: PublicStatus::parse(&status)?,
                message: PublicMessage::parse(&message)?,
            };
            let mut tx = caller.begin().await?;
            let changed =
                updates::post_update(&mut tx, &caller.person, incident_id, update).await?;
            tx.commit().await?;
            Ok(changed)
        }
        .await,
    )
}

/// Sets what an incident does to a component; `impact` empty: no longer affected.
#[server(endpoint = "set_component_impact")]
pub async fn set_component_impact(
    incident_id: i64,
    component_id: i64,
    impact: String,
) -> Result<i64, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::WorkIncidents).await?;
            let impact = match impact.trim() {
                "" | "none" => None,
                value => Some(Impact::parse(value)?),
            };
            let mut tx = caller.begin().await?;
            let changed =
                updates::set_impact(&mut tx, &caller.person, incident_id, component_id, impact)
                    .await?;
            tx.commit().await?;
            Ok(changed)
        }
        .await,
    )
}

/// Keeps an incident off the status page (`private` true) or allows it again.
#[server(endpoint = "set_incident_private")]
pub async fn set_incident_private(incident_id: i64, private: bool) -> Result<i64, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::WorkIncidents).await?;
            let mut tx = caller.begin().await?;
            let changed =
                updates::set_private(&mut tx, &caller.person, incident_id, private).await?;
            tx.commit().await?;
            Ok(changed)
        }
        .await,
    )
}

/// Maintenance windows, latest first.
#[server(endpoint = "list_maintenances")]
pub async fn list_maintenances() -> Result<Vec<MaintenanceListItem>, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            Ok(maintenance::list(&caller.state.pool)
                .await?
                .into_iter()
                .map(MaintenanceListItem::from)
                .collect())
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn parse_utc(field: &str, value: &str) -> Result<DateTime<Utc>, AppError> {
    let value = value.trim();
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M").map(|t| t.and_utc()))
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S").map(|t| t.and_utc()))
        .map_err(|_| AppError::invalid(field, "Give a date and time (UTC), e.g. 2026-12-01T02:00."))
}

/// Announces a maintenance window. Times are UTC (`YYYY-MM-DDTHH:MM` or RFC 3339);
/// `component_ids` are the components it affects.
#[server(endpoint = "schedule_maintenance")]
pub async fn schedule_maintenance(
    title: String,
    message: String,
    starts_at: String,
    ends_at: String,
    #[server(default)] component_ids: Vec<i64>,
) -> Result<i64, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let new = maintenance::NewMaintenance {
                title: PublicTitle::parse(&title).map_err(|_| {
                    AppError::invalid(
                        "title",
                        "Give the maintenance a title (1 to 200 characters).",
                    )
                })?,
                message: PublicMessage::parse(&message)?,
                scheduled_for: parse_utc("starts_at", &starts_at)?,
                scheduled_until: parse_utc("ends_at", &ends_at)?,
                component_ids,
            };
            let mut tx = caller.begin().await?;
            let id =
                maintenance::schedule(&mut tx, &caller.state.jobs, &caller.person, new, Utc::now())
                    .await?;
            tx.commit().await?;
            Ok(id)
        }
        .await,
    )
}

/// Moves a maintenance window that has not completed (times as for
/// `schedule_maintenance`). An empty `starts_at` keeps the start, and one in progress can
/// only move its end. An empty `message` posts a sentence saying what changed.
#[server(endpoint = "reschedule_maintenance")]
pub async fn reschedule_maintenance(
    id: i64,
    #[server(default)] starts_at: String,
    ends_at: String,
    #[server(default)] message: String,
) -> Result<(), AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let new = maintenance::NewWindow {
                starts: match starts_at.trim() {
                    "" => None,
                    text => Some(parse_utc("starts_at", text)?),
                },
                ends: parse_utc("ends_at", &ends_at)?,
                message: optional_message(&message)?,
            };
            let mut tx = caller.begin().await?;
            maintenance::reschedule(
                &mut tx,
                &caller.state.jobs,
                &caller.person,
                id,
                new,
                Utc::now(),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }
        .await,
    )
}

/// An admin's optional message to the public: empty means Warroom's own sentence.
#[cfg(feature = "ssr")]
fn optional_message(text: &str) -> Result<Option<PublicMessage>, AppError> {
    match text.trim() {
        "" => Ok(None),
        text => PublicMessage::parse(text).map(Some),
    }
}

/// Ends a maintenance window now (or calls it off before it starts).
#[server(endpoint = "complete_maintenance")]
pub async fn complete_maintenance(id: i64, message: String) -> Result<(), AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let message = optional_message(&message)?;
            let mut tx = caller.begin().await?;
            maintenance::complete_now(
                &mut tx,
                &caller.state.jobs,
                &caller.person,
                id,
                message,
                Utc::now(),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }
        .await,
    )
}
