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
