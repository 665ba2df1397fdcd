//! Offboarding: admins disable people (every sign-in ends at once, no way back in until
//! enabled again) and end someone's sessions; the last enabled admin stays. Over HTTP
//! against the real app.

use crate::support::{Client, TestApp};
use serde_json::{json, Value};
use sqlx::PgPool;

async fn id_of(client: &Client) -> String {
    client.ok("me", &[]).await["person"]["id"].to_string()
}

async fn member(admin: &Client, name: &str) -> Value {
    admin
        .ok("list_members", &[])
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not listed"))
        .clone()
}

/// The audit rows of `action`: (actor id, target, details).
async fn audit(pool: &PgPool, action: &str) -> Vec<(Option<i64>, String, Value)> {
    sqlx::query_as(
        "SELECT actor_user_id, target, details FROM audit_log WHERE action = $1 ORDER BY id",
    )
    .bind(action)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn ended_reasons(pool: &PgPool, name: &str) -> Vec<Option<String>> {
    sqlx::query_scalar(
        "SELECT s.ended_reason FROM sign_ins s JOIN users u ON u.id = s.user_id
         WHERE u.display_name = $1 ORDER BY s.created_at",
    )
    .bind(name)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_disabled_person_is_signed_out_at_once_and_cannot_sign_in_until_enabled(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let laptop = app.signed_in_as("Leaver", "responder").await;
    let phone = app.signed_in_as("Leaver", "responder").await;
    let incident = laptop.declare("Disk full", "SEV2").await;
    let leaver = id_of(&laptop).await;
    let ada = id_of(&admin).await;

    admin.ok("disable_member", &[("user_id", &leaver)]).await;
    // Both browsers are signed out on their very next request.
    for browser in [&laptop, &phone] {
        assert_eq!(browser.ok("me", &[]).await, Value::Null);
        browser
            .fails("incident_room", &[("id", &incident.to_string())], 401)
            .await;
    }
    assert_eq!(
        ended_reasons(&pool, "Leaver").await,
        [Some("disabled".to_string()), Some("disabled".to_string())]
    );
    // No way back in, not even with the development sign-in (which would otherwise
    // rewrite the role of whoever has that name).
    let again = Client::new(&app.base);
    let err = again
        .fails("dev_sign_in", &[("name", "Leaver"), ("role", "admin")], 409)
        .await;
    assert!(err.to_string().contains("disabled"), "{err}");
    assert_eq!(again.ok("me", &[]).await, Value::Null);
    let row = member(&admin, "Leaver").await;
    assert_eq!(row["disabled"], true, "{row}");
    assert_eq!(row["role"], "Responder", "the role is kept for later");
    assert_eq!(row["active_sessions"], 0);
    // Disabling twice is refused as such.
    admin
        .fails("disable_member", &[("user_id", &leaver)], 409)
        .await;

    admin.ok("enable_member", &[("user_id", &leaver)]).await;
    let back = app.signed_in_as("Leaver", "responder").await;
    assert_eq!(back.ok("me", &[]).await["person"]["name"], "Leaver");
    assert_eq!(member(&admin, "Leaver").await["disabled"], false);
    admin
        .fails("enable_member", &[("user_id", &leaver)], 409)
        .await;
    admin
        .fails("disable_member", &[("user_id", "999999")], 404)
        .await;

    let disabled = audit(&pool, "member_disabled").await;
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].0.unwrap().to_string(), ada);
    assert_eq!(disabled[0].1, format!("user {leaver}"));
    assert_eq!(disabled[0].2["sessions"], 2);
    let enabled = audit(&pool, "member_enabled").await;
    assert_eq!(enabled.len(), 1);
    assert_eq!(enabled[0].1, format!("user {leaver}"));
    let refused: Vec<Value> = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE action = 'sign_in_refused' AND target = 'development'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(refused, [json!({ "reason": "disabled" })]);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn admins_end_all_sessions_of_someone_who_may_sign_in_again(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let one = app.signed_in_as("Lost Laptop", "responder").await;
    let two = app.signed_in_as("Lost Laptop", "responder").await;
    let bystander = app.signed_in_as("Bystander", "responder").await;
    let target = id_of(&one).await;
    assert_eq!(
        admin
            .ok("end_member_sessions", &[("user_id", &target)])
            .await,
        json!(2)
    );
    one.fails("my_sessions", &[], 401).await;
    two.fails("my_sessions", &[], 401).await;
    bystander.ok("my_sessions", &[]).await;
    admin.ok("my_sessions", &[]).await;
    assert_eq!(
        ended_reasons(&pool, "Lost Laptop").await,
        [
            Some("ended_by_admin".to_string()),
            Some("ended_by_admin".to_string())
        ]
    );
    assert_eq!(member(&admin, "Lost Laptop").await["active_sessions"], 0);
    // Not disabled: they sign in again.
    app.signed_in_as("Lost Laptop", "responder").await;
    let ended = audit(&pool, "member_sessions_ended").await;
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].1, format!("user {target}"));
    assert_eq!(ended[0].2["sessions"], 2);
    admin
        .fails("end_member_sessions", &[("user_id", "999999")], 404)
        .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_last_enabled_admin_can_be_neither_disabled_nor_demoted(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let ada = app.signed_in_as("Ada", "admin").await;
    let ada_id = id_of(&ada).await;
    let err = ada
        .fails("disable_member", &[("user_id", &ada_id)], 409)
        .await;
    assert!(err.to_string().contains("at least one admin"), "{err}");
    assert_eq!(ada.ok("me", &[]).await["role"], "Admin");

    let bea = app.signed_in_as("Bea", "admin").await;
    let bea_id = id_of(&bea).await;
    ada.ok("disable_member", &[("user_id", &bea_id)]).await;
    assert_eq!(bea.ok("me", &[]).await, Value::Null);
    // Bea is still an admin by role, but disabled: Ada is the last one who can act.
    let err = ada
        .fails("disable_member", &[("user_id", &ada_id)], 409)
        .await;
    assert!(err.to_string().contains("at least one admin"), "{err}");
    let err = ada
        .fails(
            "set_member_role",
            &[("user_id", &ada_id), ("role", "responder")],
            409,
        )
        .await;
    assert!(err.to_string().contains("at least one admin"), "{err}");
    assert_eq!(ada.ok("me", &[]).await["role"], "Admin");
    assert_eq!(audit(&pool, "member_disabled").await.len(), 1);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn disabled_people_are_neither_offered_nor_given_incident_roles(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let rita = app.signed_in_as("Rita", "responder").await;
    let gone = app.signed_in_as("Gone", "responder").await;
    let gone_id = id_of(&gone).await;
    let incident = rita.declare("Queue stuck", "SEV3").await.to_string();
    let names = |room: Value| -> Vec<String> {
        room["people"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(names(rita.room(incident.parse().unwrap()).await).contains(&"Gone".to_string()));
    admin.ok("disable_member", &[("user_id", &gone_id)]).await;
    assert_eq!(
        names(rita.room(incident.parse().unwrap()).await),
        ["Ada", "Rita"]
    );
    let err = rita
        .fails(
            "assign_role",
            &[
                ("incident_id", &incident),
                ("role", "fixer"),
                ("user_id", &gone_id),
            ],
            422,
        )
        .await;
    assert!(err.to_string().contains("disabled"), "{err}");
    app.stop().await;
}
