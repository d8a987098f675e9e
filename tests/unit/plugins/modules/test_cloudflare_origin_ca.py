"""jupyter_edge.deploy.cloudflare_origin_ca, run in-process against the fake Cloudflare API."""

from __future__ import annotations

import json
import os
import stat

import pytest
from ansible_collections.jupyter_edge.deploy.plugins.modules import cloudflare_origin_ca
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fake_cloudflare import TEST_TOKEN
from fake_cloudflare.testing import run_module


@pytest.fixture
def paths(tmp_path):
    return {"private_key_path": str(tmp_path / "origin.key"), "certificate_path": str(tmp_path / "origin.pem")}


def run(fake, paths, check_mode=False, diff=False, **args):
    base = {"api_url": fake.url, "api_token": TEST_TOKEN, "zone": "example.com", "hostnames": ["jupyter.example.com"]}
    args = {**base, **paths, **args}
    return run_module(cloudflare_origin_ca, args, check_mode=check_mode, diff=diff)


def load_cert(paths):
    with open(paths["certificate_path"], "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def load_key(paths):
    with open(paths["private_key_path"], "rb") as handle:
        return serialization.load_pem_private_key(handle.read(), password=None)


def posts(fake):
    return fake.api_requests(method="POST", path="/certificates")


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def assert_no_key_material(result, paths):
    text = json.dumps(result)
    assert "PRIVATE KEY" not in text and "CERTIFICATE REQUEST" not in text
    if os.path.exists(paths["private_key_path"]):
        with open(paths["private_key_path"]) as handle:
            body = "".join(handle.read().splitlines()[1:-1])
        assert body[:40] not in text


def test_issue(fake, paths):
    result = run(fake, paths, hostnames=["Jupyter.Example.com.", "*.example.com"])
    assert result["changed"] is True and not result.get("failed"), result
    assert result["hostnames"] == ["*.example.com", "jupyter.example.com"]
    assert result["private_key_created"] is True and result["api_requests"] == 2
    assert result["reasons"] == ["private_key_path does not exist", "certificate_path does not exist"]
    cert, key = load_cert(paths), load_key(paths)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(fake.origin_ca_root_pem("origin-ecc").encode()))
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert result["certificate_id"] == str(cert.serial_number) == fake.list_certificates("example.com")[0]["id"]
    assert result["expires_on"] == cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    (post,) = posts(fake)
    assert post["body"]["request_type"] == "origin-ecc" and post["body"]["requested_validity"] == 5475
    assert post["body"]["hostnames"] == ["*.example.com", "jupyter.example.com"]
    assert mode(paths["private_key_path"]) == 0o600 and mode(paths["certificate_path"]) == 0o644
    assert_no_key_material(result, paths)


def test_second_run_requests_nothing(fake, paths):
    first = run(fake, paths)
    fake.clear_requests()
    key_before = open(paths["private_key_path"], "rb").read()  # noqa: SIM115
    result = run(fake, paths, hostnames=["jupyter.example.com", "JUPYTER.example.com."])
    assert result["changed"] is False and result["reasons"] == [] and result["private_key_created"] is False
    assert result["certificate_id"] == first["certificate_id"] and result["expires_on"] == first["expires_on"]
    assert result["api_requests"] == 2 and fake.writes() == []
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in fake.api_requests()] == [
        ("GET", "zones"),
        ("GET", "certificates"),
    ]
    assert open(paths["private_key_path"], "rb").read() == key_before  # noqa: SIM115
    assert_no_key_material(result, paths)


def test_check_mode_writes_nothing(fake, paths):
    result = run(fake, paths, check_mode=True, diff=True)
    assert result["changed"] is True and result["certificate_id"] is None and result["private_key_created"] is True
    assert not os.path.exists(paths["private_key_path"]) and not os.path.exists(paths["certificate_path"])
    assert fake.writes() == [] and fake.list_certificates(revoked=True) == []
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["hostnames"] == ["jupyter.example.com"]
    run(fake, paths)
    fake.clear_requests()
    result = run(fake, paths, check_mode=True, hostnames=["www.example.com"])
    assert result["changed"] is True and fake.writes() == []
    assert san_of(paths) == ["jupyter.example.com"]


def san_of(paths):
    return (
        load_cert(paths)
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value.get_values_for_type(x509.DNSName)
    )


def test_renewal_near_expiry_keeps_the_key(fake, paths):
    first = run(fake, paths, requested_validity=7, renew_before_days=3)
    assert run(fake, paths, requested_validity=7, renew_before_days=3)["changed"] is False
    key = load_key(paths).private_numbers()
    fake.clear_requests()
    result = run(fake, paths, requested_validity=90, renew_before_days=10, diff=True)
    assert result["changed"] is True and result["private_key_created"] is False
    assert len(result["reasons"]) == 1 and "within renew_before_days=10" in result["reasons"][0]
    assert result["certificate_id"] != first["certificate_id"]
    assert result["diff"]["before"]["expires_on"] == first["expires_on"]
    assert result["diff"]["after"]["expires_on"] == result["expires_on"] > first["expires_on"]
    assert load_key(paths).private_numbers() == key
    assert posts(fake)[0]["body"]["requested_validity"] == 90
    assert_no_key_material(result, paths)


def test_hostname_change_reissues(fake, paths):
    run(fake, paths)
    result = run(fake, paths, hostnames=["jupyter.example.com", "www.example.com"], diff=True)
    assert result["changed"] is True and result["private_key_created"] is False
    assert result["reasons"] == [
        "certificate is for jupyter.example.com, hostnames are jupyter.example.com, www.example.com"
    ]
    assert san_of(paths) == ["jupyter.example.com", "www.example.com"]
    assert result["diff"]["before"]["hostnames"] == ["jupyter.example.com"]
    assert result["diff"]["after"]["hostnames"] == ["jupyter.example.com", "www.example.com"]
    assert "PRIVATE" not in json.dumps(result["diff"])


