# Jinja tests for every role's preflight: names and addresses browsers use, URL paths, upstream URLs.
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests: ``x is jupyter_edge.deploy.dns_name``, ``ip_address``, ``public_name``, ``loopback``,
``url_path``, ``http_url``, ``unix_url``."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_DNS_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?$")


def dns_name(value) -> bool:
    """A DNS host name: no scheme, port, path, wildcard or IP literal."""
    if not isinstance(value, str) or not _DNS_NAME.match(value):
        return False
    # All-numeric labels only: that is an (invalid) IPv4 address, not a name.
    return not all(label.isdigit() for label in value.rstrip(".").split("."))


def ip_address(value) -> bool:
    """An IPv4 or IPv6 address, without brackets, port or prefix length."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def public_name(value) -> bool:
    """What a browser may put in the Host header: a DNS name or an IP address."""
    return dns_name(value) or ip_address(value)


def loopback(value) -> bool:
    """A loopback address (127.0.0.0/8, ::1) or the name localhost."""
    if value == "localhost":
        return True
    return ip_address(value) and ipaddress.ip_address(value).is_loopback


_SEGMENTS = re.compile(r"^/([A-Za-z0-9._~-]+/)*$")


def url_path(value) -> bool:
    """A base URL or proxy location: starts and ends with '/', only unreserved characters in segments."""
    return isinstance(value, str) and bool(_SEGMENTS.match(value))


def http_url(value, port_required: bool = False) -> bool:
    """http(s)://host[:port][/] of a server: a DNS name, an IPv4 address or an [IPv6] literal, and no
    credentials, path, query or fragment (the path is the location, passed on unchanged)."""
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return False
    host = parts.hostname or ""
    bracketed = parts.netloc.rsplit("@", 1)[-1].startswith("[")
    return (
        parts.scheme in ("http", "https")
        and "@" not in parts.netloc
        and parts.path in ("", "/")
        and not (parts.query or parts.fragment or value.endswith("?") or value.endswith("#"))
        and (dns_name(host) or (ip_address(host) and (":" in host) == bracketed))
        and (port is not None or not port_required)
        and (port is None or 1 <= port <= 65535)
    )


def unix_url(value) -> bool:
    """unix:<absolute path> of a server's unix socket, as the proxy roles take it (no spaces, no '|')."""
    return (
        isinstance(value, str)
        and value.startswith("unix:/")
        and not value.endswith("/")
        and not any(c.isspace() or c in "|;{}" for c in value)
    )


class TestModule:
    def tests(self):
        return {
            "dns_name": dns_name,
            "ip_address": ip_address,
            "public_name": public_name,
            "loopback": loopback,
            "url_path": url_path,
            "http_url": http_url,
            "unix_url": unix_url,
        }
