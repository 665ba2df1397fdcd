//! `/api/v1`: the JSON API for automation, authenticated by API tokens only (never by
//! session cookies, so cross-site requests cannot use it). Every call is rate-limited per
//! source, every refusal and each token's first use of the day audited; every route names
//! the scope it needs. It answers its own wire types ([`v1`]) and describes itself in an
//! OpenAPI 3.1 document ([`openapi`], at `GET /api/v1/openapi.json`).

pub mod openapi;
pub mod v1;

use std::net::SocketAddr;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
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

use super::rate_limit::{check, Limited};

/// Requests per source and minute (set from the configuration when the router is built).
#[derive(Clone, Copy)]
pub struct ApiRate(pub u32);

/// The token API's routes, under `/api/v1` (each is also in the OpenAPI document: a test
/// keeps the two lists equal).
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
        super::PlainRoute {
            path: "/openapi.json",
            methods: &["GET"],
            handler: get(openapi::document),
        },
    ]
}

/// How the token API answers an error: `{"error": "…"}` with the error's status;
/// `WWW-Authenticate: Bearer realm="warroom"` on 401, `Retry-After` on 429.
#[derive(Debug)]
pub struct ApiError {
    pub error: AppError,
    retry_after: Option<u64>,
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError {
            error,
            retry_after: None,
        }
    }
}

impl From<Limited> for ApiError {
    fn from(limited: Limited) -> Self {
        ApiError {
            error: AppError::TooMany(
                "Too many requests from your address. Wait a minute and try again.".into(),
            ),
            retry_after: Some(limited.retry_after),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error.status_code())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = v1::Error {
            error: self.error.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"warroom\""),
            );
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A query string the API could not read (a number that is not one, say): 400.
impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::Malformed(rejection.body_text()).into()
    }
}

/// A path the API could not read (`/incidents/abc`): 400.
impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        AppError::Malformed(rejection.body_text()).into()
    }
}

/// A body that is not the JSON asked for: 422 naming what to send (413 when too large).
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return AppError::too_large().into();
        }
        AppError::invalid(
            "body",
            format!(
                "Send JSON {{\"title\", \"summary\", \"severity\"}}: {}",
                rejection.body_text()
            ),
        )
        .into()
    }
}

/// `Query`, refused in the API's JSON error shape.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `Path`, refused in the API's JSON error shape.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `Json`, refused in the API's JSON error shape.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

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
    /// revoked and expired tokens are refused alike. Every refusal is audited (up to
    /// `limits::REFUSALS_RECORDED_PER_MINUTE` a minute each, the rest counted); of the
    /// uses, the first of each token's day is.
    async fn authorize(&self, scope: Scope) -> Result<TokenHolder, ApiError> {
        let (state, source, route) = (&self.state, &self.source, self.route.as_str());
        check(state, "api", self.rate, source).await?;
        let presented = self
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let mut conn = state.pool.acquire().await.map_err(AppError::from)?;
        let holder = match presented {
            Some(secret) => tokens::authenticate(&mut conn, secret, &source.ip).await?,
            None => None,
        };
        drop(conn);
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
            let who = Refused::Address(source.ip.clone());
            record_refusal(&state.pool, &event, AuditAction::TokenRefused, &who).await?;
            return Err(AppError::Unauthorized.into());
        };
        if !holder.has(scope) {
            let event = AuditEvent::new(AuditAction::TokenRefused, source)
                .refused()
                .by_token(holder.token_id)
                .target(route)
                .details(json!({ "reason": "missing scope", "scope": scope.as_str() }));
            let who = Refused::Token(holder.token_id);
            record_refusal(&state.pool, &event, AuditAction::TokenRefused, &who).await?;
            return Err(AppError::Forbidden.into());
        }
        if holder.first_use_today {
            let event = AuditEvent::new(AuditAction::TokenUsed, source)
                .by_token(holder.token_id)
                .target(route)
                .details(json!({ "first_use_of_the_day": true }));
            record(
                &mut *state.pool.acquire().await.map_err(AppError::from)?,
                &event,
            )
            .await?;
        }
        Ok(holder)
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `open` (default: every status but resolved), `all`, or one status.
    #[param(value_type = Option<v1::StatusFilter>)]
    status: Option<String>,
    /// Which page, from 1 (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<i64>,
    /// Incidents per page (default 50, at most 200).
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<i64>,
}

/// Most incidents one list answer carries.
const MAX_PER_PAGE: i64 = 200;
/// The last page one may ask for (far past any real list; bounded so that the offset
/// cannot overflow).
const MAX_PAGE: i64 = 1_000_000;
/// Timeline entries one incident answer carries by default, and at most.
const TIMELINE_LIMIT: i64 = 200;
const MAX_TIMELINE_LIMIT: i64 = 1000;

