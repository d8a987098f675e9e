# Copyright (c) jupyter_edge.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Options shared by the jupyter_edge.deploy Cloudflare modules (authentication, endpoint, retries)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  api_token:
    description:
      - "Cloudflare API token, sent as C(Authorization: Bearer)."
      - Used when set, even if O(account_api_key) is set too.
      - If not set, the E(CLOUDFLARE_TOKEN) environment variable is used.
      - The token needs the permission Zone Read, and DNS Write for records,
        Zone Settings Write for zone settings or SSL and Certificates Edit for Origin CA
        certificates (Read is enough in check mode).
    type: str
  account_email:
    description:
      - Email of the Cloudflare account, for authentication with the global API key.
      - Required together with O(account_api_key).
    type: str
  account_api_key:
    description:
      - Global API key of the Cloudflare account (legacy authentication, sent as C(X-Auth-Key)).
      - One of O(api_token) and O(account_api_key) is required.
    type: str
    aliases: [account_api_token]
  api_url:
    description:
      - Base URL of the Cloudflare API v4.
      - Change it only for a compatible API, a proxy or tests.
    type: str
    default: https://api.cloudflare.com/client/v4
  validate_certs:
    description:
      - Whether to verify the TLS certificate of O(api_url).
    type: bool
    default: true
  timeout:
    description:
      - Timeout of one API request, in seconds.
    type: int
    default: 30
  api_retries:
    description:
      - How many times one request is retried after HTTP 408, 429 or 5xx before the task fails.
      - Each retry waits for the C(Retry-After) the API sends, or 1, 2, 4... seconds without it.
    type: int
    default: 5
  api_retry_max_delay:
    description:
      - Longest wait before one retry, in seconds.
      - If Cloudflare's C(Retry-After) asks for longer, the task fails at once and says how long to
        wait, instead of retrying before the API would accept the request.
    type: float
    default: 60
"""
