//! Logging: human-readable by default, JSON lines when asked (`WARROOM_LOG_FORMAT=json`).

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Installs the global subscriber; `filter` (`RUST_LOG`, checked by `Config`) filters.
pub fn init(json: bool, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    if json {
        registry
            .with(fmt::layer().json().flatten_event(true))
            .init();
    } else {
        registry.with(fmt::layer().compact()).init();
    }
}
