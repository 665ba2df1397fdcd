//! Identity providers: starting a sign-in (PKCE, `state`, OIDC `nonce`) and finishing it
//! (code exchange, ID-token checks or GitHub's API), ending in a verified identity.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use oauth2::basic::BasicClient;
use oauth2::{AuthType, AuthUrl, TokenUrl};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, UserInfoError,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use warroom_app::auth::model::EmailAddress;
use warroom_app::auth::store::ExternalIdentity;

use crate::config::auth::{ProviderConfig, ProviderKind};
use crate::outbound::{Destinations, Limits, OutboundClient};

/// How long a started sign-in may take before its callback is refused.
pub const SIGN_IN_WINDOW: chrono::Duration = chrono::Duration::minutes(10);
/// How long discovered OIDC metadata (endpoints, signing keys) is reused.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// How many pages of 100 GitHub organisations a sign-in reads at most (fails closed past
/// that: an allow-listed organisation further down is not seen).
const MAX_ORG_PAGES: usize = 10;

/// A sign-in in progress, kept in the browser's session until its callback.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingSignIn {
    pub provider: String,
    pub state: String,
    pub pkce_verifier: String,
    pub nonce: Option<String>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Set when a signed-in person links this provider to their account: the id of their
    /// sign-in, which must still be this browser's, and valid, at the callback.
    #[serde(default)]
    pub link_to: Option<uuid::Uuid>,
}

/// Why a callback did not produce an identity.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The provider refused the code (used already, wrong verifier, expired…) or gave
    /// an ID token that failed its checks.
    #[error("the identity provider refused: {0}")]
    Refused(String),
    /// The provider did not vouch for an e-mail address.
    #[error("no verified e-mail address")]
    Unverified,
    /// The provider could not be reached or answered nonsense.
    #[error(transparent)]
    Unavailable(#[from] anyhow::Error),
}

/// The configured providers, by key, with one HTTP client: Warroom's outbound client
/// (answers capped, one deadline per call, no ambient proxy), which never follows
/// redirects (a token endpoint that redirects must not send our secrets elsewhere).
/// Identity providers are configured by admins and often sit inside the company network,
/// so private addresses are allowed.
pub struct Providers {
    by_key: HashMap<String, Arc<Provider>>,
    http: OutboundClient,
}

/// Limits of every call to an identity provider: discovery documents, key sets, token and
/// UserInfo answers and GitHub's API pages are all far below 1 MiB.
const PROVIDER_LIMITS: Limits = Limits {
    deadline: Duration::from_secs(15),
    connect_timeout: Duration::from_secs(5),
    max_answer: 1024 * 1024,
};

pub struct Provider {
    pub config: ProviderConfig,
    discovered: Mutex<Option<(Instant, CoreProviderMetadata)>>,
}

impl Providers {
    pub fn new(configs: &[ProviderConfig]) -> anyhow::Result<Self> {
        let http = OutboundClient::new(Destinations::AnyAddress, PROVIDER_LIMITS, "Warroom")
            .context("building the HTTP client for identity providers")?;
        let by_key = configs
            .iter()
            .map(|c| {
                (
                    c.key.clone(),
                    Arc::new(Provider {
                        config: c.clone(),
                        discovered: Mutex::new(None),
                    }),
                )
            })
            .collect();
        Ok(Providers { by_key, http })
    }

