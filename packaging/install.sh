#!/bin/sh
# Builds the pmxcfs-ts package from this repository and installs it on this Debian 12 host.
# Runtime dependencies (fuse3) come from apt. The service is not started: run
#   systemctl enable --now pmxcfs-ts
# usage: packaging/install.sh [build-deb.sh options, e.g. --no-build]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
OUT=$(mktemp -d /tmp/pmxcfs-ts-install.XXXXXX)
trap 'rm -rf "$OUT"' EXIT INT TERM
"$HERE/build-deb.sh" --out "$OUT" "$@"
DEB=$(ls "$OUT"/pmxcfs-ts_*.deb)
# apt resolves the Depends: line (fuse3); the file is readable by the _apt user.
chmod 0755 "$OUT"; chmod 0644 "$DEB"
if ! apt-get install -y "$DEB"; then
  echo "install.sh: apt-get failed; trying dpkg -i (dependencies must already be installed)" >&2
  dpkg -i "$DEB"
fi
echo "install.sh: installed $(dpkg-query -W -f '${Package} ${Version}' pmxcfs-ts)."
echo "  start:  systemctl enable --now pmxcfs-ts     status: pmxcfs-ts status"
