"""A real browser (Debian's Chromium driven by Playwright) through the proxy, as a user sees it.

Runs on the controller, where pytest runs, never inside the container under test. It
reaches a container by the deployment's public name: ``--host-resolver-rules`` maps
that name to the container's address, so Host, Origin, cookies and SNI are what a
user's browser sends, and every other name fails to resolve (no traffic leaves for
outside hosts).

- ``lab_session(browser, url, password, ...)``: log in to JupyterLab, create a notebook,
  run ``import socket; print(6*7, socket.gethostname())``, save it (the XSRF-protected
  PUT), reload and find it again, open a terminal and run ``echo $((6*7))``; then shut
  down the kernels and terminals it started and delete the notebook.
- ``hub_session(browser, url, user, password, ...)``: the same behind JupyterHub, after
  the hub's login, the spawn and the OAuth round trip; ends by stopping the server
  from the hub's home page.

Any failure raises ``BrowserFailure``, whose message reads like a bug report: the step,
the page URL, the status bar, the websockets that failed, the last console errors,
and the path of a screenshot. Screenshots of the working steps and a JSON report go
to ``artifacts`` (molecule: ``.build/browser/<scenario>/``).

For pytest: the session-scoped ``browsers`` fixture keeps one Chromium per name-to-
address mapping for the whole session, and ``target_for(host)`` gives a testinfra
host's public URL and mapping. As a command against a real deployment (real DNS, the
password from the environment, never from the command line)::

    JUPYTER_PASSWORD=... python -m e2e.browser --url https://lab.example.org/notebook/
    JUPYTER_PASSWORD=... JUPYTERHUB_USER=alice python -m e2e.browser --url https://hub.example.org/
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("JUPYTER_EDGE_CHROMIUM", "/usr/bin/chromium")
# Root needs --no-sandbox; containers' 64 MB /dev/shm needs --disable-dev-shm-usage; the rest
# keeps Chromium from calling Google's hosts at start (refused here, and none of our business).
FLAGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# A workspace of its own: the user's default one is never touched, and nothing from an earlier
# visit is restored (Lab reopens a workspace's notebooks and terminals, starting them anew).
WORKSPACE = "browser-check"
LAB = f"lab/workspaces/{WORKSPACE}?reset"
CODE = "import socket; print(6*7, socket.gethostname())"
TERMINAL_COMMAND = "echo $((6*7))"
VIEWPORT = {"width": 1280, "height": 800}
# Terminal escapes in a terminal's output (colours, titles, bash's bracketed-paste switches).
ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07|[()][A-Z0-9])")
URL_BADGE = """() => {
    const badge = document.createElement("div");
    badge.id = "browser-check-url";
    badge.textContent = location.href;
    // Lab: right of the menu bar; the hub: between its menu and the user's name.
    const where = document.getElementById("jp-main-statusbar") ? "right:8px;" : "left:50%;transform:translateX(-50%);";
    badge.style.cssText = "position:fixed;top:4px;z-index:100000;" + where
        + "padding:3px 8px;border-radius:4px;font:12px monospace;background:#24292f;color:#fff;opacity:.9;"
        + "pointer-events:none";
    document.body.appendChild(badge);
}"""
PROGRESS_SHOWN = "() => (document.querySelector('#progress-message')?.textContent || '').trim().length > 0"
KEEP = 8  # console errors and websockets shown in a failure report


class BrowserFailure(AssertionError):
    """A step failed; str() is the full report."""


@dataclass
class Timeouts:
    """Seconds; every wait is bounded by one of these."""

    page: float = 60  # a page load, the login, Lab's splash
    kernel: float = 90  # a new kernel reaching "Idle", a cell's output, a terminal's answer
    spawn: float = 120  # a hub's first spawn of a user server


@dataclass
class _Socket:
    url: str
    frames_in: int = 0
    closed: bool = False
    errors: list[str] = field(default_factory=list)
    text: str = ""  # a terminal's stdout, decoded

    @property
    def failed(self) -> bool:
        return bool(self.errors) or (self.closed and self.frames_in == 0)


# -- launching -----------------------------------------------------------------------------


def resolver_rules(resolve: dict[str, str]) -> str:
    """Chromium's --host-resolver-rules: the given names to their addresses, every other name unresolvable."""
    rules = [f"MAP {name} {address}" for name, address in sorted(resolve.items())]
    return ", ".join([*rules, "MAP * ~NOTFOUND", "EXCLUDE localhost"])


