"""Shared verification helpers for every molecule scenario (testinfra side).

The browser-like client, the collection's plugins/module_utils/_jupyter_client.py
(imported by its collection name), is copied into the container under test and
run there with the system python3, so every check goes through the proxy exactly
as a browser on that host would. Passwords travel through a
root-only file, never on a command line.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import testinfra
from ansible_collections.jupyter_edge.deploy.plugins.module_utils import _jupyter_client

# The client library of the collection (the jupyter_check module's, which the doctor calls), run as a script.
PROBE_SRC = Path(_jupyter_client.__file__).resolve()
PROBE_DST = "/usr/local/bin/jupyter-edge-probe"
# By its FQCN, so the doctor runs from the installed collection, as users run it.
DOCTOR = "jupyter_edge.deploy.doctor"
CHP_TOKEN_FILE = "/etc/configurable-http-proxy/auth.env"


def inventory_vars(name: str) -> dict:
    """A host's variables from the scenario's inventory (its linked example included), unrendered.

    For scenarios whose inventory gives ansible_host as the address users browse (the
    example inventories): testinfra's ansible backend would take it for the container,
    so their tests reach the container as docker://<name> and read the variables here.
    """
    inventory = str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=inventory).ansible.get_variables()


def container(host) -> str:
    """Name of the docker container behind a testinfra host (ansible:// or docker://)."""
    backend = host.backend
    return backend.name if backend.NAME == "docker" else backend.host


def docker(*args: str, stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], input=stdin, capture_output=True, check=check, timeout=300)


