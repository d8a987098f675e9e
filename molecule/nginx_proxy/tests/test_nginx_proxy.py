"""nginx in front of Jupyter, verified from inside each container through the proxy.

The behaviour a browser sees (login, kernels, terminals, uploads, origin check,
TLS, redirect, a rejected config) is the shared suite, tests/e2e/proxy_suite.py;
this file adds what is specific to nginx.
"""

import re
import time

import pytest
from e2e.browser import BrowserFailure, Timeouts, record_time
from e2e.proxy_suite import *  # noqa: F403
from e2e.proxy_suite import SOCKET, ProxyUnderTest, browser_check, converge_host, run_output
from e2e.verify import Probe, breakage, container, converge_cases, journal, main_pid

SITE = "/etc/nginx/sites-available/jupyter.conf"
ENABLED = "/etc/nginx/sites-enabled/jupyter.conf"
UPGRADE_MAP = "/etc/nginx/conf.d/jupyter-edge-upgrade.conf"
CERT_DIR = "/etc/ssl/jupyter-edge"
SNAPSHOT = f"sha256sum {SITE} {UPGRADE_MAP}; readlink {ENABLED}"


@pytest.fixture(scope="module")
def proxy():
    return ProxyUnderTest(
        var_prefix="nginx_proxy",
        service="nginx",
        config_files=[SITE, UPGRADE_MAP],
        invalid_directive="this_is_not_a_directive on;",
    )


def only_on(host, name):
    if container(host) != name:
        pytest.skip(f"runs on {name}")


def test_nginx_from_the_distribution(host):
    assert host.package("nginx").is_installed
    assert host.file("/usr/sbin/nginx").exists


def test_config_is_valid_and_site_enabled(host):
    assert host.run("nginx -t").rc == 0, host.run("nginx -t").stderr
    assert host.file(ENABLED).is_symlink and host.file(ENABLED).linked_to == SITE
    site = host.file(SITE)
    assert (site.user, site.group, site.mode) == ("root", "root", 0o644)


def test_upgrade_map_at_http_level(host):
    assert "map $http_upgrade $connection_upgrade {" in host.file(UPGRADE_MAP).content_string
    full = host.check_output("nginx -T 2>/dev/null")
    # conf.d is included in the http block of nginx.conf: the map is at http level, once.
    assert full.count("map $http_upgrade $connection_upgrade") == 1
    assert full.index("http {") < full.index("map $http_upgrade $connection_upgrade")


def test_websocket_and_streaming_directives(host, settings):
    site = host.file(SITE).content_string
    location = settings.get("jupyter_base_url", "/")
    assert f"location {location} {{" in site
    for line in (
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_set_header Host $http_host;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-Host $http_host;",
        "proxy_buffering off;",
        "proxy_read_timeout 86400s;",
        "client_max_body_size 512m;",
        f"server unix:{SOCKET};" if settings.get("e2e_socket") else "server 127.0.0.1:8888;",
    ):
        assert line in site, line
    assert 'Connection "upgrade"' not in site


def test_upstream_connections_are_kept_open(host, settings, e2e_probe):
    """After requests through nginx, idle keep-alive connections to Jupyter stay open.

    The probe has exited by then, so an established connection to Jupyter's port is
    nginx's (ss cannot name the process: the container lacks CAP_SYS_PTRACE).
    """
    port = settings.get("jupyter_port", 8888)
    assert e2e_probe.run("login")["logged_in"]
    if settings.get("e2e_socket"):
        # Connected unix sockets: Jupyter's ends carry the socket's path.
        conns = host.check_output(f"ss -Hx state established src {SOCKET}")
        assert SOCKET in conns, "no idle upstream connection: nginx closes them after each request"
        return
    conns = host.check_output(f"ss -Htn state established '( dport = :{port} )'")
    assert f"127.0.0.1:{port}" in conns, "no idle upstream connection: nginx closes them after each request"


