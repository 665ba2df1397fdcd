//! The status page as JSON in Atlassian Statuspage's public API v2 format (`summary.json`,
//! `status.json`, `components.json`, `incidents*.json`, `scheduled-maintenances*.json`) and
//! its incident webhook body, so that tools written for Statuspage work unchanged.
//!
//! Field names, nesting, value sets and the time format (RFC 3339 with milliseconds, UTC)
//! follow Statuspage's responses. Where Warroom has no such notion the value is
//! Statuspage's default: `showcase` true for components (every component shows its
//! uptime), `only_show_if_degraded` false, `deliver_notifications` true, `custom_tweet` and
//! `tweet_id` null, `time_zone` "Etc/UTC". The page id is derived from the base URL (see
//! [`page_id`]).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use warroom_app::status::model::{
    IncidentImpact, MaintenanceStatus, Placed, PublicComponent, PublicData, PublicGroup,
    PublicIncident, PublicMaintenance, PublicUpdate,
};

/// How many incidents `incidents.json` and maintenances `scheduled-maintenances.json` list.
pub const LIST_LIMIT: usize = 50;

/// `page`: which status page this is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Page {
    pub id: String,
    pub name: String,
    pub url: String,
    pub time_zone: &'static str,
    pub updated_at: String,
}

/// `status`: the page-wide indicator.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Status {
    /// none, minor, major, critical or maintenance.
    pub indicator: &'static str,
    pub description: &'static str,
}

/// A component, or a group (`group: true`, with its members' ids in `components`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Component {
    pub id: String,
    pub name: String,
    /// operational, degraded_performance, partial_outage, major_outage, under_maintenance;
    /// a group's is its worst member's.
    pub status: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub position: i32,
    pub description: Option<String>,
    pub showcase: bool,
    /// The day the component started to count towards uptime (`YYYY-MM-DD`).
    pub start_date: Option<String>,
    pub group_id: Option<String>,
    pub page_id: String,
    pub group: bool,
    pub only_show_if_degraded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
}

/// An incident or a scheduled maintenance (which adds `scheduled_for`/`scheduled_until`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Incident {
    pub id: String,
    pub name: String,
    /// investigating, identified, monitoring, resolved; for maintenance scheduled,
    /// in_progress, verifying, completed.
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub monitoring_at: Option<String>,
    pub resolved_at: Option<String>,
    /// none, minor, major, critical; maintenance for maintenance.
    pub impact: &'static str,
    pub shortlink: String,
    pub started_at: String,
    pub page_id: String,
    pub incident_updates: Vec<IncidentUpdate>,
    pub components: Vec<Component>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_until: Option<String>,
}

/// One update of an incident or a maintenance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IncidentUpdate {
    pub id: String,
    pub status: String,
    /// The text as written (Markdown).
    pub body: String,
    pub incident_id: String,
    pub created_at: String,
    pub updated_at: String,
    pub display_at: String,
    /// `null` when the update changed no component, as Statuspage sends it.
    pub affected_components: Option<Vec<AffectedComponent>>,
    pub deliver_notifications: bool,
    pub custom_tweet: Option<String>,
    pub tweet_id: Option<String>,
}

/// A component whose status an update changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AffectedComponent {
    /// The component's id.
    pub code: String,
    /// "Group - Component" for a grouped component, as Statuspage names them.
    pub name: String,
    pub old_status: &'static str,
    pub new_status: &'static str,
}

/// `GET /api/v2/summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub page: Page,
    pub components: Vec<Component>,
    /// Unresolved incidents.
    pub incidents: Vec<Incident>,
    /// Upcoming and in-progress maintenance.
    pub scheduled_maintenances: Vec<Incident>,
    pub status: Status,
}

/// `GET /api/v2/status.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusDocument {
    pub page: Page,
    pub status: Status,
}

/// `GET /api/v2/components.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Components {
    pub page: Page,
    pub components: Vec<Component>,
}

/// `GET /api/v2/incidents.json` and `/api/v2/incidents/unresolved.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Incidents {
    pub page: Page,
    pub incidents: Vec<Incident>,
}

/// `GET /api/v2/scheduled-maintenances.json`, `…/upcoming.json` and `…/active.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScheduledMaintenances {
    pub page: Page,
    pub scheduled_maintenances: Vec<Incident>,
}

