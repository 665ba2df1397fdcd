//! Roles, sessions, API tokens and the audit log, over HTTP against the real app.

use std::collections::BTreeSet;

use crate::support::{Client, TestApp};
use serde_json::{json, Value};
use sqlx::PgPool;
use warroom::config::Config;

const ROLES: [&str; 4] = ["viewer", "responder", "leadership", "admin"];

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Need {
    /// Anyone, signed in or not.
    Anyone,
    /// Any valid sign-in, whatever the role.
    SignedIn,
    /// Reading internal incidents: every role.
    Read,
    /// Working incidents: responder, admin.
    Work,
    /// Administering: admin.
    Admin,
    /// An API token (sessions are never enough).
    Token,
}

impl Need {
    fn allows(self, role: Option<&str>) -> bool {
        match (self, role) {
            (Need::Anyone, _) => true,
            (Need::Token, _) | (_, None) => false,
            (Need::SignedIn | Need::Read, Some(_)) => true,
            (Need::Work, Some(role)) => matches!(role, "responder" | "admin"),
            (Need::Admin, Some(role)) => role == "admin",
        }
    }
}

/// How a route is called.
#[derive(Clone, Debug)]
enum Call {
    /// A server function (POST /api/{endpoint}, form arguments).
    ServerFn(&'static str, Vec<(&'static str, String)>),
    /// A plain GET.
    Get(String),
    /// A page (GET asking for HTML).
    Page(String),
    /// A JSON POST.
    PostJson(String, Value),
    /// A form POST outside server functions (the status page's forms).
    PostForm(String, Vec<(&'static str, String)>),
}

impl Call {
    fn describe(&self) -> String {
        match self {
            Call::ServerFn(name, _) => format!("server fn {name}"),
            Call::Get(path) => format!("GET {path}"),
            Call::Page(path) => format!("page {path}"),
            Call::PostJson(path, _) | Call::PostForm(path, _) => format!("POST {path}"),
        }
    }

    /// The method and path (without query) this call requests.
    fn method_and_path(&self) -> (&'static str, String) {
        match self {
            Call::ServerFn(name, _) => ("POST", format!("/api/{name}")),
            Call::Get(path) | Call::Page(path) => ("GET", path.clone()),
            Call::PostJson(path, _) | Call::PostForm(path, _) => ("POST", path.clone()),
        }
    }

    async fn run(&self, client: &Client) -> reqwest::Response {
        match self {
            Call::ServerFn(name, form) => {
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                client.call(name, &form).await
            }
            Call::Get(path) => client.get(path).await,
            Call::Page(path) => client
                .http
                .get(format!("{}{path}", client.base))
                .header("Accept", "text/html")
                .send()
                .await
                .unwrap(),
            Call::PostJson(path, body) => client
                .http
                .post(format!("{}{path}", client.base))
                .json(body)
                .send()
                .await
                .unwrap(),
            Call::PostForm(path, form) => client
                .http
                .post(format!("{}{path}", client.base))
                .form(form)
                .send()
                .await
                .unwrap(),
        }
    }
}

/// Whether a concrete path (query ignored) is one a registered pattern names:
/// `{id}`/`:id` match one segment, `{*rest}` the rest.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let mut wanted = pattern.trim_start_matches('/').split('/');
    let mut given = path.trim_start_matches('/').split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w.starts_with("{*") => return !g.is_empty(),
            (Some(w), Some(g)) if (w.starts_with('{') || w.starts_with(':')) && !g.is_empty() => {}
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn every_route_and_server_function_checks_the_role_on_the_server(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let owner = app.signed_in_as("Owner", "admin").await;
    let incident = owner.declare("Matrix", "SEV2").await.to_string();
    let note = owner
        .note(incident.parse().unwrap(), "note", "first")
        .await
        .to_string();
    let someone = app.signed_in_as("Someone", "responder").await;
    let someone_id = someone.ok("me", &[]).await["person"]["id"].to_string();
    let s = |v: &str| v.to_string();
    let status_group = owner
        .ok("create_status_group", &[("name", "Matrix group")])
        .await["id"]
        .to_string();
    let status_component = owner
        .ok(
            "create_status_component",
            &[("name", "Matrix component"), ("group_id", &status_group)],
        )
        .await["id"]
        .to_string();
    let fns: Vec<(Call, Need)> = vec![
        (Call::ServerFn("me", vec![]), Need::Anyone),
        (Call::ServerFn("sign_in_options", vec![]), Need::Anyone),
        (
            Call::ServerFn(
                "dev_sign_in",
                vec![("name", s("Newcomer")), ("role", s("viewer"))],
            ),
            Need::Anyone,
        ),
        (Call::ServerFn("sign_out", vec![]), Need::Anyone),
        (Call::ServerFn("my_sessions", vec![]), Need::SignedIn),
        (Call::ServerFn("my_sign_in_methods", vec![]), Need::SignedIn),
        (
            Call::ServerFn(
                "end_session",
                vec![("id", s("00000000-0000-4000-8000-000000000000"))],
            ),
            Need::SignedIn,
        ),
        (
            Call::ServerFn("sign_out_everywhere", vec![]),
            Need::SignedIn,
        ),
        (Call::ServerFn("list_members", vec![]), Need::Admin),
        (
            Call::ServerFn(
                "set_member_role",
                vec![("user_id", someone_id.clone()), ("role", s("responder"))],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn("disable_member", vec![("user_id", someone_id.clone())]),
            Need::Admin,
        ),
        (
            Call::ServerFn("enable_member", vec![("user_id", someone_id.clone())]),
            Need::Admin,
        ),
        (
            Call::ServerFn("end_member_sessions", vec![("user_id", someone_id.clone())]),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "set_member_publishing",
                vec![("user_id", someone_id.clone()), ("allowed", s("true"))],
            ),
            Need::Admin,
        ),
        (Call::ServerFn("list_invitations", vec![]), Need::Admin),
        (
            Call::ServerFn(
                "invite_member",
                vec![("email", s("new@example.com")), ("role", s("viewer"))],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "withdraw_invitation",
                vec![("email", s("nobody@example.com"))],
            ),
            Need::Admin,
        ),
        (Call::ServerFn("list_tokens", vec![]), Need::Admin),
        (
            Call::ServerFn(
                "create_token",
                vec![
                    ("name", s("bot")),
                    ("scopes[0]", s("incidents:read")),
                    ("expires_in_days", s("1")),
                ],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn("revoke_token", vec![("id", s("999999"))]),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "audit_log",
                vec![
                    ("action", s("")),
                    ("refused_only", s("false")),
                    ("actor", s("0")),
                    ("before", s("0")),
                ],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "list_incidents",
                vec![("status", s("")), ("severity", s("")), ("q", s(""))],
            ),
            Need::Read,
        ),
        (Call::ServerFn("list_severities", vec![]), Need::Read),
        (Call::ServerFn("declare_choices", vec![]), Need::Work),
        (
            Call::ServerFn(
                "declare_incident",
                vec![
                    ("title", s("From the matrix")),
                    ("summary", s("")),
                    ("severity", s("SEV3")),
                ],
            ),
            Need::Work,
        ),
        (
            Call::ServerFn("incident_room", vec![("id", incident.clone())]),
            Need::Read,
        ),
        (
            Call::ServerFn(
                "set_status",
                vec![
                    ("incident_id", incident.clone()),
                    ("status", s("identified")),
                ],
            ),
            Need::Work,
        ),
        (
            Call::ServerFn(
                "set_severity",
                vec![("incident_id", incident.clone()), ("severity", s("SEV1"))],
            ),
            Need::Work,
        ),
        (
            Call::ServerFn(
                "assign_role",
                vec![
                    ("incident_id", incident.clone()),
                    ("role", s("fixer")),
                    ("user_id", s("0")),
                ],
            ),
            Need::Work,
        ),
        (
            Call::ServerFn(
                "end_role",
                vec![
                    ("incident_id", incident.clone()),
                    ("role", s("fixer")),
                    ("user_id", someone_id.clone()),
                ],
            ),
            Need::Work,
        ),
        (
            Call::ServerFn("role_history", vec![("incident_id", incident.clone())]),
            Need::Read,
        ),
        (
            Call::ServerFn(
                "add_note",
                vec![
                    ("incident_id", incident.clone()),
                    ("kind", s("note")),
                    ("body", s("hello")),
                ],
            ),
            Need::Work,
        ),
        (
            Call::ServerFn(
                "edit_note",
                vec![("entry_id", note.clone()), ("body", s("edited"))],
            ),
            Need::Work,
        ),
        (
            Call::ServerFn(
                "set_pin",
                vec![("entry_id", note.clone()), ("pinned", s("true"))],
            ),
            Need::Work,
        ),
        (
            Call::ServerFn("note_history", vec![("entry_id", note.clone())]),
            Need::Read,
        ),
        (
            Call::ServerFn(
                "timeline_page",
                vec![("incident_id", incident.clone()), ("before", note.clone())],
            ),
            Need::Read,
        ),
        (
            Call::ServerFn("pinned_entries", vec![("incident_id", incident.clone())]),
            Need::Read,
        ),
        (Call::ServerFn("get_status_catalog", vec![]), Need::Admin),
        (
            Call::ServerFn(
                "create_status_group",
                vec![("name", s("Matrix group 2")), ("description", s(""))],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "edit_status_group",
                vec![
                    ("id", status_group.clone()),
                    ("name", s("Matrix group")),
                    ("description", s("edited")),
                ],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "set_status_group_hidden",
                vec![("id", status_group.clone()), ("hidden", s("false"))],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "move_status_group",
                vec![("id", status_group.clone()), ("direction", s("down"))],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "create_status_component",
                vec![("name", s("Matrix component 2")), ("group_id", s("0"))],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "edit_status_component",
                vec![
                    ("id", status_component.clone()),
                    ("name", s("Matrix component")),
                    ("description", s("edited")),
                    ("group_id", status_group.clone()),
                ],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "set_status_component_hidden",
                vec![("id", status_component.clone()), ("hidden", s("false"))],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "move_status_component",
                vec![("id", status_component.clone()), ("direction", s("up"))],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "set_status_override",
                vec![
                    ("id", status_component.clone()),
                    ("status", s("major_outage")),
                ],
            ),
            Need::Admin,
        ),
        (Call::ServerFn("get_status_branding", vec![]), Need::Admin),
        (
            Call::ServerFn(
                "save_status_branding",
                vec![("page_name", s("Matrix")), ("accent_color", s("#123456"))],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "incident_public_side",
                vec![("incident_id", incident.clone())],
            ),
            Need::Read,
        ),
        (
            Call::ServerFn(
                "post_public_update",
                vec![
                    ("incident_id", incident.clone()),
                    ("public_title", s("Matrix trouble")),
                    ("status", s("investigating")),
                    ("message", s("Looking.")),
                ],
            ),
            Need::Work,
        ),
        (
            Call::ServerFn(
                "set_component_impact",
                vec![
                    ("incident_id", incident.clone()),
                    ("component_id", status_component.clone()),
                    ("impact", s("partial_outage")),
                ],
            ),
            Need::Work,
        ),
        (
            Call::ServerFn(
                "set_incident_private",
                vec![("incident_id", incident.clone()), ("private", s("true"))],
            ),
            Need::Work,
        ),
        (Call::ServerFn("list_maintenances", vec![]), Need::Admin),
        (
            Call::ServerFn(
                "schedule_maintenance",
                vec![
                    ("title", s("Matrix maintenance")),
                    ("message", s("Short.")),
                    ("starts_at", s("2099-01-01T00:00")),
                    ("ends_at", s("2099-01-01T01:00")),
                    ("component_ids[0]", status_component.clone()),
                ],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "reschedule_maintenance",
                vec![
                    ("id", s("999999")),
                    ("starts_at", s("")),
                    ("ends_at", s("2099-01-01T02:00")),
                ],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn(
                "complete_maintenance",
                vec![("id", s("999999")), ("message", s(""))],
            ),
            Need::Admin,
        ),
        (
            Call::ServerFn("get_status_subscribers", vec![]),
            Need::Admin,
        ),
        (
            Call::ServerFn("remove_status_subscriber", vec![("id", s("999999"))]),
            Need::Admin,
        ),
    ];
    let mut routes: Vec<(Call, Need)> = vec![
        (Call::Get(s("/healthz")), Need::Anyone),
        (Call::Get(s("/readyz")), Need::Anyone),
        (Call::Get(s("/status")), Need::Anyone),
        (Call::Get(s("/status/history")), Need::Anyone),
        (Call::Get(s("/status/history?page=2")), Need::Anyone),
        (Call::Get(s("/status/feed.atom")), Need::Anyone),
        (Call::Get(s("/status/feed.rss")), Need::Anyone),
        // Unknown ids: the public pages answer 404 to everyone alike.
        (
            Call::Get(s("/status/incidents/nosuchincident")),
            Need::Anyone,
        ),
        (
            Call::Get(s("/status/maintenances/nosuchwindow")),
            Need::Anyone,
        ),
        (
            Call::PostForm(
                s("/status/subscribe"),
                vec![("url", s("http://127.0.0.1:9/matrix-hook"))],
            ),
            Need::Anyone,
        ),
        (
            Call::Get(s("/status/unsubscribe?token=nosuchtoken")),
            Need::Anyone,
        ),
        (
            Call::PostForm(s("/status/unsubscribe"), vec![("token", s("nosuchtoken"))]),
            Need::Anyone,
        ),
        (Call::Get(s("/pkg/warroom.css")), Need::Anyone),
        (Call::Get(s("/favicon.svg")), Need::Anyone),
        (Call::Get(s("/no-such-page")), Need::Anyone),
        (Call::Get(format!("/live/incidents/{incident}")), Need::Read),
        (Call::Get(s("/auth/github/start")), Need::Anyone),
        (Call::Get(s("/auth/github/link")), Need::Anyone),
        (
            Call::Get(s("/auth/github/callback?code=x&state=y")),
            Need::Anyone,
        ),
        (Call::Get(s("/api/v1/openapi.json")), Need::Anyone),
        (Call::Get(s("/api/v1/incidents")), Need::Token),
        (
            Call::Get(format!("/api/v1/incidents/{incident}")),
            Need::Token,
        ),
        (
            Call::PostJson(
                s("/api/v1/incidents"),
                json!({"title": "x", "severity": "SEV3"}),
            ),
            Need::Token,
        ),
        (Call::Page(s("/")), Need::Read),
        (Call::Page(s("/incidents")), Need::Read),
        (Call::Page(s("/incidents/new")), Need::Work),
        (Call::Page(format!("/incidents/{incident}")), Need::Read),
        (Call::Page(s("/login")), Need::Anyone),
        (Call::Page(s("/account")), Need::SignedIn),
        (Call::Page(s("/admin/people")), Need::Admin),
        (Call::Page(s("/admin/tokens")), Need::Admin),
        (Call::Page(s("/admin/audit")), Need::Admin),
        (Call::Page(s("/admin/status")), Need::Admin),
        (Call::Page(s("/admin/maintenance")), Need::Admin),
    ];
    for path in [
        "/api/v2/summary.json",
        "/api/v2/status.json",
        "/api/v2/components.json",
        "/api/v2/incidents.json",
        "/api/v2/incidents/unresolved.json",
        "/api/v2/scheduled-maintenances.json",
        "/api/v2/scheduled-maintenances/upcoming.json",
        "/api/v2/scheduled-maintenances/active.json",
    ] {
        routes.push((Call::Get(s(path)), Need::Anyone));
    }

    // The matrix names every server function the app registers, and no other.
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_string())
        .collect();
    let listed: BTreeSet<String> = fns
        .iter()
        .map(|(call, _)| match call {
            Call::ServerFn(name, _) => name.to_string(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        registered, listed,
        "every server function must be in the matrix"
    );
    // And every route the server registers (pages, handlers, the token API, the status
    // page, static files, the fallback) is called by the matrix, with its methods.
    let table = warroom::http::route_table();
    let patterns: Vec<&warroom::http::RouteEntry> = table
        .iter()
        .filter(|r| r.kind != warroom::http::RouteKind::ServerFn)
        .collect();
    let mut covered = BTreeSet::new();
    for (call, _) in fns.iter().chain(routes.iter()) {
        let (method, path) = call.method_and_path();
        let specific = patterns
            .iter()
            .filter(|r| r.kind != warroom::http::RouteKind::Fallback)
            .find(|r| pattern_matches(&r.path, &path));
        let route = specific
            .or_else(|| patterns.iter().find(|r| pattern_matches(&r.path, &path)))
            .unwrap_or_else(|| panic!("{} matches no registered route", call.describe()));
        if route.kind != warroom::http::RouteKind::ServerFn {
            covered.insert((method.to_string(), route.path.clone()));
        }
    }
    let expected: BTreeSet<(String, String)> = patterns
        .iter()
        .flat_map(|r| r.methods.iter().map(|m| (m.clone(), r.path.clone())))
        .collect();
    let missing: Vec<_> = expected.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes the matrix never calls: {missing:?}"
    );

    let mut cells = 0;
    let mut failures = Vec::new();
    for (i, (call, need)) in fns.iter().chain(routes.iter()).enumerate() {
        for role in std::iter::once(None).chain(ROLES.into_iter().map(Some)) {
            // A fresh person per cell: some calls end sessions or change state.
            let client = match role {
                Some(role) => app.signed_in_as(&format!("{role} {i}"), role).await,
                None => Client::new(&app.base),
            };
            let response = call.run(&client).await;
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            drop(response);
            let expect_allowed = need.allows(role);
            let refused = match (call, role) {
                // Pages send signed-out browsers to sign in.
                (Call::Page(_), None) => status == 302 && location == "/login" || status == 401,
                (_, None) => status == 401,
                (Call::Get(path) | Call::PostJson(path, _), Some(_))
                    if path.starts_with("/api/v1") =>
                {
                    status == 401
                }
                (_, Some(_)) => status == 403,
            };
            let ok = if expect_allowed {
                !refused
                    && status < 500
                    && !matches!(status, 401 | 403)
                    && (!matches!(call, Call::Page(_)) || status == 200)
            } else {
                refused
            };
            if !ok {
                failures.push(format!(
                    "{} as {}: got {status}, expected {}",
                    call.describe(),
                    role.unwrap_or("anonymous"),
                    if expect_allowed { "allowed" } else { "refused" }
                ));
            }
            cells += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(cells, (fns.len() + routes.len()) * 5);
    println!(
        "role matrix: {} routes × 5 (anonymous + 4 roles) = {cells} cells",
        fns.len() + routes.len()
    );
    // Refusals of signed-in people are on record.
    let refusals: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'access_refused'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(refusals > 20, "access refusals audited: {refusals}");
    // The matrix subscribed addresses nobody answers: their challenges are still retrying.
    app.stop_leaving_jobs().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_viewer_reads_but_cannot_change_and_cannot_be_given_an_incident_role(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let responder = app.signed_in_as("Rita", "responder").await;
    let viewer = app.signed_in_as("Vic", "viewer").await;
    let id = responder.declare("Disk full", "SEV2").await;
    let room = viewer.room(id).await;
    assert_eq!(room["can_work"], false);
    assert_eq!(responder.room(id).await["can_work"], true);
    // The assign pickers offer only people who can work incidents.
    let people: Vec<String> = room["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(people, ["Rita"]);
    let entries_before: i64 = sqlx::query_scalar("SELECT count(*) FROM timeline_entries")
        .fetch_one(&pool)
        .await
        .unwrap();
    viewer
        .fails(
            "add_note",
            &[
                ("incident_id", &id.to_string()),
                ("kind", "note"),
                ("body", "hi"),
            ],
            403,
        )
        .await;
    let vic_id = viewer.ok("me", &[]).await["person"]["id"].to_string();
    let err = responder
        .fails(
            "assign_role",
            &[
                ("incident_id", &id.to_string()),
                ("role", "fixer"),
                ("user_id", &vic_id),
            ],
            422,
        )
        .await;
    assert!(err.to_string().contains("cannot work incidents"), "{err}");
    let entries_after: i64 = sqlx::query_scalar("SELECT count(*) FROM timeline_entries")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        entries_before, entries_after,
        "refused changes wrote nothing"
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn admins_change_roles_which_apply_at_once_and_the_last_admin_stays(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let bob = app.signed_in_as("Bob", "responder").await;
    let bob_id = bob.ok("me", &[]).await["person"]["id"].to_string();
    let ada_id = admin.ok("me", &[]).await["person"]["id"].to_string();
    let id = bob.declare("Queue stuck", "SEV3").await;

    admin
        .ok(
            "set_member_role",
            &[("user_id", &bob_id), ("role", "viewer")],
        )
        .await;
    // Bob's open session follows the new role on its very next request.
    assert_eq!(bob.ok("me", &[]).await["role"], "Viewer");
    bob.fails(
        "add_note",
        &[
            ("incident_id", &id.to_string()),
            ("kind", "note"),
            ("body", "x"),
        ],
        403,
    )
    .await;
    admin
        .fails(
            "set_member_role",
            &[("user_id", &bob_id), ("role", "root")],
            422,
        )
        .await;
    let err = admin
        .fails(
            "set_member_role",
            &[("user_id", &ada_id), ("role", "viewer")],
            409,
        )
        .await;
    assert!(err.to_string().contains("at least one admin"), "{err}");
    assert_eq!(admin.ok("me", &[]).await["role"], "Admin");

    let members = admin.ok("list_members", &[]).await;
    let bob_row = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "Bob")
        .unwrap()
        .clone();
    assert_eq!(bob_row["role"], "Viewer");
    let audit = admin
        .ok(
            "audit_log",
            &[
                ("action", "role_changed"),
                ("refused_only", "false"),
                ("actor", "0"),
                ("before", "0"),
            ],
        )
        .await;
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["actor"], "Ada");
    assert_eq!(entries[0]["target"], format!("user {bob_id}"));
    assert!(entries[0]["details"]
        .as_str()
        .unwrap()
        .contains("\"to\":\"viewer\""));
    assert_eq!(entries[0]["source_ip"], "127.0.0.1");
    app.stop().await;
}

async fn sign_in_row(pool: &PgPool, name: &str) -> uuid::Uuid {
    sqlx::query_scalar(
        "SELECT s.id FROM sign_ins s JOIN users u ON u.id = s.user_id
         WHERE u.display_name = $1 AND s.ended_at IS NULL ORDER BY s.created_at DESC LIMIT 1",
    )
    .bind(name)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn sessions_expire_when_idle_or_old_and_can_be_listed_and_ended(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let laptop = app.signed_in_as("Cleo", "responder").await;
    let phone = app.signed_in_as("Cleo", "responder").await;
    let sessions = laptop.ok("my_sessions", &[]).await;
    let list = sessions.as_array().unwrap();
    assert_eq!(list.len(), 2, "{sessions}");
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);

    // Ending the phone's session from the laptop signs the phone out, not the laptop.
    let phone_row = sign_in_row(&pool, "Cleo").await;
    laptop
        .ok("end_session", &[("id", &phone_row.to_string())])
        .await;
    phone.fails("my_sessions", &[], 401).await;
    laptop.ok("my_sessions", &[]).await;
    // Someone else's session is not found, not ended.
    let other = app.signed_in_as("Dan", "viewer").await;
    let dans = sign_in_row(&pool, "Dan").await;
    laptop
        .fails("end_session", &[("id", &dans.to_string())], 404)
        .await;
    other.ok("my_sessions", &[]).await;

    // Idle: unused for longer than the idle limit (24 h by default).
    let laptop_row = sign_in_row(&pool, "Cleo").await;
    sqlx::query("UPDATE sign_ins SET last_seen_at = now() - interval '25 hours' WHERE id = $1")
        .bind(laptop_row)
        .execute(&pool)
        .await
        .unwrap();
    laptop.fails("my_sessions", &[], 401).await;

    // Absolute: past its lifetime however busy.
    let again = app.signed_in_as("Cleo", "responder").await;
    let row = sign_in_row(&pool, "Cleo").await;
    sqlx::query("UPDATE sign_ins SET expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(row)
        .execute(&pool)
        .await
        .unwrap();
    again.fails("my_sessions", &[], 401).await;
    let page = again
        .http
        .get(format!("{}/incidents", app.base))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 302, "an expired session is sent to sign in");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn signing_out_everywhere_ends_every_session_of_that_person(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let one = app.signed_in_as("Eve", "responder").await;
    let two = app.signed_in_as("Eve", "responder").await;
    let someone_else = app.signed_in_as("Fay", "responder").await;
    assert_eq!(one.ok("sign_out_everywhere", &[]).await, json!(2));
    one.fails("my_sessions", &[], 401).await;
    two.fails("my_sessions", &[], 401).await;
    someone_else.ok("my_sessions", &[]).await;
    let ended: Vec<String> = sqlx::query_scalar("SELECT ended_reason FROM sign_ins s JOIN users u ON u.id = s.user_id WHERE u.display_name = 'Eve'")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(ended, ["signed_out_everywhere", "signed_out_everywhere"]);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_session_id_changes_at_sign_in_and_the_old_one_is_worthless(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let client = Client::new(&app.base);
    let session_cookie = |response: &reqwest::Response| {
        let set = response.headers()["set-cookie"].to_str().unwrap();
        set.split(';').next().unwrap().to_string()
    };
    let first = session_cookie(&client.call("dev_sign_in", &[("name", "Gus")]).await);
    let second = session_cookie(&client.call("dev_sign_in", &[("name", "Gus")]).await);
    assert_ne!(first, second, "a sign-in always gets a new session id");
    // Whoever kept (or planted) the earlier id holds nothing now; the new one works.
    let me_with = |cookie: String| {
        let base = app.base.clone();
        async move {
            let response = reqwest::Client::new()
                .post(format!("{base}/api/me"))
                .header("Origin", &base)
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap();
            response.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(me_with(first).await, Value::Null);
    assert_eq!(me_with(second).await["person"]["name"], "Gus");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn development_sign_in_is_off_when_an_identity_provider_is_configured(pool: PgPool) {
    let mut config = Config::for_tests();
    config.auth = warroom::config::auth::AuthConfig::load(&|name| match name {
        "WARROOM_GITHUB_CLIENT_ID" => Some("id".into()),
        "WARROOM_GITHUB_CLIENT_SECRET" => Some("secret".into()),
        _ => None,
    })
    .unwrap();
    let app = TestApp::spawn_with(pool, config).await;
    let client = Client::new(&app.base);
    client
        .fails(
            "dev_sign_in",
            &[("name", "Mallory"), ("role", "admin")],
            403,
        )
        .await;
    let options = client.ok("sign_in_options", &[]).await;
    assert_eq!(options["dev_sign_in"], false);
    assert_eq!(
        options["providers"],
        json!([{"key": "github", "name": "GitHub"}])
    );
    app.stop().await;
}

/// Calls the token API.
async fn api(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let http = reqwest::Client::new();
    let url = format!("{}{path}", app.base);
    let mut request = match method {
        "POST" => http.post(url),
        _ => http.get(url),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn create_token(admin: &Client, name: &str, scopes: &[&str], days: &str) -> (i64, String) {
    let mut form = vec![
        ("name", name.to_string()),
        ("expires_in_days", days.to_string()),
    ];
    for (i, scope) in scopes.iter().enumerate() {
        form.push((["scopes[0]", "scopes[1]"][i], scope.to_string()));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let token = admin.ok("create_token", &form).await;
    (
        token["id"].as_i64().unwrap(),
        token["secret"].as_str().unwrap().to_string(),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn api_tokens_are_scoped_hashed_revocable_and_record_their_use(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let (read_id, reader) = create_token(&admin, "Dashboard", &["incidents:read"], "30").await;
    let (_, writer) = create_token(
        &admin,
        "Alertmanager",
        &["incidents:write", "incidents:read"],
        "0",
    )
    .await;
    assert!(reader.starts_with("wr_") && reader.len() > 40, "{reader}");

    // Only a hash is stored, and the list never shows the secret.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT secret_hash FROM api_tokens WHERE id = $1")
        .bind(read_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 32);
    let listed = admin.ok("list_tokens", &[]).await;
    assert!(!listed.to_string().contains(&reader), "secret in the list");
    assert!(
        !listed.to_string().contains(&reader[12..]),
        "secret in the list"
    );
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // Bad input: no scope, unknown scope, no name.
    admin
        .fails(
            "create_token",
            &[("name", "x"), ("expires_in_days", "1")],
            422,
        )
        .await;
    admin
        .fails(
            "create_token",
            &[
                ("name", "x"),
                ("scopes[0]", "admin:*"),
                ("expires_in_days", "1"),
            ],
            422,
        )
        .await;
    admin
        .fails(
            "create_token",
            &[
                ("name", " "),
                ("scopes[0]", "incidents:read"),
                ("expires_in_days", "1"),
            ],
            422,
        )
        .await;
    assert_eq!(
        admin.ok("list_tokens", &[]).await.as_array().unwrap().len(),
        2,
        "refused input stored nothing"
    );

    // Scopes decide.
    let (status, body) = api(&app, "GET", "/api/v1/incidents", Some(&reader), None).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = api(
        &app,
        "POST",
        "/api/v1/incidents",
        Some(&reader),
        Some(json!({"title": "x", "severity": "SEV3"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = api(
        &app,
        "POST",
        "/api/v1/incidents",
        Some(&writer),
        Some(json!({"title": "Pager storm", "summary": "from *Alertmanager*", "severity": "SEV2"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (status, body) = api(
        &app,
        "GET",
        &format!("/api/v1/incidents/{id}"),
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["incident"]["declared_by"]["name"],
        "Alertmanager (API token)"
    );
    let (status, body) = api(
        &app,
        "POST",
        "/api/v1/incidents",
        Some(&writer),
        Some(json!({"title": "", "severity": "SEV2"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = api(&app, "GET", "/api/v1/incidents", None, None).await;
    assert_eq!(status, 401);
    let (status, _) = api(
        &app,
        "GET",
        "/api/v1/incidents",
        Some("wr_not-a-real-token"),
        None,
    )
    .await;
    assert_eq!(status, 401);

    // Last use is kept.
    let used: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT last_used_at FROM api_tokens WHERE id = $1")
            .bind(read_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(used.is_some());

    // Revoked: refused at once, exactly like an unknown token.
    admin
        .ok("revoke_token", &[("id", &read_id.to_string())])
        .await;
    let (status, body) = api(&app, "GET", "/api/v1/incidents", Some(&reader), None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "Please sign in first.");
    admin
        .fails("revoke_token", &[("id", &read_id.to_string())], 404)
        .await;

    // Expired: the same.
    sqlx::query("UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE name = 'Alertmanager'").execute(&pool).await.unwrap();
    let (status, _) = api(&app, "GET", "/api/v1/incidents", Some(&writer), None).await;
    assert_eq!(status, 401);

    // Every step is on record.
    let actions: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, outcome FROM audit_log WHERE action LIKE 'token%' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let count = |a: &str, o: &str| actions.iter().filter(|(x, y)| x == a && y == o).count();
    assert_eq!(count("token_created", "ok"), 2);
    // Uses: each token's first of the day (the reader's and the writer's).
    assert_eq!(count("token_used", "ok"), 2);
    assert_eq!(count("token_refused", "refused"), 5, "{actions:?}");
    assert_eq!(count("token_revoked", "ok"), 1);
    // No secret reaches the audit log.
    let details: Vec<String> = sqlx::query_scalar("SELECT details::text FROM audit_log")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(!details
        .iter()
        .any(|d| d.contains(&reader) || d.contains(&writer)));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_token_used_all_day_is_audited_once_a_day_and_each_refusal_still_is(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let (id, token) = create_token(&admin, "Poller", &["incidents:read"], "0").await;
    let audited = |action: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM audit_log WHERE action = $1 AND outcome = $2",
            )
            .bind(action)
            .bind(if action == "token_used" {
                "ok"
            } else {
                "refused"
            })
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let last_used = || {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<chrono::DateTime<chrono::Utc>>>(
                "SELECT last_used_at FROM api_tokens WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
            .expect("the token's use is recorded")
        }
    };
    let calls = 40;
    let incident = admin.declare("Polled", "SEV3").await;
    for n in 0..calls {
        let path = if n % 2 == 0 {
            "/api/v1/incidents".to_string()
        } else {
            format!("/api/v1/incidents/{incident}")
        };
        let (status, body) = api(&app, "GET", &path, Some(&token), None).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(
        audited("token_used").await,
        1,
        "{calls} calls, one audit row"
    );
    let first = last_used().await;

    // Within a minute of the recorded use, calls do not rewrite it; later ones do.
    api(&app, "GET", "/api/v1/incidents", Some(&token), None).await;
    assert_eq!(last_used().await, first);
    sqlx::query("UPDATE api_tokens SET last_used_at = last_used_at - interval '2 minutes'")
        .execute(&pool)
        .await
        .unwrap();
    api(&app, "GET", "/api/v1/incidents", Some(&token), None).await;
    assert!(
        last_used().await >= first,
        "rewritten once the minute is over"
    );
    assert_eq!(audited("token_used").await, 1);

    // The next day's first call is on record again.
    sqlx::query("UPDATE api_tokens SET last_used_at = last_used_at - interval '1 day'")
        .execute(&pool)
        .await
        .unwrap();
    for _ in 0..3 {
        api(&app, "GET", "/api/v1/incidents", Some(&token), None).await;
    }
    assert_eq!(audited("token_used").await, 2);

    // Refusals are each recorded, as before (up to five a minute per actor).
    let (status, body) = api(
        &app,
        "POST",
        "/api/v1/incidents",
        Some(&token),
        Some(json!({"title": "x", "severity": "SEV3"})),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body, json!({"error": "You are not allowed to do that."}));
    for _ in 0..2 {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/incidents", app.base))
            .bearer_auth("wr_not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"warroom\""
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({"error": "Please sign in first."}));
    }
    assert_eq!(audited("token_refused").await, 3);

    // The per-address counters of the calls are one row a minute, gone once it is over.
    let counters = || {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM rate_limits WHERE bucket LIKE 'api:%'",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert!((1..=2).contains(&counters().await), "one per minute begun");
    sqlx::query("UPDATE rate_limits SET window_start = window_start - interval '1 minute'")
        .execute(&pool)
        .await
        .unwrap();
    warroom_app::limits::close_finished_minutes(&pool)
        .await
        .unwrap();
    assert_eq!(counters().await, 0);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn token_use_is_rate_limited_per_source(pool: PgPool) {
    let mut config = Config::for_tests();
    config.auth.api_rate_per_minute = 3;
    let app = TestApp::spawn_with(pool.clone(), config).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let (_, token) = create_token(&admin, "Script", &["incidents:read"], "1").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            api(&app, "GET", "/api/v1/incidents", Some(&token), None)
                .await
                .0,
        );
    }
    // Unless the minute turned during the loop, the fourth and fifth are refused.
    if statuses != [200, 200, 200, 429, 429] {
        assert!(statuses.contains(&429), "{statuses:?}");
    }
    // Refused in the API's error shape, saying when to come back.
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/incidents", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    if response.status() == 429 {
        let wait: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().starts_with("Too many"),
            "{body}"
        );
    }
    let limited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'rate_limited'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(limited >= 1, "the first refusal of the minute is on record");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_audit_log_is_append_only_and_filterable(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let viewer = app.signed_in_as("Vic", "viewer").await;
    viewer.fails("list_tokens", &[], 403).await;
    admin
        .ok(
            "invite_member",
            &[("email", "New.Person@Example.com"), ("role", "responder")],
        )
        .await;
    admin
        .fails(
            "invite_member",
            &[("email", "not-an-address"), ("role", "responder")],
            422,
        )
        .await;
    let invitations = admin.ok("list_invitations", &[]).await;
    assert_eq!(invitations[0]["email"], "new.person@example.com");
    assert_eq!(invitations[0]["role"], "Responder");
    admin
        .ok(
            "withdraw_invitation",
            &[("email", "new.person@example.com")],
        )
        .await;

    for statement in [
        "UPDATE audit_log SET outcome = 'ok'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let err = sqlx::query(statement).execute(&pool).await.unwrap_err();
        assert!(
            err.to_string().contains("append-only"),
            "{statement}: {err}"
        );
    }

    let all = admin
        .ok(
            "audit_log",
            &[
                ("action", ""),
                ("refused_only", "false"),
                ("actor", "0"),
                ("before", "0"),
            ],
        )
        .await;
    let actions: Vec<&str> = all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "invitation_withdrawn",
            "invitation_created",
            "access_refused",
            "sign_in",
            "sign_in",
            "config_changed"
        ]
    );
    let refused = admin
        .ok(
            "audit_log",
            &[
                ("action", ""),
                ("refused_only", "true"),
                ("actor", "0"),
                ("before", "0"),
            ],
        )
        .await;
    assert_eq!(refused["entries"].as_array().unwrap().len(), 1);
    assert_eq!(refused["entries"][0]["actor"], "Vic");
    // Paging: one older entry at a time.
    let newest = all["entries"][0]["id"].as_i64().unwrap();
    let older = admin
        .ok(
            "audit_log",
            &[
                ("action", ""),
                ("refused_only", "false"),
                ("actor", "0"),
                ("before", &newest.to_string()),
            ],
        )
        .await;
    assert_eq!(older["entries"][0]["action"], "invitation_created");
    admin
        .fails(
            "audit_log",
            &[
                ("action", "launch_missiles"),
                ("refused_only", "false"),
                ("actor", "0"),
                ("before", "0"),
            ],
            422,
        )
        .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn changed_sign_in_settings_are_recorded_once_per_change(pool: PgPool) {
    let config_with = |admins: &'static str| {
        let mut config = Config::for_tests();
        config.auth = warroom::config::auth::AuthConfig::load(&|name| match name {
            "WARROOM_ADMINS" => Some(admins.to_string()),
            "WARROOM_OIDC_ISSUER" => Some("https://sso.example.com".into()),
            "WARROOM_OIDC_CLIENT_ID" => Some("warroom".into()),
            "WARROOM_OIDC_CLIENT_SECRET" => Some("very-secret".into()),
            _ => None,
        })
        .unwrap();
        config
    };
    for admins in [
        "a@example.com",
        "a@example.com",
        "a@example.com,b@example.com",
    ] {
        let app = TestApp::spawn_with(pool.clone(), config_with(admins)).await;
        assert_eq!(Client::new(&app.base).get("/readyz").await.status(), 200);
        app.stop().await;
    }
    let recorded: Vec<Value> = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE action = 'config_changed' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        recorded.len(),
        2,
        "the unchanged restart recorded nothing: {recorded:?}"
    );
    assert_eq!(recorded[1]["before"]["admins"], json!(["a@example.com"]));
    assert_eq!(
        recorded[1]["now"]["admins"],
        json!(["a@example.com", "b@example.com"])
    );
    assert_eq!(
        recorded[1]["now"]["providers"][0]["issuer"],
        "https://sso.example.com"
    );
    assert!(!recorded
        .iter()
        .any(|d| d.to_string().contains("very-secret")));
}
