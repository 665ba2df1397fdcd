//! The pages under test: waiting until Warroom shows the fixture, taking the exact
//! bytes it serves (plain and gzip) for nginx, and checking nginx serves them back.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::{Client, StatusCode};

/// How long the in-memory snapshot may take to pick up the fixture (it rebuilds
/// on NOTIFY, normally within a second).
const SHOWN_TIMEOUT: Duration = Duration::from_secs(15);

/// How a response body travels: as is, or gzip-compressed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Identity => "plain",
            Encoding::Gzip => "gzip",
        }
    }
}

/// One page as Warroom served it.
pub struct Page {
    pub path: String,
    /// Warroom's `Content-Type`, which nginx repeats.
    pub content_type: String,
    pub body: Vec<u8>,
    /// The body Warroom sends to `Accept-Encoding: gzip`, if it compresses it.
    pub gzip_body: Option<Vec<u8>>,
    /// Warroom's other headers (security headers, caching, `Vary`), which nginx
    /// repeats so both put nearly the same bytes on the wire.
    pub extra_headers: Vec<(String, String)>,
}

impl Page {
    /// Whether this page can be measured with `encoding` (both servers send the
    /// same bytes only if Warroom compressed it).
    pub fn serves(&self, encoding: Encoding) -> bool {
        encoding == Encoding::Identity || self.gzip_body.is_some()
    }

    pub fn describe(&self) {
        let gzip = self
            .gzip_body
            .as_ref()
            .map_or("not gzipped".to_owned(), |b| {
                format!("{} bytes gzipped", b.len())
            });
        eprintln!(
            "status page: {} is {} bytes of {}, {gzip}",
            self.path,
            self.body.len(),
            self.content_type
        );
    }
}

/// The client for these checks: it never decompresses, so gzip bodies stay the
/// bytes on the wire, and it asks for gzip only when told to.
fn client() -> Result<Client> {
    Ok(Client::builder()
        .no_gzip()
        .timeout(Duration::from_secs(10))
        .build()?)
}

/// Waits until every path answers 200 and at least one shows `marker` (the open
/// fixture incident). A 404 means this Warroom has no such page: that is fatal.
/// Pages that never show the marker (e.g. `/healthz` in a trial run) are benched
/// as they are, with a warning.
pub async fn wait_until_shown(base: &str, paths: &[String], marker: &str) -> Result<()> {
    let http = client()?;
    let deadline = Instant::now() + SHOWN_TIMEOUT;
    loop {
        let mut all_ok = true;
        let mut shown = false;
        for path in paths {
            let response = http
                .get(format!("{base}{path}"))
                .send()
                .await
                .with_context(|| format!("GET {path} from Warroom"))?;
            let status = response.status();
            if status == StatusCode::NOT_FOUND {
                bail!(
                    "Warroom answers 404 to {path}: this build has no such page (the status page \
                     may not have landed yet; BENCH_PATHS=/healthz,/readyz tries the harness)"
                );
            }
            all_ok &= status.is_success();
            shown |= response.text().await?.contains(marker);
        }
        if all_ok && shown {
            return Ok(());
        }
        if Instant::now() >= deadline {
            ensure!(
                all_ok,
                "Warroom did not answer 200 to all of {paths:?} within {SHOWN_TIMEOUT:?}"
            );
            eprintln!(
                "status page: WARNING: none of {paths:?} shows the fixture incident `{marker}` \
                 after {SHOWN_TIMEOUT:?}; benching the pages as they are"
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Takes every page from Warroom, plain and gzip.
pub async fn fetch_all(base: &str, paths: &[String]) -> Result<Vec<Page>> {
    let http = client()?;
    let mut pages = Vec::new();
    for path in paths {
        let url = format!("{base}{path}");
        let plain = get(&http, &url, Encoding::Identity).await?;
        ensure!(
            plain.encoding.is_none(),
            "Warroom sent {path} encoded ({:?}) without being asked",
            plain.encoding
        );
        let gzip = get(&http, &url, Encoding::Gzip).await?;
        let gzip_body = (gzip.encoding.as_deref() == Some("gzip")).then_some(gzip.body);
        pages.push(Page {
            path: path.clone(),
            content_type: plain
                .content_type
                .with_context(|| format!("Warroom sent {path} without a Content-Type"))?,
            body: plain.body,
            gzip_body,
            extra_headers: plain.extra_headers,
        });
    }
    Ok(pages)
}

/// Checks nginx answers every case with the bytes Warroom sent, so both serve the
/// same thing.
pub async fn check_same_bytes(base: &str, pages: &[Page]) -> Result<()> {
    let http = client()?;
    for page in pages {
        let url = format!("{base}{}", page.path);
        let plain = get(&http, &url, Encoding::Identity).await?;
        ensure!(
            plain.body == page.body && plain.encoding.is_none(),
            "nginx serves {} differently from Warroom",
            page.path
        );
        ensure!(
            plain.content_type.as_deref() == Some(page.content_type.as_str()),
            "nginx sends {} as {:?}, Warroom as {}",
            page.path,
            plain.content_type,
            page.content_type
        );
        if let Some(gzip_body) = &page.gzip_body {
            let gzip = get(&http, &url, Encoding::Gzip).await?;
            ensure!(
                &gzip.body == gzip_body && gzip.encoding.as_deref() == Some("gzip"),
                "nginx serves {} gzipped differently from Warroom",
                page.path
            );
        }
    }
    Ok(())
}

/// Headers nginx writes itself for a static file (or that describe the connection
/// or this one body): not copied from Warroom.
const OWN_HEADERS: [&str; 11] = [
    "date",
    "server",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-type",
    "content-encoding",
    "etag",
    "last-modified",
    "accept-ranges",
];

/// A response's body as sent, with its type, encoding and other headers.
struct Fetched {
    body: Vec<u8>,
    content_type: Option<String>,
    encoding: Option<String>,
    extra_headers: Vec<(String, String)>,
}

async fn get(http: &Client, url: &str, encoding: Encoding) -> Result<Fetched> {
    let mut request = http.get(url);
    if encoding == Encoding::Gzip {
        request = request.header(ACCEPT_ENCODING, "gzip");
    }
    let response = request.send().await.with_context(|| format!("GET {url}"))?;
    ensure!(
        response.status().is_success(),
        "GET {url} ({}) answered {}",
        encoding.label(),
        response.status()
    );
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(CONTENT_TYPE);
    let encoding = header(CONTENT_ENCODING);
    let extra_headers = response
        .headers()
        .iter()
        .filter(|(name, _)| !OWN_HEADERS.contains(&name.as_str()))
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let body = response.bytes().await?.to_vec();
    Ok(Fetched {
        body,
        content_type,
        encoding,
        extra_headers,
    })
}
