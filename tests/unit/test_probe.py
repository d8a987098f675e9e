"""The client library (plugins/module_utils/_jupyter_client.py) on loopback: a real jupyter_server, a TLS server."""

import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from ansible_collections.jupyter_edge.deploy.plugins.module_utils import _jupyter_client
from ansible_collections.jupyter_edge.deploy.plugins.module_utils._jupyter_client import JupyterSession, WebSocket, main
from e2e.local_server import PASSWORD, free_port

# Run as a script too (as the tests do inside the containers).
PROBE = Path(_jupyter_client.__file__)


def session(url: str, password: str | None = PASSWORD, timeout: float = 20) -> JupyterSession:
    return JupyterSession(url, password, timeout=timeout)


def test_login_ok(jupyter_url: str) -> None:
    r = session(jupyter_url).check_login()
    assert r["login_page_status"] == 200
    assert r["xsrf_cookie"] and r["xsrf_form_field"]
    assert r["post_status"] == 302
    assert r["post_location"] == "/notebook/"
    assert r["auth_cookie_set"]
    assert r["api_status"] == 200 and r["logged_in"]


def test_login_wrong_password(jupyter_url: str) -> None:
    r = session(jupyter_url, "not-the-password").check_login()
    assert r["login_page_status"] == 200
    assert r["post_status"] in (200, 401)
    assert not r["auth_cookie_set"] and r["cookies_set"] == []
    assert r["api_status"] == 403 and not r["logged_in"]


def test_unauth_refused(jupyter_url: str) -> None:
    r = session(jupyter_url, None).check_unauth()
    assert r["kernels_status"] == 403
    assert r["contents_status"] == 403
    # jupyter_server alone serves a public "server is running" page at the base URL
    assert r["root_status"] == 200 and r["root_location"] is None


def test_kernel_round_trip(jupyter_url: str) -> None:
    r = session(jupyter_url).check_kernel()
    assert r["create_status"] == 201
    assert r["ws_status"] == 101 and r["ws_accept_ok"]
    assert r["stdout"] == "42\n"
    assert r["reply_status"] == "ok" and r["idle"] and r["ws_error"] is None
    assert r["delete_status"] == 204


def test_kernel_timeout_is_an_observation(jupyter_url: str) -> None:
    r = session(jupyter_url, timeout=3).check_kernel("import time; print('started', flush=True); time.sleep(60)")
    assert r["ws_status"] == 101 and r["stdout"] == "started\n"
    assert r["reply_status"] is None and not r["idle"]
    assert r["ws_error"].startswith("TimeoutError")
    assert r["delete_status"] == 204


def test_kernel_reuse_and_error(jupyter_url: str) -> None:
    first = session(jupyter_url).check_kernel("x = 21", keep=True)
    kernel_id = first["kernel_id"]
    assert first["reply_status"] == "ok" and "delete_status" not in first
    again = session(jupyter_url).check_kernel("print(x * 2)\n1/0", kernel_id=kernel_id)
    assert again["lookup_status"] == 200
    assert again["stdout"] == "42\n"
    assert again["reply_status"] == "error" and again["exception"].startswith("ZeroDivisionError")
    assert again["delete_status"] == 204
    gone = session(jupyter_url).check_kernel(kernel_id=kernel_id)
    assert gone["lookup_status"] == 404 and gone["stdout"] is None


def test_kernel_large_messages(jupyter_url: str) -> None:
    """Frames over 64 KiB both ways (64-bit lengths, masked client frames)."""
    code = "s = '" + "y" * 70000 + "'\nprint(len(s))\nprint('x' * 200000)"
    r = session(jupyter_url).check_kernel(code)
    assert r["reply_status"] == "ok"
    assert r["stdout"] == "70000\n" + "x" * 200000 + "\n"


