//! Bench fixture data: a status page with content, written straight into the
//! bench's own throw-away database (tables of `20261122000001_status_page.sql`).
//!
//! Written with runtime `sqlx::query` rather than Warroom's API because the
//! status-page admin API did not exist when this bench was written, and so the
//! bench does not need `.sqlx/` data of its own. Nothing here is product logic:
//! it only has to look like a real page (ten components in three groups, an open
//! incident with public updates, resolved incidents in the uptime history).

use anyhow::{Context, Result};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, Row};

/// The open incident's public title: once the page shows it, the snapshot is fresh.
const OPEN_INCIDENT_TITLE: &str = "Elevated API error rates";

/// Groups and their components, in page order.
const COMPONENTS: [(&str, &[(&str, &str)]); 3] = [
    (
        "Web",
        &[
            ("Website", "The public website and documentation"),
            ("Dashboard", "The signed-in web application"),
            ("Sign-in", "Single sign-on and password sign-in"),
        ],
    ),
    (
        "API",
        &[
            ("REST API", "api.example.com"),
            ("Webhooks", "Outgoing webhook deliveries"),
            ("Search", "Full-text search"),
            ("File uploads", "Attachments and exports"),
        ],
    ),
    (
        "Infrastructure",
        &[
            ("Database", "Primary and replicas"),
            ("Email delivery", "Notifications and digests"),
            ("CDN", "Static assets"),
        ],
    ),
];

/// A resolved (or open) incident to seed: when it began, how long it lasted,
/// which components it hit and how, and its public updates.
struct Incident {
    public_title: &'static str,
    started_minutes_ago: i64,
    /// `None` for the open incident.
    lasted_minutes: Option<i64>,
    impacts: &'static [(&'static str, &'static str)],
    /// (minutes after start, status, body).
    updates: &'static [(i64, &'static str, &'static str)],
}

const INCIDENTS: [Incident; 4] = [
    Incident {
        public_title: OPEN_INCIDENT_TITLE,
        started_minutes_ago: 40,
        lasted_minutes: None,
        impacts: &[("REST API", "partial_outage"), ("Webhooks", "degraded_performance")],
        updates: &[
            (2, "investigating", "We are investigating elevated error rates on the REST API. Some requests fail with a **503**; retries mostly succeed."),
            (25, "identified", "The cause is a failing database replica that still receives traffic. We are taking it out of rotation. Webhook deliveries are delayed by up to ten minutes while the queue drains."),
        ],
    },
    Incident {
        public_title: "Dashboard slow to load",
        started_minutes_ago: 2 * 24 * 60,
        lasted_minutes: Some(50),
        impacts: &[("Dashboard", "degraded_performance")],
        updates: &[
            (5, "investigating", "Pages of the dashboard take several seconds to load. We are looking into it."),
            (30, "monitoring", "A slow query introduced by this morning's release has been rolled back. We are watching response times."),
            (50, "resolved", "Response times are back to normal."),
        ],
    },
    Incident {
        public_title: "Email notifications delayed",
        started_minutes_ago: 9 * 24 * 60,
        lasted_minutes: Some(130),
        impacts: &[("Email delivery", "major_outage")],
        updates: &[
            (10, "investigating", "Email notifications are not being sent."),
            (45, "identified", "Our email provider is rejecting messages after a credential rotation. A fix is being deployed."),
            (130, "resolved", "All queued notifications have been delivered."),
        ],
    },
    Incident {
        public_title: "Some sign-ins failing",
        started_minutes_ago: 20 * 24 * 60,
        lasted_minutes: Some(25),
        impacts: &[("Sign-in", "partial_outage")],
        updates: &[
            (3, "investigating", "Some people cannot sign in with single sign-on."),
            (25, "resolved", "An expired certificate was replaced; sign-in works again."),
        ],
    },
];

/// What was seeded, and the text that shows the page has caught up.
pub struct Fixture {
    pub groups: usize,
    pub components: usize,
    pub incidents: usize,
    pub marker: String,
}

