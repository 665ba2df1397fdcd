//! SQL for people, identities, invitations and sign-ins (the session's person and role).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use tower_sessions::Session;
use uuid::Uuid;

use super::model::{
    AccessPolicy, Admission, EmailAddress, Invitation, Me, Member, Person, Role, SessionInfo,
    SignInName,
};
use super::request::Source;
use crate::error::AppError;

/// The session key under which the id of the session's `sign_ins` row is kept.
const SIGN_IN_KEY: &str = "sign_in";

fn session_error(err: tower_sessions::session::Error) -> AppError {
    AppError::internal(anyhow::Error::new(err).context("session store"))
}

/// Finds the person with this handle (development sign-in), creating them on first
/// sign-in, with the role they asked for. `None` when that person is disabled (nothing
/// is changed then).
#[tracing::instrument(skip_all)]
pub async fn upsert_by_handle(
    conn: &mut PgConnection,
    name: &SignInName,
    role: Role,
) -> Result<Option<Person>, AppError> {
    let person = sqlx::query_as!(
        Person,
        r#"INSERT INTO users (handle, display_name, role) VALUES ($1, $2, $3)
           ON CONFLICT (handle) DO UPDATE
               SET display_name = EXCLUDED.display_name, role = EXCLUDED.role
               WHERE users.disabled_at IS NULL
           RETURNING id, display_name AS name"#,
        name.handle(),
        name.display_name(),
        role.as_str(),
    )
    .fetch_optional(conn)
    .await?;
    Ok(person)
}

/// Someone an identity provider vouched for.
#[derive(Clone, Debug)]
pub struct ExternalIdentity {
    /// The provider's key in our configuration.
    pub provider: String,
    /// The provider's stable id of the account.
    pub subject: String,
    pub email: EmailAddress,
    pub name: String,
    /// GitHub organisations the account belongs to (GitHub only).
    pub github_orgs: Option<Vec<String>>,
    /// Whether the site trusts this provider's addresses enough to find an existing
    /// account by e-mail and to apply `WARROOM_ADMINS` (`trust_email`).
    pub email_trusted: bool,
}

/// The outcome of an external sign-in attempt.
#[derive(Debug)]
pub enum ExternalSignIn {
    Admitted {
        person: Person,
        /// Set when configuration made this person an admin just now.
        promoted_from: Option<Role>,
        created: bool,
        /// This identity was just attached to an existing account with its address.
        linked_by_email: bool,
    },
    Refused,
    /// An admin disabled this person: no sign-in method lets them in.
    Disabled,
    /// An account with this address exists, but this provider may not claim it by e-mail:
    /// the person signs in with one of `methods` (provider keys) and links this one.
    LinkRequired {
        methods: Vec<String>,
    },
}

