#!/usr/bin/env python3
"""Render the `make bench` results: a markdown table (bench/results.md) and one JSON document.

Inputs are the files scripts/bench.sh collects in one run: the load generator's JSON
(bench/client.py, run in the bench container), the converge timings (wall seconds and the
logs of the two runs, whose PLAY RECAP gives the changed count) and the Cloudflare JSON
(bench/cloudflare.py). Every ratio is against the direct connection in the same cell of
the same run. Targets are judged here, from the figures printed beside them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REFERENCE = "direct"  # the "jupyter-tuned" server: the role's defaults, TCP
STOCK = "direct-stock"  # the "jupyter-stock" server: kernel websockets without TCP_NODELAY
# hub-*: a JupyterHub user's server, through the hub's configurable-http-proxy and through nginx in front of it.
PROXIES = ("nginx", "apache", "chp", "hub-chp", "hub-nginx")
HTTP_KINDS = {"api": "api/status, logged in", "static": "static asset"}
WS_KINDS = {"ws_rtt": "execute_request round trip", "ws_stream": "streamed output"}
NGINX_MIN_RATE, NGINX_MAX_P50 = 0.95, 1.05
APACHE_MIN_RATE = 0.90
NGINX_API_ADDED_MS = 0.15  # nginx, API call at concurrency 1: p50 - direct p50
RTT_MAX_OF_STOCK, RTT_MAX_OF_TUNED = 0.30, 1.05  # proxied round-trip p50 against the direct servers' p50
SCALE_MAX_P99 = 2.0  # p99 at the largest step against p99 at the smallest
RECONVERGE_MAX = 0.20
CF_NO_CHANGE_MAX = 2


def recap_changed(log: Path) -> int | None:
    """changed= of the last PLAY RECAP of an Ansible log (summed over hosts)."""
    if not log.is_file():
        return None
    recap = log.read_text(errors="replace").rsplit("PLAY RECAP", 1)
    if len(recap) < 2:
        return None
    return sum(int(n) for n in re.findall(r"\bchanged=(\d+)", recap[1].split("\n\n", 1)[0]))


def playbook_seconds(log: Path) -> float | None:
    """Elapsed time of the playbook from profile_tasks' last timestamp line ('... 0:01:02.345 ****')."""
    if not log.is_file():
        return None
    stamps = re.findall(r"\)\s+(\d+):(\d+):(\d+(?:\.\d+)?) \*+$", log.read_text(errors="replace"), re.M)
    if not stamps:
        return None
    h, m, sec = stamps[-1]
    return int(h) * 3600 + int(m) * 60 + float(sec)


def slowest_tasks(log: Path, n: int) -> list[str]:
    """The first n lines of profile_tasks' summary: 'role : task ---- 1.23s'."""
    if not log.is_file():
        return []
    summary = log.read_text(errors="replace").rsplit("TASKS RECAP", 1)[-1]
    found = re.findall(r"^(.+?) -+ (\d+\.\d+)s$", summary, re.M)
    return [f"{name.split(' : ', 1)[-1]} ({sec} s)" for name, sec in found[:n]]


def fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.{digits}f}"


def ratio(value: float | None, ref: float | None) -> float | None:
    return None if value is None or not ref else value / ref


def fx(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def calls(requests: list[str]) -> str:
    """'GET /client/v4/zones/<id>/dns_records' -> 'GET dns_records', repeats counted."""
    short = [re.sub(r"^(\w+) /client/v4/(?:zones/[0-9a-f]+/)?([a-z_]+)(?:/[0-9a-f]+)?$", r"\1 \2", c) for c in requests]
    out: list[str] = []
    for c in short:
        if out and out[-1].split(" ×")[0] == c:
            n = int(out[-1].split(" ×")[1]) + 1 if " ×" in out[-1] else 2
            out[-1] = f"{c} ×{n}"
        else:
            out.append(c)
    return ", ".join(out)


def added_ms(p50: float | None, ref_p50: float | None) -> float | None:
    """What a hop adds to the median: p50 - direct p50 (ms), None when either is missing."""
    return None if p50 is None or ref_p50 is None else p50 - ref_p50


def signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.3f}"


