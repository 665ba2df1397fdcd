//! Incident-room benchmark: how long a room takes to open when its timeline is long, and
//! whether the rest of Warroom stays responsive while many people load a room full of
//! the largest, most deeply nested notes Warroom accepts.
//!
//! Method:
//!
//! 1. start the real `warroom` release binary (its own embedded Postgres in a
//!    throw-away data directory, development sign-in, a free port below 32768), with
//!    the per-person request limit raised: every client here is one signed-in person;
//! 2. post `BENCH_ENTRIES` (5,000) timeline entries to one incident through the server
//!    functions a browser calls (Markdown notes of a few hundred characters, a decision
//!    and a pin now and then), 8 at a time;
//! 3. open that room `BENCH_OPENS` (100) times one after the other, as the browser does
//!    (the `incident_room` server function: header, newest page of the timeline, pinned
//!    notes, people) and as a link does (the server-rendered page), and print p50, p95
//!    and max with the answer's size; then the "show older" page;
//! 4. post 20 notes of the largest allowed size (20,000 characters, nested to the
//!    32-level limit, with lists, emphasis, code and links) to a second incident;
//! 5. probe `GET /healthz` every 20 ms with nothing else going on (the baseline), then
//!    again while `BENCH_CLIENTS` (16) clients load the heavy room in a loop for
//!    `BENCH_SECONDS` (10); print both latencies (p50, p99, max) and the rooms served.
//!
//! Figures are printed, never asserted: this program and Warroom share the machine's
//! cores. Before the fix of issue 11 a room with one 20,000-`>` note took 1.5 s to
//! open and four concurrent loads froze /healthz for 5 s.

// Shared with the other benches, which use the rest of it.
#[expect(dead_code)]
#[path = "common/warroom.rs"]
mod warroom;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;

use crate::warroom::Warroom;

const PROBE_PERIOD: Duration = Duration::from_millis(20);
const HEAVY_NOTES: usize = 20;

struct Settings {
    entries: usize,
    opens: usize,
    clients: usize,
    seconds: u64,
}

impl Settings {
    fn from_env() -> Result<Self> {
        let number = |name: &str, default: u64| -> Result<u64> {
            match std::env::var(name) {
                Ok(value) => value
                    .trim()
                    .parse()
                    .with_context(|| format!("{name}: not a number: {value}")),
                Err(_) => Ok(default),
            }
        };
        let settings = Settings {
            entries: number("BENCH_ENTRIES", 5_000)? as usize,
            opens: number("BENCH_OPENS", 100)? as usize,
            clients: number("BENCH_CLIENTS", 16)? as usize,
            seconds: number("BENCH_SECONDS", 10)?,
        };
        ensure!(
            settings.entries > 0 && settings.opens > 0 && settings.clients > 0,
            "BENCH_ENTRIES, BENCH_OPENS and BENCH_CLIENTS must be positive"
        );
        Ok(settings)
    }
}

/// One signed-in browser: cookies and Warroom's own Origin.
#[derive(Clone)]
struct Browser {
    base: String,
    http: reqwest::Client,
}

