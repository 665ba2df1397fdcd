//! Incident types shared by server and browser: statuses and the rule for changing them,
//! roles, timeline entries and parsed inputs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::model::Person;
use crate::error::AppError;
use crate::timeline::model::{TimelineEntry, TimelinePage};

/// Where an incident is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Investigating,
        Status::Identified,
        Status::Monitoring,
        Status::Resolved,
    ];

    /// The stored and URL form.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Investigating => "investigating",
            Status::Identified => "identified",
            Status::Monitoring => "monitoring",
            Status::Resolved => "resolved",
        }
    }

    /// The label people read.
    pub fn label(self) -> &'static str {
        match self {
            Status::Investigating => "Investigating",
            Status::Identified => "Identified",
            Status::Monitoring => "Monitoring",
            Status::Resolved => "Resolved",
        }
    }

    pub fn is_open(self) -> bool {
        self != Status::Resolved
    }

    pub fn parse(value: &str) -> Result<Self, AppError> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == value.trim())
            .ok_or_else(|| {
                AppError::invalid(
                    "status",
                    format!(
                    "Unknown status \"{}\": use investigating, identified, monitoring or resolved.",
                    value.trim()
                ),
                )
            })
    }

    /// The one rule for status changes. An open incident may move to any other status
    /// (forwards as it is understood and fixed, backwards when a fix does not hold); a
    /// resolved incident may only be reopened, which puts it back to investigating.
    pub fn check_transition(self, to: Status) -> Result<(), AppError> {
        if self == to {
            return Err(AppError::Conflict(format!(
                "The incident is already {}.",
                self.as_str()
            )));
        }
        if self == Status::Resolved && to != Status::Investigating {
            return Err(AppError::Conflict(format!(
                "A resolved incident cannot move to {}: reopen it first (it goes back to investigating).",
                to.as_str()
            )));
        }
        Ok(())
    }

    /// The statuses this one may move to, in lifecycle order (for the room's buttons).
    pub fn next_choices(self) -> Vec<Status> {
        Status::ALL
            .into_iter()
            .filter(|to| self.check_transition(*to).is_ok())
            .collect()
    }
}

/// Milestones of an incident, set as its status moves.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestones {
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub mitigated_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl Milestones {
    /// Milestones after a (legal) move from `from` to `to` at `now`. Leaving
    /// investigating acknowledges; monitoring or resolved means mitigated; resolving
    /// stamps the time; reopening clears mitigation and resolution (the timeline keeps them).
    pub fn after_transition(&self, from: Status, to: Status, now: DateTime<Utc>) -> Milestones {
        let mut next = self.clone();
        if from == Status::Resolved {
            next.mitigated_at = None;
            next.resolved_at = None;
            return next;
        }
        next.acknowledged_at.get_or_insert(now);
        if matches!(to, Status::Monitoring | Status::Resolved) {
            next.mitigated_at.get_or_insert(now);
        }
        if to == Status::Resolved {
            next.resolved_at = Some(now);
        }
        if matches!(to, Status::Investigating | Status::Identified) {
            next.mitigated_at = None;
        }
        next
    }
}

/// The people-roles of an incident. All but fixers have one holder at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Commander,
    Scribe,
    Liaison,
    Fixer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Commander, Role::Scribe, Role::Liaison, Role::Fixer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Commander => "commander",
            Role::Scribe => "scribe",
            Role::Liaison => "liaison",
            Role::Fixer => "fixer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Commander => "Incident commander",
            Role::Scribe => "Note taker",
            Role::Liaison => "Communications liaison",
            Role::Fixer => "Fixer",
        }
    }

    /// Whether a new holder replaces the current one (a handoff) rather than joining.
    pub fn single_holder(self) -> bool {
        self != Role::Fixer
    }

    pub fn parse(value: &str) -> Result<Self, AppError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == value.trim())
            .ok_or_else(|| {
                AppError::invalid(
                    "role",
                    format!(
                        "Unknown role \"{}\": use commander, scribe, liaison or fixer.",
                        value.trim()
                    ),
                )
            })
    }
}

/// A severity level as configured (data, not code).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Severity {
    pub key: String,
    pub name: String,
    pub description: String,
    pub color: String,
    pub response_target_seconds: i32,
    pub rank: i32,
}

/// Someone holding a role now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleHolder {
    pub role: Role,
    pub person: Person,
    pub since: DateTime<Utc>,
}

