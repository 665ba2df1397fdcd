//! Warroom's server: configuration, database, HTTP surface and live fan-out.

pub mod clock;
pub mod config;
pub mod db;
pub mod http;
pub mod identity;
pub mod jobs;
pub mod live;
pub mod metrics;
pub mod outbound;
pub mod status;
pub mod telemetry;

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use axum::response::IntoResponse;
use axum::Router;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use warroom_app::auth::model::ProviderChoice;
use warroom_app::state::{AppState, Settings};

use crate::config::Config;

/// Serves Warroom on `listener` until `shutdown` is cancelled, then drains: live streams
/// end, in-flight requests finish, this replica's viewers leave their rooms.
///
/// The public status page is served from the first moment, from its snapshot on disk if
/// Postgres is not reachable yet; the rest of Warroom answers 503 until the database is
/// there and migrated. `pool` migrates too; `serve_database` migrates with another.
pub async fn serve(
    config: &Config,
    pool: PgPool,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    serve_database(config, db::Database::single(pool), listener, shutdown).await
}

/// `serve`, migrating as the schema's owner of `database` when it has one, and serving
/// with its serving pool.
pub async fn serve_database(
    config: &Config,
    database: db::Database,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    serve_listeners(config, database, listener, None, shutdown).await
}

/// `serve_database`, and `/metrics` on `metrics` when given (its own listener: the
/// figures are for operators, not for the public address).
pub async fn serve_listeners(
    config: &Config,
    database: db::Database,
    listener: TcpListener,
    metrics: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let scrape = metrics::Scrape::default();
    let metrics_server = metrics
        .map(|listener| tokio::spawn(metrics::serve(listener, scrape.clone(), shutdown.clone())));
    let bound = listener.local_addr()?;
    let site =
        status::site::StatusSite::new(config.status_snapshot.clone(), config.base_url(bound));
    let backend = Arc::new(OnceLock::new());
    let app: Arc<OnceLock<Router>> = Arc::new(OnceLock::new());
    let router = status::routes::routes(status::routes::StatusState {
        site: site.clone(),
        backend: backend.clone(),
    })
    .route_layer(axum::middleware::from_fn(metrics::track_http))
    .layer(axum::middleware::from_fn_with_state(
        http::origin::OriginPolicy::new(config.public_url.clone()),
        http::origin::require_same_origin,
    ))
    .fallback({
        let app = app.clone();
        move |request: axum::extract::Request| {
            let app = app.clone();
            async move {
                use tower::ServiceExt;
                match app.get() {
                    Some(router) => router.clone().oneshot(request).await.into_response(),
                    None => (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        [(axum::http::header::RETRY_AFTER, "5")],
                        "Warroom is starting: waiting for its database.",
                    )
                        .into_response(),
                }
            }
        }
    })
    .layer(axum::middleware::from_fn_with_state(
        http::headers::Hsts(config.strict_transport_security()),
        http::headers::private_by_default,
    ))
    .layer(axum::middleware::from_fn_with_state(
        http::host::HostPolicy::new(config.public_url.as_deref(), bound, &config.allowed_hosts),
        http::host::require_known_host,
    ));

    tracing::info!(addr = %bound, "Warroom is listening");
    let stop = shutdown.clone();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
    });

    let started = start_app(
        config, database, bound, &site, &app, &backend, &scrape, &shutdown,
    )
    .await;
    let background = match started {
        Ok(background) => background,
        Err(err) => {
            shutdown.cancel();
            let _ = server.await;
            if let Some(task) = metrics_server {
                let _ = task.await;
            }
            return Err(err);
        }
    };
    let served = server
        .await
        .context("the HTTP server task")?
        .context("serving HTTP");
    shutdown.cancel();
    if let Some((hub, tasks)) = background {
        hub.leave_all().await;
        for task in tasks {
            let _ = task.await;
        }
    }
    if let Some(task) = metrics_server {
        let _ = task.await;
    }
    served
}

