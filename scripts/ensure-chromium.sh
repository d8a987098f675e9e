#!/usr/bin/env bash
# Debian's chromium for the browser tests (tests/e2e/browser.py), installed when missing.
# Playwright (pinned in requirements.txt) drives it; nothing downloads a browser of its own.
# Idempotent; ~420 MB and about 70 s the first time.
set -euo pipefail

log() { printf '[ensure-chromium] %s\n' "$*" >&2; }
chromium=${JUPYTER_EDGE_CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ]; then
  if [ "$chromium" != /usr/bin/chromium ]; then
    log "JUPYTER_EDGE_CHROMIUM=$chromium is not an executable"
    exit 1
  fi
  log "installing Debian's chromium (--no-install-recommends)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Wait for another apt run (docker.io, say) instead of failing on its lock.
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium >/dev/null
fi
log "$("$chromium" --version 2>/dev/null || echo "$chromium")"
