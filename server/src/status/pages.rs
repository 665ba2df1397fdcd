//! The public status page as static HTML (no JavaScript): the home page, one incident's
//! and one maintenance's page, the history, short messages, and the one stylesheet every
//! page embeds together with the Content-Security-Policy that allows exactly it.

use askama::Template;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use warroom_app::status::model::{
    uptime_percent, AffectedComponent, Branding, ComponentStatus, Impact, IncidentImpact,
    Indicator, MaintenanceStatus, PageLink, Placed, PublicComponent, PublicData, PublicIncident,
    PublicMaintenance, PublicStatus, PublicUpdate, UptimeDay,
};

/// Incidents and completed maintenance on one page of the history.
pub const HISTORY_PAGE_SIZE: usize = 20;
/// Days listed under "Past incidents" on the home page, today included.
const PAST_DAYS: i64 = 7;
/// Updates of an open incident shown on the home page: the latest, so that several open
/// incidents stay readable at a glance (on a phone too); its own page has all of them.
const HOME_UPDATES: usize = 1;
/// Characters of an update kept as the summary of a history entry.
const SUMMARY_CHARS: usize = 180;
/// Used when the stored accent is not `#rrggbb` (the model validates it; this keeps a bad
/// value from ever reaching the stylesheet).
const DEFAULT_ACCENT: &str = "#0969da";
/// The rules of every page; the accent comes in front as custom properties.
const CSS: &str = include_str!("../../templates/status/style.css");

/// The page's data could not be refreshed: pages say from when they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Staleness {
    /// When the data shown was read.
    pub as_of: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

impl Staleness {
    /// "This page could not be refreshed: it shows the status as of 12:03 UTC (7 minutes ago)."
    pub fn sentence(&self) -> String {
        let at = if self.as_of.date_naive() == self.now.date_naive() {
            self.as_of.format("%H:%M UTC").to_string()
        } else {
            text_time(self.as_of)
        };
        format!(
            "This page could not be refreshed: it shows the status as of {at} ({}).",
            ago(self.now - self.as_of)
        )
    }
}

/// `/status`: banner, open incidents, maintenance, components with 90 days of uptime, the
/// last 7 days of incidents, the webhook subscription form and links to feeds and JSON.
pub fn home(data: &PublicData, stale: Option<&Staleness>) -> String {
    let indicator = data.indicator();
    HomePage {
        f: Frame::new(data, data.branding.name.clone() + " status", stale),
        banner_class: indicator_class(indicator),
        banner_text: indicator.description(),
        incidents: data
            .unresolved_incidents()
            .map(|i| OpenIncident::new(data, i))
            .collect(),
        maintenances: data
            .upcoming_or_active_maintenances()
            .into_iter()
            .map(MaintenanceCard::new)
            .collect(),
        sections: sections(data),
        past: past_days(data),
    }
    .render()
    .expect("status templates only write to a String")
}

/// `/status/incidents/{id}`: everything public about one incident, updates newest first.
pub fn incident(data: &PublicData, incident: &PublicIncident, stale: Option<&Staleness>) -> String {
    let affected = if incident.components.is_empty() {
        // Resolved incidents no longer affect anything: name what they did affect.
        incident
            .component_ids
            .iter()
            .filter_map(|id| data.components.iter().find(|c| &c.id == id))
            .map(|c| Affected {
                name: c.name.clone(),
                impact: "",
            })
            .collect()
    } else {
        affected(&incident.components, true)
    };
    let mut facts = vec![format!("Started {}", text_time(incident.started_at))];
    if let Some(resolved) = incident.resolved_at {
        facts.push(format!("Resolved {}", text_time(resolved)));
    }
    NoticePage {
        f: Frame::new(
            data,
            format!("{} · {} status", incident.name, data.branding.name),
            stale,
        ),
        name: &incident.name,
        class: impact_class(incident.impact),
        status: incident.status.label().to_string(),
        impact: impact_text(incident.impact),
        window: None,
        facts: facts.join(" · "),
        affected_heading: if incident.is_open() {
            "Affected components"
        } else {
            "Components it affected"
        },
        affected,
        updates: incident
            .updates
            .iter()
            .map(|u| Update::new(data, u))
            .collect(),
    }
    .render()
    .expect("status templates only write to a String")
}

/// `/status/maintenances/{id}`: one maintenance's window, status, components and updates.
pub fn maintenance(
    data: &PublicData,
    maintenance: &PublicMaintenance,
    stale: Option<&Staleness>,
) -> String {
    let mut facts = Vec::new();
    if let Some(started) = maintenance.started_at {
        facts.push(format!("Started {}", text_time(started)));
    }
    if let Some(completed) = maintenance.completed_at {
        facts.push(format!("Completed {}", text_time(completed)));
    }
    NoticePage {
        f: Frame::new(
            data,
            format!("{} · {} status", maintenance.name, data.branding.name),
            stale,
        ),
        name: &maintenance.name,
        class: "mt",
        status: maintenance.status.label().to_string(),
        impact: impact_text(IncidentImpact::Maintenance),
        window: Some(Window::new(
            maintenance.scheduled_for,
            maintenance.scheduled_until,
        )),
        facts: facts.join(" · "),
        affected_heading: "Components under maintenance",
        affected: affected(&maintenance.components, false),
        updates: maintenance
            .updates
            .iter()
            .map(|u| Update::new(data, u))
            .collect(),
    }
    .render()
    .expect("status templates only write to a String")
}

/// How many pages the history has (at least one, which may say there is nothing yet).
pub fn history_page_count(data: &PublicData) -> usize {
    history_len(data).div_ceil(HISTORY_PAGE_SIZE).max(1)
}

/// `/status/history?page=N` (1-based): incidents and completed maintenance, newest first,
/// grouped by month; `None` for a page that does not exist.
pub fn history(data: &PublicData, page: usize, stale: Option<&Staleness>) -> Option<String> {
    let pages = history_page_count(data);
    if page == 0 || page > pages {
        return None;
    }
    let mut months: Vec<Month> = Vec::new();
    for entry in history_entries(data)
        .into_iter()
        .skip((page - 1) * HISTORY_PAGE_SIZE)
        .take(HISTORY_PAGE_SIZE)
    {
        let title = entry.when.format("%B %Y").to_string();
        match months.last_mut() {
            Some(month) if month.title == title => month.entries.push(entry),
            _ => months.push(Month {
                title,
                entries: vec![entry],
            }),
        }
    }
    let title = if pages == 1 {
        format!("History · {} status", data.branding.name)
    } else {
        format!(
            "History, page {page} of {pages} · {} status",
            data.branding.name
        )
    };
    Some(
        HistoryPage {
            f: Frame::new(data, title, stale),
            months,
            page,
            pages,
        }
        .render()
        .expect("status templates only write to a String"),
    )
}

/// A short page with one message: the subscription form's answers ("Check your endpoint:
/// we sent it a challenge"), its errors, "No such incident".
pub fn message_page(data: &PublicData, title: &str, message: &str) -> String {
    MessagePage {
        f: Frame::new(
            data,
            format!("{title} · {} status", data.branding.name),
            None,
        ),
        title,
        message,
        unsubscribe_token: None,
        signing_secret: None,
    }
    .render()
    .expect("status templates only write to a String")
}

