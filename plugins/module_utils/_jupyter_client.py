# Copyright (c) jupyter_edge.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Browser-like verification client for a Jupyter server, direct or behind a reverse proxy.

PRIVATE: this file is internal to the collection. Its interface can change without notice;
do not import it from outside jupyter_edge.deploy.

One library for every check: the jupyter_check module imports it (the doctor calls that
module), the tests and the bench import it by its collection name, and it runs as a
script too. Standard library only: the tests copy the installed collection's file into
Debian 12 test containers and run it with the system python3 (3.11). Each check returns
(prints, as a script) one JSON object of raw observations (status codes, handshake
results, output); a check that ran succeeds even if what it saw is a refusal: the caller
judges. Unexpected failures add {"error": ...} (as a script: exit 1).

    python3 _jupyter_client.py --url http://jupyter.example.org/notebook/ --password-env PW kernel
    python3 _jupyter_client.py --url https://jupyter.example.org/ --insecure tls --versions 1.1 1.2
    python3 _jupyter_client.py --url http://hub.example.org/jupyter/ --password-env PW hub-kernel --user alice
"""
# Python 3.11 or later only (the dict unions below; ansible-test's pylint assumes older ones).
# pylint: disable=unsupported-binary-operation

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import html
import http.client
import json
import os
import re
import secrets
import select
import socket
import ssl
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
USER_AGENT = "jupyter-edge-probe/1"
TLS_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}
# The first script JupyterLab's page loads: hashed name, versioned URL (?v=), which
# Jupyter marks cacheable for years, so a proxy may keep it.
LAB_ASSET_RE = re.compile(rb'src="([^"]*/static/lab/main\.[0-9a-f]+\.js(?:\?v=[0-9a-f]+)?)"')
# Any versioned static file a page links to (the hub's pages, for instance).
VERSIONED_STATIC_RE = re.compile(rb'(?:src|href)="([^"]*/static/[^"?]*\?v=[^"]+)"')


def _pick(sorted_times: list[float], q: float) -> float | None:
    """The q-quantile (0..1) of ascending milliseconds, rounded to 0.01 ms; None when there are none."""
    if not sorted_times:
        return None
    return round(sorted_times[min(len(sorted_times) - 1, int(q * len(sorted_times)))], 2)


def _shell_message(msg_type: str, session_id: str, content: dict[str, Any]) -> tuple[str, str]:
    """A shell-channel message of the kernel websocket protocol, as JSON text, and its msg_id."""
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": msg_type, "username": "probe", "session": session_id}
    header |= {"date": datetime.now(UTC).isoformat(), "version": "5.3"}
    msg = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}
    return msg_id, json.dumps(msg)


class ProbeError(Exception):
    """The check could not run to its end (connection refused, timeout, protocol violation)."""


class Response:
    """A complete HTTP response; headers keep their order and repeats."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def _mask(data: bytes, key: bytes) -> bytes:
    """XOR data with the 4-byte websocket masking key (fast for large payloads)."""
    if not data:
        return b""
    n = len(data)
    pad = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(pad, "little")).to_bytes(n, "little")


