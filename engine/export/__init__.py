"""Export fitted scikit-learn (and XGBoost, LightGBM) models as PMML 4.4 or PFA 0.8.1 documents,
checked against the estimator before they are returned.

    import portmodel
    portmodel.export(fitted, "model.pmml", X_sample)              # format from the suffix
    text = portmodel.export(fitted, None, X_sample, format="pfa")  # the document's text

``X_sample`` (a DataFrame) gives the input field names, their types, and the rows the check
scores: the document is loaded with portmodel and every output is compared with the
estimator's ``predict`` / ``predict_proba`` (ExportMismatchError names the column, the row and
both values). PMML documents carry some of those rows in ModelVerification (between
VERIFICATION_MIN_ROWS and VERIFICATION_ROWS, as many as a quarter of the rest of the document's
bytes allows: ``pmml_writer.write``).
"""
from __future__ import annotations

import gc
import os
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ExportError, ExportMismatchError, UnsupportedEstimatorError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["export", "build", "ExportError", "ExportMismatchError", "UnsupportedEstimatorError",
           "supported", "DEFAULT_TOLERANCE"]

#: |document - estimator| <= tolerance * max(1, |estimator|) for every output cell
DEFAULT_TOLERANCE = 1e-9
#: sample rows carried in ModelVerification at most and at least (the check itself scores every
#: sample row); between the two, the block takes at most VERIFICATION_SHARE of the bytes of the
#: rest of the document
VERIFICATION_ROWS = 20
VERIFICATION_MIN_ROWS = 5
VERIFICATION_SHARE = 0.25


def supported() -> tuple[list[str], list[str]]:
    """(transformer class names, model class names) the writer covers."""
    from .registry import supported as _s
    return _s()


def _format_of(path: Any, format: str | None) -> str:
    if format:
        if format not in ("pmml", "pfa"):
            raise ExportError(f"format {format!r}: use 'pmml' or 'pfa'")
        return format
    if path is not None:
        suffix = Path(os.fspath(path)).suffix.lower()
        if suffix in (".pfa", ".json"):
            return "pfa"
    return "pmml"


def _has_proba(est: Any) -> bool:
    try:
        return callable(getattr(est, "predict_proba"))
    except AttributeError:
        return False


def _value_type(values: Any) -> str:
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        return "integer"
    if arr.dtype.kind == "f":
        return "double"
    return "string"


def build(estimator: Any, X_sample: pd.DataFrame, target_name: str | None = None):
    """The intermediate form (``ir.Export``) of a fitted estimator or pipeline."""
    from . import ir
    from .context import Context, final_estimator, float_inputs, input_fields, walk
    inputs = input_fields(X_sample)
    ctx = Context(inputs)
    spec = walk(estimator, ctx, [f.name for f in inputs])
    final = final_estimator(estimator)
    classes: tuple = ()
    target_type = "double"
    if getattr(spec, "function", None) == "classification" and hasattr(final, "classes_"):
        classes = tuple(c.item() if isinstance(c, np.generic) else c for c in final.classes_)
        target_type = _value_type(final.classes_)
    proba = bool(classes) and _has_proba(estimator) and getattr(spec, "probabilities", True)
    return float_inputs(ir.Export(
        list(ctx.inputs.values()), ctx.derived, spec, target_name or "y", target_type, classes,
        proba, f"{type(final).__name__} exported by portmodel", list(ctx.notes)))


def _cell(v: Any) -> Any:
    import pandas as pd
    v = v.item() if isinstance(v, np.generic) else v
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    return v


#: significant digits of the numeric inputs of the ModelVerification rows
VERIFICATION_INPUT_DIGITS = 5


def _round_sig(values: np.ndarray, digits: int) -> np.ndarray:
    """Floats rounded to ``digits`` significant digits (NaN and infinities kept)."""
    out = np.array([float(f"{v:.{digits}g}") if np.isfinite(v) else v
                    for v in values.astype(float)], float)
    return out.astype(values.dtype)


def _column(i: int) -> str:
    """The i-th InlineTable column name: a, b, ..., z, aa, ab, ... (each cell's element name
    is written twice per row, so short names keep the block small)."""
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(97 + r) + name
    return name


def _informative_order(X: pd.DataFrame) -> list[int]:
    """Row positions in the order the verification rows are taken: each next row is the one
    that adds the most text categories and missing cells not yet seen (ties: the earlier row),
    so that a few rows already reach every category term and every missing-value path the
    sample shows; rows adding nothing new follow in sample order."""
    feats: list[set] = [set() for _ in range(len(X))]
    for name in X.columns:
        col = X[name]
        missing = col.isna().to_numpy()
        text = col.dtype.kind not in "fiub"
        values = col.to_numpy()
        for r in range(len(X)):
            if missing[r]:
                feats[r].add((name, None))
            elif text:
                feats[r].add((name, str(values[r])))
    seen: set = set()
    order: list[int] = []
    remaining = list(range(len(X)))
    while remaining:
        gain, best = max((len(feats[r] - seen), -r) for r in remaining)
        if gain == 0:
            break
        order.append(-best)
        seen |= feats[-best]
        remaining.remove(-best)
    return order + remaining


