#!/usr/bin/env bash
# `make demo`: deploy Jupyter behind nginx (HTTPS) into a throwaway local
# container, prove it with a kernel round trip, print how to log in.
# `make demo-clean` (this script with "clean") removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
secret=.build/demo-password
url=https://localhost:8443/

if [ "${1:-}" = clean ]; then
  molecule destroy -s demo
  rm -f "$secret"
  exit 0
fi

mkdir -p .build
if [ ! -s "$secret" ]; then
  (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(12))' >"$secret")
fi
export JUPYTER_EDGE_DEMO_PASSWORD
JUPYTER_EDGE_DEMO_PASSWORD=$(cat "$secret")

step() { printf '\n==> %s\n' "$*"; }
step "Starting the demo container (systemd inside)"
molecule create -s demo >.build/demo-create.log 2>&1 || { tail -n 40 .build/demo-create.log; exit 1; }
step "Converging jupyter + nginx_proxy (first run installs JupyterLab: a few minutes)"
log=.build/demo-converge.log
molecule converge -s demo >"$log" 2>&1 &
pid=$!
start=$SECONDS
while kill -0 "$pid" 2>/dev/null; do
  task=$(grep -o 'TASK \[[^]]*\]' "$log" | tail -n 1 | cut -c7- | tr -d ']' || true)
  printf '\r    %4ss  %-70.70s' "$((SECONDS - start))" "${task:-starting}"
  sleep 3
done
echo
if ! wait "$pid"; then
  tail -n 40 "$log"
  echo "converge failed: full log in $log" >&2
  exit 1
fi
step "Proving it: log in and run code over the kernel websocket, through nginx"
PW=$JUPYTER_EDGE_DEMO_PASSWORD python3 .build/installed/ansible_collections/jupyter_edge/deploy/plugins/module_utils/_jupyter_client.py --url "$url" --insecure --password-env PW \
  kernel --code 'print("hello from the kernel", 6*7)' | python3 -c '
import json, sys
seen = json.load(sys.stdin)
print("kernel said:", seen.get("stdout", "").strip() or seen)
sys.exit(0 if seen.get("stdout", "").strip().endswith("42") else 1)'

cat <<MSG

Jupyter is up behind nginx:
  URL:       $url   (self-signed certificate: accept it in the browser)
  password:  stored in $secret  (cat it)
Remove it with: make demo-clean
MSG
