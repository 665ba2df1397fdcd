//! The incident list: open incidents first, by severity; filters live in the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};

use crate::auth::model::Capability;
use crate::incidents::api::{list_incidents, list_severities};
use crate::incidents::model::{IncidentListItem, Status};
use crate::ui::layout::signed_in_can;
use crate::ui::{date_time, Failure, SeverityBadge, StatusBadge};

#[component]
pub fn IncidentListPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let status = move || {
        Some(param("status"))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "open".into())
    };
    let page = move || param("page").parse::<i64>().unwrap_or(1).max(1);
    let incidents = Resource::new(
        move || (status(), param("severity"), param("q"), page()),
        |(status, severity, q, page)| list_incidents(status, severity, q, page),
    );
    // Another page of the same filters.
    let page_link = move |to: i64| {
        let mut query = format!("status={}&page={to}", urlencode(&status()));
        for name in ["severity", "q"] {
            let value = param(name);
            if !value.is_empty() {
                query.push_str(&format!("&{name}={}", urlencode(&value)));
            }
        }
        format!("/incidents?{query}")
    };
    let severities = Resource::new(|| (), |_| list_severities());
    let can_declare = signed_in_can(Capability::WorkIncidents);

    view! {
        <Title text="Incidents"/>
        <div class="page-head">
            <h1>"Incidents"</h1>
            <Transition fallback=|| ()>
                {move || can_declare.get().then(|| view! {
                    <a class="button danger" href="/incidents/new">"Declare incident"</a>
                })}
            </Transition>
        </div>
        <Form method="GET" action="/incidents" attr:class="filters">
            <label>
                <span>"Status"</span>
                <select name="status" data-testid="filter-status">
                    <option value="open" selected=move || status() == "open">"Open"</option>
                    <option value="all" selected=move || status() == "all">"All"</option>
                    {Status::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=move || status() == s.as_str()>{s.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                <span>"Severity"</span>
                <select name="severity" data-testid="filter-severity">
                    <option value="">"Any"</option>
                    <Transition fallback=|| ()>
                        {move || severities.get().and_then(|r| r.ok()).map(|list| list.into_iter().map(|s| {
                            let key = s.key.clone();
                            view! {
                                <option value=s.key.clone() selected=move || param("severity") == key>
                                    {format!("{} {}", s.key, s.name)}
                                </option>
                            }
                        }).collect_view())}
                    </Transition>
                </select>
            </label>
            <label class="grow">
                <span>"Search titles"</span>
                <input type="search" name="q" value=move || param("q") placeholder="e.g. checkout"/>
            </label>
            <button type="submit">"Filter"</button>
        </Form>
        <Transition fallback=|| view! { <p class="muted">"Loading incidents…"</p> }>
            {move || incidents.get().map(|result| match result {
                Ok(list) if list.items.is_empty() && list.page == 1 => view! {
                    <p class="empty">"No incidents match. All quiet — or declare one if something is wrong."</p>
                }.into_any(),
                Ok(list) => {
                    let (page, has_next, empty) = (list.page, list.has_next, list.items.is_empty());
                    view! {
                        <ul class="incident-list" data-testid="incident-list">
                            {list.items.into_iter().map(|item| view! { <IncidentRow item/> }).collect_view()}
                        </ul>
                        {empty.then(|| view! {
                            <p class="empty">"No incidents on this page."</p>
                        })}
                        <nav class="pager" aria-label="Pages" data-testid="pager">
                            {(page > 1).then(|| view! { <a href=page_link(page - 1) rel="prev">"← Newer"</a> })}
                            <span class="muted">{format!("Page {page}")}</span>
                            {has_next.then(|| view! { <a href=page_link(page + 1) rel="next">"Older →"</a> })}
                        </nav>
                    }.into_any()
                }
                Err(error) => view! { <Failure error/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn IncidentRow(item: IncidentListItem) -> impl IntoView {
    let resolved = !item.status.is_open();
    view! {
        <li class:resolved=resolved>
            <a class="incident-row" href=format!("/incidents/{}", item.id)>
                <span class="incident-id">{format!("INC-{}", item.id)}</span>
                <SeverityBadge severity=item.severity/>
                <StatusBadge status=item.status/>
                <span class="incident-title">{item.title}</span>
                <span class="incident-meta">
                    {match item.commander {
                        Some(person) => format!("IC {}", person.name),
                        None => "No commander".to_string(),
                    }}
                    " · declared "
                    <time datetime=item.declared_at.to_rfc3339()>{date_time(item.declared_at)}</time>
                </span>
            </a>
        </li>
    }
}

/// `value` for a URL query (letters, digits and `-_.~` as they are).
fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
