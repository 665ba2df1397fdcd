//! The one read the public status page is built from: everything public, in one
//! repeatable-read transaction, shaped as `PublicData`. Internal titles, notes, people,
//! roles, severities and private incidents never leave this module: the queries do not
//! select them.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use sqlx::PgPool;

use crate::error::AppError;
use crate::markdown;
use crate::status::model::{
    component_status, uptime_days, AffectedComponent, Branding, ComponentChange, ComponentStatus,
    Impact, ImpactInterval, IncidentImpact, IncidentRef, MaintenanceStatus, PageLink,
    PublicComponent, PublicData, PublicGroup, PublicIncident, PublicMaintenance, PublicStatus,
    PublicUpdate, UPTIME_DAYS,
};

/// A component's status as stored on a public update.
#[derive(Deserialize)]
struct StoredComponent {
    component_id: i64,
    status: ComponentStatus,
}

struct UpdateRow {
    public_id: String,
    status: String,
    body_md: String,
    body_html: String,
    created_at: DateTime<Utc>,
    components: Vec<StoredComponent>,
}

/// Reads everything public as of `now`. `base_url` is where the public reaches Warroom.
#[tracing::instrument(skip_all)]
pub async fn read(
    pool: &PgPool,
    base_url: &str,
    now: DateTime<Utc>,
) -> Result<PublicData, AppError> {
    let mut tx = pool.begin().await?;
    // One consistent view across the queries below.
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;

    let settings = sqlx::query!(
        r#"SELECT page_name, logo_url, accent_color, links, updated_at AS "updated_at: DateTime<Utc>"
           FROM status_settings"#
    )
    .fetch_one(&mut *tx)
    .await?;
    let links: Vec<PageLink> = serde_json::from_value(settings.links)
        .map_err(|e| AppError::internal(anyhow::Error::new(e).context("status page links")))?;
    let branding = Branding {
        name: settings.page_name,
        logo_url: settings.logo_url,
        accent_color: settings.accent_color,
        links,
        updated_at: settings.updated_at,
    };

    let groups = sqlx::query!(
        r#"SELECT id, public_id, name, description, position,
                  created_at AS "created_at: DateTime<Utc>", updated_at AS "updated_at: DateTime<Utc>"
           FROM status_component_groups WHERE NOT hidden ORDER BY position, name"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let group_public_ids: HashMap<i64, String> =
        groups.iter().map(|g| (g.id, g.public_id.clone())).collect();

    // Components of hidden groups are hidden with their group.
    let components = sqlx::query!(
        r#"SELECT c.id, c.public_id, c.group_id, c.name, c.description, c.position,
                  c.status_override, c.created_at AS "created_at: DateTime<Utc>",
                  c.updated_at AS "updated_at: DateTime<Utc>"
           FROM status_components c
           LEFT JOIN status_component_groups g ON g.id = c.group_id
           WHERE NOT c.hidden AND NOT COALESCE(g.hidden, false)
           ORDER BY COALESCE(g.position, c.position), g.id NULLS FIRST, c.position, c.name"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let names: HashMap<i64, (String, String)> = components
        .iter()
        .map(|c| (c.id, (c.public_id.clone(), c.name.clone())))
        .collect();

    // Every impact of the public incidents (not private, at least one public update):
    // the uptime bars use those in the window, the incidents their worst, first and
    // current ones.
    let window_start = now - Duration::days(UPTIME_DAYS as i64 + 1);
    let impacts = sqlx::query!(
        r#"SELECT i.incident_id, i.component_id, i.impact, i.started_at AS "started_at: DateTime<Utc>",
                  i.ended_at AS "ended_at: DateTime<Utc>", n.public_id, n.public_title AS "public_title!"
           FROM incident_component_impacts i
           JOIN incidents n ON n.id = i.incident_id
           WHERE NOT n.private AND n.public_title IS NOT NULL
             AND EXISTS (SELECT 1 FROM public_updates p WHERE p.incident_id = n.id)
           ORDER BY i.started_at, i.component_id"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let in_window = |started_at: DateTime<Utc>, ended_at: Option<DateTime<Utc>>| {
        ended_at.is_none_or(|end| end > window_start) && started_at <= now
    };
    let in_maintenance: Vec<i64> = sqlx::query_scalar!(
        "SELECT mc.component_id FROM maintenance_components mc
         JOIN maintenances m ON m.id = mc.maintenance_id WHERE m.status = 'in_progress'"
    )
    .fetch_all(&mut *tx)
    .await?;

    let mut intervals: HashMap<i64, Vec<ImpactInterval>> = HashMap::new();
    let mut open: HashMap<i64, Vec<Impact>> = HashMap::new();
    let mut by_incident: HashMap<i64, IncidentImpacts> = HashMap::new();
    for row in &impacts {
        let impact = Impact::parse(&row.impact)?;
        let incident = by_incident.entry(row.incident_id).or_default();
        incident.worst = incident.worst.max(Some(impact));
        incident.first_started = Some(
            incident
                .first_started
                .map_or(row.started_at, |t| t.min(row.started_at)),
        );
        if let Some((public_id, name)) = names.get(&row.component_id) {
            incident.component_ids.push(public_id.clone());
            if row.ended_at.is_none() {
                incident.current.push((
                    row.component_id,
                    AffectedComponent {
                        component_id: public_id.clone(),
                        name: name.clone(),
                        impact,
                    },
                ));
            }
        }
        if !in_window(row.started_at, row.ended_at) {
            continue;
        }
        if row.ended_at.is_none() {
            open.entry(row.component_id).or_default().push(impact);
        }
        intervals
            .entry(row.component_id)
            .or_default()
            .push(ImpactInterval {
                impact,
                start: row.started_at,
                end: row.ended_at,
                incident: IncidentRef {
                    id: row.public_id.clone(),
                    name: row.public_title.clone(),
                },
            });
    }
    let public_components: Vec<PublicComponent> = components
        .iter()
        .map(|c| {
            let override_status = c
                .status_override
                .as_deref()
                .map(ComponentStatus::parse)
                .transpose()?;
            Ok(PublicComponent {
                id: c.public_id.clone(),
                group_id: c.group_id.and_then(|g| group_public_ids.get(&g).cloned()),
                name: c.name.clone(),
                description: c.description.clone(),
                position: c.position,
                status: component_status(
                    override_status,
                    open.get(&c.id).cloned().unwrap_or_default(),
                    in_maintenance.contains(&c.id),
                ),
                created_at: c.created_at,
                updated_at: c.updated_at,
                uptime: uptime_days(
                    intervals.get(&c.id).map(Vec::as_slice).unwrap_or_default(),
                    c.created_at,
                    now,
                    UPTIME_DAYS,
                ),
            })
        })
        .collect::<Result<_, AppError>>()?;

    // Public incidents and their updates.
    let incidents = sqlx::query!(
        r#"SELECT n.id, n.public_id, n.public_title AS "public_title!"
           FROM incidents n
           WHERE NOT n.private AND n.public_title IS NOT NULL
             AND EXISTS (SELECT 1 FROM public_updates p WHERE p.incident_id = n.id)"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let (mut updates_by_incident, mut updates_by_maintenance) = public_update_rows(&mut tx).await?;

    let mut public_incidents = Vec::with_capacity(incidents.len());
    for incident in incidents {
        let rows = updates_by_incident.remove(&incident.id).unwrap_or_default();
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            continue;
        };
        let status = PublicStatus::parse(&last.status)?;
        let created_at = first.created_at;
        let updated_at = last.created_at;
        let monitoring_at = rows
            .iter()
            .rev()
            .find(|u| u.status == "monitoring")
            .map(|u| u.created_at);
        let resolved_at = (status == PublicStatus::Resolved).then_some(updated_at);
        let IncidentImpacts {
            worst,
            first_started,
            mut component_ids,
            mut current,
        } = by_incident.remove(&incident.id).unwrap_or_default();
        component_ids.sort();
        component_ids.dedup();
        current.sort_by_key(|(component_id, _)| *component_id);
        public_incidents.push(PublicIncident {
            id: incident.public_id,
            name: incident.public_title,
            status,
            impact: worst.map_or(IncidentImpact::None, Impact::incident_impact),
            created_at,
            started_at: first_started.map_or(created_at, |t| t.min(created_at)),
            updated_at,
            monitoring_at,
            resolved_at,
            updates: public_updates(rows, &names),
            components: if status == PublicStatus::Resolved {
                Vec::new()
            } else {
                current.into_iter().map(|(_, c)| c).collect()
            },
            component_ids,
        });
    }
    public_incidents.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(b.id.cmp(&a.id)));

    // Maintenance.
    let maintenances = sqlx::query!(
        r#"SELECT id, public_id, title, status,
                  scheduled_for AS "scheduled_for: DateTime<Utc>",
                  scheduled_until AS "scheduled_until: DateTime<Utc>",
                  started_at AS "started_at: DateTime<Utc>", completed_at AS "completed_at: DateTime<Utc>",
                  created_at AS "created_at: DateTime<Utc>", updated_at AS "updated_at: DateTime<Utc>"
           FROM maintenances ORDER BY scheduled_for DESC, id DESC"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let maintenance_components = sqlx::query!(
        "SELECT maintenance_id, component_id FROM maintenance_components ORDER BY component_id"
    )
    .fetch_all(&mut *tx)
    .await?;
    let public_maintenances = maintenances
        .into_iter()
        .map(|m| {
            let components = maintenance_components
                .iter()
                .filter(|mc| mc.maintenance_id == m.id)
                .filter_map(|mc| names.get(&mc.component_id))
                .map(|(public_id, name)| AffectedComponent {
                    component_id: public_id.clone(),
                    name: name.clone(),
                    // Shown as "under maintenance"; the impact is what it may cause.
                    impact: Impact::MajorOutage,
                })
                .collect();
            let rows = updates_by_maintenance.remove(&m.id).unwrap_or_default();
            Ok(PublicMaintenance {
                id: m.public_id,
                name: m.title,
                status: MaintenanceStatus::parse(&m.status)?,
                scheduled_for: m.scheduled_for,
                scheduled_until: m.scheduled_until,
                started_at: m.started_at,
                completed_at: m.completed_at,
                created_at: m.created_at,
                updated_at: rows
                    .last()
                    .map_or(m.updated_at, |u| u.created_at.max(m.updated_at)),
                updates: public_updates(rows, &names),
                components,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    tx.commit().await?;

    let changed_at = [branding.updated_at]
        .into_iter()
        .chain(groups.iter().map(|g| g.updated_at))
        .chain(components.iter().map(|c| c.updated_at))
        .chain(
            impacts
                .iter()
                .filter(|i| in_window(i.started_at, i.ended_at))
                .map(|i| i.ended_at.unwrap_or(i.started_at)),
        )
        .chain(public_incidents.iter().map(|i| i.updated_at))
        .chain(public_maintenances.iter().map(|m| m.updated_at))
        .max()
        .unwrap_or(now);
    Ok(PublicData {
        branding,
        base_url: base_url.trim_end_matches('/').to_string(),
        groups: groups
            .into_iter()
            .map(|g| PublicGroup {
                id: g.public_id,
                name: g.name,
                description: g.description,
                position: g.position,
                created_at: g.created_at,
                updated_at: g.updated_at,
            })
            .collect(),
        components: public_components,
        incidents: public_incidents,
        maintenances: public_maintenances,
        changed_at,
        read_at: now,
    })
}

/// What one public incident's impacts add up to.
#[derive(Default)]
struct IncidentImpacts {
    worst: Option<Impact>,
    first_started: Option<DateTime<Utc>>,
    /// Public ids of every component it ever affected (unsorted, repeats).
    component_ids: Vec<String>,
    /// The impacts still going on, with the component's internal id (their order).
    current: Vec<(i64, AffectedComponent)>,
}

type UpdatesOf = HashMap<i64, Vec<UpdateRow>>;

/// The public updates of public incidents and of maintenance, oldest first, by incident
/// and by maintenance id.
async fn public_update_rows(
    conn: &mut sqlx::PgConnection,
) -> Result<(UpdatesOf, UpdatesOf), AppError> {
    let rows = sqlx::query!(
        r#"SELECT p.incident_id, p.maintenance_id, p.public_id, p.status, p.body_md, p.components,
                  p.body_html, p.html_version, p.created_at AS "created_at: DateTime<Utc>"
           FROM public_updates p LEFT JOIN incidents n ON n.id = p.incident_id
           WHERE p.maintenance_id IS NOT NULL OR NOT n.private
           ORDER BY p.id"#
    )
    .fetch_all(conn)
    .await?;
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
    let mut by_incident = UpdatesOf::new();
    let mut by_maintenance = UpdatesOf::new();
    for (row, body_html) in rows.into_iter().zip(html) {
        let owner = match (row.incident_id, row.maintenance_id) {
            (Some(id), _) => by_incident.entry(id),
            (None, Some(id)) => by_maintenance.entry(id),
            (None, None) => continue,
        };
        owner.or_default().push(UpdateRow {
            public_id: row.public_id,
            status: row.status,
            body_md: row.body_md,
            body_html,
            created_at: row.created_at,
            components: stored_components(row.components)?,
        });
    }
    Ok((by_incident, by_maintenance))
}

fn stored_components(value: serde_json::Value) -> Result<Vec<StoredComponent>, AppError> {
    serde_json::from_value(value)
        .map_err(|e| AppError::internal(anyhow::Error::new(e).context("update components")))
}

/// Public updates newest first, each with the component changes since the one before.
fn public_updates(
    rows: Vec<UpdateRow>,
    names: &HashMap<i64, (String, String)>,
) -> Vec<PublicUpdate> {
    let mut before: HashMap<i64, ComponentStatus> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let after: HashMap<i64, ComponentStatus> = row
            .components
            .iter()
            .map(|c| (c.component_id, c.status))
            .collect();
        let mut ids: Vec<i64> = before.keys().chain(after.keys()).copied().collect();
        ids.sort();
        ids.dedup();
        let affected_components = ids
            .into_iter()
            .filter_map(|id| {
                let old = before
                    .get(&id)
                    .copied()
                    .unwrap_or(ComponentStatus::Operational);
                let new = after
                    .get(&id)
                    .copied()
                    .unwrap_or(ComponentStatus::Operational);
                let (public_id, name) = names.get(&id)?;
                (old != new).then(|| ComponentChange {
                    component_id: public_id.clone(),
                    name: name.clone(),
                    old_status: old,
                    new_status: new,
                })
            })
            .collect();
        out.push(PublicUpdate {
            id: row.public_id,
            body_html: row.body_html,
            status: row.status,
            body_md: row.body_md,
            created_at: row.created_at,
            affected_components,
        });
        before = after;
    }
    out.reverse();
    out
}
