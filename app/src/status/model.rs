//! Status-page types shared by server and browser: component statuses and impacts, the
//! public statuses of incidents and maintenance, the public view of everything
//! (`PublicData`, what the status page, its JSON and feeds are made from) and the rules
//! that derive a component's status, the page's indicator and the uptime history.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A component's status, with Atlassian Statuspage's names and values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Operational,
    UnderMaintenance,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl ComponentStatus {
    pub const ALL: [ComponentStatus; 5] = [
        ComponentStatus::Operational,
        ComponentStatus::DegradedPerformance,
        ComponentStatus::PartialOutage,
        ComponentStatus::MajorOutage,
        ComponentStatus::UnderMaintenance,
    ];

    /// The stored and API form (`major_outage`).
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::UnderMaintenance => "under_maintenance",
            ComponentStatus::DegradedPerformance => "degraded_performance",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
        }
    }

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "Operational",
            ComponentStatus::UnderMaintenance => "Under maintenance",
            ComponentStatus::DegradedPerformance => "Degraded performance",
            ComponentStatus::PartialOutage => "Partial outage",
            ComponentStatus::MajorOutage => "Major outage",
        }
    }

    pub fn parse(value: &str) -> Result<Self, AppError> {
        ComponentStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == value.trim())
            .ok_or_else(|| {
                AppError::invalid(
                    "status",
                    format!(
                        "Unknown component status \"{}\": use operational, degraded_performance, partial_outage, major_outage or under_maintenance.",
                        value.trim()
                    ),
                )
            })
    }
}

/// How an incident affects one component.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl Impact {
    pub const ALL: [Impact; 3] = [
        Impact::DegradedPerformance,
        Impact::PartialOutage,
        Impact::MajorOutage,
    ];

    pub fn as_str(self) -> &'static str {
        self.status().as_str()
    }

    pub fn label(self) -> &'static str {
        self.status().label()
    }

    /// The component status this impact gives.
    pub fn status(self) -> ComponentStatus {
        match self {
            Impact::DegradedPerformance => ComponentStatus::DegradedPerformance,
            Impact::PartialOutage => ComponentStatus::PartialOutage,
            Impact::MajorOutage => ComponentStatus::MajorOutage,
        }
    }

    /// The incident-level impact (Statuspage `impact`) of the worst component impact.
    pub fn incident_impact(self) -> IncidentImpact {
        match self {
            Impact::DegradedPerformance => IncidentImpact::Minor,
            Impact::PartialOutage => IncidentImpact::Major,
            Impact::MajorOutage => IncidentImpact::Critical,
        }
    }

    /// The share of the time that counts as downtime in uptime figures: a major outage
    /// fully, a partial outage 30 % (as Statuspage counts it), degraded performance not.
    pub fn downtime_weight(self) -> f64 {
        match self {
            Impact::DegradedPerformance => 0.0,
            Impact::PartialOutage => 0.3,
            Impact::MajorOutage => 1.0,
        }
    }

    pub fn parse(value: &str) -> Result<Self, AppError> {
        Impact::ALL
            .into_iter()
            .find(|s| s.as_str() == value.trim())
            .ok_or_else(|| {
                AppError::invalid(
                    "impact",
                    format!(
                        "Unknown impact \"{}\": use degraded_performance, partial_outage or major_outage.",
                        value.trim()
                    ),
                )
            })
    }
}

/// Statuspage's incident `impact`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentImpact {
    None,
    Minor,
    Major,
    Critical,
    /// Scheduled maintenance.
    Maintenance,
}

impl IncidentImpact {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentImpact::None => "none",
            IncidentImpact::Minor => "minor",
            IncidentImpact::Major => "major",
            IncidentImpact::Critical => "critical",
            IncidentImpact::Maintenance => "maintenance",
        }
    }
}

/// The status of a public update of an incident (what the public reads).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl PublicStatus {
    pub const ALL: [PublicStatus; 4] = [
        PublicStatus::Investigating,
        PublicStatus::Identified,
        PublicStatus::Monitoring,
        PublicStatus::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PublicStatus::Investigating => "investigating",
            PublicStatus::Identified => "identified",
            PublicStatus::Monitoring => "monitoring",
            PublicStatus::Resolved => "resolved",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PublicStatus::Investigating => "Investigating",
            PublicStatus::Identified => "Identified",
            PublicStatus::Monitoring => "Monitoring",
            PublicStatus::Resolved => "Resolved",
        }
    }

    pub fn parse(value: &str) -> Result<Self, AppError> {
        PublicStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == value.trim())
            .ok_or_else(|| {
                AppError::invalid(
                    "status",
                    format!(
                        "Unknown public status \"{}\": use investigating, identified, monitoring or resolved.",
                        value.trim()
                    ),
                )
            })
    }
}

/// Where a scheduled maintenance is. Warroom moves it by itself at its times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceStatus {
    Scheduled,
    InProgress,
    Completed,
}

impl MaintenanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceStatus::Scheduled => "scheduled",
            MaintenanceStatus::InProgress => "in_progress",
            MaintenanceStatus::Completed => "completed",
        }
    }

    /// What people read: upcoming, in progress, completed.
    pub fn label(self) -> &'static str {
        match self {
            MaintenanceStatus::Scheduled => "Upcoming",
            MaintenanceStatus::InProgress => "In progress",
            MaintenanceStatus::Completed => "Completed",
        }
    }

    pub fn parse(value: &str) -> Result<Self, AppError> {
        match value.trim() {
            "scheduled" => Ok(MaintenanceStatus::Scheduled),
            "in_progress" => Ok(MaintenanceStatus::InProgress),
            "completed" => Ok(MaintenanceStatus::Completed),
            other => Err(AppError::invalid(
                "status",
                format!("Unknown maintenance status \"{other}\": use scheduled, in_progress or completed."),
            )),
        }
    }

    /// Where a maintenance window should be at `now` (it never moves backwards).
    pub fn due(
        self,
        scheduled_for: DateTime<Utc>,
        scheduled_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        match self {
            MaintenanceStatus::Completed => MaintenanceStatus::Completed,
            _ if now >= scheduled_until => MaintenanceStatus::Completed,
            _ if now >= scheduled_for => MaintenanceStatus::InProgress,
            current => current,
        }
    }
}

