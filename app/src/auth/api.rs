//! Server functions for signing in and out, one's sessions, and managing people.

use leptos::prelude::*;

use super::model::{Invitation, Me, Member, SessionInfo, SignInChoices};
use crate::error::AppError;

#[cfg(feature = "ssr")]
pub use server_only::*;

#[cfg(feature = "ssr")]
mod server_only {
    use uuid::Uuid;

    use super::super::model::{Capability, Person, Role};
    use super::super::request::Source;
    use super::super::store;
    use crate::audit::model::AuditAction;
    use crate::audit::store::{record, AuditEvent};
    use crate::error::AppError;
    use crate::state::AppState;

    /// The state and the signed-in person behind a server function call.
    pub struct Caller {
        pub state: AppState,
        pub person: Person,
        pub role: Role,
        /// The `sign_ins` row of this browser.
        pub sign_in: Uuid,
        pub source: Source,
    }

    impl Caller {
        /// Requires a valid sign-in, whatever the role.
        pub async fn signed_in() -> Result<Caller, AppError> {
            let state = AppState::current()?;
            let Some(sign_in) = store::session_sign_in(&session().await?).await? else {
                return Err(AppError::Unauthorized);
            };
            let me = store::active_sign_in(&state.pool, sign_in, state.settings.session_idle)
                .await?
                .ok_or(AppError::Unauthorized)?;
            let source = Source::current(state.settings.trust_proxy).await;
            limit_account(&state, me.person.id, &source).await?;
            Ok(Caller {
                state,
                person: me.person,
                role: me.role,
                sign_in,
                source,
            })
        }

        /// Requires a valid sign-in whose role grants `capability`; refusals are audited.
        pub async fn allowed(capability: Capability) -> Result<Caller, AppError> {
            let caller = Caller::signed_in().await?;
            if caller.role.can(capability) {
                return Ok(caller);
            }
            let path = leptos_axum::extract::<axum::http::Uri>()
                .await
                .map(|uri| uri.path().to_string())
                .unwrap_or_default();
            tracing::warn!(user.id = caller.person.id, path, "access refused");
            let event = AuditEvent::new(AuditAction::AccessRefused, &caller.source)
                .refused()
                .by_user(caller.person.id)
                .target(path)
                .details(serde_json::json!({ "role": caller.role.as_str() }));
            crate::limits::record_refusal(
                &caller.state.pool,
                &event,
                AuditAction::AccessRefused,
                &crate::limits::Refused::User(caller.person.id),
            )
            .await?;
            Err(AppError::Forbidden)
        }

        /// An audit event acted by this caller.
        pub fn audit(&self, action: AuditAction) -> AuditEvent {
            AuditEvent::new(action, &self.source).by_user(self.person.id)
        }
    }

    /// Counts one call against the person's per-minute limit (shared by all their
    /// browsers and every replica). The first refusal of a minute is audited.
    async fn limit_account(
        state: &AppState,
        user_id: i64,
        source: &Source,
    ) -> Result<(), AppError> {
        use crate::limits::{hit, Verdict};
        let bucket = format!("account:{user_id}");
        match hit(&state.pool, &bucket, state.settings.account_rate_per_minute).await? {
            Verdict::Allowed => Ok(()),
            Verdict::Limited { first, retry_after } => {
                if first {
                    tracing::warn!(user.id = user_id, "account rate limit reached");
                    let event = AuditEvent::new(AuditAction::RateLimited, source)
                        .refused()
                        .by_user(user_id)
                        .target("account");
                    record(&mut *state.pool.acquire().await?, &event).await?;
                }
                Err(AppError::TooMany(format!(
                    "Too many requests from your account in the last minute: wait {retry_after} seconds and try again."
                )))
            }
        }
    }

    pub async fn session() -> Result<tower_sessions::Session, AppError> {
        leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map_err(|e| AppError::internal(anyhow::anyhow!("session layer missing: {e}")))
    }
}

