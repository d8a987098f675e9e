"""The doctor's verdicts (plugins/filter/doctor.py) on recorded results: nginx, Apache, hub, CHP; healthy and broken.

Each record is what the doctor's tasks register on such a host (command output, the
jupyter_check module's observations, uri's status); the expected lines are the ones the
molecule scenarios (split, jupyterhub, example_hub_apache, example_*) assert on.
"""

import copy
import json

import pytest
from ansible_collections.jupyter_edge.deploy.plugins.filter.doctor import FilterModule, doctor_checks

SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}
NGINX_OK = (
    "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
    "nginx: configuration file /etc/nginx/nginx.conf test is successful\n"
    "location: location /notebook/ location /notebook/api/kernels/ location ~ "
)
APACHE_OK = (
    "Syntax OK\nmodules: headers_module proxy_module proxy_http_module rewrite_module ssl_module \n"
    "websocket: upgrade\nlocation: location /jupyter/ "
)
KERNEL_SEEN = {
    "check": "kernel",
    "url": "https://jupyter.example.org/notebook/",
    "login": {"login_page_status": 200, "post_status": 302, "api_status": 200, "logged_in": True},
    "ws_status": 101,
    "stdout": "42\n",
    "reply_status": "ok",
}
HUB_LOGIN_SEEN = {
    "check": "hub-login",
    "url": "https://hub.example.org/jupyter/",
    "user": "alice",
    "login": {
        "home_status_before": 302,
        "login_performed": True,
        "login_page_status": 200,
        "post_status": 302,
        "home_status": 200,
        "logged_in": True,
    },
}
TOKEN_SAME = {
    "api_url": "http://127.0.0.1:8001",
    "same": {"hub_chp_files": True, "hub_chp_processes": True, "hub_file_process": True, "chp_file_process": True},
    "api_status": 200,
    "routes": 2,
}


def registered(stdout: str = "", rc: int = 0, **more) -> dict:
    return {"changed": False, "rc": rc, "stdout": stdout, "stdout_lines": stdout.splitlines(), **more}


def single_user_nginx() -> dict:
    """Jupyter behind nginx with TLS on one host (molecule nginx_proxy's nginx-tls, example_cloudflare_https)."""
    return {
        "versions": registered("nginx/1.22.1\njupyter_server    : 2.14.2\njupyterlab        : 4.2.5"),
        "units": registered("jupyter enabled=enabled active=active\nnginx enabled=enabled active=active"),
        "proxy_config": registered(NGINX_OK),
        "direct": {"changed": False, "status": 200},
        "token": SKIPPED,
        "login": {"changed": False, "observations": copy.deepcopy(KERNEL_SEEN)},
        "tls_result": {
            "changed": False,
            "observations": {"versions": {v: {"accepted": v in ("1.2", "1.3")} for v in ("1.0", "1.1", "1.2", "1.3")}},
        },
        "headers": {
            "changed": False,
            "observations": {"status": 200, "headers": {"strict-transport-security": "max-age=63072000"}},
        },
        "errors": registered(""),
        "proxy": "nginx",
        "hub": False,
        "tls": True,
        "hub_host": False,
        "base_url": "/notebook/",
        "public_url": "https://jupyter.example.org/notebook/",
        "local_url": "http://localhost/notebook/",
        "socket": "/var/lib/jupyter-edge/sockets/jupyter.sock",
        "hub_api_url": "http://127.0.0.1:8081/notebook/hub/api",
        "hub_unit": "jupyterhub",
        "hub_config_dir": "/etc/jupyterhub",
        "chp_unit": "configurable-http-proxy",
        "chp_token_file": "/etc/configurable-http-proxy/auth.env",
        "libexec_dir": "/usr/local/lib/jupyter-edge",
        "services": ["jupyter", "nginx"],
        "login_user": "",
    }