def read_client_frame(sock: socket.socket) -> tuple[int, bytes]:
    """Read one client frame; checks that it is masked and unmasks it."""
    buf = b""
    while len(buf) < 2:
        buf += sock.recv(2 - len(buf))
    assert buf[0] & 0x80 and buf[1] & 0x80, "client frames must be final and masked"
    length, ext = buf[1] & 0x7F, {126: 2, 127: 8}.get(buf[1] & 0x7F, 0)
    rest = b""
    while len(rest) < ext + 4:
        rest += sock.recv(ext + 4 - len(rest))
    if ext:
        length = int.from_bytes(rest[:ext], "big")
    key, payload = rest[ext:], b""
    while len(payload) < length:
        payload += sock.recv(length - len(payload))
    return buf[0] & 0x0F, bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def test_websocket_frames() -> None:
    """Ping answered by a masked pong, fragments joined, binary skipped, close echoed, long frames."""
    ours, peer = socket.socketpair()
    with ours, peer:
        peer.sendall(
            bytes([0x89, 2]) + b"hi"  # ping
            + bytes([0x02, 1]) + b"b" + bytes([0x80, 1]) + b"!"  # fragmented binary message
            + bytes([0x01, 2]) + b"he" + bytes([0x8A, 0]) + bytes([0x80, 3]) + b"llo"  # text, pong in between
            + bytes([0x81, 126]) + (300).to_bytes(2, "big") + b"z" * 300  # 16-bit length
            + bytes([0x88, 2]) + (1001).to_bytes(2, "big")  # close
        )  # fmt: skip
        ws = WebSocket(ours, b"", timeout=5)
        deadline = time.monotonic() + 5
        assert ws.recv_text(deadline) == "hello"
        assert read_client_frame(peer) == (0xA, b"hi")
        assert ws.recv_text(deadline) == "z" * 300
        assert ws.recv(deadline) is None and ws.close_code == 1001
        assert read_client_frame(peer) == (0x8, (1000).to_bytes(2, "big"))
        ws.send("x" * 70000)
        assert read_client_frame(peer) == (0x1, b"x" * 70000)
        ws.send(b"\x00\x01")
        assert read_client_frame(peer) == (0x2, b"\x00\x01")


def test_terminal_round_trip(jupyter_url: str) -> None:
    r = session(jupyter_url).check_terminal()
    assert r["create_status"] == 200
    assert r["ws_status"] == 101
    assert r["found"], r.get("output_tail")
    assert r["delete_status"] == 204
    miss = session(jupyter_url, timeout=2).check_terminal("echo nothing", expect="never-printed")
    assert miss["ws_status"] == 101 and not miss["found"]


def test_upload(jupyter_url: str) -> None:
    r = session(jupyter_url).check_upload(5)
    assert r["put_status"] == 201
    assert r["get_status"] == 200
    assert r["size_reported"] == 5 * 1024 * 1024
    assert r["hash_match"]
    assert r["delete_status"] == 204


def test_ws_origin(jupyter_url: str) -> None:
    foreign = session(jupyter_url).check_ws_origin("http://evil.example.com")
    assert foreign["create_status"] == 201
    assert foreign["ws_status"] == 403
    assert foreign["delete_status"] == 204
    same = session(jupyter_url).check_ws_origin(session(jupyter_url).origin)
    assert same["ws_status"] == 101


def test_headers(jupyter_url: str) -> None:
    r = session(jupyter_url, None).check_headers("login")
    assert r["status"] == 200
    assert "frame-ancestors" in r["headers"]["content-security-policy"]
    assert any(c.startswith("_xsrf=") for c in r["set_cookie"])
    redirect = session(jupyter_url, None).check_headers("/notebook/files/x.txt")
    assert redirect["path"] == "/notebook/files/x.txt"
    assert redirect["status"] == 302
    assert redirect["location"] == "/notebook/login?next=%2Fnotebook%2Ffiles%2Fx.txt"


