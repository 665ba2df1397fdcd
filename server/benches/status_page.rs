//! Status-page benchmark: how Warroom's public status page (`/status`, HTML, and
//! `/api/v2/summary.json`) holds up against nginx serving the very same bytes as
//! static files, measured with wrk in one run on one machine.
//!
//! Method:
//!
//! 1. start the real `warroom` release binary (its own embedded Postgres in a
//!    throw-away data directory, `WARROOM_DEV_LOGIN=1`, a free port below 32768);
//! 2. seed bench fixture data straight into that database (components in groups,
//!    an open public incident with updates, resolved ones) and wait until the
//!    page shows it, so the page is as big as a real one rather than empty;
//! 3. fetch each page from Warroom, plain and with `Accept-Encoding: gzip`, write
//!    the bodies as static files and start nginx on them (own config, pid, logs and
//!    temp paths in a temp dir; `gzip_static` serves the pre-gzipped copy), then
//!    check that nginx answers with the same bytes;
//! 4. for every case (encoding × connections × path) run wrk against Warroom and
//!    nginx back to back, alternating which goes first so neither gets the warmer
//!    machine; each run is a discarded warm-up followed by the measured run;
//! 5. print req/s and p99 of both, their ratios against the targets (Warroom at
//!    least 0.8× nginx's throughput, p99 at most 1.5× nginx's), errors, bytes per
//!    response, each server's CPU time per response (measured from `/proc`, so
//!    it holds even when other work shares the cores) and Warroom's RSS before
//!    and after. Targets are reported, never asserted.
//!
//! wrk, both servers and this program share the machine's cores, as they would on
//! a small self-hosted box; the figures say how many there were and how busy the
//! machine was. Settings (env): `BENCH_SECONDS` (10), `BENCH_WARMUP_SECONDS` (2),
//! `BENCH_CONNECTIONS` (`100,1000`), `BENCH_PATHS` (`/status,/api/v2/summary.json`),
//! `BENCH_GZIP` (`1`; `0` measures plain responses only).

#[path = "status_page/fixture.rs"]
mod fixture;
#[path = "status_page/nginx.rs"]
mod nginx;
#[path = "status_page/pages.rs"]
mod pages;
#[path = "status_page/report.rs"]
mod report;
// Shared with the live fan-out bench, which also needs its bare address.
#[expect(dead_code)]
#[path = "common/warroom.rs"]
mod warroom;
#[path = "status_page/wrk.rs"]
mod wrk;

use std::time::Duration;

use anyhow::{ensure, Context, Result};

use crate::nginx::Nginx;
use crate::pages::Encoding;
use crate::report::{Case, Report};
use crate::warroom::Warroom;
use crate::wrk::{CpuTicks, Load};

/// wrk's threads: one per core of the 2-core machines Warroom is sized for.
const WRK_THREADS: u32 = 2;
/// Pause between runs so the previous run's connections are closed on both sides.
const SETTLE: Duration = Duration::from_secs(1);

fn main() -> Result<()> {
    // Any arguments (`cargo bench` passes `--bench`) are ignored.
    let config = Config::from_env()?;
    // 1,000 connections need more descriptors than the usual soft limit of 1,024;
    // wrk, nginx and Warroom inherit the raised limit.
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("status page: could not raise the open-file limit: {e}");
    }
    // One thread is plenty for orchestration and keeps this process off the cores
    // the measured programs need.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_bench(config))
}

/// What to measure, from the environment.
struct Config {
    paths: Vec<String>,
    connections: Vec<u32>,
    seconds: u32,
    warm_up_seconds: u32,
    gzip: bool,
}

impl Config {
    fn from_env() -> Result<Self> {
        let paths = list_from_env("BENCH_PATHS", "/status,/api/v2/summary.json");
        let connections = list_from_env("BENCH_CONNECTIONS", "100,1000")
            .into_iter()
            .map(|n| {
                n.parse()
                    .with_context(|| format!("BENCH_CONNECTIONS: bad count `{n}`"))
            })
            .collect::<Result<Vec<u32>>>()?;
        let seconds = number_from_env("BENCH_SECONDS", 10)?;
        let warm_up_seconds = number_from_env("BENCH_WARMUP_SECONDS", 2)?;
        let gzip = std::env::var("BENCH_GZIP").map_or(true, |v| v.trim() != "0");
        ensure!(
            !paths.is_empty() && paths.iter().all(|p| p.starts_with('/')),
            "BENCH_PATHS needs absolute paths such as /status"
        );
        ensure!(
            !connections.is_empty() && connections.iter().all(|&n| n >= WRK_THREADS),
            "BENCH_CONNECTIONS needs counts of at least {WRK_THREADS} (one per wrk thread)"
        );
        ensure!(seconds > 0, "BENCH_SECONDS must be positive");
        Ok(Self {
            paths,
            connections,
            seconds,
            warm_up_seconds,
            gzip,
        })
    }

