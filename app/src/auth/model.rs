//! A person as shown everywhere, and the parsing of names given at sign-in.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Someone who uses Warroom, as the UI names them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Person {
    pub id: i64,
    pub name: String,
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
    use super::SignInName;

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
