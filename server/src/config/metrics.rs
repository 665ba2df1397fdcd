//! Settings of the Prometheus metrics endpoint.

use std::net::SocketAddr;

use super::settings::{Lookup, Setting};

pub const ADDR: Setting = Setting::new(
    "WARROOM_METRICS_ADDR",
    "metrics.addr",
    "off",
    "address of a separate listener serving /metrics (Prometheus text format)",
);

pub const SETTINGS: &[&Setting] = &[&ADDR];

/// Where `/metrics` is served; `None`: nowhere.
#[derive(Debug, Clone, Default)]
pub struct MetricsConfig {
    pub addr: Option<SocketAddr>,
}

impl MetricsConfig {
    pub fn load(lookup: &Lookup) -> anyhow::Result<Self> {
        Ok(MetricsConfig {
            addr: lookup.parsed(&ADDR, "an address such as 127.0.0.1:9100")?,
        })
    }
}
