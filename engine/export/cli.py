"""``portmodel export MODEL.joblib -o OUT --sample data.csv [--format pmml|pfa] [--target NAME]``:
added to the command line by ``add_command``."""
from __future__ import annotations

import argparse
import os
import sys


def add_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a fitted scikit-learn model (joblib) as PMML or PFA",
                       description="Load a fitted estimator or pipeline saved with joblib, write "
                                   "it as a PMML or PFA document, and check the document against "
                                   "the estimator on the sample rows.")
    p.add_argument("model", metavar="MODEL", help="fitted estimator saved with joblib.dump")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="document to write")
    p.add_argument("--sample", required=True, metavar="CSV",
                   help="sample input rows with a header (names, types, and the check)")
    p.add_argument("--format", choices=("pmml", "pfa"), help="default: from OUT's suffix")
    p.add_argument("--target", metavar="NAME", help="name of the target (a column of that "
                                                    "name in the sample is ignored)")
    p.add_argument("--backend", choices=("portmodel", "sklearn2pmml"), default="portmodel")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import joblib
    import pandas as pd

    from . import export
    from .errors import ExportError
    for path in (args.model, args.sample):
        if not os.path.exists(path):
            raise ExportError(f"file {path!r} does not exist")
    est = joblib.load(args.model)
    sample = pd.read_csv(args.sample)
    export(est, args.output, sample, format=args.format, target_name=args.target,
           backend=args.backend)
    print(f"portmodel: wrote {args.output} (checked on {len(sample)} sample rows)",
          file=sys.stderr)
    return 0
