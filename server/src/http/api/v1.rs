//! The token API's wire format (`/api/v1`): the JSON it answers and accepts, as types of
//! its own with explicit conversions from the app's internal ones, so that a change to
//! the room or the incident list cannot silently change what scripts read. The field
//! names are the API's contract (README, OpenAPI document): change them only with a new
//! version.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warroom_app::incidents::model as incidents;
use warroom_app::status::model as status;
use warroom_app::timeline::model::EntryEvent;

/// Every refused or failed request: what went wrong, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Error {
    pub error: String,
}

/// A person (or a token's service account, named "… (API token)").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Person {
    pub id: i64,
    pub name: String,
}

impl From<&warroom_app::auth::model::Person> for Person {
    fn from(person: &warroom_app::auth::model::Person) -> Self {
        Person {
            id: person.id,
            name: person.name.clone(),
        }
    }
}

/// Where an incident is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl From<incidents::Status> for IncidentStatus {
    fn from(value: incidents::Status) -> Self {
        match value {
            incidents::Status::Investigating => IncidentStatus::Investigating,
            incidents::Status::Identified => IncidentStatus::Identified,
            incidents::Status::Monitoring => IncidentStatus::Monitoring,
            incidents::Status::Resolved => IncidentStatus::Resolved,
        }
    }
}

/// Which incidents a list answers: `open` (every status but resolved), `all`, or one
/// status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    Open,
    All,
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

/// A role people hold in an incident; all but `fixer` have one holder at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentRole {
    Commander,
    Scribe,
    Liaison,
    Fixer,
}

impl From<incidents::Role> for IncidentRole {
    fn from(value: incidents::Role) -> Self {
        match value {
            incidents::Role::Commander => IncidentRole::Commander,
            incidents::Role::Scribe => IncidentRole::Scribe,
            incidents::Role::Liaison => IncidentRole::Liaison,
            incidents::Role::Fixer => IncidentRole::Fixer,
        }
    }
}

/// A severity level as configured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Severity {
    /// What `POST /api/v1/incidents` takes, e.g. `SEV2`.
    pub key: String,
    pub name: String,
    pub description: String,
    /// A CSS colour.
    pub color: String,
    /// Seconds within which an incident of this severity should be acknowledged.
    pub response_target_seconds: i32,
    /// 1 is the most severe.
    pub rank: i32,
}

impl From<&incidents::Severity> for Severity {
    fn from(value: &incidents::Severity) -> Self {
        Severity {
            key: value.key.clone(),
            name: value.name.clone(),
            description: value.description.clone(),
            color: value.color.clone(),
            response_target_seconds: value.response_target_seconds,
            rank: value.rank,
        }
    }
}

/// One incident of a list.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct IncidentListItem {
    pub id: i64,
    pub title: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub declared_at: DateTime<Utc>,
    /// The incident commander, if someone holds the role.
    pub commander: Option<Person>,
}

impl From<&incidents::IncidentListItem> for IncidentListItem {
    fn from(value: &incidents::IncidentListItem) -> Self {
        IncidentListItem {
            id: value.id,
            title: value.title.clone(),
            severity: (&value.severity).into(),
            status: value.status.into(),
            declared_at: value.declared_at,
            commander: value.commander.as_ref().map(Person::from),
        }
    }
}

/// `GET /api/v1/incidents`: one page of incidents, open ones first, most severe first,
/// newest first.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct IncidentList {
    pub incidents: Vec<IncidentListItem>,
    /// This page's number, from 1.
    pub page: i64,
    /// The next page's number; `null` on the last page.
    pub next_page: Option<i64>,
}

impl From<&incidents::IncidentListPage> for IncidentList {
    fn from(value: &incidents::IncidentListPage) -> Self {
        IncidentList {
            incidents: value.items.iter().map(IncidentListItem::from).collect(),
            page: value.page,
            next_page: value.has_next.then_some(value.page + 1),
        }
    }
}

/// When an incident reached its milestones (reopening clears mitigation and resolution).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Milestones {
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub mitigated_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Someone holding a role now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoleHolder {
    pub role: IncidentRole,
    pub person: Person,
    pub since: DateTime<Utc>,
}

