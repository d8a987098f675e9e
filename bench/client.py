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
answer). Then ROUNDS rounds, each visiting every cell. Within a cell all targets keep their
connections open and take turns: CYCLES times, each target in turn runs one short slice
(bounded by a request count and a time limit), the order rotated every cycle. The targets
thus sample the same background load of the machine, second by second, instead of whoever
runs last getting the busy moment. Warm-up (connections opened, caches filled) is not
counted. A global deadline stops starting new rounds: the output says how many were done.
Output: one JSON document (--out, or stdout).

    python3 client.py --host jupyter.example.org --password-env PW \
        --target direct=8888 --target nginx=80 --target apache=8081 --target chp=8000
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import itertools
import json
import os
import platform
import re
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


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


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


class Slices:
    """What one target accumulated in one cell: samples and per-round totals."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.rounds: list[dict[str, float]] = []

    def add(self, rnd: int, n: int, errors: int, seconds: float, amount: float, latencies: list[float]) -> None:
        while len(self.rounds) <= rnd:
            self.rounds.append({"n": 0, "errors": 0, "seconds": 0.0, "amount": 0.0})
        r = self.rounds[rnd]
        r["n"] += n
        r["errors"] += errors
        r["seconds"] += seconds
        r["amount"] += amount
        self.latencies.extend(latencies)

    def summary(self, unit: str) -> dict[str, Any]:
        """rate = everything measured / time measuring; rate_rounds = the same per round (for the spread)."""
        lat = sorted(self.latencies)
        seconds = sum(r["seconds"] for r in self.rounds)
        amount = sum(r["amount"] for r in self.rounds)
        return {
            "rate": amount / seconds if seconds else None,
            "rate_unit": unit,
            "rate_rounds": [round(r["amount"] / r["seconds"], 3) for r in self.rounds if r["seconds"]],
            "p50_ms": None if not lat else round(percentile(lat, 50) * 1000, 3),
            "p99_ms": None if not lat else round(percentile(lat, 99) * 1000, 3),
            "samples": len(lat),
            "errors": sum(int(r["errors"]) for r in self.rounds),
            "seconds": round(seconds, 3),
        }


class HttpPool:
    """`concurrency` worker threads on one target, each with its own keep-alive connection.

    The workers run a measured slice when asked (slice()) and otherwise wait, their
    connections open, while the pools of the other targets take their turn.
    """

    def __init__(self, target: Target, path: str, concurrency: int, expect_len: int | None, timeout: float):
        self.target = target
        self.path = path
        self.expect_len = expect_len
        self.timeout = timeout
        self.start = threading.Barrier(concurrency + 1)
        self.end = threading.Barrier(concurrency + 1)
        self.lock = threading.Lock()
        self.deadline = 0.0
        self.limit = 0
        self.tickets = itertools.count()
        self.stop = False
        self.broken = False
        self.latencies: list[float] = []
        self.errors = 0
        self.threads = [threading.Thread(target=self._worker, daemon=True) for _ in range(concurrency)]
        for t in self.threads:
            t.start()

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

    def _worker(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.target.port, timeout=self.timeout)
        headers = self.target.headers()
        try:
            while True:
                self.start.wait()
                if self.stop:
                    return
                lat: list[float] = []
                errors = 0
                while time.monotonic() < self.deadline and next(self.tickets) < self.limit:
                    ok, dt = self._one(conn, headers)
                    if ok:
                        lat.append(dt)
                    else:
                        errors += 1
                with self.lock:
                    self.latencies.extend(lat)
                    self.errors += errors
                self.end.wait()
        except threading.BrokenBarrierError:
            return
        finally:
            conn.close()

    def slice(self, seconds: float, limit: int) -> tuple[int, int, float, list[float]]:
        """Run every worker for `seconds` or `limit` requests in all; (ok, errors, elapsed, latencies)."""
        self.latencies, self.errors = [], 0
        self.tickets = itertools.count()  # next() is atomic under the GIL
        self.limit = limit
        begin = time.monotonic()
        self.deadline = begin + seconds
        if self.broken:  # a worker hung once: this target is out of the cell
            return 0, 1, 0.0, []
        try:
            self.start.wait(timeout=self.timeout)
            self.end.wait(timeout=seconds + 2 * self.timeout)
        except threading.BrokenBarrierError:
            self.broken = True
            return 0, self.errors + 1, time.monotonic() - begin, []
        return len(self.latencies), self.errors, time.monotonic() - begin, self.latencies

    def close(self) -> None:
        self.stop = True
        if self.broken:
            return  # the workers left (or hang until their socket timeout; they are daemons)
        with contextlib.suppress(threading.BrokenBarrierError):
            self.start.wait(timeout=self.timeout)
        for t in self.threads:
            t.join(self.timeout)


class WsChannel:
    """One target's own kernel and websocket (a kernel sends its output to every socket on it)."""

    def __init__(self, target: Target, stream_bytes: int):
        self.target = target
        self.stream_bytes = stream_bytes
        self.kernel_id: str | None = None
        self.session_id = uuid.uuid4().hex
        self.ws = None
        created: dict[str, Any] = {}
        self.kernel_id = target.session._start_kernel(created)
        if not self.kernel_id:
            raise ProbeError(f"kernel start failed: {created}")

    def open(self) -> None:
        self.session_id = uuid.uuid4().hex
        rel = f"api/kernels/{quote(self.kernel_id or '')}/channels?session_id={self.session_id}"
        info, self.ws = self.target.session.websocket(rel)
        if self.ws is None:
            raise ProbeError(f"websocket refused: {info}")

    def execute(self, code: str) -> tuple[bool, float, int]:
        start = time.perf_counter()
        out = self.target.session._run_code(self.ws, self.session_id, code)
        dt = time.perf_counter() - start
        ok = out["reply_status"] == "ok" and out["idle"] and not out["ws_error"]
        return ok, dt, len(out["stdout"])

    def slice(self, code: str, seconds: float, limit: int, size: int | None) -> tuple[int, int, float, list[float]]:
        """Executions of `code` for `seconds` or `limit` runs; (ok, errors, elapsed, times)."""
        times: list[float] = []
        errors = 0
        begin = time.monotonic()
        while len(times) + errors < limit and time.monotonic() - begin < seconds:
            ok, dt, got = self.execute(code)
            if ok and (size is None or got == size):
                times.append(dt)
            else:
                errors += 1
        return len(times), errors, time.monotonic() - begin, times

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None

    def shutdown(self) -> None:
        self.close()
        if self.kernel_id:
            with contextlib.suppress(ProbeError, OSError, http.client.HTTPException):
                self.target.session.request("DELETE", f"api/kernels/{quote(self.kernel_id)}")


