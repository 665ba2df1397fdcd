//! The frame around every page: top bar with navigation and the signed-in person.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::auth::api::{get_me, SignOut};

/// Top bar and main column.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    // Refetched on navigation so the bar follows sign-in and sign-out.
    let me = Resource::new(move || location.pathname.get(), |_| get_me());
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <header class="topbar">
            <a href="/incidents" class="brand">"Warroom"</a>
            <nav class="topnav">
                <a href="/incidents">"Incidents"</a>
            </nav>
            <Transition fallback=|| ()>
                {move || me.get().and_then(|r| r.ok()).flatten().map(|person| view! {
                    <a class="button danger small" href="/incidents/new">"Declare"</a>
                    <span class="me" data-testid="me">{person.name}</span>
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
