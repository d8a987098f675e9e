"""playbooks/doctor.yml's Slurm checks on the cluster: healthy, then broken on purpose on slurm-c2.

Runs before test_hub_slurm.py, which expects the cluster as converged: each break is undone
(also when the test fails) and the cluster is back to two idle nodes afterwards.
"""

from __future__ import annotations

import pytest
from e2e.verify import assert_doctor_passes, docker, doctor_lines, run_doctor, wait_until

testinfra_hosts = ["ansible://slurm-login"]

NODE = "slurm-c2"
# The Slurm play only: the hub checks of the first play are the jupyterhub scenario's.
SLURM_ONLY = {"doctor_hosts": "no_such_group", "doctor_hub_user": "alice"}


def on_node(command: str) -> None:
    docker("exec", NODE, "sh", "-c", command)


@pytest.fixture
def restored(host):
    yield
    on_node("systemctl restart munge && systemctl restart slurmd")
    wait_until(host, f"sinfo -h -n {NODE} -o %t | grep -qx idle", 60)


def test_doctor_passes_on_the_healthy_cluster(host, settings, monkeypatch):
    monkeypatch.setenv("DOCTOR_HUB_PASSWORD", settings["e2e_users"]["alice"])
    out = assert_doctor_passes({"doctor_hub_user": "alice"})
    passed = doctor_lines(out, "PASS")
    checks = ("munge key", "scontrol ping", "sinfo slurm-c1", "sinfo slurm-c2", "slurmd", "hub API from this node")
    for check in (*checks, "uid of alice"):
        assert any(line.startswith(f"PASS {check}:") for line in passed), (check, out[-4000:])
    key = host.check_output("sha256sum /etc/munge/munge.key").split()[0]
    assert key not in out  # compared on the hosts, never printed


def test_doctor_names_a_stopped_slurmd(host, restored):
    on_node("systemctl stop slurmd")
    rc, out = run_doctor(SLURM_ONLY)
    failed = doctor_lines(out, "FAIL")
    assert rc != 0 and any(line.startswith("FAIL slurmd: slurmd is inactive") for line in failed), out[-4000:]
    assert any(f"systemctl restart slurmd on {NODE}" in line for line in failed), failed


def test_doctor_names_a_mismatched_munge_key(host, restored):
    key = host.check_output("base64 -w0 /etc/munge/munge.key")
    try:
        on_node("dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none && systemctl restart munge")
        rc, out = run_doctor(SLURM_ONLY)
    finally:
        docker("exec", "-i", NODE, "sh", "-c", "base64 -d > /etc/munge/munge.key", stdin=key.encode())
    failed = doctor_lines(out, "FAIL")
    expected = "FAIL munge key: DIFFERENT from slurm-login's"
    assert rc != 0 and any(line.startswith(expected) for line in failed), out[-4000:]