def rotations(items: list[Any], cycles: int, offset: int) -> list[list[Any]]:
    """`cycles` orders of `items`, each rotated by one more place (so no item is always first)."""
    return [items[(c + offset) % len(items) :] + items[: (c + offset) % len(items)] for c in range(cycles)]


def run_http_cell(
    targets: list[Target], path: str, conc: int, expect: int | None, rnd: int, o: argparse.Namespace, acc: dict
) -> None:
    """One round of one HTTP cell: warm every target's pool, then interleave their slices."""
    pools = {t.name: HttpPool(t, path, conc, expect, o.timeout) for t in targets}
    try:
        for t in targets:
            pools[t.name].slice(o.warmup_seconds, 1 << 30)  # connections opened and warm, not counted
        for order in rotations(targets, o.cycles, rnd):
            for t in order:
                n, errors, seconds, lat = pools[t.name].slice(o.http_slice, o.http_requests)
                acc[t.name].add(rnd, n, errors, seconds, n, lat)
    finally:
        for pool in pools.values():
            pool.close()


def run_ws_cells(channels: list[WsChannel], rnd: int, o: argparse.Namespace, rtt: dict, stream: dict) -> None:
    """One round of both websocket cells: fresh sockets, warm-up, interleaved slices."""
    for ch in channels:
        ch.open()
    try:
        for ch in channels:
            for _ in range(o.ws_warmup):
                ch.execute(RTT_CODE)
            ch.execute(STREAM_CODE)
        for order in rotations(channels, o.cycles, rnd):
            for ch in order:
                n, errors, seconds, times = ch.slice(RTT_CODE, o.ws_slice, o.ws_requests, None)
                rtt[ch.target.name].add(rnd, n, errors, seconds, n, times)
        mib = channels[0].stream_bytes / (1 << 20)
        for order in rotations(channels, o.cycles, rnd):
            for ch in order:
                n, errors, seconds, times = ch.slice(STREAM_CODE, o.stream_slice, o.stream_requests, ch.stream_bytes)
                stream[ch.target.name].add(rnd, n, errors, seconds, n * mib, times)
    finally:
        for ch in channels:
            ch.close()


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
    p.add_argument("--rounds", type=int, default=3, help="rounds; each visits every cell")
    p.add_argument("--cycles", type=int, default=6, help="per cell and round: turns of every target")
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    p.add_argument("--warmup-seconds", type=float, default=0.3, help="per HTTP cell and target, not counted")
    p.add_argument("--http-slice", type=float, default=0.25, help="seconds of one HTTP turn")
    p.add_argument("--http-requests", type=int, default=2000, help="request limit of one HTTP turn")
    p.add_argument("--ws-warmup", type=int, default=5, help="round trips before measuring, per round")
    p.add_argument("--ws-slice", type=float, default=0.5, help="seconds of one round-trip turn")
    p.add_argument("--ws-requests", type=int, default=100, help="round-trip limit of one turn")
    p.add_argument("--stream-mib", type=int, default=4, help="MiB written by the kernel per execution")
    p.add_argument("--stream-slice", type=float, default=0.3, help="seconds of one streaming turn")
    p.add_argument("--stream-requests", type=int, default=5, help="execution limit of one streaming turn")
    p.add_argument("--deadline", type=float, default=300, help="seconds: no new round starts after this")
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
    out["client_cpus"] = sorted(os.sched_getaffinity(0))
    out["versions"] = versions()

    # Reference login, the static asset a browser loads first, and the kernel.
    check_target(ref, None, None)
    if ref.error:
        print(json.dumps(out | {"error": f"{ref.name}: {ref.error}"}))
        return 1
    asset = ref.session.lab_asset()
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

    stream_bytes = o.stream_mib << 20
    kinds = (("api", ref.session.path(API_PATH), None), ("static", asset, len(body)))
    http_acc = {(k, c): {t.name: Slices() for t in live} for k, _, _ in kinds for c in o.concurrency}
    ws_live = [t for t in live if not t.http_only]
    rtt_acc = {t.name: Slices() for t in ws_live}
    stream_acc = {t.name: Slices() for t in ws_live}
    channels: list[WsChannel] = []
    done = 0
    try:
        for t in ws_live:
            ch = WsChannel(t, stream_bytes)
            channels.append(ch)
            ch.open()
            try:
                t.session._run_code(ch.ws, ch.session_id, BLOB_CODE.format(kib=o.stream_mib * 1024))
                check = t.session._run_code(ch.ws, ch.session_id, "print(6*7)")
            finally:
                ch.close()
            if check["stdout"].strip() != "42":
                raise ProbeError(f"kernel check failed on {t.name}: {check}")
        for rnd in range(o.rounds):
            if time.monotonic() - begin > o.deadline:
                break
            for kind, path, expect in kinds:
                for conc in o.concurrency:
                    run_http_cell(live, path, conc, expect, rnd, o, http_acc[(kind, conc)])
            run_ws_cells(channels, rnd, o, rtt_acc, stream_acc)
            done += 1
    finally:
        for ch in channels:
            ch.shutdown()

    cells: dict[str, dict[str, Any]] = {}
    for (kind, conc), per_target in http_acc.items():
        for name, acc in per_target.items():
            cells[f"{kind}/c{conc}/{name}"] = acc.summary("req/s")
    for name in rtt_acc:
        cells[f"ws_rtt/{name}"] = rtt_acc[name].summary("round trips/s")
        cells[f"ws_stream/{name}"] = stream_acc[name].summary("MiB/s")
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
