# The doctor's verdicts: what playbooks/doctor.yml observed, judged into (name, ok, detail, fix) results.
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``doctor_inputs | jupyter_edge.deploy.doctor_checks``: one result a check, as data.

The doctor's tasks only observe (commands, the jupyter_check module, uri); this filter
judges what they registered, so that every verdict is plain Python, unit-tested with
recorded results (tests/unit/plugins/test_doctor.py). Each result: name, ok, skipped,
detail, fix, and line (``PASS|FAIL|SKIP <name>: <detail> -- fix: <fix>``; SKIP counts as ok).

The input, a dict built by the doctor: the registered results ``versions``, ``units``,
``proxy_config``, ``direct``, ``token``, ``login``, ``tls_result``, ``headers`` and
``errors``, and the doctor's settings (``proxy``, ``hub``, ``tls``, ``hub_host``,
``base_url``, ``public_url``, ``local_url``, ``socket``, ``hub_api_url``, ``hub_unit``,
``hub_config_dir``, ``chp_unit``, ``chp_token_file``, ``libexec_dir``, ``services``,
``login_user``).
"""

from __future__ import annotations

import json
import re

NEVER_RAN = {"skipped": True}

# What each way of upgrading websockets in Apache reads as.
APACHE_WS = {
    "upgrade": "upgraded by ProxyPassMatch ... upgrade=websocket",
    "rewrite": "upgraded by RewriteRule [P] to ws:// (mod_proxy_wstunnel)",
}
TOKEN_LABELS = {
    "hub_chp_files": "hub/CHP files",
    "hub_chp_processes": "hub/CHP processes",
    "hub_file_process": "hub file/process",
    "chp_file_process": "CHP file/process",
}


def _ran(result) -> bool:
    """A registered result of a task that ran (not skipped)."""
    return isinstance(result, dict) and not result.get("skipped", False)


def _unique(items: list[str]) -> list[str]:
    """Order kept, case ignored (as Jinja's unique filter)."""
    seen: set[str] = set()
    out = []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out


def _result(name: str, ok, detail, fix: str = "", skipped: bool = False) -> dict:
    ok = bool(ok)
    state = "SKIP " if skipped else "PASS " if ok else "FAIL "
    line = f"{state}{name}: {detail}" + ("" if ok else f" -- fix: {fix}")
    return {"name": name, "ok": ok, "skipped": skipped, "detail": str(detail), "fix": fix, "line": line}


def _services(d: dict) -> list[dict]:
    results = []
    for line in d["units"].get("stdout_lines", []):
        unit = line.split(" ")[0]
        if "(cron @reboot)" in line:
            fix = (
                f"{d['libexec_dir']}/{unit}-ctl start (its log is in the journal or syslog); the @reboot entry in "
                f"/etc/cron.d/jupyter-edge-{unit} starts it at boot: re-run jupyter_edge.deploy.site when it is missing"
            )
        else:
            fix = f"systemctl enable --now {unit} (and read journalctl -u {unit})"
        results.append(_result(f"service {unit}", "enabled=enabled" in line and "active=active" in line, line, fix))
    return results


def _proxy(d: dict) -> list[dict]:
    config = d["proxy_config"]
    if not _ran(config) or "stdout" not in config:
        return []
    out, proxy = config["stdout"], d["proxy"]
    lines = out.splitlines()
    results = [
        _result(
            f"{proxy} configuration",
            config.get("rc") == 0,
            lines[0] if lines else "",
            ("nginx -t" if proxy == "nginx" else "apache2ctl configtest") + " shows the error; re-run site.yml",
        )
    ]
    if proxy == "apache":
        # What the live site needs: mod_proxy_http's upgrade=websocket (httpd >= 2.4.47) or RewriteRule [P]
        # with mod_proxy_wstunnel.
        match = re.search(r"websocket: (\w+)", out)
        ws_method = match.group(1) if match else "upgrade"
        needed = ["proxy_module", "proxy_http_module", "headers_module"]
        needed += ["rewrite_module", "proxy_wstunnel_module"] if ws_method == "rewrite" else []
        needed += ["ssl_module"] if d["tls"] else []
        match = re.search(r"modules: ([^\n]*)", out)
        enabled = (match.group(1) if match else "").split()
        missing = [m for m in needed if m not in enabled]
        results.append(
            _result(
                "apache websocket rule",
                ws_method != "none",
                "kernel and terminal websockets are "
                + APACHE_WS.get(ws_method, "not upgraded: the enabled sites have no websocket rule"),
                "re-run jupyter_edge.deploy.site: the apache_proxy role writes ProxyPassMatch for the websocket URL "
                "spaces (api/kernels/*/channels, terminals/websocket/*, api/events/subscribe) with upgrade=websocket "
                "(httpd >= 2.4.47) or RewriteCond %{HTTP:Upgrade} websocket + RewriteRule [P] to ws:// "
                "(apache_proxy_websocket_method: rewrite)",
            )
        )
        short = [re.sub("_module$", "", m) for m in (missing or needed)]
        results.append(
            _result(
                "apache modules",
                not missing,
                "missing: " + " ".join(missing)
                if missing
                else ", ".join(short) + f" enabled (websockets by {ws_method})",
                f"a2enmod {' '.join(short)} && systemctl reload apache2 "
                "(or re-run jupyter_edge.deploy.site, which enables them)",
            )
        )
    base_url = d["base_url"]
    results.append(
        _result(
            "base URL in proxy",
            f"location {base_url} " in out,
            f"proxy has {', '.join(_unique(re.findall(r'location [^ ]+', out)))}; "
            f"{'JupyterHub' if d['hub'] else 'Jupyter'} base_url is {base_url}",
            "use the same value with leading and trailing slash: set jupyter_base_url once and leave the proxy "
            "location to default from it",
        )
    )
    return results


def _direct(d: dict) -> list[dict]:
    direct = d["direct"]
    if not _ran(direct):
        return []
    status = direct.get("status")
    if d["hub_host"]:
        return [
            _result(
                "base URL in JupyterHub",
                status == 200,
                f"{d['hub_api_url']} answered {status}",
                f"the hub does not serve {d['hub_api_url']}: give jupyterhub_base_url the proxy location (it follows "
                f"jupyter_base_url) and re-run site.yml, or start the hub (systemctl status {d['hub_unit']})",
            )
        ]
    on_socket = f" on {d['socket']}" if d["socket"] else ""
    return [
        _result(
            "base URL in Jupyter",
            status == 200,
            f"{d['local_url']}api{on_socket} answered {status}",
            f"Jupyter does not serve {d['base_url']}: set jupyter_base_url to the proxy location "
            "(or start the server: systemctl status jupyter)",
        )
    ]


def _token(d: dict) -> list[dict]:
    result = d["token"]
    if not _ran(result):
        return []
    if result.get("rc") == 0:
        token = json.loads(result.get("stdout") or "{}")
    else:
        token = {"api_error": f"the check script failed (rc {result.get('rc')})"}
    same = token.get("same", {})
    hub_env = f"{d['hub_config_dir']}/jupyterhub.env"
    compared = [
        label + (" same" if same.get(key) else " differ")
        for key, label in TOKEN_LABELS.items()
        if same.get(key) is not None
    ]
    fixes = []
    if same.get("hub_chp_files") is False:
        fixes.append(
            f"re-run jupyter_edge.deploy.site for this host: the jupyterhub role copies the token from "
            f"{d['chp_token_file']} into {hub_env} and restarts {d['hub_unit']}"
        )
    if same.get("chp_file_process") is False:
        fixes.append(
            f"CHP runs with another token than its {d['chp_token_file']}: systemctl restart {d['chp_unit']} "
            "(the hub re-adds its routes within seconds)"
        )
    if same.get("hub_file_process") is False and same.get("hub_chp_files") is not False:
        fixes.append(f"the hub runs with another token than its {hub_env}: systemctl restart {d['hub_unit']}")
    if not fixes:
        fixes.append(
            "jupyterhub_proxy_auth_token (hub host) must equal chp_auth_token (CHP host): set both from one vaulted "
            "value and re-run jupyter_edge.deploy.site for the chp and jupyterhub hosts"
        )
    name = "hub token accepted by CHP"
    status = token.get("api_status")
    if status is None:
        return [
            _result(
                name,
                False,
                f"CHP's API at {token.get('api_url') or '?'} not asked: {token.get('api_error', '?')}",
                f"start configurable-http-proxy (systemctl status {d['chp_unit']}), check that the hub's "
                "ConfigurableHTTPProxy.api_url (jupyterhub_proxy_api_url, else chp_api_ip:chp_api_port) is where its "
                f"API listens and that {hub_env} holds CONFIGPROXY_AUTH_TOKEN (re-run jupyter_edge.deploy.site)",
            )
        ]
    # 200 with tokens that differ (a file changed, its service not restarted) breaks at the next restart.
    all_same = False not in list(same.values())
    note = {200: "" if all_same else " (until a restart)", 403: " (CHP runs with another token)"}
    detail = f"GET {token.get('api_url')}/api/routes with the hub's token answered {status}"
    detail += note.get(status, " (unexpected)")
    detail += f"; tokens compared on the host (SHA-256): {', '.join(compared)}" if compared else ""
    return [_result(name, status == 200 and all_same, detail, "; ".join(fixes))]


def _login(d: dict) -> list[dict]:
    result = d["login"]
    if not _ran(result):
        if d["proxy"] and d["hub"]:
            return [
                _result(
                    "hub login",
                    True,
                    "no user given: run with -e doctor_hub_user=NAME and the password in DOCTOR_HUB_PASSWORD "
                    "(or doctor_hub_password, vaulted)",
                    skipped=True,
                )
            ]
        return []
    seen = result.get("observations", {"error": result.get("msg", "")})
    login = seen.get("login", {})
    if d["hub"]:
        home = login.get("home_status", login.get("home_status_before", seen.get("error", "-")))
        return [
            _result(
                "hub login",
                login.get("logged_in", False),
                f"as {d['login_user']} at {d['public_url']}hub/login: login page {login.get('login_page_status', '-')}"
                f", POST {login.get('post_status', '-')}, hub/home {home}",
                "a POST 403 means the hub refused doctor_hub_user/doctor_hub_password: check the password (PAM: the "
                "system user's) and that the user is in jupyterhub_allowed_users or jupyterhub_admin_users; a login "
                "page other than 200 means the proxy does not reach the hub: "
                f"systemctl status {d['chp_unit']} {d['hub_unit']}",
            )
        ]
    return [
        _result(
            "Host accepted and login",
            login.get("logged_in", False),
            f"login POST {login.get('post_status', '-')}, api/status {login.get('api_status', seen.get('error', '-'))}",
            'a 403 "Blocking request from unknown host" means jupyter_public_hostname is not the name browsers use; '
            "a failed login means a wrong jupyter_password",
        ),
        _result(
            "websocket upgrade to the kernel",
            seen.get("stdout", "") == "42\n",
            f"handshake {seen.get('ws_status', '-')}, output {json.dumps(seen.get('stdout', '-'))}",
            "the proxy must forward Upgrade/Connection (nginx: proxy_http_version 1.1 and the $connection_upgrade "
            "map; Apache: proxy_wstunnel or upgrade=websocket) and pass Host with its port so that Origin matches",
        ),
    ]


def _tls(d: dict) -> list[dict]:
    results = []
    if _ran(d["tls_result"]) and d["tls"]:
        versions = d["tls_result"].get("observations", {}).get("versions", {})
        accepted = [v for v, seen in versions.items() if seen.get("accepted") is True]
        old = [v for v in accepted if v in ("1.0", "1.1")]
        new = [v for v in accepted if v in ("1.2", "1.3")]
        results.append(
            _result(
                "TLS protocols",
                not old and "1.2" in new,
                "accepted: " + ", ".join(old + new),
                "allow TLS 1.2 and 1.3 only (Mozilla intermediate): re-run the proxy role with its defaults",
            )
        )
    if _ran(d["headers"]) and d["tls"]:
        headers = d["headers"].get("observations", {}).get("headers", {})
        results.append(
            _result(
                "HSTS",
                "strict-transport-security" in headers,
                headers.get("strict-transport-security", "missing"),
                "set nginx_proxy_hsts / apache_proxy_hsts to true",
            )
        )
    return results


def doctor_checks(d: dict) -> list[dict]:
    """Every check's result, in the doctor's order."""
    d = {k: (NEVER_RAN if v is None else v) for k, v in d.items()}
    versions = ", ".join(d["versions"].get("stdout_lines", []))
    fix = "install the stack with jupyter_edge.deploy.site"
    results = [_result("server versions", versions, versions or "none found", fix)]
    results += _services(d) + _proxy(d) + _direct(d) + _token(d) + _login(d) + _tls(d)
    errors = d["errors"]
    results.append(
        _result(
            "recent errors in the logs",
            not errors.get("stdout", "").strip(),
            (errors.get("stdout_lines") or ["none in the last hour"])[-1],
            "read journalctl -p err --since -1h for " + ", ".join(d["services"]),
        )
    )
    return results


# -- Slurm (users' servers as batch jobs): one host's checks ---------------------------


def _pairs(lines) -> dict[str, str]:
    """'key=value' lines as a dict (the first '=' splits)."""
    return dict(line.split("=", 1) for line in lines or [] if "=" in line)


def doctor_slurm_checks(d: dict) -> list[dict]:
    """The Slurm checks of one host: the controller, a compute node or the hub (a submit host).

    The input: ``host``, ``controller`` and ``hub`` (inventory names), ``lines`` (this host's
    ``key=``, ``munge=``, ``uid=`` lines), ``controller_lines`` and ``reference_lines`` (the same
    from the controller, and from the host whose uid is the reference), ``ask`` (``ping=``,
    ``node=NAME STATE``, ``slurmd=``, ``hubapi=`` lines), ``nodes`` (the configured node names),
    ``user`` (doctor_hub_user), ``connect_api`` and ``log_dir``. Key hashes are compared, never shown.
    """
    host, controller, hub = d["host"], d.get("controller") or "", d.get("hub") or ""
    mine, theirs = _pairs(d.get("lines")), _pairs(d.get("controller_lines"))
    log_dir = d.get("log_dir") or "/var/log/slurm"
    munge = mine.get("munge", "")
    results = [
        _result(
            "munge",
            munge == "active",
            f"munge is {munge}",
            "systemctl restart munge (journalctl -u munge; /etc/munge/munge.key must be 0400 munge:munge)",
        )
    ]
    if controller and host != controller:
        key = mine.get("key", "")
        same = bool(key) and key == theirs.get("key", "")
        state = "the same as" if same else "missing, unlike" if not key else "DIFFERENT from"
        fix = (
            "re-run jupyter_edge.deploy.site --tags slurm_munge (it copies the controller's key, or slurm_munge_key,"
            " to every host and restarts munge and Slurm)"
        )
        results.append(_result("munge key", same, f"{state} {controller}'s (compared by SHA-256)", fix))
    listed = []
    for line in d.get("ask") or []:
        key, _eq, value = line.partition("=")
        if key == "ping":
            fix = (
                f"systemctl restart slurmctld on {controller} and read {log_dir}/slurmctld.log"
                " (SlurmctldHost must be its host name)"
            )
            results.append(_result("scontrol ping", "is UP" in value, value.strip(), fix))
        elif key == "node":
            node, state = (value + " ?").split(" ")[:2]
            listed.append(node)
            fix = (
                f"on {node}: systemctl restart slurmd (journalctl -u slurmd),"
                f" then scontrol update nodename={node} state=resume"
            )
            results.append(
                _result(f"sinfo {node}", state in ("idle", "mix", "alloc", "comp"), f"{node} is {state}", fix)
            )
        elif key == "slurmd":
            fix = (
                f"systemctl restart slurmd on {host} and read {log_dir}/slurmd.log;"
                " the controller then shows it idle again"
            )
            results.append(_result("slurmd", value == "active answers", f"slurmd is {value}", fix))
        elif key == "hubapi":
            fix = (
                "jupyterhub_connect_url must name the hub as the nodes resolve it, the hub must listen there"
                " (jupyterhub_bind_url beyond loopback), and the site firewall must let nodes reach that port"
            )
            detail = f"{d.get('connect_api', '')} answered {value}"
            results.append(_result("hub API from this node", value == "200", detail, fix))
    if host == controller:
        for node in d.get("nodes") or []:
            if node not in listed:
                fix = "add it to slurm_nodes (or the slurm_compute group) and re-run jupyter_edge.deploy.site"
                results.append(_result(f"sinfo {node}", False, f"{node} is not in sinfo", fix))
    user = d.get("user") or ""
    if not user:
        return [*results, _result("uid of the test user", True, "no doctor_hub_user given", "", skipped=True)]
    reference = _pairs(d.get("reference_lines")).get("uid", "")
    uid = mine.get("uid", "")
    fix = (
        "give each user the same uid on every node (one directory service, or the same useradd -u everywhere):"
        " jobs run under the uid the hub submits with"
    )
    detail = f"{user} is uid {uid or 'missing'} here, {reference or 'missing'} on {hub or controller}"
    return [*results, _result(f"uid of {user}", bool(uid) and uid == reference, detail, fix)]


class FilterModule:
    def filters(self):
        return {"doctor_checks": doctor_checks, "doctor_slurm_checks": doctor_slurm_checks}