/// Applies the access policy to someone an identity provider vouched for; admitted people
/// get (or keep) an account linked to that identity. Refused people get nothing stored.
///
/// An identity already linked is its account. Otherwise an account with the same verified
/// address is this person only if the provider is trusted for addresses and the account
/// has no identity from a configured provider that is not (`untrusted_providers`): that
/// one could have claimed someone's address before they first came, and the trusted
/// provider would then hand their account to it. Anyone else proves control by signing in
/// to the account and linking the provider from their account page.
#[tracing::instrument(skip_all, fields(provider = %identity.provider))]
pub async fn admit_external(
    conn: &mut PgConnection,
    policy: &AccessPolicy,
    untrusted_providers: &[String],
    identity: &ExternalIdentity,
) -> Result<ExternalSignIn, AppError> {
    let email = identity.email.as_str();
    let linked = sqlx::query_scalar!(
        "SELECT user_id FROM identities WHERE provider = $1 AND subject = $2",
        identity.provider,
        identity.subject,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let by_email = match linked {
        Some(_) => None,
        None => {
            sqlx::query_scalar!(
                "SELECT id FROM users WHERE email = $1 AND kind = 'person'",
                email
            )
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    if let Some(account) = by_email {
        let methods = identity_providers(&mut *conn, account).await?;
        let claimable =
            identity.email_trusted && !methods.iter().any(|m| untrusted_providers.contains(m));
        if !claimable {
            return Ok(ExternalSignIn::LinkRequired { methods });
        }
    }
    let existing = linked.or(by_email);
    if let Some(id) = existing {
        if is_disabled(&mut *conn, id).await? {
            return Ok(ExternalSignIn::Disabled);
        }
    }
    // The policy is about the address the provider vouches for now; an account also
    // keeps being admitted by its own address (verified when it was recorded), without
    // `WARROOM_ADMINS`, which applies only through a trusted provider.
    let mut admission = policy.admit(
        &identity.email,
        identity.github_orgs.as_deref(),
        invitation(&mut *conn, &identity.email).await?,
        identity.email_trusted,
    );
    if let (Admission::Refused, Some(id)) = (admission, existing) {
        if let Some(own) = account_email(&mut *conn, id).await? {
            if own != identity.email {
                let invited = invitation(&mut *conn, &own).await?;
                admission = policy.admit(&own, None, invited, false);
            }
        }
    }
    let (new_role, force_admin) = match admission {
        Admission::Refused => return Ok(ExternalSignIn::Refused),
        Admission::Allowed { role, force_admin } => (role, force_admin),
    };
    let (user_id, old_role, created) = match existing {
        Some(id) => {
            // A trusted provider keeps the account's address current, unless another
            // account has that address.
            let role = sqlx::query_scalar!(
                "UPDATE users SET display_name = $3,
                        email = CASE WHEN $4 AND NOT EXISTS (
                                    SELECT 1 FROM users o WHERE o.email = $2 AND o.id <> $1)
                                THEN $2 ELSE email END
                 WHERE id = $1 RETURNING role",
                id,
                email,
                identity.name,
                identity.email_trusted,
            )
            .fetch_one(&mut *conn)
            .await?;
            (id, Some(Role::parse(&role)?), false)
        }
        None => {
            let id = sqlx::query_scalar!(
                "INSERT INTO users (display_name, email, role) VALUES ($1, $2, $3) RETURNING id",
                identity.name,
                email,
                new_role.as_str(),
            )
            .fetch_one(&mut *conn)
            .await?;
            (id, None, true)
        }
    };
    sqlx::query!(
        "INSERT INTO identities (provider, subject, user_id) VALUES ($1, $2, $3)
         ON CONFLICT (provider, subject) DO UPDATE SET last_sign_in_at = now()",
        identity.provider,
        identity.subject,
        user_id,
    )
    .execute(&mut *conn)
    .await?;
    // An invitation is a lasting grant: accepted once, it keeps admitting its address.
    sqlx::query!(
        "UPDATE invitations SET accepted_at = now(), accepted_by = $2
         WHERE email = $1 AND accepted_at IS NULL",
        email,
        user_id,
    )
    .execute(&mut *conn)
    .await?;
    let promoted_from = match old_role {
        Some(old) if force_admin && old != Role::Admin => {
            set_role(&mut *conn, user_id, Role::Admin).await?;
            Some(old)
        }
        _ => None,
    };
    Ok(ExternalSignIn::Admitted {
        person: Person {
            id: user_id,
            name: identity.name.clone(),
        },
        promoted_from,
        created,
        linked_by_email: by_email.is_some(),
    })
}

/// The role an invitation of this address gives (pending or accepted: it lasts).
async fn invitation(
    conn: &mut PgConnection,
    email: &EmailAddress,
) -> Result<Option<Role>, AppError> {
    sqlx::query_scalar!(
        "SELECT role FROM invitations WHERE email = $1",
        email.as_str()
    )
    .fetch_optional(conn)
    .await?
    .map(|r| Role::parse(&r))
    .transpose()
}

/// The address recorded for an account, if it has a valid one.
async fn account_email(
    conn: &mut PgConnection,
    user_id: i64,
) -> Result<Option<EmailAddress>, AppError> {
    let email = sqlx::query_scalar!("SELECT email FROM users WHERE id = $1", user_id)
        .fetch_one(conn)
        .await?;
    Ok(email.and_then(|e| EmailAddress::parse(&e).ok()))
}

/// The providers (keys) an account signs in with.
async fn identity_providers(
    conn: &mut PgConnection,
    user_id: i64,
) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT DISTINCT provider FROM identities WHERE user_id = $1 ORDER BY provider",
        user_id
    )
    .fetch_all(conn)
    .await?)
}