def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    # -S -I: no site-packages and no environment, as in the bare Debian containers.
    proc = subprocess.run(
        [sys.executable, "-S", "-I", str(PROBE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, (proc.stdout, proc.stderr)
    return proc.returncode, json.loads(lines[0])


def test_cli_json(jupyter_url: str) -> None:
    env = {"PROBE_PW": PASSWORD, "PATH": os.environ.get("PATH", "")}
    code, out = run_cli("--url", jupyter_url.rstrip("/"), "--password-env", "PROBE_PW", "kernel", env=env)
    assert code == 0
    assert out["check"] == "kernel" and out["stdout"] == "42\n"
    code, out = run_cli("--url", jupyter_url, "--password", "wrong", "login")
    assert code == 0 and out["logged_in"] is False
    code, out = run_cli("--url", jupyter_url, "unauth")
    assert code == 0 and out["kernels_status"] == 403
    code, out = run_cli("--url", f"http://127.0.0.1:{free_port()}/", "unauth")
    assert code == 1 and "ConnectionRefusedError" in out["error"]


def test_cli_needs_password(jupyter_url: str) -> None:
    code, out = run_cli("--url", jupyter_url, "--password-env", "UNSET_VARIABLE_FOR_PROBE", "login")
    assert code == 1 and "password" in out["error"]


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def tls_server(cert: Path, key: Path, minimum: ssl.TLSVersion) -> tuple[int, threading.Event]:
    """A TLS listener on 127.0.0.1 that handshakes and hangs up; set the event to stop it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if minimum < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.minimum_version = minimum
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        with listener:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                conn.settimeout(5)
                try:
                    with ctx.wrap_socket(conn, server_side=True):
                        pass
                except OSError:
                    conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], stop


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_versions(tls_cert: tuple[Path, Path]) -> None:
    cert, key = tls_cert
    port, stop = tls_server(cert, key, ssl.TLSVersion.TLSv1_2)
    try:
        r = JupyterSession(f"https://localhost:{port}/", cafile=str(cert), timeout=5).check_tls(
            ["1.0", "1.1", "1.2", "1.3"]
        )
    finally:
        stop.set()
    v = r["versions"]
    assert v["1.2"]["accepted"] is True and v["1.2"]["version"] == "TLSv1.2"
    assert v["1.3"]["accepted"] is True and v["1.3"]["version"] == "TLSv1.3"
    for old in ("1.0", "1.1"):
        assert v[old]["client_can_offer"], v[old]
        assert v[old]["accepted"] is False, v[old]
    assert r["cert_verified"] is True


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_old_versions_accepted_when_server_allows(tls_cert: tuple[Path, Path]) -> None:
    """Proves that the refusals above come from the server, not from this client."""
    cert, key = tls_cert
    port, stop = tls_server(cert, key, ssl.TLSVersion.TLSv1)
    try:
        r = JupyterSession(f"https://localhost:{port}/", timeout=5).check_tls(["1.0", "1.1"])
    finally:
        stop.set()
    assert r["versions"]["1.0"]["accepted"] is True and r["versions"]["1.0"]["version"] == "TLSv1"
    assert r["versions"]["1.1"]["accepted"] is True and r["versions"]["1.1"]["version"] == "TLSv1.1"
    assert r["cert_verified"] is False and "CERTIFICATE_VERIFY_FAILED" in r["cert_error"]


def test_cli_tls_and_http_url_error() -> None:
    assert main(["--url", "http://127.0.0.1:9/", "tls"]) == 1


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_client_inability_is_not_a_refusal(tls_cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Without @SECLEVEL=0, OpenSSL 3 cannot offer TLS 1.0: reported as accepted=None, not False."""
    monkeypatch.setattr(ssl.SSLContext, "set_ciphers", lambda self, ciphers: None)
    cert, key = tls_cert
    port, stop = tls_server(cert, key, ssl.TLSVersion.TLSv1)
    try:
        r = JupyterSession(f"https://localhost:{port}/", timeout=5).check_tls(["1.0"])
    finally:
        stop.set()
    v = r["versions"]["1.0"]
    if v["client_can_offer"]:
        pytest.skip("this OpenSSL offers TLS 1.0 at its default security level")
    assert v["accepted"] is None and "client cannot offer" in v["error"]


def test_sessions_reconnect_a_websocket_that_timed_out(jupyter_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel websocket whose handshake times out (many kernels starting at once) is opened again on
    the same kernel, as JupyterLab reconnects; the retry is reported, and nothing counts as failed."""
    real, calls = JupyterSession.websocket, []

    def flaky(self: JupyterSession, rel: str, origin: str | None = None):
        calls.append(rel.split("/channels")[0])
        if len(calls) <= 2:
            raise TimeoutError("timed out")
        return real(self, rel, origin)

    monkeypatch.setattr(JupyterSession, "websocket", flaky)
    r = session(jupyter_url).check_sessions(count=2, interval=0.2, seconds=1)
    assert r["opened"] == 2 and r["failed"] == 0 and r["dropped"] == 0 and r["last_ok"] == 2, r
    assert [o["open_error"] for o in r["open_retried"]] == ["TimeoutError: timed out"] * 2, r
    assert sorted(calls[:2]) == sorted(calls[2:]), calls  # the same kernels, not new ones


def test_sessions_replace_a_kernel_that_is_gone(jupyter_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel that died while starting is gone (its websocket gets 404 from jupyter_server): the session
    starts another, as its user would; the retry is reported."""
    real, started = JupyterSession._start_kernel, []

    def dies_first(self: JupyterSession, out: dict, kernel_name: str | None = None):
        kernel_id = real(self, out, kernel_name)
        started.append(kernel_id)
        if len(started) == 1:
            assert self.request("DELETE", f"api/kernels/{kernel_id}").status == 204
        return kernel_id

    monkeypatch.setattr(JupyterSession, "_start_kernel", dies_first)
    r = session(jupyter_url).check_sessions(count=1, interval=0.2, seconds=1)
    assert r["opened"] == 1 and r["failed"] == 0 and r["last_ok"] == 1, r
    assert [o["ws_status"] for o in r["open_retried"]] == [404], r
    assert len(set(started)) == 2, started
