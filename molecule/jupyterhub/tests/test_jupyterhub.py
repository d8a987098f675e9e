"""JupyterHub behind configurable-http-proxy behind nginx, verified from inside the container.

Every user-facing check goes through http://hub.example.org/jupyter/ (nginx -> CHP ->
hub or user server) with the client library, as a browser on that host would. The
tests that reuse alice's browser session (cookie jar, running server) ask for the
alice_session fixture, so each can also run alone (-k) and in any order.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from pathlib import Path

import pytest
import yaml
from e2e.verify import (
    CHP_TOKEN_FILE,
    PROBE_DST,
    Probe,
    chp_api,
    converge_with,
    journal,
    main_pid,
    record_counts,
    restart_container,
    wait_until,
)

CHP = "configurable-http-proxy"
HUB = "jupyterhub"
ROLES = Path(__file__).resolve().parents[3] / "roles"
HUB_API = "http://127.0.0.1:8081/jupyter/hub/api"
HUB_UP = f"python3 -c 'import urllib.request as r; r.urlopen(\"{HUB_API}\", timeout=5)'"
JAR = "/root/.jupyter-edge-hub-alice.json"  # alice's browser: cookies kept between probe runs
CHECK_INTERVAL = 5  # jupyterhub_proxy_check_interval (default)
SESSIONS = 20  # kernels with open websockets, executing through a hub restart
STATE = (
    "sha256sum /etc/jupyterhub/* /etc/configurable-http-proxy/* /etc/systemd/system/jupyterhub.service"
    " /etc/systemd/system/configurable-http-proxy.service /etc/nginx/sites-enabled/*"
)


@pytest.fixture(scope="module")
def url(settings):
    return settings["e2e_url"]


@pytest.fixture(scope="module")
def alice(host, settings, url):
    return Probe(host, url, password=settings["e2e_users"]["alice"])


@pytest.fixture(scope="module")
def alice_session(host, alice):
    """alice's browser: a fresh login through the hub's form, her server started, a kernel round trip.
    The cookies stay in JAR for the tests that come back as the same browser."""
    host.run(f"rm -f {JAR}")
    code = "import os, pwd; print(pwd.getpwuid(os.getuid()).pw_name, os.getcwd(), 6*7)"
    return alice.run("hub-kernel", "--user", "alice", "--cookie-jar", JAR, "--code", code, timeout=240)


def logs(host):
    return "\n".join(journal(host, unit, 40) for unit in (HUB, CHP))


def probe_command(probe: Probe, check: str, *args: str) -> str:
    """The shell command Probe.run would run, for the tests that run it in the background."""
    options = ["--url", probe.url, "--timeout", "60", "--password-env", "PROBE_PW"]
    command = shlex.join(["python3", PROBE_DST, *options, check, *args])
    return f"PROBE_PW=$(cat {probe.secret} 2>/dev/null) {command}"


def server_pid(host, user: str = "alice") -> int:
    return int(host.check_output(f"pgrep -o -u {user} -f jupyterhub-singleuser"))


# -- services ---------------------------------------------------------------------------


def test_services_supervised_and_enabled(host):
    for unit in (CHP, HUB, "nginx"):
        service = host.service(unit)
        assert service.is_running and service.is_enabled, logs(host)
    chp = host.check_output(f"systemctl show {CHP} -p User -p Restart -p NoNewPrivileges -p ProtectSystem")
    assert "User=chp" in chp and "Restart=always" in chp and "NoNewPrivileges=yes" in chp
    assert "ProtectSystem=strict" in chp
    hub = host.check_output(f"systemctl show {HUB} -p Restart -p NoNewPrivileges -p ProtectSystem -p KillMode")
    assert "Restart=always" in hub and "NoNewPrivileges=yes" in hub and "ProtectSystem=strict" in hub
    assert "KillMode=process" in hub  # the users' servers outlive a hub restart


def pinned_chp_release(host) -> str:
    """The configurable-http-proxy release the chp_service role pins for the host's Debian release."""
    major = host.system_info.release.split(".")[0]
    values = ROLES / "chp_service" / "vars" / f"Debian-{major}.yml"
    return yaml.safe_load(values.read_text())["__chp_service_release"]


