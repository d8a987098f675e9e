#!/usr/bin/env python3
"""Load generator of `make bench`: one Jupyter server, reached directly and through proxies.

Standard library only, like tests/e2e/probe.py beside which it is copied into the bench
container and whose browser code (login, cookies, websocket, execute_request) it reuses.
It connects to 127.0.0.1 ports with the public Host name and Origin, and measures:

  http  GET {base}api/status with the login cookie (an authenticated API call) and GET
        one of JupyterLab's hashed static files, each at several concurrencies: keep-alive
        connections, one per worker thread; requests per second and latency percentiles;
  ws    execute_request round trips on a kernel websocket (latency), and the throughput of
        a large output streamed by the kernel (stdout of several MB per execution).

Method (bench/README.md): every target is checked first (login, same static bytes, a kernel
answer); then ROUNDS rounds, each visiting every cell on every target, the target order
rotated per round so that slow drift of the machine falls on all targets alike. Each visit
warms up its connections first (not counted) and then stops at a request count or a time
limit, whichever comes first. A global deadline ends the run early if needed: the output
says how many rounds were done. Output: one JSON document (--out, or stdout).

    python3 client.py --host jupyter.example.org --password-env PW \
        --target direct=8888 --target nginx=80 --target apache=8081 --target chp=8000
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import itertools
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Any
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe import JupyterSession, ProbeError  # noqa: E402 (probe.py is copied next to this file)

API_PATH = "api/status"
# Runs in the kernel once; each streamed execution then writes it to stdout.
BLOB_CODE = "_bench_blob = ('x' * 1023 + '\\n') * {kib}"
STREAM_CODE = "import sys; sys.stdout.write(_bench_blob); sys.stdout.flush()"
RTT_CODE = "pass"
CHP_PACKAGES = [
    "/opt/configurable-http-proxy/lib/node_modules/configurable-http-proxy/package.json",
    "/usr/local/lib/node_modules/configurable-http-proxy/package.json",
]
ASSET_RE = re.compile(rb'src="([^"]*/static/lab/main\.[0-9a-f]+\.js(?:\?v=[0-9a-f]+)?)"')


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def summary(latencies: list[float], rounds: list[dict[str, Any]], unit_per_s: str) -> dict[str, Any]:
    """Per-cell figures: median of the rounds' rates, percentiles over all measured samples."""
    lat = sorted(latencies)
    rates = [r["rate"] for r in rounds if r.get("rate") is not None]
    return {
        "rate": statistics.median(rates) if rates else None,
        "rate_unit": unit_per_s,
        "rate_rounds": [round(r, 3) for r in rates],
        "p50_ms": None if not lat else round(percentile(lat, 50) * 1000, 3),
        "p99_ms": None if not lat else round(percentile(lat, 99) * 1000, 3),
        "samples": len(lat),
        "errors": sum(r.get("errors", 0) for r in rounds),
        "seconds": round(sum(r.get("seconds", 0.0) for r in rounds), 3),
    }


class Target:
    """One way to the Jupyter server: a name, a local port and a logged-in browser session."""

    def __init__(self, name: str, port: int, host: str, password: str, base: str, timeout: float, http_only: bool):
        self.name = name
        self.port = port
        self.http_only = http_only
        self.session = JupyterSession(f"http://{host}:{port}{base}", password=password, timeout=timeout)
        self.error: str | None = None

    def headers(self) -> dict[str, str]:
        s = self.session
        cookie = "; ".join(f"{k}={v}" for k, v in s.cookies.items())
        return {"Host": s.host_header, "User-Agent": "jupyter-edge-bench/1", "Referer": s.base_url, "Cookie": cookie}