/// One stint of one person in one role, for the role history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleStint {
    pub role: Role,
    pub person: Person,
    pub assigned_by: Person,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// The live state of an incident: what the room's header and sidebar show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentSummary {
    pub id: i64,
    pub title: String,
    pub summary_html: String,
    pub severity: Severity,
    pub status: Status,
    pub declared_by: Person,
    pub declared_at: DateTime<Utc>,
    pub milestones: Milestones,
    pub roles: Vec<RoleHolder>,
}

impl IncidentSummary {
    pub fn holders(&self, role: Role) -> impl Iterator<Item = &RoleHolder> {
        self.roles.iter().filter(move |h| h.role == role)
    }
}

/// One row of the incident list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentListItem {
    pub id: i64,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub declared_at: DateTime<Utc>,
    pub commander: Option<Person>,
}

/// One page of the incident list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentListPage {
    pub items: Vec<IncidentListItem>,
    /// This page's number, from 1.
    pub page: i64,
    /// Whether a further page exists.
    pub has_next: bool,
}

/// Incidents per page of the list.
pub const INCIDENTS_PER_PAGE: i64 = 50;

/// The current text of a note or decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteBody {
    pub body_md: String,
    pub body_html: String,
    pub revision: i32,
}

/// What an incident's own changes record on its timeline (the status page's are
/// `status::model::StatusEvent`; `timeline::model::EntryEvent` joins the domains).
/// The `kind` tag is the timeline row's `kind` column; the rest is its `details`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, strum::EnumDiscriminants)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[strum_discriminants(
    name(IncidentEventKind),
    derive(strum::EnumIter, strum::IntoStaticStr),
    strum(serialize_all = "snake_case")
)]
pub enum IncidentEvent {
    Declared {
        title: String,
        severity: String,
    },
    StatusChanged {
        from: Status,
        to: Status,
    },
    SeverityChanged {
        from: String,
        to: String,
    },
    /// `previous` is set when this was a handoff from someone else.
    RoleAssigned {
        role: Role,
        person: Person,
        previous: Option<Person>,
    },
    RoleEnded {
        role: Role,
        person: Person,
    },
    Note(NoteBody),
    Decision(NoteBody),
    NoteEdited {
        target_id: i64,
        body: NoteBody,
    },
    Pinned {
        target_id: i64,
    },
    Unpinned {
        target_id: i64,
    },
}

impl IncidentEvent {
    /// The value of the `kind` column.
    pub fn kind(&self) -> &'static str {
        IncidentEventKind::from(self).into()
    }

    /// Every kind this domain writes.
    pub fn kinds() -> impl Iterator<Item = &'static str> {
        use strum::IntoEnumIterator;
        IncidentEventKind::iter().map(<&'static str>::from)
    }

    pub fn is_role_change(&self) -> bool {
        matches!(
            self,
            IncidentEvent::RoleAssigned { .. } | IncidentEvent::RoleEnded { .. }
        )
    }

    /// What the entry says, in words, after its author's name ("changed status from
    /// Investigating to Identified"); `author_id` tells "took the role" from "made X …".
    /// Notes and decisions say their Markdown source as written.
    pub fn describe(&self, author_id: i64) -> String {
        match self {
            IncidentEvent::Declared { title, severity } => {
                format!("declared the incident as {severity}: {title}")
            }
            IncidentEvent::StatusChanged { from, to } => {
                format!("changed status from {} to {}", from.label(), to.label())
            }
            IncidentEvent::SeverityChanged { from, to } => {
                format!("changed severity from {from} to {to}")
            }
            IncidentEvent::RoleAssigned {
                role,
                person,
                previous,
            } => match previous {
                Some(previous) if person.id == author_id => {
                    format!("took over as {} from {}", role.label(), previous.name)
                }
                Some(previous) => format!(
                    "handed {} from {} to {}",
                    role.label(),
                    previous.name,
                    person.name
                ),
                None if person.id == author_id => format!("took the role of {}", role.label()),
                None => format!("made {} {}", person.name, role.label()),
            },
            IncidentEvent::RoleEnded { role, person } => {
                if person.id == author_id {
                    format!("stepped down as {}", role.label())
                } else {
                    format!("relieved {} as {}", person.name, role.label())
                }
            }
            IncidentEvent::Note(body) => body.body_md.clone(),
            IncidentEvent::Decision(body) => format!("Decision: {}", body.body_md),
            IncidentEvent::NoteEdited { target_id, body } => {
                format!("edited entry #{target_id} (version {})", body.revision)
            }
            IncidentEvent::Pinned { target_id } => format!("pinned entry #{target_id}"),
            IncidentEvent::Unpinned { target_id } => format!("unpinned entry #{target_id}"),
        }
    }
}

