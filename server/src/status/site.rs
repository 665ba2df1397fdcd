//! The public status page served from memory. Every replica keeps one `Site`: the
//! `PublicData` last read plus every page, feed and JSON document rendered from it, each
//! with its gzip copy and ETag. Requests only look bytes up (no database, no rendering);
//! a new `Site` is built when Postgres announces a public change (`warroom_status`), every
//! `REFRESH_PERIOD` as a safety net (and so the uptime bars roll over at midnight), and
//! swapped in atomically. The data is also kept on disk, so a Warroom that restarts while
//! Postgres is down still serves the last status — saying how old it is.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwap;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use warroom_app::status::model::PublicData;

use super::pages::Staleness;
use super::{feeds, pages, v2};

/// The channel the status tables' triggers announce changes on.
pub const CHANNEL: &str = "warroom_status";
/// A rebuild even without announcements: midnight roll-over, missed announcements, and
/// noticing that the database went away.
const REFRESH_PERIOD: Duration = Duration::from_secs(30);
/// Announcements that arrive this close together make one rebuild.
const DEBOUNCE: Duration = Duration::from_millis(100);
/// A CDN may keep a copy this long, and serve it longer while Warroom is unreachable.
const CACHE_CONTROL: &str = "public, max-age=10, stale-while-revalidate=30, stale-if-error=86400";

/// One response body, ready to send.
pub struct Asset {
    content_type: HeaderValue,
    identity: Bytes,
    gzip: Bytes,
    etag: HeaderValue,
    csp: Option<HeaderValue>,
    cors: bool,
}

impl Asset {
    fn new(content_type: &'static str, body: Vec<u8>, csp: Option<&str>, cors: bool) -> Asset {
        let digest = Sha256::digest(&body);
        let etag = format!(
            "\"{}\"",
            digest[..12]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 4),
            flate2::Compression::best(),
        );
        encoder.write_all(&body).expect("gzip into memory");
        let gzip = encoder.finish().expect("gzip into memory");
        Asset {
            content_type: HeaderValue::from_static(content_type),
            identity: Bytes::from(body),
            gzip: Bytes::from(gzip),
            etag: HeaderValue::from_str(&etag).expect("hex etag"),
            csp: csp.map(|c| HeaderValue::from_str(c).expect("ASCII policy")),
            cors,
        }
    }

    /// The uncompressed body (tests and the benchmark compare it).
    pub fn body(&self) -> &Bytes {
        &self.identity
    }

    pub fn gzip_len(&self) -> usize {
        self.gzip.len()
    }
}

/// Everything the public can fetch, from one `PublicData`.
pub struct Site {
    pub data: Arc<PublicData>,
    /// `None` while the data is fresh; otherwise what pages say about its age.
    pub stale: Option<Staleness>,
    assets: HashMap<String, Arc<Asset>>,
    last_modified: HeaderValue,
}

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

