//! Sign-in settings: identity providers, who may sign in, session lifetimes, rate limits.
//! From the TOML file named by `WARROOM_CONFIG` and/or the environment (which adds to it).

use anyhow::{bail, Context};
use secrecy::SecretString;
use serde::Deserialize;
use warroom_app::auth::model::{AccessPolicy, Role};

use super::settings::{parse_flag, Lookup, Setting};

pub const DEFAULT_ROLE: Setting = Setting::new(
    "WARROOM_DEFAULT_ROLE",
    "access.default_role",
    "viewer",
    "role of people admitted by an allow-list",
);
pub const ADMINS: Setting = Setting::new(
    "WARROOM_ADMINS",
    "access.admins",
    "",
    "addresses that are always allowed and always admin",
);
pub const ALLOWED_DOMAINS: Setting = Setting::new(
    "WARROOM_ALLOWED_DOMAINS",
    "access.allowed_domains",
    "",
    "e-mail domains whose people may sign in",
);
pub const ALLOWED_EMAILS: Setting = Setting::new(
    "WARROOM_ALLOWED_EMAILS",
    "access.allowed_emails",
    "",
    "addresses that may sign in",
);
pub const ALLOWED_GITHUB_ORGS: Setting = Setting::new(
    "WARROOM_ALLOWED_GITHUB_ORGS",
    "access.allowed_github_orgs",
    "",
    "GitHub organisations whose members may sign in",
);
pub const SESSION_IDLE_MINUTES: Setting = Setting::new(
    "WARROOM_SESSION_IDLE_MINUTES",
    "sessions.idle_minutes",
    "1440",
    "a sign-in ends when unused this long",
);
pub const SESSION_LIFETIME_HOURS: Setting = Setting::new(
    "WARROOM_SESSION_LIFETIME_HOURS",
    "sessions.lifetime_hours",
    "168",
    "a sign-in ends this long after it began",
);
pub const SIGN_IN_RATE: Setting = Setting::new(
    "WARROOM_SIGN_IN_RATE",
    "limits.sign_in_rate",
    "30",
    "sign-in starts and callbacks per source address and minute",
);
pub const API_RATE: Setting = Setting::new(
    "WARROOM_API_RATE",
    "limits.api_rate",
    "600",
    "token API requests per source address and minute",
);
pub const TRUST_PROXY: Setting = Setting::new(
    "WARROOM_TRUST_PROXY",
    "server.trust_proxy",
    "off",
    "the last X-Forwarded-For hop is the client address",
);
/// Per identity provider (`<KIND>`: GITHUB, GOOGLE, SLACK or OIDC); in the file, each
/// `[[providers]]` entry says the same.
pub const PROVIDER_CLIENT_ID: Setting = Setting::new(
    "WARROOM_<KIND>_CLIENT_ID",
    "",
    "",
    "sign-in with that provider: its OAuth client id",
);
pub const PROVIDER_CLIENT_SECRET: Setting = Setting::new(
    "WARROOM_<KIND>_CLIENT_SECRET",
    "",
    "",
    "its OAuth client secret",
)
.secret();
pub const PROVIDER_NAME: Setting = Setting::new(
    "WARROOM_<KIND>_NAME",
    "",
    "the kind's name",
    "what its sign-in button says after \"Continue with\"",
);
pub const PROVIDER_ISSUER: Setting = Setting::new(
    "WARROOM_<KIND>_ISSUER",
    "",
    "",
    "OpenID Connect issuer (discovery); needed by OIDC",
);
pub const PROVIDER_URL: Setting = Setting::new(
    "WARROOM_<KIND>_URL",
    "",
    "https://github.com",
    "GitHub's web URL (GitHub Enterprise)",
);
pub const PROVIDER_API_URL: Setting = Setting::new(
    "WARROOM_<KIND>_API_URL",
    "",
    "https://api.github.com",
    "GitHub's API URL (GitHub Enterprise)",
);
pub const PROVIDER_TRUST_EMAIL: Setting = Setting::new(
    "WARROOM_<KIND>_TRUST_EMAIL",
    "",
    "true for a sole provider, false next to others",
    "trust its verified addresses to find accounts and apply WARROOM_ADMINS",
);

pub const SETTINGS: &[&Setting] = &[
    &DEFAULT_ROLE,
    &ADMINS,
    &ALLOWED_DOMAINS,
    &ALLOWED_EMAILS,
    &ALLOWED_GITHUB_ORGS,
    &SESSION_IDLE_MINUTES,
    &SESSION_LIFETIME_HOURS,
    &SIGN_IN_RATE,
    &API_RATE,
    &TRUST_PROXY,
    &PROVIDER_CLIENT_ID,
    &PROVIDER_CLIENT_SECRET,
    &PROVIDER_NAME,
    &PROVIDER_ISSUER,
    &PROVIDER_URL,
    &PROVIDER_API_URL,
    &PROVIDER_TRUST_EMAIL,
];