/// What is POSTed to a webhook subscriber when an incident or a maintenance gets an update.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IncidentWebhook {
    pub meta: WebhookMeta,
    pub page: WebhookPage,
    pub incident: Incident,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookMeta {
    pub unsubscribe: String,
    pub documentation: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookPage {
    pub id: String,
    pub status_indicator: &'static str,
    pub status_description: &'static str,
}

/// What a webhook announces: Statuspage sends both as an `incident`.
#[derive(Clone, Copy, Debug)]
pub enum Notice<'a> {
    Incident(&'a PublicIncident),
    Maintenance(&'a PublicMaintenance),
}

/// `summary.json`: page, components, unresolved incidents, upcoming and in-progress
/// maintenance, and the indicator.
pub fn summary(data: &PublicData) -> Summary {
    let page = page(data);
    Summary {
        components: components_of(data, &page.id),
        incidents: data
            .unresolved_incidents()
            .map(|i| incident(data, &page.id, i))
            .collect(),
        scheduled_maintenances: data
            .upcoming_or_active_maintenances()
            .into_iter()
            .map(|m| maintenance(data, &page.id, m))
            .collect(),
        status: status_of(data),
        page,
    }
}

/// `status.json`.
pub fn status(data: &PublicData) -> StatusDocument {
    StatusDocument {
        page: page(data),
        status: status_of(data),
    }
}

/// `components.json`: every visible component and group, in page order (each group
/// followed by its members).
pub fn components(data: &PublicData) -> Components {
    let page = page(data);
    Components {
        components: components_of(data, &page.id),
        page,
    }
}

/// `incidents.json`: the newest 50 incidents, resolved or not.
pub fn incidents(data: &PublicData) -> Incidents {
    let page = page(data);
    Incidents {
        incidents: data
            .incidents
            .iter()
            .take(LIST_LIMIT)
            .map(|i| incident(data, &page.id, i))
            .collect(),
        page,
    }
}

/// `incidents/unresolved.json`.
pub fn unresolved_incidents(data: &PublicData) -> Incidents {
    let page = page(data);
    Incidents {
        incidents: data
            .unresolved_incidents()
            .map(|i| incident(data, &page.id, i))
            .collect(),
        page,
    }
}

/// `scheduled-maintenances.json`: the newest 50 maintenances, any status.
pub fn scheduled_maintenances(data: &PublicData) -> ScheduledMaintenances {
    let page = page(data);
    ScheduledMaintenances {
        scheduled_maintenances: data
            .maintenances
            .iter()
            .take(LIST_LIMIT)
            .map(|m| maintenance(data, &page.id, m))
            .collect(),
        page,
    }
}

/// `scheduled-maintenances/upcoming.json`: not started yet, soonest first.
pub fn upcoming_maintenances(data: &PublicData) -> ScheduledMaintenances {
    maintenances_where(data, |m| m.status == MaintenanceStatus::Scheduled)
}

/// `scheduled-maintenances/active.json`: in progress now.
pub fn active_maintenances(data: &PublicData) -> ScheduledMaintenances {
    maintenances_where(data, |m| m.status == MaintenanceStatus::InProgress)
}

/// The webhook body for `update` of `notice`, shaped like Statuspage's incident webhook.
///
/// It shows the incident as it stood when `update` was posted: its updates up to that one,
/// newest first (so `incident_updates[0]` is the news, which is what consumers read), and
/// its status from that update. A delivery retried after later updates therefore still
/// describes the update it announces. `unsubscribe_url` is the subscriber's own link.
pub fn incident_webhook(
    data: &PublicData,
    notice: Notice<'_>,
    update: &PublicUpdate,
    unsubscribe_url: &str,
) -> IncidentWebhook {
    let page_id = page_id(&data.base_url);
    let mut incident = match notice {
        Notice::Incident(i) => incident(data, &page_id, i),
        Notice::Maintenance(m) => maintenance(data, &page_id, m),
    };
    let as_of = update.created_at;
    let mut updates = std::mem::take(&mut incident.incident_updates);
    match updates.iter().position(|u| u.id == update.id) {
        Some(index) => {
            updates.drain(..index);
        }
        // Not (yet) among the notice's updates: announce it in front of them.
        None => updates.insert(0, incident_update(data, &incident.id, update)),
    }
    incident.incident_updates = updates;
    incident.status = update.status.clone();
    incident.updated_at = time(as_of);
    let not_after = |at: Option<String>, original: Option<DateTime<Utc>>| {
        at.filter(|_| original.is_some_and(|t| t <= as_of))
    };
    match notice {
        Notice::Incident(i) => {
            incident.monitoring_at = not_after(incident.monitoring_at, i.monitoring_at);
            incident.resolved_at = not_after(incident.resolved_at, i.resolved_at);
        }
        Notice::Maintenance(m) => {
            incident.resolved_at = not_after(incident.resolved_at, m.completed_at);
        }
    }
    let indicator = data.indicator();
    IncidentWebhook {
        meta: WebhookMeta {
            unsubscribe: unsubscribe_url.to_string(),
            documentation: format!("{}/status#subscribe", base(data)),
        },
        page: WebhookPage {
            id: page_id,
            status_indicator: indicator.as_str(),
            status_description: indicator.description(),
        },
        incident,
    }
}

/// The page's id: 12 lowercase base-36 characters (Statuspage's shape) taken from the
/// SHA-256 of the base URL without a trailing slash. Stable for as long as the public
/// URL is, and different between two Warroom installations.
pub fn page_id(base_url: &str) -> String {
    let digest = Sha256::digest(base_url.trim_end_matches('/').as_bytes());
    let mut value = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    (0..12)
        .map(|_| {
            let digit = (value % 36) as u32;
            value /= 36;
            char::from_digit(digit, 36).expect("below 36")
        })
        .collect()
}

/// RFC 3339 with milliseconds in UTC (`2026-11-20T10:05:00.000Z`), as Statuspage writes.
fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn base(data: &PublicData) -> &str {
    data.base_url.trim_end_matches('/')
}

fn page(data: &PublicData) -> Page {
    Page {
        id: page_id(&data.base_url),
        name: data.branding.name.clone(),
        url: format!("{}/status", base(data)),
        time_zone: "Etc/UTC",
        updated_at: time(data.changed_at),
    }
}

fn status_of(data: &PublicData) -> Status {
    let indicator = data.indicator();
    Status {
        indicator: indicator.as_str(),
        description: indicator.description(),
    }
}

fn maintenances_where(
    data: &PublicData,
    keep: impl Fn(&PublicMaintenance) -> bool,
) -> ScheduledMaintenances {
    let page = page(data);
    ScheduledMaintenances {
        scheduled_maintenances: data
            .upcoming_or_active_maintenances()
            .into_iter()
            .filter(|m| keep(m))
            .map(|m| maintenance(data, &page.id, m))
            .collect(),
        page,
    }
}

fn group_of<'a>(data: &'a PublicData, component: &PublicComponent) -> Option<&'a PublicGroup> {
    let group_id = component.group_id.as_deref()?;
    data.groups.iter().find(|g| g.id == group_id)
}

