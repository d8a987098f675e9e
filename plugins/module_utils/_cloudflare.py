# Copyright (c) jupyter_edge.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Cloudflare API v4 client shared by the jupyter_edge.deploy Cloudflare modules.

PRIVATE: this file is internal to the collection. Its interface can change without notice;
do not import it from outside jupyter_edge.deploy.

One client for every module: authentication headers, the response envelope, pagination,
bounded retries on 408/429/5xx that respect Retry-After, errors that name the Cloudflare
code and message, and a count of the HTTP requests made (returned by the modules as
``api_requests``).
"""

from __future__ import annotations

import datetime
import email.utils
import json
import time
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible.module_utils.urls import Request, make_context

DEFAULT_API_URL = "https://api.cloudflare.com/client/v4"

# Options every Cloudflare module takes (documented in doc_fragments/cloudflare.py).
AUTH_ARGUMENT_SPEC = dict(
    api_token=dict(type="str", no_log=True, fallback=(env_fallback, ["CLOUDFLARE_TOKEN"])),
    account_email=dict(type="str"),
    account_api_key=dict(type="str", no_log=True, aliases=["account_api_token"]),
    api_url=dict(type="str", default=DEFAULT_API_URL),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="int", default=30),
    api_retries=dict(type="int", default=5),
    api_retry_max_delay=dict(type="float", default=60.0),
)
AUTH_REQUIRED_ONE_OF = [("api_token", "account_api_key")]
AUTH_REQUIRED_TOGETHER = [("account_email", "account_api_key")]

# Error codes that mean "the credentials are wrong or lack a permission".
AUTH_ERROR_CODES = frozenset({1000, 6003, 6102, 6103, 6111, 9103, 9106, 9109, 10000})


class CloudflareError(Exception):
    """A failed API call. str() names the request, the HTTP status and Cloudflare's codes and messages."""

    def __init__(self, message, status=None, errors=None):
        super().__init__(message)
        self.status = status
        self.errors = errors or []

    @property
    def codes(self):
        """Every error code in the answer, error_chain included."""
        found = set()
        for error in self.errors:
            found.add(error.get("code"))
            found.update(link.get("code") for link in error.get("error_chain") or [])
        return found


def format_errors(errors):
    """'code 81057: Record already exists.; code 1004: DNS Validation Error (code 9021: ...)'."""
    parts = []
    for error in errors or []:
        text = "code {}: {}".format(error.get("code"), error.get("message"))
        chain = error.get("error_chain") or []
        if chain:
            text += f" ({format_errors(chain)})"
        parts.append(text)
    return "; ".join(parts)


def _permission_hint(path, method):
    if "/settings" in path:
        return "an API token needs the permissions Zone Read and Zone Settings {}".format(
            "Read" if method == "GET" else "Write"
        )
    if path.startswith("/certificates"):
        return "an API token needs the permissions Zone Read and SSL and Certificates {}".format(
            "Read" if method == "GET" else "Edit"
        )
    if "/dns_records" in path:
        return "an API token needs the permissions Zone Read and DNS {}".format("Read" if method == "GET" else "Write")
    return "an API token needs the permission Zone Read"


