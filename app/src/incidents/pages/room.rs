//! The incident room: header with status and severity, bridge, people in the room,
//! the live timeline with its composer, roles and milestones.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::auth::model::Person;
use crate::error::AppError;
use crate::incidents::api::{
    get_incident_room, get_note_history, get_pinned_entries, get_role_history, get_timeline_page,
    AddNote, AssignRole, EditNote, EndRole, SetPin, SetSeverity, SetStatus,
};
use crate::incidents::model::{
    IncidentEvent, IncidentSummary, NoteBody, Role, RoomData, Severity, Status,
};
use crate::status::model::StatusEvent;
use crate::timeline::model::{EntryEvent, TimelineEntry};
use crate::ui::{ago, date_time, duration, ErrorNote, Failure, SeverityBadge, StatusBadge};

#[component]
pub fn RoomPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| s.trim_start_matches("INC-").parse::<i64>().ok())
    };
    let room = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_incident_room(id).await,
            None => Err(AppError::NotFound("incident".into())),
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Opening the room…"</p> }>
            {move || room.get().map(|result| match result {
                Ok(data) => view! { <Room data/> }.into_any(),
                Err(error) => view! { <Failure error/> }.into_any(),
            })}
        </Suspense>
    }
}

/// Signals the live connection updates.
#[derive(Clone, Copy)]
pub struct RoomSignals {
    pub incident: RwSignal<IncidentSummary>,
    /// The loaded entries (the newest page, older pages on request, live ones), oldest
    /// first, unique by id.
    pub entries: RwSignal<Vec<TimelineEntry>>,
    /// Whether older entries than the loaded ones exist.
    pub has_older: RwSignal<bool>,
    /// The notes pinned now, whether loaded or not.
    pub pinned: RwSignal<Vec<TimelineEntry>>,
    /// Bumped when pins (or pinned texts) may have changed, so the pinned list reloads.
    pub pins_version: RwSignal<u32>,
    pub viewers: RwSignal<Vec<Person>>,
    pub connected: RwSignal<bool>,
    /// Bumped when roles change, so the role history reloads.
    pub roles_version: RwSignal<u32>,
}

impl RoomSignals {
    /// Takes one live entry: adds it (once) and adopts the incident state it carries.
    pub fn apply(&self, entry: TimelineEntry, incident: IncidentSummary) {
        let role_change = entry
            .event
            .incident()
            .is_some_and(IncidentEvent::is_role_change);
        let pins_change = matches!(
            entry.event,
            EntryEvent::Incident(
                IncidentEvent::Pinned { .. }
                    | IncidentEvent::Unpinned { .. }
                    | IncidentEvent::NoteEdited { .. }
            )
        );
        let mut added = false;
        self.entries.update(|list| {
            if let Err(at) = list.binary_search_by_key(&entry.id, |e| e.id) {
                list.insert(at, entry);
                added = true;
            }
        });
        if added {
            self.incident.set(incident);
            if role_change {
                self.roles_version.update(|v| *v += 1);
            }
            if pins_change {
                self.pins_version.update(|v| *v += 1);
            }
        }
    }

    /// Adds an older page in front of the loaded entries.
    fn prepend(&self, older: Vec<TimelineEntry>, more: bool) {
        self.entries.update(|list| {
            let first = list.first().map(|e| e.id).unwrap_or(i64::MAX);
            let mut merged: Vec<TimelineEntry> =
                older.into_iter().filter(|e| e.id < first).collect();
            merged.append(list);
            *list = merged;
        });
        self.has_older.set(more);
    }
}