class Browsers:
    """One Chromium per name-to-address mapping (a mapping is fixed at launch), started on first use."""

    def __init__(self) -> None:
        self._playwright = None
        self._browsers: dict[tuple, Any] = {}

    def get(self, resolve: dict[str, str] | None = None):
        key = tuple(sorted((resolve or {}).items()))
        if key not in self._browsers:
            if not Path(CHROMIUM).exists():
                raise BrowserFailure(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
            if self._playwright is None:
                from playwright.sync_api import sync_playwright

                self._playwright = sync_playwright().start()
            args = [*FLAGS, f"--host-resolver-rules={resolver_rules(dict(key))}"] if key else FLAGS
            self._browsers[key] = self._playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        return self._browsers[key]

    def close(self) -> None:
        for browser in self._browsers.values():
            with contextlib.suppress(Exception):
                browser.close()
        self._browsers.clear()
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None


# -- one visit -----------------------------------------------------------------------------


class _Visit:
    """A browser context and page with what a bug report needs: console errors, websockets, steps."""

    def __init__(self, browser, label: str, artifacts: Path | None, insecure: bool, timeouts: Timeouts):
        self.label = label
        self.artifacts = artifacts
        self.timeouts = timeouts
        self.context = browser.new_context(ignore_https_errors=insecure, viewport=VIEWPORT)
        self.context.set_default_timeout(timeouts.page * 1000)
        self.page = self.context.new_page()
        self.console: deque[str] = deque(maxlen=50)
        self.sockets: list[_Socket] = []
        self.refused: list[str] = []  # pages the server answered with an error status
        self.page_status = 0  # of the page shown now
        self.step = "start"
        self.mine_from = 0  # sockets before this index were opened by pages this visit only passed through
        self.report: dict[str, Any] = {"label": label, "steps": {}, "screenshots": []}
        self._started = time.monotonic()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda err: self.console.append(f"[pageerror] {err}"))
        self.page.on("websocket", self._on_websocket)
        self.page.on("response", self._on_response)

    def _on_response(self, response) -> None:
        request = response.request
        if not (request.is_navigation_request() and request.frame == self.page.main_frame):
            return
        self.page_status = response.status
        if response.status >= 400:
            self.refused.append(f"{request.method} {response.url} -> {response.status} {response.status_text}")

    def _on_console(self, msg) -> None:
        if msg.type in ("error", "warning") and "favicon" not in msg.text:
            self.console.append(f"[{msg.type}] {msg.text}")

    def _on_websocket(self, ws) -> None:
        sock = _Socket(ws.url)
        self.sockets.append(sock)

        def received(payload) -> None:
            sock.frames_in += 1
            if "/terminals/websocket/" in sock.url and isinstance(payload, str):
                with contextlib.suppress(ValueError, TypeError, IndexError):
                    message = json.loads(payload)
                    if message[0] == "stdout":
                        sock.text = (sock.text + ANSI.sub("", message[1]))[-20000:]

        ws.on("framereceived", received)
        ws.on("socketerror", lambda err: sock.errors.append(str(err)))
        ws.on("close", lambda _ws: setattr(sock, "closed", True))

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """One step: timed; any exception becomes a BrowserFailure with the full report."""
        self.step = name
        start = time.monotonic()
        try:
            yield
        except BrowserFailure:
            raise
        except Exception as err:  # Playwright's timeouts and errors, failed expectations
            raise BrowserFailure(self.diagnose(err)) from err
        self.report["steps"][name] = round(time.monotonic() - start, 1)

    def shot(self, name: str) -> str | None:
        if self.artifacts is None:
            return None
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{self.label}-{name}.png"
        with contextlib.suppress(Exception):  # Lab's "get notified about Jupyter news?" toast hides the output
            self.page.add_style_tag(content=".Toastify, .Toastify__toast-container { display: none !important; }")
        with contextlib.suppress(Exception):  # headless Chromium has no address bar: show the URL at the top
            self.page.evaluate(URL_BADGE)
        self.page.screenshot(path=str(path))
        with contextlib.suppress(Exception):
            self.page.evaluate("document.getElementById('browser-check-url')?.remove()")
        self.report["screenshots"].append(str(path))
        return str(path)

    def wait(self, condition: Callable[[], bool], seconds: float, what: str) -> None:
        """Poll a condition while Playwright delivers events; raise TimeoutError naming it."""
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not seen within {seconds:.0f} s")
            self.page.wait_for_timeout(250)

    def failed_sockets(self) -> list[str]:
        """One line per failing websocket URL (query left out), with how often it failed."""
        seen: dict[str, int] = {}
        for sock in self.sockets:
            if sock.failed:
                detail = "; ".join(sock.errors) or "closed before any message arrived"
                line = f"{sock.url.split('?')[0]} ({detail})"
                seen[line] = seen.get(line, 0) + 1
        # Chromium says why a handshake failed only on the console ("Unexpected response code: 400").
        for line in self.console:
            if m := re.search(r"WebSocket connection to '([^'?]*)[^']*' failed: (.*)", line):
                line = f"{m.group(1)} ({m.group(2)})"
                seen[line] = seen.get(line, 0) + 1
        return [line + (f" x{n}" if n > 1 else "") for line, n in seen.items()][-KEEP:]

    def diagnose(self, err: BaseException) -> str:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        lines = [f"browser check '{self.label}' failed at step '{self.step}': {first_line}"]
        try:
            lines.append(f"  page URL: {self.page.url}")
            heading = self.page.locator("h1")
            if heading.count():
                lines.append(f"  page heading: {' '.join(heading.first.inner_text(timeout=2000).split())[:200]!r}")
            status = self.page.locator("#jp-main-statusbar")
            if status.count():
                lines.append(f"  Lab status bar: {' '.join(status.inner_text(timeout=2000).split())!r}")
            dialog = self.page.locator(".jp-Dialog")
            if dialog.count():
                lines.append(f"  open dialog: {' '.join(dialog.first.inner_text(timeout=2000).split())[:300]!r}")
        except Exception as extra:  # the page may be gone; the report must still come out
            lines.append(f"  (page state unavailable: {extra})")
        if self.refused:
            lines.append("  pages refused:" + "".join(f"\n    {r}" for r in self.refused[-KEEP:]))
        sockets = self.failed_sockets()
        lines.append("  failed websockets:" + ("".join(f"\n    {s}" for s in sockets) if sockets else " none"))
        opened = sorted({s.url.split("?")[0] for s in self.sockets})
        lines.append("  websockets opened:" + ("".join(f"\n    {u}" for u in opened[-KEEP:]) if opened else " none"))
        errors = list(self.console)[-KEEP:]
        lines.append("  last console errors:" + ("".join(f"\n    {e}" for e in errors) if errors else " none"))
        try:
            lines.append(f"  screenshot: {self.shot('FAILED-' + re.sub(r'[^a-z0-9]+', '-', self.step.lower()))}")
        except Exception as extra:
            lines.append(f"  screenshot: not taken ({extra})")
        self.report["failure"] = "\n".join(lines)
        self.write_report()
        return "\n".join(lines)

    def write_report(self) -> None:
        self.report["seconds"] = round(time.monotonic() - self._started, 1)
        if self.artifacts is not None:
            self.artifacts.mkdir(parents=True, exist_ok=True)
            (self.artifacts / f"{self.label}.json").write_text(json.dumps(self.report, indent=2) + "\n")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()


