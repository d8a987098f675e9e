#!/usr/bin/python
# Copyright (c) jupyter_edge.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_zone_settings
short_description: Set Cloudflare zone settings
description:
  - Sets settings of a Cloudflare zone (SSL mode, Always Use HTTPS, Automatic HTTPS Rewrites,
    WebSockets, minimum TLS version and any other zone setting) from one dictionary, in one API call,
    and reports exactly which settings changed.
  - Settings not named in O(settings) are left alone.
  - "B(API requests.) A run that changes nothing sends 2 requests: the zone lookup and the list of the
    zone's settings. Changing any number of settings adds 1 (C(PATCH /zones/{id}/settings)).
    The number is returned as RV(api_requests)."
  - Input is validated before any request, and every setting is checked against the zone (known and
    editable on its plan) before anything is written.
version_added: 0.1.0
author:
  - jupyter_edge.deploy maintainers (@jupyter-edge)
extends_documentation_fragment:
  - jupyter_edge.deploy.cloudflare
  - jupyter_edge.deploy._attributes
  - jupyter_edge.deploy._attributes.actiongroup_cloudflare
attributes:
  check_mode:
    support: full
    details: Sends only the read requests and reports what would change.
  diff_mode:
    support: full
    details: Shows the values of the settings named in O(settings) before and after.
  idempotent:
    support: full
    details: A second run with the same settings sends no write.
options:
  zone:
    description:
      - Name of the zone (for example V(example.com)).
    type: str
    required: true
    aliases: [domain]
  settings:
    description:
      - Setting names (Cloudflare's ids) and the values they should have.
      - "V(ssl): V(off), V(flexible), V(full) or V(strict) (shown as \"Full (strict)\" in the dashboard)."
      - "V(always_use_https), V(automatic_https_rewrites), V(websockets) and the other on/off settings:
        V(on) or V(off); YAML booleans (V(true), V(false), and unquoted C(on)/C(off)) are accepted."
      - "V(min_tls_version): V('1.0'), V('1.1'), V('1.2') or V('1.3'); numbers such as V(1.2) are accepted."
      - Any other setting is sent as given (a number, string, list or dictionary), for example
        V(browser_cache_ttl) or V(security_level).
    type: dict
    required: true
notes:
  - The API is called from where the module runs; delegate the task to V(localhost).
  - The zone's settings list is one page in the API, so it is read with a single request.
seealso:
  - module: jupyter_edge.deploy.cloudflare_dns
  - name: Cloudflare API, zone settings
    description: Reference of the zone settings endpoints.
    link: https://developers.cloudflare.com/api/resources/zones/subresources/settings/
"""

EXAMPLES = r"""
- name: HTTPS for Jupyter behind Cloudflare's proxy
  jupyter_edge.deploy.cloudflare_zone_settings:
    zone: example.org
    settings:
      ssl: strict
      always_use_https: "on"
      automatic_https_rewrites: "on"
      websockets: "on"
      min_tls_version: "1.2"
    api_token: "{{ cloudflare_api_token }}"
  delegate_to: localhost
  register: zone_settings

- name: Show what changed
  ansible.builtin.debug:
    var: zone_settings.changed_settings
"""

RETURN = r"""
changed_settings:
  description: Names of the settings that changed (or would, in check mode), sorted.
  returned: always
  type: list
  elements: str
  sample: [automatic_https_rewrites, ssl]
settings:
  description: Values of the settings named in O(settings) after the task (in check mode, as they would be).
  returned: always
  type: dict
  sample: {ssl: strict, always_use_https: "on", min_tls_version: "1.2"}
api_requests:
  description: Number of HTTP requests sent to the API, retries included (2 when nothing changes).
  returned: always
  type: int
  sample: 2
"""

from ansible_collections.jupyter_edge.deploy.plugins.module_utils._cloudflare import (
    CloudflareError,
    cloudflare_module,
    run_module,
    zone_path,
)

ON_OFF_SETTINGS = (
    "always_online",
    "always_use_https",
    "automatic_https_rewrites",
    "brotli",
    "browser_check",
    "development_mode",
    "early_hints",
    "email_obfuscation",
    "hotlink_protection",
    "http3",
    "ip_geolocation",
    "ipv6",
    "opportunistic_encryption",
    "opportunistic_onion",
    "rocket_loader",
    "server_side_exclude",
    "tls_client_auth",
    "websockets",
)
CHOICES = {
    "ssl": ("off", "flexible", "full", "strict"),
    "min_tls_version": ("1.0", "1.1", "1.2", "1.3"),
    "tls_1_3": ("on", "off", "zrt"),
}


def normalise(name, value):
    """The value as Cloudflare stores it; raises ValueError for a value the setting does not take."""
    if isinstance(value, bool) and (name in ON_OFF_SETTINGS or name in ("tls_1_3",)):
        value = "on" if value else "off"
    if name == "min_tls_version" and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = f"{value:.1f}"
    choices = CHOICES.get(name, ("on", "off") if name in ON_OFF_SETTINGS else None)
    if choices is not None and value not in choices:
        raise ValueError("{} must be one of {}, not {!r}".format(name, ", ".join(choices), value))
    return value


def apply_settings(module, client, wanted):
    zone = module.params["zone"]
    settings_path = zone_path(client.zone_id(zone), "settings")
    current = {item["id"]: item for item in client.get(settings_path) or []}

    unknown = sorted(set(wanted) - set(current))
    if unknown:
        raise CloudflareError("Zone {} has no setting named {}".format(zone, ", ".join(unknown)))
    changed = sorted(name for name, value in wanted.items() if current[name]["value"] != value)
    locked = [name for name in changed if current[name].get("editable") is False]
    if locked:
        raise CloudflareError(
            "Setting {} of zone {} cannot be changed on its Cloudflare plan (editable: false)".format(
                ", ".join(locked), zone
            )
        )

    before = {name: current[name]["value"] for name in wanted}
    after = dict(before, **{name: wanted[name] for name in changed})
    if changed and not module.check_mode:
        updated = client.patch(settings_path, {"items": [{"id": name, "value": wanted[name]} for name in changed]})
        after.update({item["id"]: item["value"] for item in updated or [] if item.get("id") in wanted})
    result = {"changed": bool(changed), "changed_settings": changed, "settings": after}
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    return result


def main():
    module = cloudflare_module(
        dict(
            zone=dict(type="str", required=True, aliases=["domain"]),
            settings=dict(type="dict", required=True),
        ),
        supports_check_mode=True,
    )
    if not module.params["settings"]:
        module.fail_json(msg="settings must name at least one zone setting")
    try:
        wanted = {name: normalise(name, value) for name, value in module.params["settings"].items()}
    except ValueError as err:
        module.fail_json(msg="Invalid zone setting for {}: {}".format(module.params["zone"], err))

    run_module(module, lambda client: apply_settings(module, client, wanted))


if __name__ == "__main__":
    main()
