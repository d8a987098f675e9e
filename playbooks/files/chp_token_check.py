"""Does the hub's token open configurable-http-proxy's API? Prints no token, ever.

Run as root on the hub's host by playbooks/doctor.yml (standard library only, like
plugins/module_utils/_jupyter_client.py). It reads CONFIGPROXY_AUTH_TOKEN where the hub and, on the same
host, CHP get it (their root-only environment files and the environment their
running processes started with), compares SHA-256 digests of those values, and
calls GET <api_url>/api/routes with the token the hub runs with: 200 means CHP
accepts it, 403 that the tokens differ. It prints one JSON object of observations
(which sources agree, the API's status), never a token or a digest.

    python3 chp_token_check.py --hub-env-file /etc/jupyterhub/jupyterhub.env \\
        --hub-config /etc/jupyterhub/jupyterhub_config.py --hub-unit jupyterhub \\
        --chp-env-file /etc/configurable-http-proxy/auth.env --chp-unit configurable-http-proxy
"""

import argparse
import hashlib
import http.client
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

VAR = b"CONFIGPROXY_AUTH_TOKEN"


def from_env_file(path: str) -> bytes | None:
    """The token in an environment file (KEY=value lines), None when missing or unreadable."""
    try:
        with open(path, "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    values = [line.partition(b"=")[2].strip() for line in lines if line.partition(b"=")[0].strip() == VAR]
    return values[-1] if values and values[-1] else None


def main_pid(unit: str) -> int:
    """The unit's main process (0: not running, or no systemd)."""
    try:
        out = subprocess.run(
            ["systemctl", "show", "--property", "MainPID", "--value", unit],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return int(out.strip()) if out.strip().isdigit() else 0


def from_process(unit: str) -> bytes | None:
    """The token in the environment the unit's main process started with (root reads any)."""
    pid = main_pid(unit) if unit else 0
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            entries = f.read().split(b"\0")
    except OSError:
        return None
    values = [e.partition(b"=")[2] for e in entries if e.partition(b"=")[0] == VAR]
    return values[-1] if values and values[-1] else None


def same(a: bytes | None, b: bytes | None) -> bool | None:
    """Whether two tokens are equal, compared as SHA-256 digests; None when one is unknown."""
    if a is None or b is None:
        return None
    return hashlib.sha256(a).digest() == hashlib.sha256(b).digest()


def api_url_of(config: str) -> str | None:
    """ConfigurableHTTPProxy.api_url from the hub configuration the jupyterhub role writes."""
    try:
        with open(config, encoding="utf-8") as f:
            match = re.search(r"^SETTINGS = json\.loads\((.*)\)$", f.read(), re.MULTILINE)
        return json.loads(json.loads(match.group(1)))["ConfigurableHTTPProxy"]["api_url"] if match else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def call_api(api_url: str, token: bytes, timeout: float) -> dict[str, Any]:
    """GET /api/routes with the token; the status (200, 403) or the error, and the number of routes."""
    if not api_url.startswith(("http://", "https://")):
        return {"api_status": None, "api_error": f"not an http(s) URL: {api_url}"}
    if not re.fullmatch(rb"[\x21-\x7e]+", token):
        return {"api_status": None, "api_error": "the hub's token has characters an HTTP header cannot carry"}
    request = urllib.request.Request(api_url.rstrip("/") + "/api/routes")  # noqa: S310 - http(s) only (above)
    request.add_header("Authorization", "token " + token.decode("ascii"))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - http(s) only (above)
            routes = json.loads(resp.read() or b"{}")
            return {"api_status": resp.status, "routes": len(routes) if isinstance(routes, dict) else None}
    except urllib.error.HTTPError as exc:
        return {"api_status": exc.code}
    except (OSError, ValueError, http.client.HTTPException) as exc:
        # Error messages quote what they choke on: never let that be the token.
        return {"api_status": None, "api_error": f"{type(exc).__name__}: {exc}".replace(token.decode("ascii"), "***")}


def check(args: argparse.Namespace) -> dict[str, Any]:
    hub_file, hub_process = from_env_file(args.hub_env_file), from_process(args.hub_unit)
    chp_file = from_env_file(args.chp_env_file) if args.chp_env_file else None
    chp_process = from_process(args.chp_unit) if args.chp_unit else None
    api_url = api_url_of(args.hub_config) or args.api_url
    # What the hub sends is what it started with; its file when it does not run.
    hub_token = hub_process if hub_process is not None else hub_file
    out: dict[str, Any] = {
        "api_url": api_url,
        "known": {
            "hub_file": hub_file is not None,
            "hub_process": hub_process is not None,
            "chp_file": chp_file is not None,
            "chp_process": chp_process is not None,
        },
        "same": {
            "hub_file_process": same(hub_file, hub_process),
            "chp_file_process": same(chp_file, chp_process),
            "hub_chp_files": same(hub_file, chp_file),
            "hub_chp_processes": same(hub_process, chp_process),
        },
        "api_status": None,
    }
    if not api_url:
        return out | {"api_error": f"no ConfigurableHTTPProxy.api_url in {args.hub_config} and no --api-url"}
    if hub_token is None:
        return out | {"api_error": f"no {VAR.decode()} in {args.hub_env_file} or the hub's process"}
    return out | call_api(api_url, hub_token, args.timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub-env-file", required=True, help="the hub's environment file (jupyterhub.env)")
    parser.add_argument("--hub-config", required=True, help="jupyterhub_config.py, for ConfigurableHTTPProxy.api_url")
    parser.add_argument("--hub-unit", default="jupyterhub", help="the hub's systemd unit ('' to skip the process)")
    parser.add_argument("--chp-env-file", help="CHP's environment file, when CHP runs on this host")
    parser.add_argument("--chp-unit", help="CHP's systemd unit, when CHP runs on this host")
    parser.add_argument("--api-url", help="CHP's API URL when the hub's configuration does not give it")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    try:
        print(json.dumps(check(args)))
    except Exception as exc:  # unexpected: its type only, since a message could quote a token
        print(json.dumps({"error": type(exc).__name__}))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