    pub fn get(&self, key: &str) -> Option<Arc<Provider>> {
        self.by_key.get(key).cloned()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The keys of configured providers not trusted for addresses (`trust_email`).
    pub fn untrusted_for_email(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .by_key
            .values()
            .filter(|p| !p.config.trust_email)
            .map(|p| p.config.key.clone())
            .collect();
        keys.sort();
        keys
    }

    /// The URL to send the browser to, and what to remember until the callback.
    pub async fn begin(
        &self,
        provider: &Provider,
        redirect_uri: &str,
        link_to: Option<uuid::Uuid>,
    ) -> anyhow::Result<(String, PendingSignIn)> {
        let redirect = RedirectUrl::new(redirect_uri.to_string()).context("redirect URI")?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let config = &provider.config;
        let (url, state, nonce) = match &config.kind {
            ProviderKind::GitHub { web_url, .. } => {
                let client = github_client(config, web_url)?.set_redirect_uri(redirect);
                // read:org: organisation allow-lists need to see private memberships.
                let (url, state) = client
                    .authorize_url(CsrfToken::new_random)
                    .add_scope(oauth2::Scope::new("read:user".into()))
                    .add_scope(oauth2::Scope::new("user:email".into()))
                    .add_scope(oauth2::Scope::new("read:org".into()))
                    .add_extra_param("allow_signup", "false")
                    .set_pkce_challenge(challenge)
                    .url();
                (url, state, None)
            }
            ProviderKind::Oidc { .. } => {
                let metadata = provider.metadata(&self.http).await?;
                let client = oidc_client(config, metadata).set_redirect_uri(redirect);
                let (url, state, nonce) = client
                    .authorize_url(
                        CoreAuthenticationFlow::AuthorizationCode,
                        CsrfToken::new_random,
                        Nonce::new_random,
                    )
                    .add_scope(Scope::new("email".into()))
                    .add_scope(Scope::new("profile".into()))
                    .set_pkce_challenge(challenge)
                    .url();
                (url, state, Some(nonce.secret().clone()))
            }
        };
        Ok((
            url.to_string(),
            PendingSignIn {
                provider: config.key.clone(),
                state: state.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                nonce,
                started_at: chrono::Utc::now(),
                link_to,
            },
        ))
    }

    /// Exchanges the code (with the PKCE verifier of this browser's sign-in) and finds out
    /// who signed in.
    pub async fn finish(
        &self,
        provider: &Provider,
        redirect_uri: &str,
        code: &str,
        pending: &PendingSignIn,
    ) -> Result<ExternalIdentity, SignInError> {
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .context("redirect URI")
            .map_err(SignInError::Unavailable)?;
        let code = AuthorizationCode::new(code.to_string());
        let verifier = PkceCodeVerifier::new(pending.pkce_verifier.clone());
        let config = &provider.config;
        match &config.kind {
            ProviderKind::GitHub { web_url, api_url } => {
                let client = github_client(config, web_url)?.set_redirect_uri(redirect);
                let token = client
                    .exchange_code(code)
                    .set_pkce_verifier(verifier)
                    .request_async(&self.http)
                    .await
                    .map_err(|e| SignInError::Refused(describe(&e)))?;
                github_identity(
                    &self.http,
                    api_url,
                    &config.key,
                    token.access_token().secret(),
                )
                .await
                .map(|identity| ExternalIdentity {
                    email_trusted: config.trust_email,
                    ..identity
                })
            }
            ProviderKind::Oidc { .. } => {
                let metadata = provider.metadata(&self.http).await?;
                let client = oidc_client(config, metadata).set_redirect_uri(redirect);
                let token = client
                    .exchange_code(code)
                    .map_err(|e| SignInError::Unavailable(anyhow::Error::new(e)))?
                    .set_pkce_verifier(verifier)
                    .request_async(&self.http)
                    .await
                    .map_err(|e| SignInError::Refused(describe(&e)))?;
                let id_token = token
                    .extra_fields()
                    .id_token()
                    .ok_or_else(|| SignInError::Refused("no ID token in the answer".into()))?;
                let nonce = Nonce::new(pending.nonce.clone().unwrap_or_default());
                let claims = id_token
                    .claims(&client.id_token_verifier(), &nonce)
                    .map_err(|e| SignInError::Refused(format!("ID token: {e}")))?;
                let from_id_token = OidcClaims {
                    subject: claims.subject().as_str().to_string(),
                    email: claims.email().map(|e| e.as_str().to_string()),
                    email_verified: claims.email_verified(),
                    name: claims
                        .name()
                        .and_then(|n| n.get(None))
                        .map(|n| n.to_string()),
                };
                // In the authorization-code flow a provider may keep the e-mail claims for
                // its UserInfo endpoint (OpenID Connect Core 5.4; Okta and oidc-provider do
                // by default): ask it, for the same subject, when the ID token lacks them.
                let from_userinfo = if from_id_token.has_email_claims() {
                    None
                } else {
                    let userinfo: CoreUserInfoClaims = client
                        .user_info(token.access_token().clone(), Some(claims.subject().clone()))
                        .map_err(|_| SignInError::Unverified)?
                        .request_async(&self.http)
                        .await
                        .map_err(|e| match e {
                            UserInfoError::ClaimsVerification(e) => {
                                SignInError::Refused(format!("UserInfo: {e}"))
                            }
                            other => SignInError::Unavailable(
                                anyhow::anyhow!(describe(&other)).context("reading UserInfo"),
                            ),
                        })?;
                    Some(OidcClaims {
                        subject: userinfo.subject().as_str().to_string(),
                        email: userinfo.email().map(|e| e.as_str().to_string()),
                        email_verified: userinfo.email_verified(),
                        name: userinfo
                            .name()
                            .and_then(|n| n.get(None))
                            .map(|n| n.to_string()),
                    })
                };
                let (email, name) = verified_email_and_name(from_id_token, from_userinfo)?;
                Ok(ExternalIdentity {
                    provider: config.key.clone(),
                    subject: claims.subject().as_str().to_string(),
                    email,
                    name: truncate(&name, 80),
                    github_orgs: None,
                    email_trusted: config.trust_email,
                })
            }
        }
    }
}

/// What an OpenID provider said about the person, from the ID token or from UserInfo.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct OidcClaims {
    subject: String,
    email: Option<String>,
    email_verified: Option<bool>,
    name: Option<String>,
}

