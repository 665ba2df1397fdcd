//! The status page's admin catalog over HTTP against a real Postgres: components and
//! groups (creating, editing, ordering, hiding, manual status), the page's branding, the
//! messages bad input gets (and that it changes nothing), and who may do any of it.

use std::time::Duration;

use crate::support::{Client, TestApp};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::postgres::PgListener;
use sqlx::PgPool;

/// Everything the catalog stores, in a comparable form: (kind, name, group, position,
/// hidden, override, description, updated_at), groups first, each by id.
type Row = (
    String,
    String,
    Option<String>,
    i32,
    bool,
    Option<String>,
    String,
    DateTime<Utc>,
);

async fn stored(pool: &PgPool) -> Vec<Row> {
    sqlx::query_as(
        "SELECT 'group', name, NULL::text, position, hidden, NULL::text, description, updated_at
         FROM status_component_groups
         UNION ALL
         SELECT 'component', c.name, g.name, c.position, c.hidden, c.status_override,
                c.description, c.updated_at
         FROM status_components c LEFT JOIN status_component_groups g ON g.id = c.group_id
         ORDER BY 1 DESC, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The page as `get_status_catalog` lays it out: "name" for ungrouped components,
/// "group[a,b]" for groups; hidden ones marked with a trailing "*".
async fn layout(admin: &Client) -> Vec<String> {
    let catalog = admin.ok("get_status_catalog", &[]).await;
    let mark = |v: &Value| {
        format!(
            "{}{}",
            v["name"].as_str().unwrap(),
            if v["hidden"] == true { "*" } else { "" }
        )
    };
    let components = catalog["components"].as_array().unwrap().clone();
    let mut top: Vec<(i64, u8, i64, String)> = Vec::new();
    for group in catalog["groups"].as_array().unwrap() {
        let mut members: Vec<&Value> = components
            .iter()
            .filter(|c| c["group_id"] == group["id"])
            .collect();
        members.sort_by_key(|c| (c["position"].as_i64(), c["id"].as_i64()));
        let names: Vec<String> = members.iter().map(|c| mark(c)).collect();
        top.push((
            group["position"].as_i64().unwrap(),
            0,
            group["id"].as_i64().unwrap(),
            format!("{}[{}]", mark(group), names.join(",")),
        ));
    }
    for c in components.iter().filter(|c| c["group_id"].is_null()) {
        top.push((
            c["position"].as_i64().unwrap(),
            1,
            c["id"].as_i64().unwrap(),
            mark(c),
        ));
    }
    top.sort();
    top.into_iter().map(|(_, _, _, s)| s).collect()
}

/// A form with owned values.
type Form = Vec<(&'static str, String)>;

/// The message of a refused call.
fn message(error: &Value) -> String {
    error["Validation"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("not a validation error: {error}"))
        .to_string()
}

async fn create_group(admin: &Client, name: &str) -> String {
    admin.ok("create_status_group", &[("name", name)]).await["id"].to_string()
}

async fn create_component(admin: &Client, name: &str, group_id: &str) -> String {
    admin
        .ok(
            "create_status_component",
            &[("name", name), ("group_id", group_id)],
        )
        .await["id"]
        .to_string()
}

async fn audit_actions(pool: &PgPool) -> Vec<(String, String, Value)> {
    sqlx::query_as(
        "SELECT action, target, details FROM audit_log WHERE action LIKE 'status_%' ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn admins_add_groups_and_components_at_the_end_of_their_order(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;

    let api = create_component(&admin, "API", "0").await;
    let europe = create_group(&admin, "Europe").await;
    let created = admin
        .ok(
            "create_status_component",
            &[
                ("name", "  Checkout   EU "),
                ("description", " Paying for orders "),
                ("group_id", &europe),
            ],
        )
        .await;
    assert_eq!(created["name"], "Checkout EU");
    assert_eq!(created["description"], "Paying for orders");
    assert_eq!(created["status_override"], Value::Null);
    assert_eq!(created["hidden"], false);
    create_component(&admin, "Search EU", &europe).await;
    create_component(&admin, "Website", "0").await;

    assert_eq!(
        layout(&admin).await,
        ["API", "Europe[Checkout EU,Search EU]", "Website"]
    );
    // Positions: one top-level order shared by groups and ungrouped components, and an
    // order inside the group.
    let positions: Vec<(String, i32)> = stored(&pool)
        .await
        .into_iter()
        .map(|r| (r.1, r.3))
        .collect();
    assert_eq!(
        positions,
        [
            ("Europe".to_string(), 2),
            ("API".to_string(), 1),
            ("Checkout EU".to_string(), 1),
            ("Search EU".to_string(), 2),
            ("Website".to_string(), 3),
        ]
    );
    let public_id: String =
        sqlx::query_scalar("SELECT public_id FROM status_components WHERE id = $1::text::bigint")
            .bind(&api)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(public_id.len(), 12, "a random public id, not the row id");

    let audit = audit_actions(&pool).await;
    assert_eq!(
        audit.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(),
        [
            "status_component_created",
            "status_group_created",
            "status_component_created",
            "status_component_created",
            "status_component_created"
        ]
    );
    assert_eq!(audit[2].1, format!("status component {}", created["id"]));
    assert_eq!(audit[2].2["name"], "Checkout EU");
    assert_eq!(audit[2].2["group_id"].to_string(), europe);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_catalog_input_says_why_and_changes_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let europe = create_group(&admin, "Europe").await;
    let api = create_component(&admin, "API", &europe).await;
    create_component(&admin, "Website", "0").await;
    let before = stored(&pool).await;
    let audited = audit_actions(&pool).await.len();

    // (server function, form, the message it answers)
    let cases: Vec<(&str, Form, &str)> = vec![
        (
            "create_status_component",
            vec![("name", "api".into())],
            "A component named \"API\" already exists: choose another name.",
        ),
        (
            "create_status_component",
            vec![("name", "   ".into())],
            "Give the component a name your customers know, e.g. \"API\" or \"Checkout\".",
        ),
        (
            "create_status_component",
            vec![("name", "Docs".into()), ("description", "x".repeat(501))],
            "Keep the description under 500 characters (it has 501).",
        ),
        (
            "create_status_component",
            vec![("name", "Docs".into()), ("group_id", "999999".into())],
            "That group does not exist (any more): reload the page and choose another.",
        ),
        (
            "create_status_component",
            vec![("name", "x".repeat(101))],
            "Keep the component's name under 100 characters.",
        ),
        (
            "create_status_group",
            vec![("name", " EUROPE ".into())],
            "A group named \"Europe\" already exists: choose another name.",
        ),
        (
            "edit_status_component",
            vec![
                ("id", api.clone()),
                ("name", "website".into()),
                ("group_id", europe.clone()),
            ],
            "A component named \"Website\" already exists: choose another name.",
        ),
        (
            "edit_status_group",
            vec![("id", europe.clone()), ("name", "".into())],
            "Give the group a name, e.g. \"Europe\" or \"Payments\".",
        ),
        (
            "move_status_component",
            vec![("id", api.clone()), ("direction", "sideways".into())],
            "Cannot move \"sideways\": use up or down.",
        ),
        (
            "set_status_override",
            vec![("id", api.clone()), ("status", "on_fire".into())],
            "Unknown component status \"on_fire\": use operational, degraded_performance, partial_outage, major_outage or under_maintenance.",
        ),
    ];
    for (endpoint, form, expected) in cases {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let error = admin.fails(endpoint, &form, 422).await;
        assert_eq!(message(&error), expected, "{endpoint} {form:?}");
    }
    // Things that are not there are not found.
    admin
        .fails(
            "set_status_component_hidden",
            &[("id", "999999"), ("hidden", "true")],
            404,
        )
        .await;
    admin
        .fails(
            "move_status_group",
            &[("id", "999999"), ("direction", "up")],
            404,
        )
        .await;

    assert_eq!(stored(&pool).await, before, "refused input changed nothing");
    assert_eq!(audit_actions(&pool).await.len(), audited, "nor was audited");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn moving_swaps_with_the_neighbour_at_the_top_level_and_inside_a_group(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let api = create_component(&admin, "API", "0").await;
    let europe = create_group(&admin, "Europe").await;
    let checkout = create_component(&admin, "Checkout", &europe).await;
    let search = create_component(&admin, "Search", &europe).await;
    let website = create_component(&admin, "Website", "0").await;
    let mv = |endpoint: &'static str, id: String, direction: &'static str| {
        let admin = &admin;
        async move {
            admin
                .ok(endpoint, &[("id", &id), ("direction", direction)])
                .await
        }
    };

    // A group moves past an ungrouped component, and back.
    assert_eq!(mv("move_status_group", europe.clone(), "up").await, true);
    assert_eq!(
        layout(&admin).await,
        ["Europe[Checkout,Search]", "API", "Website"]
    );
    // At the top already: nothing moves, nothing is written.
    let before = stored(&pool).await;
    assert_eq!(mv("move_status_group", europe.clone(), "up").await, false);
    assert_eq!(
        mv("move_status_component", website.clone(), "down").await,
        false
    );
    assert_eq!(stored(&pool).await, before);
    // An ungrouped component moves past a group.
    assert_eq!(
        mv("move_status_component", website.clone(), "up").await,
        true
    );
    assert_eq!(
        mv("move_status_component", website.clone(), "up").await,
        true
    );
    assert_eq!(
        layout(&admin).await,
        ["Website", "Europe[Checkout,Search]", "API"]
    );
    // Inside a group, components move among themselves only.
    let before_inside = stored(&pool).await;
    assert_eq!(
        mv("move_status_component", search.clone(), "up").await,
        true
    );
    assert_eq!(
        mv("move_status_component", search.clone(), "up").await,
        false
    );
    assert_eq!(
        mv("move_status_component", checkout.clone(), "down").await,
        false
    );
    assert_eq!(
        layout(&admin).await,
        ["Website", "Europe[Search,Checkout]", "API"]
    );
    assert_eq!(
        mv("move_status_component", api.clone(), "down").await,
        false
    );

    // Moved rows have their new time; the rest keep theirs.
    let after = stored(&pool).await;
    let changed_at = |rows: &[Row], name: &str| rows.iter().find(|r| r.1 == name).unwrap().7;
    assert!(changed_at(&after, "Search") > changed_at(&before_inside, "Search"));
    assert!(changed_at(&after, "Checkout") > changed_at(&before_inside, "Checkout"));
    for name in ["Website", "Europe", "API"] {
        assert_eq!(
            changed_at(&after, name),
            changed_at(&before_inside, name),
            "{name}"
        );
    }
    let moves = audit_actions(&pool)
        .await
        .into_iter()
        .filter(|a| a.2["change"] == "moved")
        .count();
    assert_eq!(moves, 4, "each move is audited, refused ends are not");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn editing_renames_and_regroups_a_component_to_the_end_of_its_new_group(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let europe = create_group(&admin, "Europe").await;
    let america = create_group(&admin, "America").await;
    create_component(&admin, "Search", &america).await;
    let checkout = create_component(&admin, "Checkout", &europe).await;

    let edited = admin
        .ok(
            "edit_status_component",
            &[
                ("id", &checkout),
                ("name", "Checkout (cards)"),
                ("description", "Card payments"),
                ("group_id", &america),
            ],
        )
        .await;
    assert_eq!(edited["name"], "Checkout (cards)");
    assert_eq!(edited["group_id"].to_string(), america);
    assert_eq!(
        layout(&admin).await,
        ["Europe[]", "America[Search,Checkout (cards)]"]
    );
    // Out of any group: to the end of the page.
    admin
        .ok(
            "edit_status_component",
            &[
                ("id", &checkout),
                ("name", "Checkout (cards)"),
                ("description", "Card payments"),
                ("group_id", "0"),
            ],
        )
        .await;
    admin
        .ok(
            "edit_status_group",
            &[
                ("id", &europe),
                ("name", "Europe (Frankfurt)"),
                ("description", "eu-central-1"),
            ],
        )
        .await;
    assert_eq!(
        layout(&admin).await,
        [
            "Europe (Frankfurt)[]",
            "America[Search]",
            "Checkout (cards)"
        ]
    );
    // Saving without a change writes nothing.
    let before = stored(&pool).await;
    let audited = audit_actions(&pool).await.len();
    admin
        .ok(
            "edit_status_group",
            &[
                ("id", &europe),
                ("name", "Europe (Frankfurt)"),
                ("description", "eu-central-1"),
            ],
        )
        .await;
    assert_eq!(stored(&pool).await, before);
    assert_eq!(audit_actions(&pool).await.len(), audited);

    let audit = audit_actions(&pool).await;
    let edit = audit
        .iter()
        .find(|a| a.0 == "status_component_changed")
        .unwrap();
    assert_eq!(edit.2["before"]["name"], "Checkout");
    assert_eq!(edit.2["after"]["name"], "Checkout (cards)");
    assert_eq!(edit.2["after"]["group_id"].to_string(), america);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn hiding_and_manual_statuses_are_stored_audited_and_announced(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let europe = create_group(&admin, "Europe").await;
    let api = create_component(&admin, "API", &europe).await;
    let mut listener = PgListener::connect_with(&pool).await.unwrap();
    listener.listen("warroom_status").await.unwrap();
    let before = stored(&pool).await;

    admin
        .ok(
            "set_status_component_hidden",
            &[("id", &api), ("hidden", "true")],
        )
        .await;
    admin
        .ok(
            "set_status_group_hidden",
            &[("id", &europe), ("hidden", "true")],
        )
        .await;
    assert_eq!(layout(&admin).await, ["Europe*[API*]"]);
    let announced = tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .expect("the public page hears of the change")
        .unwrap();
    assert_eq!(announced.payload(), "status_components");

    let set = admin
        .ok(
            "set_status_override",
            &[("id", &api), ("status", "major_outage")],
        )
        .await;
    assert_eq!(set["status_override"], "major_outage");
    let after = stored(&pool).await;
    assert_eq!(after[1].5.as_deref(), Some("major_outage"));
    assert!(
        after[1].7 > before[1].7,
        "updated_at moves with each change"
    );
    // Cleared: the component follows incidents again.
    let cleared = admin
        .ok("set_status_override", &[("id", &api), ("status", "")])
        .await;
    assert_eq!(cleared["status_override"], Value::Null);
    admin
        .ok(
            "set_status_component_hidden",
            &[("id", &api), ("hidden", "false")],
        )
        .await;
    assert_eq!(layout(&admin).await, ["Europe*[API]"]);

    let audit: Vec<(String, Value)> = audit_actions(&pool)
        .await
        .into_iter()
        .filter(|a| !a.0.ends_with("_created"))
        .map(|a| (a.0, a.2))
        .collect();
    assert_eq!(
        audit,
        [
            (
                "status_component_changed".to_string(),
                json!({"change": "hidden", "name": "API"})
            ),
            (
                "status_group_changed".to_string(),
                json!({"change": "hidden", "name": "Europe"})
            ),
            (
                "status_override_changed".to_string(),
                json!({"name": "API", "from": null, "to": "major_outage"})
            ),
            (
                "status_override_changed".to_string(),
                json!({"name": "API", "from": "major_outage", "to": null})
            ),
            (
                "status_component_changed".to_string(),
                json!({"change": "shown", "name": "API"})
            ),
        ]
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn branding_is_saved_whole_and_bad_branding_changes_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let defaults = admin.ok("get_status_branding", &[]).await;
    assert_eq!(defaults["name"], "Warroom");
    assert_eq!(defaults["accent_color"], "#1f6feb");

    let saved = admin
        .ok(
            "save_status_branding",
            &[
                ("page_name", " Acme   Cloud "),
                ("logo_url", "https://acme.example/logo.svg"),
                ("accent_color", "#AA3300"),
                ("link_labels[0]", "Docs"),
                ("link_urls[0]", "https://docs.acme.example"),
                ("link_labels[1]", ""),
                ("link_urls[1]", ""),
                ("link_labels[2]", "Support"),
                ("link_urls[2]", "https://help.acme.example"),
            ],
        )
        .await;
    assert_eq!(saved["name"], "Acme Cloud");
    assert_eq!(saved["accent_color"], "#aa3300");
    let row: (String, Option<String>, String, Value, DateTime<Utc>) = sqlx::query_as(
        "SELECT page_name, logo_url, accent_color, links, updated_at FROM status_settings",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(row.0, "Acme Cloud");
    assert_eq!(row.1.as_deref(), Some("https://acme.example/logo.svg"));
    assert_eq!(row.2, "#aa3300");
    assert_eq!(
        row.3,
        json!([
            {"label": "Docs", "url": "https://docs.acme.example"},
            {"label": "Support", "url": "https://help.acme.example"}
        ])
    );
    assert_eq!(admin.ok("get_status_branding", &[]).await, saved);

    let field = |key: &str, value: &str| (key.to_string(), value.to_string());
    let six_links: Vec<(String, String)> = (0..6)
        .flat_map(|i| {
            [
                (format!("link_labels[{i}]"), format!("Link {i}")),
                (format!("link_urls[{i}]"), "https://x.example".to_string()),
            ]
        })
        .collect();
    let cases: Vec<(Vec<(String, String)>, &str)> = vec![
        (
            vec![field("page_name", "  ")],
            "Name your company or product, e.g. \"Acme\" (the page reads \"Acme status\").",
        ),
        (
            vec![field("page_name", "Acme status")],
            "Leave out \"status\": the page adds it (\"Acme\" would read \"Acme status status\").",
        ),
        (
            vec![field("page_name", &"x".repeat(81))],
            "Keep the page name under 80 characters.",
        ),
        (
            vec![field("logo_url", "acme.example/logo.svg")],
            "The logo address must start with https:// (or http://), e.g. https://example.com/…",
        ),
        (
            vec![field("logo_url", "javascript:alert(1)")],
            "The logo address must start with https:// (or http://), e.g. https://example.com/…",
        ),
        (
            vec![field("accent_color", "red")],
            "\"red\" is not a colour: use the form #rrggbb, e.g. #1f6feb.",
        ),
        (
            vec![field("link_labels[0]", "Docs"), field("link_urls[0]", "")],
            "Link 1 (\"Docs\") needs an address starting with https://.",
        ),
        (
            vec![
                field("link_labels[0]", ""),
                field("link_urls[0]", "https://x.example"),
            ],
            "Link 1 has an address but no label: give it a label or clear the address.",
        ),
        (
            vec![
                field("link_labels[0]", &"x".repeat(41)),
                field("link_urls[0]", "https://x.example"),
            ],
            "Keep the label of link 1 under 40 characters.",
        ),
        (
            six_links,
            "At most 5 links fit in the page header: remove 1.",
        ),
    ];
    for (overrides, expected) in cases {
        let mut form: Vec<(String, String)> = vec![
            field("page_name", "Good name"),
            field("logo_url", ""),
            field("accent_color", "#123456"),
        ];
        for (key, value) in overrides {
            form.retain(|(k, _)| *k != key);
            form.push((key, value));
        }
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let error = admin.fails("save_status_branding", &form, 422).await;
        assert_eq!(message(&error), expected, "{form:?}");
    }
    let unchanged: (String, Value, DateTime<Utc>) =
        sqlx::query_as("SELECT page_name, links, updated_at FROM status_settings")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (unchanged.0, unchanged.1, unchanged.2),
        (row.0, row.3, row.4)
    );

    let audit = audit_actions(&pool).await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].0, "status_branding_changed");
    assert_eq!(audit[0].2["before"]["name"], "Warroom");
    assert_eq!(audit[0].2["now"]["name"], "Acme Cloud");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn only_admins_see_or_change_the_catalog_and_branding(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let europe = create_group(&admin, "Europe").await;
    let api = create_component(&admin, "API", &europe).await;
    let before = stored(&pool).await;
    let anonymous = Client::new(&app.base);
    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("get_status_catalog", vec![]),
        ("create_status_component", vec![("name", "Sneaky")]),
        ("create_status_group", vec![("name", "Sneaky")]),
        (
            "edit_status_component",
            vec![("id", &api), ("name", "Renamed")],
        ),
        (
            "edit_status_group",
            vec![("id", &europe), ("name", "Renamed")],
        ),
        (
            "set_status_component_hidden",
            vec![("id", &api), ("hidden", "true")],
        ),
        (
            "move_status_group",
            vec![("id", &europe), ("direction", "down")],
        ),
        (
            "set_status_override",
            vec![("id", &api), ("status", "operational")],
        ),
        ("get_status_branding", vec![]),
        (
            "save_status_branding",
            vec![("page_name", "Pwned"), ("accent_color", "#000000")],
        ),
    ];
    for role in ["viewer", "responder", "leadership"] {
        let person = app.signed_in_as(&format!("A {role}"), role).await;
        for (endpoint, form) in &calls {
            person.fails(endpoint, form, 403).await;
        }
    }
    for (endpoint, form) in &calls {
        anonymous.fails(endpoint, form, 401).await;
    }
    assert_eq!(stored(&pool).await, before);
    let name: String = sqlx::query_scalar("SELECT page_name FROM status_settings")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(name, "Warroom");

    // The page: the catalog for admins, a refusal for everyone else.
    let page = |client: &Client| {
        client
            .http
            .get(format!("{}/admin/status", app.base))
            .header("Accept", "text/html")
            .send()
    };
    let response = page(&admin).await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Europe") && html.contains("API"), "{html}");
    assert!(html.contains("href=\"/status\""));
    let viewer = app.signed_in_as("Vic", "viewer").await;
    let response = page(&viewer).await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(!response.text().await.unwrap().contains("Europe"));
    app.stop().await;
}