# -- JupyterLab steps ----------------------------------------------------------------------


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path


def _lab_ready(visit: _Visit) -> None:
    """JupyterLab's shell is up (status bar shown, splash gone); fails at once on an error page."""
    status = visit.page.locator("#jp-main-statusbar")
    visit.wait(lambda: visit.page_status >= 400 or status.count() > 0, visit.timeouts.page, "JupyterLab's status bar")
    if visit.page_status >= 400:
        raise AssertionError(f"the server refused the page: {visit.refused[-1]}")
    visit.page.locator("#jupyterlab-splash").wait_for(state="detached")


def _password_login(visit: _Visit, url: str, password: str, user: str | None = None) -> None:
    page = visit.page
    page.goto(url)
    form = page.locator("#password_input")
    with contextlib.suppress(Exception):
        form.wait_for(timeout=10000)  # a server without a password goes straight on
    if not form.count():
        return
    if user is not None:
        page.fill("#username_input", user)
    page.fill("#password_input", password)
    login_url, refused = page.url, len(visit.refused)
    with page.expect_navigation():  # the form's POST and its redirects, or the login page again
        page.click("#login_submit")
    if len(visit.refused) > refused:
        raise AssertionError(f"the server refused the login: {visit.refused[-1]}")
    if page.url.split("?")[0] == login_url.split("?")[0] and page.locator("#password_input").count():
        message = page.locator(".alert, .login_error, .error").all_inner_texts()
        raise AssertionError(f"still on the login page after submitting the form: {' '.join(message) or 'no message'}")