def hub_apache() -> dict:
    """JupyterHub + CHP behind Apache with TLS on one host (example_hub_apache)."""
    d = single_user_nginx()
    d |= {
        "versions": registered("Apache/2.4.62\njupyterhub/5.2.1\nconfigurable-http-proxy/4.6.2"),
        "units": registered(
            "configurable-http-proxy enabled=enabled active=active\n"
            "jupyterhub enabled=enabled active=active\napache2 enabled=enabled active=active"
        ),
        "proxy_config": registered(APACHE_OK),
        "token": registered(json.dumps(TOKEN_SAME)),
        "login": {"changed": False, "observations": copy.deepcopy(HUB_LOGIN_SEEN)},
        "proxy": "apache",
        "hub": True,
        "hub_host": True,
        "base_url": "/jupyter/",
        "public_url": "https://hub.example.org/jupyter/",
        "hub_api_url": "http://127.0.0.1:8081/jupyter/hub/api",
        "services": ["configurable-http-proxy", "jupyterhub", "apache2"],
        "login_user": "alice",
    }
    return d


def lines(d: dict) -> list[str]:
    return [r["line"] for r in doctor_checks(d)]


def failed(d: dict) -> list[str]:
    return [r["line"] for r in doctor_checks(d) if not r["ok"]]


def test_the_filter_is_registered():
    assert FilterModule().filters()["doctor_checks"] is doctor_checks


def test_healthy_single_user_behind_nginx():
    results = doctor_checks(single_user_nginx())
    assert all(r["ok"] for r in results), [r["line"] for r in results]
    assert {"name", "ok", "skipped", "detail", "fix", "line"} <= set(results[0])
    assert [r["name"] for r in results] == [
        "server versions",
        "service jupyter",
        "service nginx",
        "nginx configuration",
        "base URL in proxy",
        "base URL in Jupyter",
        "Host accepted and login",
        "websocket upgrade to the kernel",
        "TLS protocols",
        "HSTS",
        "recent errors in the logs",
    ]
    text = "\n".join(r["line"] for r in results)
    assert (
        "PASS base URL in Jupyter: http://localhost/notebook/api on /var/lib/jupyter-edge/sockets/jupyter.sock"
        " answered 200" in text
    )
    assert 'PASS websocket upgrade to the kernel: handshake 101, output "42\\n"' in text
    assert "PASS TLS protocols: accepted: 1.2, 1.3" in text
    assert "PASS recent errors in the logs: none in the last hour" in text


def test_nginx_disabled_names_the_fix():
    d = single_user_nginx()
    d["units"] = registered("jupyter enabled=enabled active=active\nnginx enabled=disabled active=active")
    assert failed(d) == [
        "FAIL service nginx: nginx enabled=disabled active=active -- fix: systemctl enable --now nginx"
        " (and read journalctl -u nginx)"
    ]


def test_cron_supervision_gets_its_own_fix():
    d = single_user_nginx()
    d["units"] = registered("jupyter enabled=enabled active=inactive (cron @reboot)")
    (line,) = failed(d)
    assert line.startswith("FAIL service jupyter: jupyter enabled=enabled active=inactive (cron @reboot) -- fix: ")
    assert "/usr/local/lib/jupyter-edge/jupyter-ctl start" in line and "/etc/cron.d/jupyter-edge-jupyter" in line


def test_base_url_mismatch_and_a_broken_websocket_upgrade():
    """split's broken case: the proxy serves /notebooks/, Jupyter /notebook/; the kernel never answers."""
    d = single_user_nginx()
    d["proxy_config"] = registered(NGINX_OK.replace("/notebook/", "/notebooks/"))
    d["login"]["observations"] |= {"ws_status": 400, "stdout": None}
    out = failed(d)
    assert out[0].startswith("FAIL base URL in proxy: proxy has location /notebooks/, location /notebooks/api/kernels/")
    assert "fix: use the same value with leading and trailing slash" in out[0]
    assert out[1] == (
        "FAIL websocket upgrade to the kernel: handshake 400, output null -- fix: the proxy must forward "
        "Upgrade/Connection (nginx: proxy_http_version 1.1 and the $connection_upgrade map; Apache: proxy_wstunnel or "
        "upgrade=websocket) and pass Host with its port so that Origin matches"
    )


def test_invalid_nginx_configuration():
    d = single_user_nginx()
    d["proxy_config"] = registered('nginx: [emerg] unknown directive "bogus" in /etc/nginx/sites-enabled/x:3', rc=1)
    out = failed(d)
    assert out[0] == (
        'FAIL nginx configuration: nginx: [emerg] unknown directive "bogus" in /etc/nginx/sites-enabled/x:3'
        " -- fix: nginx -t shows the error; re-run site.yml"
    )


