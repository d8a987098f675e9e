"""Platform claims stay true: what the roles' meta and galaxy.yml claim is what CI converges, and
every role with per-distribution values has a vars file for each claimed distribution (and none
for a distribution that is not claimed)."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Debian's codenames (meta/main.yml uses them) and their major versions (the vars files' names).
DEBIAN = {"bookworm": "12", "trixie": "13"}
# The roles that run on the managed hosts; cloudflare_dns runs on the controller.
HOST_ROLES = ["apache_proxy", "chp_service", "jupyter", "jupyterhub", "nginx_proxy", "service"]
DEFAULT_IMAGE = "jupyter-edge/debian12-systemd:latest"  # molecule/_shared/create.yml
PLATFORM_TASK = "tasks_from: platform.yml"


def claimed(role: str) -> set[str]:
    meta = yaml.safe_load((ROOT / "roles" / role / "meta" / "main.yml").read_text())["galaxy_info"]
    return {
        f"{p['name']}-{DEBIAN[v] if p['name'] == 'Debian' else v}" for p in meta["platforms"] for v in p["versions"]
    }


def vars_files(role: str) -> set[str]:
    return {p.stem for p in (ROOT / "roles" / role / "vars").glob("[A-Z]*-*.yml")}


PER_DISTRIBUTION = [role for role in HOST_ROLES if vars_files(role)]


def converged() -> dict[str, set[str]]:
    """Distribution -> the molecule scenarios in `make test` that converge on it."""
    scenarios = re.search(r"^SCENARIOS \?= ((?:.*\\\n)*.*)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    found: dict[str, set[str]] = {}
    for name in scenarios.replace("\\\n", " ").split():
        for platform in yaml.safe_load((ROOT / "molecule" / name / "molecule.yml").read_text())["platforms"]:
            major = re.search(r"debian(\d+)", platform.get("image", DEFAULT_IMAGE)).group(1)
            found.setdefault(f"Debian-{major}", set()).add(name)
    return found


def test_the_host_roles_claim_the_same_platforms():
    platforms = {role: claimed(role) for role in HOST_ROLES}
    assert len(set(map(frozenset, platforms.values()))) == 1, platforms


@pytest.mark.parametrize("role", PER_DISTRIBUTION)
def test_a_vars_file_for_every_claimed_platform_and_no_other(role):
    assert vars_files(role) == claimed(role), f"{role}: vars/ files {vars_files(role)}, meta claims {claimed(role)}"


def test_the_roles_with_host_packages_have_per_distribution_values():
    assert set(PER_DISTRIBUTION) >= {"apache_proxy", "chp_service", "jupyter", "jupyterhub", "nginx_proxy"}


@pytest.mark.parametrize("role", PER_DISTRIBUTION)
def test_the_role_loads_its_values_before_anything_else(role):
    """The first task of tasks/main.yml includes the service role's platform.yml (the guard)."""
    tasks = yaml.safe_load((ROOT / "roles" / role / "tasks" / "main.yml").read_text())
    first = tasks[0]["ansible.builtin.include_role"]
    assert (first["name"], first["tasks_from"]) == ("jupyter_edge.deploy.service", "platform.yml"), tasks[0]
    assert tasks[0]["tags"] == ["always"] and first["apply"]["tags"] == ["always"], tasks[0]


def test_ci_converges_every_claimed_platform_and_only_those():
    ci = converged()
    assert set(ci) == claimed("jupyter"), ci
    # On Debian 13: the default stack, Apache, and the hub behind its proxy (molecule/debian13).
    groups = {
        tuple(p.get("groups", []))
        for name in ci["Debian-13"]
        for p in yaml.safe_load((ROOT / "molecule" / name / "molecule.yml").read_text())["platforms"]
    }
    assert {("jupyter", "proxy"), ("chp", "jupyterhub", "proxy")} <= groups, groups


def test_make_image_builds_every_claimed_release():
    recipe = re.search(r"^image:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    built = set(re.findall(r"build-base-image\.sh (\w+)", recipe))
    assert {f"Debian-{DEBIAN[c]}" for c in built} == claimed("jupyter"), built


def test_galaxy_yml_names_the_same_platforms():
    description = " ".join(yaml.safe_load((ROOT / "galaxy.yml").read_text())["description"].split())
    named = {f"Debian-{n}" for n in re.findall(r"Debian (\d+)", description)}
    assert named == claimed("jupyter"), description
