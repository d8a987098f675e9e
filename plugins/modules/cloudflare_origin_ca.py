#!/usr/bin/python
# Copyright (c) jupyter_edge.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_origin_ca
short_description: Obtain a Cloudflare Origin CA certificate for the host
description:
  - Keeps a private key and a Cloudflare Origin CA certificate for O(hostnames) in two files on the host
    where the module runs, for a web server behind Cloudflare's proxy with the SSL mode "Full (strict)".
    Cloudflare's edge trusts Origin CA certificates; browsers do not, so use them only behind the proxy.
  - The private key is made on the host (with C(cryptography)) and never leaves it; only a certificate
    signing request is sent to Cloudflare. Run the module on the web server, not on the controller.
  - "B(When a certificate is requested.) When O(certificate_path) is missing, is not a certificate, does not
    match the private key, names other host names than O(hostnames), expires within O(renew_before_days),
    or is no longer among the zone's active Origin CA certificates (for example revoked in the dashboard).
    Otherwise nothing is written and nothing is requested from Cloudflare but two reads."
  - "B(The private key) is generated when O(private_key_path) is missing, or holds a key of another type than
    O(key_type) (it is then replaced, together with the certificate). New key files get mode C(0600); an
    existing file keeps its owner and mode. New certificate files get mode C(0644). Both are written only
    once Cloudflare has issued the certificate, each by an atomic rename, so a failed request leaves the old
    pair in place."
  - A certificate that is replaced (renewed, or issued for other host names) is not revoked; it stays valid
    until it expires or is revoked in the dashboard or with O(state=absent) before the new one is requested.
  - "B(API requests.) A run that changes nothing sends 2 requests: the zone lookup and the list of the zone's
    Origin CA certificates. Requesting a certificate sends 2 (the zone lookup and C(POST /certificates)).
    O(state=absent) sends 3 (lookup, list, C(DELETE /certificates/{id})) when there is a certificate to
    revoke. The number is returned as RV(api_requests)."
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
    details: Sends only the read requests, writes no file and reports whether a certificate would be requested.
  diff_mode:
    support: full
    details: Shows the host names and expiry of the certificate before and after; never key material.
  idempotent:
    support: full
    details: A second run with the same options writes nothing and requests no certificate.
requirements:
  - cryptography >= 3.1 on the host where the module runs (ansible-core depends on it; on Debian the package
    C(python3-cryptography)).
