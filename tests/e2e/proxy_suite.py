"""Shared behaviour tests for Jupyter behind any front proxy (nginx, Apache, CHP...).

A scenario's testinfra file imports the suite and defines one fixture, ``proxy``:

    from e2e.proxy_suite import *  # noqa: F403

    @pytest.fixture(scope="module")
    def proxy():
        return ProxyUnderTest(
            var_prefix="nginx_proxy",            # the role's variable prefix
            service="nginx",                     # systemd unit of the proxy
            config_files=["/etc/nginx/sites-available/jupyter.conf"],
            invalid_directive="this_is_not_a_directive on;",
        )

Every check runs inside the container with the client library, connecting by the
public name (the platform's etc_hosts maps it to 127.0.0.1) with Host, Origin and
SNI as a browser sends them. Per-host inventory variables:

- ``e2e_url``: public base URL, base_url prefix included (http://host/notebook/).
- ``e2e_tls``: true when e2e_url is https; enables the TLS, HSTS and redirect tests.
- ``e2e_http_url`` (optional, TLS only): the plain-HTTP URL that must redirect to
  e2e_url; default: e2e_url with http:// and no port.
- ``e2e_socket``: true where Jupyter listens on its unix socket (the host is in the
  inventory groups jupyter and proxy, so jupyter_socket: auto picks it); else on TCP.
- ``jupyter_password``, and ``jupyter_port`` (default 8888).

``test_real_browser_through_proxy`` is the exception: Chromium on the controller (tests/e2e/browser.py)
reaches the container by its address, with the public name mapped to it, and does what a user does
in JupyterLab (notebook, save, terminal). On TLS hosts it accepts the self-signed certificate.

Proxy-specific assertions (config syntax, modules, ...) belong in the scenario's own file.
"""

from __future__ import annotations

import re
import secrets
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import pytest

from e2e.browser import BrowserFailure, artifacts_dir, browsers, lab_session, record_time, target_for
from e2e.verify import (
    Probe,
    address,
    container,
    converge_with,
    direct_get,
    http_status,
    journal,
    main_pid,
    record_counts,
    wait_until,
)

__all__ = [
    "ProxyUnderTest",
    "converge_host",
    "run_output",
    "e2e_settings",
    "e2e_probe",
    "browsers",
    "browser_check",
    "test_proxy_service_running_and_enabled",
    "test_unauthenticated_api_is_refused_through_proxy",
    "test_login_through_proxy",
    "test_kernel_channels_through_proxy",
    "test_kernel_round_trip_without_delayed_ack_stall",
    "test_terminal_websocket_through_proxy",
    "test_upload_through_proxy",
    "test_versioned_static_files_come_from_the_proxy_cache",
    "test_unversioned_static_files_are_always_forwarded",
    "test_foreign_origin_websocket_is_refused",
    "test_real_browser_through_proxy",
    "test_tls_versions",
    "test_hsts_header",
    "test_http_redirects_to_https",
    "test_only_the_proxy_reaches_jupyter",
    "test_sessions_survive_reload_and_reconverge",
    "test_rejected_config_keeps_serving",
    "test_foreign_host_is_refused_at_the_proxy",
    "test_site_names_as_users_write_them",
]

UPLOAD_MB = 40
FOREIGN_ORIGIN = "https://evil.example.net"
FOREIGN_HOST = "evil.example.net"
# Stock Jupyter's execute round trip waits ~40 ms for the peer's delayed ACK at least;
# with TCP_NODELAY it is ~10 ms on this machine.
NODELAY_P50_MS = 30
# A name set only on the proxy role; the platforms' etc_hosts map it to the container.
PROXY_ONLY_NAME = "nb.example.test"
MIN_HSTS_SECONDS = 15768000  # six months
# The jupyter role's unix socket (jupyter_socket: auto), and its directory's group: the proxy's.
SOCKET = "/var/lib/jupyter-edge/sockets/jupyter.sock"
PROXY_GROUP = "www-data"
# Browsers kept executing while the proxy reloads and the playbook converges again.
SESSIONS = 20


