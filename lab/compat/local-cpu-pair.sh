#!/usr/bin/env bash
# local-cpu-pair.sh — the reference pmxcfs and pmxcfs-ts in local mode (-l), alternating, each in a
# private mount namespace with its own /etc/pve and a fresh /var/lib/pve-cluster (on /var/tmp, the
# same disk for both): 3 s of unmeasured writes, then the sync client lab-probe.js atomic for SECONDS,
# and the daemon's CPU per write (all threads, utime+stime from /proc/PID/stat, user part apart),
# with the client's own CPU per write (process.cpuUsage of lab-probe.js).
# CPU per write moves less with the machine's load than rates do (docs/benchmarks.md, session 7).
# Run as root, after `npm run build`.
#
#   REF_PMXCFS=/path/to/pmxcfs bash lab/compat/local-cpu-pair.sh [ROUNDS] [SECONDS]
# Env: IMPLS (default "ref ts"; "ts" alone needs no reference; "ts:/path/to/checkout" runs that
# build, so IMPLS="ts:/tmp/before ts:$PWD" compares two builds), TS_ROOT (the build "ts" runs,
# default this checkout), CLIENT (sync | async, default sync), PMXCFS_FUSE_SPIN_US (passed on).
# The reference resolves its node name through a private /etc/hosts to 10.217.0.250 (the project's
# subnet): in local mode it sends nothing anywhere.
set -u
ROUNDS=${1:-3}
SECS=${2:-4}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TS_ROOT=${TS_ROOT:-$ROOT}
PROBE=$ROOT/dist/lab/bench/lab-probe.js
IMPLS=${IMPLS:-ref ts}
CLIENT=${CLIENT:-sync}
[ -f "$PROBE" ] || { echo "no $PROBE: npm run build first" >&2; exit 2; }
case " $IMPLS " in *" ref "*) [ -x "${REF_PMXCFS:-}" ] || { echo "set REF_PMXCFS to the reference pmxcfs binary" >&2; exit 2; } ;; esac

ticks() { local s; s=$(cat "/proc/$1/stat"); s=${s##*) }; set -- $s; echo "${12} ${13}"; }

for r in $(seq 1 "$ROUNDS"); do
  for impl in $IMPLS; do
    d=$(mktemp -d /var/tmp/local-cpu-pair.XXXXXX)
    mkdir -p "$d/db"
    if [ "$impl" = ref ]; then
      printf '127.0.0.1 localhost\n10.217.0.250 %s\n' "$(hostname)" >"$d/hosts"
      run="mount --bind $d/hosts /etc/hosts; exec $REF_PMXCFS -f -l"
    else
      build=$TS_ROOT
      case "$impl" in ts:*) build=${impl#ts:} ;; esac
      run="exec node --max-semi-space-size=1 $build/dist/src/main.js -f -l --rrdcached-socket none"
    fi
    unshare -m --propagation private bash -c "mkdir -p /etc/pve /var/lib/pve-cluster; mount --bind $d/db /var/lib/pve-cluster; $run" >"$d/log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do nsenter -m -t "$pid" grep -q " /etc/pve fuse" /proc/mounts 2>/dev/null && break; sleep 0.1; done
    if ! nsenter -m -t "$pid" grep -q " /etc/pve fuse" /proc/mounts 2>/dev/null; then
      echo "round $r $impl: did not mount: $(tail -2 "$d/log")"
    else
      nsenter -m -t "$pid" mkdir -p /etc/pve/lcp-warm /etc/pve/lcp
      nsenter -m -t "$pid" node "$PROBE" atomic "{\"dir\":\"/etc/pve/lcp-warm\",\"mount\":\"/etc/pve\",\"seconds\":3,\"client\":\"$CLIENT\"}" >/dev/null 2>&1
      t0=$(ticks "$pid")
      res=$(nsenter -m -t "$pid" node "$PROBE" atomic "{\"dir\":\"/etc/pve/lcp\",\"mount\":\"/etc/pve\",\"seconds\":$SECS,\"client\":\"$CLIENT\"}" 2>/dev/null | tail -1)
      t1=$(ticks "$pid")
      node -e '
        const [res, t0, t1, label] = process.argv.slice(1);
        const r = JSON.parse(res).result;
        const [u0, s0] = t0.split(" ").map(Number), [u1, s1] = t1.split(" ").map(Number);
        const us = (ticks) => Math.round((ticks * 1e6) / 100 / r.ops); // USER_HZ 100
        const client = typeof r.clientCpuUsPerOp === "number" ? `, client CPU per write ${Math.round(r.clientCpuUsPerOp)} us` : "";
        console.log(`${label}: ${Math.round(r.perSecond)}/s p50 ${r.p50Ms.toFixed(3)} ms, daemon CPU per write ${us(u1 - u0 + s1 - s0)} us (user ${us(u1 - u0)})${client}`);
      ' "$res" "$t0" "$t1" "round $r $impl" || echo "round $r $impl: probe failed: $res"
    fi
    kill "$pid" 2>/dev/null
    # The reference can hang in its exit path inside a private namespace: give it 5 s.
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -rf "$d"
  done
done
