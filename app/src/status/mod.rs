//! The public status page's domain: components and groups, public updates, maintenance,
//! uptime, subscribers and the status page's branding.

pub mod admin_api;
pub mod api;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod store;
