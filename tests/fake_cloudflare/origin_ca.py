"""The fake's Origin CA: two throw-away roots (RSA and ECDSA) that sign CSRs like Cloudflare's.

Cloudflare signs origin-rsa requests with "CloudFlare Origin SSL Certificate Authority" (RSA) and
origin-ecc requests with "CloudFlare Origin SSL ECC Certificate Authority" (ECDSA P-256); the
subject of the certificate it returns is its own (O=CloudFlare, Inc., OU=CloudFlare Origin CA,
CN=CloudFlare Origin Certificate) and the SANs are the request's ``hostnames``, whatever the CSR
asked for. The fake does the same with roots it makes on first use, so that tests can check the
chain (``FakeCloudflare.origin_ca_root_pem``). Nothing here is trusted anywhere else.

Needs ``cryptography`` (a dependency of ansible-core); it is imported only when a certificate is
asked for, so the rest of the fake stays standard library only.
"""

from __future__ import annotations

import datetime
import secrets
import threading

ROOT_NAMES = {
    "origin-rsa": "CloudFlare Origin SSL Certificate Authority (fake)",
    "origin-ecc": "CloudFlare Origin SSL ECC Certificate Authority (fake)",
}


class CsrError(ValueError):
    """The CSR cannot be used: not PEM, bad signature, or a key that does not fit request_type."""


class OriginCA:
    def __init__(self):
        self._lock = threading.Lock()
        self._roots = {}  # request_type -> (private key, certificate)

    def _root(self, request_type):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        from cryptography.x509.oid import NameOID

        with self._lock:
            if request_type not in self._roots:
                if request_type == "origin-rsa":
                    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                else:
                    key = ec.generate_private_key(ec.SECP256R1())
                name = x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CloudFlare, Inc."),
                        x509.NameAttribute(
                            NameOID.ORGANIZATIONAL_UNIT_NAME, "CloudFlare Origin SSL Certificate Authority"
                        ),
                        x509.NameAttribute(NameOID.COMMON_NAME, ROOT_NAMES[request_type]),
                    ]
                )
                now = datetime.datetime.now(datetime.UTC)
                cert = (
                    x509.CertificateBuilder()
                    .subject_name(name)
                    .issuer_name(name)
                    .public_key(key.public_key())
                    .serial_number(x509.random_serial_number())
                    .not_valid_before(now - datetime.timedelta(days=1))
                    .not_valid_after(now + datetime.timedelta(days=365 * 20))
                    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                    .add_extension(
                        x509.KeyUsage(
                            digital_signature=True,
                            content_commitment=False,
                            key_encipherment=False,
                            data_encipherment=False,
                            key_agreement=False,
                            key_cert_sign=True,
                            crl_sign=True,
                            encipher_only=False,
                            decipher_only=False,
                        ),
                        critical=True,
                    )
                    .sign(key, hashes.SHA256())
                )
                self._roots[request_type] = (key, cert)
            return self._roots[request_type]

    def root_pem(self, request_type="origin-ecc"):
        from cryptography.hazmat.primitives.serialization import Encoding

        return self._root(request_type)[1].public_bytes(Encoding.PEM).decode()

    @staticmethod
    def parse_csr(pem, request_type):
        """The CSR's public key; raises CsrError when it is unusable for request_type."""
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        try:
            csr = x509.load_pem_x509_csr(pem.encode() if isinstance(pem, str) else pem)
        except (ValueError, TypeError) as exc:
            raise CsrError("the CSR is not a PEM certificate request") from exc
        if not csr.is_signature_valid:
            raise CsrError("the CSR signature is invalid")
        key = csr.public_key()
        wanted = rsa.RSAPublicKey if request_type == "origin-rsa" else ec.EllipticCurvePublicKey
        if not isinstance(key, wanted):
            raise CsrError(f"the CSR key type does not match request_type {request_type}")
        return key

    def sign(self, public_key, hostnames, request_type, validity_days, serial=None):
        """(serial, PEM certificate, expiry datetime) for `public_key`, valid for `hostnames`."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.serialization import Encoding
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        ca_key, ca_cert = self._root(request_type)
        now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        expires = now + datetime.timedelta(days=validity_days)
        serial = serial or (secrets.randbits(159) | 1 << 150)
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CloudFlare, Inc."),
                        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "CloudFlare Origin CA"),
                        x509.NameAttribute(NameOID.COMMON_NAME, "CloudFlare Origin Certificate"),
                    ]
                )
            )
            .issuer_name(ca_cert.subject)
            .public_key(public_key)
            .serial_number(serial)
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(expires)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        return serial, cert.public_bytes(Encoding.PEM).decode(), expires
