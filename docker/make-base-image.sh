#!/bin/sh
# Make the Debian base image the node Dockerfile starts FROM, when no registry can provide it.
# On a machine that can pull images this does nothing: the image already exists or `docker build`
# pulls it. Here it is bootstrapped with debootstrap from the host's own apt mirror and imported.
#
# usage: docker/make-base-image.sh [image-name]   (default debian:bookworm-slim)
set -eu

IMAGE="${1:-debian:bookworm-slim}"
SUITE=bookworm
DOCKER="${DOCKER:-docker}"

say() { printf '[make-base-image] %s\n' "$*"; }

if "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  say "$IMAGE is already present, nothing to do"
  exit 0
fi

# The first Debian mirror the host's apt uses (deb822 "URIs:" or one-line "deb URL suite" form).
find_mirror() {
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
    [ -f "$f" ] || continue
    m=$(awk '
      /^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }
      /^deb[ \t]/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\// && $i ~ /\/debian\/?$/) { print $i; exit } }
    ' "$f")
    if [ -n "$m" ]; then echo "$m"; return 0; fi
  done
  return 1
}

MIRROR="${DEBIAN_MIRROR:-$(find_mirror || true)}"
if [ -z "$MIRROR" ]; then
  say "no Debian mirror found in /etc/apt; set DEBIAN_MIRROR=<url>" >&2
  exit 1
fi
command -v debootstrap >/dev/null 2>&1 || { say "debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }

WORK=$(mktemp -d /var/tmp/pmxcfs-base.XXXXXX)
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

start=$(date +%s)
say "debootstrap --variant=minbase $SUITE from $MIRROR into $WORK (about a minute)"
debootstrap --variant=minbase "$SUITE" "$WORK/root" "$MIRROR" 2>&1 | while IFS= read -r line; do
  case "$line" in
    I:\ Retrieving*|I:\ Validating*|I:\ Unpacking\ [!t]*|I:\ Configuring\ [!t]*) ;;  # too chatty
    *) say "  $line" ;;
  esac
done
[ -x "$WORK/root/bin/sh" ] || { say "debootstrap failed" >&2; exit 1; }

# Slim it a little, like the official -slim images: no apt lists or package caches.
rm -rf "$WORK/root/var/lib/apt/lists/"* "$WORK/root/var/cache/apt/"*.bin "$WORK/root/var/cache/apt/archives/"*.deb

say "importing as $IMAGE"
tar -C "$WORK/root" -c . | "$DOCKER" import \
  --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  - "$IMAGE" >/dev/null
say "done in $(( $(date +%s) - start )) s: $("$DOCKER" image inspect --format '{{.Id}} {{.Size}}' "$IMAGE")"
