//! Warroom's own private Postgres, for when no `DATABASE_URL` is given: a cluster under
//! the data directory, listening on a Unix socket only, started and stopped with Warroom
//! and reused on the next start. Postgres refuses to run as root, so as root its
//! programs run as the `postgres` user. Its bootstrap superuser only sets up: Warroom
//! migrates as the schema's owner and serves as a role that owns nothing (`roles`).

use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sqlx::{Connection, PgConnection};
use tokio::process::Command;

use super::roles;

/// A running embedded cluster.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    data_dir: PathBuf,
    cluster: PathBuf,
    socket_dir: PathBuf,
    bin_dir: PathBuf,
    as_postgres_user: bool,
    /// This process started the cluster (rather than finding it running).
    started_here: bool,
}

impl EmbeddedPostgres {
    /// The cluster under `data_dir` (nothing is started or created yet).
    pub fn at(data_dir: &Path, bin_dir: Option<&Path>) -> anyhow::Result<Self> {
        let data_dir = std::path::absolute(data_dir).context("resolving the data directory")?;
        let pg = EmbeddedPostgres {
            data_dir: data_dir.clone(),
            cluster: data_dir.join("postgres"),
            socket_dir: data_dir.join("run"),
            bin_dir: match bin_dir {
                Some(dir) => dir.to_path_buf(),
                None => find_bin_dir()?,
            },
            as_postgres_user: std::fs::metadata("/proc/self")
                .map(|m| m.uid() == 0)
                .unwrap_or(false),
            started_here: false,
        };
        let socket_file = pg.socket_dir.join(".s.PGSQL.5432");
        if socket_file.as_os_str().len() > 100 {
            bail!(
                "the data directory path is too long for a Unix socket ({}): set WARROOM_DATA_DIR to a shorter path",
                socket_file.display()
            );
        }
        Ok(pg)
    }

