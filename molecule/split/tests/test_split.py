"""Proxy host -> backend host: a browser on the proxy host reaches the kernel."""

import pytest
from e2e.verify import Probe

testinfra_hosts = ["ansible://split-proxy"]


@pytest.fixture(scope="module")
def probe(host):
    settings = host.ansible.get_variables()
    return Probe(host, settings["e2e_url"], password=settings["jupyter_password"])


def test_no_jupyter_on_the_proxy_host(host):
    assert not host.file("/opt/jupyter").exists
    assert host.service("nginx").is_running


def test_kernel_round_trip_through_the_proxy_to_the_backend(probe):
    seen = probe.run("kernel", "--code", "import socket; print(socket.gethostname())")
    assert seen["stdout"] == "split-backend\n", seen


def test_foreign_origin_is_refused_by_the_backend(probe):
    seen = probe.run("ws-origin", "--origin-override", "https://evil.example.net")
    assert seen["ws_status"] == 403, seen