/// The answer to a subscription: the challenge is on its way to `url`, and the signing
/// secret — shown this once — with how a receiver checks a signature.
pub fn subscribed_page(data: &PublicData, url: &str, signing_secret: &str) -> String {
    MessagePage {
        f: Frame::new(
            data,
            format!("Almost there · {} status", data.branding.name),
            None,
        ),
        title: "Almost there",
        message: &format!(
            "We are sending a challenge to {url}. Once it answers with the challenge, it receives every update on this page. Each delivery carries a link to unsubscribe."
        ),
        unsubscribe_token: None,
        signing_secret: Some(signing_secret),
    }
    .render()
    .expect("status templates only write to a String")
}

/// The page an unsubscribe link opens: a button that confirms (a GET changes nothing, so
/// link previews cannot unsubscribe anyone).
pub fn unsubscribe_page(data: &PublicData, token: &str) -> String {
    MessagePage {
        f: Frame::new(
            data,
            format!("Unsubscribe · {} status", data.branding.name),
            None,
        ),
        title: "Unsubscribe",
        message: "Stop sending this page's updates to the subscribed URL?",
        unsubscribe_token: Some(token),
        signing_secret: None,
    }
    .render()
    .expect("status templates only write to a String")
}

/// The one stylesheet of every status page: the rules plus the accent colour (and a text
/// colour readable on it) as custom properties. Pages embed exactly this text, which is
/// what `content_security_policy` hashes.
pub fn stylesheet(branding: &Branding) -> String {
    let accent = if is_hex_colour(&branding.accent_color) {
        branding.accent_color.to_ascii_lowercase()
    } else {
        DEFAULT_ACCENT.to_string()
    };
    let on_accent = if relative_luminance(&accent) > 0.179 {
        "#000"
    } else {
        "#fff"
    };
    format!(":root{{--ac:{accent};--onac:{on_accent}}}\n{CSS}")
}

/// The CSP of the status pages: nothing may load or run except the page's own inline
/// stylesheet (by hash), images over HTTPS (the branding logo) and the form posting back.
pub fn content_security_policy(stylesheet: &str) -> String {
    let hash = STANDARD.encode(Sha256::digest(stylesheet.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src https: data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

// ---------------------------------------------------------------------------------------
// Templates and the values they show. Every text is prepared here so the templates stay
// markup; askama escapes all of it except update bodies (sanitised HTML, marked `|safe`).

#[derive(Template)]
#[template(path = "status/home.html", whitespace = "minimize")]
struct HomePage<'a> {
    f: Frame<'a>,
    banner_class: &'static str,
    banner_text: &'static str,
    incidents: Vec<OpenIncident<'a>>,
    maintenances: Vec<MaintenanceCard<'a>>,
    sections: Vec<Section<'a>>,
    past: Vec<PastDay<'a>>,
}

#[derive(Template)]
#[template(path = "status/notice.html", whitespace = "minimize")]
struct NoticePage<'a> {
    f: Frame<'a>,
    name: &'a str,
    class: &'static str,
    status: String,
    impact: &'static str,
    window: Option<Window>,
    facts: String,
    affected_heading: &'static str,
    affected: Vec<Affected>,
    updates: Vec<Update<'a>>,
}

#[derive(Template)]
#[template(path = "status/history.html", whitespace = "minimize")]
struct HistoryPage<'a> {
    f: Frame<'a>,
    months: Vec<Month<'a>>,
    page: usize,
    pages: usize,
}

#[derive(Template)]
#[template(path = "status/message.html", whitespace = "minimize")]
struct MessagePage<'a> {
    f: Frame<'a>,
    title: &'a str,
    message: &'a str,
    /// Set on the unsubscribe page: the form that confirms it.
    unsubscribe_token: Option<&'a str>,
    /// Set on the answer to a subscription: the secret its requests are signed with.
    signing_secret: Option<&'a str>,
}

/// What every page has around its content.
struct Frame<'a> {
    title: String,
    css: String,
    name: &'a str,
    logo_url: Option<&'a str>,
    links: &'a [PageLink],
    stale: Option<String>,
    updated: Stamp,
}

impl<'a> Frame<'a> {
    fn new(data: &'a PublicData, title: String, stale: Option<&Staleness>) -> Self {
        Frame {
            title,
            css: stylesheet(&data.branding),
            name: &data.branding.name,
            logo_url: data.branding.logo_url.as_deref().filter(|u| !u.is_empty()),
            links: &data.branding.links,
            stale: stale.map(Staleness::sentence),
            updated: Stamp::new(data.changed_at),
        }
    }
}

/// A time for `<time datetime=…>` and for people.
struct Stamp {
    iso: String,
    text: String,
}

impl Stamp {
    fn new(at: DateTime<Utc>) -> Self {
        Stamp {
            iso: iso(at),
            text: text_time(at),
        }
    }
}

/// A maintenance window; the end omits its date when it is the start's.
struct Window {
    start: Stamp,
    end: Stamp,
}

impl Window {
    fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        let end_text = if start.date_naive() == end.date_naive() {
            end.format("%H:%M UTC").to_string()
        } else {
            text_time(end)
        };
        Window {
            start: Stamp {
                iso: iso(start),
                text: start.format("%-d %b %Y, %H:%M").to_string(),
            },
            end: Stamp {
                iso: iso(end),
                text: end_text,
            },
        }
    }
}

struct Update<'a> {
    status: String,
    at: Stamp,
    body_html: &'a str,
    /// "API: Operational → Partial outage".
    changes: Vec<String>,
}

impl<'a> Update<'a> {
    fn new(data: &PublicData, update: &'a PublicUpdate) -> Self {
        Update {
            status: update_status_label(&update.status),
            at: Stamp::new(update.created_at),
            body_html: &update.body_html,
            changes: update
                .affected_components
                .iter()
                .map(|change| {
                    let name = data
                        .components
                        .iter()
                        .find(|c| c.id == change.component_id)
                        .map_or(change.name.as_str(), |c| c.name.as_str());
                    format!(
                        "{name}: {} → {}",
                        change.old_status.label(),
                        change.new_status.label()
                    )
                })
                .collect(),
        }
    }
}

struct Affected {
    name: String,
    /// Empty where the impact is not worth saying (maintenance, finished incidents).
    impact: &'static str,
}

fn affected(components: &[AffectedComponent], with_impact: bool) -> Vec<Affected> {
    components
        .iter()
        .map(|c| Affected {
            name: c.name.clone(),
            impact: if with_impact { c.impact.label() } else { "" },
        })
        .collect()
}

struct OpenIncident<'a> {
    href: String,
    name: &'a str,
    class: &'static str,
    status: &'static str,
    impact: &'static str,
    updates: Vec<Update<'a>>,
    /// Updates not shown here.
    more: usize,
    affected: Vec<Affected>,
}

impl<'a> OpenIncident<'a> {
    fn new(data: &PublicData, incident: &'a PublicIncident) -> Self {
        OpenIncident {
            href: format!("/status/incidents/{}", incident.id),
            name: &incident.name,
            class: impact_class(incident.impact),
            status: incident.status.label(),
            impact: impact_text(incident.impact),
            updates: incident
                .updates
                .iter()
                .take(HOME_UPDATES)
                .map(|u| Update::new(data, u))
                .collect(),
            more: incident.updates.len().saturating_sub(HOME_UPDATES),
            affected: affected(&incident.components, true),
        }
    }
}

