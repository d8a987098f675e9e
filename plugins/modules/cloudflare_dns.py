#!/usr/bin/python
# Copyright (c) jupyter_edge.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_dns
short_description: Manage one Cloudflare DNS record
description:
  - Creates, updates or deletes a DNS record in a Cloudflare zone through the Cloudflare API v4.
  - Option names follow M(community.general.cloudflare_dns) where they overlap, so a playbook can switch
    by changing the module name.
  - "Idempotent in the cases users hit: record names relative or fully qualified, with a trailing dot or in
    another case; IPv6 addresses in another notation; TXT values with or without surrounding quotes;
    proxied records, whose TTL Cloudflare always reports as 1 (automatic). A second run with the same
    input sends no write."
  - "B(Which record is managed.) Records are looked up by name and type. A CNAME is unique per name, so
    an existing CNAME is updated in place. For the other types a record is identified by its value
    (A/AAAA address, TXT text, MX/NS target, SRV target and port, CAA tag and value); the other
    attributes (TTL, proxied, priority, weight, CAA flags, comment, tags) are updated in place."
  - "B(An A record whose address changes) (or any other value change) without O(solo=true) adds a record
    next to the existing ones, as in M(community.general.cloudflare_dns): a name may carry several A
    records. With O(solo=true) the existing record is updated in place to the new address (one API
    write) and any further records of that name and type are deleted afterwards."
  - "B(API requests.) A run that changes nothing sends 2 requests: the zone lookup and one list of the
    records of that name and type (more only if the list has more than 100 records and so more than one
    page). Creating or updating adds 1, and each deletion 1. The number is returned as RV(api_requests)."
  - Input is validated before any request is sent.
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
    details: Sends only the read requests and returns the record as it would be.
  diff_mode:
    support: full
    details: Shows the records of that name and type before and after.
  idempotent:
    support: full
    details: See the description for the cases covered.
options:
  zone:
    description:
      - Name of the zone (for example V(example.com)). The zone must exist in Cloudflare.
    type: str
    required: true
    aliases: [domain]
  record:
    description:
      - Name of the record, relative to O(zone) (V(www)) or fully qualified (V(www.example.com), with or
        without a trailing dot). V(@) is the zone apex.
      - A name with a trailing dot must be inside O(zone); a name without one that does not end with
        O(zone) is taken as relative to it.
      - For O(type=SRV) this is the name after C(_service._proto).
    type: str
    default: '@'
    aliases: [name]
  type:
    description:
      - Type of the record.
    type: str
    required: true
    choices: [A, AAAA, CNAME, TXT, MX, NS, SRV, CAA, PTR]
  value:
    description:
      - Content of the record; for O(type=SRV) the target host, for O(type=CAA) the CAA value.
      - Required with O(state=present).
      - With O(state=absent), only records with this value are deleted; without it, every record of
        that name and type is.
    type: str
    aliases: [content]
  ttl:
    description:
      - Time to live in seconds, from 60 to 86400, or V(1) for automatic.
      - Ignored for proxied records, whose TTL Cloudflare sets to automatic.
    type: int
    default: 1
  proxied:
    description:
      - Whether traffic goes through Cloudflare's proxy (websockets included) instead of DNS only.
      - Only A, AAAA and CNAME records can be proxied.
    type: bool
    default: false
  priority:
    description:
      - Priority of an MX or SRV record, 0 to 65535. Defaults to V(1) for those types.
    type: int
  weight:
    description:
      - Weight of an SRV record, 0 to 65535. Defaults to V(1).
    type: int
  port:
    description:
      - Port of an SRV record. Required for O(type=SRV).
    type: int
  service:
    description:
      - Service of an SRV record, with or without the leading underscore (V(sip)). Required for O(type=SRV).
    type: str
  proto:
    description:
      - Protocol of an SRV record, with or without the leading underscore (V(tcp)). Required for O(type=SRV).
    type: str
  flag:
    description:
      - Flags of a CAA record, 0 to 255 (128 is "issuer critical").
    type: int
    default: 0
  tag:
    description:
      - Tag of a CAA record. Required for O(type=CAA).
    type: str
    choices: [issue, issuewild, iodef]
  comment:
    description:
      - Comment on the record. Left as it is when not set; an empty string removes it.
    type: str
  tags:
    description:
      - Cloudflare tags of the record (C(name:value) strings). Left as they are when not set; V([]) removes them.
    type: list
    elements: str
  solo:
    description:
      - Whether this should be the only record of its name and type.
      - The other records are deleted only after the desired record is in place, so a failure half way
        never leaves the name without a record.
      - Only with O(state=present).
    type: bool
    default: false
  state:
    description:
      - Whether the record should exist.
    type: str
    choices: [present, absent]
    default: present
