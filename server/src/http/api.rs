//! `/api/v1`: the JSON API for automation, authenticated by API tokens only (never by
//! session cookies, so cross-site requests cannot use it). Every use is rate-limited per
//! source and audited; every route names the scope it needs.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Path, Query};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use warroom_app::audit::model::AuditAction;
use warroom_app::audit::store::{record, AuditEvent};
use warroom_app::auth::request::Source;
use warroom_app::error::AppError;
use warroom_app::incidents::model::{IncidentTitle, MarkdownText, Status};
use warroom_app::incidents::store as incidents;
use warroom_app::limits::{record_refusal, Refused};
use warroom_app::state::AppState;
use warroom_app::tokens::model::Scope;
use warroom_app::tokens::store::{self as tokens, TokenHolder};

use super::rate_limit::rate_limited;

/// Requests per source and minute (set from the configuration when the router is built).
#[derive(Clone, Copy)]
pub struct ApiRate(pub u32);

/// The token API's routes, under `/api/v1`.
pub fn routes() -> Vec<super::PlainRoute<AppState>> {
    vec![
        super::PlainRoute {
            path: "/incidents",
            methods: &["GET", "POST"],
            handler: get(list_incidents).post(declare_incident),
        },
        super::PlainRoute {
            path: "/incidents/{id}",
            methods: &["GET"],
            handler: get(get_incident),
        },
    ]
}

/// A JSON error answer: `{"error": "…"}` with the error's status.
fn error(err: AppError) -> Response {
    let status =
        StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(json!({ "error": err.to_string() }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"warroom\""),
        );
    }
    response
}

/// What every API handler starts from: the request's source and headers, before the
/// token is checked.
pub struct ApiRequest {
    state: AppState,
    rate: u32,
    headers: HeaderMap,
    source: Source,
    /// "GET /api/v1/incidents/{id}", for the audit log.
    route: String,
}

impl FromRequestParts<AppState> for ApiRequest {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let path = parts
            .extensions
            .get::<MatchedPath>()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| parts.uri.path().to_string());
        Ok(ApiRequest {
            state: state.clone(),
            rate: parts
                .extensions
                .get::<ApiRate>()
                .map(|r| r.0)
                .unwrap_or(600),
            source: Source::from_parts(&parts.headers, peer, state.settings.trust_proxy),
            headers: parts.headers.clone(),
            route: format!("{} {path}", parts.method),
        })
    }
}

impl ApiRequest {
    /// Checks the bearer token for `scope`, after the per-source rate limit. Unknown,
    /// revoked and expired tokens are refused alike.
    async fn authorize(&self, scope: Scope) -> Result<TokenHolder, Response> {
        let (state, source, route) = (&self.state, &self.source, self.route.as_str());
        if let Some(refusal) = rate_limited(state, "api", self.rate, source).await {
            return Err(refusal);
        }
        let presented = self
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let mut conn = state.pool.acquire().await.map_err(|e| error(e.into()))?;
        let holder = match presented {
            Some(secret) => tokens::authenticate(&mut conn, secret, &source.ip)
                .await
                .map_err(error)?,
            None => None,
        };
        let Some(holder) = holder else {
            let reason = if presented.is_some() {
                "unknown, revoked or expired token"
            } else {
                "no token"
            };
            let event = AuditEvent::new(AuditAction::TokenRefused, source)
                .refused()
                .target(route)
                .details(json!({ "reason": reason }));
            drop(conn);
            let who = Refused::Address(source.ip.clone());
            record_refusal(&state.pool, &event, AuditAction::TokenRefused, &who)
                .await
                .map_err(error)?;
            return Err(error(AppError::Unauthorized));
        };
        if !holder.has(scope) {
            let event = AuditEvent::new(AuditAction::TokenRefused, source)
                .refused()
                .by_token(holder.token_id)
                .target(route)
                .details(json!({ "reason": "missing scope", "scope": scope.as_str() }));
            drop(conn);
            let who = Refused::Token(holder.token_id);
            record_refusal(&state.pool, &event, AuditAction::TokenRefused, &who)
                .await
                .map_err(error)?;
            return Err(error(AppError::Forbidden));
        }
        let event = AuditEvent::new(AuditAction::TokenUsed, source)
            .by_token(holder.token_id)
            .target(route);
        record(&mut conn, &event).await.map_err(error)?;
        Ok(holder)
    }
}

#[derive(Deserialize)]
struct ListQuery {
    /// `open` (default), `all`, or one status.
    status: Option<String>,
    /// Which page, from 1 (default 1).
    page: Option<i64>,
    /// Incidents per page (default 50, at most 200).
    per_page: Option<i64>,
}

