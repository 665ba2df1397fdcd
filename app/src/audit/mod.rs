//! The audit log: an append-only record of security-relevant acts, readable by admins.

pub mod api;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod store;
