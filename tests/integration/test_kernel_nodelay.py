"""TCP_NODELAY on the kernel websocket (roles/jupyter/files/jupyter_edge_nodelay.py), measured.

Two real jupyter_servers side by side, stock and with the role's connection class;
the same client times execute round trips on each, interleaved. Stock waits for the
client's delayed ACK (~40 ms) after the first frame of every reply; with nodelay the
frames leave at once. The difference, not an absolute time, is asserted, so a busy
machine does not decide the result.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from ansible_collections.jupyter_edge.deploy.plugins.module_utils._jupyter_client import JupyterSession
from e2e.local_server import PASSWORD, jupyter_server

FILES = Path(__file__).resolve().parents[2] / "roles" / "jupyter" / "files"
NODELAY = "--ServerApp.kernel_websocket_connection_class=jupyter_edge_nodelay.NoDelayKernelWebsocketConnection"
ROUNDS = 15
OLDEST = "2.4.0"


class Kernel:
    """A logged-in session with one kernel and its open websocket."""

    def __init__(self, url: str):
        self.session = JupyterSession(url, PASSWORD, timeout=30)
        assert self.session.check_login()["logged_in"]
        out: dict = {}
        self.kernel_id = self.session._start_kernel(out)
        assert self.kernel_id, out
        self.session_id = uuid.uuid4().hex
        info, self.ws = self.session.websocket(
            f"api/kernels/{quote(self.kernel_id)}/channels?session_id={self.session_id}"
        )
        assert self.ws is not None, info

    def round_trip(self) -> float:
        start = time.monotonic()
        seen = self.session._run_code(self.ws, self.session_id, "pass")
        assert seen["reply_status"] == "ok" and seen["idle"], seen
        return (time.monotonic() - start) * 1000

    def close(self) -> None:
        self.ws.close()
        self.session.request("DELETE", f"api/kernels/{quote(self.kernel_id)}")


def oldest_supported() -> str:
    """Python of a cached environment with the oldest jupyter_server the roles' defaults allow
    (jupyterlab>=4 needs jupyter_server>=2.4): the hook relies on connect() and websocket_handler."""
    cache = Path(os.environ.get("JUPYTER_EDGE_CACHE") or Path.home() / ".cache" / "jupyter-edge")
    venv = cache / "venvs" / f"jupyter_server-{OLDEST}"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", f"jupyter_server=={OLDEST}", "ipykernel"]
        subprocess.run(pip, check=True, timeout=600)
        (venv / ".installed").touch()
    return str(python)


@pytest.fixture(scope="module", params=["pinned", OLDEST])
def servers(request, tmp_path_factory):
    """Stock and tuned servers of one jupyter_server version: this environment's, or the oldest supported."""
    pytest.importorskip("jupyter_server")
    pytest.importorskip("ipykernel")
    python = None if request.param == "pinned" else oldest_supported()
    with (
        jupyter_server(tmp_path_factory.mktemp("stock"), python=python) as stock,
        jupyter_server(tmp_path_factory.mktemp("nodelay"), NODELAY, pythonpath=str(FILES), python=python) as tuned,
    ):
        yield stock, tuned


def test_nodelay_removes_the_delayed_ack_stall(servers):
    stock, tuned = (Kernel(url) for url in servers)
    try:
        for kernel in (stock, tuned):
            kernel.round_trip()  # warm up
        times: dict[str, list[float]] = {"stock": [], "nodelay": []}
        for _ in range(ROUNDS):
            times["stock"].append(stock.round_trip())
            times["nodelay"].append(tuned.round_trip())
    finally:
        stock.close()
        tuned.close()
    p50 = {name: statistics.median(values) for name, values in times.items()}
    print(f"execute round trip p50: stock {p50['stock']:.1f} ms, nodelay {p50['nodelay']:.1f} ms")
    assert p50["stock"] - p50["nodelay"] > 25, p50  # the ~40 ms delayed-ACK stall is gone


def test_probe_latency_check_reports_the_round_trip(servers):
    """The probe's `latency` check (used by the scenarios through the proxies) sees the same difference."""
    stock, tuned = (JupyterSession(url, PASSWORD, timeout=30).check_latency(rounds=10) for url in servers)
    for seen in (stock, tuned):
        assert seen["rounds"] == 10 and seen["failed"] == 0 and seen["delete_status"] == 204, seen
    assert stock["p50_ms"] - tuned["p50_ms"] > 25, (stock, tuned)
