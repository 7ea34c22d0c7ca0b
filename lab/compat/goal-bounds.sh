#!/usr/bin/env bash
# goal-bounds.sh — issue 10's three-node goals against what corosync alone allows, same clusters,
# same minutes. Per round and implementation (the order alternates): a fresh 3-node cluster on the
# issue's namespace harness (../shared/tools/nscluster.sh, or $NSC), $WARM s of unmeasured writes,
# then at each corosync priority (SCHED_RR 99 as started, as on a host; then SCHED_OTHER, as in a
# container):
#   - the floor: dist/lab/bench/cpg-floor.js on node1, a bare CPG client that multicasts 3, 2 and 1
#     messages one at a time and waits for its own delivery of each (no file system);
#   - the file system: lab-probe.js atomic writes (3 replicated messages each) and lock pairs (2),
#     with the sync and the async client, on node1.
# Every figure is one line: "round R IMPL PRIO WHAT: N/s p50 X ms". A file-system goal of 2x the
# reference is reachable only where 2x the reference's rate stays below the floor of the same
# number of messages. Run as root, after `npm run build`.
#
#   REF_PMXCFS=/path/to/pmxcfs bash lab/compat/goal-bounds.sh [ROUNDS]
# Env: NSC (harness path), SECS (per figure, default 4), WARM (default 4), IMPLS (default "ref ts").
set -u
ROUNDS=${1:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NSC=${NSC:-$ROOT/../shared/tools/nscluster.sh}
PROBE=$ROOT/dist/lab/bench/lab-probe.js
FLOOR=$ROOT/dist/lab/bench/cpg-floor.js
SECS=${SECS:-4}
WARM=${WARM:-4}
IMPLS=${IMPLS:-ref ts}
case " $IMPLS " in *" ref "*) [ -x "${REF_PMXCFS:-}" ] || { echo "set REF_PMXCFS to the reference pmxcfs binary" >&2; exit 2; } ;; esac
[ -f "$NSC" ] || { echo "no harness at $NSC (set NSC)" >&2; exit 2; }
[ -f "$PROBE" ] && [ -f "$FLOOR" ] || { echo "no $PROBE or $FLOOR: npm run build first" >&2; exit 2; }
WORK=$(mktemp -d /tmp/goal-bounds.XXXXXX)

# One JSON result line on stdin -> "LABEL: N/s p50 X ms" (cpg-floor prints its fields at the top
# level, lab-probe under "result").
show() {
  node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const line = s.trim().split("\n").pop() || "{}";
      let j; try { j = JSON.parse(line); } catch { j = {}; }
      const r = j.result ?? j;
      if (j.ok === false || typeof r.perSecond !== "number") { console.log(`${process.argv[1]}: failed: ${line.slice(0, 160)}`); return; }
      console.log(`${process.argv[1]}: ${Math.round(r.perSecond)}/s p50 ${r.p50Ms.toFixed(2)} ms`);
    });' "$1"
}

for r in $(seq 1 "$ROUNDS"); do
  order=$IMPLS
  [ $((r % 2)) = 0 ] && order=$(echo "$IMPLS" | awk '{for (i = NF; i > 0; i--) printf "%s ", $i}')
  for impl in $order; do
    W=$WORK/$impl-$r
    if [ "$impl" = ref ]; then CMD=("$REF_PMXCFS" -f)
    else CMD=(node --max-semi-space-size=1 "$ROOT/dist/src/main.js" -f --rrdcached-socket none); fi
    if ! bash "$NSC" up 3 "$W" -- "${CMD[@]}" >"$W.up.log" 2>&1; then
      echo "round $r $impl: cluster did not come up: $(tail -1 "$W.up.log")"; bash "$NSC" down "$W" >/dev/null 2>&1; continue
    fi
    export NSC_WORKDIR=$W
    sleep 2
    bash "$NSC" exec 1 node "$PROBE" atomic "{\"dir\":\"/etc/pve/gb-warm\",\"mount\":\"/etc/pve\",\"seconds\":$WARM,\"client\":\"sync\"}" >/dev/null 2>&1
    for prio in SCHED_RR SCHED_OTHER; do
      if [ $prio = SCHED_OTHER ]; then
        for k in 1 2 3; do p=$(awk '{print $1}' "$W/node$k/corosync.pid"); for t in /proc/"$p"/task/*; do chrt -o -p 0 "${t##*/}"; done; done
      fi
      for k in 3 2 1; do
        bash "$NSC" exec 1 node "$FLOOR" "$k" "$SECS" 2>/dev/null | show "round $r $impl $prio floor-$k"
      done
      for client in sync async; do
        bash "$NSC" exec 1 node "$PROBE" atomic "{\"dir\":\"/etc/pve/gb-$prio-$client\",\"mount\":\"/etc/pve\",\"seconds\":$SECS,\"client\":\"$client\"}" 2>/dev/null |
          show "round $r $impl $prio atomic-$client"
        bash "$NSC" exec 1 node "$PROBE" lock "{\"mount\":\"/etc/pve\",\"seconds\":$SECS,\"client\":\"$client\"}" 2>/dev/null |
          show "round $r $impl $prio lock-$client"
      done
    done
    bash "$NSC" down "$W" >"$W.down.log" 2>&1
  done
done
rm -rf "$WORK"
