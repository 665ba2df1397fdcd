//! Scheduled maintenance: announcing a window, changing it, and moving it to in progress and completed
//! by itself at its times (a function of `now`, run by every replica; each due window is
//! claimed with `FOR UPDATE SKIP LOCKED`, so it moves once). Each move is a public update
//! fanned out to subscribers in the caller's transaction.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::auth::model::Person;
use crate::error::AppError;
use crate::jobs::Jobs;
use crate::status::model::{MaintenanceStatus, PublicMessage, PublicTitle};
use crate::status::store::updates::publish_maintenance_update;

/// What Warroom tells the public when a window starts by itself.
pub const STARTED_MESSAGE: &str =
    "Scheduled maintenance is now in progress. We will provide updates as necessary.";
/// What Warroom tells the public when a window ends by itself.
pub const COMPLETED_MESSAGE: &str = "The scheduled maintenance has been completed.";

/// A maintenance window to announce.
pub struct NewMaintenance {
    pub title: PublicTitle,
    pub message: PublicMessage,
    pub scheduled_for: DateTime<Utc>,
    pub scheduled_until: DateTime<Utc>,
    pub component_ids: Vec<i64>,
}

/// A maintenance as admins list it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MaintenanceRow {
    pub id: i64,
    pub public_id: String,
    pub title: String,
    pub status: MaintenanceStatus,
    pub scheduled_for: DateTime<Utc>,
    pub scheduled_until: DateTime<Utc>,
    pub components: Vec<String>,
}

/// Announces a maintenance window. Its first public update carries `message`.
#[tracing::instrument(skip_all)]
pub async fn schedule(
    tx: &mut PgConnection,
    jobs: &Jobs,
    actor: &Person,
    new: NewMaintenance,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    check_window(new.scheduled_for, new.scheduled_until, now)?;
    if new.component_ids.is_empty() {
        return Err(AppError::invalid(
            "components",
            "Choose the components the maintenance affects.",
        ));
    }
    let known = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM status_components WHERE id = ANY($1)"#,
        &new.component_ids
    )
    .fetch_one(&mut *tx)
    .await?;
    if known as usize != new.component_ids.len() {
        return Err(AppError::invalid(
            "components",
            "There is no such component.",
        ));
    }
    let id = sqlx::query_scalar!(
        "INSERT INTO maintenances (title, scheduled_for, scheduled_until, created_by)
         VALUES ($1, $2, $3, $4) RETURNING id",
        new.title.as_str(),
        new.scheduled_for as _,
        new.scheduled_until as _,
        actor.id
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO maintenance_components (maintenance_id, component_id)
         SELECT $1, unnest($2::bigint[])",
        id,
        &new.component_ids
    )
    .execute(&mut *tx)
    .await?;
    publish_maintenance_update(
        tx,
        jobs,
        id,
        MaintenanceStatus::Scheduled.as_str(),
        new.message.as_str(),
        Some(actor.id),
    )
    .await?;
    Ok(id)
}

/// A window must end after it starts, and in the future.
fn check_window(
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if ends <= starts {
        return Err(AppError::invalid(
            "scheduled_until",
            "The window must end after it starts.",
        ));
    }
    if ends <= now {
        return Err(AppError::invalid(
            "scheduled_until",
            "This window is already over: pick an end in the future.",
        ));
    }
    Ok(())
}

/// A window's times in the words of a public update: "2026-12-01 02:00 UTC".
fn minute(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// New times for a window that has not completed (see [`reschedule`]).
pub struct NewWindow {
    /// `None` keeps the start.
    pub starts: Option<DateTime<Utc>>,
    pub ends: DateTime<Utc>,
    /// What to tell the public; `None`: a sentence giving the new times.
    pub message: Option<PublicMessage>,
}

/// Moves a window that has not completed: a scheduled one may move both ends, one in
/// progress only its end (extended or cut short, but not into the past: "Complete now" is
/// for that). Tells the public and the subscribers.
#[tracing::instrument(skip_all, fields(maintenance.id = id))]
pub async fn reschedule(
    tx: &mut PgConnection,
    jobs: &Jobs,
    actor: &Person,
    id: i64,
    new: NewWindow,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let NewWindow {
        starts,
        ends,
        message,
    } = new;
    let row = sqlx::query!(
        r#"SELECT status, scheduled_for AS "scheduled_for: DateTime<Utc>",
                  scheduled_until AS "scheduled_until: DateTime<Utc>"
           FROM maintenances WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("maintenance {id}")))?;
    let status = MaintenanceStatus::parse(&row.status)?;
    let starts = starts.unwrap_or(row.scheduled_for);
    match status {
        MaintenanceStatus::Completed => {
            return Err(AppError::Conflict(
                "This maintenance is already completed: announce a new window instead.".into(),
            ))
        }
        MaintenanceStatus::InProgress if starts != row.scheduled_for => {
            return Err(AppError::invalid(
                "scheduled_for",
                "This maintenance has already started: only its end can change.",
            ))
        }
        _ => {}
    }
    check_window(starts, ends, now)?;
    if starts == row.scheduled_for && ends == row.scheduled_until {
        return Err(AppError::invalid(
            "scheduled_until",
            "That is the window it already has: change the start or the end.",
        ));
    }
    sqlx::query!(
        "UPDATE maintenances SET scheduled_for = $2, scheduled_until = $3, updated_at = $4
         WHERE id = $1",
        id,
        starts as _,
        ends as _,
        now as _
    )
    .execute(&mut *tx)
    .await?;
    let text = match (&message, status) {
        (Some(message), _) => message.as_str().to_string(),
        (None, MaintenanceStatus::InProgress) => format!(
            "The maintenance is now expected to end at {}.",
            minute(ends)
        ),
        (None, _) => format!(
            "The maintenance has been rescheduled: it now runs from {} to {}.",
            minute(starts),
            minute(ends)
        ),
    };
    publish_maintenance_update(tx, jobs, id, status.as_str(), &text, Some(actor.id)).await?;
    Ok(())
}

