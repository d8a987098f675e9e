"""inventory/examples/hub-apache as written: the hub at https://hub.example.org/jupyter/ behind Apache.

Checks run inside the container as a browser there would. The websocket method is
the example's (auto: upgrade=websocket on this httpd) until the last tests, which
re-converge with 'rewrite' (RewriteCond %{HTTP:Upgrade} + mod_proxy_wstunnel) and
converge back. The doctor passes on each healthy deployment and names each break.
"""

from __future__ import annotations

from e2e.browser import browsers, visit_hub  # noqa: F401
from e2e.verify import Probe, breakage, converge_with, doctor_lines, http_status, journal, run_doctor, wait_until

URL = "https://hub.example.org/jupyter/"
SITE = "/etc/apache2/sites-available/jupyter.conf"
CODE = "import socket; print(6*7, socket.gethostname())"


def user(host, settings, name: str) -> Probe:
    return Probe(host, URL, password=settings["e2e_users"][name], insecure=True)


def logs(host) -> str:
    return "\n".join(journal(host, unit, 40) for unit in ("jupyterhub", "configurable-http-proxy", "apache2"))


def round_trip(host, settings, name: str = "alice") -> dict:
    """Log in, start the user's server, run code over the kernel websocket, leave the server running."""
    jar = f"/root/.jupyter-edge-hub-{name}.json"
    return user(host, settings, name).run("hub-kernel", "--user", name, "--cookie-jar", jar, "--code", CODE)


def doctor(monkeypatch, settings) -> tuple[int, str]:
    password = settings["e2e_users"]["alice"]
    monkeypatch.setenv("DOCTOR_HUB_PASSWORD", password)
    rc, out = run_doctor({"doctor_hub_user": "alice"})
    assert password not in out and settings["vault_chp_auth_token"] not in out, "a secret is in the output"
    return rc, out


def test_hub_behind_apache_in_a_browser(host, settings, browsers):  # noqa: F811
    """Chromium: hub login, the spawn page, Lab (cell, save, terminal), stop from hub/home. Runs first,
    while alice has no server, so the spawn is seen."""
    visit_hub(host, browsers, URL, "alice", settings["e2e_users"]["alice"], label="hub-apache",
              expect_hostname="hub.example.org", insecure=True, logs=lambda: logs(host))  # fmt: skip
    wait_until(host, "! pgrep -u alice -f jupyterhub-singleuser", 60)


def test_allowed_user_runs_code_on_the_hub(host, settings):
    seen = round_trip(host, settings)
    assert seen.get("ws_status") == 101, (seen, logs(host))
    assert seen["stdout"] == "42 hub.example.org\n", (seen, logs(host))


def test_the_kernel_installed_for_every_user(host, settings):
    """The example's jupyterhub_kernels entry, installed into the hub's prefix (--sys-prefix)."""
    seen = user(host, settings, "bob").run(
        "hub-kernel", "--user", "bob", "--kernel-name", "python-data", "--code", "import tabulate; print(6*7)"
    )
    assert seen.get("ws_status") == 101 and seen["stdout"] == "42\n", (seen, logs(host))


def test_user_not_allowed_is_refused(host, settings):
    seen = user(host, settings, "mallory").run("hub-login", "--user", "mallory")
    assert not seen["login"]["logged_in"], seen


def test_other_names_are_refused_at_apache(host):
    assert http_status(host, "https://127.0.0.1/jupyter/hub/login", "hub.example.org") == 200
    assert http_status(host, "https://127.0.0.1/jupyter/hub/login", "evil.example.net") == 421
    assert http_status(host, "http://127.0.0.1/jupyter/", "evil.example.net") == 421
    assert not host.file("/etc/apache2/sites-enabled/000-default.conf").exists


def test_doctor_passes_on_the_healthy_site(monkeypatch, settings):
    rc, out = doctor(monkeypatch, settings)
    assert rc == 0 and not doctor_lines(out, "FAIL"), out[-4000:]
    assert any("apache websocket rule" in line for line in doctor_lines(out, "PASS")), out[-4000:]
    assert "changed=0" in out, out[-4000:]


def test_doctor_names_a_dropped_websocket_rule(host, monkeypatch, settings):
    with breakage(host) as brk:
        brk(
            f"cp -p {SITE} /root/site.bak && sed -i '/ProxyPassMatch/d' {SITE} && systemctl reload apache2",
            f"cp -p /root/site.bak {SITE} && systemctl reload apache2",
        )
        rc, out = doctor(monkeypatch, settings)
    failed = doctor_lines(out, "FAIL")
    assert rc != 0 and any(line.startswith("FAIL apache websocket rule") for line in failed), out[-4000:]
    assert any("upgrade=websocket" in line for line in failed), failed


def test_doctor_names_a_disabled_module(host, monkeypatch, settings):
    with breakage(host) as brk:
        brk("a2dismod -q -f headers", "a2enmod -q headers && systemctl reload apache2")
        rc, out = doctor(monkeypatch, settings)
    failed = doctor_lines(out, "FAIL")
    assert rc != 0, out[-4000:]
    assert any(line.startswith("FAIL apache modules: missing: headers_module") and "a2enmod headers" in line
               for line in failed), failed  # fmt: skip


def test_rewrite_method_as_seed_004_writes_it(host, monkeypatch, settings):
    """apache_proxy_websocket_method: rewrite carries the hub's kernels; the doctor knows it needs
    mod_proxy_wstunnel; converging back to the example's method restores it."""
    try:
        run = converge_with({"apache_proxy_websocket_method": "rewrite"})
        assert run.returncode == 0, run.stdout[-3000:]
        assert "RewriteCond %{HTTP:Upgrade} =websocket [NC]" in host.file(SITE).content_string
        seen = round_trip(host, settings)
        assert seen.get("ws_status") == 101 and seen["stdout"] == "42 hub.example.org\n", (seen, logs(host))
        rc, out = doctor(monkeypatch, settings)
        assert rc == 0 and not doctor_lines(out, "FAIL"), out[-4000:]
        with breakage(host) as brk:
            brk(
                "a2dismod -q -f proxy_wstunnel && systemctl reload apache2",
                "a2enmod -q proxy_wstunnel && systemctl reload apache2",
            )
            rc, out = doctor(monkeypatch, settings)
        assert rc != 0, out[-4000:]
        assert any("missing: proxy_wstunnel_module" in line for line in doctor_lines(out, "FAIL")), out[-4000:]
    finally:
        run = converge_with({})
        # The role never disables modules (other sites may use them): the test cleans up.
        host.run("a2dismod -q proxy_wstunnel rewrite && systemctl reload apache2")
    assert run.returncode == 0, run.stdout[-3000:]
    assert round_trip(host, settings)["stdout"] == "42 hub.example.org\n"
