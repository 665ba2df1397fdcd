//! The public side of an incident: its public title, whether it is kept private, which
//! components it affects and how, and its public updates. Every change takes the
//! incident's lock and writes its timeline entry in the same transaction; a public update
//! also enqueues its subscriber fan-out there, so it is never published undelivered.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::auth::model::Person;
use crate::error::AppError;
use crate::incidents::store::lock_incident;
use crate::jobs::Jobs;
use crate::markdown;
use crate::status::model::{
    ComponentChoice, Impact, PublicMessage, PublicSide, PublicStatus, PublicTitle,
    RoomPublicUpdate, StatusEvent,
};
use crate::timeline::store::append_entry;

/// Whether `person` speaks for the incident publicly: its commander or communications
/// liaison right now, and allowed to publish by an admin.
pub async fn may_speak(
    conn: &mut PgConnection,
    incident_id: i64,
    person_id: i64,
) -> Result<bool, AppError> {
    Ok(
        holds_speaking_role(&mut *conn, incident_id, person_id).await?
            && crate::auth::store::may_publish(conn, person_id).await?,
    )
}

/// Whether `person` is the incident's commander or communications liaison right now.
async fn holds_speaking_role(
    conn: &mut PgConnection,
    incident_id: i64,
    person_id: i64,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (
               SELECT 1 FROM role_assignments
               WHERE incident_id = $1 AND user_id = $2 AND ended_at IS NULL
                 AND role IN ('commander', 'liaison')) AS "speaks!""#,
        incident_id,
        person_id
    )
    .fetch_one(conn)
    .await?)
}

async fn require_speaker(
    conn: &mut PgConnection,
    incident_id: i64,
    actor: &Person,
) -> Result<(), AppError> {
    if !crate::auth::store::may_publish(&mut *conn, actor.id).await? {
        return Err(AppError::Conflict(NOT_ALLOWED_TO_PUBLISH.into()));
    }
    if holds_speaking_role(conn, incident_id, actor.id).await? {
        Ok(())
    } else {
        Err(AppError::Conflict(
            "Only the incident commander or the communications liaison speaks for this incident publicly: take the liaison role first.".into(),
        ))
    }
}

/// Why someone without the grant cannot publish, in the words the room shows too.
pub const NOT_ALLOWED_TO_PUBLISH: &str =
    "You may not publish to the status page: an admin allows that on Admin → People.";

/// The public side of one incident, for its room.
pub async fn public_side(
    pool: &PgPool,
    incident_id: i64,
    viewer_id: i64,
) -> Result<PublicSide, AppError> {
    let mut conn = pool.acquire().await?;
    let incident = sqlx::query!(
        "SELECT public_id, public_title, private FROM incidents WHERE id = $1",
        incident_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("incident {incident_id}")))?;
    let updates = sqlx::query!(
        r#"SELECT p.id, p.status, p.body_md, u.display_name AS "author?",
                  p.created_at AS "created_at: DateTime<Utc>"
           FROM public_updates p LEFT JOIN users u ON u.id = p.author_id
           WHERE p.incident_id = $1 ORDER BY p.id DESC"#,
        incident_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(RoomPublicUpdate {
            id: row.id,
            status: PublicStatus::parse(&row.status)?,
            body_md: row.body_md,
            author: row.author,
            created_at: row.created_at,
        })
    })
    .collect::<Result<Vec<_>, AppError>>()?;
    let components = sqlx::query!(
        r#"SELECT c.id, c.name, g.name AS "group_name?", i.impact AS "impact?"
           FROM status_components c
           LEFT JOIN status_component_groups g ON g.id = c.group_id
           LEFT JOIN incident_component_impacts i
                  ON i.component_id = c.id AND i.incident_id = $1 AND i.ended_at IS NULL
           ORDER BY COALESCE(g.position, c.position), g.id NULLS FIRST, c.position, c.name"#,
        incident_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(ComponentChoice {
            id: row.id,
            name: row.name,
            group: row.group_name,
            impact: row.impact.as_deref().map(Impact::parse).transpose()?,
        })
    })
    .collect::<Result<Vec<_>, AppError>>()?;
    let can_speak = may_speak(&mut conn, incident_id, viewer_id).await?;
    let may_publish = crate::auth::store::may_publish(&mut conn, viewer_id).await?;
    Ok(PublicSide {
        public_id: incident.public_id,
        public_title: incident.public_title,
        private: incident.private,
        updates,
        components,
        can_speak,
        may_publish,
    })
}