struct MaintenanceCard<'a> {
    href: String,
    name: &'a str,
    status: &'static str,
    window: Window,
    /// The latest update's body.
    latest: Option<&'a str>,
    affected: Vec<Affected>,
}

impl<'a> MaintenanceCard<'a> {
    fn new(maintenance: &'a PublicMaintenance) -> Self {
        MaintenanceCard {
            href: format!("/status/maintenances/{}", maintenance.id),
            name: &maintenance.name,
            status: maintenance.status.label(),
            window: Window::new(maintenance.scheduled_for, maintenance.scheduled_until),
            latest: maintenance.updates.first().map(|u| u.body_html.as_str()),
            affected: affected(&maintenance.components, false),
        }
    }
}

/// One top-level entry of the component list: a group with its components, or one
/// component on its own.
struct Section<'a> {
    group: Option<GroupHead<'a>>,
    components: Vec<ComponentRow<'a>>,
}

struct GroupHead<'a> {
    name: &'a str,
    description: &'a str,
    class: &'static str,
    status: &'static str,
}

struct ComponentRow<'a> {
    name: &'a str,
    description: &'a str,
    class: &'static str,
    status: &'static str,
    uptime: String,
    days: usize,
    bars: Vec<Bar>,
}

/// One day of uptime: a focusable bar whose label is also its tooltip.
struct Bar {
    /// "" operational, d/p/m degraded/partial/major, n not observed.
    class: &'static str,
    label: String,
}

fn sections(data: &PublicData) -> Vec<Section<'_>> {
    data.layout()
        .into_iter()
        .map(|placed| match placed {
            Placed::Group {
                group,
                members,
                worst,
            } => Section {
                group: Some(GroupHead {
                    name: &group.name,
                    description: &group.description,
                    class: status_class(worst),
                    status: worst.label(),
                }),
                components: members.into_iter().map(component_row).collect(),
            },
            Placed::Component(component) => Section {
                group: None,
                components: vec![component_row(component)],
            },
        })
        .collect()
}

fn component_row(c: &PublicComponent) -> ComponentRow<'_> {
    ComponentRow {
        name: &c.name,
        description: &c.description,
        class: status_class(c.status),
        status: c.status.label(),
        uptime: uptime_percent(&c.uptime)
            .map_or_else(|| "No data".to_string(), |p| percent(p) + " uptime"),
        days: c.uptime.len(),
        bars: c.uptime.iter().map(bar).collect(),
    }
}

fn bar(day: &UptimeDay) -> Bar {
    let date = day.date.format("%-d %b %Y");
    let Some(uptime) = day.uptime_percent() else {
        return Bar {
            class: "n",
            label: format!("{date}\nNo data"),
        };
    };
    let (class, worst) = match day.worst() {
        None => ("", String::new()),
        Some(impact) => (
            match impact {
                Impact::DegradedPerformance => "d",
                Impact::PartialOutage => "p",
                Impact::MajorOutage => "m",
            },
            format!("{} · ", impact.label()),
        ),
    };
    let incidents = if day.incidents.is_empty() {
        "No incidents".to_string()
    } else {
        day.incidents
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    Bar {
        class,
        label: format!("{date}\n{worst}{} uptime\n{incidents}", percent(uptime)),
    }
}

/// A day under "Past incidents".
struct PastDay<'a> {
    title: String,
    entries: Vec<Entry<'a>>,
}

/// An incident or a maintenance in a list of the past.
#[derive(Clone)]
struct Entry<'a> {
    when: DateTime<Utc>,
    href: String,
    name: &'a str,
    class: &'static str,
    /// "Resolved · Minor impact · 20 Nov 2026, 10:02 – 11:30 UTC".
    line: String,
    /// The latest update in plain text, shortened (history only).
    summary: String,
}

impl<'a> Entry<'a> {
    fn incident(incident: &'a PublicIncident) -> Self {
        Entry {
            when: incident.started_at,
            href: format!("/status/incidents/{}", incident.id),
            name: &incident.name,
            class: impact_class(incident.impact),
            line: format!(
                "{} · {} · {}",
                incident.status.label(),
                impact_text(incident.impact),
                span(incident.started_at, incident.resolved_at)
            ),
            summary: incident
                .updates
                .first()
                .map(|u| plain_text(&u.body_html, SUMMARY_CHARS))
                .unwrap_or_default(),
        }
    }

    fn maintenance(maintenance: &'a PublicMaintenance) -> Self {
        let start = maintenance.started_at.unwrap_or(maintenance.scheduled_for);
        Entry {
            when: start,
            href: format!("/status/maintenances/{}", maintenance.id),
            name: &maintenance.name,
            class: "mt",
            line: format!(
                "Maintenance {} · {}",
                maintenance.status.label().to_lowercase(),
                span(start, maintenance.completed_at)
            ),
            summary: maintenance
                .updates
                .first()
                .map(|u| plain_text(&u.body_html, SUMMARY_CHARS))
                .unwrap_or_default(),
        }
    }
}

struct Month<'a> {
    title: String,
    entries: Vec<Entry<'a>>,
}

/// Incidents (open ones too) and completed maintenance, newest first.
fn history_entries(data: &PublicData) -> Vec<Entry<'_>> {
    let mut entries: Vec<Entry<'_>> = data
        .incidents
        .iter()
        .map(Entry::incident)
        .chain(
            data.maintenances
                .iter()
                .filter(|m| m.status == MaintenanceStatus::Completed)
                .map(Entry::maintenance),
        )
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.when));
    entries
}

fn history_len(data: &PublicData) -> usize {
    data.incidents.len()
        + data
            .maintenances
            .iter()
            .filter(|m| m.status == MaintenanceStatus::Completed)
            .count()
}

/// The last `PAST_DAYS` days up to the data's day, each with what started on it; days
/// without anything stay, saying so (as Statuspage does).
fn past_days(data: &PublicData) -> Vec<PastDay<'_>> {
    let today = data.read_at.date_naive();
    let entries = history_entries(data);
    (0..PAST_DAYS)
        .map(|offset| today - Duration::days(offset))
        .map(|day: NaiveDate| PastDay {
            title: day.format("%-d %b %Y").to_string(),
            entries: entries
                .iter()
                .filter(|e| e.when.date_naive() == day)
                .cloned()
                .collect(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Words and formats.

fn status_class(status: ComponentStatus) -> &'static str {
    match status {
        ComponentStatus::Operational => "ok",
        ComponentStatus::UnderMaintenance => "mt",
        ComponentStatus::DegradedPerformance => "mi",
        ComponentStatus::PartialOutage => "ma",
        ComponentStatus::MajorOutage => "cr",
    }
}

fn indicator_class(indicator: Indicator) -> &'static str {
    match indicator {
        Indicator::None => "ok",
        Indicator::Minor => "mi",
        Indicator::Major => "ma",
        Indicator::Critical => "cr",
        Indicator::Maintenance => "mt",
    }
}

fn impact_class(impact: IncidentImpact) -> &'static str {
    match impact {
        IncidentImpact::None => "no",
        IncidentImpact::Minor => "mi",
        IncidentImpact::Major => "ma",
        IncidentImpact::Critical => "cr",
        IncidentImpact::Maintenance => "mt",
    }
}

