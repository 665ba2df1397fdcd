//! The built `warroom` binary's command line: help, version, check-config, and a token
//! made from the command line working on the token API of a running Warroom.

use std::process::Output;

use sqlx::PgPool;

use crate::support::TestApp;

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

/// Runs the binary with only `vars` (and PATH) in its environment.
async fn warroom(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(BIN);
    command.args(args).env_clear().kill_on_drop(true);
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().await.expect("running the warroom binary")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A file in a directory of this test's own.
fn file(test: &str, name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("warroom-cli-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test]
async fn help_names_every_command_and_version_prints_the_version() {
    let help = warroom(&["--help"], &[]).await;
    assert!(help.status.success(), "{}", stderr(&help));
    let text = stdout(&help);
    for command in ["serve", "db", "migrate", "token", "check-config"] {
        assert!(text.contains(command), "--help lacks {command}: {text}");
    }
    let token_help = warroom(&["token", "create", "--help"], &[]).await;
    let text = stdout(&token_help);
    for flag in ["--name", "--scope", "--expires-in-days"] {
        assert!(
            text.contains(flag),
            "token create --help lacks {flag}: {text}"
        );
    }

    let version = warroom(&["--version"], &[]).await;
    assert!(version.status.success());
    assert_eq!(
        stdout(&version).trim(),
        format!("warroom {}", env!("CARGO_PKG_VERSION"))
    );

    let unknown = warroom(&["frobnicate"], &[]).await;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("frobnicate"),
        "{}",
        stderr(&unknown)
    );
}

#[tokio::test]
async fn check_config_prints_the_effective_settings_with_secrets_redacted() {
    let config = file(
        "good",
        "warroom.toml",
        r#"
[server]
addr = "127.0.0.1:4100"
public_url = "https://warroom.example.com/"
[database]
pool = 7
[metrics]
addr = "127.0.0.1:9464"
[[providers]]
kind = "github"
client_id = "gh-client"
client_secret = "gh-file-secret-value"
"#,
    );
    let output = warroom(
        &["check-config"],
        &[
            ("WARROOM_CONFIG", &config),
            (
                "DATABASE_URL",
                "postgres://warroom:db-password-value@db.example.com/warroom",
            ),
            // The environment wins over the file.
            ("WARROOM_DB_POOL", "9"),
        ],
    )
    .await;
    let text = stdout(&output);
    assert!(output.status.success(), "{}{text}", stderr(&output));
    for line in [
        "WARROOM_ADDR = 127.0.0.1:4100  (file)",
        "WARROOM_PUBLIC_URL = https://warroom.example.com/  (file)",
        "WARROOM_DB_POOL = 9  (environment)",
        "WARROOM_METRICS_ADDR = 127.0.0.1:9464  (file)",
        "DATABASE_URL = [redacted]  (environment)",
        "WARROOM_SESSION_IDLE_MINUTES = 1440  (default)",
        "identity provider github = GitHub (client id gh-client, client secret [redacted]",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    for secret in ["db-password-value", "gh-file-secret-value"] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
        assert!(!stderr(&output).contains(secret));
    }
}

#[tokio::test]
async fn check_config_refuses_bad_settings_with_a_clear_message() {
    let bad_number = warroom(&["check-config"], &[("WARROOM_DB_POOL", "many")]).await;
    assert!(!bad_number.status.success());
    assert!(
        stderr(&bad_number).contains("WARROOM_DB_POOL must be a number of connections"),
        "{}",
        stderr(&bad_number)
    );
    assert!(stdout(&bad_number).is_empty());

    let bad_flag = warroom(&["check-config"], &[("WARROOM_TRUST_PROXY", "maybe")]).await;
    assert!(!bad_flag.status.success());
    assert!(
        stderr(&bad_flag).contains("WARROOM_TRUST_PROXY must be true or false"),
        "{}",
        stderr(&bad_flag)
    );

    let typo = file("bad", "warroom.toml", "[server]\nadr = \"127.0.0.1:1\"\n");
    let unknown = warroom(&["check-config"], &[("WARROOM_CONFIG", &typo)]).await;
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("unknown setting `server.adr`"),
        "{}",
        stderr(&unknown)
    );

    let password = warroom(
        &["check-config"],
        &[("DATABASE_URL", "postgres://u:pw-not-shown@db:port/warroom")],
    )
    .await;
    assert!(!password.status.success());
    assert!(stderr(&password).contains("DATABASE_URL is not a valid Postgres URL"));
    assert!(!stderr(&password).contains("pw-not-shown"));
}

/// The URL of the test's own database (the suite's `DATABASE_URL` names the server).
fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL for the test suite");
    let mut url = url::Url::parse(&base).expect("DATABASE_URL is a URL");
    let database = pool
        .connect_options()
        .get_database()
        .expect("the test database's name")
        .to_string();
    url.set_path(&format!("/{database}"));
    url.to_string()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_token_made_on_the_command_line_reads_the_api_and_is_audited(pool: PgPool) {
    let url = database_url(&pool);
    let made = warroom(
        &[
            "token",
            "create",
            "--name",
            "deploy bot",
            "--scope",
            "incidents:read",
            "--expires-in-days",
            "30",
        ],
        &[("DATABASE_URL", &url)],
    )
    .await;
    assert!(made.status.success(), "{}", stderr(&made));
    let secret = stdout(&made).trim().to_string();
    assert!(secret.starts_with("wr_"), "{secret}");
    assert_eq!(
        stdout(&made).lines().count(),
        1,
        "only the secret on stdout"
    );
    assert!(
        stderr(&made).contains("\"deploy bot\" created"),
        "{}",
        stderr(&made)
    );

    let app = TestApp::spawn(pool.clone()).await;
    let http = reqwest::Client::new();
    let listed = http
        .get(format!("{}/api/v1/incidents", app.base))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200, "{}", listed.text().await.unwrap());
    let (target, details, actor): (String, serde_json::Value, Option<i64>) = sqlx::query_as(
        "SELECT target, details, actor_user_id FROM audit_log WHERE action = 'token_created'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(details["via"], "command line");
    assert_eq!(details["name"], "deploy bot");
    assert_eq!(details["scopes"], serde_json::json!(["incidents:read"]));
    assert!(details["expires_at"].is_string());
    assert_eq!(actor, None, "nobody was signed in");
    let (id, expires_in_days): (i64, f64) = sqlx::query_as(
        "SELECT id, EXTRACT(EPOCH FROM expires_at - created_at)::float8 / 86400 FROM api_tokens",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(target, format!("token {id}"));
    let used: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'token_used' AND actor_token_id = $1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(used >= 1, "its first use is audited");
    assert!((expires_in_days - 30.0).abs() < 0.01, "{expires_in_days}");
    app.stop().await;

    // Bad input changes nothing.
    let refused = warroom(
        &[
            "token",
            "create",
            "--name",
            "x",
            "--scope",
            "incidents:delete",
        ],
        &[("DATABASE_URL", &url)],
    )
    .await;
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--scope"), "{}", stderr(&refused));
    assert!(stdout(&refused).is_empty());
    let tokens: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tokens, 1);
}

#[tokio::test]
async fn commands_leave_the_embedded_postgres_as_they_found_it() {
    let dir = std::env::temp_dir().join(format!("warroom-cli-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data_dir = dir.to_string_lossy().into_owned();
    let socket = dir.join("run/.s.PGSQL.5432");
    let vars = [("WARROOM_DATA_DIR", data_dir.as_str())];

    // Not running: started for the command, stopped after it.
    let migrated = warroom(&["migrate"], &vars).await;
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    assert!(!socket.exists(), "the command stopped what it started");

    // Running: left running.
    let started = warroom(&["db", "start"], &vars).await;
    assert!(started.status.success(), "{}", stderr(&started));
    assert!(stdout(&started).starts_with("postgres://"));
    assert!(socket.exists());
    let migrated = warroom(&["migrate"], &vars).await;
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    assert!(socket.exists(), "a running cluster stays running");

    let stopped = warroom(&["db", "stop", "--data-dir", &data_dir], &[]).await;
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    assert!(!socket.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