def test_chp_is_pinned_and_unprivileged(host, settings):
    pid = main_pid(host, CHP)
    assert host.check_output(f"ps -o user= -p {pid}").strip() == "chp"
    main = "/opt/configurable-http-proxy/lib/node_modules/configurable-http-proxy/bin/configurable-http-proxy"
    assert host.check_output(f"/usr/bin/node {main} --version").strip() == pinned_chp_release(host)
    assert host.user("chp").shell == "/usr/sbin/nologin"


def test_listens_on_loopback_only(host):
    listening = host.socket.get_listening_sockets()
    for port in (8000, 8001, 8081):
        assert [s for s in listening if s.endswith(f":{port}")] == [f"tcp://127.0.0.1:{port}"], listening


def test_chp_api_refuses_requests_without_the_token(host, token):
    assert chp_api(host, auth=None)[0] == 403
    assert chp_api(host, auth="not-the-token-" + "x" * 20)[0] == 403
    status, routes = chp_api(host)
    assert status == 200 and routes["/jupyter"]["hub"], routes  # the hub's route, added by the hub (no trailing /)


def test_chp_api_is_not_reachable_on_a_public_address(host):
    address = host.check_output("hostname -I").split()[0]
    assert not address.startswith("127.")
    script = (
        "import socket, sys\n"
        "for port in (8001, 8000, 8081):\n"
        "    s = socket.socket(); s.settimeout(3)\n"
        "    print(port, s.connect_ex((sys.argv[1], port)) != 0)\n"
    )
    out = host.check_output(f"python3 -c {shlex.quote(script)} {address}")
    assert out.split("\n") == ["8001 True", "8000 True", "8081 True"], out


def test_token_files_are_root_only(host, token):
    assert re.fullmatch(r"[0-9a-f]{64}", token)  # generated on the host (chp_auth_token unset)
    for path in (CHP_TOKEN_FILE, "/etc/jupyterhub/jupyterhub.env"):
        f = host.file(path)
        assert (f.user, f.group, f.mode) == ("root", "root", 0o600), path
    assert host.file("/etc/jupyterhub/jupyterhub.env").content_string.strip() == f"CONFIGPROXY_AUTH_TOKEN={token}"
    config = host.file("/etc/jupyterhub/jupyterhub_config.py")
    assert (config.user, config.mode) == ("root", 0o600)
    assert token not in config.content_string


def test_hub_configured_for_the_external_proxy(host):
    config = host.file("/etc/jupyterhub/jupyterhub_config.py").content_string
    settings = json.loads(json.loads(re.search(r"SETTINGS = json.loads\((.*)\)\n", config).group(1)))
    assert settings["ConfigurableHTTPProxy"] == {"api_url": "http://127.0.0.1:8001", "should_start": False}
    hub = settings["JupyterHub"]
    assert hub["cleanup_servers"] is False
    assert hub["bind_url"] == "http://127.0.0.1:8000/jupyter/"
    assert hub["hub_bind_url"] == "http://127.0.0.1:8081"
    assert hub["last_activity_interval"] == CHECK_INTERVAL
    assert (hub["authenticator_class"], hub["spawner_class"]) == ("pam", "localprocess")
    assert settings["Authenticator"]["allowed_users"] == ["alice"]
    assert settings["Spawner"]["environment"]["JUPYTER_PATH"] == "/opt/jupyterhub/venv/share/jupyter"


# -- users ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "password"),
    [("alice", "not-alices-password"), ("mallory", None)],
    ids=["wrong-password", "not-allowed"],
)
def test_login_refused(host, settings, url, user, password):
    seen = Probe(host, url, password=password or settings["e2e_users"][user]).run("hub-login", "--user", user)
    assert seen["login"]["login_performed"] and not seen["login"]["logged_in"], seen
    assert seen["login"]["post_status"] == 403, seen


def test_user_logs_in_starts_server_and_runs_code(host, alice_session):
    seen = alice_session
    assert seen["login"]["login_performed"] and seen["login"]["logged_in"], seen
    assert seen["server"]["ready"] and seen["server"]["url"] == "/jupyter/user/alice/", (seen, logs(host))
    assert seen["user_server"]["oauth"] and seen["user_server"]["api_status"] == 200, seen
    assert seen["ws_status"] == 101, seen
    assert seen["stdout"] == "alice /home/alice 42\n", (seen, logs(host))
    assert host.file(JAR).mode == 0o600


