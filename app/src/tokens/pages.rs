//! The admin page for API tokens: issue (secret shown once), list, revoke.

use leptos::prelude::*;
use leptos_meta::Title;

use super::api::{list_tokens, CreateToken, RevokeToken};
use super::model::Scope;
use crate::auth::pages::AdminPage;
use crate::ui::{date_time, ErrorNote, Failure};

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    view! {
        <Title text="API tokens"/>
        <AdminPage refusal=Signal::derive(move || tokens.get().and_then(|r| r.err()))>
        <section class="card">
            <h1>"API tokens"</h1>
            <p class="muted">
                "Tokens let scripts and other systems use Warroom's API ("
                <code>"Authorization: Bearer wr_…"</code>
                "). Warroom keeps only a hash: the secret is shown once, when the token is created."
            </p>
            <ActionForm action=create attr:class="stacked-form">
                <label for="token-name">"Name (what will use it)"</label>
                <input id="token-name" name="name" required maxlength="80" placeholder="e.g. Alertmanager"/>
                <fieldset>
                    <legend>"Scopes"</legend>
                    {Scope::ALL.into_iter().enumerate().map(|(i, s)| view! {
                        <label class="check">
                            <input type="checkbox" name=format!("scopes[{i}]") value=s.as_str()/>
                            <code>{s.as_str()}</code> " — " {s.description()}
                        </label>
                    }).collect_view()}
                </fieldset>
                <label for="token-expiry">"Expires"</label>
                <select id="token-expiry" name="expires_in_days">
                    <option value="30">"in 30 days"</option>
                    <option value="90" selected>"in 90 days"</option>
                    <option value="365">"in a year"</option>
                    <option value="0">"never"</option>
                </select>
                <button type="submit" class="primary">"Create token"</button>
            </ActionForm>
            <ErrorNote result=create.value()/>
            {move || create.value().get().and_then(|r| r.ok()).map(|token| view! {
                <div class="secret-box" role="status">
                    <p><strong>{format!("Token “{}” created.", token.name)}</strong>
                        " Copy it now: it will not be shown again."</p>
                    <input class="secret" readonly value=token.secret.clone() aria-label="New token secret"
                        data-testid="new-token-secret"/>
                </div>
            })}
        </section>
        <section class="card">
            <h2>"Issued tokens"</h2>
            <ErrorNote result=revoke.value()/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || tokens.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No tokens yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table" data-testid="tokens">
                            <thead><tr><th>"Name"</th><th>"Token"</th><th>"Scopes"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|t| {
                                    let id = t.id;
                                    let live = t.revoked_at.is_none();
                                    view! {
                                        <tr class:revoked=!live>
                                            <td>{t.name.clone()}</td>
                                            <td><code>{format!("{}…", t.prefix)}</code></td>
                                            <td>{t.scopes.join(", ")}</td>
                                            <td>{format!("{} by {}", date_time(t.created_at), t.created_by)}</td>
                                            <td>{t.expires_at.map(date_time).unwrap_or_else(|| "never".into())}</td>
                                            <td>{match (t.last_used_at, t.last_used_ip.clone()) {
                                                (Some(at), Some(ip)) => format!("{} from {ip}", date_time(at)),
                                                (Some(at), None) => date_time(at),
                                                _ => "never".into(),
                                            }}</td>
                                            <td>{match t.revoked_at {
                                                Some(at) => view! { <span class="muted">{format!("revoked {}", date_time(at))}</span> }.into_any(),
                                                None => view! {
                                                    <button type="button" class="link danger"
                                                        on:click=move |_| { revoke.dispatch(RevokeToken { id }); }>
                                                        "Revoke"
                                                    </button>
                                                }.into_any(),
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
        </AdminPage>
    }
}
