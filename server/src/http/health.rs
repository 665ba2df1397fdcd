//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: it can reach Postgres).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use warroom_app::state::AppState;

pub async fn live() -> &'static str {
    "ok"
}

pub async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let ping = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.pool);
    match tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unreachable"),
    }
}
