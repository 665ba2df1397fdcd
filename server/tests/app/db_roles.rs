//! The database roles Warroom migrates and serves with, and the embedded Postgres's own
//! files. Each test runs a Postgres cluster of its own in a temporary directory and, for
//! the roles, the real `warroom` binary over it; it then connects as the role Warroom
//! serves with (as Postgres reports it) and tries what SQL execution through the app would
//! try against the append-only tables.

use std::os::unix::fs::PermissionsExt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use sqlx::{Connection, PgConnection};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use warroom::db::embedded::EmbeddedPostgres;

use crate::support::{Client, TestApp};

/// What SQL execution through the serving role would use to rewrite history: each must
/// be refused for lack of privilege.
const TAMPERING: [&str; 5] = [
    "DROP TRIGGER audit_log_append_only ON audit_log",
    "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "SET session_replication_role = replica",
    "TRUNCATE audit_log",
    "DROP TABLE audit_log",
];

/// SQLSTATE of `insufficient_privilege` ("permission denied", "must be owner").
const INSUFFICIENT_PRIVILEGE: &str = "42501";

#[tokio::test]
async fn the_embedded_serving_role_cannot_drop_or_disable_the_append_only_triggers() {
    with_cluster("serve", |dir| async move {
        let warroom = Warroom::start(&dir, &[]).await;
        let alice = warroom.sign_in("Alice").await;
        let id = alice.declare("Checkout is down", "SEV1").await;
        alice.note(id, "note", "Rolled back the deploy.").await;

        let role = warroom.serving_role().await;
        assert_tampering_refused(&dir, &role).await;
        assert_schema_owned_by_one_ordinary_role(&dir, &role).await;
        // Normal work still goes through after the attempts.
        alice.note(id, "note", "Error rate back to normal.").await;
        assert_eq!(
            alice.room(id).await["incident"]["title"],
            "Checkout is down"
        );
        warroom.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_cluster_made_by_an_earlier_version_is_converted_in_place() {
    with_cluster("convert", |dir| async move {
        // An earlier Warroom: the bootstrap superuser created the database, migrated and
        // served.
        let pg = EmbeddedPostgres::start(&dir, None).await.unwrap();
        reset_to_earlier_version(&pg).await;
        let superuser_pool = warroom::db::connect(&pg.database_url(), 5).unwrap();
        let app = TestApp::spawn_with(superuser_pool.clone(), warroom::config::Config::for_tests())
            .await;
        let alice = app.signed_in("Alice").await;
        let id = alice.declare("Checkout is down", "SEV1").await;
        alice.note(id, "note", "Rolled back the deploy.").await;
        app.stop().await;
        let entries_before = timeline_entries(&superuser_pool, id).await;
        let owners: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT pg_get_userbyid(relowner)::text FROM pg_class WHERE relname IN ('audit_log', 'incidents')",
        )
        .fetch_all(&superuser_pool)
        .await
        .unwrap();
        assert_eq!(owners, ["warroom"], "the earlier layout: all the superuser's");
        superuser_pool.close().await;
        pg.stop().await.unwrap();

        // This version starts on it, twice (the conversion is idempotent).
        for start in ["first", "second"] {
            let warroom = Warroom::start(&dir, &[]).await;
            let alice = warroom.sign_in("Alice").await;
            assert_eq!(
                alice.room(id).await["incident"]["title"],
                "Checkout is down",
                "{start} start: the incident is still there"
            );
            let role = warroom.serving_role().await;
            assert_tampering_refused(&dir, &role).await;
            assert_schema_owned_by_one_ordinary_role(&dir, &role).await;
            let superuser = warroom::db::connect(&superuser_url(&dir), 1).unwrap();
            assert_eq!(
                timeline_entries(&superuser, id).await,
                entries_before,
                "{start} start: the timeline is kept"
            );
            superuser.close().await;
            // New rows: the sequences made by the superuser serve the new role too.
            let second = alice.declare("Search is slow", "SEV3").await;
            assert!(second > id);
            warroom.stop().await;
        }
    })
    .await;
}

#[tokio::test]
async fn the_embedded_postgres_log_is_readable_by_its_owner_only() {
    with_cluster("log", |dir| async move {
        let log = dir.join("postgres.log");
        let pg = EmbeddedPostgres::start(&dir, None).await.unwrap();
        assert_eq!(mode(&log), "600", "a new log");
        pg.stop().await.unwrap();
        // As an earlier version left it.
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
        let pg = EmbeddedPostgres::start(&dir, None).await.unwrap();
        assert_eq!(mode(&log), "600", "an existing log");
        pg.stop().await.unwrap();
    })
    .await;
}

/// The SQL an operator runs for an external Postgres, as README.md gives it.
fn documented_external_setup() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let section = readme
        .split_once("**External Postgres.**")
        .expect("README.md has an **External Postgres.** paragraph")
        .1;
    let section = section.split("\n**").next().unwrap_or(section);
    let blocks: Vec<String> = section
        .split("```sql\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        blocks.len(),
        2,
        "two SQL blocks: the roles and database, then the grants inside it"
    );
    blocks
}

/// Runs `script` a statement at a time, as psql does (`CREATE DATABASE` must run alone).
async fn run_script(conn: &mut PgConnection, script: &str) {
    for statement in script.split(";\n").filter(|s| !s.trim().is_empty()) {
        sqlx::raw_sql(statement)
            .execute(&mut *conn)
            .await
            .unwrap_or_else(|err| panic!("{statement}: {err}"));
    }
}

#[tokio::test]
async fn an_external_postgres_set_up_as_documented_migrates_as_owner_and_serves_restricted() {
    with_cluster("external", |dir| async move {
        let [roles_and_database, grants] = documented_external_setup().try_into().unwrap();
        let pg = EmbeddedPostgres::start(&dir, None).await.unwrap();
        reset_to_bootstrap_superuser_only(&pg).await;
        let mut admin = PgConnection::connect(&url(&dir, "warroom", "postgres"))
            .await
            .unwrap();
        run_script(&mut admin, &roles_and_database).await;
        admin.close().await.unwrap();
        let mut admin = PgConnection::connect(&superuser_url(&dir)).await.unwrap();
        run_script(&mut admin, &grants).await;
        admin.close().await.unwrap();

        let warroom = Warroom::start(
            &dir,
            &[
                ("DATABASE_URL", url(&dir, "warroom_app", "warroom")),
                (
                    "WARROOM_MIGRATION_DATABASE_URL",
                    url(&dir, "warroom_owner", "warroom"),
                ),
            ],
        )
        .await;
        let alice = warroom.sign_in("Alice").await;
        let id = alice.declare("Checkout is down", "SEV1").await;
        alice.note(id, "note", "Rolled back the deploy.").await;
        assert_eq!(warroom.serving_role().await, "warroom_app");
        assert_tampering_refused(&dir, "warroom_app").await;
        assert_schema_owned_by_one_ordinary_role(&dir, "warroom_app").await;
        let output = warroom.stop().await;
        assert!(
            !output.contains("database role"),
            "no warning about the roles: {output}"
        );
        pg.stop().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn serving_with_a_superuser_or_the_owner_is_warned_about_once_without_the_url() {
    with_cluster("warn", |dir| async move {
        let pg = EmbeddedPostgres::start(&dir, None).await.unwrap();
        let secret = "hunter2-do-not-log";
        // Trust authentication over the socket ignores the password: it only has to
        // stay out of the log.
        let superuser = format!(
            "postgres://warroom:{secret}@localhost/warroom?host={}",
            dir.join("run").display()
        );
        let warroom = Warroom::start(&dir, &[("DATABASE_URL", superuser)]).await;
        let output = warroom.stop().await;
        let warnings: Vec<&str> = output
            .lines()
            .filter(|line| line.contains("WARN") && line.contains("superuser"))
            .collect();
        assert_eq!(warnings.len(), 1, "one warning: {output}");
        assert!(!output.contains(secret), "the URL stays out: {output}");

        // A role that owns the tables may drop their triggers as well.
        let mut admin = PgConnection::connect(&superuser_url(&dir)).await.unwrap();
        for statement in [
            "CREATE ROLE table_owner LOGIN",
            "CREATE DATABASE owned OWNER table_owner",
        ] {
            sqlx::query(statement).execute(&mut admin).await.unwrap();
        }
        admin.close().await.unwrap();
        let warroom =
            Warroom::start(&dir, &[("DATABASE_URL", url(&dir, "table_owner", "owned"))]).await;
        let output = warroom.stop().await;
        let warnings: Vec<&str> = output
            .lines()
            .filter(|line| line.contains("WARN") && line.contains("audit_log"))
            .collect();
        assert_eq!(warnings.len(), 1, "one warning naming the tables: {output}");
        pg.stop().await.unwrap();
    })
    .await;
}

/// Runs `test` with a fresh directory for a cluster, then stops whatever cluster is left
/// running there (even when the test failed) and removes the directory.
async fn with_cluster<F, Fut>(name: &str, test: F)
where
    F: FnOnce(PathBuf) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // Short (the socket path has a length limit) and under /tmp, which the postgres user
    // can enter when the tests run as root.
    let dir = PathBuf::from(format!("/tmp/wr-roles-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let outcome = AssertUnwindSafe(test(dir.clone())).catch_unwind().await;
    if let Ok(pg) = EmbeddedPostgres::at(&dir, None) {
        let _ = pg.stop().await;
    }
    match outcome {
        Ok(()) => {
            let _ = std::fs::remove_dir_all(&dir);
        }
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// The `warroom` binary on the data directory `dir`, with its logs collected.
struct Warroom {
    child: Child,
    base: String,
    dir: PathBuf,
    output: Arc<Mutex<String>>,
}

impl Warroom {
    /// Starts Warroom as an operator would (no `DATABASE_URL`: its own Postgres; `env`
    /// adds to that) and waits until it serves.
    async fn start(dir: &Path, env: &[(&str, String)]) -> Warroom {
        let mut command = Command::new(env!("CARGO_BIN_EXE_warroom"));
        command
            .env_remove("DATABASE_URL")
            .env("WARROOM_ADDR", "127.0.0.1:0")
            .env("WARROOM_DATA_DIR", dir)
            .env("WARROOM_DEV_LOGIN", "1")
            .env("WARROOM_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("starting warroom");
        let output = Arc::new(Mutex::new(String::new()));
        let (addr_tx, mut addr_rx) = tokio::sync::mpsc::unbounded_channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        for stream in [
            Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(stderr),
        ] {
            let (output, addr_tx) = (output.clone(), addr_tx.clone());
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) {
                        if event["message"] == "Warroom is listening" {
                            let _ = addr_tx.send(event["addr"].as_str().unwrap_or("").to_string());
                        }
                    }
                    output.lock().unwrap().push_str(&format!("{line}\n"));
                }
            });
        }
        drop(addr_tx);
        let addr = tokio::time::timeout(Duration::from_secs(60), addr_rx.recv())
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| {
                panic!(
                    "warroom never listened: {}",
                    output.lock().unwrap().as_str()
                )
            });
        let warroom = Warroom {
            child,
            base: format!("http://{addr}"),
            dir: dir.to_path_buf(),
            output,
        };
        warroom.wait_ready().await;
        warroom
    }

    async fn wait_ready(&self) {
        let http = reqwest::Client::new();
        for _ in 0..600 {
            let ready = http.get(format!("{}/readyz", self.base)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "warroom never became ready: {}",
            self.output.lock().unwrap().as_str()
        );
    }

    /// A responder signed in through the development sign-in.
    async fn sign_in(&self, name: &str) -> Client {
        let client = Client::new(&self.base);
        let response = client
            .call("dev_sign_in", &[("name", name), ("role", "responder")])
            .await;
        let status = response.status();
        assert!(
            status.is_success() || status.is_redirection(),
            "sign-in: {status}"
        );
        client
    }

    /// The role of Warroom's connections to its database, as Postgres sees them: once it
    /// serves, it holds connections of one role only (the owner's, closed after
    /// migrating, may take a moment to leave).
    async fn serving_role(&self) -> String {
        let mut superuser = PgConnection::connect(&superuser_url(&self.dir))
            .await
            .unwrap();
        let mut roles = Vec::new();
        for _ in 0..100 {
            roles = sqlx::query_scalar(
                "SELECT DISTINCT usename::text FROM pg_stat_activity
                 WHERE datname = 'warroom' AND backend_type = 'client backend'
                   AND pid <> pg_backend_pid()",
            )
            .fetch_all(&mut superuser)
            .await
            .unwrap();
            if roles.len() == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        superuser.close().await.unwrap();
        assert_eq!(roles.len(), 1, "Warroom serves with one role: {roles:?}");
        roles.into_iter().next().unwrap()
    }

    /// Stops Warroom with SIGTERM, as a service manager does; returns its log.
    async fn stop(mut self) -> String {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("stopped within 30 s")
            .unwrap();
        // Let the readers take the last lines.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let output = self.output.lock().unwrap().clone();
        assert!(exit.success(), "warroom exited with {exit}: {output}");
        output
    }
}

fn url(dir: &Path, role: &str, database: &str) -> String {
    format!(
        "postgres://{role}@localhost/{database}?host={}",
        dir.join("run").display()
    )
}

/// The bootstrap superuser on the `warroom` database.
fn superuser_url(dir: &Path) -> String {
    url(dir, "warroom", "warroom")
}

/// The permission bits of `path`, in octal.
fn mode(path: &Path) -> String {
    format!(
        "{:o}",
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    )
}

/// Makes the cluster what an earlier Warroom left: only the bootstrap superuser, and a
/// `warroom` database that it owns and has not migrated yet.
async fn reset_to_earlier_version(pg: &EmbeddedPostgres) {
    reset_to_bootstrap_superuser_only(pg).await;
    let mut admin = PgConnection::connect(&pg.database_url().replace("/warroom?", "/postgres?"))
        .await
        .unwrap();
    sqlx::query("CREATE DATABASE warroom")
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
}

/// Makes the cluster as `initdb` left it: only the bootstrap superuser, no `warroom`
/// database.
async fn reset_to_bootstrap_superuser_only(pg: &EmbeddedPostgres) {
    let mut admin = PgConnection::connect(&pg.database_url().replace("/warroom?", "/postgres?"))
        .await
        .unwrap();
    sqlx::query("DROP DATABASE IF EXISTS warroom WITH (FORCE)")
        .execute(&mut admin)
        .await
        .unwrap();
    let roles: Vec<String> = sqlx::query_scalar(
        "SELECT rolname::text FROM pg_roles WHERE oid <> 10 AND rolname NOT LIKE 'pg\\_%'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    for role in roles {
        sqlx::raw_sql(&format!("DROP OWNED BY \"{role}\"; DROP ROLE \"{role}\""))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    admin.close().await.unwrap();
}

async fn timeline_entries(pool: &sqlx::PgPool, incident_id: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM timeline_entries WHERE incident_id = $1")
        .bind(incident_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Each statement of `TAMPERING`, as `role`, is refused for lack of privilege (each in a
/// transaction rolled back, so that one wrongly allowed does not hide the next).
async fn assert_tampering_refused(dir: &Path, role: &str) {
    let mut conn = PgConnection::connect(&url(dir, role, "warroom"))
        .await
        .unwrap();
    let mut allowed = Vec::new();
    for statement in TAMPERING {
        let mut tx = conn.begin().await.unwrap();
        match sqlx::query(statement).execute(&mut *tx).await {
            Ok(_) => allowed.push(statement.to_string()),
            Err(sqlx::Error::Database(err))
                if err.code().as_deref() == Some(INSUFFICIENT_PRIVILEGE) => {}
            Err(err) => allowed.push(format!("{statement} (refused otherwise: {err})")),
        }
        tx.rollback().await.unwrap();
    }
    conn.close().await.unwrap();
    assert!(
        allowed.is_empty(),
        "the serving role {role} was not refused for lack of privilege: {allowed:#?}"
    );
}

/// Every table, sequence, view, type, function and schema of Warroom (its own and the job
/// queue's) belongs to one role that is not a superuser and is not the serving role.
async fn assert_schema_owned_by_one_ordinary_role(dir: &Path, serving_role: &str) {
    let mut superuser = PgConnection::connect(&superuser_url(dir)).await.unwrap();
    let owners: Vec<(String, bool)> = sqlx::query_as(
        "WITH objects (owner) AS (
             SELECT relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname IN ('public', 'underway', 'tower_sessions')
             UNION SELECT proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname IN ('public', 'underway', 'tower_sessions')
             UNION SELECT typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname IN ('public', 'underway', 'tower_sessions')
             UNION SELECT nspowner FROM pg_namespace WHERE nspname IN ('underway', 'tower_sessions'))
         SELECT DISTINCT r.rolname::text, r.rolsuper FROM objects JOIN pg_roles r ON r.oid = objects.owner",
    )
    .fetch_all(&mut superuser)
    .await
    .unwrap();
    superuser.close().await.unwrap();
    assert_eq!(owners.len(), 1, "one owner: {owners:?}");
    let (owner, superuser) = &owners[0];
    assert!(!superuser, "the owner {owner} is a superuser");
    assert_ne!(owner, serving_role, "the serving role owns the schema");
}
