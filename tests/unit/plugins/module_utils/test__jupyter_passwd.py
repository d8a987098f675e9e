"""The private hash helper against jupyter_server.auth.security, the reference it copies."""

import re

import pytest
from ansible_collections.jupyter_edge.deploy.plugins.module_utils import _jupyter_passwd as helper
from jupyter_server.auth import passwd as jupyter_passwd
from jupyter_server.auth import passwd_check

KNOWN_SHA1 = "sha1:0e112c3ddfce:a68df677475c2b47b6e86d0467eec97ac5f4b85a"  # "mypassword"


@pytest.mark.parametrize(
    ("algorithm", "pattern"),
    [
        ("argon2", r"argon2:\$argon2id\$v=19\$m=10240,t=10,p=8\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+"),
        ("sha1", r"sha1:[0-9a-f]{12}:[0-9a-f]{40}"),
        ("sha256", r"sha256:[0-9a-f]{12}:[0-9a-f]{64}"),
        ("sha512", r"sha512:[0-9a-f]{12}:[0-9a-f]{128}"),
    ],
)
def test_passwd_format_is_accepted_by_jupyter_server(algorithm, pattern):
    hashed = helper.passwd("pässword", algorithm)
    assert re.fullmatch(pattern, hashed)
    assert passwd_check(hashed, "pässword")
    assert not passwd_check(hashed, "other")
    assert helper.algorithm_of(hashed) == algorithm


def test_known_vector():
    assert helper.verify(KNOWN_SHA1, "mypassword")
    assert not helper.verify(KNOWN_SHA1, "Mypassword")


@pytest.mark.parametrize("algorithm", ["argon2", "sha1", "sha256", "sha512"])
@pytest.mark.parametrize("password", ["s3cret", "pässword", "with:colon", " "])
def test_verify_agrees_with_passwd_check(algorithm, password):
    hashed = jupyter_passwd(password, algorithm)
    for candidate in (password, password + "x", "", "s3cret"):
        assert helper.verify(hashed, candidate) == passwd_check(hashed, candidate)


@pytest.mark.parametrize(
    "hashed",
    ["", "plain", "sha1:nodigest", "sha1:0e112c3ddfce:", "nosuchalg:0e112c3ddfce:abcd", "md5:abc:def"],
)
def test_malformed_hashes_are_rejected_like_passwd_check(hashed):
    assert helper.verify(hashed, "mypassword") is False
    assert passwd_check(hashed, "mypassword") is False


@pytest.mark.parametrize("hashed", [None, 42, "argon2:garbage", "sha1:sälz:abcd", "shake_128:0e112c3ddfce:ab"])
def test_verify_returns_false_where_passwd_check_would_raise(hashed):
    assert helper.verify(hashed, "mypassword") is False


def test_argon2_missing(monkeypatch):
    monkeypatch.setattr(helper, "HAS_ARGON2", False)
    with pytest.raises(ImportError):
        helper.passwd("x", "argon2")
    with pytest.raises(ImportError):
        helper.verify("argon2:$argon2id$v=19$m=10240,t=10,p=8$abc$def", "x")
    assert helper.verify(KNOWN_SHA1, "mypassword")  # the legacy format needs only hashlib
