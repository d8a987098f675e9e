"""inventory/examples/notebook-nginx as written: browsed by address, back after a restart.

Every check runs inside the container as a browser there would, by the host's
address (no name configured at all) or by its inventory name.
"""

import pytest
from e2e.browser import browsers, visit_lab  # noqa: F401
from e2e.verify import (
    Probe,
    address,
    assert_doctor_passes,
    direct_get,
    direct_get_command,
    http_status,
    inventory_vars,
    restart_container,
)

CODE = "import socket; print(6*7, socket.gethostname())"
# Jupyter sits beside nginx: jupyter_socket (auto) puts it on its unix socket, no TCP port.
SOCKET = "/var/lib/jupyter-edge/sockets/jupyter.sock"


# The example's ansible_host is the address users browse: reach the container by name.
testinfra_hosts = ["docker://lab.example.org"]


@pytest.fixture(scope="module")
def settings():
    return inventory_vars("lab.example.org")


def browse(host, settings, name: str) -> Probe:
    return Probe(host, f"http://{name}/notebook/", password=settings["vault_jupyter_password"])


def assert_round_trip(host, probe: Probe) -> None:
    seen = probe.run("kernel", "--code", CODE)
    assert seen["ws_status"] == 101, seen
    assert seen["stdout"] == f"42 {host.check_output('hostname')}\n", seen


def test_browsing_by_address(host, settings):
    """Seed 000's user: http://<address>/notebook/, Origin http://<address>: login, kernel, terminal."""
    probe = browse(host, settings, address(host))
    assert probe.run("login")["logged_in"]
    assert_round_trip(host, probe)
    seen = probe.run("terminal")
    assert seen.get("ws_status") == 101 and seen["found"], seen


def test_browsing_by_address_in_a_browser(host, settings, browsers):  # noqa: F811
    """JupyterLab in Chromium at http://<address>/notebook/: notebook cell, save and reload, terminal."""
    url = f"http://{address(host)}/notebook/"
    visit_lab(host, browsers, url, settings["vault_jupyter_password"], label="notebook-by-address",
              expect_hostname="lab.example.org")  # fmt: skip


def test_browsing_by_inventory_name(host, settings):
    assert_round_trip(host, browse(host, settings, "lab.example.org"))


def test_ansible_host_is_one_of_the_site_names(host):
    """The address the inventory gives (a cloud instance's public address, NATed to it) is answered too."""
    assert http_status(host, "http://127.0.0.1/notebook/login", "203.0.113.10") == 200


def test_jupyter_on_its_socket_behind_nginx(host):
    """The single-host example gets the unix socket: nginx's upstream, and no TCP port of Jupyter."""
    assert f"server unix:{SOCKET};" in host.file("/etc/nginx/sites-available/jupyter.conf").content_string
    assert not [s for s in host.socket.get_listening_sockets() if s.endswith(":8888")]
    assert direct_get(host, "/notebook/api", SOCKET)[0] == 200


def test_other_names_are_refused_at_nginx(host):
    for foreign in ("evil.example.net", "lab.example.org.evil.example.net", "198.51.100.7"):
        assert http_status(host, "http://127.0.0.1/notebook/login", foreign) == 421, foreign
    assert not host.file("/etc/nginx/sites-enabled/default").exists  # Debian's catch-all site is off
    assert host.file("/etc/nginx/sites-available/default").exists  # but kept


def test_supervised_by_cron_and_back_after_a_restart(host, settings):
    assert "@reboot" in host.file("/etc/cron.d/jupyter-edge-jupyter").content_string
    restart_container(host, wait_for=f"test -S {SOCKET} && " + direct_get_command("/notebook/api", SOCKET))
    assert_round_trip(host, browse(host, settings, "lab.example.org"))


def test_doctor_passes():
    assert_doctor_passes()
