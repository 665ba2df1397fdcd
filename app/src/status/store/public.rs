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

    // Impacts of public incidents (not private, at least one public update) over the
    // uptime window, and those still going on.
    let window_start = now - Duration::days(UPTIME_DAYS as i64 + 1);
    let impacts = sqlx::query!(
        r#"SELECT i.component_id, i.impact, i.started_at AS "started_at: DateTime<Utc>",
                  i.ended_at AS "ended_at: DateTime<Utc>", n.public_id, n.public_title AS "public_title!"
           FROM incident_component_impacts i
           JOIN incidents n ON n.id = i.incident_id
           WHERE NOT n.private AND n.public_title IS NOT NULL
             AND EXISTS (SELECT 1 FROM public_updates p WHERE p.incident_id = n.id)
             AND COALESCE(i.ended_at, 'infinity') > $1 AND i.started_at <= $2
           ORDER BY i.started_at"#,
        window_start as _,
        now as _
    )
    .fetch_all(&mut *tx)
    .await?;
    let in_maintenance: Vec<i64> = sqlx::query_scalar!(
        "SELECT mc.component_id FROM maintenance_components mc
         JOIN maintenances m ON m.id = mc.maintenance_id WHERE m.status = 'in_progress'"
    )
    .fetch_all(&mut *tx)
    .await?;

    let mut intervals: HashMap<i64, Vec<ImpactInterval>> = HashMap::new();
    let mut open: HashMap<i64, Vec<Impact>> = HashMap::new();
    for row in &impacts {
        let impact = Impact::parse(&row.impact)?;
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
        r#"SELECT n.id, n.public_id, n.public_title AS "public_title!",
                  (SELECT min(i.started_at) FROM incident_component_impacts i WHERE i.incident_id = n.id)
                      AS "first_impact: DateTime<Utc>",
                  (SELECT max(i.impact_rank) FROM (
                       SELECT CASE impact WHEN 'major_outage' THEN 3 WHEN 'partial_outage' THEN 2 ELSE 1 END
                              AS impact_rank
                       FROM incident_component_impacts WHERE incident_id = n.id) i) AS "worst_impact: i32"
           FROM incidents n
           WHERE NOT n.private AND n.public_title IS NOT NULL
             AND EXISTS (SELECT 1 FROM public_updates p WHERE p.incident_id = n.id)"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let incident_updates = sqlx::query!(
        r#"SELECT p.incident_id AS "incident_id!", p.public_id, p.status, p.body_md, p.components,
                  p.created_at AS "created_at: DateTime<Utc>"
           FROM public_updates p JOIN incidents n ON n.id = p.incident_id
           WHERE NOT n.private ORDER BY p.id"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut updates_by_incident: HashMap<i64, Vec<UpdateRow>> = HashMap::new();
    for row in incident_updates {
        updates_by_incident
            .entry(row.incident_id)
            .or_default()
            .push(UpdateRow {
                public_id: row.public_id,
                status: row.status,
                body_md: row.body_md,
                created_at: row.created_at,
                components: stored_components(row.components)?,
            });
    }
    let touched = sqlx::query!(
        r#"SELECT DISTINCT incident_id, component_id FROM incident_component_impacts"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut touched_by_incident: HashMap<i64, Vec<String>> = HashMap::new();
    for row in touched {
        if let Some((public_id, _)) = names.get(&row.component_id) {
            touched_by_incident
                .entry(row.incident_id)
                .or_default()
                .push(public_id.clone());
        }
    }
    let current_by_incident: HashMap<i64, Vec<AffectedComponent>> = {
        let rows = sqlx::query!(
            "SELECT incident_id, component_id, impact FROM incident_component_impacts
             WHERE ended_at IS NULL ORDER BY component_id"
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut map: HashMap<i64, Vec<AffectedComponent>> = HashMap::new();
        for row in rows {
            if let Some((public_id, name)) = names.get(&row.component_id) {
                map.entry(row.incident_id)
                    .or_default()
                    .push(AffectedComponent {
                        component_id: public_id.clone(),
                        name: name.clone(),
                        impact: Impact::parse(&row.impact)?,
                    });
            }
        }
        map
    };

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
        let mut component_ids = touched_by_incident.remove(&incident.id).unwrap_or_default();
        component_ids.sort();
        public_incidents.push(PublicIncident {
            id: incident.public_id,
            name: incident.public_title,
            status,
            impact: match incident.worst_impact {
                Some(3) => IncidentImpact::Critical,
                Some(2) => IncidentImpact::Major,
                Some(_) => IncidentImpact::Minor,
                None => IncidentImpact::None,
            },
            created_at,
            started_at: incident
                .first_impact
                .map_or(created_at, |t| t.min(created_at)),
            updated_at,
            monitoring_at,
            resolved_at,
            updates: public_updates(rows, &names),
            components: if status == PublicStatus::Resolved {
                Vec::new()
            } else {
                current_by_incident
                    .get(&incident.id)
                    .cloned()
                    .unwrap_or_default()
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
    let maintenance_updates = sqlx::query!(
        r#"SELECT maintenance_id AS "maintenance_id!", public_id, status, body_md, components,
                  created_at AS "created_at: DateTime<Utc>"
           FROM public_updates WHERE maintenance_id IS NOT NULL ORDER BY id"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut updates_by_maintenance: HashMap<i64, Vec<UpdateRow>> = HashMap::new();
    for row in maintenance_updates {
        updates_by_maintenance
            .entry(row.maintenance_id)
            .or_default()
            .push(UpdateRow {
                public_id: row.public_id,
                status: row.status,
                body_md: row.body_md,
                created_at: row.created_at,
                components: stored_components(row.components)?,
            });
    }
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
        .chain(impacts.iter().map(|i| i.ended_at.unwrap_or(i.started_at)))
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
            body_html: markdown::render(&row.body_md),
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
