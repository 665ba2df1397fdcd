//! Warroom's server: configuration, database, HTTP surface and live fan-out.

pub mod config;
pub mod db;
pub mod http;
pub mod identity;
pub mod live;
pub mod status;
pub mod telemetry;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use warroom_app::auth::model::ProviderChoice;
use warroom_app::state::{AppState, Settings};

use crate::config::Config;

/// Serves Warroom on `listener` until `shutdown` is cancelled, then drains: live streams
/// end, in-flight requests finish, this replica's viewers leave their rooms.
pub async fn serve(
    config: &Config,
    pool: PgPool,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let state = AppState {
        leptos_options: config.leptos_options(listener.local_addr()?),
        pool: pool.clone(),
        settings: Arc::new(Settings {
            dev_sign_in: config.dev_sign_in_enabled(listener.local_addr()?),
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
        }),
    };
    let sign_in = Arc::new(http::sign_in::SignInService {
        providers: identity::Providers::new(&config.auth.providers)?,
        base_url: config.base_url(listener.local_addr()?),
        rate_per_minute: config.auth.sign_in_rate_per_minute,
    });
    if !sign_in.providers.is_empty() && !config.auth.admits_anyone() {
        tracing::warn!("identity providers are configured but nobody may sign in: set WARROOM_ADMINS or an allow-list");
    }
    warroom_app::audit::store::record_settings_if_changed(&pool, config.auth.summary())
        .await
        .context("recording the sign-in settings")?;
    let hub = live::LiveHub::new(pool.clone(), shutdown.clone());
    let background = hub.clone().spawn_tasks();
    let sessions = tokio::spawn(db::delete_expired_sessions(pool.clone(), shutdown.clone()));
    let counters = tokio::spawn(db::rate_limits::delete_old(pool.clone(), shutdown.clone()));
    let router = http::router(state, hub.clone(), sign_in, config);

    tracing::info!(addr = %listener.local_addr()?, "Warroom is listening");
    let stop = shutdown.clone();
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move { stop.cancelled().await })
    .await
    .context("serving HTTP")?;
    shutdown.cancel();
    hub.leave_all().await;
    for task in background {
        let _ = task.await;
    }
    let _ = sessions.await;
    let _ = counters.await;
    Ok(())
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
