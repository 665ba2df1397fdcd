//! The admin page of the audit log: filter by action, refusals, person; page back in time.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};

use super::api::get_audit_log;
use super::model::AuditAction;
use crate::auth::api::list_members;
use crate::auth::pages::AdminPage;
use crate::ui::{date_time, Failure};

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let number = move |name: &str| param(name).parse::<i64>().unwrap_or(0);
    let page = Resource::new(
        move || {
            (
                param("action"),
                param("refused") == "1",
                number("actor"),
                number("before"),
            )
        },
        |(action, refused, actor, before)| get_audit_log(action, refused, actor, before),
    );
    let members = Resource::new(|| (), |_| list_members());
    let older_link = move |before: i64| {
        let mut parts = vec![format!("before={before}")];
        for key in ["action", "refused", "actor"] {
            let value = param(key);
            if !value.is_empty() {
                parts.push(format!("{key}={value}"));
            }
        }
        format!("/admin/audit?{}", parts.join("&"))
    };
    view! {
        <Title text="Audit log"/>
        <AdminPage refusal=Signal::derive(move || page.get().and_then(|r| r.err()))>
        <section class="card">
            <h1>"Audit log"</h1>
            <p class="muted">"Every sign-in, refusal, role change and token use, newest first. Entries cannot be changed or deleted."</p>
            <Form method="GET" action="/admin/audit" attr:class="filters">
                <label>
                    <span>"Action"</span>
                    <select name="action" data-testid="audit-action">
                        <option value="">"Any"</option>
                        {AuditAction::ALL.into_iter().map(|a| view! {
                            <option value=a.as_str() selected=move || param("action") == a.as_str()>{a.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>"Person"</span>
                    <select name="actor">
                        <option value="">"Anyone"</option>
                        <Transition fallback=|| ()>
                            {move || members.get().and_then(|r| r.ok()).map(|list| list.into_iter().map(|m| {
                                let id = m.id;
                                view! { <option value=m.id.to_string() selected=move || number("actor") == id>{m.name}</option> }
                            }).collect_view())}
                        </Transition>
                    </select>
                </label>
                <label class="check">
                    <input type="checkbox" name="refused" value="1" checked=move || param("refused") == "1"/>
                    "Refusals only"
                </label>
                <button type="submit">"Filter"</button>
            </Form>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || page.get().map(|result| match result {
                    Ok(page) => view! {
                        <table class="table audit" data-testid="audit">
                            <thead><tr><th>"When (UTC)"</th><th>"Action"</th><th>"Who"</th><th>"What"</th><th>"Details"</th><th>"From"</th></tr></thead>
                            <tbody>
                                {page.entries.into_iter().map(|e| {
                                    let label = AuditAction::parse(&e.action).map(|a| a.label()).unwrap_or("Other");
                                    view! {
                                        <tr class:refused=e.refused>
                                            <td>{date_time(e.at)}</td>
                                            <td>{label} {e.refused.then(|| view! { <span class="badge refused">"refused"</span> })}</td>
                                            <td>{if e.actor.is_empty() { "—".to_string() } else { e.actor.clone() }}</td>
                                            <td>{e.target.clone()}</td>
                                            <td><code class="details">{e.details.clone()}</code></td>
                                            <td>{e.source_ip.clone()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        {page.older.map(|before| view! { <p><a href=older_link(before)>"Older entries →"</a></p> })}
                    }.into_any(),
                    Err(err) => view! { <Failure error=err/> }.into_any(),
                })}
            </Transition>
        </section>
        </AdminPage>
    }
}