def _api(visit: _Visit, base: str, method: str, path: str) -> tuple[int, Any]:
    """A same-origin API call from the page, with Jupyter's XSRF token as Lab sends it."""
    script = """async ([url, method]) => {
        const m = document.cookie.match(/(?:^|;\\s*)_xsrf=([^;]*)/);
        const headers = m ? {"X-XSRFToken": decodeURIComponent(m[1])} : {};
        const r = await fetch(url, {method, headers, credentials: "same-origin"});
        const text = await r.text();
        let body = null; try { body = JSON.parse(text); } catch (e) { body = text; }
        return [r.status, body];
    }"""
    status, body = visit.page.evaluate(script, [_join(base, path), method])
    return status, body


def _new_notebook(visit: _Visit, base: str, expect_hostname: str | None) -> None:
    from playwright.sync_api import expect

    page = visit.page
    with visit.stage("open Lab"):
        visit.mine_from = len(visit.sockets)  # the landing page may have reconnected to the user's own things
        page.goto(_join(base, LAB))
        _lab_ready(visit)
    with visit.stage("new notebook"):
        page.locator('.jp-LauncherCard[data-category="Notebook"]').first.click()
        panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        panel.locator(".jp-Cell .cm-content").first.wait_for()
    with visit.stage("kernel idle"):
        expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=visit.timeouts.kernel * 1000)
    with visit.stage("run cell"):
        panel.locator(".jp-Cell .cm-content").first.click()
        page.keyboard.insert_text(CODE)
        page.keyboard.press("Shift+Enter")
        output = panel.locator(".jp-OutputArea-output").first
        expect(output).to_contain_text("42", timeout=visit.timeouts.kernel * 1000)
        text = output.inner_text()
        if not text.startswith("42 "):
            raise AssertionError(f"the cell printed {text!r}, not '42 <host name>'")
        if expect_hostname and text.split()[1:] != [expect_hostname]:
            raise AssertionError(f"the kernel runs on {text.split()[1:]}, not on {expect_hostname!r}")
        visit.report["cell_output"] = text.strip()
        visit.shot("notebook")


