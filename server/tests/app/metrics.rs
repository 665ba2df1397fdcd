//! `/metrics` on its own listener: the counters move with what Warroom does, and the
//! gauges read this server's live viewers, pools and the job queue.

use std::collections::HashMap;

use sqlx::PgPool;
use warroom::config::Config;

use crate::support::TestApp;

/// One scrape: `name{label="value",…}` (labels sorted) → value.
struct Scrape(HashMap<String, f64>);

impl Scrape {
    async fn of(app: &TestApp) -> Scrape {
        let base = app.metrics.as_ref().expect("a metrics listener");
        let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        Scrape::parse(&response.text().await.unwrap())
    }

    /// The text format: comment lines, then `name{labels} value` samples.
    fn parse(text: &str) -> Scrape {
        let mut samples = HashMap::new();
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (series, value) = line.rsplit_once(' ').expect("name and value");
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("value in {line:?}"));
            let key = match series.split_once('{') {
                None => series.to_string(),
                Some((name, labels)) => {
                    let labels = labels.strip_suffix('}').expect("closed labels");
                    let mut pairs: Vec<&str> = split_labels(labels);
                    pairs.sort_unstable();
                    format!("{name}{{{}}}", pairs.join(","))
                }
            };
            samples.insert(key, value);
        }
        Scrape(samples)
    }

    /// The sample with these labels (any order), 0 when absent.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0.get(&key(name, labels)).copied().unwrap_or(0.0)
    }

    fn has(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        self.0.contains_key(&key(name, labels))
    }
}

fn key(name: &str, labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return name.to_string();
    }
    let mut pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    pairs.sort_unstable();
    format!("{name}{{{}}}", pairs.join(","))
}

/// Splits `a="x",b="y,z"` at the commas between pairs (not those inside quotes).
fn split_labels(labels: &str) -> Vec<&str> {
    let (mut pairs, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (i, c) in labels.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                pairs.push(&labels[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < labels.len() {
        pairs.push(&labels[start..]);
    }
    pairs
}

#[sqlx::test(migrations = "../migrations")]
async fn metrics_count_requests_sign_ins_refusals_and_read_viewers_pools_and_jobs(pool: PgPool) {
    let app = TestApp::spawn_with_metrics(pool, Config::for_tests()).await;
    let before = Scrape::of(&app).await;

    let http = reqwest::Client::new();
    for _ in 0..3 {
        let health = http
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
    }
    let refused = http
        .get(format!("{}/api/v1/incidents", app.base))
        .bearer_auth("wr_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let alice = app.signed_in("Alice").await;
    let incident = alice.declare("Checkout is down", "SEV2").await;
    let room = alice.get(&format!("/incidents/{incident}")).await;
    assert_eq!(room.status(), 200);
    let stream = alice.live(incident, None).await;

    let after = Scrape::of(&app).await;
    let moved =
        |name: &str, labels: &[(&str, &str)]| after.get(name, labels) - before.get(name, labels);

    let healthz = [("route", "/healthz"), ("method", "GET"), ("status", "2xx")];
    assert!(moved("warroom_http_requests_total", &healthz) >= 3.0);
    assert!(moved("warroom_http_request_duration_seconds_count", &healthz) >= 3.0);
    assert!(after.has(
        "warroom_http_request_duration_seconds_bucket",
        &[healthz[0], healthz[1], healthz[2], ("le", "+Inf")]
    ));
    // Routes are the matched patterns, not the paths with their ids.
    let page = [
        ("route", "/incidents/{id}"),
        ("method", "GET"),
        ("status", "2xx"),
    ];
    assert!(
        moved("warroom_http_requests_total", &page) >= 1.0,
        "{:?}",
        after
            .0
            .keys()
            .filter(|k| k.starts_with("warroom_http_requests_total"))
            .collect::<Vec<_>>()
    );
    let api = [
        ("route", "/api/v1/incidents"),
        ("method", "GET"),
        ("status", "4xx"),
    ];
    assert!(moved("warroom_http_requests_total", &api) >= 1.0);

    assert!(
        moved(
            "warroom_sign_ins_total",
            &[("method", "development"), ("outcome", "ok")]
        ) >= 1.0
    );
    assert!(moved("warroom_refusals_total", &[("action", "token_refused")]) >= 1.0);
    // The site is rebuilt once the database is there, and again after the declaration.
    assert!(
        after.get(
            "warroom_status_site_rebuilds_total",
            &[("outcome", "fresh")]
        ) >= 1.0
    );

    // Gauges of this server alone.
    assert_eq!(after.get("warroom_live_viewers", &[]), 1.0);
    assert!(after.has(
        "warroom_db_pool_connections",
        &[("pool", "serving"), ("state", "in_use")]
    ));
    assert!(
        after.get(
            "warroom_db_pool_connections",
            &[("pool", "serving"), ("state", "idle")]
        ) >= 1.0
    );
    assert_eq!(
        after.get("warroom_db_pool_max_connections", &[("pool", "serving")]),
        20.0
    );
    for job in [
        "status-subscriber-challenge",
        "status-update-fan-out",
        "status-webhook-delivery",
    ] {
        assert!(
            after.has("warroom_job_queue_depth", &[("job", job)]),
            "{job}"
        );
        assert!(after.has("warroom_job_queue_oldest_age_seconds", &[("job", job)]));
        assert!(after.has("warroom_job_failures_total", &[("job", job)]));
    }

    drop(stream);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while Scrape::of(&app).await.get("warroom_live_viewers", &[]) != 0.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the viewer never left"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_job_queue_figures_are_read_from_the_queue_tables(pool: PgPool) {
    warroom::db::migrate(pool.acquire().await.unwrap())
        .await
        .unwrap();
    // No workers run here: what is inserted stays as it is.
    for statement in [
        "INSERT INTO underway.task_queue (name) VALUES ('tick'), ('idle')",
        // Due for a minute, delayed for an hour (a retry's backoff), and done.
        "INSERT INTO underway.task (id, task_queue_name, input, created_at)
         VALUES ('00000000-0000-0000-0000-000000000001', 'tick', '{}', now() - interval '60 seconds')",
        "INSERT INTO underway.task (id, task_queue_name, input, delay)
         VALUES ('00000000-0000-0000-0000-000000000002', 'tick', '{}', interval '1 hour')",
        "INSERT INTO underway.task (id, task_queue_name, input, state)
         VALUES ('00000000-0000-0000-0000-000000000003', 'tick', '{}', 'succeeded')",
        "INSERT INTO underway.task_attempt (task_id, task_queue_name, attempt_number, state)
         VALUES ('00000000-0000-0000-0000-000000000003', 'tick', 1, 'failed'),
                ('00000000-0000-0000-0000-000000000003', 'tick', 2, 'succeeded')",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    let queues = warroom::metrics::store::queues(&pool).await.unwrap();
    let figures: Vec<(&str, i64, i64)> = queues
        .iter()
        .map(|q| (q.job.as_str(), q.depth, q.failures))
        .collect();
    assert_eq!(figures, [("idle", 0, 0), ("tick", 2, 1)]);
    assert_eq!(queues[0].oldest_age_seconds, 0.0);
    let oldest = queues[1].oldest_age_seconds;
    assert!((59.0..120.0).contains(&oldest), "{oldest}");
}
