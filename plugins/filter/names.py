# Filter for the names and addresses a site answers for: one rule for every proxy role.
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``primary | jupyter_edge.deploy.site_names(aliases, facts, ansible_host)``, ``name | jupyter_edge.deploy.san``."""

from __future__ import annotations

import ipaddress

from ansible_collections.jupyter_edge.deploy.plugins.test.validators import ip_address


def host_addresses(facts: dict | None, ansible_host: str | None = None) -> list[str]:
    """The addresses a browser may use for this host: ansible_host when it is an address, and the
    addresses of its interfaces (network facts), without loopback and link-local ones."""
    facts = facts or {}
    found = [ansible_host] if ip_address(ansible_host) else []
    found += facts.get("all_ipv4_addresses", []) + facts.get("all_ipv6_addresses", [])
    keep = []
    for address in found:
        parsed = ipaddress.ip_address(address)
        if not (parsed.is_loopback or parsed.is_link_local) and address not in keep:
            keep.append(address)
    return keep


def site_names(primary: str, aliases=(), facts: dict | None = None, ansible_host: str | None = None) -> list[str]:
    """The primary name, the aliases, then (with facts) the host's addresses; each once, in that order."""
    names: list[str] = []
    extra = host_addresses(facts, ansible_host) if facts is not None else []
    for name in [primary, *(aliases or []), *extra]:
        if name and name not in names:
            names.append(name)
    return names


def san(name: str) -> str:
    """A subjectAltName entry for a certificate: IP:<address> or DNS:<name>."""
    return f"IP:{name}" if ip_address(name) else f"DNS:{name}"


class FilterModule:
    def filters(self):
        return {"site_names": site_names, "host_addresses": host_addresses, "san": san}
