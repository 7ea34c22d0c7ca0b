#!/bin/sh
# Removes pmxcfs-ts (stops the service first). /var/lib/pve-cluster/config.db is kept.
# usage: packaging/uninstall.sh [--purge]   (--purge also drops /etc/default/pmxcfs-ts; config.db stays)
set -eu
[ "$(id -u)" = 0 ] || { echo "uninstall.sh: run as root" >&2; exit 1; }
if [ "${1:-}" = --purge ]; then dpkg --purge pmxcfs-ts; else dpkg --remove pmxcfs-ts; fi
if [ -f /var/lib/pve-cluster/config.db ]; then
  echo "uninstall.sh: kept /var/lib/pve-cluster/config.db ($(stat -c '%a %U:%G %s bytes' /var/lib/pve-cluster/config.db))"
fi
