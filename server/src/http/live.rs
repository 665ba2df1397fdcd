//! `GET /live/incidents/{id}`: the Server-Sent Events stream of one incident room.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use tower_sessions::Session;
use warroom_app::auth::model::Capability;
use warroom_app::auth::store::{active_sign_in, session_sign_in};
use warroom_app::error::AppError;
use warroom_app::state::AppState;

use crate::live::{LiveHub, Opened, StreamOwner};

#[derive(Deserialize)]
pub struct StreamQuery {
    /// Replay entries after this id (the page's last entry). `Last-Event-ID` wins.
    after: Option<i64>,
}

pub async fn incident_stream(
    State(state): State<AppState>,
    Extension(hub): Extension<Arc<LiveHub>>,
    session: Session,
    Path(incident_id): Path<i64>,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(sign_in) = session_sign_in(&session).await? else {
        return Err(AppError::Unauthorized);
    };
    let me = active_sign_in(&state.pool, sign_in, state.settings.session_idle)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if !me.can(Capability::ReadIncidents) {
        return Err(AppError::Forbidden);
    }
    let owner = StreamOwner {
        user_id: me.person.id,
        sign_in,
    };
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let after = last_event_id.or(query.after);
    match hub.open_stream(incident_id, owner, after).await? {
        Opened::Stream(stream) => {
            let mut response = Sse::new(stream)
                .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
                .into_response();
            // Tell buffering proxies to pass events through at once.
            response
                .headers_mut()
                .insert("x-accel-buffering", HeaderValue::from_static("no"));
            Ok(response)
        }
        Opened::NoSuchIncident => Err(AppError::NotFound(format!("incident {incident_id}"))),
        Opened::TooManyStreams => Err(AppError::TooMany(format!(
            "This browser already follows {} live rooms: close some tabs and reload.",
            hub.limits().per_sign_in
        ))),
    }
}
