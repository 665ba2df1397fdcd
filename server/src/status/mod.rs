//! The public status page on the server: its HTML, feeds and Statuspage-compatible JSON,
//! each rendered from one `PublicData` snapshot.

pub mod feeds;
pub mod pages;
pub mod routes;
pub mod site;
pub mod v2;