impl OidcClaims {
    fn has_email_claims(&self) -> bool {
        self.email.is_some() && self.email_verified.is_some()
    }
}

/// The verified address and the name, from the ID token when it has both e-mail claims,
/// else from UserInfo (both claims from one source, never a mix), which must be about
/// the same subject (OpenID Connect Core 5.3.2). The address must be verified.
fn verified_email_and_name(
    id_token: OidcClaims,
    userinfo: Option<OidcClaims>,
) -> Result<(EmailAddress, String), SignInError> {
    if let Some(userinfo) = &userinfo {
        if userinfo.subject != id_token.subject {
            return Err(SignInError::Refused(
                "UserInfo is about another subject than the ID token".into(),
            ));
        }
    }
    let name = id_token
        .name
        .clone()
        .or_else(|| userinfo.as_ref().and_then(|u| u.name.clone()));
    let source = match userinfo {
        Some(userinfo) if !id_token.has_email_claims() => userinfo,
        _ => id_token,
    };
    if source.email_verified != Some(true) {
        return Err(SignInError::Unverified);
    }
    let email = source
        .email
        .as_deref()
        .and_then(|e| EmailAddress::parse(e).ok())
        .ok_or(SignInError::Unverified)?;
    let name = name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| name_from_email(&email));
    Ok((email, name))
}

impl Provider {
    /// The provider's discovery document and keys, fetched at most once an hour.
    async fn metadata(&self, http: &OutboundClient) -> anyhow::Result<CoreProviderMetadata> {
        let ProviderKind::Oidc { issuer } = &self.config.kind else {
            anyhow::bail!("{} is not an OpenID Connect provider", self.config.key);
        };
        let mut cached = self.discovered.lock().await;
        if let Some((at, metadata)) = cached.as_ref() {
            if at.elapsed() < DISCOVERY_TTL {
                return Ok(metadata.clone());
            }
        }
        let issuer_url = IssuerUrl::new(issuer.clone()).context("issuer URL")?;
        let metadata = CoreProviderMetadata::discover_async(issuer_url, http)
            .await
            .with_context(|| format!("discovering the OpenID provider at {issuer}"))?;
        *cached = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }
}

