//! The incident timeline: the ordered, append-only record every change to an incident
//! writes, and the outbox the integrations read (each append queues its entry for them in
//! the same transaction). Each domain owns its events; this module joins them.

pub mod model;
#[cfg(feature = "ssr")]
pub mod store;