notes:
  - The API is called from where the module runs; delegate the task to V(localhost) so that the managed
    host needs no access to Cloudflare.
  - Requests answered with HTTP 408, 429 or 5xx are retried, see O(api_retries) and O(api_retry_max_delay).
seealso:
  - module: jupyter_edge.deploy.cloudflare_zone_settings
  - module: community.general.cloudflare_dns
  - name: Cloudflare API, DNS records
    description: Reference of the DNS records endpoints.
    link: https://developers.cloudflare.com/api/resources/dns/subresources/records/
"""

EXAMPLES = r"""
- name: Point jupyter.example.org at the server, proxied through Cloudflare
  jupyter_edge.deploy.cloudflare_dns:
    zone: example.org
    record: jupyter
    type: A
    value: 203.0.113.10
    proxied: true
    solo: true
    api_token: "{{ cloudflare_api_token }}"
  delegate_to: localhost

- name: Same name over IPv6, DNS only, TTL 5 minutes
  jupyter_edge.deploy.cloudflare_dns:
    zone: example.org
    record: jupyter.example.org.
    type: AAAA
    value: 2001:db8::10
    ttl: 300
  delegate_to: localhost

- name: Let Let's Encrypt issue certificates for the zone
  jupyter_edge.deploy.cloudflare_dns:
    zone: example.org
    type: CAA
    tag: issue
    value: letsencrypt.org
  delegate_to: localhost

- name: Remove every TXT record of _acme-challenge.jupyter
  jupyter_edge.deploy.cloudflare_dns:
    zone: example.org
    record: _acme-challenge.jupyter
    type: TXT
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
record:
  description:
    - The record as Cloudflare holds it after the task (in check mode, as it would be; its C(id)
      is null if it would be created).
  returned: state is present
  type: dict
  sample:
    id: 372e67954025e0ba6aaa6d586b9e0b59
    name: jupyter.example.org
    type: A
    content: 203.0.113.10
    proxiable: true
    proxied: true
    ttl: 1
    comment: null
    tags: []
result:
  description: The same record under the key C(record), as M(community.general.cloudflare_dns) returns it.
  returned: state is present
  type: dict