#[cfg(feature = "ssr")]
use {
    super::model::{Capability, EmailAddress, Role, SignInName},
    super::store,
    crate::audit::model::AuditAction,
    crate::audit::store::{record, AuditEvent},
    crate::error::respond,
    crate::state::AppState,
};

/// The signed-in person and their role, or `None`.
#[server(endpoint = "me")]
pub async fn get_me() -> Result<Option<Me>, AppError> {
    respond(
        async {
            match Caller::signed_in().await {
                Ok(caller) => Ok(Some(Me {
                    person: caller.person,
                    role: caller.role,
                })),
                Err(AppError::Unauthorized) => Ok(None),
                Err(err) => Err(err),
            }
        }
        .await,
    )
}

/// How this server offers sign-in: its identity providers, or the development sign-in.
#[server(endpoint = "sign_in_options")]
pub async fn sign_in_options() -> Result<SignInChoices, AppError> {
    let settings = AppState::current()?.settings;
    Ok(SignInChoices {
        providers: settings.providers.clone(),
        dev_sign_in: settings.dev_sign_in
            && super::request::current_request_is_direct_and_local().await,
    })
}

/// Local development sign-in: "continue as <name>" with a role of one's choosing.
/// Refused unless enabled (no provider configured, asked for, loopback only).
#[server(endpoint = "dev_sign_in")]
pub async fn dev_sign_in(name: String, #[server(default)] role: String) -> Result<(), AppError> {
    respond(
        async {
            let state = AppState::current()?;
            // Never behind a proxy or under another host name: there, anyone who reaches
            // the proxy (or a page rebinding its name to this machine) would be let in.
            if !state.settings.dev_sign_in
                || !super::request::current_request_is_direct_and_local().await
            {
                return Err(AppError::Forbidden);
            }
            let source = super::request::Source::current(state.settings.trust_proxy).await;
            let bucket = format!("sign-in:{}", source.ip);
            if let crate::limits::Verdict::Limited { retry_after, .. } =
                crate::limits::hit(&state.pool, &bucket, state.settings.sign_in_rate_per_minute)
                    .await?
            {
                return Err(AppError::TooMany(format!(
                    "Too many sign-in attempts from your address: wait {retry_after} seconds."
                )));
            }
            let name = SignInName::parse(&name)?;
            let role = if role.trim().is_empty() {
                Role::Responder
            } else {
                Role::parse(&role)?
            };
            let mut tx = state.pool.begin().await?;
            let person = store::upsert_by_handle(&mut tx, &name, role).await?;
            let sign_in = store::start_sign_in(
                &mut tx,
                person.id,
                "development",
                state.settings.session_lifetime,
                &source,
            )
            .await?;
            let event = AuditEvent::new(AuditAction::SignIn, &source)
                .by_user(person.id)
                .target("development")
                .details(serde_json::json!({ "role": role.as_str() }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            store::attach_to_session(&session().await?, sign_in).await?;
            tracing::info!(user.id = person.id, "signed in (development sign-in)");
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// Signs out of this browser.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    respond(
        async {
            if let Ok(caller) = Caller::signed_in().await {
                let mut tx = caller.state.pool.begin().await?;
                store::end_sign_in(&mut tx, caller.person.id, caller.sign_in, "signed_out").await?;
                record(&mut tx, &caller.audit(AuditAction::SignOut)).await?;
                tx.commit().await?;
            }
            store::clear_session(&session().await?).await?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}

/// My signed-in browsers.
#[server(endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<Vec<SessionInfo>, AppError> {
    respond(
        async {
            let caller = Caller::signed_in().await?;
            store::sign_ins_of(
                &caller.state.pool,
                caller.person.id,
                caller.sign_in,
                caller.state.settings.session_idle,
            )
            .await
        }
        .await,
    )
}

/// Ends one of my sessions (e.g. a laptop left somewhere).
#[server(endpoint = "end_session")]
pub async fn end_session(id: String) -> Result<(), AppError> {
    respond(
        async {
            let caller = Caller::signed_in().await?;
            let id = uuid::Uuid::parse_str(id.trim())
                .map_err(|_| AppError::invalid("id", "That is not a session id."))?;
            let mut tx = caller.state.pool.begin().await?;
            if !store::end_sign_in(&mut tx, caller.person.id, id, "ended_by_user").await? {
                return Err(AppError::NotFound("that session".into()));
            }
            record(
                &mut tx,
                &caller
                    .audit(AuditAction::SessionEnded)
                    .target(format!("session {}", &id.simple().to_string()[..8])),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }
        .await,
    )
}

/// Ends all my sessions, this one included.
#[server(endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<u64, AppError> {
    respond(
        async {
            let caller = Caller::signed_in().await?;
            let mut tx = caller.state.pool.begin().await?;
            let ended = store::end_all_sign_ins(&mut tx, caller.person.id).await?;
            record(
                &mut tx,
                &caller
                    .audit(AuditAction::SignOutEverywhere)
                    .details(serde_json::json!({ "sessions": ended })),
            )
            .await?;
            tx.commit().await?;
            store::clear_session(&session().await?).await?;
            leptos_axum::redirect("/login");
            Ok(ended)
        }
        .await,
    )
}

/// Everyone who can sign in (admins only).
#[server(endpoint = "list_members")]
pub async fn list_members() -> Result<Vec<Member>, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            store::members(&caller.state.pool).await
        }
        .await,
    )
}

/// Gives someone another role (admins only). The last admin cannot step down.
#[server(endpoint = "set_member_role")]
pub async fn set_member_role(user_id: i64, role: String) -> Result<(), AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let role = Role::parse(&role)?;
            let mut tx = caller.state.pool.begin().await?;
            let old = store::set_role(&mut tx, user_id, role)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("person {user_id}")))?;
            if old == Role::Admin && role != Role::Admin && store::admin_count(&mut tx).await? == 0
            {
                return Err(AppError::Conflict(
                    "Warroom needs at least one admin: make someone else admin first.".into(),
                ));
            }
            if old != role {
                let event = caller
                    .audit(AuditAction::RoleChanged)
                    .target(format!("user {user_id}"))
                    .details(serde_json::json!({ "from": old.as_str(), "to": role.as_str() }));
                record(&mut tx, &event).await?;
            }
            tx.commit().await?;
            Ok(())
        }
        .await,
    )
}

