//! Server-side state shared by every request: options, database pool and settings.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;

/// Settings the application reads at request time (the server builds them from its config).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Offer "continue as <name>" sign-in (local development only).
    pub dev_sign_in: bool,
    /// Conference bridge URL with `{id}` and `{slug}` placeholders.
    pub bridge_url_template: String,
    /// The configured identity providers, for the sign-in page.
    pub providers: Vec<crate::auth::model::ProviderChoice>,
    /// Who may sign in and who is admin by configuration.
    pub access: crate::auth::model::AccessPolicy,
    /// A sign-in unused this long is over.
    pub session_idle: chrono::Duration,
    /// A sign-in is over this long after it started, however busy.
    pub session_lifetime: chrono::Duration,
    /// Believe the last `X-Forwarded-For` hop (Warroom runs behind a proxy).
    pub trust_proxy: bool,
    /// Calls one signed-in person may make per minute (all browsers, every replica).
    pub account_rate_per_minute: u32,
    /// Sign-in attempts per source address and minute (also the development sign-in).
    pub sign_in_rate_per_minute: u32,
}

impl Settings {
    /// The conference bridge of one incident.
    pub fn bridge_url(&self, incident_id: i64, title: &str) -> String {
        let slug = crate::incidents::model::bridge_slug(incident_id, title);
        self.bridge_url_template
            .replace("{id}", &incident_id.to_string())
            .replace("{slug}", &slug)
    }
}

/// Everything a handler or server function needs, cheap to clone.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    /// Background jobs enqueued inside request transactions.
    pub jobs: crate::jobs::Jobs,
}

impl AppState {
    /// The state inside a server function (provided by `leptos_routes_with_context`).
    pub fn current() -> Result<Self, crate::error::AppError> {
        leptos::prelude::use_context::<AppState>().ok_or_else(|| {
            crate::error::AppError::internal(anyhow::anyhow!("AppState missing from context"))
        })
    }
}
