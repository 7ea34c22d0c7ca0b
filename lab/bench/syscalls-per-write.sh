#!/bin/bash
# Syscalls a local-mode daemon makes (all its threads) per atomic 1 KiB write of a sync client
# (writeFileSync of x.tmp, renameSync to x), counted with strace -c -f. Counts, unlike rates, do not
# move with the machine's load, so they show what a change removes.
# usage: bash lab/bench/syscalls-per-write.sh [BUILD_DIR (default: this project)] [WRITES (default 2000)]
set -euo pipefail
build=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
n=${2:-2000}
command -v strace >/dev/null || { echo "needs strace (apt-get install strace)" >&2; exit 2; }
d=$(mktemp -d /var/tmp/pmxcfs-syscalls.XXXXXX)
mkdir "$d/mnt"
node --max-semi-space-size=1 "$build/dist/src/main.js" -f -l --mount "$d/mnt" --db "$d/config.db" --nodename node1 >"$d/log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; umount -l "$d/mnt" 2>/dev/null || true; rm -rf "$d"; }
trap cleanup EXIT
for _ in $(seq 1 100); do grep -q " $d/mnt " /proc/mounts && break; sleep 0.1; done
grep -q " $d/mnt " /proc/mounts || { echo "the daemon did not mount $d/mnt:" >&2; cat "$d/log" >&2; exit 1; }
writes() { node -e "const fs=require('fs');const b='$d/mnt/b';fs.mkdirSync(b,{recursive:true});for(let i=0;i<$1;i++){fs.writeFileSync(b+'/x.tmp','y'.repeat(1024));fs.renameSync(b+'/x.tmp',b+'/x')}"; }
writes 200 # warm up: JIT, SQLite's cache, the kernel's names
strace -c -f -p "$pid" -o "$d/strace" 2>/dev/null &
st=$!
sleep 1
writes "$n"
sleep 0.5
kill -INT "$st"; wait "$st" || true
awk -v n="$n" '
  /^-/ || /calls/ { next }
  / total$/ { total = $4; next }
  NF >= 5 && $4 / n >= 0.05 { rows = rows sprintf("  %-14s %6.2f\n", $NF, $4 / n) }
  END { printf "%.1f syscalls per atomic write (%d writes)\n%s", total / n, n, rows }' "$d/strace"
