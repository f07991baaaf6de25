"""The column path's compiled kernels against the record path, bit for bit: m.link.softmax over
whole rows, model.reg.linear's ordered sums, the C library's exp as numba calls it, and
model.neighbor.nearestK keeping the k nearest per row (ties in codebook order, NaN distances
last, k above the codebook's size, k = 0), numba on and off."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pfa_paths_util import EXTREMES, INPUT3 as INPUT, assert_paths_equal, assert_same_frames

from portmodel.pfa import load_pfa
from portmodel.pfa.lib.m import _softmax_list

ARR = {"type": "array", "items": "double"}
X = {"new": ["input.a", "input.b", "input.c"], "type": ARR}


def _bits_equal(got: np.ndarray, want: np.ndarray) -> bool:
    """The same doubles (NaN in the same places, any NaN)."""
    nan = np.isnan(want)
    return bool(np.array_equal(np.isnan(got), nan) and
                np.array_equal(got[~nan].view(np.int64), want[~nan].view(np.int64)))


def _rows(seed: int, n: int, k: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 20, size=(n, k)) * 10.0 ** rng.integers(-3, 3, size=(n, k))
    mask = rng.random(size=x.shape) < 0.15
    x[mask] = rng.choice(EXTREMES, size=mask.sum())
    return x


def test_numba_exp_is_the_c_librarys_exp() -> None:
    """numba's math.exp and CPython's math.exp give the same doubles, at the overflow and
    subnormal edges too (overflow: inf, where the record path catches OverflowError)."""
    pytest.importorskip("numba")
    from portmodel.pfa._libm_numba import CODES, apply_
    rng = np.random.default_rng(5)
    top = math.log(1.7976931348623157e308)
    x = np.concatenate([
        rng.uniform(-750, 712, 200_000), rng.normal(0, 1, 50_000), rng.normal(0, 1e-10, 10_000),
        top + rng.uniform(-1e-12, 1e-12, 5_000), np.nextafter(top, [np.inf, -np.inf]),
        rng.uniform(-745.2, -708.3, 50_000),      # subnormal results and the underflow to 0
        [-745.1332191019411, -745.1332191019412, -744.44007192138122, 5e-324, -5e-324,
         1e-308, 0.0, -0.0, math.inf, -math.inf, math.nan, 1e308, -1e308]])

    def ref(v: float) -> float:
        try:
            return math.exp(v)
        except OverflowError:
            return math.inf
    want = np.array([ref(float(v)) for v in x])
    assert _bits_equal(apply_(x, CODES["exp"]), want)


@pytest.mark.parametrize("k", [1, 2, 3, 5, 9])
def test_softmax_kernel_is_the_record_paths_softmax(k: int) -> None:
    pytest.importorskip("numba")
    from portmodel.pfa._linear_numba import softmax_rows
    x = _rows(k, 4000, k)
    x[:50] = x[:50, :1]                       # equal entries
    x[50:60] = 800.0                          # every entry overflows without the max
    want = np.array([_softmax_list(row) for row in x.tolist()])
    assert _bits_equal(softmax_rows(x), want)


def test_ordered_matmul_is_the_record_paths_sum() -> None:
    pytest.importorskip("numba")
    from portmodel.pfa._linear_numba import ordered_matmul
    x = _rows(7, 3000, 6)
    w = _rows(8, 4, 6)
    for layout in (x, np.asfortranarray(x)):
        want = np.array([[sum(a * b for a, b in zip(row, wi)) for wi in w.tolist()]
                         for row in layout.tolist()])
        assert _bits_equal(ordered_matmul(layout, w), want)


def _doc(action, cells=None, output=None) -> dict:
    doc = {"input": INPUT, "output": output or "double", "action": action}
    if cells:
        doc["cells"] = cells
    return doc


def _softmax_doc() -> dict:
    return _doc({"m.link.softmax": {"model.reg.linear": [X, {"cell": "m"}]}}, cells={"m": {
        "type": {"type": "record", "name": "M", "fields": [
            {"name": "coeff", "type": {"type": "array", "items": ARR}},
            {"name": "const", "type": ARR}]},
        "init": {"coeff": [[1.0, -2.0, 0.5], [300.0, 1.0, 0.0], [-1e-3, 4.0, 2.0],
                           [0.0, 0.0, 0.0]], "const": [0.1, -1.0, 0.0, 2.0]}}}, output=ARR)


#: a codebook with repeated rows and equal distances: (a, b, c, row id)
_CODEBOOK = [[float(v) for v in row] + [float(i)] for i, row in enumerate(
    np.random.default_rng(11).integers(-1, 3, size=(40, 3)).tolist())]


def _metric(name: str | None) -> list:
    if name is None:
        return []
    return [{"params": [{"x": ARR}, {"y": ARR}], "ret": "double",
             "do": {name: [{"fcn": "metric.absDiff"}, {"a.subseq": ["x", 0, 3]},
                           {"a.subseq": ["y", 0, 3]}]}}]


def _knn_doc(k: int, metric: str | None) -> dict:
    """The ids of the k nearest codebook rows, in the order nearestK gives them (the default
    metric compares the whole rows: the datum carries the id 0 in its last place)."""
    return _doc({"a.map": [{"model.neighbor.nearestK": [
        k, {"a.append": [X, 0.0]}, {"cell": "cb"}, *_metric(metric)]},
        {"params": [{"r": ARR}], "ret": "double", "do": {"attr": "r", "path": [3]}}]},
        cells={"cb": {"type": {"type": "array", "items": ARR}, "init": _CODEBOOK}},
        output=ARR)


def _frame(seed: int, n: int = 600, ties: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = rng.integers(-2, 4, size=(n, 3)).astype(float) if ties else \
        rng.normal(0, 2, size=(n, 3))
    mask = rng.random(size=data.shape) < 0.1
    data[mask] = rng.choice(EXTREMES, size=mask.sum())
    return pd.DataFrame(data, columns=["a", "b", "c"])


@pytest.mark.parametrize("numba", ["on", "off"])
@pytest.mark.parametrize("metric", ["metric.euclidean", "metric.squaredEuclidean",
                                    "metric.taxicab", "metric.chebyshev", None])
@pytest.mark.parametrize("k", [0, 1, 5, 40, 45])
def test_nearest_k_orders_ties_and_nan_as_the_record_path(k: int, metric: str | None,
                                                          numba: str, monkeypatch) -> None:
    monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1" if numba == "off" else "0")
    doc = _knn_doc(k, metric)
    columns, records = load_pfa(doc), load_pfa(doc, batch=False)
    assert columns.has_batch_path, columns.batch_path_reason
    frame = _frame(k, ties=metric != "metric.chebyshev" or k % 2 == 0)
    got, want = columns.predict(frame, errors="mark"), records.predict(frame, errors="mark")
    assert got["output"].map(len).eq(min(k, len(_CODEBOOK))).all()
    assert_same_frames(got.astype({"output": str}), want.astype({"output": str}))


@pytest.mark.parametrize("numba", ["on", "off"])
def test_softmax_regression_equals_the_record_path(numba: str, monkeypatch) -> None:
    monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1" if numba == "off" else "0")
    doc = _softmax_doc()
    columns, records = load_pfa(doc), load_pfa(doc, batch=False)
    assert columns.has_batch_path, columns.batch_path_reason
    frame = pd.concat([_frame(3, ties=False), _frame(4, ties=False) * 300.0], ignore_index=True)
    got, want = columns.predict(frame, errors="mark"), records.predict(frame, errors="mark")
    g = np.array(got["output"].tolist())
    w = np.array(want["output"].tolist())
    assert _bits_equal(g, w)


@pytest.mark.parametrize("numba", ["on", "off"])
@pytest.mark.parametrize("gamma", [0.5, -3.0, 0.0])
def test_rbf_machines_equal_the_record_path(gamma: float, numba: str, monkeypatch) -> None:
    """The support vector machine's RBF kernel over every vector at once (a negative gamma
    overflows the C library's exp: inf, then NaN or inf sums), the parameters in either order,
    one of them cut by a.subseq."""
    from test_pfa_columns_functions import _svm
    monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1" if numba == "off" else "0")
    for body in ({"m.kernel.rbf": ["sv", "d", gamma]},
                 {"m.kernel.rbf": [{"a.subseq": ["d", 0, 3]}, "sv", gamma]}):
        assert_paths_equal(_svm(body), _frame(9, ties=False))


@pytest.mark.parametrize("numba", ["on", "off"])
@pytest.mark.parametrize("metric", ["metric.euclidean", None])
def test_nearest_k_of_an_empty_codebook(metric: str | None, numba: str, monkeypatch) -> None:
    doc = _knn_doc(3, metric)
    doc["cells"]["cb"]["init"] = []
    got, _ = assert_paths_equal(doc, _frame(2, 50), numba=numba, monkeypatch=monkeypatch)
    assert got["output"].map(len).eq(0).all()