def _save_and_find(visit: _Visit, base: str) -> str:
    """Save the notebook (the PUT carries the XSRF token), reload, find it again. Returns its path."""
    from playwright.sync_api import expect

    page = visit.page
    puts: list = []

    def on_response(response) -> None:
        if response.request.method in ("PUT", "PATCH") and "/api/contents/" in response.url:
            puts.append(response)

    with visit.stage("save notebook"):
        page.on("response", on_response)
        page.keyboard.press("Control+s")
        # JupyterLab 4 may ask for a name when an untitled file is saved the first time.
        dialog = page.locator(".jp-Dialog")
        with contextlib.suppress(Exception):
            dialog.wait_for(timeout=3000)
        chosen = None
        if dialog.count():
            name_field = dialog.locator("input")
            if name_field.count():
                chosen = f"browser-check-{secrets.token_hex(3)}.ipynb"
                name_field.first.fill(chosen)
            dialog.locator(".jp-mod-accept").click()
            dialog.wait_for(state="detached")
        visit.wait(lambda: any(r.request.method == "PUT" for r in puts), visit.timeouts.page, "the notebook's PUT")
        page.wait_for_load_state("networkidle")
        page.remove_listener("response", on_response)
        bad = [f"{r.request.method} {r.url} -> {r.status}" for r in puts if r.status not in (200, 201)]
        if bad:
            raise AssertionError(f"saving was refused: {bad}")
        # Where it is now: renamed to the name given in the dialog (Lab updates the kernel's
        # session only some time after the rename), else where the kernel's session says.
        kernels = _kernel_ids(visit)
        _, sessions = _api(visit, base, "GET", "api/sessions")
        paths = [s["path"] for s in sessions if s["kernel"]["id"] in kernels]
        if not paths:
            raise AssertionError(f"no session for this notebook's kernel {sorted(kernels)} in {sessions}")
        path = paths[0] if chosen is None else paths[0].rpartition("/")[0].rstrip("/") + "/" + chosen
        path = path.lstrip("/")
        visit.report["notebook"] = path
        # Before the page is reloaded: the saved file is there, and Lab has finished a rename
        # (its session follows the file's new name).
        visit.wait(lambda: _api(visit, base, "GET", f"api/contents/{path}?content=0")[0] == 200,
                   visit.timeouts.page, f"{path} on the server after saving")  # fmt: skip

        def session_follows() -> bool:
            listed = _api(visit, base, "GET", "api/sessions")[1]
            return any(s["kernel"]["id"] in kernels and s["path"].lstrip("/") == path for s in listed)

        visit.wait(session_follows, visit.timeouts.page, f"the kernel's session at {path}")
    with visit.stage("reload and find the notebook"):
        page.reload()
        _lab_ready(visit)
        listing = page.locator(".jp-DirListing-content")
        expect(listing.get_by_text(path.rsplit("/", 1)[-1], exact=True)).to_be_visible()
        status, model = _api(visit, base, "GET", f"api/contents/{path}")
        if status != 200:
            raise AssertionError(f"GET api/contents/{path} answered {status}")
        outputs = [o.get("text", "") for cell in model["content"]["cells"] for o in cell.get("outputs", [])]
        if not any("".join(o).startswith("42 ") for o in outputs):
            raise AssertionError(f"the saved notebook has no '42' output: {outputs}")
    return path


