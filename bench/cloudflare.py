#!/usr/bin/env python3
"""Cloudflare part of `make bench`: API requests and wall time of one DNS record task.

Runs on the controller against the fake Cloudflare API of tests/fake_cloudflare on
127.0.0.1 (nothing reaches api.cloudflare.com). Three ansible-playbook runs per module,
each counted by the fake's request log and timed from the outside (wall time of the whole
ansible-playbook process, median of --reps repetitions from an empty zone):

  create     the record does not exist yet
  no-change  the same task again
  update     the same record with a new address

jupyter_edge.deploy.cloudflare_dns takes the fake's URL as api_url. community.general's
cloudflare_dns has no such option: its endpoint is the class attribute
CloudflareAPI.cf_api_endpoint = 'https://api.cloudflare.com/client/v4', so it cannot be
pointed at the fake and is reported as not measured. With --cg-patched-copy, a copy of
that module file whose only change is this one constant (set to the fake's loopback URL;
anything else is refused) is run instead and reported as such.

    .venv/bin/python bench/cloudflare.py --out .build/bench/cloudflare.json [--cg-patched-copy]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from fake_cloudflare import TEST_TOKEN, FakeCloudflare  # noqa: E402

BIN = Path(sys.executable).parent
ZONE = "example.com"
RECORD = "jupyter.example.com"
ADDRESSES = {"create": "192.0.2.10", "no-change": "192.0.2.10", "update": "192.0.2.11"}
CG_ENDPOINT = "cf_api_endpoint = 'https://api.cloudflare.com/client/v4'"
CG_REASON = (
    "community.general.cloudflare_dns has no option for the API endpoint (class attribute "
    "CloudflareAPI.cf_api_endpoint = https://api.cloudflare.com/client/v4): it cannot be pointed at the "
    "local fake, and the bench never lets it reach the network"
)

PLAYBOOK = """\
- name: Cloudflare record ({run})
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Point the name at the server
      {module}:
{args}
"""


def module_args(kind: str, url: str, value: str) -> dict[str, object]:
    args: dict[str, object] = {
        "zone": ZONE,
        "record": RECORD,
        "type": "A",
        "value": value,
        "proxied": True,
        "solo": True,
        "api_token": TEST_TOKEN,
    }
    if kind == "jupyter_edge":
        args["api_url"] = url
    return args


def run_playbook(workdir: Path, module: str, args: dict[str, object], run: str, env: dict[str, str]) -> dict:
    lines = "\n".join(f"        {k}: {json.dumps(v)}" for k, v in args.items())
    (workdir / "playbook.yml").write_text(PLAYBOOK.format(run=run, module=module, args=lines))
    cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "playbook.yml"]
    cmd += ["-e", f"ansible_python_interpreter={sys.executable}"]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False)
    seconds = time.monotonic() - start
    recap = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", proc.stdout.rsplit("PLAY RECAP", 1)[-1]))
    out = {"seconds": round(seconds, 2), "rc": proc.returncode, "changed": recap.get("changed")}
    if proc.returncode != 0:
        out["output_tail"] = (proc.stdout + proc.stderr)[-1500:]
    return out


def patched_copy(directory: Path, url: str) -> str:
    """Write community.general's module with only its endpoint constant changed; return the module name."""
    if urlsplit(url).hostname != "127.0.0.1":
        raise SystemExit(f"refusing to patch community.general's endpoint to a non-loopback URL: {url}")
    import ansible_collections.community.general as cg

    source = Path(list(cg.__path__)[0], "plugins", "modules", "cloudflare_dns.py").read_text()
    if source.count(CG_ENDPOINT) != 1:
        raise SystemExit("community.general.cloudflare_dns: endpoint constant not found exactly once; not patching")
    name = "cg_cloudflare_dns_loopback"
    (directory / f"{name}.py").write_text(source.replace(CG_ENDPOINT, f"cf_api_endpoint = {url!r}"))
    return name


def community_general_version() -> str:
    import ansible_collections.community.general as cg

    manifest = Path(list(cg.__path__)[0], "MANIFEST.json")
    return json.loads(manifest.read_text())["collection_info"]["version"]


def measure(fake: FakeCloudflare, kind: str, module: str, env: dict[str, str], workdir: Path, reps: int) -> list[dict]:
    """create, no-change, update from an empty zone, `reps` times; per run the median wall time."""
    by_run: dict[str, list[dict]] = {run: [] for run in ADDRESSES}
    for _ in range(reps):
        fake.reset()
        fake.add_zone(ZONE)
        for run, value in ADDRESSES.items():
            fake.clear_requests()
            result = run_playbook(workdir, module, module_args(kind, fake.url, value), run, env)
            requests = fake.api_requests()
            result |= {"api_requests": len(requests), "writes": len(fake.writes())}
            result["calls"] = [f"{r['method']} {r['path'].split('?')[0]}" for r in requests]
            records = [r["content"] for r in fake.list_records(fake.zone_id(ZONE), name=RECORD, type="A")]
            result["records_after"] = records
            by_run[run].append(result)
    runs = []
    for run, results in by_run.items():
        first = results[0]
        summary = {k: v for k, v in first.items() if k != "seconds"} | {"run": run}
        summary["seconds"] = statistics.median(r["seconds"] for r in results)
        summary["seconds_reps"] = [r["seconds"] for r in results]
        # The same input must cost the same requests every time; say so if not.
        summary["api_requests_reps"] = [r["api_requests"] for r in results]
        summary["rc"] = max(r["rc"] for r in results)
        runs.append(summary)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--reps", type=int, default=3, help="repetitions of the three runs (median wall time)")
    parser.add_argument(
        "--cg-patched-copy",
        action="store_true",
        help="measure community.general through a copy with only its endpoint constant set to the fake",
    )
    opts = parser.parse_args(argv)
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "installed"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
    )
    env.pop("CLOUDFLARE_TOKEN", None)
    result: dict[str, object] = {"zone": ZONE, "record": RECORD, "cg_version": community_general_version()}
    with tempfile.TemporaryDirectory(prefix="jupyter-edge-bench-cf.") as tmp, FakeCloudflare() as fake:
        workdir = Path(tmp)
        module = "jupyter_edge.deploy.cloudflare_dns"
        result["jupyter_edge"] = measure(fake, "jupyter_edge", module, env, workdir, opts.reps)
        if opts.cg_patched_copy:
            library = workdir / "library"
            library.mkdir()
            name = patched_copy(library, fake.url)
            cg_env = env | {"ANSIBLE_LIBRARY": str(library)}
            result["community_general"] = measure(fake, "community_general", name, cg_env, workdir, opts.reps)
            result["community_general_note"] = (
                "patched copy: community.general's module file with only CloudflareAPI.cf_api_endpoint set to the "
                "loopback fake (the module has no endpoint option)"
            )
        else:
            result["community_general"] = None
            result["community_general_note"] = CG_REASON
    Path(opts.out).write_text(json.dumps(result, indent=1) + "\n")
    failed = [r for r in result["jupyter_edge"] if r["rc"] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