/// The page-wide indicator of Statuspage's `status` object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    None,
    Minor,
    Major,
    Critical,
    Maintenance,
}

impl Indicator {
    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::None => "none",
            Indicator::Minor => "minor",
            Indicator::Major => "major",
            Indicator::Critical => "critical",
            Indicator::Maintenance => "maintenance",
        }
    }

    /// Statuspage's descriptions for each indicator.
    pub fn description(self) -> &'static str {
        match self {
            Indicator::None => "All Systems Operational",
            Indicator::Minor => "Partially Degraded Service",
            Indicator::Major => "Partial System Outage",
            Indicator::Critical => "Major System Outage",
            Indicator::Maintenance => "Service Under Maintenance",
        }
    }

    /// The indicator for a set of component statuses: the worst one decides.
    pub fn from_statuses(statuses: impl IntoIterator<Item = ComponentStatus>) -> Indicator {
        match statuses.into_iter().max() {
            None | Some(ComponentStatus::Operational) => Indicator::None,
            Some(ComponentStatus::UnderMaintenance) => Indicator::Maintenance,
            Some(ComponentStatus::DegradedPerformance) => Indicator::Minor,
            Some(ComponentStatus::PartialOutage) => Indicator::Major,
            Some(ComponentStatus::MajorOutage) => Indicator::Critical,
        }
    }
}

/// The one rule for a component's status: an admin's override wins; otherwise the worst
/// impact of the open public incidents; otherwise under maintenance while a maintenance
/// that names it is in progress; otherwise operational.
pub fn component_status(
    override_status: Option<ComponentStatus>,
    open_impacts: impl IntoIterator<Item = Impact>,
    in_maintenance: bool,
) -> ComponentStatus {
    if let Some(status) = override_status {
        return status;
    }
    match open_impacts.into_iter().max() {
        Some(impact) => impact.status(),
        None if in_maintenance => ComponentStatus::UnderMaintenance,
        None => ComponentStatus::Operational,
    }
}

/// A link in the page header (branding).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageLink {
    pub label: String,
    pub url: String,
}

/// How the public page presents itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    pub name: String,
    pub logo_url: Option<String>,
    /// `#rrggbb`.
    pub accent_color: String,
    pub links: Vec<PageLink>,
    pub updated_at: DateTime<Utc>,
}

/// A visible component group. `id` is its public id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicGroup {
    pub id: String,
    pub name: String,
    pub description: String,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A visible component with its current status and uptime history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicComponent {
    pub id: String,
    /// Public id of its (visible) group.
    pub group_id: Option<String>,
    pub name: String,
    pub description: String,
    pub position: i32,
    pub status: ComponentStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `UPTIME_DAYS` days, oldest first, the last one being today (UTC).
    pub uptime: Vec<UptimeDay>,
}

/// A component's status as a public update left it (`component_id` is the public id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentChange {
    pub component_id: String,
    pub name: String,
    pub old_status: ComponentStatus,
    pub new_status: ComponentStatus,
}

/// One public update of an incident or a maintenance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicUpdate {
    pub id: String,
    /// A `PublicStatus` for incidents, a `MaintenanceStatus` for maintenance (as_str form).
    pub status: String,
    /// Markdown as written.
    pub body_md: String,
    /// The same, rendered and sanitised (`markdown::render`).
    pub body_html: String,
    pub created_at: DateTime<Utc>,
    /// Components whose status this update changed.
    pub affected_components: Vec<ComponentChange>,
}

/// A component an incident currently affects (public id + impact).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedComponent {
    pub component_id: String,
    pub name: String,
    pub impact: Impact,
}

/// An incident as the public sees it: only its public title and public updates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicIncident {
    pub id: String,
    pub name: String,
    /// The status of its latest public update.
    pub status: PublicStatus,
    /// The worst impact it has had on any component.
    pub impact: IncidentImpact,
    /// When the first public update went out.
    pub created_at: DateTime<Utc>,
    /// When it began: its first component impact, else its first public update.
    pub started_at: DateTime<Utc>,
    /// Its latest public update.
    pub updated_at: DateTime<Utc>,
    pub monitoring_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Newest first.
    pub updates: Vec<PublicUpdate>,
    /// What it affects now (empty once resolved).
    pub components: Vec<AffectedComponent>,
    /// Every component it has affected (public ids), for history and uptime tooltips.
    pub component_ids: Vec<String>,
}

impl PublicIncident {
    pub fn is_open(&self) -> bool {
        self.status != PublicStatus::Resolved
    }
}

/// A scheduled maintenance as the public sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicMaintenance {
    pub id: String,
    pub name: String,
    pub status: MaintenanceStatus,
    pub scheduled_for: DateTime<Utc>,
    pub scheduled_until: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Newest first; the first one written carries the announcement.
    pub updates: Vec<PublicUpdate>,
    pub components: Vec<AffectedComponent>,
}

/// One entry of the public page's top level (see [`PublicData::layout`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Placed<'a> {
    Group {
        group: &'a PublicGroup,
        members: Vec<&'a PublicComponent>,
        /// The worst status among its members.
        worst: ComponentStatus,
    },
    Component(&'a PublicComponent),
}

/// Everything the public may see, read in one go. Nothing internal is in it: no internal
/// titles, notes, names, roles, severities or private incidents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicData {
    pub branding: Branding,
    /// The public base URL (`https://status.example.com`), for links in feeds and JSON.
    pub base_url: String,
    /// Visible groups, in page order.
    pub groups: Vec<PublicGroup>,
    /// Visible components, in page order (top level and inside their group).
    pub components: Vec<PublicComponent>,
    /// Every public incident, newest first.
    pub incidents: Vec<PublicIncident>,
    /// Every maintenance, most recently scheduled first.
    pub maintenances: Vec<PublicMaintenance>,
    /// The latest change to anything above (Last-Modified).
    pub changed_at: DateTime<Utc>,
    /// When this was read from the database.
    pub read_at: DateTime<Utc>,
}

