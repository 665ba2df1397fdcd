//! Warroom's Leptos application: routes, pages and server functions, compiled for the
//! server (`ssr`) and for the browser (`hydrate`).
#![recursion_limit = "256"]

pub mod audit;
pub mod auth;
pub mod error;
pub mod incidents;
pub mod integrations;
#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod limits;
#[cfg(feature = "ssr")]
pub mod markdown;
#[cfg(feature = "ssr")]
pub mod random;
#[cfg(feature = "ssr")]
pub mod state;
pub mod status;
pub mod timeline;
pub mod tokens;
pub mod ui;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/warroom.css"/>
        // The only title formatter: it escapes titles for the server-rendered head.
        <Title formatter=ui::document_title/>
        <Router>
            <ui::layout::Layout>
                <Routes fallback=|| view! { <ui::layout::NotFound/> }>
                    // Pages that need a role wait for their data, so a refusal answers
                    // 401 (sent to sign in) or 403 rather than 200.
                    <Route path=path!("/") view=incidents::pages::list::IncidentListPage ssr=SsrMode::Async/>
                    <Route path=path!("/incidents") view=incidents::pages::list::IncidentListPage ssr=SsrMode::Async/>
                    <Route path=path!("/incidents/new") view=incidents::pages::declare::DeclarePage ssr=SsrMode::Async/>
                    // Rendered once its data is loaded, so a missing incident answers 404.
                    <Route path=path!("/incidents/:id") view=incidents::pages::room::RoomPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=auth::pages::LoginPage/>
                    <Route path=path!("/account") view=auth::pages::AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/people") view=auth::pages::PeoplePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/tokens") view=tokens::pages::TokensPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=audit::pages::AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/status") view=status::pages::admin::StatusAdminPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/maintenance") view=status::pages::maintenance::MaintenancePage ssr=SsrMode::Async/>
                </Routes>
            </ui::layout::Layout>
        </Router>
    }
}

/// Browser entry point: hydrate the server-rendered page, then mark the body so that
/// tests (and people debugging) can tell the interactive app is running.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
