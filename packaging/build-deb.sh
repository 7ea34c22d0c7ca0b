#!/bin/sh
# Builds the pmxcfs-ts Debian package from this repository with dpkg-deb (no debhelper needed).
#
# usage: packaging/build-deb.sh [--no-build] [--system-node] [--out DIR]
#   --no-build     use the existing dist/ (default: npm run build first)
#   --system-node  do not bundle Node; depend on a nodejs 20.x package instead
#   --out DIR      where the .deb goes (default packaging/out)
# Environment: NODE_BIN  the Node binary to bundle (default: the `node` on PATH; must be 20.x,
#                        the version the native modules in node_modules were built for)
#
# Layout of the package:
#   /usr/lib/pmxcfs-ts/{node,package.json,dist/src,node_modules}   runtime (production deps only)
#   /usr/lib/pmxcfs-ts/clean-stale-mount                           ExecStartPre helper
#   /usr/bin/pmxcfs-ts                                             wrapper
#   /lib/systemd/system/pmxcfs-ts.service, /usr/lib/tmpfiles.d/pmxcfs-ts.conf
#   /etc/default/pmxcfs-ts (conffile), /var/lib/pve-cluster (0755)
#   /usr/share/doc/pmxcfs-ts/{operations.md,recovery.md}
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
OUT="$HERE/out"
BUILD=1
BUNDLE_NODE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --system-node) BUNDLE_NODE=0 ;;
    --out) OUT="$2"; shift ;;
    --out=*) OUT="${1#--out=}" ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "build-deb: unknown option $1" >&2; exit 64 ;;
  esac
  shift
done

say() { printf '[build-deb] %s\n' "$*"; }
die() { printf '[build-deb] error: %s\n' "$*" >&2; exit 1; }

command -v dpkg-deb >/dev/null || die "dpkg-deb is missing"
NODE_BIN="${NODE_BIN:-$(command -v node || true)}"
[ -x "$NODE_BIN" ] || die "no node binary (set NODE_BIN)"
NODE_MAJOR=$("$NODE_BIN" -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" = 20 ] || die "Node $NODE_MAJOR: the native modules are built for Node 20 (set NODE_BIN)"

cd "$REPO"
if [ "$BUILD" = 1 ]; then
  say "compiling TypeScript (npm run build)"
  npm run build --silent >/dev/null || say "tsc reported errors (output emitted anyway); checking the result"
fi
[ -f dist/src/main.js ] || die "dist/src/main.js is missing: run npm run build"
for m in better-sqlite3 koffi; do
  [ -d "node_modules/$m" ] || die "node_modules/$m is missing: run npm ci"
done

VERSION=$("$NODE_BIN" -p 'require("./package.json").version')
ARCH=$(dpkg --print-architecture)
STAGE=$(mktemp -d /tmp/pmxcfs-ts-deb.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT INT TERM
ROOT="$STAGE/root"
LIB="$ROOT/usr/lib/pmxcfs-ts"
umask 022
mkdir -p "$LIB/dist" "$ROOT/usr/bin" "$ROOT/lib/systemd/system" "$ROOT/usr/lib/tmpfiles.d" \
  "$ROOT/etc/default" "$ROOT/var/lib/pve-cluster" "$ROOT/usr/share/doc/pmxcfs-ts" "$ROOT/DEBIAN"

say "staging the runtime"
cp -a dist/src "$LIB/dist/src"
find "$LIB/dist" -name '*.map' -delete
cp package.json "$LIB/package.json"
# Production dependencies only, as npm resolves them from the lock file (no network).
npm ls --omit=dev --all --parseable 2>/dev/null | sed -n "s|^$REPO/node_modules/||p" | sort -u > "$STAGE/modules"
[ -s "$STAGE/modules" ] || die "npm ls found no production modules"
while IFS= read -r m; do
  mkdir -p "$LIB/node_modules/$(dirname "$m")"
  cp -a "node_modules/$m" "$LIB/node_modules/$m"
done < "$STAGE/modules"
# Build intermediates of the native modules are not needed at run time.
rm -rf "$LIB/node_modules/better-sqlite3/deps" "$LIB/node_modules/better-sqlite3/src" \
  "$LIB/node_modules/better-sqlite3/build/Release/obj" "$LIB/node_modules/better-sqlite3/build/Release/obj.target" \
  "$LIB/node_modules/better-sqlite3/build/Release/.deps" "$LIB/node_modules/better-sqlite3/build/Release/sqlite3.a" \
  "$LIB/node_modules/better-sqlite3/build/Release/test_extension.node" "$LIB/node_modules/better-sqlite3/build/deps"
find "$LIB/node_modules" -name '*.o' -delete

if [ "$BUNDLE_NODE" = 1 ]; then
  say "bundling $NODE_BIN ($("$NODE_BIN" --version))"
  cp "$NODE_BIN" "$LIB/node"
  chmod 0755 "$LIB/node"
  NODE_PATH_IN_WRAPPER=/usr/lib/pmxcfs-ts/node
  NODE_DEP=""
else
  NODE_PATH_IN_WRAPPER=/usr/bin/node
  NODE_DEP=", nodejs (>= 20.11), nodejs (<< 21)"
fi
sed "s|@NODE@|$NODE_PATH_IN_WRAPPER|" packaging/files/pmxcfs-ts.wrapper > "$ROOT/usr/bin/pmxcfs-ts"
chmod 0755 "$ROOT/usr/bin/pmxcfs-ts"
install -m 0755 packaging/files/clean-stale-mount "$LIB/clean-stale-mount"
install -m 0644 packaging/files/pmxcfs-ts.service "$ROOT/lib/systemd/system/pmxcfs-ts.service"
install -m 0644 packaging/files/tmpfiles.conf "$ROOT/usr/lib/tmpfiles.d/pmxcfs-ts.conf"
install -m 0644 packaging/files/default "$ROOT/etc/default/pmxcfs-ts"
chmod 0755 "$ROOT/var/lib/pve-cluster"
for doc in operations.md recovery.md; do
  [ -f "docs/$doc" ] && install -m 0644 "docs/$doc" "$ROOT/usr/share/doc/pmxcfs-ts/$doc"
done
for s in postinst prerm postrm; do install -m 0755 "packaging/debian/$s" "$ROOT/DEBIAN/$s"; done
echo /etc/default/pmxcfs-ts > "$ROOT/DEBIAN/conffiles"

SIZE_KB=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
cat > "$ROOT/DEBIAN/control" <<CONTROL
Package: pmxcfs-ts
Version: $VERSION
Architecture: $ARCH
Maintainer: pmxcfs-ts developers <pmxcfs-ts@localhost>
Installed-Size: $SIZE_KB
Depends: libc6 (>= 2.36), libstdc++6, fuse3 | fuse, mount, coreutils, librrd8$NODE_DEP
Recommends: corosync
Section: admin
Priority: optional
Description: Proxmox cluster file system (/etc/pve), TypeScript implementation
 pmxcfs-ts is an independent implementation of the Proxmox VE cluster file
 system: a FUSE file system at /etc/pve kept in RAM and in SQLite
 (/var/lib/pve-cluster/config.db), replicated through corosync, wire- and
 database-compatible with the C pmxcfs. Run it instead of pve-cluster's pmxcfs,
 never beside it.
CONTROL

mkdir -p "$OUT"
DEB="$OUT/pmxcfs-ts_${VERSION}_${ARCH}.deb"
say "dpkg-deb --build ($SIZE_KB KiB installed)"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESS:-gzip}" --build "$ROOT" "$DEB" >/dev/null
say "built $DEB ($(du -h "$DEB" | cut -f1))"
