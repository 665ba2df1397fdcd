//! A person as shown everywhere, and the parsing of names given at sign-in.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Someone who uses Warroom, as the UI names them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Person {
    pub id: i64,
    pub name: String,
}

/// What a person may do in Warroom. One role per person; admins manage them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Reads internal incidents.
    Viewer,
    /// Declares and works incidents.
    Responder,
    /// Reads incidents, the SLA board and reports.
    Leadership,
    /// Everything, plus people, roles, tokens and the audit log.
    Admin,
}

/// Something the server checks before it acts. Every server function and route names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// See internal incidents, their timelines and who works on them.
    ReadIncidents,
    /// Declare incidents and change them.
    WorkIncidents,
    /// Manage people, roles, invitations, API tokens; read the audit log.
    Administer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Responder, Role::Leadership, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Responder => "responder",
            Role::Leadership => "leadership",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Responder => "Responder",
            Role::Leadership => "Leadership",
            Role::Admin => "Admin",
        }
    }

    /// What the role is for, in the words the admin page shows.
    pub fn description(self) -> &'static str {
        match self {
            Role::Viewer => "reads internal incidents",
            Role::Responder => "declares and works incidents",
            Role::Leadership => "reads incidents, SLA board and reports",
            Role::Admin => "everything, plus people, tokens and the audit log",
        }
    }

    pub fn parse(value: &str) -> Result<Self, AppError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == value.trim())
            .ok_or_else(|| {
                AppError::invalid(
                    "role",
                    "Choose one of: viewer, responder, leadership, admin.",
                )
            })
    }

    /// The one place that decides what each role may do.
    pub fn can(self, capability: Capability) -> bool {
        match capability {
            Capability::ReadIncidents => true,
            Capability::WorkIncidents => matches!(self, Role::Responder | Role::Admin),
            Capability::Administer => self == Role::Admin,
        }
    }
}

/// The signed-in person and what they may do (the UI hides what they cannot do; the
/// server checks again on every call).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub person: Person,
    pub role: Role,
}

impl Me {
    pub fn can(&self, capability: Capability) -> bool {
        self.role.can(capability)
    }
}

/// A configured identity provider, as the sign-in page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderChoice {
    /// URL segment: `/auth/{key}/start`.
    pub key: String,
    /// "GitHub", "Google", "Slack", or the configured name of an OIDC provider.
    pub name: String,
}

/// What the sign-in page says when a provider may not claim an existing account by
/// e-mail (`/login?error=link_required&with=<keys>&link=<key>`). Keys are looked up in the
/// configured providers, so the page shows only names the site chose.
pub fn link_required_message(with: &str, link: &str, providers: &[ProviderChoice]) -> String {
    let name = |key: &str| {
        providers
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.name.clone())
    };
    let link = name(link).unwrap_or_else(|| "this provider".into());
    let mut with: Vec<String> = with.split(',').filter_map(name).collect();
    with.dedup();
    let start = format!(
        "An account with this address already exists, and {link} is not trusted to prove on its own that it is yours."
    );
    match with.len() {
        0 => format!("{start} Ask an administrator for help."),
        n => {
            let with = match n {
                1 => with[0].clone(),
                _ => format!("{} or {}", with[..n - 1].join(", "), with[n - 1]),
            };
            format!(
                "{start} To use {link}, sign in with {with}, then link {link} from your account page."
            )
        }
    }
}

/// How the sign-in page offers sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInChoices {
    pub providers: Vec<ProviderChoice>,
    /// The local development sign-in (only without providers, on loopback, when asked for).
    pub dev_sign_in: bool,
}

/// A provider linked to my account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedMethod {
    /// The provider's key.
    pub provider: String,
    /// Its name, as the sign-in page shows it ("GitHub"), or the key of a provider no
    /// longer configured.
    pub name: String,
    pub linked_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: chrono::DateTime<chrono::Utc>,
}

/// How I sign in: the providers linked to my account, and the configured ones I can link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInMethods {
    pub linked: Vec<LinkedMethod>,
    pub linkable: Vec<ProviderChoice>,
}

/// One of my signed-in browsers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: String,
    pub method: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_seen_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub user_agent: String,
    pub source_ip: String,
    /// The browser asking.
    pub current: bool,
}

