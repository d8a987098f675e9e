"""Fixtures shared by the unit tests: one local fake Cloudflare API, and one real jupyter_server, per module."""

from collections.abc import Iterator

import pytest
from e2e.local_server import jupyter_server
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


@pytest.fixture(scope="module")
def jupyter_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """jupyter_server on 127.0.0.1:<random>/notebook/ with a password; yields the base URL."""
    pytest.importorskip("jupyter_server")
    pytest.importorskip("ipykernel", reason="kernel checks need ipykernel in the test environment")
    with jupyter_server(tmp_path_factory.mktemp("jupyter")) as url:
        yield url
