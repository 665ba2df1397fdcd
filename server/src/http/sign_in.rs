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
    begin(&service, &session, &provider, None).await
}

/// `GET /auth/{provider}/link`: a signed-in person attaches their account at this
/// provider to their Warroom account (proof of control of both), e.g. when the provider
/// is not trusted to find the account by e-mail. Starting changes nothing but this
/// browser's pending attempt; the callback finishes it only for the same sign-in.
pub async fn link(
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
    match signed_in(&state, &session).await {
        Ok(Some((sign_in, _))) => begin(&service, &session, &provider, Some(sign_in)).await,
        Ok(None) => Redirect::to("/login").into_response(),
        Err(err) => err.into_response(),
    }
}

/// This browser's sign-in and its person, if it is still valid.
async fn signed_in(
    state: &AppState,
    session: &Session,
) -> Result<Option<(uuid::Uuid, i64)>, warroom_app::error::AppError> {
    let Some(sign_in) = auth_store::session_sign_in(session).await? else {
        return Ok(None);
    };
    Ok(
        auth_store::active_sign_in(&state.pool, sign_in, state.settings.session_idle)
            .await?
            .map(|me| (sign_in, me.person.id)),
    )
}

/// Sends the browser to the provider, remembering the attempt in its session.
async fn begin(
    service: &SignInService,
    session: &Session,
    provider: &Provider,
    link_to: Option<uuid::Uuid>,
) -> Response {
    let key = &provider.config.key;
    match service
        .providers
        .begin(provider, &service.redirect_uri(key), link_to)
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
    // A failed link sends its (still signed-in) person back to their account page.
    let linking = pending
        .as_ref()
        .is_some_and(|p| p.provider == key && p.link_to.is_some());
    let refuse = |reason: String, page: &'static str| {
        let state = state.clone();
        let source = source.clone();
        let key = key.clone();
        async move {
            tracing::warn!(provider = key, reason, "sign-in refused");
            metrics::counter!("warroom_sign_ins_total", "method" => key.clone(), "outcome" => "refused").increment(1);
            let event = AuditEvent::new(AuditAction::SignInRefused, &source)
                .refused()
                .target(key)
                .details(serde_json::json!({ "reason": reason }));
            if let Ok(mut conn) = state.pool.acquire().await {
                let _ = record(&mut conn, &event).await;
            }
            if linking {
                Redirect::to(&format!("/account?link_error={page}")).into_response()
            } else {
                Redirect::to(&format!("/login?error={page}")).into_response()
            }
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
    if let Some(link_to) = pending.link_to {
        // Only for the sign-in that started it, still valid: signing out (or in as
        // someone else) in between ends the attempt.
        let person = match signed_in(&state, &session).await {
            Ok(Some((sign_in, person))) if sign_in == link_to => person,
            Ok(_) => {
                return refuse("the sign-in that started linking is over".into(), "expired").await;
            }
            Err(err) => return err.into_response(),
        };
        return match attach_identity(&state, person, &identity, &source).await {
            Ok(auth_store::LinkOutcome::Taken) => {
                refuse("that account is another person's".into(), "taken").await
            }
            Ok(_) => Redirect::to(&format!("/account?linked={key}")).into_response(),
            Err(err) => err.into_response(),
        };
    }
    let untrusted = service.providers.untrusted_for_email();
    match admit(&state, &untrusted, &identity, &source).await {
        Ok(Ok(sign_in)) => match auth_store::attach_to_session(&session, sign_in).await {
            Ok(()) => Redirect::to("/").into_response(),
            Err(err) => err.into_response(),
        },
        Ok(Err(refusal)) => Redirect::to(&format!("/login?{refusal}")).into_response(),
        Err(err) => err.into_response(),
    }
}

/// Attaches the identity to the signed-in person's account, audited.
async fn attach_identity(
    state: &AppState,
    person: i64,
    identity: &auth_store::ExternalIdentity,
    source: &Source,
) -> Result<auth_store::LinkOutcome, warroom_app::error::AppError> {
    let mut tx = state.pool.begin().await?;
    let outcome = auth_store::link_identity(&mut tx, person, identity).await?;
    if outcome == auth_store::LinkOutcome::Linked {
        let event = AuditEvent::new(AuditAction::IdentityLinked, source)
            .by_user(person)
            .target(identity.provider.clone())
            .details(serde_json::json!({ "by": "signed in" }));
        record(&mut tx, &event).await?;
        tracing::info!(
            user.id = person,
            provider = identity.provider,
            "sign-in method linked"
        );
    }
    tx.commit().await?;
    Ok(outcome)
}

/// Applies the access policy; admitted people get a sign-in (returned), refused people
/// only an audit entry and the sign-in page's query saying why. Both in one transaction
/// with their audit records.
async fn admit(
    state: &AppState,
    untrusted: &[String],
    identity: &auth_store::ExternalIdentity,
    source: &Source,
) -> Result<Result<uuid::Uuid, String>, warroom_app::error::AppError> {
    let mut tx = state.pool.begin().await?;
    match auth_store::admit_external(&mut tx, &state.settings.access, untrusted, identity).await? {
        ExternalSignIn::LinkRequired { methods } => {
            tracing::warn!(
                provider = identity.provider,
                "sign-in refused: the address has an account this provider may not claim"
            );
            metrics::counter!("warroom_sign_ins_total", "method" => identity.provider.clone(), "outcome" => "refused").increment(1);
            let event = AuditEvent::new(AuditAction::SignInRefused, source)
                .refused()
                .target(identity.provider.clone())
                .details(serde_json::json!({
                    "reason": "link required",
                    "domain": identity.email.domain(),
                }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            // Provider keys only: the sign-in page names them from its own list.
            Ok(Err(format!(
                "error=link_required&with={}&link={}",
                methods.join(","),
                identity.provider
            )))
        }
        ExternalSignIn::Disabled => {
            tracing::warn!(
                provider = identity.provider,
                "sign-in refused: disabled by an admin"
            );
            metrics::counter!("warroom_sign_ins_total", "method" => identity.provider.clone(), "outcome" => "refused").increment(1);
            let event = AuditEvent::new(AuditAction::SignInRefused, source)
                .refused()
                .target(identity.provider.clone())
                .details(serde_json::json!({ "reason": "disabled" }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            Ok(Err("error=disabled".into()))
        }
        ExternalSignIn::Refused => {
            tracing::warn!(
                provider = identity.provider,
                "sign-in refused: not on the allow-list"
            );
            metrics::counter!("warroom_sign_ins_total", "method" => identity.provider.clone(), "outcome" => "refused").increment(1);
            let event = AuditEvent::new(AuditAction::SignInRefused, source)
                .refused()
                .target(identity.provider.clone())
                .details(serde_json::json!({
                    "reason": "not allowed",
                    "domain": identity.email.domain(),
                }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            Ok(Err("error=not_allowed".into()))
        }
        ExternalSignIn::Admitted {
            person,
            promoted_from,
            created,
            linked_by_email,
        } => {
            if linked_by_email {
                let event = AuditEvent::new(AuditAction::IdentityLinked, source)
                    .by_user(person.id)
                    .target(identity.provider.clone())
                    .details(serde_json::json!({ "by": "e-mail" }));
                record(&mut tx, &event).await?;
            }
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
            metrics::counter!("warroom_sign_ins_total", "method" => identity.provider.clone(), "outcome" => "ok").increment(1);
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