options:
  zone:
    description:
      - Name of the Cloudflare zone that holds O(hostnames) (for example V(example.com)).
      - Used to list the zone's Origin CA certificates and to check O(hostnames) before any request.
    type: str
    required: true
    aliases: [domain]
  hostnames:
    description:
      - Host names the certificate is for, each V(zone), a name inside O(zone), or a wildcard V(*.name) of
        one level (for example V(jupyter.example.com) or V(*.example.com)). Order and case do not matter.
      - Non-ASCII names in their punycode (C(xn--)) form.
      - Required with O(state=present).
    type: list
    elements: str
  private_key_path:
    description:
      - Path on the host of the PEM private key (unencrypted PKCS#8). Made if missing.
      - Give it to the web server, for example as C(nginx_proxy_tls_key) or C(apache_proxy_tls_key).
    type: path
    required: true
  certificate_path:
    description:
      - Path on the host of the PEM certificate Cloudflare issued (the certificate alone, as Cloudflare's edge
        knows the Origin CA root and needs no chain).
      - Give it to the web server, for example as C(nginx_proxy_tls_cert) or C(apache_proxy_tls_cert).
    type: path
    required: true
  key_type:
    description:
      - Type of the private key and of the certificate Cloudflare signs.
      - V(ecc) is an ECDSA P-256 key (request type C(origin-ecc)); V(rsa) a 2048-bit RSA key (C(origin-rsa)).
    type: str
    choices: [ecc, rsa]
    default: ecc
  requested_validity:
    description:
      - Days the certificate is valid, one of the values Cloudflare accepts. V(5475) is 15 years.
    type: int
    choices: [7, 30, 90, 365, 730, 1095, 5475]
    default: 5475
  renew_before_days:
    description:
      - A new certificate is requested when the current one expires within this many days.
      - Must be less than O(requested_validity), or every run would renew.
    type: int
    default: 30
  state:
    description:
      - V(present) keeps a valid certificate in O(certificate_path).
      - V(absent) revokes the certificate found in O(certificate_path) (if Cloudflare still lists it for
        O(zone)) and removes O(certificate_path) and O(private_key_path). Other certificates of the zone are
        not touched.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Authenticate with an API token (O(api_token)) that has the permissions Zone Read and SSL and Certificates
    Edit for the zone, or with the global API key. The Origin CA Key (header C(X-Auth-User-Service-Key)) is not
    supported.
  - Set the zone's SSL mode to "Full (strict)" with M(jupyter_edge.deploy.cloudflare_zone_settings)
    (C(ssl=strict)) once the web server uses the certificate.
  - The host running the module needs HTTPS access to the Cloudflare API.
seealso:
  - module: jupyter_edge.deploy.cloudflare_zone_settings
  - module: jupyter_edge.deploy.cloudflare_dns
  - name: Cloudflare API, Origin CA certificates
    description: Reference of the endpoints the module calls.
    link: https://developers.cloudflare.com/api/resources/origin_ca_certificates/
  - name: Cloudflare Origin CA
    description: What Origin CA certificates are and where they are trusted.
    link: https://developers.cloudflare.com/ssl/origin-configuration/origin-ca/
"""

EXAMPLES = r"""
- name: Origin certificate for jupyter.example.org, key made on the web server
  jupyter_edge.deploy.cloudflare_origin_ca:
    zone: example.org
    hostnames: [jupyter.example.org]
    private_key_path: /etc/ssl/private/jupyter-origin.key
    certificate_path: /etc/ssl/certs/jupyter-origin.pem
    api_token: "{{ cloudflare_api_token }}"
  register: origin_cert

- name: Serve it with nginx
  ansible.builtin.include_role:
    name: jupyter_edge.deploy.nginx_proxy
  vars:
    nginx_proxy_tls: true
    nginx_proxy_tls_cert: /etc/ssl/certs/jupyter-origin.pem
    nginx_proxy_tls_key: /etc/ssl/private/jupyter-origin.key

- name: Then let Cloudflare check it ("Full (strict)")
  jupyter_edge.deploy.cloudflare_zone_settings:
    zone: example.org
    settings:
      ssl: strict
  delegate_to: localhost
  run_once: true

- name: Revoke it and remove both files
  jupyter_edge.deploy.cloudflare_origin_ca:
    zone: example.org
    private_key_path: /etc/ssl/private/jupyter-origin.key
    certificate_path: /etc/ssl/certs/jupyter-origin.pem
    state: absent
"""

RETURN = r"""
certificate_id:
  description:
    - Cloudflare's id of the certificate in O(certificate_path) after the task; with O(state=absent), of the
      certificate revoked.
    - Null in check mode when a certificate would be requested, and when nothing was revoked.
  returned: always
  type: str
  sample: "328578533902268680212849205732770752308931942346"
hostnames:
  description: Host names of the certificate after the task (in check mode, as they would be), sorted.
  returned: state is present
  type: list
  elements: str
  sample: [jupyter.example.org]
expires_on:
  description:
    - Expiry of the certificate after the task, ISO 8601 in UTC, read from the certificate itself.
    - In check mode, when a certificate would be requested, the expiry it would have.
  returned: state is present
  type: str
  sample: "2040-06-01T09:48:00Z"
reasons:
  description: Why a certificate was (or, in check mode, would be) requested; empty when none was.
  returned: state is present
  type: list
  elements: str
  sample: ["certificate expires on 2025-07-01T00:00:00Z, within renew_before_days=30"]
private_key_created:
  description: Whether a new private key was (or would be) written to O(private_key_path).
  returned: state is present
  type: bool
  sample: false
api_requests:
  description: Number of HTTP requests sent to the API, retries included (2 when nothing changes).
  returned: always
  type: int
  sample: 2
"""

import datetime
import os
import re
import tempfile
import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.jupyter_edge.deploy.plugins.module_utils._cloudflare import (
    CloudflareError,
    cloudflare_module,
    run_module,
)

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID
except ImportError:
    CRYPTOGRAPHY_ERROR = traceback.format_exc()
else:
    CRYPTOGRAPHY_ERROR = None

REQUEST_TYPES = {"ecc": "origin-ecc", "rsa": "origin-rsa"}
LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
CERTIFICATES_PER_PAGE = 50  # the largest page the list call accepts


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017 (modules may run on Python < 3.11)


def _iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def normalise_hostnames(hostnames, zone):
    """Lower-case, deduplicated, sorted names; raises ValueError naming the option and the fix."""
    zone = zone.strip().lower().rstrip(".")
    names = []
    for raw in hostnames:
        name = (raw or "").strip().lower().rstrip(".")
        if not name:
            raise ValueError("hostnames must not contain an empty name")
        if not name.isascii():
            raise ValueError(f"hostnames: {raw!r} is not ASCII; write it in its punycode (xn--) form")
        bare = name[2:] if name.startswith("*.") else name
        if len(bare) > 253 or not all(LABEL_RE.match(label) for label in bare.split(".")):
            raise ValueError(
                f"hostnames: {raw!r} is not a valid host name (labels of letters, digits and hyphens; "
                "a wildcard only as one leading '*.', for example *.example.com)"
            )
        if bare != zone and not bare.endswith("." + zone):
            raise ValueError(
                f"hostnames: {name} is not in zone {zone}; list only {zone} and names under it, "
                "or use one task per zone with that zone as zone"
            )
        if name.startswith("*.") and "." not in bare:
            raise ValueError(f"hostnames: {name} is too wide; Cloudflare accepts *.example.com but not *.com")
        if name not in names:
            names.append(name)
    return sorted(names)


def public_der(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_kind(key):
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ecc"
    if isinstance(key, rsa.RSAPrivateKey):
        return "rsa"
    return type(key).__name__


def not_after(cert):
    when = getattr(cert, "not_valid_after_utc", None)  # cryptography >= 42
    return when if when is not None else cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)  # noqa: UP017


def san_names(cert):
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return sorted({name.lower().rstrip(".") for name in ext.value.get_values_for_type(x509.DNSName)})


def read_key(path):
    """(key or None, problem or None); raises ValueError for a key the module must not replace."""
    if not os.path.exists(path):
        return None, "private_key_path does not exist"
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return serialization.load_pem_private_key(data, password=None), None
    except TypeError as exc:
        raise ValueError(
            f"private_key_path {path} is encrypted with a passphrase; a web server needs an unencrypted key: "
            "decrypt it, or remove the file so that a new key is made"
        ) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(
            f"private_key_path {path} is not a PEM private key ({exc}); remove the file so that a new key is made, "
            "or point private_key_path at the right file"
        ) from exc


def read_certificate(path):
    """(certificate or None, problem or None)."""
    if not os.path.exists(path):
        return None, "certificate_path does not exist"
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return x509.load_pem_x509_certificate(data), None
    except ValueError:
        return None, "certificate_path does not hold a PEM certificate"


def reasons_to_issue(params, hostnames, key, key_problem, cert, cert_problem, now):
    """Why a new certificate is needed, from the files alone (an empty list: none)."""
    reasons = [p for p in (key_problem, cert_problem) if p]
    if key is not None and key_kind(key) != params["key_type"]:
        reasons.append("private key is {}, key_type is {}: a new key is made".format(key_kind(key), params["key_type"]))
    if cert is None:
        return reasons
    if key is not None and public_der(cert.public_key()) != public_der(key.public_key()):
        reasons.append("certificate does not match the private key")
    names = san_names(cert)
    if names != hostnames:
        reasons.append(
            "certificate is for {}, hostnames are {}".format(", ".join(names) or "no name", ", ".join(hostnames))
        )
    expiry = not_after(cert)
    if expiry - now <= datetime.timedelta(days=params["renew_before_days"]):
        reasons.append(
            "certificate expires on {}, within renew_before_days={}".format(_iso(expiry), params["renew_before_days"])
        )
    return reasons


def find_listed(listed, cert):
    """The zone's certificate (from the list call) that is `cert`, or None."""
    der = cert.public_bytes(serialization.Encoding.DER)
    for item in listed:
        try:
            other = x509.load_pem_x509_certificate((item.get("certificate") or "").encode())
        except ValueError:
            continue
        if other.serial_number == cert.serial_number and other.public_bytes(serialization.Encoding.DER) == der:
            return item
    return None


def new_key(key_type):
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def make_csr(key, hostnames):
    subject = [x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])] if len(hostnames[0]) <= 64 else []
    builder = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(subject))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False)
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def write_file(module, path, data, new_mode):
    """Write `data` to `path` by an atomic rename; a new file gets `new_mode`, an existing one keeps its attributes."""
    creating = not os.path.exists(path)
    fd, tmp = tempfile.mkstemp(prefix=".ansible_tmp", suffix=os.path.basename(path), dir=os.path.dirname(path))
    module.add_cleanup_file(tmp)
    with os.fdopen(fd, "wb") as handle:  # mkstemp makes it 0600
        handle.write(data)
    # atomic_move gives a file it creates the mode 0666 minus the umask: with umask 077 a new key is
    # never readable by others, not even between the rename and the chmod below.
    old_umask = os.umask(0o077)
    try:
        module.atomic_move(tmp, path)
    finally:
        os.umask(old_umask)
    if creating:
        os.chmod(path, new_mode)


