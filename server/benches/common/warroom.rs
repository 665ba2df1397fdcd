//! The Warroom under test, shared by the benchmarks: the release binary as a child
//! process with its own embedded Postgres in a throw-away data directory, stopped with
//! SIGTERM when dropped; and the process helpers around it (free ports, temporary
//! directories, CPU time, stopping children).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Ports tried: below the ephemeral range the benchmarks' client connections use.
const PORTS: std::ops::Range<u16> = 22_000..32_000;
const READY_TIMEOUT: Duration = Duration::from_secs(120);
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// Running Warroom; dropping it sends SIGTERM, waits, then removes the data dir.
pub struct Warroom {
    child: Child,
    base: String,
    // Dropped after `Warroom::drop` has stopped the server (and its Postgres).
    data_dir: TempDir,
}

impl Warroom {
    /// Starts the server and waits until `GET /readyz` answers 200 (migrations done).
    pub async fn start() -> Result<Self> {
        Self::start_with(&[]).await
    }

    /// Starts the server with extra settings (`WARROOM_…` variables), e.g. the limits a
    /// load from one signed-in person needs raised.
    pub async fn start_with(settings: &[(&str, &str)]) -> Result<Self> {
        let port = free_port(PORTS)?;
        let addr = format!("127.0.0.1:{port}");
        let data_dir = TempDir::create("warroom-status-bench")?;
        let child = Command::new(env!("CARGO_BIN_EXE_warroom"))
            .env("WARROOM_ADDR", &addr)
            .env("WARROOM_DATA_DIR", data_dir.path())
            .env("WARROOM_DEV_LOGIN", "1")
            .env("RUST_LOG", "warn")
            .env_remove("DATABASE_URL")
            .envs(settings.iter().copied())
            .stdin(Stdio::null())
            // Keep this program's stdout for the figures.
            .stdout(Stdio::from(std::io::stderr()))
            .spawn()
            .context("starting the warroom server")?;
        let mut warroom = Self {
            child,
            base: format!("http://{addr}"),
            data_dir,
        };
        warroom.wait_ready().await?;
        Ok(warroom)
    }

    /// `host:port` Warroom listens on.
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// `http://host:port`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The embedded Postgres Warroom started: the `warroom` database on the Unix
    /// socket in `<data dir>/run` (see `server/src/db/embedded.rs`). As root the
    /// socket belongs to `postgres`, which root may still use.
    pub fn database_url(&self) -> String {
        format!(
            "postgres://warroom@localhost/warroom?host={}",
            self.data_dir.path().join("run").display()
        )
    }

    /// Resident set size now, in KiB.
    pub fn rss_kib(&self) -> Result<u64> {
        self.proc_status_kib("VmRSS:")
    }

    /// Highest resident set size since start, in KiB.
    pub fn peak_rss_kib(&self) -> Result<u64> {
        self.proc_status_kib("VmHWM:")
    }

    /// CPU time used so far (all threads, user + system), in clock ticks.
    pub fn cpu_ticks(&self) -> Result<u64> {
        cpu_ticks(self.child.id())
    }

    fn proc_status_kib(&self, field: &str) -> Result<u64> {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no {field} in {path}"))
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let http = reqwest::Client::new();
        let url = format!("{}/readyz", self.base);
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("Warroom exited before becoming ready ({status})");
            }
            let answer = http.get(&url).timeout(Duration::from_secs(2)).send().await;
            if answer.is_ok_and(|response| response.status() == reqwest::StatusCode::OK) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        bail!("Warroom was not ready within {READY_TIMEOUT:?}")
    }
}

impl Drop for Warroom {
    fn drop(&mut self) {
        // SIGTERM (not SIGKILL) so Warroom stops its embedded Postgres itself.
        stop_child(&mut self.child, "Warroom", STOP_TIMEOUT);
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` (Linux's USER_HZ, 100 everywhere).
pub const TICKS_PER_SECOND: u64 = 100;

/// CPU time process `pid` used so far (user + system, all threads), in ticks.
pub fn cpu_ticks(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // Fields after the `(command)`, which may itself hold spaces: state is the
    // first, utime and stime (fields 14 and 15 of the whole line) the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let field = |index: usize| -> Result<u64> {
        fields
            .get(index)
            .and_then(|value| value.parse().ok())
            .with_context(|| format!("no CPU times in {path}"))
    };
    Ok(field(11)? + field(12)?)
}

/// Sends SIGTERM, waits up to `limit`, then kills. Nothing to do if it already exited.
pub fn stop_child(child: &mut Child, name: &str, limit: Duration) {
    if !matches!(child.try_wait(), Ok(None)) {
        return;
    }
    let pid = child.id().to_string();
    if let Err(e) = Command::new("kill").args(["-TERM", &pid]).status() {
        eprintln!("bench: could not run `kill -TERM {pid}`: {e}");
    }
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("bench: {name} ignored SIGTERM for {limit:?}; killing it");
    let _ = child.kill();
    let _ = child.wait();
}

/// First port in `range` that is free on the loopback interface.
pub fn free_port(range: std::ops::Range<u16>) -> Result<u16> {
    range
        .clone()
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .with_context(|| format!("no free port in {range:?}"))
}

/// Fresh world-readable directory under the system temp dir, removed on drop.
/// World-readable because Postgres (as root: the `postgres` user) must enter it,
/// and so may nginx's workers.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn create(prefix: &str) -> Result<Self> {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("clearing {}", path.display()))?;
        }
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        let dir = Self(path);
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("chmod 0755 {}", dir.path().display()))?;
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            eprintln!("bench: could not remove {}: {e}", self.0.display());
        }
    }
}
