#!/usr/bin/env bash
# Installs everything pmxcfs-ts needs on a Debian 12 host, idempotently: Debian packages (FUSE,
# corosync, SQLite, build tools, the Docker engine and debootstrap for the lab) and the npm
# packages. Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "[setup] run as root (it installs Debian packages)" >&2
    exit 1
  fi
}

APT_PACKAGES=(
  fuse3                                   # fusermount (the daemon itself speaks to /dev/fuse)
  corosync                                # libcpg/libquorum/libcmap and corosync for tests
  sqlite3                                 # inspecting config.db
  build-essential python3                 # better-sqlite3 compiles from source here
  docker.io debootstrap                   # the lab (engine; base image made offline)
  iproute2 util-linux procps              # network namespaces for the corosync integration tests
  librrd8 rrdtool rrdcached               # RRD files (librrd through koffi); rrdtool/rrdcached for the RRD tests
  chromium                                # headless browser for the chaos report and lab dashboard tests (playwright-core)
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  need_root
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

if ! command -v node >/dev/null 2>&1; then
  echo "[setup] Node.js >= 20 is required (node not found)" >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "[setup] Node.js >= 20 is required, found $(node --version)" >&2
  exit 1
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (better-sqlite3 compiles from source: ~1.5 min on 2 cores)"
  npm ci --no-audit --no-fund --loglevel=error
else
  log "npm packages present"
fi
log "done"