def test_extra_kernel_for_every_user(host, alice, alice_session):
    code = "import os, sys, tabulate; print(sys.prefix, os.environ['EXTRA_KERNEL'], os.environ['JUPYTER_PATH'])"
    args = ("--user", "alice", "--cookie-jar", JAR, "--kernel-name", "python-extra", "--code", code)
    seen = alice.run("hub-kernel", *args)
    assert not seen["login"]["login_performed"], seen  # the browser's session (alice_session)
    assert seen["stdout"] == "/opt/jupyterhub/kernels/python-extra yes /opt/jupyterhub/venv/share/jupyter\n", seen
    spec = json.loads(host.file("/opt/jupyterhub/venv/share/jupyter/kernels/python-extra/kernel.json").content_string)
    assert spec["display_name"] == "Python 3 (extra packages)"


def test_hub_static_files_come_from_the_proxy_cache(host, url):
    """A versioned file the hub's login page loads: answered by nginx's cache once it has it."""
    seen = Probe(host, url).run("static", "--page", "hub/login", "--times", "3")
    assert seen["path"].startswith("/jupyter/hub/static/"), seen
    assert [f["status"] for f in seen["fetches"]] == [200] * 3, seen
    assert seen["fetches"][-1]["proxy_cache"] == "HIT", seen
    assert len({f["sha256"] for f in seen["fetches"]}) == 1, seen


def test_unauthenticated_requests_are_refused(host, url, alice_session):
    # alice's server runs (alice_session): without her cookies it refuses, and so does the hub's API.
    seen = Probe(host, url + "user/alice/").run("unauth")
    assert seen["kernels_status"] == 403, seen
    assert seen["contents_status"] == 403, seen
    assert Probe(host, url).run("headers", "--path", "hub/api/users")["status"] == 403


def test_hub_restart_keeps_the_websocket_and_the_route(host, alice, alice_session):
    release = "/root/.hub-restart-release"
    result = "/root/.hub-restart-result.json"
    host.run(f"rm -f {release} {release}.held {result}")
    command = probe_command(
        alice,
        "hub-kernel",
        *("--user", "alice", "--cookie-jar", JAR, "--code", "print(6*7)", "--hold-code", "print(7*8)"),
        *("--hold-seconds", "480", "--hold-until", release),
    )
    host.run(f"setsid nohup sh -c {shlex.quote(f'{command} > {result} 2>&1')} >/dev/null 2>&1 &")
    # Beside it, another browser of alice's with SESSIONS tabs, each executing once a second.
    many = "/root/.hub-restart-sessions"
    host.run(f"rm -f {many} {many}.held")
    sessions = alice.start("hub-sessions", "--user", "alice", "--count", str(SESSIONS), "--until", many)
    wait_until(host, f"test -e {release}.held", 180)  # first round trip done, websocket held open
    wait_until(host, f"test -e {many}.held", 300)
    user_server, hub = server_pid(host), main_pid(host, HUB)

    assert host.run(f"systemctl restart {HUB}").rc == 0
    wait_until(host, HUB_UP, 120)
    assert main_pid(host, HUB) != hub
    assert server_pid(host) == user_server, logs(host)
    status, routes = chp_api(host)
    assert routes["/jupyter/user/alice"]["user"] == "alice", routes  # the route survived

    time.sleep(3)  # executions after the restart
    host.run(f"touch {release} {many}")
    wait_until(host, f"python3 -c 'import json; json.load(open(\"{result}\"))'", 120)
    seen = json.loads(host.file(result).content_string)
    assert seen["first"]["stdout"] == "42\n", seen
    assert not seen["hold"]["closed"] and seen["hold"]["error"] is None and seen["hold"]["released_by_file"], seen
    assert seen["second"]["stdout"] == "56\n" and seen["second"]["ws_error"] is None, (seen, logs(host))
    many_seen = Probe.finish(sessions)
    record_counts(
        "hub restart sessions",
        f"{many_seen.get('sessions')} sessions, {many_seen.get('executions')} executions ({many_seen.get('failed')} "
        f"failed), {many_seen.get('dropped')} dropped, {many_seen.get('http_requests')} requests "
        f"({many_seen.get('http_failed')} failed), p50 {many_seen.get('p50_ms')} ms, p99 {many_seen.get('p99_ms')} ms",
    )
    # The errors first: pytest cuts a long message.
    failures = {k: many_seen.get(k) for k in ("errors", "open_retried", "opened", "sessions")}
    assert many_seen.get("opened") == SESSIONS, (failures, many_seen)
    assert (many_seen["dropped"], many_seen["failed"], many_seen["http_failed"]) == (0, 0, 0), (failures, many_seen)
    assert many_seen["last_ok"] == SESSIONS, (failures, many_seen)


