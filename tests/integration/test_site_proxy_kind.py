"""site.yml's proxy play with the documented default: a proxy host without jupyter_edge_proxy is nginx.

ansible-core 2.19 templates an assert's fail_msg even when the assertion holds, so a message
that names an undefined variable failed every such host (found in session 6). Only the
play's own check runs here (--tags always, check mode, localhost).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def site(tmp_path: Path, extra: dict) -> tuple[int, str]:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  children:\n    proxy:\n      hosts:\n        localhost:\n")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build"), ANSIBLE_NOCOLOR="1")
    command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory), "--check",
               "--tags", "always", "jupyter_edge.deploy.site", "-c", "local",
               "-e", json.dumps({"ansible_python_interpreter": sys.executable, **extra})]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    return run.returncode, run.stdout + run.stderr


def test_a_proxy_host_without_jupyter_edge_proxy_is_nginx(tmp_path):
    rc, out = site(tmp_path, {})
    assert rc == 0, out
    assert "TASK [Check the proxy kind]" in out, out


@pytest.mark.parametrize("kind", ["caddy", ""])
def test_an_unknown_proxy_kind_is_named(tmp_path, kind):
    rc, out = site(tmp_path, {"jupyter_edge_proxy": kind})
    assert rc != 0, out
    assert f"jupyter_edge_proxy is '{kind}': set it to nginx or apache" in " ".join(out.split()), out
