//! The timeline as the outbox, and the jobs it feeds: changes commit with their entries
//! and queued work together or not at all, every entry is handed to its subscriptions
//! once, and subscribers' answers decide between retrying and stopping.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use warroom_app::auth::model::Person;
use warroom_app::incidents::model::{IncidentTitle, Status};
use warroom_app::timeline::model::EntryEvent;

use crate::support::{eventually, TestApp};

#[sqlx::test(migrations = "../migrations")]
async fn the_databases_kind_check_allows_exactly_the_kinds_the_timeline_writes(pool: PgPool) {
    let definition: String = sqlx::query_scalar(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint
         WHERE conname = 'timeline_entries_kind_check'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let allowed: BTreeSet<String> = definition
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    let written: BTreeSet<String> = EntryEvent::kinds().into_iter().map(str::to_owned).collect();
    assert_eq!(allowed, written, "{definition}");
}

async fn someone(pool: &PgPool) -> Person {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (display_name, role) VALUES ('Ada Responder', 'responder') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    Person {
        id,
        name: "Ada Responder".into(),
    }
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn several_changes_in_one_transaction_commit_together_or_not_at_all(pool: PgPool) {
    use warroom_app::incidents::store;
    let ada = someone(&pool).await;
    let title = IncidentTitle::parse("Checkout 500s").unwrap();
    let summary = warroom_app::markdown::render_new("summary", "")
        .await
        .unwrap();
    let severity: String = sqlx::query_scalar("SELECT key FROM severities ORDER BY rank LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let now = chrono::Utc::now();

    // Declared and moved on, then the last step fails: nothing of it stays.
    let mut tx = pool.begin().await.unwrap();
    let id = store::declare(&mut tx, &ada, &title, &summary, &severity)
        .await
        .unwrap();
    store::change_status(&mut tx, &ada, id, Status::Identified, now)
        .await
        .unwrap();
    let refused = store::change_status(&mut tx, &ada, id, Status::Identified, now).await;
    assert!(refused.is_err(), "the same status twice is refused");
    drop(tx);
    assert_eq!(count(&pool, "SELECT count(*) FROM incidents").await, 0);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM timeline_entries").await,
        0
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM timeline_outbox").await,
        0
    );

    // Committed: the incident, both entries, and both queued for the integrations.
    let mut tx = pool.begin().await.unwrap();
    let id = store::declare(&mut tx, &ada, &title, &summary, &severity)
        .await
        .unwrap();
    store::change_status(&mut tx, &ada, id, Status::Identified, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let queued: Vec<(i64, String)> =
        sqlx::query_as("SELECT entry_id, kind FROM timeline_outbox ORDER BY entry_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let kinds: Vec<&str> = queued.iter().map(|(_, k)| k.as_str()).collect();
    assert_eq!(kinds, ["declared", "status_changed"]);

    // Dispatched once: nothing subscribes to these kinds, so no job, and the outbox empties.
    // (No Warroom runs here: the queue's schema is made as it would at start.)
    underway::run_migrations(&mut *pool.acquire().await.unwrap())
        .await
        .unwrap();
    let context = warroom::jobs::JobContext {
        pool: pool.clone(),
        webhooks: Arc::new(warroom::jobs::webhooks::WebhookClient::new(true).unwrap()),
        site: warroom::status::site::StatusSite::new(None, "http://status.test".into()),
    };
    let jobs = warroom::jobs::build(&context).await.unwrap();
    let subscriptions = jobs.subscriptions();
    let known = EntryEvent::kinds();
    for subscription in &subscriptions {
        assert!(
            subscription.kinds.iter().all(|k| known.contains(k)),
            "{}",
            subscription.name
        );
        assert!(
            warroom::jobs::JOBS
                .iter()
                .any(|j| j.name == subscription.name),
            "{} has no worker",
            subscription.name
        );
    }
    let handled = warroom::jobs::timeline::dispatch(&pool, &subscriptions)
        .await
        .unwrap();
    assert_eq!(handled, 2);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM timeline_outbox").await,
        0
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM underway.task").await, 0);
    assert_eq!(
        warroom::jobs::timeline::dispatch(&pool, &subscriptions)
            .await
            .unwrap(),
        0,
        "each entry is handed over once"
    );
}

/// What a subscriber answers to deliveries (challenges are always echoed).
#[derive(Clone, Copy)]
enum Deliveries {
    /// 410 Gone, every time.
    Gone,
    /// 429 with `Retry-After: 2` the first time, then 200.
    BusyOnce,
}

/// A subscriber on a local port; returns its URL and the times deliveries reached it.
async fn start_subscriber(mode: Deliveries) -> (String, Arc<Mutex<Vec<tokio::time::Instant>>>) {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = seen.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: bytes::Bytes| {
            let state = state.clone();
            async move {
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                if let Some(challenge) = json["challenge"].as_str() {
                    return challenge.to_string().into_response();
                }
                let earlier = {
                    let mut seen = state.lock().unwrap();
                    seen.push(tokio::time::Instant::now());
                    seen.len() - 1
                };
                match (mode, earlier) {
                    (Deliveries::Gone, _) => StatusCode::GONE.into_response(),
                    (Deliveries::BusyOnce, 0) => {
                        (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "2")]).into_response()
                    }
                    (Deliveries::BusyOnce, _) => "ok".into_response(),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, seen)
}

async fn subscribe_confirmed(app: &TestApp, url: &str) {
    let answer = crate::support::Client::new(&app.base)
        .http
        .post(format!("{}/status/subscribe", app.base))
        .form(&[("url", url)])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    eventually("the confirmation", Duration::from_secs(15), async || {
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM status_subscribers WHERE url = $1 AND confirmed_at IS NULL",
        )
        .bind(url)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        (pending == 0)
            .then_some(())
            .ok_or_else(|| "pending".to_string())
    })
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_gone_subscriber_is_not_retried_and_a_busy_one_is_retried_when_it_asked(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (gone_url, gone) = start_subscriber(Deliveries::Gone).await;
    let (busy_url, busy) = start_subscriber(Deliveries::BusyOnce).await;
    subscribe_confirmed(&app, &gone_url).await;
    subscribe_confirmed(&app, &busy_url).await;

    // An incident's public update reaches subscribers through its timeline's outbox.
    let (_admin, alice, id, components) = crate::status_page::incident_with_components(&app).await;
    crate::status_page::go_public(
        &alice,
        &id.to_string(),
        components[0],
        "major_outage",
        "Checkout is failing",
        "investigating",
        "We are looking into failed payments.",
    )
    .await;

    let times = eventually(
        "the busy subscriber's retry",
        Duration::from_secs(30),
        async || {
            let times = busy.lock().unwrap().clone();
            (times.len() >= 2)
                .then_some(times.clone())
                .ok_or_else(|| format!("{} deliveries", times.len()))
        },
    )
    .await;
    assert!(
        times[1] - times[0] >= Duration::from_secs(2),
        "retried before its Retry-After: {:?}",
        times[1] - times[0]
    );
    eventually("the delivery recorded", Duration::from_secs(10), async || {
        let delivered: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM status_deliveries d JOIN status_subscribers s ON s.id = d.subscriber_id
             WHERE s.url = $1 AND d.delivered_at IS NOT NULL",
        )
        .bind(&busy_url)
        .fetch_one(&pool)
        .await
        .unwrap();
        (delivered == 1).then_some(()).ok_or_else(|| "not delivered".to_string())
    })
    .await;

    // The gone one was asked once, its task failed for good, and admins can see why.
    let (error, status, permanent): (String, Option<i16>, bool) = eventually(
        "the permanent failure recorded",
        Duration::from_secs(10),
        async || {
            sqlx::query_as(
                "SELECT f.error, f.http_status, f.permanent FROM integration_failures f
                 JOIN status_subscribers s ON f.target = 'subscriber ' || s.id
                 WHERE f.integration = 'status_webhooks' AND s.url = $1",
            )
            .bind(&gone_url)
            .fetch_optional(&pool)
            .await
            .unwrap()
            .ok_or_else(|| "no failure yet".to_string())
        },
    )
    .await;
    assert!(permanent && status == Some(410), "{error} {status:?}");
    assert!(error.contains("410"), "{error}");
    // Retries would have come after 1 s, 2 s, 4 s: none came.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(gone.lock().unwrap().len(), 1, "a 410 is not retried");
    let failed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM underway.task WHERE task_queue_name = 'status-webhook-delivery'
           AND state = 'failed'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(failed, 1);
    // A success clears the busy subscriber's record.
    let busy_failures: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM integration_failures f JOIN status_subscribers s
           ON f.target = 'subscriber ' || s.id WHERE s.url = $1",
    )
    .bind(&busy_url)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(busy_failures, 0);
    app.stop_leaving_jobs().await;
}
