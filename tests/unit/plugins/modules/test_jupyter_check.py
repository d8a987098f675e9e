"""Unit tests of the jupyter_edge.deploy.jupyter_check module against a real jupyter_server on loopback.

The module runs in-process with its arguments given through ansible-core's
``patch_module_args`` and with exit_json/fail_json turned into exceptions, as
test_jupyter_password.py does.
"""

from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.jupyter_edge.deploy.plugins.modules import jupyter_check
from e2e.local_server import PASSWORD, free_port, jupyter_server


class ModuleExit(Exception):
    """exit_json or fail_json was called; args[0] is the result."""


def run(check_mode: bool = False, **args):
    """Run the module with ``args``; its result (``failed`` set when it failed)."""

    def exit_json(self, **result):
        raise ModuleExit(result)

    def fail_json(self, msg, **result):
        raise ModuleExit(dict(result, failed=True, msg=msg))

    if check_mode:
        args["_ansible_check_mode"] = True
    with (
        patch_module_args(args),
        mock.patch.object(basic.AnsibleModule, "exit_json", exit_json),
        mock.patch.object(basic.AnsibleModule, "fail_json", fail_json),
        pytest.raises(ModuleExit) as exc,
    ):
        jupyter_check.main()
    return exc.value.args[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("jupyter_server")
    pytest.importorskip("ipykernel", reason="kernel checks need ipykernel in the test environment")
    with jupyter_server(tmp_path_factory.mktemp("jupyter")) as url:
        yield url


def test_kernel_check_returns_the_output_as_data(server):
    result = run(url=server, check="kernel", password=PASSWORD)
    seen = result["observations"]
    assert not result.get("failed") and result["changed"] is False
    assert seen["check"] == "kernel" and seen["url"] == server
    assert seen["login"]["logged_in"] and seen["ws_status"] == 101
    assert seen["stdout"] == "42\n" and seen["reply_status"] == "ok"
    assert seen["delete_status"] == 204  # the kernel it started is gone
    assert PASSWORD not in repr(result)


def test_runs_in_check_mode_and_changes_nothing(server):
    result = run(check_mode=True, url=server, check="kernel", password=PASSWORD, code="print(6*7)")
    assert result["changed"] is False and result["observations"]["stdout"] == "42\n"


def test_a_refused_login_is_an_observation_not_a_failure(server):
    result = run(url=server, check="login", password="wrong")  # noqa: S106 - a wrong password on purpose
    assert not result.get("failed")
    assert result["observations"]["logged_in"] is False and result["observations"]["api_status"] == 403


def test_headers_need_no_password(server):
    result = run(url=server, check="headers", path="api")
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
