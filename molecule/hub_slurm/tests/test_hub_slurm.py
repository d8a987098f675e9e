"""JupyterHub on a login host, users' servers as Slurm jobs on two compute nodes.

Every user-facing step goes through http://hub.example.org/jupyter/ (nginx -> CHP -> hub or
a user's server on a node) with the collection's client library
(plugins/module_utils/_jupyter_client.py), run on the login host as a browser there would.
The order matters: alice, then bob, fill both nodes; carol then waits in the queue.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from pathlib import Path

import pytest
from e2e.verify import PROBE_DST, Probe, chp_api, docker, journal, wait_until

testinfra_hosts = ["ansible://slurm-login"]

NODES = ("slurm-c1", "slurm-c2")
HUB = "jupyterhub"
HUB_API = "http://127.0.0.1:8081/jupyter/hub/api"
HUB_UP = f"python3 -c 'import urllib.request as r; r.urlopen(\"{HUB_API}\", timeout=5)'"
HUBCTL_SRC = Path(__file__).with_name("hubctl.py")
HUBCTL = "/usr/local/bin/jupyter-edge-hubctl"
WHERE = "import os, socket; print(socket.gethostname(), os.environ.get('SLURM_JOB_ID'), os.getuid())"
START_TIMEOUT = 40  # jupyterhub_slurm_start_timeout in molecule.yml


def jar(user: str) -> str:
    return f"/root/.jupyter-edge-slurm-{user}.json"


def on_node(node: str, command: str) -> str:
    return docker("exec", node, "sh", "-c", command).stdout.decode()


def jobs(host, user: str) -> list[list[str]]:
    """The user's jobs as squeue lists them: [job id, state, node or (reason)]."""
    out = host.check_output(f"squeue -h -u {user} -o '%i %T %R'")
    return [line.split() for line in out.splitlines() if line.strip()]


def logs(host) -> str:
    return "\n".join(journal(host, unit, 40) for unit in (HUB, "slurmctld"))


@pytest.fixture(scope="module")
def url(settings):
    return settings["e2e_url"]


@pytest.fixture(scope="module")
def probes(host, settings, url):
    return {user: Probe(host, url, password=password) for user, password in settings["e2e_users"].items()}


def hubctl(host, probe: Probe, action: str, user: str, timeout: int = 150) -> dict:
    docker("cp", str(HUBCTL_SRC), f"slurm-login:{HUBCTL}")
    command = shlex.join(["python3", HUBCTL, action, user, probe.url, jar(user)])
    result = host.run(f"PROBE_PW=$(cat {probe.secret}) timeout {timeout} {command}")
    assert result.rc == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def run_where(probe: Probe, user: str, *extra: str) -> dict:
    return probe.run("hub-kernel", "--user", user, "--cookie-jar", jar(user), "--code", WHERE, *extra, timeout=240)


# -- the cluster ------------------------------------------------------------------------


def test_munge_and_slurm_run(host):
    for unit in ("munge", "slurmctld", HUB, "configurable-http-proxy", "nginx"):
        assert host.service(unit).is_running, logs(host)
    for node in NODES:
        assert on_node(node, "systemctl is-active munge slurmd").split() == ["active", "active"]


def test_two_idle_nodes(host):
    out = host.check_output("sinfo -h -N -o '%N %t'")
    assert sorted(out.split("\n")) == ["slurm-c1 idle", "slurm-c2 idle"], out


def test_one_munge_key_everywhere(host):
    hashes = {host.check_output("sha256sum /etc/munge/munge.key").split()[0]}
    hashes |= {on_node(node, "sha256sum /etc/munge/munge.key").split()[0] for node in NODES}
    assert len(hashes) == 1
    assert host.file("/etc/munge/munge.key").mode == 0o400
    assert host.file("/etc/munge/munge.key").user == "munge"


def test_same_slurm_conf_and_users_everywhere(host):
    conf = host.check_output("sha256sum /etc/slurm/slurm.conf").split()[0]
    ids = host.check_output("id -u alice; id -u bob; id -u carol; id -u slurm")
    for node in NODES:
        assert on_node(node, "sha256sum /etc/slurm/slurm.conf").split()[0] == conf
        assert on_node(node, "id -u alice; id -u bob; id -u carol; id -u slurm").strip() == ids.strip()


def test_hub_config_for_slurm(host):
    config = host.check_output("cat /etc/jupyterhub/jupyterhub_config.py")
    assert "import batchspawner" in config
    assert "Private Hub API connect url http://slurm-login:8081/jupyter/hub/" in journal(host, HUB, 2000)
    code = "import jupyterhub, batchspawner; print(jupyterhub.__version__, batchspawner.__version__)"
    versions = host.check_output(f"/opt/jupyterhub/venv/bin/python -c '{code}'")
    print("versions (jupyterhub, batchspawner):", versions)
    assert versions.split()[1] == "1.3.0"
    same = "test -x /opt/jupyterhub/venv/bin/batchspawner-singleuser && /opt/jupyterhub/venv/bin/python -c '{}'"
    kernel = "/opt/jupyterhub/venv/share/jupyter/kernels/python-extra/kernel.json"
    for node in NODES:
        assert on_node(node, same.format(code)).strip() == versions  # the same versions where the servers run
        assert on_node(node, f"cat {kernel}").strip() == host.check_output(f"cat {kernel}")


