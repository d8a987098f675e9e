"""The fake Cloudflare API answers like the real one: envelope, auth, validation, pagination, limits."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fake_cloudflare import TEST_TOKEN

TESTS_DIR = Path(__file__).resolve().parent.parent


def call(fake, method, path, body=None, headers=None, raw=False):
    """(status, headers, parsed body) of one request to the fake."""
    if headers is None:
        headers = {"Authorization": f"Bearer {TEST_TOKEN}"}
    data = json.dumps(body).encode() if body is not None else None
    base = fake.url if not path.startswith("/__fake__") else fake.url.rsplit("/client/v4", 1)[0]
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)  # noqa: S310 (http://127.0.0.1)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310
            status, resp_headers, text = resp.status, resp.headers, resp.read().decode()
    except urllib.error.HTTPError as err:
        status, resp_headers, text = err.code, err.headers, err.read().decode()
    return status, resp_headers, text if raw else json.loads(text)


def records_path(fake):
    return f"/zones/{fake.zone}/dns_records"


def test_envelope_and_zone_lookup(fake):
    status, _, body = call(fake, "GET", "/zones?name=example.com")
    assert status == 200
    assert body["success"] is True and body["errors"] == [] and body["messages"] == []
    assert [z["name"] for z in body["result"]] == ["example.com"]
    assert body["result_info"] == {"page": 1, "per_page": 20, "count": 1, "total_count": 1, "total_pages": 1}


@pytest.mark.parametrize(
    ("headers", "status", "code", "chain"),
    [
        ({}, 400, 9106, None),
        ({"Authorization": "Bearer "}, 400, 6003, 6111),
        ({"Authorization": "Bearer wrong"}, 400, 1000, None),
        ({"X-Auth-Email": "user@example.com", "X-Auth-Key": "short"}, 400, 6003, 6103),
        ({"X-Auth-Email": "user@example.com", "X-Auth-Key": "f" * 37}, 403, 9103, None),
    ],
)
def test_authentication_errors(fake, headers, status, code, chain):
    got_status, _, body = call(fake, "GET", "/zones", headers=headers)
    assert got_status == status
    assert body["success"] is False and body["result"] is None
    assert body["errors"][0]["code"] == code
    if chain:
        assert body["errors"][0]["error_chain"][0]["code"] == chain


def test_global_key_and_token_verify(fake):
    headers = {"X-Auth-Email": "user@example.com", "X-Auth-Key": fake.default_api_key}
    assert call(fake, "GET", "/zones", headers=headers)[0] == 200
    assert call(fake, "GET", "/user/tokens/verify")[2]["result"]["status"] == "active"


def test_token_without_permission_gets_10000(fake):
    fake.add_token("read-only", permissions={"zone:read", "dns:read"})
    headers = {"Authorization": "Bearer read-only"}
    assert call(fake, "GET", records_path(fake), headers=headers)[0] == 200
    status, _, body = call(
        fake, "POST", records_path(fake), {"type": "A", "name": "a", "content": "192.0.2.1"}, headers
    )
    assert (status, body["errors"][0]["code"]) == (403, 10000)


def test_unknown_zone_id(fake):
    status, _, body = call(fake, "GET", "/zones/0123/dns_records")
    assert (status, body["errors"][0]["code"]) == (404, 7003)


def test_create_normalises_name_and_forces_ttl_of_proxied(fake):
    status, _, body = call(
        fake,
        "POST",
        records_path(fake),
        {"type": "A", "name": "WWW", "content": "192.0.2.1", "proxied": True, "ttl": 300},
    )
    assert status == 200
    record = body["result"]
    assert (record["name"], record["ttl"], record["proxied"], record["proxiable"]) == ("www.example.com", 1, True, True)
    assert "zone_id" not in record and "zone_name" not in record  # removed by Cloudflare in 2025


def test_aaaa_stored_compressed(fake):
    body = call(fake, "POST", records_path(fake), {"type": "AAAA", "name": "v6", "content": "2001:DB8:0:0::1"})[2]
    assert body["result"]["content"] == "2001:db8::1"


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ({"type": "A", "name": "a", "content": "300.1.1.1"}, 9005),
        ({"type": "AAAA", "name": "a", "content": "192.0.2.1"}, 9005),
        ({"type": "TXT", "name": "a", "content": "x", "proxied": True}, 9004),
        ({"type": "A", "name": "a", "content": "192.0.2.1", "ttl": 30}, 1004),
        ({"type": "MX", "name": "a", "content": "mail.example.com"}, 1004),
        ({"type": "A", "name": "a", "content": "192.0.2.1", "tags": ["bad tag"]}, 1004),
        ({"type": "A", "name": "x" * 64, "content": "192.0.2.1"}, 1004),
    ],
)
def test_record_validation(fake, record, code):
    status, _, body = call(fake, "POST", records_path(fake), record)
    assert status == 400
    assert body["errors"][0]["code"] == code
    if code == 1004:
        assert body["errors"][0]["error_chain"]
    assert fake.list_records("example.com") == []


def test_record_conflicts(fake):
    fake.add_record("example.com", type="A", name="a", content="192.0.2.1")
    fake.add_record("example.com", type="CNAME", name="c", content="target.example.net")
    cases = [
        ({"type": "A", "name": "a", "content": "192.0.2.1"}, 81057),
        ({"type": "CNAME", "name": "a", "content": "x.example.net"}, 81053),
        ({"type": "A", "name": "c", "content": "192.0.2.2"}, 81054),
    ]
    for record, code in cases:
        status, _, body = call(fake, "POST", records_path(fake), record)
        assert (status, body["errors"][0]["code"]) == (400, code)


def test_update_patch_delete(fake):
    record = fake.add_record("example.com", type="A", name="a", content="192.0.2.1", ttl=300)
    path = f"{records_path(fake)}/{record['id']}"
    assert call(fake, "PATCH", path, {"ttl": 600})[2]["result"]["ttl"] == 600
    put = call(fake, "PUT", path, {"type": "A", "name": "a", "content": "192.0.2.9"})[2]["result"]
    assert (put["content"], put["ttl"], put["id"]) == ("192.0.2.9", 1, record["id"])
    assert call(fake, "DELETE", path)[2]["result"] == {"id": record["id"]}
    status, _, body = call(fake, "DELETE", path)
    assert (status, body["errors"][0]["code"]) == (404, 81044)


def test_srv_and_caa_content_from_data(fake):
    srv = {
        "type": "SRV",
        "name": "_sip._tcp",
        "data": {"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.com"},
    }
    result = call(fake, "POST", records_path(fake), srv)[2]["result"]
    assert (result["content"], result["priority"]) == ("5 5060 sip.example.com", 10)
    caa = {"type": "CAA", "name": "@", "data": {"flags": 0, "tag": "issue", "value": "letsencrypt.org"}}
    assert call(fake, "POST", records_path(fake), caa)[2]["result"]["content"] == '0 issue "letsencrypt.org"'


def test_list_filters_and_pagination(fake):
    fake.set_per_page_max(2)
    for i in range(5):
        fake.add_record("example.com", type="A", name="multi", content=f"192.0.2.{i + 1}")
    fake.add_record("example.com", type="TXT", name="multi", content="other")
    seen = []
    for page in (1, 2, 3):
        body = call(fake, "GET", f"{records_path(fake)}?type=A&name=multi.example.com&per_page=100&page={page}")[2]
        assert body["result_info"] == {
            "page": page,
            "per_page": 2,
            "count": 2 if page < 3 else 1,
            "total_count": 5,
            "total_pages": 3,
        }
        seen += [r["content"] for r in body["result"]]
    assert seen == [f"192.0.2.{i}" for i in range(1, 6)]


def test_zone_settings(fake):
    path = f"/zones/{fake.zone}/settings"
    listed = call(fake, "GET", path)[2]["result"]
    assert {"id": "ssl", "value": "flexible", "editable": True, "modified_on": None} in listed
    assert call(fake, "PATCH", f"{path}/ssl", {"value": "strict"})[2]["result"]["value"] == "strict"
    items = [{"id": "always_use_https", "value": "on"}, {"id": "min_tls_version", "value": "1.2"}]
    assert [s["value"] for s in call(fake, "PATCH", path, {"items": items})[2]["result"]] == ["on", "1.2"]
    assert fake.zone_settings("example.com")["min_tls_version"] == "1.2"
    status, _, body = call(
        fake, "PATCH", path, {"items": [{"id": "ssl", "value": "full"}, {"id": "ssl", "value": "bad"}]}
    )
    assert (status, body["errors"][0]["code"]) == (400, 1007)
    assert fake.zone_settings("example.com")["ssl"] == "strict"  # all or nothing
    assert call(fake, "GET", f"{path}/nonsense")[2]["errors"][0]["code"] == 1006


def test_forced_failures_and_rate_limit(fake):
    fake.fail_next(status=429, count=2, retry_after=3)
    for _ in range(2):
        status, headers, body = call(fake, "GET", "/zones")
        assert (status, headers["Retry-After"], body["errors"][0]["code"]) == (429, "3", 971)
    assert call(fake, "GET", "/zones")[0] == 200
    fake.fail_next(status=502, body="html", retry_after=None)
    status, headers, text = call(fake, "GET", "/zones", raw=True)
    assert status == 502 and "Retry-After" not in headers and text.startswith("<html>")
    fake.set_rate_limit(2, window=60, retry_after=7)
    assert [call(fake, "GET", "/zones")[0] for _ in range(3)] == [200, 200, 429]
    status, headers, _ = call(fake, "GET", "/zones")
    assert headers["Retry-After"] == "7" and "Ratelimit-Policy" in headers


def test_request_log(fake):
    fake.clear_requests()
    call(fake, "GET", "/zones?name=example.com")
    call(fake, "POST", records_path(fake), {"type": "TXT", "name": "t", "content": "hello"})
    assert [(r["method"], r["status"]) for r in fake.api_requests()] == [("GET", 200), ("POST", 200)]
    assert fake.writes()[0]["body"]["content"] == "hello"
    assert fake.api_requests()[0]["query"] == {"name": "example.com"}


def test_control_endpoints(fake):
    assert call(fake, "POST", "/__fake__/zones", {"name": "other.org"}, headers={})[0] == 200
    record = {"zone": "other.org", "type": "A", "name": "www", "content": "192.0.2.7"}
    assert call(fake, "POST", "/__fake__/records", record, headers={})[0] == 200
    call(fake, "POST", "/__fake__/fail", {"status": 503, "count": 1}, headers={})
    state = call(fake, "GET", "/__fake__/state", headers={})[2]
    assert state["records"]["other.org"][0]["name"] == "www.other.org"
    assert state["settings"]["other.org"]["ssl"] == "flexible"
    assert state["requests"] == []  # control calls are not logged
    assert call(fake, "GET", "/zones")[0] == 503


def test_runs_as_a_module(tmp_path):
    state_file = tmp_path / "fake.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fake_cloudflare",
            "--port",
            "0",
            "--zone",
            "example.com",
            "--state-file",
            str(state_file),
        ],
        cwd=TESTS_DIR,
        stdout=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            if state_file.exists():
                break
            time.sleep(0.05)
        state = json.loads(state_file.read_text())
        assert state["pid"] == proc.pid and state["url"].startswith("http://127.0.0.1:")
        assert state["url"].startswith("http://127.0.0.1:")
        req = urllib.request.Request(  # noqa: S310 (checked above)
            state["url"] + "/zones?name=example.com", headers={"Authorization": f"Bearer {state['token']}"}
        )
        with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310
            assert json.load(resp)["result"][0]["name"] == "example.com"
        shutdown = urllib.request.Request(state["url"].replace("/client/v4", "/__fake__/shutdown"), method="POST")  # noqa: S310
        urllib.request.urlopen(shutdown, timeout=5).close()  # noqa: S310
        assert proc.wait(timeout=10) == 0
        assert not state_file.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_publish_txt_mirrors_txt_records_to_challtestsrv(fake):
    """The test hook for DNS-01: API writes of TXT records reach challtestsrv's management API."""
    seen = []

    class Challtestsrv(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((self.path, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    mock = ThreadingHTTPServer(("127.0.0.1", 0), Challtestsrv)
    threading.Thread(target=mock.serve_forever, daemon=True).start()
    fake.publish_txt = f"http://127.0.0.1:{mock.server_address[1]}/"
    try:
        name = "_acme-challenge.lab.example.com"
        created = call(fake, "POST", records_path(fake), {"type": "TXT", "name": name, "content": "v1", "ttl": 120})[2]
        call(fake, "POST", records_path(fake), {"type": "A", "name": "lab", "content": "192.0.2.1"})
        assert seen == [("/clear-txt", {"host": name + "."}), ("/set-txt", {"host": name + ".", "value": "v1"})]
        seen.clear()
        call(fake, "DELETE", f"{records_path(fake)}/{created['result']['id']}")
        assert seen == [("/clear-txt", {"host": name + "."})]
    finally:
        fake.publish_txt = None
        mock.shutdown()
        mock.server_close()


# -- Origin CA ------------------------------------------------------------------


def make_csr(hostnames=("jupyter.example.com",), key_type="ecc"):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = ec.generate_private_key(ec.SECP256R1()) if key_type == "ecc" else rsa.generate_private_key(65537, 2048)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def origin_request(csr_pem, **fields):
    return dict({"csr": csr_pem, "hostnames": ["jupyter.example.com"], "request_type": "origin-ecc"}, **fields)


@pytest.mark.parametrize(("key_type", "request_type"), [("ecc", "origin-ecc"), ("rsa", "origin-rsa")])
def test_origin_ca_issues_a_certificate_signed_by_its_root(fake, key_type, request_type):
    from cryptography import x509

    key, csr = make_csr(key_type=key_type)
    hostnames = ["jupyter.example.com", "*.example.com"]
    status, _, body = call(
        fake, "POST", "/certificates", origin_request(csr, hostnames=hostnames, request_type=request_type)
    )
    assert status == 200, body
    result = body["result"]
    assert set(result) == {"id", "certificate", "hostnames", "expires_on", "request_type", "requested_validity", "csr"}
    assert result["requested_validity"] == 5475 and result["request_type"] == request_type
    assert result["hostnames"] == hostnames and result["csr"] == csr
    cert = x509.load_pem_x509_certificate(result["certificate"].encode())
    root = x509.load_pem_x509_certificate(fake.origin_ca_root_pem(request_type).encode())
    cert.verify_directly_issued_by(root)  # raises if the chain is wrong
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == hostnames
    assert result["id"] == str(cert.serial_number)
    assert result["expires_on"].endswith(" +0000 UTC")


def test_origin_ca_list_get_revoke(fake):
    other = fake.add_zone("example.org")
    _, csr = make_csr()
    created = call(fake, "POST", "/certificates", origin_request(csr, requested_validity=7))[2]["result"]
    _, csr2 = make_csr(["example.org"])
    call(fake, "POST", "/certificates", origin_request(csr2, hostnames=["example.org"]))
    status, _, body = call(fake, "GET", f"/certificates?zone_id={fake.zone}")
    assert status == 200 and [c["id"] for c in body["result"]] == [created["id"]]
    assert body["result_info"]["total_count"] == 1
    assert len(call(fake, "GET", f"/certificates?zone_id={other}")[2]["result"]) == 1
    assert call(fake, "GET", "/certificates")[2]["errors"][0]["code"] == 1015
    assert call(fake, "GET", f"/certificates/{created['id']}")[2]["result"]["certificate"] == created["certificate"]
    status, _, body = call(fake, "DELETE", f"/certificates/{created['id']}")
    assert status == 200 and body["result"]["id"] == created["id"] and body["result"]["revoked_at"]
    assert call(fake, "GET", f"/certificates?zone_id={fake.zone}")[2]["result"] == []
    assert fake.list_certificates("example.com") == [] and len(fake.list_certificates("example.com", revoked=True)) == 1
    status, _, body = call(fake, "DELETE", f"/certificates/{created['id']}")
    assert (status, body["errors"][0]["code"]) == (404, 1016)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"request_type": "origin-dsa"}, 1012),
        ({"requested_validity": 45}, 1013),
        ({"requested_validity": True}, 1013),
        ({"hostnames": []}, 1011),
        ({"hostnames": ["foo.*.example.com"]}, 1011),
        ({"hostnames": ["jupyter.example.net"]}, 1010),
        ({"csr": "not a CSR"}, 1014),
        ({"request_type": "origin-rsa"}, 1014),  # an ECDSA key in the CSR
    ],
)
def test_origin_ca_rejects_bad_requests(fake, fields, code):
    _, csr = make_csr()
    status, _, body = call(fake, "POST", "/certificates", origin_request(csr, **fields))
    assert status == 400 and body["success"] is False
    assert body["errors"][0]["code"] == code, body
    assert fake.list_certificates(revoked=True) == []


def test_origin_ca_needs_the_ssl_permission(fake):
    fake.add_token("dns-only", permissions={"zone:read", "dns:read", "dns:edit"})
    _, csr = make_csr()
    headers = {"Authorization": "Bearer dns-only"}
    status, _, body = call(fake, "POST", "/certificates", origin_request(csr), headers)
    assert (status, body["errors"][0]["code"]) == (403, 10000)