class HttpCell:
    """One visit of one HTTP cell: `concurrency` workers with one keep-alive connection each."""

    def __init__(self, target: Target, path: str, concurrency: int, expect_len: int | None, opts: argparse.Namespace):
        self.target = target
        self.path = path
        self.concurrency = concurrency
        self.expect_len = expect_len
        self.opts = opts
        self.latencies: list[list[float]] = [[] for _ in range(concurrency)]
        self.errors = [0] * concurrency
        self.ends = [0.0] * concurrency
        self.tickets = itertools.count()  # next() is atomic under the GIL
        self.ready = threading.Barrier(concurrency + 1)
        self.go = threading.Event()
        self.deadline = 0.0

    def _one(self, conn: http.client.HTTPConnection, headers: dict[str, str]) -> tuple[bool, float]:
        start = time.perf_counter()
        try:
            conn.request("GET", self.path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            ok = resp.status == 200 and (self.expect_len is None or len(body) == self.expect_len)
        except (OSError, http.client.HTTPException):
            conn.close()  # the next request reconnects
            ok = False
        return ok, time.perf_counter() - start

    def _worker(self, i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.target.port, timeout=self.opts.timeout)
        headers = self.target.headers()
        try:
            warm_end = time.monotonic() + self.opts.warmup_seconds
            while time.monotonic() < warm_end:
                self._one(conn, headers)
            self.ready.wait(timeout=self.opts.timeout)
            self.go.wait(timeout=self.opts.timeout)
            lat = self.latencies[i]
            while next(self.tickets) < self.opts.http_requests and time.monotonic() < self.deadline:
                ok, dt = self._one(conn, headers)
                if ok:
                    lat.append(dt)
                else:
                    self.errors[i] += 1
        except threading.BrokenBarrierError:
            self.errors[i] += 1
        finally:
            self.ends[i] = time.monotonic()
            conn.close()

    def run(self) -> dict[str, Any]:
        threads = [threading.Thread(target=self._worker, args=(i,), daemon=True) for i in range(self.concurrency)]
        for t in threads:
            t.start()
        try:
            self.ready.wait(timeout=self.opts.warmup_seconds + self.opts.timeout)
        except threading.BrokenBarrierError:
            pass
        start = time.monotonic()
        self.deadline = start + self.opts.http_seconds
        self.go.set()
        for t in threads:
            t.join(self.opts.http_seconds + 2 * self.opts.timeout)
        seconds = max(max(self.ends) - start, 1e-9)
        n = sum(len(x) for x in self.latencies)
        return {"n": n, "errors": sum(self.errors), "seconds": seconds, "rate": n / seconds}


class WsCell:
    """One visit of the websocket cells on one target: a fresh kernel websocket, two measurements."""

    def __init__(self, target: Target, kernel_id: str, stream_bytes: int, opts: argparse.Namespace):
        self.target = target
        self.kernel_id = kernel_id
        self.stream_bytes = stream_bytes
        self.opts = opts

    def _execute(self, ws, session_id: str, code: str) -> tuple[bool, float, int]:
        start = time.perf_counter()
        out = self.target.session._run_code(ws, session_id, code)
        dt = time.perf_counter() - start
        ok = out["reply_status"] == "ok" and out["idle"] and not out["ws_error"]
        return ok, dt, len(out["stdout"])

    def run(self) -> tuple[dict[str, Any], list[float], dict[str, Any], list[float]]:
        session_id = uuid.uuid4().hex
        rel = f"api/kernels/{quote(self.kernel_id)}/channels?session_id={session_id}"
        info, ws = self.target.session.websocket(rel)
        if ws is None:
            raise ProbeError(f"websocket refused: {info}")
        o = self.opts
        try:
            for _ in range(o.ws_warmup):
                self._execute(ws, session_id, RTT_CODE)
            rtt: list[float] = []
            errors = 0
            start = time.monotonic()
            while len(rtt) + errors < o.ws_requests and time.monotonic() - start < o.ws_seconds:
                ok, dt, _ = self._execute(ws, session_id, RTT_CODE)
                if ok:
                    rtt.append(dt)
                else:
                    errors += 1
            seconds = time.monotonic() - start
            rtt_round = {"n": len(rtt), "errors": errors, "seconds": seconds, "rate": len(rtt) / seconds}

            self._execute(ws, session_id, STREAM_CODE)  # warm-up
            times: list[float] = []
            errors = received = 0
            start = time.monotonic()
            while len(times) + errors < o.stream_requests and time.monotonic() - start < o.stream_seconds:
                ok, dt, size = self._execute(ws, session_id, STREAM_CODE)
                if ok and size == self.stream_bytes:
                    times.append(dt)
                    received += size
                else:
                    errors += 1
            seconds = time.monotonic() - start
            mib = received / (1 << 20)
            stream_round = {"n": len(times), "errors": errors, "seconds": seconds, "rate": mib / seconds, "mib": mib}
        finally:
            ws.close()
        return rtt_round, rtt, stream_round, times


def versions() -> dict[str, str]:
    """Versions of what is measured, as far as this host can tell (missing tools are skipped)."""
    found: dict[str, str] = {"python_client": platform.python_version(), "kernel": platform.release()}
    commands = {
        "nginx": ["/usr/sbin/nginx", "-v"],
        "apache": ["/usr/sbin/apache2", "-v"],
        "node": ["/usr/bin/node", "--version"],
    }
    for name, argv in commands.items():
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        except OSError:
            continue
        text = (proc.stdout + proc.stderr).strip()
        if match := re.search(r"(nginx|Apache)/[0-9.]+|v[0-9.]+", text):
            found[name] = match.group(0)
    for path in CHP_PACKAGES:
        try:
            with open(path, encoding="utf-8") as f:
                found["chp"] = json.load(f)["version"]
            break
        except (OSError, ValueError, KeyError):
            continue
    return found


def check_target(t: Target, asset: str | None, asset_sha: str | None) -> None:
    """Log in and check that this way in answers like the others; sets t.error otherwise."""
    try:
        login = t.session.check_login()
        if not login["logged_in"]:
            t.error = f"login failed: {login}"
            return
        if asset:
            resp = t.session.request("GET", asset)
            if resp.status != 200 or hashlib.sha256(resp.body).hexdigest() != asset_sha:
                t.error = f"static asset differs (status {resp.status}, {len(resp.body)} bytes)"
    except (ProbeError, OSError, http.client.HTTPException) as exc:
        t.error = f"{type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", required=True, help="public host name (resolves to this host)")
    p.add_argument("--base-url", default="/", help="Jupyter's base_url (default /)")
    p.add_argument("--password-env", required=True, metavar="VAR", help="environment variable with the password")
    p.add_argument(
        "--target",
        action="append",
        required=True,
        metavar="NAME=PORT[:http]",
        help="a way in; the first one is the reference (direct); ':http' = HTTP cells only",
    )
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    p.add_argument("--warmup-seconds", type=float, default=0.3, help="per HTTP visit, not counted")
    p.add_argument("--http-seconds", type=float, default=1.0, help="time limit of one HTTP visit")
    p.add_argument("--http-requests", type=int, default=5000, help="request limit of one HTTP visit")
    p.add_argument("--ws-warmup", type=int, default=5, help="round trips before measuring, per visit")
    p.add_argument("--ws-seconds", type=float, default=1.2, help="time limit of one round-trip visit")
    p.add_argument("--ws-requests", type=int, default=1000, help="round-trip limit of one visit")
    p.add_argument("--stream-mib", type=int, default=4, help="MiB written by the kernel per execution")
    p.add_argument("--stream-seconds", type=float, default=1.5, help="time limit of one streaming visit")
    p.add_argument("--stream-requests", type=int, default=20, help="execution limit of one streaming visit")
    p.add_argument("--deadline", type=float, default=330, help="seconds: no new round starts after this")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds, per operation")
    p.add_argument("--out", help="write the JSON here (default: stdout)")
    o = p.parse_args(argv)

    begin = time.monotonic()
    password = os.environ.get(o.password_env)
    if not password:
        p.error(f"--password-env {o.password_env}: variable not set")
    targets: list[Target] = []
    for spec in o.target:
        name, _, rest = spec.partition("=")
        port, _, flag = rest.partition(":")
        targets.append(Target(name, int(port), o.host, password, o.base_url, o.timeout, flag == "http"))
    ref = targets[0]

    out: dict[str, Any] = {"host": o.host, "targets": {}, "settings": {}, "load_before": os.getloadavg()}
    out["settings"] = {k: v for k, v in vars(o).items() if k not in ("password_env", "out")}
    out["cpus"] = os.cpu_count()
    out["versions"] = versions()

    # Reference login, the static asset a browser loads first, and the kernel.
    check_target(ref, None, None)
    if ref.error:
        print(json.dumps(out | {"error": f"{ref.name}: {ref.error}"}))
        return 1
    page = ref.session.request("GET", "lab")
    match = ASSET_RE.search(page.body)
    asset = match.group(1).decode() if match else ref.session.path("static/favicons/favicon.ico")
    body = ref.session.request("GET", asset).body
    asset_sha = hashlib.sha256(body).hexdigest()
    out["asset"] = {"path": asset, "bytes": len(body), "sha256": asset_sha}
    out["api"] = {"path": ref.session.path(API_PATH)}
    status = ref.session.request("GET", "api").json() or {}
    out["versions"]["jupyter_server"] = status.get("version", "?")
    for t in targets[1:]:
        check_target(t, asset, asset_sha)
    for t in targets:
        out["targets"][t.name] = {"port": t.port, "http_only": t.http_only, "error": t.error}
    live = [t for t in targets if not t.error]

    created: dict[str, Any] = {}
    kernel_id = ref.session._start_kernel(created)
    if not kernel_id:
        print(json.dumps(out | {"error": f"kernel start failed: {created}"}))
        return 1
    stream_bytes = o.stream_mib << 20
    cells: dict[str, dict[str, Any]] = {}
    raw: dict[str, tuple[list[float], list[dict[str, Any]]]] = {}

    def record(key: str, rnd: dict[str, Any], lat: list[float]) -> None:
        lats, rounds = raw.setdefault(key, ([], []))
        lats.extend(lat)
        rounds.append(rnd)

    try:
        session_id = uuid.uuid4().hex
        info, ws = ref.session.websocket(f"api/kernels/{quote(kernel_id)}/channels?session_id={session_id}")
        if ws is None:
            raise ProbeError(f"websocket refused on {ref.name}: {info}")
        try:
            ref.session._run_code(ws, session_id, BLOB_CODE.format(kib=o.stream_mib * 1024))
            check = ref.session._run_code(ws, session_id, "print(6*7)")
        finally:
            ws.close()
        if check["stdout"].strip() != "42":
            raise ProbeError(f"kernel check failed: {check}")

        done = 0
        for rnd in range(o.rounds):
            if time.monotonic() - begin > o.deadline:
                break
            order = live[rnd % len(live) :] + live[: rnd % len(live)]
            for kind, path in (("api", ref.session.path(API_PATH)), ("static", asset)):
                expect = len(body) if kind == "static" else None
                for conc in o.concurrency:
                    for t in order:
                        cell = HttpCell(t, path, conc, expect, o)
                        result = cell.run()
                        record(f"{kind}/c{conc}/{t.name}", result, [x for lat in cell.latencies for x in lat])
            for t in order:
                if t.http_only:
                    continue
                try:
                    rtt_round, rtt, stream_round, times = WsCell(t, kernel_id, stream_bytes, o).run()
                except (ProbeError, OSError, TimeoutError) as exc:
                    out["targets"][t.name]["ws_error"] = f"{type(exc).__name__}: {exc}"
                    continue
                record(f"ws_rtt/{t.name}", rtt_round, rtt)
                record(f"ws_stream/{t.name}", stream_round, times)
            done += 1
    finally:
        ref.session.request("DELETE", f"api/kernels/{quote(kernel_id)}")

    for key, (lats, rounds) in raw.items():
        unit = "MiB/s" if key.startswith("ws_stream") else ("round trips/s" if key.startswith("ws_rtt") else "req/s")
        cells[key] = summary(lats, rounds, unit)
    out |= {"cells": cells, "rounds_done": done, "stream_bytes": stream_bytes, "load_after": os.getloadavg()}
    out["elapsed"] = round(time.monotonic() - begin, 1)
    text = json.dumps(out, indent=1)
    if o.out:
        with open(o.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