/// An incident's current state.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Incident {
    pub id: i64,
    pub title: String,
    /// The summary as sanitised HTML.
    pub summary_html: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub declared_by: Person,
    pub declared_at: DateTime<Utc>,
    pub milestones: Milestones,
    pub roles: Vec<RoleHolder>,
}

impl From<&incidents::IncidentSummary> for Incident {
    fn from(value: &incidents::IncidentSummary) -> Self {
        Incident {
            id: value.id,
            title: value.title.clone(),
            summary_html: value.summary_html.clone(),
            severity: (&value.severity).into(),
            status: value.status.into(),
            declared_by: (&value.declared_by).into(),
            declared_at: value.declared_at,
            milestones: Milestones {
                acknowledged_at: value.milestones.acknowledged_at,
                mitigated_at: value.milestones.mitigated_at,
                resolved_at: value.milestones.resolved_at,
            },
            roles: value
                .roles
                .iter()
                .map(|holder| RoleHolder {
                    role: holder.role.into(),
                    person: (&holder.person).into(),
                    since: holder.since,
                })
                .collect(),
        }
    }
}

/// The status of a public update (what the status page reads).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PublicStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl From<status::PublicStatus> for PublicStatus {
    fn from(value: status::PublicStatus) -> Self {
        match value {
            status::PublicStatus::Investigating => PublicStatus::Investigating,
            status::PublicStatus::Identified => PublicStatus::Identified,
            status::PublicStatus::Monitoring => PublicStatus::Monitoring,
            status::PublicStatus::Resolved => PublicStatus::Resolved,
        }
    }
}

/// How an incident affects a public component.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl From<status::Impact> for Impact {
    fn from(value: status::Impact) -> Self {
        match value {
            status::Impact::DegradedPerformance => Impact::DegradedPerformance,
            status::Impact::PartialOutage => Impact::PartialOutage,
            status::Impact::MajorOutage => Impact::MajorOutage,
        }
    }
}

/// The text of a note or decision, as written (Markdown) and as shown (sanitised HTML).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct NoteBody {
    pub body_md: String,
    pub body_html: String,
    /// 1 for the first version, one more per edit.
    pub revision: i32,
}

impl From<&incidents::NoteBody> for NoteBody {
    fn from(value: &incidents::NoteBody) -> Self {
        NoteBody {
            body_md: value.body_md.clone(),
            body_html: value.body_html.clone(),
            revision: value.revision,
        }
    }
}

/// What a timeline entry records, by `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Declared {
        title: String,
        /// The severity's key.
        severity: String,
    },
    StatusChanged {
        from: IncidentStatus,
        to: IncidentStatus,
    },
    /// Severity keys.
    SeverityChanged {
        from: String,
        to: String,
    },
    /// `previous` is set when this was a handoff from someone else.
    RoleAssigned {
        role: IncidentRole,
        person: Person,
        previous: Option<Person>,
    },
    RoleEnded {
        role: IncidentRole,
        person: Person,
    },
    Note {
        body_md: String,
        body_html: String,
        revision: i32,
    },
    Decision {
        body_md: String,
        body_html: String,
        revision: i32,
    },
    /// The note or decision `target_id` was edited to `body`.
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
    /// A public update went to the status page (and to its subscribers).
    PublicUpdate {
        status: PublicStatus,
        title: String,
        body_md: String,
    },
    /// What the incident does to a public component changed (`null`: not affected).
    ImpactChanged {
        component: String,
        from: Option<Impact>,
        to: Option<Impact>,
    },
    /// The incident was kept off the status page, or allowed on it again.
    VisibilityChanged {
        private: bool,
    },
}

impl From<&EntryEvent> for Event {
    fn from(value: &EntryEvent) -> Self {
        match value {
            EntryEvent::Incident(event) => event.into(),
            EntryEvent::Status(event) => event.into(),
        }
    }
}

