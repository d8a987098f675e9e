"""Verify, through the fake API's control endpoint, what the role left in Cloudflare."""

import os
from pathlib import Path

from fake_cloudflare.control import fake_state as read_state


def fake_state():
    return read_state(Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "fake_cloudflare.json")


def test_record_points_at_the_server_proxied():
    records = fake_state()["records"]["example.com"]
    jupyter = [r for r in records if r["name"] == "jupyter.example.com"]
    assert [(r["type"], r["content"], r["proxied"], r["ttl"]) for r in jupyter] == [("A", "192.0.2.10", True, 1)]


def test_zone_settings_for_jupyter():
    settings = fake_state()["settings"]["example.com"]
    assert settings["ssl"] == "strict"
    assert settings["always_use_https"] == "on"
    assert settings["automatic_https_rewrites"] == "on"
    assert settings["websockets"] == "on"
    assert settings["min_tls_version"] == "1.2"


def test_idempotence_run_wrote_nothing():
    writes = [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in fake_state()["requests"] if r["method"] != "GET"]
    # check: nothing; converge: the stale record updated in place, then the settings in one call;
    # idempotence: nothing
    assert [method for method, _ in writes] == ["PATCH", "PATCH"]
    assert writes[1][1] == "settings"
