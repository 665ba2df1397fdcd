//! The baseline: nginx serving Warroom's bytes as static files, with Warroom's
//! Content-Type and its other headers (security headers, caching, `Vary`), run by
//! the bench itself (`daemon off`, own config, pid, logs and temp paths in a temp
//! dir, a free port), never the system service. Stopped with SIGTERM when dropped.

use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::pages::Page;
use crate::warroom::{cpu_ticks, free_port, stop_child, TempDir};

/// Ports tried: apart from Warroom's, below the ephemeral range.
const PORTS: std::ops::Range<u16> = 12_000..22_000;
const READY_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Where nginx is: on `PATH`, or where Debian puts it (`/usr/sbin` is not on
/// everyone's `PATH`).
pub fn binary() -> Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
        .context("nginx not found: run `scripts/prerequisites.sh bench` (or `make bench`)")
}

/// `nginx/1.22.1`, for the report.
pub async fn version(binary: &Path) -> Result<String> {
    // nginx prints its version on stderr.
    let output = tokio::process::Command::new(binary)
        .arg("-v")
        .output()
        .await
        .context("running nginx -v")?;
    let text = String::from_utf8_lossy(&output.stderr);
    Ok(text
        .trim()
        .trim_start_matches("nginx version:")
        .trim()
        .to_owned())
}

/// Running nginx; dropping it stops it and removes its directory.
pub struct Nginx {
    child: Child,
    base: String,
    dir: TempDir,
}

impl Nginx {
    /// Writes `pages` (and their gzip copies) as files, writes the config, starts
    /// nginx and waits until it answers.
    pub async fn start(binary: &Path, pages: &[Page]) -> Result<Self> {
        let port = free_port(PORTS)?;
        let dir = TempDir::create("warroom-status-bench-nginx")?;
        for sub in ["files", "temp"] {
            std::fs::create_dir(dir.path().join(sub))?;
        }
        for (index, page) in pages.iter().enumerate() {
            let file = file_path(dir.path(), index);
            std::fs::write(&file, &page.body)
                .with_context(|| format!("writing {}", file.display()))?;
            if let Some(gzip) = &page.gzip_body {
                // `gzip_static` looks for the file's name plus `.gz`.
                let mut gzip_file = file.into_os_string();
                gzip_file.push(".gz");
                std::fs::write(&gzip_file, gzip)?;
            }
        }
        let config_path = dir.path().join("nginx.conf");
        std::fs::write(&config_path, config(dir.path(), port, pages))?;

        let error_log = dir.path().join("error.log");
        let child = Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&config_path)
            // Start-up errors too go to our log, not to /var/log/nginx.
            .arg("-e")
            .arg(&error_log)
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::io::stderr()))
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut nginx = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let first = pages.first().map_or("/", |page| page.path.as_str());
        nginx.wait_ready(first).await?;
        Ok(nginx)
    }

    /// `http://127.0.0.1:port`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// CPU time the master and its workers used so far, in clock ticks.
    pub fn cpu_ticks(&self) -> Result<u64> {
        let master = self.child.id();
        let path = format!("/proc/{master}/task/{master}/children");
        let children = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        let mut ticks = cpu_ticks(master)?;
        for worker in children.split_whitespace() {
            // A worker that has just exited is not an error.
            ticks += worker.parse().map_or(0, |pid| cpu_ticks(pid).unwrap_or(0));
        }
        Ok(ticks)
    }

    async fn wait_ready(&mut self, path: &str) -> Result<()> {
        let http = reqwest::Client::new();
        let url = format!("{}{path}", self.base);
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                let log =
                    std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
                bail!("nginx exited at start ({status}):\n{log}");
            }
            let answer = http.get(&url).timeout(Duration::from_secs(2)).send().await;
            if answer.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("nginx did not serve {url} within {READY_TIMEOUT:?}")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM is nginx's fast shutdown: the master stops its workers, then exits.
        stop_child(&mut self.child, "nginx", STOP_TIMEOUT);
    }
}

/// Page `index`'s file. Files are named by number and mapped with `alias`, so any
/// URL path (even `/`) works and no extension decides the type.
fn file_path(dir: &Path, index: usize) -> PathBuf {
    dir.join("files").join(format!("page{index}.body"))
}

/// The config: a static file server tuned as one would for production static
/// files, so the baseline is nginx at its usual best rather than a strawman.
fn config(root: &Path, port: u16, pages: &[Page]) -> String {
    let dir = root.display();
    // As root nginx would hand its workers to `nobody`; keep them as root so they
    // can use the temp paths the master created.
    let user = if is_root() { "user root;\n" } else { "" };
    let mut locations = String::new();
    for (index, page) in pages.iter().enumerate() {
        let file = file_path(root, index);
        // `types {}` empties the extension map, so `default_type` (Warroom's own
        // Content-Type, charset included) is what nginx sends.
        let _ = write!(
            locations,
            r#"
        location = {path} {{
            alias {file};
            types {{}}
            default_type "{content_type}";"#,
            path = page.path,
            file = file.display(),
            content_type = quoted(&page.content_type),
        );
        for (name, value) in &page.extra_headers {
            // `$` would be read as an nginx variable; such a header is left out.
            if !value.contains('$') {
                let _ = write!(
                    locations,
                    "\n            add_header {name} \"{}\";",
                    quoted(value)
                );
            }
        }
        locations.push_str("\n        }");
    }
    format!(
        r#"# Written by Warroom's status-page bench: nginx serving Warroom's bytes.
daemon off;
{user}# One worker per core, as nginx recommends; Warroom's runtime also uses every core.
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;

events {{
    worker_connections 4096;
}}

http {{
    access_log off;
    client_body_temp_path {dir}/temp/client_body;
    proxy_temp_path {dir}/temp/proxy;
    fastcgi_temp_path {dir}/temp/fastcgi;
    uwsgi_temp_path {dir}/temp/uwsgi;
    scgi_temp_path {dir}/temp/scgi;

    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    open_file_cache max=16 inactive=60s;
    open_file_cache_valid 60s;
    # nginx closes a connection after 1,000 requests by default; Warroom (hyper)
    # never does. Without this nginx would pay for reconnects Warroom does not.
    keepalive_requests 1000000;
    keepalive_timeout 75s;

    # Pre-compressed copies only (page.body.gz, as Warroom sent them); no
    # compression on the fly, as Warroom serves its precompressed gzip.
    gzip off;
    gzip_static on;
    # Warroom's `Vary` is copied with its other headers.
    gzip_vary off;
    server_tokens off;

    server {{
        # nginx's default accept backlog (511); Warroom's is 128 (mio's), which only
        # matters while wrk opens its connections, before it starts timing.
        listen 127.0.0.1:{port};
        server_name _;
{locations}

        location / {{
            return 404;
        }}
    }}
}}
"#
    )
}

/// `value` made safe inside an nginx double-quoted string.
fn quoted(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