/// Lists incidents, a page at a time: open ones first, most severe first, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/incidents",
    tag = "incidents",
    operation_id = "list_incidents",
    description = "Scope `incidents:read`.",
    params(ListQuery),
    security(("bearer" = ["incidents:read"])),
    responses(
        (status = 200, description = "One page of incidents.", body = v1::IncidentList),
        (status = 400, description = "The query string could not be read.", body = v1::Error),
        (status = 401, description = "No token, or an unknown, revoked or expired one.", body = v1::Error,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"warroom\"`"))),
        (status = 403, description = "The token lacks the scope.", body = v1::Error),
        (status = 422, description = "A parameter is out of range.", body = v1::Error),
        (status = 429, description = "Too many requests from this address this minute.", body = v1::Error,
            headers(("Retry-After" = u64, description = "Seconds until the minute ends."))),
    ),
)]
async fn list_incidents(
    api: ApiRequest,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<v1::IncidentList>, ApiError> {
    api.authorize(Scope::IncidentsRead).await?;
    let statuses = match query.status.as_deref().unwrap_or("open").trim() {
        "all" => None,
        "open" | "" => Some(Status::ALL.into_iter().filter(|s| s.is_open()).collect()),
        one => Some(vec![Status::parse(one)?]),
    };
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&page) || !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(AppError::invalid(
            "page",
            format!("page is 1 to {MAX_PAGE}; per_page is 1 to {MAX_PER_PAGE}."),
        )
        .into());
    }
    let filter = incidents::ListFilter {
        statuses,
        severity_key: None,
        title_contains: None,
        page,
        per_page,
    };
    let list = incidents::list(&api.state.pool, &filter).await?;
    Ok(Json(v1::IncidentList::from(&list)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    /// Only timeline entries older than this entry id (`timeline_older_than` of the
    /// previous answer).
    before: Option<i64>,
    /// How many timeline entries (default 200, at most 1000), newest first chosen.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// An incident and a page of its timeline (the newest entries, oldest first).
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{id}",
    tag = "incidents",
    operation_id = "get_incident",
    description = "Scope `incidents:read`.",
    params(("id" = i64, Path, description = "The incident's number.", example = 1), IncidentQuery),
    security(("bearer" = ["incidents:read"])),
    responses(
        (status = 200, description = "The incident and its timeline.", body = v1::IncidentDetail),
        (status = 400, description = "The path or query string could not be read.", body = v1::Error),
        (status = 401, description = "No token, or an unknown, revoked or expired one.", body = v1::Error,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"warroom\"`"))),
        (status = 403, description = "The token lacks the scope.", body = v1::Error),
        (status = 404, description = "No such incident.", body = v1::Error),
        (status = 422, description = "`limit` is out of range.", body = v1::Error),
        (status = 429, description = "Too many requests from this address this minute.", body = v1::Error,
            headers(("Retry-After" = u64, description = "Seconds until the minute ends."))),
    ),
)]
async fn get_incident(
    api: ApiRequest,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<IncidentQuery>,
) -> Result<Json<v1::IncidentDetail>, ApiError> {
    api.authorize(Scope::IncidentsRead).await?;
    let limit = query.limit.unwrap_or(TIMELINE_LIMIT);
    if !(1..=MAX_TIMELINE_LIMIT).contains(&limit) {
        return Err(
            AppError::invalid("limit", format!("limit is 1 to {MAX_TIMELINE_LIMIT}.")).into(),
        );
    }
    let not_found = |err| match err {
        AppError::NotFound(_) => AppError::NotFound(format!("incident {id}")),
        other => other,
    };
    let mut conn = api.state.pool.acquire().await.map_err(AppError::from)?;
    let incident = incidents::summary(&mut conn, id).await.map_err(not_found)?;
    let page = warroom_app::timeline::store::timeline_page(&mut conn, id, query.before, limit)
        .await
        .map_err(not_found)?;
    let older_than = page.entries.first().map(|e| e.id).filter(|_| page.older);
    Ok(Json(v1::IncidentDetail {
        incident: (&incident).into(),
        timeline: page.entries.iter().map(v1::TimelineEntry::from).collect(),
        timeline_older_than: older_than,
    }))
}

/// Declares an incident, in the name of the token's service account.
#[utoipa::path(
    post,
    path = "/api/v1/incidents",
    tag = "incidents",
    operation_id = "declare_incident",
    description = "Scope `incidents:write`.",
    request_body = v1::Declaration,
    security(("bearer" = ["incidents:write"])),
    responses(
        (status = 201, description = "Declared.", body = v1::Created,
            headers(("Location" = String, description = "The incident in the API, `/api/v1/incidents/{id}`.")),
            links(("incident" = (
                operation_id = "get_incident",
                parameters(("id" = "$response.body#/id")),
                description = "The incident just declared.",
            )))),
        (status = 401, description = "No token, or an unknown, revoked or expired one.", body = v1::Error,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"warroom\"`"))),
        (status = 403, description = "The token lacks the scope.", body = v1::Error),
        (status = 413, description = "The body is over 1 MiB.", body = v1::Error),
        (status = 422, description = "The body is not the JSON asked for, or a field is invalid (an unknown severity, an empty title).", body = v1::Error),
        (status = 429, description = "Too many requests from this address this minute.", body = v1::Error,
            headers(("Retry-After" = u64, description = "Seconds until the minute ends."))),
    ),
)]
async fn declare_incident(
    api: ApiRequest,
    body: Result<ApiJson<v1::Declaration>, ApiError>,
) -> Result<Response, ApiError> {
    let holder = api.authorize(Scope::IncidentsWrite).await?;
    let ApiJson(body) = body?;
    body.check_text()?;
    let title = IncidentTitle::parse(&body.title)?;
    let summary = MarkdownText::parse_optional("summary", &body.summary)?;
    let summary = warroom_app::markdown::render_new("summary", summary.as_str()).await?;
    let mut tx = api.state.pool.begin().await.map_err(AppError::from)?;
    let id = incidents::declare(&mut tx, &holder.account, &title, &summary, &body.severity).await?;
    tx.commit().await.map_err(AppError::from)?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/incidents/{id}"))],
        Json(v1::Created {
            id,
            url: format!("/incidents/{id}"),
        }),
    )
        .into_response())
}