impl Site {
    /// Renders every page, feed and document of `data`.
    pub fn render(data: Arc<PublicData>, stale: Option<Staleness>) -> Site {
        let csp = pages::content_security_policy(&pages::stylesheet(&data.branding));
        let html = |body: String| Arc::new(Asset::new(HTML, body.into_bytes(), Some(&csp), false));
        let json = |value: serde_json::Result<Vec<u8>>| {
            Arc::new(Asset::new(
                JSON,
                value.expect("serialising status JSON"),
                None,
                true,
            ))
        };
        let stale_ref = stale.as_ref();
        let mut assets = HashMap::new();
        assets.insert("/status".to_string(), html(pages::home(&data, stale_ref)));
        for incident in &data.incidents {
            assets.insert(
                format!("/status/incidents/{}", incident.id),
                html(pages::incident(&data, incident, stale_ref)),
            );
        }
        for maintenance in &data.maintenances {
            assets.insert(
                format!("/status/maintenances/{}", maintenance.id),
                html(pages::maintenance(&data, maintenance, stale_ref)),
            );
        }
        for page in 1..=pages::history_page_count(&data) {
            if let Some(body) = pages::history(&data, page, stale_ref) {
                assets.insert(format!("/status/history/{page}"), html(body));
            }
        }
        assets.insert(
            "/status/feed.atom".into(),
            Arc::new(Asset::new(
                "application/atom+xml; charset=utf-8",
                feeds::atom(&data).into_bytes(),
                None,
                true,
            )),
        );
        assets.insert(
            "/status/feed.rss".into(),
            Arc::new(Asset::new(
                "application/rss+xml; charset=utf-8",
                feeds::rss(&data).into_bytes(),
                None,
                true,
            )),
        );
        let d = &*data;
        for (path, body) in [
            ("summary.json", serde_json::to_vec(&v2::summary(d))),
            ("status.json", serde_json::to_vec(&v2::status(d))),
            ("components.json", serde_json::to_vec(&v2::components(d))),
            ("incidents.json", serde_json::to_vec(&v2::incidents(d))),
            (
                "incidents/unresolved.json",
                serde_json::to_vec(&v2::unresolved_incidents(d)),
            ),
            (
                "scheduled-maintenances.json",
                serde_json::to_vec(&v2::scheduled_maintenances(d)),
            ),
            (
                "scheduled-maintenances/upcoming.json",
                serde_json::to_vec(&v2::upcoming_maintenances(d)),
            ),
            (
                "scheduled-maintenances/active.json",
                serde_json::to_vec(&v2::active_maintenances(d)),
            ),
        ] {
            assets.insert(format!("/api/v2/{path}"), json(body));
        }
        let last_modified = HeaderValue::from_str(
            &data
                .changed_at
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
        )
        .expect("HTTP date");
        Site {
            data,
            stale,
            assets,
            last_modified,
        }
    }

    /// The asset at `path` (history pages as `/status/history/N`).
    pub fn asset(&self, path: &str) -> Option<&Arc<Asset>> {
        self.assets.get(path)
    }

    /// A page with a message (subscription answers, unknown pages), rendered on demand.
    pub fn message(&self, status: StatusCode, title: &str, message: &str) -> Response {
        self.html(status, pages::message_page(&self.data, title, message))
    }

    /// An HTML page rendered on demand, with the status pages' headers; never cached.
    pub fn html(&self, status: StatusCode, body: String) -> Response {
        let csp = pages::content_security_policy(&pages::stylesheet(&self.data.branding));
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(HTML));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Ok(csp) = HeaderValue::from_str(&csp) {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        security_headers(headers);
        response
    }
}

/// This replica's status page: the current `Site`, where it is kept on disk, and how it
/// is refreshed.
pub struct StatusSite {
    current: ArcSwap<Site>,
    snapshot_file: Option<PathBuf>,
    base_url: String,
}

/// What is kept on disk: the data, not the rendering (the templates may have changed).
#[derive(serde::Serialize, serde::Deserialize)]
struct DiskSnapshot {
    data: PublicData,
}

impl StatusSite {
    /// Starts from the copy on disk if there is one (marked as of when it was read),
    /// else from an empty page until the first read.
    pub fn new(snapshot_file: Option<PathBuf>, base_url: String) -> Arc<StatusSite> {
        let from_disk = snapshot_file.as_ref().and_then(|path| {
            let bytes = std::fs::read(path).ok()?;
            match serde_json::from_slice::<DiskSnapshot>(&bytes) {
                Ok(snapshot) => Some(snapshot.data),
                Err(err) => {
                    tracing::warn!(error = %err, path = %path.display(), "ignoring an unreadable status snapshot");
                    None
                }
            }
        });
        let now = Utc::now();
        let site = match from_disk {
            Some(data) => {
                tracing::info!(as_of = %data.read_at, "status page starts from its snapshot on disk");
                let stale = Staleness {
                    as_of: data.read_at,
                    now,
                };
                Site::render(Arc::new(data), Some(stale))
            }
            None => Site::render(Arc::new(empty_data(&base_url, now)), None),
        };
        Arc::new(StatusSite {
            current: ArcSwap::from_pointee(site),
            snapshot_file,
            base_url,
        })
    }

