//! The admin page of the public status page (`/admin/status`): its components and groups
//! (order, visibility, manual status), forms to add them, and the page's branding.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::auth::pages::AdminPage;
use crate::status::admin_api::{
    get_status_branding, get_status_catalog, get_status_subscribers, CreateStatusComponent,
    CreateStatusGroup, EditStatusComponent, EditStatusGroup, MoveStatusComponent, MoveStatusGroup,
    RemoveStatusSubscriber, SaveStatusBranding, SetStatusComponentHidden, SetStatusGroupHidden,
    SetStatusOverride,
};
use crate::status::model::{
    Branding, CatalogComponent, CatalogEntry, CatalogGroup, ComponentStatus, SubscriberInfo,
    SubscriberState, MAX_PAGE_LINKS,
};
use crate::ui::{ErrorNote, Failure};

/// Which row's edit form is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Editing {
    Group(i64),
    Component(i64),
}

/// The catalog's row actions, shared by every row.
#[derive(Clone, Copy)]
struct RowActions {
    edit_group: ServerAction<EditStatusGroup>,
    edit_component: ServerAction<EditStatusComponent>,
    hide_group: ServerAction<SetStatusGroupHidden>,
    hide_component: ServerAction<SetStatusComponentHidden>,
    move_group: ServerAction<MoveStatusGroup>,
    move_component: ServerAction<MoveStatusComponent>,
    set_override: ServerAction<SetStatusOverride>,
    editing: RwSignal<Option<Editing>>,
}

impl RowActions {
    /// A move or a hide is on its way: the row buttons wait, so a double click moves once.
    fn busy(&self) -> bool {
        self.move_group.pending().get()
            || self.move_component.pending().get()
            || self.hide_group.pending().get()
            || self.hide_component.pending().get()
    }

    /// Opens one row's edit form (closing any other) without the last edit's error.
    fn open(&self, editing: Editing) {
        self.edit_group.value().set(None);
        self.edit_component.value().set(None);
        self.editing.set(Some(editing));
    }
}

/// Bumps `counter` each time `action` succeeds. Lists reload on successes only, so a
/// refused edit keeps what the admin typed next to its error.
pub(super) fn count_successes<S>(action: ServerAction<S>, counter: RwSignal<usize>)
where
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            counter.update(|c| *c += 1);
        }
    });
}

