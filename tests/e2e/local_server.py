"""A real jupyter_server on 127.0.0.1 for the controller-side tests (probe, kernel websocket tuning)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ansible_collections.jupyter_edge.deploy.plugins.module_utils._jupyter_client import JupyterSession

PASSWORD = "probe-test-pw"  # noqa: S105 - throwaway password of a throwaway server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyter_server(tmp: Path, *args: str, pythonpath: str | None = None, python: str | None = None) -> Iterator[str]:
    """jupyter_server at http://127.0.0.1:<random>/notebook/ with PASSWORD and extra
    command-line settings, run by `python` (default: this interpreter); yields the base URL,
    stops the server afterwards."""
    from jupyter_server.auth import passwd

    dirs = {name: tmp / name for name in ("root", "config", "runtime", "data", "ipython")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    env = os.environ | {
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "IPYTHONDIR": str(dirs["ipython"]),
        "SHELL": "/bin/sh",
    }
    env.pop("JUPYTER_TOKEN", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    port = free_port()
    cmd = [
        python or sys.executable,
        "-m",
        "jupyter_server",
        f"--PasswordIdentityProvider.hashed_password={passwd(PASSWORD)}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.base_url=/notebook/",
        "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={dirs['root']}",
        *args,
    ]
    if os.geteuid() == 0:  # CI containers
        cmd.append("--ServerApp.allow_root=True")
    log_path = tmp / "server.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/notebook/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if JupyterSession(url, timeout=2).request("GET", "login").status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("jupyter_server did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
