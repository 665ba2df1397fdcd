//! Warroom's HTTP-level tests, one binary (one link instead of ten): the real app on
//! port 0 over a fresh database per test, driven as a browser or an automation client.
//! `outbound_proxy.rs` stays a binary of its own: it sets process-wide environment variables.

mod support;

mod access;
mod api_contract;
mod cli;
mod db_roles;
mod github_sign_in;
mod incident_room;
mod live;
mod metrics;
mod people;
mod security_review;
mod static_assets;
mod status_admin;
mod status_page;
mod status_webhooks;
mod timeline_outbox;
