#!/usr/bin/env bash
# `make bench`: one throwaway container (molecule/bench) with Jupyter reached
# directly (a tuned and a stock server) and through nginx, Apache and
# configurable-http-proxy; times the default stack's first converge and its
# re-converge, runs the load generator inside the container (cells, then the
# scale steps), counts the Cloudflare module's API requests against the local
# fake, then prints the table and writes it to bench/results.md (all figures in
# bench/results.json). Method: bench/README.md.
#
# Environment: BENCH_CLIENT_ARGS extra options for bench/client.py (e.g.
# "--rounds 5", "--scale 1 10"); BENCH_CG_PATCHED_COPY=1 also measures community.general's
# cloudflare_dns through a copy whose only change is its hard-coded endpoint.
set -euo pipefail
cd "$(dirname "$0")/.."

scenario=bench
container=jupyter-bench
host=jupyter.example.org
# The first is the reference. direct: the "jupyter-tuned" server (role defaults);
# direct-stock: "jupyter-stock" (no TCP_NODELAY), round trip only; nginx and Apache
# reach the default stack's server ("jupyter": a unix socket, or TCP 8888 before
# jupyter_socket), CHP reaches "jupyter-tuned"; hub-chp and hub-nginx reach a
# JupyterHub user's server through the same CHP and through nginx on :8083 (molecule/bench).
targets=(direct=8890 direct-stock=8889:rtt nginx=80 apache=8081 chp=8000 hub-chp=8000:hub hub-nginx=8083:hub)
hub_args=(--hub-base /jhub/ --hub-user benchhub)
client_dir=/usr/local/lib/jupyter-edge-bench
work=.build/bench
results=bench/results.md

export PATH="$PWD/.venv/bin:$PATH"
export JUPYTER_EDGE_CACHE=${JUPYTER_EDGE_CACHE:-$HOME/.cache/jupyter-edge}
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 MOLECULE_NO_LOG=false
JUPYTER_EDGE_BENCH_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')
export JUPYTER_EDGE_BENCH_PASSWORD

step() { printf '\n==> %s\n' "$*" >&2; }
now() { date +%s.%N; }
# Run a command with its output in a log; on failure show the log's end.
logged() {
  local log=$1
  shift
  if ! timeout 1500 "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "bench: '$*' failed; full log in $log" >&2
    return 1
  fi
}
destroy() { molecule destroy -s "$scenario" >"$work/destroy.log" 2>&1 || echo "bench: molecule destroy failed, see $work/destroy.log" >&2; }

mkdir -p "$work"
rm -f "$work"/*.json "$work"/*.log
SECONDS=0
destroy # a container left by an interrupted run
trap destroy EXIT

step "Starting the bench container"
logged "$work/create.log" molecule create -s "$scenario"

step "First converge of the default stack (jupyter + nginx_proxy): a few minutes"
t0=$(now)
logged "$work/converge-1.log" molecule converge -s "$scenario"
t1=$(now)
step "Re-converge (idempotence)"
logged "$work/converge-2.log" molecule converge -s "$scenario"
t2=$(now)
python3 - "$t0" "$t1" "$t2" "$work" >"$work/converge.json" <<'PY'
import json, sys
t0, t1, t2 = map(float, sys.argv[1:4])
work = sys.argv[4]
print(json.dumps({"first_seconds": round(t1 - t0, 1), "first_log": f"{work}/converge-1.log",
                  "again_seconds": round(t2 - t1, 1), "again_log": f"{work}/converge-2.log"}))
PY

step "Adding the direct servers (:8890 tuned, :8889 stock), Apache (:8081), configurable-http-proxy (:8000), JupyterHub (/jhub/) and nginx (:8083) in front of it"
logged "$work/side-effect.log" molecule side-effect -s "$scenario"

# Jupyter (and the kernels it starts later) gets CPU 1 to itself; the proxies and
# the load generator share CPU 0, for every path alike, as on a server whose users
# are elsewhere. Without this the proxies and the load generator take CPU from
# Jupyter itself (bench/README.md, "CPU placement").
pin=()
if [ "$(nproc)" -ge 2 ]; then
  step "CPU placement: Jupyter on CPU 1; proxies and load generator on CPU 0"
  # From the host: the container may not change other users' processes' affinity
  # (no CAP_SYS_NICE); user ids are the same on both sides.
  jupyter_uid=$(docker exec "$container" id -u jupyter)
  # The hub too: the user's server and its kernels, started later, inherit its CPU.
  docker top "$container" -eo pid,uid,comm | awk -v uid="$jupyter_uid" '
    NR > 1 && ($2 == uid || $3 == "jupyterhub") { print $1, 1; next }
    NR > 1 && $3 ~ /^(nginx|apache2|node)$/ { print $1, 0 }' |
    while read -r pid cpu; do taskset -a -p -c "$cpu" "$pid" >/dev/null; done
  pin=(taskset -c 0)
fi

step "Load generator in the container: HTTP and websocket cells, all paths, then the scale steps (about 7 minutes)"
# The client library of the installed collection (make collection), under its collection name.
lib=ansible_collections/jupyter_edge/deploy/plugins/module_utils
docker exec "$container" mkdir -p "$client_dir/$lib"
docker cp -L ".build/installed/$lib/_jupyter_client.py" "$container:$client_dir/$lib/_jupyter_client.py" >/dev/null
docker cp -L bench/client.py "$container:$client_dir/client.py" >/dev/null
args=()
for t in "${targets[@]}"; do args+=(--target "$t"); done
# shellcheck disable=SC2086 # BENCH_CLIENT_ARGS is a list of options
logged "$work/client.log" docker exec -e BENCH_PW="$JUPYTER_EDGE_BENCH_PASSWORD" "$container" \
  "${pin[@]}" timeout 1400 python3 "$client_dir/client.py" --host "$host" --password-env BENCH_PW "${args[@]}" "${hub_args[@]}" \
  ${BENCH_CLIENT_ARGS:-} --out /root/bench-load.json
docker cp "$container:/root/bench-load.json" "$work/load.json" >/dev/null

step "Removing the bench container"
trap - EXIT
destroy

step "Cloudflare module against the local fake API"
cf_args=()
[ -n "${BENCH_CG_PATCHED_COPY:-}" ] && cf_args+=(--cg-patched-copy)
# A failed run is reported in the table (its exit status), not fatal here.
logged "$work/cloudflare.log" python bench/cloudflare.py --out "$work/cloudflare.json" "${cf_args[@]}" || true

step "Results (${SECONDS} s in all)"
python bench/report.py --load "$work/load.json" --converge "$work/converge.json" \
  --cloudflare "$work/cloudflare.json" --markdown "$results" --json bench/results.json
echo "written: $results, bench/results.json (raw inputs and logs in $work)" >&2