class CloudflareClient:
    """A small Cloudflare API v4 client.

    ``retries`` bounds the number of retries of one request after 408, 429 or 5xx;
    ``retry_max_delay`` is the longest wait (seconds) the client accepts before a retry:
    when Cloudflare's Retry-After asks for more, the request fails at once with that
    delay in the message instead of retrying too early. Without Retry-After the client
    backs off exponentially (1, 2, 4... seconds), each wait capped by retry_max_delay.
    """

    def __init__(
        self,
        api_url=DEFAULT_API_URL,
        api_token=None,
        account_email=None,
        account_api_key=None,
        timeout=30,
        validate_certs=True,
        retries=5,
        retry_max_delay=60.0,
        log=None,
        sleep=None,
    ):
        self.api_url = api_url.rstrip("/")
        self.api_token = api_token
        self.account_email = account_email
        self.account_api_key = account_api_key
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.retries = max(0, retries)
        self.retry_max_delay = max(0.0, retry_max_delay)
        self.log = log or (lambda msg: None)
        self.sleep = sleep or time.sleep
        self.request_count = 0
        self._http = Request(http_agent="jupyter_edge.deploy-cloudflare", follow_redirects="none")
        self._tls = None  # made once: loading the CA store costs more than a request

    @classmethod
    def from_module(cls, module):
        params = module.params
        return cls(
            api_url=params["api_url"],
            api_token=params["api_token"],
            account_email=params["account_email"],
            account_api_key=params["account_api_key"],
            timeout=params["timeout"],
            validate_certs=params["validate_certs"],
            retries=params["api_retries"],
            retry_max_delay=params["api_retry_max_delay"],
            log=module.log,
        )

    def _headers(self):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_token:
            headers["Authorization"] = f"Bearer {self.api_token}"
        else:
            headers["X-Auth-Email"] = self.account_email or ""
            headers["X-Auth-Key"] = self.account_api_key or ""
        return headers

    def _send(self, method, url, data):
        """One HTTP request: (status, headers, body text). Raises CloudflareError if unreachable."""
        self.request_count += 1
        if self._tls is None:
            self._tls = make_context(validate_certs=self.validate_certs)
        try:
            resp = self._http.open(
                method,
                url,
                data=data,
                headers=self._headers(),
                timeout=self.timeout,
                validate_certs=self.validate_certs,
                context=self._tls,
            )
            return resp.status, resp.headers, resp.read().decode("utf-8", "replace")
        except HTTPError as err:
            body = err.read().decode("utf-8", "replace") if err.fp else ""
            return err.code, err.headers, body
        except (URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise CloudflareError(f"Cannot reach the Cloudflare API at {self.api_url}: {reason}") from err

    def _retry_delay(self, headers, attempt):
        """Seconds to wait before retry number `attempt`, or None when Retry-After asks too much."""
        value = headers.get("Retry-After") if headers else None
        if value is None:
            return min(2.0 ** (attempt - 1), self.retry_max_delay)
        try:
            delay = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return min(2.0 ** (attempt - 1), self.retry_max_delay)
            delay = (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds()  # noqa: UP017 (modules may run on Python < 3.11)
        delay = max(0.0, delay)
        return delay if delay <= self.retry_max_delay else None

    def request(self, method, path, query=None, body=None):
        """Send one API call (with retries) and return the parsed envelope; raise CloudflareError on failure."""
        url = self.api_url + path
        if query:
            url += "?" + urlencode(query)
        data = json.dumps(body) if body is not None else None
        what = f"{method} {path}"
        attempt = 0
        while True:
            attempt += 1
            status, headers, text = self._send(method, url, data)
            if not (status in (408, 429) or status >= 500):
                break
            delay = self._retry_delay(headers, attempt)
            if delay is None:
                raise _error(
                    what,
                    status,
                    text,
                    f"Retry-After asks for {headers.get('Retry-After')} s, "
                    f"more than api_retry_max_delay={self.retry_max_delay:g} s; try again later",
                )
            if attempt > self.retries:
                raise _error(what, status, text, f"gave up after {attempt} attempts")
            self.log(f"Cloudflare API {what}: HTTP {status}, retry {attempt} of {self.retries} in {delay:g} s")
            self.sleep(delay)

        envelope = _parse(text)
        if envelope is None or status >= 400 or not envelope.get("success", False):
            raise _error(what, status, text)
        return envelope

    # Convenience wrappers --------------------------------------------------
    def get(self, path, query=None):
        return self.request("GET", path, query)["result"]

    def post(self, path, body):
        return self.request("POST", path, body=body)["result"]

    def put(self, path, body):
        return self.request("PUT", path, body=body)["result"]

    def patch(self, path, body):
        return self.request("PATCH", path, body=body)["result"]

    def delete(self, path):
        return self.request("DELETE", path)["result"]

    def get_all(self, path, query=None, per_page=100):
        """Every item of a list call, following result_info page by page."""
        items = []
        page = 1
        while True:
            params = dict(query or {}, page=page, per_page=per_page)
            envelope = self.request("GET", path, params)
            result = envelope.get("result") or []
            items.extend(result)
            info = envelope.get("result_info") or {}
            if not result or page >= int(info.get("total_pages") or 1):
                return items
            page += 1

    def zone_id(self, name):
        """The id of the zone called `name` (one request); fails if there is none or more than one."""
        name = name.lower().rstrip(".")
        zones = [z for z in self.get_all("/zones", {"name": name}, per_page=50) if z.get("name", "").lower() == name]
        if not zones:
            raise CloudflareError(
                f"No zone found with name {name} (check the zone name, and that the credentials can read it)"
            )
        if len(zones) > 1:
            raise CloudflareError("More than one zone matches {}: {}".format(name, ", ".join(z["id"] for z in zones)))
        return zones[0]["id"]


def zone_path(zone_id, *parts):
    return "/zones/" + "/".join(quote(str(p), safe="") for p in (zone_id,) + parts)


def _error(what, status, text, why=None):
    """A CloudflareError naming the request, the HTTP status, why it stopped and Cloudflare's errors."""
    envelope = _parse(text)
    errors = (envelope or {}).get("errors") or []
    if errors:
        detail = format_errors(errors)
    elif envelope is None:
        detail = "the body is not JSON: " + (text[:200].strip() or "(empty)")
    else:
        detail = "no error details"
    message = f"Cloudflare API {what} failed with HTTP {status}"
    if why:
        message += f" ({why})"
    message += ": " + detail
    error = CloudflareError(message, status=status, errors=errors)
    if error.codes & AUTH_ERROR_CODES:
        method, path = what.split(" ", 1)
        error.args = (
            f"{message}. Check api_token, or account_email and account_api_key; {_permission_hint(path, method)}",
        )
    return error


def _parse(text):
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def cloudflare_module(argument_spec, required_one_of=(), required_together=(), **kwargs):
    """The AnsibleModule of a Cloudflare module: its own options and rules, plus the shared
    authentication and connection options and their rules (one of the two credentials; the
    global key only with its account's email). Other AnsibleModule arguments pass through."""
    spec = {name: dict(value) for name, value in AUTH_ARGUMENT_SPEC.items()}
    spec.update(argument_spec)
    return AnsibleModule(
        argument_spec=spec,
        required_one_of=AUTH_REQUIRED_ONE_OF + list(required_one_of),
        required_together=AUTH_REQUIRED_TOGETHER + list(required_together),
        **kwargs,
    )


def run_module(module, work):
    """Call work(client) -> result dict and exit the module; a CloudflareError fails it.

    Both ways out report api_requests, the number of HTTP requests sent (retries included).
    """
    client = CloudflareClient.from_module(module)
    try:
        result = work(client)
    except CloudflareError as err:
        module.fail_json(msg=str(err), api_requests=client.request_count, cloudflare_errors=err.errors)
    result["api_requests"] = client.request_count
    module.exit_json(**result)
