"""Unit tests of the jupyter_edge.deploy.jupyter_check module against a real jupyter_server on loopback.

The module runs in-process through tests/module_run.py (ansible-core's
``patch_module_args``, exit_json/fail_json turned into a result), as
test_jupyter_password.py's does.
"""

from pathlib import Path

import pytest
from ansible_collections.jupyter_edge.deploy.plugins.modules import jupyter_check
from e2e.local_server import PASSWORD, free_port
from module_run import run_main


def run(check_mode: bool = False, **args):
    """Run the module with ``args``; its result (``failed`` set when it failed)."""
    return run_main(jupyter_check, args, check_mode=check_mode)


def test_kernel_check_returns_the_output_as_data(jupyter_url):
    result = run(url=jupyter_url, check="kernel", password=PASSWORD)
    seen = result["observations"]
    assert not result.get("failed") and result["changed"] is False
    assert seen["check"] == "kernel" and seen["url"] == jupyter_url
    assert seen["login"]["logged_in"] and seen["ws_status"] == 101
    assert seen["stdout"] == "42\n" and seen["reply_status"] == "ok"
    assert seen["delete_status"] == 204  # the kernel it started is gone
    assert PASSWORD not in repr(result)


def test_runs_in_check_mode_and_changes_nothing(jupyter_url):
    result = run(check_mode=True, url=jupyter_url, check="kernel", password=PASSWORD, code="print(6*7)")
    assert result["changed"] is False and result["observations"]["stdout"] == "42\n"


def test_a_refused_login_is_an_observation_not_a_failure(jupyter_url):
    result = run(url=jupyter_url, check="login", password="wrong")  # noqa: S106 - a wrong password on purpose
    assert not result.get("failed")
    assert result["observations"]["logged_in"] is False and result["observations"]["api_status"] == 403


def test_headers_need_no_password(jupyter_url):
    result = run(url=jupyter_url, check="headers", path="api")
    assert result["observations"]["status"] == 200 and "content-type" in result["observations"]["headers"]


def test_a_check_that_cannot_run_fails_with_what_it_saw():
    url = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    result = run(url=url, check="headers", timeout=5)
    assert result["failed"] and "ConnectionRefusedError" in result["observations"]["error"]
    assert result["msg"].startswith(f"The headers check of {url} could not run to its end: ")


def test_a_check_that_needs_a_password_says_so():
    result = run(url="http://127.0.0.1:9/", check="kernel")
    assert result["failed"] and "needs --password" in result["observations"]["error"]


def test_tls_needs_an_https_url():
    result = run(url="http://127.0.0.1:9/", check="tls", versions=["1.2"])
    assert result["failed"] and "needs an https URL" in result["msg"]


@pytest.mark.parametrize(("check", "missing"), [("hub-login", "user"), ("ws-origin", "origin_override")])
def test_argument_spec_requires_what_a_check_needs(check, missing):
    result = run(url="http://127.0.0.1:9/", check=check, password="x")  # noqa: S106
    assert result["failed"] and missing in result["msg"]


def test_the_doctor_calls_the_module_not_a_script():
    doctor = (Path(__file__).resolve().parents[4] / "playbooks" / "doctor.yml").read_text()
    assert doctor.count("jupyter_edge.deploy.jupyter_check:") == 3
    assert "exec(" not in doctor and "jupyter_probe" not in doctor
