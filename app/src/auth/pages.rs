//! Sign-in, one's own sessions, and the admin page for people, roles and invitations.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::api::{
    list_invitations, list_members, my_sessions, my_sign_in_methods, sign_in_options, DevSignIn,
    DisableMember, EnableMember, EndMemberSessions, EndSession, InviteMember, SetMemberPublishing,
    SetMemberRole, SignOutEverywhere, WithdrawInvitation,
};
use super::model::{link_required_message, Capability, Role};
use crate::ui::layout::{signed_in_can, CurrentUser};
use crate::ui::{ago, date_time, ErrorNote, Failure};

/// Why a sign-in came back to this page, in words (the `error` query parameter).
fn sign_in_problem(code: &str) -> Option<&'static str> {
    match code {
        // Said with the providers' names, inside the page's list of them.
        "" | "link_required" => None,
        "not_allowed" => Some(
            "This account is not allowed to use this Warroom. Ask an administrator to invite \
             your address, or sign in with the account your organisation uses.",
        ),
        "disabled" => Some(
            "This account is disabled. If that is a mistake, ask an administrator to enable it.",
        ),
        "expired" => Some(
            "That sign-in attempt expired or was already used. Start again below.",
        ),
        "unverified" => Some(
            "Your identity provider did not confirm your e-mail address, so Warroom cannot \
             tell who you are. Verify the address there, then try again.",
        ),
        _ => Some("Sign-in did not complete. Start again below; if it keeps failing, tell your administrator."),
    }
}

