"""Fake Cloudflare API v4 server for the jupyter_edge.deploy tests (loopback only).

    from fake_cloudflare import FakeCloudflare

    with FakeCloudflare() as fake:
        zone_id = fake.add_zone("example.com")
        ... run a module with api_url=fake.url, api_token=fake.default_token ...
        assert fake.writes() == []

`python -m fake_cloudflare --port 0 --state-file FILE` runs it in the foreground and writes
{"port", "pid", "url", "token"} to FILE once it listens.
"""

from .server import ALL_PERMISSIONS, DEFAULT_SETTINGS, TEST_TOKEN, FakeCloudflare

__all__ = ["ALL_PERMISSIONS", "DEFAULT_SETTINGS", "TEST_TOKEN", "FakeCloudflare"]