impl From<&incidents::IncidentEvent> for Event {
    fn from(value: &incidents::IncidentEvent) -> Self {
        use incidents::IncidentEvent as E;
        match value {
            E::Declared { title, severity } => Event::Declared {
                title: title.clone(),
                severity: severity.clone(),
            },
            E::StatusChanged { from, to } => Event::StatusChanged {
                from: (*from).into(),
                to: (*to).into(),
            },
            E::SeverityChanged { from, to } => Event::SeverityChanged {
                from: from.clone(),
                to: to.clone(),
            },
            E::RoleAssigned {
                role,
                person,
                previous,
            } => Event::RoleAssigned {
                role: (*role).into(),
                person: person.into(),
                previous: previous.as_ref().map(Person::from),
            },
            E::RoleEnded { role, person } => Event::RoleEnded {
                role: (*role).into(),
                person: person.into(),
            },
            E::Note(body) => Event::Note {
                body_md: body.body_md.clone(),
                body_html: body.body_html.clone(),
                revision: body.revision,
            },
            E::Decision(body) => Event::Decision {
                body_md: body.body_md.clone(),
                body_html: body.body_html.clone(),
                revision: body.revision,
            },
            E::NoteEdited { target_id, body } => Event::NoteEdited {
                target_id: *target_id,
                body: body.into(),
            },
            E::Pinned { target_id } => Event::Pinned {
                target_id: *target_id,
            },
            E::Unpinned { target_id } => Event::Unpinned {
                target_id: *target_id,
            },
        }
    }
}

impl From<&status::StatusEvent> for Event {
    fn from(value: &status::StatusEvent) -> Self {
        use status::StatusEvent as E;
        match value {
            E::PublicUpdate {
                status,
                title,
                body_md,
                ..
            } => Event::PublicUpdate {
                status: (*status).into(),
                title: title.clone(),
                body_md: body_md.clone(),
            },
            E::ImpactChanged {
                component,
                from,
                to,
            } => Event::ImpactChanged {
                component: component.clone(),
                from: from.map(Impact::from),
                to: to.map(Impact::from),
            },
            E::VisibilityChanged { private } => Event::VisibilityChanged { private: *private },
        }
    }
}

/// One line of an incident's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub id: i64,
    pub incident_id: i64,
    pub author: Person,
    pub created_at: DateTime<Utc>,
    pub event: Event,
}

impl From<&warroom_app::timeline::model::TimelineEntry> for TimelineEntry {
    fn from(value: &warroom_app::timeline::model::TimelineEntry) -> Self {
        TimelineEntry {
            id: value.id,
            incident_id: value.incident_id,
            author: (&value.author).into(),
            created_at: value.created_at,
            event: (&value.event).into(),
        }
    }
}

/// `GET /api/v1/incidents/{id}`: the incident and a page of its timeline, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct IncidentDetail {
    pub incident: Incident,
    pub timeline: Vec<TimelineEntry>,
    /// The `before` that reads the page before this one; `null` at the start.
    pub timeline_older_than: Option<i64>,
}

/// `POST /api/v1/incidents`: what to declare.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[schema(example = json!({
    "title": "Checkout errors",
    "summary": "Alertmanager: *checkout* 5xx over 2%",
    "severity": "SEV2"
}))]
pub struct Declaration {
    /// One line, 1 to 200 characters.
    pub title: String,
    /// Markdown, at most 20,000 characters; may be left out.
    #[serde(default)]
    pub summary: String,
    /// A severity's key, e.g. `SEV2`.
    pub severity: String,
}

impl Declaration {
    /// Text with a NUL character cannot be stored (Postgres text refuses it): refused
    /// here, naming the field, rather than failing in the database.
    pub fn check_text(&self) -> Result<(), warroom_app::error::AppError> {
        for (field, value) in [
            ("title", &self.title),
            ("summary", &self.summary),
            ("severity", &self.severity),
        ] {
            if value.contains('\0') {
                return Err(warroom_app::error::AppError::invalid(
                    field,
                    format!("The {field} contains a NUL character."),
                ));
            }
        }
        Ok(())
    }
}

/// A declared incident: its id and the room's address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
    /// The incident room, e.g. `/incidents/42`.
    pub url: String,
}

#[cfg(test)]
mod tests {
    //! The wire format, pinned: a snapshot of every answer type with every kind of timeline
    //! entry. A change to the app's internal types that would change these fails here.