def test_old_tls_versions_and_no_hsts():
    d = single_user_nginx()
    d["tls_result"]["observations"]["versions"]["1.1"]["accepted"] = True
    d["headers"]["observations"]["headers"] = {}
    assert failed(d) == [
        "FAIL TLS protocols: accepted: 1.1, 1.2, 1.3 -- fix: allow TLS 1.2 and 1.3 only (Mozilla intermediate):"
        " re-run the proxy role with its defaults",
        "FAIL HSTS: missing -- fix: set nginx_proxy_hsts / apache_proxy_hsts to true",
    ]


def test_plain_http_has_no_tls_checks():
    d = single_user_nginx() | {"tls": False}
    assert not any(r["name"] in ("TLS protocols", "HSTS") for r in doctor_checks(d))


def test_login_that_could_not_run_shows_the_error():
    d = single_user_nginx()
    d["login"] = {
        "failed": True,
        "msg": "...",
        "observations": {"check": "kernel", "error": "ConnectionRefusedError: x"},
    }
    out = failed(d)
    assert out[0].startswith("FAIL Host accepted and login: login POST -, api/status ConnectionRefusedError: x -- fix")
    assert out[1].startswith('FAIL websocket upgrade to the kernel: handshake -, output "-"')


def test_a_module_crash_still_gives_a_verdict():
    d = single_user_nginx()
    d["login"] = {"failed": True, "msg": "MODULE FAILURE"}
    assert failed(d)[0].startswith("FAIL Host accepted and login: login POST -, api/status MODULE FAILURE")


def test_recent_errors_show_the_last_line():
    d = single_user_nginx()
    d["errors"] = registered("Dec 01 jupyter[1]: first\nDec 01 nginx[2]: last")
    assert failed(d) == [
        "FAIL recent errors in the logs: Dec 01 nginx[2]: last -- fix: read journalctl -p err --since -1h for"
        " jupyter, nginx"
    ]


def test_healthy_hub_behind_apache_with_chp():
    results = doctor_checks(hub_apache())
    assert all(r["ok"] for r in results), [r["line"] for r in results]
    text = "\n".join(r["line"] for r in results)
    assert (
        "PASS apache websocket rule: kernel and terminal websockets are upgraded by ProxyPassMatch ..."
        " upgrade=websocket" in text
    )
    assert "PASS apache modules: proxy, proxy_http, headers, ssl enabled (websockets by upgrade)" in text
    assert "PASS base URL in proxy: proxy has location /jupyter/; JupyterHub base_url is /jupyter/" in text
    assert "PASS base URL in JupyterHub: http://127.0.0.1:8081/jupyter/hub/api answered 200" in text
    assert (
        "PASS hub token accepted by CHP: GET http://127.0.0.1:8001/api/routes with the hub's token answered 200;"
        " tokens "
        "compared on the host (SHA-256): hub/CHP files same, hub/CHP processes same, hub file/process same, "
        "CHP file/process same" in text
    )
    assert (
        "PASS hub login: as alice at https://hub.example.org/jupyter/hub/login: login page 200, POST 302, hub/home 200"
        in text
    )
    assert "Host accepted and login" not in text  # the single-user login does not apply to a hub


def test_apache_without_a_websocket_rule_or_a_module():
    d = hub_apache()
    d["proxy_config"] = registered(
        APACHE_OK.replace("websocket: upgrade", "websocket: none").replace("headers_module ", "")
    )
    out = failed(d)
    assert out[0].startswith(
        "FAIL apache websocket rule: kernel and terminal websockets are not upgraded: the enabled sites have no"
        " websocket rule"
    )
    assert out[1] == (
        "FAIL apache modules: missing: headers_module -- fix: a2enmod headers && systemctl reload apache2"
        " (or re-run jupyter_edge.deploy.site, which enables them)"
    )


def test_apache_rewrite_method_needs_proxy_wstunnel():
    d = hub_apache()
    d["proxy_config"] = registered(APACHE_OK.replace("websocket: upgrade", "websocket: rewrite"))
    (line,) = failed(d)
    assert line.startswith("FAIL apache modules: missing: proxy_wstunnel_module -- fix: a2enmod proxy_wstunnel && ")


