"""The hub on Debian 13 in Chromium, as molecule/jupyterhub/tests/test_browser.py on Debian 12:
login, spawn (or find her server running), a cell in JupyterLab, stop."""

from e2e.browser import visit_hub
from e2e.verify import journal, wait_until

testinfra_hosts = ["ansible://trixie-hub"]


def test_hub_login_spawn_lab_and_stop_in_a_browser(host, settings, browsers):
    def logs():
        return "\n".join(journal(host, unit, 40) for unit in ("jupyterhub", "configurable-http-proxy", "nginx"))

    password = settings["e2e_users"]["alice"]
    visit_hub(host, browsers, settings["e2e_url"], "alice", password, label="trixie-hub",
              expect_hostname=host.check_output("hostname"), logs=logs)  # fmt: skip
    wait_until(host, "! pgrep -u alice -f jupyterhub-singleuser", 60)