def test_chp_killed_comes_back_and_routes_are_restored(host, alice, alice_session):
    """Kill CHP three times, at different points of the hub's route-check period, and measure."""
    reach = probe_command(alice, "hub-reach", "--user", "alice", "--cookie-jar", JAR, "--within", "90")
    runs = []
    for offset in (0.0, 1.7, 3.4):
        time.sleep(offset)
        chp = main_pid(host, CHP)
        since = host.check_output("date '+%Y-%m-%d %H:%M:%S'")
        run = host.run(f"systemctl kill -s KILL {CHP} && {reach}")
        assert run.rc == 0, run.stdout + run.stderr
        seen = json.loads(run.stdout)
        assert main_pid(host, CHP) not in (0, chp)
        assert seen["reached"], (seen, logs(host))
        hub_log = host.check_output(f"journalctl -u {HUB} --since '{since}' --no-pager")
        assert "Adding missing route for /jupyter/user/alice/" in hub_log, hub_log[-3000:]  # the hub restored it
        runs.append({k: seen[k] for k in ("proxy_back_after", "route_back_after", "transitions")})
    report = {"check_interval": CHECK_INTERVAL, "runs": runs}
    report["route_back_max"] = max(r["route_back_after"] for r in runs)
    out = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", ".")) / ".build" / "jupyterhub-route-recovery.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    for r in runs:
        assert r["proxy_back_after"] < 10, runs  # RestartSec=2 plus Node's start-up
        assert r["route_back_after"] - r["proxy_back_after"] <= CHECK_INTERVAL + 3, runs

    # The same browser reaches its server and kernel again, without logging in anew.
    seen = alice.run("hub-kernel", "--user", "alice", "--cookie-jar", JAR, "--no-login", "--no-start")
    assert seen["login"]["logged_in"] and not seen["login"]["login_performed"], seen
    assert not seen["user_server"]["sent_to_login"] and seen["stdout"] == "42\n", seen


def test_token_never_in_process_list_or_journal(host, token):
    assert token not in host.check_output("ps -eo args")
    assert token not in host.check_output(f"cat /proc/{main_pid(host, CHP)}/cmdline | tr '\\0' ' '")
    assert token not in host.run("journalctl --no-pager; cat /var/log/nginx/*.log").stdout
    # The users' servers do not inherit it from the hub.
    assert token not in host.check_output(f"cat /proc/{server_pid(host)}/environ | tr '\\0' '\\n'")


