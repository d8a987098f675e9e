#!/usr/bin/python
# Copyright (c) jupyter_edge.deploy contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# One look at what a role would otherwise inspect with a module per item: the roles run
# their group, user, file, copy and apt tasks only where this finds a difference.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_state
short_description: Compare a group, a user, paths and packages with what a role would set, in one round trip
version_added: 0.2.0
description:
  - Reads the managed node once and says, for each item, whether it is already as the role's own tasks would
    leave it. The roles of this collection run their M(ansible.builtin.group), M(ansible.builtin.user),
    M(ansible.builtin.file), M(ansible.builtin.copy), M(ansible.builtin.template) and M(ansible.builtin.apt) tasks
    only for the items found different, so a converge of a host that is already right costs one module run
    instead of one (a copy or template, two) per item.
  - A template is compared by the SHA-1 of its rendering on the controller
    (C(lookup('ansible.builtin.template', ...\) | hash('sha1'\))), a copied file by the SHA-1 of its source.
  - It is conservative. Whatever it cannot confirm (a missing entry, a link where a directory is wanted, another
    owner, group, mode or content, a package that is not fully installed) counts as different, and the role's
    task then does the work as it always did.
  - It changes nothing, so it reports C(changed=false) and runs in check mode as in a normal run.
author:
  - jupyter_edge.deploy maintainers (@jupyter-edge)
options:
  group:
    description: A group that must exist.
    type: str
  user:
    description: An account that must exist with this primary group, home and login shell.
    type: dict
    suboptions:
      name:
        description: The account's name.
        type: str
        required: true
      group:
        description: Its primary group's name.
        type: str
        required: true
      home:
        description: Its home directory.
        type: str
        required: true
      shell:
        description: Its login shell.
        type: str
        required: true
  paths:
    description: Paths and what they must be.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description:
          - An absolute path, also the key of RV(paths) (as given, not expanded). It is not followed when it is a link.
        type: str
        required: true
      state:
        description:
          - V(directory) or V(file) (a regular file), with O(paths[].owner), O(paths[].group) and O(paths[].mode).
          - V(link), a symbolic link to O(paths[].src), with the link's own O(paths[].owner) and O(paths[].group)
            where given (its mode is not compared).
          - V(absent), nothing at the path.
        type: str
        choices: [directory, file, link, absent]
        required: true
      owner:
        description: The owner's name (V(directory) and V(file); V(link) where given).
        type: str
      group:
        description: The group's name (V(directory) and V(file); V(link) where given).
        type: str
      mode:
        description: The permission bits in octal, for example V('0750') or V('2750') (V(directory) and V(file)).
        type: str
      checksum:
        description: The SHA-1 of the file's content (V(file) only; not compared when omitted).
        type: str
      src:
        description: The link's target, as it is written in the link (V(link) only).
        type: str
  packages:
    description: Debian packages that must be installed (C(dpkg-query) status C(ii)).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: It only reads, in check mode as in a normal run.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Read the account and the directories
  jupyter_edge.deploy.host_state:
    group: jupyter
    user: {name: jupyter, group: jupyter, home: /var/lib/jupyter, shell: /usr/sbin/nologin}
    paths:
      - {path: /var/lib/jupyter, state: directory, owner: jupyter, group: jupyter, mode: "0750"}
      - {path: /etc/nginx/sites-enabled/default, state: absent}
    packages: [nginx]
  register: host

- name: Create the group jupyter
  ansible.builtin.group:
    name: jupyter
    system: true
  when: not host.group
"""

RETURN = r"""
group:
  description: Whether O(group) exists (V(true) when O(group) is not given).
  type: bool
  returned: always
user:
  description: Whether O(user) exists with the primary group, home and shell asked for (V(true) when not given).
  type: bool
  returned: always
paths:
  description: For each path of O(paths), whether it is as asked.
  type: dict
  returned: always
  sample: {"/var/lib/jupyter": true, "/etc/nginx/sites-enabled/default": false}
