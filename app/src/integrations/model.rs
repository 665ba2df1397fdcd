//! What is recorded of one call to an integration target.

/// The integrations that call out, as stored in `integration_failures.integration`.
pub const STATUS_WEBHOOKS: &str = "status_webhooks";

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