/// A configured identity provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// URL segment (`/auth/{key}/…`) and the name identities are stored under.
    pub key: String,
    /// What the sign-in button says after "Continue with".
    pub name: String,
    pub kind: ProviderKind,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Trust this provider's verified addresses to find an existing account by e-mail and
    /// to apply `WARROOM_ADMINS` (`trust_email`, `WARROOM_<KIND>_TRUST_EMAIL`). By default
    /// only a sole provider is trusted: then it already decides who everyone is, and
    /// accounts carry over when an organisation moves to another provider; next to
    /// others, the weakest provider (any that lets people claim an address another
    /// provider's user signs in with) would decide who is who, and who is admin.
    pub trust_email: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderKind {
    /// GitHub (OAuth2, not OIDC): accounts, verified e-mails and organisations come from
    /// its REST API. The URLs differ for GitHub Enterprise Server.
    GitHub { web_url: String, api_url: String },
    /// Any OpenID Connect provider by issuer (Google and Slack are presets).
    Oidc { issuer: String },
}

/// Everything about signing in.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub providers: Vec<ProviderConfig>,
    pub access: AccessPolicy,
    pub session_idle: chrono::Duration,
    pub session_lifetime: chrono::Duration,
    /// Believe `X-Forwarded-For` (`WARROOM_TRUST_PROXY=1`).
    pub trust_proxy: bool,
    /// Sign-in starts and callbacks per source address and minute.
    pub sign_in_rate_per_minute: u32,
    /// API requests per source address and minute.
    pub api_rate_per_minute: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            providers: Vec::new(),
            access: AccessPolicy::default(),
            session_idle: chrono::Duration::minutes(SESSION_IDLE_MINUTES.default_value()),
            session_lifetime: chrono::Duration::hours(SESSION_LIFETIME_HOURS.default_value()),
            trust_proxy: false,
            sign_in_rate_per_minute: SIGN_IN_RATE.default_value(),
            api_rate_per_minute: API_RATE.default_value(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAccess {
    #[serde(default)]
    admins: Vec<String>,
    #[serde(default)]
    allowed_domains: Vec<String>,
    #[serde(default)]
    allowed_emails: Vec<String>,
    #[serde(default)]
    allowed_github_orgs: Vec<String>,
    default_role: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProvider {
    /// github, google, slack or oidc.
    kind: String,
    key: Option<String>,
    name: Option<String>,
    client_id: String,
    /// The secret itself, or…
    client_secret: Option<String>,
    /// …the name of the environment variable holding it (keeps secrets out of the file).
    client_secret_env: Option<String>,
    issuer: Option<String>,
    github_url: Option<String>,
    github_api_url: Option<String>,
    trust_email: Option<bool>,
}

/// What `provider_from` needs, whichever source it came from.
struct ProviderSource {
    kind: String,
    key: Option<String>,
    name: Option<String>,
    client_id: String,
    client_secret: String,
    issuer: Option<String>,
    github_url: Option<String>,
    github_api_url: Option<String>,
}

/// Splits a comma-separated list, trimmed, lower-cased, empties dropped.
fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|v| v.trim().to_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

impl AuthConfig {
    /// Reads the TOML file (if `WARROOM_CONFIG` names one), then the environment.
    pub fn load(var: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        Self::from_lookup(&Lookup::new(var)?)
    }

    /// The sign-in settings from the file and the environment (which adds to its lists).
    pub fn from_lookup(lookup: &Lookup) -> anyhow::Result<Self> {
        let access: FileAccess = lookup.section("access")?;
        let providers: Vec<FileProvider> = lookup.section("providers")?;
        let mut config = AuthConfig::default();
        let lower = |v: Vec<String>| v.into_iter().map(|s| s.trim().to_lowercase()).collect();
        config.access = AccessPolicy {
            admins: lower(access.admins),
            allowed_domains: lower(access.allowed_domains),
            allowed_emails: lower(access.allowed_emails),
            allowed_github_orgs: lower(access.allowed_github_orgs),
            default_role: None,
        };
        if let Some(role) = lookup.env(DEFAULT_ROLE.var).or(access.default_role) {
            config.access.default_role = Some(Role::parse(&role).map_err(|_| {
                anyhow::anyhow!("default role {role:?}: use viewer, responder, leadership or admin")
            })?);
        }
        for (setting, target) in [
            (&ADMINS, &mut config.access.admins),
            (&ALLOWED_DOMAINS, &mut config.access.allowed_domains),
            (&ALLOWED_EMAILS, &mut config.access.allowed_emails),
            (&ALLOWED_GITHUB_ORGS, &mut config.access.allowed_github_orgs),
        ] {
            if let Some(value) = lookup.env(setting.var) {
                target.extend(list(&value));
            }
        }
        config.session_idle = chrono::Duration::minutes(
            lookup.parsed_or_default(&SESSION_IDLE_MINUTES, "a positive number")?,
        );
        config.session_lifetime = chrono::Duration::hours(
            lookup.parsed_or_default(&SESSION_LIFETIME_HOURS, "a positive number")?,
        );
        for (setting, value) in [
            (&SESSION_IDLE_MINUTES, config.session_idle.num_minutes()),
            (&SESSION_LIFETIME_HOURS, config.session_lifetime.num_hours()),
        ] {
            if value <= 0 {
                bail!("{} must be a positive number (got {value})", setting.var);
            }
        }
        config.sign_in_rate_per_minute =
            lookup.parsed_or_default(&SIGN_IN_RATE, "a number of attempts per minute")?;
        config.api_rate_per_minute =
            lookup.parsed_or_default(&API_RATE, "a number of requests per minute")?;
        config.trust_proxy = lookup.flag(&TRUST_PROXY)?;

        // Whether each provider's `trust_email` was given (else decided below).
        let mut trust_given: Vec<Option<bool>> = Vec::new();
        for provider in providers {
            let client_secret = match (provider.client_secret, provider.client_secret_env) {
                (Some(secret), None) => secret,
                (None, Some(env)) => lookup.env(&env).with_context(|| {
                    format!(
                        "provider {}: environment variable {env} is not set",
                        provider.kind
                    )
                })?,
                _ => bail!(
                    "provider {}: give exactly one of client_secret or client_secret_env",
                    provider.kind
                ),
            };
            config.providers.push(provider_from(ProviderSource {
                kind: provider.kind,
                key: provider.key,
                name: provider.name,
                client_id: provider.client_id,
                client_secret,
                issuer: provider.issuer,
                github_url: provider.github_url,
                github_api_url: provider.github_api_url,
            })?);
            trust_given.push(provider.trust_email);
        }
        for kind in ["github", "google", "slack", "oidc"] {
            let prefix = format!("WARROOM_{}", kind.to_uppercase());
            let var = |suffix: &str| lookup.env(&format!("{prefix}_{suffix}"));
            let Some(client_id) = var("CLIENT_ID") else {
                continue;
            };
            let client_secret = var("CLIENT_SECRET").with_context(|| {
                format!("{prefix}_CLIENT_ID is set but {prefix}_CLIENT_SECRET is not")
            })?;
            config.providers.push(provider_from(ProviderSource {
                kind: kind.to_string(),
                key: None,
                name: var("NAME"),
                client_id,
                client_secret,
                issuer: var("ISSUER"),
                github_url: var("URL"),
                github_api_url: var("API_URL"),
            })?);
            let name = format!("{prefix}_TRUST_EMAIL");
            trust_given.push(
                var("TRUST_EMAIL")
                    .map(|v| parse_flag(&name, &v))
                    .transpose()?,
            );
        }
        let sole = config.providers.len() == 1;
        for (provider, given) in config.providers.iter_mut().zip(trust_given) {
            provider.trust_email = given.unwrap_or(sole);
        }
        let mut keys: Vec<&str> = config.providers.iter().map(|p| p.key.as_str()).collect();
        keys.sort_unstable();
        if let Some(pair) = keys.windows(2).find(|w| w[0] == w[1]) {
            bail!(
                "two identity providers share the key {:?}: give one a different `key`",
                pair[0]
            );
        }
        Ok(config)
    }

    /// What the audit log keeps of these settings (never secrets).
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "providers": self.providers.iter().map(|p| serde_json::json!({
                "key": p.key,
                "name": p.name,
                "client_id": p.client_id,
                "issuer": match &p.kind {
                    ProviderKind::GitHub { web_url, .. } => web_url,
                    ProviderKind::Oidc { issuer } => issuer,
                },
                "trust_email": p.trust_email,
            })).collect::<Vec<_>>(),
            "admins": self.access.admins,
            "allowed_domains": self.access.allowed_domains,
            "allowed_emails": self.access.allowed_emails,
            "allowed_github_orgs": self.access.allowed_github_orgs,
            "default_role": self.access.default_role.unwrap_or(Role::Viewer).as_str(),
            "session_idle_minutes": self.session_idle.num_minutes(),
            "session_lifetime_hours": self.session_lifetime.num_hours(),
        })
    }

    /// Whether anyone at all could be admitted by configuration (invitations need an admin).
    pub fn admits_anyone(&self) -> bool {
        let a = &self.access;
        !(a.admins.is_empty()
            && a.allowed_domains.is_empty()
            && a.allowed_emails.is_empty()
            && a.allowed_github_orgs.is_empty())
    }
}

