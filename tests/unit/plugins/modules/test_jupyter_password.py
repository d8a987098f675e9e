"""Unit tests of the jupyter_edge.deploy.jupyter_password module.

The module runs in-process with its arguments given through ansible-core's
``patch_module_args`` and with exit_json/fail_json turned into exceptions, as
community.general's module tests do. One test runs it through ansible-playbook.
"""
# The passwords and hashes here are test data.
# ruff: noqa: S105, S106

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.jupyter_edge.deploy.plugins.modules import jupyter_password
from jupyter_server.auth import passwd as jupyter_passwd
from jupyter_server.auth import passwd_check
from module_run import run_main

KNOWN_SHA1 = "sha1:0e112c3ddfce:a68df677475c2b47b6e86d0467eec97ac5f4b85a"  # "mypassword"
SERVER_KEY = ("PasswordIdentityProvider", "hashed_password")
NOTEBOOK_KEY = ("NotebookApp", "password")


def run(**args):
    """Run the module with ``args`` and return its result (``failed`` is set when it failed)."""
    return run_main(jupyter_password, args)


def read(path):
    return json.loads(Path(path).read_text())


def stored(path, key=SERVER_KEY):
    section, name = key
    return read(path)[section][name]


def write(path, config):
    Path(path).write_text(json.dumps(config))
    os.chmod(path, 0o600)


@pytest.fixture
def cfg(tmp_path):
    return str(tmp_path / "jupyter_server_config.json")


@pytest.mark.parametrize(
    ("algorithm", "prefix"),
    [
        ("argon2", "argon2:$argon2id$v=19$m=10240,t=10,p=8$"),
        ("sha1", "sha1:"),
        ("sha256", "sha256:"),
        ("sha512", "sha512:"),
    ],
)
def test_creates_file_with_hash_jupyter_server_accepts(cfg, algorithm, prefix):
    result = run(path=cfg, password="s3cret", algorithm=algorithm)

    assert result["changed"] is True
    assert not result.get("failed")
    assert result["algorithm"] == algorithm
    assert result["key"] == "PasswordIdentityProvider.hashed_password"
    hashed = stored(cfg)
    assert hashed.startswith(prefix)
    assert passwd_check(hashed, "s3cret")
    assert not passwd_check(hashed, "wrong")


def test_new_file_is_0600_sorted_json_with_newline_and_no_temp_files(cfg):
    run(path=cfg, password="s3cret", algorithm="sha256")

    assert stat.S_IMODE(os.stat(cfg).st_mode) == 0o600
    text = Path(cfg).read_text()
    assert text == json.dumps(read(cfg), indent=2, sort_keys=True) + "\n"
    assert os.listdir(os.path.dirname(cfg)) == [os.path.basename(cfg)]


def test_second_run_is_unchanged(cfg):
    run(path=cfg, password="s3cret")
    before = Path(cfg).read_text()

    result = run(path=cfg, password="s3cret")

    assert result["changed"] is False
    assert Path(cfg).read_text() == before


@pytest.mark.parametrize("algorithm", ["argon2", "sha1", "sha256", "sha512"])
def test_hash_from_jupyter_server_is_kept(cfg, algorithm):
    hashed = jupyter_passwd("s3cret", algorithm)
    write(cfg, {"PasswordIdentityProvider": {"hashed_password": hashed}})
    before = Path(cfg).read_text()

    result = run(path=cfg, password="s3cret", algorithm=algorithm)

    assert result["changed"] is False
    assert Path(cfg).read_text() == before  # not even reformatted


def test_known_sha1_vector_is_kept(cfg):
    write(cfg, {"PasswordIdentityProvider": {"hashed_password": KNOWN_SHA1}})

    result = run(path=cfg, password="mypassword", algorithm="sha1")

    assert result["changed"] is False
    assert stored(cfg) == KNOWN_SHA1


def test_password_change_rehashes(cfg):
    write(cfg, {"PasswordIdentityProvider": {"hashed_password": KNOWN_SHA1}})

    result = run(path=cfg, password="newpassword", algorithm="sha1")

    assert result["changed"] is True
    assert passwd_check(stored(cfg), "newpassword")
    assert not passwd_check(stored(cfg), "mypassword")