    /// Initialises the cluster on first use, then starts it (or adopts one left running).
    pub async fn start(data_dir: &Path, bin_dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut pg = Self::at(data_dir, bin_dir)?;
        for dir in [&pg.data_dir, &pg.cluster, &pg.socket_dir] {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        pg.make_log_private()?;
        if pg.as_postgres_user {
            pg.hand_to_postgres_user().await?;
        }
        if !pg.cluster.join("PG_VERSION").exists() {
            pg.init().await?;
        }
        if pg.is_running().await {
            tracing::info!(cluster = %pg.cluster.display(), "reusing the running embedded Postgres");
        } else {
            pg.run_ok(&pg.pg_ctl_start_args())
                .await
                .context("starting the embedded Postgres")?;
            pg.started_here = true;
            tracing::info!(cluster = %pg.cluster.display(), "embedded Postgres started");
        }
        pg.set_up_roles().await?;
        Ok(pg)
    }

    /// Whether `start` started the cluster (else it was already running): a command that
    /// needs the database for a moment stops it again only then.
    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// The `warroom` database as the bootstrap superuser `warroom`, over the Unix socket:
    /// for setting up, and for the test suite (`#[sqlx::test]` creates a database per
    /// test). Warroom itself migrates with `owner_url` and serves with `serving_url`.
    pub fn database_url(&self) -> String {
        self.url("warroom", "warroom")
    }

    /// The `warroom` database as the role that owns the schema (migrations only).
    pub fn owner_url(&self) -> String {
        self.url(roles::OWNER_ROLE, "warroom")
    }

    /// The `warroom` database as the role Warroom serves with: rows, not the schema.
    pub fn serving_url(&self) -> String {
        self.url(roles::SERVING_ROLE, "warroom")
    }

    /// Over the socket, which only its owner (and root) may enter: trust authentication.
    fn url(&self, role: &str, database: &str) -> String {
        format!(
            "postgres://{role}@localhost/{database}?host={}",
            self.socket_dir.display()
        )
    }

    /// Stops the cluster cleanly (fast shutdown: sessions end, data is flushed), if it runs.
    pub async fn stop(&self) -> anyhow::Result<()> {
        if !self.is_running().await {
            return Ok(());
        }
        let pg_ctl = self.bin("pg_ctl");
        let cluster = self.cluster.display().to_string();
        self.run_ok(&[pg_ctl.as_str(), "stop", "-D", &cluster, "-m", "fast", "-w"])
            .await?;
        tracing::info!("embedded Postgres stopped");
        Ok(())
    }

    fn bin(&self, name: &str) -> String {
        self.bin_dir.join(name).display().to_string()
    }

    async fn init(&self) -> anyhow::Result<()> {
        let initdb = self.bin("initdb");
        let cluster = self.cluster.display().to_string();
        tracing::info!(cluster = %cluster, "creating the embedded Postgres cluster");
        // Trust over the socket is safe: the socket directory is private (0700).
        self.run_ok(&[
            initdb.as_str(),
            "-D",
            &cluster,
            "-U",
            "warroom",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-instructions",
        ])
        .await
        .context("initdb failed")
    }

    fn pg_ctl_start_args(&self) -> Vec<String> {
        vec![
            self.bin("pg_ctl"),
            "start".into(),
            "-w".into(),
            "-t".into(),
            "60".into(),
            "-D".into(),
            self.cluster.display().to_string(),
            "-l".into(),
            self.log_file().display().to_string(),
            "-o".into(),
            format!(
                "-k {} -c listen_addresses='' -c unix_socket_permissions=0700 -c max_connections=200",
                self.socket_dir.display()
            ),
        ]
    }

    async fn is_running(&self) -> bool {
        let pg_ctl = self.bin("pg_ctl");
        let cluster = self.cluster.display().to_string();
        self.command(&[pg_ctl.as_str(), "status", "-D", &cluster])
            .output()
            .await
            .map(|out| out.status.success())
            .unwrap_or(false)
    }

    /// As the bootstrap superuser, which does nothing else: the owner and serving roles,
    /// the `warroom` database owned by the owner, the schema handed to the owner (it
    /// belonged to the superuser in earlier versions) and the serving role's grants.
    async fn set_up_roles(&self) -> anyhow::Result<()> {
        let mut maintenance = PgConnection::connect(&self.url("warroom", "postgres"))
            .await
            .context("connecting to the embedded Postgres as its superuser")?;
        roles::create_embedded_roles(&mut maintenance).await?;
        roles::create_embedded_database(&mut maintenance).await?;
        maintenance.close().await?;
        let mut warroom = PgConnection::connect(&self.database_url())
            .await
            .context("connecting to the warroom database as the superuser")?;
        roles::hand_schema_to_owner(&mut warroom).await?;
        warroom.close().await?;
        Ok(())
    }

    fn log_file(&self) -> PathBuf {
        self.data_dir.join("postgres.log")
    }

    /// Creates the server log readable by its owner only, or makes an existing one so
    /// (earlier versions left it world-readable): it records failing statements.
    fn make_log_private(&self) -> anyhow::Result<()> {
        let log = self.log_file();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&log)
            .with_context(|| format!("creating {}", log.display()))?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("making {} private", log.display()))
    }

    /// Gives the cluster and socket directories to `postgres`, and checks that it can
    /// reach them (as root, a data directory under /root is out of its reach).
    async fn hand_to_postgres_user(&self) -> anyhow::Result<()> {
        let mut mode = std::fs::metadata(&self.data_dir)?.permissions();
        mode.set_mode(mode.mode() | 0o711);
        std::fs::set_permissions(&self.data_dir, mode)?;
        for ancestor in self.data_dir.ancestors().skip(1) {
            let mode = std::fs::metadata(ancestor)?.permissions().mode();
            if mode & 0o001 == 0 {
                bail!(
                    "the postgres user cannot enter {} (mode {:o}), so it cannot reach {}: \
                     set WARROOM_DATA_DIR to a directory outside it (e.g. /var/lib/warroom) or use DATABASE_URL",
                    ancestor.display(),
                    mode & 0o777,
                    self.data_dir.display()
                );
            }
        }
        let log = self.log_file();
        for path in [&self.cluster, &self.socket_dir, &log] {
            let status = Command::new("chown")
                .arg("-R")
                .arg("postgres:")
                .arg(path)
                .status()
                .await?;
            if !status.success() {
                bail!("could not give {} to the postgres user (is there one? apt-get install postgresql)", path.display());
            }
        }
        for dir in [&self.cluster, &self.socket_dir] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).args(args);
            c
        } else {
            let mut c = Command::new(args[0]);
            c.args(&args[1..]);
            c
        };
        // Run from a directory the postgres user can read, whatever ours is.
        command.current_dir("/").kill_on_drop(true);
        command
    }

    async fn run_ok<S: AsRef<str>>(&self, args: &[S]) -> anyhow::Result<()> {
        let args: Vec<&str> = args.iter().map(|a| a.as_ref()).collect();
        let out = self
            .command(&args)
            .output()
            .await
            .with_context(|| format!("running {}", args[0]))?;
        if !out.status.success() {
            bail!(
                "{} failed ({}): {}{}",
                args[0],
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

/// Finds the directory holding `initdb` and `pg_ctl`: on PATH, else Debian's newest
/// `/usr/lib/postgresql/<version>/bin`.
fn find_bin_dir() -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.filter_map(|d| d.ok())
                .map(|d| d.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    debian.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    debian.reverse();
    on_path
        .into_iter()
        .chain(debian)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        .context("no Postgres server programs found (initdb, pg_ctl): install them (apt-get install postgresql) or set WARROOM_PG_BIN or DATABASE_URL")
}
