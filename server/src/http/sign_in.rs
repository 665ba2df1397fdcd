//! `GET /auth/{provider}/start` and `/auth/{provider}/callback`: the browser side of the
//! OAuth2 / OpenID Connect authorization-code flow. Every refusal is audited and answered
//! with the sign-in page and a reason that does not say whether an account exists.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use serde::Deserialize;
use tower_sessions::Session;
use warroom_app::audit::model::AuditAction;
use warroom_app::audit::store::{record, AuditEvent};
use warroom_app::auth::request::Source;
use warroom_app::auth::store::{self as auth_store, ExternalSignIn};
use warroom_app::state::AppState;

use super::rate_limit::rate_limited;
use crate::identity::{
    same_state, PendingSignIn, Provider, Providers, SignInError, SIGN_IN_WINDOW,
};

/// The session key of a sign-in in progress.
const PENDING_KEY: &str = "pending_sign_in";

/// Identity providers and what the handlers need around them.
pub struct SignInService {
    pub providers: Providers,
    /// Where browsers reach Warroom (for redirect URIs).
    pub base_url: String,
    pub rate_per_minute: u32,
}

impl SignInService {
    fn redirect_uri(&self, key: &str) -> String {
        format!("{}/auth/{key}/callback", self.base_url)
    }
}

/// The source of a sign-in request, counted against its rate limit, and the provider it
/// names.
async fn admit_attempt(
    state: &AppState,
    service: &SignInService,
    peer: SocketAddr,
    headers: &HeaderMap,
    key: &str,
) -> Result<(Source, Arc<Provider>), Response> {
    let source = Source::from_parts(headers, Some(peer), state.settings.trust_proxy);
    if let Some(refusal) = rate_limited(state, "sign-in", service.rate_per_minute, &source).await {
        return Err(refusal);
    }
    match service.providers.get(key) {
        Some(provider) => Ok((source, provider)),
        None => Err((StatusCode::NOT_FOUND, "No such sign-in method.").into_response()),
    }
}