def test_key_type_change_makes_a_new_key(fake, paths):
    run(fake, paths)
    result = run(fake, paths, key_type="rsa")
    assert result["changed"] is True and result["private_key_created"] is True
    assert isinstance(load_key(paths), rsa.RSAPrivateKey)
    assert posts(fake)[-1]["body"]["request_type"] == "origin-rsa"
    load_cert(paths).verify_directly_issued_by(
        x509.load_pem_x509_certificate(fake.origin_ca_root_pem("origin-rsa").encode())
    )
    assert run(fake, paths, key_type="rsa")["changed"] is False


def test_existing_key_is_used_and_keeps_its_mode(fake, paths):
    key = ec.generate_private_key(ec.SECP256R1())
    with open(paths["private_key_path"], "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    os.chmod(paths["private_key_path"], 0o640)
    result = run(fake, paths)
    assert result["changed"] is True and result["private_key_created"] is False
    assert result["reasons"] == ["certificate_path does not exist"]
    assert load_cert(paths).public_key().public_numbers() == key.public_key().public_numbers()
    assert mode(paths["private_key_path"]) == 0o640


def test_mismatched_or_revoked_certificate_is_replaced(fake, paths):
    first = run(fake, paths)
    other = run(fake, {**paths, "private_key_path": paths["private_key_path"] + ".other"})
    assert other["changed"] is True  # certificate_path now holds a certificate for the other key
    result = run(fake, paths)
    assert result["changed"] is True and result["reasons"] == ["certificate does not match the private key"]
    fake.certificates[result["certificate_id"]]["_revoked_at"] = "2025-01-01T00:00:00Z"  # revoked in the dashboard
    result = run(fake, paths)
    assert result["changed"] is True and "not among the active Origin CA certificates" in result["reasons"][0]
    assert result["certificate_id"] not in (first["certificate_id"], other["certificate_id"])


def test_absent_revokes_and_removes(fake, paths):
    issued = run(fake, paths)
    fake.clear_requests()
    result = run(fake, paths, state="absent", check_mode=True)
    assert result["changed"] is True and result["certificate_id"] == issued["certificate_id"]
    assert fake.writes() == [] and os.path.exists(paths["certificate_path"])
    result = run(fake, paths, state="absent", hostnames=None)
    assert result["changed"] is True and result["certificate_id"] == issued["certificate_id"]
    assert result["api_requests"] == 3
    (delete,) = fake.writes()
    assert delete["method"] == "DELETE" and delete["path"].endswith("/certificates/" + issued["certificate_id"])
    assert fake.list_certificates("example.com") == []
    assert not os.path.exists(paths["private_key_path"]) and not os.path.exists(paths["certificate_path"])
    fake.clear_requests()
    result = run(fake, paths, state="absent")
    assert result["changed"] is False and result["api_requests"] == 0 and fake.api_requests() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"hostnames": ["jupyter.example.net"]}, "hostnames: jupyter.example.net is not in zone example.com"),
        ({"hostnames": ["foo.*.example.com"]}, "is not a valid host name"),
        ({"hostnames": ["jüpyter.example.com"]}, "punycode"),
        ({"hostnames": []}, "hostnames must name at least one host name"),
        ({"hostnames": None}, "hostnames"),
        ({"requested_validity": 7}, "renew_before_days (30) must be from 0 to less than requested_validity (7)"),
        ({"requested_validity": 45}, "value of requested_validity must be one of"),
        ({"certificate_path": "/nonexistent/dir/origin.pem"}, "certificate_path: directory /nonexistent/dir does not"),
        ({"zone": "example.org", "hostnames": ["example.org"]}, "No zone found with name example.org"),
    ],
)
def test_bad_input(fake, paths, args, message):
    result = run(fake, paths, **args)
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert fake.writes() == []
    assert not os.path.exists(paths["private_key_path"])


def test_hostname_check_sends_no_request(fake, paths):
    run(fake, paths, hostnames=["jupyter.example.net"])
    assert fake.api_requests() == []


def test_encrypted_key_is_not_replaced(fake, paths):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"secret")
    )
    with open(paths["private_key_path"], "wb") as handle:
        handle.write(pem)
    result = run(fake, paths)
    assert result["failed"] is True and "encrypted with a passphrase" in result["msg"]
    assert open(paths["private_key_path"], "rb").read() == pem  # noqa: SIM115
    assert fake.writes() == []


def test_token_without_ssl_permission(fake, paths):
    fake.add_token("dns-only", permissions={"zone:read", "dns:read", "dns:edit"})
    result = run(fake, paths, api_token="dns-only")
    assert result["failed"] is True and "code 10000" in result["msg"]
    assert "SSL and Certificates Edit" in result["msg"]
    assert not os.path.exists(paths["private_key_path"]) and not os.path.exists(paths["certificate_path"])


def test_api_failure_leaves_no_files(fake, paths):
    fake.fail_next(status=500, count=10, method="POST", retry_after=None)
    result = run(fake, paths, api_retries=1)
    assert result["failed"] is True and "POST /certificates failed with HTTP 500" in result["msg"]
    assert not os.path.exists(paths["private_key_path"]) and not os.path.exists(paths["certificate_path"])
    assert os.listdir(os.path.dirname(paths["certificate_path"])) == []