/// Waits for Postgres, migrates, then starts the application and its background work.
/// `None` when shut down before the database came.
#[expect(
    clippy::too_many_arguments,
    reason = "the parts `serve_listeners` hands over, each once"
)]
async fn start_app(
    config: &Config,
    database: db::Database,
    bound: std::net::SocketAddr,
    site: &Arc<status::site::StatusSite>,
    app: &OnceLock<Router>,
    backend: &OnceLock<status::routes::Backend>,
    scrape: &metrics::Scrape,
    shutdown: &CancellationToken,
) -> anyhow::Result<Option<(Arc<live::LiveHub>, Vec<tokio::task::JoinHandle<()>>)>> {
    let mut warned = false;
    loop {
        match database.migrate().await {
            Ok(()) => break,
            Err(err) => {
                if !warned {
                    tracing::warn!(error = format!("{err:#}"), "waiting for the database");
                    warned = true;
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(None),
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                }
            }
        }
    }
    let pool = &database.serving;
    db::roles::warn_if_serving_role_is_privileged(pool).await;
    let webhooks = jobs::webhooks::WebhookClient::with_deadline(
        config.webhooks_allow_private,
        config.webhook_deadline,
    )?;
    // The job workers have a pool of their own, sized by the jobs' registry, so they
    // never starve requests.
    let jobs_pool = jobs::pool_for(pool);
    let jobs = jobs::build(&jobs::JobContext {
        pool: jobs_pool.clone(),
        webhooks: Arc::new(webhooks.clone()),
        site: site.clone(),
    })
    .await?;
    let state = AppState {
        leptos_options: config.leptos_options(bound)?,
        pool: pool.clone(),
        settings: Arc::new(Settings {
            dev_sign_in: config.dev_sign_in_enabled(bound),
            bridge_url_template: config.bridge_url_template.clone(),
            providers: config
                .auth
                .providers
                .iter()
                .map(|p| ProviderChoice {
                    key: p.key.clone(),
                    name: p.name.clone(),
                })
                .collect(),
            access: config.auth.access.clone(),
            session_idle: config.auth.session_idle,
            session_lifetime: config.auth.session_lifetime,
            trust_proxy: config.auth.trust_proxy,
            account_rate_per_minute: config.account_rate_per_minute,
            sign_in_rate_per_minute: config.auth.sign_in_rate_per_minute,
        }),
        jobs: jobs.app.clone(),
    };
    let sign_in = Arc::new(http::sign_in::SignInService {
        providers: identity::Providers::new(&config.auth.providers)?,
        base_url: config.base_url(bound),
        rate_per_minute: config.auth.sign_in_rate_per_minute,
    });
    if !sign_in.providers.is_empty() && !config.auth.admits_anyone() {
        tracing::warn!("identity providers are configured but nobody may sign in: set WARROOM_ADMINS or an allow-list");
    }
    warroom_app::audit::store::record_settings_if_changed(pool, config.auth.summary())
        .await
        .context("recording the sign-in settings")?;
    let hub = live::LiveHub::new(
        pool.clone(),
        shutdown.clone(),
        live::StreamLimits {
            session_idle: config.auth.session_idle,
            per_sign_in: config.live_streams_per_sign_in,
        },
    );
    let mut background = hub.clone().spawn_tasks();
    background.push(tokio::spawn(upgrade_renderings(
        pool.clone(),
        shutdown.clone(),
    )));
    background.push(tokio::spawn(
        site.clone().keep_fresh(pool.clone(), shutdown.clone()),
    ));
    let _ = scrape.sources.set(metrics::Sources {
        hub: hub.clone(),
        serving: pool.clone(),
        jobs: jobs_pool.clone(),
    });
    background.extend(jobs.spawn(jobs_pool, shutdown.clone()));
    background.extend(clock::spawn(
        pool.clone(),
        jobs.app.clone(),
        shutdown.clone(),
    ));
    let _ = backend.set(status::routes::Backend {
        pool: pool.clone(),
        jobs,
        webhooks,
        trust_proxy: config.auth.trust_proxy,
    });
    let form_error_key = http::form_errors::FormErrorKey::new(
        warroom_app::audit::store::server_secret(pool, "form_errors")
            .await
            .context("reading the key that signs form errors")?,
    );
    let _ = app.set(http::router(
        state,
        hub.clone(),
        sign_in,
        form_error_key,
        config,
    ));
    Ok(Some((hub, background)))
}

/// Renders again, in the background, the Markdown an older renderer stored (see
/// `warroom_app::markdown`); reads render such rows themselves meanwhile.
async fn upgrade_renderings(pool: PgPool, shutdown: CancellationToken) {
    let mut total = 0;
    while !shutdown.is_cancelled() {
        let notes = warroom_app::incidents::store::upgrade_renderings(&pool, 200).await;
        let updates = warroom_app::status::store::updates::upgrade_renderings(&pool, 200).await;
        match (notes, updates) {
            (Ok(0), Ok(0)) => break,
            (Ok(a), Ok(b)) => total += a + b,
            (Err(err), _) | (_, Err(err)) => {
                tracing::warn!(error = %err, "could not upgrade stored Markdown renderings");
                return;
            }
        }
    }
    if total > 0 {
        tracing::info!(
            texts = total,
            "stored Markdown rendered again with the current renderer"
        );
    }
}

/// Runs `tick` every `period` (the first time at once) until `shutdown`.
pub async fn every<F, Fut>(period: Duration, shutdown: CancellationToken, mut tick: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut interval = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = interval.tick() => tick().await,
        }
    }
}
