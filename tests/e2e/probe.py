#!/usr/bin/env python3
"""Browser-like verification client for a Jupyter server, direct or behind a reverse proxy.

Standard library only: it is copied into Debian 12 test containers and run with the
system python3 (3.11). Each check prints one JSON object of raw observations (status
codes, handshake results, output) and exits 0 when it ran, even if what it saw is a
refusal; the caller asserts. Unexpected failures print {"error": ...} and exit 1.

    python3 probe.py --url http://jupyter.example.org/notebook/ --password-env PW kernel
    python3 probe.py --url https://jupyter.example.org/ --insecure tls --versions 1.1 1.2
"""

import argparse
import base64
import contextlib
import hashlib
import http.client
import json
import os
import re
import secrets
import socket
import ssl
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
USER_AGENT = "jupyter-edge-probe/1"
TLS_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


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

        hdrs = {"Host": self.host_header, "User-Agent": USER_AGENT, "Referer": self.base_url}
        if method not in ("GET", "HEAD"):
            hdrs["Origin"] = self.origin
            token = self.cookies.get("_xsrf")
            if token and cookies:
                hdrs["X-XSRFToken"] = token
        if cookies and self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if isinstance(body, bytes):
            length = len(body)
        if length is not None:
            hdrs["Content-Length"] = str(length)
        hdrs.update(headers or {})
        conn = Conn(self.hostname, self.port, timeout=self.timeout)
        try:
            conn.request(method, self.path(rel), body=body, headers=hdrs)
            resp = conn.getresponse()
            result = Response(resp.status, resp.getheaders(), resp.read())
        finally:
            conn.close()
        for key, value in result.headers:
            if key.lower() == "set-cookie":
                self._store_cookie(value)
        return result

    def _store_cookie(self, header: str) -> None:
        first, *attrs = header.split(";")
        name, _, value = first.strip().partition("=")
        expired = False
        for attr in attrs:
            key, _, val = attr.strip().partition("=")
            if key.lower() == "max-age":
                expired = expired or val.strip().lstrip("-").isdigit() and int(val) <= 0
            elif key.lower() == "expires":
                with contextlib.suppress(TypeError, ValueError):
                    expired = expired or parsedate_to_datetime(val) < datetime.now(UTC)
        if expired:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value.strip().strip('"')

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
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
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
            head, _, rest = data.partition(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            status = int(status_line.split()[1])
            headers = {}
            for line in header_lines:
                k, _, v = line.partition(":")
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

    def _start_kernel(self, out: dict[str, Any]) -> str | None:
        resp = self.request("POST", "api/kernels", body=b"{}", headers={"Content-Type": "application/json"})
        out["create_status"] = resp.status
        kernel_id = resp.json().get("id") if resp.status == 201 else None
        out["kernel_id"] = kernel_id
        return kernel_id

    def check_kernel(self, code: str = "print(6*7)", kernel_id: str | None = None, keep: bool = False) -> dict:
        out: dict[str, Any] = {"login": self.check_login(), "stdout": None, "reply_status": None}
        if not out["login"]["logged_in"]:
            return out
        if kernel_id:
            out["kernel_id"] = kernel_id
            out["lookup_status"] = self.request("GET", f"api/kernels/{quote(kernel_id)}").status
            if out["lookup_status"] != 200:
                return out
        elif not (kernel_id := self._start_kernel(out)):
            return out
        try:
            out.update(self._execute(kernel_id, code))
        finally:
            if not keep:
                out["delete_status"] = self.request("DELETE", f"api/kernels/{quote(kernel_id)}").status
        return out

    def _execute(self, kernel_id: str, code: str) -> dict[str, Any]:
        session_id = uuid.uuid4().hex
        info, ws = self.websocket(f"api/kernels/{quote(kernel_id)}/channels?session_id={session_id}")
        if ws is None:
            return info
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": "execute_request", "username": "probe", "session": session_id}
        header |= {"date": datetime.now(UTC).isoformat(), "version": "5.3"}
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {}}
        content |= {"allow_stdin": False, "stop_on_error": True}
        msg = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}
        stdout, stderr, result, exception, reply, idle, error = [], [], None, None, None, False, None
        start = time.monotonic()
        deadline = start + self.timeout
        try:
            ws.send(json.dumps(msg))
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
        finally:
            ws.close()
        info |= {"msg_id": msg_id, "stdout": "".join(stdout), "stderr": "".join(stderr), "result": result}
        info |= {"exception": exception, "reply_status": reply, "idle": idle, "ws_error": error}
        return info | {"elapsed": round(time.monotonic() - start, 3)}

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
        try:
            info, ws = self.websocket(f"api/kernels/{quote(kernel_id)}/channels?session_id={uuid.uuid4().hex}", origin)
            out.update(info)
            if ws is not None:
                ws.close()
        finally:
            out["delete_status"] = self.request("DELETE", f"api/kernels/{quote(kernel_id)}").status
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
                        assert isinstance(tls, ssl.SSLSocket)
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
    p.add_argument("--keep", action="store_true", help="do not delete the kernel afterwards")
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
    p = checks.add_parser("headers")
    p.add_argument("--path", default="", help="relative to the base URL, or absolute when it starts with /")
    args = parser.parse_args(argv)

    opts = vars(args)
    common = [opts.pop(k) for k in ("url", "password", "password_env", "origin", "host_header", "cafile")]
    url, password, password_env, origin, host_header, cafile = common
    password = os.environ.get(password_env) if password_env else password
    check = opts.pop("check")
    out: dict[str, Any] = {"check": check, "url": url}
    try:
        s = JupyterSession(url, password, origin, host_header, cafile, opts.pop("insecure"), opts.pop("timeout"))
        if check not in ("unauth", "tls", "headers") and password is None:
            raise ProbeError("this check needs --password, or --password-env naming a set variable")
        out |= getattr(s, "check_" + check.replace("-", "_"))(**opts)  # remaining options: the check's own
    except (ProbeError, OSError, ValueError, KeyError, http.client.HTTPException) as exc:
        print(json.dumps(out | {"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
