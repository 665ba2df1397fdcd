//! The token API against its own OpenAPI document: schemathesis generates requests from
//! `GET /api/v1/openapi.json` (valid ones and invalid ones) and sends them to a running
//! Warroom with a real token holding every scope; no answer may be a server error, and
//! every answer must be documented and match its schema. Ignored by a plain `cargo test`
//! (it needs schemathesis, a Python program): `make test` installs it and runs this with
//! `WARROOM_SCHEMATHESIS` naming the program.

use serde_json::Value;
use sqlx::PgPool;
use warroom::config::Config;

use crate::support::TestApp;

/// Test cases schemathesis generates per operation and phase: a full run stays within a
/// couple of minutes on two cores.
const MAX_EXAMPLES: &str = "150";

#[sqlx::test(migrations = "../migrations")]
#[ignore = "needs schemathesis: `make test` installs it and runs this test"]
async fn the_token_api_keeps_the_contract_of_its_openapi_document(pool: PgPool) {
    let schemathesis = std::env::var("WARROOM_SCHEMATHESIS")
        .expect("WARROOM_SCHEMATHESIS names the schemathesis program (make test sets it)");
    let mut config = Config::for_tests();
    // Thousands of requests from one address within a minute: the limit is tested elsewhere.
    config.auth.api_rate_per_minute = 1_000_000;
    let app = TestApp::spawn_with(pool.clone(), config).await;
    let admin = app.signed_in_as("Ada", "admin").await;
    let token = admin
        .ok(
            "create_token",
            &[
                ("name", "schemathesis"),
                ("scopes[0]", "incidents:read"),
                ("scopes[1]", "incidents:write"),
                ("expires_in_days", "1"),
            ],
        )
        .await["secret"]
        .as_str()
        .expect("a secret")
        .to_string();
    // Incidents whose timelines hold several kinds of entries, so that answers carry them.
    let responder = app.signed_in("Rita").await;
    for n in 1..=3 {
        let id = responder.declare(&format!("Seeded {n}"), "SEV2").await;
        responder.note(id, "note", "a *note*").await;
        responder.note(id, "decision", "roll back").await;
        responder
            .ok(
                "set_status",
                &[("incident_id", &id.to_string()), ("status", "identified")],
            )
            .await;
    }

    // Its reports and caches (.hypothesis, .schemathesis) go to a directory of its own.
    let report_dir =
        std::env::temp_dir().join(format!("warroom-schemathesis-{}", std::process::id()));
    std::fs::create_dir_all(&report_dir).expect("a report directory");
    let output = tokio::process::Command::new(&schemathesis)
        .arg("run")
        .arg(format!("{}/api/v1/openapi.json", app.base))
        .args(["--url", &app.base])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
        ])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", "1", "--workers", "2"])
        .args(["--report", "har", "--report-dir"])
        .arg(&report_dir)
        .current_dir(&report_dir)
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap_or_else(|err| panic!("running {schemathesis}: {err}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let requests = requests_made(&report_dir);
    let _ = std::fs::remove_dir_all(&report_dir);
    assert!(
        output.status.success(),
        "schemathesis found problems ({requests} requests):\n{stdout}\n{stderr}"
    );
    // A run that sent (almost) nothing proves nothing.
    assert!(requests > 1000, "only {requests} requests:\n{stdout}");
    eprintln!("schemathesis: {requests} requests, every answer as documented");
    app.stop().await;
}

/// How many requests the run sent, from its HAR report.
fn requests_made(report_dir: &std::path::Path) -> usize {
    std::fs::read_dir(report_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path()).ok())
        .filter_map(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .map(|har| har["log"]["entries"].as_array().map_or(0, Vec::len))
        .sum()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_document_is_served_without_a_token_and_errors_answer_json(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let http = reqwest::Client::new();
    let response = http
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let served: Value = response.json().await.unwrap();
    let built =
        serde_json::to_value(<warroom::http::api::openapi::ApiDoc as utoipa::OpenApi>::openapi())
            .unwrap();
    assert_eq!(served, built);
    assert_eq!(served["openapi"], "3.1.0");

    // A path or query that cannot be read answers the same JSON shape as every error.
    for path in ["/api/v1/incidents/abc", "/api/v1/incidents?page=x"] {
        let response = http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .starts_with("The request was malformed"),
            "{body}"
        );
    }

    // Text Postgres cannot store is refused, naming the field, and declares nothing.
    let admin = app.signed_in_as("Ada", "admin").await;
    let token = admin
        .ok(
            "create_token",
            &[
                ("name", "writer"),
                ("scopes[0]", "incidents:write"),
                ("expires_in_days", "1"),
            ],
        )
        .await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let response = http
        .post(format!("{}/api/v1/incidents", app.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({"title": "NUL", "summary": "a\u{0}b", "severity": "SEV3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "The summary contains a NUL character.");
    let incidents: i64 = sqlx::query_scalar("SELECT count(*) FROM incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(incidents, 0);
    app.stop().await;
}