fn component(data: &PublicData, page_id: &str, c: &PublicComponent) -> Component {
    Component {
        id: c.id.clone(),
        name: c.name.clone(),
        status: c.status.as_str(),
        created_at: time(c.created_at),
        updated_at: time(c.updated_at),
        position: c.position,
        description: Some(c.description.clone()).filter(|d| !d.is_empty()),
        showcase: true,
        start_date: Some(c.created_at.date_naive().format("%Y-%m-%d").to_string()),
        group_id: group_of(data, c).map(|g| g.id.clone()),
        page_id: page_id.to_string(),
        group: false,
        only_show_if_degraded: false,
        components: None,
    }
}

/// Groups and ungrouped components in position order, each group followed by its members.
fn components_of(data: &PublicData, page_id: &str) -> Vec<Component> {
    let mut out = Vec::with_capacity(data.groups.len() + data.components.len());
    for placed in data.layout() {
        match placed {
            Placed::Group {
                group,
                members,
                worst,
            } => {
                out.push(Component {
                    id: group.id.clone(),
                    name: group.name.clone(),
                    status: worst.as_str(),
                    created_at: time(group.created_at),
                    updated_at: time(group.updated_at),
                    position: group.position,
                    description: Some(group.description.clone()).filter(|d| !d.is_empty()),
                    showcase: false,
                    start_date: None,
                    group_id: None,
                    page_id: page_id.to_string(),
                    group: true,
                    only_show_if_degraded: false,
                    components: Some(members.iter().map(|c| c.id.clone()).collect()),
                });
                out.extend(members.iter().map(|c| component(data, page_id, c)));
            }
            Placed::Component(c) => out.push(component(data, page_id, c)),
        }
    }
    out
}

