"""Role documentation stays true: argument specs match defaults, README matches specs."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# The public interface of chp_service uses the shorter chp_ prefix.
PREFIX = {"chp_service": "chp_"}
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_argument_specs_match_defaults(role):
    spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    optional = {name for name, option in spec.items() if not option.get("required")}
    assert set(defaults) == optional, "defaults/main.yml and meta/argument_specs.yml list different variables"
    for name in optional:
        if "default" in spec[name]:
            assert spec[name]["default"] == defaults[name], f"{role.name}: default of {name} differs"
    for name, option in spec.items():
        assert option.get("description"), f"{role.name}: {name} has no description"
        assert name.startswith(PREFIX.get(role.name, role.name + "_")), f"{role.name}: {name} lacks the role prefix"


def test_readme_lists_every_role_variable():
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "role_docs.py"), "--check"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