#[component]
fn Room(data: RoomData) -> impl IntoView {
    let RoomData {
        incident,
        timeline,
        pinned,
        severities,
        people,
        bridge_url,
        me,
        can_work,
        now,
    } = data;
    // Viewers and leadership read the room; the controls are only for those who may
    // work it (the server refuses their changes either way).
    provide_context(CanWork(can_work));
    let incident_id = incident.id;
    let signals = RoomSignals {
        incident: RwSignal::new(incident),
        entries: RwSignal::new(timeline.entries),
        has_older: RwSignal::new(timeline.older),
        pinned: RwSignal::new(pinned),
        pins_version: RwSignal::new(0),
        viewers: RwSignal::new(Vec::new()),
        connected: RwSignal::new(false),
        roles_version: RwSignal::new(0),
    };
    let now = RwSignal::new(now);

    #[cfg(feature = "hydrate")]
    {
        let after = signals
            .entries
            .with_untracked(|list| list.last().map(|e| e.id).unwrap_or(0));
        crate::incidents::live::connect(incident_id, after, signals);
        let tick = set_interval_with_handle(
            move || now.set(Utc::now()),
            std::time::Duration::from_secs(5),
        );
        if let Ok(tick) = tick {
            on_cleanup(move || tick.clear());
        }
    }

    let people = StoredValue::new(people);
    let me = StoredValue::new(me);
    let incident = signals.incident;

    view! {
        <Title text=move || incident.with(|i| format!("INC-{} {}", i.id, i.title))/>
        <RoomHeader signals now bridge_url severities/>
        <div class="room-grid">
            <section class="timeline-col" aria-label="Timeline">
                {if can_work {
                    view! { <Composer incident_id/> }.into_any()
                } else {
                    view! {
                        <p class="read-only-note" data-testid="read-only">
                            "You can follow this incident. Working on it needs the responder role: ask an admin."
                        </p>
                    }.into_any()
                }}
                <Timeline signals incident_id/>
            </section>
            <aside class="side-col">
                <RolesPanel incident people me/>
                <super::public::PublicPanel incident_id entries=signals.entries roles_version=signals.roles_version can_work/>
                <MilestonesPanel incident now/>
                <RoleHistory incident_id version=signals.roles_version/>
            </aside>
        </div>
    }
}

#[component]
fn RoomHeader(
    signals: RoomSignals,
    now: RwSignal<DateTime<Utc>>,
    bridge_url: String,
    severities: Vec<Severity>,
) -> impl IntoView {
    let incident = signals.incident;
    view! {
        <header class="room-head">
            <div class="room-badges">
                <span class="incident-id">{move || format!("INC-{}", incident.with(|i| i.id))}</span>
                {move || view! { <SeverityBadge severity=incident.with(|i| i.severity.clone())/> }}
                {move || view! { <StatusBadge status=incident.with(|i| i.status)/> }}
                <span class="open-for" title="Time since declared">
                    {move || incident.with(|i| {
                        let end = i.milestones.resolved_at.unwrap_or_else(|| now.get());
                        let verb = if i.status.is_open() { "open for" } else { "was open for" };
                        format!("{verb} {}", duration((end - i.declared_at).num_seconds()))
                    })}
                </span>
            </div>
            <h1 data-testid="incident-title">{move || incident.with(|i| i.title.clone())}</h1>
            {can_work().then(|| view! { <StatusControls incident severities/> })}
            <div class="room-actions">
                <a class="button bridge" href=bridge_url target="_blank" rel="noopener noreferrer">"Join bridge"</a>
                <span class="commander" data-testid="header-commander">
                    {move || incident.with(|i| match i.holders(Role::Commander).next() {
                        Some(holder) => format!("IC: {}", holder.person.name),
                        None => "No incident commander yet".to_string(),
                    })}
                </span>
                <span class="live" class:online=move || signals.connected.get()
                    data-testid="live-indicator">
                    {move || if signals.connected.get() { "Live" } else { "Connecting…" }}
                </span>
                <span class="presence" data-testid="presence">
                    "In the room: "
                    {move || {
                        let names = signals.viewers.with(|v| v.iter().map(|p| p.name.clone()).collect::<Vec<_>>());
                        if names.is_empty() { "—".to_string() } else { names.join(", ") }
                    }}
                </span>
            </div>
            <div class="summary markdown" inner_html=move || incident.with(|i| i.summary_html.clone())></div>
        </header>
    }
}

