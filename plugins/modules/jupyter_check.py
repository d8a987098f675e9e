#!/usr/bin/python
# Copyright (c) jupyter_edge.deploy contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# One check of the collection's verification client, as a module: the doctor calls it.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: jupyter_check
short_description: Check a Jupyter server or JupyterHub from the managed node, as a browser there would
version_added: 0.2.0
description:
  - Runs one check of the collection's verification client against a Jupyter server or a JupyterHub,
    directly or through its reverse proxy, from the managed node.
  - The client logs in through the login form (single-user server or hub), keeps cookies and the XSRF token,
    starts and deletes kernels, executes code over the kernel websocket, opens terminals, and fetches pages and
    static files, as a browser does.
  - The result is data, RV(observations) (status codes, handshake results, output), not a verdict. A check that ran
    succeeds even when what it saw is a refusal; the caller judges. The module fails only when the check could
    not run to its end (connection refused, timeout, protocol violation), with the observations made so far.
  - The doctor playbook (C(jupyter_edge.deploy.doctor)) uses it for its login, kernel, TLS and header checks.
author:
  - jupyter_edge.deploy maintainers (@jupyter-edge)
options:
  url:
    description:
      - The public base URL, base URL prefix included, for example C(https://lab.example.org/notebook/).
      - For the V(hub-login) and V(hub-kernel) checks, the hub's base URL; the user's server is at C({url}user/NAME/).
    type: str
    required: true
  check:
    description:
      - V(login) logs in through the login form and reads C(api/status).
      - V(unauth) asks the API without logging in.
      - V(kernel) logs in, starts a kernel, runs O(code) over its websocket and deletes the kernel.
      - V(terminal) logs in, opens a terminal, runs C(echo) in it and deletes it.
      - V(ws-origin) opens a kernel websocket with the Origin O(origin_override) (a proxy or server should refuse it).
      - V(tls) makes a TLS handshake pinned to each of O(versions).
      - V(static) fetches a static file (O(path), or JupyterLab's main bundle after logging in) O(times) times.
      - V(headers) fetches O(path) without logging in and returns the response headers.
      - V(hub-login) logs in to the hub as O(user); V(hub-kernel) also starts the user's server when it is not
        running, follows the OAuth redirects into it and runs O(code) on a kernel there.
    type: str
    required: true
    choices: [login, unauth, kernel, terminal, ws-origin, tls, static, headers, hub-login, hub-kernel]
  password:
    description:
      - The login password (of the single-user server, or of O(user) on the hub).
      - Needed by every check except V(unauth), V(tls), V(headers) and V(static) with O(path).
      - It is never logged or returned.
    type: str
  user:
    description: The hub user to log in as. Required by the V(hub-login) and V(hub-kernel) checks.
    type: str
  validate_certs:
    description:
      - Verify the server's TLS certificate.
      - Set it to V(false) for a self-signed certificate, as the doctor does.
    type: bool
    default: true
  ca_path:
    description: A CA bundle to verify the server's certificate with, instead of the system's.
    type: path
  origin:
    description: The Origin header of the requests (default C(scheme://host[:port]) of O(url)).
    type: str
  timeout:
    description: Seconds each network operation may take.
    type: float
    default: 30
  code:
    description: The code the V(kernel) and V(hub-kernel) checks run.
    type: str
    default: print(6*7)
  versions:
    description: The TLS versions the V(tls) check tries.
    type: list
    elements: str
    choices: ["1.0", "1.1", "1.2", "1.3"]
    default: ["1.0", "1.1", "1.2", "1.3"]
  path:
    description:
      - For V(headers), the page to fetch, relative to O(url) (absolute when it starts with C(/)).
      - For V(static), the static file to fetch (default JupyterLab's main bundle, found after logging in).
    type: str
  times:
    description: How many times the V(static) check fetches the file.
    type: int
    default: 2
  origin_override:
    description: The foreign Origin the V(ws-origin) check sends. Required by that check.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The checks only read what the server serves, so they run in check mode too, and report no change.
      - Kernels and terminals a check starts are deleted again. V(hub-kernel) starts the user's server when it is
        not running, as a browser's login would, and leaves it running.
  diff_mode:
    support: none
  idempotent:
    description: The checks change nothing, so every run reports no change.
    support: full
  platform:
    platforms: posix
notes:
  - The managed node needs Python 3.11 or later; the client uses only the standard library.
  - The checks run from the managed node, so O(url) must resolve there to the address browsers reach.
seealso:
  - name: The doctor playbook
    description: Runs these checks, and more, against a deployed host and judges them.
    link: https://github.com/jupyter-edge/deploy#troubleshooting
"""

EXAMPLES = r"""
- name: Log in through the proxy and run code over the kernel websocket
  jupyter_edge.deploy.jupyter_check:
    url: https://lab.example.org/notebook/
    check: kernel
    password: "{{ vault_jupyter_password }}"
  register: seen

- name: The kernel printed 42
  ansible.builtin.assert:
    that: seen.observations.stdout == '42\n'

- name: Log in to the hub as alice
  jupyter_edge.deploy.jupyter_check:
    url: https://hub.example.org/
    check: hub-login
    user: alice
    password: "{{ vault_alice_password }}"

- name: Which TLS versions the proxy accepts (self-signed certificate)
  jupyter_edge.deploy.jupyter_check:
    url: https://lab.example.org/
    check: tls
    versions: ["1.1", "1.2", "1.3"]
    validate_certs: false
  register: tls
"""

RETURN = r"""
observations:
  description:
    - What the check saw, as the verification client reports it. The keys depend on O(check). Always C(check) and
      C(url); C(error) when the check could not run to its end.
    - V(login) has C(logged_in), C(post_status) and C(api_status); V(kernel) has C(login), C(ws_status), C(stdout)
      and C(reply_status); V(tls) has C(versions) (each with C(accepted)); V(headers) has C(status) and C(headers)
      (lower-case names); V(hub-login) has C(user) and C(login) (C(logged_in), C(login_page_status),
      C(post_status), C(home_status)).
  returned: always
  type: dict
  sample:
    check: kernel
    url: https://lab.example.org/notebook/
    login:
      logged_in: true
      post_status: 302
      api_status: 200
    ws_status: 101
    stdout: "42\n"
    reply_status: ok
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.jupyter_edge.deploy.plugins.module_utils._jupyter_client import run_check

# The options each check takes besides the session's, by check.
CHECK_OPTIONS = {
    "kernel": ("code",),
    "hub-kernel": ("code",),
    "tls": ("versions",),
    "headers": ("path",),
    "static": ("path", "times"),
    "ws-origin": ("origin_override",),
}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            check=dict(
                type="str",
                required=True,
                choices=sorted(
                    [
                        "login",
                        "unauth",
                        "kernel",
                        "terminal",
                        "ws-origin",
                        "tls",
                        "static",
                        "headers",
                        "hub-login",
                        "hub-kernel",
                    ]
                ),
            ),
            password=dict(type="str", no_log=True),
            user=dict(type="str"),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            origin=dict(type="str"),
            timeout=dict(type="float", default=30),
            code=dict(type="str", default="print(6*7)"),
            versions=dict(
                type="list", elements="str", choices=["1.0", "1.1", "1.2", "1.3"], default=["1.0", "1.1", "1.2", "1.3"]
            ),
            path=dict(type="str"),
            times=dict(type="int", default=2),
            origin_override=dict(type="str"),
        ),
        required_if=[
            ("check", "hub-login", ["user"]),
            ("check", "hub-kernel", ["user"]),
            ("check", "ws-origin", ["origin_override"]),
        ],
        supports_check_mode=True,
    )
    p = module.params
    check = p["check"]
    options = {name: p[name] for name in CHECK_OPTIONS.get(check, ()) if p[name] is not None}
    if check.startswith("hub-"):
        options["user"] = p["user"]
    ran, observations = run_check(
        check,
        p["url"],
        password=p["password"],
        origin=p["origin"],
        cafile=p["ca_path"] if p["validate_certs"] else None,
        insecure=not p["validate_certs"],
        timeout=p["timeout"],
        **options,
    )
    if not ran:
        module.fail_json(
            msg=f"The {check} check of {p['url']} could not run to its end: {observations['error']}",
            observations=observations,
        )
    module.exit_json(changed=False, observations=observations)


if __name__ == "__main__":
    main()
