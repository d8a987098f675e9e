"""jupyter_edge.deploy.doctor against the split deployment: healthy, then broken on purpose.

Each break is undone before the next test, so the deployment ends healthy.
"""

import pytest
from e2e.verify import breakage, run_doctor, wait_until

testinfra_hosts = ["ansible://edge.example.org"]

SITE = "/etc/nginx/sites-available/jupyter.conf"


def test_healthy_deployment_passes_every_check():
    rc, out = run_doctor()
    assert rc == 0, out[-4000:]
    for check in (
        "service nginx",
        "service jupyter",
        "base URL in proxy",
        "base URL in Jupyter",
        "Host accepted and login",
        "websocket upgrade to the kernel",
    ):
        assert f"PASS {check}" in out, out[-4000:]
    assert "FAIL" not in out
    assert "changed=0" in out


@pytest.fixture
def broken(host):
    """Yields a function that breaks something; everything is restored afterwards."""
    with breakage(host) as brk:
        yield brk


def test_service_not_enabled_at_boot(broken):
    broken("systemctl disable nginx", "systemctl enable nginx")
    rc, out = run_doctor()
    assert rc != 0
    assert "FAIL service nginx: nginx enabled=disabled" in out
    assert "fix: systemctl enable --now nginx" in out


def test_base_url_mismatch_between_proxy_and_server(host, broken):
    broken(
        f"cp {SITE} /root/site.bak && sed -i 's#/notebook/#/notebooks/#g' {SITE} && nginx -s reload",
        f"cp /root/site.bak {SITE} && nginx -s reload",
    )
    rc, out = run_doctor()
    assert rc != 0
    assert "FAIL base URL in proxy" in out and "location /notebooks/" in out
    assert "fix: use the same value with leading and trailing slash" in out
    assert "FAIL websocket upgrade to the kernel" in out


def test_websocket_upgrade_not_forwarded(host, broken):
    broken(
        f"cp {SITE} /root/site.bak && sed -i '/Upgrade/d; /Connection/d' {SITE} && nginx -s reload",
        f"cp /root/site.bak {SITE} && nginx -s reload",
    )
    rc, out = run_doctor()
    assert rc != 0
    assert "FAIL websocket upgrade to the kernel" in out
    assert "must forward Upgrade/Connection" in out
    assert "PASS Host accepted and login" in out


def test_deployment_is_healthy_again(host):
    wait_until(host, "systemctl is-active nginx")
    rc, out = run_doctor()
    assert rc == 0, out[-4000:]
