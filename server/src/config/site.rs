//! Where the compiled front end (wasm, JS, CSS) is: cargo-leptos sets these when it runs
//! Warroom; the defaults are those of a `cargo leptos build` in this repository.

use super::settings::Setting;

pub const SITE_ADDR: Setting = Setting::new(
    "LEPTOS_SITE_ADDR",
    "",
    "",
    "listen address cargo-leptos passes (WARROOM_ADDR wins)",
);
pub const OUTPUT_NAME: Setting = Setting::new(
    "LEPTOS_OUTPUT_NAME",
    "site.output_name",
    "warroom",
    "base name of the front end's wasm/JS/CSS files",
);
pub const SITE_ROOT: Setting = Setting::new(
    "LEPTOS_SITE_ROOT",
    "site.root",
    "target/site",
    "directory of the built front end",
);
pub const SITE_PKG_DIR: Setting = Setting::new(
    "LEPTOS_SITE_PKG_DIR",
    "site.pkg_dir",
    "pkg",
    "the front end's files' directory under the site root",
);

pub const SETTINGS: &[&Setting] = &[&SITE_ADDR, &OUTPUT_NAME, &SITE_ROOT, &SITE_PKG_DIR];
