# Copyright (c) jupyter_edge.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Attributes the collection's modules share, and the action group of the Cloudflare modules.

PRIVATE to the collection: it can change at any time; do not use it from elsewhere.
"""

from __future__ import annotations


class ModuleDocFragment:
    # What the attributes mean; each module says its support and details.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: >-
      Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
"""

    # The group of meta/runtime.yml, for module_defaults.
    ACTIONGROUP_CLOUDFLARE = r"""
options: {}
attributes:
  action_group:
    description: >-
      Use C(group/jupyter_edge.deploy.cloudflare) in C(module_defaults) to set defaults (for example
      the API token) for this module and the collection's other Cloudflare modules.
    support: full
    membership:
      - jupyter_edge.deploy.cloudflare
"""
