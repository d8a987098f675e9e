"""Proxy host -> backend host: a browser on the proxy host reaches the kernel."""

import os
import subprocess
from pathlib import Path

import pytest
from e2e.browser import browsers, visit_lab  # noqa: F401
from e2e.verify import Probe, http_status, journal

testinfra_hosts = ["ansible://edge.example.org"]

URL = "http://edge.example.org/notebook/"


@pytest.fixture(scope="module")
def probe(host):
    settings = host.ansible.get_variables()
    return Probe(host, URL, password=settings["vault_jupyter_password"])


def test_no_jupyter_on_the_proxy_host(host):
    assert not host.file("/opt/jupyter").exists
    assert host.service("nginx").is_running


def test_kernel_round_trip_through_the_proxy_to_the_backend(probe):
    seen = probe.run("kernel", "--code", "import socket; print(socket.gethostname())")
    assert seen["stdout"] == "backend.internal\n", seen


def test_real_browser_through_the_proxy_to_the_backend(host, browsers):  # noqa: F811
    """Chromium on the controller, by the public name to the proxy host; the kernel runs on the backend."""
    password = host.ansible.get_variables()["vault_jupyter_password"]
    visit_lab(host, browsers, URL, password, label="split", expect_hostname="backend.internal",
              logs=lambda: journal(host, "nginx"))  # fmt: skip


def test_foreign_origin_is_refused_by_the_backend(probe):
    seen = probe.run("ws-origin", "--origin-override", "https://evil.example.net")
    assert seen["ws_status"] == 403, seen


def test_other_names_are_refused_at_the_proxy(host):
    assert http_status(host, "http://127.0.0.1/notebook/login", "edge.example.org") == 200
    assert http_status(host, "http://127.0.0.1/notebook/login", "evil.example.net") == 421


def test_the_backend_checks_the_host_itself(host):
    """Jupyter listens on the private network, where more than the proxy may reach it: it accepts only
    the site's names (jupyter_trust_proxy_host auto), and refuses a rebinding name sent to it directly."""
    login = "http://10.0.0.20:8888/notebook/login"
    assert http_status(host, login, "edge.example.org") == 200
    assert http_status(host, login, "evil.example.net") == 403


@pytest.mark.parametrize("name", ["site", "doctor"])
def test_playbooks_by_fqcn_come_from_the_installed_collection(name):
    """converge.yml and test_doctor.py name the playbooks by FQCN: the tarball's copy, not this tree."""
    installed = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"], ".build/installed/ansible_collections/jupyter_edge")
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    run = subprocess.run(
        ["ansible-playbook", "--syntax-check", "-i", inventory, f"jupyter_edge.deploy.{name}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"playbook: {installed}/deploy/playbooks/{name}.yml" in run.stdout, run.stdout