def check_paths(params):
    key_path, cert_path = params["private_key_path"], params["certificate_path"]
    if os.path.realpath(key_path) == os.path.realpath(cert_path):
        raise ValueError("private_key_path and certificate_path must be two different files")
    for option in ("private_key_path", "certificate_path"):
        path = params[option]
        if os.path.isdir(path):
            raise ValueError(f"{option} {path} is a directory; give the path of a file in it")
        parent = os.path.dirname(path) or "."
        if params["state"] == "present" and not os.path.isdir(parent):
            raise ValueError(
                f"{option}: directory {parent} does not exist; create it first (ansible.builtin.file, state=directory)"
            )


def ensure_present(module, client, hostnames):
    params = module.params
    now = _utcnow()
    try:
        key, key_problem = read_key(params["private_key_path"])
    except ValueError as err:
        module.fail_json(msg=str(err))
    cert, cert_problem = read_certificate(params["certificate_path"])
    reasons = reasons_to_issue(params, hostnames, key, key_problem, cert, cert_problem, now)

    zone_id = client.zone_id(params["zone"])
    listed_item = None
    if not reasons:
        listed = client.get_all("/certificates", {"zone_id": zone_id}, per_page=CERTIFICATES_PER_PAGE)
        listed_item = find_listed(listed, cert)
        if listed_item is None:
            reasons.append(
                "certificate is not among the active Origin CA certificates of zone {} (revoked, or not issued by "
                "Cloudflare's Origin CA for this account)".format(params["zone"])
            )

    before = {"hostnames": san_names(cert), "expires_on": _iso(not_after(cert))} if cert is not None else {}
    make_key = key is None or key_kind(key) != params["key_type"]
    result = {"changed": bool(reasons), "reasons": reasons, "private_key_created": bool(reasons) and make_key}
    if not reasons:
        result.update(
            certificate_id=listed_item.get("id"), hostnames=before["hostnames"], expires_on=before["expires_on"]
        )
    elif module.check_mode:
        expires = now + datetime.timedelta(days=params["requested_validity"])
        result.update(certificate_id=None, hostnames=hostnames, expires_on=_iso(expires))
    else:
        if make_key:
            key = new_key(params["key_type"])
        issued = client.post(
            "/certificates",
            {
                "csr": make_csr(key, hostnames),
                "hostnames": hostnames,
                "request_type": REQUEST_TYPES[params["key_type"]],
                "requested_validity": params["requested_validity"],
            },
        )
        try:
            new_cert = x509.load_pem_x509_certificate((issued.get("certificate") or "").encode())
        except ValueError as exc:
            raise CloudflareError("Cloudflare answered POST /certificates without a PEM certificate") from exc
        if public_der(new_cert.public_key()) != public_der(key.public_key()):
            raise CloudflareError("Cloudflare returned a certificate for another key than the one in the request")
        if make_key:
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            write_file(module, params["private_key_path"], pem, 0o600)
        write_file(module, params["certificate_path"], new_cert.public_bytes(serialization.Encoding.PEM), 0o644)
        result.update(
            certificate_id=issued.get("id"), hostnames=san_names(new_cert), expires_on=_iso(not_after(new_cert))
        )

    if module._diff:
        result["diff"] = {
            "before_header": params["certificate_path"],
            "after_header": params["certificate_path"],
            "before": before,
            "after": {"hostnames": result["hostnames"], "expires_on": result["expires_on"]},
        }
    return result


