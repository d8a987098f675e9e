"""A fake Cloudflare API v4 for tests: in-memory, standard library only, loopback by default.

It answers the part of the API the jupyter_edge.deploy Cloudflare modules use, with the
real envelope (success, errors, messages, result, result_info), the real authentication
headers and the error codes clients see from Cloudflare:

    9106   missing X-Auth-Key, X-Auth-Email or Authorization headers (HTTP 400)
    6003   invalid request headers, with 6103/6111 in error_chain (HTTP 400)
    1000   invalid API token (HTTP 400)
    9103   unknown X-Auth-Key or X-Auth-Email (HTTP 403)
    10000  authentication error: the token lacks the permission (HTTP 403)
    7003   could not route: unknown zone or record identifier (HTTP 404)
    81044  record does not exist (HTTP 404)
    81053  an A, AAAA or CNAME record with that host already exists (HTTP 400)
    81054  a CNAME record with that host already exists (HTTP 400)
    81057  record already exists (HTTP 400)
    9004   this record type cannot be proxied (HTTP 400)
    9005   content for A/AAAA record is invalid (HTTP 400)
    1004   DNS validation error, details in error_chain (HTTP 400)
    1006   unrecognised zone setting name (HTTP 400)
    1007   invalid value for zone setting (HTTP 400)
    971    rate limited: please wait and consider throttling (HTTP 429, Retry-After)

Origin CA (/certificates; the codes are approximations, Cloudflare does not document them):

    1010   a hostname is not in a zone of the account (HTTP 400)
    1011   hostnames missing, empty or malformed, or a wildcard Cloudflare refuses (HTTP 400)
    1012   request_type is not origin-rsa, origin-ecc or keyless-certificate (HTTP 400)
    1013   requested_validity is not 7, 30, 90, 365, 730, 1095 or 5475 (HTTP 400)
    1014   the CSR cannot be parsed, its signature is wrong or its key does not fit request_type (HTTP 400)
    1015   zone_id missing from the list call (HTTP 400)
    1016   certificate not found, or already revoked when revoking (HTTP 404)

Origin CA certificates are signed by roots the fake makes on first use (origin_ca.py;
origin_ca_root_pem() gives them to tests); their id is the certificate's serial number in
decimal, a revoked certificate leaves the zone's list, and keyless-certificate is accepted
and signed like origin-ecc.

Where Cloudflare's documentation is vague the fake picks one behaviour and says so:
a per_page above the endpoint maximum is clamped (per_page_max), a proxied record is
stored with TTL 1 whatever was sent, the codes of TTL/priority validation errors inside
1004's error_chain are approximations, and so are 1006/1007/1008 for zone settings.

Two test-only hooks, off by default: `host` binds another address than 127.0.0.1 (a
molecule scenario's containers reach it by name), and `publish_txt` mirrors the zones'
TXT records to the management API of pebble-challtestsrv (Pebble's mock DNS server,
POST /set-txt and /clear-txt), so that an ACME test CA resolving through it sees what
the API holds, as Cloudflare's name servers serve what its API holds (DNS-01).

Tests drive it through the FakeCloudflare Python API; other processes (molecule, a shell)
through the control endpoints under /__fake__/ (see ControlMixin), which are neither
authenticated nor logged nor rate limited.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import ipaddress
import itertools
import json
import re
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .origin_ca import CsrError, OriginCA

API_PREFIX = "/client/v4"
TEST_TOKEN = "test-token"  # noqa: S105 (a fake credential, accepted only by this fake)
PROXIABLE_TYPES = {"A", "AAAA", "CNAME"}
RECORD_TYPES = {"A", "AAAA", "CNAME", "TXT", "MX", "NS", "SRV", "CAA", "PTR"}
ALL_PERMISSIONS = frozenset(
    {"zone:read", "dns:read", "dns:edit", "settings:read", "settings:edit", "ssl:read", "ssl:edit"}
)
ORIGIN_CA_REQUEST_TYPES = ("origin-rsa", "origin-ecc", "keyless-certificate")
ORIGIN_CA_VALIDITY_DAYS = (7, 30, 90, 365, 730, 1095, 5475)
HOSTNAME_RE = re.compile(r"^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")

# Values Cloudflare gives a new zone (free plan), restricted to the settings that matter here
# plus a few others so that listing the settings is realistic.
DEFAULT_SETTINGS = {
    "always_online": "off",
    "always_use_https": "off",
    "automatic_https_rewrites": "off",
    "brotli": "on",
    "development_mode": "off",
    "http3": "on",
    "ipv6": "on",
    "min_tls_version": "1.0",
    "opportunistic_encryption": "on",
    "security_level": "medium",
    "ssl": "flexible",
    "tls_1_3": "on",
    "websockets": "on",
}
SETTING_CHOICES = {
    "ssl": {"off", "flexible", "full", "strict"},
    "min_tls_version": {"1.0", "1.1", "1.2", "1.3"},
    "security_level": {"off", "essentially_off", "low", "medium", "high", "under_attack"},
    "tls_1_3": {"on", "off", "zrt"},
}
ON_OFF = {"on", "off"}


def _now():
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _new_id():
    return uuid.uuid4().hex


class ApiError(Exception):
    """An error answer: HTTP status plus Cloudflare error objects."""

    def __init__(self, status, code, message, chain=None, headers=None):
        super().__init__(message)
        self.status = status
        error = {"code": code, "message": message}
        if chain:
            error["error_chain"] = [{"code": c, "message": m} for c, m in chain]
        self.errors = [error]
        self.headers = headers or {}


def _validation_error(message, code=9000):
    return ApiError(400, 1004, "DNS Validation Error", chain=[(code, message)])


class FakeCloudflare:
    """State and behaviour of the fake API, plus the HTTP server that exposes it.

    Use as a context manager or call start()/stop(). `url` is the API base URL
    (http://127.0.0.1:PORT/client/v4) to give the modules as api_url.
    """

    def __init__(
        self, port=0, token=TEST_TOKEN, email="user@example.com", api_key=None, per_page_max=None,
        host="127.0.0.1", publish_txt=None,
    ):  # fmt: skip
        self.lock = threading.RLock()
        self.port = port
        self.host = host
        self.publish_txt = publish_txt.rstrip("/") if publish_txt else None
        self._httpd = None
        self._thread = None
        self.default_token = token
        self.default_email = email
        self.default_api_key = api_key or "0123456789abcdef0123456789abcdef01234"
        self.per_page_max_override = per_page_max
        self.origin_ca = OriginCA()  # kept across reset(): making an RSA root costs time
        self.reset()

    # -- lifecycle -------------------------------------------------------
    def start(self):
        self._httpd = ThreadingHTTPServer((self.host, self.port), _make_handler(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-cloudflare", daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def shutdown_later(self):
        threading.Thread(target=self._httpd.shutdown, daemon=True).start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    # -- seeding and inspection -----------------------------------------
    def reset(self):
        with self.lock:
            self.zones = {}  # id -> zone
            self.records = {}  # zone id -> {record id -> record}
            self.settings = {}  # zone id -> {setting id -> setting}
            self.certificates = {}  # Origin CA certificate id -> certificate (revoked ones too)
            self.tokens = {}
            self.global_keys = {}
            self.requests = []
            self.failures = []
            self.rate_limit = None  # (max requests, window seconds, retry_after)
            self._window = []
            self.per_page_max = {"zones": 50, "dns_records": 5000, "certificates": 50}
            if self.per_page_max_override:
                self.set_per_page_max(self.per_page_max_override)
            self._seq = itertools.count()
            self.add_token(self.default_token)
            self.add_global_key(self.default_email, self.default_api_key)

    def add_token(self, token, permissions=ALL_PERMISSIONS, status="active"):
        with self.lock:
            self.tokens[token] = {"id": _new_id(), "status": status, "permissions": set(permissions)}

    def add_global_key(self, email, key):
        with self.lock:
            self.global_keys[email] = key

    def set_per_page_max(self, value):
        """Largest per_page the list endpoints accept (larger values are clamped)."""
        with self.lock:
            self.per_page_max = {"zones": int(value), "dns_records": int(value), "certificates": int(value)}

    def add_zone(self, name, settings=None, zone_id=None, locked=()):
        """Create a zone; `locked` names settings that are not editable on its (pretend) plan."""
        with self.lock:
            zone_id = zone_id or _new_id()
            now = _now()
            self.zones[zone_id] = {
                "id": zone_id,
                "name": name.lower().rstrip("."),
                "status": "active",
                "paused": False,
                "type": "full",
                "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
                "created_on": now,
                "modified_on": now,
            }
            self.records[zone_id] = {}
            values = dict(DEFAULT_SETTINGS, **(settings or {}))
            self.settings[zone_id] = {
                key: {"id": key, "value": value, "editable": key not in locked, "modified_on": None}
                for key, value in values.items()
            }
            return zone_id

    def add_record(self, zone, **fields):
        """Seed a record without validation (zone is a name or id). Returns the stored record."""
        with self.lock:
            zone_id = zone if zone in self.zones else self.zone_id(zone)
            record = self._normalise_record(self.zones[zone_id], fields)
            record.update(id=fields.get("id") or _new_id(), created_on=_now(), modified_on=_now())
            record["_seq"] = next(self._seq)
            self.records[zone_id][record["id"]] = record
            return self._public(record)

    def zone_id(self, name):
        for zone in self.zones.values():
            if zone["name"] == name.lower().rstrip("."):
                return zone["id"]
        raise KeyError(name)

    def list_records(self, zone, name=None, type=None):
        """Records of a zone (name or id), optionally only those of a name (FQDN) and type."""
        with self.lock:
            zone_id = zone if zone in self.zones else self.zone_id(zone)
            found = sorted(self.records[zone_id].values(), key=lambda r: r["_seq"])
            return [
                self._public(r)
                for r in found
                if (name is None or r["name"] == name.lower().rstrip(".")) and (type is None or r["type"] == type)
            ]

    def zone_settings(self, zone):
        with self.lock:
            zone_id = zone if zone in self.zones else self.zone_id(zone)
            return {key: s["value"] for key, s in self.settings[zone_id].items()}

    def origin_ca_root_pem(self, request_type="origin-ecc"):
        """PEM of the fake root that signs `request_type` certificates, to verify a chain against."""
        return self.origin_ca.root_pem("origin-rsa" if request_type == "origin-rsa" else "origin-ecc")

    def list_certificates(self, zone=None, revoked=False):
        """Origin CA certificates (of a zone name or id), oldest first; revoked ones only if asked."""
        with self.lock:
            zone_name = None
            if zone is not None:
                zone_name = self.zones[zone]["name"] if zone in self.zones else zone.lower().rstrip(".")
            found = sorted(self.certificates.values(), key=lambda c: c["_seq"])
            return [
                self._public(c)
                for c in found
                if (revoked or not c["_revoked_at"])
                and (zone_name is None or any(self._in_zone(h, zone_name) for h in c["hostnames"]))
            ]

    def fail_next(
        self, status=429, count=1, retry_after=1, method=None, path=None, body="json", code=None, message=None
    ):
        """Answer the next `count` API requests (matching method and path substring) with `status`.

        retry_after: seconds sent in Retry-After (None: no header). body: "json" for a Cloudflare
        envelope, "html" for the kind of page an overloaded edge sends. code/message: the
        Cloudflare error to answer with (default: 971 for 429, 10001 otherwise).
        """
        if code is None:
            code, default_message = (
                (971, "Please wait and consider throttling your request speed")
                if status == 429
                else (
                    10001,
                    "Internal server error, please try again later",
                )
            )
            message = message or default_message
        with self.lock:
            self.failures.append(
                {
                    "status": status,
                    "count": count,
                    "retry_after": retry_after,
                    "method": method,
                    "path": path,
                    "body": body,
                    "code": code,
                    "message": message or "Error",
                }
            )

    def set_rate_limit(self, max_requests, window=300, retry_after=1):
        """At most max_requests API requests per window seconds, then 429 with Retry-After."""
        with self.lock:
            self.rate_limit = (max_requests, window, retry_after)
            self._window = []

    def api_requests(self, method=None, path=None):
        """Logged API requests (control endpoints excluded), optionally filtered."""
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r["method"] == method) and (path is None or path in r["path"])
            ]

    def writes(self):
        return [r for r in self.api_requests() if r["method"] != "GET"]

    def clear_requests(self):
        with self.lock:
            self.requests = []

    # -- request handling -------------------------------------------------
    def handle(self, method, raw_path, headers, body_bytes):
        """Return (status, headers, payload) for one API request; payload is a dict or str."""
        parts = urlsplit(raw_path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        entry = {"method": method, "path": path, "query": query, "body": None, "status": None}
        try:
            body = json.loads(body_bytes) if body_bytes else None
        except ValueError:
            body = None
            entry["body"] = body_bytes.decode("utf-8", "replace")
        else:
            entry["body"] = body
        with self.lock:
            self.requests.append(entry)
        status, out_headers, payload = self._dispatch(method, path, query, headers, body, body_bytes)
        entry["status"] = status
        return status, out_headers, payload

    def _dispatch(self, method, path, query, headers, body, body_bytes):
        try:
            forced = self._forced_failure(method, path)
            if forced:
                return forced
            limited = self._rate_limited()
            if limited:
                return limited
            if not path.startswith(API_PREFIX + "/"):
                raise ApiError(404, 7000, "No route for that URI")
            permissions = self._authenticate(headers)
            if body_bytes and body is None:
                raise ApiError(400, 6007, "Malformed JSON in request body")
            result, info = self._route(method, path[len(API_PREFIX) :], query, body, permissions)
        except ApiError as err:
            payload = {"success": False, "errors": err.errors, "messages": [], "result": None}
            return err.status, err.headers, payload
        payload = {"success": True, "errors": [], "messages": [], "result": result}
        if info is not None:
            payload["result_info"] = info
        return 200, {}, payload

    def _forced_failure(self, method, path):
        with self.lock:
            for failure in self.failures:
                if failure["method"] not in (None, method) or (failure["path"] and failure["path"] not in path):
                    continue
                failure["count"] -= 1
                if failure["count"] <= 0:
                    self.failures.remove(failure)
                headers = {}
                if failure["retry_after"] is not None:
                    headers["Retry-After"] = str(failure["retry_after"])
                if failure["body"] == "html":
                    return failure["status"], headers, f"<html><body>{failure['status']} error</body></html>"
                err = ApiError(failure["status"], failure["code"], failure["message"])
                return err.status, headers, {"success": False, "errors": err.errors, "messages": [], "result": None}
        return None

    def _rate_limited(self):
        with self.lock:
            if not self.rate_limit:
                return None
            limit, window, retry_after = self.rate_limit
            now = time.monotonic()
            self._window = [t for t in self._window if now - t < window]
            if len(self._window) >= limit:
                err = ApiError(429, 971, "Please wait and consider throttling your request speed")
                headers = {
                    "Retry-After": str(retry_after),
                    "Ratelimit": f'"default";r=0;t={retry_after}',
                    "Ratelimit-Policy": f'"default";q={limit};w={window}',
                }
                return 429, headers, {"success": False, "errors": err.errors, "messages": [], "result": None}
            self._window.append(now)
        return None

    def _authenticate(self, headers):
        auth = headers.get("Authorization")
        email, key = headers.get("X-Auth-Email"), headers.get("X-Auth-Key")
        if auth:
            if not auth.startswith("Bearer ") or not auth[7:].strip():
                raise ApiError(
                    400, 6003, "Invalid request headers", chain=[(6111, "Invalid format for Authorization header")]
                )
            token = self.tokens.get(auth[7:].strip())
            if token is None or token["status"] != "active":
                raise ApiError(400, 1000, "Invalid API Token")
            return token["permissions"]
        if email or key:
            chain = []
            if not email or "@" not in email:
                chain.append((6102, "Invalid format for X-Auth-Email header"))
            if not key or not re.fullmatch(r"[0-9a-f]{37}", key):
                chain.append((6103, "Invalid format for X-Auth-Key header"))
            if chain:
                raise ApiError(400, 6003, "Invalid request headers", chain=chain)
            if self.global_keys.get(email) != key:
                raise ApiError(403, 9103, "Unknown X-Auth-Key or X-Auth-Email")
            return ALL_PERMISSIONS
        raise ApiError(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")

    @staticmethod
    def _require(permissions, needed):
        if needed not in permissions:
            raise ApiError(403, 10000, "Authentication error")

    def _route(self, method, path, query, body, permissions):
        segments = [s for s in path.split("/") if s]
        if segments == ["user", "tokens", "verify"] and method == "GET":
            return {"id": "token", "status": "active"}, None
        if segments == ["zones"] and method == "GET":
            self._require(permissions, "zone:read")
            return self._list_zones(query)
        if len(segments) >= 2 and segments[0] == "zones":
            zone = self.zones.get(segments[1])
            if zone is None:
                raise ApiError(404, 7003, f"Could not route to {path}, perhaps your object identifier is invalid?")
            rest = segments[2:]
            if rest == [] and method == "GET":
                self._require(permissions, "zone:read")
                return zone, None
            if rest[:1] == ["dns_records"]:
                self._require(permissions, "dns:read" if method == "GET" else "dns:edit")
                return self._dns(method, zone, rest[1:], query, body)
            if rest[:1] == ["settings"]:
                self._require(permissions, "settings:read" if method == "GET" else "settings:edit")
                return self._settings(method, zone, rest[1:], body)
        if segments[:1] == ["certificates"] and len(segments) <= 2:
            self._require(permissions, "ssl:read" if method == "GET" else "ssl:edit")
            return self._certificates(method, segments[1:], query, body)
        raise ApiError(405 if segments[:1] == ["zones"] else 404, 7000, "No route for that URI")

    # -- zones -------------------------------------------------------------
    def _paginate(self, items, query, kind, default_per_page):
        try:
            page = max(1, int(query.get("page", 1)))
            per_page = int(query.get("per_page", default_per_page))
        except ValueError as exc:
            raise ApiError(400, 1001, "Invalid page or per_page parameter") from exc
        per_page = min(max(per_page, 1), self.per_page_max[kind])
        total = len(items)
        total_pages = max(1, -(-total // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        info = {
            "page": page,
            "per_page": per_page,
            "count": len(chunk),
            "total_count": total,
            "total_pages": total_pages,
        }
        return chunk, info

    def _list_zones(self, query):
        with self.lock:
            zones = sorted(self.zones.values(), key=lambda z: z["name"])
        if "name" in query:
            zones = [z for z in zones if z["name"] == query["name"].lower()]
        if "status" in query:
            zones = [z for z in zones if z["status"] == query["status"]]
        return self._paginate([copy.deepcopy(z) for z in zones], query, "zones", 20)

    # -- DNS records ---------------------------------------------------------
    @staticmethod
    def _public(record):
        return {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}

    def _dns(self, method, zone, rest, query, body):
        with self.lock:
            before = self._txt_values(zone)
            try:
                return self._dns_locked(method, zone, rest, query, body)
            finally:
                if self.publish_txt and method != "GET":
                    after = self._txt_values(zone)
                    for name in sorted(before.keys() | after.keys()):
                        if before.get(name) != after.get(name):
                            self._publish_txt(name, after.get(name, []))

    def _txt_values(self, zone):
        values = {}
        for record in self.records[zone["id"]].values():
            if record["type"] == "TXT":
                values.setdefault(record["name"], []).append(record["content"])
        return {name: sorted(contents) for name, contents in values.items()}

    def _publish_txt(self, name, values):
        """Make challtestsrv answer for `name` exactly the TXT records the zone holds (test hook)."""
        calls = [("clear-txt", {"host": name + "."})] + [("set-txt", {"host": name + ".", "value": v}) for v in values]
        for action, payload in calls:
            url = f"{self.publish_txt}/{action}"
            request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=5):  # noqa: S310 (a test URL given by the caller)
                    pass
            except OSError as exc:
                print(f"fake Cloudflare: publishing TXT {name} to {self.publish_txt} failed: {exc}", file=sys.stderr)

    def _dns_locked(self, method, zone, rest, query, body):
        records = self.records[zone["id"]]
        if rest == [] and method == "GET":
            return self._list_dns(records, query)
        if rest == [] and method == "POST":
            return self._write_record(zone, None, body or {}), None
        if len(rest) == 1:
            record = records.get(rest[0])
            if record is None:
                raise ApiError(404, 81044, "Record does not exist.")
            if method == "GET":
                return self._public(record), None
            if method == "DELETE":
                del records[rest[0]]
                return {"id": rest[0]}, None
            if method == "PUT":
                return self._write_record(zone, record, body or {}), None
            if method == "PATCH":
                merged = {k: v for k, v in record.items() if not k.startswith("_")}
                merged.update(body or {})
                return self._write_record(zone, record, merged), None
        raise ApiError(405, 10405, f"Method {method} not allowed here")

    def _list_dns(self, records, query):
        found = sorted(records.values(), key=lambda r: r["_seq"])
        name = query.get("name.exact", query.get("name"))
        if name is not None:
            found = [r for r in found if r["name"] == name.lower().rstrip(".")]
        if "type" in query:
            found = [r for r in found if r["type"] == query["type"]]
        content = query.get("content.exact", query.get("content"))
        if content is not None:
            found = [r for r in found if r["content"] == content]
        if "proxied" in query:
            found = [r for r in found if r["proxied"] == (query["proxied"] == "true")]
        return self._paginate([self._public(r) for r in found], query, "dns_records", 100)

    def _normalise_record(self, zone, fields):
        """Turn request fields into a stored record (no validation: see _validate_record)."""
        rtype = str(fields.get("type", "")).upper()
        name = str(fields.get("name", "@")).lower().rstrip(".")
        if name in ("@", ""):
            name = zone["name"]
        elif name != zone["name"] and not name.endswith("." + zone["name"]):
            name = f"{name}.{zone['name']}"
        data = fields.get("data")
        content = fields.get("content")
        if rtype == "SRV" and isinstance(data, dict):
            content = f"{data.get('weight')} {data.get('port')} {data.get('target')}"
        elif rtype == "CAA" and isinstance(data, dict):
            content = f'{data.get("flags")} {data.get("tag")} "{data.get("value")}"'
        content = "" if content is None else str(content)
        if rtype == "AAAA":
            with contextlib.suppress(ValueError):
                content = str(ipaddress.IPv6Address(content))
        if rtype in ("CNAME", "MX", "NS", "PTR"):
            content = content.rstrip(".")
        proxiable = rtype in PROXIABLE_TYPES
        proxied = bool(fields.get("proxied", False)) and proxiable
        ttl = fields.get("ttl", 1)
        record = {
            "name": name,
            "type": rtype,
            "content": content,
            "proxiable": proxiable,
            "proxied": proxied,
            "ttl": 1 if proxied else ttl,
            "settings": {},
            "meta": {},
            "comment": fields.get("comment") or None,
            "tags": list(fields.get("tags") or []),
        }
        if rtype in ("MX", "SRV", "URI"):
            priority = fields.get("priority")
            if rtype == "SRV" and isinstance(data, dict) and "priority" in data:
                priority = data["priority"]
            record["priority"] = priority
        if isinstance(data, dict) and rtype in ("SRV", "CAA"):
            record["data"] = dict(data)
        return record

    def _validate_record(self, zone, fields, record):
        rtype = record["type"]
        if rtype not in RECORD_TYPES:
            raise _validation_error(f"Invalid or unsupported record type '{fields.get('type')}'", 9009)
        labels = record["name"].split(".")
        if len(record["name"]) > 253 or any(len(label) > 63 or not label for label in labels):
            raise _validation_error("DNS name is invalid: labels must be 1 to 63 characters, 253 in all", 9002)
        if isinstance(fields.get("proxied"), bool) and fields["proxied"] and rtype not in PROXIABLE_TYPES:
            raise ApiError(400, 9004, "This record type cannot be proxied.")
        ttl = fields.get("ttl", 1)
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not (ttl == 1 or 60 <= ttl <= 86400):
            raise _validation_error("TTL must be between 60 and 86400 seconds, or 1 for Automatic.", 9021)
        content = record["content"]
        if len(content.encode("utf-8")) > 4096:
            raise _validation_error("Content is too long: 4096 bytes at most.", 9100)
        if rtype == "A":
            try:
                ipaddress.IPv4Address(content)
            except ValueError as exc:
                raise ApiError(400, 9005, "Content for A record is invalid. Must be a valid IPv4 address") from exc
        elif rtype == "AAAA":
            try:
                ipaddress.IPv6Address(content)
            except ValueError as exc:
                raise ApiError(400, 9005, "Content for AAAA record is invalid. Must be a valid IPv6 address") from exc
        elif rtype in ("CNAME", "MX", "NS", "PTR"):
            if not HOSTNAME_RE.match(content.lower()):
                raise ApiError(400, 9007, f"Content for {rtype} record is invalid.")
        elif rtype == "TXT" and not content:
            raise _validation_error("Content for TXT record is empty.", 9005)
        if rtype in ("MX", "SRV"):
            priority = record.get("priority")
            if not isinstance(priority, int) or not 0 <= priority <= 65535:
                raise _validation_error(f"{rtype} record priority must be an integer from 0 to 65535.", 9101)
        if rtype == "SRV":
            data = fields.get("data")
            if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in ("weight", "port")):
                raise _validation_error("SRV record data must contain weight, port, priority and target.", 9102)
            if not HOSTNAME_RE.match(str(data.get("target", "")).lower().rstrip(".")):
                raise _validation_error("SRV record target is invalid.", 9102)
        if rtype == "CAA":
            data = fields.get("data")
            if not isinstance(data, dict) or data.get("tag") not in ("issue", "issuewild", "iodef"):
                raise _validation_error("CAA record data must contain flags, tag and value.", 9103)
        for tag in record["tags"]:
            if not isinstance(tag, str) or not re.fullmatch(r"[^\s:]+(:\S*)?", tag):
                raise _validation_error(f"Invalid tag '{tag}'.", 9300)

    def _write_record(self, zone, existing, fields):
        record = self._normalise_record(zone, fields)
        self._validate_record(zone, fields, record)
        records = self.records[zone["id"]]
        own_id = existing["id"] if existing else None
        same_name = [r for r in records.values() if r["name"] == record["name"] and r["id"] != own_id]
        if record["type"] == "CNAME" and any(r["type"] in PROXIABLE_TYPES for r in same_name):
            raise ApiError(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")
        if record["type"] in ("A", "AAAA") and any(r["type"] == "CNAME" for r in same_name):
            raise ApiError(400, 81054, "A CNAME record with that host already exists.")
        for other in same_name:
            if other["type"] == record["type"] and other["content"] == record["content"]:
                raise ApiError(400, 81057, "Record already exists.")
        now = _now()
        if existing:
            record.update(id=existing["id"], created_on=existing["created_on"], _seq=existing["_seq"])
        else:
            record.update(id=_new_id(), created_on=now, _seq=next(self._seq))
        record["modified_on"] = now
        records[record["id"]] = record
        return self._public(record)

    # -- zone settings --------------------------------------------------------
    def _settings(self, method, zone, rest, body):
        settings = self.settings[zone["id"]]
        with self.lock:
            if rest == [] and method == "GET":
                return [dict(s) for s in settings.values()], None
            if rest == [] and method == "PATCH":
                items = (body or {}).get("items")
                if not isinstance(items, list) or not items:
                    raise ApiError(400, 1004, "Request must contain a non-empty list of items")
                for item in items:
                    self._check_setting(settings, item.get("id"), item.get("value"))
                return [self._set_setting(settings, item["id"], item["value"]) for item in items], None
            if len(rest) == 1 and method == "GET":
                if rest[0] not in settings:
                    raise ApiError(400, 1006, "Unrecognized zone setting name")
                return dict(settings[rest[0]]), None
            if len(rest) == 1 and method == "PATCH":
                value = (body or {}).get("value")
                self._check_setting(settings, rest[0], value)
                return self._set_setting(settings, rest[0], value), None
        raise ApiError(405, 10405, f"Method {method} not allowed here")

    @staticmethod
    def _check_setting(settings, key, value):
        if key not in settings:
            raise ApiError(400, 1006, "Unrecognized zone setting name")
        current = settings[key]["value"]
        choices = SETTING_CHOICES.get(key, ON_OFF if current in ON_OFF else None)
        if choices is not None and value not in choices:
            raise ApiError(400, 1007, f"Invalid value for zone setting {key}")
        if not settings[key]["editable"]:
            raise ApiError(400, 1008, f"Zone setting {key} is not editable on this zone's plan")

    @staticmethod
    def _set_setting(settings, key, value):
        settings[key].update(value=value, modified_on=_now())
        return dict(settings[key])

    # -- Origin CA certificates -------------------------------------------------
    @staticmethod
    def _in_zone(hostname, zone_name):
        name = hostname[2:] if hostname.startswith("*.") else hostname
        return name == zone_name or name.endswith("." + zone_name)

    def _certificates(self, method, rest, query, body):
        with self.lock:
            if rest == [] and method == "GET":
                zone_id = query.get("zone_id")
                if not zone_id:
                    raise ApiError(400, 1015, "zone_id is required to list Origin CA certificates")
                if zone_id not in self.zones:
                    raise ApiError(
                        404, 7003, "Could not route to /certificates, perhaps your object identifier is invalid?"
                    )
                return self._paginate(self.list_certificates(zone_id), query, "certificates", 20)
            if rest == [] and method == "POST":
                return self._create_certificate(body if isinstance(body, dict) else {}), None
            if len(rest) == 1 and method in ("GET", "DELETE"):
                cert = self.certificates.get(rest[0])
                if cert is None or (method == "DELETE" and cert["_revoked_at"]):
                    raise ApiError(404, 1016, "The requested certificate could not be found")
                if method == "GET":
                    return self._public(cert), None
                cert["_revoked_at"] = _now()
                return {"id": cert["id"], "revoked_at": cert["_revoked_at"]}, None
        raise ApiError(405, 10405, f"Method {method} not allowed here")

    def _create_certificate(self, body):
        request_type = body.get("request_type")
        if request_type not in ORIGIN_CA_REQUEST_TYPES:
            raise ApiError(
                400,
                1012,
                "request_type must be one of {}, not {!r}".format(", ".join(ORIGIN_CA_REQUEST_TYPES), request_type),
            )
        validity = body.get("requested_validity", 5475)
        if isinstance(validity, bool) or validity not in ORIGIN_CA_VALIDITY_DAYS:
            raise ApiError(
                400,
                1013,
                "requested_validity must be one of {} days, not {!r}".format(
                    ", ".join(map(str, ORIGIN_CA_VALIDITY_DAYS)), validity
                ),
            )
        hostnames = body.get("hostnames")
        if not isinstance(hostnames, list) or not hostnames or not all(isinstance(h, str) for h in hostnames):
            raise ApiError(400, 1011, "hostnames must be a non-empty list of host names")
        hostnames = [h.strip().lower().rstrip(".") for h in hostnames]
        zone_names = {z["name"] for z in self.zones.values()}
        for hostname in hostnames:
            bare = hostname[2:] if hostname.startswith("*.") else hostname
            if "*" in bare or not HOSTNAME_RE.match(bare) or "." not in bare:
                raise ApiError(400, 1011, f"Invalid hostname {hostname!r}: wildcards only as a single leading '*.'")
            if not any(self._in_zone(hostname, zone) for zone in zone_names):
                raise ApiError(
                    400,
                    1010,
                    f"Failed to validate requested hostname {hostname}: This zone is either not part of your "
                    "account, or you do not have access to it.",
                )
        csr = body.get("csr")
        if not isinstance(csr, str) or not csr.strip():
            raise ApiError(400, 1014, "csr is required")
        try:
            public_key = self.origin_ca.parse_csr(
                csr, "origin-ecc" if request_type == "keyless-certificate" else request_type
            )
        except CsrError as exc:
            raise ApiError(400, 1014, f"Invalid CSR: {exc}") from exc
        signer = "origin-rsa" if request_type == "origin-rsa" else "origin-ecc"
        serial, pem, expires = self.origin_ca.sign(public_key, hostnames, signer, validity)
        cert = {
            "id": str(serial),
            "certificate": pem,
            "hostnames": hostnames,
            "expires_on": expires.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"),
            "request_type": request_type,
            "requested_validity": validity,
            "csr": csr,
            "_revoked_at": None,
            "_seq": next(self._seq),
        }
        self.certificates[cert["id"]] = cert
        return self._public(cert)


class ControlMixin:
    """Control endpoints, for processes that cannot use the Python API (molecule, shells).

    GET  /__fake__/state                      zones, records, settings, certificates and the request log
    POST /__fake__/reset                      forget everything (the default token stays)
    POST /__fake__/zones      {name, settings?, id?}
    POST /__fake__/records    {zone, name, type, content, ...}
    POST /__fake__/tokens     {token, permissions?}
    POST /__fake__/fail       {status?, count?, retry_after?, method?, path?, body?}
    POST /__fake__/rate_limit {max_requests, window?, retry_after?}
    POST /__fake__/per_page_max {value}
    POST /__fake__/clear_requests
    POST /__fake__/shutdown
    """

    def control(self, fake, method, path, body):
        action = path[len("/__fake__/") :]
        body = body or {}
        if method == "GET" and action == "state":
            with fake.lock:
                zones = {z["name"]: z["id"] for z in fake.zones.values()}
                return 200, {
                    "zones": zones,
                    "records": {name: fake.list_records(zone_id) for name, zone_id in zones.items()},
                    "settings": {name: fake.zone_settings(zone_id) for name, zone_id in zones.items()},
                    "certificates": fake.list_certificates(revoked=True),
                    "requests": list(fake.requests),
                }
        if method != "POST":
            return 405, {"error": "use POST"}
        handlers = {
            "reset": lambda: fake.reset(),
            "zones": lambda: {"id": fake.add_zone(**body)},
            "records": lambda: fake.add_record(body.pop("zone"), **body),
            "tokens": lambda: fake.add_token(body["token"], body.get("permissions", ALL_PERMISSIONS)),
            "fail": lambda: fake.fail_next(**body),
            "rate_limit": lambda: fake.set_rate_limit(**body),
            "per_page_max": lambda: fake.set_per_page_max(body["value"]),
            "clear_requests": lambda: fake.clear_requests(),
            "shutdown": lambda: "stopping",  # the handler stops the server once this answer is sent
        }
        if action not in handlers:
            return 404, {"error": f"unknown control action {action}"}
        try:
            return 200, {"ok": True, "result": handlers[action]()}
        except (KeyError, TypeError, ValueError) as exc:
            return 400, {"error": f"{type(exc).__name__}: {exc}"}


def _make_handler(fake):
    class Handler(ControlMixin, BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fake-cloudflare"
        wbufsize = -1  # headers and body in one segment: no Nagle/delayed-ACK stall per request
        disable_nagle_algorithm = True

        def log_message(self, *args):  # keep test output quiet
            pass

        def _serve(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.startswith("/__fake__/"):
                try:
                    data = json.loads(body) if body else None
                except ValueError:
                    data = None
                status, payload = self.control(fake, method, urlsplit(self.path).path, data)
                headers = {}
            else:
                status, headers, payload = fake.handle(method, self.path, self.headers, body)
            raw = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            ctype = "text/html" if isinstance(payload, str) else "application/json"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(raw)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)
            if self.path.startswith("/__fake__/shutdown") and status == 200:
                self.wfile.flush()
                fake.shutdown_later()

        def do_GET(self):  # noqa: N802 (http.server's naming)
            self._serve("GET")

        def do_POST(self):  # noqa: N802
            self._serve("POST")

        def do_PUT(self):  # noqa: N802
            self._serve("PUT")

        def do_PATCH(self):  # noqa: N802
            self._serve("PATCH")

        def do_DELETE(self):  # noqa: N802
            self._serve("DELETE")

    return Handler
