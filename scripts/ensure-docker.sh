#!/usr/bin/env bash
# Make sure a Docker engine answers: install Debian's docker.io when it is
# missing and start dockerd when it is not running. Idempotent.
set -euo pipefail

log() { printf '[ensure-docker] %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

# A systemd host starts the service; anything else gets dockerd in the background.
if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then
  :
else
  log "starting dockerd (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
fi

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "docker engine is up"
    exit 0
  fi
  sleep 1
done
log "dockerd did not come up within 60 s; see /var/log/dockerd.log"
tail -n 20 /var/log/dockerd.log >&2 || true
exit 1