fn components_by_id(data: &PublicData, page_id: &str, ids: &[&str]) -> Vec<Component> {
    ids.iter()
        .filter_map(|id| data.components.iter().find(|c| c.id == *id))
        .map(|c| component(data, page_id, c))
        .collect()
}

fn incident_update(data: &PublicData, incident_id: &str, u: &PublicUpdate) -> IncidentUpdate {
    let affected: Vec<AffectedComponent> = u
        .affected_components
        .iter()
        .map(|change| {
            let group = data
                .components
                .iter()
                .find(|c| c.id == change.component_id)
                .and_then(|c| group_of(data, c));
            AffectedComponent {
                code: change.component_id.clone(),
                name: match group {
                    Some(group) => format!("{} - {}", group.name, change.name),
                    None => change.name.clone(),
                },
                old_status: change.old_status.as_str(),
                new_status: change.new_status.as_str(),
            }
        })
        .collect();
    IncidentUpdate {
        id: u.id.clone(),
        status: u.status.clone(),
        body: u.body_md.clone(),
        incident_id: incident_id.to_string(),
        created_at: time(u.created_at),
        updated_at: time(u.created_at),
        display_at: time(u.created_at),
        affected_components: Some(affected).filter(|a| !a.is_empty()),
        deliver_notifications: true,
        custom_tweet: None,
        tweet_id: None,
    }
}

fn incident(data: &PublicData, page_id: &str, i: &PublicIncident) -> Incident {
    let ids: Vec<&str> = i.component_ids.iter().map(String::as_str).collect();
    Incident {
        id: i.id.clone(),
        name: i.name.clone(),
        status: i.status.as_str().to_string(),
        created_at: time(i.created_at),
        updated_at: time(i.updated_at),
        monitoring_at: i.monitoring_at.map(time),
        resolved_at: i.resolved_at.map(time),
        impact: i.impact.as_str(),
        shortlink: format!("{}/status/incidents/{}", base(data), i.id),
        started_at: time(i.started_at),
        page_id: page_id.to_string(),
        incident_updates: i
            .updates
            .iter()
            .map(|u| incident_update(data, &i.id, u))
            .collect(),
        // Every component it affected, so that resolved incidents keep theirs.
        components: components_by_id(data, page_id, &ids),
        scheduled_for: None,
        scheduled_until: None,
    }
}

