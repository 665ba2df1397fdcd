#!/usr/bin/env bash
# Builds the release binary and the browser bundle with cargo-leptos, doing only what
# changed: `make run`, `make test` and `make bench` call it.
#
# `cargo leptos build` reruns wasm-bindgen, the wasm splitter, wasm-opt, the JS minifier
# and the precompression on every call, even when cargo has nothing to recompile: about
# a minute on two cores. So the front end's inputs (the app crate, styles, assets,
# manifests, lock file, tool versions, flags) are hashed; when the hash and the site
# directory are those of the last front-end build, only the server is built
# (`--server-only`, which leaves the site alone; cargo decides whether anything in it is
# stale, a no-op taking a few seconds when nothing is).
set -euo pipefail

cd "$(dirname "$0")/.."
LEPTOS_BUILD=(cargo leptos build --release --precompress --split)
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
site_root=$PWD/target/site
stamp=$target_dir/release/warroom-front.stamp
hash_file=$target_dir/release/hash.txt

# What the bundle is made from (the server's own sources are cargo's business).
front_inputs() {
  printf '%s\n' "${LEPTOS_BUILD[*]}" "target=$target_dir" "RUSTFLAGS=${RUSTFLAGS:-}"
  cargo leptos --version
  rustc -vV
  wasm-bindgen --version
  wasm-opt --version
  local paths=() path
  for path in Cargo.toml Cargo.lock app style public .cargo; do
    [ -e "$path" ] && paths+=("$path")
  done
  find "${paths[@]}" -type f -not -name '*.swp' -not -name '*~' -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum
}

# What the front-end build left: every file of the site with its size, and the hash
# file beside the binary that names the hashed files.
front_outputs() {
  [ -d "$site_root" ] && [ -f "$hash_file" ] || return 1
  (cd "$site_root" && find . -type f -printf '%P %s\n' | LC_ALL=C sort)
  cat "$hash_file"
}

wanted="inputs $(front_inputs | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && have=$(front_outputs) &&
  [ "$(cat "$stamp")" = "$wanted"$'\n'"outputs $(sha256sum <<<"$have" | cut -d' ' -f1)" ]; then
  echo "build: the browser bundle is up to date (${stamp#"$PWD"/}); building the server only"
  exec "${LEPTOS_BUILD[@]}" --server-only
fi

rm -f "$stamp"
"${LEPTOS_BUILD[@]}"
have=$(front_outputs)
printf '%s\n%s\n' "$wanted" "outputs $(sha256sum <<<"$have" | cut -d' ' -f1)" >"$stamp"
