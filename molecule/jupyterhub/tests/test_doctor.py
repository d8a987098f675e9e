"""playbooks/doctor.yml against the hub deployment (CHP + JupyterHub + nginx): healthy, then broken on purpose.

Each break is undone by its fixture (also when the test fails, and at the start of a run
after an interrupted one), so the other files find the deployment as converged, in any order.
"""

from __future__ import annotations

import re
import time

import pytest
from e2e.verify import CHP_TOKEN_FILE, breakage, chp_api, run_doctor, wait_until

testinfra_hosts = ["ansible://jupyterhub"]

CHP = "configurable-http-proxy"
BACKUP = "/root/.doctor-test-auth.env"


@pytest.fixture(scope="module", autouse=True)
def no_leftover_break(host):
    """A run interrupted in the middle of the mismatch test left the backup behind: restore first."""
    restore_token(host)


@pytest.fixture
def doctor(settings, token, monkeypatch):
    """Runs the doctor as alice (password from the controller's environment); checks that no secret leaks."""
    password = settings["e2e_users"]["alice"]

    def run(hub_password: str | None = password, user: str | None = "alice") -> tuple[int, str]:
        if hub_password is not None:
            monkeypatch.setenv("DOCTOR_HUB_PASSWORD", hub_password)
        rc, out = run_doctor({"doctor_hub_user": user} if user else {})
        secrets = [token, password, hub_password or password]
        assert not any(secret in out for secret in secrets), "a secret is in the doctor's output"  # never shown here
        return rc, out

    return run


def restore_token(host) -> None:
    """Put CHP's own token back and restart CHP; wait until the hub has re-added its route."""
    if host.run(f"test -e {BACKUP}").rc == 0:
        assert host.run(f"cp -p {BACKUP} {CHP_TOKEN_FILE} && rm -f {BACKUP} && systemctl restart {CHP}").rc == 0
        deadline = time.monotonic() + 60
        while not hub_route(host):
            assert time.monotonic() < deadline, "the hub did not re-add its route to CHP within 60 s"
            time.sleep(1)


def hub_route(host) -> bool:
    """Whether CHP (asked with its own token) has the hub's route; False while CHP starts."""
    try:
        return "/jupyter" in chp_api(host)[1]
    except AssertionError:  # connection refused: the request script fails
        return False


def test_healthy_hub_deployment_passes_every_check(host, doctor, token, monkeypatch):
    monkeypatch.setenv("ANSIBLE_VERBOSITY", "3")  # no secret in verbose output either
    since = host.check_output("date '+%Y-%m-%d %H:%M:%S'")
    rc, out = doctor()
    assert rc == 0, out[-4000:]
    for check in (
        "server versions",
        f"service {CHP}",
        "service jupyterhub",
        "service nginx",
        "nginx configuration",
        "base URL in proxy",
        "base URL in JupyterHub",
        "hub token accepted by CHP",
        "hub login",
        "recent errors in the logs",
    ):
        assert f"PASS {check}" in out, out[-4000:]
    assert "GET http://127.0.0.1:8001/api/routes with the hub's token answered 200" in out
    assert "hub/CHP files same, hub/CHP processes same" in out
    assert "FAIL" not in out and "SKIP" not in out
    assert "Host accepted and login" not in out  # the single-user login does not apply to a hub
    assert re.search(r"changed=0\s", out), out[-3000:]
    leaked = token in host.check_output(f"journalctl --no-pager --since '{since}'")
    assert not leaked, "the token is in the journal"


def test_hub_login_skipped_without_a_user(doctor):
    rc, out = doctor(hub_password=None, user=None)
    assert rc == 0, out[-4000:]
    assert "SKIP hub login: no user given: run with -e doctor_hub_user=NAME" in out
    assert "PASS hub token accepted by CHP" in out


def test_token_mismatch_between_hub_and_proxy(host, doctor):
    with breakage(host) as brk:
        brk(
            f"cp -p {CHP_TOKEN_FILE} {BACKUP}"
            f" && printf 'CONFIGPROXY_AUTH_TOKEN=%s\\n' $(python3 -c 'import secrets; print(secrets.token_hex(32))')"
            f" > {CHP_TOKEN_FILE} && systemctl restart {CHP}",
            lambda: restore_token(host),
        )
        wait_until(host, "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", 8001), 2)'", 60)
        rc, out = doctor()
    assert rc != 0
    assert (
        "FAIL hub token accepted by CHP: GET http://127.0.0.1:8001/api/routes with the hub's token answered 403" in out
    )
    assert "hub/CHP files differ" in out and "CHP file/process same" in out, out[-3000:]
    assert (
        "fix: re-run jupyter_edge.deploy.site for this host: the jupyterhub role copies the token from"
        f" {CHP_TOKEN_FILE} into /etc/jupyterhub/jupyterhub.env and restarts jupyterhub" in out
    ), out[-3000:]
    assert "PASS hub login" in out  # CHP still sends unrouted requests to the hub


def test_wrong_hub_password(doctor):
    rc, out = doctor(hub_password="not-alices-password")
    assert rc != 0
    assert "FAIL hub login: as alice at http://hub.example.org/jupyter/hub/login: login page 200, POST 403" in out
    assert "fix: a POST 403 means the hub refused doctor_hub_user/doctor_hub_password" in out
    assert "PASS hub token accepted by CHP" in out


def test_deployment_is_healthy_again(host, doctor, token):
    assert host.run(f"test -e {BACKUP}").rc != 0
    assert host.check_output(f"cat {CHP_TOKEN_FILE}").strip() == f"CONFIGPROXY_AUTH_TOKEN={token}"
    rc, out = doctor()
    assert rc == 0, out[-4000:]
    assert "FAIL" not in out