fn maintenance(data: &PublicData, page_id: &str, m: &PublicMaintenance) -> Incident {
    let ids: Vec<&str> = m
        .components
        .iter()
        .map(|c| c.component_id.as_str())
        .collect();
    Incident {
        id: m.id.clone(),
        name: m.name.clone(),
        status: m.status.as_str().to_string(),
        created_at: time(m.created_at),
        updated_at: time(m.updated_at),
        monitoring_at: None,
        resolved_at: m.completed_at.map(time),
        impact: IncidentImpact::Maintenance.as_str(),
        shortlink: format!("{}/status/maintenances/{}", base(data), m.id),
        started_at: time(m.started_at.unwrap_or(m.scheduled_for)),
        page_id: page_id.to_string(),
        incident_updates: m
            .updates
            .iter()
            .map(|u| incident_update(data, &m.id, u))
            .collect(),
        components: components_by_id(data, page_id, &ids),
        scheduled_for: Some(time(m.scheduled_for)),
        scheduled_until: Some(time(m.scheduled_until)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::pages::fixture::small;
    use serde_json::Value;
    use std::collections::BTreeSet;

    const PAGE_KEYS: &[&str] = &["id", "name", "url", "time_zone", "updated_at"];
    const STATUS_KEYS: &[&str] = &["indicator", "description"];
    const COMPONENT_KEYS: &[&str] = &[
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "position",
        "description",
        "showcase",
        "start_date",
        "group_id",
        "page_id",
        "group",
        "only_show_if_degraded",
    ];
    const INCIDENT_KEYS: &[&str] = &[
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "monitoring_at",
        "resolved_at",
        "impact",
        "shortlink",
        "started_at",
        "page_id",
        "incident_updates",
        "components",
    ];
    const UPDATE_KEYS: &[&str] = &[
        "id",
        "status",
        "body",
        "incident_id",
        "created_at",
        "updated_at",
        "display_at",
        "affected_components",
        "deliver_notifications",
        "custom_tweet",
        "tweet_id",
    ];
    const AFFECTED_KEYS: &[&str] = &["code", "name", "old_status", "new_status"];

    fn json(value: impl Serialize) -> Value {
        serde_json::to_value(value).unwrap()
    }

    fn keys(value: &Value) -> BTreeSet<&str> {
        value
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect()
    }

    fn set<'a>(base: &[&'a str], extra: &[&'a str]) -> BTreeSet<&'a str> {
        base.iter().chain(extra).copied().collect()
    }

    fn check_page(page: &Value) {
        assert_eq!(keys(page), set(PAGE_KEYS, &[]));
    }

    fn check_component(c: &Value) {
        let statuses = [
            "operational",
            "degraded_performance",
            "partial_outage",
            "major_outage",
            "under_maintenance",
        ];
        assert!(statuses.contains(&c["status"].as_str().unwrap()), "{c}");
        if c["group"] == Value::Bool(true) {
            assert_eq!(keys(c), set(COMPONENT_KEYS, &["components"]));
            assert!(c["group_id"].is_null());
        } else {
            assert_eq!(keys(c), set(COMPONENT_KEYS, &[]));
        }
    }

    fn check_incident(i: &Value, maintenance: bool) {
        if maintenance {
            assert_eq!(
                keys(i),
                set(INCIDENT_KEYS, &["scheduled_for", "scheduled_until"])
            );
            assert_eq!(i["impact"], "maintenance");
            assert!(["scheduled", "in_progress", "verifying", "completed"]
                .contains(&i["status"].as_str().unwrap()));
        } else {
            assert_eq!(keys(i), set(INCIDENT_KEYS, &[]));
            assert!(["none", "minor", "major", "critical"].contains(&i["impact"].as_str().unwrap()));
            assert!(["investigating", "identified", "monitoring", "resolved"]
                .contains(&i["status"].as_str().unwrap()));
        }
        for update in i["incident_updates"].as_array().unwrap() {
            assert_eq!(keys(update), set(UPDATE_KEYS, &[]));
            assert_eq!(update["incident_id"], i["id"]);
            for affected in update["affected_components"]
                .as_array()
                .into_iter()
                .flatten()
            {
                assert_eq!(keys(affected), set(AFFECTED_KEYS, &[]));
            }
        }
        for c in i["components"].as_array().unwrap() {
            check_component(c);
        }
    }

    #[test]
    fn summary_matches_statuspage() {
        let data = small();
        let value = json(summary(&data));
        assert_eq!(
            keys(&value),
            set(
                &[
                    "page",
                    "components",
                    "incidents",
                    "scheduled_maintenances",
                    "status"
                ],
                &[]
            )
        );
        insta::assert_json_snapshot!("summary", summary(&data));
    }

    #[test]
    fn status_matches_statuspage() {
        insta::assert_json_snapshot!("status", status(&small()));
    }

    #[test]
    fn components_match_statuspage() {
        insta::assert_json_snapshot!("components", components(&small()));
    }

    #[test]
    fn incidents_match_statuspage() {
        insta::assert_json_snapshot!("incidents", incidents(&small()));
    }

    #[test]
    fn unresolved_incidents_match_statuspage() {
        insta::assert_json_snapshot!("unresolved_incidents", unresolved_incidents(&small()));
    }

    #[test]
    fn scheduled_maintenances_match_statuspage() {
        insta::assert_json_snapshot!("scheduled_maintenances", scheduled_maintenances(&small()));
    }

    #[test]
    fn upcoming_maintenances_match_statuspage() {
        insta::assert_json_snapshot!("upcoming_maintenances", upcoming_maintenances(&small()));
    }

    #[test]
    fn active_maintenances_match_statuspage() {
        insta::assert_json_snapshot!("active_maintenances", active_maintenances(&small()));
    }

    #[test]
    fn an_incident_webhook_announces_its_update_as_it_was() {
        let data = small();
        let resolved = &data.incidents[1];
        // The "monitoring" update, delivered after the incident was resolved.
        let webhook = incident_webhook(
            &data,
            Notice::Incident(resolved),
            &resolved.updates[1],
            "https://status.acme.example/status/unsubscribe/tok3n",
        );
        let body = json(&webhook);
        assert_eq!(keys(&body), set(&["meta", "page", "incident"], &[]));
        assert_eq!(
            keys(&body["meta"]),
            set(&["unsubscribe", "documentation"], &[])
        );
        assert_eq!(
            keys(&body["page"]),
            set(&["id", "status_indicator", "status_description"], &[])
        );
        check_incident(&body["incident"], false);
        assert_eq!(body["incident"]["status"], "monitoring");
        assert_eq!(body["incident"]["resolved_at"], Value::Null);
        assert_eq!(
            body["incident"]["incident_updates"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            body["incident"]["incident_updates"][0]["status"],
            "monitoring"
        );
        insta::assert_json_snapshot!("incident_webhook", webhook);
    }

    #[test]
    fn a_maintenance_webhook_is_an_incident_with_its_window() {
        let data = small();
        let m = &data.maintenances[1];
        let webhook = incident_webhook(
            &data,
            Notice::Maintenance(m),
            &m.updates[0],
            "https://status.acme.example/status/unsubscribe/tok3n",
        );
        let body = json(&webhook);
        check_incident(&body["incident"], true);
        assert_eq!(body["incident"]["status"], "in_progress");
        assert_eq!(
            body["incident"]["incident_updates"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        insta::assert_json_snapshot!("maintenance_webhook", webhook);
    }

    #[test]
    fn every_object_has_exactly_statuspages_keys() {
        let data = small();
        let summary = json(summary(&data));
        check_page(&summary["page"]);
        assert_eq!(keys(&summary["status"]), set(STATUS_KEYS, &[]));
        for c in summary["components"].as_array().unwrap() {
            check_component(c);
        }
        let all = json(incidents(&data));
        assert_eq!(keys(&all), set(&["page", "incidents"], &[]));
        for i in all["incidents"].as_array().unwrap() {
            check_incident(i, false);
        }
        let maintenances = json(scheduled_maintenances(&data));
        assert_eq!(
            keys(&maintenances),
            set(&["page", "scheduled_maintenances"], &[])
        );
        assert_eq!(
            maintenances["scheduled_maintenances"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        for m in maintenances["scheduled_maintenances"].as_array().unwrap() {
            check_incident(m, true);
        }
        // Updates that changed components list them with Statuspage's names.
        let update = &all["incidents"][0]["incident_updates"][1];
        assert_eq!(update["affected_components"][0]["name"], "Platform - API");
        assert_eq!(
            all["incidents"][0]["incident_updates"][0]["affected_components"],
            Value::Null
        );
    }

    #[test]
    fn times_have_milliseconds_and_groups_list_their_members() {
        let value = json(components(&small()));
        assert_eq!(value["page"]["updated_at"], "2026-11-20T11:00:00.000Z");
        let list = value["components"].as_array().unwrap();
        let names: Vec<&str> = list.iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "Website",
                "Platform",
                "API",
                "Webhooks",
                "Regions",
                "EU (Frankfurt)",
                "US (Virginia)",
                "Sign-in"
            ]
        );
        assert_eq!(list[1]["status"], "partial_outage");
        assert_eq!(
            list[1]["components"],
            serde_json::json!(["api0q8w3e5rt", "whk5y7u1i3op"])
        );
        assert_eq!(list[2]["group_id"], list[1]["id"]);
    }

    #[test]
    fn lists_stop_at_fifty() {
        let mut data = small();
        let template = data.incidents[1].clone();
        data.incidents = (0..60)
            .map(|n| {
                let mut i = template.clone();
                i.id = format!("inc{n:09}");
                i
            })
            .collect();
        assert_eq!(incidents(&data).incidents.len(), 50);
        assert_eq!(incidents(&data).incidents[0].id, "inc000000000");
    }

    #[test]
    fn the_page_id_is_stable_and_shaped_like_statuspages() {
        let id = page_id("https://status.acme.example");
        assert_eq!(id, page_id("https://status.acme.example/"));
        assert_ne!(id, page_id("https://status.other.example"));
        assert_eq!(id.len(), 12);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
    }
}
