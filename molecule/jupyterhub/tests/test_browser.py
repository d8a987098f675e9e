"""The hub in a real browser: Chromium on the controller through nginx -> CHP -> hub and alice's server.

Runs first (file order): alice has no server yet, so the browser sees the spawn, and it
stops the server again from hub/home, leaving the hub as converged for the other files.
"""

import pytest
from e2e.browser import BrowserFailure, artifacts_dir, browsers, hub_session, record_time, target_for  # noqa: F401
from e2e.verify import journal, wait_until

testinfra_hosts = ["ansible://jupyterhub"]


def test_hub_login_spawn_lab_and_stop_in_a_browser(host, settings, browsers):  # noqa: F811
    url, resolve = target_for(host, settings)
    try:
        report = hub_session(
            browsers.get(resolve),
            url,
            "alice",
            settings["e2e_users"]["alice"],
            label="jupyterhub",
            expect_hostname=host.check_output("hostname"),
            artifacts=artifacts_dir(),
        )
    except BrowserFailure as failure:
        logs = "\n".join(journal(host, unit, 40) for unit in ("jupyterhub", "configurable-http-proxy", "nginx"))
        pytest.fail(f"{failure}\n--- hub, CHP and nginx logs ---\n{logs}", pytrace=False)
    record_time("jupyterhub", report)
    # Stopped from hub/home: alice's single-user server is gone.
    wait_until(host, "! pgrep -u alice -f jupyterhub-singleuser", 60)