    pub fn current(&self) -> Arc<Site> {
        self.current.load_full()
    }

    /// Reads the public data and swaps in a new site; keeps the data on disk, also when
    /// only its read time moved (a restart without the database then says truthfully how
    /// old it is). On failure the current data stays, marked stale.
    pub async fn refresh(&self, pool: &PgPool) -> anyhow::Result<()> {
        let now = Utc::now();
        let read = tokio::time::timeout(
            Duration::from_secs(10),
            warroom_app::status::store::public::read(pool, &self.base_url, now),
        )
        .await;
        match read {
            Ok(Ok(data)) => {
                let data = Arc::new(data);
                let site = tokio::task::spawn_blocking({
                    let data = data.clone();
                    move || Site::render(data, None)
                })
                .await
                .context("rendering the status page")?;
                self.current.store(Arc::new(site));
                metrics::counter!("warroom_status_site_rebuilds_total", "outcome" => "fresh")
                    .increment(1);
                self.save(&data).await;
                Ok(())
            }
            failure => {
                let current = self.current();
                let stale = Staleness {
                    as_of: current.data.read_at,
                    now,
                };
                let data = current.data.clone();
                let site = tokio::task::spawn_blocking(move || Site::render(data, Some(stale)))
                    .await
                    .context("rendering the status page")?;
                self.current.store(Arc::new(site));
                metrics::counter!("warroom_status_site_rebuilds_total", "outcome" => "stale")
                    .increment(1);
                match failure {
                    Ok(Err(err)) => {
                        Err(anyhow::anyhow!("{err}")).context("reading the public status")
                    }
                    _ => Err(anyhow::anyhow!("reading the public status took over 10 s")),
                }
            }
        }
    }

    async fn save(&self, data: &PublicData) {
        let Some(path) = self.snapshot_file.clone() else {
            return;
        };
        let bytes = match serde_json::to_vec(&DiskSnapshot { data: data.clone() }) {
            Ok(bytes) => bytes,
            Err(err) => {
                tracing::warn!(error = %err, "could not serialise the status snapshot");
                return;
            }
        };
        // Write then rename: a crash never leaves half a snapshot.
        let result = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let temporary = path.with_extension("tmp");
            std::fs::write(&temporary, bytes)?;
            std::fs::rename(&temporary, &path)
        })
        .await;
        if !matches!(result, Ok(Ok(()))) {
            tracing::warn!("could not keep the status snapshot on disk");
        }
    }

    /// Keeps the site current until `shutdown`: rebuilds on every announcement (debounced),
    /// after the listener reconnects, and every `REFRESH_PERIOD`.
    pub async fn keep_fresh(self: Arc<Self>, pool: PgPool, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(REFRESH_PERIOD);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut listener: Option<PgListener> = None;
        let mut failing = false;
        loop {
            if listener.is_none() {
                listener = match PgListener::connect_with(&pool).await {
                    Ok(mut l) => match l.listen(CHANNEL).await {
                        Ok(()) => Some(l),
                        Err(_) => None,
                    },
                    Err(_) => None,
                };
                // Whatever happened while nobody listened is read now.
                self.refresh_logged(&pool, &mut failing).await;
                if listener.is_none() {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    }
                    continue;
                }
            }
            let l = listener.as_mut().expect("listening");
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticker.tick() => self.refresh_logged(&pool, &mut failing).await,
                notification = l.try_recv() => match notification {
                    Ok(Some(_)) => {
                        // Collect the burst a transaction makes, then rebuild once.
                        let deadline = tokio::time::sleep(DEBOUNCE);
                        tokio::pin!(deadline);
                        loop {
                            tokio::select! {
                                _ = &mut deadline => break,
                                more = l.try_recv() => if !matches!(more, Ok(Some(_))) { break },
                            }
                        }
                        self.refresh_logged(&pool, &mut failing).await;
                    }
                    // The connection was lost (and will be re-established by the next
                    // call) or failed: start over with a fresh listener.
                    Ok(None) | Err(_) => {
                        listener = None;
                    }
                },
            }
        }
    }

    async fn refresh_logged(&self, pool: &PgPool, failing: &mut bool) {
        match self.refresh(pool).await {
            Ok(()) => {
                if *failing {
                    tracing::info!("status page is fresh again");
                }
                *failing = false;
            }
            Err(err) => {
                if !*failing {
                    tracing::warn!(
                        error = format!("{err:#}"),
                        "status page serves its last snapshot"
                    );
                }
                *failing = true;
            }
        }
    }
}