missing_packages:
  description: The packages of O(packages) that are not fully installed, in the order given.
  type: list
  elements: str
  returned: always
"""

import grp
import hashlib
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

# What each state of a path must be given.
NEEDED = {"directory": ("owner", "group", "mode"), "file": ("owner", "group", "mode"), "link": ("src",)}


def _name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return None


def _sha1(path):
    digest = hashlib.sha1()  # noqa: S324 - a content comparison, as ansible.builtin.copy's checksum
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def path_matches(want):
    """Whether the path is as `want` says (anything unreadable counts as different)."""
    try:
        st = os.lstat(want["path"])
    except FileNotFoundError:
        return want["state"] == "absent"
    except OSError:
        return False
    state = want["state"]
    if state == "absent":
        return False
    if state == "link":
        if not (stat.S_ISLNK(st.st_mode) and os.readlink(want["path"]) == want["src"]):
            return False
    elif not (stat.S_ISDIR(st.st_mode) if state == "directory" else stat.S_ISREG(st.st_mode)):
        return False
    for key, lookup, number in (("owner", pwd.getpwuid, st.st_uid), ("group", grp.getgrgid, st.st_gid)):
        if (want[key] or state != "link") and _name(lookup, number) != want[key]:
            return False
    if state == "link":
        return True
    if stat.S_IMODE(st.st_mode) != int(want["mode"], 8):
        return False
    return state != "file" or not want.get("checksum") or _sha1(want["path"]) == want["checksum"].lower()


def user_matches(want):
    try:
        account = pwd.getpwnam(want["name"])
    except KeyError:
        return False
    return (account.pw_dir, account.pw_shell, _name(grp.getgrgid, account.pw_gid)) == (
        want["home"],
        want["shell"],
        want["group"],
    )


def missing_packages(module, packages):
    if not packages:
        return []
    dpkg = module.get_bin_path("dpkg-query")
    if not dpkg:
        return list(packages)
    # Exit status 1 for a package dpkg has never seen: it is missing, as one not fully installed.
    _rc, out, _err = module.run_command([dpkg, "-W", "-f", "${db:Status-Abbrev} ${Package}\n", *packages])
    installed = {line.split()[-1] for line in out.splitlines() if line.startswith("ii ")}
    return [name for name in packages if name.split(":")[0] not in installed]


def main():
    path_spec = {
        "path": {"type": "str", "required": True},
        "state": {"type": "str", "required": True, "choices": ["directory", "file", "link", "absent"]},
        "owner": {"type": "str"},
        "group": {"type": "str"},
        "mode": {"type": "str"},
        "checksum": {"type": "str"},
        "src": {"type": "str"},
    }
    module = AnsibleModule(
        argument_spec={
            "group": {"type": "str"},
            "user": {
                "type": "dict",
                "options": {
                    "name": {"type": "str", "required": True},
                    "group": {"type": "str", "required": True},
                    "home": {"type": "str", "required": True},
                    "shell": {"type": "str", "required": True},
                },
            },
            "paths": {"type": "list", "elements": "dict", "default": [], "options": path_spec},
            "packages": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    p = module.params
    for item in p["paths"]:
        absent = [key for key in NEEDED.get(item["state"], ()) if not item.get(key)]
        if absent:
            module.fail_json(msg=f"paths: {item['path']} (state {item['state']}) needs {', '.join(absent)}")
        if item["mode"]:
            try:
                int(item["mode"], 8)
            except ValueError:
                module.fail_json(msg=f"paths: {item['path']} has mode {item['mode']!r}: give octal digits, e.g. '0750'")
    module.exit_json(
        changed=False,
        group=p["group"] is None or _name(grp.getgrnam, p["group"]) is not None,
        user=p["user"] is None or user_matches(p["user"]),
        paths={item["path"]: path_matches(item) for item in p["paths"]},
        missing_packages=missing_packages(module, p["packages"]),
    )


if __name__ == "__main__":
    main()
