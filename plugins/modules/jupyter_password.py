#!/usr/bin/python
# Copyright (c) 2025, jupyter_edge.deploy contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: jupyter_password
short_description: Set the login password of a Jupyter server in its JSON config file
version_added: 0.1.0
description:
  - Stores the hash of a password in a Jupyter JSON config file, as C(jupyter server password) does.
  - The hash has the format of C(jupyter_server.auth.passwd()), so jupyter_server and classic notebook accept it.
  - The stored hash is checked before a new one is made. When it matches O(password) and uses O(algorithm),
    nothing changes, so repeated runs are idempotent even though argon2 salts are random.
  - Other keys in the file are kept as they are. The file is written atomically, as JSON with sorted keys.
author:
  - jupyter_edge.deploy maintainers (@jupyter-edge)
requirements:
  - argon2-cffi on the managed node when O(algorithm=argon2). It comes with jupyter_server, so running the module
    with the Python interpreter of the Jupyter environment is enough (see the examples).
options:
  path:
    description:
      - The JSON config file to manage, for example C(/etc/jupyter/jupyter_server_config.json).
      - It is created when missing. Its parent directory must exist.
    type: path
    required: true
  password:
    description:
      - The password in clear text. It must not be empty.
      - It is never written, logged or returned; only its hash is stored.
    type: str
    required: true
  algorithm:
    description:
      - The hash algorithm.
      - V(argon2) is what jupyter_server uses by default. The others are the legacy salted
        C(<algorithm>:<salt>:<hexdigest>) format, which needs only the Python standard library.
      - A stored hash made with another algorithm is replaced, even when it matches O(password).
    type: str
    choices: [argon2, sha1, sha256, sha512]
    default: argon2
  flavor:
    description:
      - Which setting holds the hash.
      - V(server) sets C(PasswordIdentityProvider.hashed_password), for jupyter_server 2.x (JupyterLab 4, Notebook 7).
      - V(notebook) sets C(NotebookApp.password), for classic notebook 6 and older.
    type: str
    choices: [server, notebook]
    default: server
  mode:
    description:
      - The permissions of O(path), applied to a new file and to an existing one.
      - See the O(ignore:mode) option of M(ansible.builtin.file) for the accepted forms.
    type: raw
    default: "0600"
  return_hash:
    description:
      - Return the stored hash as RV(hashed_password).
      - Off by default so the hash does not end up in logs.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.files
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.files
attributes:
  check_mode:
    support: full
    details: Nothing is written; the result says whether the hash, the file or its attributes would change.
  diff_mode:
    support: full
    details:
      - The diff shows whether the setting is set, with which algorithm, and whether it changes,
        plus the file attributes. It never contains the password or the hash.
  idempotent:
    description: When run twice in a row with the same options, the second run reports no change.
    support: full
  platform:
    platforms: posix
  safe_file_operations:
    description: The file is replaced atomically by Ansible's own file functions, with the attributes asked for.
    support: full
  vault:
    description: Reading a vaulted file is not supported (the file is Jupyter's own configuration).
    support: none
notes:
  - Run the module with the interpreter of the Python environment Jupyter is installed in, by setting
    C(ansible_python_interpreter) for the task to that environment's C(bin/python). It has argon2-cffi, and no
    package needs to be installed into the system Python.
  - A file that is not valid JSON, or whose section for O(flavor) is not a JSON object, makes the module fail
    without touching the file. An empty file counts as an empty config.
seealso:
  - name: Running a public Jupyter Server
    description: The jupyter_server guide on passwords and C(jupyter server password).
    link: https://jupyter-server.readthedocs.io/en/latest/operators/public-server.html
"""

EXAMPLES = r"""
- name: Set the JupyterLab login password (argon2, from the Jupyter environment's Python)
  jupyter_edge.deploy.jupyter_password:
    path: /etc/jupyter/jupyter_server_config.json
    password: "{{ vault_jupyter_password }}"
    owner: root
    group: jupyter
    mode: "0640"
  vars:
    ansible_python_interpreter: /opt/jupyter/venv/bin/python

- name: Set the password of a classic notebook 6 server with a salted sha512 hash
  jupyter_edge.deploy.jupyter_password:
    path: /home/alice/.jupyter/jupyter_notebook_config.json
    password: "{{ vault_alice_password }}"
    algorithm: sha512
    flavor: notebook
    owner: alice
    group: alice

- name: Get the hash to use elsewhere
  jupyter_edge.deploy.jupyter_password:
    path: /etc/jupyter/jupyter_server_config.json
    password: "{{ vault_jupyter_password }}"
    return_hash: true
  vars:
    ansible_python_interpreter: /opt/jupyter/venv/bin/python
  register: jupyter_pw
  no_log: true
"""

RETURN = r"""
path:
  description: The config file.
  returned: always
  type: str
  sample: /etc/jupyter/jupyter_server_config.json
key:
  description: The setting that holds the hash, as C(<section>.<name>).
  returned: always
  type: str
  sample: PasswordIdentityProvider.hashed_password
algorithm:
  description: The algorithm of the hash that is (or, in check mode, would be) stored.
  returned: always
  type: str
  sample: argon2
hashed_password:
  description:
    - The stored hash. In check mode with a change pending, a fresh hash that was not written.
  returned: when O(return_hash=true)
  type: str
  sample: argon2:$argon2id$v=19$m=10240,t=10,p=8$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA
"""

import hashlib
import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.jupyter_edge.deploy.plugins.module_utils._jupyter_passwd import (
    ALGORITHMS,
    ARGON2_IMPORT_ERROR,
    HAS_ARGON2,
    algorithm_of,
    passwd,
    verify,
)

# flavor -> (section, key) of the setting that holds the hash
SETTINGS = {
    "server": ("PasswordIdentityProvider", "hashed_password"),
    "notebook": ("NotebookApp", "password"),
}


def read_config(module, path):
    """Return the config in ``path`` as a dict, or None when the file does not exist."""
    if not os.path.exists(path):
        return None
    if os.path.isdir(path):
        module.fail_json(msg=f"{path} is a directory; path must name the JSON config file")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        module.fail_json(msg=f"Cannot read {path}: {e}")
    if not text.strip():
        return {}
    try:
        config = json.loads(text)
    except ValueError as e:
        module.fail_json(msg=f"{path} is not valid JSON ({e}); the file was left unchanged")
    if not isinstance(config, dict):
        module.fail_json(msg=f"The content of {path} is not a JSON object; the file was left unchanged")
    return config


def describe(value):
    """Say whether a setting is set and with which algorithm, without showing the value."""
    if value is None:
        return "<unset>"
    algorithm = algorithm_of(value)
    if algorithm != "argon2" and algorithm not in hashlib.algorithms_available:
        algorithm = "unrecognised"
    return f"<set ({algorithm})>"


def write_config(module, path, config):
    """Write ``config`` to ``path`` through a temporary file in the same directory."""
    content = json.dumps(config, indent=2, sort_keys=True) + "\n"
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".jupyter_password.", suffix=".tmp", dir=os.path.dirname(path) or ".")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(content)
        # atomic_move gives a new file 0666 & ~umask; keep it private until the requested mode is set.
        old_umask = os.umask(0o077)
        try:
            module.atomic_move(tmp, path, unsafe_writes=module.params["unsafe_writes"])
        finally:
            os.umask(old_umask)
    except OSError as e:
        module.fail_json(msg=f"Cannot write {path}: {e}")
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            password=dict(type="str", required=True, no_log=True),
            algorithm=dict(type="str", default="argon2", choices=list(ALGORITHMS)),
            flavor=dict(type="str", default="server", choices=list(SETTINGS)),
            mode=dict(type="raw", default="0600"),
            return_hash=dict(type="bool", default=False),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path = module.params["path"]
    password = module.params["password"]
    algorithm = module.params["algorithm"]
    section, name = SETTINGS[module.params["flavor"]]
    key = f"{section}.{name}"

    if not password:
        module.fail_json(msg="Option password must not be empty")
    if algorithm == "argon2" and not HAS_ARGON2:
        module.fail_json(
            msg=missing_required_lib(
                "argon2-cffi",
                reason=(
                    "for algorithm=argon2. Run the module with the Jupyter environment's interpreter"
                    " (set ansible_python_interpreter to that virtualenv's bin/python), install argon2-cffi"
                    " for this interpreter, or choose a sha algorithm"
                ),
            ),
            exception=ARGON2_IMPORT_ERROR,
        )
    parent = os.path.dirname(path) or "."
    if not os.path.isdir(parent):
        module.fail_json(msg=f"Parent directory {parent} of {path} does not exist; create it first")

    config = read_config(module, path)
    exists = config is not None
    config = config or {}
    settings = config.setdefault(section, {})
    if not isinstance(settings, dict):
        module.fail_json(msg=f"{section} in {path} is not a JSON object; the file was left unchanged")

    current = settings.get(name)
    hashed = current
    changed = not (algorithm_of(current) == algorithm and verify(current, password))
    diff = dict(before_header=path, after_header=path, before={key: describe(current)}, after={key: describe(current)})

    if changed:
        hashed = passwd(password, algorithm)
        settings[name] = hashed
        diff["after"][key] = f"<set ({algorithm}), changed>" if current is not None else f"<set ({algorithm})>"
        if not module.check_mode:
            write_config(module, path, config)

    # In check mode a missing file was not created, so there are no attributes to compare yet.
    if exists or not module.check_mode:
        file_args = module.load_file_common_arguments(module.params)
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=diff)

    result = dict(changed=changed, path=path, key=key, algorithm=algorithm)
    if module.params["return_hash"]:
        result["hashed_password"] = hashed
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
