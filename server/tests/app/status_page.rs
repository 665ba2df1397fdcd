//! The public status page end to end: public updates from the room reach the page and the
//! Statuspage-compatible JSON (and nothing internal does), caching headers, maintenance
//! moving by itself, webhook subscribers, and serving with Postgres stopped.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{eventually, Client, TestApp};
use axum::http::HeaderMap;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::net::TcpListener;

/// Polls `path` until its body satisfies `check` (the page is rebuilt on NOTIFY).
async fn wait_for_page(
    client: &Client,
    path: &str,
    what: &str,
    check: impl Fn(&str) -> bool,
) -> String {
    eventually(
        &format!("{path} to show {what}"),
        Duration::from_secs(10),
        async || {
            let body = client.get(path).await.text().await.unwrap();
            if check(&body) {
                Ok(body)
            } else {
                Err(body)
            }
        },
    )
    .await
}

/// Subscribes `url` to the status page as an anonymous visitor.
async fn subscribe(app: &TestApp, url: &str) -> reqwest::Response {
    Client::new(&app.base)
        .http
        .post(format!("{}/status/subscribe", app.base))
        .form(&[("url", url)])
        .send()
        .await
        .unwrap()
}

/// An admin with two components, and a responder who commands a fresh incident.
pub(crate) async fn incident_with_components(app: &TestApp) -> (Client, Client, i64, Vec<i64>) {
    let admin = app.signed_in_as("Grace Admin", "admin").await;
    let group = admin
        .ok(
            "create_status_group",
            &[("name", "Payments"), ("description", "Paying us")],
        )
        .await;
    let group_id = group["id"].as_i64().unwrap().to_string();
    let mut components = Vec::new();
    for name in ["Checkout", "Invoices"] {
        let c = admin
            .ok(
                "create_status_component",
                &[("name", name), ("description", ""), ("group_id", &group_id)],
            )
            .await;
        components.push(c["id"].as_i64().unwrap());
    }
    let alice = app.signed_in("Alice Internal").await;
    grant_publishing(&admin, &alice, true).await;
    let id = alice
        .declare("db-prod-3 primary OOM after Bob's deploy", "SEV1")
        .await;
    alice
        .ok(
            "assign_role",
            &[
                ("incident_id", &id.to_string()),
                ("role", "commander"),
                ("user_id", "0"),
            ],
        )
        .await;
    (admin, alice, id, components)
}

/// An admin allows (or no longer allows) `person` to publish to the status page.
async fn grant_publishing(admin: &Client, person: &Client, allowed: bool) {
    let id = person.ok("me", &[]).await["person"]["id"].to_string();
    admin
        .ok(
            "set_member_publishing",
            &[("user_id", &id), ("allowed", &allowed.to_string())],
        )
        .await;
}

/// Marks `component` with `impact` on incident `id` (as text) and posts the incident's
/// first public update, as its commander.
pub(crate) async fn go_public(
    commander: &Client,
    id: &str,
    component: i64,
    impact: &str,
    public_title: &str,
    status: &str,
    message: &str,
) {
    commander
        .ok(
            "set_component_impact",
            &[
                ("incident_id", id),
                ("component_id", &component.to_string()),
                ("impact", impact),
            ],
        )
        .await;
    commander
        .ok(
            "post_public_update",
            &[
                ("incident_id", id),
                ("public_title", public_title),
                ("status", status),
                ("message", message),
            ],
        )
        .await;
}

const V2_PATHS: [&str; 8] = [
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
];