type GitHubClient = BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn github_client(config: &ProviderConfig, web_url: &str) -> anyhow::Result<GitHubClient> {
    Ok(
        BasicClient::new(oauth2::ClientId::new(config.client_id.clone()))
            .set_client_secret(oauth2::ClientSecret::new(
                config.client_secret.expose_secret().to_string(),
            ))
            .set_auth_uri(AuthUrl::new(format!("{web_url}/login/oauth/authorize"))?)
            .set_token_uri(TokenUrl::new(format!(
                "{web_url}/login/oauth/access_token"
            ))?)
            // GitHub documents the secret as a form parameter.
            .set_auth_type(AuthType::RequestBody),
    )
}

fn oidc_client(
    config: &ProviderConfig,
    metadata: CoreProviderMetadata,
) -> openidconnect::core::CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
> {
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.clone()),
        Some(ClientSecret::new(
            config.client_secret.expose_secret().to_string(),
        )),
    )
}

#[derive(Deserialize)]
struct GitHubUser {
    id: i64,
    login: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct GitHubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

#[derive(Deserialize)]
struct GitHubOrg {
    login: String,
}

/// Who the GitHub token belongs to: account, primary verified e-mail, organisations.
async fn github_identity(
    http: &OutboundClient,
    api_url: &str,
    provider_key: &str,
    access_token: &str,
) -> Result<ExternalIdentity, SignInError> {
    /// One GET of the API, with the URL of the next page if GitHub names one.
    async fn get<T: serde::de::DeserializeOwned>(
        http: &OutboundClient,
        url: &str,
        token: &str,
    ) -> anyhow::Result<(T, Option<String>)> {
        let answer = http
            .get(url)
            .bearer_auth(token)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        if !answer.status.is_success() {
            anyhow::bail!("GET {url} answered {}", answer.status);
        }
        let next = answer
            .headers
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
            .and_then(next_page);
        let body = answer
            .json()
            .with_context(|| format!("reading GET {url}"))?;
        Ok((body, next))
    }
    let (user, _): (GitHubUser, _) = get(http, &format!("{api_url}/user"), access_token).await?;
    let (emails, _): (Vec<GitHubEmail>, _) =
        get(http, &format!("{api_url}/user/emails"), access_token).await?;
    let email = emails
        .iter()
        .find(|e| e.primary && e.verified)
        .and_then(|e| EmailAddress::parse(&e.email).ok())
        .ok_or(SignInError::Unverified)?;
    // Organisations come 100 a page; follow GitHub's `next` links, but only on its own API
    // (the token goes with every request) and only so far.
    let mut orgs: Vec<GitHubOrg> = Vec::new();
    let mut url = Some(format!("{api_url}/user/orgs?per_page=100"));
    let mut pages = 0;
    while let Some(page_url) = url.take() {
        let (page, next): (Vec<GitHubOrg>, _) = get(http, &page_url, access_token).await?;
        orgs.extend(page);
        pages += 1;
        match next {
            Some(next) if !next.starts_with(&format!("{api_url}/")) => {
                tracing::warn!(
                    provider = provider_key,
                    "GitHub named a next page of organisations elsewhere; not followed"
                );
            }
            Some(_) if pages >= MAX_ORG_PAGES => {
                tracing::warn!(
                    provider = provider_key,
                    pages,
                    "more GitHub organisations than Warroom reads; the rest are ignored"
                );
            }
            next => url = next,
        }
    }
    let name = user
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or(user.login);
    Ok(ExternalIdentity {
        provider: provider_key.to_string(),
        subject: user.id.to_string(),
        email,
        name: truncate(&name, 80),
        github_orgs: Some(orgs.into_iter().map(|o| o.login.to_lowercase()).collect()),
        // The caller knows whether the site trusts this provider.
        email_trusted: false,
    })
}

/// The `rel="next"` URL of a `Link` header (RFC 8288), as GitHub pages its lists:
/// `<https://…?page=2>; rel="next", <https://…?page=5>; rel="last"`.
fn next_page(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .any(|(name, value)| {
                name.trim().eq_ignore_ascii_case("rel")
                    && value
                        .trim()
                        .trim_matches('"')
                        .split_whitespace()
                        .any(|rel| rel.eq_ignore_ascii_case("next"))
            })
            .then(|| target.to_string())
    })
}