def _terminal(visit: _Visit, base: str) -> None:
    page = visit.page
    with visit.stage("open terminal"):
        page.goto(_join(base, LAB))
        _lab_ready(visit)
        page.locator('.jp-LauncherCard[data-category="Other"]', has_text="Terminal").first.click()
        page.locator(".jp-Terminal .xterm").first.wait_for()
        visit.wait(
            lambda: any("/terminals/websocket/" in s.url and s.text.strip() for s in visit.sockets),
            visit.timeouts.kernel,
            "the shell's prompt on the terminal's websocket",
        )
    with visit.stage("run in terminal"):
        page.locator(".jp-Terminal .xterm").first.click()
        page.keyboard.type(TERMINAL_COMMAND + "\n")
        terminals = [s for s in visit.sockets if "/terminals/websocket/" in s.url]
        visit.wait(
            lambda: any(re.search(r"(^|[\r\n])42\r?\n", s.text) for s in terminals),
            visit.timeouts.kernel,
            f"'42' in the terminal after `{TERMINAL_COMMAND}`",
        )
        visit.shot("terminal")


def _kernel_ids(visit: _Visit) -> set[str]:
    mine = visit.sockets[visit.mine_from :]
    return {m.group(1) for s in mine if (m := re.search(r"/api/kernels/([0-9a-f-]+)/channels", s.url))}


def _clean_up(visit: _Visit, base: str, notebook: str | None) -> None:
    """Shut down the kernels and terminals this visit started, delete its notebook; check they are gone."""
    kernels = _kernel_ids(visit)
    mine = visit.sockets[visit.mine_from :]
    terminals = {m.group(1) for s in mine if (m := re.search(r"/terminals/websocket/([^/?]+)", s.url))}
    with visit.stage("clean up"):
        # From the Lab page: the API pages' CSP (default-src 'none') forbids fetch().
        status, sessions = _api(visit, base, "GET", "api/sessions")
        ours = [s for s in (sessions if status == 200 else []) if s["kernel"]["id"] in kernels]
        for session in ours:
            _api(visit, base, "DELETE", f"api/sessions/{session['id']}")
        # Not saved yet (a failure on the way): the launcher's Untitled*.ipynb, known to its session.
        notebook = notebook or next((s["path"] for s in ours if s["path"].endswith(".ipynb")), None)
        for kernel in {k["id"] for k in _api(visit, base, "GET", "api/kernels")[1]} & kernels:
            _api(visit, base, "DELETE", f"api/kernels/{kernel}")  # one without a session
        for name in terminals:
            _api(visit, base, "DELETE", f"api/terminals/{name}")
        _api(visit, base, "DELETE", f"lab/api/workspaces/{WORKSPACE}")
        if notebook:
            status, body = _api(visit, base, "DELETE", f"api/contents/{notebook}")
            if status != 204:
                raise AssertionError(f"DELETE api/contents/{notebook} answered {status}: {body}")
        left = {k["id"] for k in _api(visit, base, "GET", "api/kernels")[1]} & kernels
        left |= {t["name"] for t in _api(visit, base, "GET", "api/terminals")[1]} & terminals
        if left:
            raise AssertionError(f"still running after shutdown: {sorted(left)}")
    visit.report["cleaned_up"] = {"kernels": sorted(kernels), "terminals": sorted(terminals), "notebook": notebook}


def _lab_checks(visit: _Visit, base: str, expect_hostname: str | None) -> None:
    notebook = None
    try:
        _new_notebook(visit, base, expect_hostname)
        notebook = _save_and_find(visit, base)
        _terminal(visit, base)
    except BrowserFailure:
        with contextlib.suppress(Exception):  # best effort: the report of the first failure matters
            _clean_up(visit, base, notebook or visit.report.get("notebook"))
        raise
    _clean_up(visit, base, notebook)


def lab_session(
    browser,
    url: str,
    password: str | None,
    *,
    label: str = "lab",
    expect_hostname: str | None = None,
    artifacts: Path | None = None,
    insecure: bool = False,
    timeouts: Timeouts | None = None,
) -> dict:
    """The JupyterLab round trip at url (its base URL, e.g. https://lab.example.org/notebook/). Returns the report."""
    visit = _Visit(browser, label, artifacts, insecure, timeouts or Timeouts())
    try:
        with visit.stage("log in"):
            _password_login(visit, url, password or "")
            visit.page.wait_for_url(re.compile(r"/lab(/|\?|$)"))
            _lab_ready(visit)
        _lab_checks(visit, url, expect_hostname)
        visit.write_report()
        return visit.report
    finally:
        visit.close()


