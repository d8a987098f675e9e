"""Jupyter behind Apache httpd: the shared proxy suite, plus what is Apache's own.

apache-subpath serves http://jupyter.example.org/notebook/, apache-tls
https://lab.example.org/ (self-signed); see molecule.yml.
"""

import re
import shlex

import pytest
from e2e.proxy_suite import *  # noqa: F403
from e2e.proxy_suite import SOCKET, ProxyUnderTest, converge_host, run_output
from e2e.verify import Probe, container, converge_cases, journal, main_pid

SITE = "/etc/apache2/sites-available/jupyter.conf"
NEEDED_MODULES = {
    "proxy_module",
    "proxy_http_module",
    "headers_module",
    "alias_module",
    "cache_module",
    "cache_disk_module",
}


@pytest.fixture(scope="module")
def proxy():
    return ProxyUnderTest(
        var_prefix="apache_proxy",
        service="apache2",
        config_files=[SITE, "/etc/apache2/ports.conf", "/etc/apache2/sites-enabled/jupyter.conf"],
        invalid_directive="ThisIsNotADirective On",
    )


def converge(host, extra_vars: dict):
    """This role's part of the converge playbook, on this host only, with extra variables."""
    return converge_host(host, extra_vars, tags="apache_proxy")


def loaded_modules(host) -> set[str]:
    out = host.check_output("apache2ctl -M 2>/dev/null")
    return {line.split()[0] for line in out.splitlines() if line.startswith(" ")}


def fingerprint(host) -> str:
    """What must not change when a run is refused: config files, enabled modules and sites."""
    return host.check_output(
        "sha256sum /etc/apache2/sites-available/* /etc/apache2/ports.conf; ls -l /etc/apache2/*-enabled/"
    )


def test_apache_is_2_4_from_the_distribution(host):
    assert host.package("apache2").is_installed
    version = re.search(r"Apache/(\d+)\.(\d+)\.(\d+)", host.check_output("apache2 -v"))
    assert version and tuple(int(v) for v in version.groups()) >= (2, 4, 0)
    assert "Syntax OK" in host.run("apache2ctl -t").stderr


def test_only_the_needed_modules_are_enabled(host, settings):
    modules = loaded_modules(host)
    assert modules >= NEEDED_MODULES, modules
    # httpd >= 2.4.47 upgrades websockets in mod_proxy_http: no wstunnel, no rewrite.
    assert "proxy_wstunnel_module" not in modules
    assert "rewrite_module" not in modules
    assert ("ssl_module" in modules) == bool(settings.get("apache_proxy_tls", False))


def test_site_proxies_websockets_with_upgrade(host, settings):
    site = host.file(SITE).content_string
    assert "ProxyPreserveHost On" in site
    upstream = re.escape(f"unix:{SOCKET}|ws://localhost") if settings.get("e2e_socket") else r"ws://127\.0\.0\.1:8888"
    assert re.search(rf'^\s*ProxyPassMatch ".*" "{upstream}/\S*\$1" upgrade=websocket', site, re.M), site
    assert re.search(r"^\s*ProxyPassReverse ", site, re.M)
    scheme = "https" if settings.get("apache_proxy_tls") else "http"
    assert f'RequestHeader set X-Forwarded-Proto "{scheme}"' in site
    assert host.file("/etc/apache2/sites-enabled/jupyter.conf").linked_to == SITE


def test_websocket_url_spaces(host, settings):
    """Only the URL spaces that are always websockets are upgraded, JupyterHub's user spaces included."""
    site = host.file(SITE).content_string
    pattern = re.search(r'^\s*ProxyPassMatch "([^"]+)"', site, re.M).group(1)
    prefix = settings.get("jupyter_base_url", "/")
    upgraded = [
        "api/kernels/0b5e9d1c-1234-4f6a-9a9e-1c2d3e4f5a6b/channels",
        "terminals/websocket/1",
        "api/events/subscribe",
        "user/alice/api/kernels/0b5e9d1c/channels",
        "user/alice/terminals/websocket/3",
        "user/alice/gpu/api/kernels/0b5e9d1c/channels",
    ]
    plain = ["api/kernels", "api/kernels/0b5e9d1c", "api/contents/channels", "lab", "user/alice/api/kernels", "tree/x"]
    for path in upgraded:
        assert re.match(pattern, prefix + path), path
    for path in plain:
        assert not re.match(pattern, prefix + path), path
    assert not re.match(pattern, "/elsewhere/api/kernels/x/channels") or prefix == "/"


