//! `/metrics` in Prometheus's text format, on a listener of its own
//! (`WARROOM_METRICS_ADDR`, off by default), never on the public one.
//!
//! Counters and histograms (HTTP requests, sign-ins, refusals, status-site rebuilds) go
//! through the `metrics` facade, so any module of either crate records with a one-line
//! macro call and no handle passed around; `metrics-exporter-prometheus` keeps them and
//! writes the text format. What is a state rather than an event — live viewers, the
//! database pools, the job queue — is read from this server's own parts at scrape time.

pub mod store;

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::live::LiveHub;

pub const HTTP_REQUESTS: &str = "warroom_http_requests_total";
pub const HTTP_DURATION: &str = "warroom_http_request_duration_seconds";

/// Latency buckets, in seconds: a status page answers in well under a millisecond, a
/// room with a long timeline in tens of milliseconds.
const DURATION_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder (once: several servers in one test process share it).
/// Until it is installed every recording is a no-op, so a server without a metrics
/// address pays nothing for them.
pub fn install() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &DURATION_BUCKETS)
            .expect("non-empty buckets")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed: /metrics stays empty");
        }
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route, method and status class"
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "time until the response's head, by route, method and status class"
    );
    metrics::describe_counter!(
        "warroom_sign_ins_total",
        "sign-ins, by method (development or the provider's key) and outcome (ok, refused)"
    );
    metrics::describe_counter!(
        "warroom_refusals_total",
        "refused requests counted against a limit or a policy, by the audit action"
    );
    metrics::describe_counter!(
        "warroom_status_site_rebuilds_total",
        "status-page rebuilds, by outcome (fresh data, or stale when the database failed)"
    );
}

/// Counts every request and its latency by the route that matched (never the raw path:
/// ids would make a series each), the method and the status class.
pub async fn track_http(request: Request, next: Next) -> Response {
    if RECORDER.get().is_none() {
        return next.run(request).await;
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = match *request.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let status = match response.status().as_u16() / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    };
    let labels = [
        ("route", route),
        ("method", method.into()),
        ("status", status.into()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(started.elapsed().as_secs_f64());
    response
}

/// This server's parts that are read at scrape time (there once the database is).
pub struct Sources {
    pub hub: Arc<LiveHub>,
    pub serving: PgPool,
    pub jobs: PgPool,
}

/// What `/metrics` reads; `sources` is set when the application has started.
#[derive(Clone, Default)]
pub struct Scrape {
    pub sources: Arc<OnceLock<Sources>>,
}

/// Serves `/metrics` on `listener` until `shutdown`.
pub async fn serve(listener: TcpListener, scrape: Scrape, shutdown: CancellationToken) {
    let handle = install();
    let upkeep = tokio::spawn(crate::every(
        Duration::from_secs(5),
        shutdown.clone(),
        || async {
            handle.run_upkeep();
        },
    ));
    match listener.local_addr() {
        Ok(addr) => tracing::info!(addr = %addr, "metrics are served on /metrics"),
        Err(err) => tracing::warn!(error = %err, "metrics listener"),
    }
    let router = Router::new()
        .route("/metrics", get(metrics))
        .with_state(scrape);
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
    if let Err(err) = served {
        tracing::warn!(error = %err, "the metrics listener stopped");
    }
    let _ = upkeep.await;
}

async fn metrics(State(scrape): State<Scrape>) -> Response {
    let mut text = install().render();
    if let Some(sources) = scrape.sources.get() {
        text.push_str(&sources.render().await);
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

impl Sources {
    /// The gauges of this server, and the job queue's figures (which every replica
    /// reads alike from the shared database).
    async fn render(&self) -> String {
        let mut out = String::new();
        family(
            &mut out,
            "warroom_live_viewers",
            "gauge",
            "live room streams open on this server",
        );
        sample(
            &mut out,
            "warroom_live_viewers",
            &[],
            self.hub.viewer_count() as f64,
        );
        family(
            &mut out,
            "warroom_db_pool_connections",
            "gauge",
            "database connections of this server's pools, by pool and state (in_use, idle)",
        );
        for (name, pool) in [("serving", &self.serving), ("jobs", &self.jobs)] {
            let idle = pool.num_idle() as f64;
            let open = f64::from(pool.size());
            sample(
                &mut out,
                "warroom_db_pool_connections",
                &[("pool", name), ("state", "in_use")],
                open - idle,
            );
            sample(
                &mut out,
                "warroom_db_pool_connections",
                &[("pool", name), ("state", "idle")],
                idle,
            );
        }
        family(
            &mut out,
            "warroom_db_pool_max_connections",
            "gauge",
            "the most connections each pool may open",
        );
        for (name, pool) in [("serving", &self.serving), ("jobs", &self.jobs)] {
            sample(
                &mut out,
                "warroom_db_pool_max_connections",
                &[("pool", name)],
                f64::from(pool.options().get_max_connections()),
            );
        }
        match store::queues(&self.serving).await {
            Ok(queues) => {
                family(
                    &mut out,
                    "warroom_job_queue_depth",
                    "gauge",
                    "jobs waiting to run, by job",
                );
                for q in &queues {
                    sample(
                        &mut out,
                        "warroom_job_queue_depth",
                        &[("job", &q.job)],
                        q.depth as f64,
                    );
                }
                family(
                    &mut out,
                    "warroom_job_queue_oldest_age_seconds",
                    "gauge",
                    "how long the oldest job due has waited, by job (0 when none is)",
                );
                for q in &queues {
                    sample(
                        &mut out,
                        "warroom_job_queue_oldest_age_seconds",
                        &[("job", &q.job)],
                        q.oldest_age_seconds,
                    );
                }
                family(
                    &mut out,
                    "warroom_job_failures_total",
                    "counter",
                    "failed attempts of jobs on record, by job",
                );
                for q in &queues {
                    sample(
                        &mut out,
                        "warroom_job_failures_total",
                        &[("job", &q.job)],
                        q.failures as f64,
                    );
                }
            }
            Err(err) => tracing::warn!(error = %err, "metrics: could not read the job queue"),
        }
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (key, value)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let escaped = value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let _ = write!(out, "{key}=\"{escaped}\"");
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}
