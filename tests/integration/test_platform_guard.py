"""Each role on a distribution it has no vars file for: stopped before any change, or, with
jupyter_edge_platform_override, warned about and run with the named file's values.

The host's facts are set by the test's play (Ubuntu 24.04, Debian 13, ...), so the roles run
against localhost in check mode and see the distribution the test chooses; no task after the
guard may run (asserted from the task list Ansible prints).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROLES = ["jupyter", "nginx_proxy", "apache_proxy", "chp_service", "jupyterhub"]
GUARD = "Stop on a distribution this collection has no values for"
# Enough input for every role's argument specs and preflight.
EXTRA = {
    "jupyter_password": "correct-horse-battery",
    "jupyterhub_allowed_users": ["alice"],
    "ansible_python_interpreter": sys.executable,
}


def facts(distribution: str, version: str) -> dict:
    return {
        "ansible_distribution": distribution,
        "ansible_distribution_version": version,
        "ansible_distribution_major_version": version.split(".")[0],
        "ansible_os_family": "Debian",
        "ansible_service_mgr": "systemd",
    }


def converge(tmp_path: Path, role: str, host_facts: dict, extra: dict | None = None, tags: str | None = None):
    """The role alone on localhost (check mode), on a host whose facts say host_facts."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        textwrap.dedent(
            f"""
            - hosts: localhost
              connection: local
              gather_facts: false
              pre_tasks:
                - name: Pretend to be the distribution under test
                  # cacheable: into ansible_facts, where the roles read them
                  ansible.builtin.set_fact: {json.dumps({**host_facts, "cacheable": True})}
                  tags: [always]
              roles:
                - role: jupyter_edge.deploy.{role}
            """
        )
    )
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build"), ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "--check", str(playbook)]
    command += ["-e", json.dumps({**EXTRA, **(extra or {})})]
    if tags:
        command += ["--tags", tags]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    return run, run.stdout + run.stderr


def tasks_run(out: str) -> list[str]:
    return re.findall(r"^TASK \[(?:[^:\]]+ : )?(.*?)\]", out, re.M)


@pytest.mark.parametrize("role", ROLES)
def test_unknown_distribution_fails_before_any_change(tmp_path, role):
    run, out = converge(tmp_path, role, facts("Ubuntu", "24.04"))
    assert run.returncode != 0, out
    message = " ".join(out.split())
    assert "this host runs Ubuntu 24.04 (Ubuntu-24)" in message, out
    assert "jupyter_edge_platform_override" in message and "Nothing was changed" in message, out
    assert "Debian-12, Debian-13" in message, out  # the distributions it has values for
    assert tasks_run(out)[-1] == GUARD, tasks_run(out)
    assert re.search(r"localhost\s*: ok=\d+\s+changed=0\s+unreachable=0\s+failed=1", out), out


@pytest.mark.parametrize("role", ROLES)
def test_override_warns_and_goes_on(tmp_path, role):
    """Debian-12's values on Ubuntu 24.04: a warning, the values loaded, the role's own checks run."""
    run, out = converge(
        tmp_path,
        role,
        facts("Ubuntu", "24.04"),
        {"jupyter_edge_platform_override": "Debian-12"},
        tags=f"{role}_preflight",
    )
    assert run.returncode == 0, out
    message = " ".join(out.split())
    assert "WARNING: jupyter_edge.deploy." + role in message, out
    assert "uses the values for Debian-12 on this Ubuntu-24 host" in message, out
    assert "Load the values for Debian-12" in out, out
    assert any(t.startswith("Check ") and t != "Check the override" for t in tasks_run(out)), tasks_run(out)


def test_override_must_name_a_vars_file(tmp_path):
    override = {"jupyter_edge_platform_override": "Ubuntu-24"}
    run, out = converge(tmp_path, "nginx_proxy", facts("Ubuntu", "24.04"), override)
    assert run.returncode != 0, out
    assert "jupyter_edge_platform_override is 'Ubuntu-24'" in " ".join(out.split()), out
    assert tasks_run(out)[-1] == "Check the override", tasks_run(out)


@pytest.mark.parametrize("version", ["12", "13"])
def test_each_debian_release_loads_its_own_file(tmp_path, version):
    """Without an override a known release loads its own values, silently (chp_service: the CHP release)."""
    run, out = converge(tmp_path, "chp_service", facts("Debian", f"{version}.1"), tags="chp_service_preflight")
    assert run.returncode == 0, out
    assert f"Load the values for Debian-{version}" in out, out
    assert "WARNING: jupyter_edge.deploy" not in out, out