def test_chp_with_another_token_than_the_hub():
    """jupyterhub's broken case: CHP's token file replaced and CHP restarted; the hub still has the old one."""
    d = hub_apache()
    same = {"hub_chp_files": False, "hub_chp_processes": False, "hub_file_process": True, "chp_file_process": True}
    d["token"] = registered(json.dumps(TOKEN_SAME | {"same": same, "api_status": 403}))
    (line,) = failed(d)
    assert line.startswith(
        "FAIL hub token accepted by CHP: GET http://127.0.0.1:8001/api/routes with the hub's token answered 403"
        " (CHP runs with another token); tokens compared on the host (SHA-256): hub/CHP files differ,"
        " hub/CHP processes differ, hub file/process same, CHP file/process same -- fix: re-run"
        " jupyter_edge.deploy.site for this host: the jupyterhub role copies the token from"
        " /etc/configurable-http-proxy/auth.env into /etc/jupyterhub/jupyterhub.env and restarts jupyterhub"
    )


def test_token_changed_but_not_restarted_passes_until_a_restart():
    d = hub_apache()
    same = TOKEN_SAME["same"] | {"chp_file_process": False}
    d["token"] = registered(json.dumps(TOKEN_SAME | {"same": same}))
    (line,) = failed(d)
    assert "answered 200 (until a restart)" in line
    assert "fix: CHP runs with another token than its /etc/configurable-http-proxy/auth.env: systemctl restart" in line


def test_chp_api_not_reachable_or_the_script_failed():
    d = hub_apache()
    d["token"] = registered(
        json.dumps(
            {"api_url": "http://127.0.0.1:8001", "same": {}, "api_status": None, "api_error": "URLError: refused"}
        )
    )
    (line,) = failed(d)
    assert line.startswith(
        "FAIL hub token accepted by CHP: CHP's API at http://127.0.0.1:8001 not asked: URLError: refused -- fix: start"
    )
    d["token"] = registered("Traceback ...", rc=1)
    (line,) = failed(d)
    assert "CHP's API at ? not asked: the check script failed (rc 1)" in line


def test_hub_refuses_the_password():
    d = hub_apache()
    d["login"]["observations"]["login"] |= {"post_status": 403, "home_status": 302, "logged_in": False}
    (line,) = failed(d)
    assert line.startswith(
        "FAIL hub login: as alice at https://hub.example.org/jupyter/hub/login: login page 200, POST 403"
    )
    assert "fix: a POST 403 means the hub refused doctor_hub_user/doctor_hub_password" in line


def test_hub_login_without_a_user_is_skipped():
    d = hub_apache() | {"login": SKIPPED, "login_user": ""}
    results = doctor_checks(d)
    (skip,) = [r for r in results if r["skipped"]]
    assert skip["ok"] and skip["line"].startswith("SKIP hub login: no user given: run with -e doctor_hub_user=NAME")


def test_hub_not_serving_its_base_url():
    d = hub_apache()
    d["direct"] = {"changed": False, "status": 404}
    (line,) = failed(d)
    assert line.startswith(
        "FAIL base URL in JupyterHub: http://127.0.0.1:8081/jupyter/hub/api answered 404 -- fix: the hub"
    )


@pytest.mark.parametrize("key", ["proxy_config", "direct", "login", "tls_result", "headers"])
def test_checks_of_tasks_that_did_not_run_are_left_out(key):
    d = single_user_nginx() | {key: SKIPPED}
    assert all(r["ok"] for r in doctor_checks(d))


# -- Slurm: what the doctor's Slurm play registers on the controller (also the hub) and a node --

KEY = "9f2c" * 16  # a SHA-256 of the munge key, as the hosts report it
CONTROLLER = {
    "host": "slurm-login",
    "controller": "slurm-login",
    "hub": "slurm-login",
    "user": "alice",
    "nodes": ["slurm-c1", "slurm-c2"],
    "connect_api": "http://slurm-login:8081/jupyter/hub/api",
    "log_dir": "/var/log/slurm",
    "lines": [f"key={KEY}", "munge=active", "uid=1001"],
    "ask": ["ping=Slurmctld(primary) at slurm-login is UP ", "node=slurm-c1 idle", "node=slurm-c2 alloc"],
}