@dataclass
class ProxyUnderTest:
    """What the suite needs to know about the proxy; returned by the scenario's ``proxy`` fixture."""

    var_prefix: str
    service: str
    invalid_directive: str
    config_files: list[str] = field(default_factory=list)


def _attr(proxy, name):
    return proxy[name] if isinstance(proxy, dict) else getattr(proxy, name)


@pytest.fixture(scope="module")
def e2e_settings(host):
    """The host's inventory variables."""
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def e2e_probe(host, e2e_settings):
    """A browser on the host, pointed at the public URL."""
    return Probe(host, e2e_settings["e2e_url"], password=e2e_settings["jupyter_password"], insecure=True)


def browser_check(host, settings, browsers, **options) -> dict:
    """JupyterLab in Chromium through the proxy, by the public name; the report (raises BrowserFailure)."""
    url, resolve = target_for(host, settings)
    options.setdefault("expect_hostname", host.check_output("hostname"))
    label = options.pop("label", container(host))
    return lab_session(
        browsers.get(resolve),
        url,
        settings["jupyter_password"],
        label=label,
        artifacts=artifacts_dir(),
        insecure=bool(settings.get("e2e_tls", False)),  # the scenarios' certificates are self-signed
        **options,
    )


def _needs_tls(settings):
    if not settings.get("e2e_tls", False):
        pytest.skip("plain-HTTP site")


def _diagnose(host, proxy) -> str:
    return journal(host, _attr(proxy, "service")) + journal(host, "jupyter")


def converge_host(host, extra_vars: dict | None = None, tags: str | None = None) -> subprocess.CompletedProcess:
    """Re-run the scenario's converge playbook on this host only, with extra variables (and tags)."""
    return converge_with(extra_vars or {}, limit=container(host), tags=tags)


def run_output(run: subprocess.CompletedProcess) -> str:
    """All a playbook run printed (converge_with merges stderr, where Ansible reports failures)."""
    return run.stdout + (run.stderr or "")


def test_proxy_service_running_and_enabled(host, proxy):
    service = host.service(_attr(proxy, "service"))
    assert service.is_running, _diagnose(host, proxy)
    assert service.is_enabled


def test_unauthenticated_api_is_refused_through_proxy(e2e_probe):
    seen = e2e_probe.run("unauth")
    assert seen["kernels_status"] == 403, seen
    assert seen["contents_status"] == 403, seen


def test_login_through_proxy(host, proxy, e2e_probe):
    seen = e2e_probe.run("login")
    assert seen["login_page_status"] == 200, (seen, _diagnose(host, proxy))
    assert seen["auth_cookie_set"] and seen["logged_in"], (seen, _diagnose(host, proxy))


def test_kernel_channels_through_proxy(host, proxy, e2e_probe):
    seen = e2e_probe.run("kernel", "--code", "print(6*7)")
    assert seen["ws_status"] == 101, (seen, _diagnose(host, proxy))
    assert seen["stdout"] == "42\n" and seen["reply_status"] == "ok", (seen, _diagnose(host, proxy))


def test_kernel_round_trip_without_delayed_ack_stall(host, proxy, e2e_probe):
    """Jupyter sets TCP_NODELAY on kernel websockets (jupyter_kernel_websocket_nodelay): an execute
    round trip through the proxy takes ~10 ms, not the ~40 ms delayed-ACK stall of stock Jupyter."""
    seen = e2e_probe.run("latency", "--rounds", "20")
    assert seen["rounds"] == 20 and seen["failed"] == 0, (seen, _diagnose(host, proxy))
    assert seen["p50_ms"] < NODELAY_P50_MS, seen


