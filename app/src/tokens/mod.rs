//! API tokens: admin-issued, scoped, hashed at rest, revocable credentials for automation.

pub mod api;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod store;
