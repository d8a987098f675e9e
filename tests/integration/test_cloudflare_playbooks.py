"""ansible-playbook runs of the Cloudflare modules and the cloudflare_dns role against the fake API.

Everything talks to 127.0.0.1 only: the fake is started by the fixture and its URL is given
to the modules as api_url.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fake_cloudflare import TEST_TOKEN, FakeCloudflare

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture
def fake():
    with FakeCloudflare() as server:
        server.add_zone("example.com")
        yield server


def ansible_playbook(tmp_path, fake, playbook, *args, inventory="localhost ansible_connection=local\n"):
    """Run a playbook; return (returncode, output, recap counters of the last host)."""
    (tmp_path / "playbook.yml").write_text(textwrap.dedent(playbook))
    (tmp_path / "hosts").write_text(inventory)
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
    )
    env.pop("CLOUDFLARE_TOKEN", None)
    cmd = [
        str(BIN / "ansible-playbook"),
        "-i",
        "hosts",
        "-e",
        f"fake_url={fake.url} fake_token={TEST_TOKEN} ansible_python_interpreter={sys.executable}",
        *args,
        "playbook.yml",
    ]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    output = proc.stdout + proc.stderr
    recap = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", output.rsplit("PLAY RECAP", 1)[-1]))
    return proc.returncode, output, recap


MODULES_PLAYBOOK = """
- name: Cloudflare modules end to end
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/jupyter_edge.deploy.cloudflare:
      api_url: "{{ fake_url }}"
      api_token: "{{ fake_token }}"
      zone: example.com
  tasks:
    - name: Create a proxied record (check mode)
      jupyter_edge.deploy.cloudflare_dns:
        record: jupyter
        type: A
        value: 192.0.2.10
        proxied: true
        ttl: 300
      check_mode: true
      diff: true
      register: check

    - name: Create a proxied record
      jupyter_edge.deploy.cloudflare_dns:
        record: jupyter
        type: A
        value: 192.0.2.10
        proxied: true
        ttl: 300
      register: create

    - name: Same record, written another way
      jupyter_edge.deploy.cloudflare_dns:
        record: JUPYTER.example.com.
        type: A
        value: 192.0.2.10
        proxied: true
        ttl: 300
      register: again

    - name: Move it with solo
      jupyter_edge.deploy.cloudflare_dns:
        record: jupyter
        type: A
        value: 192.0.2.20
        proxied: true
        solo: true
      diff: true
      register: moved

    - name: Zone settings for Jupyter
      jupyter_edge.deploy.cloudflare_zone_settings:
        settings:
          ssl: strict
          always_use_https: true
          automatic_https_rewrites: "on"
          websockets: "on"
          min_tls_version: 1.2
      register: settings

    - name: Zone settings again
      jupyter_edge.deploy.cloudflare_zone_settings:
        settings: {ssl: strict, always_use_https: "on", min_tls_version: "1.2"}
      register: settings_again

    - name: A record that cannot be proxied
      jupyter_edge.deploy.cloudflare_dns:
        record: jupyter
        type: TXT
        value: hello
        proxied: true
      register: bad
      ignore_errors: true

    - name: Delete the record
      jupyter_edge.deploy.cloudflare_dns:
        record: jupyter
        type: A
        state: absent
      register: delete

    - name: Check the results
      ansible.builtin.assert:
        that:
          - check is changed and check.record.id is none and check.diff.after.records[0].ttl == 1
          - create is changed and create.record.ttl == 1 and create.api_requests == 4  # 3 + 1 retry after 429
          - again is not changed and again.api_requests == 2
          - moved is changed and moved.record.content == '192.0.2.20' and moved.record.id == create.record.id
          - moved.diff.before.records[0].content == '192.0.2.10'
          - settings is changed
          - settings.changed_settings == ['always_use_https', 'automatic_https_rewrites', 'min_tls_version', 'ssl']
          - settings_again is not changed and settings_again.api_requests == 2
          - bad is failed and 'proxied=true is possible only for A, AAAA and CNAME' in bad.msg
          - delete is changed and delete.deleted == [create.record.id]
