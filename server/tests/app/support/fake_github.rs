//! A local GitHub for sign-in tests: the OAuth endpoints (authorize, token exchange with
//! PKCE S256 and single-use codes, client credentials) and the REST API Warroom reads
//! (`/user`, `/user/emails`, `/user/orgs`), answering errors the way GitHub does and
//! paging lists the way GitHub does (`per_page`, 30 by default and at most 100, `page`,
//! and a `Link` header naming the next and last pages).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "warroom-test-client";
pub const CLIENT_SECRET: &str = "warroom-test-secret";

/// A GitHub account.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
    pub email: String,
    pub email_verified: bool,
    pub orgs: Vec<String>,
}

struct Grant {
    login: String,
    challenge: String,
    redirect_uri: String,
    used: bool,
}

#[derive(Default)]
struct Inner {
    accounts: HashMap<String, Account>,
    /// Who is "signed in to GitHub" and consents at the authorize page.
    consenting: Option<String>,
    grants: HashMap<String, Grant>,
    tokens: HashMap<String, String>,
    /// Answer the REST API with this status instead (500, 429…).
    api_failure: Option<u16>,
    counter: u64,
    /// Where this fake is reached (the `Link` header holds absolute URLs).
    base: String,
    /// How many `/user/orgs` pages were asked for.
    org_pages_served: usize,
}

#[derive(Clone)]
pub struct FakeGitHub {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeGitHub {
    pub async fn start() -> FakeGitHub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            base: base.clone(),
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/login/oauth/authorize", get(authorize))
            .route("/login/oauth/access_token", post(access_token))
            .route("/user", get(user))
            .route("/user/emails", get(emails))
            .route("/user/orgs", get(orgs))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeGitHub { base, inner }
    }

    pub fn add(&self, account: Account) {
        let mut inner = self.inner.lock().unwrap();
        inner.accounts.insert(account.login.clone(), account);
    }

    /// The account that approves the next authorize request.
    pub fn consent_as(&self, login: &str) {
        self.inner.lock().unwrap().consenting = Some(login.to_string());
    }

    pub fn fail_api_with(&self, status: Option<u16>) {
        self.inner.lock().unwrap().api_failure = status;
    }

    /// How many pages of `/user/orgs` were read so far.
    pub fn org_pages_served(&self) -> usize {
        self.inner.lock().unwrap().org_pages_served
    }
}

/// GitHub redirects back with 302 Found.
fn found(url: String) -> Response {
    (StatusCode::FOUND, [(axum::http::header::LOCATION, url)]).into_response()
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    state: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

async fn authorize(
    State(inner): State<Arc<Mutex<Inner>>>,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    if q.client_id != CLIENT_ID {
        return (StatusCode::NOT_FOUND, "unknown application").into_response();
    }
    let (Some(challenge), Some("S256")) = (q.code_challenge, q.code_challenge_method.as_deref())
    else {
        return found(format!(
            "{}?error=invalid_request&state={}",
            q.redirect_uri, q.state
        ))
        .into_response();
    };
    let mut inner = inner.lock().unwrap();
    let Some(login) = inner.consenting.clone() else {
        return (StatusCode::UNAUTHORIZED, "nobody signed in to GitHub").into_response();
    };
    inner.counter += 1;
    let code = format!("code{}", inner.counter);
    inner.grants.insert(
        code.clone(),
        Grant {
            login,
            challenge,
            redirect_uri: q.redirect_uri.clone(),
            used: false,
        },
    );
    found(format!("{}?code={code}&state={}", q.redirect_uri, q.state)).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    client_id: String,
    client_secret: String,
    code: String,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

/// Like GitHub: errors are 200 answers with an `error` field.
async fn access_token(
    State(inner): State<Arc<Mutex<Inner>>>,
    Form(f): Form<TokenForm>,
) -> Response {
    let error =
        |code: &str| Json(json!({ "error": code, "error_description": code })).into_response();
    if f.client_id != CLIENT_ID || f.client_secret != CLIENT_SECRET {
        return error("incorrect_client_credentials");
    }
    let mut inner = inner.lock().unwrap();
    let Some(grant) = inner.grants.get_mut(&f.code) else {
        return error("bad_verification_code");
    };
    if grant.used {
        return error("bad_verification_code");
    }
    if f.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return error("redirect_uri_mismatch");
    }
    let verifier = f.code_verifier.unwrap_or_default();
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    if computed != grant.challenge {
        return error("bad_verification_code");
    }
    grant.used = true;
    let login = grant.login.clone();
    inner.counter += 1;
    let token = format!("gho_{}", inner.counter);
    inner.tokens.insert(token.clone(), login);
    Json(json!({ "access_token": token, "token_type": "bearer", "scope": "read:user,user:email,read:org" })).into_response()
}

fn account(
    inner: &Arc<Mutex<Inner>>,
    headers: &HeaderMap,
) -> Result<Account, (StatusCode, Json<serde_json::Value>)> {
    let inner = inner.lock().unwrap();
    if let Some(status) = inner.api_failure {
        let status = StatusCode::from_u16(status).unwrap();
        return Err((
            status,
            Json(json!({ "message": "GitHub is having a bad day" })),
        ));
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    inner
        .tokens
        .get(token)
        .and_then(|login| inner.accounts.get(login))
        .cloned()
        .ok_or_else(|| {
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({ "message": "Bad credentials" })),
            )
        })
}

async fn user(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap) -> Response {
    match account(&inner, &headers) {
        Ok(a) => Json(json!({ "id": a.id, "login": a.login, "name": a.name })).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn emails(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap) -> Response {
    match account(&inner, &headers) {
        Ok(a) => Json(json!([
            { "email": format!("{}@users.noreply.example", a.login), "primary": false, "verified": true },
            { "email": a.email, "primary": true, "verified": a.email_verified },
        ]))
        .into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

#[derive(Deserialize)]
struct PageQuery {
    per_page: Option<usize>,
    page: Option<usize>,
}

async fn orgs(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let a = match account(&inner, &headers) {
        Ok(a) => a,
        Err(refusal) => return refusal.into_response(),
    };
    let per_page = q.per_page.unwrap_or(30).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    let last = a.orgs.len().div_ceil(per_page).max(1);
    let mut inner = inner.lock().unwrap();
    inner.org_pages_served += 1;
    let items: Vec<_> = a
        .orgs
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|o| json!({ "login": o }))
        .collect();
    let link = |n: usize, rel: &str| {
        format!(
            "<{}/user/orgs?per_page={per_page}&page={n}>; rel=\"{rel}\"",
            inner.base
        )
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(link(page - 1, "prev"));
        links.push(link(1, "first"));
    }
    if page < last {
        links.push(link(page + 1, "next"));
        links.push(link(last, "last"));
    }
    let mut response = Json(items).into_response();
    if !links.is_empty() {
        response
            .headers_mut()
            .insert("link", links.join(", ").parse().unwrap());
    }
    response
}
