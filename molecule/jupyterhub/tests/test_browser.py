"""The hub in a real browser: Chromium on the controller through nginx -> CHP -> hub and alice's server.

The browser spawns alice's server (or finds it running) and stops it again from hub/home,
so that the hub is left as converged for the other files, whatever their order.
"""

from e2e.browser import browsers, visit_hub  # noqa: F401
from e2e.verify import journal, wait_until

testinfra_hosts = ["ansible://jupyterhub"]


def test_hub_login_spawn_lab_and_stop_in_a_browser(host, settings, browsers):  # noqa: F811
    def logs():
        return "\n".join(journal(host, unit, 40) for unit in ("jupyterhub", "configurable-http-proxy", "nginx"))

    url = settings["e2e_url"]
    password = settings["e2e_users"]["alice"]
    visit_hub(host, browsers, url, "alice", password, label="jupyterhub", expect_hostname=host.check_output("hostname"),
              logs=logs)  # fmt: skip
    # Stopped from hub/home: alice's single-user server is gone.
    wait_until(host, "! pgrep -u alice -f jupyterhub-singleuser", 60)
