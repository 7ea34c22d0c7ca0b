#!/usr/bin/env bash
# @cocalc/fuse-native 2.4.x hands utimens() the access time in both slots (its C glue converts
# l->atime twice), so the daemon never sees the modification time: utimes(f, 1000, 2000) would set
# mtime 1000, and a lock renewal utime(dir, 0, now) would look like an unlock request. Fix that one
# argument and rebuild the addon. Idempotent: does nothing once patched.
set -euo pipefail
cd "$(dirname "$0")/.."
src=node_modules/@cocalc/fuse-native/fuse-native.c
[ -f "$src" ] || { echo "[patch] $src not found (run npm ci first)" >&2; exit 1; }
if grep -q 'FUSE_UINT64_TO_INTS_ARGV(l->atime, 5)' "$src"; then
  echo "[patch] fuse-native: passing mtime to utimens, rebuilding the addon"
  sed -i 's/FUSE_UINT64_TO_INTS_ARGV(l->atime, 5)/FUSE_UINT64_TO_INTS_ARGV(l->mtime, 5)/' "$src"
  rm -rf node_modules/@cocalc/fuse-native/build
  npm rebuild --loglevel=error @cocalc/fuse-native >/dev/null
else
  echo "[patch] fuse-native: utimens already passes mtime"
fi