/// Pending invitations (admins only).
#[server(endpoint = "list_invitations")]
pub async fn list_invitations() -> Result<Vec<Invitation>, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            store::invitations(&caller.state.pool).await
        }
        .await,
    )
}

/// Invites an address with a role; it may sign in with any configured provider that
/// vouches for that address (admins only).
#[server(endpoint = "invite_member")]
pub async fn invite_member(email: String, role: String) -> Result<(), AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let email = EmailAddress::parse(&email)?;
            let role = Role::parse(&role)?;
            let mut tx = caller.state.pool.begin().await?;
            store::invite(&mut tx, &email, role, caller.person.id).await?;
            let event = caller
                .audit(AuditAction::InvitationCreated)
                .target(email.as_str())
                .details(serde_json::json!({ "role": role.as_str() }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            Ok(())
        }
        .await,
    )
}

/// Withdraws an invitation (admins only).
#[server(endpoint = "withdraw_invitation")]
pub async fn withdraw_invitation(email: String) -> Result<(), AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let email = EmailAddress::parse(&email)?;
            let mut tx = caller.state.pool.begin().await?;
            if !store::withdraw_invitation(&mut tx, &email).await? {
                return Err(AppError::NotFound("that invitation".into()));
            }
            let event = caller
                .audit(AuditAction::InvitationWithdrawn)
                .target(email.as_str());
            record(&mut tx, &event).await?;
            tx.commit().await?;
            Ok(())
        }
        .await,
    )
}
