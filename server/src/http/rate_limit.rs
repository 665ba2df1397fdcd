//! Per-source rate limits for HTTP routes (sign-in, the token API), on the shared
//! Postgres counters of `warroom_app::limits` (closed by `clock`).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use warroom_app::audit::model::AuditAction;
use warroom_app::audit::store::{record, AuditEvent};
use warroom_app::auth::request::Source;
use warroom_app::state::AppState;

use warroom_app::limits::{self, Verdict};

/// Counts this request against `limit` per minute for its source in `bucket`; `Some`
/// answer (429 + Retry-After) when over it. The first refusal of a minute is audited.
pub async fn rate_limited(
    state: &AppState,
    bucket: &str,
    limit: u32,
    source: &Source,
) -> Option<Response> {
    match limits::hit(&state.pool, &format!("{bucket}:{}", source.ip), limit).await {
        Ok(Verdict::Allowed) => None,
        Ok(Verdict::Limited { first, retry_after }) => {
            if first {
                let event = AuditEvent::new(AuditAction::RateLimited, source)
                    .refused()
                    .target(bucket);
                if let Ok(mut conn) = state.pool.acquire().await {
                    let _ = record(&mut conn, &event).await;
                }
            }
            Some(
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, retry_after.to_string())],
                    "Too many attempts from your address. Wait a minute and try again.",
                )
                    .into_response(),
            )
        }
        Err(err) => {
            // Refusing everyone because the counter failed would be worse than not counting.
            tracing::warn!(error = %err, "rate limit check failed");
            None
        }
    }
}
