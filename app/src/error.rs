//! `AppError`: the one error type every server function returns, with its HTTP status.

use serde::{Deserialize, Serialize};
use server_fn_error::{FromServerFnError, JsonEncoding, ServerFnErrorErr};

mod server_fn_error {
    pub use leptos::server_fn::codec::JsonEncoding;
    pub use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

/// What went wrong, in words a responder can act on. Internal details never leave the
/// server: `Internal` carries only a reference to find the logged cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Not found: {0}.")]
    NotFound(String),
    #[error("Please sign in first.")]
    Unauthorized,
    #[error("You are not allowed to do that.")]
    Forbidden,
    #[error("{message}")]
    Validation { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("Something went wrong on the server (reference {0}). Please try again.")]
    Internal(String),
    #[error("Could not reach Warroom: {0}")]
    Transport(String),
}

impl AppError {
    /// A rejected input, naming the field so forms can point at it.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::Validation { .. } => 422,
            AppError::Conflict(_) => 409,
            AppError::Internal(_) => 500,
            AppError::Transport(_) => 502,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                AppError::invalid("request", format!("The request was malformed: {message}"))
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod server {
    use super::AppError;

    impl AppError {
        /// Logs the cause once, with a reference the user can quote, and hides it.
        pub fn internal(cause: anyhow::Error) -> Self {
            let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
            tracing::error!(error.reference = %reference, error = ?cause, "internal error");
            AppError::Internal(reference)
        }
    }

    impl From<sqlx::Error> for AppError {
        fn from(err: sqlx::Error) -> Self {
            match err {
                sqlx::Error::RowNotFound => AppError::NotFound("no such record".into()),
                other => AppError::internal(anyhow::Error::new(other)),
            }
        }
    }

    impl From<anyhow::Error> for AppError {
        fn from(err: anyhow::Error) -> Self {
            match err.downcast::<AppError>() {
                Ok(app) => app,
                Err(err) => AppError::internal(err),
            }
        }
    }

    /// Sets the response status of the current server function call from its outcome.
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(err) = &result {
            if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                if let Ok(status) = http::StatusCode::from_u16(err.status_code()) {
                    options.set_status(status);
                }
            }
        }
        result
    }
}

#[cfg(feature = "ssr")]
pub use server::respond;