def ensure_absent(module, client):
    params = module.params
    paths = [p for p in (params["certificate_path"], params["private_key_path"]) if os.path.exists(p)]
    cert, _problem = read_certificate(params["certificate_path"])
    result = {"changed": bool(paths), "certificate_id": None}
    if cert is not None:
        zone_id = client.zone_id(params["zone"])
        listed = client.get_all("/certificates", {"zone_id": zone_id}, per_page=CERTIFICATES_PER_PAGE)
        item = find_listed(listed, cert)
        if item is not None:
            if not module.check_mode:
                client.delete("/certificates/{}".format(item["id"]))
            result["certificate_id"] = item["id"]
    elif os.path.exists(params["certificate_path"]):
        module.warn(
            "certificate_path {} holds no PEM certificate: removed without revoking".format(params["certificate_path"])
        )
    if not module.check_mode:
        for path in paths:
            os.remove(path)
    if module._diff:
        before = {"hostnames": san_names(cert), "expires_on": _iso(not_after(cert))} if cert is not None else {}
        result["diff"] = {"before": before, "after": {}}
    return result


def main():
    module = cloudflare_module(
        dict(
            zone=dict(type="str", required=True, aliases=["domain"]),
            hostnames=dict(type="list", elements="str"),
            private_key_path=dict(type="path", required=True, no_log=False),
            certificate_path=dict(type="path", required=True),
            key_type=dict(type="str", default="ecc", choices=["ecc", "rsa"]),
            requested_validity=dict(type="int", default=5475, choices=[7, 30, 90, 365, 730, 1095, 5475]),
            renew_before_days=dict(type="int", default=30),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_if=[("state", "present", ["hostnames"])],
        supports_check_mode=True,
    )
    if CRYPTOGRAPHY_ERROR:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_ERROR)
    params = module.params
    try:
        check_paths(params)
        if params["state"] == "present":
            if not params["hostnames"]:
                raise ValueError("hostnames must name at least one host name")
            hostnames = normalise_hostnames(params["hostnames"], params["zone"])
            if not 0 <= params["renew_before_days"] < params["requested_validity"]:
                raise ValueError(
                    "renew_before_days ({}) must be from 0 to less than requested_validity ({}), or every run "
                    "would request a new certificate".format(params["renew_before_days"], params["requested_validity"])
                )
    except ValueError as err:
        module.fail_json(msg=str(err))

    if params["state"] == "present":
        run_module(module, lambda client: ensure_present(module, client, hostnames))
    else:
        run_module(module, lambda client: ensure_absent(module, client))


if __name__ == "__main__":
    main()