"""


def test_modules_end_to_end(tmp_path, fake):
    fake.fail_next(status=429, retry_after=0, path="dns_records", method="POST")
    rc, output, recap = ansible_playbook(tmp_path, fake, MODULES_PLAYBOOK)
    assert rc == 0, output
    assert recap["failed"] == 0 and recap["ignored"] == 1
    assert fake.list_records("example.com") == []
    assert fake.zone_settings("example.com")["ssl"] == "strict"
    assert [r["status"] for r in fake.api_requests(method="POST")] == [429, 200]  # retried after 429
    assert fake.default_token not in output


ROLE_PLAYBOOK = """
- name: Converge the cloudflare_dns role
  hosts: jupyter
  gather_facts: false
  vars:
    jupyter_public_hostname: jupyter.example.com
    cloudflare_dns_zone: example.com
    cloudflare_dns_api_url: "{{ fake_url }}"
    cloudflare_dns_api_token: "{{ fake_token }}"
  roles:
    - role: jupyter_edge.deploy.cloudflare_dns
"""
ROLE_INVENTORY = "jupyter ansible_host=192.0.2.10 ansible_connection=local\n"


def test_role_converges_idempotently(tmp_path, fake):
    stale = fake.add_record("example.com", type="A", name="jupyter", content="198.51.100.1")
    extra = fake.add_record("example.com", type="A", name="jupyter", content="198.51.100.2")

    rc, output, recap = ansible_playbook(tmp_path, fake, ROLE_PLAYBOOK, "--check", "--diff", inventory=ROLE_INVENTORY)
    assert rc == 0, output
    assert recap["changed"] == 2 and fake.writes() == []

    rc, output, recap = ansible_playbook(tmp_path, fake, ROLE_PLAYBOOK, inventory=ROLE_INVENTORY)
    assert rc == 0, output
    assert recap["changed"] == 2
    (record,) = fake.list_records("example.com", name="jupyter.example.com")
    assert (record["id"], record["content"], record["proxied"], record["ttl"]) == (stale["id"], "192.0.2.10", True, 1)
    assert extra["id"] not in [r["id"] for r in fake.list_records("example.com")]
    settings = fake.zone_settings("example.com")
    assert (settings["ssl"], settings["always_use_https"], settings["automatic_https_rewrites"]) == (
        "strict",
        "on",
        "on",
    )
    assert (settings["websockets"], settings["min_tls_version"]) == ("on", "1.2")

    fake.clear_requests()
    rc, output, recap = ansible_playbook(tmp_path, fake, ROLE_PLAYBOOK, inventory=ROLE_INVENTORY)
    assert rc == 0, output
    assert recap["changed"] == 0
    assert fake.writes() == [] and len(fake.api_requests()) == 4  # 2 for the record, 2 for the settings


def test_role_with_a_list_of_records(tmp_path, fake):
    playbook = ROLE_PLAYBOOK.replace(
        "    cloudflare_dns_api_token:",
        """    cloudflare_dns_manage_zone_settings: false
    cloudflare_dns_records:
      - {record: jupyter, value: "2001:db8::10"}
      - {record: hub, value: jupyter.example.com, proxied: false, ttl: 300}
      - {record: _acme-challenge.jupyter, type: TXT, value: token, solo: false}
    cloudflare_dns_api_token:""",
    )
    rc, output, recap = ansible_playbook(tmp_path, fake, playbook, inventory=ROLE_INVENTORY)
    assert rc == 0, output
    got = {(r["name"], r["type"], r["content"], r["ttl"]) for r in fake.list_records("example.com")}
    assert got == {
        ("jupyter.example.com", "AAAA", "2001:db8::10", 1),
        ("hub.example.com", "CNAME", "jupyter.example.com", 300),
        ("_acme-challenge.jupyter.example.com", "TXT", "token", 1),
    }
    assert fake.api_requests(path="settings") == []


def test_role_preflight_fails_before_any_request(tmp_path, fake):
    playbook = ROLE_PLAYBOOK.replace("cloudflare_dns_zone: example.com", 'cloudflare_dns_zone: ""')
    rc, output, _ = ansible_playbook(tmp_path, fake, playbook, inventory=ROLE_INVENTORY)
    assert rc != 0
    assert "cloudflare_dns_zone is empty" in output
    assert fake.api_requests() == []
