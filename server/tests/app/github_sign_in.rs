//! Sign-in with GitHub against a local fake that behaves like GitHub: PKCE, single-use
//! codes, organisations, verified e-mails, outages.

use crate::support::fake_github::{Account, FakeGitHub, CLIENT_ID, CLIENT_SECRET};
use crate::support::{Client, TestApp};
use reqwest::header::LOCATION;
use serde_json::Value;
use sqlx::PgPool;
use warroom::config::auth::AuthConfig;
use warroom::config::Config;

async fn spawn(pool: PgPool, tweak: impl FnOnce(&mut Config)) -> (TestApp, FakeGitHub) {
    let github = FakeGitHub::start().await;
    github.add(Account {
        id: 101,
        login: "octo".into(),
        name: Some("Octo Cat".into()),
        email: "octo@acme.example".into(),
        email_verified: true,
        orgs: vec!["Acme".into()],
    });
    github.add(Account {
        id: 102,
        login: "boss".into(),
        name: None,
        email: "Boss@Acme.example".into(),
        email_verified: true,
        orgs: vec![],
    });
    github.add(Account {
        id: 666,
        login: "mallory".into(),
        name: Some("Mallory".into()),
        email: "mallory@evil.example".into(),
        email_verified: true,
        orgs: vec!["evil-corp".into()],
    });
    github.add(Account {
        id: 103,
        login: "unverified".into(),
        name: None,
        email: "someone@acme.example".into(),
        email_verified: false,
        orgs: vec!["acme".into()],
    });
    let base = github.base.clone();
    let mut config = Config::for_tests();
    config.auth = AuthConfig::load(&|name| {
        match name {
            "WARROOM_GITHUB_CLIENT_ID" => Some(CLIENT_ID),
            "WARROOM_GITHUB_CLIENT_SECRET" => Some(CLIENT_SECRET),
            "WARROOM_GITHUB_URL" | "WARROOM_GITHUB_API_URL" => Some(base.as_str()),
            "WARROOM_ALLOWED_GITHUB_ORGS" => Some("acme"),
            "WARROOM_ADMINS" => Some("boss@acme.example"),
            _ => None,
        }
        .map(str::to_string)
    })
    .unwrap();
    tweak(&mut config);
    (TestApp::spawn_with(pool, config).await, github)
}

