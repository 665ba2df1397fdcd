//! Server functions for signing in and out, one's sessions, and managing people.

use leptos::prelude::*;

use super::model::{Invitation, Me, Member, SessionInfo, SignInChoices, SignInMethods};
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

        /// Begins the transaction this call's changes commit in, together or not at all:
        /// store functions take it as `&mut PgConnection`, the caller commits it.
        pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, AppError> {
            Ok(self.state.pool.begin().await?)
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
            let Some(person) = store::upsert_by_handle(&mut tx, &name, role).await? else {
                metrics::counter!("warroom_sign_ins_total", "method" => "development", "outcome" => "refused").increment(1);
                let event = AuditEvent::new(AuditAction::SignInRefused, &source)
                    .refused()
                    .target("development")
                    .details(serde_json::json!({ "reason": "disabled" }));
                record(&mut tx, &event).await?;
                tx.commit().await?;
                return Err(AppError::Conflict(
                    "This account is disabled: an administrator can enable it again.".into(),
                ));
            };
            let sign_in = store::start_sign_in(
                &mut tx,
                person.id,
                "development",
                state.settings.session_lifetime,
                &source,
            )
            .await?;
            metrics::counter!("warroom_sign_ins_total", "method" => "development", "outcome" => "ok").increment(1);
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

/// The sign-in methods linked to my account, and the configured ones I can still link
/// (`/auth/{key}/link`).
#[server(endpoint = "my_sign_in_methods")]
pub async fn my_sign_in_methods() -> Result<SignInMethods, AppError> {
    respond(
        async {
            let caller = Caller::signed_in().await?;
            let configured = &caller.state.settings.providers;
            let linked: Vec<super::model::LinkedMethod> =
                store::linked_identities(&caller.state.pool, caller.person.id)
                    .await?
                    .into_iter()
                    .map(
                        |(provider, linked_at, last_used_at)| super::model::LinkedMethod {
                            name: configured
                                .iter()
                                .find(|p| p.key == provider)
                                .map(|p| p.name.clone())
                                .unwrap_or_else(|| provider.clone()),
                            provider,
                            linked_at,
                            last_used_at,
                        },
                    )
                    .collect();
            let linkable = configured
                .iter()
                .filter(|p| !linked.iter().any(|l| l.provider == p.key))
                .cloned()
                .collect();
            Ok(SignInMethods { linked, linkable })
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
            let ended = store::end_all_sign_ins(
                &mut tx,
                caller.person.id,
                store::EndedAll::SignedOutEverywhere,
            )
            .await?;
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
            store::lock_admins(&mut tx).await?;
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

/// Disables a person (admins only): every sign-in of theirs ends at once, and no
/// sign-in method lets them in until an admin enables them. The last enabled admin stays.
#[server(endpoint = "disable_member")]
pub async fn disable_member(user_id: i64) -> Result<(), AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let mut tx = caller.state.pool.begin().await?;
            store::lock_admins(&mut tx).await?;
            let was_disabled = store::set_disabled(&mut tx, user_id, Some(caller.person.id))
                .await?
                .ok_or_else(|| AppError::NotFound(format!("person {user_id}")))?;
            if was_disabled {
                return Err(AppError::Conflict("That person is already disabled.".into()));
            }
            if store::admin_count(&mut tx).await? == 0 {
                return Err(AppError::Conflict(
                    "Warroom needs at least one admin who can sign in: make someone else admin first."
                        .into(),
                ));
            }
            let ended = store::end_all_sign_ins(&mut tx, user_id, store::EndedAll::Disabled).await?;
            let event = caller
                .audit(AuditAction::MemberDisabled)
                .target(format!("user {user_id}"))
                .details(serde_json::json!({ "sessions": ended }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            tracing::info!(user.id = user_id, sessions = ended, "person disabled");
            Ok(())
        }
        .await,
    )
}

/// Lets a disabled person sign in again (admins only).
#[server(endpoint = "enable_member")]
pub async fn enable_member(user_id: i64) -> Result<(), AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let mut tx = caller.state.pool.begin().await?;
            let was_disabled = store::set_disabled(&mut tx, user_id, None)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("person {user_id}")))?;
            if !was_disabled {
                return Err(AppError::Conflict("That person is not disabled.".into()));
            }
            let event = caller
                .audit(AuditAction::MemberEnabled)
                .target(format!("user {user_id}"));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            Ok(())
        }
        .await,
    )
}

/// Ends every session of a person (admins only): a lost laptop, a shared browser. They
/// may sign in again. Returns how many sessions were open.
#[server(endpoint = "end_member_sessions")]
pub async fn end_member_sessions(user_id: i64) -> Result<u64, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let mut tx = caller.state.pool.begin().await?;
            if store::person(&mut tx, user_id).await?.is_none() {
                return Err(AppError::NotFound(format!("person {user_id}")));
            }
            let ended =
                store::end_all_sign_ins(&mut tx, user_id, store::EndedAll::EndedByAdmin).await?;
            let event = caller
                .audit(AuditAction::MemberSessionsEnded)
                .target(format!("user {user_id}"))
                .details(serde_json::json!({ "sessions": ended }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            Ok(ended)
        }
        .await,
    )
}

/// Allows someone to publish to the status page (public updates and component impacts,
/// as an incident's commander or liaison), or withdraws it (admins only).
#[server(endpoint = "set_member_publishing")]
pub async fn set_member_publishing(user_id: i64, allowed: bool) -> Result<(), AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let mut tx = caller.state.pool.begin().await?;
            let before = store::set_publishing(&mut tx, user_id, allowed)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("person {user_id}")))?;
            if before != allowed {
                let event = caller
                    .audit(AuditAction::PublishingChanged)
                    .target(format!("user {user_id}"))
                    .details(serde_json::json!({ "may_publish": allowed }));
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
