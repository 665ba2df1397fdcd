//! What Warroom's integrations (status-page webhooks now; Slack, GitHub and alert
//! sources next) last failed at, per target, for their admin pages.

pub mod model;
#[cfg(feature = "ssr")]
pub mod store;
