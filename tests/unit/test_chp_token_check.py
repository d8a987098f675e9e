"""playbooks/files/chp_token_check.py against a local stand-in for CHP's API: it never prints a token."""

import importlib.util
import io
import json
import threading
from collections.abc import Iterator
from contextlib import redirect_stdout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "playbooks" / "files" / "chp_token_check.py"
spec = importlib.util.spec_from_file_location("chp_token_check", SCRIPT)
chp_token_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(chp_token_check)

TOKEN = "a1" * 32
OTHER = "b2" * 32


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    """CHP's API as far as the check uses it: GET /api/routes, 200 with TOKEN, else 403."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            ok = self.path == "/api/routes" and self.headers.get("Authorization") == f"token {TOKEN}"
            body = json.dumps({"/jupyter": {"hub": True}} if ok else {}).encode()
            self.send_response(200 if ok else 403)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def hub_config(tmp_path: Path, api_url: str) -> str:
    """A configuration file shaped like the one the jupyterhub role writes."""
    settings = json.dumps({"ConfigurableHTTPProxy": {"api_url": api_url, "should_start": False}}, sort_keys=True)
    return write(tmp_path / "jupyterhub_config.py", f"import json\n\nSETTINGS = json.loads({json.dumps(settings)})\n")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        rc = chp_token_check.main(list(argv))
    return rc, out.getvalue()


@pytest.mark.parametrize(("hub_token", "status"), [(TOKEN, 200), (OTHER, 403)], ids=["same", "different"])
def test_api_status_and_file_comparison(tmp_path, api, hub_token, status):
    hub_env = write(tmp_path / "jupyterhub.env", f"CONFIGPROXY_AUTH_TOKEN={hub_token}")
    chp_env = write(tmp_path / "auth.env", f"# managed\nCONFIGPROXY_AUTH_TOKEN={TOKEN}\n")
    args = ["--hub-env-file", hub_env, "--hub-config", hub_config(tmp_path, api), "--hub-unit", ""]
    rc, out = run(*args, "--chp-env-file", chp_env)
    assert rc == 0
    assert TOKEN not in out and OTHER not in out
    seen = json.loads(out)
    assert seen["api_url"] == api and seen["api_status"] == status
    assert seen["same"] == {
        "hub_file_process": None,  # no running hub here
        "chp_file_process": None,
        "hub_chp_files": status == 200,
        "hub_chp_processes": None,
    }
    assert seen["known"] == {"hub_file": True, "hub_process": False, "chp_file": True, "chp_process": False}
    assert seen.get("routes") == (1 if status == 200 else None)


def test_api_url_falls_back_to_the_argument(tmp_path, api):
    hub_env = write(tmp_path / "jupyterhub.env", f"CONFIGPROXY_AUTH_TOKEN={TOKEN}\n")
    args = ["--hub-env-file", hub_env, "--hub-config", str(tmp_path / "missing.py"), "--hub-unit", "", "--api-url", api]
    seen = json.loads(run(*args)[1])
    assert seen["api_status"] == 200


def test_unreachable_api_and_missing_token(tmp_path):
    hub_env = write(tmp_path / "jupyterhub.env", f"CONFIGPROXY_AUTH_TOKEN={TOKEN}\n")
    config = hub_config(tmp_path, "http://127.0.0.1:1")
    rc, out = run("--hub-env-file", hub_env, "--hub-config", config, "--hub-unit", "")
    seen = json.loads(out)
    assert rc == 0 and seen["api_status"] is None and "Connection refused" in seen["api_error"]
    assert TOKEN not in out
    seen = json.loads(run("--hub-env-file", str(tmp_path / "none.env"), "--hub-config", config, "--hub-unit", "")[1])
    assert seen["api_status"] is None and "no CONFIGPROXY_AUTH_TOKEN in" in seen["api_error"]


def test_a_token_an_http_header_cannot_carry_is_not_sent_or_printed(tmp_path, api):
    hub_env = write(tmp_path / "jupyterhub.env", f"CONFIGPROXY_AUTH_TOKEN={TOKEN} {OTHER}\n")
    rc, out = run("--hub-env-file", hub_env, "--hub-config", hub_config(tmp_path, api), "--hub-unit", "")
    assert rc == 0 and TOKEN not in out and OTHER not in out
    assert json.loads(out)["api_error"] == "the hub's token has characters an HTTP header cannot carry"
