"""The jupyter role, verified from inside its container as a user would see it.

Shared by the jupyter_systemd and jupyter_cron scenarios; the supervisor comes
from the scenario's inventory.
"""

import json
from pathlib import Path

import pytest
from e2e.verify import Probe, converge_with, journal, restart_container

PORT = 8888
URL = f"http://127.0.0.1:{PORT}/"
# Shared by the scenarios that reuse these tests, like the playbook beside them.
CONVERGE = str(Path(__file__).resolve().parents[1] / "converge.yml")
CONFIG_STATE = "sha256sum /etc/jupyter/*.py /etc/jupyter/*.json; ls -l --time-style=+%s /etc/jupyter"


@pytest.fixture(scope="module")
def probe(host, settings):
    return Probe(host, URL, password=settings["jupyter_password"])


API_UP = f"python3 -c 'import urllib.request as r; r.urlopen(\"{URL}api\", timeout=5)'"


def server_pid(host):
    return int(host.check_output("pgrep -o -f bin/jupyter-lab"))


def test_runs_as_unprivileged_user(host):
    user = host.check_output(f"ps -o user= -p {server_pid(host)}").strip()
    assert user == "jupyter"
    assert host.user("jupyter").shell == "/usr/sbin/nologin"
    assert host.file("/var/lib/jupyter/notebooks").user == "jupyter"


def test_listens_on_loopback_only(host):
    sockets = [s for s in host.socket.get_listening_sockets() if s.endswith(f":{PORT}")]
    assert sockets == [f"tcp://127.0.0.1:{PORT}"]


def test_password_hash_is_private_and_argon2(host, settings):
    conf = host.file("/etc/jupyter/jupyter_server_config.json")
    assert (conf.user, conf.group, conf.mode) == ("root", "jupyter", 0o640)
    hashed = json.loads(conf.content_string)["PasswordIdentityProvider"]["hashed_password"]
    assert hashed.startswith("argon2:$argon2id$")
    assert settings["jupyter_password"] not in conf.content_string


def test_unauthenticated_api_is_refused(probe):
    seen = probe.run("unauth")
    assert seen["kernels_status"] == 403, seen
    assert seen["contents_status"] == 403, seen


def test_login_with_password(probe):
    seen = probe.run("login")
    assert seen["auth_cookie_set"] and seen["api_status"] == 200, seen


def test_wrong_password_is_refused(host):
    seen = Probe(host, URL, password="not-the-password").run("login")
    assert not seen["auth_cookie_set"] and seen["api_status"] == 403, seen


def test_kernel_websocket_round_trip(host, probe):
    seen = probe.run("kernel", "--code", "import os; print(os.getuid() != 0, 6*7)")
    assert seen["stdout"] == "True 42\n", (seen, journal(host, "jupyter"))


def test_supervised_and_enabled_at_boot(host, settings):
    if settings["jupyter_supervisor"] == "systemd":
        service = host.service("jupyter")
        assert service.is_running and service.is_enabled
        props = host.check_output("systemctl show jupyter -p Restart -p NoNewPrivileges -p ProtectSystem -p User")
        assert "Restart=always" in props and "NoNewPrivileges=yes" in props
        assert "ProtectSystem=strict" in props and "User=jupyter" in props
    else:
        assert (
            "@reboot root /usr/local/lib/jupyter-edge/jupyter-ctl start"
            in host.file("/etc/cron.d/jupyter-edge-jupyter").content_string
        )
        assert host.run("/usr/local/lib/jupyter-edge/jupyter-ctl status").rc == 0


def test_phase_tag_runs_its_phase_and_what_it_needs(host):
    """--tags jupyter_config through the site playbook: the input checks, the installed versions,
    the configuration and the service run (nothing else), and a converged host stays unchanged."""
    pid = server_pid(host)
    run = converge_with({}, playbook=CONVERGE, tags="jupyter_config")
    assert run.returncode == 0, run.stdout[-3000:]
    assert "changed=0" in run.stdout, run.stdout[-3000:]
    for task in ("Check the password", "Read the versions of jupyter_server", "Write the server configuration",
                 "Wait for the server to answer"):  # fmt: skip
        assert task in run.stdout, task
    assert "Install Jupyter into" not in run.stdout  # the installation phase is not asked for
    assert server_pid(host) == pid


