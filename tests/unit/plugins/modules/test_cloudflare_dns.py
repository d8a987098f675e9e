"""jupyter_edge.deploy.cloudflare_dns, run in-process against the fake Cloudflare API."""

from __future__ import annotations

import pytest
from ansible_collections.jupyter_edge.deploy.plugins.modules import cloudflare_dns
from fake_cloudflare import TEST_TOKEN
from fake_cloudflare.testing import run_module


def run(fake, check_mode=False, diff=False, **args):
    base = {"api_url": fake.url, "api_token": TEST_TOKEN, "zone": "example.com"}
    return run_module(cloudflare_dns, dict(base, **args), check_mode=check_mode, diff=diff)


def seed(fake, **record):
    return fake.add_record("example.com", **record)


def records(fake, name="jupyter.example.com", rtype=None):
    return fake.list_records("example.com", name=name, type=rtype)


READ_ONLY = "read-only"  # a token the fake knows, without DNS Write
JUPYTER_A = {"record": "jupyter", "type": "A", "value": "192.0.2.10"}


def test_create(fake):
    result = run(fake, **JUPYTER_A, proxied=True)
    assert result["changed"] is True and not result.get("failed")
    assert result["record"]["name"] == "jupyter.example.com" and result["record"]["proxied"] is True
    assert result["result"]["record"] == result["record"]  # community.general layout too
    assert result["api_requests"] == 3
    assert [(r["name"], r["content"], r["ttl"]) for r in records(fake)] == [("jupyter.example.com", "192.0.2.10", 1)]
    assert fake.writes()[0]["body"] == {
        "type": "A",
        "name": "jupyter.example.com",
        "ttl": 1,
        "proxied": True,
        "content": "192.0.2.10",
    }


def test_second_run_makes_no_write_and_two_requests(fake):
    run(fake, **JUPYTER_A, proxied=True)
    fake.clear_requests()
    result = run(fake, **JUPYTER_A, proxied=True)
    assert result["changed"] is False
    assert result["api_requests"] == 2
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in fake.api_requests()] == [
        ("GET", "zones"),
        ("GET", "dns_records"),
    ]


@pytest.mark.parametrize(
    "name",
    ["jupyter", "jupyter.example.com", "jupyter.example.com.", "JUPYTER.Example.COM", "Jupyter.EXAMPLE.com."],
)
def test_name_forms_are_the_same_record(fake, name):
    seed(fake, type="A", name="jupyter", content="192.0.2.10", ttl=300)
    fake.clear_requests()
    result = run(fake, record=name, type="A", value="192.0.2.10", ttl=300, zone="Example.COM.")
    assert result["changed"] is False and fake.writes() == []


def test_apex(fake):
    assert run(fake, type="A", value="192.0.2.1")["record"]["name"] == "example.com"
    assert run(fake, record="example.com", type="A", value="192.0.2.1")["changed"] is False
    assert run(fake, record="@", type="A", value="192.0.2.1")["changed"] is False


@pytest.mark.parametrize("written", ["2001:DB8::1", "2001:db8:0:0:0:0:0:1", "2001:0db8::0001"])
def test_ipv6_in_another_form(fake, written):
    seed(fake, type="AAAA", name="jupyter", content="2001:db8::1")
    fake.clear_requests()
    assert run(fake, record="jupyter", type="AAAA", value=written)["changed"] is False
    assert fake.writes() == []


@pytest.mark.parametrize(("stored", "given"), [("hello world", '"hello world"'), ('"hello world"', "hello world")])
def test_txt_quoting(fake, stored, given):
    seed(fake, type="TXT", name="jupyter", content=stored)
    fake.clear_requests()
    assert run(fake, record="jupyter", type="TXT", value=given)["changed"] is False
    assert fake.writes() == []


def test_txt_with_several_strings_is_a_different_value(fake):
    seed(fake, type="TXT", name="jupyter", content='"a" "b"')
    assert run(fake, record="jupyter", type="TXT", value="a b")["changed"] is True
    assert len(records(fake)) == 2


def test_proxied_ttl_does_not_change_every_run(fake):
    first = run(fake, **JUPYTER_A, proxied=True, ttl=300)
    assert first["changed"] is True and first["record"]["ttl"] == 1
    assert first["warnings"] == ["ttl=300 is ignored: Cloudflare uses 1 (automatic) for proxied records"]
    fake.clear_requests()
    assert run(fake, **JUPYTER_A, proxied=True, ttl=300)["changed"] is False
    assert fake.writes() == []


