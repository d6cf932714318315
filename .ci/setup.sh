#!/usr/bin/env bash
# Installs everything `make run` and `make test` need, idempotently.
# Only the registries this machine reaches are used: crates.io, npm, Debian apt.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.11
log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# The wasm-bindgen CLI must match the library version in Cargo.lock exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_apt_packages() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v sudo >/dev/null || missing+=(sudo)
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then missing+=(postgresql); fi
  # The JMAP and CalDAV tests run against a real Cyrus IMAP (its httpd is in cyrus-caldav).
  [ -x /usr/lib/cyrus/bin/master ] || missing+=(cyrus-imapd)
  [ -x /usr/lib/cyrus/bin/httpd ] || missing+=(cyrus-caldav)
  command -v saslpasswd2 >/dev/null || missing+=(sasl2-bin)
  command -v python3 >/dev/null || missing+=(python3)
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  if [ ${#missing[@]} -gt 0 ]; then log "apt: installing ${missing[*]}"; apt_install "${missing[@]}"; fi
}

# cargo-leptos and wasm-bindgen-cli lockfiles pin crates that need a newer rustc or are not
# served; unpack the published crate, pin the offending dependency down, install --locked.
install_pinned_crate() {
  local name=$1 version=$2 pin_pkg=$3 pin_version=$4; shift 4
  local work; work=$(mktemp -d)
  curl -sSfL "https://static.crates.io/crates/$name/$name-$version.crate" | tar -xz -C "$work"
  (
    cd "$work/$name-$version"
    cargo update -q -p "$pin_pkg" --precise "$pin_version"
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install -q --path . --locked "$@"
  )
  rm -rf "$work"
}

ensure_rust_tools() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown \
    || { log "rustup: adding wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown; }

  if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (~14 min, once)"
    install_pinned_crate cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-util-schemas 0.14.1 --features no_downloads
  fi

  local wbv; wbv=$(wasm_bindgen_version)
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbv"; then
    log "installing wasm-bindgen-cli $wbv (~3 min, once)"
    install_pinned_crate wasm-bindgen-cli "$wbv" webpki-roots 1.0.10
  fi
}

ensure_node_packages() {
  # binaryen (wasm-opt) and Playwright come from npm with a committed lockfile.
  if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    log "npm ci (end2end: playwright, binaryen)"
    (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# Radicale (CalDAV) from PyPI in a venv under target/ (Debian's is too old).
RADICALE_VERSION=3.9.0
ensure_radicale() {
  local venv=target/radicale-venv
  if ! "$venv/bin/python" -c "import radicale, sys; sys.exit(radicale.VERSION != '$RADICALE_VERSION')" 2>/dev/null; then
    log "pip: radicale $RADICALE_VERSION in $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "radicale==$RADICALE_VERSION"
  fi
}

ensure_apt_packages
ensure_radicale
ensure_rust_tools
ensure_node_packages
log "tools ready"