def test_terminal_websocket_through_proxy(host, proxy, e2e_probe):
    seen = e2e_probe.run("terminal")
    assert seen.get("ws_status") == 101, (seen, _diagnose(host, proxy))
    assert seen["found"], (seen, _diagnose(host, proxy))


def test_upload_through_proxy(host, proxy, e2e_probe):
    seen = e2e_probe.run("upload", "--size-mb", str(UPLOAD_MB), timeout=300)
    assert seen["put_status"] in (200, 201), (seen, _diagnose(host, proxy))
    assert seen["size_reported"] == UPLOAD_MB * 1024 * 1024, seen
    assert seen["hash_match"] in (True, None), seen  # None: the server does not report hashes


def _from_cache(fetch: dict) -> bool:
    # nginx: X-Cache-Status HIT; Apache mod_cache: X-Cache "HIT from <host>".
    return (fetch["proxy_cache"] or "").startswith("HIT")


def test_versioned_static_files_come_from_the_proxy_cache(host, e2e_settings, e2e_probe):
    """JupyterLab's hashed bundle: Jupyter's bytes, answered from the proxy's cache once it has them."""
    seen = e2e_probe.run("static", "--times", "3")
    fetches = seen["fetches"]
    assert [f["status"] for f in fetches] == [200] * 3, seen
    assert _from_cache(fetches[-1]), seen
    assert "max-age=" in (fetches[-1]["cache_control"] or ""), seen
    direct = direct_get(host, seen["path"], _socket(e2e_settings), int(e2e_settings.get("jupyter_port", 8888)))
    assert direct[0] == 200, direct
    assert {f["sha256"] for f in fetches} == {direct[1]}, (seen, direct)


def test_unversioned_static_files_are_always_forwarded(e2e_probe):
    """Jupyter marks a static URL without ?v= as no-cache: the proxy must not answer it from its cache."""
    seen = e2e_probe.run("static", "--path", "static/favicons/favicon.ico", "--times", "2")
    assert [f["status"] for f in seen["fetches"]] == [200, 200], seen
    assert not any(_from_cache(f) for f in seen["fetches"]), seen


def test_foreign_origin_websocket_is_refused(e2e_probe):
    seen = e2e_probe.run("ws-origin", "--origin-override", FOREIGN_ORIGIN)
    assert seen["login"]["logged_in"] and seen.get("kernel_id"), seen
    assert seen["ws_status"] == 403, seen


def test_real_browser_through_proxy(host, proxy, e2e_settings, browsers):
    """Chromium logs in, runs a notebook cell on this host, saves, reloads, uses a terminal, cleans up."""
    try:
        report = browser_check(host, e2e_settings, browsers)
    except BrowserFailure as failure:
        pytest.fail(f"{failure}\n--- proxy and Jupyter logs ---\n{_diagnose(host, proxy)}", pytrace=False)
    record_time(container(host), report)
    assert report["cell_output"].startswith("42 "), report


def test_tls_versions(e2e_settings, e2e_probe):
    _needs_tls(e2e_settings)
    versions = e2e_probe.run("tls", "--versions", "1.0", "1.1", "1.2", "1.3")["versions"]
    for old in ("1.0", "1.1"):
        assert versions[old]["client_can_offer"], versions[old]  # otherwise the refusal proves nothing
        assert versions[old]["accepted"] is False, versions[old]
    for current in ("1.2", "1.3"):
        assert versions[current]["accepted"] is True, versions[current]
        assert versions[current]["version"] == f"TLSv{current}", versions[current]


def test_hsts_header(e2e_settings, e2e_probe):
    _needs_tls(e2e_settings)
    seen = e2e_probe.run("headers", "--path", "login")
    hsts = seen["headers"].get("strict-transport-security", "")
    match = re.search(r"max-age=(\d+)", hsts)
    assert match and int(match.group(1)) >= MIN_HSTS_SECONDS, seen


