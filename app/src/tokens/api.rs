//! Server functions for API tokens (admins only).

use leptos::prelude::*;

use super::model::{NewToken, TokenInfo};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use {
    super::model::{expiry, Scope, TokenName},
    super::store,
    crate::audit::model::AuditAction,
    crate::audit::store::record,
    crate::auth::api::Caller,
    crate::auth::model::Capability,
    crate::error::respond,
};

/// Every token (never their secrets).
#[server(endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenInfo>, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            store::list(&caller.state.pool).await
        }
        .await,
    )
}

/// Issues a token; the answer carries its secret, which is never shown again.
/// `expires_in_days` 0 means it does not expire.
#[server(endpoint = "create_token")]
pub async fn create_token(
    name: String,
    #[server(default)] scopes: Vec<String>,
    expires_in_days: u32,
) -> Result<NewToken, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let name = TokenName::parse(&name)?;
            let scopes = Scope::parse_list(&scopes)?;
            let expires_at = expiry(expires_in_days, chrono::Utc::now())?;
            let mut tx = caller.state.pool.begin().await?;
            let token =
                store::create(&mut tx, &name, &scopes, expires_at, Some(caller.person.id)).await?;
            let event = caller
                .audit(AuditAction::TokenCreated)
                .target(format!("token {}", token.id))
                .details(serde_json::json!({
                    "name": token.name,
                    "scopes": scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                    "expires_at": expires_at,
                }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            Ok(token)
        }
        .await,
    )
}

/// Revokes a token at once, on every replica.
#[server(endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let mut tx = caller.state.pool.begin().await?;
            let name = store::revoke(&mut tx, id, caller.person.id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("live token {id}")))?;
            let event = caller
                .audit(AuditAction::TokenRevoked)
                .target(format!("token {id}"))
                .details(serde_json::json!({ "name": name }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            Ok(())
        }
        .await,
    )
}