def hub_session(
    browser,
    url: str,
    user: str,
    password: str,
    *,
    label: str = "hub",
    expect_hostname: str | None = None,
    artifacts: Path | None = None,
    insecure: bool = False,
    timeouts: Timeouts | None = None,
) -> dict:
    """Through JupyterHub at url (https://hub.example.org/jupyter/): log in, spawn, Lab, stop. Returns the report."""
    from playwright.sync_api import expect

    timeouts = timeouts or Timeouts()
    visit = _Visit(browser, label, artifacts, insecure, timeouts)
    lab = re.compile(rf"/user/{re.escape(user)}/lab(/|\?|$)")
    try:
        with visit.stage("hub log in"):
            _password_login(visit, _join(url, "hub/login"), password, user=user)
        with visit.stage("spawn"):
            page = visit.page
            page.wait_for_url(re.compile(rf"/hub/spawn-pending/{re.escape(user)}|/user/{re.escape(user)}/"))
            if "/spawn-pending/" in page.url:
                visit.report["spawn_pending_page"] = True
                with contextlib.suppress(Exception):  # the first progress event, for the screenshot
                    page.wait_for_function(PROGRESS_SHOWN, timeout=5000)
                visit.shot("spawn")
            page.wait_for_url(lab, timeout=timeouts.spawn * 1000)
        _lab_checks(visit, _join(url, f"user/{user}/"), expect_hostname)
        with visit.stage("stop the server from hub/home"):
            page.goto(_join(url, "hub/home"))
            stop = page.locator("#stop")
            # hub/home binds the button's handler once its scripts have loaded: a click that came
            # first does nothing, so click again while the button stays (a repeated stop is a no-op).
            deadline = time.monotonic() + timeouts.spawn
            while True:
                with contextlib.suppress(Exception):  # hidden meanwhile: nothing left to click
                    stop.click(timeout=5000)
                try:
                    expect(stop).to_be_hidden(timeout=15000)
                    break
                except AssertionError:
                    if time.monotonic() > deadline:
                        raise
            page.reload()
            expect(page.locator("#start")).to_be_visible()
            if page.locator("#stop").is_visible():
                raise AssertionError("hub/home still offers 'Stop My Server' after a reload")
        visit.write_report()
        return visit.report
    finally:
        visit.close()


# -- pytest side ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browsers() -> Iterator[Browsers]:
    """Chromium for the whole test session (one per name-to-address mapping)."""
    pool = Browsers()
    yield pool
    pool.close()


def container_address(name: str) -> str:
    from e2e.verify import docker

    template = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"
    addresses = docker("inspect", "-f", template, name).stdout.decode().split()
    if not addresses:
        raise BrowserFailure(f"container {name} has no address on a docker network")
    return addresses[0]


def target_for(host, settings: dict, url: str | None = None) -> tuple[str, dict[str, str]]:
    """A testinfra host's public URL (e2e_url) and the mapping of its name to the container's address."""
    from e2e.verify import container

    url = url or settings["e2e_url"]
    return url, {urlsplit(url).hostname: container_address(container(host))}


def _visit(session, host, browsers, url: str, *args, label: str, logs=None, **options) -> dict:
    _, resolve = target_for(host, {}, url=url)
    try:
        report = session(browsers.get(resolve), url, *args, label=label, artifacts=artifacts_dir(), **options)
    except BrowserFailure as failure:
        pytest.fail(f"{failure}\n--- logs ---\n{logs() if logs else ''}", pytrace=False)
    record_time(label, report)
    return report