def test_update_ttl_and_proxied_in_place(fake):
    old = seed(fake, type="A", name="jupyter", content="192.0.2.10", ttl=300)
    result = run(fake, **JUPYTER_A, ttl=600, diff=True)
    assert result["changed"] is True and result["record"]["id"] == old["id"]
    assert fake.writes()[0]["method"] == "PATCH" and fake.writes()[0]["body"] == {"ttl": 600}
    assert result["diff"]["before"]["records"][0]["ttl"] == 300
    assert result["diff"]["after"]["records"][0]["ttl"] == 600
    result = run(fake, **JUPYTER_A, proxied=True)
    assert fake.writes()[-1]["body"] == {"proxied": True}
    assert records(fake)[0]["proxied"] is True and records(fake)[0]["ttl"] == 1
    assert run(fake, **JUPYTER_A, proxied=False, ttl=600)["changed"] is True
    assert fake.writes()[-1]["body"] == {"proxied": False, "ttl": 600}


def test_cname_is_updated_in_place(fake):
    old = seed(fake, type="CNAME", name="jupyter", content="old.example.net")
    result = run(fake, record="jupyter", type="CNAME", value="New.Example.net.")
    assert result["changed"] is True and result["record"]["id"] == old["id"]
    assert [r["content"] for r in records(fake)] == ["new.example.net"]
    assert run(fake, record="jupyter", type="CNAME", value="NEW.example.net")["changed"] is False


def test_address_change_without_solo_adds_a_record(fake):
    seed(fake, type="A", name="jupyter", content="192.0.2.1")
    result = run(fake, **JUPYTER_A)
    assert result["changed"] is True
    assert sorted(r["content"] for r in records(fake)) == ["192.0.2.1", "192.0.2.10"]


def test_solo_updates_in_place_then_deletes_the_others(fake):
    first = seed(fake, type="A", name="jupyter", content="192.0.2.1")
    second = seed(fake, type="A", name="jupyter", content="192.0.2.2")
    seed(fake, type="AAAA", name="jupyter", content="2001:db8::1")  # other type: kept
    fake.clear_requests()
    result = run(fake, **JUPYTER_A, solo=True, diff=True)
    assert result["changed"] is True and result["deleted"] == [second["id"]]
    patch, delete = fake.writes()
    assert patch["method"] == "PATCH" and patch["path"].endswith(first["id"])  # in place first
    assert delete["method"] == "DELETE" and delete["path"].endswith(second["id"])  # then the rest
    assert [r["content"] for r in records(fake, rtype="A")] == ["192.0.2.10"]
    assert len(records(fake, rtype="AAAA")) == 1
    assert [r["content"] for r in result["diff"]["before"]["records"]] == ["192.0.2.1", "192.0.2.2"]
    assert [r["content"] for r in result["diff"]["after"]["records"]] == ["192.0.2.10"]
    fake.clear_requests()
    assert run(fake, **JUPYTER_A, solo=True)["changed"] is False and fake.writes() == []


def test_solo_keeps_the_matching_record_and_deletes_after_it(fake):
    other = seed(fake, type="A", name="jupyter", content="192.0.2.1")
    seed(fake, type="A", name="jupyter", content="192.0.2.10", ttl=300)
    fake.clear_requests()
    run(fake, **JUPYTER_A, solo=True)
    assert [r["method"] for r in fake.writes()] == ["PATCH", "DELETE"]
    assert fake.writes()[1]["path"].endswith(other["id"])


def test_solo_failure_half_way_leaves_the_desired_record(fake):
    seed(fake, type="A", name="jupyter", content="192.0.2.1")
    seed(fake, type="A", name="jupyter", content="192.0.2.2")
    fake.fail_next(status=400, method="DELETE", code=1004, message="DNS Validation Error")
    result = run(fake, **JUPYTER_A, solo=True)
    assert result["failed"] is True and "code 1004" in result["msg"]
    assert "192.0.2.10" in [r["content"] for r in records(fake)]


def test_solo_create_happens_before_delete_when_nothing_to_reuse(fake):
    seed(fake, type="TXT", name="jupyter", content="keep me?")
    seed(fake, type="TXT", name="jupyter", content="and me?")
    fake.clear_requests()
    run(fake, record="jupyter", type="TXT", value="only me", solo=True)
    assert [r["method"] for r in fake.writes()] == ["PATCH", "DELETE"]
    assert [r["content"] for r in records(fake)] == ["only me"]


def test_delete_by_value_and_all(fake):
    seed(fake, type="A", name="jupyter", content="192.0.2.1")
    seed(fake, type="A", name="jupyter", content="192.0.2.2")
    result = run(fake, record="jupyter", type="A", value="192.0.2.1", state="absent")
    assert result["changed"] is True and len(result["deleted"]) == 1 and "record" not in result
    assert [r["content"] for r in records(fake)] == ["192.0.2.2"]
    assert run(fake, record="jupyter", type="A", state="absent")["changed"] is True
    assert records(fake) == []
    fake.clear_requests()
    result = run(fake, record="jupyter", type="A", state="absent")
    assert result["changed"] is False and result["api_requests"] == 2 and fake.writes() == []


