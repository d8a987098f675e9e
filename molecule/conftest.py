"""Fixtures every scenario's tests share: pytest loads this file for molecule/*/tests.

A scenario that reads its variables elsewhere (the example_* scenarios, from the
example inventories) defines its own ``settings`` in its test module, which wins.
"""

import pytest


@pytest.fixture(scope="module")
def settings(host):
    """The host's inventory variables, as testinfra's ansible backend reads them."""
    return host.ansible.get_variables()