def test_subpath_without_slash_redirects(host, settings):
    only_on(host, "nginx-subpath")
    probe = Probe(host, settings["e2e_url"])
    seen = probe.run("headers", "--path", "/notebook")
    assert seen["status"] == 301, seen
    assert seen["location"] == "http://jupyter.example.org/notebook/", seen


def test_self_signed_certificate(host):
    only_on(host, "nginx-tls")
    key = host.file(f"{CERT_DIR}/jupyter.example.org.key")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    text = host.check_output(f"openssl x509 -in {CERT_DIR}/jupyter.example.org.crt -noout -subject -ext subjectAltName")
    assert "CN = jupyter.example.org" in text and "DNS:jupyter.example.org" in text


def test_private_key_never_logged(host):
    only_on(host, "nginx-tls")
    key = host.check_output(f"sed -n 2p {CERT_DIR}/jupyter.example.org.key")
    assert key and key not in host.run("journalctl --no-pager; cat /var/log/nginx/*.log").stdout


def test_change_reloads_without_restart(host, settings):
    """Body size, iframe headers and an upstream list change live by a reload; converging back restores."""
    only_on(host, "nginx-subpath")
    before, pid = host.check_output(SNAPSHOT), main_pid(host, "nginx")
    changed = {
        "nginx_proxy_client_max_body_size": "1m",
        "nginx_proxy_frame_ancestors": ["https://portal.example.org"],
        "nginx_proxy_upstream": ["http://127.0.0.1:8888", "http://localhost:8888"],
    }
    try:
        run = converge_host(host, changed, tags="nginx_proxy")
        assert run.returncode == 0, run_output(run)[-3000:]
        assert "RUNNING HANDLER [jupyter_edge.deploy.nginx_proxy : Reload nginx gracefully]" in run.stdout
        assert main_pid(host, "nginx") == pid, "nginx was restarted, not reloaded"
        site = host.file(SITE).content_string
        assert "ip_hash;" in site and "server localhost:8888;" in site

        probe = Probe(host, settings["e2e_url"], password=settings["jupyter_password"])
        seen = probe.run("upload", "--size-mb", "2")
        assert seen["put_status"] == 413, seen
        seen = probe.run("headers", "--path", "login")
        csp = seen["headers"].get("content-security-policy")
        assert csp == "frame-ancestors 'self' https://portal.example.org", seen  # Jupyter's own one is hidden
        assert probe.run("kernel")["stdout"] == "42\n"
    finally:
        run = converge_host(host, tags="nginx_proxy")
    assert run.returncode == 0, run_output(run)[-3000:]
    assert host.check_output(SNAPSHOT) == before
    assert main_pid(host, "nginx") == pid


BAD_INPUT = {  # case: (platform, variables, message)
    "location-drift": (
        "nginx-subpath",
        {"nginx_proxy_location": "/lab/"},
        "nginx_proxy_location is '/lab/' but jupyter_base_url is '/notebook/'",
    ),
    "location-slash": ("nginx-subpath", {"nginx_proxy_location": "/notebook"}, "nginx_proxy_location is '/notebook'"),
    "server-name": (
        "nginx-subpath",
        {"nginx_proxy_server_name": "https://jupyter.example.org"},
        "nginx_proxy_server_name is",
    ),
    "server-name-chars": (
        "nginx-subpath",
        {"nginx_proxy_server_name": "jupyter!"},
        "nginx_proxy_server_name is 'jupyter!'",
    ),
    "alias-path": (
        "nginx-subpath",
        {"jupyter_public_aliases": ["jupyter.example.org/notebook"]},
        "nginx_proxy_server_aliases is ['jupyter.example.org/notebook']",
    ),
    "remote-name": (
        "nginx-subpath",
        {"nginx_proxy_upstream": "http://10.0.0.20:8888", "nginx_proxy_server_name": "nb.example.test"},
        "The proxy answers for nb.example.test (nginx_proxy_server_name / nginx_proxy_server_aliases), but the"
        " Jupyter behind it checks the Host itself and accepts only the names in jupyter_public_hostname"
        " (jupyter.example.org)",
    ),
    "port": ("nginx-subpath", {"nginx_proxy_http_port": 0}, "nginx_proxy_http_port is 0"),
    "upstream-path": (
        "nginx-subpath",
        {"nginx_proxy_upstream": "http://127.0.0.1:8888/notebook/"},
        "nginx_proxy_upstream is",
    ),
    "same-ports": (
        "nginx-tls",
        {"nginx_proxy_https_port": 80},
        "nginx_proxy_http_port and nginx_proxy_https_port are both 80",
    ),
    "cert-no-key": ("nginx-tls", {"nginx_proxy_tls_cert": "/etc/ssl/certs/none.pem"}, "nginx_proxy_tls_key is ''"),
    "cert-missing": (
        "nginx-tls",
        {"nginx_proxy_tls_cert": "/etc/ssl/none.crt", "nginx_proxy_tls_key": "/etc/ssl/none.key"},
        "nginx_proxy_tls_cert is '/etc/ssl/none.crt', which is not a file",
    ),
    "body-size": (
        "nginx-tls",
        {"nginx_proxy_client_max_body_size": "lots"},
        "nginx_proxy_client_max_body_size is 'lots'",
    ),
    "cache-size": (
        "nginx-tls",
        {"nginx_proxy_static_cache_max_size": "1 GB"},
        "nginx_proxy_static_cache_max_size is '1 GB'",
    ),
}