def test_check_mode_predicts_without_writing(fake):
    result = run(fake, **JUPYTER_A, proxied=True, check_mode=True, diff=True)
    assert result["changed"] is True and fake.writes() == []
    assert result["record"]["id"] is None and result["record"]["ttl"] == 1 and result["record"]["proxiable"] is True
    assert result["diff"] == {
        "before": {"records": []},
        "after": {
            "records": [
                {"name": "jupyter.example.com", "type": "A", "content": "192.0.2.10", "ttl": 1, "proxied": True}
            ]
        },
    }
    seed(fake, type="A", name="jupyter", content="192.0.2.10", ttl=300)
    seed(fake, type="A", name="jupyter", content="192.0.2.99")
    result = run(fake, **JUPYTER_A, ttl=120, solo=True, check_mode=True)
    assert result["changed"] is True and result["record"]["ttl"] == 120 and len(result["deleted"]) == 1
    assert fake.writes() == [] and len(records(fake)) == 2


def test_comment_and_tags(fake):
    run(fake, **JUPYTER_A, comment="Jupyter", tags=["team:data", "env:prod"])
    assert records(fake)[0]["comment"] == "Jupyter" and records(fake)[0]["tags"] == ["env:prod", "team:data"]
    fake.clear_requests()
    assert run(fake, **JUPYTER_A, tags=["team:data", "env:prod"])["changed"] is False  # comment left alone
    assert run(fake, **JUPYTER_A)["changed"] is False
    assert run(fake, **JUPYTER_A, comment="", tags=[])["changed"] is True
    assert fake.writes()[-1]["body"] == {"comment": None, "tags": []}


def test_mx_ns_srv_caa(fake):
    cases = [
        {"record": "@", "type": "MX", "value": "Mail.Example.com.", "priority": 10},
        {"record": "sub", "type": "NS", "value": "ns1.example.net"},
        {
            "record": "@",
            "type": "SRV",
            "service": "jupyter",
            "proto": "tcp",
            "port": 443,
            "value": "jupyter.example.com",
        },
        {"record": "@", "type": "CAA", "tag": "issue", "value": "letsencrypt.org"},
    ]
    for args in cases:
        assert run(fake, **args)["changed"] is True, args
        fake.clear_requests()
        assert run(fake, **args)["changed"] is False, args
        assert fake.writes() == [], args
    srv = fake.list_records("example.com", type="SRV")[0]
    assert srv["name"] == "_jupyter._tcp.example.com" and srv["data"]["priority"] == 1 and srv["data"]["weight"] == 1
    assert run(fake, **cases[0] | {"priority": 20})["changed"] is True
    assert fake.writes()[-1]["body"] == {"priority": 20}
    assert run(fake, **cases[2] | {"weight": 5})["changed"] is True
    assert fake.list_records("example.com", type="SRV")[0]["content"] == "5 443 jupyter.example.com"


def test_pagination_over_more_than_one_page(fake):
    fake.set_per_page_max(2)
    for i in range(1, 6):
        seed(fake, type="A", name="jupyter", content=f"192.0.2.{i}")
    fake.clear_requests()
    result = run(fake, record="jupyter", type="A", value="192.0.2.5")
    assert result["changed"] is False and fake.writes() == []
    assert [r["query"]["page"] for r in fake.api_requests(path="dns_records")] == ["1", "2", "3"]
    result = run(fake, record="jupyter", type="A", value="192.0.2.9", solo=True)
    assert len(result["deleted"]) == 4
    assert [r["content"] for r in records(fake)] == ["192.0.2.9"]


def test_retry_after_429(fake):
    fake.fail_next(status=429, count=2, retry_after=1, path="dns_records")
    result = run(fake, **JUPYTER_A)
    assert result["changed"] is True and result["_sleeps"] == [1.0, 1.0]
    assert result["api_requests"] == 5


def test_rate_limit_retries_exhausted(fake):
    fake.fail_next(status=429, count=10, retry_after=1)
    result = run(fake, **JUPYTER_A, api_retries=2)
    assert result["failed"] is True and result["api_requests"] == 3
    assert "HTTP 429 (gave up after 3 attempts): code 971" in result["msg"]
    assert result["cloudflare_errors"][0]["code"] == 971