/// Writes the fixture in one transaction (so the page rebuilds once, on commit).
pub async fn seed(database_url: &str) -> Result<Fixture> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(database_url)
        .await
        .with_context(|| format!("connecting to the bench database at {database_url}"))?;
    let mut tx = pool.begin().await?;
    let author = insert_author(&mut tx).await?;
    let severity: i64 = sqlx::query_scalar("SELECT id FROM severities ORDER BY rank LIMIT 1")
        .fetch_one(&mut *tx)
        .await
        .context("finding a severity")?;
    let components = insert_components(&mut tx).await?;
    for incident in &INCIDENTS {
        insert_incident(&mut tx, incident, author, severity, &components)
            .await
            .with_context(|| format!("seeding incident `{}`", incident.public_title))?;
    }
    tx.commit().await?;
    pool.close().await;
    Ok(Fixture {
        groups: COMPONENTS.len(),
        components: components.len(),
        incidents: INCIDENTS.len(),
        marker: OPEN_INCIDENT_TITLE.to_owned(),
    })
}

async fn insert_author(conn: &mut PgConnection) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO users (handle, display_name, role) VALUES ('status-bench', 'Status bench', 'admin') RETURNING id",
    )
    .fetch_one(conn)
    .await
    .context("creating the fixture's author")
}

/// Inserts the groups and components; returns (name, id) of every component.
async fn insert_components(conn: &mut PgConnection) -> Result<Vec<(&'static str, i64)>> {
    let mut ids = Vec::new();
    for (group_position, (group, members)) in (1..).zip(COMPONENTS) {
        let group_id: i64 = sqlx::query_scalar(
            "INSERT INTO status_component_groups (name, position) VALUES ($1, $2) RETURNING id",
        )
        .bind(group)
        .bind(group_position)
        .fetch_one(&mut *conn)
        .await
        .with_context(|| format!("creating component group `{group}`"))?;
        for (position, (name, description)) in (1..).zip(members) {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO status_components (group_id, name, description, position) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(group_id)
            .bind(name)
            .bind(description)
            .bind(position)
            .fetch_one(&mut *conn)
            .await
            .with_context(|| format!("creating component `{name}`"))?;
            ids.push((*name, id));
        }
    }
    Ok(ids)
}

/// One incident with its impacts (ended when resolved) and its public updates.
async fn insert_incident(
    conn: &mut PgConnection,
    incident: &Incident,
    author: i64,
    severity: i64,
    components: &[(&str, i64)],
) -> Result<()> {
    let started = format!("{} minutes", incident.started_minutes_ago);
    let last_status = incident.updates.last().map_or("investigating", |u| u.1);
    let row = sqlx::query(
        "INSERT INTO incidents (title, public_title, summary_md, severity_id, status, declared_by,
                                declared_at, resolved_at, updated_at)
         VALUES ($1, $1, 'Bench fixture', $2, $3, $4, now() - $5::interval,
                 now() - $5::interval + make_interval(mins => $6), now())
         RETURNING id",
    )
    .bind(incident.public_title)
    .bind(severity)
    .bind(last_status)
    .bind(author)
    .bind(&started)
    // NULL minutes make a NULL `resolved_at`: the incident is still open.
    .bind(incident.lasted_minutes.map(|m| m as i32))
    .fetch_one(&mut *conn)
    .await?;
    let incident_id: i64 = row.get("id");

    let component_id = |name: &str| {
        components
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, id)| id)
            .with_context(|| format!("no fixture component `{name}`"))
    };
    let mut statuses = Vec::new();
    for &(name, impact) in incident.impacts {
        let id = component_id(name)?;
        sqlx::query(
            "INSERT INTO incident_component_impacts (incident_id, component_id, impact, started_at, ended_at, set_by)
             VALUES ($1, $2, $3, now() - $4::interval,
                     now() - $4::interval + make_interval(mins => $5), $6)",
        )
        .bind(incident_id)
        .bind(id)
        .bind(impact)
        .bind(&started)
        .bind(incident.lasted_minutes.map(|m| m as i32))
        .bind(author)
        .execute(&mut *conn)
        .await?;
        statuses.push((id, impact));
    }

    for &(after_minutes, status, body) in incident.updates {
        // A resolving update leaves every component operational again.
        let left = statuses
            .iter()
            .map(|&(id, impact)| {
                let now = if status == "resolved" {
                    "operational"
                } else {
                    impact
                };
                json!({ "component_id": id, "status": now })
            })
            .collect::<Vec<_>>();
        sqlx::query(
            "INSERT INTO public_updates (incident_id, status, body_md, author_id, components, created_at)
             VALUES ($1, $2, $3, $4, $5, now() - $6::interval + make_interval(mins => $7))",
        )
        .bind(incident_id)
        .bind(status)
        .bind(body)
        .bind(author)
        .bind(serde_json::Value::Array(left))
        .bind(&started)
        .bind(after_minutes as i32)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