deleted:
  description: Ids of the records deleted (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [023e105f4ecef8ad9ca31a8372d0c353]
api_requests:
  description: Number of HTTP requests sent to the API, retries included (2 when nothing changes).
  returned: always
  type: int
  sample: 2
"""

import ipaddress
import re

from ansible_collections.jupyter_edge.deploy.plugins.module_utils._cloudflare import (
    cloudflare_module,
    run_module,
    zone_path,
)

PROXIABLE_TYPES = ("A", "AAAA", "CNAME")
HOSTNAME_TYPES = ("CNAME", "MX", "NS", "PTR")
LABEL_RE = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$")
MAX_CONTENT_BYTES = 4096


def fqdn(record, zone):
    """Fully qualified, lower-case record name inside `zone`; raises ValueError for a name outside it."""
    zone = zone.strip().lower().rstrip(".")
    name = record.strip().lower()
    if name in ("@", ""):
        return zone
    if name.endswith("."):
        name = name[:-1]
        if name != zone and not name.endswith("." + zone):
            raise ValueError(f"record {record} is not inside zone {zone}")
        return name
    if name == zone or name.endswith("." + zone):
        return name
    return f"{name}.{zone}"


def check_hostname(name, what):
    """Raise ValueError unless `name` (no trailing dot) is a valid DNS name (wildcard first label allowed)."""
    if not name.isascii():
        raise ValueError(f"{what} {name!r} is not ASCII: write it in its punycode (xn--) form")
    if len(name) > 253:
        raise ValueError(f"{what} {name} is longer than 253 characters")
    for index, label in enumerate(name.split(".")):
        if label == "*" and index == 0:
            continue
        if len(label) > 63:
            raise ValueError(f"{what} {name}: label {label!r} is longer than 63 characters")
        if not LABEL_RE.match(label):
            raise ValueError(
                f"{what} {name}: label {label!r} must be 1 to 63 letters, digits, hyphens or underscores, "
                "not starting or ending with a hyphen"
            )


def txt_text(content):
    """A TXT value without the quotes of a single quoted string: '"v=spf1 -all"' -> 'v=spf1 -all'."""
    if len(content) >= 2 and content[0] == content[-1] == '"':
        inner = content[1:-1]
        if '"' not in inner.replace('\\"', ""):
            return inner.replace('\\"', '"')
    return content


def _host(value):
    return (value or "").strip().rstrip(".").lower()


def record_data(record):
    """SRV/CAA data of a record as Cloudflare returns it, parsed from content if data is missing."""
    data = record.get("data")
    if isinstance(data, dict) and data:
        return data
    parts = (record.get("content") or "").split(None, 2)
    if record["type"] == "SRV" and len(parts) == 3:
        return {"priority": record.get("priority"), "weight": int(parts[0]), "port": int(parts[1]), "target": parts[2]}
    if record["type"] == "CAA" and len(parts) == 3:
        return {"flags": int(parts[0]), "tag": parts[1], "value": txt_text(parts[2])}
    return {}


def identity(record):
    """What identifies a record among those of the same name and type (see the module description)."""
    rtype, content = record["type"], record.get("content") or ""
    if rtype == "CNAME":
        return None
    if rtype in ("A", "AAAA"):
        try:
            return ipaddress.ip_address(content)
        except ValueError:
            return content
    if rtype == "TXT":
        return txt_text(content)
    if rtype == "SRV":
        data = record_data(record)
        return (_host(data.get("target")), data.get("port"))
    if rtype == "CAA":
        data = record_data(record)
        return (data.get("tag"), data.get("value"))
    return _host(content)


def desired_record(params, name):
    """The record to send to Cloudflare, from validated module parameters."""
    rtype, value = params["type"], params["value"]
    record = {"type": rtype, "name": name, "ttl": 1 if params["proxied"] else params["ttl"]}
    if rtype in PROXIABLE_TYPES:
        record["proxied"] = params["proxied"]
    if rtype in ("A", "AAAA"):
        record["content"] = str(ipaddress.ip_address(value.strip()))
    elif rtype in HOSTNAME_TYPES:
        record["content"] = _host(value)
    elif rtype == "SRV":
        record["data"] = {
            "priority": params["priority"],
            "weight": params["weight"],
            "port": params["port"],
            "target": _host(value),
        }
    elif rtype == "CAA":
        record["data"] = {"flags": params["flag"], "tag": params["tag"], "value": value}
    else:
        record["content"] = value
    if rtype == "MX":
        record["priority"] = params["priority"]
    if params["comment"] is not None:
        record["comment"] = params["comment"] or None
    if params["tags"] is not None:
        record["tags"] = sorted(params["tags"])
    return record


def changes(current, desired):
    """The fields of `desired` that differ from the `current` record (a PATCH body)."""
    patch = {}
    if identity(current) != identity(desired):
        for key in ("content", "data"):
            if key in desired:
                patch[key] = desired[key]
    rtype = desired["type"]
    if rtype in PROXIABLE_TYPES and bool(current.get("proxied")) != desired["proxied"]:
        patch["proxied"] = desired["proxied"]
    if not desired.get("proxied") and current.get("ttl") != desired["ttl"]:
        patch["ttl"] = desired["ttl"]
    if rtype == "CNAME" and _host(current.get("content")) != desired["content"]:
        patch["content"] = desired["content"]
    if rtype == "MX" and current.get("priority") != desired["priority"]:
        patch["priority"] = desired["priority"]
    if rtype in ("SRV", "CAA") and "data" not in patch:
        data = record_data(current)
        keys = ("priority", "weight") if rtype == "SRV" else ("flags",)
        if any(data.get(k) != desired["data"][k] for k in keys):
            patch["data"] = desired["data"]
    if "comment" in desired and (current.get("comment") or None) != desired["comment"]:
        patch["comment"] = desired["comment"]
    if "tags" in desired and sorted(current.get("tags") or []) != desired["tags"]:
        patch["tags"] = desired["tags"]
    return patch


def predicted(current, patch, desired):
    """The record Cloudflare would return, for check mode."""
    if current is None:
        record = dict(desired, id=None, proxiable=desired["type"] in PROXIABLE_TYPES)
        record.setdefault("proxied", False)
        record.setdefault("comment", None)
        record.setdefault("tags", [])
    else:
        record = dict(current, **patch)
    data = record.get("data")
    if record["type"] == "SRV" and data:
        record["content"] = "{weight} {port} {target}".format(**data)
        record["priority"] = data["priority"]
    elif record["type"] == "CAA" and data:
        record["content"] = '{flags} {tag} "{value}"'.format(**data)
    if record.get("proxied"):
        record["ttl"] = 1
    return record


def summary(record):
    """The fields of a record shown in the diff."""
    keys = ("name", "type", "content", "ttl", "proxied", "priority", "comment", "tags")
    return {k: record[k] for k in keys if record.get(k) not in (None, [])}


def validate(params):
    """Check the input before any request; return (record name, error message or None)."""
    rtype, value, state = params["type"], params["value"], params["state"]
    try:
        name = fqdn(params["record"], params["zone"])
        if rtype == "SRV":
            service = params["service"].strip().lower().lstrip("_")
            proto = params["proto"].strip().lower().lstrip("_")
            name = f"_{service}._{proto}.{name}"
        check_hostname(name, "record name")
    except ValueError as err:
        return None, str(err)

    if params["solo"] and state == "absent":
        return name, "solo=true can only be used with state=present"
    if params["proxied"] and rtype not in PROXIABLE_TYPES:
        return name, f"proxied=true is possible only for A, AAAA and CNAME records, not {rtype}"
    if not (params["ttl"] == 1 or 60 <= params["ttl"] <= 86400):
        return name, "ttl must be 1 (automatic) or from 60 to 86400 seconds, not {}".format(params["ttl"])
    for option in ("priority", "weight", "port"):
        if params[option] is not None and not 0 <= params[option] <= 65535:
            return name, f"{option} must be from 0 to 65535, not {params[option]}"
    if not 0 <= params["flag"] <= 255:
        return name, "flag must be from 0 to 255, not {}".format(params["flag"])
    if value is None:
        return name, None
    if value.strip() == "":
        return name, "value must not be empty"
    if len(value.encode("utf-8")) > MAX_CONTENT_BYTES:
        return name, f"value is longer than {MAX_CONTENT_BYTES} bytes"
    try:
        if rtype == "A":
            ipaddress.IPv4Address(value.strip())
        elif rtype == "AAAA":
            ipaddress.IPv6Address(value.strip())
        elif rtype in HOSTNAME_TYPES or rtype == "SRV":
            check_hostname(_host(value), f"{rtype} value")
    except ValueError as err:
        return name, f"value {value!r} is not valid for a {rtype} record: {err}"
    return name, None


def ensure(module, client, name):
    params = module.params
    zone_id = client.zone_id(params["zone"])
    records_path = zone_path(zone_id, "dns_records")
    existing = client.get_all(records_path, {"type": params["type"], "name": name})
    existing = [r for r in existing if r.get("name", "").lower() == name and r.get("type") == params["type"]]
    result = {"changed": False, "deleted": []}

    if params["state"] == "present":
        desired = desired_record(params, name)
        target = next((r for r in existing if identity(r) == identity(desired)), None)
        others = [r for r in existing if r is not target]
        if target is None and params["solo"] and others:
            target = others.pop(0)  # update in place: the name never goes without a record
        patch = changes(target, desired) if target else None
        if target is None:
            result["changed"] = True
            record = predicted(None, None, desired) if module.check_mode else client.post(records_path, desired)
        elif patch:
            result["changed"] = True
            if module.check_mode:
                record = predicted(target, patch, desired)
            else:
                record = client.patch(zone_path(zone_id, "dns_records", target["id"]), patch)
        else:
            record = target
        doomed = others if params["solo"] else []
        result.update(record=record, result={"record": record})
        after = [record] + [r for r in others if r not in doomed]
    else:
        doomed = existing
        if params["value"] is not None:
            wanted = identity(desired_record(params, name))
            doomed = [r for r in existing if identity(r) == wanted]
            if params["type"] == "CNAME":
                doomed = [r for r in existing if _host(r.get("content")) == _host(params["value"])]
        after = [r for r in existing if r not in doomed]

    for record in doomed:  # deletions last: the desired record is already in place
        result["changed"] = True
        if not module.check_mode:
            client.delete(zone_path(zone_id, "dns_records", record["id"]))
        result["deleted"].append(record["id"])

    if module._diff:
        result["diff"] = {
            "before": {"records": [summary(r) for r in existing]},
            "after": {"records": [summary(r) for r in after]},
        }
    return result


def main():
    module = cloudflare_module(
        dict(
            zone=dict(type="str", required=True, aliases=["domain"]),
            record=dict(type="str", default="@", aliases=["name"]),
            type=dict(
                type="str", required=True, choices=["A", "AAAA", "CNAME", "TXT", "MX", "NS", "SRV", "CAA", "PTR"]
            ),
            value=dict(type="str", aliases=["content"]),
            ttl=dict(type="int", default=1),
            proxied=dict(type="bool", default=False),
            priority=dict(type="int"),
            weight=dict(type="int"),
            port=dict(type="int"),
            service=dict(type="str"),
            proto=dict(type="str"),
            flag=dict(type="int", default=0),
            tag=dict(type="str", choices=["issue", "issuewild", "iodef"]),
            comment=dict(type="str"),
            tags=dict(type="list", elements="str"),
            solo=dict(type="bool", default=False),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_if=[
            ("state", "present", ["value"]),
            ("type", "SRV", ["port", "service", "proto"]),
            ("type", "CAA", ["tag"]),
        ],
        supports_check_mode=True,
    )
    params = module.params
    if params["type"] in ("MX", "SRV") and params["priority"] is None:
        params["priority"] = 1
    if params["type"] == "SRV" and params["weight"] is None:
        params["weight"] = 1

    name, error = validate(params)
    if error:
        module.fail_json(
            msg="Invalid input for {} record {}: {}".format(params["type"], name or params["record"], error)
        )
    if params["proxied"] and params["ttl"] != 1:
        module.warn("ttl={} is ignored: Cloudflare uses 1 (automatic) for proxied records".format(params["ttl"]))

    run_module(module, lambda client: ensure(module, client, name))


if __name__ == "__main__":
    main()