def test_bare_prefix_redirects(host, settings):
    prefix = settings.get("jupyter_base_url", "/")
    if prefix == "/":
        pytest.skip("served at the root")
    probe = Probe(host, settings["e2e_url"], insecure=True)
    for path in ("/", prefix.rstrip("/")):
        seen = probe.run("headers", "--path", path)
        assert seen["status"] == 301 and seen["location"].endswith(prefix), seen


def test_self_signed_key_is_private(host, settings):
    if not settings.get("apache_proxy_tls"):
        pytest.skip("plain-HTTP site")
    name = settings["jupyter_public_hostname"]
    key = host.file(f"/etc/ssl/jupyter-edge/{name}.key")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    cert = host.check_output(f"openssl x509 -noout -ext subjectAltName -in /etc/ssl/jupyter-edge/{name}.crt")
    assert f"DNS:{name}" in cert
    assert "PRIVATE KEY" not in host.run("journalctl --no-pager; cat /var/log/apache2/*.log").stdout


def test_valid_change_reloads_gracefully(host, settings):
    """A change becomes live by a graceful reload: same main process, new behaviour. On the socket
    host the reload for a changed value is proven under load by test_sessions_survive_reload_and_reconverge."""
    if settings.get("apache_proxy_tls"):
        pytest.skip("checked on the sub-path host")
    pid = main_pid(host, "apache2")
    header = 'Header always set X-Jupyter-Edge-Test "reloaded"'
    run = converge(host, {"apache_proxy_extra_directives": [header]})
    assert run.returncode == 0, run_output(run)[-3000:]
    probe = Probe(host, settings["e2e_url"], insecure=True)
    assert probe.run("headers", "--path", "login")["headers"].get("x-jupyter-edge-test") == "reloaded"
    assert main_pid(host, "apache2") == pid, journal(host, "apache2")
    run = converge(host, {})
    assert run.returncode == 0, run_output(run)[-3000:]
    assert "x-jupyter-edge-test" not in probe.run("headers", "--path", "login")["headers"]
    assert main_pid(host, "apache2") == pid


def listening_ports(host) -> set[int]:
    return {int(s.rsplit(":", 1)[1]) for s in host.socket.get_listening_sockets() if s.startswith("tcp://")}


def test_apache_listens_on_the_site_ports_only(host, settings):
    """ports.conf is the site's: another HTTP port moves Apache off port 80; converging back restores."""
    if settings.get("apache_proxy_tls"):
        pytest.skip("checked on the sub-path host")
    assert "Listen 80\n" in host.file("/etc/apache2/ports.conf").content_string
    assert 80 in listening_ports(host) and 443 not in listening_ports(host)
    try:
        run = converge(host, {"apache_proxy_http_port": 8081})
        assert run.returncode == 0, run_output(run)[-3000:]
        ports = listening_ports(host)
        assert 8081 in ports and 80 not in ports, ports
        probe = Probe(host, settings["e2e_url"].replace("jupyter.example.org/", "jupyter.example.org:8081/"))
        assert probe.run("headers", "--path", "login")["status"] == 200
    finally:
        run = converge(host, {})
    assert run.returncode == 0, run_output(run)[-3000:]
    assert 80 in listening_ports(host) and 8081 not in listening_ports(host)


def test_static_cache_cleaner_keeps_its_size(host):
    """mod_cache_disk never deletes by itself: Debian's htcacheclean daemon must run."""
    cleaner = host.service("apache-htcacheclean")
    assert cleaner.is_running and cleaner.is_enabled


BAD_INPUT = {
    "location": (
        {"apache_proxy_location": "/jupyter/"},
        "apache_proxy_location is '/jupyter/' but jupyter_base_url is '/notebook/'",
    ),
    "server_name": (
        {"apache_proxy_server_name": "https://jupyter.example.org"},
        "apache_proxy_server_name is 'https://",
    ),
    "alias_wildcard": (
        {"jupyter_public_aliases": ["*.example.org"]},
        "apache_proxy_server_aliases is ['*.example.org']",
    ),
    "remote_name": (
        {"apache_proxy_upstream": "http://10.0.0.20:8888", "apache_proxy_server_name": "nb.example.test"},
        "The proxy answers for nb.example.test (apache_proxy_server_name / apache_proxy_server_aliases), but the"
        " Jupyter behind it checks the Host itself",
    ),
    "upstream": ({"apache_proxy_upstream": "http://127.0.0.1:8888/notebook/"}, "apache_proxy_upstream is"),
    "tls_pair": (
        {"apache_proxy_tls": True, "apache_proxy_tls_cert": "/etc/ssl/certs/x.pem"},
        "give both as absolute paths",
    ),
    "body_size": ({"apache_proxy_client_max_body_size": "4g"}, "apache_proxy_client_max_body_size is '4g'"),
    "extra_not_list": (
        {"apache_proxy_extra_directives": "Header set X 1"},
        "apache_proxy_extra_directives must be a list",
    ),
}


