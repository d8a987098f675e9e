"""The internal roles (service, acme) stop a play that runs them directly, before any change."""

from __future__ import annotations

import pytest
from test_platform_guard import converge, facts, tasks_run

# Enough input for each role's argument specs.
INPUT = {
    "service": {"service_name": "x", "service_user": "nobody", "service_command": ["/bin/true"]},
    "acme": {},
}


@pytest.mark.parametrize("role", sorted(INPUT))
def test_internal_role_refuses_to_run_alone(tmp_path, role):
    run, out = converge(tmp_path, role, facts("Debian", "12.9"), extra=INPUT[role])
    assert run.returncode != 0, out
    assert f"jupyter_edge.deploy.{role} is internal" in " ".join(out.split()), out
    assert tasks_run(out)[-1] == {"service": "Refuse to run except from another role of the collection"}.get(
        role, "Refuse to run except from a proxy role"
    ), out
