//! The sign-in page.

use leptos::prelude::*;
use leptos_meta::Title;

use super::api::{dev_sign_in_enabled, DevSignIn};
use crate::ui::ErrorNote;

/// Sign-in: for now only the local development sign-in exists.
#[component]
pub fn LoginPage() -> impl IntoView {
    let enabled = Resource::new(|| (), |_| dev_sign_in_enabled());
    let action = ServerAction::<DevSignIn>::new();
    view! {
        <Title text="Sign in"/>
        <section class="card narrow">
            <h1>"Sign in to Warroom"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || enabled.get().map(|enabled| match enabled {
                    Ok(true) => view! {
                        <p class="warning-box">
                            "Development sign-in: for local use only. Anyone who can reach this "
                            "server can continue as anyone. It is offered only because this server "
                            "was started with WARROOM_DEV_LOGIN=1 on a loopback address."
                        </p>
                        <ActionForm action=action>
                            <label for="sign-in-name">"Your name"</label>
                            <input id="sign-in-name" name="name" required autocomplete="name"
                                placeholder="e.g. Ada Lovelace" maxlength="80"/>
                            <button type="submit" class="primary">"Continue"</button>
                        </ActionForm>
                        <ErrorNote result=action.value()/>
                    }.into_any(),
                    _ => view! {
                        <p>"No sign-in method is configured on this server. Ask your administrator."</p>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