/// Sets what the incident does to one component (`None`: no longer affected).
#[tracing::instrument(skip_all, fields(incident.id = incident_id, component.id = component_id))]
pub async fn set_impact(
    tx: &mut PgConnection,
    actor: &Person,
    incident_id: i64,
    component_id: i64,
    impact: Option<Impact>,
) -> Result<i64, AppError> {
    lock_incident(tx, incident_id).await?;
    require_speaker(tx, incident_id, actor).await?;
    let component = sqlx::query_scalar!(
        "SELECT name FROM status_components WHERE id = $1",
        component_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::invalid("component", "There is no such component."))?;
    let current = sqlx::query_scalar!(
        "UPDATE incident_component_impacts SET ended_at = clock_timestamp()
         WHERE incident_id = $1 AND component_id = $2 AND ended_at IS NULL
         RETURNING impact",
        incident_id,
        component_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .map(|impact| Impact::parse(&impact))
    .transpose()?;
    if current == impact {
        return Err(AppError::Conflict(match impact {
            Some(impact) => format!("{component} is already marked {}.", impact.label()),
            None => format!("{component} is not affected by this incident."),
        }));
    }
    if let Some(impact) = impact {
        sqlx::query!(
            "INSERT INTO incident_component_impacts (incident_id, component_id, impact, set_by)
             VALUES ($1, $2, $3, $4)",
            incident_id,
            component_id,
            impact.as_str(),
            actor.id
        )
        .execute(&mut *tx)
        .await?;
    }
    let event = StatusEvent::ImpactChanged {
        component,
        from: current,
        to: impact,
    };
    let entry_id = append_entry(tx, incident_id, actor.id, &event.into()).await?;
    Ok(entry_id)
}

/// Keeps an incident off the status page, or allows it again. Once public updates went
/// out it cannot be hidden any more: the public already read them.
#[tracing::instrument(skip_all, fields(incident.id = incident_id))]
pub async fn set_private(
    tx: &mut PgConnection,
    actor: &Person,
    incident_id: i64,
    private: bool,
) -> Result<i64, AppError> {
    lock_incident(tx, incident_id).await?;
    let row = sqlx::query!(
        r#"SELECT private, EXISTS (SELECT 1 FROM public_updates WHERE incident_id = $1) AS "published!"
           FROM incidents WHERE id = $1"#,
        incident_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if row.private == private {
        return Err(AppError::Conflict(if private {
            "The incident is already private.".into()
        } else {
            "The incident is already allowed on the status page.".into()
        }));
    }
    if private && row.published {
        return Err(AppError::Conflict(
            "Public updates about this incident are already out: it cannot be made private. Post a resolving update instead.".into(),
        ));
    }
    sqlx::query!(
        "UPDATE incidents SET private = $2, updated_at = now() WHERE id = $1",
        incident_id,
        private
    )
    .execute(&mut *tx)
    .await?;
    let entry_id = append_entry(
        tx,
        incident_id,
        actor.id,
        &StatusEvent::VisibilityChanged { private }.into(),
    )
    .await?;
    Ok(entry_id)
}

/// A public update to post.
pub struct NewPublicUpdate {
    /// Required for the first update; a later one may retitle the incident.
    pub title: Option<PublicTitle>,
    pub status: PublicStatus,
    pub message: PublicMessage,
}

/// Posts a public update: it goes on the status page and on the timeline, whose outbox
/// takes it to every subscriber (the status-page subscription of `server::jobs`). A resolving update ends the incident's
/// component impacts. Returns the update's id.
#[tracing::instrument(skip_all, fields(incident.id = incident_id))]
pub async fn post_update(
    tx: &mut PgConnection,
    actor: &Person,
    incident_id: i64,
    update: NewPublicUpdate,
) -> Result<i64, AppError> {
    lock_incident(tx, incident_id).await?;
    require_speaker(tx, incident_id, actor).await?;
    let incident = sqlx::query!(
        "SELECT public_title, private FROM incidents WHERE id = $1",
        incident_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if incident.private {
        return Err(AppError::Conflict(
            "This incident is kept private: allow it on the status page first.".into(),
        ));
    }
    let title = match (&update.title, incident.public_title) {
        (Some(title), _) => title.as_str().to_string(),
        (None, Some(title)) => title,
        (None, None) => {
            return Err(AppError::invalid(
                "public_title",
                "The first public update needs a public title (what customers read).",
            ))
        }
    };
    sqlx::query!(
        "UPDATE incidents SET public_title = $2, updated_at = now()
         WHERE id = $1 AND public_title IS DISTINCT FROM $2",
        incident_id,
        title
    )
    .execute(&mut *tx)
    .await?;
    if update.status == PublicStatus::Resolved {
        sqlx::query!(
            "UPDATE incident_component_impacts SET ended_at = clock_timestamp()
             WHERE incident_id = $1 AND ended_at IS NULL",
            incident_id
        )
        .execute(&mut *tx)
        .await?;
    }
    let update_id = insert_update(
        tx,
        UpdateTarget::Incident(incident_id),
        update.status.as_str(),
        update.message.as_str(),
        Some(actor.id),
    )
    .await?;
    let event = StatusEvent::PublicUpdate {
        status: update.status,
        title,
        body_md: update.message.as_str().to_string(),
        update_id: Some(update_id),
    };
    append_entry(tx, incident_id, actor.id, &event.into()).await?;
    Ok(update_id)
}

/// What a public update is about.
#[derive(Clone, Copy, Debug)]
pub enum UpdateTarget {
    Incident(i64),
    Maintenance(i64),
}

/// Publishes a public update of a maintenance window and enqueues its subscriber fan-out
/// on the same connection, so an update never commits without its deliveries (a window
/// has no timeline; an incident's updates reach subscribers through its timeline's
/// outbox). The caller holds the maintenance's lock. Returns the update's id.
pub async fn publish_maintenance_update(
    conn: &mut PgConnection,
    jobs: &Jobs,
    maintenance_id: i64,
    status: &str,
    body_md: &str,
    author_id: Option<i64>,
) -> Result<i64, AppError> {
    let update_id = insert_update(
        conn,
        UpdateTarget::Maintenance(maintenance_id),
        status,
        body_md,
        author_id,
    )
    .await?;
    jobs.enqueue_fan_out(conn, update_id)
        .await
        .map_err(AppError::internal)?;
    Ok(update_id)
}

/// Records a public update with the statuses its components are left in (an incident's
/// current impacts, or a maintenance's components while it is in progress). The caller
/// holds the incident's or maintenance's lock. Returns the update's id.
async fn insert_update(
    conn: &mut PgConnection,
    target: UpdateTarget,
    status: &str,
    body_md: &str,
    author_id: Option<i64>,
) -> Result<i64, AppError> {
    let (incident_id, maintenance_id) = match target {
        UpdateTarget::Incident(id) => (Some(id), None),
        UpdateTarget::Maintenance(id) => (None, Some(id)),
    };
    // At most 5,000 characters, nesting bounded: cheap enough to render under the lock.
    let rendered = markdown::render_new("message", body_md).await?;
    let update_id = sqlx::query_scalar!(
        r#"INSERT INTO public_updates (incident_id, maintenance_id, status, body_md, author_id,
                                       body_html, html_version, components)
           VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE((
               SELECT jsonb_agg(jsonb_build_object('component_id', i.component_id, 'status', i.impact)
                                ORDER BY i.component_id)
               FROM incident_component_impacts i
               WHERE i.incident_id = $1 AND i.ended_at IS NULL
           ), (
               SELECT jsonb_agg(jsonb_build_object('component_id', mc.component_id,
                                                   'status', 'under_maintenance')
                                ORDER BY mc.component_id)
               FROM maintenance_components mc
               WHERE mc.maintenance_id = $2 AND $3 = 'in_progress'
           ), '[]'::jsonb))
           RETURNING id"#,
        incident_id,
        maintenance_id,
        status,
        body_md,
        author_id,
        rendered.html,
        markdown::RENDERER_VERSION
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(update_id)
}

/// Rewrites up to `batch` public update renderings made by an older renderer (or none);
/// returns how many. See `incidents::store::upgrade_renderings`.
pub async fn upgrade_renderings(pool: &PgPool, batch: i64) -> Result<u64, AppError> {
    let rows = sqlx::query!(
        "SELECT id, body_md FROM public_updates WHERE html_version IS DISTINCT FROM $1 LIMIT $2",
        markdown::RENDERER_VERSION,
        batch
    )
    .fetch_all(pool)
    .await?;
    let html = markdown::render_texts(rows.iter().map(|r| r.body_md.clone()).collect()).await?;
    let mut done = 0;
    for (row, html) in rows.iter().zip(html) {
        done += sqlx::query!(
            "UPDATE public_updates SET body_html = $2, html_version = $3 WHERE id = $1",
            row.id,
            html,
            markdown::RENDERER_VERSION
        )
        .execute(pool)
        .await?
        .rows_affected();
    }
    Ok(done)
}
