"""The validators (plugins/test/validators.py) and the site-names filter (plugins/filter/names.py)."""

import pytest
from ansible_collections.jupyter_edge.deploy.plugins.filter.names import host_addresses, san, site_names
from ansible_collections.jupyter_edge.deploy.plugins.test.validators import (
    dns_name,
    http_url,
    ip_address,
    loopback,
    public_name,
    url_path,
)


@pytest.mark.parametrize(
    "name",
    ["jupyter.example.org", "localhost", "a", "xn--bcher-kva.example", "lab-1.example.org", "example.org.", "a" * 63],
)
def test_dns_names(name):
    assert dns_name(name) and public_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "https://jupyter.example.org",
        "jupyter.example.org:8080",
        "jupyter.example.org/notebook",
        "*.example.org",
        "under_score.example.org",
        "-lead.example.org",
        "trail-.example.org",
        "a" * 64,
        ("a" * 60 + ".") * 5,
        "bücher.example",  # browsers send the punycode form
        "203.0.113.10",  # an address, not a name
        "999.1.1.1",
        "two words",
        None,
        ["jupyter.example.org"],
    ],
)
def test_not_dns_names(name):
    assert not dns_name(name)


@pytest.mark.parametrize("address", ["203.0.113.10", "127.0.0.1", "2001:db8::1", "::1", "fe80::1"])
def test_addresses(address):
    assert ip_address(address) and public_name(address) and not dns_name(address)


@pytest.mark.parametrize("value", ["[2001:db8::1]", "203.0.113.10:80", "10.0.0.0/8", "999.1.1.1", "", None, 42])
def test_not_addresses(value):
    assert not ip_address(value)


@pytest.mark.parametrize(("value", "expected"), [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True),
                                                 ("localhost", True), ("0.0.0.0", False), ("10.0.0.20", False),
                                                 ("", False), ("jupyter.example.org", False)])  # fmt: skip
def test_loopback(value, expected):
    assert loopback(value) is expected


FACTS = {
    "all_ipv4_addresses": ["172.17.0.3", "127.0.0.1", "203.0.113.10"],
    "all_ipv6_addresses": ["fe80::42:acff:fe11:3", "2001:db8::3", "::1"],
}


def test_host_addresses_leave_out_loopback_and_link_local():
    assert host_addresses(FACTS, "198.51.100.7") == ["198.51.100.7", "172.17.0.3", "203.0.113.10", "2001:db8::3"]
    assert host_addresses(FACTS, "lab.example.org") == ["172.17.0.3", "203.0.113.10", "2001:db8::3"]
    assert host_addresses({}, None) == []


def test_site_names_primary_first_each_once():
    assert site_names("lab.example.org", ["nb.example.org", "lab.example.org"]) == ["lab.example.org", "nb.example.org"]
    assert site_names("lab.example.org", [], FACTS, "203.0.113.10") == [
        "lab.example.org",
        "203.0.113.10",
        "172.17.0.3",
        "2001:db8::3",
    ]
    assert site_names("lab.example.org", None, None, "203.0.113.10") == ["lab.example.org"]  # no facts: no addresses


def test_subject_alt_names():
    assert [san(n) for n in ("lab.example.org", "203.0.113.10", "2001:db8::3")] == [
        "DNS:lab.example.org",
        "IP:203.0.113.10",
        "IP:2001:db8::3",
    ]


@pytest.mark.parametrize("path", ["/", "/notebook/", "/a/b.c/~d_e-f/"])
def test_url_paths(path):
    assert url_path(path)


@pytest.mark.parametrize("path", ["", "notebook/", "/notebook", "//", "/a b/", "/a?b/", "/%7E/", None])
def test_not_url_paths(path):
    assert not url_path(path)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8888",
        "https://backend.internal:8443/",
        "http://[::1]:8888",
        "http://jupyter",
        "http://10.0.0.20",
    ],
)
def test_http_urls(url):
    assert http_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "127.0.0.1:8888",
        "ftp://127.0.0.1:21",
        "http://127.0.0.1:8888/notebook/",
        "http://user:pw@127.0.0.1:8888",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:8888?x=1",
        "http://::1:8888",
        "http://[jupyter]:8888",
        "http://jup yter:8888",
        "http://",
        "",
        None,
    ],
)
def test_not_http_urls(url):
    assert not http_url(url)


def test_http_url_with_a_port_required():
    assert http_url("http://127.0.0.1:8081", port_required=True)
    assert not http_url("http://127.0.0.1", port_required=True)
