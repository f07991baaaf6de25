"""Export time and document size: portmodel.export against sklearn2pmml, on the same fitted
pipelines, in one run.

    python benchmarks/bench_export.py [--rows 20000] [--sample 1000] [--repeat 3] [--models lr,rf]

Models: logistic regression + scaler + one-hot, random forest 100 x depth 8, gradient boosting
100 x depth 3, MLP 32-16, decision tree depth 10 (fitted on --rows synthetic rows: 20 numeric and
2 text columns). portmodel's time is the whole ``portmodel.export`` call as a user makes it:
converting, writing the document (with a ModelVerification block of 5 to 20 rows) and checking
it (load + score of the --sample rows + comparison). sklearn2pmml's time is its
``PMMLPipeline.verify`` call on the same verification rows (scikit-learn scores them) plus its
``sklearn2pmml`` call, which pickles the pipeline and starts a JVM each time: both sides' times
include writing verification records, which a user who asks for them pays. Best of --repeat.

Sizes, like for like: sklearn2pmml's pipeline is given the very rows portmodel's
ModelVerification block carries (read back from portmodel's document: same rows, same rounded
inputs, same count), so both documents carry the same records. "KB" columns are the written
documents with verification, "body" columns the same documents with ModelVerification taken
out (each re-serialized without it, its own whitespace kept); "ratio" is portmodel / sklearn2pmml.
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


def verification_rows(path: Path, sample):
    """The sample rows a document's ModelVerification block carries, whole (every column of
    ``sample``, numbers rounded as the exporter rounds them): each block row is matched with the
    first sample row that agrees on every cell the block carries (inputs the model does not use
    are not in the block)."""
    import numpy as np
    from lxml import etree
    from portmodel.export import VERIFICATION_INPUT_DIGITS, _round_sig
    rounded = sample.copy()
    for name in rounded.columns:
        if rounded[name].dtype.kind == "f":
            rounded[name] = _round_sig(rounded[name].to_numpy(), VERIFICATION_INPUT_DIGITS)
    root = etree.parse(str(path)).getroot()
    column = {vf.get("column"): vf.get("field") for vf in root.iter("{*}VerificationField")}
    picked = []
    for row in root.iter("{*}row"):
        cells = {column[etree.QName(c).localname]: c.text for c in row}
        match = np.ones(len(rounded), bool)
        for name, text in cells.items():
            if name not in rounded.columns:
                continue                                  # an output
            col = rounded[name]
            match &= (col.to_numpy() == float(text)) if col.dtype.kind == "f" else \
                (col.astype(str).to_numpy() == text)
        picked.append(int(np.flatnonzero(match)[0]))
    return rounded.iloc[picked]


def body_size(path: Path) -> int:
    """The document's bytes without its ModelVerification elements (its own whitespace kept)."""
    from lxml import etree
    tree = etree.parse(str(path))
    for mv in tree.iter("{*}ModelVerification"):
        parent = mv.getparent()
        prev = mv.getprevious()
        # the element's own line goes with it: the whitespace before it is the previous
        # sibling's tail (or the parent's text), the whitespace after it is its own tail
        if prev is not None:
            prev.tail = mv.tail
        else:
            parent.text = mv.tail
        parent.remove(mv)
    return len(etree.tostring(tree, xml_declaration=True, encoding="UTF-8", standalone=True)
               if tree.docinfo.standalone else
               etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--sample", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--models", default=",".join(NAMES),
                    help=f"comma-separated subset of {','.join(NAMES)}")
    args = ap.parse_args()

    import portmodel
    from sklearn.pipeline import Pipeline
    from sklearn2pmml import make_pmml_pipeline, sklearn2pmml

    X, y = make_data(args.rows)
    print(f"# export: {args.rows} training rows, check sample {args.sample} rows, best of "
          f"{args.repeat}; {os.cpu_count()} CPUs")
    print(f"{'model':42} {'portmodel s':>11} {'s2p s (verify+export)':>21} {'speed-up':>8} | "
          f"{'KB ours':>7} {'KB s2p':>6} {'ratio':>5} {'rows':>4} | "
          f"{'body ours':>9} {'body s2p':>8} {'ratio':>5}")
    folder = Path(tempfile.mkdtemp())
    for name in args.models.split(","):
        steps, cols = build(name)
        pipe = Pipeline(steps)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe.fit(X[cols], y)
        sample = X[cols].iloc[:args.sample]
        ours = folder / f"{name}.pmml"
        theirs = folder / f"{name}.s2p.pmml"
        t_ours = best(lambda: portmodel.export(pipe, ours, sample, target_name="y"), args.repeat)

        rows = verification_rows(ours, sample)
        pmml_pipe = make_pmml_pipeline(pipe, active_fields=cols, target_fields=["y"])

        def s2p():
            with contextlib.redirect_stdout(io.StringIO()):
                # the same precision as portmodel's records (sklearn2pmml's default is 1e-13)
                pmml_pipe.verify(rows, precision=1e-9, zeroThreshold=1e-9)
                sklearn2pmml(pmml_pipe, str(theirs))
        t_theirs = best(s2p, args.repeat)
        s_ours, s_theirs = ours.stat().st_size, theirs.stat().st_size
        b_ours, b_theirs = body_size(ours), body_size(theirs)
        print(f"{LABELS[name]:42} {t_ours:11.2f} {t_theirs:21.2f} {t_theirs / t_ours:7.1f}x | "
              f"{s_ours / 1024:7.1f} {s_theirs / 1024:6.1f} {s_ours / s_theirs:5.2f} "
              f"{len(rows):4d} | {b_ours / 1024:9.1f} {b_theirs / 1024:8.1f} "
              f"{b_ours / b_theirs:5.2f}", flush=True)


if __name__ == "__main__":
    main()