/// What became of attaching an identity to a signed-in account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkOutcome {
    Linked,
    /// It was this account's already.
    AlreadyYours,
    /// It belongs to another account; nothing changed.
    Taken,
}

/// Attaches an identity to the account of `user_id`, who proved control of both: signed
/// in to the account, and through the provider just now.
#[tracing::instrument(skip_all, fields(provider = %identity.provider))]
pub async fn link_identity(
    conn: &mut PgConnection,
    user_id: i64,
    identity: &ExternalIdentity,
) -> Result<LinkOutcome, AppError> {
    let inserted = sqlx::query_scalar!(
        "INSERT INTO identities (provider, subject, user_id) VALUES ($1, $2, $3)
         ON CONFLICT (provider, subject) DO NOTHING RETURNING user_id",
        identity.provider,
        identity.subject,
        user_id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if inserted.is_some() {
        return Ok(LinkOutcome::Linked);
    }
    let owner = sqlx::query_scalar!(
        "SELECT user_id FROM identities WHERE provider = $1 AND subject = $2",
        identity.provider,
        identity.subject,
    )
    .fetch_one(conn)
    .await?;
    Ok(if owner == user_id {
        LinkOutcome::AlreadyYours
    } else {
        LinkOutcome::Taken
    })
}

/// The sign-in methods (provider keys) linked to an account, with when each was linked and
/// last used, oldest first.
pub async fn linked_identities(
    pool: &PgPool,
    user_id: i64,
) -> Result<Vec<(String, DateTime<Utc>, DateTime<Utc>)>, AppError> {
    Ok(sqlx::query!(
        r#"SELECT provider, created_at AS "created_at: DateTime<Utc>",
                  last_sign_in_at AS "last_sign_in_at: DateTime<Utc>"
           FROM identities WHERE user_id = $1 ORDER BY created_at, provider"#,
        user_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.provider, r.created_at, r.last_sign_in_at))
    .collect())
}

/// One person by id.
pub async fn person(conn: &mut PgConnection, id: i64) -> Result<Option<Person>, AppError> {
    Ok(sqlx::query_as!(
        Person,
        "SELECT id, display_name AS name FROM users WHERE id = $1",
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// Whether an admin disabled this person.
async fn is_disabled(conn: &mut PgConnection, user_id: i64) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT disabled_at IS NOT NULL AS "disabled!" FROM users WHERE id = $1"#,
        user_id
    )
    .fetch_one(conn)
    .await?)
}

/// Everyone who may work incidents, by name (for "assign to…" pickers).
pub async fn responders(pool: &PgPool) -> Result<Vec<Person>, AppError> {
    Ok(sqlx::query_as!(
        Person,
        "SELECT id, display_name AS name FROM users
         WHERE kind = 'person' AND role IN ('responder', 'admin') AND disabled_at IS NULL
         ORDER BY display_name"
    )
    .fetch_all(pool)
    .await?)
}

/// Why this person may not be given an incident role, in words ("their role is
/// read-only"); `None` when they may.
pub async fn why_cannot_work_incidents(
    conn: &mut PgConnection,
    user_id: i64,
) -> Result<Option<&'static str>, AppError> {
    let row = sqlx::query!(
        r#"SELECT role IN ('responder', 'admin') AND kind = 'person' AS "works!",
                  disabled_at IS NOT NULL AS "disabled!"
           FROM users WHERE id = $1"#,
        user_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        None => Some("there is no such person"),
        Some(r) if r.disabled => Some("their account is disabled"),
        Some(r) if !r.works => Some("their role is read-only"),
        Some(_) => None,
    })
}

/// Whether this person may publish to the status page: granted by an admin, or an admin
/// themselves, and not disabled.
pub async fn may_publish(conn: &mut PgConnection, user_id: i64) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND kind = 'person'
                          AND disabled_at IS NULL AND (may_publish OR role = 'admin')) AS "may!""#,
        user_id
    )
    .fetch_one(conn)
    .await?)
}

