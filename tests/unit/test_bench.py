"""The pure parts of `make bench`: percentiles, proxy memory, and the judged targets."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# bench/client.py imports the client library by its collection name (here: .build, pyproject.toml).
sys.path[:0] = [str(ROOT / "bench")]

import client  # noqa: E402
import report  # noqa: E402


def test_percentile_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert client.percentile(values, 50) == 50
    assert client.percentile(values, 99) == 99
    assert client.percentile([7.0], 99) == 7
    assert client.percentile([], 50) is None


def test_a_scale_step_lasts_until_it_has_about_a_hundred_executions():
    import argparse

    o = argparse.Namespace(scale_seconds=10.0, scale_min_executions=100, scale_interval=1.0)
    assert [client.step_seconds(n, o) for n in (1, 10, 50, 100)] == [100.0, 10.0, 10.0, 10.0]


def test_proc_rss_kib():
    status = "Name:\tnginx\nVmPeak:\t  9000 kB\nVmRSS:\t    4321 kB\nRssAnon:\t 100 kB\n"
    assert client.proc_rss_kib(status) == 4321
    assert client.proc_rss_kib("Name:\tkthreadd\nState:\tS (sleeping)\n") == 0


def test_proxy_rss_kib_sums_matching_processes(tmp_path):
    def proc(pid, comm, cmdline, rss):
        d = tmp_path / str(pid)
        d.mkdir()
        (d / "comm").write_text(comm + "\n")
        (d / "cmdline").write_bytes(cmdline.replace(" ", "\0").encode() + b"\0")
        (d / "status").write_text(f"Name:\t{comm}\nVmRSS:\t{rss} kB\n")

    proc(10, "nginx", "nginx: master process /usr/sbin/nginx", 5000)
    proc(11, "nginx", "nginx: worker process", 3000)
    proc(20, "node", "node /opt/configurable-http-proxy/bin/configurable-http-proxy --port 8000", 80000)
    proc(21, "node", "node /srv/other.js", 50000)
    (tmp_path / "self").mkdir()
    assert client.proxy_rss_kib("nginx", "", str(tmp_path)) == (8000, 2)
    assert client.proxy_rss_kib("node", "configurable-http-proxy", str(tmp_path)) == (80000, 1)
    assert client.proxy_rss_kib("apache2", "", str(tmp_path)) == (0, 0)


def test_per_connection_kib():
    assert client.per_connection_kib(21000, 19000, 100) == 20.0
    assert client.per_connection_kib(None, 19000, 100) is None
    assert client.per_connection_kib(21000, 19000, 0) is None


def test_parallel_keeps_order_and_returns_exceptions():
    def fn(x):
        if x == 3:
            raise ValueError("three")
        return x * 2

    out = client.parallel(fn, [1, 2, 3, 4], workers=3)
    assert out[:2] == [2, 4] and out[3] == 8
    assert isinstance(out[2], ValueError)
    assert client.parallel(fn, [], workers=4) == []


def test_added_ms():
    assert report.added_ms(0.61, 0.51) == pytest.approx(0.10)
    assert report.added_ms(None, 0.51) is None
    assert report.signed(0.1) == "+0.100"


@pytest.mark.parametrize(
    ("p50", "stock", "tuned", "ok"),
    [
        (11.0, 48.0, 10.8, True),  # well under 0.30× stock, within 1.05× tuned
        (12.0, 48.0, 10.8, False),  # 1.11× tuned
        (11.0, 30.0, 10.8, False),  # 0.37× stock: the stock server did not stall much
        (11.0, None, 10.8, None),  # no stock measurement: not judged
    ],
)
def test_rtt_verdict(p50, stock, tuned, ok):
    assert report.rtt_verdict(p50, stock, tuned)["ok"] is ok


def step(n, p99, errors=0):
    return {"sessions": n, "p50_ms": p99 / 2, "p99_ms": p99, "errors": errors}


def test_scale_verdict():
    v = report.scale_verdict([step(1, 20), step(10, 22), step(100, 39)])
    assert v["ok"] is True and v["growth"] == pytest.approx(1.95)
    assert report.scale_verdict([step(1, 20), step(100, 41)])["ok"] is False
    assert report.scale_verdict([step(1, 20), step(100, 30, errors=1)])["ok"] is False
    # a step without any execution is a failure, not a shorter curve
    assert report.scale_verdict([step(1, 20), step(50, 25), {"sessions": 100, "errors": 100}])["ok"] is False
    assert report.scale_verdict([])["ok"] is None
    # a step left out by the scale deadline: not judged
    assert report.scale_verdict([step(1, 20), {"sessions": 100, "skipped": "scale deadline"}])["ok"] is None


def test_cpu_busy_reads_proc_stat(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    samples = iter(["cpu 100 0 100 700 100 0 0 0\n", "cpu 150 0 150 750 150 0 0 0\n"])

    def fake_sleep(_):
        stat.write_text(next(samples))

    stat.write_text("cpu 0 0 0 0 0 0 0 0\n")
    fake_sleep(0)
    monkeypatch.setattr(client.time, "sleep", fake_sleep)
    # 200 jiffies passed: 100 busy (user + system), 100 idle + iowait.
    assert client.cpu_busy(1, str(stat)) == 0.5
