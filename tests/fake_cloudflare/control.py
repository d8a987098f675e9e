"""The running fake's control endpoint, for tests that check what a playbook left in "Cloudflare"."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path


def fake_state(state_file: str | Path) -> dict:
    """Records, settings and requests of the fake started with --state-file (loopback only)."""
    url = json.loads(Path(state_file).read_text())["url"].replace("/client/v4", "/__fake__/state")
    assert url.startswith("http://127.0.0.1:"), url
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (loopback, checked above)
        return json.load(resp)
