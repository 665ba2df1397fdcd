//! `AppError`: the one error type every server function returns, with its HTTP status.

use serde::{Deserialize, Serialize};
use server_fn_error::{FromServerFnError, JsonEncoding, ServerFnErrorErr};

mod server_fn_error {
    pub use leptos::server_fn::codec::JsonEncoding;
    pub use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

/// The largest request body Warroom reads (server functions and the token API): the
/// largest form (a 20,000-character note) is far below it.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

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
    /// The request itself could not be read (missing or unparsable arguments).
    #[error("The request was malformed: {0}")]
    Malformed(String),
    /// The request is larger than Warroom accepts.
    #[error("{0}")]
    TooLarge(String),
    /// Too many requests in a short time.
    #[error("{0}")]
    TooMany(String),
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

    /// A request body over [`MAX_REQUEST_BYTES`].
    pub fn too_large() -> Self {
        AppError::TooLarge(format!(
            "The request is too large: Warroom accepts at most {} KiB.",
            MAX_REQUEST_BYTES / 1024
        ))
    }

    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::Validation { .. } => 422,
            AppError::Conflict(_) => 409,
            AppError::Malformed(_) => 400,
            AppError::TooLarge(_) => 413,
            AppError::TooMany(_) => 429,
            AppError::Internal(_) => 500,
            AppError::Transport(_) => 502,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let text = value.to_string();
        if text.contains("length limit exceeded") {
            return AppError::too_large();
        }
        match value {
            ServerFnErrorErr::Args(message) => AppError::Malformed(message),
            ServerFnErrorErr::MissingArg(name) => {
                AppError::Malformed(format!("the argument {name} is missing"))
            }
            _ => AppError::Transport(text),
        }
    }
}

#[cfg(feature = "ssr")]
mod server {
    use super::{posted_by_a_plain_form, AppError};

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

    /// A plain-text answer: the error's status and its message (what the live stream and
    /// sign-in routes answer; the token API wraps errors in JSON instead, see the server's
    /// `ApiError`).
    impl axum::response::IntoResponse for AppError {
        fn into_response(self) -> axum::response::Response {
            let status = http::StatusCode::from_u16(self.status_code())
                .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
            (status, self.to_string()).into_response()
        }
    }

    /// Sets the response status of the current server function call from its outcome.
    /// Not for a form posted by a browser without JavaScript: Leptos answers that with a
    /// redirect back to the form's page carrying the error, which a status would replace.
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(err) = &result {
            if posted_by_a_plain_form() {
                return result;
            }
            if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                if let Ok(status) = http::StatusCode::from_u16(err.status_code()) {
                    options.set_status(status);
                }
            }
        }
        result
    }
}

/// Whether the current server function call is an HTML form posted without JavaScript
/// (it asks for a page back, not data).
#[cfg(feature = "ssr")]
fn posted_by_a_plain_form() -> bool {
    // Pages call server functions while rendering, within their GET: not a form post.
    leptos::prelude::use_context::<http::request::Parts>().is_some_and(|parts| {
        parts.method == http::Method::POST
            && parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
    })
}

#[cfg(feature = "ssr")]
pub use server::respond;