def rtt_verdict(p50: float | None, stock_p50: float | None, tuned_p50: float | None) -> dict[str, Any]:
    """A proxied round trip against both direct servers of the same run: p50 ≤ 0.30× stock and ≤ 1.05× tuned."""
    of_stock, of_tuned = ratio(p50, stock_p50), ratio(p50, tuned_p50)
    ok = None if of_stock is None or of_tuned is None else of_stock <= RTT_MAX_OF_STOCK and of_tuned <= RTT_MAX_OF_TUNED
    return {"of_stock": of_stock, "of_tuned": of_tuned, "ok": ok}


def scale_verdict(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """p99 at the largest step ≤ 2× p99 at the smallest, and no error in any step."""
    measured = [s for s in steps if s.get("p99_ms") is not None]
    if any(s.get("skipped") for s in steps):
        return {"first": measured[0] if measured else None, "last": None, "growth": None, "errors": 0, "ok": None}
    errors = sum(int(s.get("errors") or 0) for s in steps)
    if len(measured) < 2:
        return {"first": None, "last": None, "growth": None, "errors": errors, "ok": None if not steps else False}
    first, last = measured[0], measured[-1]
    growth = ratio(last["p99_ms"], first["p99_ms"])
    ok = growth is not None and growth <= SCALE_MAX_P99 and errors == 0 and len(measured) == len(steps)
    return {"first": first, "last": last, "growth": growth, "errors": errors, "ok": ok}


def spread(rates: list[float]) -> str:
    """Range of the per-round rates relative to their median: how noisy the cell was."""
    if len(rates) < 2:
        return "n/a"
    mid = sorted(rates)[len(rates) // 2]
    return "n/a" if not mid else f"±{(max(rates) - min(rates)) / mid / 2 * 100:.0f}%"


class Report:
    def __init__(self, load: dict[str, Any], converge: dict[str, Any], cloudflare: dict[str, Any]) -> None:
        self.load = load
        self.converge = converge
        self.cf = cloudflare
        self.cells: dict[str, dict[str, Any]] = load.get("cells", {})
        self.targets_order = list(load.get("targets", {}))
        self.checks: list[dict[str, Any]] = []
        self.lines: list[str] = []

    # -- helpers --------------------------------------------------------------------

    def cell(self, key: str) -> dict[str, Any] | None:
        return self.cells.get(key)

    def ratios(self, prefix: str, target: str) -> tuple[float | None, float | None, float | None]:
        cell, ref = self.cell(f"{prefix}/{target}"), self.cell(f"{prefix}/{REFERENCE}")
        if not cell or not ref:
            return None, None, None
        return (
            ratio(cell["rate"], ref["rate"]),
            ratio(cell["p50_ms"], ref["p50_ms"]),
            ratio(cell["p99_ms"], ref["p99_ms"]),
        )

    def check(self, name: str, measured: str, ok: bool | None, note: str = "") -> None:
        result = "n/a" if ok is None else ("PASS" if ok else "FAIL")
        self.checks.append({"target": name, "measured": measured, "result": result, "note": note})

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self.lines.append("| " + " | ".join(header) + " |")
        self.lines.append("|" + "|".join("---" for _ in header) + "|")
        self.lines.extend("| " + " | ".join(row) + " |" for row in rows)
        self.lines.append("")

    def error_of(self, target: str) -> str | None:
        info = self.load.get("targets", {}).get(target, {})
        return info.get("error") or info.get("ws_error")

    # -- sections -------------------------------------------------------------------

    def placement(self) -> str:
        client, cpus = self.load.get("client_cpus"), self.load.get("cpus") or 1
        if not client or len(client) >= cpus:
            return " No CPU placement: Jupyter, proxies and load generator share every CPU."
        return (
            f" CPU placement: load generator and proxies on CPU {','.join(map(str, client))}, Jupyter and its "
            "kernels on the other(s), for every path alike."
        )

    def header(self) -> None:
        v = self.load.get("versions", {})
        s = self.load.get("settings", {})
        before, after = self.load.get("load_before", [0]), self.load.get("load_after", [0])
        cpus = self.load.get("cpus") or 1
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        self.lines += [
            "# `make bench` results",
            "",
            f"One run, one machine ({cpus} CPUs), {when}. Jupyter Server {v.get('jupyter_server', '?')}, "
            f"{v.get('nginx', 'nginx ?')}, {v.get('apache', 'Apache ?')}, "
            f"configurable-http-proxy {v.get('chp', '?')} on Node.js {v.get('node', '?')}; load generator: Python "
            f"{v.get('python_client', '?')} in the same container, plain HTTP on 127.0.0.1 with the public Host name."
            + self.placement(),
            f"{self.load.get('rounds_done', '?')} rounds; in each, every cell lets all paths take turns in short "
            f"slices ({s.get('cycles', '?')} cycles, order rotated, HTTP slices of {s.get('http_slice', '?')} s), "
            "connections kept open and warmed up first, so that all paths see the same background load. "
            "Rate = all that was measured / time measuring; p50/p99 over every sample; ×direct = ratio to the "
            "direct connection in the same row group; rounds = the range of that ratio over the rounds "
            "(for direct: half the range of its per-round rate). Method: bench/README.md.",
            f"Load average (1 min) in the container: {before[0]:.2f} before, {after[0]:.2f} after"
            + (" — the machine was busy: expect noise." if max(before[0], after[0]) > cpus else "."),
            "",
        ]

    def http(self) -> None:
        self.lines += ["## HTTP", ""]
        asset = self.load.get("asset", {})
        self.lines += [
            f"Static asset: `{asset.get('path', '?')}` ({asset.get('bytes', 0) / 1024:.0f} KiB, JupyterLab's "
            "main bundle, the first script a browser loads); API call: "
            f"`GET {self.load.get('api', {}).get('path', '?')}` with the login cookie.",
            "",
        ]
        rows = []
        for kind, label in HTTP_KINDS.items():
            for conc in self.load.get("settings", {}).get("concurrency", [1, 16]):
                for t in self.targets_order:
                    if not self.load["targets"][t].get("rtt_only"):
                        rows.append(self.row(f"{kind}/c{conc}", t, [label, str(conc)]))
        header = ["request", "conc.", "path", "req/s", "×direct", "p50 ms", "×direct", "+p50 ms", "p99 ms", "×direct"]
        self.table(header + ["rounds", "errors"], rows)
        self.lines += [
            "+p50 ms: what the path adds to the median request, p50 minus direct p50 in the same cell. One hop "
            "cannot be free: a proxy reads the request, opens or reuses a connection to Jupyter, writes it there "
            "and copies the answer back, two more socket round trips through the kernel on this host.",
            "",
        ]

    def row(self, prefix: str, target: str, first: list[str], digits: int = 2, added: bool = True) -> list[str]:
        cell = self.cell(f"{prefix}/{target}")
        if not cell:
            why = self.error_of(target) or "not measured"
            return [*first, target, f"n/a ({why})"] + [""] * (8 if added else 7)
        r_rate, r_p50, r_p99 = self.ratios(prefix, target)
        ref = self.cell(f"{prefix}/{REFERENCE}")
        plus = [signed(added_ms(cell["p50_ms"], ref["p50_ms"] if ref else None))] if added else []
        return [
            *first,
            target,
            fmt(cell["rate"], digits),
            fx(r_rate),
            fmt(cell["p50_ms"]),
            fx(r_p50),
            *plus,
            fmt(cell["p99_ms"]),
            fx(r_p99),
            self.round_range(prefix, target),
            str(cell["errors"]),
        ]

    def round_range(self, prefix: str, target: str) -> str:
        """Direct: the spread of its per-round rates; others: the range of their per-round ratios to direct."""
        cell, ref = self.cell(f"{prefix}/{target}"), self.cell(f"{prefix}/{REFERENCE}")
        if target == REFERENCE or not cell or not ref:
            return spread(cell["rate_rounds"]) if cell else "n/a"
        pairs = [a / b for a, b in zip(cell["rate_rounds"], ref["rate_rounds"], strict=False) if b]
        if len(pairs) < 2:
            return "n/a"
        return f"{min(pairs):.2f}–{max(pairs):.2f}×"

    def websocket(self) -> None:
        self.lines += ["## WebSocket (kernel channels)", ""]
        mib = self.load.get("stream_bytes", 0) >> 20
        self.lines += [
            "Round trip: `execute_request` of `pass`, from sending it to receiving both `execute_reply` and "
            "the `idle` status. Streamed output: the kernel writes "
            f"{mib} MiB to stdout per execution; rate = MiB received per second, p50/p99 = time per execution.",
            "",
        ]
        rows = []
        for kind, label in WS_KINDS.items():
            unit = "MiB/s" if kind == "ws_stream" else "/s"
            for t in self.targets_order:
                if self.load["targets"][t].get("http_only"):
                    continue
                if kind == "ws_stream" and self.load["targets"][t].get("rtt_only"):
                    continue
                row = self.row(kind, t, [label], digits=1, added=False)
                if self.cell(f"{kind}/{t}"):
                    row[2] += f" {unit}"
                rows.append(row)
        header = ["measurement", "path", "rate", "×direct", "p50 ms", "×direct", "p99 ms", "×direct"]
        self.table(header + ["rounds", "errors"], rows)

    def rtt_section(self) -> None:
        """Round trip per path against both direct servers (stock: no TCP_NODELAY; tuned: the role's default)."""
        stock, tuned = self.cell(f"ws_rtt/{STOCK}"), self.cell(f"ws_rtt/{REFERENCE}")
        stock_p50 = stock["p50_ms"] if stock else None
        tuned_p50 = tuned["p50_ms"] if tuned else None
        self.lines += [
            "## Round trip per path",
            "",
            "The `execute_request` round trip of the table above, per path, against both direct servers of this "
            "run: **direct-stock** (Jupyter as shipped: kernel websockets without TCP_NODELAY, where a reply "
            "can wait for the peer's delayed ACK) and **direct** (the role's default, TCP_NODELAY on). "
            f"Target for a proxied path: p50 ≤ {RTT_MAX_OF_STOCK:.2f}× direct-stock and ≤ {RTT_MAX_OF_TUNED:.2f}× "
            f"direct. {self.default_server()}",
            "",
        ]
        rows = []
        for t in [STOCK, REFERENCE, *PROXIES]:
            cell = self.cell(f"ws_rtt/{t}")
            if not cell:
                if t in self.load.get("targets", {}) or t.startswith("hub"):
                    why = self.error_of(t) or "not measured"
                    rows.append([t, f"n/a ({why})", "", "", "", ""])
                continue
            v = rtt_verdict(cell["p50_ms"], stock_p50, tuned_p50)
            rows.append(
                [t, fmt(cell["p50_ms"]), fmt(cell["p99_ms"]), fx(v["of_stock"]), fx(v["of_tuned"]), str(cell["errors"])]
            )
            if t in PROXIES:
                note = ""
                if stock_p50 is not None and tuned_p50 and stock_p50 < 2 * tuned_p50:
                    note = " (direct-stock showed no delayed-ACK stall in this run)"
                self.check(
                    f"{t} round trip: p50 ≤ {RTT_MAX_OF_STOCK:.2f}× direct-stock and ≤ {RTT_MAX_OF_TUNED:.2f}× direct",
                    f"{fmt(cell['p50_ms'])} ms: {fx(v['of_stock'])} stock ({fmt(stock_p50)} ms), {fx(v['of_tuned'])} "
                    f"direct ({fmt(tuned_p50)} ms)" + (f", {cell['errors']} errors" if cell["errors"] else "") + note,
                    None if v["ok"] is None else v["ok"] and not cell["errors"],
                )
        self.table(["path", "p50 ms", "p99 ms", "×direct-stock p50", "×direct p50", "errors"], rows)

    def default_server(self) -> str:
        how = self.load.get("default_server")
        if not how:
            return ""
        return (
            f"nginx and Apache reach the default stack's Jupyter server over {how}; CHP reaches the direct server; "
            "hub-chp and hub-nginx reach a JupyterHub user's server (jupyterhub-singleuser, spawned by the hub, "
            "TCP with the jupyterhub role's TCP_NODELAY) through the hub's CHP, and through nginx in front of it."
        )

    def scale_section(self) -> None:
        sc = self.load.get("scale")
        self.lines += ["## Scale: concurrent sessions per proxy", ""]
        if not sc:
            self.lines += ["Not measured (the load generator ran without --scale).", ""]
            self.check(f"scale: p99 at the largest step ≤ {SCALE_MAX_P99:.0f}× p99 at 1 session, 0 errors", "n/a", None)
            return
        pools = "; ".join(
            f"{p['started']} via {p['via']} in {p['seconds']:.0f} s"
            + (f" ({p['replaced']} replaced)" if p.get("replaced") else "")
            + (f", {p['failed']} failed" if p.get("failed") else "")
            + (
                f", then {p['settle_seconds']:.0f} s until the CPUs were quiet "
                f"({p['busy_after_settle'] * 100:.0f}% busy)"
                if p.get("settle_seconds") is not None
                else ""
            )
            for p in sc.get("kernel_pools", [])
        )
        self.lines += [
            f"For {', '.join(map(str, sc['steps']))} sessions: each session has its own kernel and an open kernel "
            f"websocket (the proxy's login cookie) and executes `pass` every {sc['interval']:g} s, starts spread "
            f"over the interval, for {sc['seconds_per_step']:g} s per step, longer where that gives fewer than "
            f"{sc.get('min_executions', 0)} executions (after one execution per socket, not counted). p50/p99 over "
            "every execution of the step, so that even at 1 session p99 is not the slowest of a handful. "
            "Memory: RSS of the proxy's processes (nginx master and workers, every apache2 process, CHP's node "
            "process) with the step's sessions open, minus the RSS before the proxy's first step, divided by the "
            f"sessions. Kernels: {pools or 'n/a'}; paths to the same Jupyter server share them. The direct rows "
            "(no proxy) show what Jupyter and its kernels, all on one CPU, do at each step. "
            f"The scale part took {sc.get('elapsed', 0):.0f} s.",
            "",
        ]
        rows = []
        direct = {s["sessions"]: s for s in sc.get("proxies", {}).get(REFERENCE, {}).get("steps", [])}
        for name, per in sc.get("proxies", {}).items():
            steps = per.get("steps", [])
            base = next((s["p99_ms"] for s in steps if s.get("p99_ms") is not None), None)
            for st in steps:
                if st.get("skipped"):
                    rows.append([name, str(st["sessions"]), f"not measured ({st['skipped']})"] + [""] * 8)
                    continue
                rss = st.get("rss_open_kib")
                ref = direct.get(st["sessions"], {})
                rows.append(
                    [
                        name,
                        str(st["sessions"]),
                        str(st.get("executions", 0)),
                        fmt(st.get("p50_ms")),
                        fmt(st.get("p99_ms")),
                        fx(ratio(st.get("p99_ms"), base)),
                        fx(ratio(st.get("p99_ms"), ref.get("p99_ms"))),
                        str(st.get("errors", 0)) + (f" ({st['first_error']})" if st.get("first_error") else ""),
                        "n/a" if rss is None else f"{rss / 1024:.1f} ({st.get('processes')})",
                        fmt(st.get("rss_per_connection_kib"), 1),
                    ]
                )
            if name == REFERENCE:
                continue  # the reference: what Jupyter and the kernels do without a proxy
            v = scale_verdict(steps)
            first, last = v["first"], v["last"]
            self.check(
                f"{name} scale: p99 at {last['sessions'] if last else '?'} sessions ≤ {SCALE_MAX_P99:.0f}× p99 at "
                f"{first['sessions'] if first else '?'}, 0 errors",
                "n/a (a step was skipped)"
                if not first or not last
                else f"{fmt(last['p99_ms'])} ms vs {fmt(first['p99_ms'])} ms: {fx(v['growth'])}, {v['errors']} errors",
                v["ok"],
            )
        header = ["path", "sessions", "executions", "p50 ms", "p99 ms", "p99 ×1 session", "p99 ×direct", "errors"]
        self.table(header + ["proxy RSS MiB (processes)", "KiB per connection"], rows)

    def converge_section(self) -> None:
        c = self.converge
        first_log, again_log = Path(c.get("first_log", "")), Path(c.get("again_log", ""))
        first_play, again_play = playbook_seconds(first_log), playbook_seconds(again_log)
        first_changed, again_changed = recap_changed(first_log), recap_changed(again_log)
        share = ratio(again_play, first_play)
        share_wall = ratio(c.get("again_seconds"), c.get("first_seconds"))
        self.lines += [
            "## Converge: the default stack (jupyter + nginx_proxy), fresh container",
            "",
            "`molecule converge` in a new container, then again. Wall time: the whole molecule command; playbook: "
            "from the playbook's start to its end (profile_tasks), without molecule's own start-up. Downloads come "
            "from the shared apt/pip caches when they are warm.",
            "",
        ]
        rows = [
            ["first converge", f"{fmt(c.get('first_seconds'), 1)} s", f"{fmt(first_play, 1)} s", "100%"]
            + [str(first_changed)],
            ["re-converge (idempotence)", f"{fmt(c.get('again_seconds'), 1)} s", f"{fmt(again_play, 1)} s"]
            + [f"{share * 100:.0f}% ({share_wall * 100:.0f}% of wall)" if share and share_wall else "n/a"]
            + [str(again_changed)],
        ]
        self.table(["run", "wall time", "playbook", "of first", "changed"], rows)
        slowest = slowest_tasks(again_log, 3)
        if slowest:
            self.lines += ["Slowest tasks of the re-converge: " + "; ".join(slowest) + ".", ""]
        ok = None if share is None or again_changed is None else share <= RECONVERGE_MAX and again_changed == 0
        self.check(
            "re-converge ≤ 20% of the first converge's time (playbook), 0 changed",
            f"{share * 100:.0f}% ({fmt(again_play, 1)} s of {fmt(first_play, 1)} s), changed={again_changed}"
            if share
            else "n/a",
            ok,
        )

    def cloudflare(self) -> None:
        cf = self.cf
        self.lines += [
            "## Cloudflare DNS record against the local fake API (127.0.0.1)",
            "",
            f"One task: A record `{cf.get('record')}` in zone `{cf.get('zone')}`, proxied, solo; runs from an empty "
            "zone: create, the same again (no change), a new address (update). API requests from the fake's log; "
            "wall time of the whole `ansible-playbook` process (median of repetitions; Ansible start-up included).",
            "",
        ]
        rows = []
        for label, key in (
            ("jupyter_edge.deploy.cloudflare_dns", "jupyter_edge"),
            (f"community.general.cloudflare_dns {cf.get('cg_version', '')}", "community_general"),
        ):
            runs = cf.get(key)
            if not runs:
                rows.append([label, "all", "not measured", "", "", cf.get("community_general_note", "")])
                continue
            if key == "community_general":
                label += " (patched copy, see below)"
            for r in runs:
                reps = set(r.get("api_requests_reps", [r["api_requests"]]))
                flag = "" if len(reps) == 1 else f" (varied: {sorted(reps)})"
                wall = f"{r['seconds']:.2f} s" + ("" if r["rc"] == 0 else f" (rc={r['rc']})")
                rows.append([label, r["run"], f"{r['api_requests']}{flag}", str(r["writes"]), wall, calls(r["calls"])])
        self.table(["module", "run", "API requests", "writes", "wall time", "requests sent"], rows)
        if cf.get("community_general"):
            self.lines += [f"community.general: {cf.get('community_general_note', '')}.", ""]
        no_change = next((r for r in cf.get("jupyter_edge") or [] if r["run"] == "no-change"), None)
        self.check(
            "Cloudflare no-change run ≤ 2 API requests (jupyter_edge.deploy.cloudflare_dns)",
            "n/a" if no_change is None else f"{no_change['api_requests']} requests, {no_change['writes']} writes",
            None if no_change is None else no_change["api_requests"] <= CF_NO_CHANGE_MAX and no_change["rc"] == 0,
        )

    def targets(self) -> None:
        forwarding = [("api/c1", "api/status c1"), ("api/c16", "api/status c16")]
        forwarding += [("ws_rtt", "ws round trip"), ("ws_stream", "ws streamed output")]
        static = [("static/c1", "static c1"), ("static/c16", "static c16")]
        # At concurrency 1 a ratio only restates that one hop is not free: judged in added milliseconds.
        api, ref = self.cell("api/c1/nginx"), self.cell(f"api/c1/{REFERENCE}")
        plus = added_ms(api["p50_ms"], ref["p50_ms"]) if api and ref else None
        r_rate, r_p50, _ = self.ratios("api/c1", "nginx")
        self.check(
            f"nginx api/status c1: added p50 ≤ {NGINX_API_ADDED_MS} ms",
            "not measured"
            if plus is None
            else f"{signed(plus)} ms ({fmt(api['p50_ms'])} vs {fmt(ref['p50_ms'])} ms; {fx(r_p50)} p50, "
            f"{fx(r_rate)} rate)" + (f", {api['errors']} errors" if api["errors"] else ""),
            plus is not None and plus <= NGINX_API_ADDED_MS and not api["errors"],
        )
        nginx_rules = [(p, lbl, "≥ 0.95× direct rate, ≤ 1.05× p50", False) for p, lbl in forwarding[1:]]
        nginx_rules += [(p, lbl, "faster than direct (rate > 1×, p50 < 1×)", True) for p, lbl in static]
        for prefix, label, rule, faster in nginx_rules:
            cell = self.cell(f"{prefix}/nginx")
            if not cell:
                self.check(f"nginx {label}: {rule}", "not measured", False)
                continue
            r_rate, r_p50, _ = self.ratios(prefix, "nginx")
            if r_rate is None or r_p50 is None:
                ok = False
            elif faster:
                ok = r_rate > 1 and r_p50 < 1
            else:
                ok = r_rate >= NGINX_MIN_RATE and r_p50 <= NGINX_MAX_P50
            errors = cell["errors"]
            self.check(
                f"nginx {label}: {rule}",
                f"{fx(r_rate)} rate, {fx(r_p50)} p50" + (f", {errors} errors" if errors else ""),
                ok and not errors,
            )
        # At concurrency 1 Apache, like nginx, is judged by what it adds (reported; the target is nginx's).
        api, ref = self.cell("api/c1/apache"), self.cell(f"api/c1/{REFERENCE}")
        plus = added_ms(api["p50_ms"], ref["p50_ms"]) if api and ref else None
        r_rate, r_p50, _ = self.ratios("api/c1", "apache")
        self.check(
            "apache api/status c1: added p50 (reported, no target)",
            "not measured" if plus is None else f"{signed(plus)} ms ({fx(r_p50)} p50, {fx(r_rate)} rate)",
            None if api and not api["errors"] else False,
        )
        for prefix, label in forwarding[1:2] + static + forwarding[2:]:
            if not self.cell(f"{prefix}/apache"):
                self.check(f"apache {label}: ≥ 0.9× direct rate", "not measured", False)
                continue
            r_rate, r_p50, _ = self.ratios(prefix, "apache")
            errors = self.cell(f"{prefix}/apache")["errors"]
            self.check(
                f"apache {label}: ≥ 0.9× direct rate",
                f"{fx(r_rate)} rate ({fx(r_p50)} p50)" + (f", {errors} errors" if errors else ""),
                r_rate is not None and r_rate >= APACHE_MIN_RATE and not errors,
            )
        self.check("chp: measured for comparison (no target)", "see the tables", None)

    def render(self) -> str:
        self.header()
        self.http()
        self.websocket()
        self.rtt_section()
        self.scale_section()
        self.targets()
        self.converge_section()
        self.cloudflare()
        body, self.lines = self.lines, []
        passed = sum(c["result"] == "PASS" for c in self.checks)
        failed = sum(c["result"] == "FAIL" for c in self.checks)
        self.lines += ["## Targets", "", f"{passed} passed, {failed} failed.", ""]
        self.table(["target", "measured", "result"], [[c["target"], c["measured"], c["result"]] for c in self.checks])
        return "\n".join(body[:1] + body[1:] + self.lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--load", required=True, help="bench/client.py JSON")
    p.add_argument("--converge", required=True, help="JSON: first_seconds, first_log, again_seconds, again_log")
    p.add_argument("--cloudflare", required=True, help="bench/cloudflare.py JSON")
    p.add_argument("--markdown", required=True, help="write the markdown here")
    p.add_argument("--json", help="write everything (inputs and targets) here")
    o = p.parse_args(argv)
    inputs = {}
    for name in ("load", "converge", "cloudflare"):
        path = Path(getattr(o, name))
        inputs[name] = json.loads(path.read_text()) if path.is_file() else {}
    report = Report(inputs["load"], inputs["converge"], inputs["cloudflare"])
    text = report.render()
    Path(o.markdown).write_text(text)
    if o.json:
        Path(o.json).write_text(json.dumps(inputs | {"targets": report.checks}, indent=1) + "\n")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
