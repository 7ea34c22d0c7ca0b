#!/bin/bash
# Lab node entrypoint: start corosync and pmxcfs-ts in the foreground as children, forward SIGTERM
# (daemon first, so it unmounts /etc/pve and leaves the CPG groups, then corosync) and restart
# nothing: a child that dies stays dead so tests see exactly what happened.
#
# /etc/corosync-seed (read-only bind mount) holds the lab's generated corosync.conf and authkey. They
# are copied into /etc/corosync, which must stay writable: in cluster mode pmxcfs-ts writes
# /etc/corosync/corosync.conf itself when /etc/pve/corosync.conf changes. The seed only replaces the
# local file when the local file is missing or has a lower config_version (the rule pmxcfs uses).
#
# Environment: PMXCFS_ARGS   extra daemon arguments (for example "-l" for local mode, "-d")
#              PMXCFS_DISABLE=1  run corosync only
#              LAB_BARE_HOST=1   a freshly installed host with its cluster services stopped: nothing
#                                is copied into /etc/corosync and neither corosync nor pmxcfs-ts is
#                                started; the operator (a test) copies files in and starts
#                                `corosync` and `pmxcfs-ts` by hand (both daemonize). Used to rebuild
#                                a dead node from its config.db (docs/recovery.md).
#
# A corosync that exits while /run/lab-restart-corosync exists is started again (the lab's
# restartCorosync); the marker is removed.
#
# A corosync that exits after /etc/corosync/corosync.conf was removed is an operator separating the
# node from its cluster (docs/recovery.md): the container keeps running, like a host whose corosync
# service was stopped.
set -u

NODE=$(hostname)
SEED=/etc/corosync-seed
MAIN=/opt/pmxcfs-ts/dist/src/main.js
log() { echo "[lab-entrypoint] $*"; }
# /proc/mounts, not mountpoint(1): after a daemon died (kill -9) its FUSE mount is still listed but
# stat fails with ENOTCONN, and `mountpoint -q` then says "not a mount point".
pve_mounted() { awk '$2=="/etc/pve"{f=1} END{exit !f}' /proc/mounts; }

config_version() {
  [ -f "$1" ] || { echo 0; return; }
  local v
  v=$(sed -n 's/.*config_version[[:space:]]*:[[:space:]]*\([0-9]\+\).*/\1/p' "$1" | head -n 1)
  echo "${v:-0}"
}

install_seed() {
  if [ ! -f "$SEED/corosync.conf" ] || [ ! -f "$SEED/authkey" ]; then
    log "no corosync.conf/authkey in $SEED: is the lab's .lab/corosync mounted?"
    exit 2
  fi
  local seed_v local_v
  seed_v=$(config_version "$SEED/corosync.conf")
  local_v=$(config_version /etc/corosync/corosync.conf)
  if [ ! -f /etc/corosync/corosync.conf ] || [ "$seed_v" -gt "$local_v" ]; then
    install -m 0644 "$SEED/corosync.conf" /etc/corosync/corosync.conf
    log "installed corosync.conf version $seed_v (local had $local_v)"
  else
    log "keeping local corosync.conf version $local_v (seed has $seed_v)"
  fi
  install -m 0400 "$SEED/authkey" /etc/corosync/authkey
}

cpid=""
dpid=""

stop_daemon() {
  [ -n "$dpid" ] || return 0
  if kill -0 "$dpid" 2>/dev/null; then
    log "stopping pmxcfs-ts (pid $dpid)"
    kill -TERM "$dpid" 2>/dev/null
    for _ in $(seq 1 80); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$dpid" 2>/dev/null; then
      log "pmxcfs-ts did not stop in 8 s: SIGKILL and lazy unmount"
      kill -KILL "$dpid" 2>/dev/null
    fi
  fi
  wait "$dpid" 2>/dev/null
  if pve_mounted; then fusermount -uz /etc/pve 2>/dev/null || umount -l /etc/pve; fi
  dpid=""
}

