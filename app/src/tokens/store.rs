//! SQL of API tokens: issue, list, revoke, and authenticate a presented secret.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

use super::model::{NewToken, Scope, TokenInfo, TokenName};
use crate::auth::model::Person;
use crate::error::AppError;

/// Every secret starts with this, so scanners (and people) recognise a leaked one.
pub const SECRET_PREFIX: &str = "wr_";
/// How much of the secret the admin page shows.
const SHOWN_CHARS: usize = 10;

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Issues a token with its own service account (so its acts are named on timelines).
/// `created_by` is the admin who issued it; `None` when it was made from the command line
/// (`warroom token create`), where nobody is signed in: its service account stands in.
pub async fn create(
    conn: &mut PgConnection,
    name: &TokenName,
    scopes: &[Scope],
    expires_at: Option<DateTime<Utc>>,
    created_by: Option<i64>,
) -> Result<NewToken, AppError> {
    let secret = format!("{SECRET_PREFIX}{}", crate::random::token::<32>());
    let account_id = sqlx::query_scalar!(
        "INSERT INTO users (display_name, kind, role) VALUES ($1, 'token', 'viewer') RETURNING id",
        format!("{} (API token)", name.as_str()),
    )
    .fetch_one(&mut *conn)
    .await?;
    let scopes: Vec<String> = scopes.iter().map(|s| s.as_str().to_string()).collect();
    let id = sqlx::query_scalar!(
        "INSERT INTO api_tokens (name, prefix, secret_hash, scopes, account_id, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        name.as_str(),
        &secret[..SHOWN_CHARS],
        hash(&secret),
        &scopes,
        account_id,
        created_by.unwrap_or(account_id),
        expires_at as _,
    )
    .fetch_one(conn)
    .await?;
    Ok(NewToken {
        id,
        name: name.as_str().to_string(),
        secret,
    })
}

/// Every token, live ones first.
pub async fn list(pool: &PgPool) -> Result<Vec<TokenInfo>, AppError> {
    Ok(sqlx::query_as!(
        TokenInfo,
        r#"SELECT t.id, t.name, t.prefix, t.scopes, u.display_name AS created_by,
                  t.created_at AS "created_at: DateTime<Utc>",
                  t.expires_at AS "expires_at: DateTime<Utc>",
                  t.revoked_at AS "revoked_at: DateTime<Utc>",
                  t.last_used_at AS "last_used_at: DateTime<Utc>",
                  t.last_used_ip
           FROM api_tokens t JOIN users u ON u.id = t.created_by
           ORDER BY (t.revoked_at IS NULL) DESC, t.created_at DESC"#
    )
    .fetch_all(pool)
    .await?)
}

/// Revokes a token; returns its name, or `None` if it does not exist or was revoked.
pub async fn revoke(
    conn: &mut PgConnection,
    id: i64,
    revoked_by: i64,
) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar!(
        "UPDATE api_tokens SET revoked_at = now(), revoked_by = $2
         WHERE id = $1 AND revoked_at IS NULL RETURNING name",
        id,
        revoked_by,
    )
    .fetch_optional(conn)
    .await?)
}

/// A token that was presented and is valid.
#[derive(Clone, Debug)]
pub struct TokenHolder {
    pub token_id: i64,
    pub name: String,
    /// The token's service account, named on what it does.
    pub account: Person,
    pub scopes: Vec<Scope>,
    /// Whether this is the token's first use of the day (UTC): the one use a day the
    /// audit log records (refusals are each recorded, see `limits::record_refusal`).
    pub first_use_today: bool,
}

impl TokenHolder {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Looks a presented secret up by its hash; revoked, expired and unknown secrets all
/// answer `None` alike. A hit records when and from where the token was used, to the
/// minute: calls within a minute of the recorded use, from the same address and on the
/// same day, write nothing (an automation calling many times a second would otherwise
/// update the row on every call).
pub async fn authenticate(
    conn: &mut PgConnection,
    secret: &str,
    source_ip: &str,
) -> Result<Option<TokenHolder>, AppError> {
    if !secret.starts_with(SECRET_PREFIX) || secret.len() > 100 {
        return Ok(None);
    }
    let row = sqlx::query!(
        r#"SELECT t.id, t.name, t.scopes, u.id AS account_id, u.display_name,
                  (t.last_used_at IS NULL OR t.last_used_at < date_trunc('day', now(), 'UTC'))
                      AS "new_day!",
                  (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute'
                   OR t.last_used_ip IS DISTINCT FROM $2) AS "stale!"
           FROM api_tokens t JOIN users u ON u.id = t.account_id
           WHERE t.secret_hash = $1 AND t.revoked_at IS NULL
             AND (t.expires_at IS NULL OR t.expires_at > now())"#,
        hash(secret),
        source_ip,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let first_use_today = if row.new_day {
        first_use_of_day(&mut *conn, row.id, source_ip).await?
    } else {
        if row.stale {
            touch(&mut *conn, row.id, source_ip).await?;
        }
        false
    };
    Ok(Some(TokenHolder {
        token_id: row.id,
        name: row.name,
        account: Person {
            id: row.account_id,
            name: row.display_name,
        },
        scopes: row
            .scopes
            .iter()
            .filter_map(|s| Scope::parse(s).ok())
            .collect(),
        first_use_today,
    }))
}

/// Records a use that may be the token's first of the day; `true` if it was. Of two
/// first calls at once only one is: the second waits for the first's row lock and then
/// no longer matches.
async fn first_use_of_day(
    conn: &mut PgConnection,
    token_id: i64,
    source_ip: &str,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        "UPDATE api_tokens SET last_used_at = now(), last_used_ip = $2
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < date_trunc('day', now(), 'UTC'))
         RETURNING id",
        token_id,
        source_ip,
    )
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// Records when and from where a token was last used.
async fn touch(conn: &mut PgConnection, token_id: i64, source_ip: &str) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE api_tokens SET last_used_at = now(), last_used_ip = $2 WHERE id = $1",
        token_id,
        source_ip,
    )
    .execute(conn)
    .await?;
    Ok(())
}
