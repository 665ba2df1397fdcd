#!/usr/bin/env bash
# Installs what building, running and testing Warroom needs, once: every step checks
# first and does nothing when its tool is already there. Usage: prerequisites.sh build|test|bench
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.10
# Must equal the wasm-bindgen version in Cargo.lock.
WASM_BINDGEN_VERSION=0.2.130
# Debian's binaryen (108) produces wasm that fails to hydrate; 132 from npm works.
BINARYEN_VERSION=132
TOOLS_DIR="${HOME}/.cargo/bin"
NODE_TOOLS_DIR="${HOME}/.cache/warroom/node-tools"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then sudo_if_needed apt-get update -qq; apt_updated=1; fi
  say "apt-get install $*"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_rust_wasm() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
}

ensure_cargo_leptos() {
  if ! cargo leptos --version 2>/dev/null | grep -q " ${CARGO_LEPTOS_VERSION}"; then
    say "installing cargo-leptos ${CARGO_LEPTOS_VERSION} (about 25 minutes on 2 cores, once)"
    cargo install cargo-leptos --version "${CARGO_LEPTOS_VERSION}" --locked
  fi
}

ensure_wasm_bindgen() {
  if ! wasm-bindgen --version 2>/dev/null | grep -q " ${WASM_BINDGEN_VERSION}"; then
    say "installing wasm-bindgen-cli ${WASM_BINDGEN_VERSION}"
    cargo install wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}" --force
  fi
}

ensure_node() {
  command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
}

ensure_wasm_opt() {
  if ! "${TOOLS_DIR}/wasm-opt" --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION}"; then
    ensure_node
    say "installing wasm-opt (binaryen ${BINARYEN_VERSION} from npm)"
    mkdir -p "${NODE_TOOLS_DIR}" "${TOOLS_DIR}"
    npm install --silent --no-audit --no-fund --prefix "${NODE_TOOLS_DIR}" "binaryen@${BINARYEN_VERSION}"
    ln -sf "${NODE_TOOLS_DIR}/node_modules/.bin/wasm-opt" "${TOOLS_DIR}/wasm-opt"
  fi
}

ensure_postgres() {
  if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt_install postgresql
  fi
  # As root, Postgres runs as the postgres user (the package creates it).
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then apt_install postgresql; fi
}

ensure_chromium() {
  command -v chromium >/dev/null || apt_install chromium
}

ensure_bench_tools() {
  command -v wrk >/dev/null || apt_install wrk
  ensure_nginx
}

# The status-page bench runs nginx itself (own config, port and paths); the package's own
# service must not start on port 80, so service starts are refused while it installs
# unless the machine already has a policy (containers usually refuse them anyway).
ensure_nginx() {
  if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then return; fi
  local policy=/usr/sbin/policy-rc.d
  if [ -e "$policy" ]; then apt_install nginx-light; return; fi
  printf '#!/bin/sh\nexit 101\n' | sudo_if_needed tee "$policy" >/dev/null
  sudo_if_needed chmod 0755 "$policy"
  local status=0
  apt_install nginx-light || status=$?
  sudo_if_needed rm -f "$policy"
  return "$status"
}

# The token API's contract test (server/tests/app/api_contract.rs) drives schemathesis,
# from PyPI, in a virtualenv of its own.
SCHEMATHESIS_VERSION=4.32.5
SCHEMATHESIS_VENV="${HOME}/.cache/warroom/schemathesis"
ensure_schemathesis() {
  if "${SCHEMATHESIS_VENV}/bin/schemathesis" --version 2>/dev/null | grep -q " ${SCHEMATHESIS_VERSION}\$"; then
    return
  fi
  command -v python3 >/dev/null || apt_install python3
  python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
  say "installing schemathesis ${SCHEMATHESIS_VERSION} (PyPI, into ${SCHEMATHESIS_VENV})"
  rm -rf "${SCHEMATHESIS_VENV}"
  python3 -m venv "${SCHEMATHESIS_VENV}"
  "${SCHEMATHESIS_VENV}/bin/pip" install --quiet --disable-pip-version-check "schemathesis==${SCHEMATHESIS_VERSION}"
}

ensure_build() {
  ensure_rust_wasm
  ensure_node
  ensure_wasm_opt
  ensure_wasm_bindgen
  ensure_cargo_leptos
  ensure_postgres
}

case "${1:-build}" in
  build) ensure_build ;;
  test) ensure_build; ensure_chromium; ensure_schemathesis ;;
  bench) ensure_build; ensure_bench_tools; ensure_chromium ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac
