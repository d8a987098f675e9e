"""inventory/examples/cloudflare-https as written: HTTPS with the given certificate, DNS on Cloudflare.

The site's checks run inside the container and verify its certificate against the
CA that signed it (no --insecure); what the play left in Cloudflare is read from the
fake API's control endpoint.
"""

import os
from pathlib import Path

import pytest
from e2e.browser import browsers, visit_lab  # noqa: F401
from e2e.verify import Probe, assert_doctor_passes, http_status, inventory_vars
from fake_cloudflare.control import fake_state

URL = "https://jupyter.example.org/"
CA = "/root/test-ca/ca.crt"


# The example's ansible_host is the address users browse: reach the container by name.
testinfra_hosts = ["docker://jupyter.example.org"]


@pytest.fixture(scope="module")
def settings():
    return inventory_vars("jupyter.example.org")


@pytest.fixture(scope="module")
def probe(host, settings):
    return Probe(host, URL, password=settings["vault_jupyter_password"], cafile=CA)


@pytest.fixture(scope="module")
def cloudflare():
    return fake_state(Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "fake_cloudflare.json")


def test_https_with_the_given_certificate(host, probe):
    served = host.check_output(
        "echo | openssl s_client -connect 127.0.0.1:443 -servername jupyter.example.org 2>/dev/null"
        " | openssl x509 -noout -fingerprint -sha256"
    )
    given = host.check_output(
        "openssl x509 -noout -fingerprint -sha256 -in /etc/ssl/cloudflare/jupyter.example.org.pem"
    )
    assert served == given
    assert probe.run("login")["logged_in"]


def test_kernel_and_terminal_over_https(host, probe):
    seen = probe.run("kernel", "--code", "import socket; print(6*7, socket.gethostname())")
    assert seen["ws_status"] == 101 and seen["stdout"] == "42 jupyter.example.org\n", seen
    seen = probe.run("terminal")
    assert seen.get("ws_status") == 101 and seen["found"], seen


def test_jupyterlab_in_a_browser(host, settings, browsers):  # noqa: F811
    """Chromium at https://jupyter.example.org/ (the test CA is not the browser's: its errors are ignored)."""
    visit_lab(host, browsers, URL, settings["vault_jupyter_password"], label="cloudflare-https",
              expect_hostname="jupyter.example.org", insecure=True)  # fmt: skip


def test_allowed_origin_as_the_example_sets_it(probe, settings):
    """jupyter_allow_origin is the site's own origin: a page there may open kernels, another may not."""
    assert settings["jupyter_allow_origin"] == "https://jupyter.example.org"
    assert probe.run("ws-origin", "--origin-override", "https://jupyter.example.org")["ws_status"] == 101
    assert probe.run("ws-origin", "--origin-override", "https://evil.example.net")["ws_status"] == 403


def test_http_redirects_to_https(probe):
    seen = probe.run("headers", "--path", "lab?x=1", url="http://jupyter.example.org/")
    assert seen["status"] == 301 and seen["location"] == "https://jupyter.example.org/lab?x=1", seen


def test_other_names_are_refused(host):
    assert http_status(host, "https://127.0.0.1/login", "jupyter.example.org") == 200
    assert http_status(host, "https://127.0.0.1/login", "evil.example.net") == 421


def test_dns_record_and_zone_settings_in_cloudflare(cloudflare, settings):
    records = [r for r in cloudflare["records"]["example.org"] if r["name"] == "jupyter.example.org"]
    assert [(r["type"], r["content"], r["proxied"]) for r in records] == [("A", "203.0.113.10", True)]
    zone = cloudflare["settings"]["example.org"]
    for name, value in settings["cloudflare_dns_zone_settings"].items():
        assert zone[name] == value, name


def test_doctor_passes():
    assert_doctor_passes()