/// Maintenance windows, the latest scheduled first.
pub async fn list(pool: &PgPool) -> Result<Vec<MaintenanceRow>, AppError> {
    sqlx::query!(
        r#"SELECT m.id, m.public_id, m.title, m.status,
                  m.scheduled_for AS "scheduled_for: DateTime<Utc>",
                  m.scheduled_until AS "scheduled_until: DateTime<Utc>",
                  COALESCE(array_agg(c.name ORDER BY c.name) FILTER (WHERE c.id IS NOT NULL), '{}') AS "components!"
           FROM maintenances m
           LEFT JOIN maintenance_components mc ON mc.maintenance_id = m.id
           LEFT JOIN status_components c ON c.id = mc.component_id
           GROUP BY m.id ORDER BY m.scheduled_for DESC LIMIT 200"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| {
        Ok(MaintenanceRow {
            id: row.id,
            public_id: row.public_id,
            title: row.title,
            status: MaintenanceStatus::parse(&row.status)?,
            scheduled_for: row.scheduled_for,
            scheduled_until: row.scheduled_until,
            components: row.components,
        })
    })
    .collect()
}

/// Moves every window that is due at `now`: scheduled → in progress → completed (a
/// window whose whole span passed while nobody looked goes straight to completed, with
/// both updates). Returns the (maintenance id, new status) moves made.
#[tracing::instrument(skip_all)]
pub async fn advance(
    tx: &mut PgConnection,
    jobs: &Jobs,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, MaintenanceStatus)>, AppError> {
    let due = sqlx::query!(
        r#"SELECT id, status, scheduled_for AS "scheduled_for: DateTime<Utc>",
                  scheduled_until AS "scheduled_until: DateTime<Utc>"
           FROM maintenances
           WHERE (status = 'scheduled' AND scheduled_for <= $1)
              OR (status = 'in_progress' AND scheduled_until <= $1)
           ORDER BY scheduled_for
           FOR UPDATE SKIP LOCKED"#,
        now as _
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut moves = Vec::new();
    for row in due {
        let mut status = MaintenanceStatus::parse(&row.status)?;
        let target = status.due(row.scheduled_for, row.scheduled_until, now);
        while status != target {
            status = match status {
                MaintenanceStatus::Scheduled => MaintenanceStatus::InProgress,
                _ => MaintenanceStatus::Completed,
            };
            move_to(tx, jobs, row.id, status, None, None, now).await?;
            moves.push((row.id, status));
        }
    }
    Ok(moves)
}

/// Ends a window now (early, or before it started: then it is called off), with an
/// optional message of the admin's.
#[tracing::instrument(skip_all, fields(maintenance.id = id))]
pub async fn complete_now(
    tx: &mut PgConnection,
    jobs: &Jobs,
    actor: &Person,
    id: i64,
    message: Option<PublicMessage>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let status = sqlx::query_scalar!(
        "SELECT status FROM maintenances WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("maintenance {id}")))?;
    if MaintenanceStatus::parse(&status)? == MaintenanceStatus::Completed {
        return Err(AppError::Conflict(
            "This maintenance is already completed.".into(),
        ));
    }
    let text = message
        .as_ref()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| COMPLETED_MESSAGE.to_string());
    move_to(
        tx,
        jobs,
        id,
        MaintenanceStatus::Completed,
        Some(actor.id),
        Some(&text),
        now,
    )
    .await?;
    Ok(())
}

async fn move_to(
    tx: &mut sqlx::PgConnection,
    jobs: &Jobs,
    id: i64,
    status: MaintenanceStatus,
    author_id: Option<i64>,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE maintenances SET status = $2,
                started_at = CASE WHEN $2 = 'in_progress' THEN $3 ELSE started_at END,
                completed_at = CASE WHEN $2 = 'completed' THEN $3 ELSE completed_at END,
                updated_at = $3
         WHERE id = $1",
        id,
        status.as_str(),
        now as _
    )
    .execute(&mut *tx)
    .await?;
    let text = message.unwrap_or(match status {
        MaintenanceStatus::InProgress => STARTED_MESSAGE,
        _ => COMPLETED_MESSAGE,
    });
    publish_maintenance_update(tx, jobs, id, status.as_str(), text, author_id).await?;
    Ok(())
}