    /// The encodings to measure: plain always, gzip unless turned off.
    fn encodings(&self) -> Vec<Encoding> {
        if self.gzip {
            vec![Encoding::Identity, Encoding::Gzip]
        } else {
            vec![Encoding::Identity]
        }
    }
}

/// A comma-separated list from `name`, or `default` when unset.
fn list_from_env(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

fn number_from_env(name: &str, default: u32) -> Result<u32> {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .with_context(|| format!("{name}: bad number `{value}`")),
        Err(_) => Ok(default),
    }
}

async fn run_bench(config: Config) -> Result<()> {
    let wrk_version = wrk::version().await?;
    let nginx_binary = nginx::binary()?;

    eprintln!("status page: starting Warroom (embedded Postgres, may take a while)...");
    let warroom = Warroom::start().await?;
    let fixture = fixture::seed(&warroom.database_url()).await?;
    eprintln!(
        "status page: seeded {} components in {} groups, {} incidents; waiting for the page to show them",
        fixture.components, fixture.groups, fixture.incidents
    );
    pages::wait_until_shown(warroom.base(), &config.paths, &fixture.marker).await?;
    let pages = pages::fetch_all(warroom.base(), &config.paths).await?;
    for page in &pages {
        page.describe();
    }

    let nginx = Nginx::start(&nginx_binary, &pages).await?;
    pages::check_same_bytes(nginx.base(), &pages).await?;

    let mut report = Report::new(
        &wrk_version,
        &nginx::version(&nginx_binary).await?,
        WRK_THREADS,
        config.seconds,
        config.warm_up_seconds,
    );
    report.rss_before_kib = Some(warroom.rss_kib()?);
    let warroom_cpu = || warroom.cpu_ticks();
    let nginx_cpu = || nginx.cpu_ticks();
    let targets: [(&str, &str, CpuTicks); 2] = [
        ("Warroom", warroom.base(), &warroom_cpu),
        ("nginx", nginx.base(), &nginx_cpu),
    ];
    let mut first = 0;
    for encoding in config.encodings() {
        for &connections in &config.connections {
            for page in &pages {
                if !page.serves(encoding) {
                    report.skip(&page.path, encoding, "Warroom sent no gzip body");
                    continue;
                }
                let load = Load {
                    threads: WRK_THREADS,
                    connections,
                    warm_up_seconds: config.warm_up_seconds,
                    seconds: config.seconds,
                    accept_gzip: encoding == Encoding::Gzip,
                };
                // Alternate who goes first, so a slowly warming (or cooling)
                // machine does not always favour the same server.
                let mut runs = [None, None];
                for turn in [first, 1 - first] {
                    let (name, base, cpu_ticks) = targets[turn];
                    eprintln!(
                        "status page: {name} {} {} × {connections} connections...",
                        page.path,
                        encoding.label()
                    );
                    let url = format!("{base}{}", page.path);
                    runs[turn] = Some(load.run(&url, cpu_ticks).await?);
                    tokio::time::sleep(SETTLE).await;
                }
                first = 1 - first;
                let [Some(warroom_run), Some(nginx_run)] = runs else {
                    unreachable!("both servers ran")
                };
                report.add(Case {
                    path: page.path.clone(),
                    encoding,
                    connections,
                    warroom: warroom_run,
                    nginx: nginx_run,
                });
            }
        }
    }
    report.rss_after_kib = Some(warroom.rss_kib()?);
    report.rss_peak_kib = warroom.peak_rss_kib().ok();
    report.print();

    // Dropping stops them: nginx and Warroom get SIGTERM and are waited for, and
    // their temp dirs are removed. Also on error, when `?` drops them.
    tokio::task::spawn_blocking(move || {
        drop(nginx);
        drop(warroom);
    })
    .await?;
    Ok(())
}