impl PublicData {
    /// The page-wide indicator.
    pub fn indicator(&self) -> Indicator {
        Indicator::from_statuses(self.components.iter().map(|c| c.status))
    }

    pub fn unresolved_incidents(&self) -> impl Iterator<Item = &PublicIncident> {
        self.incidents.iter().filter(|i| i.is_open())
    }

    /// The page's top level in order: groups that have visible members, each with its
    /// members and their worst status, and components in no (visible) group; groups and
    /// components share one order, their positions.
    pub fn layout(&self) -> Vec<Placed<'_>> {
        let mut top: Vec<(i32, Placed<'_>)> = Vec::new();
        for group in &self.groups {
            let members: Vec<&PublicComponent> = self
                .components
                .iter()
                .filter(|c| c.group_id.as_deref() == Some(group.id.as_str()))
                .collect();
            let Some(worst) = members.iter().map(|c| c.status).max() else {
                continue;
            };
            top.push((
                group.position,
                Placed::Group {
                    group,
                    members,
                    worst,
                },
            ));
        }
        let grouped = |c: &PublicComponent| {
            c.group_id
                .as_ref()
                .is_some_and(|id| self.groups.iter().any(|g| &g.id == id))
        };
        for component in self.components.iter().filter(|c| !grouped(c)) {
            top.push((component.position, Placed::Component(component)));
        }
        top.sort_by_key(|(position, _)| *position);
        top.into_iter().map(|(_, placed)| placed).collect()
    }

    /// Maintenance not yet completed, soonest first.
    pub fn upcoming_or_active_maintenances(&self) -> Vec<&PublicMaintenance> {
        let mut list: Vec<_> = self
            .maintenances
            .iter()
            .filter(|m| m.status != MaintenanceStatus::Completed)
            .collect();
        list.sort_by_key(|m| m.scheduled_for);
        list
    }
}

/// How many days of uptime history each component shows.
pub const UPTIME_DAYS: usize = 90;

/// A public incident's reference in an uptime day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRef {
    pub id: String,
    pub name: String,
}

/// One UTC day of one component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UptimeDay {
    pub date: NaiveDate,
    /// Seconds of each impact within the day (overlapping incidents: the worst counts).
    pub major_outage_seconds: i64,
    pub partial_outage_seconds: i64,
    pub degraded_seconds: i64,
    /// Seconds of the day that had passed (and that the component existed).
    pub observed_seconds: i64,
    /// The incidents that touched the component that day.
    pub incidents: Vec<IncidentRef>,
}

impl UptimeDay {
    /// Uptime in percent of the observed part of the day; `None` for a day not observed.
    pub fn uptime_percent(&self) -> Option<f64> {
        if self.observed_seconds <= 0 {
            return None;
        }
        let down = self.major_outage_seconds as f64 * Impact::MajorOutage.downtime_weight()
            + self.partial_outage_seconds as f64 * Impact::PartialOutage.downtime_weight();
        Some((100.0 * (1.0 - down / self.observed_seconds as f64)).clamp(0.0, 100.0))
    }

    /// The worst impact seen that day.
    pub fn worst(&self) -> Option<Impact> {
        if self.major_outage_seconds > 0 {
            Some(Impact::MajorOutage)
        } else if self.partial_outage_seconds > 0 {
            Some(Impact::PartialOutage)
        } else if self.degraded_seconds > 0 {
            Some(Impact::DegradedPerformance)
        } else {
            None
        }
    }
}

/// One stretch of time during which an incident affected a component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImpactInterval {
    pub impact: Impact,
    pub start: DateTime<Utc>,
    /// `None`: still going on.
    pub end: Option<DateTime<Utc>>,
    pub incident: IncidentRef,
}

/// Uptime over the `days` UTC days ending today, oldest first. Where intervals overlap,
/// each second counts once, at the worst impact of that second. Days before
/// `observed_since` (the component's creation) and the future part of today are not
/// observed.
pub fn uptime_days(
    intervals: &[ImpactInterval],
    observed_since: DateTime<Utc>,
    now: DateTime<Utc>,
    days: usize,
) -> Vec<UptimeDay> {
    let today = now.date_naive();
    let first = today - Duration::days(days as i64 - 1);
    (0..days as i64)
        .map(|offset| {
            let date = first + Duration::days(offset);
            let day_start = date.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
            let day_end = (day_start + Duration::days(1)).min(now);
            let window_start = day_start.max(observed_since);
            let mut day = UptimeDay {
                date,
                major_outage_seconds: 0,
                partial_outage_seconds: 0,
                degraded_seconds: 0,
                observed_seconds: (day_end - window_start).num_seconds().max(0),
                incidents: Vec::new(),
            };
            // Sweep the day's boundaries; between two of them the worst active impact counts.
            let clipped: Vec<(DateTime<Utc>, DateTime<Utc>, &ImpactInterval)> = intervals
                .iter()
                .filter_map(|interval| {
                    let start = interval.start.max(day_start);
                    let end = interval.end.unwrap_or(now).min(day_end);
                    (end > start).then_some((start, end, interval))
                })
                .collect();
            let mut cuts: Vec<DateTime<Utc>> =
                clipped.iter().flat_map(|(s, e, _)| [*s, *e]).collect();
            cuts.sort();
            cuts.dedup();
            for pair in cuts.windows(2) {
                let (from, to) = (pair[0], pair[1]);
                let worst = clipped
                    .iter()
                    .filter(|(s, e, _)| *s <= from && *e >= to)
                    .map(|(_, _, i)| i.impact)
                    .max();
                let seconds = (to - from).num_seconds();
                match worst {
                    Some(Impact::MajorOutage) => day.major_outage_seconds += seconds,
                    Some(Impact::PartialOutage) => day.partial_outage_seconds += seconds,
                    Some(Impact::DegradedPerformance) => day.degraded_seconds += seconds,
                    None => {}
                }
            }
            let mut seen = BTreeMap::new();
            for (_, _, interval) in &clipped {
                seen.entry(interval.incident.id.clone())
                    .or_insert_with(|| interval.incident.clone());
            }
            day.incidents = seen.into_values().collect();
            day
        })
        .collect()
}