# -- users' servers on the nodes ----------------------------------------------------------


def test_alice_runs_code_on_a_compute_node(host, probes):
    seen = run_where(probes["alice"], "alice", "--keep")
    assert seen["reply_status"] == "ok", (seen, logs(host))
    node, job, uid = seen["stdout"].split()
    assert node in NODES
    assert uid == host.check_output("id -u alice")
    assert jobs(host, "alice") == [[job, "RUNNING", node]]
    status, routes = chp_api(host)
    target = routes["/jupyter/user/alice"]["target"]
    assert re.fullmatch(rf"http://{node}:\d+", target), routes


def test_extra_kernel_on_the_node(host, probes):
    seen = probes["alice"].run(
        "hub-kernel",
        "--user",
        "alice",
        "--cookie-jar",
        jar("alice"),
        "--kernel-name",
        "python-extra",
        "--code",
        "import os; print(os.environ['EXTRA_KERNEL'])",
    )
    assert seen["stdout"] == "yes\n", seen


def test_bob_lands_on_the_other_node(host, probes):
    seen = run_where(probes["bob"], "bob")
    assert seen["reply_status"] == "ok", (seen, logs(host))
    node, job, _uid = seen["stdout"].split()
    assert jobs(host, "bob") == [[job, "RUNNING", node]]
    assert jobs(host, "alice")[0][2] != node


def test_carol_waits_in_the_queue_then_gets_a_clear_message(host, probes):
    seen = hubctl(host, probes["carol"], "start-progress", "carol", timeout=START_TIMEOUT + 60)
    messages = [event.get("message", "") for event in seen["events"]]
    assert "Pending in queue..." in messages, seen
    last = seen["events"][-1]
    assert last.get("failed"), seen
    assert "still PENDING (Resources)" in last["message"] and "try again later" in last["message"], seen
    assert seen["seconds"] < START_TIMEOUT + 15, seen
    wait_until(host, 'test -z "$(squeue -h -u carol)"', 30)  # the job is gone


def test_hub_restart_keeps_bobs_job_route_and_websocket(host, probes):
    release, result = "/root/.slurm-restart-release", "/root/.slurm-restart-result.json"
    host.run(f"rm -f {release} {release}.held {result}")
    probe = probes["bob"]
    options = ["--url", probe.url, "--timeout", "60", "--password-env", "PROBE_PW"]
    args = ["hub-kernel", "--user", "bob", "--cookie-jar", jar("bob"), "--code", "print(6*7)"]
    args += ["--hold-code", "print(7*8)"]
    command = shlex.join(["python3", PROBE_DST, *options, *args, "--hold-seconds", "300", "--hold-until", release])
    command = f"PROBE_PW=$(cat {probe.secret}) {command}"
    host.run(f"setsid nohup sh -c {shlex.quote(f'{command} > {result} 2>&1')} >/dev/null 2>&1 &")
    wait_until(host, f"test -e {release}.held", 120)
    before = jobs(host, "bob")
    hub = host.check_output(f"systemctl show -p MainPID --value {HUB}")

    assert host.run(f"systemctl restart {HUB}").rc == 0
    wait_until(host, HUB_UP, 120)
    assert host.check_output(f"systemctl show -p MainPID --value {HUB}") != hub
    time.sleep(6)  # the restarted hub polls the job and checks the routes
    assert jobs(host, "bob") == before, logs(host)
    status, routes = chp_api(host)
    assert routes["/jupyter/user/bob"]["target"].startswith(f"http://{before[0][2]}:"), routes

    host.run(f"touch {release}")
    wait_until(host, f"python3 -c 'import json; json.load(open(\"{result}\"))'", 120)
    seen = json.loads(host.file(result).content_string)
    assert seen["first"]["stdout"] == "42\n", seen
    assert not seen["hold"]["closed"] and seen["hold"]["error"] is None, seen
    assert seen["second"]["stdout"] == "56\n", (seen, logs(host))


def test_stopping_alice_cancels_her_job_and_leaves_nothing(host, probes):
    node = jobs(host, "alice")[0][2]
    seen = hubctl(host, probes["alice"], "stop", "alice")
    assert seen["stopped"], (seen, logs(host))
    wait_until(host, 'test -z "$(squeue -h -u alice)"', 30)
    deadline = time.monotonic() + 20
    while (left := on_node(node, "pgrep -u alice -a || true").strip()) and time.monotonic() < deadline:
        time.sleep(1)
    assert left == "", left
    status, routes = chp_api(host)
    assert "/jupyter/user/alice" not in routes


def test_only_sbatch_runs_through_sudo(host):
    """The hub polls squeue and runs scancel as itself: sudo (and its PAM session lines) only for sbatch."""
    out = host.check_output("journalctl -t sudo --no-pager -o cat | grep 'COMMAND=' || true")
    commands = {line.rpartition("COMMAND=")[2].split()[0] for line in out.splitlines()}
    assert commands == {"/usr/bin/sbatch"}, out