/// A browser: cookies kept, redirects not followed (so each hop can be checked).
fn browser(app: &TestApp) -> Client {
    Client::new(&app.base)
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Starts signing in; returns GitHub's authorize URL.
async fn start(client: &Client) -> String {
    let response = client.get("/auth/github/start").await;
    assert_eq!(response.status(), 303, "start");
    location(&response)
}

/// GitHub's side: the consenting account approves; returns the callback URL.
async fn approve(authorize_url: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = http.get(authorize_url).send().await.unwrap();
    assert_eq!(response.status(), 302, "authorize");
    location(&response)
}

/// Back in Warroom; returns where Warroom sends the browser next.
async fn callback(client: &Client, callback_url: &str) -> String {
    let response = client.http.get(callback_url).send().await.unwrap();
    assert_eq!(
        response.status(),
        303,
        "callback: {}",
        response.text().await.unwrap_or_default()
    );
    location(&response)
}

fn param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            (
                k.to_string(),
                if k == name {
                    value.to_string()
                } else {
                    v.to_string()
                },
            )
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

async fn me(client: &Client) -> Value {
    client.ok("me", &[]).await
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn org_members_sign_in_with_github_and_configured_admins_are_admins(pool: PgPool) {
    let (app, github) = spawn(pool.clone(), |_| {}).await;
    let client = browser(&app);
    github.consent_as("octo");
    // Starting sets a session cookie (it holds the attempt)…
    let started = client.get("/auth/github/start").await;
    assert_eq!(started.status(), 303);
    let pending_cookie = started.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    let authorize = location(&started);
    assert!(authorize.starts_with(&format!("{}/login/oauth/authorize?", github.base)));
    assert_eq!(param(&authorize, "code_challenge_method"), "S256");
    assert!(param(&authorize, "scope").contains("read:org"));
    let back = approve(&authorize).await;
    assert!(
        back.starts_with(&format!("{}/auth/github/callback?", app.base)),
        "{back}"
    );
    let response = client.http.get(&back).send().await.unwrap();
    assert_eq!(location(&response), "/");
    // …which signing in replaces: the id an attacker could have planted is not the one
    // that is signed in.
    let id = |cookie: &str| cookie.split(';').next().unwrap().to_string();
    let signed_in_cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert_ne!(
        id(&pending_cookie),
        id(signed_in_cookie),
        "the session id is rotated at sign-in"
    );
    let octo = me(&client).await;
    assert_eq!(octo["person"]["name"], "Octo Cat");
    assert_eq!(
        octo["role"], "Viewer",
        "allowed by organisation, default role"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM identities WHERE provider = 'github' AND subject = '101'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM users WHERE email = 'octo@acme.example'"
        )
        .await,
        1
    );

    // Signing in again reuses the account.
    let again = browser(&app);
    let back = approve(&start(&again).await).await;
    assert_eq!(callback(&again, &back).await, "/");
    assert_eq!(
        count(&pool, "SELECT count(*) FROM users WHERE kind = 'person'").await,
        1
    );

    // WARROOM_ADMINS: admin from the first sign-in, whatever else.
    let boss = browser(&app);
    github.consent_as("boss");
    let back = approve(&start(&boss).await).await;
    assert_eq!(callback(&boss, &back).await, "/");
    assert_eq!(me(&boss).await["role"], "Admin");
    assert_eq!(
        me(&boss).await["person"]["name"],
        "boss",
        "GitHub login when there is no name"
    );
    let signed_in = count(&pool, "SELECT count(*) FROM audit_log WHERE action = 'sign_in' AND outcome = 'ok' AND target = 'github'").await;
    assert_eq!(signed_in, 3);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_callback_with_a_forged_state_is_refused(pool: PgPool) {
    let (app, github) = spawn(pool.clone(), |_| {}).await;
    github.consent_as("octo");
    let client = browser(&app);
    let back = approve(&start(&client).await).await;
    let forged = with_param(&back, "state", "attacker-chosen-state");
    assert_eq!(callback(&client, &forged).await, "/login?error=expired");
    assert_eq!(me(&client).await, Value::Null);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM users").await,
        0,
        "no account was made"
    );
    // A callback nobody started is refused the same way.
    let stranger = browser(&app);
    assert_eq!(callback(&stranger, &back).await, "/login?error=expired");
    // The forged callback did not use up the attempt (only the real state may): the
    // real callback still signs in, once.
    assert_eq!(callback(&client, &back).await, "/");
    assert_eq!(me(&client).await["person"]["name"], "Octo Cat");
    assert_eq!(callback(&client, &back).await, "/login?error=expired");
    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT details->>'reason' FROM audit_log WHERE action = 'sign_in_refused' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        reasons,
        [
            "state does not match",
            "no sign-in in progress in this browser",
            "no sign-in in progress in this browser"
        ]
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cross_site_error_callback_does_not_cancel_a_sign_in_in_progress(pool: PgPool) {
    let (app, github) = spawn(pool.clone(), |_| {}).await;
    github.consent_as("octo");
    let victim = browser(&app);
    let back = approve(&start(&victim).await).await;
    // While the victim is at GitHub, another site links their browser (which sends its
    // Lax cookie on a top-level GET) to the callback with an error, with no state or a
    // guessed one.
    for forged in [
        "/auth/github/callback?error=access_denied",
        "/auth/github/callback?error=access_denied&state=guess",
        "/auth/github/callback?code=x&state=guess",
    ] {
        let response = victim.get(forged).await;
        assert_eq!(response.status(), 303, "{forged}");
        assert_eq!(location(&response), "/login?error=expired", "{forged}");
    }
    // The victim's own sign-in still completes.
    assert_eq!(callback(&victim, &back).await, "/");
    assert_eq!(me(&victim).await["person"]["name"], "Octo Cat");

    // An error from the provider with the right state ends the attempt, as it should.
    let cancelled = browser(&app);
    let authorize = start(&cancelled).await;
    let state = param(&authorize, "state");
    let refused = cancelled
        .get(&format!(
            "/auth/github/callback?error=access_denied&state={state}"
        ))
        .await;
    assert_eq!(location(&refused), "/login?error=failed");
    let back = approve(&authorize).await;
    assert_eq!(callback(&cancelled, &back).await, "/login?error=expired");
    assert_eq!(me(&cancelled).await, Value::Null);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_replayed_code_is_refused(pool: PgPool) {
    let (app, github) = spawn(pool.clone(), |_| {}).await;
    github.consent_as("octo");
    let victim = browser(&app);
    let back = approve(&start(&victim).await).await;
    assert_eq!(callback(&victim, &back).await, "/");

    // Someone replays the used code inside their own, fresh sign-in attempt.
    let attacker = browser(&app);
    let own = start(&attacker).await;
    let replay = with_param(&back, "state", &param(&own, "state"));
    assert_eq!(callback(&attacker, &replay).await, "/login?error=failed");
    assert_eq!(me(&attacker).await, Value::Null);
    let reason: String = sqlx::query_scalar(
        "SELECT details->>'reason' FROM audit_log WHERE action = 'sign_in_refused'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(reason.starts_with("provider refused the code"), "{reason}");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_code_exchanged_with_the_wrong_pkce_verifier_is_refused(pool: PgPool) {
    let (app, github) = spawn(pool.clone(), |_| {}).await;
    github.consent_as("octo");
    // Alice's code was issued for Alice's PKCE challenge…
    let alice = browser(&app);
    let alice_back = approve(&start(&alice).await).await;
    // …injected into Eve's sign-in, Warroom exchanges it with Eve's verifier.
    let eve = browser(&app);
    let eve_start = start(&eve).await;
    let injected = with_param(&alice_back, "state", &param(&eve_start, "state"));
    assert_eq!(callback(&eve, &injected).await, "/login?error=failed");
    assert_eq!(me(&eve).await, Value::Null);
    // The code itself was fine: with the right verifier (Alice's browser) it works.
    assert_eq!(callback(&alice, &alice_back).await, "/");
    assert_eq!(me(&alice).await["person"]["name"], "Octo Cat");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn people_outside_the_allow_list_are_told_so_and_get_no_account(pool: PgPool) {
    let (app, github) = spawn(pool.clone(), |_| {}).await;
    github.consent_as("mallory");
    let client = browser(&app);
    let back = approve(&start(&client).await).await;
    assert_eq!(callback(&client, &back).await, "/login?error=not_allowed");
    assert_eq!(me(&client).await, Value::Null);
    assert_eq!(count(&pool, "SELECT count(*) FROM users").await, 0);
    assert_eq!(count(&pool, "SELECT count(*) FROM identities").await, 0);
    let details: Value =
        sqlx::query_scalar("SELECT details FROM audit_log WHERE action = 'sign_in_refused'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(details["domain"], "evil.example");
    assert!(
        !details.to_string().contains("mallory@"),
        "no address of a refused person is kept"
    );
    // The page explains, and says nothing about whether an account exists.
    let page = client
        .get("/login?error=not_allowed")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("This account is not allowed to use this Warroom"));

    // An invitation lets them in, with the invited role.
    let invited_pool = pool.clone();
    sqlx::query(
        "INSERT INTO users (display_name, role, email) VALUES ('Ada', 'admin', 'ada@acme.example')",
    )
    .execute(&invited_pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO invitations (email, role, invited_by) SELECT 'mallory@evil.example', 'responder', id FROM users WHERE email = 'ada@acme.example'")
        .execute(&invited_pool)
        .await
        .unwrap();
    let back = approve(&start(&client).await).await;
    assert_eq!(callback(&client, &back).await, "/");
    assert_eq!(me(&client).await["role"], "Responder");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM invitations WHERE accepted_at IS NOT NULL"
        )
        .await,
        1,
        "the invitation is accepted, and kept"
    );
    app.stop().await;
}

/// Signs in with the fake GitHub as `login` in a new browser; returns the browser and
/// where Warroom sent it.
async fn sign_in_as(app: &TestApp, github: &FakeGitHub, login: &str) -> (Client, String) {
    github.consent_as(login);
    let client = browser(app);
    let back = approve(&start(&client).await).await;
    let next = callback(&client, &back).await;
    (client, next)
}

#[sqlx::test(migrations = "../migrations")]
async fn an_invited_person_signs_in_again_and_again(pool: PgPool) {
    let (app, github) = spawn(pool.clone(), |_| {}).await;
    let (boss, _) = sign_in_as(&app, &github, "boss").await;
    boss.ok(
        "invite_member",
        &[("email", "Mallory@evil.example"), ("role", "responder")],
    )
    .await;
    assert_eq!(
        boss.ok("list_invitations", &[]).await[0]["email"],
        "mallory@evil.example"
    );
    let (first, next) = sign_in_as(&app, &github, "mallory").await;
    assert_eq!(next, "/");
    assert_eq!(me(&first).await["role"], "Responder");
    // Accepted: no longer pending, but still the grant that lets Mallory in.
    assert_eq!(
        boss.ok("list_invitations", &[]).await,
        serde_json::json!([])
    );
    let (second, next) = sign_in_as(&app, &github, "mallory").await;
    assert_eq!(next, "/", "the second sign-in of an invited person");
    assert_eq!(me(&second).await["role"], "Responder");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM users WHERE email = 'mallory@evil.example'"
        )
        .await,
        1
    );
    // Withdrawing an accepted invitation is not how access ends (disabling is): it is no
    // longer pending.
    boss.fails(
        "withdraw_invitation",
        &[("email", "mallory@evil.example")],
        404,
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_disabled_person_cannot_sign_in_even_when_configured_as_admin(pool: PgPool) {
    let (app, github) = spawn(pool.clone(), |_| {}).await;
    let (boss, _) = sign_in_as(&app, &github, "boss").await;
    let (octo, _) = sign_in_as(&app, &github, "octo").await;
    let octo_id = me(&octo).await["person"]["id"].to_string();
    let boss_id = me(&boss).await["person"]["id"].to_string();
    boss.ok(
        "set_member_role",
        &[("user_id", &octo_id), ("role", "admin")],
    )
    .await;
    octo.ok("disable_member", &[("user_id", &boss_id)]).await;
    assert_eq!(me(&boss).await, Value::Null);
    // WARROOM_ADMINS lists Boss, but disabled wins.
    let (again, next) = sign_in_as(&app, &github, "boss").await;
    assert_eq!(next, "/login?error=disabled");
    assert_eq!(me(&again).await, Value::Null);
    let page = again
        .get("/login?error=disabled")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("This account is disabled"), "{page}");
    let reason: String = sqlx::query_scalar(
        "SELECT details->>'reason' FROM audit_log WHERE action = 'sign_in_refused'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(reason, "disabled");
    octo.ok("enable_member", &[("user_id", &boss_id)]).await;
    let (_, next) = sign_in_as(&app, &github, "boss").await;
    assert_eq!(next, "/");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unverified_address_or_a_github_outage_signs_nobody_in(pool: PgPool) {
    let (app, github) = spawn(pool.clone(), |_| {}).await;
    let client = browser(&app);
    github.consent_as("unverified");
    let back = approve(&start(&client).await).await;
    assert_eq!(callback(&client, &back).await, "/login?error=unverified");

    github.consent_as("octo");
    for status in [500, 429] {
        github.fail_api_with(Some(status));
        let back = approve(&start(&client).await).await;
        assert_eq!(
            callback(&client, &back).await,
            "/login?error=failed",
            "GitHub answering {status}"
        );
        assert_eq!(me(&client).await, Value::Null);
    }
    assert_eq!(count(&pool, "SELECT count(*) FROM users").await, 0);
    github.fail_api_with(None);
    let back = approve(&start(&client).await).await;
    assert_eq!(callback(&client, &back).await, "/");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_in_attempts_are_rate_limited_per_source(pool: PgPool) {
    let (app, _github) = spawn(pool.clone(), |config| {
        config.auth.sign_in_rate_per_minute = 3
    })
    .await;
    let client = browser(&app);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            client
                .get("/auth/github/callback?code=x&state=y")
                .await
                .status()
                .as_u16(),
        );
    }
    if statuses != [303, 303, 303, 429, 429] {
        // The minute may have turned during the loop.
        assert!(statuses.contains(&429), "{statuses:?}");
    }
    let response = client.get("/auth/github/start").await;
    if response.status() == 429 {
        assert!(response.headers().contains_key("retry-after"));
    }
    assert!(
        count(
            &pool,
            "SELECT count(*) FROM audit_log WHERE action = 'rate_limited'"
        )
        .await
            >= 1
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn organisations_beyond_the_first_page_admit_their_members(pool: PgPool) {
    let (app, github) = spawn(pool.clone(), |_| {}).await;
    // Acme is the 231st of 250 organisations: on GitHub's third page of 100.
    let mut orgs: Vec<String> = (1..=230).map(|n| format!("club-{n}")).collect();
    orgs.push("ACME".into());
    orgs.extend((232..=250).map(|n| format!("club-{n}")));
    github.add(Account {
        id: 104,
        login: "joiner".into(),
        name: Some("Joiner".into()),
        email: "joiner@elsewhere.example".into(),
        email_verified: true,
        orgs,
    });
    github.consent_as("joiner");
    let client = browser(&app);
    let back = approve(&start(&client).await).await;
    assert_eq!(callback(&client, &back).await, "/");
    assert_eq!(me(&client).await["person"]["name"], "Joiner");
    assert_eq!(github.org_pages_served(), 3);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn organisation_paging_stops_after_ten_pages(pool: PgPool) {
    let (app, github) = spawn(pool.clone(), |_| {}).await;
    // Acme only on the eleventh page: not read, so not admitted (it fails closed).
    let mut orgs: Vec<String> = (1..=1000).map(|n| format!("club-{n}")).collect();
    orgs.push("acme".into());
    github.add(Account {
        id: 105,
        login: "collector".into(),
        name: None,
        email: "collector@elsewhere.example".into(),
        email_verified: true,
        orgs,
    });
    github.consent_as("collector");
    let client = browser(&app);
    let back = approve(&start(&client).await).await;
    assert_eq!(callback(&client, &back).await, "/login?error=not_allowed");
    assert_eq!(github.org_pages_served(), 10);
    app.stop().await;
}

/// Two GitHubs (think github.com and a company's GitHub Enterprise) configured side by
/// side from a TOML file, as provider keys `github` and `ghe`; `trust` adds `trust_email`
/// lines to each. The same people have accounts on both, under other ids.
async fn spawn_two(
    pool: PgPool,
    trust: (Option<bool>, Option<bool>),
) -> (TestApp, FakeGitHub, FakeGitHub) {
    let github = FakeGitHub::start().await;
    let ghe = FakeGitHub::start().await;
    for (fake, offset) in [(&github, 0), (&ghe, 9000)] {
        fake.add(Account {
            id: offset + 101,
            login: "octo".into(),
            name: Some("Octo Cat".into()),
            email: "octo@acme.example".into(),
            email_verified: true,
            orgs: vec!["Acme".into()],
        });
        fake.add(Account {
            id: offset + 102,
            login: "boss".into(),
            name: None,
            email: "boss@acme.example".into(),
            email_verified: true,
            orgs: vec!["acme".into()],
        });
    }
    let line = |t: Option<bool>| {
        t.map(|t| format!("trust_email = {t}\n"))
            .unwrap_or_default()
    };
    let toml = format!(
        "[access]\nadmins = [\"boss@acme.example\"]\nallowed_github_orgs = [\"acme\"]\n\
         [[providers]]\nkind = \"github\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\n\
         github_url = \"{g}\"\ngithub_api_url = \"{g}\"\n{}\
         [[providers]]\nkind = \"github\"\nkey = \"ghe\"\nname = \"GitHub Enterprise\"\n\
         client_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\n\
         github_url = \"{e}\"\ngithub_api_url = \"{e}\"\n{}",
        line(trust.0),
        line(trust.1),
        g = github.base,
        e = ghe.base,
    );
    let path = std::env::temp_dir().join(format!(
        "warroom-two-githubs-{}-{}.toml",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::write(&path, toml).unwrap();
    let path_text = path.to_string_lossy().to_string();
    let mut config = Config::for_tests();
    config.auth =
        AuthConfig::load(&|name| (name == "WARROOM_CONFIG").then(|| path_text.clone())).unwrap();
    std::fs::remove_file(&path).unwrap();
    (TestApp::spawn_with(pool, config).await, github, ghe)
}

/// Signs in with the provider `key` (served by `fake`) as `login`, in `client`; returns
/// where Warroom sent the browser.
async fn sign_in_with(client: &Client, key: &str, fake: &FakeGitHub, login: &str) -> String {
    fake.consent_as(login);
    let response = client.get(&format!("/auth/{key}/start")).await;
    assert_eq!(response.status(), 303, "start {key}");
    let back = approve(&location(&response)).await;
    callback(client, &back).await
}

async fn identities_of(pool: &PgPool, email: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT i.provider, i.subject FROM identities i JOIN users u ON u.id = i.user_id
         WHERE u.email = $1 ORDER BY i.provider",
    )
    .bind(email)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_same_address_from_an_untrusted_provider_needs_proof_of_the_account(pool: PgPool) {
    // Two providers and no trust_email: neither may link by e-mail.
    let (app, github, ghe) = spawn_two(pool.clone(), (None, None)).await;
    let first = browser(&app);
    assert_eq!(sign_in_with(&first, "github", &github, "octo").await, "/");
    let octo = me(&first).await["person"]["id"].clone();

    let other = browser(&app);
    let next = sign_in_with(&other, "ghe", &ghe, "octo").await;
    assert_eq!(next, "/login?error=link_required&with=github&link=ghe");
    assert_eq!(me(&other).await, Value::Null);
    assert_eq!(
        identities_of(&pool, "octo@acme.example").await,
        [("github".to_string(), "101".to_string())],
        "the other provider's account was not attached"
    );
    let page = other.get(&next).await.text().await.unwrap();
    assert!(
        page.contains("sign in with GitHub, then link GitHub Enterprise from your account page"),
        "{page}"
    );
    let reason: String = sqlx::query_scalar(
        "SELECT details->>'reason' FROM audit_log WHERE action = 'sign_in_refused'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(reason, "link required");

    // Proof of control: signed in with GitHub, Octo links GitHub Enterprise.
    let methods = first.ok("my_sign_in_methods", &[]).await;
    assert_eq!(methods["linked"][0]["provider"], "github", "{methods}");
    assert_eq!(methods["linked"][0]["name"], "GitHub");
    assert_eq!(methods["linkable"][0]["key"], "ghe", "{methods}");
    ghe.consent_as("octo");
    let response = first.get("/auth/ghe/link").await;
    assert_eq!(response.status(), 303);
    let back = approve(&location(&response)).await;
    assert_eq!(callback(&first, &back).await, "/account?linked=ghe");
    assert_eq!(me(&first).await["person"]["id"], octo, "still signed in");
    assert_eq!(
        identities_of(&pool, "octo@acme.example").await,
        [
            ("ghe".to_string(), "9101".to_string()),
            ("github".to_string(), "101".to_string())
        ]
    );
    let methods = first.ok("my_sign_in_methods", &[]).await;
    assert_eq!(methods["linked"].as_array().unwrap().len(), 2, "{methods}");
    assert_eq!(methods["linkable"], serde_json::json!([]));
    let linked: Vec<(Option<i64>, String, Value)> = sqlx::query_as(
        "SELECT actor_user_id, target, details FROM audit_log WHERE action = 'identity_linked'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(linked.len(), 1);
    assert_eq!(Some(linked[0].0.unwrap()), octo.as_i64());
    assert_eq!(linked[0].1, "ghe");
    assert_eq!(linked[0].2["by"], "signed in");

    // From now on GitHub Enterprise signs Octo in, as the same person.
    let later = browser(&app);
    assert_eq!(sign_in_with(&later, "ghe", &ghe, "octo").await, "/");
    assert_eq!(me(&later).await["person"]["id"], octo);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn linking_needs_a_sign_in_and_an_account_nobody_else_has(pool: PgPool) {
    let (app, github, ghe) = spawn_two(pool.clone(), (None, None)).await;
    // Not signed in: sent to sign in, nothing started.
    let stranger = browser(&app);
    let response = stranger.get("/auth/ghe/link").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login");
    // Octo's GitHub Enterprise account is Octo's own Warroom account…
    let octo = browser(&app);
    assert_eq!(sign_in_with(&octo, "ghe", &ghe, "octo").await, "/");
    // …so Boss cannot attach it to theirs.
    let boss = browser(&app);
    assert_eq!(sign_in_with(&boss, "github", &github, "boss").await, "/");
    ghe.consent_as("octo");
    let response = boss.get("/auth/ghe/link").await;
    let back = approve(&location(&response)).await;
    assert_eq!(callback(&boss, &back).await, "/account?link_error=taken");
    assert_eq!(
        identities_of(&pool, "octo@acme.example").await,
        [("ghe".to_string(), "9101".to_string())]
    );
    let page = boss
        .get("/account?link_error=taken")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("already linked to another person"), "{page}");
    // A link started by one sign-in is not finished by another: signing out in between
    // ends it.
    let response = boss.get("/auth/ghe/link").await;
    let authorize = location(&response);
    boss.ok("sign_out", &[]).await;
    ghe.consent_as("boss");
    let back = approve(&authorize).await;
    assert_eq!(callback(&boss, &back).await, "/login?error=expired");
    assert_eq!(identities_of(&pool, "boss@acme.example").await.len(), 1);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn configured_admins_are_admins_only_through_a_trusted_provider(pool: PgPool) {
    // GitHub is trusted for addresses; GitHub Enterprise is not (its default next to
    // another provider).
    let (app, github, ghe) = spawn_two(pool.clone(), (Some(true), None)).await;
    let weak = browser(&app);
    assert_eq!(sign_in_with(&weak, "ghe", &ghe, "boss").await, "/");
    assert_eq!(
        me(&weak).await["role"],
        "Viewer",
        "WARROOM_ADMINS does not apply through an untrusted provider"
    );
    // The account came from a provider not trusted for addresses: even the trusted one
    // may not take it over by e-mail (the first could have claimed someone's address).
    let strong = browser(&app);
    assert_eq!(
        sign_in_with(&strong, "github", &github, "boss").await,
        "/login?error=link_required&with=ghe&link=github"
    );
    // Linked by proof, the trusted provider's sign-in makes Boss admin.
    github.consent_as("boss");
    let response = weak.get("/auth/github/link").await;
    let back = approve(&location(&response)).await;
    assert_eq!(callback(&weak, &back).await, "/account?linked=github");
    assert_eq!(me(&weak).await["role"], "Viewer");
    assert_eq!(sign_in_with(&strong, "github", &github, "boss").await, "/");
    assert_eq!(me(&strong).await["role"], "Admin");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_provider_trusted_for_addresses_links_by_e_mail(pool: PgPool) {
    let (app, github, ghe) = spawn_two(pool.clone(), (Some(true), Some(true))).await;
    let first = browser(&app);
    assert_eq!(sign_in_with(&first, "github", &github, "octo").await, "/");
    let second = browser(&app);
    assert_eq!(sign_in_with(&second, "ghe", &ghe, "octo").await, "/");
    assert_eq!(
        me(&second).await["person"]["id"],
        me(&first).await["person"]["id"]
    );
    let by: Vec<String> =
        sqlx::query_scalar("SELECT details->>'by' FROM audit_log WHERE action = 'identity_linked'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(by, ["e-mail"]);
    assert_eq!(identities_of(&pool, "octo@acme.example").await.len(), 2);
    app.stop().await;
}

/// A server that answers every request with `Content-Length: 536870912` and then zeros,
/// for as long as the client reads; returns its base URL and how many body bytes it wrote.
async fn endless_answers() -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let written = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = written.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 536870912\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                while socket.write_all(&chunk).await.is_ok() {
                    counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
            });
        }
    });
    (base, written)
}

#[sqlx::test(migrations = "../migrations")]
async fn an_identity_provider_answering_without_end_is_cut_off_not_read_whole(pool: PgPool) {
    // GitHub's token endpoint is the fake; its API answers half a gigabyte.
    let (api, written) = endless_answers().await;
    let (app, github) = spawn(pool.clone(), |config| {
        for provider in &mut config.auth.providers {
            if let warroom::config::auth::ProviderKind::GitHub { api_url, .. } = &mut provider.kind
            {
                *api_url = api.clone();
            }
        }
    })
    .await;
    github.consent_as("octo");
    let client = browser(&app);
    let back = approve(&start(&client).await).await;
    assert_eq!(callback(&client, &back).await, "/login?error=failed");
    let wrote = written.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        wrote < 8 * 1024 * 1024,
        "the provider wrote {wrote} bytes before Warroom hung up"
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM sign_ins").await, 0);
    app.stop().await;
}
