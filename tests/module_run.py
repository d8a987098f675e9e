"""Run an Ansible module's main() in-process for unit tests: exit_json/fail_json become the returned result."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    """exit_json or fail_json was called; args[0] is the result."""


def run_main(module, args: dict, check_mode: bool = False) -> dict:
    """Run ``module.main()`` with ``args``; its result (``failed`` set when it failed)."""

    def exit_json(self, **result):
        raise ModuleExit(result)

    def fail_json(self, msg, **result):
        raise ModuleExit(dict(result, failed=True, msg=msg))

    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with (
        patch_module_args(args),
        mock.patch.object(basic.AnsibleModule, "exit_json", exit_json),
        mock.patch.object(basic.AnsibleModule, "fail_json", fail_json),
        pytest.raises(ModuleExit) as exc,
    ):
        module.main()
    return exc.value.args[0]
