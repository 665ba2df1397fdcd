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
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    lazy_route, path, Lazy, LazyRoute, SsrMode,
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
                // `/pkg/warroom.<hash>.css` when the build hashes file names.
                <HashedStylesheet options=options.clone() id="leptos"/>
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
    // The pages whose code is loaded when visited (see `DeclareRoute` below).
    let declare = Lazy::<DeclareRoute>::new();
    let account = Lazy::<AccountRoute>::new();
    let people = Lazy::<PeopleRoute>::new();
    let tokens = Lazy::<TokensRoute>::new();
    let audit = Lazy::<AuditRoute>::new();
    let status_admin = Lazy::<StatusAdminRoute>::new();
    let maintenance = Lazy::<MaintenanceRoute>::new();
    view! {
        // The only title formatter: it escapes titles for the server-rendered head.
        <Title formatter=ui::document_title/>
        <Router>
            <ui::layout::Layout>
                <Routes fallback=|| view! { <ui::layout::NotFound/> }>
                    // Pages that need a role wait for their data, so a refusal answers
                    // 401 (sent to sign in) or 403 rather than 200. The incident list, the
                    // room and sign-in are in the main bundle; the others load when visited.
                    <Route path=path!("/") view=incidents::pages::list::IncidentListPage ssr=SsrMode::Async/>
                    <Route path=path!("/incidents") view=incidents::pages::list::IncidentListPage ssr=SsrMode::Async/>
                    <Route path=path!("/incidents/new") view=declare ssr=SsrMode::Async/>
                    // Rendered once its data is loaded, so a missing incident answers 404.
                    <Route path=path!("/incidents/:id") view=incidents::pages::room::RoomPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=auth::pages::LoginPage/>
                    <Route path=path!("/account") view=account ssr=SsrMode::Async/>
                    <Route path=path!("/admin/people") view=people ssr=SsrMode::Async/>
                    <Route path=path!("/admin/tokens") view=tokens ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=audit ssr=SsrMode::Async/>
                    <Route path=path!("/admin/status") view=status_admin ssr=SsrMode::Async/>
                    <Route path=path!("/admin/maintenance") view=maintenance ssr=SsrMode::Async/>
                </Routes>
            </ui::layout::Layout>
        </Router>
    }
}

// Lazily loaded pages. `cargo leptos build --split` moves each `view` below, with the
// code only it reaches (the page, its forms, its server functions' calls), into a wasm
// chunk of its own, fetched when the page is first shown: on a client-side navigation, or
// during hydration when the server rendered it (the server then also sends preload links
// for the chunk). Each page loads its data itself, as before.

/// `/incidents/new`.
pub struct DeclareRoute;

#[lazy_route]
impl LazyRoute for DeclareRoute {
    fn data() -> Self {
        DeclareRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <incidents::pages::declare::DeclarePage/> }.into_any()
    }
}

/// `/account`.
pub struct AccountRoute;

#[lazy_route]
impl LazyRoute for AccountRoute {
    fn data() -> Self {
        AccountRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <auth::pages::AccountPage/> }.into_any()
    }
}

/// `/admin/people`.
pub struct PeopleRoute;

#[lazy_route]
impl LazyRoute for PeopleRoute {
    fn data() -> Self {
        PeopleRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <auth::pages::PeoplePage/> }.into_any()
    }
}

/// `/admin/tokens`.
pub struct TokensRoute;

#[lazy_route]
impl LazyRoute for TokensRoute {
    fn data() -> Self {
        TokensRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <tokens::pages::TokensPage/> }.into_any()
    }
}

/// `/admin/audit`.
pub struct AuditRoute;

#[lazy_route]
impl LazyRoute for AuditRoute {
    fn data() -> Self {
        AuditRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <audit::pages::AuditPage/> }.into_any()
    }
}

/// `/admin/status`.
pub struct StatusAdminRoute;

#[lazy_route]
impl LazyRoute for StatusAdminRoute {
    fn data() -> Self {
        StatusAdminRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <status::pages::admin::StatusAdminPage/> }.into_any()
    }
}

/// `/admin/maintenance`.
pub struct MaintenanceRoute;

#[lazy_route]
impl LazyRoute for MaintenanceRoute {
    fn data() -> Self {
        MaintenanceRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <status::pages::maintenance::MaintenancePage/> }.into_any()
    }
}

/// Browser entry point: hydrate the server-rendered page, then mark the body so that
/// tests (and people debugging) can tell the interactive app is running. Asynchronously:
/// a lazily loaded page hydrates once its chunk has arrived.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document()
            .body()
            .expect("the page has a body");
        leptos::mount::hydrate_from_async(body, App).await.forget();
        if let Some(body) = leptos::prelude::document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