@pytest.mark.parametrize(
    ("seeded", "args", "code"),
    [
        ({"type": "CNAME", "name": "jupyter", "content": "x.example.net"}, JUPYTER_A, "code 81054"),
        (
            {"type": "A", "name": "jupyter", "content": "192.0.2.1"},
            {**JUPYTER_A, "type": "CNAME", "value": "x.net"},
            "81053",
        ),
    ],
)
def test_conflicting_record_errors(fake, seeded, args, code):
    seed(fake, **seeded)
    result = run(fake, **args)
    assert result["failed"] is True and code in result["msg"]


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (400, 9005, "Content for A record is invalid. Must be a valid IPv4 address"),
        (400, 81057, "Record already exists."),
        (400, 1004, "DNS Validation Error"),
    ],
)
def test_cloudflare_errors_are_surfaced(fake, status, code, message):
    fake.fail_next(status=status, code=code, message=message, method="POST")
    result = run(fake, **JUPYTER_A)
    assert result["failed"] is True
    path = f"/zones/{fake.zone_id('example.com')}/dns_records"
    assert f"POST {path} failed with HTTP {status}: code {code}: {message}" in result["msg"]


def test_validation_error_from_api(fake):
    result = run(fake, **JUPYTER_A, tags=["not valid"])
    assert result["failed"] is True and "code 1004: DNS Validation Error (code 9300" in result["msg"]


def test_authentication_errors(fake):
    fake.add_token(READ_ONLY, permissions={"zone:read", "dns:read"})
    result = run(fake, **JUPYTER_A, api_token=READ_ONLY)
    assert result["failed"] is True
    assert "code 10000: Authentication error" in result["msg"] and "DNS Write" in result["msg"]
    assert run(fake, **JUPYTER_A, api_token=READ_ONLY, check_mode=True)["changed"] is True
    wrong = TEST_TOKEN + "-unknown"
    result = run(fake, **JUPYTER_A, api_token=wrong)
    assert "code 1000: Invalid API Token" in result["msg"]
    assert wrong not in str(result["invocation"])  # no_log


def test_global_key_and_environment_token(fake, monkeypatch):
    args = dict(JUPYTER_A, api_url=fake.url, zone="example.com")
    key = {"account_email": "user@example.com", "account_api_key": fake.default_api_key}
    assert run_module(cloudflare_dns, dict(args, **key))["changed"] is True
    monkeypatch.setenv("CLOUDFLARE_TOKEN", TEST_TOKEN)
    assert run_module(cloudflare_dns, args)["changed"] is False
    assert run_module(cloudflare_dns, dict(args, account_email="user@example.com"))["failed"] is True


def test_missing_zone(fake):
    result = run(fake, **JUPYTER_A, zone="example.org")
    assert result["failed"] is True and "No zone found with name example.org" in result["msg"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"type": "TXT", "value": "x", "proxied": True}, "proxied=true is possible only for A, AAAA and CNAME"),
        ({"type": "A", "value": "192.0.2.1", "ttl": 30}, "ttl must be 1 (automatic) or from 60 to 86400"),
        ({"type": "A", "value": "192.0.2.1", "ttl": 90000}, "ttl must be"),
        ({"type": "A", "value": "300.1.2.3"}, "is not valid for a A record"),
        ({"type": "A", "value": "2001:db8::1"}, "is not valid for a A record"),
        ({"type": "AAAA", "value": "192.0.2.1"}, "is not valid for a AAAA record"),
        ({"type": "CNAME", "value": "bad host!"}, "is not valid for a CNAME record"),
        ({"type": "MX", "value": "mail.example.com", "priority": 70000}, "priority must be from 0 to 65535"),
        ({"type": "A", "value": " "}, "value must not be empty"),
        ({"type": "TXT", "value": "x" * 4097}, "longer than 4096 bytes"),
        ({"type": "A", "value": "192.0.2.1", "record": "x" * 64}, "longer than 63 characters"),
        ({"type": "A", "value": "192.0.2.1", "record": ".".join(["abcdefgh"] * 30)}, "longer than 253"),
        ({"type": "A", "value": "192.0.2.1", "record": "www.other.org."}, "is not inside zone example.com"),
        ({"type": "A", "value": "192.0.2.1", "record": "-bad"}, "must be 1 to 63 letters"),
        ({"type": "A", "value": "192.0.2.1", "record": "jupyter", "solo": True, "state": "absent"}, "solo=true"),
        ({"type": "A"}, "state is present but all of the following are missing: value"),
        ({"type": "SRV", "value": "x.example.com", "port": 1}, "missing: service, proto"),
        ({"type": "CAA", "value": "letsencrypt.org", "tag": "issue", "flag": 300}, "flag must be from 0 to 255"),
    ],
)
def test_bad_input_is_rejected_before_any_request(fake, args, message):
    result = run(fake, **{"record": "jupyter", **args})
    assert result["failed"] is True
    assert message in result["msg"]
    assert fake.api_requests() == []


def test_wildcard_and_underscore_names_are_accepted(fake):
    assert run(fake, record="*.lab", type="A", value="192.0.2.1")["record"]["name"] == "*.lab.example.com"
    assert run(fake, record="_acme-challenge.jupyter", type="TXT", value="token")["changed"] is True
