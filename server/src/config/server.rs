//! Settings of the HTTP server: where it listens, which names and origin it answers to,
//! logging, the development sign-in and per-person limits.

use super::settings::Setting;

pub const ADDR: Setting = Setting::new(
    "WARROOM_ADDR",
    "server.addr",
    "127.0.0.1:3000",
    "listen address (else cargo-leptos's LEPTOS_SITE_ADDR)",
);
pub const PUBLIC_URL: Setting = Setting::new(
    "WARROOM_PUBLIC_URL",
    "server.public_url",
    "",
    "public URL: the only accepted Origin; https:// makes cookies Secure and sends HSTS",
);
pub const ALLOWED_HOSTS: Setting = Setting::new(
    "WARROOM_ALLOWED_HOSTS",
    "server.allowed_hosts",
    "",
    "host names (name or name:port) Warroom also answers to",
);
pub const BRIDGE_URL: Setting = Setting::new(
    "WARROOM_BRIDGE_URL",
    "server.bridge_url",
    "https://meet.jit.si/warroom-{slug}",
    "conference bridge template, {id} and {slug} replaced",
);
pub const DEV_LOGIN: Setting = Setting::new(
    "WARROOM_DEV_LOGIN",
    "server.dev_login",
    "off",
    "offer the development sign-in (loopback only, no public URL, no provider)",
);
pub const LOG_FORMAT: Setting = Setting::new(
    "WARROOM_LOG_FORMAT",
    "server.log_format",
    "text",
    "`json` for JSON log lines",
);
pub const LOG_FILTER: Setting = Setting::new(
    "RUST_LOG",
    "server.log_filter",
    "info",
    "log filter (tracing-subscriber's EnvFilter syntax)",
);
pub const ACCOUNT_RATE: Setting = Setting::new(
    "WARROOM_ACCOUNT_RATE",
    "limits.account_rate",
    "600",
    "server-function calls one signed-in person may make per minute",
);
pub const LIVE_STREAMS_PER_SIGN_IN: Setting = Setting::new(
    "WARROOM_LIVE_STREAMS_PER_SIGN_IN",
    "limits.live_streams_per_sign_in",
    "10",
    "live room streams one sign-in may hold open at once",
);

pub const SETTINGS: &[&Setting] = &[
    &ADDR,
    &PUBLIC_URL,
    &ALLOWED_HOSTS,
    &BRIDGE_URL,
    &DEV_LOGIN,
    &LOG_FORMAT,
    &LOG_FILTER,
    &ACCOUNT_RATE,
    &LIVE_STREAMS_PER_SIGN_IN,
];
