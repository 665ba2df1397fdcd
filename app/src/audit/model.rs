//! Audit actions and entries as admins read them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Every kind of act the audit log records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditAction {
    SignIn,
    SignInRefused,
    SignOut,
    SignOutEverywhere,
    SessionEnded,
    AccessRefused,
    RoleChanged,
    InvitationCreated,
    InvitationWithdrawn,
    TokenCreated,
    TokenRevoked,
    TokenUsed,
    TokenRefused,
    RateLimited,
    ConfigChanged,
    StatusGroupCreated,
    StatusGroupChanged,
    StatusComponentCreated,
    StatusComponentChanged,
    StatusOverrideChanged,
    StatusBrandingChanged,
    StatusSubscriberRemoved,
    MemberDisabled,
    MemberEnabled,
    MemberSessionsEnded,
    PublishingChanged,
    IdentityLinked,
}

impl AuditAction {
    pub const ALL: [AuditAction; 27] = [
        AuditAction::SignIn,
        AuditAction::SignInRefused,
        AuditAction::SignOut,
        AuditAction::SignOutEverywhere,
        AuditAction::SessionEnded,
        AuditAction::AccessRefused,
        AuditAction::RoleChanged,
        AuditAction::InvitationCreated,
        AuditAction::InvitationWithdrawn,
        AuditAction::TokenCreated,
        AuditAction::TokenRevoked,
        AuditAction::TokenUsed,
        AuditAction::TokenRefused,
        AuditAction::RateLimited,
        AuditAction::ConfigChanged,
        AuditAction::StatusGroupCreated,
        AuditAction::StatusGroupChanged,
        AuditAction::StatusComponentCreated,
        AuditAction::StatusComponentChanged,
        AuditAction::StatusOverrideChanged,
        AuditAction::StatusBrandingChanged,
        AuditAction::StatusSubscriberRemoved,
        AuditAction::MemberDisabled,
        AuditAction::MemberEnabled,
        AuditAction::MemberSessionsEnded,
        AuditAction::PublishingChanged,
        AuditAction::IdentityLinked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignIn => "sign_in",
            AuditAction::SignInRefused => "sign_in_refused",
            AuditAction::SignOut => "sign_out",
            AuditAction::SignOutEverywhere => "sign_out_everywhere",
            AuditAction::SessionEnded => "session_ended",
            AuditAction::AccessRefused => "access_refused",
            AuditAction::RoleChanged => "role_changed",
            AuditAction::InvitationCreated => "invitation_created",
            AuditAction::InvitationWithdrawn => "invitation_withdrawn",
            AuditAction::TokenCreated => "token_created",
            AuditAction::TokenRevoked => "token_revoked",
            AuditAction::TokenUsed => "token_used",
            AuditAction::TokenRefused => "token_refused",
            AuditAction::RateLimited => "rate_limited",
            AuditAction::ConfigChanged => "config_changed",
            AuditAction::StatusGroupCreated => "status_group_created",
            AuditAction::StatusGroupChanged => "status_group_changed",
            AuditAction::StatusComponentCreated => "status_component_created",
            AuditAction::StatusComponentChanged => "status_component_changed",
            AuditAction::StatusOverrideChanged => "status_override_changed",
            AuditAction::StatusBrandingChanged => "status_branding_changed",
            AuditAction::StatusSubscriberRemoved => "status_subscriber_removed",
            AuditAction::MemberDisabled => "member_disabled",
            AuditAction::MemberEnabled => "member_enabled",
            AuditAction::MemberSessionsEnded => "member_sessions_ended",
            AuditAction::PublishingChanged => "publishing_changed",
            AuditAction::IdentityLinked => "identity_linked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AuditAction::SignIn => "Signed in",
            AuditAction::SignInRefused => "Sign-in refused",
            AuditAction::SignOut => "Signed out",
            AuditAction::SignOutEverywhere => "Signed out everywhere",
            AuditAction::SessionEnded => "Ended a session",
            AuditAction::AccessRefused => "Access refused",
            AuditAction::RoleChanged => "Role changed",
            AuditAction::InvitationCreated => "Invited",
            AuditAction::InvitationWithdrawn => "Invitation withdrawn",
            AuditAction::TokenCreated => "Token created",
            AuditAction::TokenRevoked => "Token revoked",
            AuditAction::TokenUsed => "Token used",
            AuditAction::TokenRefused => "Token refused",
            AuditAction::RateLimited => "Rate limited",
            AuditAction::ConfigChanged => "Sign-in settings changed",
            AuditAction::StatusGroupCreated => "Status group added",
            AuditAction::StatusGroupChanged => "Status group changed",
            AuditAction::StatusComponentCreated => "Status component added",
            AuditAction::StatusComponentChanged => "Status component changed",
            AuditAction::StatusOverrideChanged => "Component status set by hand",
            AuditAction::StatusBrandingChanged => "Status page branding changed",
            AuditAction::StatusSubscriberRemoved => "Status subscriber removed",
            AuditAction::MemberDisabled => "Person disabled",
            AuditAction::MemberEnabled => "Person enabled",
            AuditAction::MemberSessionsEnded => "Ended someone's sessions",
            AuditAction::PublishingChanged => "Status page publishing granted or withdrawn",
            AuditAction::IdentityLinked => "Sign-in method linked",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

/// One audit record, as the admin page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub action: String,
    pub refused: bool,
    /// The person or token that acted ("" when anonymous).
    pub actor: String,
    pub target: String,
    /// Details as compact JSON.
    pub details: String,
    pub source_ip: String,
}

/// One page of the audit log and whether there is more.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page.
    pub older: Option<i64>,
}
