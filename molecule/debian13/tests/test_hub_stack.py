"""JupyterHub behind configurable-http-proxy behind nginx on Debian 13: the jupyterhub scenario's
checks (molecule/jupyterhub/tests/test_jupyterhub.py), in its order, on Node.js 20 and CHP 5.3,
Python 3.13 under the hub and the users' servers, systemd 257 (supervision, a hub restart under
an open websocket, a reboot)."""

# ruff: noqa: I001 (pytest runs imported tests in import order: the scenario's own; the tests that reuse
# alice's browser session ask for the alice_session fixture)

from test_jupyterhub import (  # noqa: F401 (fixtures and tests, collected from here)
    url,
    alice,
    alice_session,
    test_services_supervised_and_enabled,
    test_chp_is_pinned_and_unprivileged,
    test_listens_on_loopback_only,
    test_chp_api_refuses_requests_without_the_token,
    test_chp_api_is_not_reachable_on_a_public_address,
    test_token_files_are_root_only,
    test_hub_configured_for_the_external_proxy,
    test_login_refused,
    test_user_logs_in_starts_server_and_runs_code,
    test_extra_kernel_for_every_user,
    test_hub_static_files_come_from_the_proxy_cache,
    test_unauthenticated_requests_are_refused,
    test_hub_restart_keeps_the_websocket_and_the_route,
    test_users_servers_get_tcp_nodelay,
    test_back_after_reboot,
)

testinfra_hosts = ["ansible://trixie-hub"]
