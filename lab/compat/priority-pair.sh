#!/usr/bin/env bash
# priority-pair.sh — replicated atomic writes of the reference pmxcfs and pmxcfs-ts on the issue's
# namespace harness (../shared/tools/nscluster.sh, or $NSC), each with corosync at SCHED_RR 99 (as
# started, as on a host) and then, in the same cluster, at SCHED_OTHER (docs/benchmarks.md, "The
# reference and pmxcfs-ts at both corosync priorities"). Per round and implementation (the order
# alternates): a fresh 3-node cluster, $WARM s of unmeasured writes (pmxcfs-ts's JIT compiles during its
# first seconds of load: measured cold, the first priority would pay for it), then the sync client
# lab-probe.js atomic on node1 for $SECS s at each priority, and every daemon's CPU per write from
# /proc/PID/stat. Run as root, after `npm run build`.
#
#   REF_PMXCFS=/path/to/pmxcfs bash lab/compat/priority-pair.sh [ROUNDS]
# Env: NSC (harness path), SECS (default 5), WARM (default 8), TS_NODE_FLAGS (extra node flags for pmxcfs-ts).
set -u
ROUNDS=${1:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NSC=${NSC:-$ROOT/../shared/tools/nscluster.sh}
PROBE=$ROOT/dist/lab/bench/lab-probe.js
SECS=${SECS:-5}
WARM=${WARM:-8}
[ -x "${REF_PMXCFS:-}" ] || { echo "set REF_PMXCFS to the reference pmxcfs binary" >&2; exit 2; }
[ -x "$NSC" ] || [ -f "$NSC" ] || { echo "no harness at $NSC (set NSC)" >&2; exit 2; }
[ -f "$PROBE" ] || { echo "no $PROBE: npm run build first" >&2; exit 2; }
WORK=$(mktemp -d /tmp/priority-pair.XXXXXX)
cpu_ticks() { local p s; for p in "$@"; do s=$(cat "/proc/$p/stat"); s=${s##*) }; set -- $s; echo -n "$(( ${12} + ${13} )) "; done; }
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then order="ref ts"; else order="ts ref"; fi
  for impl in $order; do
    W=$WORK/$impl-$r
    if [ "$impl" = ref ]; then CMD=("$REF_PMXCFS" -f)
    else CMD=(node --max-semi-space-size=1 ${TS_NODE_FLAGS:-} "$ROOT/dist/src/main.js" -f --rrdcached-socket none); fi
    if ! bash "$NSC" up 3 "$W" -- "${CMD[@]}" >"$W.up.log" 2>&1; then
      echo "round $r $impl: cluster did not come up: $(tail -1 "$W.up.log")"; bash "$NSC" down "$W" >/dev/null 2>&1; continue
    fi
    export NSC_WORKDIR=$W
    sleep 2
    pids=$(for k in 1 2 3; do awk '{print $1}' "$W/node$k/daemon.pid"; done)
    bash "$NSC" exec 1 node "$PROBE" atomic "{\"dir\":\"/etc/pve/pp-warm\",\"mount\":\"/etc/pve\",\"seconds\":$WARM,\"client\":\"sync\"}" >/dev/null 2>&1
    for prio in SCHED_RR SCHED_OTHER; do
      if [ $prio = SCHED_OTHER ]; then
        for k in 1 2 3; do p=$(awk '{print $1}' "$W/node$k/corosync.pid"); for t in /proc/"$p"/task/*; do chrt -o -p 0 "${t##*/}"; done; done
      fi
      t0=$(cpu_ticks $pids)
      res=$(bash "$NSC" exec 1 node "$PROBE" atomic "{\"dir\":\"/etc/pve/pp-$prio\",\"mount\":\"/etc/pve\",\"seconds\":$SECS,\"client\":\"sync\"}" 2>/dev/null | tail -1)
      t1=$(cpu_ticks $pids)
      node -e '
        const [res, t0, t1, label] = process.argv.slice(1);
        const r = JSON.parse(res).result;
        const hz = 100; // USER_HZ of /proc times
        const a = t0.trim().split(/ +/).map(Number), b = t1.trim().split(/ +/).map(Number);
        const cpu = a.map((x, i) => (((b[i] - x) * 1000) / hz / r.ops).toFixed(2)).join(" / ");
        console.log(`${label}: ${Math.round(r.perSecond)}/s p50 ${r.p50Ms.toFixed(2)} ms, daemon CPU per write ${cpu} ms`);
      ' "$res" "$t0" "$t1" "round $r $impl $prio" || echo "round $r $impl $prio: probe failed: $res"
    done
    bash "$NSC" down "$W" >"$W.down.log" 2>&1
  done
done
rm -rf "$WORK"
