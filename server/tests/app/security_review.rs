//! Regression tests for the security review of 2026-12 (issue 11), over HTTP against the
//! real app on a fresh database: each failed before its fix.

use std::time::Duration;

use crate::support::{Client, TestApp};
use base64::Engine;
use scraper::{Html, Selector};
use serde_json::{json, Value};
use sqlx::PgPool;
use warroom::config::Config;

/// Markup a title or name would carry to take over a page: closing the `<title>`,
/// redirecting every viewer, and a form posting to a server function.
const HEAD_PAYLOAD: &str =
    "</title><meta http-equiv=refresh content=0;url=//evil.example><form action=/api/set_member_role>";

/// The parsed page at `path`, asked for as a browser would.
async fn page(client: &Client, path: &str) -> (u16, Html) {
    let response = client
        .http
        .get(format!("{}{path}", client.base))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        Html::parse_document(&response.text().await.unwrap()),
    )
}

fn select<'a>(html: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    html.select(&Selector::parse(css).unwrap()).collect()
}

/// The document title as a browser reads it, after checking that nothing in the page
/// is an element the payload made: no refresh, no form posting to a server function.
fn title_of(html: &Html) -> String {
    assert!(
        select(html, "meta[http-equiv]").is_empty(),
        "a refresh element came from user text: {}",
        html.html()
    );
    assert!(
        select(html, "form[action=\"/api/set_member_role\"]").is_empty(),
        "a form came from user text"
    );
    let titles = select(html, "head > title");
    assert_eq!(titles.len(), 1, "one title in the head: {}", html.html());
    titles[0].text().collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn user_text_in_the_document_head_is_shown_literally_on_every_page(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada Admin", "admin").await;

    // The room: titles from people and from API tokens (alert integrations).
    let by_person = admin.declare(HEAD_PAYLOAD, "SEV2").await;
    let (status, html) = page(&admin, &format!("/incidents/{by_person}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        title_of(&html),
        format!("INC-{by_person} {HEAD_PAYLOAD} · Warroom")
    );
    let token = admin
        .ok(
            "create_token",
            &[
                ("name", "Alerts"),
                ("scopes[0]", "incidents:write"),
                ("expires_in_days", "1"),
            ],
        )
        .await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let created: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/incidents", app.base))
        .bearer_auth(&token)
        .json(&json!({"title": HEAD_PAYLOAD, "severity": "SEV3"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let by_token = created["id"].as_i64().unwrap();
    let (_, html) = page(&admin, &format!("/incidents/{by_token}")).await;
    assert_eq!(
        title_of(&html),
        format!("INC-{by_token} {HEAD_PAYLOAD} · Warroom")
    );

    // The status page: the public title of an incident, a maintenance title, and the
    // page's own name, each in the head of the pages that show them.
    let group = admin
        .ok("create_status_group", &[("name", HEAD_PAYLOAD)])
        .await["id"]
        .to_string();
    let component = admin
        .ok(
            "create_status_component",
            &[("name", HEAD_PAYLOAD), ("group_id", &group)],
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let id = by_person.to_string();
    admin
        .ok(
            "assign_role",
            &[
                ("incident_id", &id),
                ("role", "commander"),
                ("user_id", "0"),
            ],
        )
        .await;
    admin
        .ok(
            "set_component_impact",
            &[
                ("incident_id", &id),
                ("component_id", &component.to_string()),
                ("impact", "major_outage"),
            ],
        )
        .await;
    admin
        .ok(
            "post_public_update",
            &[
                ("incident_id", &id),
                ("public_title", HEAD_PAYLOAD),
                ("status", "investigating"),
                ("message", HEAD_PAYLOAD),
            ],
        )
        .await;
    let starts = chrono::Utc::now() + chrono::Duration::days(2);
    admin
        .ok(
            "schedule_maintenance",
            &[
                ("title", HEAD_PAYLOAD),
                ("message", HEAD_PAYLOAD),
                ("starts_at", &starts.format("%Y-%m-%dT%H:%M").to_string()),
                (
                    "ends_at",
                    &(starts + chrono::Duration::hours(1))
                        .format("%Y-%m-%dT%H:%M")
                        .to_string(),
                ),
                ("component_ids[0]", &component.to_string()),
            ],
        )
        .await;
    let name = "Acme <b>&</b> Co";
    admin
        .ok(
            "save_status_branding",
            &[("page_name", name), ("accent_color", "#123456")],
        )
        .await;
    let summary = eventually(|| async {
        let summary: Value = admin
            .get("/api/v2/summary.json")
            .await
            .json()
            .await
            .unwrap();
        let ready = summary["page"]["name"] == name
            && summary["incidents"][0]["name"] == HEAD_PAYLOAD
            && summary["scheduled_maintenances"][0]["name"] == HEAD_PAYLOAD;
        ready.then_some(summary)
    })
    .await;
    let incident_page = format!(
        "/status/incidents/{}",
        summary["incidents"][0]["id"].as_str().unwrap()
    );
    let maintenance_page = format!(
        "/status/maintenances/{}",
        summary["scheduled_maintenances"][0]["id"].as_str().unwrap()
    );
    let visitor = Client::new(&app.base);
    for (path, expected) in [
        ("/status".to_string(), format!("{name} status")),
        (incident_page, format!("{HEAD_PAYLOAD} · {name} status")),
        (maintenance_page, format!("{HEAD_PAYLOAD} · {name} status")),
        (
            "/status/history".to_string(),
            format!("History · {name} status"),
        ),
    ] {
        let (status, html) = page(&visitor, &path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(title_of(&html), expected, "{path}");
    }
    app.stop().await;
}

/// Retries `check` until it gives a value (up to 10 s).
async fn eventually<T, F, Fut>(check: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "never happened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn markdown_is_rendered_when_written_and_nesting_is_bounded(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let alice = app.signed_in("Alice").await;
    let id = alice.declare("Replica lag", "SEV2").await;

    // New texts nested deeper than 32 levels are refused, saying why, and change nothing.
    let deep = ">".repeat(20_000);
    let err = alice
        .fails(
            "add_note",
            &[
                ("incident_id", &id.to_string()),
                ("kind", "note"),
                ("body", &deep),
            ],
            422,
        )
        .await;
    assert!(
        err["Validation"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 32"),
        "{err}"
    );
    let notes: i64 = sqlx::query_scalar("SELECT count(*) FROM note_revisions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(notes, 0);

    // A note is rendered once, when written: its HTML is stored beside its source.
    let entry = alice.note(id, "note", "**disk** full").await;
    let (html, version): (Option<String>, Option<i16>) =
        sqlx::query_as("SELECT body_html, html_version FROM note_revisions WHERE entry_id = $1")
            .bind(entry)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(html.as_deref(), Some("<p><strong>disk</strong> full</p>\n"));
    assert_eq!(version, Some(warroom_app::markdown::RENDERER_VERSION));

    // A text stored before (no rendering, 20,000 levels deep) is rendered flattened.
    let author: i64 = sqlx::query_scalar("SELECT id FROM users LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let old: i64 = sqlx::query_scalar(
        "INSERT INTO timeline_entries (incident_id, kind, author_id) VALUES ($1, 'note', $2) RETURNING id",
    )
    .bind(id)
    .bind(author)
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO note_revisions (entry_id, revision, body_md, edited_by) VALUES ($1, 1, $2, $3)",
    )
    .bind(old)
    .bind(format!("{} bottom", &deep[..19_990]))
    .bind(author)
    .execute(&pool)
    .await
    .unwrap();
    let room = alice.room(id).await;
    let entries = room["timeline"]["entries"].as_array().unwrap();
    let legacy = entries.iter().find(|e| e["id"] == old).unwrap();
    let html = legacy["event"]["body_html"].as_str().unwrap();
    assert_eq!(html.matches("<blockquote>").count(), 32, "flattened");
    assert!(html.contains("bottom"));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_room_opens_with_the_newest_page_and_loads_older_ones_on_request(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let alice = app.signed_in("Alice").await;
    let id = alice.declare("Long incident", "SEV2").await;
    let first_note = alice.note(id, "note", "first note").await;
    alice
        .ok(
            "set_pin",
            &[("entry_id", &first_note.to_string()), ("pinned", "true")],
        )
        .await;
    // 250 more entries, written straight to the database (the room only reads them).
    let author: i64 = sqlx::query_scalar("SELECT id FROM users LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    for n in 0..250 {
        sqlx::query(
            "INSERT INTO timeline_entries (incident_id, kind, author_id, details)
             VALUES ($1, 'severity_changed', $2, jsonb_build_object('kind', 'severity_changed', 'from', 'SEV2', 'to', $3::text))",
        )
        .bind(id)
        .bind(author)
        .bind(format!("SEV{}", n % 3 + 1))
        .execute(&pool)
        .await
        .unwrap();
    }
    let room = alice.room(id).await;
    let newest = room["timeline"]["entries"].as_array().unwrap();
    assert_eq!(newest.len(), 100, "one page");
    assert_eq!(room["timeline"]["older"], true);
    // The pinned note is far back, and still shown as pinned.
    assert_eq!(room["pinned"][0]["id"], first_note);
    assert_eq!(room["pinned"][0]["event"]["body_md"], "first note");

    // Older pages, back to the start, each entry once.
    let mut seen: Vec<i64> = newest.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    let mut before = seen[0];
    loop {
        let page = alice
            .ok(
                "timeline_page",
                &[
                    ("incident_id", &id.to_string()),
                    ("before", &before.to_string()),
                ],
            )
            .await;
        let entries = page["entries"].as_array().unwrap();
        let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first");
        assert!(ids.iter().all(|i| *i < before));
        before = ids[0];
        seen.splice(0..0, ids);
        if page["older"] == false {
            break;
        }
    }
    let all: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM timeline_entries WHERE incident_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(seen, all);

    // The token API pages the timeline too.
    let admin = app.signed_in_as("Ada", "admin").await;
    let token = admin
        .ok(
            "create_token",
            &[
                ("name", "Reader"),
                ("scopes[0]", "incidents:read"),
                ("expires_in_days", "1"),
            ],
        )
        .await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let body: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/incidents/{id}?limit=10", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = body["timeline"].as_array().unwrap();
    assert_eq!(entries.len(), 10);
    assert_eq!(entries[9]["id"].as_i64(), all.last().copied());
    assert_eq!(body["timeline_older_than"], entries[0]["id"]);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_incident_list_is_paged_in_the_app_and_the_api(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let alice = app.signed_in_as("Alice", "admin").await;
    for n in 0..60 {
        alice.declare(&format!("Incident {n}"), "SEV3").await;
    }
    let first = alice
        .ok(
            "list_incidents",
            &[
                ("status", "all"),
                ("severity", ""),
                ("q", ""),
                ("page", "1"),
            ],
        )
        .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 50);
    assert_eq!(first["has_next"], true);
    let second = alice
        .ok(
            "list_incidents",
            &[
                ("status", "all"),
                ("severity", ""),
                ("q", ""),
                ("page", "2"),
            ],
        )
        .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 10);
    assert_eq!(second["has_next"], false);
    assert_eq!(second["items"][9]["title"], "Incident 0");

    let token = alice
        .ok(
            "create_token",
            &[
                ("name", "Reader"),
                ("scopes[0]", "incidents:read"),
                ("expires_in_days", "1"),
            ],
        )
        .await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let list = |query: &'static str| {
        let (base, token) = (app.base.clone(), token.clone());
        async move {
            reqwest::Client::new()
                .get(format!("{base}/api/v1/incidents?{query}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let body: Value = list("status=all&per_page=25&page=3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["incidents"].as_array().unwrap().len(), 10);
    assert_eq!(body["next_page"], Value::Null);
    let body: Value = list("status=all&per_page=25").await.json().await.unwrap();
    assert_eq!(body["next_page"], 2);
    assert_eq!(list("per_page=5000").await.status(), 422);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_live_stream_ends_when_its_sign_in_ends_or_expires(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let writer = app.signed_in("Rita").await;
    let id = writer.declare("Streams", "SEV2").await;
    // Two browsers of one viewer: one signs out everywhere, the other's stream ends.
    let watching = app.signed_in_as("Vic", "viewer").await;
    let mut stream = watching.live(id, None).await;
    writer.note(id, "note", "before").await;
    stream.next_of("entry", Duration::from_secs(5)).await;
    let other_browser = app.signed_in_as("Vic", "viewer").await;
    other_browser.ok("sign_out_everywhere", &[]).await;
    assert!(
        stream.ends_within(Duration::from_secs(5)).await,
        "the stream kept going after sign-out everywhere"
    );
    writer.note(id, "note", "SECRET-AFTER-SIGN-OUT").await;

    // Signing out of the browser itself.
    let viewer = app.signed_in_as("Val", "viewer").await;
    let mut stream = viewer.live(id, None).await;
    viewer.ok("sign_out", &[]).await;
    assert!(stream.ends_within(Duration::from_secs(5)).await);

    // A sign-in that simply runs out (no announcement) ends within the periodic check.
    let viewer = app.signed_in_as("Vera", "viewer").await;
    let mut stream = viewer.live(id, None).await;
    sqlx::query(
        "UPDATE sign_ins SET expires_at = now() WHERE user_id = (SELECT id FROM users WHERE display_name = 'Vera')",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert!(stream.ends_within(Duration::from_secs(15)).await);
    // Reconnecting is refused.
    let response = viewer.get(&format!("/live/incidents/{id}")).await;
    assert_eq!(response.status(), 401);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn disabling_a_person_or_changing_their_role_ends_or_rechecks_their_live_streams(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let id = admin.declare("Offboarding", "SEV2").await;
    let leaver = app.signed_in_as("Lee", "viewer").await;
    let leaver_id = leaver.ok("me", &[]).await["person"]["id"].to_string();
    let mut stream = leaver.live(id, None).await;
    let mut second_tab = leaver.live(id, None).await;
    // A role change is announced and checked; every role may still read, so it goes on.
    admin
        .ok(
            "set_member_role",
            &[("user_id", &leaver_id), ("role", "leadership")],
        )
        .await;
    admin.note(id, "note", "still visible to leadership").await;
    stream.next_of("entry", Duration::from_secs(5)).await;
    // Disabling ends every stream of theirs at once.
    admin.ok("disable_member", &[("user_id", &leaver_id)]).await;
    assert!(stream.ends_within(Duration::from_secs(5)).await);
    assert!(second_tab.ends_within(Duration::from_secs(5)).await);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn one_sign_in_holds_at_most_ten_live_streams(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let viewer = app.signed_in_as("Vic", "viewer").await;
    let id = app.signed_in("Rita").await.declare("Crowd", "SEV3").await;
    let mut streams = Vec::new();
    for _ in 0..10 {
        streams.push(viewer.live(id, None).await);
    }
    let refused = viewer.get(&format!("/live/incidents/{id}")).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.text().await.unwrap().contains("close some tabs"));
    // Another browser of the same person has its own allowance.
    let other = app.signed_in_as("Vic", "viewer").await;
    let _more = other.live(id, None).await;
    // Closing one frees a place.
    drop(streams.pop());
    eventually(|| async {
        let response = viewer.get(&format!("/live/incidents/{id}")).await;
        (response.status() == 200).then_some(())
    })
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn requests_for_unknown_host_names_and_proxied_development_sign_ins_are_refused(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool.clone()).await;
    let port = app.base.rsplit(':').next().unwrap().to_string();
    let rebound = format!("rebind.attacker.example:{port}");
    // DNS rebinding: the page's own origin, under the attacker's name.
    let response = reqwest::Client::new()
        .post(format!("{}/api/dev_sign_in", app.base))
        .header("Host", &rebound)
        .header("Origin", format!("http://{rebound}"))
        .form(&[("name", "Rebinder"), ("role", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 421);
    for path in ["/incidents", "/status", "/api/v2/summary.json"] {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", app.base))
            .header("Host", &rebound)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 421, "{path}");
    }
    // Probes answer whatever the name.
    let health = reqwest::Client::new()
        .get(format!("{}/healthz", app.base))
        .header("Host", "10.1.2.3:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // `localhost` is this machine's own name.
    let local = reqwest::Client::new()
        .get(format!("{}/status", app.base))
        .header("Host", format!("localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(local.status(), 200);

    // Behind a reverse proxy on this host, the development sign-in would admit anyone
    // who reaches the proxy: a forwarded request is refused, and offered nothing.
    for header in ["X-Forwarded-For", "Forwarded", "X-Real-IP"] {
        let client = Client::new(&app.base);
        let response = client
            .http
            .post(format!("{}/api/dev_sign_in", app.base))
            .header(header, "for=203.0.113.9")
            .form(&[("name", "Proxied"), ("role", "admin")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{header}");
        let options: Value = client
            .http
            .post(format!("{}/api/sign_in_options", app.base))
            .header(header, "for=203.0.113.9")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(options["dev_sign_in"], false, "{header}");
    }
    let people: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users WHERE display_name IN ('Rebinder', 'Proxied')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(people, 0);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn refusals_are_counted_not_each_written_and_accounts_are_rate_limited(pool: PgPool) {
    let mut config = Config::for_tests();
    config.account_rate_per_minute = 100;
    let app = TestApp::spawn_with(pool.clone(), config).await;
    let viewer = app.signed_in_as("Vic", "viewer").await;
    // Counters are per minute: start where the whole test fits in one.
    away_from_the_end_of_a_minute().await;
    for _ in 0..40 {
        viewer.fails("list_members", &[], 403).await;
    }
    let refused_rows = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM audit_log WHERE action = 'access_refused' AND NOT details ? 'summary'",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    assert_eq!(
        refused_rows().await,
        5,
        "the first five are written, the rest counted"
    );
    // Unauthenticated token API refusals from one address, likewise.
    for _ in 0..20 {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/incidents", app.base))
            .bearer_auth("wr_not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
    let token_rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'token_refused'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(token_rows, 5);
    // When the minute is over, one entry says how many there were.
    sqlx::query("UPDATE rate_limits SET window_start = window_start - interval '1 minute'")
        .execute(&pool)
        .await
        .unwrap();
    warroom_app::limits::close_finished_minutes(&pool)
        .await
        .unwrap();
    let summaries: Vec<(String, Value)> = sqlx::query_as(
        "SELECT action, details FROM audit_log WHERE details ? 'summary' ORDER BY action",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(summaries.len(), 2, "{summaries:?}");
    assert_eq!(summaries[0].0, "access_refused");
    assert_eq!(summaries[0].1["refusals"], 40);
    assert_eq!(summaries[0].1["not_recorded_individually"], 35);
    assert_eq!(summaries[1].0, "token_refused");
    assert_eq!(summaries[1].1["refusals"], 20);

    // One person's calls per minute are limited, whichever browser makes them.
    let busy = app.signed_in("Busy").await;
    let mut statuses = Vec::new();
    for _ in 0..105 {
        statuses.push(busy.call("me", &[]).await.status().as_u16());
    }
    assert!(statuses[..100].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses[100..].iter().all(|s| *s == 429), "{statuses:?}");
    let other_browser = app.signed_in("Busy").await;
    let limited = other_browser.call("list_severities", &[]).await;
    assert_eq!(limited.status(), 429);
    let body: Value = limited.json().await.unwrap();
    assert!(body["TooMany"].as_str().unwrap().contains("wait"), "{body}");
    app.stop().await;
}

/// Waits, if need be, until at least 15 seconds of the current minute remain.
async fn away_from_the_end_of_a_minute() {
    use chrono::Timelike;
    let second = chrono::Utc::now().second();
    if second >= 45 {
        tokio::time::sleep(Duration::from_secs(u64::from(61 - second))).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn malformed_and_oversized_requests_answer_400_and_413_with_a_reason(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let alice = app.signed_in("Alice").await;
    let id = alice.declare("Inputs", "SEV3").await.to_string();
    let err = alice
        .fails(
            "add_note",
            &[("incident_id", "abc"), ("kind", "note"), ("body", "x")],
            400,
        )
        .await;
    assert!(err["Malformed"].as_str().is_some(), "{err}");
    let err = alice
        .fails("add_note", &[("incident_id", &id), ("kind", "note")], 400)
        .await;
    assert!(err["Malformed"].as_str().unwrap().contains("body"), "{err}");
    let err = alice
        .fails("incident_room", &[("id", "99999999999999999999999")], 400)
        .await;
    assert!(err["Malformed"].is_string(), "{err}");
    let huge = "x".repeat(3 * 1024 * 1024);
    let err = alice
        .fails(
            "add_note",
            &[("incident_id", &id), ("kind", "note"), ("body", &huge)],
            413,
        )
        .await;
    assert!(
        err["TooLarge"].as_str().unwrap().contains("too large"),
        "{err}"
    );
    // Also when the size is not announced in advance.
    let chunks = futures::stream::iter(
        (0..48).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'x'; 65_536]))),
    );
    let response = alice
        .http
        .post(format!("{}/api/add_note", app.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let notes: i64 = sqlx::query_scalar("SELECT count(*) FROM note_revisions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(notes, 0);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn only_error_messages_warroom_wrote_are_shown_from_a_url(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let crafted = base64::engine::general_purpose::URL_SAFE
        .encode(r#"{"Conflict":"Warroom has moved. Sign in at https://evil.example/warroom"}"#);
    let visitor = Client::new(&app.base);
    let response = visitor
        .get(&format!("/login?__path=/api/dev_sign_in&__err={crafted}"))
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login");
    let (_, html) = page(&visitor, "/login").await;
    assert!(!html.html().contains("Warroom has moved"));

    // A real failure of a form posted without JavaScript comes back signed and shown.
    let response = visitor
        .http
        .post(format!("{}/api/dev_sign_in", app.base))
        .header("Accept", "text/html")
        .header("Referer", format!("{}/login", app.base))
        .form(&[("name", "!!!"), ("role", "viewer")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("__sig="), "{location}");
    let back = visitor
        .http
        .get(&location)
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 200);
    assert!(back
        .text()
        .await
        .unwrap()
        .contains("at least one letter or digit"));
    // Tampering with the message breaks the signature.
    let tampered = location.replace("__err=", &format!("__err={crafted}&x="));
    let response = visitor.http.get(&tampered).send().await.unwrap();
    assert_eq!(response.status(), 303);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn images_in_notes_are_links_and_pages_load_images_only_from_warroom(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let alice = app.signed_in("Alice").await;
    let id = alice.declare("Tracking", "SEV3").await;
    alice
        .note(
            id,
            "note",
            "![dashboard](https://tracker.example/pixel.png) and <img src=https://tracker.example/2.png>",
        )
        .await;
    let response = alice.get(&format!("/incidents/{id}")).await;
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("img-src 'self' data:;"), "{csp}");
    let html = Html::parse_document(&response.text().await.unwrap());
    assert!(select(&html, "img[src^=\"https://tracker\"]").is_empty());
    let links = select(
        &html,
        ".markdown a[href=\"https://tracker.example/pixel.png\"]",
    );
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].text().collect::<String>(), "Image: dashboard");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn signed_in_answers_are_never_cached_and_https_sites_send_hsts(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let alice = app.signed_in("Alice").await;
    let id = alice.declare("Cache", "SEV3").await;
    let room = alice.get(&format!("/incidents/{id}")).await;
    assert_eq!(room.headers()["cache-control"], "no-store");
    assert!(room.headers().get("strict-transport-security").is_none());
    let call = alice
        .call("incident_room", &[("id", &id.to_string())])
        .await;
    assert_eq!(call.headers()["cache-control"], "no-store");
    let api = reqwest::Client::new()
        .get(format!("{}/api/v1/incidents", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(api.headers()["cache-control"], "no-store");
    // The public page keeps its own caching.
    let status = alice.get("/status").await;
    assert!(status.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("public"));
    app.stop().await;

    let mut config = Config::for_tests();
    config.public_url = Some("https://warroom.example.com".into());
    let app = TestApp::spawn_with(pool, config).await;
    let response = reqwest::Client::new()
        .get(format!("{}/login", app.base))
        .header("Host", "warroom.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    app.stop().await;
}
