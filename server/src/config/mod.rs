//! Settings from the environment (and, for sign-in, a TOML file). Secrets are
//! `SecretString`, redacted in `Debug`.

pub mod auth;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use leptos::prelude::LeptosOptions;
use secrecy::SecretString;

/// How long one webhook call may take by default.
pub const WEBHOOK_DEADLINE: Duration = Duration::from_secs(10);

/// Everything the server is told from outside.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (`WARROOM_ADDR`, else cargo-leptos's `LEPTOS_SITE_ADDR`, else 127.0.0.1:3000).
    pub addr: SocketAddr,
    /// An external Postgres (`DATABASE_URL`); without it Warroom runs its own.
    pub database_url: Option<SecretString>,
    /// The external Postgres as the schema's owner, for migrations only
    /// (`WARROOM_MIGRATION_DATABASE_URL`); `DATABASE_URL` is then the serving role. Without
    /// it `DATABASE_URL` migrates too.
    pub migration_database_url: Option<SecretString>,
    /// Where the embedded Postgres and other local state live (`WARROOM_DATA_DIR`, default `./.warroom`).
    pub data_dir: PathBuf,
    /// Directory of `initdb`/`pg_ctl` (`WARROOM_PG_BIN`), searched for when unset.
    pub pg_bin_dir: Option<PathBuf>,
    /// `WARROOM_DEV_LOGIN=1` asks for the development sign-in; it is honoured on loopback only.
    pub dev_sign_in_requested: bool,
    /// The public URL (`WARROOM_PUBLIC_URL`, e.g. https://warroom.example.com): the only
    /// accepted Origin, and https makes cookies Secure.
    pub public_url: Option<String>,
    /// Conference bridge template (`WARROOM_BRIDGE_URL`), `{id}` and `{slug}` replaced.
    pub bridge_url_template: String,
    /// Maximum database connections (`WARROOM_DB_POOL`, default 20).
    pub db_pool_size: u32,
    /// JSON logs (`WARROOM_LOG_FORMAT=json`).
    pub log_json: bool,
    /// Identity providers, who may sign in, sessions, rate limits.
    pub auth: auth::AuthConfig,
    /// Where the status page keeps its last snapshot (`WARROOM_STATUS_SNAPSHOT`, default
    /// `<data dir>/status-snapshot.json`); `None`: only in memory.
    pub status_snapshot: Option<PathBuf>,
    /// Let status-page subscribers use private, loopback and link-local addresses
    /// (`WARROOM_WEBHOOKS_ALLOW_PRIVATE=1`; for intranets and tests).
    pub webhooks_allow_private: bool,
    /// Host names Warroom answers to besides the public URL's, loopback and the bound
    /// address (`WARROOM_ALLOWED_HOSTS`, comma-separated, `name` or `name:port`).
    pub allowed_hosts: Vec<String>,
    /// Server-function calls one signed-in person may make per minute
    /// (`WARROOM_ACCOUNT_RATE`, default 600).
    pub account_rate_per_minute: u32,
    /// Live room streams one sign-in may hold open at once (`WARROOM_LIVE_STREAMS_PER_SIGN_IN`,
    /// default 10: tabs of one browser; load tests raise it).
    pub live_streams_per_sign_in: i64,
    /// How long one webhook call may take, connecting, sending and reading the answer
    /// together (10 s; tests shorten it).
    pub webhook_deadline: Duration,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self::from_vars(&var)
    }

    /// The configuration from a variable lookup (the environment, or a test's map).
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let addr = var("WARROOM_ADDR")
            .or_else(|| var("LEPTOS_SITE_ADDR"))
            .unwrap_or_else(|| "127.0.0.1:3000".into());
        let public_url = var("WARROOM_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_string());
        if let Some(url) = &public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("WARROOM_PUBLIC_URL must start with http:// or https:// (got {url})");
            }
        }
        let database_url = var("DATABASE_URL");
        let migration_database_url = var("WARROOM_MIGRATION_DATABASE_URL");
        if migration_database_url.is_some() && database_url.is_none() {
            bail!(
                "WARROOM_MIGRATION_DATABASE_URL is set but DATABASE_URL is not: set both for an \
                 external Postgres, or neither for Warroom's own"
            );
        }
        for (name, url) in [
            ("DATABASE_URL", &database_url),
            ("WARROOM_MIGRATION_DATABASE_URL", &migration_database_url),
        ] {
            if let Some(url) = url {
                // Not the URL in the message: it may hold a password.
                url.parse::<sqlx::postgres::PgConnectOptions>()
                    .with_context(|| format!("{name} is not a valid Postgres URL"))?;
            }
        }
        Ok(Config {
            addr: addr
                .parse()
                .with_context(|| format!("WARROOM_ADDR is not an address: {addr}"))?,
            database_url: database_url.map(SecretString::from),
            migration_database_url: migration_database_url.map(SecretString::from),
            data_dir: var("WARROOM_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(".warroom")),
            pg_bin_dir: var("WARROOM_PG_BIN").map(PathBuf::from),
            dev_sign_in_requested: matches!(
                var("WARROOM_DEV_LOGIN").as_deref(),
                Some("1" | "true" | "yes")
            ),
            public_url,
            bridge_url_template: var("WARROOM_BRIDGE_URL")
                .unwrap_or_else(|| "https://meet.jit.si/warroom-{slug}".into()),
            db_pool_size: match var("WARROOM_DB_POOL") {
                Some(n) => n.parse().context("WARROOM_DB_POOL must be a number")?,
                None => 20,
            },
            log_json: var("WARROOM_LOG_FORMAT").as_deref() == Some("json"),
            auth: auth::AuthConfig::load(var)?,
            status_snapshot: Some(
                var("WARROOM_STATUS_SNAPSHOT")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| {
                        PathBuf::from(var("WARROOM_DATA_DIR").unwrap_or_else(|| ".warroom".into()))
                            .join("status-snapshot.json")
                    }),
            ),
            webhooks_allow_private: matches!(
                var("WARROOM_WEBHOOKS_ALLOW_PRIVATE").as_deref(),
                Some("1" | "true" | "yes")
            ),
            allowed_hosts: var("WARROOM_ALLOWED_HOSTS")
                .map(|v| {
                    v.split(',')
                        .map(|h| h.trim().to_string())
                        .filter(|h| !h.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            account_rate_per_minute: match var("WARROOM_ACCOUNT_RATE") {
                Some(n) => n
                    .parse()
                    .context("WARROOM_ACCOUNT_RATE must be a number of calls per minute")?,
                None => 600,
            },
            live_streams_per_sign_in: match var("WARROOM_LIVE_STREAMS_PER_SIGN_IN") {
                Some(n) => n
                    .parse()
                    .context("WARROOM_LIVE_STREAMS_PER_SIGN_IN must be a number")?,
                None => 10,
            },
            webhook_deadline: WEBHOOK_DEADLINE,
        })
    }

    /// A configuration for tests: loopback, development sign-in on, no external database.
    pub fn for_tests() -> Self {
        Config {
            addr: "127.0.0.1:0".parse().expect("loopback address"),
            database_url: None,
            migration_database_url: None,
            data_dir: PathBuf::from(".warroom-test"),
            pg_bin_dir: None,
            dev_sign_in_requested: true,
            public_url: None,
            bridge_url_template: "https://meet.jit.si/warroom-{slug}".into(),
            db_pool_size: 5,
            log_json: false,
            auth: auth::AuthConfig::default(),
            status_snapshot: None,
            webhooks_allow_private: true,
            allowed_hosts: Vec::new(),
            account_rate_per_minute: 600,
            live_streams_per_sign_in: 10,
            webhook_deadline: WEBHOOK_DEADLINE,
        }
        .with_generous_sign_in_rate()
    }

    /// Tests sign many people in from one address within a minute.
    fn with_generous_sign_in_rate(mut self) -> Self {
        self.auth.sign_in_rate_per_minute = 10_000;
        self
    }

    /// The development sign-in is offered only when asked for, and only to a server
    /// reachable from this machine alone: never next to a real identity provider, never
    /// with a public URL (each request is checked again: see `dev_sign_in`).
    pub fn dev_sign_in_enabled(&self, bound: SocketAddr) -> bool {
        self.dev_sign_in_requested
            && bound.ip().is_loopback()
            && self.auth.providers.is_empty()
            && self.public_url.is_none()
    }

    /// HSTS is sent when Warroom is served over https.
    pub fn strict_transport_security(&self) -> bool {
        self.secure_cookies()
    }

    /// Where people reach Warroom: the public URL, else the address it listens on.
    pub fn base_url(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }

    /// Cookies are `Secure` when Warroom is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    /// Leptos's options: cargo-leptos's environment when it runs us, else the defaults of
    /// a `cargo leptos build` in this repository (hashed file names when its hash file
    /// lies beside the binary: see `http::assets::hash_files`).
    pub fn leptos_options(&self, bound: SocketAddr) -> anyhow::Result<LeptosOptions> {
        let env = |name: &str| std::env::var(name).ok();
        let var = |name: &str, default: &str| env(name).unwrap_or_else(|| default.to_string());
        Ok(LeptosOptions::builder()
            .output_name(var("LEPTOS_OUTPUT_NAME", "warroom"))
            .site_root(var("LEPTOS_SITE_ROOT", "target/site"))
            .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR", "pkg"))
            .hash_files(crate::http::assets::hash_files(&env)?)
            .hash_file(crate::http::assets::hash_file_name(&env).into())
            .site_addr(bound)
            .build())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::Config;

    fn load(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(&|name| vars.get(name).cloned())
    }

    #[test]
    fn the_migration_url_is_the_owner_beside_the_serving_database_url() {
        let config = load(&[
            ("DATABASE_URL", "postgres://warroom_app:a@db/warroom"),
            (
                "WARROOM_MIGRATION_DATABASE_URL",
                "postgres://warroom_owner:o@db/warroom",
            ),
        ])
        .unwrap();
        assert_eq!(
            config.migration_database_url.unwrap().expose_secret(),
            "postgres://warroom_owner:o@db/warroom"
        );
        let config = load(&[("DATABASE_URL", "postgres://warroom@db/warroom")]).unwrap();
        assert!(config.migration_database_url.is_none());
    }

    #[test]
    fn a_migration_url_needs_a_database_url() {
        let err = load(&[(
            "WARROOM_MIGRATION_DATABASE_URL",
            "postgres://warroom_owner@db/warroom",
        )])
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("DATABASE_URL is not"),
            "{err:#}"
        );
    }

    #[test]
    fn an_invalid_database_url_is_named_but_not_shown() {
        for name in ["DATABASE_URL", "WARROOM_MIGRATION_DATABASE_URL"] {
            let mut vars = vec![("DATABASE_URL", "postgres://warroom@db/warroom")];
            vars.push((name, "postgres://owner:s3cret@db:port/warroom"));
            let err = format!("{:#}", load(&vars).unwrap_err());
            assert!(
                err.starts_with(&format!("{name} is not a valid Postgres URL")),
                "{err}"
            );
            assert!(!err.contains("s3cret"), "{err}");
        }
    }
}
