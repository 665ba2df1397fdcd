//! Live delivery: Postgres NOTIFY → every replica → Server-Sent Events, with presence and
//! replay of what a reconnecting viewer missed.

use std::time::Duration;

use crate::support::TestApp;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

const WAIT: Duration = Duration::from_secs(5);

#[sqlx::test(migrations = "../migrations")]
async fn a_viewer_sees_new_entries_and_state_changes_as_they_happen(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let alice = app.signed_in("Alice").await;
    let bob = app.signed_in("Bob").await;
    let id = alice.declare("Payments failing", "SEV1").await;
    let mut stream = bob.live(id, None).await;

    alice.note(id, "note", "Seeing *timeouts*").await;
    let event = stream.next_of("entry", WAIT).await;
    assert_eq!(event.data["entry"]["event"]["kind"], "note");
    assert_eq!(
        event.data["entry"]["event"]["body_html"],
        "<p>Seeing <em>timeouts</em></p>\n"
    );
    assert_eq!(event.data["entry"]["author"]["name"], "Alice");
    assert_eq!(event.id, event.data["entry"]["id"].as_i64());

    alice
        .ok(
            "set_status",
            &[("incident_id", &id.to_string()), ("status", "identified")],
        )
        .await;
    let event = stream.next_of("entry", WAIT).await;
    assert_eq!(event.data["entry"]["event"]["kind"], "status_changed");
    assert_eq!(
        event.data["incident"]["status"], "identified",
        "the event carries the new state"
    );

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
    let event = stream.next_of("entry", WAIT).await;
    assert_eq!(
        event.data["incident"]["roles"][0]["person"]["name"],
        "Alice"
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_reconnecting_viewer_receives_what_it_missed(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let alice = app.signed_in("Alice").await;
    let id = alice.declare("DNS flapping", "SEV2").await;
    let mut stream = alice.live(id, None).await;
    alice.note(id, "note", "first").await;
    let first = stream.next_of("entry", WAIT).await;
    drop(stream);

    for body in ["second", "third"] {
        alice.note(id, "note", body).await;
    }
    let mut resumed = alice.live(id, first.id).await;
    let second = resumed.next_of("entry", WAIT).await;
    let third = resumed.next_of("entry", WAIT).await;
    assert_eq!(second.data["entry"]["event"]["body_md"], "second");
    assert_eq!(third.data["entry"]["event"]["body_md"], "third");
    assert!(second.id < third.id);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn viewers_see_who_else_is_in_the_room(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let alice = app.signed_in("Alice").await;
    let bob = app.signed_in("Bob").await;
    let id = alice.declare("Cache stampede", "SEV2").await;
    let mut alice_stream = alice.live(id, None).await;
    let bob_stream = bob.live(id, None).await;

    let names = |event: &crate::support::SseEvent| -> Vec<String> {
        event.data["viewers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    let mut seen = names(&alice_stream.next_of("presence", WAIT).await);
    while seen != ["Alice", "Bob"] {
        seen = names(&alice_stream.next_of("presence", WAIT).await);
    }
    drop(bob_stream);
    let mut seen = names(&alice_stream.next_of("presence", WAIT).await);
    while seen != ["Alice"] {
        seen = names(&alice_stream.next_of("presence", WAIT).await);
    }
    app.stop().await;
}

/// Two replicas, each with its own pool, on one database: an update made through one
/// reaches a viewer connected to the other.
#[sqlx::test(migrations = "../migrations")]
async fn an_update_on_one_replica_reaches_viewers_of_another(pool: PgPool) {
    let second_pool = PgPoolOptions::new()
        .max_connections(5)
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    let replica_a = TestApp::spawn(pool).await;
    let replica_b = TestApp::spawn(second_pool).await;
    let alice_on_a = replica_a.signed_in("Alice").await;
    let bob_on_b = replica_b.signed_in("Bob").await;

    let id = alice_on_a.declare("Region eu-west degraded", "SEV1").await;
    let mut stream = bob_on_b.live(id, None).await;
    alice_on_a
        .ok(
            "set_severity",
            &[("incident_id", &id.to_string()), ("severity", "SEV2")],
        )
        .await;
    let event = stream.next_of("entry", WAIT).await;
    assert_eq!(event.data["entry"]["event"]["kind"], "severity_changed");
    assert_eq!(event.data["incident"]["severity"]["key"], "SEV2");
    replica_b.stop().await;
    replica_a.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_stream_of_an_unknown_incident_is_not_found(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let alice = app.signed_in("Alice").await;
    let response = alice.get("/live/incidents/4242").await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.text().await.unwrap(), "Not found: incident 4242.");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn shutdown_ends_live_streams_and_clears_presence(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let alice = app.signed_in("Alice").await;
    let id = alice.declare("Shutdown drill", "SEV3").await;
    let _stream = alice.live(id, None).await;
    // `stop` fails the test if graceful shutdown hangs on the open stream.
    app.stop().await;
    let present: i64 = sqlx::query_scalar("SELECT count(*) FROM room_presence")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(present, 0);
}
