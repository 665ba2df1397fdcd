//! Token scopes, names and what the admin page shows of a token.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What a token may do. Each API route requires one scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Read incidents and their timelines (`GET /api/v1/incidents…`).
    IncidentsRead,
    /// Declare incidents (`POST /api/v1/incidents`).
    IncidentsWrite,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::IncidentsRead, Scope::IncidentsWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::IncidentsRead => "incidents:read",
            Scope::IncidentsWrite => "incidents:write",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Scope::IncidentsRead => "read incidents and timelines",
            Scope::IncidentsWrite => "declare incidents",
        }
    }

    pub fn parse(value: &str) -> Result<Self, AppError> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == value.trim())
            .ok_or_else(|| {
                AppError::invalid(
                    "scopes",
                    format!("Unknown scope {value:?}: use incidents:read or incidents:write."),
                )
            })
    }

    /// Parses a list of scopes; at least one, no repeats.
    pub fn parse_list(values: &[String]) -> Result<Vec<Scope>, AppError> {
        let mut scopes = Vec::new();
        for value in values.iter().filter(|v| !v.trim().is_empty()) {
            let scope = Scope::parse(value)?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err(AppError::invalid("scopes", "Choose at least one scope."));
        }
        Ok(scopes)
    }
}

/// A token's name, e.g. "Alertmanager" or "status script".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub fn parse(value: &str) -> Result<Self, AppError> {
        let name = value.split_whitespace().collect::<Vec<_>>().join(" ");
        match name.chars().count() {
            0 => Err(AppError::invalid(
                "name",
                "Name the token after what will use it.",
            )),
            1..=80 => Ok(TokenName(name)),
            _ => Err(AppError::invalid(
                "name",
                "Keep the name under 80 characters.",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest a token may live, in days.
pub const MAX_LIFETIME_DAYS: u32 = 3650;

/// When a token issued at `now` for `days` days expires (`0`: never). The admin page and
/// `warroom token create` both ask this.
pub fn expiry(days: u32, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, AppError> {
    if days > MAX_LIFETIME_DAYS {
        return Err(AppError::invalid(
            "expires_in_days",
            "Choose at most 3650 days (or 0 for no expiry).",
        ));
    }
    Ok((days > 0).then(|| now + chrono::Duration::days(days.into())))
}

/// A token as the admin page lists it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    /// The secret's first characters, to tell tokens apart.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
}

/// A token just created: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub id: i64,
    pub name: String,
    pub secret: String,
}

#[cfg(test)]
mod tests {
    use super::{Scope, TokenName};

    #[test]
    fn scopes_parse_and_must_not_be_empty() {
        let list =
            |v: &[&str]| Scope::parse_list(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            list(&["incidents:read", "incidents:read", "incidents:write"]).unwrap(),
            vec![Scope::IncidentsRead, Scope::IncidentsWrite]
        );
        assert!(list(&[]).is_err());
        assert!(list(&["", " "]).is_err());
        assert!(list(&["admin:*"]).is_err());
    }

    #[test]
    fn token_names_are_trimmed_and_bounded() {
        assert_eq!(
            TokenName::parse("  Alert   manager ").unwrap().as_str(),
            "Alert manager"
        );
        assert!(TokenName::parse("  ").is_err());
        assert!(TokenName::parse(&"x".repeat(81)).is_err());
    }
}