#[component]
pub fn StatusAdminPage() -> impl IntoView {
    let create_group = ServerAction::<CreateStatusGroup>::new();
    let create_component = ServerAction::<CreateStatusComponent>::new();
    let save_branding = ServerAction::<SaveStatusBranding>::new();
    let rows = RowActions {
        edit_group: ServerAction::new(),
        edit_component: ServerAction::new(),
        hide_group: ServerAction::new(),
        hide_component: ServerAction::new(),
        move_group: ServerAction::new(),
        move_component: ServerAction::new(),
        set_override: ServerAction::new(),
        editing: RwSignal::new(None),
    };
    let changes = RwSignal::new(0usize);
    count_successes(create_group, changes);
    count_successes(create_component, changes);
    count_successes(rows.edit_group, changes);
    count_successes(rows.edit_component, changes);
    count_successes(rows.hide_group, changes);
    count_successes(rows.hide_component, changes);
    count_successes(rows.move_group, changes);
    count_successes(rows.move_component, changes);
    count_successes(rows.set_override, changes);
    let saved = RwSignal::new(0usize);
    count_successes(save_branding, saved);
    // A saved edit closes its form.
    Effect::new(move |_| {
        let group_saved = rows.edit_group.value().with(|v| matches!(v, Some(Ok(_))));
        let component_saved = rows
            .edit_component
            .value()
            .with(|v| matches!(v, Some(Ok(_))));
        if group_saved || component_saved {
            rows.editing.set(None);
        }
    });

    let catalog = Resource::new(move || changes.get(), |_| get_status_catalog());
    let branding = Resource::new(move || saved.get(), |_| get_status_branding());
    // Groups to choose from in the forms: (id, name), in page order.
    let groups = Signal::derive(move || {
        catalog
            .get()
            .and_then(|r| r.ok())
            .map(|c| {
                c.entries()
                    .into_iter()
                    .filter_map(|e| match e {
                        CatalogEntry::Group { group, .. } => Some((group.id, group.name)),
                        CatalogEntry::Component(_) => None,
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });

    view! {
        <Title text="Status page"/>
        <AdminPage refusal=Signal::derive(move || catalog.get().and_then(|r| r.err()))>
        <section class="card">
            <div class="page-head">
                <h1>"Status page"</h1>
                <a class="button small" href="/status" target="_blank" rel="external noopener"
                    data-testid="public-status-link">
                    "Public status page ↗"
                </a>
            </div>
            <p class="muted">
                "What your customers see at " <code>"/status"</code> ". A component follows its "
                "incidents (their worst impact) and maintenance, unless you set its status by hand "
                "here. Hidden components and groups stay off the public page."
            </p>
            <ErrorNote result=rows.move_group.value()/>
            <ErrorNote result=rows.move_component.value()/>
            <ErrorNote result=rows.hide_group.value()/>
            <ErrorNote result=rows.hide_component.value()/>
            <ErrorNote result=rows.set_override.value()/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || catalog.get().map(|result| match result {
                    Ok(catalog) if catalog.groups.is_empty() && catalog.components.is_empty() => view! {
                        <p class="empty" data-testid="status-catalog-empty">
                            "No components yet. Add the parts of your service your customers know by "
                            "name, e.g. API, Website, Checkout."
                        </p>
                    }.into_any(),
                    Ok(catalog) => {
                        let entries = catalog.entries();
                        let last = entries.len().saturating_sub(1);
                        let choices = groups.get_untracked();
                        view! {
                            <ol class="catalog" data-testid="status-catalog">
                                {entries.into_iter().enumerate().map(|(index, entry)| match entry {
                                    CatalogEntry::Group { group, components } => view! {
                                        <GroupEntry group components first=index == 0 last=index == last
                                            groups=choices.clone() rows/>
                                    }.into_any(),
                                    CatalogEntry::Component(component) => view! {
                                        <li class="catalog-item">
                                            <ComponentRow component first=index == 0 last=index == last
                                                groups=choices.clone() rows/>
                                        </li>
                                    }.into_any(),
                                }).collect_view()}
                            </ol>
                        }.into_any()
                    }
                    Err(err) => view! { <Failure error=err/> }.into_any(),
                })}
            </Transition>
            <div class="catalog-add">
                <AddComponentForm action=create_component groups/>
                <AddGroupForm action=create_group/>
            </div>
        </section>
        <section class="card">
            <h2>"Branding"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || branding.get().map(|result| match result {
                    Ok(branding) => view! { <BrandingForm branding action=save_branding/> }.into_any(),
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
        <SubscribersCard/>
        </AdminPage>
    }
}

/// A row's tools: Up and Down (disabled at the ends of its order), Hide or Show, and
/// Edit, which opens `editor` (or closes it again).
#[component]
fn RowTools(
    name: String,
    first: bool,
    last: bool,
    hidden: bool,
    editor: Editing,
    rows: RowActions,
    on_move: Callback<&'static str>,
    on_hide: Callback<bool>,
) -> impl IntoView {
    let editing = move || rows.editing.get() == Some(editor);
    view! {
        <div class="catalog-tools">
            <button type="button" class="small" aria-label=format!("Move {name} up")
                disabled=move || first || rows.busy()
                on:click=move |_| on_move.run("up")>
                "Up"
            </button>
            <button type="button" class="small" aria-label=format!("Move {name} down")
                disabled=move || last || rows.busy()
                on:click=move |_| on_move.run("down")>
                "Down"
            </button>
            <button type="button" class="small" disabled=move || rows.busy()
                on:click=move |_| on_hide.run(!hidden)>
                {if hidden { "Show" } else { "Hide" }}
            </button>
            <button type="button" class="small" aria-expanded=move || editing().to_string()
                on:click=move |_| if editing() { rows.editing.set(None) } else { rows.open(editor) }>
                "Edit"
            </button>
        </div>
    }
}

/// A group, its tools, and its components.
#[component]
fn GroupEntry(
    group: CatalogGroup,
    components: Vec<CatalogComponent>,
    first: bool,
    last: bool,
    groups: Vec<(i64, String)>,
    rows: RowActions,
) -> impl IntoView {
    let id = group.id;
    let hidden = group.hidden;
    let name = group.name.clone();
    let members_last = components.len().saturating_sub(1);
    let editing = move || rows.editing.get() == Some(Editing::Group(id));
    let shown = group.clone();
    view! {
        <li class="catalog-group" data-testid="catalog-group">
            <div class="catalog-row group-row" class:is-hidden=hidden>
                <div class="catalog-main">
                    <span class="catalog-name">{group.name.clone()}</span>
                    " " <span class="badge kind">"group"</span>
                    {hidden.then(|| view! { " " <span class="badge hidden-badge">"hidden"</span> })}
                    {(!group.description.is_empty()).then(|| view! {
                        <p class="catalog-description">{group.description.clone()}</p>
                    })}
                </div>
                <RowTools name=name.clone() first last hidden editor=Editing::Group(id) rows
                    on_move=Callback::new(move |direction: &'static str| {
                        rows.move_group.dispatch(MoveStatusGroup { id, direction: direction.into() });
                    })
                    on_hide=Callback::new(move |hidden: bool| {
                        rows.hide_group.dispatch(SetStatusGroupHidden { id, hidden });
                    })/>
            </div>
            {move || editing().then(|| view! { <GroupEditor group=shown.clone() rows/> })}
            {if components.is_empty() {
                view! { <p class="catalog-members-empty muted small">"No components in this group yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="catalog-members">
                        {components.into_iter().enumerate().map(|(index, component)| view! {
                            <li class="catalog-item">
                                <ComponentRow component first=index == 0 last=index == members_last
                                    groups=groups.clone() rows/>
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </li>
    }
}

/// A component: name, description, manual status and tools.
#[component]
fn ComponentRow(
    component: CatalogComponent,
    first: bool,
    last: bool,
    groups: Vec<(i64, String)>,
    rows: RowActions,
) -> impl IntoView {
    let id = component.id;
    let hidden = component.hidden;
    let current = component.status_override;
    let name = component.name.clone();
    let editing = move || rows.editing.get() == Some(Editing::Component(id));
    let shown = component.clone();
    view! {
        <div class="catalog-row" class:is-hidden=hidden data-testid="catalog-component">
            <div class="catalog-main">
                <span class="catalog-name">{component.name.clone()}</span>
                {hidden.then(|| view! { " " <span class="badge hidden-badge">"hidden"</span> })}
                {current.is_some().then(|| view! {
                    " " <span class="badge manual-badge"
                        title="Set by hand: it wins over incidents and maintenance until you choose “follows incidents” again.">
                        "set by hand"
                    </span>
                })}
                {(!component.description.is_empty()).then(|| view! {
                    <p class="catalog-description">{component.description.clone()}</p>
                })}
            </div>
            <select class="small status-select" class:overridden=current.is_some()
                aria-label=format!("Status of {name}") data-testid="status-override"
                disabled=move || rows.set_override.pending().get()
                on:change=move |ev| {
                    rows.set_override.dispatch(SetStatusOverride { id, status: event_target_value(&ev) });
                }>
                <option value="" selected=current.is_none()>"— follows incidents —"</option>
                {[
                    ComponentStatus::Operational,
                    ComponentStatus::DegradedPerformance,
                    ComponentStatus::PartialOutage,
                    ComponentStatus::MajorOutage,
                    ComponentStatus::UnderMaintenance,
                ].into_iter().map(|s| view! {
                    <option value=s.as_str() selected=current == Some(s)>{s.label()}</option>
                }).collect_view()}
            </select>
            <RowTools name=name.clone() first last hidden editor=Editing::Component(id) rows
                on_move=Callback::new(move |direction: &'static str| {
                    rows.move_component.dispatch(MoveStatusComponent { id, direction: direction.into() });
                })
                on_hide=Callback::new(move |hidden: bool| {
                    rows.hide_component.dispatch(SetStatusComponentHidden { id, hidden });
                })/>
        </div>
        {move || editing().then(|| view! { <ComponentEditor component=shown.clone() groups=groups.clone() rows/> })}
    }
}

/// The inline form that renames, re-describes or regroups a component.
#[component]
fn ComponentEditor(
    component: CatalogComponent,
    groups: Vec<(i64, String)>,
    rows: RowActions,
) -> impl IntoView {
    let id = component.id;
    let current_group = component.group_id.unwrap_or(0);
    view! {
        <ActionForm action=rows.edit_component attr:class="catalog-edit">
            <input type="hidden" name="id" value=id/>
            <label for=format!("edit-component-name-{id}")>"Name"</label>
            <input id=format!("edit-component-name-{id}") name="name" required maxlength="100"
                value=component.name.clone()/>
            <label for=format!("edit-component-description-{id}")>"Description"</label>
            <textarea id=format!("edit-component-description-{id}") name="description" rows="2"
                maxlength="500">{component.description.clone()}</textarea>
            <label for=format!("edit-component-group-{id}")>"Group"</label>
            <select id=format!("edit-component-group-{id}") name="group_id">
                <option value="0" selected=current_group == 0>"No group (top level)"</option>
                {groups.into_iter().map(|(group_id, name)| view! {
                    <option value=group_id.to_string() selected=group_id == current_group>{name}</option>
                }).collect_view()}
            </select>
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || rows.edit_component.pending().get()>"Save"</button>
                <button type="button" on:click=move |_| rows.editing.set(None)>"Cancel"</button>
            </div>
            <ErrorNote result=rows.edit_component.value()/>
        </ActionForm>
    }
}

/// The inline form that renames or re-describes a group.
#[component]
fn GroupEditor(group: CatalogGroup, rows: RowActions) -> impl IntoView {
    let id = group.id;
    view! {
        <ActionForm action=rows.edit_group attr:class="catalog-edit">
            <input type="hidden" name="id" value=id/>
            <label for=format!("edit-group-name-{id}")>"Group name"</label>
            <input id=format!("edit-group-name-{id}") name="name" required maxlength="100"
                value=group.name.clone()/>
            <label for=format!("edit-group-description-{id}")>"Description"</label>
            <textarea id=format!("edit-group-description-{id}") name="description" rows="2"
                maxlength="500">{group.description.clone()}</textarea>
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || rows.edit_group.pending().get()>"Save"</button>
                <button type="button" on:click=move |_| rows.editing.set(None)>"Cancel"</button>
            </div>
            <ErrorNote result=rows.edit_group.value()/>
        </ActionForm>
    }
}

/// Adds a component, in a group or at the top level; emptied once added.
#[component]
fn AddComponentForm(
    action: ServerAction<CreateStatusComponent>,
    groups: Signal<Vec<(i64, String)>>,
) -> impl IntoView {
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    view! {
        <ActionForm action node_ref=form attr:class="stacked-form" attr:data-testid="add-component">
            <h2>"Add a component"</h2>
            <label for="new-component-name">"Name"</label>
            <input id="new-component-name" name="name" required maxlength="100"
                placeholder="e.g. API, Website, Checkout"/>
            <label for="new-component-description">"Description (optional)"</label>
            <textarea id="new-component-description" name="description" rows="2" maxlength="500"
                placeholder="What it is, in your customers' words"></textarea>
            <label for="new-component-group">"Group"</label>
            <select id="new-component-group" name="group_id">
                <option value="0">"No group (top level)"</option>
                {move || groups.get().into_iter().map(|(id, name)| view! {
                    <option value=id.to_string()>{name}</option>
                }).collect_view()}
            </select>
            <button type="submit" class="primary" disabled=move || action.pending().get()>"Add component"</button>
            <ErrorNote result=action.value()/>
        </ActionForm>
    }
}

/// Adds a group at the end of the page; emptied once added.
#[component]
fn AddGroupForm(action: ServerAction<CreateStatusGroup>) -> impl IntoView {
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    view! {
        <ActionForm action node_ref=form attr:class="stacked-form" attr:data-testid="add-group">
            <h2>"Add a group"</h2>
            <label for="new-group-name">"Name"</label>
            <input id="new-group-name" name="name" required maxlength="100"
                placeholder="e.g. Europe, Payments"/>
            <label for="new-group-description">"Description (optional)"</label>
            <textarea id="new-group-description" name="description" rows="2" maxlength="500"></textarea>
            <button type="submit" class="primary" disabled=move || action.pending().get()>"Add group"</button>
            <ErrorNote result=action.value()/>
        </ActionForm>
    }
}

/// Name, logo, accent colour and header links of the public page.
#[component]
fn BrandingForm(branding: Branding, action: ServerAction<SaveStatusBranding>) -> impl IntoView {
    let links = branding.links.clone();
    // (label, address) of a row; empty for a free one.
    let link = move |row: usize| {
        links
            .get(row)
            .map(|l| (l.label.clone(), l.url.clone()))
            .unwrap_or_default()
    };
    view! {
        <ActionForm action attr:class="branding-form" attr:data-testid="branding">
            <div class="stacked-form">
            <label for="status-page-name">"Company or product name"</label>
            <input id="status-page-name" name="page_name" required maxlength="80"
                aria-describedby="status-page-name-hint" value=branding.name.clone()/>
            <p id="status-page-name-hint" class="muted small field-hint">
                "Public pages read “" {branding.name.clone()} " status”."
            </p>
            <label for="status-logo-url">"Logo address (optional)"</label>
            <input id="status-logo-url" name="logo_url" type="url" maxlength="500"
                placeholder="https://example.com/logo.svg" value=branding.logo_url.clone().unwrap_or_default()/>
            <label for="status-accent-color">"Accent colour"</label>
            <div class="accent-row">
                <input id="status-accent-color" name="accent_color" type="color"
                    value=branding.accent_color.clone()/>
                <code>{branding.accent_color.clone()}</code>
            </div>
            </div>
            <fieldset class="link-rows">
                <legend>{format!("Header links (up to {MAX_PAGE_LINKS})")}</legend>
                {(0..MAX_PAGE_LINKS).map(|row| {
                    let (label, url) = link(row);
                    view! {
                        <div class="link-row">
                            <input name=format!("link_labels[{row}]") maxlength="40" value=label
                                placeholder="Label" aria-label=format!("Label of link {}", row + 1)/>
                            <input name=format!("link_urls[{row}]") type="url" maxlength="500" value=url
                                placeholder="https://…" aria-label=format!("Address of link {}", row + 1)/>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Save branding"</button>
                {move || action.value().with(|v| matches!(v, Some(Ok(_)))).then(|| view! {
                    <span class="saved-note" role="status">"Saved."</span>
                })}
            </div>
            <ErrorNote result=action.value()/>
        </ActionForm>
    }
}

/// "22 Nov 05:12 UTC": the same on the server and in the browser.
fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%-d %b %H:%M UTC").to_string()
}

/// The page's webhook subscribers: who is waiting for confirmation, who receives updates,
/// whose deliveries fail (and why), with a way to remove one.
#[component]
fn SubscribersCard() -> impl IntoView {
    let remove = ServerAction::<RemoveStatusSubscriber>::new();
    let removed = RwSignal::new(0usize);
    count_successes(remove, removed);
    let subscribers = Resource::new(move || removed.get(), |_| get_status_subscribers());
    view! {
        <section class="card" data-testid="status-subscribers">
            <h2>"Webhook subscribers"</h2>
            <p class="muted small">
                "Anyone may subscribe a URL on the public page; it counts once it echoes the "
                "challenge. Every public update is sent to each, retried for about 14 hours. "
                "Only the start of each URL is shown: the rest is often its secret."
            </p>
            <ErrorNote result=remove.value()/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || subscribers.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No subscribers yet."</p>
                    }.into_any(),
                    Ok(list) => {
                        let count = |state| list.iter().filter(|s| s.state() == state).count();
                        let receiving = count(SubscriberState::Receiving);
                        let failing = count(SubscriberState::Failing);
                        let awaiting = count(SubscriberState::AwaitingConfirmation);
                        view! {
                            <p data-testid="subscribers-summary">
                                {format!("{receiving} receiving updates")}
                                {(failing > 0).then(|| view! {
                                    " · " <strong class="danger-text">{format!("{failing} failing")}</strong>
                                })}
                                {(awaiting > 0).then(|| format!(" · {awaiting} awaiting confirmation"))}
                            </p>
                            <ul class="subscribers">
                                {list.into_iter().map(|s| view! { <SubscriberRow subscriber=s remove/> }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                    Err(err) => view! { <Failure error=err/> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SubscriberRow(
    subscriber: SubscriberInfo,
    remove: ServerAction<RemoveStatusSubscriber>,
) -> impl IntoView {
    let id = subscriber.id;
    let state = subscriber.state();
    let (badge, badge_class) = match state {
        SubscriberState::AwaitingConfirmation => ("awaiting confirmation", "badge kind"),
        SubscriberState::Receiving => ("receiving", "badge ok-badge"),
        SubscriberState::Failing => ("failing", "badge failing-badge"),
    };
    let mut facts = vec![format!("subscribed {}", when(subscriber.created_at))];
    if subscriber.confirmed_at.is_some() {
        facts.push(match subscriber.delivered {
            1 => "1 update delivered".to_string(),
            n => format!("{n} updates delivered"),
        });
    }
    if let Some(at) = subscriber.last_delivered_at {
        facts.push(format!("last {}", when(at)));
    }
    if subscriber.queued > 0 {
        facts.push(format!("{} queued", subscriber.queued));
    }
    let trouble =
        (state == SubscriberState::Failing || subscriber.last_error.is_some()).then(|| {
            let failing = match subscriber.failing {
                0 => String::new(),
                1 => "1 update not delivered yet. ".to_string(),
                n => format!("{n} updates not delivered yet. "),
            };
            let error = subscriber
                .last_error
                .clone()
                .map(|e| format!("Last error: {e}"))
                .unwrap_or_default();
            view! { <p class="subscriber-trouble small">{failing}{error}</p> }
        });
    let hint = subscriber.url_hint.clone();
    view! {
        <li class="catalog-row" class:is-failing=state == SubscriberState::Failing data-testid="subscriber">
            <div class="catalog-main">
                <code class="catalog-name">{subscriber.url_hint.clone()}</code>
                " " <span class=badge_class>{badge}</span>
                <p class="muted small">{facts.join(" · ")}</p>
                {trouble}
            </div>
            <div class="catalog-tools">
                <button type="button" class="small" aria-label=format!("Remove subscriber {hint}")
                    disabled=move || remove.pending().get()
                    on:click=move |_| { remove.dispatch(RemoveStatusSubscriber { id }); }>
                    "Remove"
                </button>
            </div>
        </li>
    }
}
