//! The incident room: declaring, status and severity, roles, the live timeline.

pub mod api;
#[cfg(feature = "hydrate")]
pub mod live;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod store;
