"""PFA engine benchmark: portmodel per-record and batch vs titus2, side by side.

    python benchmarks/bench_pfa.py [--records 100000] [--titus-records 20000]

Documents (see pfa_docs.py): a logistic regression (model.reg.linear + m.link.logit over a
10-field record) and a depth-10 decision tree (model.tree.simpleWalk + simpleTest). Rates are
records per second. "per-record" calls ``model.action(record)`` in a loop, "batch" calls
``model.predict(DataFrame)`` (the numpy batch path). titus2 is timed per record on a subset
(it is slow) and reported as a rate; it needs two shims under NumPy 2 (numpy.float_ and
inspect.getargspec). Targets from the issue: per-record >= 3x titus2, batch >= 50x titus2.

A second table scores the documents exporters write for records that also carry strings, an
enum, a boolean, a nullable double and an array (pfa_docs.MIXED_DOCS: one-hot and ordinal-coded
categoricals, imputed nulls, string tree tests, softmax with record and map outputs, a neural
network, k-means; and pfa_docs.MODEL_DOCS, the exporter's shapes of an RBF support vector
machine, Gaussian naive Bayes and k nearest neighbours over the same features) and prints titus2 per record, portmodel per record, portmodel columns and,
where pmml_equivalents.py has the same model as PMML (every document but "array functions"),
the PMML path. Targets: columns >= 50x
titus2 and >= 0.5x the PMML path.
"""
from __future__ import annotations

import argparse
import inspect
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pfa_docs import (MIXED_DOCS, MODEL_DOCS, logistic_regression_doc, mixed_records,  # noqa: E402
                      records, tree_doc)
from pmml_equivalents import PMML_EQUIVALENTS  # noqa: E402

import portmodel  # noqa: E402


def load_titus():
    if not hasattr(np, "float_"):
        np.float_ = np.float64
    if not hasattr(inspect, "getargspec"):
        inspect.getargspec = inspect.getfullargspec
    try:
        from titus.genpy import PFAEngine
    except Exception as exc:  # titus2 is optional
        print(f"titus2 not available ({type(exc).__name__}: {exc}); skipping its column")
        return None
    return PFAEngine


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def bench(name: str, doc: dict, recs: list[dict], df: pd.DataFrame, titus_n: int,
          PFAEngine) -> dict:
    model = portmodel.load(doc)
    assert model.has_batch_path, f"{name}: expected the batch path"
    action = model.action
    action(recs[0])
    t = time.perf_counter()
    per_record = [action(r) for r in recs]
    t_rec = time.perf_counter() - t
    model.predict(df.iloc[:1000])
    t = time.perf_counter()
    batch = model.predict(df)["output"].to_numpy()
    t_batch = time.perf_counter() - t
    diff = float(np.max(np.abs(batch - np.asarray(per_record, dtype=float))))
    out = {"name": name, "n": len(recs), "per_record": rate(len(recs), t_rec),
           "batch": rate(len(recs), t_batch), "max_diff": diff, "titus": None}
    if PFAEngine is not None:
        engine, = PFAEngine.fromJson(doc)
        sub = recs[:titus_n]
        t = time.perf_counter()
        ref = [engine.action(r) for r in sub]
        t_titus = time.perf_counter() - t
        out["titus"] = rate(len(sub), t_titus)
        out["titus_diff"] = float(np.max(np.abs(np.asarray(ref) - np.asarray(per_record[:titus_n]))))
    return out