/// How many timeline entries the room loads at a time (the newest first, older ones on
/// request).
pub const TIMELINE_PAGE_SIZE: i64 = 100;

/// A previous (or current) version of a note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteRevision {
    pub revision: i32,
    pub body_html: String,
    pub edited_by: Person,
    pub edited_at: DateTime<Utc>,
}

/// What one live event carries: the new entry and the incident as it is now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveEntry {
    pub entry: TimelineEntry,
    pub incident: IncidentSummary,
}

/// Who is in the room now (one live presence event).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub viewers: Vec<Person>,
}

/// Everything the incident room needs on first render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomData {
    pub incident: IncidentSummary,
    /// The newest entries; older ones are loaded on request.
    pub timeline: TimelinePage,
    /// The notes and decisions pinned now (also when older than the loaded page).
    pub pinned: Vec<TimelineEntry>,
    pub severities: Vec<Severity>,
    pub people: Vec<Person>,
    pub bridge_url: String,
    pub me: Person,
    /// Whether `me` may change the incident (the server checks again on every change).
    pub can_work: bool,
    pub now: DateTime<Utc>,
}

/// A title, trimmed, 1–200 characters, one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentTitle(String);

impl IncidentTitle {
    pub fn parse(value: &str) -> Result<Self, AppError> {
        let title = value.trim();
        if title.is_empty() {
            return Err(AppError::invalid("title", "Give the incident a title."));
        }
        if title.chars().count() > 200 {
            return Err(AppError::invalid(
                "title",
                "Keep the title under 200 characters.",
            ));
        }
        if title.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "title",
                "The title must be a single line.",
            ));
        }
        Ok(IncidentTitle(title.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Markdown text of a note, decision or summary: trimmed, at most 20,000 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkdownText(String);

impl MarkdownText {
    pub const MAX_CHARS: usize = 20_000;

    /// Parses a required text (notes, decisions).
    pub fn parse(field: &str, value: &str) -> Result<Self, AppError> {
        let text = Self::parse_optional(field, value)?;
        if text.0.is_empty() {
            return Err(AppError::invalid(field, "Write something first."));
        }
        Ok(text)
    }

    /// Parses a text that may be empty (an incident's summary).
    pub fn parse_optional(field: &str, value: &str) -> Result<Self, AppError> {
        let text = value.trim();
        if text.chars().count() > Self::MAX_CHARS {
            return Err(AppError::invalid(field, "Keep it under 20,000 characters."));
        }
        Ok(MarkdownText(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether a new timeline text is a plain note or a recorded decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteKind {
    Note,
    Decision,
}

impl NoteKind {
    pub fn parse(value: &str) -> Result<Self, AppError> {
        match value.trim() {
            "" | "note" => Ok(NoteKind::Note),
            "decision" => Ok(NoteKind::Decision),
            other => Err(AppError::invalid(
                "kind",
                format!("Unknown entry kind \"{other}\": use note or decision."),
            )),
        }
    }
}

/// Lower-case words of the title joined by dashes, prefixed by the incident number:
/// readable in a bridge URL and unique per incident.
pub fn bridge_slug(incident_id: i64, title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(6)
        .map(|w| w.to_ascii_lowercase())
        .collect();
    if words.is_empty() {
        format!("inc-{incident_id}")
    } else {
        format!("inc-{incident_id}-{}", words.join("-"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn every_open_status_may_move_to_every_other_status() {
        for from in Status::ALL.into_iter().filter(|s| s.is_open()) {
            for to in Status::ALL.into_iter().filter(|to| *to != from) {
                assert!(from.check_transition(to).is_ok(), "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn a_resolved_incident_can_only_be_reopened() {
        assert!(Status::Resolved
            .check_transition(Status::Investigating)
            .is_ok());
        for to in [Status::Identified, Status::Monitoring, Status::Resolved] {
            let err = Status::Resolved.check_transition(to).unwrap_err();
            assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
        }
        assert_eq!(Status::Resolved.next_choices(), vec![Status::Investigating]);
    }

    #[test]
    fn moving_to_the_same_status_is_refused_with_a_clear_message() {
        let err = Status::Monitoring
            .check_transition(Status::Monitoring)
            .unwrap_err();
        assert_eq!(err.to_string(), "The incident is already monitoring.");
    }

    #[test]
    fn milestones_follow_the_lifecycle() {
        let t = |m| Utc.with_ymd_and_hms(2026, 11, 21, 3, m, 0).unwrap();
        let start = Milestones::default();
        let identified = start.after_transition(Status::Investigating, Status::Identified, t(5));
        assert_eq!(identified.acknowledged_at, Some(t(5)));
        assert_eq!(identified.mitigated_at, None);
        let monitoring = identified.after_transition(Status::Identified, Status::Monitoring, t(20));
        assert_eq!(monitoring.acknowledged_at, Some(t(5)), "acknowledged once");
        assert_eq!(monitoring.mitigated_at, Some(t(20)));
        let resolved = monitoring.after_transition(Status::Monitoring, Status::Resolved, t(40));
        assert_eq!(resolved.mitigated_at, Some(t(20)), "mitigation time kept");
        assert_eq!(resolved.resolved_at, Some(t(40)));
        let reopened = resolved.after_transition(Status::Resolved, Status::Investigating, t(50));
        assert_eq!(reopened.acknowledged_at, Some(t(5)));
        assert_eq!((reopened.mitigated_at, reopened.resolved_at), (None, None));
    }

    #[test]
    fn statuses_and_roles_parse_only_known_values() {
        assert_eq!(Status::parse(" monitoring ").unwrap(), Status::Monitoring);
        assert!(Status::parse("fixed")
            .unwrap_err()
            .to_string()
            .contains("Unknown status"));
        assert_eq!(Role::parse("scribe").unwrap(), Role::Scribe);
        assert!(Role::parse("boss").is_err());
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(
            IncidentTitle::parse("  API down ").unwrap().as_str(),
            "API down"
        );
        assert!(IncidentTitle::parse("   ").is_err());
        assert!(IncidentTitle::parse(&"x".repeat(201)).is_err());
        assert!(IncidentTitle::parse("two\nlines").is_err());
    }

    #[test]
    fn entry_events_round_trip_through_json_with_their_kind() {
        let event = IncidentEvent::StatusChanged {
            from: Status::Investigating,
            to: Status::Identified,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["kind"], event.kind());
        assert_eq!(event.kind(), "status_changed");
        assert_eq!(
            serde_json::from_value::<IncidentEvent>(json).unwrap(),
            event
        );
    }

    #[test]
    fn entries_say_what_happened_in_words() {
        let alice = Person {
            id: 1,
            name: "Alice".into(),
        };
        let bob = Person {
            id: 2,
            name: "Bob".into(),
        };
        let status = IncidentEvent::StatusChanged {
            from: Status::Investigating,
            to: Status::Identified,
        };
        assert_eq!(
            status.describe(1),
            "changed status from Investigating to Identified"
        );
        let handoff = IncidentEvent::RoleAssigned {
            role: Role::Commander,
            person: bob.clone(),
            previous: Some(alice.clone()),
        };
        assert_eq!(
            handoff.describe(2),
            "took over as Incident commander from Alice"
        );
        assert_eq!(
            handoff.describe(3),
            "handed Incident commander from Alice to Bob"
        );
        let first = IncidentEvent::RoleAssigned {
            role: Role::Scribe,
            person: alice.clone(),
            previous: None,
        };
        assert_eq!(first.describe(1), "took the role of Note taker");
        assert_eq!(first.describe(2), "made Alice Note taker");
        let ended = IncidentEvent::RoleEnded {
            role: Role::Fixer,
            person: bob,
        };
        assert_eq!(ended.describe(2), "stepped down as Fixer");
        assert_eq!(ended.describe(1), "relieved Bob as Fixer");
    }

    #[test]
    fn bridge_slugs_are_url_safe() {
        assert_eq!(
            bridge_slug(42, "Checkout: 500s in EU!"),
            "inc-42-checkout-500s-in-eu"
        );
        assert_eq!(bridge_slug(7, "¿¿"), "inc-7");
    }
}
