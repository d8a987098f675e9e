"""tests/e2e/browser.py's pure parts: resolver rules, terminal output, the command line's refusals."""

import pytest
from e2e import browser


def test_resolver_rules_map_the_public_names_and_nothing_else():
    rules = browser.resolver_rules({"jupyter.example.org": "172.17.0.3", "a.example.org": "10.0.0.2"})
    assert rules == (
        "MAP a.example.org 10.0.0.2, MAP jupyter.example.org 172.17.0.3, MAP * ~NOTFOUND, EXCLUDE localhost"
    )


def test_terminal_escapes_are_stripped_before_looking_for_the_answer():
    raw = "echo $((6*7))\r\n\x1b[?2004l\r42\r\n\x1b]0;root@host: ~\x07\x1b[?2004hroot@host:~# "
    text = browser.ANSI.sub("", raw)
    assert "\r42\r\n" in text and "\x1b" not in text


def test_command_line_wants_the_password_from_the_environment(monkeypatch, capsys):
    monkeypatch.delenv("JUPYTER_PASSWORD", raising=False)
    with pytest.raises(SystemExit) as exited:
        browser.main(["--url", "https://lab.example.org/"])
    assert exited.value.code == 2
    assert "JUPYTER_PASSWORD" in capsys.readouterr().err


def test_command_line_wants_an_http_url(monkeypatch, capsys):
    monkeypatch.setenv("JUPYTER_PASSWORD", "x")
    with pytest.raises(SystemExit):
        browser.main(["--url", "lab.example.org"])
    assert "--url must be http(s)" in capsys.readouterr().err
