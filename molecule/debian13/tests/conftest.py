"""The hub checks are the jupyterhub scenario's own (molecule/jupyterhub/tests), imported from there.

One Chromium for every test file (a second session-scoped browsers fixture, in another module,
would start a second Playwright inside the first one's event loop)."""

import importlib.util
import sys
from pathlib import Path

from e2e.browser import browsers  # noqa: F401

HUB_TESTS = Path(__file__).resolve().parents[2] / "jupyterhub" / "tests"
sys.path.insert(0, str(HUB_TESTS))

_spec = importlib.util.spec_from_file_location("jupyterhub_scenario_fixtures", HUB_TESTS / "conftest.py")
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
token = _fixtures.token
