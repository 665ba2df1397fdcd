//! Server function for reading the audit log (admins only).

use leptos::prelude::*;

use super::model::AuditPage;
use crate::error::AppError;

#[cfg(feature = "ssr")]
use {
    super::model::AuditAction, super::store, crate::auth::api::Caller,
    crate::auth::model::Capability, crate::error::respond,
};

/// A page of the audit log, newest first. Empty `action` = every action; `actor` 0 =
/// anyone; `before` 0 = from the newest.
#[server(endpoint = "audit_log")]
pub async fn get_audit_log(
    action: String,
    refused_only: bool,
    actor: i64,
    before: i64,
) -> Result<AuditPage, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let action = match action.trim() {
                "" => None,
                other => Some(AuditAction::parse(other).ok_or_else(|| {
                    AppError::invalid("action", format!("Unknown action {other:?}."))
                })?),
            };
            let filter = store::AuditFilter {
                action,
                refused_only,
                actor_user: (actor > 0).then_some(actor),
                before: (before > 0).then_some(before),
                limit: 100,
            };
            store::page(&caller.state.pool, &filter).await
        }
        .await,
    )
}