class WebSocket:
    """Minimal RFC 6455 client over an already-upgraded socket."""

    def __init__(self, sock: socket.socket, buffered: bytes, timeout: float) -> None:
        self.sock = sock
        self.buf = bytearray(buffered)
        self.timeout = timeout
        self.close_code: int | None = None

    def _read_exact(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("websocket read timed out")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("websocket connection closed by peer")
            self.buf += chunk
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def send(self, payload: bytes | str, opcode: int | None = None) -> None:
        if isinstance(payload, str):
            payload, opcode = payload.encode(), opcode or 0x1
        opcode = opcode or 0x2
        n = len(payload)
        header = bytes([0x80 | opcode])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            header += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        key = os.urandom(4)
        self.sock.settimeout(self.timeout)
        self.sock.sendall(header + key + _mask(payload, key))

    def _read_frame(self, deadline: float) -> tuple[bool, int, bytes]:
        b0, b1 = self._read_exact(2, deadline)
        length = b1 & 0x7F
        if length == 126:
            length = int.from_bytes(self._read_exact(2, deadline), "big")
        elif length == 127:
            length = int.from_bytes(self._read_exact(8, deadline), "big")
        key = self._read_exact(4, deadline) if b1 & 0x80 else b""
        payload = self._read_exact(length, deadline)
        return bool(b0 & 0x80), b0 & 0x0F, _mask(payload, key) if key else payload

    def recv(self, deadline: float) -> tuple[int, bytes] | None:
        """Next text (1) or binary (2) message; None once the peer closed. Answers pings."""
        opcode, parts = 0, []
        while True:
            fin, op, payload = self._read_frame(deadline)
            if op == 0x9:
                self.send(payload, 0xA)
            elif op == 0xA:
                continue
            elif op == 0x8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self._send_close()
                return None
            elif op in (0x0, 0x1, 0x2):
                if op != 0x0:
                    opcode, parts = op, []
                parts.append(payload)
                if fin:
                    return opcode, b"".join(parts)
            else:
                raise ProbeError(f"unexpected websocket opcode {op:#x}")

    def recv_text(self, deadline: float) -> str | None:
        """Next text message (binary ones are skipped); None once the peer closed."""
        while (msg := self.recv(deadline)) is not None:
            if msg[0] == 0x1:
                return msg[1].decode("utf-8", "replace")
        return None

    def _send_close(self) -> None:
        with contextlib.suppress(OSError):
            self.send((1000).to_bytes(2, "big"), 0x8)

    def close(self) -> None:
        if self.close_code is None:
            self._send_close()
            try:  # wait briefly for the server's close frame, then drop the connection
                deadline = time.monotonic() + 2
                while self.recv(deadline) is not None:
                    pass
            except (OSError, ProbeError):
                pass
        self.sock.close()


class JupyterSession:
    """One browser session (cookie jar, Origin) against the Jupyter server at `url`."""

    def __init__(
        self,
        url: str,
        password: str | None = None,
        origin: str | None = None,
        host_header: str | None = None,
        cafile: str | None = None,
        insecure: bool = False,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProbeError(f"not an http(s) URL: {url!r}")
        self.tls = parts.scheme == "https"
        self.hostname = parts.hostname
        default_port = 443 if self.tls else 80
        self.port = parts.port or default_port
        name = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        # What a browser puts in Host and Origin: no port when it is the scheme's default.
        authority = name if self.port == default_port else f"{name}:{self.port}"
        self.base_path = (parts.path or "/").rstrip("/") + "/"
        self.base_url = f"{parts.scheme}://{authority}{self.base_path}"
        self.origin = origin or f"{parts.scheme}://{authority}"
        self.host_header = host_header or authority
        self.password = password
        self.cafile = cafile
        self.insecure = insecure
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._init = (url, password, origin, host_header, cafile, insecure, timeout)

    def fresh(self) -> JupyterSession:
        """Another browser (its own cookie jar) for the same URL, password and TLS settings."""
        return JupyterSession(*self._init)

    # -- transport ---------------------------------------------------------------------

    def ssl_context(self, version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.cafile)
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if version is not None:
            with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated: that is the point
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ctx.maximum_version = version
            if version < ssl.TLSVersion.TLSv1_2:
                # OpenSSL 3 will not offer TLS < 1.2 above security level 0.
                ctx.set_ciphers("ALL:@SECLEVEL=0")
        return ctx

    def connect(self, ctx: ssl.SSLContext | None = None) -> socket.socket:
        """TCP (and TLS, SNI = URL host name) connection to the URL's host and port."""
        sock = socket.create_connection((self.hostname, self.port), timeout=self.timeout)
        if not self.tls:
            return sock
        try:
            return (ctx or self.ssl_context()).wrap_socket(sock, server_hostname=self.hostname)
        except BaseException:
            sock.close()
            raise

    def path(self, rel: str = "") -> str:
        """Absolute request path: `rel` is relative to the base URL unless it starts with '/'."""
        return rel if rel.startswith("/") else self.base_path + rel

    def request(
        self,
        method: str,
        rel: str = "",
        body: bytes | Iterator[bytes] | None = None,
        headers: dict[str, str] | None = None,
        length: int | None = None,
        cookies: bool = True,
    ) -> Response:
        """One request on a fresh connection; stores Set-Cookie; never follows redirects."""
        session = self

        class Conn(http.client.HTTPConnection):
            def connect(self) -> None:
                self.sock = session.connect()

        path = self.path(rel)
        jar = self._cookies_for(path)
        hdrs = {"Host": self.host_header, "User-Agent": USER_AGENT, "Referer": self.base_url}
        if method not in ("GET", "HEAD"):
            hdrs["Origin"] = self.origin
            token = jar.get("_xsrf")
            if token and cookies:
                hdrs["X-XSRFToken"] = token
        if cookies and jar:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        if isinstance(body, bytes):
            length = len(body)
        if length is not None:
            hdrs["Content-Length"] = str(length)
        hdrs.update(headers or {})
        conn = Conn(self.hostname, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            result = Response(resp.status, resp.getheaders(), resp.read())
        finally:
            conn.close()
        for key, value in result.headers:
            if key.lower() == "set-cookie":
                self._store_cookie(value, path)
        return result

    def _cookies_for(self, path: str) -> dict[str, str]:
        """Cookies sent with a request for `path` (one jar for the whole site here)."""
        return self.cookies

    @staticmethod
    def _parse_set_cookie(header: str) -> tuple[str, str, dict[str, str], bool]:
        """Name, value, attributes (lower-case keys) and whether the cookie is being deleted."""
        first, *parts = header.split(";")
        name, _eq, value = first.strip().partition("=")
        attrs, expired = {}, False
        for attr in parts:
            key, _eq, val = attr.strip().partition("=")
            attrs[key.lower()] = val.strip()
            if key.lower() == "max-age":
                expired = expired or val.strip().lstrip("-").isdigit() and int(val) <= 0
            elif key.lower() == "expires":
                with contextlib.suppress(TypeError, ValueError):
                    expired = expired or parsedate_to_datetime(val) < datetime.now(UTC)
        return name, value.strip().strip('"'), attrs, expired

    def _store_cookie(self, header: str, request_path: str = "/") -> None:
        name, value, _attrs, expired = self._parse_set_cookie(header)
        if expired:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def websocket(self, rel: str, origin: str | None = None) -> tuple[dict[str, Any], WebSocket | None]:
        """Open a websocket as a browser would: Origin and Cookie headers, no subprotocol."""
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {self.path(rel)} HTTP/1.1",
            f"Host: {self.host_header}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            f"Origin: {origin or self.origin}",
            f"User-Agent: {USER_AGENT}",
        ]
        if jar := self._cookies_for(self.path(rel).split("?", 1)[0]):
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in jar.items()))
        sock = self.connect()
        try:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            data = b""
            deadline = time.monotonic() + self.timeout
            while b"\r\n\r\n" not in data:
                if len(data) > 65536 or time.monotonic() > deadline:
                    raise ProbeError("no complete websocket handshake response")
                chunk = sock.recv(4096)
                if not chunk:
                    raise ProbeError(f"connection closed during websocket handshake: {data[:200]!r}")
                data += chunk
            head, _blank, rest = data.partition(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            status = int(status_line.split()[1])
            headers = {}
            for line in header_lines:
                k, _colon, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            expected = base64.b64encode(hashlib.sha1((key + WS_GUID).encode(), usedforsecurity=False).digest())
            accept_ok = headers.get("sec-websocket-accept", "") == expected.decode()
            info = {"ws_status": status, "ws_accept_ok": accept_ok}
            if status != 101:
                info["ws_body"] = rest[:300].decode("utf-8", "replace")
                sock.close()
                return info, None
            if not accept_ok:
                raise ProbeError("websocket handshake: wrong Sec-WebSocket-Accept")
            return info, WebSocket(sock, rest, self.timeout)
        except BaseException:
            sock.close()
            raise

    # -- checks ------------------------------------------------------------------------

    def check_login(self) -> dict[str, Any]:
        """Log in through the login form as a browser does; observations only."""
        page = self.request("GET", "login")
        match = re.search(rb'name="_xsrf"\s+value="([^"]*)"', page.body)
        token = match.group(1).decode() if match else self.cookies.get("_xsrf", "")
        form = {"password": self.password or "", "_xsrf": token}
        before = dict(self.cookies)
        post = self.request(
            "POST",
            "login",
            body=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": self.base_url + "login"},
        )
        new = sorted(k for k, v in self.cookies.items() if k != "_xsrf" and before.get(k) != v)
        status = self.request("GET", "api/status")
        return {
            "login_page_status": page.status,
            "xsrf_cookie": "_xsrf" in before,
            "xsrf_form_field": match is not None,
            "post_status": post.status,
            "post_location": post.header("Location"),
            "cookies_set": new,
            "auth_cookie_set": bool(new),
            "api_status": status.status,
            "logged_in": status.status == 200,
        }

    def check_unauth(self) -> dict[str, Any]:
        root = self.request("GET", "", cookies=False)
        return {
            "kernels_status": self.request("GET", "api/kernels", cookies=False).status,
            "contents_status": self.request("GET", "api/contents", cookies=False).status,
            "root_status": root.status,
            "root_location": root.header("Location"),
        }

    def _start_kernel(self, out: dict[str, Any], kernel_name: str | None = None) -> str | None:
        body = json.dumps({"name": kernel_name}).encode() if kernel_name else b"{}"
        resp = self.request("POST", "api/kernels", body=body, headers={"Content-Type": "application/json"})
        out["create_status"] = resp.status
        kernel_id = resp.json().get("id") if resp.status == 201 else None
        out["kernel_id"] = kernel_id
        return kernel_id

    def check_kernel(
        self, code: str = "print(6*7)", kernel_id: str | None = None, keep: bool = False, kernel_name: str | None = None
    ) -> dict:
        out: dict[str, Any] = {"login": self.check_login(), "stdout": None, "reply_status": None}
        if not out["login"]["logged_in"]:
            return out
        if kernel_id:
            out["kernel_id"] = kernel_id
            out["lookup_status"] = self.request("GET", f"api/kernels/{quote(kernel_id)}").status
            if out["lookup_status"] != 200:
                return out
        elif not (kernel_id := self._start_kernel(out, kernel_name)):
            return out
        with self._kernel_deleted_after(out, kernel_id, keep):
            out.update(self._execute(kernel_id, code))
        return out

    @contextlib.contextmanager
    def _kernel_deleted_after(self, out: dict[str, Any], kernel_id: str, keep: bool = False) -> Iterator[None]:
        """Delete the kernel when the block ends (unless keep), recording the status in out."""
        try:
            yield
        finally:
            if not keep:
                out["delete_status"] = self.request("DELETE", f"api/kernels/{quote(kernel_id)}").status

    def _kernel_ws(self, kernel_id: str) -> tuple[dict[str, Any], WebSocket | None, str]:
        """Open the kernel's websocket as JupyterLab does, asking for kernel_info before any code
        (info["kernel_info"]: "ok" or what failed). info, ws (None when refused), session id."""
        session_id = uuid.uuid4().hex
        info, ws = self.websocket(f"api/kernels/{quote(kernel_id)}/channels?session_id={session_id}")
        if ws is not None:
            info["kernel_info"] = self._kernel_info(ws, session_id)
        return info, ws, session_id

    def _kernel_info(self, ws: WebSocket, session_id: str) -> str:
        """kernel_info_request on an open websocket: "ok", or what failed."""
        msg_id, msg = _shell_message("kernel_info_request", session_id, {})
        deadline = time.monotonic() + self.timeout
        try:
            ws.send(msg)
            while (text := ws.recv_text(deadline)) is not None:
                m = json.loads(text)
                if (
                    m["header"]["msg_type"] == "kernel_info_reply"
                    and (m.get("parent_header") or {}).get("msg_id") == msg_id
                ):
                    return "ok"
        except (TimeoutError, ConnectionError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return "closed"

    def _execute(self, kernel_id: str, code: str) -> dict[str, Any]:
        info, ws, session_id = self._kernel_ws(kernel_id)
        if ws is None:
            return info
        start = time.monotonic()
        try:
            info |= self._run_code(ws, session_id, code)
        finally:
            ws.close()
        return info | {"elapsed": round(time.monotonic() - start, 3)}

    def _run_code(self, ws: WebSocket, session_id: str, code: str) -> dict[str, Any]:
        """One execute_request on an open kernel websocket; what came back, as observations."""
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {}}
        content |= {"allow_stdin": False, "stop_on_error": True}
        msg_id, msg = _shell_message("execute_request", session_id, content)
        stdout, stderr, result, exception, reply, idle, error = [], [], None, None, None, False, None
        deadline = time.monotonic() + self.timeout
        try:
            ws.send(msg)
            while not (idle and reply):
                text = ws.recv_text(deadline)
                if text is None:
                    break
                m = json.loads(text)
                if m.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, body = m["header"]["msg_type"], m.get("content", {})
                if kind == "stream":
                    (stdout if body.get("name") == "stdout" else stderr).append(body.get("text", ""))
                elif kind == "execute_result":
                    result = body.get("data", {}).get("text/plain")
                elif kind == "error":
                    exception = f"{body.get('ename')}: {body.get('evalue')}"
                elif kind == "status" and body.get("execution_state") == "idle":
                    idle = True
                elif kind == "execute_reply":
                    reply = body.get("status")
        except (TimeoutError, ConnectionError) as exc:  # an observation: e.g. a proxy that drops frames
            error = f"{type(exc).__name__}: {exc}"
        info = {"msg_id": msg_id, "stdout": "".join(stdout), "stderr": "".join(stderr), "result": result}
        return info | {"exception": exception, "reply_status": reply, "idle": idle, "ws_error": error}

    def check_latency(self, rounds: int = 30, code: str = "pass") -> dict[str, Any]:
        """Execute round trips on one open kernel websocket: p50/p99/max in milliseconds."""
        out: dict[str, Any] = {"login": self.check_login()}
        if not out["login"]["logged_in"] or not (kernel_id := self._start_kernel(out)):
            return out
        with self._kernel_deleted_after(out, kernel_id):
            info, ws, session_id = self._kernel_ws(kernel_id)
            out |= info
            if ws is None:
                return out
            times, failed = [], 0
            try:
                self._run_code(ws, session_id, code)  # warm-up: the first execution sets the kernel up
                for _round in range(rounds):
                    start = time.monotonic()
                    seen = self._run_code(ws, session_id, code)
                    times.append((time.monotonic() - start) * 1000)
                    failed += seen["reply_status"] != "ok" or not seen["idle"]
            finally:
                ws.close()
        times.sort()

        return out | {
            "rounds": len(times),
            "failed": failed,
            "p50_ms": _pick(times, 0.5),
            "p99_ms": _pick(times, 0.99),
            "max_ms": _pick(times, 1),
        }

    def check_sessions(
        self, count: int = 20, interval: float = 1.0, until: str | None = None, seconds: float = 300
    ) -> dict:
        """`count` browsers, each logged in with its own kernel and an open kernel websocket that executes
        once per `interval` (and asks the API over a new connection) until the file `until` appears (or
        `seconds` pass); `until`.held marks that all are running. Then each runs once more on the same
        websocket. Counted: executions and their failures, dropped websockets, failed HTTP requests."""

        def browser(i: int) -> JupyterSession:
            s = self.fresh()
            login = s.check_login()
            if not login["logged_in"]:
                raise ProbeError(f"session {i}: login failed ({login['post_status']}, api {login['api_status']})")
            return s

        return self._sessions(browser, count, interval, until, seconds)

    def _sessions(self, browser, count: int, interval: float, until: str | None, seconds: float) -> dict:
        """The sessions of check_sessions; browser(i) returns the logged-in session of session i."""
        setup: list[dict[str, Any]] = [{} for _session in range(count)]
        stop = threading.Event()
        ready = threading.Barrier(count + 1, timeout=max(120.0, self.timeout * 4))
        # Every login before any kernel starts: jupyter_server answers GET api/status (the login
        # check) with 500 while a kernel is starting (its model has no last_activity yet).
        logged_in = threading.Barrier(count, timeout=max(120.0, self.timeout * 4))

        def run(i: int, out: dict[str, Any]) -> None:
            out |= {"executions": 0, "failed": 0, "dropped": False, "http": 0, "http_failed": 0, "times": []}
            ws, kernel_id = None, None
            try:
                try:
                    s = browser(i)
                finally:
                    with contextlib.suppress(threading.BrokenBarrierError):
                        logged_in.wait()
                # A browser retries a kernel that did not start, and reconnects to one whose websocket
                # did not open or did not answer (or timed out while many kernels start at once): so
                # does each session. A kernel that is gone (404: it died while starting, as one may
                # among many that start at once when another socket takes its port, and jupyter_client
                # restarts it on the same ports) is replaced by a new one, as its user would.
                seen_keys = ("create_status", "ws_status", "kernel_info", "open_error")
                for attempt in range(3):
                    try:
                        kernel_id = kernel_id or s._start_kernel(out)
                        if kernel_id:
                            info, ws, session_id = s._kernel_ws(kernel_id)
                            out["ws_status"] = info.get("ws_status")
                            out["kernel_info"] = info.get("kernel_info")
                            if ws is not None and info.get("kernel_info") != "ok":
                                ws.close()
                                ws = None
                            if info.get("ws_status") == 404:
                                kernel_id = None
                    except (OSError, ProbeError, http.client.HTTPException, ValueError) as exc:
                        out["open_error"] = f"{type(exc).__name__}: {exc}"
                    if ws is not None or attempt == 2:
                        break
                    out["open_retried"] = {k: out.get(k) for k in seen_keys}
                    time.sleep(2 * (attempt + 1))
                out["opened"] = ws is not None
                if ws is None:
                    out["setup_error"] = f"session {i} not opened: { {k: out.get(k) for k in seen_keys} }"
            except (OSError, ProbeError, http.client.HTTPException) as exc:
                out["setup_error"] = f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(threading.BrokenBarrierError):
                ready.wait()
            if ws is None:
                return
            n = 0
            try:
                while True:
                    last = stop.is_set()
                    n += 1
                    start = time.monotonic()
                    seen = s._run_code(ws, session_id, f"print({i} * 1000 + {n})")
                    out["times"].append((time.monotonic() - start) * 1000)
                    out["executions"] += 1
                    ok = seen["reply_status"] == "ok" and seen["idle"] and seen["stdout"] == f"{i * 1000 + n}\n"
                    out["failed"] += not ok
                    if seen["ws_error"] or ws.close_code is not None:
                        out["dropped"] = True
                        out["error"] = seen["ws_error"] or f"closed {ws.close_code}"
                        break
                    if last:
                        out["last_ok"] = ok  # the execution after the change, on the same websocket
                        break
                    try:
                        out["http"] += 1
                        out["http_failed"] += s.request("GET", f"api/kernels/{quote(kernel_id)}").status != 200
                    except (OSError, http.client.HTTPException) as exc:
                        out["http_failed"] += 1
                        out["http_error"] = f"{type(exc).__name__}: {exc}"
                    stop.wait(max(0.0, interval - (time.monotonic() - start)))
            finally:
                ws.close()
                with contextlib.suppress(OSError, http.client.HTTPException):
                    s.request("DELETE", f"api/kernels/{quote(kernel_id)}")

        threads = [threading.Thread(target=run, args=(i, setup[i]), daemon=True) for i in range(count)]
        for t in threads:
            t.start()
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait()
        if until:
            with open(until + ".held", "w", encoding="utf-8") as f:
                f.write(str(os.getpid()))
        end = time.monotonic() + seconds
        while time.monotonic() < end and not (until and os.path.exists(until)):
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join(self.timeout * 2)
        times = sorted(t for o in setup for t in o.pop("times", []))

        return {
            "sessions": count,
            "opened": sum(bool(o.get("opened")) for o in setup),
            "open_retried": [o["open_retried"] for o in setup if o.get("open_retried")],
            "executions": sum(o.get("executions", 0) for o in setup),
            "failed": sum(o.get("failed", 0) for o in setup),
            "dropped": sum(bool(o.get("dropped")) for o in setup),
            "last_ok": sum(bool(o.get("last_ok")) for o in setup),
            "http_requests": sum(o.get("http", 0) for o in setup),
            "http_failed": sum(o.get("http_failed", 0) for o in setup),
            "p50_ms": _pick(times, 0.5),
            "p99_ms": _pick(times, 0.99),
            "errors": sorted({o[k] for o in setup for k in ("setup_error", "error", "http_error") if o.get(k)})[:5],
        }

    def check_terminal(self, command: str = "echo probe-$((6*7))", expect: str = "probe-42") -> dict[str, Any]:
        out: dict[str, Any] = {"login": self.check_login(), "found": False}
        if not out["login"]["logged_in"]:
            return out
        resp = self.request("POST", "api/terminals", body=b"{}", headers={"Content-Type": "application/json"})
        out["create_status"] = resp.status
        name = resp.json().get("name") if resp.status == 200 else None
        out["terminal_name"] = name
        if not name:
            return out
        try:
            info, ws = self.websocket(f"terminals/websocket/{quote(name)}")
            out.update(info)
            if ws is not None:
                output = ""
                try:
                    ws.send(json.dumps(["stdin", command + "\r"]))
                    deadline = time.monotonic() + self.timeout
                    while expect not in output and (text := ws.recv_text(deadline)) is not None:
                        msg = json.loads(text)
                        if msg[0] == "stdout":
                            output += msg[1]
                except (TimeoutError, ConnectionError) as exc:
                    out["ws_error"] = f"{type(exc).__name__}: {exc}"
                finally:
                    ws.close()
                out["found"] = expect in output
                out["output_tail"] = output[-500:]
        finally:
            out["delete_status"] = self.request("DELETE", f"api/terminals/{quote(name)}").status
        return out

    def check_upload(self, size_mb: float, name: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"login": self.check_login(), "put_status": None}
        if not out["login"]["logged_in"]:
            return out
        name = name or f"probe-upload-{secrets.token_hex(4)}.bin"
        size = int(size_mb * 1024 * 1024)
        digest = hashlib.sha256()
        prefix, suffix = b'{"type":"file","format":"base64","content":"', b'"}'

        def chunks() -> Iterator[bytes]:  # random data encoded piecewise; chunk size multiple of 3
            yield prefix
            left = size
            while left > 0:
                raw = os.urandom(min(left, 3 << 20))
                digest.update(raw)
                left -= len(raw)
                yield base64.b64encode(raw)
            yield suffix

        length = len(prefix) + 4 * ((size + 2) // 3) + len(suffix)
        start = time.monotonic()
        rel = "api/contents/" + quote(name)
        put = self.request("PUT", rel, chunks(), {"Content-Type": "application/json"}, length=length)
        out |= {"name": name, "bytes_sent": size, "put_status": put.status}
        out["elapsed"] = round(time.monotonic() - start, 3)
        if put.status not in (200, 201):
            out["put_body"] = put.body[:300].decode("utf-8", "replace")
            return out
        got = self.request("GET", rel + "?content=0&hash=1")
        model = got.json() if got.status == 200 else {}
        out |= {"get_status": got.status, "size_reported": model.get("size"), "sha256_sent": digest.hexdigest()}
        out["hash_reported"] = model.get("hash") if model.get("hash_algorithm") == "sha256" else None
        out["hash_match"] = out["hash_reported"] == digest.hexdigest()
        out["delete_status"] = self.request("DELETE", rel).status
        return out

    def check_ws_origin(self, origin_override: str) -> dict[str, Any]:
        origin = origin_override
        out: dict[str, Any] = {"login": self.check_login(), "origin": origin, "ws_status": None}
        if not out["login"]["logged_in"] or not (kernel_id := self._start_kernel(out)):
            return out
        with self._kernel_deleted_after(out, kernel_id):
            info, ws = self.websocket(f"api/kernels/{quote(kernel_id)}/channels?session_id={uuid.uuid4().hex}", origin)
            out.update(info)
            if ws is not None:
                ws.close()
        return out

    def check_tls(self, versions: list[str]) -> dict[str, Any]:
        """Handshake pinned to each version; accepted is None when this client cannot offer it."""
        if not self.tls:
            raise ProbeError("tls check needs an https URL")
        results = {}
        for name in versions:
            ctx = self.ssl_context(TLS_VERSIONS[name])
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # protocol probe only
            res: dict[str, Any] = {"accepted": None, "client_can_offer": True, "version": None, "cipher": None}
            try:  # self-test: can this OpenSSL build a ClientHello pinned to that version?
                ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname=self.hostname).do_handshake()
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as exc:
                res |= {"client_can_offer": False, "error": f"client cannot offer TLS {name}: {exc}"}
            if res["client_can_offer"]:
                try:
                    with self.connect(ctx) as tls:
                        if not isinstance(tls, ssl.SSLSocket):
                            raise ProbeError("no TLS socket for an https URL")
                        cipher = tls.cipher()
                        res |= {"accepted": True, "version": tls.version(), "cipher": cipher and cipher[0]}
                except (ssl.SSLError, ConnectionError, TimeoutError) as exc:
                    res |= {"accepted": False, "error": f"{type(exc).__name__}: {exc}"}
            results[name] = res
        out: dict[str, Any] = {"versions": results, "cert_verified": False, "cert_error": None}
        try:  # separately: does the certificate verify (with --cafile or system CAs)?
            ctx = ssl.create_default_context(cafile=self.cafile)
            with self.connect(ctx):
                out["cert_verified"] = True
        except (ssl.SSLError, ConnectionError, TimeoutError) as exc:
            out["cert_error"] = f"{type(exc).__name__}: {exc}"
        return out

    def page_asset(self, rel: str, pattern: re.Pattern[bytes] = VERSIONED_STATIC_RE) -> str:
        """Request path of the first static file matching `pattern` that the page at `rel` links to."""
        page = self.request("GET", rel)
        match = pattern.search(page.body)
        if page.status != 200 or not match:
            raise ProbeError(f"no versioned static file in {self.path(rel)} (status {page.status})")
        return html.unescape(match.group(1).decode())

    def lab_asset(self) -> str:
        """Request path of JupyterLab's main bundle, read from the (logged-in) /lab page."""
        return self.page_asset("lab", LAB_ASSET_RE)

    def check_static(self, path: str | None = None, page: str | None = None, times: int = 2) -> dict[str, Any]:
        """Fetch a static file `times` times without cookies (static files are public).

        The file: `path`; or the first versioned one the page `page` links to; by
        default JupyterLab's main bundle (needs the password to read the /lab page).
        Per fetch: status, size, sha256 and the cache headers (Cache-Control, and the
        proxy's cache verdict: nginx X-Cache-Status, Apache X-Cache).
        """
        if path is None and page is not None:
            path = self.page_asset(page)
        elif path is None:
            if not self.check_login()["logged_in"]:
                raise ProbeError("login failed: cannot read the /lab page")
            path = self.lab_asset()
        fetches = []
        for _time in range(times):
            resp = self.request("GET", path, cookies=False)
            fetches.append(
                {
                    "status": resp.status,
                    "bytes": len(resp.body),
                    "sha256": hashlib.sha256(resp.body).hexdigest(),
                    "cache_control": resp.header("Cache-Control"),
                    "proxy_cache": resp.header("X-Cache-Status") or resp.header("X-Cache"),
                }
            )
        return {"path": self.path(path), "fetches": fetches}

    def check_headers(self, path: str = "") -> dict[str, Any]:
        resp = self.request("GET", path)
        headers: dict[str, str] = {}
        for key, value in resp.headers:
            if key.lower() != "set-cookie":
                k = key.lower()
                headers[k] = f"{headers[k]}, {value}" if k in headers else value
        return {
            "path": self.path(path),
            "status": resp.status,
            "location": resp.header("Location"),
            "headers": headers,
            "set_cookie": [v for k, v in resp.headers if k.lower() == "set-cookie"],
        }


class HubSession(JupyterSession):
    """One browser session against JupyterHub; `url` is the hub's base URL (e.g. http://host/jupyter/).

    Cookies are kept per path as a browser keeps them: the hub's _xsrf cookie (path
    {base}hub/) and the user server's (path {base}user/NAME/) differ, and each request
    carries the ones whose path matches. A cookie jar file carries a session from one
    run of the probe to the next (a browser that stays open).
    """

    REDIRECTS = (301, 302, 303, 307, 308)

    def __init__(self, *args: Any, user: str = "", cookie_jar: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not user:
            raise ProbeError("hub checks need --user")
        self.username = user
        self.jar_file = cookie_jar
        self.jar: dict[tuple[str, str], str] = {}  # (name, path) -> value
        if cookie_jar and os.path.exists(cookie_jar):
            with open(cookie_jar, encoding="utf-8") as f:
                self.jar = {(name, path): value for name, path, value in json.load(f)}

    def save_jar(self) -> None:
        if self.jar_file:
            fd = os.open(self.jar_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump([[name, path, value] for (name, path), value in sorted(self.jar.items())], f)

    def user_session(self) -> HubSession:
        """The same browser, addressing the user's server at {base}user/NAME/ (shared cookie jar)."""
        other = HubSession(
            f"{self.base_url}user/{quote(self.username)}/",
            self.password,
            self.origin,
            self.host_header,
            self.cafile,
            self.insecure,
            self.timeout,
            user=self.username,
        )
        other.jar = self.jar
        return other

    # -- cookies per path (RFC 6265 path matching) -------------------------------------

    def _store_cookie(self, header: str, request_path: str = "/") -> None:
        name, value, attrs, expired = self._parse_set_cookie(header)
        path = attrs.get("path", "")
        if not path.startswith("/"):  # default-path: the request path up to its last '/'
            req = request_path.split("?", 1)[0]
            path = req[: req.rfind("/")] or "/"
        if expired:
            self.jar.pop((name, path), None)
        else:
            self.jar[(name, path)] = value

    def _cookies_for(self, path: str) -> dict[str, str]:
        path = path.split("?", 1)[0]
        found: dict[str, str] = {}
        for (name, cpath), value in sorted(self.jar.items(), key=lambda kv: -len(kv[0][1])):
            match = path == cpath or (path.startswith(cpath) and (cpath.endswith("/") or path[len(cpath)] == "/"))
            if match and name not in found:  # the most specific path wins
                found[name] = value
        return found

    # -- navigation ----------------------------------------------------------------------

    def _local(self, location: str, current: str) -> str | None:
        """Path and query of a redirect target on this site; None for another site."""
        current_url = f"{'https' if self.tls else 'http'}://{self.host_header}{current}"
        target = urlsplit(urljoin(current_url, location))
        if target.netloc.lower() != self.host_header.lower():
            return None
        return target.path + (f"?{target.query}" if target.query else "")

    def follow(self, method: str, rel: str, body: bytes | None = None, headers: dict | None = None):
        """A request and the redirects after it, as a browser follows them; (final response, hops)."""
        current = self.path(rel)
        resp = self.request(method, current, body, headers)
        hops: list[str] = []
        while resp.status in self.REDIRECTS and (location := resp.header("Location")) and len(hops) < 15:
            target = self._local(location, current)
            hops.append(f"{resp.status} {urlsplit(location).path}")  # no query: it holds OAuth codes
            if target is None:
                break
            if resp.status in (301, 302, 303):
                method, body, headers = "GET", None, None
            current = target
            resp = self.request(method, current, body, headers)
        return resp, hops

    # -- JupyterHub steps ----------------------------------------------------------------

    def hub_login(self, no_login: bool = False) -> dict[str, Any]:
        """Log in through the hub's form unless the cookie jar still holds a session."""
        home = self.request("GET", "hub/home")
        out: dict[str, Any] = {"home_status_before": home.status, "login_performed": False}
        if home.status == 200 or no_login:
            return out | {"logged_in": home.status == 200}
        page = self.request("GET", "hub/login")
        match = re.search(rb'name="_xsrf"\s+value="([^"]*)"', page.body)
        token = match.group(1).decode() if match else self._cookies_for(self.path("hub/login")).get("_xsrf", "")
        form = {"username": self.username, "password": self.password or "", "_xsrf": token}
        post = self.request(
            "POST",
            "hub/login",
            body=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": self.base_url + "hub/login"},
        )
        home = self.request("GET", "hub/home")  # also renews the _xsrf cookie for the logged-in user
        out |= {"login_performed": True, "login_page_status": page.status, "xsrf_form_field": match is not None}
        out |= {"post_status": post.status, "post_location": post.header("Location"), "home_status": home.status}
        return out | {"logged_in": home.status == 200}

    def _server_model(self) -> tuple[int, dict[str, Any]]:
        resp = self.request("GET", f"hub/api/users/{quote(self.username)}")
        model = resp.json() if resp.status == 200 else {}
        return resp.status, (model.get("servers") or {}).get("", {})

    def hub_server(self, start: bool = True) -> dict[str, Any]:
        """Start the user's default server through the hub's REST API (as the Start button does) and wait."""
        status, server = self._server_model()
        out: dict[str, Any] = {"user_api_status": status, "was_ready": bool(server.get("ready"))}
        if start and not server:
            resp = self.request(
                "POST",
                f"hub/api/users/{quote(self.username)}/server",
                body=b"{}",
                headers={"Content-Type": "application/json"},
            )
            out["start_status"] = resp.status
            if resp.status not in (201, 202):
                out["start_body"] = resp.body[:300].decode("utf-8", "replace")
        begin = time.monotonic()
        while not server.get("ready") and (start or server) and time.monotonic() - begin < self.timeout:
            time.sleep(0.5)
            _status, server = self._server_model()
        out |= {"ready": bool(server.get("ready")), "url": server.get("url")}
        return out | {"waited": round(time.monotonic() - begin, 3)}

    def open_user_server(self) -> dict[str, Any]:
        """Open the user's server as a browser does: its page, through the OAuth redirects if needed."""
        page, hops = self.follow("GET", "")
        status = self.request("GET", "api/status")
        return {
            "page_status": page.status,
            "redirects": hops,
            "oauth": any("/oauth2/authorize" in hop for hop in hops),
            "sent_to_login": any(hop.endswith("/hub/login") for hop in hops),
            "api_status": status.status,
        }

    def _execute_holding(self, kernel_id: str, code: str, hold_code: str, seconds: float, until: str | None) -> dict:
        """Run `code`, keep the same websocket open for a while (or until a file appears), run `hold_code`."""
        info, ws, session_id = self._kernel_ws(kernel_id)
        if ws is None:
            return info
        hold: dict[str, Any] = {}
        second = None
        try:
            first = self._run_code(ws, session_id, code)
            if first["reply_status"] == "ok":
                hold = self._hold(ws, seconds, until)
                if not hold["closed"] and not hold["error"]:
                    second = self._run_code(ws, session_id, hold_code)
        finally:
            ws.close()
        out = {"stdout": first["stdout"], "reply_status": first["reply_status"], "first": first}
        return info | out | {"hold": hold, "second": second}

    def _hold(self, ws: WebSocket, seconds: float, until: str | None) -> dict[str, Any]:
        """Keep the websocket open, answering pings; `until`.held marks the start, `until` ends it early."""
        start = time.monotonic()
        end = start + seconds
        if until:
            with open(until + ".held", "w", encoding="utf-8") as f:
                f.write(str(os.getpid()))
        out: dict[str, Any] = {"released_by_file": False, "closed": False, "error": None, "messages": 0}
        while (now := time.monotonic()) < end:
            if until and os.path.exists(until):
                out["released_by_file"] = True
                break
            pending = isinstance(ws.sock, ssl.SSLSocket) and ws.sock.pending()
            if not (ws.buf or pending or select.select([ws.sock], [], [], min(0.25, end - now))[0]):
                continue
            try:
                _fin, opcode, payload = ws._read_frame(now + self.timeout)
            except (TimeoutError, ConnectionError) as exc:
                out["error"] = f"{type(exc).__name__}: {exc}"
                break
            if opcode == 0x9:
                ws.send(payload, 0xA)
            elif opcode == 0x8:
                ws.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                out["closed"] = True
                break
            else:
                out["messages"] += 1
        return out | {"close_code": ws.close_code, "held_seconds": round(time.monotonic() - start, 3)}

    # -- checks ------------------------------------------------------------------------

    def check_hub_login(self) -> dict[str, Any]:
        return {"user": self.username, "login": self.hub_login()}

    def check_hub_kernel(
        self,
        code: str = "print(6*7)",
        kernel_name: str | None = None,
        hold_seconds: float = 0.0,
        hold_until: str | None = None,
        hold_code: str | None = None,
        keep: bool = False,
        no_login: bool = False,
        no_start: bool = False,
    ) -> dict[str, Any]:
        """Hub login, server start, OAuth into the user's server, kernel websocket round trip(s)."""
        out: dict[str, Any] = {"user": self.username, "login": self.hub_login(no_login), "stdout": None}
        out["reply_status"] = None
        if not out["login"]["logged_in"]:
            return out
        out["server"] = self.hub_server(start=not no_start)
        if not out["server"]["ready"]:
            return out
        user = self.user_session()
        out["user_server"] = user.open_user_server()
        if out["user_server"]["api_status"] != 200 or not (kernel_id := user._start_kernel(out, kernel_name)):
            return out
        with user._kernel_deleted_after(out, kernel_id, keep):
            if hold_seconds > 0:
                out.update(user._execute_holding(kernel_id, code, hold_code or code, hold_seconds, hold_until))
            else:
                out.update(user._execute(kernel_id, code))
        return out

    def check_hub_sessions(
        self, count: int = 20, interval: float = 1.0, until: str | None = None, seconds: float = 300
    ) -> dict[str, Any]:
        """check_sessions on the user's server: one browser (hub login, server start, OAuth) with `count`
        tabs, each with its own kernel and websocket through the proxies."""
        out: dict[str, Any] = {"user": self.username, "login": self.hub_login()}
        if not out["login"]["logged_in"]:
            return out
        out["server"] = self.hub_server()
        if not out["server"]["ready"]:
            return out
        user = self.user_session()
        out["user_server"] = user.open_user_server()
        if out["user_server"]["api_status"] != 200:
            return out
        return out | self._sessions(lambda i: user, count, interval, until, seconds)

    def check_hub_reach(self, within: float = 60.0, interval: float = 0.2) -> dict[str, Any]:
        """Poll the user's server with the stored cookies only (no login, no redirects) until it answers.

        Meant to start right after the proxy was killed: 502 from the front proxy while the
        proxy is down, then the hub's answer (the default target) while the route is
        missing, then 200 from the user's server once the hub restored the route.
        """
        user = self.user_session()
        start = time.monotonic()
        transitions: list[list[Any]] = []
        last: Any = None
        proxy_back = route_back = None
        attempts = 0
        while time.monotonic() - start < within:
            at = round(time.monotonic() - start, 3)
            attempts += 1
            try:
                status: Any = user.request("GET", "api/status").status
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
            if status != last:
                transitions.append([at, status])
                last = status
            if proxy_back is None and isinstance(status, int) and status not in (502, 503, 504):
                proxy_back = at
            if status == 200:
                route_back = at
                break
            time.sleep(interval)
        return {
            "user": self.username,
            "reached": route_back is not None,
            "proxy_back_after": proxy_back,
            "route_back_after": route_back,
            "attempts": attempts,
            "transitions": transitions,
        }


def sessions_options(p: argparse.ArgumentParser) -> None:
    """Options of the sessions checks (single-user and hub)."""
    p.add_argument("--count", type=int, default=20, help="sessions, each with its own kernel and websocket")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between each one's executions")
    p.add_argument("--until", metavar="FILE", help="run until FILE exists (FILE.held: all are running)")
    p.add_argument("--seconds", type=float, default=300, help="at most this long (default 300)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="public base URL, base_url prefix included")
    pw = parser.add_mutually_exclusive_group()
    pw.add_argument("--password", help="login password (visible in the process list: prefer --password-env)")
    pw.add_argument("--password-env", metavar="VAR", help="environment variable that holds the password")
    parser.add_argument("--origin", help="Origin header (default: scheme://host[:port] of --url)")
    parser.add_argument("--host-header", help="Host header (default: host[:port] of --url)")
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument("--cafile", help="CA bundle to verify the server certificate")
    tls.add_argument("--insecure", action="store_true", help="do not verify the server certificate")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds, per operation (default 30)")
    checks = parser.add_subparsers(dest="check", required=True)
    checks.add_parser("login")
    checks.add_parser("unauth")
    p = checks.add_parser("kernel")
    p.add_argument("--code", default="print(6*7)")
    p.add_argument("--kernel-id", help="run on this existing kernel instead of starting one")
    p.add_argument("--kernel-name", help="kernel spec to start (default: the server's default)")
    p.add_argument("--keep", action="store_true", help="do not delete the kernel afterwards")
    p = checks.add_parser("latency", help="execute round trips on one kernel websocket: p50/p99 in ms")
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--code", default="pass")
    sessions_options(checks.add_parser("sessions", help="many sessions executing while something changes"))
    p = checks.add_parser("terminal")
    p.add_argument("--command", default="echo probe-$((6*7))")
    p.add_argument("--expect", default="probe-42")
    p = checks.add_parser("upload")
    p.add_argument("--size-mb", type=float, required=True)
    p.add_argument("--name", help="file name in the server root (default: random)")
    p = checks.add_parser("ws-origin")
    p.add_argument("--origin-override", required=True, metavar="ORIGIN")
    p = checks.add_parser("tls")
    p.add_argument("--versions", nargs="+", choices=sorted(TLS_VERSIONS), default=sorted(TLS_VERSIONS))
    p = checks.add_parser("static")
    p.add_argument("--path", help="static file (default: JupyterLab's main bundle, found after logging in)")
    p.add_argument("--page", help="instead: the first versioned static file (?v=) this page links to (no login)")
    p.add_argument("--times", type=int, default=2, help="fetch it this many times (default 2)")
    p = checks.add_parser("headers")
    p.add_argument("--path", default="", help="relative to the base URL, or absolute when it starts with /")
    # JupyterHub: --url is the hub's base URL; the user's server is at {url}user/NAME/.
    hub_checks = {}
    for name, help_text in (
        ("hub-login", "log in through the hub's login form"),
        ("hub-kernel", "hub login, server start, OAuth into the user's server, kernel round trip"),
        ("hub-reach", "poll the user's server with the stored cookies until it answers (route recovery)"),
        ("hub-sessions", "one browser, many kernels with open websockets executing while something changes"),
    ):
        hub_checks[name] = p = checks.add_parser(name, help=help_text)
        p.add_argument("--user", required=True, help="hub user name (the password comes from --password(-env))")
        p.add_argument("--cookie-jar", help="JSON file (created 0600) that keeps the browser's cookies between runs")
    p = hub_checks["hub-kernel"]
    p.add_argument("--code", default="print(6*7)")
    p.add_argument("--kernel-name", help="kernel spec to start (default: the server's default)")
    p.add_argument("--hold-seconds", type=float, default=0.0, help="keep the websocket open this long, then run again")
    p.add_argument("--hold-until", metavar="FILE", help="while holding: write FILE.held, stop holding once FILE exists")
    p.add_argument("--hold-code", help="code run on the same websocket after the hold (default: --code)")
    p.add_argument("--keep", action="store_true", help="do not delete the kernel afterwards")
    p.add_argument("--no-login", action="store_true", help="use the cookie jar's session only, never the login form")
    p.add_argument("--no-start", action="store_true", help="do not start the server if it is not running")
    sessions_options(hub_checks["hub-sessions"])
    p = hub_checks["hub-reach"]
    p.add_argument("--within", type=float, default=60.0, help="give up after this many seconds (default 60)")
    p.add_argument("--interval", type=float, default=0.2, help="seconds between attempts (default 0.2)")
    args = parser.parse_args(argv)

    opts = vars(args)
    password_env = opts.pop("password_env")
    if password_env:
        opts["password"] = os.environ.get(password_env)
    ran, out = run_check(**opts)
    # The command line's output (main() is not the module's code path).
    print(json.dumps(out))  # pylint: disable=ansible-bad-function
    return 0 if ran else 1


def run_check(
    check: str,
    url: str,
    password: str | None = None,
    origin: str | None = None,
    host_header: str | None = None,
    cafile: str | None = None,
    insecure: bool = False,
    timeout: float = 30.0,
    **opts: Any,
) -> tuple[bool, dict[str, Any]]:
    """Run one check (a subcommand of the command line; opts: its own options).

    Returns (True, observations) when the check ran to its end, whatever it saw, and
    (False, observations with "error") when it could not.
    """
    out: dict[str, Any] = {"check": check, "url": url}
    s: JupyterSession | None = None
    try:
        session_args = (url, password, origin, host_header, cafile, insecure, timeout)
        if check.startswith("hub-"):
            s = HubSession(*session_args, user=opts.pop("user"), cookie_jar=opts.pop("cookie_jar", None))
        else:
            s = JupyterSession(*session_args)
        public = check in ("unauth", "tls", "headers", "hub-reach")
        public = public or (check == "static" and bool(opts.get("path") or opts.get("page")))
        if not public and password is None:
            raise ProbeError("this check needs --password, or --password-env naming a set variable")
        out |= getattr(s, "check_" + check.replace("-", "_"))(**opts)  # remaining options: the check's own
    except (ProbeError, OSError, ValueError, KeyError, http.client.HTTPException) as exc:
        return False, out | {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        if isinstance(s, HubSession):
            s.save_jar()
    return True, out


if __name__ == "__main__":
    # Run as a script, not as a module.
    sys.exit(main())  # pylint: disable=ansible-bad-function