/// An error and its causes on one line (the provider's `error` code is among them).
fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(300).collect()
}

/// "ada.lovelace@…" → "Ada Lovelace", for providers that give no name.
fn name_from_email(email: &EmailAddress) -> String {
    let local = email.as_str().split('@').next().unwrap_or_default();
    local
        .split(['.', '_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn truncate(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

/// Constant-time comparison of the returned `state` with ours.
pub fn same_state(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::{
        name_from_email, next_page, same_state, verified_email_and_name, OidcClaims, SignInError,
    };
    use warroom_app::auth::model::EmailAddress;

    #[test]
    fn names_from_addresses_and_state_comparison() {
        let email = EmailAddress::parse("ada.lovelace@example.com").unwrap();
        assert_eq!(name_from_email(&email), "Ada Lovelace");
        assert!(same_state("abc", "abc"));
        assert!(!same_state("abc", "abd"));
        assert!(!same_state("abc", "abcd"));
    }

    #[test]
    fn the_next_page_is_read_from_the_link_header() {
        let github = r#"<https://api.github.com/user/orgs?per_page=100&page=2>; rel="next", <https://api.github.com/user/orgs?per_page=100&page=5>; rel="last""#;
        assert_eq!(
            next_page(github).as_deref(),
            Some("https://api.github.com/user/orgs?per_page=100&page=2")
        );
        let last_page = r#"<https://h/x?page=4>; rel="prev", <https://h/x?page=1>; rel="first""#;
        assert_eq!(next_page(last_page), None);
        assert_eq!(
            next_page(r#"<https://h/x?page=3>;rel=NEXT"#).as_deref(),
            Some("https://h/x?page=3")
        );
        assert_eq!(next_page("garbage"), None);
        assert_eq!(next_page(""), None);
    }

    fn claims(subject: &str, email: Option<&str>, verified: Option<bool>) -> OidcClaims {
        OidcClaims {
            subject: subject.into(),
            email: email.map(Into::into),
            email_verified: verified,
            name: None,
        }
    }

    #[test]
    fn e_mail_claims_come_from_the_id_token_or_else_from_userinfo_about_the_same_subject() {
        let ada = Some("ada.lovelace@example.com");
        // In the ID token: used as they are.
        let (email, name) = verified_email_and_name(claims("s1", ada, Some(true)), None).unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
        assert_eq!(name, "Ada Lovelace");
        // Only at UserInfo (the provider's default in the code flow).
        let (email, name) = verified_email_and_name(
            claims("s1", None, None),
            Some(OidcClaims {
                name: Some("Ada L.".into()),
                ..claims("s1", ada, Some(true))
            }),
        )
        .unwrap();
        assert_eq!(
            (email.as_str(), name.as_str()),
            ("ada.lovelace@example.com", "Ada L.")
        );
        // UserInfo about someone else is refused.
        assert!(matches!(
            verified_email_and_name(
                claims("s1", None, None),
                Some(claims("s2", ada, Some(true)))
            ),
            Err(SignInError::Refused(_))
        ));
        // Not verified, or verified nowhere: refused.
        for (id_token, userinfo) in [
            (claims("s1", ada, Some(false)), None),
            (
                claims("s1", None, None),
                Some(claims("s1", ada, Some(false))),
            ),
            (claims("s1", None, None), Some(claims("s1", ada, None))),
            (claims("s1", None, None), Some(claims("s1", None, None))),
        ] {
            assert!(matches!(
                verified_email_and_name(id_token, userinfo),
                Err(SignInError::Unverified)
            ));
        }
        // An address in the ID token without its flag is never confirmed by UserInfo's
        // flag for another address: the UserInfo pair is taken whole.
        let (email, _) = verified_email_and_name(
            claims("s1", Some("mallory@example.com"), None),
            Some(claims("s1", ada, Some(true))),
        )
        .unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
    }
}
