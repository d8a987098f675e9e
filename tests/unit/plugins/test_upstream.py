"""Where Jupyter listens (plugins/filter/upstream.py): one rule for the jupyter role, the proxies and the doctor."""

import pytest
from ansible_collections.jupyter_edge.deploy.plugins.filter.upstream import (
    DEFAULT_SOCKET,
    jupyter_local_url,
    jupyter_socket,
    jupyter_upstream,
)
from ansible_collections.jupyter_edge.deploy.plugins.test.validators import unix_url

SINGLE_HOST = {"jupyter": ["lab"], "proxy": ["lab"]}
SPLIT = {"jupyter": ["nb"], "proxy": ["edge"]}


@pytest.mark.parametrize(
    ("host", "groups", "ip", "expected"),
    [
        ("lab", SINGLE_HOST, "127.0.0.1", DEFAULT_SOCKET),  # site.yml's single host: the socket
        ("lab", SINGLE_HOST, "::1", DEFAULT_SOCKET),
        ("lab", SINGLE_HOST, "0.0.0.0", ""),  # noqa: S104 - put on the network for others: TCP
        ("nb", SPLIT, "127.0.0.1", ""),  # the proxy is elsewhere
        ("edge", SPLIT, "127.0.0.1", ""),
        ("lab", {}, "127.0.0.1", ""),  # a playbook of roles without the groups
        ("lab", {"jupyter": ["lab"]}, "127.0.0.1", ""),
    ],
)
def test_auto(host, groups, ip, expected):
    assert jupyter_socket("auto", host, groups, ip) == expected


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (False, ""),
        ("false", ""),
        ("", ""),
        (None, ""),
        (True, DEFAULT_SOCKET),
        ("yes", DEFAULT_SOCKET),
        ("/run/jupyter/lab.sock", "/run/jupyter/lab.sock"),
    ],
)
def test_explicit(setting, expected):
    assert jupyter_socket(setting, "nb", SPLIT, "0.0.0.0") == expected  # noqa: S104


@pytest.mark.parametrize("setting", ["jupyter.sock", "/run/jupyter/", "/a b.sock", "/" + "x" * 120, "unix:/x.sock"])
def test_bad_settings_name_the_variable(setting):
    with pytest.raises(ValueError, match="jupyter_socket is"):
        jupyter_socket(setting, "lab", SINGLE_HOST)


def test_upstreams():
    assert jupyter_upstream(DEFAULT_SOCKET, 8888) == f"unix:{DEFAULT_SOCKET}"
    assert unix_url(jupyter_upstream(DEFAULT_SOCKET))
    assert jupyter_upstream("", "8890") == "http://127.0.0.1:8890"


@pytest.mark.parametrize(
    ("ip", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8888"),
        ("0.0.0.0", "http://127.0.0.1:8888"),  # noqa: S104
        ("::", "http://127.0.0.1:8888"),
        ("10.0.0.20", "http://10.0.0.20:8888"),
        ("::1", "http://[::1]:8888"),
        ("", "http://127.0.0.1:8888"),
    ],
)
def test_local_url(ip, url):
    assert jupyter_local_url(ip, 8888) == url


@pytest.mark.parametrize("value", ["unix:/var/lib/jupyter-edge/sockets/jupyter.sock", "unix:/tmp/a"])
def test_unix_urls(value):
    assert unix_url(value)


@pytest.mark.parametrize("value", ["unix:x.sock", "unix:/dir/", "unix:/a b", "unix:/a|http://x", "/a.sock", None])
def test_not_unix_urls(value):
    assert not unix_url(value)