/// Grants or withdraws publishing to the status page; returns the setting it had, or
/// `None` if there is no such person.
pub async fn set_publishing(
    conn: &mut PgConnection,
    user_id: i64,
    allowed: bool,
) -> Result<Option<bool>, AppError> {
    let before = sqlx::query_scalar!(
        "SELECT may_publish FROM users WHERE id = $1 AND kind = 'person' FOR UPDATE",
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    if before.is_some() {
        sqlx::query!(
            "UPDATE users SET may_publish = $2 WHERE id = $1",
            user_id,
            allowed
        )
        .execute(conn)
        .await?;
    }
    Ok(before)
}

/// Everyone who can sign in, for the admin page.
pub async fn members(pool: &PgPool) -> Result<Vec<Member>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT u.id, u.display_name, u.email, u.role,
                  u.last_sign_in_at AS "last_sign_in_at: DateTime<Utc>",
                  u.disabled_at IS NOT NULL AS "disabled!", u.may_publish,
                  (SELECT count(*) FROM sign_ins s
                    WHERE s.user_id = u.id AND s.ended_at IS NULL AND s.expires_at > now())
                    AS "active_sessions!"
           FROM users u WHERE u.kind = 'person' ORDER BY lower(u.display_name), u.id"#
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Member {
                id: r.id,
                name: r.display_name,
                email: r.email,
                role: Role::parse(&r.role)?,
                last_sign_in_at: r.last_sign_in_at,
                active_sessions: r.active_sessions,
                disabled: r.disabled,
                may_publish: r.may_publish,
            })
        })
        .collect()
}

/// Gives a person another role; returns the role they had, or `None` if there is no
/// such person. Their open sessions follow at once (the role is read per request).
pub async fn set_role(
    conn: &mut PgConnection,
    user_id: i64,
    role: Role,
) -> Result<Option<Role>, AppError> {
    let old = sqlx::query_scalar!(
        "SELECT role FROM users WHERE id = $1 AND kind = 'person' FOR UPDATE",
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(old) = old else { return Ok(None) };
    sqlx::query!(
        "UPDATE users SET role = $2 WHERE id = $1",
        user_id,
        role.as_str()
    )
    .execute(&mut *conn)
    .await?;
    Ok(Some(Role::parse(&old)?))
}

/// Locks every admin's row (in id order, so two such transactions queue rather than
/// deadlock) before a change that could leave Warroom without an enabled admin: two admins
/// disabling or demoting each other at once then cannot both succeed.
pub async fn lock_admins(conn: &mut PgConnection) -> Result<(), AppError> {
    sqlx::query!(
        "SELECT id FROM users WHERE role = 'admin' AND kind = 'person' ORDER BY id FOR UPDATE"
    )
    .fetch_all(conn)
    .await?;
    Ok(())
}

/// How many enabled admins there are (the last one may neither step down nor be
/// disabled). Call `lock_admins` first in the same transaction.
pub async fn admin_count(conn: &mut PgConnection) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM users
           WHERE role = 'admin' AND kind = 'person' AND disabled_at IS NULL"#
    )
    .fetch_one(conn)
    .await?)
}

/// Disables a person (`by` is the admin) or, with `None`, enables them again. Returns
/// whether they were disabled before, or `None` if there is no such person.
pub async fn set_disabled(
    conn: &mut PgConnection,
    user_id: i64,
    by: Option<i64>,
) -> Result<Option<bool>, AppError> {
    let before = sqlx::query_scalar!(
        r#"SELECT disabled_at IS NOT NULL AS "disabled!" FROM users
           WHERE id = $1 AND kind = 'person' FOR UPDATE"#,
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(before) = before else {
        return Ok(None);
    };
    sqlx::query!(
        "UPDATE users SET disabled_at = CASE WHEN $2::BIGINT IS NULL THEN NULL ELSE now() END,
                          disabled_by = $2
         WHERE id = $1",
        user_id,
        by,
    )
    .execute(conn)
    .await?;
    Ok(Some(before))
}

/// Pending invitations (not yet accepted), newest first.
pub async fn invitations(pool: &PgPool) -> Result<Vec<Invitation>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT i.email, i.role, u.display_name AS invited_by,
                  i.created_at AS "created_at: DateTime<Utc>"
           FROM invitations i JOIN users u ON u.id = i.invited_by
           WHERE i.accepted_at IS NULL
           ORDER BY i.created_at DESC"#
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Invitation {
                email: r.email,
                role: Role::parse(&r.role)?,
                invited_by: r.invited_by,
                created_at: r.created_at,
            })
        })
        .collect()
}