fn impact_text(impact: IncidentImpact) -> &'static str {
    match impact {
        IncidentImpact::None => "No impact",
        IncidentImpact::Minor => "Minor impact",
        IncidentImpact::Major => "Major impact",
        IncidentImpact::Critical => "Critical impact",
        IncidentImpact::Maintenance => "Scheduled maintenance",
    }
}

/// Update statuses are an incident's (`identified`) or a maintenance's (`in_progress`);
/// a maintenance update that announces the window reads "Scheduled", not "Upcoming".
pub(super) fn update_status_label(status: &str) -> String {
    if let Ok(status) = PublicStatus::parse(status) {
        return status.label().to_string();
    }
    match status {
        "scheduled" => "Scheduled".to_string(),
        "in_progress" => "In progress".to_string(),
        "verifying" => "Verifying".to_string(),
        "completed" => "Completed".to_string(),
        other => {
            let spaced = other.replace('_', " ");
            let mut chars = spaced.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// "20 Nov 2026, 10:05 UTC": unambiguous for readers anywhere.
pub(super) fn text_time(at: DateTime<Utc>) -> String {
    at.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// "20 Nov 2026, 10:05 – 11:30 UTC", across days with both dates, or "… – ongoing".
fn span(start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> String {
    match end {
        None => format!("{} – ongoing", text_time(start)),
        Some(end) if end.date_naive() == start.date_naive() => format!(
            "{} – {}",
            start.format("%-d %b %Y, %H:%M"),
            end.format("%H:%M UTC")
        ),
        Some(end) => format!("{} – {}", text_time(start), text_time(end)),
    }
}

/// "7 minutes ago", "3 hours ago", "2 days ago".
fn ago(elapsed: Duration) -> String {
    let minutes = elapsed.num_minutes().max(0);
    let (count, unit) = match minutes {
        0 => return "less than a minute ago".to_string(),
        1..60 => (minutes, "minute"),
        60..2880 => (minutes / 60, "hour"),
        _ => (minutes / 1440, "day"),
    };
    format!("{count} {unit}{} ago", if count == 1 { "" } else { "s" })
}

/// Uptime with two decimals, rounded down so that a bad day never reads "100.00%".
fn percent(value: f64) -> String {
    if value >= 100.0 {
        "100%".to_string()
    } else {
        format!("{:.2}%", (value * 100.0).floor() / 100.0)
    }
}

/// The text of sanitised HTML, whitespace collapsed, cut at a word near `max_chars`.
fn plain_text(html: &str, max_chars: usize) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(ch),
            _ => {}
        }
    }
    // The sanitiser escapes only these in text; the template escapes again on output.
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max_chars {
        return text;
    }
    let cut: String = text.chars().take(max_chars).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':']))
}

