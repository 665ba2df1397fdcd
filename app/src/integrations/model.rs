//! The failure record an admin page shows for one integration target.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The integrations that call out, as stored in `integration_failures.integration`.
pub const STATUS_WEBHOOKS: &str = "status_webhooks";

/// The last failure of one integration at one target (a subscriber, a channel, a
/// repository), since its last success.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetFailure {
    pub integration: String,
    /// The target, named without secrets ("subscriber 12", "C0123456").
    pub target: String,
    pub error: String,
    pub http_status: Option<i16>,
    /// Not retried: it needs someone to fix the target or the settings.
    pub permanent: bool,
    /// Failures in a row.
    pub failures: i32,
    pub first_failed_at: DateTime<Utc>,
    pub last_failed_at: DateTime<Utc>,
}

/// One outcome to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome<'a> {
    pub integration: &'a str,
    pub target: &'a str,
    /// `None`: it worked (the target's failure record goes).
    pub failure: Option<FailureNote<'a>>,
}

/// What failed, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureNote<'a> {
    pub error: &'a str,
    pub http_status: Option<u16>,
    pub permanent: bool,
}
