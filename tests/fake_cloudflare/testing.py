"""Helpers for tests that run the Cloudflare modules in-process against the fake API."""

from __future__ import annotations

import contextlib
import io
import json
from unittest import mock

from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args


def run_module(module, args, check_mode=False, diff=False):
    """Run module.main() with `args`; return its JSON result (with "failed" set on failure).

    Retry waits are skipped (time.sleep is replaced), so retry tests take no time; the
    delays asked for are returned under "_sleeps", and warnings as plain messages.
    """
    ansible_warnings._global_warnings.clear()  # module warnings are process-global
    ansible_warnings._global_deprecations.clear()
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    out = io.StringIO()
    sleeps = []
    with (
        patch_module_args(args),
        contextlib.redirect_stdout(out),
        mock.patch("time.sleep", sleeps.append),
        contextlib.suppress(SystemExit),
    ):
        module.main()
    result = json.loads(out.getvalue())
    result["_sleeps"] = sleeps
    result["warnings"] = [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]
    return result