/// A person as the admin page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    pub last_sign_in_at: Option<chrono::DateTime<chrono::Utc>>,
    pub active_sessions: i64,
    /// An admin disabled them: they cannot sign in.
    pub disabled: bool,
    /// An admin allowed them to publish to the status page (admins may by their role).
    pub may_publish: bool,
}

/// A pending invitation: an invited address and the role it will get.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A verified e-mail address, lower-case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(value: &str) -> Result<Self, AppError> {
        let email = value.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(email.split_once('@'), Some((local, domain))
                if !local.is_empty() && domain.contains('.') && !domain.contains('@')
                    && !domain.starts_with('.') && !domain.ends_with('.'));
        if valid {
            Ok(EmailAddress(email))
        } else {
            Err(AppError::invalid(
                "email",
                "Type a whole e-mail address, like ada@example.com.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.split_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

/// Who may sign in, and who is an admin by configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessPolicy {
    /// `WARROOM_ADMINS`: always allowed, always admin, when a provider trusted for
    /// addresses vouches for them.
    pub admins: Vec<String>,
    /// Any verified address at these domains.
    pub allowed_domains: Vec<String>,
    /// These addresses (besides the invitations admins make in the UI).
    pub allowed_emails: Vec<String>,
    /// Members of these GitHub organisations (GitHub sign-in only).
    pub allowed_github_orgs: Vec<String>,
    /// The role a newly admitted person gets unless invited with another.
    pub default_role: Option<Role>,
}

/// What the policy decided about someone at the door.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Allowed; `role` is what a new account starts with, `force_admin` when configured.
    Allowed {
        role: Role,
        force_admin: bool,
    },
    Refused,
}

impl AccessPolicy {
    /// Decides whether this verified address (with its GitHub organisations, if signing
    /// in with GitHub, and the role of its invitation) may sign in. `email_trusted`: the
    /// provider is trusted for addresses; only then does `admins` apply, so that the
    /// weakest of several providers cannot make someone admin.
    pub fn admit(
        &self,
        email: &EmailAddress,
        github_orgs: Option<&[String]>,
        invited_as: Option<Role>,
        email_trusted: bool,
    ) -> Admission {
        let matches =
            |list: &[String], value: &str| list.iter().any(|v| v.eq_ignore_ascii_case(value));
        if email_trusted && matches(&self.admins, email.as_str()) {
            return Admission::Allowed {
                role: Role::Admin,
                force_admin: true,
            };
        }
        let default_role = self.default_role.unwrap_or(Role::Viewer);
        if let Some(role) = invited_as {
            return Admission::Allowed {
                role,
                force_admin: false,
            };
        }
        let by_org = github_orgs.is_some_and(|orgs| {
            orgs.iter()
                .any(|org| matches(&self.allowed_github_orgs, org))
        });
        if matches(&self.allowed_emails, email.as_str())
            || matches(&self.allowed_domains, email.domain())
            || by_org
        {
            Admission::Allowed {
                role: default_role,
                force_admin: false,
            }
        } else {
            Admission::Refused
        }
    }
}

/// A display name and the handle derived from it ("Ada Lovelace" → "ada-lovelace").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInName {
    display_name: String,
    handle: String,
}

impl SignInName {
    pub fn parse(value: &str) -> Result<Self, AppError> {
        let display_name = value.split_whitespace().collect::<Vec<_>>().join(" ");
        if display_name.is_empty() {
            return Err(AppError::invalid("name", "Type your name."));
        }
        if display_name.chars().count() > 80 {
            return Err(AppError::invalid(
                "name",
                "Keep your name under 80 characters.",
            ));
        }
        let mut handle = String::new();
        for c in display_name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                handle.push(c);
            } else if !handle.is_empty() && !handle.ends_with('-') {
                handle.push('-');
            }
        }
        let handle: String = handle.trim_end_matches('-').chars().take(40).collect();
        if handle.is_empty() || !handle.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(AppError::invalid(
                "name",
                "Your name needs at least one letter or digit (a–z, 0–9).",
            ));
        }
        Ok(SignInName {
            display_name,
            handle,
        })
    }

    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    pub fn handle(&self) -> &str {
        &self.handle
    }
}

#[cfg(test)]
mod tests {
    use super::{AccessPolicy, Admission, Capability, EmailAddress, Role, SignInName};

    fn policy() -> AccessPolicy {
        AccessPolicy {
            admins: vec!["boss@corp.example".into()],
            allowed_domains: vec!["corp.example".into()],
            allowed_emails: vec!["friend@elsewhere.example".into()],
            allowed_github_orgs: vec!["Acme".into()],
            default_role: Some(Role::Viewer),
        }
    }

