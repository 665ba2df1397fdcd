//! `/admin/maintenance`: announcing maintenance windows (they start and complete by
//! themselves at their times) and ending one early.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::auth::pages::AdminPage;
use crate::status::admin_api::get_status_catalog;
use crate::status::api::{list_maintenances, CompleteMaintenance, ScheduleMaintenance};
use crate::status::model::MaintenanceStatus;
use crate::ui::{date_time, ErrorNote};

#[component]
pub fn MaintenancePage() -> impl IntoView {
    let schedule = ServerAction::<ScheduleMaintenance>::new();
    let complete = ServerAction::<CompleteMaintenance>::new();
    let list = Resource::new(
        move || (schedule.version().get(), complete.version().get()),
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
                        <table class="list maintenance-list">
                            <thead><tr><th>"Title"</th><th>"Window (UTC)"</th><th>"Components"</th><th>"Status"</th><th></th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|m| {
                                    let done = m.status == MaintenanceStatus::Completed;
                                    let label = if m.status == MaintenanceStatus::Scheduled { "Call off" } else { "Complete now" };
                                    view! {
                                        <tr>
                                            <td><a href=format!("/status/maintenances/{}", m.public_id)>{m.title}</a></td>
                                            <td>{date_time(m.scheduled_for)}" – "{date_time(m.scheduled_until)}</td>
                                            <td>{m.components.join(", ")}</td>
                                            <td>{m.status.label()}</td>
                                            <td>{(!done).then(|| view! {
                                                <ActionForm action=complete>
                                                    <input type="hidden" name="id" value=m.id/>
                                                    <input type="hidden" name="message" value=""/>
                                                    <button type="submit" class="small secondary">{label}</button>
                                                </ActionForm>
                                            })}</td>
                                        </tr>
                                    }
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