stop_corosync() {
  [ -n "$cpid" ] || return 0
  if kill -0 "$cpid" 2>/dev/null; then
    log "stopping corosync (pid $cpid)"
    kill -TERM "$cpid" 2>/dev/null
  fi
  wait "$cpid" 2>/dev/null
  cpid=""
}

# A daemon or corosync started by hand (docker exec; they daemonize) is not our child: stop it too.
stop_detached() {
  local pid
  pid=$(cat /var/run/pve-cluster.pid 2>/dev/null)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "stopping pmxcfs-ts started by hand (pid $pid)"
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if pve_mounted; then fusermount -uz /etc/pve 2>/dev/null || umount -l /etc/pve; fi
  for pid in $(pgrep -x corosync); do
    log "stopping corosync started by hand (pid $pid)"
    kill -TERM "$pid" 2>/dev/null
  done
}

on_term() {
  log "SIGTERM: shutting down"
  stop_daemon
  stop_corosync
  stop_detached
  log "stopped"
  exit 0
}
trap on_term TERM INT

mkdir -p /etc/pve /var/lib/pve-cluster /run/pve-cluster /var/log/corosync
if [ "${LAB_BARE_HOST:-0}" = 1 ]; then
  log "LAB_BARE_HOST=1: bare host, starting neither corosync nor pmxcfs-ts (start them by hand)"
else
install_seed

log "starting corosync on $NODE"
corosync -f &
cpid=$!
fi

if [ "${LAB_BARE_HOST:-0}" = 1 ]; then
  :
elif [ "${PMXCFS_DISABLE:-0}" = 1 ]; then
  log "PMXCFS_DISABLE=1: running corosync only"
elif [ ! -f "$MAIN" ]; then
  log "$MAIN is not in the image (daemon not built yet): running corosync only"
else
  # shellcheck disable=SC2086  # PMXCFS_ARGS is a word list on purpose
  log "starting pmxcfs-ts -f --mount /etc/pve --db /var/lib/pve-cluster/config.db --nodename $NODE ${PMXCFS_ARGS:-}"
  /usr/local/bin/node --max-semi-space-size=1 "$MAIN" -f --mount /etc/pve --db /var/lib/pve-cluster/config.db \
    --nodename "$NODE" ${PMXCFS_ARGS:-} &
  dpid=$!
fi

# Wait for children. A dead daemon is reported and left dead; a dead corosync ends the container.
while :; do
  if [ -z "$cpid" ] && [ -z "$dpid" ]; then
    # Nothing of ours runs (bare host, or a separated node): idle until SIGTERM.
    sleep infinity &
    wait $!
    continue
  fi
  wait -n
  rc=$?
  if [ -n "$dpid" ] && ! kill -0 "$dpid" 2>/dev/null; then
    wait "$dpid" 2>/dev/null; drc=$?
    log "pmxcfs-ts exited with status $drc (not restarted)"
    dpid=""
    if pve_mounted; then fusermount -uz /etc/pve 2>/dev/null || umount -l /etc/pve; fi
  fi
  if [ -n "$cpid" ] && ! kill -0 "$cpid" 2>/dev/null && [ ! -f /etc/corosync/corosync.conf ]; then
    wait "$cpid" 2>/dev/null
    log "corosync exited and /etc/corosync/corosync.conf is gone: node separated from its cluster, keeping the container"
    cpid=""
    continue
  fi
  if [ -n "$cpid" ] && ! kill -0 "$cpid" 2>/dev/null && [ -f /run/lab-restart-corosync ]; then
    wait "$cpid" 2>/dev/null
    rm -f /run/lab-restart-corosync
    log "corosync stopped for a restart (lab restartCorosync): starting it again"
    corosync -f &
    cpid=$!
    continue
  fi
  if [ -n "$cpid" ] && ! kill -0 "$cpid" 2>/dev/null; then
    wait "$cpid" 2>/dev/null; crc=$?
    log "corosync exited with status $crc (rc $rc): stopping the node"
    cpid=""
    stop_daemon
    exit "$crc"
  fi
done