class Probe:
    """Runs checks of the client library (as a script) inside a container against a public URL."""

    def __init__(self, host, url: str, password: str | None = None, cafile: str | None = None, insecure=False):
        self.host = host
        self.url = url
        self.cafile = cafile
        self.insecure = insecure
        # Each probe keeps its password in its own root-only file in the container.
        self.secret = f"/root/.jupyter-edge-probe-{secrets.token_hex(4)}"
        name = container(host)
        docker("cp", str(PROBE_SRC), f"{name}:{PROBE_DST}")
        if password is not None:
            docker("exec", "-i", name, "sh", "-c", f"umask 077 && cat > {self.secret}", stdin=password.encode())

    def _command(self, check: str, args, origin: str | None, url: str | None, timeout: int) -> str:
        options = ["--url", url or self.url, "--timeout", "60"]
        if origin:
            options += ["--origin", origin]
        if self.cafile:
            options += ["--cafile", self.cafile]
        if self.insecure:
            options.append("--insecure")
        command = " ".join(shlex.quote(a) for a in ["python3", PROBE_DST, *options, "--password-env", "PROBE_PW"])
        return f"PROBE_PW=$(cat {self.secret} 2>/dev/null) timeout {timeout} {command} {shlex.join([check, *args])}"

    def run(self, check: str, *args: str, origin: str | None = None, url: str | None = None, timeout: int = 120):
        """Run one check; returns its JSON observations (raises with stderr on failure)."""
        result = self.host.run(self._command(check, args, origin, url, timeout))
        if result.rc != 0:
            raise AssertionError(f"probe {check} failed (rc={result.rc}): {result.stdout} {result.stderr}")
        return json.loads(result.stdout)

    def start(self, check: str, *args: str, timeout: int = 900) -> subprocess.Popen:
        """Start a check in the background (for checks that run while something else happens); see finish()."""
        command = self._command(check, args, None, None, timeout)
        return subprocess.Popen(
            ["docker", "exec", container(self.host), "sh", "-c", command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    @staticmethod
    def finish(proc: subprocess.Popen, timeout: int = 300) -> dict:
        """The JSON observations of a check started with start()."""
        out, err = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"probe failed (rc={proc.returncode}): {out} {err}")
        return json.loads(out)


def main_pid(host, unit: str) -> int:
    """The MainPID of a systemd unit in the container (0 when it is not running)."""
    return int(host.check_output(f"systemctl show -p MainPID --value {shlex.quote(unit)}"))


def chp_api(host, path: str = "/api/routes", auth: str | None = "file", api: str = "http://127.0.0.1:8001"):
    """GET on CHP's API from inside the container: (status, JSON body).

    auth "file": the token of CHP_TOKEN_FILE; None: no token; else that token. It goes
    through the environment of the request only, never onto a command line.
    """
    script = (
        "import json, os, sys, urllib.request as r, urllib.error as e\n"
        "req = r.Request(sys.argv[1])\n"
        "tok = os.environ.get('TOK')\n"
        "if tok: req.add_header('Authorization', 'token ' + tok)\n"
        "try:\n"
        "    resp = r.urlopen(req, timeout=10); print(resp.status); print(resp.read().decode())\n"
        "except e.HTTPError as err:\n"
        "    print(err.code); print('{}')\n"
    )
    env = {"file": f"TOK=$(sed -n 's/^CONFIGPROXY_AUTH_TOKEN=//p' {CHP_TOKEN_FILE})", None: "TOK="}.get(auth)
    env = env or f"TOK={shlex.quote(auth)}"
    out = host.check_output(f"{env} python3 -c {shlex.quote(script)} {api}{path}")
    status, _, body = out.partition("\n")
    return int(status), json.loads(body or "{}")


def http_status(host, url: str, host_header: str) -> int:
    """Status of GET url from inside the container with this Host header (and for
    https://127.0.0.1 no SNI, as a browser browsing by address sends none)."""
    script = (
        "import http.client, ssl, sys, urllib.parse as u\n"
        "url, host = u.urlsplit(sys.argv[1]), sys.argv[2]\n"
        "if url.scheme == 'https':\n"
        "    c = http.client.HTTPSConnection(url.hostname, url.port or 443, timeout=20,"
        " context=ssl._create_unverified_context())\n"
        "else:\n"
        "    c = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=20)\n"
        "c.request('GET', url.path or '/', headers={'Host': host})\n"
        "print(c.getresponse().status)\n"
    )
    return int(host.check_output(f"python3 -c {shlex.quote(script)} {shlex.quote(url)} {shlex.quote(host_header)}"))


def direct_get_command(path: str, socket_path: str = "", port: int = 8888) -> str:
    """A shell command that prints the status and the body's sha256 of GET path from the Jupyter server
    itself, on its unix socket or on 127.0.0.1:port (run in the container, as root)."""
    script = (
        "import hashlib, http.client, socket, sys\n"
        "path, sock, port = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
        "class Conn(http.client.HTTPConnection):\n"
        "    def connect(self):\n"
        "        if not sock:\n"
        "            return super().connect()\n"
        "        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "        self.sock.connect(sock)\n"
        "c = Conn('127.0.0.1', port, timeout=30)\n"
        "c.request('GET', path, headers={'Host': 'localhost'})\n"
        "r = c.getresponse()\n"
        "print(r.status, hashlib.sha256(r.read()).hexdigest())\n"
    )
    args = " ".join(shlex.quote(a) for a in (path, socket_path, str(port)))
    return f"python3 -c {shlex.quote(script)} {args}"


def direct_get(host, path: str, socket_path: str = "", port: int = 8888) -> tuple[int, str]:
    """Status and sha256 of GET path from the Jupyter server itself (see direct_get_command)."""
    status, digest = host.check_output(direct_get_command(path, socket_path, port)).split()
    return int(status), digest


def record_counts(label: str, line: str) -> None:
    """One line of counts in .build/reliability.txt (`make test` prints them at the end)."""
    path = Path(__file__).resolve().parents[2] / ".build" / "reliability.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    scenario = os.environ.get("MOLECULE_SCENARIO_NAME", "adhoc")
    with path.open("a") as f:
        f.write(f"{scenario + ' ' + label:<40} {line}\n")


def address(host) -> str:
    """The container's first network address (what a browser uses to browse by address)."""
    return host.check_output("hostname -I").split()[0]


def restart_container(host, wait_for: str | None = None, timeout: int = 120) -> None:
    """Restart the container (a reboot, for the services in it) and wait for systemd."""
    name = container(host)
    docker("restart", name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = docker("exec", name, "systemctl", "is-system-running", check=False).stdout.decode().strip()
        if state in ("running", "degraded"):
            break
        time.sleep(1)
    else:
        raise AssertionError(f"{name} did not boot within {timeout} s")
    if wait_for:
        wait_until(host, wait_for, timeout)


def wait_until(host, command: str, timeout: int = 120) -> None:
    """Run a shell command in the container until it succeeds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host.run(command).rc == 0:
            return
        time.sleep(1)
    raise AssertionError(f"not true within {timeout} s: {command}")


def journal(host, unit: str, lines: int = 50) -> str:
    """The unit's recent journal, for failure messages."""
    return host.run(f"journalctl -u {shlex.quote(unit)} -n {lines} --no-pager").stdout


def converge_with(
    extra_vars: dict, playbook: str | None = None, limit: str | None = None, tags: str | None = None
) -> subprocess.CompletedProcess:
    """Run the scenario's converge playbook again with extra variables (bad-input tests).

    playbook is a path or a collection playbook's FQCN (jupyter_edge.deploy.doctor); an
    FQCN resolves through ANSIBLE_COLLECTIONS_PATH, which molecule points at the
    installed collection. Output, errors included (Ansible reports them on stderr),
    is in .stdout.
    """
    playbook = playbook or str(Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "converge.yml")
    # The inventory directory: molecule's inventory file, and the hosts, group_vars and
    # host_vars that a scenario links in (the example inventories).
    inventory = str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)
    command = ["ansible-playbook", "-i", inventory, playbook, "-e", json.dumps(extra_vars)]
    if limit:
        command += ["--limit", limit]
    if tags:
        command += ["--tags", tags]
    return subprocess.run(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )


def converge_cases(name: str, cases: dict[str, dict], tags: str | None = None) -> dict[str, dict]:
    """The converge playbook for many sets of variables on one host, in ONE ansible-playbook run.

    For the bad-input tests: each case is a copy of host `name` (same connection, container,
    groups and inventory variables) with the case's variables as its host variables, in a
    temporary inventory; Ansible runs them side by side (one fork each). Per case: the
    playbook's `failed` and `changed` counts from the recap and `msg`, its failure messages
    joined (whitespace folded), plus `output`, the whole run's output. Only inventory-level
    values can be cases: a value the role sets itself (set_fact) needs converge_with's -e.
    """
    inventory = str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)
    listed = json.loads(subprocess.check_output(["ansible-inventory", "-i", inventory, "--list"], text=True))
    hostvars = listed["_meta"]["hostvars"][name]
    groups = [g for g, v in listed.items() if g not in ("_meta", "all", "ungrouped") and name in v.get("hosts", [])]
    aliases = {f"{name}--{case}": case for case in cases}
    hosts = {alias: {**hostvars, "ansible_host": name, **cases[case]} for alias, case in aliases.items()}
    tree = {"all": {"hosts": hosts, "children": {g: {"hosts": {alias: None for alias in aliases}} for g in groups}}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.yml"  # JSON is YAML: Ansible's yaml inventory plugin reads it
        path.write_text(json.dumps(tree))
        playbook = str(Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "converge.yml")
        command = ["ansible-playbook", "-i", str(path), playbook, "--forks", str(len(cases) + 1)]
        command += ["--tags", tags] if tags else []
        run = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900,
                             env={**os.environ, "ANSIBLE_NOCOLOR": "1"})  # fmt: skip
    out: dict[str, dict] = {}
    for alias, case in aliases.items():
        recap = re.search(rf"^{re.escape(alias)}\s*: ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)",
                          run.stdout, re.M)  # fmt: skip
        messages = []
        # A task's failure (fatal: [host]: FAILED! => {...}) or a loop item's (failed: [host] (item=...) => {...},
        # printed over several lines): the JSON object after "=> ".
        failure = rf"^(?:fatal: \[{re.escape(alias)}\]: FAILED!|failed: \[{re.escape(alias)}\] \(item=.*\)) => (?=\{{)"
        for match in re.finditer(failure, run.stdout, re.M):
            with contextlib.suppress(ValueError):
                messages.append(str(json.JSONDecoder().raw_decode(run.stdout, match.end())[0].get("msg", "")))
        out[case] = {
            "changed": int(recap.group(1)) if recap else None,
            "failed": int(recap.group(2)) if recap else None,
            "msg": " ".join(" ".join(messages).split()),
            "output": run.stdout,
        }
    return out