@pytest.fixture(scope="module")
def bad_input_runs(host, settings):
    """Every BAD_INPUT case, tried in one playbook run (a copy of the host per case), on the sub-path host;
    with what must not change: the configuration files, the enabled modules and sites, Apache's main pid."""
    if settings.get("apache_proxy_tls"):
        pytest.skip("checked once, on the sub-path host")
    before, pid = fingerprint(host), main_pid(host, "apache2")
    runs = converge_cases(container(host), {case: bad for case, (bad, _) in BAD_INPUT.items()}, tags="apache_proxy")
    return runs, (before, pid), (fingerprint(host), main_pid(host, "apache2"))


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_fails_before_any_change(bad_input_runs, case):
    runs, before, after = bad_input_runs
    run, message = runs[case], BAD_INPUT[case][1]
    assert run["failed"] == 1 and message in run["msg"], (run["msg"], run["output"][-3000:])
    assert run["changed"] == 0, run["output"][-3000:]
    assert after == before


def test_too_old_apache_fails_before_any_change(host, settings):
    """The version the role reads from the host (a fact it sets, so given with -e here)."""
    if settings.get("apache_proxy_tls"):
        pytest.skip("checked once, on the sub-path host")
    before, pid = fingerprint(host), main_pid(host, "apache2")
    run = converge(host, {"__apache_proxy_version": "2.2.34"})
    assert run.returncode != 0
    assert "Apache httpd 2.2.34 (installed) is too old" in " ".join(run_output(run).split()), run_output(run)[-3000:]
    assert "changed=0" in run.stdout, run_output(run)[-3000:]
    assert fingerprint(host) == before
    assert main_pid(host, "apache2") == pid


def test_given_certificate_must_match_its_key(host, settings):
    if not settings.get("apache_proxy_tls"):
        pytest.skip("plain-HTTP site")
    host.check_output(
        "cd /root && umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other"
        " -keyout other.key -out other.crt 2>/dev/null"
    )
    before, pid = fingerprint(host), main_pid(host, "apache2")
    name = settings["jupyter_public_hostname"]
    run = converge(
        host,
        {"apache_proxy_tls_cert": f"/etc/ssl/jupyter-edge/{name}.crt", "apache_proxy_tls_key": "/root/other.key"},
    )
    assert run.returncode != 0
    assert "do not form a pair" in " ".join(run_output(run).split()), run_output(run)[-3000:]
    assert fingerprint(host) == before and main_pid(host, "apache2") == pid


def test_rewrite_method_for_older_httpd(host, settings):
    """The RewriteRule [P] + mod_proxy_wstunnel variant (httpd < 2.4.47) also carries kernels and terminals."""
    if settings.get("apache_proxy_tls"):
        pytest.skip("checked once, on the sub-path host")
    try:
        run = converge(host, {"apache_proxy_websocket_method": "rewrite"})
        assert run.returncode == 0, run_output(run)[-3000:]
        site = host.file(SITE).content_string
        assert "RewriteCond %{HTTP:Upgrade} =websocket [NC]" in site
        assert {"rewrite_module", "proxy_wstunnel_module"} <= loaded_modules(host)
        probe = Probe(host, settings["e2e_url"], password=settings["jupyter_password"], insecure=True)
        seen = probe.run("kernel")
        assert seen["ws_status"] == 101 and seen["stdout"] == "42\n", (seen, journal(host, "apache2"))
        seen = probe.run("terminal")
        assert seen.get("ws_status") == 101 and seen["found"], seen
    finally:
        run = converge(host, {})
        # Modules are never disabled by the role (other sites may use them): the test cleans up.
        host.run("a2dismod -q proxy_wstunnel rewrite && systemctl reload apache2")
    assert run.returncode == 0, run_output(run)[-3000:]
    assert "proxy_wstunnel_module" not in loaded_modules(host)


def test_no_secret_in_site_or_logs(host, settings):
    password = settings["jupyter_password"]
    logs = host.run("cat /var/log/apache2/*.log; journalctl -u apache2 --no-pager").stdout
    assert password not in logs
    assert password not in host.file(SITE).content_string
    assert shlex.quote(password) not in host.check_output("ps -eo args")
