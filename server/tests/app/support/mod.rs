//! Test harness: the real app on port 0 over a fresh database, and a signed-in client.

use std::time::Duration;

use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, ORIGIN};
use serde_json::Value;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use warroom::config::Config;

pub mod fake_github;

/// Tries `attempt` every 50 ms until it gives `Ok`; after `timeout`, fails naming `what`
/// and showing the last `Err` (what it saw instead).
pub async fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut attempt: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match attempt().await {
            Ok(done) => return done,
            Err(seen) => assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}:\n{seen}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A running Warroom.
pub struct TestApp {
    pub base: String,
    pub pool: PgPool,
    /// `http://…` of its metrics listener, when it has one (`spawn_with_metrics`).
    pub metrics: Option<String>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    pub async fn spawn(pool: PgPool) -> TestApp {
        Self::spawn_with(pool, Config::for_tests()).await
    }

    /// Starts Warroom and waits until it is ready (database reached and migrated).
    pub async fn spawn_with(pool: PgPool, config: Config) -> TestApp {
        let app = Self::start(pool, config).await;
        app.wait_until_ready().await;
        app
    }

    async fn wait_until_ready(&self) {
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let ready = client.get(format!("{}/readyz", self.base)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "Warroom never became ready"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts Warroom with `/metrics` on a port of its own, and waits until it is ready.
    pub async fn spawn_with_metrics(pool: PgPool, config: Config) -> TestApp {
        let metrics = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let app = Self::start_with(pool, config, Some(metrics)).await;
        app.wait_until_ready().await;
        app
    }

    /// Starts Warroom without waiting for its database.
    pub async fn start(pool: PgPool, config: Config) -> TestApp {
        Self::start_with(pool, config, None).await
    }

    async fn start_with(pool: PgPool, config: Config, metrics: Option<TcpListener>) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let metrics_base = metrics
            .as_ref()
            .map(|l| format!("http://{}", l.local_addr().unwrap()));
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        // Its own pool on the test's database, sized like a real one (the test's pool
        // has 5 connections; Warroom keeps two of its pool's connections listening).
        let app_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(20)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with((*pool.connect_options()).clone());
        let task = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                let database = warroom::db::Database::single(app_pool.clone());
                let result =
                    warroom::serve_listeners(&config, database, listener, metrics, shutdown).await;
                app_pool.close().await;
                result
            }
        });
        TestApp {
            base,
            pool,
            metrics: metrics_base,
            shutdown,
            task,
        }
    }

    /// A browser-like client (cookies, same-origin `Origin`) signed in as `name`.
    pub async fn signed_in(&self, name: &str) -> Client {
        self.signed_in_as(name, "responder").await
    }

    /// A browser-like client signed in as `name` with `role` (viewer, responder,
    /// leadership or admin).
    pub async fn signed_in_as(&self, name: &str, role: &str) -> Client {
        let client = Client::new(&self.base);
        let response = client
            .call("dev_sign_in", &[("name", name), ("role", role)])
            .await;
        let status = response.status();
        assert!(
            status.is_success() || status.is_redirection(),
            "sign-in: {status}: {}",
            response.text().await.unwrap_or_default()
        );
        client
    }

    /// Stops Warroom after checking that its work is done: the timeline's outbox is
    /// empty and no job is waiting, running or failed (waiting up to 15 s for the queue
    /// to drain). A test that leaves work behind on purpose uses `stop_leaving_jobs`.
    pub async fn stop(self) {
        self.assert_jobs_settled().await;
        self.stop_leaving_jobs().await;
    }

    async fn assert_jobs_settled(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM timeline_outbox")
                .fetch_one(&self.pool)
                .await
                .expect("reading the outbox");
            let unsettled: Vec<(String, String, i64)> = sqlx::query_as(
                "SELECT task_queue_name, state::text, count(*) FROM underway.task
                 WHERE state::text NOT IN ('succeeded', 'cancelled')
                 GROUP BY 1, 2 ORDER BY 1, 2",
            )
            .fetch_all(&self.pool)
            .await
            .expect("reading the job queue");
            let failed: Vec<_> = unsettled
                .iter()
                .filter(|(_, state, _)| state == "failed")
                .collect();
            assert!(failed.is_empty(), "jobs failed: {failed:?}");
            if outbox == 0 && unsettled.is_empty() {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "work left at the end of the test: {outbox} entries in the outbox, jobs {unsettled:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops Warroom whatever its queue holds (for tests of failing deliveries).
    pub async fn stop_leaving_jobs(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("graceful shutdown within 10 s")
            .expect("server task")
            .expect("server result");
    }
}

/// An HTTP client that keeps cookies and sends Warroom's own Origin.
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN, HeaderValue::from_str(base).unwrap());
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Client {
            base: base.to_string(),
            http,
        }
    }

    /// Calls a server function with form arguments.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}/api/{endpoint}", self.base))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// A GET of a path on this server.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
    }

    /// Calls a server function that must succeed; returns its JSON.
    pub async fn ok(&self, endpoint: &str, form: &[(&str, &str)]) -> Value {
        let response = self.call(endpoint, form).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(status.is_success(), "{endpoint} answered {status}: {body}");
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }

    /// Calls a server function that must fail with `status`; returns the error JSON.
    pub async fn fails(&self, endpoint: &str, form: &[(&str, &str)], status: u16) -> Value {
        let response = self.call(endpoint, form).await;
        let got = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert_eq!(got, status, "{endpoint}: {body}");
        serde_json::from_str(&body).unwrap_or(Value::String(body))
    }

    pub async fn declare(&self, title: &str, severity: &str) -> i64 {
        self.ok(
            "declare_incident",
            &[
                ("title", title),
                ("summary", "We are on it."),
                ("severity", severity),
            ],
        )
        .await
        .as_i64()
        .expect("incident id")
    }

    /// Posts a note (`kind` note or decision); returns its entry id.
    pub async fn note(&self, incident_id: i64, kind: &str, body: &str) -> i64 {
        self.ok(
            "add_note",
            &[
                ("incident_id", &incident_id.to_string()),
                ("kind", kind),
                ("body", body),
            ],
        )
        .await
        .as_i64()
        .expect("entry id")
    }

    pub async fn room(&self, incident_id: i64) -> Value {
        self.ok("incident_room", &[("id", &incident_id.to_string())])
            .await
    }

    /// Opens the live stream of an incident.
    pub async fn live(&self, incident_id: i64, last_event_id: Option<i64>) -> LiveStream {
        let mut request = self
            .http
            .get(format!("{}/live/incidents/{incident_id}", self.base));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.expect("live stream");
        assert_eq!(response.status(), 200, "live stream status");
        LiveStream {
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }
}

/// A parsed Server-Sent Events stream.
pub struct LiveStream {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

/// One SSE event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<i64>,
    pub data: Value,
}

impl LiveStream {
    /// The next event of kind `kind`, skipping others; fails after `timeout`.
    pub async fn next_of(&mut self, kind: &str, timeout: Duration) -> SseEvent {
        tokio::time::timeout(timeout, async {
            loop {
                let event = self.next_event().await;
                if event.event == kind {
                    return event;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {kind} event within {timeout:?}"))
    }

    /// Whether the server ends the stream within `timeout` (events before the end are
    /// skipped).
    pub async fn ends_within(&mut self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, async {
            while let Some(Ok(_)) = self.body.next().await {}
        })
        .await
        .is_ok()
    }

    async fn next_event(&mut self) -> SseEvent {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent {
                    event: "message".into(),
                    id: None,
                    data: Value::Null,
                };
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event.event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        event.id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // keep-alive comment
                }
                event.data = serde_json::from_str(&data).unwrap_or(Value::String(data));
                return event;
            }
            let chunk = self
                .body
                .next()
                .await
                .expect("stream ended")
                .expect("stream error");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}