/// A page with nothing on it yet (before the first read, with no snapshot on disk).
fn empty_data(base_url: &str, now: DateTime<Utc>) -> PublicData {
    PublicData {
        branding: warroom_app::status::model::Branding {
            name: "Warroom".into(),
            logo_url: None,
            accent_color: "#1f6feb".into(),
            links: Vec::new(),
            updated_at: now,
        },
        base_url: base_url.trim_end_matches('/').to_string(),
        groups: Vec::new(),
        components: Vec::new(),
        incidents: Vec::new(),
        maintenances: Vec::new(),
        changed_at: now,
        read_at: now,
    }
}

fn security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// Answers a GET of a status asset: 304 when the client has it, gzip when it accepts it.
pub fn respond(site: &Site, asset: &Asset, request_headers: &HeaderMap) -> Response {
    let not_modified = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == asset.etag)
        });
    let gzip = request_headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(accepts_gzip);
    let mut response = if not_modified {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else if gzip {
        let mut r = Response::new(Body::from(asset.gzip.clone()));
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        Response::new(Body::from(asset.identity.clone()))
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, asset.content_type.clone());
    headers.insert(header::ETAG, asset.etag.clone());
    headers.insert(header::LAST_MODIFIED, site.last_modified.clone());
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Some(csp) = &asset.csp {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    }
    if asset.cors {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    security_headers(headers);
    response
}

fn accepts_gzip(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|part| {
        let mut pieces = part.split(';');
        let coding = pieces.next().unwrap_or("").trim();
        let refused = pieces.any(|p| {
            matches!(
                p.trim().replace(' ', "").as_str(),
                "q=0" | "q=0.0" | "q=0.00" | "q=0.000"
            )
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

/// GET handler for every fixed asset path.
pub async fn asset(State(site): State<Arc<StatusSite>>, request: Request<Body>) -> Response {
    let current = site.current();
    match current.asset(request.uri().path()) {
        Some(asset) => respond(&current, asset, request.headers()),
        None => current.message(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such incident or page on this status page.",
        ),
    }
}

#[derive(serde::Deserialize)]
pub struct HistoryQuery {
    page: Option<String>,
}

/// `/status/history?page=N`.
pub async fn history(
    State(site): State<Arc<StatusSite>>,
    Query(query): Query<HistoryQuery>,
    headers: HeaderMap,
) -> Response {
    let current = site.current();
    let page = match query.page.as_deref().map(str::parse::<usize>) {
        None => Ok(1),
        Some(Ok(n)) if n >= 1 => Ok(n),
        _ => Err(()),
    };
    match page
        .ok()
        .and_then(|n| current.asset(&format!("/status/history/{n}")))
    {
        Some(asset) => respond(&current, asset, &headers),
        None => current.message(
            StatusCode::NOT_FOUND,
            "No such page",
            "The history has no page with that number.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::accepts_gzip;

    #[test]
    fn gzip_is_sent_only_to_clients_that_accept_it() {
        assert!(accepts_gzip("gzip, deflate, br"));
        assert!(accepts_gzip("br;q=1.0, gzip;q=0.8"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("br"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("identity"));
    }
}
