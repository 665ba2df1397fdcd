//! `/admin/maintenance`: announcing maintenance windows (they start and complete by
//! themselves at their times), moving or extending one, and ending one early.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::auth::pages::AdminPage;
use crate::status::admin_api::get_status_catalog;
use crate::status::api::{
    list_maintenances, CompleteMaintenance, MaintenanceListItem, RescheduleMaintenance,
    ScheduleMaintenance,
};
use crate::status::model::MaintenanceStatus;
use crate::status::pages::admin::count_successes;
use crate::ui::{date_time, ErrorNote};

#[component]
pub fn MaintenancePage() -> impl IntoView {
    let schedule = ServerAction::<ScheduleMaintenance>::new();
    let complete = ServerAction::<CompleteMaintenance>::new();
    let reschedule = ServerAction::<RescheduleMaintenance>::new();
    // The window whose times are being changed.
    let editing = RwSignal::new(None::<i64>);
    let rescheduled = RwSignal::new(0usize);
    count_successes(reschedule, rescheduled);
    // A saved change closes its form (a refused one keeps it open, with its reason).
    Effect::new(move |_| {
        if reschedule.value().with(|v| matches!(v, Some(Ok(_)))) {
            editing.set(None);
        }
    });
    let list = Resource::new(
        move || {
            (
                schedule.version().get(),
                complete.version().get(),
                rescheduled.get(),
            )
        },
        |_| list_maintenances(),
    );
    let catalog = Resource::new(|| (), |_| get_status_catalog());
    view! {
        <Title text="Maintenance"/>
        <AdminPage refusal=Signal::derive(move || list.get().and_then(|r| r.err()))>
        <section class="card">
            <h1>"Scheduled maintenance"</h1>
            <p class="muted">
                "Announced on the public status page and to its subscribers. Warroom starts it and completes it by itself at its times; the components show as under maintenance meanwhile. Times are UTC."
            </p>
            <ActionForm action=schedule attr:class="stacked-form maintenance-form">
                <label for="mt-title">"Title"</label>
                <input id="mt-title" name="title" required maxlength="200" placeholder="e.g. Database upgrade"/>
                <label for="mt-message">"Message to the public"</label>
                <textarea id="mt-message" name="message" required rows="3" maxlength="5000"
                    placeholder="What changes, what customers may notice, for how long."></textarea>
                <div class="window">
                    <label>"Starts (UTC)" <input type="datetime-local" name="starts_at" required/></label>
                    <label>"Ends (UTC)" <input type="datetime-local" name="ends_at" required/></label>
                </div>
                <fieldset>
                    <legend>"Affected components"</legend>
                    <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || catalog.get().map(|r| match r {
                            Ok(catalog) if catalog.components.is_empty() => view! {
                                <p class="muted">"No components yet: add them under Status page."</p>
                            }.into_any(),
                            Ok(catalog) => catalog.components.into_iter().enumerate().map(|(i, c)| view! {
                                <label class="check">
                                    <input type="checkbox" name=format!("component_ids[{i}]") value=c.id/>
                                    {c.name}
                                </label>
                            }).collect_view().into_any(),
                            Err(_) => ().into_any(),
                        })}
                    </Transition>
                </fieldset>
                <button type="submit">"Announce maintenance"</button>
            </ActionForm>
            <ErrorNote result=schedule.value()/>
        </section>
        <section class="card">
            <h2>"Windows"</h2>
            <ErrorNote result=complete.value()/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || list.get().map(|r| r.map(|rows| if rows.is_empty() {
                    view! { <p class="muted">"No maintenance announced."</p> }.into_any()
                } else {
                    view! {
                        <table class="table maintenance-list">
                            <thead><tr><th>"Title"</th><th>"Window (UTC)"</th><th>"Components"</th><th>"Status"</th><th></th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|m| view! {
                                    <WindowRow m=m complete reschedule editing/>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }).ok())}
            </Transition>
        </section>
        </AdminPage>
    }
}

/// The value of a `datetime-local` input for a UTC time (the page's times are UTC).
fn input_value(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M").to_string()
}

/// One window in the list, its tools, and (while open) the form that changes its times.
#[component]
fn WindowRow(
    m: MaintenanceListItem,
    complete: ServerAction<CompleteMaintenance>,
    reschedule: ServerAction<RescheduleMaintenance>,
    editing: RwSignal<Option<i64>>,
) -> impl IntoView {
    let id = m.id;
    let status = m.status;
    let (starts, ends) = (m.scheduled_for, m.scheduled_until);
    let open = move || editing.get() == Some(id);
    let toggle = move |_| {
        if open() {
            editing.set(None);
        } else {
            reschedule.value().set(None);
            editing.set(Some(id));
        }
    };
    let end_label = if status == MaintenanceStatus::Scheduled {
        "Call off"
    } else {
        "Complete now"
    };
    let title = m.title.clone();
    view! {
        <tr data-testid="maintenance-window" class:window-open=open>
            <td><a href=format!("/status/maintenances/{}", m.public_id)>{m.title}</a></td>
            <td data-label="Window">{date_time(starts)}" – "{date_time(ends)}</td>
            <td data-label="Components">{m.components.join(", ")}</td>
            <td data-label="Status">{status.label()}</td>
            <td>{(status != MaintenanceStatus::Completed).then(|| view! {
                <div class="form-actions">
                    <button type="button" class="small secondary" aria-expanded=move || open().to_string()
                        on:click=toggle>
                        {if status == MaintenanceStatus::InProgress { "Extend or shorten" } else { "Change window" }}
                    </button>
                    <ActionForm action=complete>
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="message" value=""/>
                        <button type="submit" class="small secondary">{end_label}</button>
                    </ActionForm>
                </div>
            })}</td>
        </tr>
        {move || open().then(|| view! {
            <tr class="window-edit">
                <td colspan="5">
                    <ActionForm action=reschedule attr:class="stacked-form maintenance-form"
                        attr:aria-label=format!("Change the window of {title}")>
                        <input type="hidden" name="id" value=id/>
                        <div class="window">
                            {if status == MaintenanceStatus::InProgress {
                                view! {
                                    <p class="muted">"Started at "{date_time(starts)}": only its end can change."</p>
                                    <input type="hidden" name="starts_at" value=""/>
                                }.into_any()
                            } else {
                                view! {
                                    <label>"Starts (UTC)"
                                        <input type="datetime-local" name="starts_at" required value=input_value(starts)/>
                                    </label>
                                }.into_any()
                            }}
                            <label>"Ends (UTC)"
                                <input type="datetime-local" name="ends_at" required value=input_value(ends)/>
                            </label>
                        </div>
                        <label for=format!("mt-change-message-{id}")>"Message to the public (optional)"</label>
                        <textarea id=format!("mt-change-message-{id}") name="message" rows="2" maxlength="5000"
                            placeholder="Leave empty to announce the new times."></textarea>
                        <div class="form-actions">
                            <button type="submit" class="primary" disabled=move || reschedule.pending().get()>"Save window"</button>
                            <button type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                        </div>
                        <ErrorNote result=reschedule.value()/>
                    </ActionForm>
                </td>
            </tr>
        })}
    }
}
