//! The frame around every page: top bar with navigation and the signed-in person.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::auth::api::{get_me, SignOut};
use crate::auth::model::{Capability, Me};
use crate::error::AppError;

/// The signed-in person, loaded by the layout on every navigation (`None` while loading
/// or when signed out). For showing and hiding controls only: the server decides.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<Me>, AppError>>);

/// Whether the signed-in person has `capability` (false while unknown).
pub fn signed_in_can(capability: Capability) -> Signal<bool> {
    let me = use_context::<CurrentUser>();
    Signal::derive(move || {
        me.and_then(|me| me.0.get())
            .and_then(|r| r.ok())
            .flatten()
            .is_some_and(|me| me.can(capability))
    })
}

/// Top bar and main column.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    // Refetched on navigation so the bar follows sign-in, sign-out and role changes.
    let me = Resource::new(move || location.pathname.get(), |_| get_me());
    provide_context(CurrentUser(me));
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <header class="topbar">
            <a href="/incidents" class="brand">"Warroom"</a>
            <Transition fallback=|| ()>
                {move || me.get().and_then(|r| r.ok()).flatten().map(|me| view! {
                    <nav class="topnav">
                        <a href="/incidents">"Incidents"</a>
                        {me.can(Capability::Administer).then(|| view! { <a href="/admin/people">"Admin"</a> })}
                    </nav>
                    {me.can(Capability::WorkIncidents).then(|| view! {
                        <a class="button danger small" href="/incidents/new">"Declare"</a>
                    })}
                    <a class="me" href="/account" data-testid="me" title=me.role.label()>{me.person.name}</a>
                    <ActionForm action=sign_out>
                        <button type="submit" class="link">"Sign out"</button>
                    </ActionForm>
                })}
            </Transition>
        </header>
        <main class="page">{children()}</main>
    }
}

/// Unknown address.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card narrow">
            <h1>"Page not found"</h1>
            <p><a href="/incidents">"Back to incidents"</a></p>
        </section>
    }
}