    fn email(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[test]
    fn only_listed_domains_addresses_orgs_and_invitations_are_admitted() {
        let p = policy();
        let viewer = Admission::Allowed {
            role: Role::Viewer,
            force_admin: false,
        };
        assert_eq!(
            p.admit(&email("Ann@Corp.Example"), None, None, true),
            viewer
        );
        assert_eq!(
            p.admit(&email("friend@elsewhere.example"), None, None, true),
            viewer
        );
        assert_eq!(
            p.admit(
                &email("x@gmail.example"),
                Some(&["acme".into()]),
                None,
                true
            ),
            viewer
        );
        assert_eq!(
            p.admit(
                &email("x@gmail.example"),
                Some(&["other".into()]),
                None,
                true
            ),
            Admission::Refused
        );
        assert_eq!(
            p.admit(&email("x@corp.example.evil.example"), None, None, true),
            Admission::Refused
        );
        assert_eq!(
            p.admit(&email("x@evilcorp.example"), None, None, true),
            Admission::Refused
        );
        assert_eq!(
            p.admit(
                &email("new@gmail.example"),
                None,
                Some(Role::Responder),
                true
            ),
            Admission::Allowed {
                role: Role::Responder,
                force_admin: false
            }
        );
        assert_eq!(
            p.admit(&email("boss@corp.example"), None, None, true),
            Admission::Allowed {
                role: Role::Admin,
                force_admin: true
            }
        );
        assert_eq!(
            AccessPolicy::default().admit(&email("a@b.example"), None, None, true),
            Admission::Refused
        );
        // Through a provider not trusted for addresses, WARROOM_ADMINS does not apply: the
        // boss is only what the other lists make them.
        assert_eq!(
            p.admit(&email("boss@corp.example"), None, None, false),
            viewer
        );
        assert_eq!(
            p.admit(&email("boss@elsewhere.example"), None, None, false),
            Admission::Refused
        );
    }

    #[test]
    fn a_refused_link_says_which_provider_to_sign_in_with() {
        use super::{link_required_message, ProviderChoice};
        let providers = [
            ProviderChoice {
                key: "github".into(),
                name: "GitHub".into(),
            },
            ProviderChoice {
                key: "okta".into(),
                name: "Okta".into(),
            },
            ProviderChoice {
                key: "google".into(),
                name: "Google".into(),
            },
        ];
        assert!(link_required_message("github", "okta", &providers)
            .ends_with("To use Okta, sign in with GitHub, then link Okta from your account page."));
        assert!(link_required_message("github,google", "okta", &providers)
            .contains("sign in with GitHub or Google, then link Okta"));
        // Unknown keys (a crafted link, or a provider no longer configured) are not shown.
        let crafted = link_required_message("evil.example/phish", "okta", &providers);
        assert!(!crafted.contains("evil") && crafted.ends_with("Ask an administrator for help."));
    }

    #[test]
    fn roles_grant_capabilities() {
        use Capability::*;
        assert!(Role::Viewer.can(ReadIncidents) && !Role::Viewer.can(WorkIncidents));
        assert!(Role::Leadership.can(ReadIncidents) && !Role::Leadership.can(WorkIncidents));
        assert!(Role::Responder.can(WorkIncidents) && !Role::Responder.can(Administer));
        assert!(Role::Admin.can(Administer) && Role::Admin.can(WorkIncidents));
        assert_eq!(Role::parse("leadership").unwrap(), Role::Leadership);
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn email_addresses_are_checked_and_lower_cased() {
        assert_eq!(email(" Ada@Example.COM ").as_str(), "ada@example.com");
        assert_eq!(email("ada@example.com").domain(), "example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@example.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_become_handles() {
        let name = SignInName::parse("  Ada   Lovelace ").unwrap();
        assert_eq!(name.display_name(), "Ada Lovelace");
        assert_eq!(name.handle(), "ada-lovelace");
        assert_eq!(
            SignInName::parse("Zoë O'Brien").unwrap().handle(),
            "zo-o-brien"
        );
    }

    #[test]
    fn names_without_letters_are_refused() {
        assert!(SignInName::parse("   ").is_err());
        assert!(SignInName::parse("!!!").is_err());
        assert!(SignInName::parse(&"a".repeat(81)).is_err());
    }
}