/// Sign-in: one button per configured identity provider; the development sign-in only
/// where the server offers it.
#[component]
pub fn LoginPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| sign_in_options());
    let action = ServerAction::<DevSignIn>::new();
    let query = use_query_map();
    let problem = move || sign_in_problem(&query.read().get("error").unwrap_or_default());
    view! {
        <Title text="Sign in"/>
        <section class="card narrow">
            <h1>"Sign in to Warroom"</h1>
            {move || problem().map(|p| view! { <p class="error" role="alert" data-testid="sign-in-problem">{p}</p> })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let query = query.read();
                    (query.get("error").as_deref() == Some("link_required")).then(|| {
                        let with = query.get("with").unwrap_or_default();
                        let link = query.get("link").unwrap_or_default();
                        options.get().and_then(|o| o.ok()).map(|o| view! {
                            <p class="error" role="alert" data-testid="sign-in-problem">
                                {link_required_message(&with, &link, &o.providers)}
                            </p>
                        })
                    })
                }}
                {move || options.get().map(|options| match options {
                    Ok(options) if !options.providers.is_empty() => view! {
                        <ul class="providers">
                            {options.providers.into_iter().map(|p| view! {
                                <li>
                                    <a class="button provider" rel="external"
                                        href=format!("/auth/{}/start", p.key)>
                                        {format!("Continue with {}", p.name)}
                                    </a>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Ok(options) if options.dev_sign_in => view! {
                        <p class="warning-box">
                            "Development sign-in: for local use only. Anyone who can reach this "
                            "server can continue as anyone, with any role. It is offered only because "
                            "no identity provider is configured and this server was started with "
                            "WARROOM_DEV_LOGIN=1 on a loopback address."
                        </p>
                        <ActionForm action=action>
                            <label for="sign-in-name">"Your name"</label>
                            <input id="sign-in-name" name="name" required autocomplete="name"
                                placeholder="e.g. Ada Lovelace" maxlength="80"/>
                            <label for="sign-in-role">"Role"</label>
                            <select id="sign-in-role" name="role">
                                {Role::ALL.into_iter().map(|r| view! {
                                    <option value=r.as_str() selected=r == Role::Responder>
                                        {format!("{} — {}", r.label(), r.description())}
                                    </option>
                                }).collect_view()}
                            </select>
                            <button type="submit" class="primary">"Continue"</button>
                        </ActionForm>
                        <ErrorNote result=action.value()/>
                    }.into_any(),
                    Ok(_) => view! {
                        <p>"No sign-in method is configured on this server. Ask your administrator."</p>
                    }.into_any(),
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// What the account page says after linking a provider (`?linked=` / `?link_error=`):
/// fixed sentences, never text from the URL.
fn link_result(linked: Option<String>, error: Option<String>) -> Option<(bool, &'static str)> {
    match (linked, error.as_deref()) {
        (_, Some("taken")) => Some((
            false,
            "That account at the provider is already linked to another person in Warroom: it was not linked to yours.",
        )),
        (_, Some("expired")) => Some((false, "That attempt expired or was already used. Start again below.")),
        (_, Some(_)) => Some((
            false,
            "Linking did not complete. Start again below; if it keeps failing, tell your administrator.",
        )),
        (Some(_), None) => Some((true, "Linked: you can sign in with it from now on.")),
        (None, None) => None,
    }
}

/// My account: who I am, how I sign in, my signed-in browsers, ending one or all of them.
#[component]
pub fn AccountPage() -> impl IntoView {
    let end = ServerAction::<EndSession>::new();
    let everywhere = ServerAction::<SignOutEverywhere>::new();
    // The layout already loads who is signed in.
    let me = expect_context::<CurrentUser>().0;
    let sessions = Resource::new(move || end.version().get(), |_| my_sessions());
    let methods = Resource::new(|| (), |_| my_sign_in_methods());
    let query = use_query_map();
    let linking = move || {
        let query = query.read();
        link_result(query.get("linked"), query.get("link_error"))
    };
    view! {
        <Title text="Your account"/>
        <section class="card">
            <h1>"Your account"</h1>
            <Transition fallback=|| ()>
                {move || me.get().and_then(|r| r.ok()).flatten().map(|me| view! {
                    <p>{me.person.name} " · role: " <strong data-testid="my-role">{me.role.label()}</strong>
                        " (" {me.role.description()} ")"</p>
                })}
            </Transition>
            <h2>"Sign-in methods"</h2>
            {move || linking().map(|(ok, text)| view! {
                <p class=if ok { "notice" } else { "error" } role="status" data-testid="link-result">{text}</p>
            })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || methods.get().map(|result| match result {
                    Ok(methods) => view! {
                        <ul class="plain" data-testid="sign-in-methods">
                            {methods.linked.into_iter().map(|m| view! {
                                <li>
                                    <strong>{m.name}</strong>
                                    <span class="muted">{format!(" · linked {} · last used {}", date_time(m.linked_at), date_time(m.last_used_at))}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                        {(!methods.linkable.is_empty()).then(|| view! {
                            <p class="muted small">"Link another provider to sign in with it too: you sign in there once, and it is attached to this account."</p>
                            <p>
                                {methods.linkable.into_iter().map(|p| view! {
                                    <a class="button small" rel="external" href=format!("/auth/{}/link", p.key)>
                                        {format!("Link {}", p.name)}
                                    </a>
                                    " "
                                }).collect_view()}
                            </p>
                        })}
                    }.into_any(),
                    Err(err) => view! { <Failure error=err/> }.into_any(),
                })}
            </Transition>
            <h2>"Signed-in browsers"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || sessions.get().map(|result| match result {
                    Ok(list) => view! {
                        <table class="table" data-testid="sessions">
                            <thead><tr><th>"Browser"</th><th>"From"</th><th>"Signed in"</th><th>"Last active"</th><th>"Expires"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| {
                                    let id = s.id.clone();
                                    view! {
                                        <tr class:current=s.current>
                                            <td>{browser_name(&s.user_agent)} {s.current.then(|| view! { <span class="badge">"this browser"</span> })}</td>
                                            <td>{s.source_ip.clone()}</td>
                                            <td>{date_time(s.created_at)} " · " {s.method.clone()}</td>
                                            <td>{ago(s.last_seen_at, chrono::Utc::now())}</td>
                                            <td>{date_time(s.expires_at)}</td>
                                            <td>{(!s.current).then(|| view! {
                                                <button type="button" class="link"
                                                    on:click=move |_| { end.dispatch(EndSession { id: id.clone() }); }>
                                                    "End"
                                                </button>
                                            })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(err) => view! { <Failure error=err/> }.into_any(),
                })}
            </Transition>
            <ErrorNote result=end.value()/>
            <ActionForm action=everywhere>
                <button type="submit" class="danger">"Sign out everywhere"</button>
            </ActionForm>
            <ErrorNote result=everywhere.value()/>
        </section>
    }
}

/// "Firefox on Linux" from a User-Agent, good enough to recognise one's devices.
fn browser_name(user_agent: &str) -> String {
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/", "curl/"]
        .into_iter()
        .find(|b| user_agent.contains(b))
        .map(|b| match b {
            "Edg/" => "Edge",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            "Safari/" => "Safari",
            _ => "curl",
        });
    let system = ["Android", "iPhone", "iPad", "Mac OS X", "Windows", "Linux"]
        .into_iter()
        .find(|s| user_agent.contains(s))
        .map(|s| if s == "Mac OS X" { "macOS" } else { s });
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_string(),
        _ if user_agent.is_empty() => "Unknown browser".to_string(),
        _ => user_agent.chars().take(40).collect(),
    }
}

/// People, roles and invitations (admins only; the server refuses everyone else).
#[component]
pub fn PeoplePage() -> impl IntoView {
    let set_role = ServerAction::<SetMemberRole>::new();
    let disable = ServerAction::<DisableMember>::new();
    let enable = ServerAction::<EnableMember>::new();
    let end_sessions = ServerAction::<EndMemberSessions>::new();
    let publishing = ServerAction::<SetMemberPublishing>::new();
    let invite = ServerAction::<InviteMember>::new();
    let withdraw = ServerAction::<WithdrawInvitation>::new();
    let members = Resource::new(
        move || {
            (
                set_role.version().get(),
                disable.version().get(),
                enable.version().get(),
                end_sessions.version().get(),
                publishing.version().get(),
            )
        },
        |_| list_members(),
    );
    let invitations = Resource::new(
        move || (invite.version().get(), withdraw.version().get()),
        |_| list_invitations(),
    );
    view! {
        <Title text="People"/>
        <AdminPage refusal=Signal::derive(move || members.get().and_then(|r| r.err()))>
        <section class="card">
            <h1>"People and roles"</h1>
            <p class="muted">{Role::ALL.into_iter().map(|r| format!("{}: {}.", r.label(), r.description())).collect::<Vec<_>>().join(" ")}</p>
            <p class="muted">"Publishing to the status page (public updates and affected components, as an incident's commander or communications liaison, sent to every subscriber) is allowed per person; admins may by their role."</p>
            <p class="muted">"Disabling someone (who left, or whose account is at risk) ends every session of theirs at once and keeps them out, whichever way they sign in, until they are enabled again. Ending someone's sessions signs them out everywhere; they may sign in again."</p>
            <ErrorNote result=set_role.value()/>
            <ErrorNote result=disable.value()/>
            <ErrorNote result=enable.value()/>
            <ErrorNote result=end_sessions.value()/>
            <ErrorNote result=publishing.value()/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || members.get().map(|result| match result {
                    Ok(list) => view! {
                        <table class="table" data-testid="members">
                            <thead><tr><th>"Name"</th><th>"E-mail"</th><th>"Role"</th><th>"Last sign-in"</th><th>"Sessions"</th><th>"Status page"</th><th>"Access"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|m| {
                                    let user_id = m.id;
                                    let disabled = m.disabled;
                                    let sessions = m.active_sessions;
                                    let name = m.name.clone();
                                    view! {
                                        <tr data-testid=format!("member-{}", m.id) class:disabled=disabled>
                                            <td>{m.name.clone()} {disabled.then(|| view! { " " <span class="badge disabled-badge">"disabled"</span> })}</td>
                                            <td>{m.email.clone().unwrap_or_else(|| "—".into())}</td>
                                            <td>
                                                <select aria-label=format!("Role of {}", m.name)
                                                    on:change=move |ev| {
                                                        set_role.dispatch(SetMemberRole { user_id, role: event_target_value(&ev) });
                                                    }>
                                                    {Role::ALL.into_iter().map(|r| view! {
                                                        <option value=r.as_str() selected=r == m.role>{r.label()}</option>
                                                    }).collect_view()}
                                                </select>
                                            </td>
                                            <td>{m.last_sign_in_at.map(date_time).unwrap_or_else(|| "never".into())}</td>
                                            <td>{sessions}
                                                {(sessions > 0).then(|| view! {
                                                    " "
                                                    <button type="button" class="link" aria-label=format!("End all sessions of {name}")
                                                        on:click=move |_| { end_sessions.dispatch(EndMemberSessions { user_id }); }>
                                                        "End all"
                                                    </button>
                                                })}
                                            </td>
                                            <td>{if m.role == Role::Admin {
                                                view! { <span class="muted small">"publishes (admin)"</span> }.into_any()
                                            } else {
                                                let allowed = m.may_publish;
                                                view! {
                                                    <label class="small">
                                                        <input type="checkbox" prop:checked=allowed
                                                            aria-label=format!("{} may publish to the status page", m.name)
                                                            on:change=move |ev| {
                                                                publishing.dispatch(SetMemberPublishing { user_id, allowed: event_target_checked(&ev) });
                                                            }/>
                                                        " may publish"
                                                    </label>
                                                }.into_any()
                                            }}</td>
                                            <td>{if disabled {
                                                view! {
                                                    <button type="button" class="link" aria-label=format!("Enable {}", m.name)
                                                        on:click=move |_| { enable.dispatch(EnableMember { user_id }); }>
                                                        "Enable"
                                                    </button>
                                                }.into_any()
                                            } else {
                                                view! {
                                                    <button type="button" class="link danger" aria-label=format!("Disable {}", m.name)
                                                        on:click=move |_| { disable.dispatch(DisableMember { user_id }); }>
                                                        "Disable"
                                                    </button>
                                                }.into_any()
                                            }}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(err) => view! { <Failure error=err/> }.into_any(),
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>"Invitations"</h2>
            <p class="muted">"An invited address may sign in with any configured provider that vouches for it, and gets the role chosen here."</p>
            <ActionForm action=invite attr:class="inline-form">
                <label for="invite-email">"E-mail"</label>
                <input id="invite-email" name="email" type="email" required placeholder="ada@example.com"/>
                <label for="invite-role">"Role"</label>
                <select id="invite-role" name="role">
                    {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str() selected=r == Role::Responder>{r.label()}</option> }).collect_view()}
                </select>
                <button type="submit" class="primary">"Invite"</button>
            </ActionForm>
            <ErrorNote result=invite.value()/>
            <ErrorNote result=withdraw.value()/>
            <Transition fallback=|| ()>
                {move || invitations.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No pending invitations."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="plain" data-testid="invitations">
                            {list.into_iter().map(|i| {
                                let email = i.email.clone();
                                view! {
                                    <li>
                                        <strong>{i.email.clone()}</strong> " as " {i.role.label()}
                                        <span class="muted">{format!(" · invited by {} on {}", i.invited_by, date_time(i.created_at))}</span>
                                        " "
                                        <button type="button" class="link"
                                            on:click=move |_| { withdraw.dispatch(WithdrawInvitation { email: email.clone() }); }>
                                            "Withdraw"
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
        </AdminPage>
    }
}

/// The frame of an admin page: admins see the tabs and the page; anyone else reads only
/// why not (`refusal`: the error of the page's main data, which the server refuses them).
#[component]
pub fn AdminPage(
    #[prop(into)] refusal: Signal<Option<crate::error::AppError>>,
    children: ChildrenFn,
) -> impl IntoView {
    let is_admin = signed_in_can(Capability::Administer);
    view! {
        <Transition fallback=|| ()>
            {move || refusal.get().map(|error| view! { <Failure error/> })}
        </Transition>
        <Transition fallback=|| ()>
            <Show when=move || is_admin.get()>
                <AdminTabs/>
                {children()}
            </Show>
        </Transition>
    }
}

/// Links between the admin pages.
#[component]
fn AdminTabs() -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Administration">
            <a href="/admin/people">"People"</a>
            <a href="/admin/tokens">"API tokens"</a>
            <a href="/admin/status">"Status page"</a>
            <a href="/admin/maintenance">"Maintenance"</a>
            <a href="/admin/audit">"Audit log"</a>
        </nav>
    }
}
