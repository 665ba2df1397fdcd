//! The room's status-page panel: what the public sees of this incident, which components
//! it affects, and — for its commander or communications liaison — posting public updates.

use leptos::prelude::*;

use crate::status::api::{
    incident_public_side, PostPublicUpdate, SetComponentImpact, SetIncidentPrivate,
};
use crate::status::model::{Impact, PublicSide, PublicStatus};
use crate::timeline::model::{EntryEvent, TimelineEntry};
use crate::ui::{date_time, ErrorNote, Failure};

/// The panel. It reloads after its own actions, when roles change, and whenever the live
/// timeline brings a public-side entry from someone else.
#[component]
pub fn PublicPanel(
    incident_id: i64,
    entries: RwSignal<Vec<TimelineEntry>>,
    /// Bumped when roles change: taking the liaison role lets one speak publicly.
    roles_version: RwSignal<u32>,
    can_work: bool,
) -> impl IntoView {
    let post = ServerAction::<PostPublicUpdate>::new();
    let impact = ServerAction::<SetComponentImpact>::new();
    let private = ServerAction::<SetIncidentPrivate>::new();
    let public_entries = move || {
        entries.with(|list| {
            list.iter()
                .filter(|e| matches!(e.event, EntryEvent::Status(_)))
                .count()
        })
    };
    let side = Resource::new(
        move || {
            (
                post.version().get(),
                impact.version().get(),
                private.version().get(),
                public_entries(),
                roles_version.get(),
            )
        },
        move |_| incident_public_side(incident_id),
    );
    view! {
        <section class="panel public-panel" aria-labelledby="public-heading" data-testid="public-panel">
            <h2 id="public-heading">"Status page"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || side.get().map(|result| match result {
                    Ok(side) => view! { <PublicSideView side incident_id can_work post impact private/> }.into_any(),
                    Err(error) => view! { <Failure error/> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// Why someone who works the incident sees no publishing form although they could take
/// the role: publishing is a grant (`updates::NOT_ALLOWED_TO_PUBLISH` is the server's
/// refusal in the same words).
const NOT_ALLOWED_TO_PUBLISH_HERE: &str = "You may not publish to the status page: an admin allows that on Admin → People. Until then the incident commander or communications liaison who may speaks for this incident publicly.";

#[component]
fn PublicSideView(
    side: PublicSide,
    incident_id: i64,
    can_work: bool,
    post: ServerAction<PostPublicUpdate>,
    impact: ServerAction<SetComponentImpact>,
    private: ServerAction<SetIncidentPrivate>,
) -> impl IntoView {
    let published = !side.updates.is_empty();
    let latest = side.updates.first().map(|u| u.status);
    let summary = match (side.private, &side.public_title, latest) {
        (true, _, _) => "Kept private: it will not appear on the status page.".to_string(),
        (false, Some(title), Some(status)) => {
            format!("Public as “{title}” — {}", status.label())
        }
        _ => "Not on the status page yet: it appears with its first public update.".to_string(),
    };
    let speak = side.can_speak && can_work;
    let affected: Vec<_> = side
        .components
        .iter()
        .filter_map(|c| c.impact.map(|i| (c.name.clone(), i)))
        .collect();
    let components = side.components.clone();
    let updates = side.updates.clone();
    let public_id = side.public_id.clone();
    let public_title = side.public_title.clone();
    let is_private = side.private;
    view! {
        <p class="public-summary" data-testid="public-summary">{summary}</p>
        {published.then(move || view! {
            <p class="small"><a href=format!("/status/incidents/{}", public_id) target="_blank" rel="noopener">"Open its public page"</a></p>
        })}
        {(can_work && !speak).then(|| if side.may_publish {
            view! {
                <p class="muted small" data-testid="why-not-public">"Only the incident commander or the communications liaison speaks for the incident publicly."</p>
            }
        } else {
            view! {
                <p class="muted small" data-testid="why-not-public">{NOT_ALLOWED_TO_PUBLISH_HERE}</p>
            }
        })}
        {(!speak).then(|| view! {
            <ul class="affected">
                {if affected.is_empty() {
                    view! { <li class="muted">"No components affected."</li> }.into_any()
                } else {
                    affected.into_iter().map(|(name, i)| view! {
                        <li><span class=format!("impact impact-{}", i.as_str())>{i.label()}</span>" "{name}</li>
                    }).collect_view().into_any()
                }}
            </ul>
        })}
        {(speak && !is_private).then(move || {
            let title = public_title.unwrap_or_default();
            let next = match latest { None => PublicStatus::Investigating, Some(s) => s };
            view! {
                <h3>"Post a public update"</h3>
                <ActionForm action=post attr:class="public-update-form">
                    <input type="hidden" name="incident_id" value=incident_id/>
                    <label>"Public title"
                        <input name="public_title" value=title placeholder="What customers read, e.g. “Checkout is failing for some customers”" maxlength="200"/>
                    </label>
                    <label>"Status"
                        <select name="status">
                            {PublicStatus::ALL.into_iter().map(|s| view! {
                                <option value=s.as_str() selected=s == next>{s.label()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label>"Message"
                        <textarea name="message" rows="3" placeholder="What is affected, what we are doing, when we update next. No internal names." maxlength="5000"></textarea>
                    </label>
                    <button type="submit">"Publish update"</button>
                </ActionForm>
                <ErrorNote result=post.value()/>
            }
        })}
        {speak.then(move || view! {
            <h3>"Affected components"</h3>
            {if components.is_empty() {
                view! { <p class="muted small">"No components yet: an admin adds them under Admin → Status page."</p> }.into_any()
            } else {
                view! {
                    <ul class="impacts">
                        {components.into_iter().map(|c| {
                            let current = c.impact.map(|i| i.as_str()).unwrap_or("");
                            let label = match &c.group { Some(g) => format!("{g} › {}", c.name), None => c.name.clone() };
                            view! {
                                <li>
                                    <ActionForm action=impact attr:class="impact-form">
                                        <input type="hidden" name="incident_id" value=incident_id/>
                                        <input type="hidden" name="component_id" value=c.id/>
                                        <label>
                                            <span class="component-name">{label.clone()}</span>
                                            <select name="impact" aria-label=format!("Impact on {label}")>
                                                <option value="" selected=current.is_empty()>"Not affected"</option>
                                                {Impact::ALL.into_iter().map(|i| view! {
                                                    <option value=i.as_str() selected=current == i.as_str()>{i.label()}</option>
                                                }).collect_view()}
                                            </select>
                                        </label>
                                        <button type="submit" class="small">"Set"</button>
                                    </ActionForm>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <ErrorNote result=impact.value()/>
        })}
        {(can_work && !published).then(move || {
            let make_private = !is_private;
            view! {
                <ActionForm action=private attr:class="private-form">
                    <input type="hidden" name="incident_id" value=incident_id/>
                    <input type="hidden" name="private" value=make_private.to_string()/>
                    <button type="submit" class="small secondary">
                        {if make_private { "Keep private" } else { "Allow on the status page" }}
                    </button>
                </ActionForm>
                <ErrorNote result=private.value()/>
            }
        })}
        {published.then(move || view! {
            <h3>"Public updates"</h3>
            <ol class="public-updates">
                {updates.into_iter().map(|u| view! {
                    <li>
                        <div class="small"><strong>{u.status.label()}</strong>" · "{date_time(u.created_at)}
                            {u.author.map(|a| format!(" · {a}"))}</div>
                        <p class="public-update-body">{u.body_md}</p>
                    </li>
                }).collect_view()}
            </ol>
        })}
    }
}
