"""After writing: score the sample with the document (in portmodel) and with the estimator, and
compare every output cell.

Numbers agree when ``|got - expected| <= tolerance * max(1, |expected|)``; labels must be equal.
The first disagreement raises ExportMismatchError naming the output column, the row and both
values.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .context import final_estimator
from .errors import ExportMismatchError
from . import ir


def expected(est: Any, X: pd.DataFrame, doc: ir.Export) -> dict[str, np.ndarray]:
    """The estimator's own outputs on X, keyed by the document's output names."""
    out: dict[str, np.ndarray] = {}
    own = getattr(doc.model, "expected", None)
    if own is not None:       # models whose document value is not predict's (anomaly scores)
        return {doc.target if k == "__target__" else k: v for k, v in own(est, X).items()}
    proba = None
    final = final_estimator(est)
    if doc.probabilities and _predicts_by_proba(final):
        # a forest's predict is the class of its largest predict_proba, which it computes
        # first (scikit-learn's ForestClassifier.predict): computed once
        raw = est.predict_proba(X)
        pred = final.classes_.take(np.argmax(raw, axis=1), axis=0)
        proba = np.asarray(raw, float)
    else:
        pred = np.asarray(est.predict(X))
    if pred.ndim == 2 and pred.shape[1] == 1:
        pred = pred[:, 0]
    out[doc.target] = pred
    if doc.probabilities:
        if proba is None:
            proba = np.asarray(est.predict_proba(X), float)
        for k, c in enumerate(doc.classes):
            out[f"probability({c})"] = proba[:, k]
    return out


def _predicts_by_proba(est: Any) -> bool:
    """True for scikit-learn's single-output random forest and extra-trees classifiers, whose
    ``predict`` is ``classes_.take(argmax(predict_proba(X), axis=1))`` (its own code)."""
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
    return type(est) in (RandomForestClassifier, ExtraTreesClassifier) and \
        getattr(est, "n_outputs_", 1) == 1 and isinstance(est.classes_, np.ndarray)


def ambiguous_rows(est: Any, X: pd.DataFrame, doc: ir.Export) -> np.ndarray | None:
    """Rows on which the estimator's answer is one of several equally right ones (k-NN with a
    tie at the k-th neighbour's distance: which of the tied neighbours scikit-learn takes
    depends on its search algorithm), or None. The check leaves them out and
    ModelVerification does not carry them."""
    fn = getattr(doc.model, "ambiguous_rows", None)
    return None if fn is None else fn(est, X)


def _same(a: Any, b: Any, tol: float) -> bool:
    a_missing = a is None or (isinstance(a, float) and math.isnan(a))
    b_missing = b is None or (isinstance(b, float) and math.isnan(b))
    if a_missing or b_missing:
        return a_missing and b_missing
    if isinstance(b, (str, np.str_)) or isinstance(a, (str, np.str_)):
        return str(a) == str(b)
    try:
        fa, fb = float(a), float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)
    return abs(fa - fb) <= tol * max(1.0, abs(fb))


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _all_same(got: np.ndarray, want: Any, tol: float, skip: np.ndarray | None) -> bool:
    """True when two numeric columns agree in every cell as ``_same`` says, found by numpy;
    False when some cell may not (or the columns are not both numeric): the cell-by-cell
    comparison then decides and names the first that differs."""
    want = np.asarray(want)
    if got.dtype.kind not in "fiub" or want.dtype.kind not in "fiub" or \
            got.shape != want.shape or got.ndim != 1:
        return False
    a, b = got.astype(float), want.astype(float)
    a_missing, b_missing = np.isnan(a), np.isnan(b)
    with np.errstate(invalid="ignore"):
        ok = (a_missing & b_missing) | (~a_missing & ~b_missing & (
            np.abs(a - b) <= tol * np.maximum(1.0, np.abs(b))))
    if skip is not None:
        ok |= np.asarray(skip, bool)
    return bool(ok.all())


def compare(got: pd.DataFrame, want: dict[str, np.ndarray], tol: float, what: str,
            skip: np.ndarray | None = None) -> None:
    """Raise ExportMismatchError at the first cell where ``got`` differs from ``want`` (rows
    where ``skip`` is true are left out)."""
    for col, values in want.items():
        if col not in got.columns:
            raise ExportMismatchError(f"{what}: the document has no output {col!r} "
                                      f"(outputs: {list(got.columns)})")
        g = got[col].to_numpy()
        if _all_same(g, values, tol, skip):
            continue
        for i, (a, b) in enumerate(zip(g, values)):
            if skip is not None and skip[i]:
                continue
            a, b = _py(a), _py(b)
            if not _same(a, b, tol):
                raise ExportMismatchError(
                    f"{what}: output {col!r} row {i}: document gives {a!r}, estimator gives "
                    f"{b!r} (tolerance {tol:g})")


def check_document(document: bytes | str | dict, est: Any, X: pd.DataFrame, doc: ir.Export,
                   tol: float, want: dict[str, np.ndarray] | None = None,
                   skip: np.ndarray | None = None) -> int:
    """Load the document with portmodel (from the bytes in memory, parsed once), score X once,
    compare with the estimator's outputs; return the rows checked.

    want: the estimator's outputs (``expected``) when the caller has them already, so that a
    forest's predict and predict_proba run once per export."""
    import portmodel
    model = portmodel.load(document)
    frame = X.reset_index(drop=True)
    if isinstance(document, str) and document.lstrip().startswith("{") or \
            isinstance(document, bytes) and document.lstrip().startswith(b"{"):
        from .pfa_writer import avro_name
        frame = frame.rename(columns=avro_name)
        got = model.predict(frame)
        got = pd.DataFrame(got) if isinstance(got, dict) else got
        got = got.rename(columns={avro_name(doc.target): doc.target})
    else:
        got = model.predict(frame)
    if isinstance(got, dict):
        got = pd.DataFrame(got)
    got = got.rename(columns=lambda c: c.replace("probability_", "probability(", 1) + ")"
                     if isinstance(c, str) and c.startswith("probability_") else c)
    if want is None:
        want = expected(est, X, doc)
    if skip is None:
        skip = ambiguous_rows(est, X, doc)
    compare(got, want, tol, "portmodel scoring the exported document", skip)
    return len(X) - (0 if skip is None else int(np.sum(skip)))