def on_node(name: str = "slurm-c2", lines: list[str] | None = None, ask: list[str] | None = None) -> dict:
    return CONTROLLER | {
        "host": name,
        "lines": lines or [f"key={KEY}", "munge=active", "uid=1001"],
        "controller_lines": CONTROLLER["lines"],
        "reference_lines": CONTROLLER["lines"],
        "ask": ask or ["slurmd=active answers", "hubapi=200"],
    }


def slurm_lines(d: dict) -> list[str]:
    return [r["line"] for r in FilterModule().filters()["doctor_slurm_checks"](d)]


def test_slurm_healthy_controller_and_node():
    assert slurm_lines(
        CONTROLLER | {"controller_lines": CONTROLLER["lines"], "reference_lines": CONTROLLER["lines"]}
    ) == [
        "PASS munge: munge is active",
        "PASS scontrol ping: Slurmctld(primary) at slurm-login is UP",
        "PASS sinfo slurm-c1: slurm-c1 is idle",
        "PASS sinfo slurm-c2: slurm-c2 is alloc",
        "PASS uid of alice: alice is uid 1001 here, 1001 on slurm-login",
    ]
    assert slurm_lines(on_node()) == [
        "PASS munge: munge is active",
        "PASS munge key: the same as slurm-login's (compared by SHA-256)",
        "PASS slurmd: slurmd is active answers",
        "PASS hub API from this node: http://slurm-login:8081/jupyter/hub/api answered 200",
        "PASS uid of alice: alice is uid 1001 here, 1001 on slurm-login",
    ]


def test_slurm_stopped_slurmd_is_named_on_the_node_and_the_controller():
    node = slurm_lines(on_node(ask=["slurmd=inactive does not answer", "hubapi=200"]))
    assert "FAIL slurmd: slurmd is inactive does not answer -- fix: systemctl restart slurmd on slurm-c2" in node[2]
    controller = slurm_lines(
        CONTROLLER
        | {"ask": ["ping=Slurmctld(primary) at slurm-login is UP", "node=slurm-c1 idle", "node=slurm-c2 down*"]}
    )
    assert controller[3].startswith(
        "FAIL sinfo slurm-c2: slurm-c2 is down* -- fix: on slurm-c2: systemctl restart slurmd"
    )
    assert "scontrol update nodename=slurm-c2 state=resume" in controller[3]


def test_slurm_munge_key_mismatch_or_missing_never_shows_the_hash():
    other = "11aa" * 16
    lines = slurm_lines(on_node(lines=[f"key={other}", "munge=active", "uid=1001"]))
    assert lines[1].startswith("FAIL munge key: DIFFERENT from slurm-login's (compared by SHA-256) -- fix: re-run")
    assert not any(KEY in line or other in line for line in lines)
    missing = slurm_lines(on_node(lines=["key=", "munge=failed", "uid=1001"]))
    assert missing[0].startswith("FAIL munge: munge is failed -- fix: systemctl restart munge")
    assert missing[1].startswith("FAIL munge key: missing, unlike slurm-login's")


def test_slurm_controller_down_missing_node_unreachable_hub_and_uid_mismatch():
    controller = slurm_lines(
        CONTROLLER | {"ask": ["ping=Slurmctld(primary) at slurm-login is DOWN", "node=slurm-c1 idle"]}
    )
    assert controller[1].startswith("FAIL scontrol ping: Slurmctld(primary) at slurm-login is DOWN -- fix:")
    assert "FAIL sinfo slurm-c2: slurm-c2 is not in sinfo -- fix: add it to slurm_nodes" in controller[3]
    node = slurm_lines(
        on_node(
            lines=[f"key={KEY}", "munge=active", "uid=2001"],
            ask=["slurmd=active answers", "hubapi=<urlopen error timed out>"],
        )
    )
    assert node[3].startswith("FAIL hub API from this node: http://slurm-login:8081/jupyter/hub/api answered <urlopen")
    assert "jupyterhub_connect_url must name the hub" in node[3]
    assert node[4].startswith("FAIL uid of alice: alice is uid 2001 here, 1001 on slurm-login -- fix: give each user")
    no_user = slurm_lines(on_node() | {"user": ""})
    assert no_user[-1] == "SKIP uid of the test user: no doctor_hub_user given"
