"""Batch file scoring: throughput and peak memory against the pyarrow read+write floor.

    python benchmarks/bench_batch.py [--rows 2000000,8000000] [--peer-rows 20000]

For each generated CSV (20 numeric + 2 categorical columns) and each model (the logistic
regression and random forest documents of bench_pmml.py), prints rows/s and peak RSS of
portmodel --jobs 1 and --jobs N, of just reading and writing the same file with pyarrow (the
floor), of a stricter floor (read every row as text, write only the id and three columns),
and of pypmml / jpmml_evaluator scoring a pandas-read slice (rates per second).
Every measurement runs in a fresh process so peak RSS is its own.
Targets: peak RSS < 500 MB whatever the size; logistic regression >= 50% of the floor.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
sys.path.insert(0, str(HERE))

_MEASURE = textwrap.dedent("""
    import json, sys, time
    kind, model, inp, out, jobs = sys.argv[1:6]
    t = time.perf_counter()
    if kind == "floor":
        # the issue's floor: read the same file with pyarrow and write it back out
        import pyarrow.csv as c
        r = c.open_csv(inp, read_options=c.ReadOptions(block_size=1 << 20))
        w = None
        n = 0
        for b in r:
            if w is None:
                w = c.CSVWriter(out, b.schema)
            w.write_batch(b)
            n += b.num_rows
        w.close()
    elif kind == "floor_text":
        # a stricter floor: read every row as text (as portmodel reads it) and write an output
        # of portmodel's shape (the id and three more columns), with no number formatting
        import pyarrow as pa
        import pyarrow.csv as c
        names = open(inp).readline().strip().split(",")
        r = c.open_csv(inp, read_options=c.ReadOptions(block_size=1 << 20),
                       convert_options=c.ConvertOptions(
                           strings_can_be_null=True,
                           column_types={name: pa.string() for name in names}))
        w = None
        n = 0
        for b in r:
            b = b.select(names[:4])
            if w is None:
                w = c.CSVWriter(out, b.schema)
            w.write_batch(b)
            n += b.num_rows
        w.close()
    elif kind == "portmodel":
        from portmodel.batch import score_file
        n = score_file(model, inp, out, jobs=int(jobs), keep=["id"], progress=False).rows_read
    else:
        import pandas as pd
        df = pd.read_csv(inp, nrows=int(jobs))
        if kind == "pypmml":
            from pypmml import Model
            m = Model.fromFile(model)
            t = time.perf_counter()
            m.predict(df).to_csv(out, index=False)
        else:
            from jpmml_evaluator import make_evaluator
            ev = make_evaluator(model).verify()
            t = time.perf_counter()
            ev.evaluateAll(df).to_csv(out, index=False)
        n = len(df)
    dt = time.perf_counter() - t
    print(json.dumps({"rows": n, "seconds": dt}))
""")


def _tree_rss_mb(root: int) -> tuple[float, float]:
    """(RSS of root, RSS of all its descendants) in MB, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, list(children.get(root, []))
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return rss.get(root, 0) / 2**20, total / 2**20


def measure(kind: str, model: str, inp: str, out: str, jobs: int | str = 1) -> dict:
    """Run one measurement in a fresh process; peak RSS is sampled from /proc every 20 ms
    (the main process, and the sum over its worker processes)."""
    import time
    proc = subprocess.Popen([sys.executable, "-c", _MEASURE, kind, model, inp, out, str(jobs)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_main = peak_workers = 0.0
    while proc.poll() is None:
        main_mb, workers_mb = _tree_rss_mb(proc.pid)
        peak_main, peak_workers = max(peak_main, main_mb), max(peak_workers, workers_mb)
        time.sleep(0.02)
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        return {"error": stderr.strip().splitlines()[-1] if stderr.strip() else "failed"}
    result = json.loads(stdout.strip().splitlines()[-1])
    result.update(rss_mb=peak_main, child_rss_mb=peak_workers)
    return result


def make_csv(rows: int) -> Path:
    import bench_pmml
    import numpy as np
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"batch_{rows}.csv"
    if path.exists():
        return path
    chunk = 500_000
    with open(path, "w") as fh:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            X, _ = bench_pmml.make_data(n, seed=start)
            X.insert(0, "id", np.arange(start, start + n))
            X.to_csv(fh, index=False, header=start == 0, float_format="%.6g")
    return path


def main() -> None:
    import bench_pmml
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="2000000,8000000")
    ap.add_argument("--peer-rows", type=int, default=20_000)
    ap.add_argument("--models", default="lr,rf")
    args = ap.parse_args()
    X, y = bench_pmml.make_data(100_000)
    docs = {name: str(bench_pmml.fitted(name, X, y)[1]) for name in args.models.split(",")}
    ncpu = os.cpu_count() or 1
    print(f"{'rows':>9s} {'model':5s} {'run':18s} {'rows/s':>11s} {'% floor':>8s} {'RSS MB':>8s} "
          f"{'workers MB':>10s}")
    for rows in [int(r) for r in args.rows.split(",")]:
        inp = str(make_csv(rows))
        out = str(CACHE / "bench_out.csv")
        floor = measure("floor", "", inp, out)
        floor_rate = floor["rows"] / floor["seconds"]
        print(f"{rows:9d} {'-':5s} {'pyarrow read+write':18s} {floor_rate:11,.0f} {100:7.0f}% "
              f"{floor['rss_mb']:8.0f} {'':>10s}")
        strict = measure("floor_text", "", inp, out)
        strict_rate = strict["rows"] / strict["seconds"]
        print(f"{rows:9d} {'-':5s} {'text in, 4 cols out':18s} {strict_rate:11,.0f} "
              f"{100 * strict_rate / floor_rate:7.0f}% {strict['rss_mb']:8.0f} {'':>10s}")
        for name, doc in docs.items():
            for jobs in sorted({1, ncpu}):
                r = measure("portmodel", doc, inp, out, jobs)
                if "error" in r:
                    print(f"{rows:9d} {name:5s} portmodel -j{jobs}: {r['error']}")
                    continue
                rate = r["rows"] / r["seconds"]
                print(f"{rows:9d} {name:5s} {'portmodel --jobs ' + str(jobs):18s} {rate:11,.0f} "
                      f"{100 * rate / floor_rate:7.0f}% {r['rss_mb']:8.0f} "
                      f"{r['child_rss_mb'] if jobs > 1 else 0:10.0f}")
            if rows == int(args.rows.split(",")[0]):
                for peer in ("pypmml", "jpmml"):
                    r = measure(peer, doc, inp, out, args.peer_rows)
                    if "error" in r:
                        print(f"{rows:9d} {name:5s} {peer}: {r['error']}")
                        continue
                    rate = r["rows"] / r["seconds"]
                    print(f"{rows:9d} {name:5s} {peer + ' (pandas)':18s} {rate:11,.0f} "
                          f"{100 * rate / floor_rate:7.0f}% {r['rss_mb']:8.0f} {'':>10s}")
    if os.path.exists(CACHE / "bench_out.csv"):
        os.unlink(CACHE / "bench_out.csv")


if __name__ == "__main__":
    main()