/// Invites an address (or changes the role of its invitation, which is pending again
/// until its next sign-in).
pub async fn invite(
    conn: &mut PgConnection,
    email: &EmailAddress,
    role: Role,
    invited_by: i64,
) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO invitations (email, role, invited_by) VALUES ($1, $2, $3)
         ON CONFLICT (email) DO UPDATE SET role = EXCLUDED.role, invited_by = EXCLUDED.invited_by,
                                           accepted_at = NULL, accepted_by = NULL",
        email.as_str(),
        role.as_str(),
        invited_by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Withdraws a pending invitation; false if there was none. (An accepted one is how its
/// person keeps signing in; access ends by disabling them.)
pub async fn withdraw_invitation(
    conn: &mut PgConnection,
    email: &EmailAddress,
) -> Result<bool, AppError> {
    let done = sqlx::query!(
        "DELETE FROM invitations WHERE email = $1 AND accepted_at IS NULL",
        email.as_str()
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a new signed-in browser for `user_id`; it lasts at most `lifetime`.
pub async fn start_sign_in(
    conn: &mut PgConnection,
    user_id: i64,
    method: &str,
    lifetime: chrono::Duration,
    source: &Source,
) -> Result<Uuid, AppError> {
    let id = Uuid::new_v4();
    sqlx::query!(
        "INSERT INTO sign_ins (id, user_id, method, expires_at, user_agent, source_ip)
         VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        user_id,
        method,
        (Utc::now() + lifetime) as _,
        source.user_agent,
        source.ip,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE users SET last_sign_in_at = now() WHERE id = $1",
        user_id
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// Ties a sign-in to this browser's session, rotating the session id so an id planted
/// before sign-in is worthless.
pub async fn attach_to_session(session: &Session, sign_in: Uuid) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(SIGN_IN_KEY, sign_in)
        .await
        .map_err(session_error)
}

/// The sign-in this browser's session names, valid or not.
pub async fn session_sign_in(session: &Session) -> Result<Option<Uuid>, AppError> {
    session.get(SIGN_IN_KEY).await.map_err(session_error)
}

/// The person and role behind a sign-in, if it is still valid: not ended, not past its
/// absolute expiry, used within `idle`. Refreshes its last-seen time (at most once a
/// minute, to keep reads from becoming writes).
pub async fn active_sign_in(
    pool: &PgPool,
    sign_in: Uuid,
    idle: chrono::Duration,
) -> Result<Option<Me>, AppError> {
    let row = sqlx::query!(
        r#"SELECT u.id, u.display_name, u.role,
                  s.last_seen_at AS "last_seen_at: DateTime<Utc>"
           FROM sign_ins s JOIN users u ON u.id = s.user_id
           WHERE s.id = $1 AND s.ended_at IS NULL AND s.expires_at > now()
             AND s.last_seen_at > $2 AND u.kind = 'person' AND u.disabled_at IS NULL"#,
        sign_in,
        (Utc::now() - idle) as _,
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    if row.last_seen_at < Utc::now() - chrono::Duration::minutes(1) {
        sqlx::query!(
            "UPDATE sign_ins SET last_seen_at = now() WHERE id = $1",
            sign_in
        )
        .execute(pool)
        .await?;
    }
    Ok(Some(Me {
        person: Person {
            id: row.id,
            name: row.display_name,
        },
        role: Role::parse(&row.role)?,
    }))
}

/// Ends one sign-in of `user_id`; false if it was not theirs or already over.
pub async fn end_sign_in(
    conn: &mut PgConnection,
    user_id: i64,
    sign_in: Uuid,
    reason: &str,
) -> Result<bool, AppError> {
    let done = sqlx::query!(
        "UPDATE sign_ins SET ended_at = now(), ended_reason = $3
         WHERE id = $1 AND user_id = $2 AND ended_at IS NULL",
        sign_in,
        user_id,
        reason,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Why every sign-in of a person ended at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndedAll {
    /// They signed out everywhere themselves.
    SignedOutEverywhere,
    /// An admin ended their sessions.
    EndedByAdmin,
    /// An admin disabled them.
    Disabled,
}

impl EndedAll {
    fn as_str(self) -> &'static str {
        match self {
            EndedAll::SignedOutEverywhere => "signed_out_everywhere",
            EndedAll::EndedByAdmin => "ended_by_admin",
            EndedAll::Disabled => "disabled",
        }
    }
}

/// Ends every sign-in of `user_id` (their live streams follow: ending a sign-in is
/// announced); returns how many were open.
pub async fn end_all_sign_ins(
    conn: &mut PgConnection,
    user_id: i64,
    why: EndedAll,
) -> Result<u64, AppError> {
    let done = sqlx::query!(
        "UPDATE sign_ins SET ended_at = now(), ended_reason = $2
         WHERE user_id = $1 AND ended_at IS NULL",
        user_id,
        why.as_str(),
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Forgets this browser's session (cookie and stored data).
pub async fn clear_session(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(session_error)
}

/// The open sign-ins of `user_id`, most recently used first.
pub async fn sign_ins_of(
    pool: &PgPool,
    user_id: i64,
    current: Uuid,
    idle: chrono::Duration,
) -> Result<Vec<SessionInfo>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT id, method, user_agent, source_ip,
                  created_at AS "created_at: DateTime<Utc>",
                  last_seen_at AS "last_seen_at: DateTime<Utc>",
                  expires_at AS "expires_at: DateTime<Utc>"
           FROM sign_ins
           WHERE user_id = $1 AND ended_at IS NULL AND expires_at > now() AND last_seen_at > $2
           ORDER BY last_seen_at DESC"#,
        user_id,
        (Utc::now() - idle) as _,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionInfo {
            current: r.id == current,
            id: r.id.to_string(),
            method: r.method,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at.min(r.last_seen_at + idle),
            user_agent: r.user_agent,
            source_ip: r.source_ip,
        })
        .collect())
}

/// The person and role of a browser's session, if its sign-in is still valid (for routes
/// outside server functions, e.g. the live stream).
pub async fn session_me(
    session: &Session,
    pool: &PgPool,
    idle: chrono::Duration,
) -> Result<Option<Me>, AppError> {
    match session_sign_in(session).await? {
        Some(sign_in) => active_sign_in(pool, sign_in, idle).await,
        None => Ok(None),
    }
}

/// Which of these sign-ins may still read incidents: valid as [`active_sign_in`] decides,
/// and their person's role grants reading. The valid ones count as used now (at most
/// once a minute), since an open live stream is someone watching. For live streams,
/// which check their sign-ins in batches.
pub async fn sign_ins_still_reading(
    pool: &PgPool,
    sign_ins: &[Uuid],
    idle: chrono::Duration,
) -> Result<std::collections::HashSet<Uuid>, AppError> {
    if sign_ins.is_empty() {
        return Ok(Default::default());
    }
    let readers: Vec<String> = Role::ALL
        .into_iter()
        .filter(|r| r.can(super::model::Capability::ReadIncidents))
        .map(|r| r.as_str().to_string())
        .collect();
    let valid = sqlx::query_scalar!(
        r#"SELECT s.id FROM sign_ins s JOIN users u ON u.id = s.user_id
           WHERE s.id = ANY($1) AND s.ended_at IS NULL AND s.expires_at > now()
             AND s.last_seen_at > $2 AND u.kind = 'person' AND u.disabled_at IS NULL
             AND u.role = ANY($3)"#,
        sign_ins,
        (Utc::now() - idle) as _,
        &readers,
    )
    .fetch_all(pool)
    .await?;
    sqlx::query!(
        "UPDATE sign_ins SET last_seen_at = now()
         WHERE id = ANY($1) AND last_seen_at < now() - interval '1 minute'",
        &valid,
    )
    .execute(pool)
    .await?;
    Ok(valid.into_iter().collect())
}
