#!/usr/bin/env bash
# ns-pair.sh — one pmxcfs-like daemon in LOCAL mode (-l) inside a private mount + UTS + network
# namespace, so the reference pmxcfs and pmxcfs-ts can run side by side on one host and be asked
# the same questions (docs/lab.md, "Comparing with the reference"). No bridge, no traffic: the
# namespace has loopback and one veth pair with 10.219.0.1 (the node name must resolve to a
# non-loopback address for the reference). Run as root.
#
#   ns-pair.sh up NAME DB           namespace NAME with a copy of config.db DB
#   ns-pair.sh start NAME CMD...    start a daemon there (e.g. /path/pmxcfs -f -l, or node dist/src/main.js -f -l)
#   ns-pair.sh exec NAME CMD...     run CMD inside (IPC clients must: abstract sockets and /dev/shm are per namespace)
#   ns-pair.sh stop NAME            SIGTERM the daemon, wait up to 10 s, detach a FUSE mount it left
#   ns-pair.sh reset NAME DB CMD... stop, fresh copy of DB, start CMD
#   ns-pair.sh down NAME            stop the daemon and end the namespace
# State lives in $NS_PAIR_DIR/NAME (default /tmp/ns-pair). The namespace sees overlays of /etc and
# /var/lib (nothing done to the host's /etc/pve or /var/lib/... can detach its mounts), private
# /etc/pve, /etc/corosync, /etc/hosts, /var/lib/pve-cluster, /var/lib/rrdcached/db, /run and /dev/shm; hostname node1.
set -u
BASE=${NS_PAIR_DIR:-/tmp/ns-pair}
FUSE_MAGIC=65735546
cmd=${1:-}; N=${2:-}; shift 2 || { echo "usage: $0 up|start|exec|stop|reset|down NAME ..." >&2; exit 2; }
D=$BASE/$N
holder() { cat "$D/holder.pid"; }
in_ns() { nsenter -t "$(holder)" -m -n -u --wd=/ -- "$@"; }
# From mountinfo, without touching the mount (a hung daemon would block a stat).
fuse_mounted() { [ "$(in_ns awk '$5 == "/etc/pve" { for (i = 7; $i != "-"; i++); t = $(i + 1) } END { print t }' /proc/self/mountinfo)" = fuse ]; }
case $cmd in
up)
  DB=$1
  mkdir -p "$D"/{var-lib,run,etc-pve,etc-corosync,rrd,etc-up/pve,etc-work,varlib-up/pve-cluster,varlib-up/rrdcached/db,varlib-work}
  cp "$DB" "$D/var-lib/config.db"; chmod 600 "$D/var-lib/config.db"
  printf '127.0.0.1 localhost\n10.219.0.1 node1.example node1\n' >"$D/hosts"
  rm -f "$D/ready"
  unshare --mount --uts --net --propagation private -- sh -c '
    set -e; D=$1; hostname node1
    ip link set lo up; ip link add d0 type veth peer name d1
    ip addr add 10.219.0.1/24 dev d0; ip link set d0 up; ip link set d1 up
    mount -t overlay ns-pair-etc -o lowerdir=/etc,upperdir=$D/etc-up,workdir=$D/etc-work /etc
    mount -t overlay ns-pair-varlib -o lowerdir=/var/lib,upperdir=$D/varlib-up,workdir=$D/varlib-work /var/lib
    mount --bind $D/etc-corosync /etc/corosync; mount --bind $D/var-lib /var/lib/pve-cluster
    mount --bind $D/etc-pve /etc/pve; mount --bind $D/hosts /etc/hosts; mount --bind $D/run /run
    mount --bind $D/rrd /var/lib/rrdcached/db
    mount -t tmpfs -o mode=1777,size=64m ns-pair-shm /dev/shm
    echo ready >$D/ready; exec sleep infinity' ns-pair "$D" </dev/null >"$D/holder.log" 2>&1 &
  echo $! >"$D/holder.pid"
  for _ in $(seq 100); do [ -f "$D/ready" ] && exit 0; sleep 0.1; done
  echo "namespace setup failed: $(cat "$D/holder.log")" >&2; exit 1 ;;
start)
  setsid nsenter -t "$(holder)" -m -n -u --wd=/ -- "$@" </dev/null >>"$D/daemon.log" 2>&1 &
  echo $! >"$D/daemon.pid"
  for _ in $(seq 300); do
    [ "$(in_ns timeout 5 stat -f -c %t /etc/pve 2>/dev/null)" = $FUSE_MAGIC ] && exit 0
    kill -0 "$(cat "$D/daemon.pid")" 2>/dev/null || { echo "daemon exited: $(tail -5 "$D/daemon.log")" >&2; exit 1; }
    sleep 0.1
  done
  echo "no FUSE mount at /etc/pve after 30 s: $(tail -5 "$D/daemon.log")" >&2; exit 1 ;;
exec)
  in_ns "$@" ;;
stop)
  pid=$(cat "$D/daemon.pid" 2>/dev/null) || exit 0
  kill "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  # The reference sometimes hangs after "teardown filesystem" (seen after IPC connections it had
  # to drop): it is ours, so end it.
  kill -0 "$pid" 2>/dev/null && { echo "daemon $pid still running after 10 s: SIGKILL" >&2; kill -9 "$pid"; sleep 0.5; }
  fuse_mounted && in_ns umount -l /etc/pve
  rm -f "$D/daemon.pid" ;;
reset)
  DB=$1; shift
  "$0" stop "$N"
  cp "$DB" "$D/var-lib/config.db"; rm -f "$D/var-lib/config.db-wal" "$D/var-lib/config.db-shm"
  "$0" start "$N" "$@" ;;
down)
  "$0" stop "$N"
  kill "$(holder)" 2>/dev/null; rm -f "$D/ready" "$D/holder.pid" ;;
*)
  echo "usage: $0 up|start|exec|stop|reset|down NAME ..." >&2; exit 2 ;;
esac
