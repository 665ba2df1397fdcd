//! The browser bundle over HTTP: a hashed file answers its brotli or gzip variant as the
//! request's Accept-Encoding asks (itself otherwise), with the type of the original, a
//! `Vary` on the encoding and a year's immutable caching; an unhashed file is
//! revalidated; pages keep `no-store`.
//!
//! The bundle is served as `cargo leptos build --release --precompress` lays it out
//! (`<name>.<hash>.<ext>` with `.br` and `.gz` beside it) from a temporary site root, by
//! the same router and header middleware as the whole app, over a real socket.

use std::io::Write;
use std::path::PathBuf;

use axum::Router;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, IF_MODIFIED_SINCE,
    LAST_MODIFIED, VARY,
};
use tokio::net::TcpListener;
use warroom::http::assets;
use warroom::http::headers::{private_by_default, Hsts};

const HASHED: &str = "warroom.bKCyEXQt5wH6Gn3nW_uqXA.wasm";

struct Site {
    root: PathBuf,
    wasm: Vec<u8>,
    gzip: Vec<u8>,
    brotli: Vec<u8>,
}

impl Site {
    /// A pkg dir with one hashed wasm file, its two precompressed variants, an unhashed
    /// JS file, and a page outside it.
    fn create() -> Site {
        let root = std::env::temp_dir().join(format!(
            "warroom-assets-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let pkg = root.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        // A valid (empty) WebAssembly module, repeated so gzip has something to shrink.
        let wasm: Vec<u8> = b"\0asm\x01\0\0\0"
            .iter()
            .copied()
            .chain(std::iter::repeat_n(0u8, 4096))
            .collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&wasm).unwrap();
        let gzip = gz.finish().unwrap();
        // The server sends the `.br` file as it is (it never compresses on the fly), so its
        // bytes only need to be told apart from the others.
        let brotli = b"brotli variant of the module".to_vec();
        std::fs::write(pkg.join(HASHED), &wasm).unwrap();
        std::fs::write(pkg.join(format!("{HASHED}.gz")), &gzip).unwrap();
        std::fs::write(pkg.join(format!("{HASHED}.br")), &brotli).unwrap();
        std::fs::write(pkg.join("warroom.js"), "export default 1;\n").unwrap();
        Site {
            root,
            wasm,
            gzip,
            brotli,
        }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Serves the assets router under the app's header middleware; returns the base URL.
async fn serve(site: &Site) -> String {
    let app: Router = assets::router::<()>(&site.root, "pkg")
        .route("/page", axum::routing::get(|| async { "a page" }))
        .layer(axum::middleware::from_fn_with_state(
            Hsts(false),
            private_by_default,
        ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// A client that shows bodies as sent: no decompression, whatever it was built with.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_hashed_asset_is_sent_precompressed_as_asked_and_cached_for_good() {
    let site = Site::create();
    let base = serve(&site).await;
    let http = raw_client();
    let url = format!("{base}/pkg/{HASHED}");

    for (accept, encoding, body) in [
        (Some("br"), Some("br"), &site.brotli),
        (Some("gzip"), Some("gzip"), &site.gzip),
        // What browsers send: brotli wins.
        (Some("gzip, deflate, br, zstd"), Some("br"), &site.brotli),
        (Some("br;q=0.5, gzip"), Some("gzip"), &site.gzip),
        (None, None, &site.wasm),
        (Some("identity"), None, &site.wasm),
        (Some("zstd"), None, &site.wasm),
    ] {
        let mut request = http.get(&url);
        if let Some(accept) = accept {
            request = request.header(ACCEPT_ENCODING, accept);
        }
        let response = request.send().await.unwrap();
        let what = format!("Accept-Encoding {accept:?}");
        assert_eq!(response.status(), 200, "{what}");
        let headers = response.headers().clone();
        assert_eq!(
            headers.get(CONTENT_ENCODING).map(|v| v.to_str().unwrap()),
            encoding,
            "{what}"
        );
        assert_eq!(headers[CONTENT_TYPE], "application/wasm", "{what}");
        assert_eq!(headers[CACHE_CONTROL], assets::IMMUTABLE, "{what}");
        assert_eq!(
            headers[CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(headers[VARY], "accept-encoding", "{what}");
        let sent = response.bytes().await.unwrap();
        assert_eq!(&sent[..], &body[..], "{what}: the wrong variant was sent");
    }

    // The gzip variant is the module itself, compressed.
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&site.gzip[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, site.wasm);
}

#[tokio::test]
async fn an_unhashed_asset_is_revalidated_and_pages_stay_uncached() {
    let site = Site::create();
    let base = serve(&site).await;
    let http = raw_client();

    let response = http
        .get(format!("{base}/pkg/warroom.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[CACHE_CONTROL], assets::REVALIDATE);
    assert!(response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .contains("javascript"));
    let modified = response.headers()[LAST_MODIFIED].clone();
    let again = http
        .get(format!("{base}/pkg/warroom.js"))
        .header(IF_MODIFIED_SINCE, modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "revalidation answers Not Modified");
    assert_eq!(again.headers()[CACHE_CONTROL], assets::REVALIDATE);

    let missing = http
        .get(format!("{base}/pkg/warroom.nosuchfileXXXXXXXXXXXXXX.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(
        missing.headers().get(CACHE_CONTROL).is_none(),
        "a missing file is not cached for a year"
    );

    let page = http.get(format!("{base}/page")).send().await.unwrap();
    assert_eq!(page.headers()[CACHE_CONTROL], "no-store");
}
