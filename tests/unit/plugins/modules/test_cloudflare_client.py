"""The shared Cloudflare API client (plugins/module_utils/_cloudflare.py) against the fake API."""

from __future__ import annotations

import email.utils
import time

import pytest
from ansible_collections.jupyter_edge.deploy.plugins.module_utils._cloudflare import (
    CloudflareClient,
    CloudflareError,
    format_errors,
)
from fake_cloudflare import TEST_TOKEN

DNS_READ = "dns-read"  # a token the fake knows, without DNS Write


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(fake, sleeps):
    return CloudflareClient(api_url=fake.url, api_token=TEST_TOKEN, retries=3, retry_max_delay=5, sleep=sleeps.append)


def test_bearer_token_header(fake, client):
    assert client.zone_id("Example.COM.") == fake.zone
    assert client.request_count == 1


def test_global_key_headers(fake):
    client = CloudflareClient(api_url=fake.url, account_email="user@example.com", account_api_key=fake.default_api_key)
    assert client.zone_id("example.com") == fake.zone


def test_pagination_follows_every_page(fake, client):
    fake.set_per_page_max(2)
    for i in range(5):
        fake.add_record("example.com", type="A", name="multi", content=f"192.0.2.{i + 1}")
    records = client.get_all(f"/zones/{fake.zone}/dns_records", {"name": "multi.example.com"})
    assert [r["content"] for r in records] == [f"192.0.2.{i}" for i in range(1, 6)]
    assert [r["query"]["page"] for r in fake.api_requests()] == ["1", "2", "3"]


def test_retry_after_429_is_honoured(fake, client, sleeps):
    fake.fail_next(status=429, count=2, retry_after=2)
    assert client.zone_id("example.com") == fake.zone
    assert sleeps == [2.0, 2.0]
    assert client.request_count == 3
    assert [r["status"] for r in fake.api_requests()] == [429, 429, 200]


def test_retry_after_as_http_date(fake, client, sleeps):
    fake.fail_next(status=503, retry_after=email.utils.formatdate(time.time() + 3, usegmt=True))
    client.zone_id("example.com")
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 3


def test_backoff_without_retry_after(fake, client, sleeps):
    fake.fail_next(status=502, count=3, retry_after=None, body="html")
    client.zone_id("example.com")
    assert sleeps == [1.0, 2.0, 4.0]


def test_retries_are_bounded(fake, client, sleeps):
    fake.fail_next(status=500, count=10, retry_after=1)
    with pytest.raises(CloudflareError) as exc:
        client.zone_id("example.com")
    assert client.request_count == 4  # 1 + retries
    assert "GET /zones failed with HTTP 500 (gave up after 4 attempts): code 10001" in str(exc.value)
    assert exc.value.status == 500


def test_retry_after_longer_than_cap_fails_at_once(fake, client, sleeps):
    fake.fail_next(status=429, retry_after=120)
    with pytest.raises(CloudflareError) as exc:
        client.zone_id("example.com")
    assert sleeps == [] and client.request_count == 1
    assert "Retry-After asks for 120 s, more than api_retry_max_delay=5 s" in str(exc.value)
    assert "code 971: Please wait and consider throttling your request speed" in str(exc.value)


def test_408_is_retried(fake, client, sleeps):
    fake.fail_next(status=408, retry_after=None)
    client.zone_id("example.com")
    assert sleeps == [1.0]


def test_400_is_not_retried_and_names_code(fake, client):
    with pytest.raises(CloudflareError) as exc:
        client.post(f"/zones/{fake.zone}/dns_records", {"type": "A", "name": "a", "content": "1.2.3"})
    assert client.request_count == 1
    assert str(exc.value) == (
        f"Cloudflare API POST /zones/{fake.zone}/dns_records failed with HTTP 400: "
        "code 9005: Content for A record is invalid. Must be a valid IPv4 address"
    )
    assert exc.value.codes == {9005}


def test_error_chain_is_shown():
    chain = [{"code": 6103, "message": "Bad key"}]
    errors = [{"code": 6003, "message": "Invalid request headers", "error_chain": chain}]
    assert format_errors(errors) == "code 6003: Invalid request headers (code 6103: Bad key)"


def test_authentication_error_hints_at_permissions(fake):
    fake.add_token(DNS_READ, permissions={"zone:read", "dns:read"})
    client = CloudflareClient(api_url=fake.url, api_token=DNS_READ)
    with pytest.raises(CloudflareError) as exc:
        client.post(f"/zones/{fake.zone}/dns_records", {"type": "A", "name": "a", "content": "192.0.2.1"})
    message = str(exc.value)
    assert "HTTP 403: code 10000: Authentication error" in message
    assert "an API token needs the permissions Zone Read and DNS Write" in message


def test_invalid_token(fake):
    with pytest.raises(CloudflareError, match="code 1000: Invalid API Token. Check api_token"):
        CloudflareClient(api_url=fake.url, api_token=TEST_TOKEN + "-unknown").zone_id("example.com")


def test_zone_not_found_and_ambiguous(fake, client):
    with pytest.raises(CloudflareError, match="No zone found with name example.org"):
        client.zone_id("example.org")
    fake.add_zone("example.com")
    with pytest.raises(CloudflareError, match="More than one zone matches example.com"):
        client.zone_id("example.com")


def test_unreachable_api():
    client = CloudflareClient(api_url="http://127.0.0.1:9/client/v4", api_token=TEST_TOKEN, timeout=2)
    with pytest.raises(CloudflareError, match="Cannot reach the Cloudflare API at http://127.0.0.1:9/client/v4"):
        client.zone_id("example.com")
