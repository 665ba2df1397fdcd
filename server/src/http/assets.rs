//! The browser bundle under `/pkg` (wasm, its JS glue, the lazily loaded chunks, CSS).
//!
//! `cargo leptos build --release --precompress` writes a `.br` and a `.gz` beside every
//! file, and `hash-files` puts a hash of the content in every name
//! (`warroom.<hash>.wasm`): the precompressed variant the request's `Accept-Encoding`
//! prefers is sent (brotli over gzip, the file itself otherwise), and a hashed name is
//! cached for a year without asking again, since new content gets a new name. Files
//! without a hash (a build without `hash-files`) are revalidated on each use.

use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tower_http::services::ServeDir;

/// How long a hashed file may be kept: a year, never revalidated.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// An unhashed file may change under the same name: ask each time (`Last-Modified`).
pub const REVALIDATE: &str = "no-cache";

/// The routes for `/<pkg dir>/…` (`/pkg/…`), serving `<site root>/<pkg dir>`.
pub fn router<S: Clone + Send + Sync + 'static>(site_root: &Path, pkg_dir: &str) -> Router<S> {
    let files = ServeDir::new(site_root.join(pkg_dir))
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false);
    Router::new()
        .nest_service(&format!("/{}", pkg_dir.trim_matches('/')), files)
        .layer(axum::middleware::from_fn(cache_headers))
}

async fn cache_headers(request: Request, next: Next) -> Response {
    let hashed = is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        let headers = response.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(if hashed { IMMUTABLE } else { REVALIDATE }),
        );
        // The body depends on Accept-Encoding: caches must keep one copy per encoding.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Whether a file name carries cargo-leptos's content hash: a dot-separated part of 22
/// URL-safe base64 characters (an MD5), as in `warroom.bKCyEXQt5wH6Gn3nW_uqXA.wasm`.
pub fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1].iter().any(|part| {
            part.len() == 22
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Whether the bundle has hashed names: `LEPTOS_HASH_FILES` when set (cargo-leptos sets
/// it when it runs the server), else whether cargo-leptos left its hash file
/// (`LEPTOS_HASH_FILE_NAME`, default `hash.txt`) beside this executable, which it does
/// for every build with `hash-files = true`. Leptos reads the hashed names from that file.
pub fn hash_files(var: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<bool> {
    if let Some(value) = var("LEPTOS_HASH_FILES") {
        return value.trim().parse().map_err(|_| {
            anyhow::anyhow!("LEPTOS_HASH_FILES must be true or false, not {value:?}")
        });
    }
    Ok(hash_file_path(var).is_some_and(|path| path.is_file()))
}

/// The hash file's name, as Leptos looks for it beside the executable.
pub fn hash_file_name(var: &dyn Fn(&str) -> Option<String>) -> String {
    var("LEPTOS_HASH_FILE_NAME").unwrap_or_else(|| "hash.txt".to_string())
}

fn hash_file_path(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join(hash_file_name(var)))
}

#[cfg(test)]
mod tests {
    use super::{hash_files, is_hashed};

    #[test]
    fn hashed_names_are_told_from_plain_ones() {
        assert!(is_hashed("/pkg/warroom.bKCyEXQt5wH6Gn3nW_uqXA.wasm"));
        assert!(is_hashed("/pkg/__wasm_split.a-CyEXQt5wH6Gn3nW_uqXA.js"));
        assert!(is_hashed("/pkg/warroom.bKCyEXQt5wH6Gn3nW_uqXA.css"));
        assert!(!is_hashed("/pkg/warroom.wasm"));
        assert!(!is_hashed("/pkg/warroom_bg.wasm"));
        assert!(!is_hashed("/pkg/bKCyEXQt5wH6Gn3nW_uqXA.wasm"));
        assert!(!is_hashed("/pkg/warroom.too-short.wasm"));
        assert!(!is_hashed("/pkg/warroom.bKCyEXQt5wH6Gn3n!_uqXA.wasm"));
    }

    #[test]
    fn the_hash_setting_is_read_or_detected() {
        let set = |value: &'static str| {
            move |name: &str| (name == "LEPTOS_HASH_FILES").then(|| value.to_string())
        };
        assert!(hash_files(&set("true")).unwrap());
        assert!(!hash_files(&set("false")).unwrap());
        let err = hash_files(&set("yes")).unwrap_err().to_string();
        assert!(err.contains("LEPTOS_HASH_FILES"), "{err}");
        // No hash file beside the test binary.
        let none = |name: &str| {
            (name == "LEPTOS_HASH_FILE_NAME").then(|| "no-such-hash-file.txt".to_string())
        };
        assert!(!hash_files(&none).unwrap());
    }
}