/// A component's uptime over the whole history shown, in percent.
pub fn uptime_percent(days: &[UptimeDay]) -> Option<f64> {
    let observed: i64 = days.iter().map(|d| d.observed_seconds).sum();
    if observed == 0 {
        return None;
    }
    let down: f64 = days
        .iter()
        .map(|d| {
            d.major_outage_seconds as f64 * Impact::MajorOutage.downtime_weight()
                + d.partial_outage_seconds as f64 * Impact::PartialOutage.downtime_weight()
        })
        .sum();
    Some((100.0 * (1.0 - down / observed as f64)).clamp(0.0, 100.0))
}

/// An incident's title on the status page (people outside read it: no internal names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicTitle(String);

impl PublicTitle {
    pub fn parse(value: &str) -> Result<Self, AppError> {
        let title = value.trim();
        if title.is_empty() {
            return Err(AppError::invalid(
                "public_title",
                "Give the incident a public title (what customers read, e.g. \"Checkout is failing for some customers\").",
            ));
        }
        if title.chars().count() > 200 {
            return Err(AppError::invalid(
                "public_title",
                "Keep the public title under 200 characters.",
            ));
        }
        Ok(PublicTitle(title.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of a public update: Markdown, 1 to 5,000 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicMessage(String);

impl PublicMessage {
    pub fn parse(value: &str) -> Result<Self, AppError> {
        let text = value.trim();
        if text.is_empty() {
            return Err(AppError::invalid(
                "message",
                "Write what the public should know.",
            ));
        }
        if text.chars().count() > 5000 {
            return Err(AppError::invalid(
                "message",
                "Keep a public update under 5,000 characters.",
            ));
        }
        Ok(PublicMessage(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A component as the incident room offers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentChoice {
    pub id: i64,
    pub name: String,
    pub group: Option<String>,
    /// What this incident currently does to it.
    pub impact: Option<Impact>,
}

/// One public update as the room lists it (with its author, which the public never sees).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPublicUpdate {
    pub id: i64,
    pub status: PublicStatus,
    pub body_md: String,
    pub author: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The public side of an incident, for its room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicSide {
    pub public_id: String,
    pub public_title: Option<String>,
    pub private: bool,
    /// Newest first.
    pub updates: Vec<RoomPublicUpdate>,
    /// Every visible or hidden component, with this incident's impact on it.
    pub components: Vec<ComponentChoice>,
    /// Whether the viewer may post public updates and change impacts (commander or
    /// communications liaison of this incident, and allowed to publish).
    pub can_speak: bool,
    /// Whether an admin allowed the viewer to publish to the status page at all (admins
    /// may by their role): the room says which of the two is missing.
    pub may_publish: bool,
}

/// What changes to an incident's public side record on its timeline (joined with the
/// incident's own events in `timeline::model::EntryEvent`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, strum::EnumDiscriminants)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[strum_discriminants(
    name(StatusEventKind),
    derive(strum::EnumIter, strum::IntoStaticStr),
    strum(serialize_all = "snake_case")
)]
pub enum StatusEvent {
    /// A public update went to the status page (and to its subscribers). `update_id` is
    /// the `public_updates` row (absent on entries written before it was recorded).
    PublicUpdate {
        status: PublicStatus,
        title: String,
        body_md: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        update_id: Option<i64>,
    },
    /// What the incident does to a public component changed (`None`: not affected).
    ImpactChanged {
        component: String,
        from: Option<Impact>,
        to: Option<Impact>,
    },
    /// The incident was kept off the status page, or allowed on it again.
    VisibilityChanged { private: bool },
}

impl StatusEvent {
    /// The value of the timeline's `kind` column.
    pub fn kind(&self) -> &'static str {
        StatusEventKind::from(self).into()
    }

    /// Every kind this domain writes.
    pub fn kinds() -> impl Iterator<Item = &'static str> {
        use strum::IntoEnumIterator;
        StatusEventKind::iter().map(<&'static str>::from)
    }

    /// What the entry says, in words, after its author's name.
    pub fn describe(&self) -> String {
        match self {
            StatusEvent::PublicUpdate { status, title, .. } => {
                format!("posted a public update — {}: {title}", status.label())
            }
            StatusEvent::ImpactChanged {
                component,
                from,
                to,
            } => match (from, to) {
                (None, Some(to)) => format!("marked {component}: {}", to.label()),
                (Some(_), None) => format!("marked {component} as no longer affected"),
                (Some(from), Some(to)) => {
                    format!(
                        "changed {component} from {} to {}",
                        from.label(),
                        to.label()
                    )
                }
                (None, None) => format!("left {component} unaffected"),
            },
            StatusEvent::VisibilityChanged { private: true } => {
                "kept the incident private: it will not appear on the status page".into()
            }
            StatusEvent::VisibilityChanged { private: false } => {
                "allowed the incident on the status page".into()
            }
        }
    }
}

// ---- The admin catalog: component and group names, descriptions, order, overrides and
// ---- the page's branding, as admins enter them.

/// Collapses runs of whitespace (names are one line; pasted names carry stray spaces).
fn one_line(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A component's name as customers read it ("API", "Checkout"): 1 to 100 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentName(String);

impl ComponentName {
    pub fn parse(value: &str) -> Result<Self, AppError> {
        let name = one_line(value);
        match name.chars().count() {
            0 => Err(AppError::invalid(
                "name",
                "Give the component a name your customers know, e.g. \"API\" or \"Checkout\".",
            )),
            1..=100 => Ok(ComponentName(name)),
            _ => Err(AppError::invalid(
                "name",
                "Keep the component's name under 100 characters.",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A component group's name ("Europe", "Payments"): 1 to 100 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupName(String);

impl GroupName {
    pub fn parse(value: &str) -> Result<Self, AppError> {
        let name = one_line(value);
        match name.chars().count() {
            0 => Err(AppError::invalid(
                "name",
                "Give the group a name, e.g. \"Europe\" or \"Payments\".",
            )),
            1..=100 => Ok(GroupName(name)),
            _ => Err(AppError::invalid(
                "name",
                "Keep the group's name under 100 characters.",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a component or group is, shown under its name: at most 500 characters, may be empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentDescription(String);

impl ComponentDescription {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(value: &str) -> Result<Self, AppError> {
        let text = value.trim();
        let count = text.chars().count();
        if count > Self::MAX_CHARS {
            return Err(AppError::invalid(
                "description",
                format!(
                    "Keep the description under {} characters (it has {count}).",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(ComponentDescription(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which way an admin moves a component or group in the page's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }

    pub fn parse(value: &str) -> Result<Self, AppError> {
        match value.trim() {
            "up" => Ok(Direction::Up),
            "down" => Ok(Direction::Down),
            other => Err(AppError::invalid(
                "direction",
                format!("Cannot move \"{other}\": use up or down."),
            )),
        }
    }
}

/// An admin's choice of status for a component: a `ComponentStatus`, or empty for "follow
/// incidents and maintenance" (no override).
pub fn parse_status_override(value: &str) -> Result<Option<ComponentStatus>, AppError> {
    match value.trim() {
        "" | "none" => Ok(None),
        other => ComponentStatus::parse(other).map(Some),
    }
}

/// The company's or product's name the status page carries: 1 to 80 characters. Public
/// pages add " status" themselves ("Acme" reads "Acme status"), so it must not end in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageName(String);

impl PageName {
    pub fn parse(value: &str) -> Result<Self, AppError> {
        let name = one_line(value);
        let lower = name.to_lowercase();
        if lower == "status" || lower.ends_with(" status") {
            let kept = name.chars().count() - "status".len();
            let without: String = name.chars().take(kept).collect();
            let without = without.trim_end();
            return Err(AppError::invalid(
                "page_name",
                format!(
                    "Leave out \"status\": the page adds it (\"{}\" would read \"{name} status\").",
                    if without.is_empty() { "Acme" } else { without }
                ),
            ));
        }
        match name.chars().count() {
            0 => Err(AppError::invalid(
                "page_name",
                "Name your company or product, e.g. \"Acme\" (the page reads \"Acme status\").",
            )),
            1..=80 => Ok(PageName(name)),
            _ => Err(AppError::invalid(
                "page_name",
                "Keep the page name under 80 characters.",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An `http://` or `https://` address (a logo, a header link): no spaces, with a host,
/// at most 500 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebAddress(String);

impl WebAddress {
    pub const MAX_CHARS: usize = 500;

    /// `what` names the address in the message ("The logo address").
    pub fn parse(field: &str, what: &str, value: &str) -> Result<Self, AppError> {
        let address = value.trim();
        let lower = address.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        let Some(rest) = rest else {
            return Err(AppError::invalid(
                field,
                format!("{what} must start with https:// (or http://), e.g. https://example.com/…"),
            ));
        };
        if rest.is_empty() || rest.starts_with('/') {
            return Err(AppError::invalid(
                field,
                format!("{what} needs a host after the scheme, e.g. https://example.com/…"),
            ));
        }
        if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AppError::invalid(
                field,
                format!("{what} cannot contain spaces."),
            ));
        }
        if address.chars().count() > Self::MAX_CHARS {
            return Err(AppError::invalid(
                field,
                format!(
                    "{what} is too long: keep it under {} characters.",
                    Self::MAX_CHARS
                ),
            ));
        }
        // The scheme in lower case, as the database's check expects; the rest as given.
        let scheme_len = if lower.starts_with("https://") { 8 } else { 7 };
        Ok(WebAddress(format!(
            "{}{}",
            &lower[..scheme_len],
            &address[scheme_len..]
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The page's accent colour, `#rrggbb` in lower case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccentColor(String);

impl AccentColor {
    pub fn parse(value: &str) -> Result<Self, AppError> {
        let value = value.trim();
        let hex = value.strip_prefix('#').unwrap_or(value);
        if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(AccentColor(format!("#{}", hex.to_ascii_lowercase())))
        } else {
            Err(AppError::invalid(
                "accent_color",
                format!("\"{value}\" is not a colour: use the form #rrggbb, e.g. #1f6feb."),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many links fit in the page header.
pub const MAX_PAGE_LINKS: usize = 5;
/// The longest link label.
pub const MAX_LINK_LABEL_CHARS: usize = 40;

/// The page's branding as an admin saves it, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrandingSettings {
    pub name: PageName,
    pub logo_url: Option<WebAddress>,
    pub accent_color: AccentColor,
    pub links: Vec<PageLink>,
}

impl BrandingSettings {
    /// Parses the branding form. Links come as parallel lists of labels and addresses;
    /// rows left empty are skipped.
    pub fn parse(
        page_name: &str,
        logo_url: &str,
        accent_color: &str,
        link_labels: &[String],
        link_urls: &[String],
    ) -> Result<Self, AppError> {
        let name = PageName::parse(page_name)?;
        let logo_url = match logo_url.trim() {
            "" => None,
            address => Some(WebAddress::parse("logo_url", "The logo address", address)?),
        };
        let accent_color = AccentColor::parse(accent_color)?;
        let mut links = Vec::new();
        for row in 0..link_labels.len().max(link_urls.len()) {
            let label = one_line(link_labels.get(row).map_or("", |s| s.as_str()));
            let url = link_urls.get(row).map_or("", |s| s.trim());
            let number = row + 1;
            match (label.is_empty(), url.is_empty()) {
                (true, true) => continue,
                (true, false) => {
                    return Err(AppError::invalid(
                        "links",
                        format!("Link {number} has an address but no label: give it a label or clear the address."),
                    ))
                }
                (false, true) => {
                    return Err(AppError::invalid(
                        "links",
                        format!("Link {number} (\"{label}\") needs an address starting with https://."),
                    ))
                }
                (false, false) => {}
            }
            if label.chars().count() > MAX_LINK_LABEL_CHARS {
                return Err(AppError::invalid(
                    "links",
                    format!(
                        "Keep the label of link {number} under {MAX_LINK_LABEL_CHARS} characters."
                    ),
                ));
            }
            let url = WebAddress::parse("links", &format!("The address of link {number}"), url)?;
            links.push(PageLink {
                label,
                url: url.as_str().to_string(),
            });
        }
        if links.len() > MAX_PAGE_LINKS {
            return Err(AppError::invalid(
                "links",
                format!(
                    "At most {MAX_PAGE_LINKS} links fit in the page header: remove {}.",
                    links.len() - MAX_PAGE_LINKS
                ),
            ));
        }
        Ok(BrandingSettings {
            name,
            logo_url,
            accent_color,
            links,
        })
    }
}

/// A component group as admins see it (hidden ones included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogGroup {
    pub id: i64,
    pub public_id: String,
    pub name: String,
    pub description: String,
    /// Its place in the page's top-level order (shared with ungrouped components).
    pub position: i32,
    pub hidden: bool,
    pub updated_at: DateTime<Utc>,
}

/// A component as admins see it (hidden ones included), with its manual status, if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogComponent {
    pub id: i64,
    pub public_id: String,
    pub group_id: Option<i64>,
    pub name: String,
    pub description: String,
    /// Its place in its group, or in the top-level order when ungrouped.
    pub position: i32,
    pub hidden: bool,
    /// Set by an admin, it wins over incidents and maintenance.
    pub status_override: Option<ComponentStatus>,
    pub updated_at: DateTime<Utc>,
}

/// Every group and component, hidden ones included, for the admin page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub groups: Vec<CatalogGroup>,
    pub components: Vec<CatalogComponent>,
}

/// One top-level entry of the page, in order: a group with its components, or an
/// ungrouped component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogEntry {
    Group {
        group: CatalogGroup,
        components: Vec<CatalogComponent>,
    },
    Component(CatalogComponent),
}

impl Catalog {
    /// The page's layout: groups and ungrouped components in their shared order (ties:
    /// groups first, then the older), each group's components in theirs.
    pub fn entries(&self) -> Vec<CatalogEntry> {
        let mut inside: BTreeMap<i64, Vec<CatalogComponent>> = BTreeMap::new();
        let mut top: Vec<(i32, u8, i64, CatalogEntry)> = Vec::new();
        for component in &self.components {
            match component.group_id {
                Some(group) if self.groups.iter().any(|g| g.id == group) => {
                    inside.entry(group).or_default().push(component.clone())
                }
                _ => top.push((
                    component.position,
                    1,
                    component.id,
                    CatalogEntry::Component(component.clone()),
                )),
            }
        }
        for group in &self.groups {
            let mut components = inside.remove(&group.id).unwrap_or_default();
            components.sort_by_key(|c| (c.position, c.id));
            top.push((
                group.position,
                0,
                group.id,
                CatalogEntry::Group {
                    group: group.clone(),
                    components,
                },
            ));
        }
        top.sort_by_key(|(position, kind, id, _)| (*position, *kind, *id));
        top.into_iter().map(|(_, _, _, entry)| entry).collect()
    }
}

// ---- Webhook subscribers, as admins see them.

/// A webhook subscriber as the admin page lists it. Only a hint of its URL leaves the
/// server: paths and queries of webhook URLs often are their secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriberInfo {
    pub id: i64,
    /// Scheme and host, and "/…" when the URL has more (see [`url_hint`]).
    pub url_hint: String,
    pub created_at: DateTime<Utc>,
    /// `None` while the URL has not echoed its challenge.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Updates it received.
    pub delivered: i64,
    /// Updates still being retried after at least one failed attempt, or given up on.
    pub failing: i64,
    /// Updates queued, not tried yet.
    pub queued: i64,
    pub last_delivered_at: Option<DateTime<Utc>>,
    /// Why the newest failing delivery (or the challenge) failed.
    pub last_error: Option<String>,
}

/// Where a subscriber stands, in one word for the admin page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriberState {
    /// Subscribed, its URL has not echoed the challenge yet.
    AwaitingConfirmation,
    /// Confirmed; every update so far arrived (or is queued).
    Receiving,
    /// Confirmed; some updates did not arrive yet.
    Failing,
}

impl SubscriberInfo {
    pub fn state(&self) -> SubscriberState {
        if self.confirmed_at.is_none() {
            SubscriberState::AwaitingConfirmation
        } else if self.failing > 0 {
            SubscriberState::Failing
        } else {
            SubscriberState::Receiving
        }
    }
}

/// `https://hooks.example.com/services/T0/B0/secret?x=1` → `https://hooks.example.com/…`:
/// scheme and host (with port), without user info; "/…" stands for any path or query.
pub fn url_hint(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let more = if tail.is_empty() || tail == "/" {
        ""
    } else {
        "/…"
    };
    if scheme.is_empty() {
        format!("{host}{more}")
    } else {
        format!("{scheme}://{host}{more}")
    }
}

#[cfg(test)]
mod subscriber_tests {
    use super::*;

    #[test]
    fn url_hints_keep_scheme_and_host_only() {
        assert_eq!(
            url_hint("https://hooks.example.com/services/T0/B0/secret?x=1"),
            "https://hooks.example.com/…"
        );
        assert_eq!(
            url_hint("http://user:pw@127.0.0.1:8080/hook"),
            "http://127.0.0.1:8080/…"
        );
        assert_eq!(url_hint("https://example.com/"), "https://example.com");
        assert_eq!(
            url_hint("https://example.com?token=1"),
            "https://example.com/…"
        );
        assert_eq!(url_hint("https://example.com"), "https://example.com");
    }

    #[test]
    fn a_subscriber_is_failing_only_once_confirmed_and_while_updates_do_not_arrive() {
        let mut info = SubscriberInfo {
            id: 1,
            url_hint: "https://example.com/…".into(),
            created_at: Utc::now(),
            confirmed_at: None,
            delivered: 0,
            failing: 1,
            queued: 0,
            last_delivered_at: None,
            last_error: Some("HTTP 500".into()),
        };
        assert_eq!(info.state(), SubscriberState::AwaitingConfirmation);
        info.confirmed_at = Some(Utc::now());
        assert_eq!(info.state(), SubscriberState::Failing);
        info.failing = 0;
        info.queued = 3;
        assert_eq!(info.state(), SubscriberState::Receiving);
    }
}

#[cfg(test)]
mod catalog_tests {
    use super::*;

    #[test]
    fn names_are_one_line_and_bounded() {
        assert_eq!(
            ComponentName::parse("  Check   out \n").unwrap().as_str(),
            "Check out"
        );
        assert!(ComponentName::parse(" \t").is_err());
        assert!(ComponentName::parse(&"x".repeat(100)).is_ok());
        assert!(ComponentName::parse(&"x".repeat(101)).is_err());
        assert!(GroupName::parse("").is_err());
        assert!(PageName::parse(&"é".repeat(80)).is_ok());
        assert!(PageName::parse(&"é".repeat(81)).is_err());
    }

    #[test]
    fn descriptions_may_be_empty_but_not_long() {
        assert_eq!(ComponentDescription::parse("  ").unwrap().as_str(), "");
        assert!(ComponentDescription::parse(&"x".repeat(500)).is_ok());
        let err = ComponentDescription::parse(&"x".repeat(501)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Keep the description under 500 characters (it has 501)."
        );
    }

    #[test]
    fn overrides_are_a_status_or_nothing() {
        assert_eq!(parse_status_override("").unwrap(), None);
        assert_eq!(
            parse_status_override("major_outage").unwrap(),
            Some(ComponentStatus::MajorOutage)
        );
        assert!(parse_status_override("on_fire").is_err());
        assert_eq!(Direction::parse("down").unwrap(), Direction::Down);
        assert!(Direction::parse("sideways").is_err());
    }

    #[test]
    fn web_addresses_need_http_a_host_and_no_spaces() {
        let parse = |v: &str| WebAddress::parse("logo_url", "The logo address", v);
        assert_eq!(
            parse(" HTTPS://Example.com/Logo.svg ").unwrap().as_str(),
            "https://Example.com/Logo.svg"
        );
        assert!(parse("http://example.com").is_ok());
        for bad in [
            "example.com/logo.png",
            "javascript:alert(1)",
            "ftp://example.com",
            "https://",
            "https:///path",
            "https://exa mple.com",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&format!("https://example.com/{}", "a".repeat(500))).is_err());
    }

    #[test]
    fn accent_colours_are_six_hex_digits() {
        assert_eq!(AccentColor::parse("#1F6FEB").unwrap().as_str(), "#1f6feb");
        assert_eq!(AccentColor::parse("00aa11").unwrap().as_str(), "#00aa11");
        for bad in ["#fff", "red", "#12345g", "", "#1234567"] {
            assert!(AccentColor::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn branding_skips_empty_link_rows_and_explains_half_filled_ones() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let branding = BrandingSettings::parse(
            " Acme   Cloud ",
            "",
            "#112233",
            &s(&["Docs", "", " Support  desk "]),
            &s(&["https://docs.example.com", "", "https://help.example.com"]),
        )
        .unwrap();
        assert_eq!(branding.name.as_str(), "Acme Cloud");
        let err = PageName::parse("Acme Status").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Leave out \"status\": the page adds it (\"Acme\" would read \"Acme Status status\")."
        );
        assert_eq!(branding.logo_url, None);
        assert_eq!(
            branding.links,
            vec![
                PageLink {
                    label: "Docs".into(),
                    url: "https://docs.example.com".into()
                },
                PageLink {
                    label: "Support desk".into(),
                    url: "https://help.example.com".into()
                },
            ]
        );
        let err =
            BrandingSettings::parse("A", "", "#112233", &s(&["", ""]), &s(&["", "https://x.io"]))
                .unwrap_err();
        assert_eq!(
            err,
            AppError::invalid(
                "links",
                "Link 2 has an address but no label: give it a label or clear the address."
            )
        );
        let six = s(&["a", "b", "c", "d", "e", "f"]);
        let urls = s(&["https://x.io"; 6]);
        assert!(BrandingSettings::parse("A", "", "#112233", &six, &urls).is_err());
        assert!(BrandingSettings::parse("A", "", "#112233", &six[..5], &urls[..5]).is_ok());
        assert!(
            BrandingSettings::parse("A", "", "#112233", &s(&[&"x".repeat(41)]), &urls[..1])
                .is_err()
        );
    }

    fn group(id: i64, position: i32) -> CatalogGroup {
        CatalogGroup {
            id,
            public_id: format!("g{id}"),
            name: format!("G{id}"),
            description: String::new(),
            position,
            hidden: false,
            updated_at: DateTime::<Utc>::MIN_UTC,
        }
    }

    fn component(id: i64, group_id: Option<i64>, position: i32) -> CatalogComponent {
        CatalogComponent {
            id,
            public_id: format!("c{id}"),
            group_id,
            name: format!("C{id}"),
            description: String::new(),
            position,
            hidden: false,
            status_override: None,
            updated_at: DateTime::<Utc>::MIN_UTC,
        }
    }

    #[test]
    fn the_catalog_interleaves_groups_and_ungrouped_components_by_position() {
        let catalog = Catalog {
            groups: vec![group(1, 2), group(2, 4)],
            components: vec![
                component(10, None, 3),
                component(11, Some(1), 2),
                component(12, Some(1), 1),
                component(13, None, 1),
                component(14, Some(2), 1),
            ],
        };
        let layout: Vec<String> = catalog
            .entries()
            .into_iter()
            .map(|entry| match entry {
                CatalogEntry::Group { group, components } => format!(
                    "{}[{}]",
                    group.name,
                    components
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                CatalogEntry::Component(c) => c.name,
            })
            .collect();
        assert_eq!(layout, ["C13", "G1[C12,C11]", "C10", "G2[C14]"]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, minute, 0)
            .unwrap()
    }

    fn interval(
        impact: Impact,
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
        id: &str,
    ) -> ImpactInterval {
        ImpactInterval {
            impact,
            start,
            end,
            incident: IncidentRef {
                id: id.into(),
                name: format!("Incident {id}"),
            },
        }
    }

    #[test]
    fn worst_open_impact_decides_and_override_wins() {
        assert_eq!(
            component_status(None, [], false),
            ComponentStatus::Operational
        );
        assert_eq!(
            component_status(None, [], true),
            ComponentStatus::UnderMaintenance
        );
        assert_eq!(
            component_status(
                None,
                [
                    Impact::DegradedPerformance,
                    Impact::MajorOutage,
                    Impact::PartialOutage
                ],
                true
            ),
            ComponentStatus::MajorOutage
        );
        assert_eq!(
            component_status(
                Some(ComponentStatus::Operational),
                [Impact::MajorOutage],
                false
            ),
            ComponentStatus::Operational
        );
    }

    #[test]
    fn indicator_follows_the_worst_component() {
        use ComponentStatus::*;
        assert_eq!(Indicator::from_statuses([]), Indicator::None);
        assert_eq!(
            Indicator::from_statuses([Operational, Operational]),
            Indicator::None
        );
        assert_eq!(
            Indicator::from_statuses([Operational, UnderMaintenance]),
            Indicator::Maintenance
        );
        assert_eq!(
            Indicator::from_statuses([UnderMaintenance, DegradedPerformance]),
            Indicator::Minor
        );
        assert_eq!(
            Indicator::from_statuses([PartialOutage, DegradedPerformance]),
            Indicator::Major
        );
        assert_eq!(
            Indicator::from_statuses([PartialOutage, MajorOutage]),
            Indicator::Critical
        );
    }

    #[test]
    fn maintenance_moves_forward_at_its_times_only() {
        let (start, end) = (at(20, 10, 0), at(20, 12, 0));
        let s = MaintenanceStatus::Scheduled;
        assert_eq!(
            s.due(start, end, at(20, 9, 59)),
            MaintenanceStatus::Scheduled
        );
        assert_eq!(
            s.due(start, end, at(20, 10, 0)),
            MaintenanceStatus::InProgress
        );
        assert_eq!(
            s.due(start, end, at(20, 12, 0)),
            MaintenanceStatus::Completed
        );
        assert_eq!(
            MaintenanceStatus::Completed.due(start, end, at(20, 11, 0)),
            MaintenanceStatus::Completed
        );
    }

    #[test]
    fn uptime_counts_major_fully_partial_at_thirty_percent_and_overlaps_once() {
        let now = at(21, 12, 0);
        let since = at(1, 0, 0);
        let intervals = [
            // 1 h major outage on the 20th, with a partial outage overlapping its last 30 min
            // and going on 30 min more: 60 min major + 30 min partial.
            interval(Impact::MajorOutage, at(20, 10, 0), Some(at(20, 11, 0)), "a"),
            interval(
                Impact::PartialOutage,
                at(20, 10, 30),
                Some(at(20, 11, 30)),
                "b",
            ),
            // Still going on today since 11:00: 1 h degraded so far.
            interval(Impact::DegradedPerformance, at(21, 11, 0), None, "c"),
        ];
        let days = uptime_days(&intervals, since, now, 3);
        assert_eq!(
            days.iter().map(|d| d.date.to_string()).collect::<Vec<_>>(),
            ["2026-11-19", "2026-11-20", "2026-11-21"]
        );
        assert_eq!(days[0].uptime_percent(), Some(100.0));
        assert!(days[0].incidents.is_empty());
        assert_eq!(days[1].major_outage_seconds, 3600);
        assert_eq!(days[1].partial_outage_seconds, 1800);
        assert_eq!(days[1].worst(), Some(Impact::MajorOutage));
        let expected = 100.0 * (1.0 - (3600.0 + 0.3 * 1800.0) / 86400.0);
        assert!((days[1].uptime_percent().unwrap() - expected).abs() < 1e-9);
        assert_eq!(
            days[1]
                .incidents
                .iter()
                .map(|i| i.id.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        // Today: 12 h observed, 1 h degraded (no downtime), incident c listed.
        assert_eq!(days[2].observed_seconds, 12 * 3600);
        assert_eq!(days[2].degraded_seconds, 3600);
        assert_eq!(days[2].uptime_percent(), Some(100.0));
        assert_eq!(days[2].worst(), Some(Impact::DegradedPerformance));
    }

    #[test]
    fn uptime_splits_an_interval_across_midnight_and_ignores_days_before_creation() {
        let now = at(21, 6, 0);
        let since = at(20, 12, 0);
        let intervals = [interval(
            Impact::MajorOutage,
            at(20, 23, 0),
            Some(at(21, 1, 0)),
            "x",
        )];
        let days = uptime_days(&intervals, since, now, 3);
        assert_eq!(days[0].observed_seconds, 0);
        assert_eq!(days[0].uptime_percent(), None);
        assert_eq!(days[1].observed_seconds, 12 * 3600);
        assert_eq!(days[1].major_outage_seconds, 3600);
        assert_eq!(days[2].major_outage_seconds, 3600);
        assert_eq!(days[2].observed_seconds, 6 * 3600);
        let total = uptime_percent(&days).unwrap();
        assert!(
            (total - 100.0 * (1.0 - 7200.0 / (18.0 * 3600.0))).abs() < 1e-9,
            "{total}"
        );
    }
}