impl Browser {
    async fn sign_in(base: &str, name: &str) -> Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, base.parse()?);
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let browser = Browser {
            base: base.to_string(),
            http,
        };
        let answer = browser
            .call_raw("dev_sign_in", &[("name", name), ("role", "responder")])
            .await?;
        ensure!(
            answer.status().is_success() || answer.status().is_redirection(),
            "sign-in answered {}",
            answer.status()
        );
        Ok(browser)
    }

    async fn call_raw(&self, endpoint: &str, form: &[(&str, &str)]) -> Result<reqwest::Response> {
        Ok(self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .form(form)
            .send()
            .await?)
    }

    /// Calls a server function; returns its JSON and the answer's size in bytes.
    async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> Result<(Value, usize)> {
        let answer = self.call_raw(endpoint, form).await?;
        let status = answer.status();
        let body = answer.bytes().await?;
        if !status.is_success() {
            bail!(
                "{endpoint} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok((serde_json::from_slice(&body)?, body.len()))
    }

    async fn declare(&self, title: &str) -> Result<String> {
        let (id, _) = self
            .call(
                "declare_incident",
                &[
                    ("title", title),
                    ("summary", "Bench incident."),
                    ("severity", "SEV2"),
                ],
            )
            .await?;
        Ok(id.as_i64().context("incident id")?.to_string())
    }

    async fn note(&self, incident: &str, kind: &str, body: &str) -> Result<i64> {
        let (id, _) = self
            .call(
                "add_note",
                &[("incident_id", incident), ("kind", kind), ("body", body)],
            )
            .await?;
        id.as_i64().context("entry id")
    }
}

/// A few hundred characters of the Markdown responders write.
fn ordinary_note(n: usize) -> String {
    format!(
        "**{n}:** replica `db-{}` lag is {} s; checked `SHOW REPLICA STATUS` and the \
         [dashboard](https://grafana.example.com/d/mysql?var-host=db-{}).\n\n\
         - restarted the IO thread\n- lag falling\n- next check in 5 min\n\n> Seen before in INC-{}.",
        n % 7,
        n % 300,
        n % 7,
        n % 97
    )
}

/// The costliest note Warroom accepts: 20,000 characters, quotes and lists nested to
/// the limit, full of inline Markdown.
fn heavy_note(seed: usize) -> String {
    let mut text = String::new();
    for level in 0..warroom_app::markdown::MAX_NESTING / 2 {
        text.push_str(&format!("{}> quote {level}\n", "> ".repeat(level)));
    }
    for level in 0..warroom_app::markdown::MAX_NESTING / 2 {
        text.push_str(&format!("{}- item {level} of {seed}\n", "  ".repeat(level)));
    }
    let filler = "**bold** _em_ `code` [link](https://example.com/x) ~~old~~ &amp; <b>raw</b> ";
    while text.chars().count() + filler.len()
        < warroom_app::incidents::model::MarkdownText::MAX_CHARS
    {
        text.push_str(filler);
    }
    text
}

#[derive(Default)]
struct Timings(Vec<Duration>);

impl Timings {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[index]
    }

    fn max(&self) -> Duration {
        self.0.iter().max().copied().unwrap_or_default()
    }

    fn line(&self, what: &str, extra: &str) -> String {
        format!(
            "{what:<44} p50 {:>8.1} ms  p95 {:>8.1} ms  p99 {:>8.1} ms  max {:>8.1} ms  (n={}){extra}",
            ms(self.percentile(0.5)),
            ms(self.percentile(0.95)),
            ms(self.percentile(0.99)),
            ms(self.max()),
            self.0.len()
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Probes /healthz every PROBE_PERIOD until `stop`; returns each answer's latency.
async fn probe_health(base: String, stop: Arc<AtomicBool>) -> Result<Timings> {
    let http = reqwest::Client::new();
    let url = format!("{base}/healthz");
    let mut timings = Timings::default();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let answer = http.get(&url).send().await?;
        ensure!(
            answer.status().is_success(),
            "/healthz answered {}",
            answer.status()
        );
        answer.bytes().await?;
        timings.0.push(started.elapsed());
        tokio::time::sleep(PROBE_PERIOD.saturating_sub(started.elapsed())).await;
    }
    Ok(timings)
}

async fn run(settings: Settings) -> Result<()> {
    eprintln!("room bench: starting Warroom (embedded Postgres, may take a while)...");
    let warroom = Warroom::start_with(&[("WARROOM_ACCOUNT_RATE", "100000000")]).await?;
    let base = warroom.base().to_string();
    let alice = Browser::sign_in(&base, "Bench Alice").await?;

    // 1. A long timeline.
    let long = alice.declare("Replica lag across the fleet").await?;
    eprintln!("room bench: posting {} entries...", settings.entries);
    let started = Instant::now();
    let posted = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::new();
    for writer in 0..8 {
        let (alice, long, posted) = (alice.clone(), long.clone(), posted.clone());
        let count = settings.entries;
        writers.push(tokio::spawn(async move {
            for n in (writer..count).step_by(8) {
                let kind = if n % 50 == 0 { "decision" } else { "note" };
                let entry = alice.note(&long, kind, &ordinary_note(n)).await?;
                if n % 250 == 0 {
                    alice
                        .call(
                            "set_pin",
                            &[("entry_id", &entry.to_string()), ("pinned", "true")],
                        )
                        .await?;
                }
                posted.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for writer in writers {
        writer.await??;
    }
    eprintln!(
        "room bench: {} entries posted in {:.1} s",
        posted.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );

    let mut opens = Timings::default();
    let mut bytes = 0;
    let mut first_entry = 0;
    for _ in 0..settings.opens {
        let started = Instant::now();
        let (room, size) = alice.call("incident_room", &[("id", &long)]).await?;
        opens.0.push(started.elapsed());
        bytes = size;
        first_entry = room["timeline"]["entries"][0]["id"]
            .as_i64()
            .unwrap_or_default();
    }
    let mut pages = Timings::default();
    let mut page_bytes = 0;
    for _ in 0..settings.opens.div_ceil(2) {
        let started = Instant::now();
        let answer = alice
            .http
            .get(format!("{base}/incidents/{long}"))
            .header("Accept", "text/html")
            .send()
            .await?;
        ensure!(
            answer.status().is_success(),
            "room page answered {}",
            answer.status()
        );
        page_bytes = answer.bytes().await?.len();
        pages.0.push(started.elapsed());
    }
    let mut older = Timings::default();
    for _ in 0..settings.opens.div_ceil(2) {
        let started = Instant::now();
        alice
            .call(
                "timeline_page",
                &[("incident_id", &long), ("before", &first_entry.to_string())],
            )
            .await?;
        older.0.push(started.elapsed());
    }

    // 2. A room of the heaviest notes, loaded by many while /healthz is probed.
    let heavy = alice.declare("Heaviest notes").await?;
    for seed in 0..HEAVY_NOTES {
        alice.note(&heavy, "note", &heavy_note(seed)).await?;
    }
    let (_, heavy_bytes) = alice.call("incident_room", &[("id", &heavy)]).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let idle_probe = tokio::spawn(probe_health(base.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    let idle = idle_probe.await??;

    let stop = Arc::new(AtomicBool::new(false));
    let loaded_probe = tokio::spawn(probe_health(base.clone(), stop.clone()));
    let mut clients = Vec::new();
    let cpu_before = warroom.cpu_ticks()?;
    let load_started = Instant::now();
    for client in 0..settings.clients {
        let stop = stop.clone();
        let browser = Browser::sign_in(&base, &format!("Bench viewer {client}")).await?;
        let heavy = heavy.clone();
        clients.push(tokio::spawn(async move {
            let mut loads = Timings::default();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                browser.call("incident_room", &[("id", &heavy)]).await?;
                loads.0.push(started.elapsed());
            }
            anyhow::Ok(loads)
        }));
    }
    tokio::time::sleep(Duration::from_secs(settings.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut loads = Timings::default();
    for client in clients {
        loads.0.extend(client.await??.0);
    }
    let elapsed = load_started.elapsed().as_secs_f64();
    let cpu = (warroom.cpu_ticks()? - cpu_before) as f64 / warroom::TICKS_PER_SECOND as f64;
    let loaded = loaded_probe.await??;

    println!();
    println!(
        "Incident room — {} timeline entries ({} cores)",
        settings.entries,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!(
        "{}",
        opens.line(
            "open (incident_room server function)",
            &format!("  {} KiB", bytes / 1024)
        )
    );
    println!(
        "{}",
        pages.line(
            "open by link (server-rendered page)",
            &format!("  {} KiB", page_bytes / 1024)
        )
    );
    println!("{}", older.line("show older entries (timeline_page)", ""));
    println!();
    println!(
        "/healthz while {} clients load a room of {HEAVY_NOTES} notes of 20,000 characters nested 32 deep ({} KiB per load)",
        settings.clients,
        heavy_bytes / 1024
    );
    println!("{}", idle.line("/healthz, idle", ""));
    println!("{}", loaded.line("/healthz, under load", ""));
    println!(
        "{}",
        loads.line(
            "heavy room loads",
            &format!(
                "  {:.0} rooms/s, Warroom CPU {:.1} ms per room",
                loads.0.len() as f64 / elapsed,
                cpu * 1000.0 / loads.0.len().max(1) as f64
            )
        )
    );
    println!("Warroom RSS {} MiB", warroom.rss_kib()? / 1024);
    tokio::task::spawn_blocking(move || drop(warroom)).await?;
    Ok(())
}

fn main() -> Result<()> {
    let settings = Settings::from_env()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(settings))
}
