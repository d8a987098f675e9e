"""The Slurm preflights name the variable and the fix, before any change (localhost, check mode).

Only the roles' preflight.yml runs here; molecule/hub_slurm converges the real thing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "x" * 32


def preflight(tmp_path: Path, role: str, extra: dict, groups: str = "") -> tuple[int, str]:
    (tmp_path / "hosts.yml").write_text(f"all:\n  hosts:\n    localhost:\n{groups}")
    (tmp_path / "play.yml").write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        f"    - ansible.builtin.include_role:\n        name: jupyter_edge.deploy.{role}\n"
        "        tasks_from: preflight.yml\n"
    )
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build"), ANSIBLE_NOCOLOR="1")
    command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "hosts.yml", "--check", "play.yml",
               "-c", "local", "-e", json.dumps({"ansible_python_interpreter": sys.executable, **extra})]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    return run.returncode, " ".join((run.stdout + run.stderr).split())


HUB = {"jupyterhub_spawner_class": "slurm", "jupyterhub_allowed_users": ["alice"], "jupyterhub_proxy_auth_token": TOKEN}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"jupyterhub_connect_url": ""}, "jupyterhub_connect_url is ''"),
        ({"jupyterhub_connect_url": "http://127.0.0.1:8081"}, "(not loopback)"),
        (
            {"jupyterhub_connect_url": "http://login:8081", "jupyterhub_bind_url": "http://127.0.0.1:8081"},
            "let the hub listen beyond loopback",
        ),
        (
            {"jupyterhub_connect_url": "http://login:8081", "jupyterhub_bind_url": "http://0.0.0.0:8081",
             "jupyterhub_slurm_extra_options": ["account=x"]},
            "a list of sbatch options",
        ),
    ],
)  # fmt: skip
def test_hub_slurm_settings_are_checked(tmp_path, extra, message):
    rc, out = preflight(tmp_path, "jupyterhub", HUB | extra)
    assert rc != 0 and message in out, out


def test_good_hub_slurm_settings_pass(tmp_path):
    extra = {"jupyterhub_connect_url": "http://login:8081", "jupyterhub_bind_url": "http://0.0.0.0:8081"}
    rc, out = preflight(tmp_path, "jupyterhub", HUB | extra)
    assert rc == 0, out


CLUSTER = "  children:\n    slurm_controller:\n      hosts:\n        localhost:\n"


@pytest.mark.parametrize(
    ("extra", "groups", "message"),
    [
        ({}, "", "The inventory group slurm_controller has 0 hosts"),
        ({}, CLUSTER, "give compute hosts (the inventory group slurm_compute) or slurm_nodes"),
        ({"slurm_nodes": [{"name": "c1"}], "slurm_proctrack": "proctrack/none"}, CLUSTER, "slurm_proctrack is"),
        (
            {"slurm_nodes": [{"name": "c1"}], "slurm_munge_key": "c2hvcnQ="},
            CLUSTER,
            "slurm_munge_key is not a base64 key",
        ),
        ({"slurm_manage_cluster": False}, "", "give slurm_conf_content"),
    ],
)
def test_slurm_settings_are_checked(tmp_path, extra, groups, message):
    rc, out = preflight(tmp_path, "slurm", extra, groups)
    assert rc != 0 and message in out, out
    assert "c2hvcnQ=" not in out.replace('"slurm_munge_key": "c2hvcnQ="', "")  # the key is never echoed back


def test_good_slurm_settings_pass(tmp_path):
    rc, out = preflight(tmp_path, "slurm", {"slurm_nodes": [{"name": "c1", "cpus": 2}]}, CLUSTER)
    assert rc == 0, out
