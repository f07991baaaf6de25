"""Export time and document size: portmodel.export against sklearn2pmml, on the same fitted
pipelines, in one run.

    python benchmarks/bench_export.py [--rows 20000] [--sample 1000] [--repeat 3]

Models: logistic regression + scaler + one-hot, random forest 100 x depth 8, gradient boosting
100 x depth 3, MLP 32-16, decision tree depth 10 (fitted on --rows synthetic rows: 20 numeric and
2 text columns). portmodel's time is the whole ``portmodel.export`` call as a user makes it:
converting, writing the document (with a ModelVerification block of 5 to 20 rows) and checking
it (load + score of the --sample rows + comparison). sklearn2pmml's time is its
``sklearn2pmml`` call, which pickles the pipeline and starts a JVM each time. Best of --repeat.
Sizes are the bytes written (portmodel's include the ModelVerification block; the figure
without it is shown too).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pmml import LABELS, build, make_data  # noqa: E402

NAMES = ["lr", "rf", "gbm", "mlp", "dt"]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--sample", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import portmodel
    from lxml import etree
    from sklearn.pipeline import Pipeline
    from sklearn2pmml import make_pmml_pipeline, sklearn2pmml

    X, y = make_data(args.rows)
    print(f"# export: {args.rows} training rows, check sample {args.sample} rows, best of "
          f"{args.repeat}; {os.cpu_count()} CPUs")
    print(f"{'model':42} {'portmodel s':>11} {'sklearn2pmml s':>14} {'speed-up':>8} "
          f"{'portmodel KB':>12} {'(no verif.)':>11} {'sklearn2pmml KB':>15} {'size ratio':>10}")
    folder = Path(tempfile.mkdtemp())
    for name in NAMES:
        steps, cols = build(name)
        pipe = Pipeline(steps)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe.fit(X[cols], y)
        sample = X[cols].iloc[:args.sample]
        ours = folder / f"{name}.pmml"
        theirs = folder / f"{name}.s2p.pmml"
        t_ours = best(lambda: portmodel.export(pipe, ours, sample, target_name="y"), args.repeat)

        def s2p():
            with contextlib.redirect_stdout(io.StringIO()):
                sklearn2pmml(make_pmml_pipeline(pipe, active_fields=cols, target_fields=["y"]),
                             str(theirs))
        t_theirs = best(s2p, args.repeat)
        tree = etree.parse(str(ours))
        for mv in tree.iter("{*}ModelVerification"):
            mv.getparent().remove(mv)
        bare = len(etree.tostring(tree, xml_declaration=True, encoding="UTF-8",
                                  pretty_print=True))
        s_ours, s_theirs = ours.stat().st_size, theirs.stat().st_size
        print(f"{LABELS[name]:42} {t_ours:11.2f} {t_theirs:14.2f} {t_theirs / t_ours:7.1f}x "
              f"{s_ours / 1024:12.0f} {bare / 1024:11.0f} {s_theirs / 1024:15.0f} "
              f"{s_ours / s_theirs:10.2f}", flush=True)


if __name__ == "__main__":
    main()