def run_doctor(extra_vars: dict | None = None) -> tuple[int, str]:
    """Run jupyter_edge.deploy.doctor against the scenario's inventory; its return code and output."""
    run = converge_with(extra_vars or {}, playbook=DOCTOR)
    return run.returncode, run.stdout


def doctor_lines(out: str, verdict: str) -> list[str]:
    """The doctor's report lines with this verdict (PASS, FAIL or SKIP), as printed by its Report task."""
    lines = (line.strip(' ",') for line in out.splitlines())
    return [line for line in lines if line.startswith(f"{verdict} ")]


def assert_doctor_passes(extra_vars: dict | None = None) -> str:
    """Run the doctor on the healthy deployment: every check passes and it changes nothing."""
    rc, out = run_doctor(extra_vars)
    assert rc == 0 and not doctor_lines(out, "FAIL"), out[-4000:]
    assert doctor_lines(out, "PASS"), out[-4000:]
    assert re.search(r"changed=0\s", out) and re.search(r"failed=0\s", out), out[-4000:]
    return out


@contextlib.contextmanager
def breakage(host) -> Iterator[Callable[[str, str | Callable[[], None]], None]]:
    """Yields brk(command, restore), which breaks the deployment on purpose.

    Each restore (a shell command, or a function) is registered before its break
    runs, so a break that fails half-way is undone too; they run last first on exit.
    """
    undo: list[str | Callable[[], None]] = []

    def brk(command: str, restore: str | Callable[[], None]) -> None:
        undo.append(restore)
        assert host.run(command).rc == 0, command

    try:
        yield brk
    finally:
        for restore in reversed(undo):
            if callable(restore):
                restore()
            else:
                host.run(restore)