pub async fn start(
    State(state): State<AppState>,
    Extension(service): Extension<Arc<SignInService>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    Path(key): Path<String>,
) -> Response {
    let (_source, provider) = match admit_attempt(&state, &service, peer, &headers, &key).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    match service
        .providers
        .begin(&provider, &service.redirect_uri(&key))
        .await
    {
        Ok((url, pending)) => match session.insert(PENDING_KEY, pending).await {
            Ok(()) => Redirect::to(&url).into_response(),
            Err(err) => {
                tracing::error!(error = %err, "could not store the sign-in in the session");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Could not start signing in. Try again.",
                )
                    .into_response()
            }
        },
        Err(err) => {
            tracing::error!(
                provider = key,
                error = format!("{err:#}"),
                "identity provider unavailable"
            );
            (
                StatusCode::BAD_GATEWAY,
                format!(
                    "{} could not be reached to sign you in. Try again in a minute; if it keeps failing, tell your administrator.",
                    provider.config.name
                ),
            )
                .into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(
    State(state): State<AppState>,
    Extension(service): Extension<Arc<SignInService>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    Path(key): Path<String>,
    Query(params): Query<CallbackParams>,
) -> Response {
    let (source, provider) = match admit_attempt(&state, &service, peer, &headers, &key).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let pending: Option<PendingSignIn> = session.get(PENDING_KEY).await.unwrap_or(None);
    let refuse = |reason: String, page: &'static str| {
        let state = state.clone();
        let source = source.clone();
        let key = key.clone();
        async move {
            tracing::warn!(provider = key, reason, "sign-in refused");
            let event = AuditEvent::new(AuditAction::SignInRefused, &source)
                .refused()
                .target(key)
                .details(serde_json::json!({ "reason": reason }));
            if let Ok(mut conn) = state.pool.acquire().await {
                let _ = record(&mut conn, &event).await;
            }
            Redirect::to(&format!("/login?error={page}")).into_response()
        }
    };
    // Only the provider, which alone knows this browser's `state`, may end the attempt: a
    // callback without it (a link from another site, `?error=…` included) leaves the
    // sign-in in progress untouched.
    let Some(pending) = pending.filter(|p| p.provider == key) else {
        return refuse("no sign-in in progress in this browser".into(), "expired").await;
    };
    if !same_state(params.state.as_deref().unwrap_or_default(), &pending.state) {
        return refuse("state does not match".into(), "expired").await;
    }
    // Taken out now: a second callback with the same state finds nothing.
    if let Err(err) = session.remove::<PendingSignIn>(PENDING_KEY).await {
        tracing::error!(error = %err, "could not end the sign-in attempt in the session");
        return refuse("session store unavailable".into(), "failed").await;
    }
    if let Some(error) = params.error {
        let error: String = error.chars().take(100).collect();
        return refuse(format!("provider answered error {error}"), "failed").await;
    }
    if chrono::Utc::now() - pending.started_at > SIGN_IN_WINDOW {
        return refuse("sign-in took too long".into(), "expired").await;
    }
    let Some(code) = params.code.filter(|c| !c.is_empty() && c.len() <= 2048) else {
        return refuse("no authorization code".into(), "failed").await;
    };
    let identity = match service
        .providers
        .finish(&provider, &service.redirect_uri(&key), &code, &pending)
        .await
    {
        Ok(identity) => identity,
        Err(SignInError::Refused(why)) => {
            return refuse(format!("provider refused the code: {why}"), "failed").await
        }
        Err(SignInError::Unverified) => {
            return refuse("no verified e-mail address".into(), "unverified").await
        }
        Err(SignInError::Unavailable(err)) => {
            tracing::error!(
                provider = key,
                error = format!("{err:#}"),
                "identity provider unavailable"
            );
            return refuse("provider unavailable".into(), "failed").await;
        }
    };
    match admit(&state, &identity, &source).await {
        Ok(Ok(sign_in)) => match auth_store::attach_to_session(&session, sign_in).await {
            Ok(()) => Redirect::to("/").into_response(),
            Err(err) => err_response(err),
        },
        Ok(Err(refusal)) => Redirect::to(&format!("/login?error={refusal}")).into_response(),
        Err(err) => err_response(err),
    }
}

/// Applies the access policy; admitted people get a sign-in (returned), refused people
/// only an audit entry and the sign-in page's code for why. Both in one transaction with
/// their audit records.
async fn admit(
    state: &AppState,
    identity: &auth_store::ExternalIdentity,
    source: &Source,
) -> Result<Result<uuid::Uuid, &'static str>, warroom_app::error::AppError> {
    let mut tx = state.pool.begin().await?;
    match auth_store::admit_external(&mut tx, &state.settings.access, identity).await? {
        ExternalSignIn::Disabled => {
            tracing::warn!(
                provider = identity.provider,
                "sign-in refused: disabled by an admin"
            );
            let event = AuditEvent::new(AuditAction::SignInRefused, source)
                .refused()
                .target(identity.provider.clone())
                .details(serde_json::json!({ "reason": "disabled" }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            Ok(Err("disabled"))
        }
        ExternalSignIn::Refused => {
            tracing::warn!(
                provider = identity.provider,
                "sign-in refused: not on the allow-list"
            );
            let event = AuditEvent::new(AuditAction::SignInRefused, source)
                .refused()
                .target(identity.provider.clone())
                .details(serde_json::json!({
                    "reason": "not allowed",
                    "domain": identity.email.domain(),
                }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            Ok(Err("not_allowed"))
        }
        ExternalSignIn::Admitted {
            person,
            promoted_from,
            created,
        } => {
            let sign_in = auth_store::start_sign_in(
                &mut tx,
                person.id,
                &identity.provider,
                state.settings.session_lifetime,
                source,
            )
            .await?;
            if let Some(from) = promoted_from {
                let event = AuditEvent::new(AuditAction::RoleChanged, source)
                    .target(format!("user {}", person.id))
                    .details(serde_json::json!({
                        "from": from.as_str(), "to": "admin", "by": "WARROOM_ADMINS",
                    }));
                record(&mut tx, &event).await?;
            }
            let event = AuditEvent::new(AuditAction::SignIn, source)
                .by_user(person.id)
                .target(identity.provider.clone())
                .details(serde_json::json!({ "new_account": created }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            tracing::info!(
                user.id = person.id,
                provider = identity.provider,
                "signed in"
            );
            Ok(Ok(sign_in))
        }
    }
}

fn err_response(err: warroom_app::error::AppError) -> Response {
    let status =
        StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, err.to_string()).into_response()
}
