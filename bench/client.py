#!/usr/bin/env python3
"""Load generator of `make bench`: one Jupyter server, reached directly and through proxies.

Standard library only, like the collection's client library (plugins/module_utils/_jupyter_client.py),
whose browser code (login, cookies, websocket, execute_request) it imports by its collection
name: scripts/bench.sh puts the installed collection's file beside it in the bench container.
It connects to 127.0.0.1 ports with the public Host name and Origin, and measures:

  http  GET {base}api/status with the login cookie (an authenticated API call) and GET
        one of JupyterLab's hashed static files, each at several concurrencies: keep-alive
        connections, one per worker thread; requests per second and latency percentiles;
  ws    execute_request round trips on a kernel websocket (latency), and the throughput of
        a large output streamed by the kernel (stdout of several MB per execution);
  scale for 1..100 concurrent sessions per proxy, each with its own kernel and websocket
        executing once a second: round-trip percentiles, errors, and the proxy's memory
        (RSS of its processes) per open connection.

Method (bench/README.md): every target is checked first (login, same static bytes, a kernel
answer). Then ROUNDS rounds, each visiting every cell. Within a cell all targets keep their
connections open and take turns: CYCLES times, each target in turn runs one short slice
(bounded by a request count and a time limit), the order rotated every cycle. The targets
thus sample the same background load of the machine, second by second, instead of whoever
runs last getting the busy moment. Warm-up (connections opened, caches filled) is not
counted. A global deadline stops starting new rounds: the output says how many were done.
Output: one JSON document (--out, or stdout).

    python3 client.py --host jupyter.example.org --password-env PW \
        --target direct=8890 --target direct-stock=8889:rtt --target nginx=80 --target apache=8081 \
        --target chp=8000 --scale 1 10 50 100
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import itertools
import json
import math
import os
import platform
import re
import stat
import subprocess
import sys
import threading
import time
import uuid
from typing import Any
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ansible_collections.jupyter_edge.deploy.plugins.module_utils._jupyter_client import (  # noqa: E402
    HubSession,
    JupyterSession,
    ProbeError,
)

API_PATH = "api/status"
# Runs in the kernel once; each streamed execution then writes it to stdout.
BLOB_CODE = "_bench_blob = ('x' * 1023 + '\\n') * {kib}"
STREAM_CODE = "import sys; sys.stdout.write(_bench_blob); sys.stdout.flush()"
RTT_CODE = "pass"
# Where the default stack's server listens when jupyter_socket is a socket (the role's default path).
JUPYTER_SOCKET = "/var/lib/jupyter-edge/sockets/jupyter.sock"
# The processes of each proxy, for its memory: (comm, a substring of the command line or "").
PROXY_PROCESSES = {
    "nginx": ("nginx", ""),
    "apache": ("apache2", ""),
    "chp": ("node", "configurable-http-proxy"),
}
CHP_PACKAGES = [
    "/opt/configurable-http-proxy/lib/node_modules/configurable-http-proxy/package.json",
    "/usr/local/lib/node_modules/configurable-http-proxy/package.json",
]


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), math.ceil(q * len(sorted_values) / 100)))
    return sorted_values[rank - 1]


class Target:
    """One way to the Jupyter server: a name, a local port and a logged-in browser session.

    A hub target (only == "hub") is a JupyterHub user's server: the session logs in to the
    hub at `base`, starts the user's server and then addresses it ({base}user/NAME/);
    round trips only.
    """

    def __init__(
        self, name: str, port: int, host: str, password: str, base: str, timeout: float, only: str = "", user: str = ""
    ):
        self.name = name
        self.port = port
        self.http_only = only == "http"  # HTTP cells only
        self.hub = only == "hub"
        self.rtt_only = only in ("rtt", "hub")  # the execute round trip only (no HTTP cells, no streaming)
        url = f"http://{host}:{port}{base}"
        self.session: JupyterSession = (
            HubSession(url, password=password, timeout=timeout, user=user)
            if self.hub
            else JupyterSession(url, password=password, timeout=timeout)
        )
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
            if not ch.target.rtt_only:
                ch.execute(STREAM_CODE)
        for order in rotations(channels, o.cycles, rnd):
            for ch in order:
                n, errors, seconds, times = ch.slice(RTT_CODE, o.ws_slice, o.ws_requests, None)
                rtt[ch.target.name].add(rnd, n, errors, seconds, n, times)
        mib = channels[0].stream_bytes / (1 << 20)
        streaming = [ch for ch in channels if not ch.target.rtt_only]
        for order in rotations(streaming, o.cycles, rnd):
            for ch in order:
                n, errors, seconds, times = ch.slice(STREAM_CODE, o.stream_slice, o.stream_requests, ch.stream_bytes)
                stream[ch.target.name].add(rnd, n, errors, seconds, n * mib, times)
    finally:
        for ch in channels:
            ch.close()


def proc_rss_kib(status: str) -> int:
    """VmRSS in KiB from the text of /proc/<pid>/status (0 for a kernel thread or a zombie)."""
    match = re.search(r"^VmRSS:\s+(\d+)\s+kB", status, re.M)
    return int(match.group(1)) if match else 0


def proxy_rss_kib(comm: str, cmdline_part: str, proc: str = "/proc") -> tuple[int, int]:
    """Summed RSS (KiB) and count of the processes named `comm` whose command line contains `cmdline_part`."""
    total = count = 0
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        try:
            with open(f"{proc}/{pid}/comm", encoding="utf-8") as f:
                if f.read().strip() != comm:
                    continue
            with open(f"{proc}/{pid}/cmdline", "rb") as f:
                if cmdline_part and cmdline_part not in f.read().replace(b"\0", b" ").decode(errors="replace"):
                    continue
            with open(f"{proc}/{pid}/status", encoding="utf-8") as f:
                total += proc_rss_kib(f.read())
            count += 1
        except OSError:  # the process ended meanwhile
            continue
    return total, count


def per_connection_kib(rss_open: int | None, rss_none: int | None, sessions: int) -> float | None:
    """(RSS with `sessions` open - RSS with none) / sessions, in KiB; None when not measured."""
    if rss_open is None or rss_none is None or sessions <= 0:
        return None
    return round((rss_open - rss_none) / sessions, 1)


def parallel(fn: Any, items: list[Any], workers: int) -> list[Any]:
    """fn(item) for every item on `workers` threads, results in order (exceptions as values)."""
    results: list[Any] = [None] * len(items)
    todo = iter(enumerate(items))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                nxt = next(todo, None)
            if nxt is None:
                return
            i, item = nxt
            try:
                results[i] = fn(item)
            except Exception as exc:  # noqa: BLE001 (reported as a value)
                results[i] = exc

    threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, min(workers, len(items))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


class KernelPool:
    """Kernels for the scale steps, started through one target and reused by every target that sees them.

    Proxies in front of the same Jupyter server share the pool (their GET api/kernels lists
    its kernels); a proxy in front of another server gets a new pool, the old one shut down
    first, so that no more than the largest step's count of kernels run at a time.
    """

    def __init__(self) -> None:
        self.owner: Target | None = None
        self.ids: list[str] = []
        self.log: list[dict[str, Any]] = []

    def visible(self, t: Target) -> bool:
        resp = t.session.request("GET", "api/kernels")
        listed = {k.get("id") for k in (resp.json() or [])} if resp.status == 200 else set()
        return bool(self.ids) and set(self.ids) <= listed

    @staticmethod
    def prime(t: Target, kernel_id: str) -> bool:
        """One execution on a fresh websocket: the kernel has started and answers (a kernel
        that no client talked to yet stays "starting" in the server's eyes)."""
        sess = ScaleSession(t, kernel_id)
        try:
            return sess.open() and sess.execute() is not None
        finally:
            sess.close()

    def for_target(self, t: Target, count: int, workers: int) -> list[str]:
        if self.owner is not None and len(self.ids) >= count and self.visible(t):
            return self.ids[:count]
        self.shutdown(workers)
        begin = time.monotonic()

        def start(_: int) -> str:
            created: dict[str, Any] = {}
            kernel_id = t.session._start_kernel(created)
            if not kernel_id:
                raise ProbeError(f"kernel start failed: {created}")
            return kernel_id

        self.owner = t
        failed: list[str] = []
        replaced = 0
        for attempt in range(3):  # kernels that died while starting (a busy machine) are replaced, twice at most
            results = parallel(start, list(range(count - len(self.ids))), workers)
            new = [r for r in results if isinstance(r, str)]
            failed += [f"{type(r).__name__}: {r}" for r in results if not isinstance(r, str)]
            primed = parallel(lambda k: self.prime(t, k), new, workers)
            dead = [k for k, ok in zip(new, primed, strict=True) if ok is not True]
            self.ids += [k for k in new if k not in dead]
            for k in dead:
                with contextlib.suppress(ProbeError, OSError, http.client.HTTPException):
                    t.session.request("DELETE", f"api/kernels/{quote(k)}")
            replaced += len(dead) if attempt < 2 else 0
            if len(self.ids) >= count:
                break
        entry = {"via": t.name, "started": len(self.ids), "failed": len(failed), "replaced": replaced}
        entry["seconds"] = round(time.monotonic() - begin, 1)
        # A hundred kernels that just started keep the CPUs busy for a while (imports, first
        # executions): the first proxy's steps would measure that, the later ones not.
        entry["settle_seconds"], entry["busy_after_settle"] = settle()
        self.log.append(entry | ({"first_error": failed[0]} if failed else {}))
        return self.ids[:count]

    def shutdown(self, workers: int) -> None:
        if self.owner is None:
            return
        owner = self.owner

        def delete(kernel_id: str) -> int:
            return owner.session.request("DELETE", f"api/kernels/{quote(kernel_id)}").status

        parallel(delete, self.ids, workers)
        self.owner, self.ids = None, []


class ScaleSession:
    """One logged-in browser session's kernel websocket in a scale step, executing once per interval."""

    def __init__(self, target: Target, kernel_id: str):
        self.target = target
        self.kernel_id = kernel_id
        self.session_id = uuid.uuid4().hex
        self.ws = None
        self.times: list[float] = []
        self.errors = 0
        self.first_error: str | None = None

    def fail(self, why: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or why

    def open(self) -> bool:
        rel = f"api/kernels/{quote(self.kernel_id)}/channels?session_id={self.session_id}"
        try:
            info, self.ws = self.target.session.websocket(rel)
        except (ProbeError, OSError) as exc:
            self.fail(f"open: {type(exc).__name__}: {exc}")
            return False
        if self.ws is None:
            self.fail(f"open refused: {info}")
            return False
        return True

    def execute(self) -> float | None:
        start = time.perf_counter()
        out = self.target.session._run_code(self.ws, self.session_id, RTT_CODE)
        dt = time.perf_counter() - start
        if out["reply_status"] == "ok" and out["idle"] and not out["ws_error"]:
            return dt
        self.fail(f"execute: {out['ws_error'] or out['reply_status']}")
        return None

    def run(self, first: float, end: float, interval: float) -> None:
        """Execute at first, first + interval, ... until end; a late execution starts at once (no bursts)."""
        tick = first
        while self.ws is not None and tick < end:
            delay = tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            dt = self.execute()
            if dt is None:
                return  # the websocket is in an unknown state: this session stops
            self.times.append(dt)
            tick = max(tick + interval, time.monotonic())

    def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(OSError, ProbeError):
                self.ws.close()
            self.ws = None


def step_seconds(n: int, o: argparse.Namespace) -> float:
    """A step lasts --scale-seconds, and longer where n sessions would execute fewer than
    --scale-min-executions times in it: a p99 needs about a hundred samples (1 session: 100 s)."""
    return max(o.scale_seconds, o.scale_min_executions * o.scale_interval / max(n, 1))


def scale_step(t: Target, kernel_ids: list[str], o: argparse.Namespace) -> dict[str, Any]:
    """N sessions (N = len(kernel_ids)) on one proxy: open, warm up, execute once a second, measure, close."""
    sessions = [ScaleSession(t, k) for k in kernel_ids]
    n = len(sessions)
    begin = time.monotonic()
    opened = sum(r is True for r in parallel(ScaleSession.open, sessions, o.scale_workers))
    open_seconds = time.monotonic() - begin
    live = [s for s in sessions if s.ws is not None]
    try:
        parallel(ScaleSession.execute, live, o.scale_workers)  # warm-up: the first execution on a socket
        live = [s for s in live if s.ws is not None and not s.errors]
        start = time.monotonic() + 0.2
        end = start + step_seconds(n, o)
        threads = [
            threading.Thread(target=s.run, args=(start + i * o.scale_interval / n, end, o.scale_interval), daemon=True)
            for i, s in enumerate(live)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join(max(0.0, end - time.monotonic()) + o.timeout + 1)
        hung = sum(th.is_alive() for th in threads)
        comm, part = PROXY_PROCESSES.get(t.name, ("", ""))
        rss_open = proxy_rss_kib(comm, part) if comm else None
    finally:
        parallel(ScaleSession.close, sessions, o.scale_workers)
    times = sorted(x for s in sessions for x in s.times)
    errors = sum(s.errors for s in sessions) + hung
    first_error = next((s.first_error for s in sessions if s.first_error), None)
    return {
        "sessions": n,
        "seconds": round(step_seconds(n, o), 1),
        "opened": opened,
        "open_seconds": round(open_seconds, 2),
        "executions": len(times),
        "errors": errors,
        "first_error": first_error,
        "p50_ms": None if not times else round(percentile(times, 50) * 1000, 3),
        "p99_ms": None if not times else round(percentile(times, 99) * 1000, 3),
        "rss_open_kib": rss_open[0] if rss_open else None,
        "processes": rss_open[1] if rss_open else None,
    }


def cpu_busy(seconds: float = 1.0, stat_path: str = "/proc/stat") -> float:
    """Share of all CPUs' time spent busy over `seconds` (from /proc/stat's first line)."""

    def sample() -> tuple[int, int]:
        with open(stat_path, encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 0.0 if total1 == total0 else 1 - (idle1 - idle0) / (total1 - total0)


def settle(below: float = 0.25, limit: float = 60.0) -> tuple[float, float]:
    """Wait (at most `limit` s) until the machine is quiet: busy share below `below` over one second."""
    begin = time.monotonic()
    busy = cpu_busy()
    while busy >= below and time.monotonic() - begin < limit:
        busy = cpu_busy()
    return round(time.monotonic() - begin, 1), round(busy, 3)


def run_scale(targets: list[Target], o: argparse.Namespace) -> dict[str, Any]:
    """Every scale step of every proxy; kernels shared by the proxies of one Jupyter server."""
    pool = KernelPool()
    steps = sorted(set(o.scale))
    out: dict[str, Any] = {"steps": steps, "seconds_per_step": o.scale_seconds, "interval": o.scale_interval}
    out["min_executions"] = o.scale_min_executions
    out["proxies"] = {}
    begin = time.monotonic()
    try:
        for t in targets:
            if time.monotonic() - begin > o.scale_deadline:
                out["proxies"][t.name] = {"skipped": "scale deadline", "steps": []}
                continue
            comm, part = PROXY_PROCESSES.get(t.name, ("", ""))
            kernel_ids = pool.for_target(t, max(steps), o.scale_workers)
            time.sleep(1)  # let the connections of the kernel starts close before the baseline
            none = proxy_rss_kib(comm, part) if comm else None
            per: dict[str, Any] = {"rss_none_kib": none[0] if none else None, "steps": []}
            per["processes_none"] = none[1] if none else None
            for n in steps:
                if time.monotonic() - begin > o.scale_deadline:
                    per["steps"].append({"sessions": n, "skipped": "scale deadline", "errors": 0})
                    continue
                if len(kernel_ids) < n:
                    per["steps"].append({"sessions": n, "errors": n, "first_error": f"only {len(kernel_ids)} kernels"})
                    continue
                step = scale_step(t, kernel_ids[:n], o)
                step["rss_per_connection_kib"] = per_connection_kib(step["rss_open_kib"], per["rss_none_kib"], n)
                per["steps"].append(step)
            out["proxies"][t.name] = per
    finally:
        pool.shutdown(o.scale_workers)
    out["kernel_pools"] = pool.log
    out["elapsed"] = round(time.monotonic() - begin, 1)
    return out


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


def check_hub_target(t: Target) -> None:
    """Log in to the hub, start the user's server, open it (OAuth): t.session then addresses that server."""
    hub = t.session
    assert isinstance(hub, HubSession)
    login = hub.hub_login()
    if not login["logged_in"]:
        t.error = f"hub login failed: {login}"
        return
    server = hub.hub_server(start=True)
    if not server["ready"]:
        t.error = f"the user's server did not start: {server}"
        return
    user = hub.user_session()
    opened = user.open_user_server()
    if opened["api_status"] != 200:
        t.error = f"the user's server did not answer: {opened}"
        return
    t.session = user


def check_target(t: Target, asset: str | None, asset_sha: str | None) -> None:
    """Log in and check that this way in answers like the others; sets t.error otherwise."""
    try:
        if t.hub:
            check_hub_target(t)
            return
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
        metavar="NAME=PORT[:http|:rtt|:hub]",
        help="a way in; the first one is the reference (direct); ':http' = HTTP cells only, ':rtt' = round trip only, "
        "':hub' = round trip only, to a JupyterHub user's server (--hub-base, --hub-user)",
    )
    p.add_argument("--hub-base", default="/jhub/", help="the hub's base URL (':hub' targets)")
    p.add_argument("--hub-user", default="", help="the hub user (':hub' targets; the same password)")
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
    p.add_argument("--scale", type=int, nargs="*", default=[1, 10, 50, 100], help="sessions per scale step (none: off)")
    p.add_argument("--scale-targets", nargs="*", help="scale targets, in order (default: the proxies, direct)")
    p.add_argument("--scale-seconds", type=float, default=10.0, help="seconds of executions per scale step")
    p.add_argument(
        "--scale-min-executions", type=int, default=100, help="a step lasts until about this many executions (p99)"
    )
    p.add_argument("--scale-deadline", type=float, default=900, help="seconds: no new scale step starts after this")
    p.add_argument("--scale-interval", type=float, default=1.0, help="seconds between a session's executions")
    p.add_argument("--scale-workers", type=int, default=4, help="threads opening sockets and starting kernels")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds, per operation")
    p.add_argument("--jupyter-socket", default=JUPYTER_SOCKET, help="the default server's unix socket, if any")
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
        if flag not in ("", "http", "rtt", "hub"):
            p.error(f"--target {spec}: unknown flag {flag!r}")
        if flag == "hub" and not o.hub_user:
            p.error(f"--target {spec}: a hub target needs --hub-user")
        base = o.hub_base if flag == "hub" else o.base_url
        targets.append(Target(name, int(port), o.host, password, base, o.timeout, flag, o.hub_user))
    ref = targets[0]

    out: dict[str, Any] = {"host": o.host, "targets": {}, "settings": {}, "load_before": os.getloadavg()}
    out["settings"] = {k: v for k, v in vars(o).items() if k not in ("password_env", "out")}
    out["cpus"] = os.cpu_count()
    out["client_cpus"] = sorted(os.sched_getaffinity(0))
    out["versions"] = versions()
    try:
        is_socket = stat.S_ISSOCK(os.stat(o.jupyter_socket).st_mode)
    except OSError:
        is_socket = False
    out["default_server"] = f"the unix socket {o.jupyter_socket}" if is_socket else "TCP (127.0.0.1:8888)"

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
        out["targets"][t.name] = {
            "port": t.port,
            "http_only": t.http_only,
            "rtt_only": t.rtt_only,
            "hub": t.hub,
            "error": t.error,
        }
    live = [t for t in targets if not t.error]
    http_live = [t for t in live if not t.rtt_only]

    stream_bytes = o.stream_mib << 20
    kinds = (("api", ref.session.path(API_PATH), None), ("static", asset, len(body)))
    http_acc = {(k, c): {t.name: Slices() for t in http_live} for k, _, _ in kinds for c in o.concurrency}
    ws_live = [t for t in live if not t.http_only]
    rtt_acc = {t.name: Slices() for t in ws_live}
    stream_acc = {t.name: Slices() for t in ws_live if not t.rtt_only}
    channels: list[WsChannel] = []
    done = 0
    try:
        for t in ws_live:
            ch = WsChannel(t, stream_bytes)
            channels.append(ch)
            ch.open()
            try:
                if not t.rtt_only:
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
                    run_http_cell(http_live, path, conc, expect, rnd, o, http_acc[(kind, conc)])
            run_ws_cells(channels, rnd, o, rtt_acc, stream_acc)
            done += 1
    finally:
        for ch in channels:
            ch.shutdown()
    if o.scale:
        # The proxies, then the direct server (the reference, no proxy memory), whose kernels CHP's pool provides.
        names = o.scale_targets if o.scale_targets is not None else [*PROXY_PROCESSES, ref.name]
        out["scale"] = run_scale([t for n in names for t in live if t.name == n], o)

    cells: dict[str, dict[str, Any]] = {}
    for (kind, conc), per_target in http_acc.items():
        for name, acc in per_target.items():
            cells[f"{kind}/c{conc}/{name}"] = acc.summary("req/s")
    for name in rtt_acc:
        cells[f"ws_rtt/{name}"] = rtt_acc[name].summary("round trips/s")
    for name in stream_acc:
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