fn is_hex_colour(value: &str) -> bool {
    value.len() == 7 && value.starts_with('#') && value[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// WCAG relative luminance of `#rrggbb`.
fn relative_luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

/// Realistic `PublicData` for the tests of the pages, the feeds and the JSON: a small page
/// (the snapshots) and a heavy one (the size budget).
#[cfg(test)]
pub(crate) mod fixture {
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use warroom_app::markdown;
    use warroom_app::status::model::{
        uptime_days, AffectedComponent, Branding, ComponentChange, ComponentStatus, Impact,
        ImpactInterval, IncidentImpact, IncidentRef, MaintenanceStatus, PageLink, PublicComponent,
        PublicData, PublicGroup, PublicIncident, PublicMaintenance, PublicStatus, PublicUpdate,
        UPTIME_DAYS,
    };

    /// A day in November 2026 at hh:mm UTC.
    pub(crate) fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, minute, 0)
            .unwrap()
    }

    /// When the data was read: 20 Nov 2026, 12:00 UTC.
    pub(crate) fn now() -> DateTime<Utc> {
        at(20, 12, 0)
    }

    fn update(
        id: &str,
        status: &str,
        body: &str,
        created_at: DateTime<Utc>,
        changes: &[(&str, &str, ComponentStatus, ComponentStatus)],
    ) -> PublicUpdate {
        PublicUpdate {
            id: id.into(),
            status: status.into(),
            body_md: body.into(),
            body_html: markdown::render(body),
            created_at,
            affected_components: changes
                .iter()
                .map(|(id, name, old, new)| ComponentChange {
                    component_id: (*id).into(),
                    name: (*name).into(),
                    old_status: *old,
                    new_status: *new,
                })
                .collect(),
        }
    }

    fn component(
        id: &str,
        group_id: Option<&str>,
        name: &str,
        description: &str,
        position: i32,
        status: ComponentStatus,
        created_at: DateTime<Utc>,
    ) -> PublicComponent {
        PublicComponent {
            id: id.into(),
            group_id: group_id.map(Into::into),
            name: name.into(),
            description: description.into(),
            position,
            status,
            created_at,
            updated_at: created_at,
            uptime: Vec::new(),
        }
    }

    fn group(id: &str, name: &str, position: i32) -> PublicGroup {
        PublicGroup {
            id: id.into(),
            name: name.into(),
            description: String::new(),
            position,
            created_at: Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0).unwrap(),
            updated_at: Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0).unwrap(),
        }
    }

    fn interval(
        impact: Impact,
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
        incident: &PublicIncident,
    ) -> ImpactInterval {
        ImpactInterval {
            impact,
            start,
            end,
            incident: IncidentRef {
                id: incident.id.clone(),
                name: incident.name.clone(),
            },
        }
    }

    /// Computes every component's uptime from `intervals` (component id, interval).
    fn fill_uptime(data: &mut PublicData, intervals: &[(String, ImpactInterval)]) {
        for component in &mut data.components {
            let own: Vec<ImpactInterval> = intervals
                .iter()
                .filter(|(id, _)| *id == component.id)
                .map(|(_, interval)| interval.clone())
                .collect();
            component.uptime = uptime_days(&own, component.created_at, now(), UPTIME_DAYS);
        }
    }

    const API: &str = "api0q8w3e5rt";
    const WEBHOOKS: &str = "whk5y7u1i3op";
    const EU: &str = "eu1b4n6m8l0k";
    const US: &str = "us2j4h6g8f0d";
    const WEBSITE: &str = "wbst7k2m9qxa";
    const SIGN_IN: &str = "sgn3s5d7f9g1";

    /// Two groups (Platform, Regions) and two components on their own, one open incident
    /// with two updates, one resolved incident, and an upcoming, an in-progress and a
    /// completed maintenance.
    pub(crate) fn small() -> PublicData {
        use ComponentStatus::*;
        let long_ago = Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0).unwrap();
        let open = PublicIncident {
            id: "inc1apierr01".into(),
            name: "Elevated API error rates".into(),
            status: PublicStatus::Identified,
            impact: IncidentImpact::Major,
            created_at: at(20, 10, 12),
            started_at: at(20, 10, 5),
            updated_at: at(20, 10, 40),
            monitoring_at: None,
            resolved_at: None,
            updates: vec![
                update(
                    "upd1b2c3d4e5",
                    "identified",
                    "We found a faulty cache node in **eu-west** and are replacing it. Error rates are falling.",
                    at(20, 10, 40),
                    &[],
                ),
                update(
                    "upd0a1b2c3d4",
                    "investigating",
                    "We are investigating increased error rates (HTTP 502) on the API. Webhook deliveries are delayed.",
                    at(20, 10, 12),
                    &[
                        (API, "API", Operational, PartialOutage),
                        (WEBHOOKS, "Webhooks", Operational, DegradedPerformance),
                    ],
                ),
            ],
            components: vec![
                AffectedComponent {
                    component_id: API.into(),
                    name: "API".into(),
                    impact: Impact::PartialOutage,
                },
                AffectedComponent {
                    component_id: WEBHOOKS.into(),
                    name: "Webhooks".into(),
                    impact: Impact::DegradedPerformance,
                },
            ],
            component_ids: vec![API.into(), WEBHOOKS.into()],
        };
        let resolved = PublicIncident {
            id: "inc0whkdly02".into(),
            name: "Delayed webhook deliveries".into(),
            status: PublicStatus::Resolved,
            impact: IncidentImpact::Minor,
            created_at: at(18, 14, 20),
            started_at: at(18, 14, 2),
            updated_at: at(18, 15, 31),
            monitoring_at: Some(at(18, 15, 5)),
            resolved_at: Some(at(18, 15, 31)),
            updates: vec![
                update(
                    "upd9z8y7x6w5",
                    "resolved",
                    "This incident has been resolved. All queued deliveries were sent.",
                    at(18, 15, 31),
                    &[(WEBHOOKS, "Webhooks", DegradedPerformance, Operational)],
                ),
                update(
                    "upd8y7x6w5v4",
                    "monitoring",
                    "A fix has been deployed; deliveries are catching up.",
                    at(18, 15, 5),
                    &[],
                ),
                update(
                    "upd7x6w5v4u3",
                    "investigating",
                    "Webhook deliveries are delayed by up to 10 minutes.",
                    at(18, 14, 20),
                    &[(WEBHOOKS, "Webhooks", Operational, DegradedPerformance)],
                ),
            ],
            components: vec![],
            component_ids: vec![WEBHOOKS.into()],
        };
        let intervals = vec![
            (
                API.to_string(),
                interval(Impact::PartialOutage, at(20, 10, 5), None, &open),
            ),
            (
                WEBHOOKS.to_string(),
                interval(Impact::DegradedPerformance, at(20, 10, 5), None, &open),
            ),
            (
                WEBHOOKS.to_string(),
                interval(
                    Impact::DegradedPerformance,
                    at(18, 14, 2),
                    Some(at(18, 15, 31)),
                    &resolved,
                ),
            ),
        ];
        let mut data = PublicData {
            branding: Branding {
                name: "Acme".into(),
                logo_url: None,
                accent_color: "#5b3cc4".into(),
                links: vec![
                    PageLink {
                        label: "acme.example".into(),
                        url: "https://acme.example".into(),
                    },
                    PageLink {
                        label: "Support".into(),
                        url: "https://acme.example/support".into(),
                    },
                ],
                updated_at: long_ago,
            },
            base_url: "https://status.acme.example".into(),
            groups: vec![group("grpplat4x8k2", "Platform", 2), group("grpreg9z1c3v", "Regions", 3)],
            components: vec![
                component(WEBSITE, None, "Website", "acme.example and the documentation", 1, Operational, long_ago),
                component(API, Some("grpplat4x8k2"), "API", "REST and GraphQL APIs", 1, PartialOutage, long_ago),
                component(WEBHOOKS, Some("grpplat4x8k2"), "Webhooks", "", 2, DegradedPerformance, long_ago),
                component(EU, Some("grpreg9z1c3v"), "EU (Frankfurt)", "", 1, Operational, long_ago),
                component(US, Some("grpreg9z1c3v"), "US (Virginia)", "", 2, UnderMaintenance, long_ago),
                component(SIGN_IN, None, "Sign-in", "Single sign-on and passwords", 4, Operational, at(1, 0, 0) - Duration::days(31)),
            ],
            incidents: vec![open, resolved],
            maintenances: vec![
                PublicMaintenance {
                    id: "mnt1dbupg003".into(),
                    name: "Database upgrade in the EU".into(),
                    status: MaintenanceStatus::Scheduled,
                    scheduled_for: at(24, 2, 0),
                    scheduled_until: at(24, 4, 0),
                    started_at: None,
                    completed_at: None,
                    created_at: at(17, 9, 0),
                    updated_at: at(17, 9, 0),
                    updates: vec![update(
                        "upd6w5v4u3t2",
                        "scheduled",
                        "We will upgrade the primary database in Frankfurt. Writes may pause for up to 2 minutes.",
                        at(17, 9, 0),
                        &[],
                    )],
                    components: vec![AffectedComponent {
                        component_id: EU.into(),
                        name: "EU (Frankfurt)".into(),
                        impact: Impact::DegradedPerformance,
                    }],
                },
                PublicMaintenance {
                    id: "mnt2netus004".into(),
                    name: "Network maintenance in Virginia".into(),
                    status: MaintenanceStatus::InProgress,
                    scheduled_for: at(20, 11, 0),
                    scheduled_until: at(20, 13, 0),
                    started_at: Some(at(20, 11, 0)),
                    completed_at: None,
                    created_at: at(13, 16, 0),
                    updated_at: at(20, 11, 0),
                    updates: vec![
                        update(
                            "upd5v4u3t2s1",
                            "in_progress",
                            "The maintenance has started.",
                            at(20, 11, 0),
                            &[(US, "US (Virginia)", Operational, UnderMaintenance)],
                        ),
                        update(
                            "upd4u3t2s1r0",
                            "scheduled",
                            "We will replace core switches in Virginia. Connections may reset briefly.",
                            at(13, 16, 0),
                            &[],
                        ),
                    ],
                    components: vec![AffectedComponent {
                        component_id: US.into(),
                        name: "US (Virginia)".into(),
                        impact: Impact::DegradedPerformance,
                    }],
                },
                PublicMaintenance {
                    id: "mnt3cert0005".into(),
                    name: "Certificate rotation".into(),
                    status: MaintenanceStatus::Completed,
                    scheduled_for: at(15, 6, 0),
                    scheduled_until: at(15, 6, 30),
                    started_at: Some(at(15, 6, 0)),
                    completed_at: Some(at(15, 6, 22)),
                    created_at: at(10, 12, 0),
                    updated_at: at(15, 6, 22),
                    updates: vec![
                        update("upd3t2s1r0q9", "completed", "The maintenance is complete.", at(15, 6, 22), &[]),
                        update("upd2s1r0q9p8", "in_progress", "The rotation has started.", at(15, 6, 0), &[]),
                        update(
                            "upd1r0q9p8o7",
                            "scheduled",
                            "We will rotate the TLS certificates of the website and the API. No downtime is expected.",
                            at(10, 12, 0),
                            &[],
                        ),
                    ],
                    components: vec![
                        AffectedComponent {
                            component_id: WEBSITE.into(),
                            name: "Website".into(),
                            impact: Impact::DegradedPerformance,
                        },
                        AffectedComponent {
                            component_id: API.into(),
                            name: "API".into(),
                            impact: Impact::DegradedPerformance,
                        },
                    ],
                },
            ],
            changed_at: at(20, 11, 0),
            read_at: now(),
        };
        fill_uptime(&mut data, &intervals);
        data
    }

    /// The size budget's page: 12 components with 90 days of uptime and many bad days,
    /// 3 open incidents with 3 long updates each, and 40 past incidents (more than a
    /// history page).
    pub(crate) fn heavy() -> PublicData {
        use ComponentStatus::*;
        let mut data = small();
        let long_ago = Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0).unwrap();
        data.groups.push(group("grpdata7h5j3", "Data", 5));
        for (i, name) in ["Storage", "Search", "Exports"].iter().enumerate() {
            data.components.push(component(
                &format!("dat{i}storage00"),
                Some("grpdata7h5j3"),
                name,
                "",
                i as i32 + 1,
                Operational,
                long_ago,
            ));
        }
        for (i, name) in ["Mobile app", "CDN", "Billing"].iter().enumerate() {
            data.components.push(component(
                &format!("top{i}mobile000"),
                None,
                name,
                "",
                i as i32 + 6,
                Operational,
                long_ago,
            ));
        }
        let ids: Vec<String> = data.components.iter().map(|c| c.id.clone()).collect();
        let long_body = "We are seeing elevated latency and some failed requests for customers in several regions. \
                         Our engineers have rolled back the latest deployment and are watching error rates closely. \
                         The next update will follow within 30 minutes, or sooner if anything changes.";
        let mut intervals = Vec::new();
        let mut incidents = Vec::new();
        for n in 0..43usize {
            let open = n < 3;
            let start = if open {
                now() - Duration::minutes(50 + 40 * n as i64)
            } else {
                now() - Duration::hours(20 + 50 * n as i64)
            };
            let end = (!open).then(|| start + Duration::minutes(35 + (n as i64 % 5) * 25));
            let impact = [
                Impact::DegradedPerformance,
                Impact::PartialOutage,
                Impact::MajorOutage,
            ][n % 3];
            let component_id = ids[(n * 5) % ids.len()].clone();
            let component_name = data.components[(n * 5) % ids.len()].name.clone();
            let statuses = [
                "investigating",
                "identified",
                if open { "monitoring" } else { "resolved" },
            ];
            let updates = (0..3)
                .rev()
                .map(|u| {
                    update(
                        &format!("upd{n:03}{u}heavy"),
                        statuses[u],
                        long_body,
                        start + Duration::minutes(10 * u as i64),
                        &[],
                    )
                })
                .collect::<Vec<_>>();
            let incident = PublicIncident {
                id: format!("inc{n:03}heavy00"),
                name: format!("Slow responses from {component_name} ({n})"),
                status: if open {
                    PublicStatus::Monitoring
                } else {
                    PublicStatus::Resolved
                },
                impact: impact.incident_impact(),
                created_at: start,
                started_at: start,
                updated_at: start + Duration::minutes(20),
                monitoring_at: Some(start + Duration::minutes(20)),
                resolved_at: end,
                updates,
                components: if open {
                    vec![AffectedComponent {
                        component_id: component_id.clone(),
                        name: component_name.clone(),
                        impact,
                    }]
                } else {
                    vec![]
                },
                component_ids: vec![component_id.clone()],
            };
            intervals.push((component_id, interval(impact, start, end, &incident)));
            incidents.push(incident);
        }
        for incident in incidents.iter().filter(|i| i.is_open()) {
            let affected = &incident.components[0];
            if let Some(c) = data
                .components
                .iter_mut()
                .find(|c| c.id == affected.component_id)
            {
                c.status = c.status.max(affected.impact.status());
            }
        }
        // Only the generated ones: the small page's open incident would make four.
        data.incidents = incidents;
        data.incidents
            .sort_by_key(|i| std::cmp::Reverse(i.created_at));
        fill_uptime(&mut data, &intervals);
        data
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::{at, heavy, now, small};
    use super::*;
    use std::io::Write as _;

    fn gzip_len(text: &str) -> usize {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap().len()
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    #[test]
    fn every_page_is_static_html_with_exactly_the_hashed_stylesheet() {
        let data = small();
        let css = stylesheet(&data.branding);
        let pages = [
            home(&data, None),
            incident(&data, &data.incidents[0], None),
            maintenance(&data, &data.maintenances[0], None),
            history(&data, 1, None).unwrap(),
            message_page(&data, "No such incident", "It may have been removed."),
            unsubscribe_page(&data, "tok3n"),
        ];
        for page in &pages {
            assert!(
                page.starts_with("<!doctype html>\n<html lang=en>"),
                "{page}"
            );
            assert!(page.contains("<meta name=viewport"));
            assert!(!page.to_lowercase().contains("<script"));
            let handler = page.match_indices(" on").any(|(at, _)| {
                let name: String = page[at + 3..]
                    .chars()
                    .take_while(char::is_ascii_alphabetic)
                    .collect();
                page[at + 3 + name.len()..].starts_with('=')
            });
            assert!(!handler, "no event handler attributes");
            assert!(
                !page.contains("style=\""),
                "no style attributes: the CSP forbids them"
            );
            assert_eq!(count(page, "<style>"), 1);
            assert!(page.contains(&format!("<style>{css}</style>")));
            assert!(page.contains("<main id=main"));
        }
    }

    #[test]
    fn the_stylesheet_passes_escaping_unchanged_so_its_hash_holds() {
        let css = stylesheet(&small().branding);
        assert!(
            !css.contains(['<', '>', '&', '"', '\'']),
            "askama would escape these and break the CSP hash"
        );
        assert!(css.starts_with(":root{--ac:#5b3cc4;--onac:#fff}"));
        let policy = content_security_policy(&css);
        let hash = STANDARD.encode(Sha256::digest(css.as_bytes()));
        assert_eq!(
            policy,
            format!(
                "default-src 'none'; style-src 'sha256-{hash}'; img-src https: data:; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            )
        );
    }

    #[test]
    fn the_accent_is_validated_and_gets_a_readable_text_colour() {
        let mut branding = small().branding;
        branding.accent_color = "#FFE066".into();
        assert!(stylesheet(&branding).starts_with(":root{--ac:#ffe066;--onac:#000}"));
        branding.accent_color = "red;}body{display:none".into();
        assert!(stylesheet(&branding).starts_with(":root{--ac:#0969da;--onac:#fff}"));
    }

    #[test]
    fn a_stale_page_says_from_when_it_is() {
        let sentence = |as_of, now| Staleness { as_of, now }.sentence();
        assert_eq!(
            sentence(at(20, 12, 3), at(20, 12, 10)),
            "This page could not be refreshed: it shows the status as of 12:03 UTC (7 minutes ago)."
        );
        assert_eq!(
            sentence(at(20, 12, 3), at(20, 12, 4)),
            "This page could not be refreshed: it shows the status as of 12:03 UTC (1 minute ago)."
        );
        assert_eq!(
            sentence(at(20, 9, 0), at(20, 12, 10)),
            "This page could not be refreshed: it shows the status as of 09:00 UTC (3 hours ago)."
        );
        assert_eq!(
            sentence(at(17, 23, 0), at(20, 1, 0)),
            "This page could not be refreshed: it shows the status as of 17 Nov 2026, 23:00 UTC (2 days ago)."
        );
        let data = small();
        let stale = Staleness {
            as_of: at(20, 12, 0),
            now: at(20, 12, 7),
        };
        for page in [
            home(&data, Some(&stale)),
            incident(&data, &data.incidents[1], Some(&stale)),
            maintenance(&data, &data.maintenances[2], Some(&stale)),
            history(&data, 1, Some(&stale)).unwrap(),
        ] {
            let banner = page.find("<p class=stale>").expect("stale banner");
            assert!(
                banner < page.find("<header").unwrap(),
                "the banner comes first"
            );
            assert!(page.contains("as of 12:00 UTC (7 minutes ago)."));
        }
        assert!(!home(&data, None).contains("class=stale"));
    }

    #[test]
    fn home_shows_the_banner_incidents_and_maintenance() {
        let page = home(&small(), None);
        assert!(page.contains("<h1 class=\"banner ma\">Partial System Outage</h1>"));
        assert!(page
            .contains("<a href=\"/status/incidents/inc1apierr01\">Elevated API error rates</a>"));
        assert!(page.contains("<span class=tag>Identified</span> Major impact"));
        assert!(
            page.contains("<strong>eu-west</strong>"),
            "update bodies are HTML"
        );
        assert!(
            !page.contains("HTTP 502"),
            "only the latest update: the rest is one click away"
        );
        assert!(
            page.contains("<p><a href=\"/status/incidents/inc1apierr01\">All 2 updates</a></p>")
        );
        assert!(page.contains("Affected: API (Partial outage), Webhooks (Degraded performance)"));
        // Resolved incidents are not current.
        assert!(!page.contains("<h3><a href=\"/status/incidents/inc0whkdly02\""));
        let in_progress = page.find("<span class=tag>In progress</span>").unwrap();
        let upcoming = page.find("<span class=tag>Upcoming</span>").unwrap();
        assert!(in_progress < upcoming, "soonest first");
        assert!(page.contains("<time datetime=\"2026-11-24T02:00:00Z\">24 Nov 2026, 02:00</time> – <time datetime=\"2026-11-24T04:00:00Z\">04:00 UTC</time>"));
        assert!(
            !page.contains("Certificate rotation</a></h3>"),
            "completed maintenance is history"
        );
        assert!(page.contains(
            "Last updated <time datetime=\"2026-11-20T11:00:00Z\">20 Nov 2026, 11:00 UTC</time>"
        ));
    }

    #[test]
    fn components_are_listed_by_position_with_groups_and_90_focusable_days_each() {
        let page = home(&small(), None);
        let order: Vec<usize> = [
            "<span class=cn>Website</span>",
            "<h3><span>Platform</span> <span class=st>Partial outage</span></h3>",
            "<span class=cn>API</span> <span class=st>Partial outage</span>",
            "<span class=cn>Webhooks</span> <span class=st>Degraded performance</span>",
            "<h3><span>Regions</span> <span class=st>Under maintenance</span></h3>",
            "<span class=cn>EU (Frankfurt)</span>",
            "<span class=cn>US (Virginia)</span> <span class=st>Under maintenance</span>",
            "<span class=cn>Sign-in</span> <span class=st>Operational</span>",
        ]
        .iter()
        .map(|needle| {
            page.find(needle)
                .unwrap_or_else(|| panic!("{needle} in {page}"))
        })
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        assert_eq!(count(&page, "<i tabindex=0 role=img"), 6 * 90);
        assert_eq!(count(&page, "class=bl"), 6);
        // Today on the API: partial outage (30 % down) since 10:05 of 12 observed hours.
        assert!(page.contains(
            "<i tabindex=0 role=img class=p aria-label=\"20 Nov 2026\nPartial outage · 95.20% uptime\nElevated API error rates\"></i></div>"
        ));
        assert!(page.contains("aria-label=\"18 Nov 2026\nDegraded performance · 100% uptime\nDelayed webhook deliveries\""));
        assert!(page.contains("aria-label=\"19 Nov 2026\n100% uptime\nNo incidents\""));
        // Sign-in exists since 1 Oct: the days before have no data.
        assert!(page.contains("class=n aria-label=\"30 Sep 2026\nNo data\""));
        assert!(page.contains("<span>99.97% uptime</span>"));
    }

    #[test]
    fn past_incidents_cover_seven_days_and_link_to_the_history() {
        let page = home(&small(), None);
        let past = &page[page.find("<h2 id=h-past>").unwrap()..];
        assert_eq!(count(past, "<h3 class=day>"), 7);
        assert!(past.contains("<h3 class=day>20 Nov 2026</h3>"));
        assert!(past.contains("<h3 class=day>14 Nov 2026</h3>"));
        assert!(!past.contains("13 Nov 2026</h3>"));
        assert_eq!(count(past, "No incidents reported."), 4);
        assert!(past.contains("<a href=\"/status/incidents/inc0whkdly02\">Delayed webhook deliveries</a><br><span class=mut>Resolved · Minor impact · 18 Nov 2026, 14:02 – 15:31 UTC</span>"));
        assert!(past.contains("Certificate rotation</a><br><span class=mut>Maintenance completed · 15 Nov 2026, 06:00 – 06:22 UTC</span>"));
        assert!(past.contains("<a href=/status/history>Incident history</a>"));
    }

    #[test]
    fn home_offers_the_webhook_form_feeds_and_json() {
        let page = home(&small(), None);
        assert!(page.contains("<form method=post action=/status/subscribe>"));
        assert!(page.contains("<label for=url>Get updates by webhook</label>"));
        assert_eq!(
            count(&page, " name="),
            2,
            "the viewport meta and the one field"
        );
        assert!(page.contains("name=url type=url required"));
        for link in [
            "/status/feed.atom",
            "/status/feed.rss",
            "/api/v2/summary.json",
        ] {
            assert!(page.contains(&format!("href={link}>")), "{link}");
        }
    }

    #[test]
    fn text_is_escaped_and_only_update_bodies_are_html() {
        let mut data = small();
        data.branding.name = "Acme <b>&</b>".into();
        data.incidents[0].name = "<script>alert(1)</script>".into();
        data.incidents[0].updates[0].body_html = "<p>kept <em>as is</em></p>".into();
        data.components[0].name = "\"quoted\"".into();
        let page = home(&data, None);
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                || page.contains("&lt;script&gt;")
        );
        assert!(!page.contains("<script>"));
        assert!(!page.contains("Acme <b>"));
        assert!(page.contains("<p>kept <em>as is</em></p>"));
        assert!(!page.contains("\"quoted\""));
    }

    #[test]
    fn the_logo_replaces_the_name_and_links_come_from_branding() {
        let mut data = small();
        data.branding.logo_url = Some("https://cdn.acme.example/logo.svg".into());
        let page = home(&data, None);
        assert!(page.contains("<a class=brand href=/status><img src=\"https://cdn.acme.example/logo.svg\" alt=\"Acme status\"></a>"));
        assert!(page.contains("<li><a href=\"https://acme.example/support\">Support</a>"));
    }

    #[test]
    fn an_incident_page_has_every_update_newest_first_with_times() {
        let data = small();
        let page = incident(&data, &data.incidents[1], None);
        assert!(page.contains("<title>Delayed webhook deliveries · Acme status</title>"));
        assert!(page.contains("<h1>Delayed webhook deliveries</h1>"));
        assert!(page.contains("<span class=tag>Resolved</span> Minor impact"));
        assert!(page.contains("Started 18 Nov 2026, 14:02 UTC · Resolved 18 Nov 2026, 15:31 UTC"));
        let resolved = page.find("<b>Resolved</b> <time datetime=\"2026-11-18T15:31:00Z\">18 Nov 2026, 15:31 UTC</time>").unwrap();
        let monitoring = page.find("<b>Monitoring</b>").unwrap();
        let investigating = page.find("<b>Investigating</b>").unwrap();
        assert!(resolved < monitoring && monitoring < investigating);
        assert!(page.contains("Webhooks: Degraded performance → Operational"));
        assert!(page.contains("<h2 id=h-aff>Components it affected</h2>\n<ul><li>Webhooks\n</ul>"));
        let open = incident(&data, &data.incidents[0], None);
        assert!(open.contains("<li>API: Partial outage<li>Webhooks: Degraded performance"));
    }

    #[test]
    fn a_maintenance_page_shows_its_window_and_components() {
        let data = small();
        let page = maintenance(&data, &data.maintenances[1], None);
        assert!(page.contains("<h1>Network maintenance in Virginia</h1>"));
        assert!(page.contains("<span class=tag>In progress</span> Scheduled maintenance"));
        assert!(page.contains("Scheduled for <time datetime=\"2026-11-20T11:00:00Z\">20 Nov 2026, 11:00</time> – <time datetime=\"2026-11-20T13:00:00Z\">13:00 UTC</time>"));
        assert!(page.contains(
            "<h2 id=h-aff>Components under maintenance</h2>\n<ul><li>US (Virginia)\n</ul>"
        ));
        assert!(page.contains("<b>In progress</b>"));
        assert!(page.contains("<b>Scheduled</b>"));
    }

    #[test]
    fn the_history_pages_twenty_entries_newest_first_by_month() {
        let data = heavy();
        // 43 incidents + 1 completed maintenance.
        assert_eq!(history_page_count(&data), 3);
        assert!(history(&data, 0, None).is_none());
        assert!(history(&data, 4, None).is_none());
        let first = history(&data, 1, None).unwrap();
        assert_eq!(count(&first, "<li class="), 20);
        assert!(first.contains("<h2 class=day>November 2026</h2>"));
        assert!(!first.contains("rel=prev"));
        assert!(first.contains("<a rel=next href=\"/status/history?page=2\">Next page →</a>"));
        let last = history(&data, 3, None).unwrap();
        assert_eq!(count(&last, "<li class="), 4);
        assert!(last.contains("<a rel=prev href=\"/status/history?page=2\">← Previous page</a>"));
        assert!(!last.contains("rel=next"));
        let months: Vec<&str> = last.matches("<h2 class=day>").collect();
        assert!(!months.is_empty());

        let small_data = small();
        assert_eq!(history_page_count(&small_data), 1);
        let only = history(&small_data, 1, None).unwrap();
        let resolved = only.find("Delayed webhook deliveries").unwrap();
        let open = only.find("Elevated API error rates").unwrap();
        let maintenance = only.find("Certificate rotation").unwrap();
        assert!(open < resolved && resolved < maintenance);
        assert!(
            only.contains("<br>This incident has been resolved. All queued deliveries were sent.")
        );
        assert!(!only.contains("class=pg"));

        let mut empty = small();
        empty.incidents.clear();
        empty.maintenances.clear();
        assert_eq!(history_page_count(&empty), 1);
        assert!(history(&empty, 1, None)
            .unwrap()
            .contains("No incidents reported yet."));
    }

    #[test]
    fn a_message_page_says_one_thing() {
        let page = message_page(&small(), "Check your endpoint", "We sent it a challenge.");
        assert!(page.contains("<title>Check your endpoint · Acme status</title>"));
        assert!(page.contains("<h1>Check your endpoint</h1>\n<p>We sent it a challenge.</p>"));
    }

    #[test]
    fn unsubscribing_takes_a_button_press() {
        let page = unsubscribe_page(&small(), "tok\"3n");
        assert!(page.contains("<form method=post action=/status/unsubscribe>"));
        assert!(page.contains("<input type=hidden name=token value=\"tok&#34;3n\">"));
        assert!(page.contains("<button type=submit>Unsubscribe</button>"));
    }

    #[test]
    fn a_busy_home_page_and_a_full_history_page_stay_under_30_kb_gzipped() {
        let data = heavy();
        assert_eq!(data.components.len(), 12);
        assert_eq!(data.unresolved_incidents().count(), 3);
        let stale = Staleness {
            as_of: now(),
            now: now() + Duration::minutes(7),
        };
        let page = home(&data, Some(&stale));
        assert_eq!(count(&page, "<i tabindex=0"), 12 * 90);
        let history_page = history(&data, 1, Some(&stale)).unwrap();
        let incident_page = incident(&data, &data.incidents[0], Some(&stale));
        for (name, html) in [
            ("home", &page),
            ("history", &history_page),
            ("incident", &incident_page),
        ] {
            let gzipped = gzip_len(html);
            // Printed for the record: `cargo test … -- --nocapture` shows it.
            eprintln!(
                "status page {name}: {} bytes, {gzipped} bytes gzipped",
                html.len()
            );
            assert!(gzipped < 30 * 1024, "{name}: {gzipped} bytes gzipped");
        }
    }

    #[test]
    fn words_and_numbers_read_well() {
        assert_eq!(percent(100.0), "100%");
        assert_eq!(percent(99.999), "99.99%");
        assert_eq!(percent(97.5694), "97.56%");
        assert_eq!(ago(Duration::seconds(30)), "less than a minute ago");
        assert_eq!(ago(Duration::minutes(59)), "59 minutes ago");
        assert_eq!(ago(Duration::minutes(60)), "1 hour ago");
        assert_eq!(ago(Duration::hours(47)), "47 hours ago");
        assert_eq!(ago(Duration::hours(48)), "2 days ago");
        assert_eq!(update_status_label("in_progress"), "In progress");
        assert_eq!(update_status_label("scheduled"), "Scheduled");
        assert_eq!(update_status_label("identified"), "Identified");
        assert_eq!(update_status_label("post_mortem"), "Post mortem");
        assert_eq!(
            plain_text(
                "<p>Disk &amp; CPU &lt;full&gt;</p><ul><li>one</li></ul>",
                100
            ),
            "Disk & CPU <full> one"
        );
        assert_eq!(plain_text("<p>one two three four</p>", 12), "one two…");
        assert_eq!(
            span(at(20, 10, 2), Some(at(21, 1, 0))),
            "20 Nov 2026, 10:02 UTC – 21 Nov 2026, 01:00 UTC"
        );
        assert_eq!(
            span(at(20, 10, 2), None),
            "20 Nov 2026, 10:02 UTC – ongoing"
        );
    }
}