#[sqlx::test(migrations = "../migrations")]
async fn a_public_update_reaches_the_page_and_the_api_and_nothing_internal_does(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (_admin, alice, id, components) = incident_with_components(&app).await;
    let public = Client::new(&app.base);
    // A second replica on the same database learns of the update by NOTIFY alone.
    let replica = TestApp::spawn(pool.clone()).await;
    let public_of_replica = Client::new(&replica.base);
    let id_text = id.to_string();
    alice
        .note(
            id,
            "note",
            "SECRET-NOTE: rotate the credentials of payments-db",
        )
        .await;
    alice
        .ok(
            "set_component_impact",
            &[
                ("incident_id", &id_text),
                ("component_id", &components[0].to_string()),
                ("impact", "major_outage"),
            ],
        )
        .await;
    // Not public yet: no public update.
    let before = public.get("/status").await.text().await.unwrap();
    assert!(!before.contains("Major outage"), "{before}");

    alice
        .ok(
            "post_public_update",
            &[
                ("incident_id", &id_text),
                ("public_title", "Checkout is failing for some customers"),
                ("status", "investigating"),
                (
                    "message",
                    "We are looking into failed payments at checkout.",
                ),
            ],
        )
        .await;
    let page = wait_for_page(&public, "/status", "the public update", |b| {
        b.contains("We are looking into failed payments at checkout.")
    })
    .await;
    assert!(page.contains("Checkout is failing for some customers"));
    assert!(
        page.contains("Major outage"),
        "component status on the page"
    );
    wait_for_page(
        &public_of_replica,
        "/status",
        "the update on the other replica",
        |b| b.contains("We are looking into failed payments at checkout."),
    )
    .await;
    replica.stop().await;

    let summary: Value = public
        .get("/api/v2/summary.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(summary["status"]["indicator"], "critical");
    let checkout = summary["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Checkout")
        .expect("Checkout in components");
    assert_eq!(checkout["status"], "major_outage");
    let incident = &summary["incidents"][0];
    assert_eq!(incident["name"], "Checkout is failing for some customers");
    assert_eq!(incident["status"], "investigating");
    assert_eq!(incident["impact"], "critical");
    assert_eq!(
        incident["incident_updates"][0]["body"],
        "We are looking into failed payments at checkout."
    );

    // The room's timeline records the public update.
    let room = alice.room(id).await;
    assert!(
        room.to_string().contains("public_update"),
        "timeline has the public update: {room}"
    );

    // Nothing internal anywhere public: internal title, notes, people, roles, severities.
    let internal = [
        "db-prod-3",
        "Bob's deploy",
        "SECRET-NOTE",
        "payments-db",
        "Alice Internal",
        "Grace Admin",
        "commander",
        "SEV1",
        "Critical — respond",
    ];
    let public_id = incident["id"].as_str().unwrap().to_string();
    let mut paths: Vec<String> = V2_PATHS.iter().map(|p| p.to_string()).collect();
    paths.extend(
        [
            "/status".to_string(),
            "/status/history".to_string(),
            "/status/feed.atom".to_string(),
            "/status/feed.rss".to_string(),
            format!("/status/incidents/{public_id}"),
        ]
        .into_iter(),
    );
    for path in &paths {
        let response = public.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let body = response.text().await.unwrap();
        for word in internal {
            assert!(!body.contains(word), "{path} leaks {word:?}:\n{body}");
        }
    }
    // Public ids are random, not the internal number: they reveal no count of incidents.
    assert_eq!(public_id.len(), 12, "{public_id}");
    assert!(
        public_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{public_id}"
    );
    assert_ne!(public_id, id.to_string());

    // Resolving publicly ends the impact: operational again, incident resolved.
    alice
        .ok(
            "post_public_update",
            &[
                ("incident_id", &id_text),
                ("public_title", ""),
                ("status", "resolved"),
                ("message", "Payments work again."),
            ],
        )
        .await;
    let summary = wait_for_page(&public, "/api/v2/summary.json", "all operational", |b| {
        b.contains("All Systems Operational")
    })
    .await;
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(
        summary["incidents"].as_array().unwrap().len(),
        0,
        "no unresolved incidents"
    );
    let incidents: Value = public
        .get("/api/v2/incidents.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(incidents["incidents"][0]["status"], "resolved");
    let changes = &incidents["incidents"][0]["incident_updates"][0]["affected_components"];
    assert_eq!(changes[0]["old_status"], "major_outage", "{changes}");
    assert_eq!(changes[0]["new_status"], "operational", "{changes}");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn only_the_commander_or_liaison_speaks_publicly_and_private_incidents_stay_off(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool.clone()).await;
    let (admin, alice, id, components) = incident_with_components(&app).await;
    let id_text = id.to_string();
    let bob = app.signed_in("Bob Fixer").await;
    grant_publishing(&admin, &bob, true).await;
    let refused = bob
        .fails(
            "post_public_update",
            &[
                ("incident_id", &id_text),
                ("public_title", "Checkout trouble"),
                ("status", "investigating"),
                ("message", "Looking."),
            ],
            409,
        )
        .await;
    assert!(refused.to_string().contains("liaison"), "{refused}");
    // The first update needs a public title; bad input changes nothing.
    let refused = alice
        .fails(
            "post_public_update",
            &[
                ("incident_id", &id_text),
                ("public_title", ""),
                ("status", "investigating"),
                ("message", "Looking."),
            ],
            422,
        )
        .await;
    assert!(refused.to_string().contains("public title"), "{refused}");
    alice
        .fails(
            "set_component_impact",
            &[
                ("incident_id", &id_text),
                ("component_id", &components[0].to_string()),
                ("impact", "on fire"),
            ],
            422,
        )
        .await;
    // Kept private: no public update possible, nothing on the page.
    alice
        .ok(
            "set_incident_private",
            &[("incident_id", &id_text), ("private", "true")],
        )
        .await;
    alice
        .fails(
            "post_public_update",
            &[
                ("incident_id", &id_text),
                ("public_title", "Checkout trouble"),
                ("status", "investigating"),
                ("message", "Looking."),
            ],
            409,
        )
        .await;
    let updates: i64 = sqlx::query_scalar("SELECT count(*) FROM public_updates")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(updates, 0);
    // A liaison may speak once allowed again; once published it cannot go private.
    alice
        .ok(
            "set_incident_private",
            &[("incident_id", &id_text), ("private", "false")],
        )
        .await;
    bob.ok(
        "assign_role",
        &[
            ("incident_id", &id_text),
            ("role", "liaison"),
            ("user_id", "0"),
        ],
    )
    .await;
    bob.ok(
        "post_public_update",
        &[
            ("incident_id", &id_text),
            ("public_title", "Checkout trouble"),
            ("status", "identified"),
            ("message", "We found the cause."),
        ],
    )
    .await;
    let refused = alice
        .fails(
            "set_incident_private",
            &[("incident_id", &id_text), ("private", "true")],
            409,
        )
        .await;
    assert!(refused.to_string().contains("already out"), "{refused}");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn publishing_to_the_status_page_is_a_grant_admins_give(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (admin, _alice, _, components) = incident_with_components(&app).await;
    // Carol commands her own incident but was never allowed to speak publicly.
    let carol = app.signed_in("Carol Commander").await;
    let carol_id = carol.ok("me", &[]).await["person"]["id"].to_string();
    let id = carol.declare("Checkout errors", "SEV2").await.to_string();
    carol
        .ok(
            "assign_role",
            &[
                ("incident_id", &id),
                ("role", "commander"),
                ("user_id", "0"),
            ],
        )
        .await;
    let update = [
        ("incident_id", id.as_str()),
        ("public_title", "Checkout trouble"),
        ("status", "investigating"),
        ("message", "Looking."),
    ];
    let refused = carol.fails("post_public_update", &update, 409).await;
    assert!(refused.to_string().contains("an admin allows"), "{refused}");
    let impact = [
        ("incident_id", id.as_str()),
        ("component_id", &components[0].to_string()),
        ("impact", "major_outage"),
    ];
    carol.fails("set_component_impact", &impact, 409).await;
    let side = carol
        .ok("incident_public_side", &[("incident_id", &id)])
        .await;
    assert_eq!(side["can_speak"], false);
    assert_eq!(side["may_publish"], false, "the room says why: {side}");
    // Nor can she hand herself the liaison role, or be given it.
    let refused = carol
        .fails(
            "assign_role",
            &[("incident_id", &id), ("role", "liaison"), ("user_id", "0")],
            422,
        )
        .await;
    assert!(refused.to_string().contains("may not publish"), "{refused}");
    admin
        .fails(
            "assign_role",
            &[
                ("incident_id", &id),
                ("role", "liaison"),
                ("user_id", &carol_id),
            ],
            422,
        )
        .await;
    let published: i64 = sqlx::query_scalar("SELECT count(*) FROM public_updates")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(published, 0, "refusals published nothing");

    // Granted: she speaks as commander.
    grant_publishing(&admin, &carol, true).await;
    let side = carol
        .ok("incident_public_side", &[("incident_id", &id)])
        .await;
    assert_eq!(
        (side["can_speak"].clone(), side["may_publish"].clone()),
        (json!(true), json!(true))
    );
    carol.ok("set_component_impact", &impact).await;
    carol.ok("post_public_update", &update).await;
    // Withdrawn: at once, though she still commands.
    grant_publishing(&admin, &carol, false).await;
    let later = [
        ("incident_id", id.as_str()),
        ("public_title", ""),
        ("status", "identified"),
        ("message", "Found it."),
    ];
    carol.fails("post_public_update", &later, 409).await;
    // Admins hold it by their role.
    admin
        .ok(
            "assign_role",
            &[("incident_id", &id), ("role", "liaison"), ("user_id", "0")],
        )
        .await;
    admin.ok("post_public_update", &later).await;
    // Each grant and withdrawal is on record, by whom and for whom.
    let rows: Vec<(String, Value)> = sqlx::query_as(
        "SELECT target, details FROM audit_log WHERE action = 'publishing_changed' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let carols: Vec<&Value> = rows
        .iter()
        .filter(|(target, _)| *target == format!("user {carol_id}"))
        .map(|(_, details)| details)
        .collect();
    assert_eq!(
        carols,
        [
            &json!({ "may_publish": true }),
            &json!({ "may_publish": false })
        ]
    );
    let members = admin.ok("list_members", &[]).await;
    let carol_row = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "Carol Commander")
        .unwrap();
    assert_eq!(carol_row["may_publish"], false);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn pages_and_json_revalidate_with_etags_and_come_gzipped(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (_admin, _alice, _id, _components) = incident_with_components(&app).await;
    let http = reqwest::Client::builder().no_gzip().build().unwrap();
    // The components appear once the page was rebuilt.
    let public = Client::new(&app.base);
    wait_for_page(&public, "/status", "components", |b| b.contains("Invoices")).await;
    for path in ["/status", "/api/v2/summary.json", "/status/feed.atom"] {
        let url = format!("{}{path}", app.base);
        let first = http.get(&url).send().await.unwrap();
        assert_eq!(first.status(), 200);
        let headers: HeaderMap = first.headers().clone();
        let etag = headers["etag"].to_str().unwrap().to_string();
        assert!(headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age="));
        assert!(headers.contains_key("last-modified"));
        let again = http
            .get(&url)
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert!(again.bytes().await.unwrap().is_empty());
        let gzipped = http
            .get(&url)
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(gzipped.headers()["content-encoding"], "gzip", "{path}");
        assert_eq!(gzipped.headers()["etag"].to_str().unwrap(), etag);
    }
    let page = http
        .get(format!("{}/status", app.base))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("<script"),
        "no JavaScript on the status page"
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn maintenance_starts_and_completes_by_itself_at_its_times(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (admin, _alice, _id, components) = incident_with_components(&app).await;
    let starts = Utc::now() + chrono::Duration::hours(2);
    let ends = starts + chrono::Duration::hours(1);
    announce_maintenance(&admin, starts, ends, components[0]).await;
    // Bad windows change nothing.
    admin
        .fails(
            "schedule_maintenance",
            &[
                ("title", "Backwards"),
                ("message", "x"),
                ("starts_at", &form_time(ends)),
                ("ends_at", &form_time(starts)),
                ("component_ids[0]", &components[0].to_string()),
            ],
            422,
        )
        .await;
    let public = Client::new(&app.base);
    let upcoming = wait_for_page(
        &public,
        "/api/v2/scheduled-maintenances/upcoming.json",
        "upcoming",
        |b| b.contains("Database upgrade"),
    )
    .await;
    assert!(upcoming.contains("\"scheduled\""), "{upcoming}");

    // The clock is passed in: nothing moves before the start…
    let jobs = server_jobs(&pool).await;
    let moves = advance_maintenance(&pool, &jobs, starts - chrono::Duration::minutes(1))
        .await
        .unwrap();
    assert!(moves.is_empty());
    // …it starts at its start (component under maintenance)…
    let moves = advance_maintenance(&pool, &jobs, starts).await.unwrap();
    assert_eq!(moves.len(), 1);
    assert_eq!(moves[0].1.as_str(), "in_progress");
    let data = public_at(&pool, starts).await;
    let checkout = data
        .components
        .iter()
        .find(|c| c.name == "Checkout")
        .unwrap();
    assert_eq!(checkout.status.as_str(), "under_maintenance");
    assert_eq!(data.indicator().as_str(), "maintenance");
    // …a second replica at the same moment moves nothing…
    assert!(advance_maintenance(&pool, &jobs, starts)
        .await
        .unwrap()
        .is_empty());
    // …and completes at its end.
    let moves = advance_maintenance(&pool, &jobs, ends).await.unwrap();
    assert_eq!(moves[0].1.as_str(), "completed");
    let data = public_at(&pool, ends).await;
    let m = &data.maintenances[0];
    assert_eq!(m.status.as_str(), "completed");
    assert_eq!(
        m.updates
            .iter()
            .map(|u| u.status.as_str())
            .collect::<Vec<_>>(),
        ["completed", "in_progress", "scheduled"]
    );
    assert_eq!(
        data.components
            .iter()
            .find(|c| c.name == "Checkout")
            .unwrap()
            .status
            .as_str(),
        "operational"
    );
    // Each move is fanned out to subscribers: one job per update.
    assert_eq!(fan_out_jobs(&pool).await, 3);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_maintenance_window_moves_and_extends_and_each_change_is_public(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (admin, _alice, _id, components) = incident_with_components(&app).await;
    let minute = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    // Whole minutes, as the admin page sends them.
    let now = Utc
        .timestamp_opt(Utc::now().timestamp() / 60 * 60, 0)
        .unwrap();
    let (starts, ends) = (
        now + chrono::Duration::hours(2),
        now + chrono::Duration::hours(3),
    );
    let id = announce_maintenance(&admin, starts, ends, components[0])
        .await
        .to_string();
    let read = async |at| public_at(&pool, at).await.maintenances.remove(0);

    // Moved a day later before it starts: the public is told the new times.
    let (starts, ends) = (
        starts + chrono::Duration::days(1),
        ends + chrono::Duration::days(1),
    );
    admin
        .ok(
            "reschedule_maintenance",
            &[
                ("id", &id),
                ("starts_at", &form_time(starts)),
                ("ends_at", &form_time(ends)),
                ("message", ""),
            ],
        )
        .await;
    let m = read(now).await;
    assert_eq!((m.scheduled_for, m.scheduled_until), (starts, ends));
    assert_eq!(m.status.as_str(), "scheduled");
    assert_eq!(
        m.updates[0].body_md,
        format!(
            "The maintenance has been rescheduled: it now runs from {} to {}.",
            minute(starts),
            minute(ends)
        )
    );

    // Refused changes say why and change nothing.
    for (form, status, reason) in [
        (
            vec![
                ("starts_at", form_time(starts)),
                ("ends_at", form_time(ends)),
            ],
            422,
            "already has",
        ),
        (
            vec![
                ("starts_at", form_time(ends)),
                ("ends_at", form_time(starts)),
            ],
            422,
            "end after it starts",
        ),
        (
            vec![
                ("starts_at", form_time(now - chrono::Duration::hours(3))),
                ("ends_at", form_time(now - chrono::Duration::hours(1))),
            ],
            422,
            "already over",
        ),
        (
            vec![("ends_at", "tomorrow".to_string())],
            422,
            "date and time",
        ),
    ] {
        let mut form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        form.push(("id", &id));
        let refused = admin.fails("reschedule_maintenance", &form, status).await;
        assert!(refused.to_string().contains(reason), "{refused}");
    }
    let m = read(now).await;
    assert_eq!(
        (m.scheduled_for, m.scheduled_until, m.updates.len()),
        (starts, ends, 2)
    );

    // Once it runs, only its end moves: extended with the admin's own words…
    let jobs = server_jobs(&pool).await;
    let maintenance = advance_maintenance;
    assert_eq!(maintenance(&pool, &jobs, starts).await.unwrap().len(), 1);
    let refused = admin
        .fails(
            "reschedule_maintenance",
            &[
                ("id", &id),
                ("starts_at", &form_time(starts + chrono::Duration::hours(1))),
                ("ends_at", &form_time(ends)),
            ],
            422,
        )
        .await;
    assert!(refused.to_string().contains("already started"), "{refused}");
    let later = ends + chrono::Duration::hours(2);
    admin
        .ok(
            "reschedule_maintenance",
            &[
                ("id", &id),
                ("ends_at", &form_time(later)),
                (
                    "message",
                    "The replica is still catching up: two more hours.",
                ),
            ],
        )
        .await;
    let m = read(starts).await;
    assert_eq!((m.scheduled_for, m.scheduled_until), (starts, later));
    assert_eq!(m.status.as_str(), "in_progress");
    assert_eq!(m.updates[0].status.as_str(), "in_progress");
    assert_eq!(
        m.updates[0].body_md,
        "The replica is still catching up: two more hours."
    );
    // …so it does not complete at its old end, but at the new one.
    assert!(maintenance(&pool, &jobs, ends).await.unwrap().is_empty());
    assert_eq!(
        maintenance(&pool, &jobs, later).await.unwrap()[0]
            .1
            .as_str(),
        "completed"
    );
    let refused = admin
        .fails(
            "reschedule_maintenance",
            &[
                ("id", &id),
                ("ends_at", &form_time(later + chrono::Duration::hours(1))),
            ],
            409,
        )
        .await;
    assert!(
        refused.to_string().contains("already completed"),
        "{refused}"
    );
    assert!(admin
        .fails(
            "reschedule_maintenance",
            &[("id", "999999"), ("ends_at", &form_time(later))],
            404,
        )
        .await
        .to_string()
        .contains("maintenance 999999"));

    // Every accepted change reached the subscribers' queue: announce, move, start,
    // extend, complete.
    assert_eq!(fan_out_jobs(&pool).await, 5);
    app.stop().await;
}

/// A time as the admin page's `datetime-local` inputs send it (UTC, whole minutes).
fn form_time(at: chrono::DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M").to_string()
}

/// Announces the "Database upgrade" window on one component; returns its id.
async fn announce_maintenance(
    admin: &Client,
    starts: chrono::DateTime<Utc>,
    ends: chrono::DateTime<Utc>,
    component: i64,
) -> i64 {
    admin
        .ok(
            "schedule_maintenance",
            &[
                ("title", "Database upgrade"),
                ("message", "Checkout may be slow for a few minutes."),
                ("starts_at", &form_time(starts)),
                ("ends_at", &form_time(ends)),
                ("component_ids[0]", &component.to_string()),
            ],
        )
        .await
        .as_i64()
        .expect("maintenance id")
}

/// What the public may see at `at`, read straight from the database.
async fn public_at(
    pool: &PgPool,
    at: chrono::DateTime<Utc>,
) -> warroom_app::status::model::PublicData {
    warroom_app::status::store::public::read(pool, "http://status.test", at)
        .await
        .unwrap()
}

/// Subscriber fan-out jobs enqueued so far: one per public update.
async fn fan_out_jobs(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM underway.task WHERE task_queue_name = 'status-update-fan-out'",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The jobs as the server builds them (for calling the store directly).
/// One run of the maintenance clock at `now`, in its own transaction (as the clock does).
async fn advance_maintenance(
    pool: &PgPool,
    jobs: &warroom_app::jobs::Jobs,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(i64, warroom_app::status::model::MaintenanceStatus)>, warroom_app::error::AppError>
{
    let mut tx = pool.begin().await?;
    let moves = warroom_app::status::store::maintenance::advance(&mut tx, jobs, now).await?;
    tx.commit().await?;
    Ok(moves)
}

async fn server_jobs(pool: &PgPool) -> warroom_app::jobs::Jobs {
    let site = warroom::status::site::StatusSite::new(None, "http://status.test".into());
    let client = warroom::jobs::webhooks::WebhookClient::new(true).unwrap();
    let context = warroom::jobs::JobContext {
        pool: pool.clone(),
        webhooks: std::sync::Arc::new(client),
        site,
    };
    warroom::jobs::build(&context).await.unwrap().app
}

#[sqlx::test(migrations = "../migrations")]
async fn uptime_history_follows_public_impacts(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (_admin, alice, id, components) = incident_with_components(&app).await;
    let id_text = id.to_string();
    go_public(
        &alice,
        &id_text,
        components[1],
        "partial_outage",
        "Invoices are late",
        "investigating",
        "Looking.",
    )
    .await;
    // Move the impact (and the component's creation) back in time: yesterday 10:00-12:00.
    let yesterday = (Utc::now() - chrono::Duration::days(1)).date_naive();
    let start = Utc.from_utc_datetime(&yesterday.and_hms_opt(10, 0, 0).unwrap());
    let end = start + chrono::Duration::hours(2);
    // The impact rows are history; tests may rewrite them (no append-only guard there).
    sqlx::query("UPDATE incident_component_impacts SET started_at = $1, ended_at = $2 WHERE incident_id = $3")
        .bind(start)
        .bind(end)
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE status_components SET created_at = $1")
        .bind(start - chrono::Duration::days(10))
        .execute(&pool)
        .await
        .unwrap();
    let now = Utc::now();
    let data = public_at(&pool, now).await;
    let invoices = data
        .components
        .iter()
        .find(|c| c.name == "Invoices")
        .unwrap();
    assert_eq!(invoices.uptime.len(), 90);
    let day = invoices
        .uptime
        .iter()
        .find(|d| d.date == yesterday)
        .unwrap();
    assert_eq!(day.partial_outage_seconds, 7200);
    assert_eq!(day.incidents[0].name, "Invoices are late");
    let expected = 100.0 * (1.0 - 0.3 * 7200.0 / 86400.0);
    assert!((day.uptime_percent().unwrap() - expected).abs() < 1e-6);
    let checkout = data
        .components
        .iter()
        .find(|c| c.name == "Checkout")
        .unwrap();
    assert!(checkout.uptime.iter().all(|d| d.incidents.is_empty()));
    // Days before the component existed are not counted.
    assert_eq!(invoices.uptime[0].uptime_percent(), None);
    app.stop().await;
}

/// A webhook receiver that answers challenges and fails the first `failures` deliveries.
#[derive(Clone, Default)]
struct Receiver {
    deliveries: Arc<Mutex<Vec<(String, Value)>>>,
    attempts: Arc<Mutex<u32>>,
    failures: u32,
}

async fn start_receiver(failures: u32) -> (String, Receiver) {
    let receiver = Receiver {
        failures,
        ..Default::default()
    };
    let state = receiver.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let state = state.clone();
            async move {
                if body["type"] == "subscription_confirmation" {
                    return (
                        axum::http::StatusCode::OK,
                        body["challenge"].as_str().unwrap().to_string(),
                    );
                }
                let mut attempts = state.attempts.lock().unwrap();
                *attempts += 1;
                if *attempts <= state.failures {
                    return (
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        "try later".to_string(),
                    );
                }
                let id = headers["x-warroom-delivery"].to_str().unwrap().to_string();
                state.deliveries.lock().unwrap().push((id, body.0));
                (axum::http::StatusCode::OK, "ok".to_string())
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, receiver)
}

async fn wait_until(what: &str, timeout: Duration, check: impl Fn() -> bool) {
    eventually(what, timeout, async || {
        check().then_some(()).ok_or_else(String::new)
    })
    .await
}

#[sqlx::test(migrations = "../migrations")]
async fn subscribers_get_each_update_once_despite_failures_and_restarts(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (_admin, alice, id, components) = incident_with_components(&app).await;
    let (url, receiver) = start_receiver(2).await;
    let answer = subscribe(&app, &url).await;
    assert_eq!(answer.status(), 202);
    assert!(answer.text().await.unwrap().contains("challenge"));
    eventually(
        "the subscription's confirmation",
        Duration::from_secs(10),
        async || {
            sqlx::query_scalar::<_, bool>("SELECT confirmed_at IS NOT NULL FROM status_subscribers")
                .fetch_one(&pool)
                .await
                .unwrap()
                .then_some(())
                .ok_or_else(|| "not confirmed".to_string())
        },
    )
    .await;
    // A bad URL is refused with a reason and stores nothing.
    let refused = subscribe(&app, "ftp://example.com/x").await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("http"));

    let id_text = id.to_string();
    go_public(
        &alice,
        &id_text,
        components[0],
        "major_outage",
        "Checkout is down",
        "investigating",
        "First update.",
    )
    .await;
    // Restart Warroom while the delivery is failing: it is not lost.
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The restart comes while deliveries are still being retried.
    app.stop_leaving_jobs().await;
    let app = TestApp::spawn(pool.clone()).await;
    wait_until("the first delivery", Duration::from_secs(30), || {
        !receiver.deliveries.lock().unwrap().is_empty()
    })
    .await;
    let alice = app.signed_in("Alice Internal").await;
    alice
        .ok(
            "post_public_update",
            &[
                ("incident_id", &id_text),
                ("public_title", ""),
                ("status", "monitoring"),
                ("message", "Second update."),
            ],
        )
        .await;
    wait_until("the second delivery", Duration::from_secs(15), || {
        receiver.deliveries.lock().unwrap().len() >= 2
    })
    .await;
    // Give any duplicate a chance to show up.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let deliveries = receiver.deliveries.lock().unwrap().clone();
    assert_eq!(
        deliveries.len(),
        2,
        "exactly one delivery per update: {deliveries:?}"
    );
    assert_ne!(deliveries[0].0, deliveries[1].0, "distinct delivery ids");
    let first = &deliveries[0].1;
    assert_eq!(first["incident"]["name"], "Checkout is down");
    assert_eq!(
        first["incident"]["incident_updates"][0]["body"],
        "First update."
    );
    assert!(first["meta"]["unsubscribe"]
        .as_str()
        .unwrap()
        .contains("/status/unsubscribe?token="));
    assert_eq!(
        deliveries[1].1["incident"]["incident_updates"][0]["body"],
        "Second update."
    );
    let text = serde_json::to_string(&deliveries).unwrap();
    assert!(
        !text.contains("Alice") && !text.contains("db-prod-3"),
        "{text}"
    );
    let attempts: Vec<i32> =
        sqlx::query_scalar("SELECT attempts FROM status_deliveries ORDER BY update_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        attempts,
        [3, 1],
        "two failures then success; then one attempt"
    );

    // Unsubscribing (a GET shows a button; the POST ends it) stops deliveries.
    let visitor = Client::new(&app.base);
    let unsubscribe = first["meta"]["unsubscribe"].as_str().unwrap().to_string();
    let token = unsubscribe.split("token=").nth(1).unwrap().to_string();
    let page = visitor
        .http
        .get(&unsubscribe)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Unsubscribe"));
    let active: bool = sqlx::query_scalar("SELECT unsubscribed_at IS NULL FROM status_subscribers")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(active, "a GET changes nothing");
    let done = visitor
        .http
        .post(format!("{}/status/unsubscribe", app.base))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    alice
        .ok(
            "post_public_update",
            &[
                ("incident_id", &id_text),
                ("public_title", ""),
                ("status", "resolved"),
                ("message", "Third update."),
            ],
        )
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        receiver.deliveries.lock().unwrap().len(),
        2,
        "no delivery after unsubscribing"
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn admins_see_which_subscribers_fail_and_can_remove_them(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (admin, alice, id, components) = incident_with_components(&app).await;
    let (healthy_url, healthy) = start_receiver(0).await;
    let (broken_url, broken) = start_receiver(u32::MAX).await;
    for url in [&healthy_url, &broken_url] {
        assert_eq!(subscribe(&app, url).await.status(), 202);
    }
    eventually("both confirmations", Duration::from_secs(10), async || {
        let list = admin.ok("get_status_subscribers", &[]).await;
        if list
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !s["confirmed_at"].is_null())
        {
            Ok(())
        } else {
            Err(list.to_string())
        }
    })
    .await;
    let subscriber_ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM status_subscribers ORDER BY created_at, id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let broken_id = subscriber_ids[1];

    let id_text = id.to_string();
    go_public(
        &alice,
        &id_text,
        components[0],
        "partial_outage",
        "Checkout is slow",
        "investigating",
        "Looking into it.",
    )
    .await;
    let list = eventually(
        "the deliveries to settle",
        Duration::from_secs(20),
        async || {
            let list = admin.ok("get_status_subscribers", &[]).await;
            if list[0]["delivered"] == 1 && list[1]["failing"] == 1 {
                Ok(list)
            } else {
                Err(list.to_string())
            }
        },
    )
    .await;
    assert_eq!(healthy.deliveries.lock().unwrap().len(), 1);
    assert!(*broken.attempts.lock().unwrap() >= 1);
    let (good, bad) = (&list[0], &list[1]);
    let origin = |url: &str| url.trim_end_matches("/hook").to_string();
    assert_eq!(good["url_hint"], format!("{}/…", origin(&healthy_url)));
    assert_eq!(bad["url_hint"], format!("{}/…", origin(&broken_url)));
    assert_eq!(good["failing"], 0);
    assert!(good["last_delivered_at"].is_string());
    assert!(good["last_error"].is_null(), "{good}");
    assert_eq!(bad["delivered"], 0);
    assert!(bad["last_delivered_at"].is_null());
    assert!(
        bad["last_error"]
            .as_str()
            .unwrap()
            .contains("500 Internal Server Error"),
        "{bad}"
    );
    // Webhook paths are often secret: the admin page never receives them.
    assert!(!list.to_string().contains("/hook"), "{list}");

    // Removing the broken one: audited (with the hint only), its retries stop, it gets
    // no further updates, and removing it again says why.
    admin
        .ok(
            "remove_status_subscriber",
            &[("id", &broken_id.to_string())],
        )
        .await;
    let list = admin.ok("get_status_subscribers", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let (action, details): (String, Value) = sqlx::query_as(
        "SELECT action, details FROM audit_log WHERE action = 'status_subscriber_removed'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(action, "status_subscriber_removed");
    assert_eq!(details["url"], format!("{}/…", origin(&broken_url)));
    let again = admin
        .fails(
            "remove_status_subscriber",
            &[("id", &broken_id.to_string())],
            404,
        )
        .await;
    assert!(
        again.to_string().contains("unsubscribed already"),
        "{again}"
    );
    alice.fails("get_status_subscribers", &[], 403).await;
    alice
        .ok(
            "post_public_update",
            &[
                ("incident_id", &id_text),
                ("public_title", ""),
                ("status", "resolved"),
                ("message", "Fixed."),
            ],
        )
        .await;
    wait_until("the second delivery", Duration::from_secs(15), || {
        healthy.deliveries.lock().unwrap().len() >= 2
    })
    .await;
    let planned: i64 =
        sqlx::query_scalar("SELECT count(*) FROM status_deliveries WHERE subscriber_id = $1")
            .bind(broken_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(planned, 1, "nothing new planned for a removed subscriber");
    app.stop().await;
}

#[tokio::test]
async fn the_page_keeps_serving_with_postgres_stopped_and_after_a_restart() -> anyhow::Result<()> {
    // A Postgres of this test's own, so it can be stopped.
    let dir = std::env::temp_dir().join(format!("wr-pgstop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let pg = warroom::db::embedded::EmbeddedPostgres::start(&dir.join("pg"), None).await?;
    let pool = warroom::db::connect(&pg.database_url(), 10)?;
    let mut config = warroom::config::Config::for_tests();
    config.status_snapshot = Some(dir.join("status-snapshot.json"));
    let app = TestApp::spawn_with(pool.clone(), config.clone()).await;
    let (_admin, alice, id, components) = incident_with_components(&app).await;
    let id_text = id.to_string();
    go_public(
        &alice,
        &id_text,
        components[0],
        "major_outage",
        "Checkout is down",
        "identified",
        "A bad deploy; rolling back.",
    )
    .await;
    let public = Client::new(&app.base);
    wait_for_page(&public, "/status", "the update", |b| {
        b.contains("A bad deploy; rolling back.")
    })
    .await;

    pg.stop().await?;
    let page = wait_for_page(&public, "/status", "the stale notice", |b| {
        b.contains("could not be refreshed")
    })
    .await;
    assert!(
        page.contains("A bad deploy; rolling back.") && page.contains("Major outage"),
        "{page}"
    );
    let summary = public.get("/api/v2/summary.json").await;
    assert_eq!(summary.status(), 200);
    assert!(summary.text().await?.contains("Checkout is down"));
    // Postgres is stopped under it: its queue cannot be read back.
    app.stop_leaving_jobs().await;

    // Warroom restarts while Postgres is still down: the page comes from disk.
    let app = TestApp::start(pool.clone(), config.clone()).await;
    let public = Client::new(&app.base);
    let page = public.get("/status").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await?;
    assert!(page.contains("A bad deploy; rolling back."), "{page}");
    assert!(
        page.contains("could not be refreshed"),
        "says how old it is: {page}"
    );
    let json: Value = public
        .get("/api/v2/incidents/unresolved.json")
        .await
        .json()
        .await?;
    assert_eq!(json["incidents"][0]["name"], "Checkout is down");
    // The rest of Warroom waits for its database.
    assert_eq!(public.get("/incidents").await.status(), 503);

    // Postgres is back: Warroom starts fully and the page is fresh again.
    let pg = warroom::db::embedded::EmbeddedPostgres::start(&dir.join("pg"), None).await?;
    wait_for_page(&public, "/status", "a fresh page", |b| {
        b.contains("A bad deploy; rolling back.") && !b.contains("could not be refreshed")
    })
    .await;
    app.stop().await;
    pool.close().await;
    pg.stop().await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
