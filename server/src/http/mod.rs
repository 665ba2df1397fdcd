//! The HTTP surface: Leptos pages and server functions, health, the live stream, and the
//! middleware around them (sessions, Origin check, CSP and other security headers, tracing).

pub mod api;
pub mod csp;
pub mod health;
pub mod live;
pub mod origin;
pub mod rate_limit;
pub mod sign_in;

use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::{Extension, Router};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::{time, SameSite};
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;
use warroom_app::state::AppState;
use warroom_app::{shell, App};

use crate::config::Config;
use crate::live::LiveHub;

/// The session cookie's name over plain http (loopback, development).
pub const SESSION_COOKIE: &str = "warroom_session";
/// Over https: the `__Host-` prefix makes browsers refuse it unless Secure, host-only
/// and for path `/`, so a sibling subdomain cannot plant or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-warroom_session";

/// Builds the whole application router.
pub fn router(
    state: AppState,
    hub: Arc<LiveHub>,
    sign_in: Arc<sign_in::SignInService>,
    config: &Config,
) -> Router {
    let routes = generate_route_list(App);
    let sessions = SessionManagerLayer::new(PostgresStore::new(state.pool.clone()))
        .with_name(if config.secure_cookies() {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        })
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            config.auth.session_idle.num_seconds(),
        )));
    let origin_policy = origin::OriginPolicy::new(config.public_url.clone());
    let leptos_options = state.leptos_options.clone();

    Router::new()
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/live/incidents/{id}", get(live::incident_stream))
        .route("/auth/{provider}/start", get(sign_in::start))
        .route("/auth/{provider}/callback", get(sign_in::callback))
        .route("/auth/{provider}/link", get(sign_in::link))
        .nest("/api/v1", api::routes())
        .leptos_routes_with_context(&state, routes, csp::provide_nonce_to_leptos, move || {
            shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(csp::provide_nonce_to_leptos, shell))
        .layer(Extension(hub))
        .layer(Extension(sign_in))
        .layer(Extension(api::ApiRate(config.auth.api_rate_per_minute)))
        .layer(sessions)
        .layer(axum::middleware::from_fn(csp::content_security_policy))
        .layer(axum::middleware::from_fn_with_state(
            origin_policy,
            origin::require_same_origin,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