def _verification(estimator: Any, doc, X: pd.DataFrame, precision: float) -> tuple[list, list]:
    """ModelVerification's fields and rows: up to VERIFICATION_ROWS of the first sample rows
    (``_informative_order`` first) with their numbers rounded to VERIFICATION_INPUT_DIGITS
    significant digits, and the estimator's own outputs on those rounded rows, written with the
    digits ``precision`` needs (two more than its decimal exponent: a rounding error below a
    hundredth of it). Rows with more than one right answer (``check.ambiguous_rows``) stay out.
    The export's check itself compares the full-precision sample; the writer keeps as many of
    these rows as its size budget allows (``pmml_writer.write``)."""
    from .check import ambiguous_rows, expected
    Xv = X.iloc[:4 * VERIFICATION_ROWS].copy()
    for name in Xv.columns:
        if Xv[name].dtype.kind == "f":
            Xv[name] = _round_sig(Xv[name].to_numpy(), VERIFICATION_INPUT_DIGITS)
    skip = ambiguous_rows(estimator, Xv, doc)
    if skip is not None and skip.any():
        Xv = Xv.iloc[np.flatnonzero(~skip)]
    Xv = Xv.iloc[_informative_order(Xv)[:VERIFICATION_ROWS]]
    want = expected(estimator, Xv, doc)
    digits = max(1, int(np.ceil(-np.log10(precision)))) + 2 if precision > 0 else 17
    n = len(Xv)
    fields, cols = [], {}
    for i, name in enumerate(Xv.columns):
        fields.append((str(name), _column(i), None))
        cols[str(name)] = (_column(i), Xv[name].to_numpy())
    for j, (name, values) in enumerate(want.items()):
        values = np.asarray(values)
        if values.dtype.kind == "f":
            values = _round_sig(values, min(17, digits))
        k = len(Xv.columns) + j
        fields.append((name, _column(k), precision))
        cols[name] = (_column(k), values)
    rows = [{c: _cell(v[r]) for c, v in cols.values()} for r in range(n)]
    return fields, rows


def export(estimator: Any, path: str | os.PathLike | None = None,
           X_sample: pd.DataFrame | None = None, *, format: str | None = None,
           target_name: str | None = None, backend: str = "portmodel", check: bool = True,
           tolerance: float | None = None) -> str | None:
    """Write a fitted estimator or pipeline as a PMML or PFA document.

    path: where to write (None: return the document's text); the format comes from its suffix
    (.pfa/.json: PFA, else PMML) unless ``format`` says. X_sample: a DataFrame of inputs (a
    ``target_name`` column in it is dropped). backend: "portmodel" or "sklearn2pmml" (PMML
    only; needs Java). check: compare the document with the estimator on X_sample.
    """
    import pandas as pd             # (here, not at the top: the command line imports this
    #                                  package to list its command, and pandas costs 0.2 s)
    if not isinstance(X_sample, pd.DataFrame) or len(X_sample) == 0:
        raise ExportError("X_sample must be a non-empty pandas DataFrame of input rows")
    # Converting a forest allocates tens of thousands of small objects that all live until the
    # document is written; the cyclic garbage collector would rescan them again and again
    # (two thirds of the conversion's time), as in ``portmodel.load``.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _export(estimator, path, X_sample, format, target_name, backend, check,
                       tolerance)
    finally:
        if was_enabled:
            gc.enable()


def _export(estimator: Any, path: str | os.PathLike | None, X_sample: pd.DataFrame,
            format: str | None, target_name: str | None, backend: str, check: bool,
            tolerance: float | None) -> str | None:
    fmt = _format_of(path, format)
    if target_name is not None and target_name in X_sample.columns:
        X_sample = X_sample.drop(columns=[target_name])
    if backend == "sklearn2pmml":
        if fmt != "pmml":
            raise ExportError("backend='sklearn2pmml' writes PMML only")
        from .sklearn2pmml_backend import export_sklearn2pmml
        data = export_sklearn2pmml(estimator, X_sample, target_name)
        doc = None
    elif backend == "portmodel":
        doc = build(estimator, X_sample, target_name)
        if fmt == "pmml" and not getattr(doc.model, "pmml_probabilities", True):
            doc.probabilities = False
        data = None
    else:
        raise ExportError(f"backend {backend!r}: use 'portmodel' or 'sklearn2pmml'")
    from .check import ambiguous_rows, check_document, expected
    if doc is not None:
        tol = tolerance if tolerance is not None else \
            getattr(doc.model, "tolerance", DEFAULT_TOLERANCE)
        want = expected(estimator, X_sample, doc)
        skip = ambiguous_rows(estimator, X_sample, doc)
        if fmt == "pmml":
            from portmodel import __version__

            from .pmml_writer import write
            precision = getattr(doc.model, "verification_precision", tol)
            data = write(doc, _verification(estimator, doc, X_sample, precision), __version__,
                         (VERIFICATION_MIN_ROWS, VERIFICATION_SHARE))
        else:
            from .pfa_writer import write as write_pfa
            data = write_pfa(doc).encode("utf-8")
        if check:
            check_document(data, estimator, X_sample, doc, tol, want, skip)
    if path is None:
        return data.decode("utf-8")
    Path(os.fspath(path)).write_bytes(data)
    return None


class _CallableModule(types.ModuleType):
    """This package, callable: ``portmodel.export(...)`` is ``portmodel.export.export(...)``."""

    def __call__(self, *args: Any, **kwargs: Any) -> str | None:
        return export(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