    use chrono::{TimeZone, Utc};
    use warroom_app::auth::model::Person;
    use warroom_app::incidents::model as incidents;
    use warroom_app::status::model as status;
    use warroom_app::timeline::model::EntryEvent;

    use super::{IncidentDetail, IncidentList, TimelineEntry};

    fn person(id: i64, name: &str) -> Person {
        Person {
            id,
            name: name.into(),
        }
    }

    fn severity() -> incidents::Severity {
        incidents::Severity {
            key: "SEV2".into(),
            name: "Major".into(),
            description: "Many customers affected".into(),
            color: "#d9480f".into(),
            response_target_seconds: 900,
            rank: 2,
        }
    }

    fn events() -> Vec<EntryEvent> {
        use incidents::IncidentEvent as E;
        use status::StatusEvent as S;
        let body = incidents::NoteBody {
            body_md: "roll *back*".into(),
            body_html: "<p>roll <em>back</em></p>".into(),
            revision: 1,
        };
        let own = vec![
            E::Declared {
                title: "Checkout errors".into(),
                severity: "SEV2".into(),
            },
            E::StatusChanged {
                from: incidents::Status::Investigating,
                to: incidents::Status::Identified,
            },
            E::SeverityChanged {
                from: "SEV2".into(),
                to: "SEV1".into(),
            },
            E::RoleAssigned {
                role: incidents::Role::Commander,
                person: person(2, "Rita"),
                previous: Some(person(3, "Sam")),
            },
            E::RoleEnded {
                role: incidents::Role::Fixer,
                person: person(3, "Sam"),
            },
            E::Note(body.clone()),
            E::Decision(body.clone()),
            E::NoteEdited {
                target_id: 6,
                body: incidents::NoteBody {
                    revision: 2,
                    ..body
                },
            },
            E::Pinned { target_id: 6 },
            E::Unpinned { target_id: 6 },
        ];
        let public = vec![
            S::PublicUpdate {
                status: status::PublicStatus::Identified,
                title: "Checkout is failing".into(),
                body_md: "We found the cause.".into(),
                update_id: Some(3),
            },
            S::ImpactChanged {
                component: "Checkout".into(),
                from: None,
                to: Some(status::Impact::PartialOutage),
            },
            S::VisibilityChanged { private: true },
        ];
        own.into_iter()
            .map(EntryEvent::from)
            .chain(public.into_iter().map(EntryEvent::from))
            .collect()
    }

    #[test]
    fn the_incident_answer_keeps_its_wire_format() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap();
        let incident = incidents::IncidentSummary {
            id: 42,
            title: "Checkout errors".into(),
            summary_html: "<p>5xx</p>".into(),
            severity: severity(),
            status: incidents::Status::Identified,
            declared_by: person(5, "Alertmanager (API token)"),
            declared_at: at,
            milestones: incidents::Milestones {
                acknowledged_at: Some(at),
                mitigated_at: None,
                resolved_at: None,
            },
            roles: vec![incidents::RoleHolder {
                role: incidents::Role::Commander,
                person: person(2, "Rita"),
                since: at,
            }],
        };
        let timeline: Vec<TimelineEntry> = events()
            .into_iter()
            .enumerate()
            .map(|(n, event)| warroom_app::timeline::model::TimelineEntry {
                id: n as i64 + 1,
                incident_id: 42,
                author: person(2, "Rita"),
                created_at: at,
                event,
            })
            .map(|entry| TimelineEntry::from(&entry))
            .collect();
        let answer = IncidentDetail {
            incident: (&incident).into(),
            timeline,
            timeline_older_than: Some(1),
        };
        insta::assert_json_snapshot!("incident_detail", answer);
    }

    #[test]
    fn the_list_answer_keeps_its_wire_format() {
        let page = incidents::IncidentListPage {
            items: vec![incidents::IncidentListItem {
                id: 42,
                title: "Checkout errors".into(),
                severity: severity(),
                status: incidents::Status::Investigating,
                declared_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap(),
                commander: None,
            }],
            page: 2,
            has_next: true,
        };
        insta::assert_json_snapshot!("incident_list", IncidentList::from(&page));
    }
}
