"""The service role's upstart job and launcher, rendered by Ansible itself.

Upstart is not available on these machines (nor on current distributions), so
the job cannot run here: these tests check what it would run.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "roles" / "service" / "templates"

VARS = {
    "service_name": "jupyter",
    "service_description": "Jupyter server",
    "service_user": "jupyter",
    "service_group": "jupyter",
    "service_command": ["/opt/jupyter/venv/bin/jupyter", "lab"],
    "service_working_directory": "/var/lib/jupyter/notebooks",
    "service_environment": {"JUPYTER_CONFIG_DIR": "/etc/jupyter", "ODD": "it's $HOME"},
    "service_environment_file": "/etc/jupyter-edge/jupyter.env",
    "service_restart_sec": 2,
    "service_read_write_paths": ["/var/lib/jupyter"],
    "service_protect_home": True,
    "__service_launcher": "/usr/local/lib/jupyter-edge/jupyter-run",
    "ansible_python_interpreter": sys.executable,
}


def render(out: Path, variables: dict, templates: list[str]) -> dict[str, str]:
    """The service role's templates rendered by Ansible with these variables, by file name."""
    playbook = out / "render.yml"
    playbook.write_text(
        textwrap.dedent(
            f"""
            - hosts: localhost
              connection: local
              gather_facts: false
              tasks:
                - ansible.builtin.template:
                    src: "{TEMPLATES}/{{{{ item }}}}.j2"
                    dest: "{out}/{{{{ item }}}}"
                    mode: "0644"
                  loop: {json.dumps(templates)}
            """
        )
    )
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible-playbook")),
            "-i",
            "localhost,",
            str(playbook),
            "-e",
            json.dumps(variables),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return {p.name: p.read_text() for p in out.iterdir() if p.suffix != ".yml"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    return render(tmp_path_factory.mktemp("rendered"), VARS, ["upstart.conf", "launcher.sh", "service.unit", "ctl.sh"])


def stanzas(text):
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_upstart_job_respawns_within_a_limit(rendered):
    job = stanzas(rendered["upstart.conf"])
    assert "start on runlevel [2345]" in job
    assert "stop on runlevel [!2345]" in job
    assert "respawn" in job
    assert "respawn limit 10 60" in job
    assert "exec /usr/local/lib/jupyter-edge/jupyter-run" in job


def test_launcher_reads_secrets_as_root_then_runs_as_the_user(rendered):
    launcher = rendered["launcher.sh"]
    assert ". /etc/jupyter-edge/jupyter.env" in launcher
    last = launcher.strip().splitlines()
    assert "exec setpriv --reuid=jupyter --regid=jupyter --init-groups" in launcher
    assert last[-1].strip() == "--no-new-privs -- /opt/jupyter/venv/bin/jupyter lab"
    assert subprocess.run(["sh", "-n"], input=launcher, text=True).returncode == 0


def test_launcher_quotes_environment_values(rendered, tmp_path):
    # Source the environment part of the launcher and read the value back.
    env_part = [
        line
        for line in rendered["launcher.sh"].splitlines()
        if line.startswith(("ODD=", "JUPYTER_CONFIG_DIR=", "export ODD", "export JUPYTER"))
    ]
    script = "\n".join([*env_part, 'printf %s "$ODD"'])
    value = subprocess.run(["sh", "-c", script], capture_output=True, text=True).stdout
    assert value == "it's $HOME"


def test_cron_control_script_is_valid_shell(rendered):
    ctl = rendered["ctl.sh"]
    assert subprocess.run(["sh", "-n"], input=ctl, text=True).returncode == 0
    assert "start-stop-daemon --start" in ctl and "--pidfile" in ctl


def test_systemd_unit_is_hardened_and_restarts(rendered):
    unit = stanzas(rendered["service.unit"])
    for line in (
        "User=jupyter",
        "Restart=always",
        "NoNewPrivileges=true",
        "PrivateTmp=true",
        "ProtectSystem=strict",
        "ProtectHome=true",
        "ReadWritePaths=/var/lib/jupyter",
        "EnvironmentFile=/etc/jupyter-edge/jupyter.env",
        "WantedBy=multi-user.target",
    ):
        assert line in unit


def test_a_root_unit_runs_as_root_without_user(tmp_path):
    """The hub's unit: root by systemd's default. With User=root and the sandboxing, systemd 257
    (Debian 13) starts the process without CAP_SETUID, and the hub cannot start users' servers."""
    unit = stanzas(
        render(tmp_path, {**VARS, "service_user": "root", "service_group": "root"}, ["service.unit"])["service.unit"]
    )
    assert not [line for line in unit if line.startswith(("User=", "Group="))], unit
    assert "NoNewPrivileges=true" in unit
