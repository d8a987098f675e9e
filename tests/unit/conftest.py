"""Fixtures shared by the unit tests: one local fake Cloudflare API per module."""

import pytest
from fake_cloudflare import FakeCloudflare


@pytest.fixture(scope="module")
def server():
    with FakeCloudflare() as fake:
        yield fake


@pytest.fixture
def fake(server):
    """A fresh fake holding one zone, example.com (its object in ``fake.zone``)."""
    server.reset()
    server.zone = server.add_zone("example.com")
    return server
