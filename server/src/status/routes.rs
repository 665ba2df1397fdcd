//! The public status page's routes: pages, feeds and `/api/v2/*.json` from the in-memory
//! site (no session, no database), and the webhook subscription forms (which need the
//! database: they answer 503 while it is unreachable).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use sqlx::PgPool;
use warroom_app::auth::request::Source;
use warroom_app::limits::{self as rate_limits, Verdict};
use warroom_app::random::token;
use warroom_app::status::store::subscribers::{self, SigningSecret};

use super::site::{self, StatusSite};
use crate::jobs::status_webhooks::ConfirmSubscriber;
use crate::jobs::{webhooks, ServerJobs};

/// Subscription attempts per source address and minute.
const SUBSCRIBE_RATE: u32 = 10;

/// What the subscription forms need once the database is there.
#[derive(Clone)]
pub struct Backend {
    pub pool: PgPool,
    pub jobs: ServerJobs,
    pub webhooks: webhooks::WebhookClient,
    pub trust_proxy: bool,
}

#[derive(Clone)]
pub struct StatusState {
    pub site: Arc<StatusSite>,
    pub backend: Arc<OnceLock<Backend>>,
}

impl axum::extract::FromRef<StatusState> for Arc<StatusSite> {
    fn from_ref(state: &StatusState) -> Self {
        state.site.clone()
    }
}

/// Every public route (the router is built from this list; see `http::route_table`).
pub fn table() -> Vec<crate::http::PlainRoute<StatusState>> {
    use crate::http::PlainRoute;
    let fixed = [
        "/status",
        "/status/feed.atom",
        "/status/feed.rss",
        "/status/incidents/{id}",
        "/status/maintenances/{id}",
        "/api/v2/summary.json",
        "/api/v2/status.json",
        "/api/v2/components.json",
        "/api/v2/incidents.json",
        "/api/v2/incidents/unresolved.json",
        "/api/v2/scheduled-maintenances.json",
        "/api/v2/scheduled-maintenances/upcoming.json",
        "/api/v2/scheduled-maintenances/active.json",
    ];
    let mut table: Vec<PlainRoute<StatusState>> = fixed
        .into_iter()
        .map(|path| PlainRoute {
            path,
            methods: &["GET"],
            handler: get(site::asset),
        })
        .collect();
    table.extend([
        PlainRoute {
            path: "/status/history",
            methods: &["GET"],
            handler: get(site::history),
        },
        PlainRoute {
            path: "/status/subscribe",
            methods: &["POST"],
            handler: axum::routing::post(subscribe),
        },
        PlainRoute {
            path: "/status/unsubscribe",
            methods: &["GET", "POST"],
            handler: get(unsubscribe_form).post(unsubscribe),
        },
    ]);
    table
}

/// The public routes with their state.
pub fn routes(state: StatusState) -> Router {
    let mut router = Router::new();
    for route in table() {
        router = router.route(route.path, route.handler);
    }
    router.with_state(state)
}

#[derive(serde::Deserialize)]
pub struct SubscribeForm {
    #[serde(default)]
    url: String,
}

fn unavailable(site: &StatusSite) -> Response {
    site.current().message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again later",
        "Subscriptions cannot be changed right now. The status shown on this page is still current as of the time it states.",
    )
}

/// `POST /status/subscribe`: records the URL and sends it a challenge (as a job).
async fn subscribe(
    State(state): State<StatusState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SubscribeForm>,
) -> Response {
    let Some(backend) = state.backend.get() else {
        return unavailable(&state.site);
    };
    let current = state.site.current();
    let source = Source::from_parts(&headers, Some(peer), backend.trust_proxy);
    match rate_limits::hit(
        &backend.pool,
        &format!("subscribe:{}", source.ip),
        SUBSCRIBE_RATE,
    )
    .await
    {
        Ok(Verdict::Allowed) => {}
        Ok(Verdict::Limited { .. }) => {
            return current.message(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                "Too many subscription attempts from your address. Wait a minute and try again.",
            )
        }
        Err(_) => return unavailable(&state.site),
    }
    let url = match webhooks::parse_subscriber_url(&form.url, backend.webhooks.allows_private()) {
        Ok(url) => url,
        Err(message) => {
            return current.message(StatusCode::UNPROCESSABLE_ENTITY, "Check the URL", &message)
        }
    };
    let signing_secret = SigningSecret::generate();
    let result = async {
        let mut tx = backend.pool.begin().await?;
        let pending = subscribers::subscribe(
            &mut tx,
            url.as_str(),
            &token::<24>(),
            &token::<24>(),
            &signing_secret,
        )
        .await?;
        backend
            .jobs
            .status
            .confirm
            .enqueue_using(
                &mut *tx,
                &ConfirmSubscriber {
                    subscriber_id: pending.id,
                },
            )
            .await
            .map_err(|e| warroom_app::error::AppError::internal(e.into()))?;
        tx.commit().await?;
        Ok::<_, warroom_app::error::AppError>(pending)
    }
    .await;
    match result {
        // The only time the secret is shown (the page is sent with `no-store`).
        Ok(_) => current.html(
            StatusCode::ACCEPTED,
            super::pages::subscribed_page(&current.data, url.as_str(), signing_secret.expose()),
        ),
        Err(warroom_app::error::AppError::Conflict(message)) => {
            current.message(StatusCode::CONFLICT, "Already subscribed", &message)
        }
        Err(_) => unavailable(&state.site),
    }
}

#[derive(serde::Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// `GET /status/unsubscribe?token=…`: a button, so that link checkers and previews
/// following the link do not unsubscribe anyone.
async fn unsubscribe_form(
    State(state): State<StatusState>,
    Query(query): Query<TokenQuery>,
) -> Response {
    let current = state.site.current();
    current.html(
        StatusCode::OK,
        super::pages::unsubscribe_page(&current.data, query.token.trim()),
    )
}

/// `POST /status/unsubscribe`.
async fn unsubscribe(State(state): State<StatusState>, Form(form): Form<TokenQuery>) -> Response {
    let Some(backend) = state.backend.get() else {
        return unavailable(&state.site);
    };
    let current = state.site.current();
    match subscribers::unsubscribe(&backend.pool, form.token.trim()).await {
        Ok(true) => current.message(
            StatusCode::OK,
            "Unsubscribed",
            "That URL will receive no more updates.",
        ),
        Ok(false) => current.message(
            StatusCode::NOT_FOUND,
            "Nothing to unsubscribe",
            "This link does not belong to an active subscription (perhaps it was used already).",
        ),
        Err(_) => unavailable(&state.site),
    }
}