/// Status moves (forward ones first, backward ones as "back to …") and severity.
#[component]
fn StatusControls(incident: RwSignal<IncidentSummary>, severities: Vec<Severity>) -> impl IntoView {
    let set_status = ServerAction::<SetStatus>::new();
    let set_severity = ServerAction::<SetSeverity>::new();
    let incident_id = incident.with_untracked(|i| i.id);
    let severities = StoredValue::new(severities);
    let position = |status: Status| Status::ALL.iter().position(|s| *s == status);
    view! {
        <div class="status-controls" role="group" aria-label="Status and severity">
            <div class="status-buttons">
                {move || {
                    let current = incident.with(|i| i.status);
                    let mut choices = current.next_choices();
                    // Forward moves first: they are what a responder usually wants.
                    choices.sort_by_key(|to| position(*to) < position(current));
                    choices.into_iter().map(|to| {
                        let forward = position(to) > position(current);
                        let (label, class) = match (current, forward) {
                            (Status::Resolved, _) => ("Reopen".to_string(), "secondary"),
                            (_, true) => (format!("→ {}", to.label()), "primary-move"),
                            (_, false) => (format!("Back to {}", to.label().to_lowercase()), "secondary"),
                        };
                        view! {
                            <button type="button" class=format!("{class} status-{}", to.as_str())
                                disabled=move || set_status.pending().get()
                                on:click=move |_| { set_status.dispatch(SetStatus { incident_id, status: to.as_str().to_string() }); }>
                                {label}
                            </button>
                        }
                    }).collect_view()
                }}
            </div>
            <label class="severity-picker">
                <span>"Severity"</span>
                <select data-testid="severity-select"
                    on:change=move |ev| {
                        set_severity.dispatch(SetSeverity { incident_id, severity: event_target_value(&ev) });
                    }>
                    {move || {
                        let current = incident.with(|i| i.severity.key.clone());
                        severities.get_value().into_iter().map(|s| {
                            let selected = s.key == current;
                            view! { <option value=s.key.clone() selected=selected title=s.description.clone()>{format!("{} — {}", s.key, s.name)}</option> }
                        }).collect_view()
                    }}
                </select>
            </label>
        </div>
        <ErrorNote result=set_status.value()/>
        <ErrorNote result=set_severity.value()/>
    }
}

#[component]
fn RolesPanel(
    incident: RwSignal<IncidentSummary>,
    people: StoredValue<Vec<Person>>,
    me: StoredValue<Person>,
) -> impl IntoView {
    let assign = ServerAction::<AssignRole>::new();
    let end = ServerAction::<EndRole>::new();
    let incident_id = incident.with_untracked(|i| i.id);
    let role_row = move |role: Role| {
        let holders = move || {
            incident.with(|i| {
                i.holders(role)
                    .map(|h| h.person.clone())
                    .collect::<Vec<_>>()
            })
        };
        let my_id = me.with_value(|m| m.id);
        view! {
            <li class="role" data-testid=format!("role-{}", role.as_str())>
                <div class="role-name">{role.label()}</div>
                <div class="role-holders">
                    {move || {
                        let list = holders();
                        if list.is_empty() {
                            view! { <span class="unassigned">"Unassigned"</span> }.into_any()
                        } else {
                            list.into_iter().map(|person| {
                                let mine = person.id == my_id;
                                let person_id = person.id;
                                view! {
                                    <span class="holder">
                                        <span class="holder-name">{person.name.clone()}</span>
                                        {can_work().then(|| view! { <button type="button" class="link"
                                            on:click=move |_| { end.dispatch(EndRole { incident_id, role: role.as_str().into(), user_id: person_id }); }>
                                            {if mine { "Step down" } else { "Remove" }}
                                        </button> })}
                                    </span>
                                }
                            }).collect_view().into_any()
                        }
                    }}
                </div>
                <div class="role-controls">
                    {move || can_work().then(|| {
                        let list = holders();
                        let i_hold = list.iter().any(|p| p.id == my_id);
                        let claim_label = match (role.single_holder(), list.is_empty()) {
                            (false, _) => "Join as fixer",
                            (true, true) => "Claim",
                            (true, false) => "Take over",
                        };
                        let candidates: Vec<Person> = people.get_value().into_iter()
                            .filter(|p| !list.iter().any(|h| h.id == p.id)).collect();
                        let prompt = if role.single_holder() && !list.is_empty() { "Hand off to…" } else { "Assign…" };
                        view! {
                            {(!i_hold).then(|| view! {
                                <button type="button" class="small"
                                    on:click=move |_| { assign.dispatch(AssignRole { incident_id, role: role.as_str().into(), user_id: 0 }); }>
                                    {claim_label}
                                </button>
                            })}
                            <select class="small" aria-label=format!("{} {}", prompt, role.label())
                                on:change=move |ev| {
                                    if let Ok(user_id) = event_target_value(&ev).parse::<i64>() {
                                        assign.dispatch(AssignRole { incident_id, role: role.as_str().into(), user_id });
                                    }
                                }>
                                <option value="" selected>{prompt}</option>
                                {candidates.into_iter().map(|p| view! { <option value=p.id.to_string()>{p.name}</option> }).collect_view()}
                            </select>
                        }
                    })}
                </div>
            </li>
        }
    };
    view! {
        <section class="panel" aria-label="Roles">
            <h2>"Roles"</h2>
            <ul class="roles">
                {Role::ALL.into_iter().map(role_row).collect_view()}
            </ul>
            <ErrorNote result=assign.value()/>
            <ErrorNote result=end.value()/>
        </section>
    }
}

