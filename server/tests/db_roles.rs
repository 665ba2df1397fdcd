//! The database roles Warroom migrates and serves with, and the embedded Postgres's own
//! files. Each test runs a Postgres cluster of its own in a temporary directory.

use std::os::unix::fs::PermissionsExt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use futures::FutureExt;
use warroom::db::embedded::EmbeddedPostgres;

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

/// The permission bits of `path`, in octal.
fn mode(path: &Path) -> String {
    format!(
        "{:o}",
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    )
}
