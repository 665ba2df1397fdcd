//! People and access: sign-in (identity providers, development sign-in), sessions,
//! roles and invitations.

pub mod api;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod request;
#[cfg(feature = "ssr")]
pub mod store;