/// An issuer or endpoint URL: https, or http on this machine only (local providers).
fn checked_url(what: &str, url: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/').to_string();
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|prefix| {
            url.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
        });
    if url.starts_with("https://") || loopback {
        Ok(url)
    } else {
        bail!("{what} must be an https:// URL (http:// only for 127.0.0.1/localhost), got {url:?}")
    }
}

fn provider_from(source: ProviderSource) -> anyhow::Result<ProviderConfig> {
    let (default_key, default_name, kind) = match source.kind.as_str() {
        "github" => (
            "github",
            "GitHub",
            ProviderKind::GitHub {
                web_url: checked_url(
                    "GitHub URL",
                    source.github_url.as_deref().unwrap_or("https://github.com"),
                )?,
                api_url: checked_url(
                    "GitHub API URL",
                    source
                        .github_api_url
                        .as_deref()
                        .unwrap_or("https://api.github.com"),
                )?,
            },
        ),
        "google" => (
            "google",
            "Google",
            ProviderKind::Oidc {
                issuer: "https://accounts.google.com".into(),
            },
        ),
        "slack" => (
            "slack",
            "Slack",
            ProviderKind::Oidc {
                issuer: "https://slack.com".into(),
            },
        ),
        "oidc" => (
            "oidc",
            "single sign-on",
            ProviderKind::Oidc {
                issuer: checked_url(
                    "OIDC issuer",
                    &source.issuer.context(
                        "an oidc provider needs its issuer URL (WARROOM_OIDC_ISSUER or `issuer`)",
                    )?,
                )?,
            },
        ),
        other => {
            bail!("unknown identity provider kind {other:?}: use github, google, slack or oidc")
        }
    };
    let key = source.key.unwrap_or_else(|| default_key.to_string());
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        bail!("provider key {key:?}: use lower-case letters, digits and '-'");
    }
    if source.client_id.trim().is_empty() || source.client_secret.trim().is_empty() {
        bail!("provider {key}: client id and secret must not be empty");
    }
    Ok(ProviderConfig {
        key,
        name: source.name.unwrap_or_else(|| default_name.to_string()),
        kind,
        client_id: source.client_id.trim().to_string(),
        client_secret: SecretString::from(source.client_secret.trim().to_string()),
        // Decided once every provider is known.
        trust_email: false,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::{AuthConfig, ProviderKind};
    use warroom_app::auth::model::Role;

    fn load(vars: &[(&str, &str)]) -> anyhow::Result<AuthConfig> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AuthConfig::load(&|name| vars.get(name).cloned())
    }

    #[test]
    fn providers_and_access_come_from_the_environment() {
        let config = load(&[
            ("WARROOM_GITHUB_CLIENT_ID", "gh-id"),
            ("WARROOM_GITHUB_CLIENT_SECRET", "gh-secret"),
            ("WARROOM_OIDC_ISSUER", "https://sso.example.com/"),
            ("WARROOM_OIDC_CLIENT_ID", "id"),
            ("WARROOM_OIDC_CLIENT_SECRET", "secret"),
            ("WARROOM_OIDC_NAME", "Okta"),
            ("WARROOM_ADMINS", " Boss@Example.com , ops@example.com"),
            ("WARROOM_ALLOWED_DOMAINS", "example.com"),
            ("WARROOM_DEFAULT_ROLE", "responder"),
        ])
        .unwrap();
        assert_eq!(config.providers.len(), 2);
        assert_eq!(config.providers[0].key, "github");
        assert_eq!(config.providers[1].name, "Okta");
        assert_eq!(
            config.providers[1].kind,
            ProviderKind::Oidc {
                issuer: "https://sso.example.com".into()
            }
        );
        assert_eq!(
            config.access.admins,
            ["boss@example.com", "ops@example.com"]
        );
        assert_eq!(config.access.default_role, Some(Role::Responder));
        // Two providers: neither is trusted for addresses unless told.
        assert!(config.providers.iter().all(|p| !p.trust_email));
        // Secrets stay out of Debug output.
        assert!(!format!("{config:?}").contains("gh-secret"));
    }

    #[test]
    fn bad_provider_settings_are_refused_with_a_reason() {
        let err = load(&[("WARROOM_GITHUB_CLIENT_ID", "id")]).unwrap_err();
        assert!(
            err.to_string().contains("WARROOM_GITHUB_CLIENT_SECRET"),
            "{err}"
        );
        let err = load(&[
            ("WARROOM_OIDC_ISSUER", "http://sso.example.com"),
            ("WARROOM_OIDC_CLIENT_ID", "id"),
            ("WARROOM_OIDC_CLIENT_SECRET", "s"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("https"), "{err}");
        assert!(load(&[("WARROOM_DEFAULT_ROLE", "root")]).is_err());
    }

    #[test]
    fn the_toml_file_lists_providers_and_keeps_secrets_in_the_environment() {
        let dir = std::env::temp_dir().join(format!("warroom-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("warroom.toml");
        std::fs::write(
            &path,
            r#"
[access]
allowed_github_orgs = ["Acme"]
[sessions]
idle_minutes = 30
[[providers]]
kind = "slack"
client_id = "slack-id"
client_secret_env = "SLACK_SECRET"
[[providers]]
kind = "oidc"
key = "corp-sso"
name = "Corp SSO"
issuer = "http://127.0.0.1:9999"
client_id = "x"
client_secret = "y"
"#,
        )
        .unwrap();
        let path = path.to_string_lossy().to_string();
        let config = load(&[("WARROOM_CONFIG", &path), ("SLACK_SECRET", "s3")]).unwrap();
        assert_eq!(config.providers[0].key, "slack");
        assert_eq!(config.providers[1].key, "corp-sso");
        assert_eq!(config.access.allowed_github_orgs, ["acme"]);
        assert_eq!(config.session_idle, chrono::Duration::minutes(30));
        let missing = load(&[("WARROOM_CONFIG", &path)]).unwrap_err();
        assert!(missing.to_string().contains("SLACK_SECRET"), "{missing}");
        std::fs::write(dir.join("bad.toml"), "[access]\nadmin = []\n").unwrap();
        let bad = dir.join("bad.toml").to_string_lossy().to_string();
        assert!(load(&[("WARROOM_CONFIG", &bad)]).is_err());
    }

    #[test]
    fn a_sole_provider_is_trusted_for_addresses_and_several_are_not_unless_told() {
        let github = [
            ("WARROOM_GITHUB_CLIENT_ID", "gh-id"),
            ("WARROOM_GITHUB_CLIENT_SECRET", "gh-secret"),
        ];
        let sole = load(&github).unwrap();
        assert!(sole.providers[0].trust_email);
        let distrusted = load(&[
            github[0],
            github[1],
            ("WARROOM_GITHUB_TRUST_EMAIL", "false"),
        ])
        .unwrap();
        assert!(!distrusted.providers[0].trust_email);
        let two = [
            github[0],
            github[1],
            ("WARROOM_OIDC_ISSUER", "https://sso.example.com"),
            ("WARROOM_OIDC_CLIENT_ID", "id"),
            ("WARROOM_OIDC_CLIENT_SECRET", "secret"),
        ];
        let both = load(&two).unwrap();
        assert_eq!(
            both.providers
                .iter()
                .map(|p| (p.key.as_str(), p.trust_email))
                .collect::<Vec<_>>(),
            [("github", false), ("oidc", false)]
        );
        let mut trusted = two.to_vec();
        trusted.push(("WARROOM_OIDC_TRUST_EMAIL", "1"));
        let trusted = load(&trusted).unwrap();
        assert!(!trusted.providers[0].trust_email && trusted.providers[1].trust_email);
        assert_eq!(trusted.summary()["providers"][1]["trust_email"], true);
        let err = load(&[
            github[0],
            github[1],
            ("WARROOM_GITHUB_TRUST_EMAIL", "maybe"),
        ])
        .unwrap_err();
        assert!(
            err.to_string().contains("WARROOM_GITHUB_TRUST_EMAIL"),
            "{err}"
        );

        // The same in the file, per provider.
        let dir = std::env::temp_dir().join(format!("warroom-trust-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("warroom.toml");
        std::fs::write(
            &path,
            r#"
[[providers]]
kind = "github"
client_id = "a"
client_secret = "b"
trust_email = true
[[providers]]
kind = "google"
client_id = "c"
client_secret = "d"
"#,
        )
        .unwrap();
        let path = path.to_string_lossy().to_string();
        let config = load(&[("WARROOM_CONFIG", &path)]).unwrap();
        assert!(config.providers[0].trust_email && !config.providers[1].trust_email);
    }
}
