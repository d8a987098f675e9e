"""Fixtures shared by the scenario's test files (in file order: test_doctor.py, test_hub_slurm.py)."""

import pytest


@pytest.fixture(scope="module")
def settings(host):
    return host.ansible.get_variables()
