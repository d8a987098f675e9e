"""Documentation stays true: argument specs match defaults, README matches specs and modules."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# The public interface of chp_service uses the shorter chp_ prefix.
PREFIX = {"chp_service": "chp_"}
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())
MODULES = sorted((ROOT / "plugins" / "modules").glob("[!_]*.py"))


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


def test_readme_matches_role_specs_and_modules():
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "role_docs.py"), "--check"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.stem)
def test_readme_lists_the_options_ansible_doc_knows(module):
    """Doc fragments included: the README's module section names every option ansible-doc shows."""
    fqcn = f"jupyter_edge.deploy.{module.stem}"
    run = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-doc")), "--json", fqcn],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build")},
    )
    assert run.returncode == 0, run.stderr
    options = set(json.loads(run.stdout)[fqcn]["doc"]["options"])
    readme = (ROOT / "README.md").read_text()
    section = readme.split(f"### Module `{module.stem}`\n", 1)[1].split("<details>", 1)[0]
    rows = set(re.findall(r"^\| `([^`]+)` \|", section, re.M))
    shared = re.search(r"^Also the common options of (.*)$", section, re.M)
    common = set(re.findall(r"`(\w+)`", shared.group(1))) if shared else set()
    assert rows | common == options