def test_algorithm_change_rehashes_even_if_password_matches(cfg):
    write(cfg, {"PasswordIdentityProvider": {"hashed_password": KNOWN_SHA1}})

    result = run(path=cfg, password="mypassword")

    assert result["changed"] is True
    assert stored(cfg).startswith("argon2:")
    assert passwd_check(stored(cfg), "mypassword")


def test_other_keys_are_kept(cfg):
    config = {
        "ServerApp": {"ip": "127.0.0.1", "port": 8888, "base_url": "/lab/"},
        "IdentityProvider": {"token": ""},
        "PasswordIdentityProvider": {"password_required": True, "hashed_password": KNOWN_SHA1},
    }
    write(cfg, config)

    run(path=cfg, password="other", algorithm="sha512")

    new = read(cfg)
    assert passwd_check(new["PasswordIdentityProvider"].pop("hashed_password"), "other")
    config["PasswordIdentityProvider"].pop("hashed_password")
    assert new == config


def test_notebook_flavor(tmp_path):
    path = str(tmp_path / "jupyter_notebook_config.json")
    write(path, {"NotebookApp": {"ip": "0.0.0.0"}})  # noqa: S104 - config data, not a bind

    result = run(path=path, password="s3cret", flavor="notebook", algorithm="sha1")

    assert result["changed"] is True
    assert result["key"] == "NotebookApp.password"
    assert read(path)["NotebookApp"]["ip"] == "0.0.0.0"  # noqa: S104
    assert passwd_check(stored(path, NOTEBOOK_KEY), "s3cret")
    assert "PasswordIdentityProvider" not in read(path)
    assert run(path=path, password="s3cret", flavor="notebook", algorithm="sha1")["changed"] is False


def test_check_mode_on_missing_file(cfg):
    result = run(path=cfg, password="s3cret", _ansible_check_mode=True)

    assert result["changed"] is True
    assert not os.path.exists(cfg)
    assert os.listdir(os.path.dirname(cfg)) == []


def test_check_mode_on_existing_file(cfg):
    write(cfg, {"PasswordIdentityProvider": {"hashed_password": KNOWN_SHA1}})
    os.chmod(cfg, 0o644)
    before = Path(cfg).read_text()

    assert run(path=cfg, password="other", algorithm="sha1", _ansible_check_mode=True)["changed"] is True
    assert run(path=cfg, password="mypassword", algorithm="sha1", _ansible_check_mode=True)["changed"] is True  # mode
    assert (
        run(path=cfg, password="mypassword", algorithm="sha1", mode="0644", _ansible_check_mode=True)["changed"]
        is False
    )
    assert Path(cfg).read_text() == before
    assert stat.S_IMODE(os.stat(cfg).st_mode) == 0o644


def test_diff_shows_state_but_never_password_or_hash(cfg):
    result = run(path=cfg, password="s3cret", algorithm="sha1", _ansible_diff=True, return_hash=True)
    first_hash = stored(cfg)
    assert result["diff"]["before"] == {"PasswordIdentityProvider.hashed_password": "<unset>"}
    assert result["diff"]["after"] == {"PasswordIdentityProvider.hashed_password": "<set (sha1)>"}

    result = run(path=cfg, password="n3w", algorithm="sha1", _ansible_diff=True)
    assert result["diff"]["before"]["PasswordIdentityProvider.hashed_password"] == "<set (sha1)>"
    assert result["diff"]["after"]["PasswordIdentityProvider.hashed_password"] == "<set (sha1), changed>"

    result = run(path=cfg, password="n3w", algorithm="sha1", _ansible_diff=True, mode="0640")
    assert result["changed"] is True
    assert result["diff"]["before"] == {"PasswordIdentityProvider.hashed_password": "<set (sha1)>", "mode": "0600"}
    assert result["diff"]["after"] == {"PasswordIdentityProvider.hashed_password": "<set (sha1)>", "mode": "0640"}

    diff = json.dumps(result["diff"])
    for secret in ("s3cret", "n3w", first_hash, stored(cfg), stored(cfg).split(":")[-1]):
        assert secret not in diff


