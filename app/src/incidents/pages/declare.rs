//! Declaring an incident: title, severity, summary; then straight into the room.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::incidents::api::{declare_choices, DeclareIncident};
use crate::ui::{ErrorNote, Failure};

#[component]
pub fn DeclarePage() -> impl IntoView {
    let action = ServerAction::<DeclareIncident>::new();
    let severities = Resource::new(|| (), |_| declare_choices());
    view! {
        <Title text="Declare an incident"/>
        <section class="card narrow">
            <h1>"Declare an incident"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || severities.get().map(|result| match result {
                    Ok(list) => view! {
                        <ActionForm action=action>
                            <label for="title">"Title"</label>
                            <input id="title" name="title" required maxlength="200" autocomplete="off"
                                placeholder="What is broken, for whom?"/>
                            <fieldset class="severity-choice">
                                <legend>"Severity"</legend>
                                {list.into_iter().map(|s| view! {
                                    <label class="severity-option" style=format!("--sev: {}", s.color)>
                                        <input type="radio" name="severity" value=s.key.clone() required/>
                                        <strong>{s.key.clone()}</strong>
                                        <span>{s.description.clone()}</span>
                                    </label>
                                }).collect_view()}
                            </fieldset>
                            <label for="summary">"Summary " <span class="muted">"(Markdown)"</span></label>
                            <textarea id="summary" name="summary" rows="5"
                                placeholder="What do we know so far? Who is affected?"></textarea>
                            <button type="submit" class="danger big" disabled=move || action.pending().get()>
                                "Declare incident"
                            </button>
                        </ActionForm>
                        <ErrorNote result=action.value()/>
                    }.into_any(),
                    Err(error) => view! { <Failure error/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