def test_kernel_websockets_have_tcp_nodelay(host, settings, probe):
    """On by default: ~10 ms execute round trips. jupyter_kernel_websocket_nodelay: false gives stock
    Jupyter back (the ~40 ms delayed-ACK stall), and true again removes it."""
    config = host.file("/etc/jupyter/jupyter_server_config.py").content_string
    assert "jupyter_edge_nodelay.NoDelayKernelWebsocketConnection" in config
    seen = probe.run("latency", "--rounds", "20")
    assert seen["failed"] == 0 and seen["p50_ms"] < 30, seen
    if settings.get("jupyter_supervisor") != "systemd":
        return  # switched off and on again once, under systemd
    try:
        run = converge_with({"jupyter_kernel_websocket_nodelay": False}, playbook=CONVERGE)
        assert run.returncode == 0, run.stdout[-3000:]
        seen = probe.run("latency", "--rounds", "20")
        assert seen["failed"] == 0 and seen["p50_ms"] > 35, seen
    finally:
        run = converge_with({}, playbook=CONVERGE)
    assert run.returncode == 0, run.stdout[-3000:]
    assert probe.run("latency", "--rounds", "20")["p50_ms"] < 30


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"jupyter_base_url": "notebook/"}, "jupyter_base_url is 'notebook/'"),
        ({"jupyter_port": 70000}, "jupyter_port is 70000"),
        ({"jupyter_install_method": "pip"}, "jupyter_install_method"),
        ({"jupyter_supervisor": "runit"}, "jupyter_supervisor"),
        ({"jupyter_password": ""}, "jupyter_password is empty"),
        ({"jupyter_install_method": "conda"}, "set jupyter_conda_installer_url together with"),
        (
            {
                "jupyter_install_method": "conda",
                "jupyter_conda_installer_url": "https://mirror/x.sh",
                "jupyter_conda_installer_checksum": "md5:abc",
            },
            "jupyter_conda_installer_checksum ('sha256:<64 hex digits>')",
        ),
        (
            {"jupyter_public_hostname": "https://lab.example.org"},
            "jupyter_public_hostname is 'https://lab.example.org'",
        ),
        ({"jupyter_public_aliases": ["lab.example.org:8080"]}, "jupyter_public_aliases is ['lab.example.org:8080']"),
        ({"jupyter_public_aliases": "lab.example.org"}, "(jupyter_public_aliases is a list)"),
        (
            {"jupyter_ip": "0.0.0.0", "jupyter_public_aliases": ["203.0.113.10"]},  # noqa: S104
            "contain the addresses 203.0.113.10, but Jupyter listens on",
        ),
        ({"jupyter_trust_proxy_host": "maybe"}, "jupyter_trust_proxy_host is 'maybe'"),
    ],
    ids=[
        "base_url",
        "port",
        "install_method",
        "supervisor",
        "password",
        "conda_installer",
        "conda_checksum",
        "hostname_scheme",
        "alias_port",
        "aliases_not_list",
        "address_without_trust",
        "trust_value",
    ],
)
def test_bad_input_fails_before_any_change(host, bad, message):
    before = host.check_output(CONFIG_STATE)
    pid = server_pid(host)
    run = converge_with(bad, playbook=CONVERGE)
    assert run.returncode != 0
    assert message in " ".join(run.stdout.split()), run.stdout[-3000:]
    assert "changed=0" in run.stdout, run.stdout[-3000:]
    assert host.check_output(CONFIG_STATE) == before
    assert server_pid(host) == pid


def test_back_after_reboot(host, probe):
    restart_container(host, wait_for=API_UP)
    seen = probe.run("kernel")
    assert seen["stdout"] == "42\n", seen


def test_no_secret_in_process_list_or_logs(host, settings):
    password = settings["jupyter_password"]
    assert password not in host.check_output("ps -eo args")
    assert password not in host.run("journalctl --no-pager; cat /var/log/jupyter.log 2>/dev/null").stdout
