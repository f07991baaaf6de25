"""The serving benchmark reads wrk's --latency report right (wrk 4.1's output format)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import bench_serve  # noqa: E402

REPORT = """Running 10s test @ http://127.0.0.1:8080/models/lr
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.21ms    2.02ms  45.61ms   96.12%
    Req/Sec     3.38k     1.30k    7.61k    82.50%
  Latency Distribution
     50%  912.00us
     75%    1.10ms
     90%    1.62ms
     99%   12.19ms
  33716 requests in 10.00s, 9.14MB read
  Non-2xx or 3xx responses: 3
  Socket errors: connect 0, read 1, write 0, timeout 2
Requests/sec:   3371.42
Transfer/sec:      0.91MB
"""


def test_parse_wrk_report():
    r = bench_serve.parse_wrk(REPORT)
    assert r["rps"] == pytest.approx(3371.42)
    assert r["p50"] == pytest.approx(0.912) and r["p99"] == pytest.approx(12.19)
    assert r["failed"] == 3 + 1 + 2
    assert r["ok"] == 33716 - 3


def test_parse_wrk_seconds_and_clean_run():
    text = REPORT.replace("12.19ms", "1.05s").replace("  Non-2xx or 3xx responses: 3\n", "")
    text = text.replace("  Socket errors: connect 0, read 1, write 0, timeout 2\n", "")
    r = bench_serve.parse_wrk(text)
    assert r["p99"] == pytest.approx(1050.0) and r["failed"] == 0 and r["ok"] == 33716


def test_parse_wrk_refuses_other_output():
    with pytest.raises(RuntimeError):
        bench_serve.parse_wrk("wrk: connection refused\n")