def test_mode_owner_group_are_managed(cfg):
    run(path=cfg, password="s3cret", algorithm="sha1", mode="0640")
    assert stat.S_IMODE(os.stat(cfg).st_mode) == 0o640

    result = run(path=cfg, password="s3cret", algorithm="sha1")  # back to the default
    assert result["changed"] is True
    assert stat.S_IMODE(os.stat(cfg).st_mode) == 0o600

    owner, group = os.getuid(), os.getgid()
    result = run(path=cfg, password="s3cret", algorithm="sha1", owner=str(owner), group=str(group))
    assert result["changed"] is False
    assert (os.stat(cfg).st_uid, os.stat(cfg).st_gid) == (owner, group)


def test_invalid_json_fails_without_overwriting(cfg):
    Path(cfg).write_text('{"ServerApp": {"ip": ')

    result = run(path=cfg, password="s3cret")

    assert result["failed"] is True
    assert "not valid JSON" in result["msg"]
    assert cfg in result["msg"]
    assert Path(cfg).read_text() == '{"ServerApp": {"ip": '


@pytest.mark.parametrize("content", ["[]", '{"PasswordIdentityProvider": "x"}'])
def test_unexpected_structure_fails_without_overwriting(cfg, content):
    Path(cfg).write_text(content)

    result = run(path=cfg, password="s3cret")

    assert result["failed"] is True
    assert "not a JSON object" in result["msg"]
    assert Path(cfg).read_text() == content


def test_empty_file_counts_as_empty_config(cfg):
    Path(cfg).write_text("")

    assert run(path=cfg, password="s3cret", algorithm="sha1")["changed"] is True
    assert passwd_check(stored(cfg), "s3cret")


def test_empty_password_fails_naming_the_option(cfg):
    result = run(path=cfg, password="")

    assert result["failed"] is True
    assert "password" in result["msg"]
    assert not os.path.exists(cfg)


def test_missing_parent_directory_fails_clearly(tmp_path):
    path = str(tmp_path / "nowhere" / "jupyter_server_config.json")

    result = run(path=path, password="s3cret")

    assert result["failed"] is True
    assert "Parent directory" in result["msg"]
    assert str(tmp_path / "nowhere") in result["msg"]


def test_return_hash(cfg):
    result = run(path=cfg, password="s3cret")
    assert "hashed_password" not in result

    result = run(path=cfg, password="s3cret", return_hash=True)
    assert result["changed"] is False
    assert result["hashed_password"] == stored(cfg)

    result = run(path=cfg, password="n3w", return_hash=True)
    assert result["changed"] is True
    assert result["hashed_password"] == stored(cfg)
    assert passwd_check(result["hashed_password"], "n3w")


def test_argon2_without_argon2_cffi_points_at_the_interpreter(cfg, monkeypatch):
    monkeypatch.setattr(jupyter_password, "HAS_ARGON2", False)

    result = run(path=cfg, password="s3cret")

    assert result["failed"] is True
    assert "argon2-cffi" in result["msg"]
    assert "ansible_python_interpreter" in result["msg"]
    assert not os.path.exists(cfg)
    assert run(path=cfg, password="s3cret", algorithm="sha512")["changed"] is True  # legacy hashes still work


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Set the password
      jupyter_edge.deploy.jupyter_password:
        path: "{{ cfg }}"
        password: "{{ pw }}"
      register: result
    - name: Show the result
      ansible.builtin.debug:
        var: result
"""


@pytest.mark.skipif(shutil.which("ansible-playbook", path=os.path.dirname(sys.executable)) is None, reason="no ansible")
def test_through_ansible_playbook(tmp_path):
    """The module works as Ansible runs it, and the password and hash stay out of the output."""
    root = Path(__file__).resolve().parents[4]
    cfg = tmp_path / "jupyter_server_config.json"
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(root / ".build"),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
    )
    command = [
        os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
        "-i",
        "localhost,",
        "-c",
        "local",
        "--diff",
        "-e",
        json.dumps({"cfg": str(cfg), "pw": "Sup3r-s3cret", "ansible_python_interpreter": sys.executable}),
        str(playbook),
    ]

    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "changed=1" in first.stdout
    assert "<set (argon2)>" in first.stdout
    assert passwd_check(stored(cfg), "Sup3r-s3cret")

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "changed=0" in second.stdout

    for output in (first.stdout + first.stderr, second.stdout + second.stderr):
        assert "Sup3r-s3cret" not in output
        assert stored(cfg) not in output
        assert "$argon2id$" not in output