@pytest.fixture(scope="module")
def bad_input_runs(host):
    """This platform's BAD_INPUT cases, tried in one playbook run (a copy of the host per case), with
    what must not change: the site, the upgrade map, the enabled link and nginx's main pid."""
    cases = {case: bad for case, (platform, bad, _) in BAD_INPUT.items() if platform == container(host)}
    before = host.check_output(SNAPSHOT), main_pid(host, "nginx")
    runs = converge_cases(container(host), cases, tags="nginx_proxy")
    return runs, before, (host.check_output(SNAPSHOT), main_pid(host, "nginx"))


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_fails_before_any_change(host, bad_input_runs, case):
    platform, _, message = BAD_INPUT[case]
    only_on(host, platform)
    runs, before, after = bad_input_runs
    run = runs[case]
    assert run["failed"] == 1 and message in run["msg"], (run["msg"], run["output"][-3000:])
    assert run["changed"] == 0, run["output"][-3000:]
    assert after == before, journal(host, "nginx")


def test_browser_check_fails_when_the_proxy_drops_upgrade(host, settings, browsers):
    """The browser check can fail: without Upgrade and Connection passed on, Lab never gets its kernel.

    The site is patched by hand (the role has no switch for a broken proxy) and put back,
    byte for byte, whatever happens.
    """
    only_on(host, "nginx-subpath")
    before = host.check_output(SNAPSHOT)
    backup = "/root/.browser-test-jupyter.conf"
    drop = r"sed -i '/proxy_set_header \(Upgrade\|Connection\) /d'"
    with breakage(host) as brk:
        brk(
            f"cp -p {SITE} {backup} && {drop} {SITE} && nginx -t && systemctl reload nginx",
            f"cp -p {backup} {SITE} && rm -f {backup} && systemctl reload nginx",
        )
        assert "proxy_set_header Upgrade" not in host.file(SITE).content_string
        start = time.monotonic()
        with pytest.raises(BrowserFailure) as failed:
            browser_check(host, settings, browsers, label="nginx-subpath-no-upgrade", timeouts=Timeouts(kernel=20))
        record_time("nginx-subpath-no-upgrade", time.monotonic() - start)
    report = str(failed.value)
    print(report)  # shown with -rA / on failure: what a user of the check would read
    assert "failed at step 'kernel idle'" in report, report
    sockets = re.search(r"failed websockets:(.*?)\n  websockets opened:", report, re.S)
    assert sockets and "/api/kernels/" in sockets.group(1) and "/channels" in sockets.group(1), report
    assert re.search(r"screenshot: \S+FAILED-kernel-idle\.png", report), report
    assert host.check_output(SNAPSHOT) == before
