//! All SQL of the status page, by concern: the admin catalog (components, groups,
//! branding), the public side of incidents (impacts, public updates, privacy),
//! maintenance, subscribers and their deliveries, and the public read the page is built from.

pub mod catalog;
pub mod maintenance;
pub mod public;
pub mod subscribers;
pub mod updates;
