"""Jupyter behind nginx (the default stack) and behind Apache on Debian 13: the shared proxy suite.

The checks are tests/e2e/proxy_suite.py's, as the nginx_proxy and apache_proxy scenarios
run them on Debian 12; here the subset that meets what Debian 13 changes (Python 3.13
under Jupyter, nginx 1.26 and Apache 2.4.6x with OpenSSL 3.5, systemd 257): login,
kernel and terminal websockets, the kernel round trip, Chromium through the proxy, TLS
versions (per SNI: the default server and the site), HSTS and redirect, a foreign Host
and Origin refused, the static cache, Jupyter reachable by the proxy only, and a
rejected configuration that leaves the proxy serving.
"""

# ruff: noqa: I001 (pytest runs imported tests in import order: the suite's own)

import pytest
from e2e.verify import container

from e2e.proxy_suite import (  # noqa: F401 (fixtures and tests, collected from here)
    ProxyUnderTest,
    e2e_settings,
    e2e_probe,
    test_proxy_service_running_and_enabled,
    test_unauthenticated_api_is_refused_through_proxy,
    test_login_through_proxy,
    test_kernel_channels_through_proxy,
    test_kernel_round_trip_without_delayed_ack_stall,
    test_terminal_websocket_through_proxy,
    test_versioned_static_files_come_from_the_proxy_cache,
    test_foreign_origin_websocket_is_refused,
    test_real_browser_through_proxy,
    test_tls_versions,
    test_hsts_header,
    test_http_redirects_to_https,
    test_only_the_proxy_reaches_jupyter,
    test_rejected_config_keeps_serving,
    test_foreign_host_is_refused_at_the_proxy,
)

testinfra_hosts = ["ansible://trixie-nginx", "ansible://trixie-apache"]

PROXIES = {
    "trixie-nginx": ProxyUnderTest(
        var_prefix="nginx_proxy",
        service="nginx",
        config_files=["/etc/nginx/sites-available/jupyter.conf", "/etc/nginx/conf.d/jupyter-edge-upgrade.conf"],
        invalid_directive="this_is_not_a_directive on;",
    ),
    "trixie-apache": ProxyUnderTest(
        var_prefix="apache_proxy",
        service="apache2",
        config_files=["/etc/apache2/sites-available/jupyter.conf", "/etc/apache2/ports.conf"],
        invalid_directive="ThisIsNotADirective On",
    ),
}


@pytest.fixture(scope="module")
def proxy(host):
    return PROXIES[container(host)]