def test_http_redirects_to_https(e2e_settings, e2e_probe):
    _needs_tls(e2e_settings)
    url = e2e_settings["e2e_url"]
    parts = urlsplit(url)
    http_url = e2e_settings.get("e2e_http_url") or urlunsplit(("http", parts.hostname, parts.path, "", ""))
    seen = e2e_probe.run("headers", "--path", "tree?from=probe", url=http_url)
    assert seen["status"] in (301, 308), seen
    assert seen["location"] == url.rstrip("/") + "/tree?from=probe", seen


def _socket(settings) -> str:
    return SOCKET if settings.get("e2e_socket") else ""


def test_only_the_proxy_reaches_jupyter(host, e2e_settings):
    """Beside its proxy Jupyter listens on a unix socket that only the proxy's group may use, and on
    no TCP port; elsewhere (TCP) on loopback only."""
    port = int(e2e_settings.get("jupyter_port", 8888))
    tcp = [s for s in host.socket.get_listening_sockets() if s.endswith(f":{port}")]
    if not e2e_settings.get("e2e_socket"):
        assert tcp, f"nothing listens on port {port}"
        assert set(tcp) <= {f"tcp://127.0.0.1:{port}", f"tcp://::1:{port}"}, tcp
        return
    assert not tcp, tcp
    sock, folder = host.file(SOCKET), host.file(SOCKET.rsplit("/", 1)[0])
    assert sock.is_socket and (sock.user, sock.group, sock.mode) == ("jupyter", PROXY_GROUP, 0o660)
    assert (folder.user, folder.group, folder.mode) == ("jupyter", PROXY_GROUP, 0o2750)
    connect = f"python3 -c 'import socket; socket.socket(socket.AF_UNIX).connect(\"{SOCKET}\")'"
    assert host.run(f"runuser -u {PROXY_GROUP} -- {connect}").rc == 0
    refused = host.run(f"runuser -u nobody -- {connect}")
    assert refused.rc != 0 and "PermissionError" in refused.stderr, refused.stderr


def test_rejected_config_keeps_serving(host, proxy, e2e_probe):
    """An invalid directive fails the run; the live config, the process and the site stay as they were."""
    service = _attr(proxy, "service")
    files = list(_attr(proxy, "config_files"))
    directive = _attr(proxy, "invalid_directive")
    checksum = "sha256sum " + " ".join(shlex.quote(f) for f in files) if files else "true"
    before = host.check_output(checksum)
    pid = main_pid(host, service)

    prefix = _attr(proxy, "var_prefix")
    run = converge_host(host, {f"{prefix}_extra_directives": [directive]}, tags=prefix)  # the proxy's role only

    out = run_output(run)
    assert run.returncode != 0, out[-3000:]
    keyword = re.split(r"[\s;]", directive.strip())[0]
    assert keyword in out, out[-3000:]  # the proxy's own error message reaches the user
    assert host.check_output(checksum) == before
    assert main_pid(host, service) == pid, "the proxy was restarted"
    assert host.service(service).is_running
    seen = e2e_probe.run("login")
    assert seen["logged_in"], (seen, _diagnose(host, proxy))


