#!/usr/bin/env bash
# Build a test base image (Debian with python3 and systemd as PID 1) from
# Debian's package archive: no container registry is reachable from here.
#   scripts/build-base-image.sh [bookworm|trixie]    (or DEBIAN_RELEASE=trixie; default bookworm)
# makes jupyter-edge/debian12-systemd or jupyter-edge/debian13-systemd.
# The image is reused when a build with the same recipe and release exists.
set -euo pipefail

release=${1:-${DEBIAN_RELEASE:-bookworm}}
case $release in
  bookworm) version=12 ;;
  trixie) version=13 ;;
  *) echo "[base-image] unknown release '$release': bookworm or trixie" >&2; exit 2 ;;
esac
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
name=${BASE_IMAGE_NAME:-jupyter-edge/debian$version-systemd}
# Extra CA certificates of this host (a TLS-intercepting egress) go into the image.
ca_dir=/usr/local/share/ca-certificates

log() { printf '[base-image] %s\n' "$*" >&2; }

# The tag changes when the recipe or the host's extra CAs change.
tag=$( (cat "$0"; echo "$release"; cat "$ca_dir"/*.crt 2>/dev/null || true) | sha256sum | cut -c1-12)
if docker image inspect "$name:$tag" >/dev/null 2>&1; then
  docker tag "$name:$tag" "$name:latest"
  log "reusing $name:$tag"
  exit 0
fi

command -v debootstrap >/dev/null || {
  log "installing debootstrap"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}

root=$(mktemp -d /var/tmp/jupyter-edge-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
log "debootstrap $release into $root (a minute or a few)"
debootstrap --variant=minbase \
  --include=python3,python3-apt,systemd,systemd-sysv,dbus,ca-certificates,procps,iproute2,cron,sudo \
  "$release" "$root" "$mirror" >/dev/null

cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror $release main
deb $mirror $release-updates main
deb $security_mirror $release-security main
SOURCES

if compgen -G "$ca_dir/*.crt" >/dev/null; then
  cp "$ca_dir"/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
fi
# Node/npm and pip inside the containers trust the system bundle as well.
cat >>"$root/etc/environment" <<'ENVIRONMENT'
NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
PIP_CERT=/etc/ssl/certs/ca-certificates.crt
REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
ENVIRONMENT
printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' >"$root/etc/npmrc"
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$root/etc/pip.conf"

# A container needs no getty, no udev settling and no kernel tuning.
for unit in getty.target console-getty.service systemd-udevd.service \
  systemd-udev-trigger.service systemd-modules-load.service sys-kernel-config.mount \
  sys-kernel-debug.mount systemd-sysctl.service systemd-remount-fs.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
# Downloaded packages are shared between containers through a host directory
# mounted at /var/cache/apt/shared: copied in after `apt-get update`, new ones
# copied out after dpkg runs. (Sharing /var/cache/apt/archives itself fails:
# its lock cannot be shared by concurrent containers.)
rm -f "$root/etc/apt/apt.conf.d/docker-clean"
cat >"$root/usr/local/sbin/apt-shared-cache" <<'SCRIPT'
#!/bin/sh
shared=/var/cache/apt/shared local=/var/cache/apt/archives
[ -d "$shared" ] || exit 0
case "$1" in
  in) from=$shared to=$local ;;
  out) from=$local to=$shared ;;
  *) exit 0 ;;
esac
for deb in "$from"/*.deb; do
  [ -f "$deb" ] || continue
  name=${deb##*/}
  [ -e "$to/$name" ] || { cp "$deb" "$to/.$name.$$" && mv "$to/.$name.$$" "$to/$name"; } || true
done
exit 0
SCRIPT
chmod 0755 "$root/usr/local/sbin/apt-shared-cache"
cat >"$root/etc/apt/apt.conf.d/80shared-cache" <<'APTCONF'
Binary::apt::APT::Keep-Downloaded-Packages "true";
APT::Update::Post-Invoke-Success { "/usr/local/sbin/apt-shared-cache in"; };
DPkg::Post-Invoke { "/usr/local/sbin/apt-shared-cache out"; };
APTCONF
: >"$root/etc/machine-id"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
# No package lists: an old timestamp makes apt cache_valid_time refresh them.
touch -d 2000-01-01 "$root/var/lib/apt/lists"

log "importing as $name:$tag"
tar -C "$root" -c . | docker import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=docker' \
  - "$name:$tag" >/dev/null
docker tag "$name:$tag" "$name:latest"
log "built $name:$tag"