#[component]
fn MilestonesPanel(
    incident: RwSignal<IncidentSummary>,
    now: RwSignal<DateTime<Utc>>,
) -> impl IntoView {
    let row = move |label: &'static str, at: fn(&IncidentSummary) -> Option<DateTime<Utc>>| {
        view! {
            <div class="milestone">
                <dt>{label}</dt>
                <dd>
                    {move || incident.with(|i| match at(i) {
                        Some(t) => format!("{} (+{})", date_time(t), duration((t - i.declared_at).num_seconds())),
                        None => "—".to_string(),
                    })}
                </dd>
            </div>
        }
    };
    view! {
        <section class="panel" aria-label="Milestones">
            <h2>"Milestones"</h2>
            <dl class="milestones">
                <div class="milestone">
                    <dt>"Declared"</dt>
                    <dd>{move || incident.with(|i| format!("{} by {} ({})", date_time(i.declared_at), i.declared_by.name, ago(i.declared_at, now.get())))}</dd>
                </div>
                {row("Acknowledged", |i| i.milestones.acknowledged_at)}
                {row("Mitigated", |i| i.milestones.mitigated_at)}
                {row("Resolved", |i| i.milestones.resolved_at)}
            </dl>
        </section>
    }
}

#[component]
fn RoleHistory(incident_id: i64, version: RwSignal<u32>) -> impl IntoView {
    let history = Resource::new(
        move || version.get(),
        move |_| get_role_history(incident_id),
    );
    view! {
        <section class="panel" aria-label="Role history">
            <h2>"Role history"</h2>
            <Transition fallback=|| ()>
                {move || history.get().map(|result| match result {
                    Ok(stints) if stints.is_empty() => view! { <p class="muted">"Nobody has held a role yet."</p> }.into_any(),
                    Ok(stints) => view! {
                        <ol class="role-history" data-testid="role-history">
                            {stints.into_iter().rev().map(|s| view! {
                                <li>
                                    <strong>{s.person.name}</strong> " · " {s.role.label()}
                                    <div class="muted small">
                                        {date_time(s.started_at)} " → "
                                        {s.ended_at.map(date_time).unwrap_or_else(|| "now".into())}
                                        {format!(" · assigned by {}", s.assigned_by.name)}
                                    </div>
                                </li>
                            }).collect_view()}
                        </ol>
                    }.into_any(),
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Composer(incident_id: i64) -> impl IntoView {
    let add = ServerAction::<AddNote>::new();
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = add.value().get() {
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    view! {
        <ActionForm action=add node_ref=form>
            <input type="hidden" name="incident_id" value=incident_id/>
            <label for="note-body" class="composer-label">"Add to timeline"</label>
            <textarea id="note-body" name="body" rows="3" required maxlength="20000"
                placeholder="What did you see, try or decide? Markdown works."></textarea>
            <div class="composer-actions">
                <select name="kind" aria-label="Entry kind">
                    <option value="note" selected>"Note"</option>
                    <option value="decision">"Decision"</option>
                </select>
                <button type="submit" class="primary" disabled=move || add.pending().get()>"Post"</button>
            </div>
        </ActionForm>
        <ErrorNote result=add.value()/>
    }
}

/// A note or decision as it reads now: its latest text and whether it is pinned.
#[derive(Clone, PartialEq)]
struct Shown {
    entry: TimelineEntry,
    pinned: bool,
    edited: bool,
}

/// Folds edits onto their notes and marks the pinned ones; newest first.
fn fold_timeline(entries: &[TimelineEntry], pinned: &HashSet<i64>) -> Vec<Shown> {
    let mut latest: HashMap<i64, &NoteBody> = HashMap::new();
    for entry in entries {
        if let EntryEvent::Incident(IncidentEvent::NoteEdited { target_id, body }) = &entry.event {
            let newer = latest
                .get(target_id)
                .is_none_or(|b| b.revision < body.revision);
            if newer {
                latest.insert(*target_id, body);
            }
        }
    }
    entries
        .iter()
        .rev()
        .map(|entry| {
            let mut entry = entry.clone();
            let mut edited = false;
            if let EntryEvent::Incident(IncidentEvent::Note(body) | IncidentEvent::Decision(body)) =
                &mut entry.event
            {
                if let Some(newer) = latest.get(&entry.id).filter(|b| b.revision > body.revision) {
                    *body = (*newer).clone();
                }
                edited = body.revision > 1;
            }
            Shown {
                pinned: pinned.contains(&entry.id),
                entry,
                edited,
            }
        })
        .collect()
}

#[component]
fn Timeline(signals: RoomSignals, incident_id: i64) -> impl IntoView {
    let pinned_ids = Memo::new(move |_| {
        signals
            .pinned
            .with(|list| list.iter().map(|e| e.id).collect::<HashSet<i64>>())
    });
    let shown = Memo::new(move |_| {
        pinned_ids.with(|pinned| signals.entries.with(|list| fold_timeline(list, pinned)))
    });
    // The pinned list as the server has it now, reloaded when a pin or edit arrives.
    let reload_pins = Resource::new(
        move || signals.pins_version.get(),
        move |version| async move {
            if version == 0 {
                None
            } else {
                Some(get_pinned_entries(incident_id).await)
            }
        },
    );
    Effect::new(move |_| {
        if let Some(Some(Ok(list))) = reload_pins.get() {
            signals.pinned.set(list);
        }
    });
    let older = Action::new(move |before: &i64| get_timeline_page(incident_id, *before));
    Effect::new(move |_| {
        if let Some(Ok(page)) = older.value().get() {
            signals.prepend(page.entries, page.older);
        }
    });
    let load_older = move |_| {
        if let Some(first) = signals.entries.with_untracked(|l| l.first().map(|e| e.id)) {
            older.dispatch(first);
        }
    };
    view! {
        <Show when=move || signals.pinned.with(|p| !p.is_empty())>
            <section class="pinned" aria-label="Pinned">
                <h2>"Pinned"</h2>
                <ul>
                    <For each=move || signals.pinned.get()
                        key=|e| (e.id, note_revision(&e.event))
                        let:entry>
                        <li><EntryText event=entry.event.clone() author_id=entry.author.id/></li>
                    </For>
                </ul>
            </section>
        </Show>
        <ol class="timeline" data-testid="timeline" reversed>
            <For each=move || shown.get()
                key=|s| (s.entry.id, s.pinned, note_revision(&s.entry.event))
                let:item>
                <EntryItem item/>
            </For>
        </ol>
        <Show when=move || signals.has_older.get()>
            <div class="older">
                <button type="button" class="secondary" data-testid="load-older"
                    disabled=move || older.pending().get()
                    on:click=load_older>
                    {move || if older.pending().get() { "Loading…" } else { "Show older entries" }}
                </button>
            </div>
        </Show>
        {move || match older.value().get() {
            Some(Err(err)) => Some(view! { <p class="error" role="alert">{err.to_string()}</p> }),
            _ => None,
        }}
    }
}

fn note_revision(event: &EntryEvent) -> i32 {
    match event {
        EntryEvent::Incident(IncidentEvent::Note(b) | IncidentEvent::Decision(b)) => b.revision,
        _ => 0,
    }
}

#[component]
fn EntryItem(item: Shown) -> impl IntoView {
    let Shown {
        entry,
        pinned,
        edited,
    } = item;
    let is_note = matches!(
        entry.event,
        EntryEvent::Incident(IncidentEvent::Note(_) | IncidentEvent::Decision(_))
    );
    let class = format!("entry kind-{}", entry.event.kind());
    let entry_id = entry.id;
    let body_md = match &entry.event {
        EntryEvent::Incident(IncidentEvent::Note(b) | IncidentEvent::Decision(b)) => {
            b.body_md.clone()
        }
        _ => String::new(),
    };
    view! {
        <li class=class class:is-pinned=pinned id=format!("entry-{entry_id}") data-testid="entry">
            <div class="entry-meta">
                <time datetime=entry.created_at.to_rfc3339()>{date_time(entry.created_at)}</time>
                <span class="author">{entry.author.name.clone()}</span>
                {pinned.then(|| view! { <span class="pin-flag">"Pinned"</span> })}
                {edited.then(|| view! { <span class="muted small">"edited"</span> })}
            </div>
            <EntryText event=entry.event.clone() author_id=entry.author.id/>
            {is_note.then(|| view! { <NoteTools entry_id pinned body_md=body_md.clone() edited/> })}
        </li>
    }
}

/// What an entry says: notes and decisions as their rendered Markdown, everything else
/// in the words of `EntryEvent::describe` (shared with notifications and exports).
#[component]
fn EntryText(event: EntryEvent, author_id: i64) -> impl IntoView {
    let text = event.describe(author_id);
    match event {
        EntryEvent::Incident(IncidentEvent::Note(body)) => {
            view! { <div class="markdown" inner_html=body.body_html></div> }.into_any()
        }
        EntryEvent::Incident(IncidentEvent::Decision(body)) => view! {
            <div class="decision"><strong>"Decision: "</strong><div class="markdown" inner_html=body.body_html></div></div>
        }
        .into_any(),
        EntryEvent::Incident(IncidentEvent::NoteEdited { target_id, body }) => view! {
            <p class="system">
                <a href=format!("#entry-{target_id}")>{format!("edited entry #{target_id}")}</a>
                {format!(" (version {})", body.revision)}
            </p>
        }
        .into_any(),
        EntryEvent::Incident(
            IncidentEvent::Pinned { target_id } | IncidentEvent::Unpinned { target_id },
        ) => view! { <p class="system"><a href=format!("#entry-{target_id}")>{text}</a></p> }.into_any(),
        EntryEvent::Status(StatusEvent::PublicUpdate { body_md, .. }) => view! {
            <div class="public-update">
                <p class="system">{text}</p>
                <p class="public-update-body">{body_md}</p>
            </div>
        }
        .into_any(),
        _ => view! { <p class="system">{text}</p> }.into_any(),
    }
}

/// Whether the person in the room may change it (provided by the room).
#[derive(Clone, Copy)]
struct CanWork(bool);

fn can_work() -> bool {
    use_context::<CanWork>().is_some_and(|c| c.0)
}

/// Pin, edit and history of one note.
#[component]
fn NoteTools(entry_id: i64, pinned: bool, body_md: String, edited: bool) -> impl IntoView {
    let pin = ServerAction::<SetPin>::new();
    let edit = ServerAction::<EditNote>::new();
    let editing = RwSignal::new(false);
    let body_md = StoredValue::new(body_md);
    let show_history = RwSignal::new(false);
    let history = Resource::new(
        move || show_history.get(),
        move |show| async move {
            if show {
                get_note_history(entry_id).await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
    Effect::new(move |_| {
        if let Some(Ok(_)) = edit.value().get() {
            editing.set(false);
        }
    });
    view! {
        <div class="note-tools">
            {can_work().then(|| view! {
                <button type="button" class="link" on:click=move |_| { pin.dispatch(SetPin { entry_id, pinned: !pinned }); }>
                    {if pinned { "Unpin" } else { "Pin" }}
                </button>
                <button type="button" class="link" on:click=move |_| editing.update(|e| *e = !*e)>"Edit"</button>
            })}
            {edited.then(|| view! {
                <button type="button" class="link" on:click=move |_| show_history.update(|s| *s = !*s)>"History"</button>
            })}
        </div>
        <ErrorNote result=pin.value()/>
        <Show when=move || editing.get()>
            <ActionForm action=edit>
                <input type="hidden" name="entry_id" value=entry_id/>
                <label class="visually-hidden" for=format!("edit-{entry_id}")>"Edit note"</label>
                <textarea id=format!("edit-{entry_id}") name="body" rows="3" required>{body_md.get_value()}</textarea>
                <div class="composer-actions">
                    <button type="button" class="link" on:click=move |_| editing.set(false)>"Cancel"</button>
                    <button type="submit" class="primary small">"Save"</button>
                </div>
            </ActionForm>
            <ErrorNote result=edit.value()/>
        </Show>
        <Show when=move || show_history.get()>
            <Transition fallback=|| view! { <p class="muted">"Loading history…"</p> }>
                {move || history.get().map(|result| match result {
                    Ok(Some(revisions)) => view! {
                        <ol class="note-history" data-testid="note-history">
                            {revisions.into_iter().map(|r| view! {
                                <li>
                                    <div class="muted small">{format!("Version {} · {} · {}", r.revision, r.edited_by.name, date_time(r.edited_at))}</div>
                                    <div class="markdown" inner_html=r.body_html></div>
                                </li>
                            }).collect_view()}
                        </ol>
                    }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </Show>
    }
}