/// Most incidents one list answer carries.
const MAX_PER_PAGE: i64 = 200;
/// Timeline entries one incident answer carries by default, and at most.
const TIMELINE_LIMIT: i64 = 200;
const MAX_TIMELINE_LIMIT: i64 = 1000;

async fn list_incidents(api: ApiRequest, Query(query): Query<ListQuery>) -> Response {
    if let Err(refusal) = api.authorize(Scope::IncidentsRead).await {
        return refusal;
    }
    let state = &api.state;
    let statuses = match query.status.as_deref().unwrap_or("open").trim() {
        "all" => None,
        "open" | "" => Some(Status::ALL.into_iter().filter(|s| s.is_open()).collect()),
        one => match Status::parse(one) {
            Ok(status) => Some(vec![status]),
            Err(err) => return error(err),
        },
    };
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(50);
    if page < 1 || !(1..=MAX_PER_PAGE).contains(&per_page) {
        return error(AppError::invalid(
            "page",
            format!("page counts from 1; per_page is 1 to {MAX_PER_PAGE}."),
        ));
    }
    let filter = incidents::ListFilter {
        statuses,
        severity_key: None,
        title_contains: None,
        page,
        per_page,
    };
    match incidents::list(&state.pool, &filter).await {
        Ok(list) => Json(json!({
            "incidents": list.items,
            "page": list.page,
            "next_page": list.has_next.then_some(list.page + 1),
        }))
        .into_response(),
        Err(err) => error(err),
    }
}

#[derive(Deserialize)]
struct IncidentQuery {
    /// Only timeline entries older than this entry id.
    before: Option<i64>,
    /// How many timeline entries (default 200, at most 1000), newest first chosen.
    limit: Option<i64>,
}

async fn get_incident(
    api: ApiRequest,
    Path(id): Path<i64>,
    Query(query): Query<IncidentQuery>,
) -> Response {
    if let Err(refusal) = api.authorize(Scope::IncidentsRead).await {
        return refusal;
    }
    let state = &api.state;
    let limit = query.limit.unwrap_or(TIMELINE_LIMIT);
    if !(1..=MAX_TIMELINE_LIMIT).contains(&limit) {
        return error(AppError::invalid(
            "limit",
            format!("limit is 1 to {MAX_TIMELINE_LIMIT}."),
        ));
    }
    let result = async {
        let mut conn = state.pool.acquire().await?;
        let incident = incidents::summary(&mut conn, id).await?;
        let page =
            warroom_app::timeline::store::timeline_page(&mut conn, id, query.before, limit).await?;
        let older_than = page.entries.first().map(|e| e.id).filter(|_| page.older);
        Ok::<_, AppError>(json!({
            "incident": incident,
            "timeline": page.entries,
            "timeline_older_than": older_than,
        }))
    }
    .await;
    match result {
        Ok(body) => Json(body).into_response(),
        Err(AppError::NotFound(_)) => error(AppError::NotFound(format!("incident {id}"))),
        Err(err) => error(err),
    }
}

#[derive(Deserialize)]
struct Declaration {
    title: String,
    #[serde(default)]
    summary: String,
    severity: String,
}

async fn declare_incident(
    api: ApiRequest,
    body: Result<Json<Declaration>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let state = &api.state;
    let holder = match api.authorize(Scope::IncidentsWrite).await {
        Ok(holder) => holder,
        Err(refusal) => return refusal,
    };
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => {
            return error(AppError::invalid(
                "body",
                format!(
                    "Send JSON {{\"title\", \"summary\", \"severity\"}}: {}",
                    rejection.body_text()
                ),
            ))
        }
    };
    let result = async {
        let title = IncidentTitle::parse(&body.title)?;
        let summary = MarkdownText::parse_optional("summary", &body.summary)?;
        let summary = warroom_app::markdown::render_new("summary", summary.as_str()).await?;
        let mut tx = state.pool.begin().await?;
        let id =
            incidents::declare(&mut tx, &holder.account, &title, &summary, &body.severity).await?;
        tx.commit().await?;
        Ok::<_, AppError>(id)
    }
    .await;
    match result {
        Ok(id) => (
            StatusCode::CREATED,
            [(header::LOCATION, format!("/api/v1/incidents/{id}"))],
            Json(json!({ "id": id, "url": format!("/incidents/{id}") })),
        )
            .into_response(),
        Err(err) => error(err),
    }
}
