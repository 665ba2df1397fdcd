//! Timeline entries as every domain writes them: the incident's own events and the status
//! page's, joined in one `EntryEvent`, and how each reads in words.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::model::Person;
use crate::incidents::model::IncidentEvent;
use crate::status::model::StatusEvent;

/// What a timeline entry records, by the domain that wrote it. Stored and sent as the
/// domain's own JSON (`{"kind": "status_changed", …}`): the kind names the domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EntryEvent {
    Incident(IncidentEvent),
    Status(StatusEvent),
}

impl From<IncidentEvent> for EntryEvent {
    fn from(event: IncidentEvent) -> Self {
        EntryEvent::Incident(event)
    }
}

impl From<StatusEvent> for EntryEvent {
    fn from(event: StatusEvent) -> Self {
        EntryEvent::Status(event)
    }
}

impl EntryEvent {
    /// The value of the `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            EntryEvent::Incident(event) => event.kind(),
            EntryEvent::Status(event) => event.kind(),
        }
    }

    /// Every kind any domain writes: what the database's CHECK on `timeline_entries.kind`
    /// must allow (a test compares them).
    pub fn kinds() -> Vec<&'static str> {
        IncidentEvent::kinds().chain(StatusEvent::kinds()).collect()
    }

    /// What the entry says, in words, after its author's name ("changed status from
    /// Investigating to Identified"): the one wording the room, notifications and exports
    /// share. `author_id` is the entry's author.
    pub fn describe(&self, author_id: i64) -> String {
        match self {
            EntryEvent::Incident(event) => event.describe(author_id),
            EntryEvent::Status(event) => event.describe(),
        }
    }

    /// The incident's own event, if this is one.
    pub fn incident(&self) -> Option<&IncidentEvent> {
        match self {
            EntryEvent::Incident(event) => Some(event),
            EntryEvent::Status(_) => None,
        }
    }
}

/// One line of the timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub id: i64,
    pub incident_id: i64,
    pub author: Person,
    pub created_at: DateTime<Utc>,
    pub event: EntryEvent,
}

/// One page of a timeline: entries oldest first, and whether there are older ones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelinePage {
    pub entries: Vec<TimelineEntry>,
    pub older: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incidents::model::Status;
    use crate::status::model::{Impact, PublicStatus};

    #[test]
    fn events_of_every_domain_round_trip_as_their_own_json() {
        let events: Vec<EntryEvent> = vec![
            IncidentEvent::StatusChanged {
                from: Status::Investigating,
                to: Status::Identified,
            }
            .into(),
            StatusEvent::ImpactChanged {
                component: "API".into(),
                from: None,
                to: Some(Impact::MajorOutage),
            }
            .into(),
            StatusEvent::PublicUpdate {
                status: PublicStatus::Monitoring,
                title: "Slow checkouts".into(),
                body_md: "A fix is out.".into(),
                update_id: Some(7),
            }
            .into(),
        ];
        for event in events {
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["kind"], event.kind(), "{json}");
            assert_eq!(serde_json::from_value::<EntryEvent>(json).unwrap(), event);
        }
    }

    #[test]
    fn public_updates_written_before_their_id_was_recorded_still_read() {
        let json = serde_json::json!({
            "kind": "public_update", "status": "resolved", "title": "T", "body_md": "done"
        });
        let event: EntryEvent = serde_json::from_value(json).unwrap();
        assert_eq!(event.describe(1), "posted a public update — Resolved: T");
    }

    #[test]
    fn every_kind_is_listed_once() {
        let kinds = EntryEvent::kinds();
        let unique: std::collections::BTreeSet<_> = kinds.iter().collect();
        assert_eq!(unique.len(), kinds.len(), "{kinds:?}");
        assert!(kinds.contains(&"declared") && kinds.contains(&"visibility_changed"));
    }
}
