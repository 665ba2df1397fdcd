//! Server functions for signing in and out and for "who am I".

use leptos::prelude::*;

use super::model::Person;
use crate::error::AppError;

#[cfg(feature = "ssr")]
pub use server_only::*;

#[cfg(feature = "ssr")]
mod server_only {
    use super::*;
    use crate::state::AppState;

    /// The state and the signed-in person behind a server function call.
    pub struct Caller {
        pub state: AppState,
        pub person: Person,
    }

    impl Caller {
        /// Requires a signed-in person.
        pub async fn signed_in() -> Result<Caller, AppError> {
            let state = AppState::current()?;
            let session = session().await?;
            match super::super::store::session_person(&session, &state.pool).await? {
                Some(person) => Ok(Caller { state, person }),
                None => Err(AppError::Unauthorized),
            }
        }
    }

    pub async fn session() -> Result<tower_sessions::Session, AppError> {
        leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map_err(|e| AppError::internal(anyhow::anyhow!("session layer missing: {e}")))
    }
}

/// The signed-in person, or `None`.
#[server(endpoint = "me")]
pub async fn get_me() -> Result<Option<Person>, AppError> {
    crate::error::respond(
        async {
            let state = crate::state::AppState::current()?;
            super::store::session_person(&session().await?, &state.pool).await
        }
        .await,
    )
}

/// Whether the local development sign-in is offered.
#[server(endpoint = "dev_sign_in_enabled")]
pub async fn dev_sign_in_enabled() -> Result<bool, AppError> {
    Ok(crate::state::AppState::current()?.settings.dev_sign_in)
}

/// Local development sign-in: "continue as <name>". Refused unless enabled by
/// configuration (the server only enables it when it listens on loopback).
#[server(endpoint = "dev_sign_in")]
pub async fn dev_sign_in(name: String) -> Result<(), AppError> {
    crate::error::respond(
        async {
            let state = crate::state::AppState::current()?;
            if !state.settings.dev_sign_in {
                return Err(AppError::Forbidden);
            }
            let name = super::model::SignInName::parse(&name)?;
            let person =
                super::store::upsert_by_handle(&mut *state.pool.acquire().await?, &name).await?;
            super::store::sign_in(&session().await?, &person).await?;
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
    crate::error::respond(
        async {
            super::store::sign_out(&session().await?).await?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}
