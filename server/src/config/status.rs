//! Settings of the public status page and its subscribers' webhooks.

use super::settings::Setting;

pub const SNAPSHOT: Setting = Setting::new(
    "WARROOM_STATUS_SNAPSHOT",
    "status.snapshot",
    "$WARROOM_DATA_DIR/status-snapshot.json",
    "file keeping the status page's last data for Postgres outages",
);
pub const WEBHOOKS_ALLOW_PRIVATE: Setting = Setting::new(
    "WARROOM_WEBHOOKS_ALLOW_PRIVATE",
    "status.webhooks_allow_private",
    "off",
    "status subscribers may be on private, loopback or link-local addresses",
);

pub const SETTINGS: &[&Setting] = &[&SNAPSHOT, &WEBHOOKS_ALLOW_PRIVATE];