def test_token_not_in_ansible_output(host, token, monkeypatch):
    monkeypatch.setenv("ANSIBLE_VERBOSITY", "2")
    before = host.check_output(STATE)
    run = converge_with({})
    assert run.returncode == 0, run.stdout[-3000:]
    assert token not in run.stdout
    assert re.search(r"changed=0\s", run.stdout), run.stdout[-3000:]
    assert host.check_output(STATE) == before


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"chp_api_port": 8000}, "chp_port is 8000, chp_api_port is 8000"),
        ({"chp_error_path": "/srv/errors"}, 'CHP refuses: set chp_error_target to ""'),
        ({"chp_redirect_port": 8080}, "CHP refuses an HTTPS redirect without a certificate"),
        ({"chp_api_ip": "0.0.0.0"}, "chp_api_ip is '0.0.0.0', not a loopback address"),  # noqa: S104
        ({"chp_ssl_cert": "/etc/ssl/chp.crt"}, "chp_ssl_cert is '/etc/ssl/chp.crt' and chp_ssl_key is ''"),
        ({"chp_version": "^5"}, "chp_version is '^5'"),
        ({"chp_auth_token": "t0k3n-x"}, "chp_auth_token is too short"),
        ({"chp_port": 80}, "chp_port is 80: use a port between 1024 and 65535"),
        ({"jupyterhub_base_url": "jupyter"}, "jupyterhub_base_url is 'jupyter'"),
        ({"jupyter_base_url": "jupyter"}, "chp_error_target is 'http://127.0.0.1:8081jupyterhub/error'"),
        ({"jupyterhub_allowed_users": [], "jupyterhub_admin_users": []}, "nobody could log in"),
        ({"jupyterhub_kernels": [{"name": "bad name"}]}, "each kernel needs a name"),
    ],
    ids=[
        "api-port",
        "error-path",
        "redirect",
        "public-api",
        "cert-without-key",
        "version-range",
        "short-token",
        "low-port",
        "base-url",
        "shared-base-url",
        "no-users",
        "kernel-name",
    ],
)
def test_bad_input_fails_before_any_change(host, bad, message, token):
    before = host.check_output(STATE)
    pids = (main_pid(host, CHP), main_pid(host, HUB))
    # The hub's own checks run with the hub role alone (its values also shape CHP's error target).
    hub_only = all(key.startswith("jupyterhub_") for key in bad)
    playbook = str(Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "hub_only.yml") if hub_only else None
    run = converge_with(bad, playbook)
    assert run.returncode != 0
    assert message in run.stdout, run.stdout[-3000:]
    assert re.search(r"changed=0\s", run.stdout), run.stdout[-3000:]
    assert token not in run.stdout and "t0k3n-x" not in run.stdout
    assert host.check_output(STATE) == before
    assert (main_pid(host, CHP), main_pid(host, HUB)) == pids


def test_users_servers_get_tcp_nodelay(host):
    """jupyterhub_kernel_websocket_nodelay: a user's server, started from the hub's environment,
    loads the kernel websocket connection that sets TCP_NODELAY (the jupyter role's module)."""
    script = (
        "import importlib\n"
        "from jupyter_server.serverapp import ServerApp\n"
        "app = ServerApp()\n"
        "app.load_config_file()\n"
        "name = app.config.ServerApp.kernel_websocket_connection_class\n"
        "module, _, cls = name.rpartition('.')\n"
        "print(name, getattr(importlib.import_module(module), cls).__mro__[1].__name__)\n"
    )
    out = host.check_output(f"runuser -u alice -- /opt/jupyterhub/venv/bin/python -c {shlex.quote(script)}")
    assert out.split() == ["jupyter_edge_nodelay.NoDelayKernelWebsocketConnection", "ZMQChannelsWebsocketConnection"]


def test_role_tags_reach_the_included_tasks(host):
    """--tags chp_service,jupyterhub runs each role whole: installation and the supervision that the
    roles include dynamically (the service role) run too, and change nothing on a converged host."""
    pids = (main_pid(host, CHP), main_pid(host, HUB))
    run = converge_with({}, tags="chp_service,jupyterhub")
    assert run.returncode == 0, run.stdout[-3000:]
    assert re.search(r"changed=0\s", run.stdout), run.stdout[-3000:]
    for task in (
        "Install JupyterHub into",
        "Install the systemd unit of configurable-http-proxy",
        "Install the systemd unit of jupyterhub",
        "Enable and start jupyterhub",
        "Wait for the hub to answer",
    ):
        assert "TASK [jupyter_edge.deploy." in run.stdout and task in run.stdout, task
    assert "Install nginx from the distribution" not in run.stdout  # the other role's tag was not asked for
    assert (main_pid(host, CHP), main_pid(host, HUB)) == pids


def test_back_after_reboot(host, alice, alice_session):
    restart_container(host, wait_for=HUB_UP)
    wait_until(host, "systemctl is-active nginx configurable-http-proxy jupyterhub", 60)
    # The servers died with the container; the hub forgets their stale pids and starts a new one.
    seen = alice.run("hub-kernel", "--user", "alice", "--cookie-jar", JAR, timeout=240)
    assert seen["server"]["ready"] and seen["stdout"] == "42\n", (seen, logs(host))
    assert not seen["login"]["login_performed"], seen  # the session outlives the reboot too
