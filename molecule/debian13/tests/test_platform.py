"""Each container is Debian 13 and runs what Debian 13 ships: the versions measured here are
the README's platform table (printed by `make test` from .build/platforms.txt)."""

import os
import re
from pathlib import Path

import yaml
from e2e.verify import container

ROOT = Path(__file__).resolve().parents[3]


def record_versions(name: str, found: dict) -> None:
    """One line per container in .build/platforms.txt; `make test` prints them at the end."""
    path = ROOT / ".build" / "platforms.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    scenario = os.environ.get("MOLECULE_SCENARIO_NAME", "adhoc")
    with path.open("a") as f:
        f.write(f"{scenario + ' ' + name:<28} {', '.join(f'{k} {v}' for k, v in found.items())}\n")


def version(host, command: str, pattern: str) -> str:
    out = host.run(command)
    match = re.search(pattern, out.stdout + out.stderr)
    assert match, (command, out.stdout, out.stderr)
    return match.group(1)


def test_debian_13_with_systemd_257_as_pid_1(host):
    assert host.system_info.distribution == "debian", host.system_info.distribution
    release = host.file("/etc/debian_version").content_string
    assert release.startswith("13."), release
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"
    assert int(version(host, "systemctl --version", r"^systemd (\d+)")) >= 257


def test_services_run_with_the_distributions_python_node_and_servers(host):
    """Jupyter's environments are made from Debian 13's python3 (3.13), CHP runs on its Node.js 20."""
    system = version(host, "python3 --version", r"Python (3\.\d+)\.")
    assert system == "3.13"
    found = {"python": version(host, "python3 --version", r"Python (\S+)")}
    name = container(host)
    if name in ("trixie-nginx", "trixie-apache"):
        assert version(host, "/opt/jupyter/venv/bin/python --version", r"Python (3\.\d+)\.") == system
        found["jupyter_server"] = version(
            host, "/opt/jupyter/venv/bin/python -m pip show jupyter_server", r"Version: (\S+)"
        )
    if name == "trixie-hub":
        assert version(host, "/opt/jupyterhub/venv/bin/python --version", r"Python (3\.\d+)\.") == system
        found["jupyterhub"] = version(host, "/opt/jupyterhub/venv/bin/jupyterhub --version", r"(\d+\.\d+\.\d+)")
        node = version(host, "/usr/bin/node --version", r"v(\S+)")
        assert node.startswith("20."), node
        found["node"] = node
        main = "/opt/configurable-http-proxy/lib/node_modules/configurable-http-proxy/bin/configurable-http-proxy"
        found["chp"] = version(host, f"/usr/bin/node {main} --version", r"(\d+\.\d+\.\d+)")
        pinned = yaml.safe_load((ROOT / "roles/chp_service/vars/Debian-13.yml").read_text())["__chp_service_release"]
        assert found["chp"] == pinned, found
    if host.package("nginx").is_installed:
        found["nginx"] = version(host, "nginx -v", r"nginx/(\S+)")
        assert found["nginx"].startswith("1.26."), found
    if host.package("apache2").is_installed:
        found["apache"] = version(host, "apache2 -v", r"Apache/(\S+)")
        assert found["apache"].startswith("2.4."), found
    found["openssl"] = version(host, "openssl version", r"OpenSSL (\S+)")
    record_versions(name, found)
