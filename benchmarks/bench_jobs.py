"""On-demand latency while a batch job runs: p99 of single-record requests, idle vs. during a
1M-row job scored by the same service.

    python benchmarks/bench_jobs.py [--rows 1000000] [--seconds 10] [--workers 1] [--model PATH]

Starts ``portmodel serve`` on a free loopback port with a jobs root in a temporary folder,
deploys the model (default samples/iris_forest.pmml), writes a CSV of --rows rows (the iris
sample repeated), then measures one closed-loop client (keep-alive connection, one record per
request) for --seconds while idle, and again while the job runs (the job runs in its own
process at niceness 10, see portmodel/serving/jobs.py). Prints requests/s, p50 and p99 of both
runs, their ratio, and the job's rows/s. Target: p99 during the job within 2x of idle.
On a shared machine the figures follow the share of the cores the run gets.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "bench-admin-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(conn: http.client.HTTPConnection, method: str, path: str, body: dict | None = None,
            admin: bool = False) -> tuple[int, dict]:
    headers = {"content-type": "application/json"}
    if admin:
        headers["authorization"] = f"Bearer {ADMIN}"
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, json.loads(data) if data else {}


def measure(port: int, record: dict, seconds: float, until=None) -> dict:
    """One closed-loop client for ``seconds`` (or until ``until()`` is false)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps(record)
    lat = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and (until is None or until()):
        t = time.perf_counter()
        conn.request("POST", "/models/bench", body=body,
                     headers={"content-type": "application/json"})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError(f"scoring answered {r.status}")
        lat.append((time.perf_counter() - t) * 1000)
    conn.close()
    a = np.array(lat)
    spent = seconds if until is None else max(sum(lat) / 1000, 1e-9)
    return {"n": a.size, "rps": a.size / spent, "p50": float(np.percentile(a, 50)),
            "p99": float(np.percentile(a, 99))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--model", default=str(ROOT / "samples" / "iris_forest.pmml"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    try:
        data = work / "data"
        data.mkdir()
        iris = pacsv.read_csv(ROOT / "samples" / "iris.csv")
        reps = -(-args.rows // iris.num_rows)
        pacsv.write_csv(pa.concat_tables([iris] * reps).slice(0, args.rows), data / "in.csv")
        record = {k: v for k, v in iris.slice(0, 1).to_pylist()[0].items() if k != "species"}
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "portmodel", "serve", "--port", str(port),
                                 "--repo", str(work / "repo"), "--admin-token", ADMIN,
                                 "--workers", str(args.workers), "--jobs-root", str(data),
                                 "--model", f"bench={args.model}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True, cwd=ROOT)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    if request(c, "GET", "/v2/health/ready")[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the service did not start")
                time.sleep(0.2)
            measure(port, record, 2)                      # warm-up, untimed
            idle = measure(port, record, args.seconds)
            admin = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status, job = request(admin, "POST", "/jobs", {
                "model": "bench", "input": str(data / "in.csv"),
                "output": str(data / "out.csv")}, admin=True)
            assert status == 202, job
            while request(admin, "GET", f"/jobs/{job['id']}", admin=True)[1]["state"] != "running":
                time.sleep(0.05)
            time.sleep(1)                                 # the child has started scoring

            def running() -> bool:
                return request(admin, "GET", f"/jobs/{job['id']}", admin=True)[1]["state"] \
                    == "running"
            checks = {"t": 0.0, "ok": True}

            def still() -> bool:                          # ask the service at most 4x/s
                now = time.perf_counter()
                if now - checks["t"] > 0.25:
                    checks["t"], checks["ok"] = now, running()
                return checks["ok"]
            busy = measure(port, record, args.seconds, still)
            while True:
                final = request(admin, "GET", f"/jobs/{job['id']}", admin=True)[1]
                if final["state"] not in ("queued", "running"):
                    break
                time.sleep(0.2)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        print(f"On-demand scoring, one closed-loop client ({os.cpu_count()} cores; "
              f"the machine may be shared with other work)")
        print(f"  {'':<22} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
        for label, r in (("idle", idle), (f"during {args.rows:,}-row job", busy)):
            print(f"  {label:<22} {r['n']:>9} {r['rps']:>8.0f} {r['p50']:>8.2f} {r['p99']:>8.2f}")
        ratio = busy["p99"] / idle["p99"]
        print(f"  p99 during / idle: {ratio:.2f}x (target <= 2x: {'met' if ratio <= 2 else 'NOT met'})")
        print(f"  job: {final['state']}, {final['rows_read']:,} rows in {final['seconds']:.1f} s "
              f"({final['rows_per_second'] or 0:,.0f} rows/s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