def _best(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_mixed(name: str, doc: dict, recs: list[dict], df: pd.DataFrame, titus_n: int,
                PFAEngine, repeat: int) -> dict:
    model = portmodel.load(doc)
    assert model.has_batch_path, f"{name}: expected the column path ({model.batch_path_reason})"
    sub = recs[:titus_n]
    action = model.action
    action(sub[0])
    out = {"name": name, "titus": None, "pmml": None}
    out["per_record"] = rate(len(sub), _best(lambda: [action(r) for r in sub], 1))
    model.predict(df.iloc[:1000])
    out["columns"] = rate(len(df), _best(lambda: model.predict(df), repeat))
    if PFAEngine is not None:
        try:
            engine, = PFAEngine.fromJson(doc)
            engine.action(sub[0])
            out["titus"] = rate(len(sub), _best(lambda: [engine.action(r) for r in sub], 1))
        except Exception as exc:   # titus2 cannot run every document
            print(f"{name}: titus2 failed ({type(exc).__name__}: {str(exc)[:80]})")
    if name in PMML_EQUIVALENTS:
        pmml = portmodel.load(PMML_EQUIVALENTS[name]())
        pmml.predict(df.iloc[:1000])
        out["pmml"] = rate(len(df), _best(lambda: pmml.predict(df), repeat))
    return out


def print_mixed(rows: list[dict]) -> None:
    print(f"\n{'document (text + nulls)':<24}{'titus2/s':>10}{'pm rec/s':>11}{'columns/s':>12}"
          f"{'PMML/s':>12}{'cols/titus':>12}{'cols/PMML':>11}")
    for r in rows:
        tit, pm = r["titus"], r["pmml"]
        print(f"{r['name']:<24}{(f'{tit:,.0f}' if tit else '-'):>10}{r['per_record']:>11,.0f}"
              f"{r['columns']:>12,.0f}{(f'{pm:,.0f}' if pm else '-'):>12}"
              f"{('%.1fx' % (r['columns'] / tit)) if tit else '-':>12}"
              f"{('%.2fx' % (r['columns'] / pm)) if pm else '-':>11}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--titus-records", type=int, default=20_000)
    ap.add_argument("--no-titus", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="column timings: best of N")
    ap.add_argument("--only-mixed", action="store_true")
    args = ap.parse_args(argv)
    PFAEngine = None if args.no_titus else load_titus()
    mixed = mixed_records(args.records)
    mdf = pd.DataFrame(mixed)
    mdf["nx"] = pd.Series([r["nx"] for r in mixed], dtype=object)   # None stays null
    mixed_rows = [bench_mixed(name, make(), mixed, mdf, args.titus_records, PFAEngine,
                              args.repeat)
                  for name, make in {**MIXED_DOCS, **MODEL_DOCS}.items()]
    if args.only_mixed:
        print_mixed(mixed_rows)
        return 0
    recs = records(args.records)
    df = pd.DataFrame(recs)
    rows = [bench("logistic regression", logistic_regression_doc(), recs, df,
                  args.titus_records, PFAEngine),
            bench("tree depth 10", tree_doc(), recs, df, args.titus_records, PFAEngine)]
    print(f"{'document':<22}{'per-record/s':>14}{'batch/s':>14}{'titus2/s':>12}"
          f"{'rec/titus':>11}{'batch/titus':>13}{'|batch-rec|':>14}")
    for r in rows:
        tit = r["titus"]
        t_s = f"{tit:,.0f}" if tit else "-"
        rec_s = "{:.1f}x".format(r["per_record"] / tit) if tit else "-"
        bat_s = "{:.1f}x".format(r["batch"] / tit) if tit else "-"
        print(f"{r['name']:<22}{r['per_record']:>14,.0f}{r['batch']:>14,.0f}{t_s:>12}"
              f"{rec_s:>11}{bat_s:>13}{r['max_diff']:>14.1e}")
    for r in rows:
        if r["titus"]:
            print(f"{r['name']}: max |portmodel - titus2| = {r['titus_diff']:.1e}")
    print(f"({args.records:,} records; titus2 timed on {args.titus_records:,}; targets: "
          "per-record >= 3x, batch >= 50x titus2)")
    print_mixed(mixed_rows)
    print("(targets: columns >= 50x titus2, >= 0.5x the PMML path)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