def test_sessions_survive_reload_and_reconverge(host, proxy, e2e_settings, e2e_probe):
    """SESSIONS browsers keep kernel websockets open, each executing once a second, while (a) the proxy
    reloads for a changed setting and (b) the whole playbook converges again (defaults back: a second
    reload): no websocket drops, no request fails, every session's next execution returns its result."""
    if not e2e_settings.get("e2e_socket"):
        pytest.skip("once per scenario: on the platform with the default stack (Jupyter on its socket)")
    prefix, service = _attr(proxy, "var_prefix"), _attr(proxy, "service")
    flag = f"/root/.jupyter-edge-sessions-{secrets.token_hex(4)}"  # in the container
    started = time.monotonic()
    proc = e2e_probe.start("sessions", "--count", str(SESSIONS), "--until", flag)
    try:
        wait_until(host, f"test -e {flag}.held", timeout=300)
        pid = main_pid(host, service)
        changed = converge_host(host, {f"{prefix}_client_max_body_size": "256m"}, tags=prefix)
        assert changed.returncode == 0, run_output(changed)[-3000:]
        assert re.search(r"RUNNING HANDLER \[.*: Reload ", changed.stdout), changed.stdout[-3000:]
        again = converge_host(host)
        assert again.returncode == 0, run_output(again)[-3000:]
        assert re.search(r"changed=[1-9]", again.stdout), "the re-converge restored nothing: was (a) a change?"
        assert main_pid(host, service) == pid, f"{service} was restarted, not reloaded"
        time.sleep(3)  # executions after the last reload
    finally:
        host.run(f"touch {flag}")
        seen = Probe.finish(proc)
    record_counts(
        f"{container(host)} sessions",
        f"{seen['sessions']} sessions, {seen['executions']} executions ({seen['failed']} failed), "
        f"{seen['dropped']} dropped, {seen['http_requests']} requests ({seen['http_failed']} failed), "
        f"p50 {seen['p50_ms']} ms, p99 {seen['p99_ms']} ms, {time.monotonic() - started:.0f} s",
    )
    assert seen["opened"] == SESSIONS, seen
    assert (seen["dropped"], seen["failed"], seen["http_failed"]) == (0, 0, 0), seen
    assert seen["last_ok"] == SESSIONS, seen
    assert seen["executions"] >= SESSIONS * 10, seen


def _local_url(url: str) -> str:
    """The public URL with the proxy's own address in place of the name (for a chosen Host header)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"127.0.0.1{port}", parts.path, "", ""))


def test_foreign_host_is_refused_at_the_proxy(host, e2e_settings):
    """DNS rebinding: a Host that is none of the site's names never reaches Jupyter (421 from the proxy)."""
    url = _local_url(e2e_settings["e2e_url"]) + "login"
    name = urlsplit(e2e_settings["e2e_url"]).hostname
    assert http_status(host, url, name) == 200
    for foreign in (FOREIGN_HOST, f"{name}.{FOREIGN_HOST}", "127.0.0.2"):
        assert http_status(host, url, foreign) == 421, foreign


def test_site_names_as_users_write_them(host, proxy, e2e_settings):
    """A user who sets only the proxy's name, or no name at all (browsing by the host's address or
    its inventory name, as seed 000's user does): login and a kernel round trip through the proxy."""
    if e2e_settings.get("e2e_tls"):
        pytest.skip("checked on the plain-HTTP site")
    prefix = _attr(proxy, "var_prefix")
    path = urlsplit(e2e_settings["e2e_url"]).path
    hostname = host.check_output("hostname")
    cases = [
        ({"jupyter_public_hostname": "", f"{prefix}_server_name": PROXY_ONLY_NAME}, [PROXY_ONLY_NAME]),
        ({"jupyter_public_hostname": ""}, [address(host), container(host)]),
    ]
    try:
        for extra, names in cases:
            run = converge_host(host, extra)
            assert run.returncode == 0, run_output(run)[-3000:]
            for name in names:
                probe = Probe(host, f"http://{name}{path}", password=e2e_settings["jupyter_password"])
                seen = probe.run("kernel", "--code", "import socket; print(6*7, socket.gethostname())")
                assert seen["ws_status"] == 101, (extra, name, seen, _diagnose(host, proxy))
                assert seen["stdout"] == f"42 {hostname}\n", (extra, name, seen)
            assert http_status(host, _local_url(e2e_settings["e2e_url"]) + "login", FOREIGN_HOST) == 421
    finally:
        run = converge_host(host)
    assert run.returncode == 0, run_output(run)[-3000:]
    url = _local_url(e2e_settings["e2e_url"]) + "login"
    assert http_status(host, url, PROXY_ONLY_NAME) == 421  # the name set for the test is gone again
