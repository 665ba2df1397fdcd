//! SQL of the audit log: record an act, read a filtered page.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::model::{AuditAction, AuditEntry, AuditPage};
use crate::auth::request::Source;
use crate::error::AppError;

/// An act about to be recorded.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    action: AuditAction,
    refused: bool,
    actor_user: Option<i64>,
    actor_token: Option<i64>,
    target: String,
    details: serde_json::Value,
    source_ip: String,
}

impl AuditEvent {
    /// A successful `action` from `source`.
    pub fn new(action: AuditAction, source: &Source) -> Self {
        AuditEvent {
            action,
            refused: false,
            actor_user: None,
            actor_token: None,
            target: String::new(),
            details: serde_json::Value::Object(Default::default()),
            source_ip: source.ip.clone(),
        }
    }

    /// The act was refused.
    pub fn refused(mut self) -> Self {
        self.refused = true;
        self
    }

    pub fn by_user(mut self, user_id: i64) -> Self {
        self.actor_user = Some(user_id);
        self
    }

    pub fn by_token(mut self, token_id: i64) -> Self {
        self.actor_token = Some(token_id);
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = target.into();
        self
    }

    /// The source address, when not the request's (summaries of counted refusals).
    pub fn from_address(mut self, ip: impl Into<String>) -> Self {
        self.source_ip = ip.into();
        self
    }

    /// Facts about the act. Never secrets, tokens or e-mail addresses of people refused.
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Appends one act to the audit log (in the caller's transaction when it has one, so
/// the act and its record commit together).
pub async fn record(conn: &mut PgConnection, event: &AuditEvent) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO audit_log
             (action, outcome, actor_user_id, actor_token_id, target, details, source_ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        event.action.as_str(),
        if event.refused { "refused" } else { "ok" },
        event.actor_user,
        event.actor_token,
        event.target,
        event.details,
        event.source_ip,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the sign-in settings a server started with, when they differ from the last
/// ones recorded (replicas starting together record them once: they take a lock).
pub async fn record_settings_if_changed(
    pool: &PgPool,
    settings: serde_json::Value,
) -> Result<bool, AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('warroom_config_changed'))")
        .execute(&mut *tx)
        .await?;
    let last = sqlx::query_scalar!(
        "SELECT details FROM audit_log WHERE action = 'config_changed' ORDER BY id DESC LIMIT 1"
    )
    .fetch_optional(&mut *tx)
    .await?;
    let changed = last.as_ref().and_then(|d| d.get("now")) != Some(&settings);
    if changed {
        let event = AuditEvent::new(AuditAction::ConfigChanged, &Source::default())
            .target("configuration")
            .details(serde_json::json!({
                "before": last.and_then(|mut d| d.get_mut("now").map(serde_json::Value::take)),
                "now": settings,
            }));
        record(&mut tx, &event).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Which entries to read.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub action: Option<AuditAction>,
    pub refused_only: bool,
    pub actor_user: Option<i64>,
    /// Only entries older than this id (paging).
    pub before: Option<i64>,
    pub limit: i64,
}

/// A page of entries, newest first.
pub async fn page(pool: &PgPool, filter: &AuditFilter) -> Result<AuditPage, AppError> {
    let rows = sqlx::query!(
        r#"SELECT a.id, a.at AS "at: DateTime<Utc>", a.action, a.outcome, a.target,
                  a.details, a.source_ip,
                  COALESCE(u.display_name, t.name, '') AS "actor!"
           FROM audit_log a
           LEFT JOIN users u ON u.id = a.actor_user_id
           LEFT JOIN api_tokens t ON t.id = a.actor_token_id
           WHERE ($1::text IS NULL OR a.action = $1)
             AND (NOT $2 OR a.outcome = 'refused')
             AND ($3::bigint IS NULL OR a.actor_user_id = $3)
             AND ($4::bigint IS NULL OR a.id < $4)
           ORDER BY a.id DESC
           LIMIT $5"#,
        filter.action.map(|a| a.as_str()),
        filter.refused_only,
        filter.actor_user,
        filter.before,
        filter.limit + 1,
    )
    .fetch_all(pool)
    .await?;
    let more = rows.len() as i64 > filter.limit;
    let entries: Vec<AuditEntry> = rows
        .into_iter()
        .take(filter.limit as usize)
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at,
            action: r.action,
            refused: r.outcome == "refused",
            actor: r.actor,
            target: r.target,
            details: if r.details.as_object().is_some_and(|o| o.is_empty()) {
                String::new()
            } else {
                r.details.to_string()
            },
            source_ip: r.source_ip,
        })
        .collect();
    Ok(AuditPage {
        older: more.then(|| entries.last().map(|e| e.id)).flatten(),
        entries,
    })
}

/// A secret every replica shares (made by a migration), by name.
pub async fn server_secret(pool: &PgPool, name: &str) -> Result<Vec<u8>, AppError> {
    sqlx::query_scalar!("SELECT secret FROM server_secrets WHERE name = $1", name)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no server secret named {name}")))
}
