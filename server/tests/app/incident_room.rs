//! The incident room over HTTP against a real Postgres: declaring, the status lifecycle,
//! roles and their history, notes and their versions, sanitising, and the Origin check.

use crate::support::{Client, TestApp};
use serde_json::Value;
use sqlx::PgPool;

fn entry_kinds(room: &Value) -> Vec<String> {
    room["timeline"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn declaring_an_incident_opens_it_investigating_with_a_declared_entry(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let alice = app.signed_in("Alice Example").await;

    let id = alice.declare("Checkout returns 500s", "SEV1").await;
    let room = alice.room(id).await;

    assert_eq!(room["incident"]["title"], "Checkout returns 500s");
    assert_eq!(room["incident"]["status"], "investigating");
    assert_eq!(room["incident"]["severity"]["key"], "SEV1");
    assert_eq!(
        room["incident"]["severity"]["description"],
        "Critical — respond immediately"
    );
    assert_eq!(room["incident"]["declared_by"]["name"], "Alice Example");
    assert_eq!(room["incident"]["summary_html"], "<p>We are on it.</p>\n");
    assert_eq!(entry_kinds(&room), ["declared"]);
    assert_eq!(
        room["timeline"]["entries"][0]["author"]["name"],
        "Alice Example"
    );
    assert!(room["bridge_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("inc-{id}-checkout-returns-500s")));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn declaring_with_bad_input_says_why_and_stores_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let alice = app.signed_in("alice").await;

    let err = alice
        .fails(
            "declare_incident",
            &[("title", "  "), ("summary", ""), ("severity", "SEV1")],
            422,
        )
        .await;
    assert_eq!(err["Validation"]["field"], "title");
    let err = alice
        .fails(
            "declare_incident",
            &[("title", "DB down"), ("summary", ""), ("severity", "SEV9")],
            422,
        )
        .await;
    assert_eq!(
        err["Validation"]["message"],
        "Unknown severity \"SEV9\": choose one of SEV1, SEV2, SEV3."
    );

    assert_eq!(count(&pool, "incidents").await, 0);
    assert_eq!(count(&pool, "timeline_entries").await, 0);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_status_lifecycle_allows_legal_moves_and_refuses_illegal_ones(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let alice = app.signed_in("alice").await;
    let id = alice.declare("Queue backlog", "SEV2").await;
    let id_text = id.to_string();
    let set = |status: &'static str| {
        [
            ("incident_id", id_text.clone()),
            ("status", status.to_string()),
        ]
    };

    for status in ["identified", "monitoring", "resolved"] {
        let form = set(status);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        alice.ok("set_status", &form).await;
    }
    let room = alice.room(id).await;
    let milestones = &room["incident"]["milestones"];
    assert!(
        milestones["acknowledged_at"].is_string(),
        "leaving investigating acknowledges"
    );
    assert!(
        milestones["mitigated_at"].is_string(),
        "monitoring means mitigated"
    );
    assert!(milestones["resolved_at"].is_string());
    let entries_before = count(&pool, "timeline_entries").await;

    // A resolved incident cannot jump to monitoring: clear error, nothing changes.
    let err = alice
        .fails(
            "set_status",
            &[("incident_id", &id_text), ("status", "monitoring")],
            409,
        )
        .await;
    assert!(
        err["Conflict"]
            .as_str()
            .unwrap()
            .contains("reopen it first"),
        "{err}"
    );
    let err = alice
        .fails(
            "set_status",
            &[("incident_id", &id_text), ("status", "resolved")],
            409,
        )
        .await;
    assert_eq!(err["Conflict"], "The incident is already resolved.");
    let err = alice
        .fails(
            "set_status",
            &[("incident_id", &id_text), ("status", "fixed")],
            422,
        )
        .await;
    assert_eq!(err["Validation"]["field"], "status");
    assert_eq!(count(&pool, "timeline_entries").await, entries_before);
    assert_eq!(alice.room(id).await["incident"]["status"], "resolved");

    // Reopening goes back to investigating and clears resolution, keeping acknowledgement.
    alice
        .ok(
            "set_status",
            &[("incident_id", &id_text), ("status", "investigating")],
        )
        .await;
    let room = alice.room(id).await;
    assert_eq!(room["incident"]["status"], "investigating");
    assert!(room["incident"]["milestones"]["resolved_at"].is_null());
    assert!(room["incident"]["milestones"]["acknowledged_at"].is_string());
    let changes: Vec<(String, String)> = room["timeline"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"]["kind"] == "status_changed")
        .map(|e| {
            (
                e["event"]["from"].as_str().unwrap().into(),
                e["event"]["to"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("investigating", "identified"),
        ("identified", "monitoring"),
        ("monitoring", "resolved"),
        ("resolved", "investigating"),
    ];
    assert_eq!(
        changes,
        expected.map(|(a, b)| (a.to_string(), b.to_string()))
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn severity_changes_are_recorded(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let alice = app.signed_in("alice").await;
    let id = alice.declare("Slow search", "SEV3").await;
    alice
        .ok(
            "set_severity",
            &[("incident_id", &id.to_string()), ("severity", "SEV1")],
        )
        .await;
    let err = alice
        .fails(
            "set_severity",
            &[("incident_id", &id.to_string()), ("severity", "SEV1")],
            409,
        )
        .await;
    assert_eq!(err["Conflict"], "The incident is already SEV1.");
    let room = alice.room(id).await;
    assert_eq!(room["incident"]["severity"]["key"], "SEV1");
    let last = room["timeline"]["entries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["event"],
        serde_json::json!({"kind": "severity_changed", "from": "SEV3", "to": "SEV1"})
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn role_handoffs_keep_the_history_of_who_held_what_and_when(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let alice = app.signed_in("Alice").await;
    let bob = app.signed_in("Bob").await;
    let id = alice.declare("Login outage", "SEV1").await;
    let id_text = id.to_string();
    let bob_id = bob.ok("me", &[]).await["person"]["id"]
        .as_i64()
        .unwrap()
        .to_string();

    // Alice claims command; the incident counts as acknowledged from then.
    alice
        .ok(
            "assign_role",
            &[
                ("incident_id", &id_text),
                ("role", "commander"),
                ("user_id", "0"),
            ],
        )
        .await;
    let room = alice.room(id).await;
    assert!(room["incident"]["milestones"]["acknowledged_at"].is_string());
    // She hands it to Bob; Bob and Alice both join the fixers.
    alice
        .ok(
            "assign_role",
            &[
                ("incident_id", &id_text),
                ("role", "commander"),
                ("user_id", &bob_id),
            ],
        )
        .await;
    alice
        .ok(
            "assign_role",
            &[
                ("incident_id", &id_text),
                ("role", "fixer"),
                ("user_id", "0"),
            ],
        )
        .await;
    bob.ok(
        "assign_role",
        &[
            ("incident_id", &id_text),
            ("role", "fixer"),
            ("user_id", "0"),
        ],
    )
    .await;
    let err = bob
        .fails(
            "assign_role",
            &[
                ("incident_id", &id_text),
                ("role", "commander"),
                ("user_id", "0"),
            ],
            409,
        )
        .await;
    assert_eq!(err["Conflict"], "Bob is already incident commander.");

    let room = alice.room(id).await;
    let holders: Vec<(String, String)> = room["incident"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["role"].as_str().unwrap().into(),
                h["person"]["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        holders,
        [("commander", "Bob"), ("fixer", "Alice"), ("fixer", "Bob")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let handoff = room["timeline"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["kind"] == "role_assigned" && !e["event"]["previous"].is_null())
        .expect("a handoff entry");
    assert_eq!(handoff["event"]["previous"]["name"], "Alice");
    assert_eq!(handoff["event"]["person"]["name"], "Bob");

    // Bob steps down from fixing.
    bob.ok(
        "end_role",
        &[
            ("incident_id", &id_text),
            ("role", "fixer"),
            ("user_id", &bob_id),
        ],
    )
    .await;

    let history = alice.ok("role_history", &[("incident_id", &id_text)]).await;
    let stints: Vec<(String, String, bool)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["role"].as_str().unwrap().into(),
                s["person"]["name"].as_str().unwrap().into(),
                s["ended_at"].is_null(),
            )
        })
        .collect();
    assert_eq!(
        stints,
        [
            ("commander", "Alice", false),
            ("commander", "Bob", true),
            ("fixer", "Alice", true),
            ("fixer", "Bob", false),
        ]
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c))
    );
    let first = &history[0];
    assert!(first["ended_at"].as_str().unwrap() >= first["started_at"].as_str().unwrap());
    assert_eq!(history[1]["assigned_by"]["name"], "Alice");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn editing_a_note_keeps_its_earlier_versions(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let alice = app.signed_in("Alice").await;
    let bob = app.signed_in("Bob").await;
    let id = alice.declare("Disk full", "SEV2").await;
    let note = alice
        .note(id, "note", "Disk at 100% on db-1")
        .await
        .to_string();
    bob.ok(
        "edit_note",
        &[
            ("entry_id", &note),
            ("body", "Disk at 100% on **db-2**, not db-1"),
        ],
    )
    .await;
    let err = bob
        .fails(
            "edit_note",
            &[
                ("entry_id", &note),
                ("body", "Disk at 100% on **db-2**, not db-1"),
            ],
            409,
        )
        .await;
    assert!(err["Conflict"]
        .as_str()
        .unwrap()
        .starts_with("Nothing changed"));
    bob.fails("edit_note", &[("entry_id", &note), ("body", "   ")], 422)
        .await;

    let history = alice.ok("note_history", &[("entry_id", &note)]).await;
    let versions: Vec<(i64, String, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_i64().unwrap(),
                r["edited_by"]["name"].as_str().unwrap().into(),
                r["body_html"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        vec![
            (
                2,
                "Bob".to_string(),
                "<p>Disk at 100% on <strong>db-2</strong>, not db-1</p>\n".to_string()
            ),
            (
                1,
                "Alice".to_string(),
                "<p>Disk at 100% on db-1</p>\n".to_string()
            ),
        ]
    );
    // The room shows the current text on the note, and the edit as its own entry.
    let room = alice.room(id).await;
    let shown = room["timeline"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"].as_i64() == note.parse().ok())
        .unwrap()
        .clone();
    assert_eq!(shown["event"]["revision"], 2);
    assert_eq!(entry_kinds(&room), ["declared", "note", "note_edited"]);
    // History is append-only in the database itself.
    let tampering = sqlx::query("UPDATE note_revisions SET body_md = 'rewritten'")
        .execute(&pool)
        .await;
    assert!(tampering.unwrap_err().to_string().contains("append-only"));
    let tampering = sqlx::query("DELETE FROM timeline_entries")
        .execute(&pool)
        .await;
    assert!(tampering.unwrap_err().to_string().contains("append-only"));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn pins_and_decisions_are_timeline_entries(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let alice = app.signed_in("Alice").await;
    let id = alice.declare("CDN errors", "SEV2").await;
    let decision = alice
        .note(id, "decision", "Roll back to v41")
        .await
        .to_string();
    alice
        .ok("set_pin", &[("entry_id", &decision), ("pinned", "true")])
        .await;
    let err = alice
        .fails(
            "set_pin",
            &[("entry_id", &decision), ("pinned", "true")],
            409,
        )
        .await;
    assert_eq!(err["Conflict"], "That entry is already pinned.");
    alice
        .ok("set_pin", &[("entry_id", &decision), ("pinned", "false")])
        .await;
    let declared = alice.room(id).await["timeline"]["entries"][0]["id"].to_string();
    alice
        .fails(
            "set_pin",
            &[("entry_id", &declared), ("pinned", "true")],
            404,
        )
        .await;
    assert_eq!(
        entry_kinds(&alice.room(id).await),
        ["declared", "decision", "pinned", "unpinned"]
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn markdown_is_sanitised_so_a_script_in_a_note_never_runs(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let alice = app.signed_in("Alice").await;
    let id = alice.declare("XSS attempt", "SEV3").await;
    let body = "<script>alert('x')</script>\n\n**bold** <img src=x onerror=alert(1)> [link](javascript:alert(2))";
    alice.note(id, "note", body).await;

    let room = alice.room(id).await;
    let html = room["timeline"]["entries"][1]["event"]["body_html"]
        .as_str()
        .unwrap();
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "raw HTML shows as the text that was typed: {html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert('x')&lt;/script&gt;"),
        "a script shows as the text that was typed: {html}"
    );
    for forbidden in ["<script", "<img", "href=\"javascript"] {
        assert!(!html.contains(forbidden), "{forbidden} survived: {html}");
    }
    // The server-rendered page holds the sanitised HTML; the raw text travels only as
    // escaped hydration data (`<` as \u003c), which no browser parses as markup.
    let page = alice
        .get(&format!("/incidents/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("<strong>bold</strong>"));
    for markup in [
        "<script>alert('x')",
        "<img src=x onerror",
        "<img src=\"x\" onerror",
    ] {
        assert!(
            !page.contains(markup),
            "{markup} reached the page as markup"
        );
    }
    assert!(
        page.contains("\\u003cscript>alert('x')"),
        "the raw text is escaped in the hydration data"
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn cross_origin_and_origin_less_posts_are_refused_and_change_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let alice = app.signed_in("Alice").await;
    let form = [("title", "Forged"), ("summary", ""), ("severity", "SEV1")];

    let forged = alice
        .http
        .post(format!("{}/api/declare_incident", app.base))
        .header("Origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged
        .text()
        .await
        .unwrap()
        .contains("did not come from Warroom's own pages"));

    let bare = reqwest::Client::new();
    let no_origin = bare
        .post(format!("{}/api/declare_incident", app.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(no_origin.status(), 403);

    // Server functions do not answer GET, so links cannot change state either.
    let via_get = alice
        .get("/api/declare_incident?title=Forged&summary=&severity=SEV1")
        .await;
    assert!(
        !via_get.status().is_success(),
        "GET answered {}",
        via_get.status()
    );
    assert_eq!(count(&pool, "incidents").await, 0);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn signed_out_people_can_read_nothing_and_change_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let alice = app.signed_in("Alice").await;
    let id = alice.declare("Private", "SEV2").await;
    let stranger = Client::new(&app.base);
    stranger
        .fails("incident_room", &[("id", &id.to_string())], 401)
        .await;
    stranger
        .fails(
            "add_note",
            &[
                ("incident_id", &id.to_string()),
                ("kind", "note"),
                ("body", "hi"),
            ],
            401,
        )
        .await;
    // The page itself sends a signed-out browser (which asks for HTML) to sign in.
    let page = stranger
        .http
        .get(format!("{}/incidents/{id}", app.base))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 302);
    assert_eq!(page.headers()["location"], "/login");
    let live = stranger.get(&format!("/live/incidents/{id}")).await;
    assert_eq!(live.status(), 401);
    // Signing out ends the session.
    alice.ok("sign_out", &[]).await;
    alice
        .fails("incident_room", &[("id", &id.to_string())], 401)
        .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_session_cookie_is_http_only_and_same_site_lax(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let client = Client::new(&app.base);
    let response = client.call("dev_sign_in", &[("name", "Alice")]).await;
    let cookie = response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("warroom_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn development_sign_in_is_refused_unless_enabled(pool: PgPool) {
    let mut config = warroom::config::Config::for_tests();
    config.dev_sign_in_requested = false;
    let app = TestApp::spawn_with(pool.clone(), config).await;
    let client = Client::new(&app.base);
    client
        .fails("dev_sign_in", &[("name", "Mallory")], 403)
        .await;
    assert_eq!(count(&pool, "users").await, 0);
    // And it is never offered off loopback, whatever is asked.
    let config = warroom::config::Config::for_tests();
    assert!(!config.dev_sign_in_enabled("0.0.0.0:3000".parse().unwrap()));
    assert!(config.dev_sign_in_enabled("127.0.0.1:3000".parse().unwrap()));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_list_puts_open_incidents_first_by_severity_and_filters(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let alice = app.signed_in("Alice").await;
    let minor = alice.declare("Minor glitch", "SEV3").await;
    let major = alice.declare("Major outage", "SEV1").await;
    let done = alice.declare("Old 50% problem", "SEV1").await;
    alice
        .ok(
            "set_status",
            &[("incident_id", &done.to_string()), ("status", "resolved")],
        )
        .await;
    let ids = |list: Value| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };

    let all = alice
        .ok(
            "list_incidents",
            &[("status", "all"), ("severity", ""), ("q", "")],
        )
        .await;
    assert_eq!(ids(all), [major, minor, done]);
    let open = alice
        .ok(
            "list_incidents",
            &[("status", "open"), ("severity", ""), ("q", "")],
        )
        .await;
    assert_eq!(ids(open), [major, minor]);
    let sev3 = alice
        .ok(
            "list_incidents",
            &[("status", "all"), ("severity", "SEV3"), ("q", "")],
        )
        .await;
    assert_eq!(ids(sev3), [minor]);
    let search = alice
        .ok(
            "list_incidents",
            &[("status", "all"), ("severity", ""), ("q", "OUTAGE")],
        )
        .await;
    assert_eq!(ids(search), [major]);
    // `%` is searched literally, not as a wildcard.
    let literal = alice
        .ok(
            "list_incidents",
            &[("status", "all"), ("severity", ""), ("q", "50%")],
        )
        .await;
    assert_eq!(ids(literal), [done]);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn health_and_readiness_answer(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ready = client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let page = client
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn pages_carry_a_fresh_csp_nonce_that_their_scripts_use(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let nonce_of = |csp: &str| {
        let start = csp.find("'nonce-").expect("a nonce in the policy") + "'nonce-".len();
        csp[start..].split('\'').next().unwrap().to_string()
    };
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let page = reqwest::get(format!("{}/login", app.base)).await.unwrap();
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
            "{csp}"
        );
        let nonce = nonce_of(&csp);
        let html = page.text().await.unwrap();
        let scripts = html.matches("<script").count();
        assert!(scripts > 0, "the page loads the app with scripts");
        assert_eq!(
            html.matches(&format!("nonce=\"{nonce}\"")).count(),
            scripts,
            "every script carries the nonce"
        );
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "each response has its own nonce");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn over_https_the_session_cookie_is_secure_and_host_only(pool: PgPool) {
    // (The development sign-in is off with a public URL: the session a sign-in through
    // GitHub starts is the first cookie a browser gets.)
    let mut config = warroom::config::Config::for_tests();
    config.public_url = Some("https://warroom.example.com".into());
    config.auth = warroom::config::auth::AuthConfig::load(&|name| match name {
        "WARROOM_GITHUB_CLIENT_ID" => Some("id".into()),
        "WARROOM_GITHUB_CLIENT_SECRET" => Some("secret".into()),
        _ => None,
    })
    .unwrap();
    let app = TestApp::spawn_with(pool, config).await;
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/auth/github/start", app.base))
        .header("Host", "warroom.example.com")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("__Host-warroom_session="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"),
        "{cookie}"
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn missing_pages_and_incidents_answer_404(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let alice = app.signed_in("Alice").await;
    let page = alice.get("/incidents/999").await;
    assert_eq!(page.status(), 404);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Not found: incident 999."));
    let page = alice.get("/no/such/page").await;
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("Page not found"));
    app.stop().await;
}
