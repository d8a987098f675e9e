"""jupyter_edge.deploy.cloudflare_zone_settings, run in-process against the fake Cloudflare API."""

from __future__ import annotations

import pytest
from ansible_collections.jupyter_edge.deploy.plugins.modules import cloudflare_zone_settings
from fake_cloudflare import TEST_TOKEN
from fake_cloudflare.testing import run_module

JUPYTER_SETTINGS = {
    "ssl": "strict",
    "always_use_https": "on",
    "automatic_https_rewrites": "on",
    "websockets": "on",
    "min_tls_version": "1.2",
}


def run(fake, settings, check_mode=False, diff=False, **args):
    base = {"api_url": fake.url, "api_token": TEST_TOKEN, "zone": "example.com", "settings": settings}
    return run_module(cloudflare_zone_settings, dict(base, **args), check_mode=check_mode, diff=diff)


def test_sets_settings_in_one_call_and_reports_which_changed(fake):
    result = run(fake, JUPYTER_SETTINGS, diff=True)
    assert result["changed"] is True
    assert result["changed_settings"] == ["always_use_https", "automatic_https_rewrites", "min_tls_version", "ssl"]
    assert result["settings"] == JUPYTER_SETTINGS
    assert result["api_requests"] == 3
    assert result["diff"]["before"] == {
        "ssl": "flexible",
        "always_use_https": "off",
        "automatic_https_rewrites": "off",
        "websockets": "on",
        "min_tls_version": "1.0",
    }
    assert result["diff"]["after"] == JUPYTER_SETTINGS
    (write,) = fake.writes()
    assert write["method"] == "PATCH" and write["path"].endswith("/settings")
    assert [item["id"] for item in write["body"]["items"]] == result["changed_settings"]
    assert {k: v for k, v in fake.zone_settings("example.com").items() if k in JUPYTER_SETTINGS} == JUPYTER_SETTINGS


def test_second_run_makes_no_write_and_two_requests(fake):
    run(fake, JUPYTER_SETTINGS)
    fake.clear_requests()
    result = run(fake, JUPYTER_SETTINGS)
    assert result["changed"] is False and result["changed_settings"] == []
    assert result["api_requests"] == 2 and fake.writes() == []


def test_yaml_booleans_and_numbers(fake):
    result = run(fake, {"always_use_https": True, "websockets": False, "min_tls_version": 1.2})
    assert result["settings"] == {"always_use_https": "on", "websockets": "off", "min_tls_version": "1.2"}
    assert run(fake, {"always_use_https": "on", "websockets": "off", "min_tls_version": "1.2"})["changed"] is False


def test_check_mode(fake):
    result = run(fake, {"ssl": "strict"}, check_mode=True, diff=True)
    assert result["changed"] is True and result["changed_settings"] == ["ssl"]
    assert result["diff"] == {"before": {"ssl": "flexible"}, "after": {"ssl": "strict"}}
    assert fake.writes() == [] and fake.zone_settings("example.com")["ssl"] == "flexible"


def test_other_settings_are_passed_through(fake):
    assert run(fake, {"security_level": "high"})["changed"] is True
    assert fake.zone_settings("example.com")["security_level"] == "high"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ssl": "full (strict)"}, "ssl must be one of off, flexible, full, strict"),
        ({"min_tls_version": 1.4}, "min_tls_version must be one of 1.0, 1.1, 1.2, 1.3"),
        ({"websockets": "yes"}, "websockets must be one of on, off"),
        ({}, "settings must name at least one zone setting"),
    ],
)
def test_bad_values_are_rejected_before_any_request(fake, settings, message):
    result = run(fake, settings)
    assert result["failed"] is True and message in result["msg"]
    assert fake.api_requests() == []


def test_unknown_setting_fails_before_any_write(fake):
    result = run(fake, {"ssl": "strict", "no_such_setting": "on"})
    assert result["failed"] is True and "Zone example.com has no setting named no_such_setting" in result["msg"]
    assert fake.writes() == [] and fake.zone_settings("example.com")["ssl"] == "flexible"


def test_setting_not_editable_on_the_plan(fake):
    fake.reset()
    fake.add_zone("example.com", locked=["min_tls_version"])
    result = run(fake, JUPYTER_SETTINGS)
    assert result["failed"] is True and "min_tls_version of zone example.com cannot be changed" in result["msg"]
    assert fake.writes() == []
    assert run(fake, {"min_tls_version": "1.0"})["changed"] is False  # unchanged is fine


def test_api_error_is_surfaced(fake):
    fake.fail_next(status=400, method="PATCH", code=1007, message="Invalid value for zone setting ssl")
    result = run(fake, {"ssl": "strict"})
    assert result["failed"] is True and "HTTP 400: code 1007: Invalid value for zone setting ssl" in result["msg"]


def test_token_without_settings_permission(fake):
    dns_only = "dns-only"
    fake.add_token(dns_only, permissions={"zone:read", "dns:read", "dns:edit", "settings:read"})
    result = run(fake, {"ssl": "strict"}, api_token=dns_only)
    assert result["failed"] is True and "code 10000" in result["msg"] and "Zone Settings Write" in result["msg"]


def test_retry_after_5xx(fake):
    fake.fail_next(status=503, retry_after=1, path="settings")
    result = run(fake, {"ssl": "strict"})
    assert result["changed"] is True and result["_sleeps"] == [1.0] and result["api_requests"] == 4
