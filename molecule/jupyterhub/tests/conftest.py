"""Fixtures shared by the scenario's test files (test_browser.py, test_doctor.py, test_jupyterhub.py)."""

import pytest
from e2e.verify import CHP_TOKEN_FILE


@pytest.fixture(scope="module")
def token(host):
    """The proxy's API token, read as root in the container (only ever compared, never printed)."""
    return host.check_output(f"cat {CHP_TOKEN_FILE}").strip().partition("=")[2]
