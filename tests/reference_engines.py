"""Reference engines as test oracles, and hypothesis strategies for model input frames.

Used by tests/test_reference_property.py: portmodel and a reference engine score the same random
frame and must agree cell by cell (the conformance comparison rule), with "the reference rejects
this row" meaning "portmodel must report an error for this row".

- ``jpmml(path)``: one JPMML-Evaluator per document per session (the JVM starts once, ~5 s).
  ``jpmml_score`` uses ``evaluateAll``, which (jpmml_evaluator >= 0.16) reports a rejected row in
  its error list and keeps scoring the others, so a whole frame goes through in one call.
- ``pypmml_score``: the PMML4S-based engine, an independent second opinion on complete, valid
  rows (its answers to missing, invalid and extreme input differ from the specification in
  several model types, and it keeps about 10 significant digits of small probabilities).
- ``jpmml_frame(text, frame)``: one document's text scored by a fresh JPMML-Evaluator (the
  model-type tests' oracle checks).
- ``frames(fields, hints, ...)``: frames whose cells are drawn from each input Field's
  DataDictionary facts (valid values, Intervals, data type): valid values most of the time, and
  sometimes missing, unknown categories, numbers outside the Intervals, fractions for integer
  fields, and text that is no number.
- ``compare_rows`` / ``differences``: the per-cell comparison, with the known differences that
  hold for every document (``lazy_rejection``, ``blank_as_missing``).
- ``export_sklearn``: sklearn2pmml documents (MLP, GaussianNB, SVC, KMeans, k-NN, one-hot
  logistic regression, random forest) with Domain decorators.

Never used by portmodel itself.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from conformance_util import agrees

NUMERIC = ("double", "float", "integer")
#: text that no engine can read as a number
GARBAGE = ("abc", "1.2.3", "--1", "4,5x")
#: categories no model was trained on
UNKNOWN = ("zz_unknown", "Other Thing")


# ------------------------------------------------------------------ reference engines
@lru_cache(maxsize=None)
def jpmml(path: str):
    """A verified JPMML-Evaluator for one document, built once per session."""
    from jpmml_evaluator import make_evaluator
    return make_evaluator(str(path)).verify()


def jpmml_score(path: str | Path, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str | None]]:
    """Score a frame with JPMML-Evaluator: (result columns, per-row error text or None)."""
    ev = jpmml(str(path))
    results, errors = ev.evaluateAll(frame.reset_index(drop=True), error_col=None)
    n = len(frame)
    errs: list[str | None] = [None] * n
    if errors is not None:
        errs = [None if (e is None or (isinstance(e, float) and math.isnan(e))) else str(e)
                for e in errors.tolist()]
    if len(results) != n:          # every row failed: no columns at all
        results = pd.DataFrame(index=range(n))
    return results.reset_index(drop=True), errs


def jpmml_frame(text: str, frame: pd.DataFrame) -> pd.DataFrame:
    """JPMML-Evaluator's evaluateAll of a frame for one PMML document's text (verified first);
    skips the test where jpmml_evaluator or Java is missing."""
    import shutil

    import pytest
    jpmml_evaluator = pytest.importorskip("jpmml_evaluator")
    if shutil.which("java") is None:
        pytest.skip("JPMML-Evaluator needs Java")
    return jpmml_evaluator.make_evaluator(text).verify().evaluateAll(frame)


@lru_cache(maxsize=None)
def pypmml(path: str):
    """A pypmml (PMML4S) model for one document, loaded once per session."""
    from pypmml import Model
    return Model.fromFile(str(path))


def pypmml_score(path: str | Path, frame: pd.DataFrame) -> pd.DataFrame:
    """Score a frame with pypmml; its missing inputs must be NaN/None."""
    out = pypmml(str(path)).predict(frame.reset_index(drop=True))
    return out.reset_index(drop=True)


# ------------------------------------------------------------------ comparison
def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def blank_as_missing(frame: pd.DataFrame, fields: Sequence) -> pd.DataFrame:
    """The frame with blank text cells of numeric fields replaced by None.

    Known difference: portmodel reads a blank cell ("", "  ") of a numeric field as missing (CSV
    habit; pmml/values.py), JPMML-Evaluator fails the row with NumberFormatException("empty
    String"). The reference therefore scores this rewritten frame; portmodel the original one.
    """
    numeric = [f.name for f in fields if f.data_type in NUMERIC and f.name in frame.columns]
    if not any(isinstance(v, str) and not v.strip() for c in numeric for v in frame[c]):
        return frame
    out = frame.copy()
    for c in numeric:
        out[c] = pd.Series([None if isinstance(v, str) and not v.strip() else v for v in out[c]],
                           index=out.index, dtype=object)
    return out


def value_problem(field, value: Any) -> str | None:
    """Why a user value is not a valid value of ``field``: "unparsable" (text that is no number
    of a numeric field, or a fraction for an integer field), "invalid" (outside the Values or
    Intervals), or None (valid or missing). Computed from the Field alone, not by portmodel."""
    if _missing(value):
        return None
    if field.data_type in NUMERIC:
        if isinstance(value, str) and not value.strip():
            return None    # blank: missing (see blank_as_missing)
        x = _as_number(value)
        if x is None:
            return "unparsable"
        if field.data_type == "integer" and x != int(x):
            return "unparsable"
        if field.values and field.op_type != "continuous":
            return None if any(_as_number(v) == x for v in field.values) else "invalid"
        if field.intervals:
            ranges = [(-math.inf if iv.left is None else iv.left,
                       math.inf if iv.right is None else iv.right, iv.closure)
                      for iv in field.intervals]
            return None if _in_ranges(x, ranges) else "invalid"
        return None
    if field.values and field.op_type in ("categorical", "ordinal"):
        return None if str(value) in {str(v) for v in field.values} else "invalid"
    return None


_FIELD_IN_ERROR = re.compile(r"field '([^']+)'")


def lazy_rejection(fields: Sequence, row: Mapping[str, Any], our_error: str) -> str | None:
    """Known difference: JPMML-Evaluator reads a row's fields lazily, as the scoring path needs
    them; an invalid value it never reads (a tree branch not taken, a field after a missing one
    that already made the result missing) does not fail the row. portmodel treats the MiningSchema
    as the gate of the whole record: a value that is invalid under invalidValueTreatment=
    "returnInvalid", or that cannot be a value of the field's type at all (any treatment that
    keeps invalid values, e.g. "asIs"), fails the row (PMML 4.4 MiningSchema: "returnInvalid ...
    when an invalid input is encountered, the model should return a value indicating an invalid
    result"). Returns the excuse, or None when the rejection is not explained that way."""
    m = _FIELD_IN_ERROR.search(our_error or "")
    if not m:
        return None
    by_name = {f.name: f for f in fields}
    field = by_name.get(m.group(1))
    if field is None:
        return None
    why = value_problem(field, row.get(field.name))
    treatment = field.extra.get("invalid_value_treatment", "returnInvalid")
    if why == "unparsable" and treatment in ("returnInvalid", "asIs"):
        return f"lazy: {field.name}={row.get(field.name)!r} is {why}"
    if why == "invalid" and treatment == "returnInvalid":
        return f"lazy: {field.name}={row.get(field.name)!r} is {why}"
    return None


def compare_rows(frame: pd.DataFrame, reference: pd.DataFrame, ref_errors: Sequence[str | None],
                 ours: pd.DataFrame, fields: Sequence = (), *, precision: float = 1e-9,
                 zero: float = 1e-12, excuse: Any = None) -> tuple[list[str], list[str]]:
    """(mismatches, excused rows) between the reference's and portmodel's scores of ``frame``.

    A row the reference rejects must carry portmodel's ``error``; a row the reference scores must
    have no error and agree in every reference column, by the conformance rule. A row portmodel
    rejects while the reference does not is accepted only as ``lazy_rejection`` explains.
    ``excuse(row, ref_row, ref_error, our_row, our_error) -> reason or None`` accepts rows with a
    documented, document-specific difference. Columns JPMML names by no string (the unnamed
    target of a clustering model; portmodel reports it as the Output's predictedValue) are skipped.
    """
    problems: list[str] = []
    excused: list[str] = []
    ours = ours.reset_index(drop=True)
    our_err = ours["error"].tolist() if "error" in ours.columns else [None] * len(ours)
    columns = [c for c in reference.columns if isinstance(c, str)]
    for i in range(len(frame)):
        row = frame.iloc[i].to_dict()
        ref_row = {c: reference[c].iloc[i] for c in columns}
        our_row = {c: ours[c].iloc[i] for c in ours.columns if c != "error"}
        oerr = None if _missing(our_err[i]) else str(our_err[i])
        if excuse is not None:
            why = excuse(row, ref_row, ref_errors[i], our_row, oerr)
            if why:
                excused.append(f"row {i}: {why}")
                continue
        if ref_errors[i] is not None:
            if oerr is None:
                problems.append(f"row {i} {row}: reference rejects it ({ref_errors[i]}), "
                                f"portmodel scores it {our_row}")
            continue
        if oerr is not None:
            why = lazy_rejection(fields, row, oerr)
            if why:
                excused.append(f"row {i}: {why}")
            else:
                problems.append(f"row {i} {row}: portmodel rejects it ({oerr}), "
                                f"reference scores it {ref_row}")
            continue
        for c, exp in ref_row.items():
            if c not in ours.columns:
                problems.append(f"column {c!r} not produced by portmodel")
                continue
            e = None if _missing(exp) else (exp.item() if isinstance(exp, np.generic) else exp)
            act = our_row[c]
            act = None if _missing(act) else act
            if not agrees(e, act, precision, zero):
                problems.append(f"row {i} {row}: column {c!r}: reference {exp!r}, "
                                f"portmodel {act!r}")
    return problems, excused


def differences(model, path: str | Path, frame: pd.DataFrame, *, excuse: Any = None,
                precision: float = 1e-9, zero: float = 1e-12) -> tuple[list[str], list[str]]:
    """Score ``frame`` with portmodel and JPMML-Evaluator and compare (see compare_rows)."""
    reference, ref_errors = jpmml_score(path, blank_as_missing(frame, model.inputs))
    ours = model.predict(frame, errors="mark")
    return compare_rows(frame, reference, ref_errors, ours, model.inputs, precision=precision,
                        zero=zero, excuse=excuse)


# ------------------------------------------------------------------ input strategies
def hints_from(sample: pd.DataFrame | None) -> dict[str, list]:
    """Observed values per column of a sample frame (conformance input, training data)."""
    if sample is None:
        return {}
    out = {}
    for c in sample.columns:
        vals = [v for v in sample[c].tolist() if not _missing(v)]
        out[str(c)] = vals
    return out


def _as_number(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _bounds(field, hint: list) -> tuple[float, float, list[tuple[float, float, str]]]:
    """(hull low, hull high, valid ranges) of a numeric field: its Intervals, else the hint's
    observed range padded by 10%, else -10..10. Unbounded Interval sides take the hint's range."""
    nums = [x for x in (_as_number(v) for v in hint) if x is not None]
    lo_h, hi_h = (min(nums), max(nums)) if nums else (-10.0, 10.0)
    pad = 0.1 * (hi_h - lo_h) or 1.0
    if field.intervals:
        ranges = []
        for iv in field.intervals:
            left = iv.left if iv.left is not None else min(lo_h, (iv.right or 0.0)) - pad
            right = iv.right if iv.right is not None else max(hi_h, (iv.left or 0.0)) + pad
            ranges.append((left, right, iv.closure))
    else:
        ranges = [(lo_h - pad, hi_h + pad, "closedClosed")]
    return min(r[0] for r in ranges), max(r[1] for r in ranges), ranges


def _in_ranges(x: float, ranges: list[tuple[float, float, str]]) -> bool:
    for lo, hi, closure in ranges:
        left_ok = x >= lo if closure.startswith("closed") else x > lo
        right_ok = x <= hi if closure.endswith("Closed") else x < hi
        if left_ok and right_ok:
            return True
    return False


def _valid_numbers(field, hint: list) -> st.SearchStrategy:
    lo, hi, ranges = _bounds(field, hint)
    integer = field.data_type == "integer"
    observed = sorted({x for x in (_as_number(v) for v in hint) if x is not None
                       and _in_ranges(x, ranges) and (not integer or x == int(x))})
    parts = []
    for left, right, closure in ranges:
        if integer:
            a, b = math.ceil(left), math.floor(right)
            a += 1 if closure.startswith("open") and left == a else 0
            b -= 1 if closure.endswith("Open") and right == b else 0
            if a <= b:
                parts.append(st.integers(a, b))
        else:
            parts.append(st.floats(left, right, allow_nan=False, allow_infinity=False,
                                   exclude_min=closure.startswith("open"),
                                   exclude_max=closure.endswith("Open")))
    if observed:   # real data values hit the split points and category codes the model uses
        parts.insert(0, st.sampled_from([int(x) if integer else x for x in observed]))
    return st.one_of(parts)


def _out_of_range(field, hint: list) -> st.SearchStrategy:
    lo, hi, _ = _bounds(field, hint)
    span = max(hi - lo, 1.0)
    if field.data_type == "integer":
        return st.one_of(st.integers(math.floor(hi) + 1, math.floor(hi) + 1 + int(10 * span)),
                         st.integers(math.ceil(lo) - 1 - int(10 * span), math.ceil(lo) - 1))
    return st.one_of(st.floats(hi, hi + 10 * span, exclude_min=True),
                     st.floats(lo - 10 * span, lo, exclude_max=True))


def _extreme(field, hint: list) -> st.SearchStrategy:
    lo, hi, _ = _bounds(field, hint)
    span = max(hi - lo, 1.0)
    far = [lo - 1e4 * span, hi + 1e4 * span]
    return st.sampled_from([int(x) if field.data_type == "integer" else x for x in far])


def _typed(v: Any, data_type: str) -> Any:
    if data_type in NUMERIC and not isinstance(v, (int, float)):
        x = float(v)
        return int(x) if data_type == "integer" and x == int(x) else x
    return v


def cell(field, hint: list, invalid: bool = True, missing: bool = True) -> st.SearchStrategy:
    """One input value for ``field`` (a portmodel Field): mostly valid, and sometimes missing
    (None, NaN, blank text) and invalid (unknown category, number outside the Intervals, fraction
    for an integer field, text that is no number), as the flags allow; ``invalid`` also brings
    unusual valid values (categories the model never saw, numbers far outside the training
    data). The first kind is "valid", so shrinking heads there."""
    kinds: dict[str, st.SearchStrategy] = {}
    numeric = field.data_type in NUMERIC
    if field.values and field.op_type != "continuous":
        values = [_typed(v, field.data_type) for v in field.values]
        kinds["valid"] = st.sampled_from(values)
        if invalid:
            if numeric:
                top = max(float(v) for v in values)
                kinds["unknown"] = st.sampled_from([int(top) + 1 if field.data_type == "integer"
                                                    else top + 1.5])
            else:
                kinds["unknown"] = st.sampled_from(UNKNOWN)
    elif numeric:
        kinds["valid"] = _valid_numbers(field, hint)
        kinds["text"] = _valid_numbers(field, hint).map(repr)   # "5.1": a number given as text
        if invalid and not field.intervals:   # valid, yet far away: overflow in exp()
            kinds["extreme"] = _extreme(field, hint)
        if invalid:
            if field.intervals:
                kinds["out_of_range"] = _out_of_range(field, hint)
            if field.data_type == "integer":
                kinds["fraction"] = _valid_numbers(field, hint).map(lambda x: x + 0.5)
    else:   # categorical/string without a Value list: every value is valid
        observed = sorted({str(v) for v in hint})
        kinds["valid"] = st.sampled_from(observed) if observed else st.sampled_from(UNKNOWN)
        if invalid:   # valid by the DataDictionary, yet a category the model never saw
            kinds["novel"] = st.sampled_from(UNKNOWN)
    if missing:
        kinds["missing"] = st.none()
        kinds["blank"] = st.sampled_from(["", " "])
        if numeric:
            kinds["nan"] = st.just(float("nan"))
    if numeric and invalid:
        kinds["garbage"] = st.sampled_from(GARBAGE)
    names = list(kinds)
    weights = ["valid"] * 6 + [k for k in names if k != "valid"]
    return st.sampled_from(weights).flatmap(lambda k: kinds[k])


def frames(fields: Sequence, hints: Mapping[str, list], *, max_rows: int = 6,
           invalid: bool = True, missing: bool = True) -> st.SearchStrategy:
    """DataFrames with one column per input field and 1..max_rows rows (see ``cell``).

    Each row is clean (valid values only), gappy (valid and missing values) or dirty (any
    kind, as the flags allow), with equal chances, so that rows whose every value the model can
    score stay common however many fields the model has."""
    def rows(bad: bool, gaps: bool) -> st.SearchStrategy:
        return st.fixed_dictionaries({f.name: cell(f, hints.get(f.name, []), bad, gaps)
                                      for f in fields})
    kinds = [rows(False, False)]
    if missing:
        kinds.append(rows(False, True))
    if invalid:
        kinds.append(rows(True, missing))
    row = st.one_of(kinds)
    return st.lists(row, min_size=1, max_size=max_rows).map(
        lambda rows: pd.DataFrame(rows, columns=[f.name for f in fields]))


# ------------------------------------------------------------------ sklearn2pmml documents
SKLEARN_NAMES = ["mlp_iris", "gaussian_nb_wine", "svc_iris", "kmeans_iris", "knn_iris",
                 "logreg_onehot_cancer", "forest_wine"]


def sklearn_specs() -> list[tuple[str, str, Any]]:
    """(name, data set, steps factory(X) -> list of pipeline steps) for the exported documents.

    The Domain decorators put Intervals, Value lists and treatments into the documents, so the
    random inputs meet invalidValueTreatment="returnInvalid", "asIs" and "asMissing" and
    missingValueTreatment/missingValueReplacement, which the conformance corpus lacks.
    """
    from sklearn.cluster import KMeans
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.svm import SVC
    from sklearn2pmml.decoration import CategoricalDomain, ContinuousDomain

    def logistic(X):
        num = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
        cat = [c for c in X.columns if c not in num]
        return [("prep", ColumnTransformer([
                    ("num", make_pipeline(ContinuousDomain(), StandardScaler()), num),
                    ("cat", make_pipeline(CategoricalDomain(invalid_value_treatment="as_missing"),
                                          OneHotEncoder()), cat)])),
                ("clf", LogisticRegression(max_iter=5000))]

    return [
        ("mlp_iris", "iris", lambda X: [
            ("dom", ContinuousDomain()),
            ("clf", MLPClassifier(hidden_layer_sizes=(6,), max_iter=3000, random_state=0))]),
        ("gaussian_nb_wine", "wine", lambda X: [
            ("dom", ContinuousDomain(invalid_value_treatment="as_is")), ("clf", GaussianNB())]),
        ("svc_iris", "iris", lambda X: [
            ("dom", ContinuousDomain(invalid_value_treatment="as_missing",
                                     missing_value_treatment="as_value",
                                     missing_value_replacement=1.0)),
            ("clf", SVC(kernel="rbf", gamma=0.5))]),
        ("kmeans_iris", "iris", lambda X: [
            ("clf", KMeans(n_clusters=3, n_init=10, random_state=0))]),
        ("knn_iris", "iris", lambda X: [
            ("dom", ContinuousDomain(invalid_value_treatment="as_is")),
            ("clf", KNeighborsClassifier(n_neighbors=5))]),
        ("logreg_onehot_cancer", "cancer", logistic),
        ("forest_wine", "wine", lambda X: [
            ("clf", RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0))]),
    ]


def export_sklearn(folder: Path) -> dict[str, tuple[Path, pd.DataFrame]]:
    """Fit and export every sklearn_specs() pipeline into ``folder``: name -> (document, X).
    A document already in ``folder`` is reused (one export per session)."""
    from sklearn2pmml import sklearn2pmml
    from sklearn2pmml.pipeline import PMMLPipeline
    from sklearn_models import _with_category, datasets
    data = datasets()
    out = {}
    specs = sklearn_specs()
    assert [s[0] for s in specs] == SKLEARN_NAMES
    for name, ds, steps in specs:
        X, y = data[ds]
        if name.startswith("logreg"):
            X = _with_category(X[list(X.columns[:6])], X.columns[0])
        path = Path(folder) / f"{name}.pmml"
        if not path.exists():
            pipe = PMMLPipeline(steps(X))
            if name.startswith("kmeans"):
                pipe.fit(X)
            else:
                pipe.fit(X, y)
            sklearn2pmml(pipe, str(path))
        out[name] = (path, X)
    return out
