//! The HTTP surface: Leptos pages and server functions, health, the live stream, and the
//! middleware around them (sessions, Origin check, CSP and other security headers, tracing).

pub mod api;
pub mod assets;
pub mod csp;
pub mod form_errors;
pub mod headers;
pub mod health;
pub mod host;
pub mod live;
pub mod origin;
pub mod rate_limit;
pub mod server_fns;
pub mod sign_in;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::{Extension, Router};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::{time, SameSite};
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;
use warroom_app::error::MAX_REQUEST_BYTES;
use warroom_app::state::AppState;
use warroom_app::{shell, App};

use crate::config::Config;
use crate::live::LiveHub;

/// The session cookie's name over plain http (loopback, development).
pub const SESSION_COOKIE: &str = "warroom_session";
/// Over https: the `__Host-` prefix makes browsers refuse it unless Secure, host-only
/// and for path `/`, so a sibling subdomain cannot plant or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-warroom_session";

/// One route outside Leptos: its path, the methods it answers (for the route table) and
/// its handler.
pub struct PlainRoute<S> {
    pub path: &'static str,
    pub methods: &'static [&'static str],
    pub handler: axum::routing::MethodRouter<S>,
}

/// Where the token API lives.
pub const API_V1: &str = "/api/v1";

/// The application's routes outside Leptos and the token API (the router is built from
/// this list, so `route_table` cannot miss one).
fn plain_routes() -> Vec<PlainRoute<AppState>> {
    vec![
        PlainRoute {
            path: "/healthz",
            methods: &["GET"],
            handler: get(health::live),
        },
        PlainRoute {
            path: "/readyz",
            methods: &["GET"],
            handler: get(health::ready),
        },
        PlainRoute {
            path: "/live/incidents/{id}",
            methods: &["GET"],
            handler: get(live::incident_stream),
        },
        PlainRoute {
            path: "/auth/{provider}/start",
            methods: &["GET"],
            handler: get(sign_in::start),
        },
        PlainRoute {
            path: "/auth/{provider}/callback",
            methods: &["GET"],
            handler: get(sign_in::callback),
        },
        PlainRoute {
            path: "/auth/{provider}/link",
            methods: &["GET"],
            handler: get(sign_in::link),
        },
    ]
}

/// A path Warroom answers, as registered (`{id}` segments, `{*rest}` tails), with how.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteEntry {
    pub methods: Vec<String>,
    pub path: String,
    pub kind: RouteKind,
}

/// What answers a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RouteKind {
    /// A Leptos page.
    Page,
    /// A server function (POST).
    ServerFn,
    /// A handler of Warroom's own (health, live streams, sign-in, token API, status page).
    Handler,
    /// Files from the site directory (the wasm bundle, CSS, favicon).
    StaticFiles,
    /// Whatever matches nothing else: the "page not found" page.
    Fallback,
}

/// Every route the server answers: the table the role matrix test is checked against.
pub fn route_table() -> Vec<RouteEntry> {
    let handler = |methods: &[&str], path: String| RouteEntry {
        methods: methods.iter().map(|m| m.to_string()).collect(),
        path,
        kind: RouteKind::Handler,
    };
    let mut table: Vec<RouteEntry> = plain_routes()
        .into_iter()
        .map(|r| handler(r.methods, r.path.to_string()))
        .chain(
            api::routes()
                .into_iter()
                .map(|r| handler(r.methods, format!("{API_V1}{}", r.path))),
        )
        .chain(
            crate::status::routes::table()
                .into_iter()
                .map(|r| handler(r.methods, r.path.to_string())),
        )
        .collect();
    table.extend(generate_route_list(App).into_iter().map(|r| RouteEntry {
        methods: vec!["GET".into()],
        path: r.path().to_string(),
        kind: RouteKind::Page,
    }));
    table.extend(
        leptos::server_fn::axum::server_fn_paths().map(|(path, method)| RouteEntry {
            methods: vec![method.to_string()],
            path: path.to_string(),
            kind: RouteKind::ServerFn,
        }),
    );
    table.push(RouteEntry {
        methods: vec!["GET".into()],
        path: "/pkg/{*file}".into(),
        kind: RouteKind::StaticFiles,
    });
    table.push(RouteEntry {
        methods: vec!["GET".into()],
        path: "/favicon.svg".into(),
        kind: RouteKind::StaticFiles,
    });
    table.push(RouteEntry {
        methods: vec!["GET".into()],
        path: "/{*unknown}".into(),
        kind: RouteKind::Fallback,
    });
    table.sort();
    table.dedup();
    table
}

/// Builds the whole application router.
pub fn router(
    state: AppState,
    hub: Arc<LiveHub>,
    sign_in: Arc<sign_in::SignInService>,
    form_error_key: form_errors::FormErrorKey,
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

    let mut router = Router::new();
    for route in plain_routes() {
        router = router.route(route.path, route.handler);
    }
    let mut api = Router::new();
    for route in api::routes() {
        api = api.route(route.path, route.handler);
    }
    let assets = assets::router(
        std::path::Path::new(&*leptos_options.site_root),
        &leptos_options.site_pkg_dir,
    );
    router
        .nest(API_V1, api)
        .merge(assets)
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
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .layer(axum::middleware::from_fn(server_fns::server_fn_statuses))
        .layer(axum::middleware::from_fn_with_state(
            form_error_key,
            form_errors::sign_form_errors,
        ))
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
        .layer(axum::middleware::from_fn(crate::metrics::track_http))
        // Spans name the path only: queries may carry one-time codes (sign-in callbacks).
        .layer(TraceLayer::new_for_http().make_span_with(
            |request: &axum::http::Request<axum::body::Body>| {
                tracing::debug_span!("request", method = %request.method(), path = request.uri().path())
            },
        ))
        .with_state(state)
}