def visit_lab(host, browsers, url: str, password: str, *, label: str, logs=None, **options) -> dict:
    """lab_session at url through the container behind the testinfra host (url's name mapped to its
    address), timed into times.txt; a failure fails the test with the browser's report and logs()."""
    return _visit(lab_session, host, browsers, url, password, label=label, logs=logs, **options)


def visit_hub(host, browsers, url: str, user: str, password: str, *, label: str, logs=None, **options) -> dict:
    """hub_session, as visit_lab does lab_session."""
    return _visit(hub_session, host, browsers, url, user, password, label=label, logs=logs, **options)


def artifacts_dir() -> Path:
    """.build/browser/<scenario>/ of the project under test."""
    root = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[2]))
    return root / ".build" / "browser" / os.environ.get("MOLECULE_SCENARIO_NAME", "adhoc")


def record_time(label: str, report: dict | float) -> None:
    """One line per browser visit (a report, or seconds) in .build/browser/times.txt; `make test` prints them."""
    seconds = report if isinstance(report, float) else report["seconds"]
    path = artifacts_dir().parent / "times.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    scenario = os.environ.get("MOLECULE_SCENARIO_NAME", "adhoc")
    with path.open("a") as f:
        f.write(f"{scenario + ' ' + label:<40} {seconds:6.1f}s\n")


# -- command line: against your own deployment --------------------------------------------


def _smoke() -> int:
    """Playwright drives this machine's Chromium: a page rendered from a data: URL, no network."""
    pool = Browsers()
    try:
        browser = pool.get()
        page = browser.new_page()
        page.goto("data:text/html,<h1>42</h1>")
        assert page.inner_text("h1") == "42"
        print(f"Playwright drives {CHROMIUM} (Chromium {browser.version})")
    finally:
        pool.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Check a Jupyter deployment in a real browser. The password comes from $JUPYTER_PASSWORD; "
        "set $JUPYTERHUB_USER for a JupyterHub."
    )
    parser.add_argument("--url", help="public base URL, e.g. https://lab.example.org/notebook/")
    parser.add_argument("--smoke", action="store_true", help="only start Chromium and render a page (no network)")
    parser.add_argument("--insecure", action="store_true", help="accept a self-signed certificate")
    parser.add_argument("--expect-hostname", help="the host name the kernel must report")
    parser.add_argument("--artifacts", type=Path, default=Path(".build/browser/check"), help="screenshots go here")
    parser.add_argument("--resolve", action="append", default=[], metavar="NAME=ADDRESS", help="skip DNS for NAME")
    args = parser.parse_args(argv)
    if args.smoke:
        return _smoke()
    if not args.url:
        parser.error("--url is required")
    if urlsplit(args.url).scheme not in ("http", "https"):
        parser.error(f"--url must be http(s)://..., not {args.url!r}")
    password = os.environ.get("JUPYTER_PASSWORD")
    if not password:
        parser.error("set JUPYTER_PASSWORD in the environment (it is never read from the command line)")
    user = os.environ.get("JUPYTERHUB_USER")
    resolve = dict(item.split("=", 1) for item in args.resolve)
    pool = Browsers()
    options = {"expect_hostname": args.expect_hostname, "artifacts": args.artifacts, "insecure": args.insecure}
    try:
        browser = pool.get(resolve)
        if user:
            report = hub_session(browser, args.url, user, password, **options)
        else:
            report = lab_session(browser, args.url, password, **options)
    except BrowserFailure as err:
        print(err, file=sys.stderr)
        return 1
    finally:
        pool.close()
    steps = ", ".join(f"{k} {v}s" for k, v in report["steps"].items())
    print(f"OK {args.url} in {report['seconds']}s: {report.get('cell_output')}\n  steps: {steps}")
    for shot in report["screenshots"]:
        print(f"  screenshot: {shot}")
    return 0


if __name__ == "__main__":
    if not shutil.which(CHROMIUM):
        print(f"{CHROMIUM} is missing: run `make browser`", file=sys.stderr)
        sys.exit(2)
    sys.exit(main())
