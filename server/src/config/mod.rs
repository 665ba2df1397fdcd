//! Settings: one typed module per integration, each declaring its variables (with their
//! TOML keys, defaults and docs) in `settings::Setting`s; one `settings::Lookup` reads them
//! from the environment and the TOML file (`WARROOM_CONFIG`). Secrets are `SecretString`,
//! redacted in `Debug` and by `warroom check-config`.

pub mod auth;
pub mod database;
pub mod metrics;
pub mod server;
pub mod settings;
pub mod site;
pub mod status;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use leptos::prelude::LeptosOptions;
use secrecy::SecretString;

use settings::Lookup;

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
    /// The tracing filter (`RUST_LOG`, default `info`).
    pub log_filter: String,
    /// Where `/metrics` is served (`WARROOM_METRICS_ADDR`, off by default).
    pub metrics: metrics::MetricsConfig,
    /// The built front end (`LEPTOS_OUTPUT_NAME`, `LEPTOS_SITE_ROOT`, `LEPTOS_SITE_PKG_DIR`).
    pub site: SiteConfig,
}

/// Where the compiled front end is (see `site`).
#[derive(Debug, Clone)]
pub struct SiteConfig {
    pub output_name: String,
    pub root: String,
    pub pkg_dir: String,
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            output_name: site::OUTPUT_NAME.default.into(),
            root: site::SITE_ROOT.default.into(),
            pkg_dir: site::SITE_PKG_DIR.default.into(),
        }
    }
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self::from_vars(&var)
    }

    /// The configuration from a variable lookup (the environment, or a test's map) and
    /// the TOML file it names.
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        Self::from_lookup(&Lookup::new(var)?)
    }

    pub fn from_lookup(lookup: &Lookup) -> anyhow::Result<Self> {
        use database as db;
        let addr = match lookup.string(&server::ADDR)? {
            Some(addr) => addr,
            None => lookup.string_or_default(&site::SITE_ADDR)?,
        };
        let addr = if addr.is_empty() {
            server::ADDR.default.to_string()
        } else {
            addr
        };
        let public_url = lookup
            .string(&server::PUBLIC_URL)?
            .map(|u| u.trim_end_matches('/').to_string());
        if let Some(url) = &public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("WARROOM_PUBLIC_URL must start with http:// or https:// (got {url})");
            }
        }
        let database_url = lookup.string(&db::DATABASE_URL)?;
        let migration_database_url = lookup.string(&db::MIGRATION_DATABASE_URL)?;
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
        let data_dir = PathBuf::from(lookup.string_or_default(&db::DATA_DIR)?);
        let log_format = lookup.string_or_default(&server::LOG_FORMAT)?;
        let log_json = match log_format.trim() {
            "json" => true,
            "text" => false,
            other => bail!("WARROOM_LOG_FORMAT must be text or json (got {other:?})"),
        };
        let log_filter = lookup.string_or_default(&server::LOG_FILTER)?;
        tracing_subscriber::EnvFilter::try_new(&log_filter)
            .with_context(|| format!("RUST_LOG is not a log filter: {log_filter:?}"))?;
        Ok(Config {
            addr: addr
                .parse()
                .with_context(|| format!("WARROOM_ADDR is not an address: {addr}"))?,
            database_url: database_url.map(SecretString::from),
            migration_database_url: migration_database_url.map(SecretString::from),
            status_snapshot: Some(
                lookup
                    .string(&status::SNAPSHOT)?
                    .map(PathBuf::from)
                    .unwrap_or_else(|| data_dir.join("status-snapshot.json")),
            ),
            data_dir,
            pg_bin_dir: lookup.string(&db::PG_BIN)?.map(PathBuf::from),
            dev_sign_in_requested: lookup.flag(&server::DEV_LOGIN)?,
            public_url,
            bridge_url_template: lookup.string_or_default(&server::BRIDGE_URL)?,
            db_pool_size: lookup.parsed_or_default(&db::POOL, "a number of connections")?,
            log_json,
            auth: auth::AuthConfig::from_lookup(lookup)?,
            webhooks_allow_private: lookup.flag(&status::WEBHOOKS_ALLOW_PRIVATE)?,
            allowed_hosts: lookup.list(&server::ALLOWED_HOSTS)?,
            account_rate_per_minute: lookup
                .parsed_or_default(&server::ACCOUNT_RATE, "a number of calls per minute")?,
            live_streams_per_sign_in: lookup
                .parsed_or_default(&server::LIVE_STREAMS_PER_SIGN_IN, "a number of streams")?,
            webhook_deadline: WEBHOOK_DEADLINE,
            log_filter,
            metrics: metrics::MetricsConfig::load(lookup)?,
            site: SiteConfig {
                output_name: lookup.string_or_default(&site::OUTPUT_NAME)?,
                root: lookup.string_or_default(&site::SITE_ROOT)?,
                pkg_dir: lookup.string_or_default(&site::SITE_PKG_DIR)?,
            },
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
            log_filter: server::LOG_FILTER.default.into(),
            metrics: metrics::MetricsConfig::default(),
            site: SiteConfig::default(),
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

    /// Leptos's options: where the built front end is (cargo-leptos's environment when it
    /// runs us, else the defaults of a `cargo leptos build` in this repository), with
    /// hashed file names when its hash file lies beside the binary (see
    /// `http::assets::hash_files`).
    pub fn leptos_options(&self, bound: SocketAddr) -> anyhow::Result<LeptosOptions> {
        let env = |name: &str| std::env::var(name).ok();
        Ok(LeptosOptions::builder()
            .output_name(self.site.output_name.as_str())
            .site_root(self.site.root.as_str())
            .site_pkg_dir(self.site.pkg_dir.as_str())
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
    fn every_setting_comes_from_the_toml_file_and_the_environment_wins() {
        let dir = std::env::temp_dir().join(format!("warroom-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("warroom.toml");
        std::fs::write(
            &path,
            r#"
[server]
addr = "127.0.0.1:4000"
public_url = "https://warroom.example.com/"
allowed_hosts = ["warroom.internal", "ops:8443"]
bridge_url = "https://bridge.example.com/{slug}"
log_format = "json"
log_filter = "warn"
trust_proxy = true
[database]
url = "postgres://app:file-secret@db/warroom"
data_dir = "/var/lib/warroom"
pool = 33
[limits]
account_rate = 60
live_streams_per_sign_in = 3
sign_in_rate = 5
api_rate = 50
[sessions]
idle_minutes = 30
[status]
webhooks_allow_private = true
[metrics]
addr = "127.0.0.1:9464"
[site]
root = "/srv/site"
"#,
        )
        .unwrap();
        let path = path.to_string_lossy().to_string();
        let config = load(&[("WARROOM_CONFIG", &path), ("WARROOM_DB_POOL", "8")]).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:4000");
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://warroom.example.com")
        );
        assert_eq!(config.allowed_hosts, ["warroom.internal", "ops:8443"]);
        assert_eq!(
            config.bridge_url_template,
            "https://bridge.example.com/{slug}"
        );
        assert!(config.log_json);
        assert_eq!(config.log_filter, "warn");
        assert!(config.auth.trust_proxy);
        assert_eq!(
            config.database_url.as_ref().unwrap().expose_secret(),
            "postgres://app:file-secret@db/warroom"
        );
        assert_eq!(config.data_dir.to_str(), Some("/var/lib/warroom"));
        assert_eq!(
            config.status_snapshot.as_deref().and_then(|p| p.to_str()),
            Some("/var/lib/warroom/status-snapshot.json")
        );
        assert_eq!(config.db_pool_size, 8, "the environment wins");
        assert_eq!(config.account_rate_per_minute, 60);
        assert_eq!(config.live_streams_per_sign_in, 3);
        assert_eq!(config.auth.sign_in_rate_per_minute, 5);
        assert_eq!(config.auth.api_rate_per_minute, 50);
        assert_eq!(config.auth.session_idle, chrono::Duration::minutes(30));
        assert!(config.webhooks_allow_private);
        assert_eq!(config.metrics.addr.unwrap().to_string(), "127.0.0.1:9464");
        assert_eq!(config.site.root, "/srv/site");
        assert_eq!(config.site.output_name, "warroom");
        // Secrets stay out of Debug output, wherever they came from.
        assert!(!format!("{config:?}").contains("file-secret"));

        std::fs::write(dir.join("typo.toml"), "[database]\npool_size = 3\n").unwrap();
        let typo = dir.join("typo.toml").to_string_lossy().to_string();
        let err = format!("{:#}", load(&[("WARROOM_CONFIG", &typo)]).unwrap_err());
        assert!(
            err.contains("unknown setting `database.pool_size`"),
            "{err}"
        );
    }

    #[test]
    fn defaults_are_the_documented_ones_and_bad_values_are_named() {
        let config = load(&[]).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.data_dir.to_str(), Some(".warroom"));
        assert_eq!(
            config.status_snapshot.as_deref().and_then(|p| p.to_str()),
            Some(".warroom/status-snapshot.json")
        );
        assert_eq!(config.db_pool_size, 20);
        assert!(!config.dev_sign_in_requested && !config.log_json);
        assert!(config.metrics.addr.is_none(), "metrics are off by default");
        let config = load(&[("LEPTOS_SITE_ADDR", "127.0.0.1:3999")]).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:3999");
        for (name, value, says) in [
            (
                "WARROOM_DEV_LOGIN",
                "perhaps",
                "WARROOM_DEV_LOGIN must be true or false",
            ),
            ("WARROOM_DB_POOL", "-1", "WARROOM_DB_POOL must be a number"),
            (
                "WARROOM_METRICS_ADDR",
                "9464",
                "WARROOM_METRICS_ADDR must be an address",
            ),
            (
                "WARROOM_LOG_FORMAT",
                "xml",
                "WARROOM_LOG_FORMAT must be text or json",
            ),
            (
                "WARROOM_SESSION_IDLE_MINUTES",
                "0",
                "WARROOM_SESSION_IDLE_MINUTES must be a positive",
            ),
        ] {
            let err = format!("{:#}", load(&[(name, value)]).unwrap_err());
            assert!(err.contains(says), "{name}={value}: {err}");
        }
        assert!(
            load(&[("WARROOM_DEV_LOGIN", "yes")])
                .unwrap()
                .dev_sign_in_requested
        );
    }

    /// Every variable the code knows is in the README's table with the same default, and
    /// every variable the table names is known to the code.
    #[test]
    fn the_readme_settings_table_and_the_code_agree() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
            .expect("README.md");
        let section = readme
            .split("\n## Configuration\n")
            .nth(1)
            .expect("a Configuration section")
            .split("\n## ")
            .next()
            .unwrap();
        let mut documented: HashMap<String, (String, String)> = HashMap::new();
        for row in section.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
            let [variable, key, _meaning, default] = cells[..] else {
                panic!("a settings row has four cells: {row}");
            };
            let variable = variable.trim_matches('`').to_string();
            let default = match default {
                "—" => String::new(),
                other => other.replace('`', ""),
            };
            assert!(
                documented
                    .insert(variable.clone(), (key.replace('`', ""), default))
                    .is_none(),
                "{variable} is in the table twice"
            );
        }
        let known = super::settings::all();
        for setting in &known {
            match documented.get(setting.var) {
                None => panic!("{} is not in the README's settings table", setting.var),
                Some((key, default)) => {
                    assert_eq!(
                        default, setting.default,
                        "the README's default of {} differs from the code's",
                        setting.var
                    );
                    if let Some(code_key) = setting.key {
                        assert_eq!(key, code_key, "the README's file key of {}", setting.var);
                    }
                }
            }
        }
        for variable in documented.keys() {
            assert!(
                known.iter().any(|s| s.var == variable),
                "the README documents {variable}, which the code does not know"
            );
        }
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
