//! People and sign-in: the `users` table, sessions and the local development sign-in.

pub mod api;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod store;
