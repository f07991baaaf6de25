"""The column path's functions over array elements and the models built from them, in shapes
no exporter writes (closures over computed values, inline metrics, Chebyshev k-NN, kernels with
computed parameters, the error form under cond): the column path is taken and gives the record
path's outputs bit for bit, with NaN, infinities and huge values, numba on and off. The C
library helpers and the fsum proof are checked against Python's math module."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pfa_paths_util import (EXTREMES, INPUT3 as INPUT, assert_paths_equal, random_frame,
                            rows_sent_to_record_path)

from portmodel.pfa import batch_libm, load_pfa
from portmodel.pfa.batch_models import fsum_rows
from portmodel.pfa.lib.core import java_pow

ARR = {"type": "array", "items": "double"}
X = {"new": ["input.a", "input.b", "input.c"], "type": ARR}
CODEBOOK = [[0.0, 1.0, 2.0, 0.0], [1.5, -1.0, 0.5, 1.0], [0.0, 1.0, 2.0, 2.0],
            [-3.0, 2.0, 1e-3, 1.0], [2.0, 2.0, 2.0, 0.0]]


def _doc(action, cells=None, output=None) -> dict:
    doc = {"input": INPUT, "output": output or "double", "action": action}
    if cells:
        doc["cells"] = cells
    return doc


def _knn(metric) -> dict:
    return _doc([
        {"let": {"near": {"model.neighbor.nearestK": [3, {"a.append": [X, 0.0]},
                                                      {"cell": "cb"}, metric]}}},
        {"let": {"votes": {"a.map": ["near", {"params": [{"r": ARR}], "ret": "double",
                                              "do": {"attr": "r", "path": [3]}}]}}},
        {"/": [{"a.count": ["votes", {"params": [{"t": "double"}], "ret": "boolean",
                                      "do": {"==": ["t", 1.0]}}]}, 3.0]}],
        cells={"cb": {"type": {"type": "array", "items": ARR}, "init": CODEBOOK}})


def _inline(name: str) -> dict:
    return {"params": [{"x": ARR}, {"y": ARR}], "ret": "double",
            "do": {name: [{"fcn": "metric.absDiff"}, {"a.subseq": ["x", 0, 3]},
                          {"a.subseq": ["y", 0, 3]}]}}


MACHINE = {"type": "record", "name": "M", "fields": [
    {"name": "const", "type": "double"},
    {"name": "posClass", "type": {"type": "array", "items": {
        "type": "record", "name": "SV", "fields": [
            {"name": "supVec", "type": ARR}, {"name": "coeff", "type": "double"}]}}},
    {"name": "negClass", "type": {"type": "array", "items": "SV"}}]}
MACHINES = [{"const": 0.25, "posClass": [{"supVec": [1.0, 2.0, -1.0], "coeff": 0.7},
                                         {"supVec": [0.1, 0.2, 0.3], "coeff": -1e-3}],
             "negClass": [{"supVec": [-2.0, 0.5, 4.0], "coeff": -0.3}]},
            {"const": -1.0, "posClass": [{"supVec": [3.0, 1.0, 1.0], "coeff": 2.0}],
             "negClass": []}]


def _svm(kernel_body) -> dict:
    return _doc([
        {"let": {"s": {"a.map": [{"cell": "ms"}, {
            "params": [{"m": "M"}], "ret": "double",
            "do": {"model.svm.score": [X, "m", {"params": [{"sv": ARR}, {"d": ARR}],
                                                "ret": "double", "do": kernel_body}]}}]}}},
        {"+": [{"attr": "s", "path": [0]}, {"a.max": ["s"]}]}],
        cells={"ms": {"type": {"type": "array", "items": MACHINE}, "init": MACHINES}})


GAUSS = {"type": "record", "name": "G", "fields": [{"name": "mean", "type": "double"},
                                                    {"name": "variance", "type": "double"}]}

DOCS = {
    "knn euclidean": _knn(_inline("metric.euclidean")),
    "knn chebyshev": _knn(_inline("metric.chebyshev")),
    "knn taxicab": _knn(_inline("metric.taxicab")),
    "knn metric reading a computed value (one run per codebook row)": _knn(
        {"params": [{"x": ARR}, {"y": ARR}], "ret": "double",
         "do": {"*": [{"metric.euclidean": [{"fcn": "metric.absDiff"}, {"a.subseq": ["x", 0, 3]},
                                            {"a.subseq": ["y", 0, 3]}]},
                      {"m.abs": "input.c"}]}}),
    "knn minkowski p=3": _knn({"params": [{"x": ARR}, {"y": ARR}], "ret": "double",
                               "do": {"metric.minkowski": [
                                   {"fcn": "metric.absDiff"}, {"a.subseq": ["x", 0, 3]},
                                   {"a.subseq": ["y", 0, 3]}, 3.0]}}),
    "knn minkowski p=inf": _knn({"params": [{"x": ARR}, {"y": ARR}], "ret": "double",
                                 "do": {"metric.minkowski": [
                                     {"fcn": "metric.absDiff"}, {"a.subseq": ["x", 0, 3]},
                                     {"a.subseq": ["y", 0, 3]}, {"double": math.inf}]}}),
    "knn distance weights (a.any, a.zipmap, closures)": _doc([
        {"let": {"datum": {"a.append": [X, 0.0]}}},
        {"let": {"near": {"model.neighbor.nearestK": [3, "datum", {"cell": "cb"},
                                                      _inline("metric.euclidean")]}}},
        {"let": {"votes": {"a.map": ["near", {"params": [{"r": ARR}], "ret": "double",
                                              "do": {"attr": "r", "path": [3]}}]}}},
        {"let": {"dists": {"a.map": ["near", {"params": [{"r": ARR}], "ret": "double", "do": {
            "metric.euclidean": [{"fcn": "metric.absDiff"}, {"a.subseq": ["r", 0, 3]},
                                 {"a.subseq": ["datum", 0, 3]}]}}]}}},
        {"let": {"exact": {"a.any": ["dists", {"params": [{"v": "double"}], "ret": "boolean",
                                               "do": {"==": ["v", 0.0]}}]}}},
        {"let": {"weights": {"a.map": ["dists", {"params": [{"v": "double"}], "ret": "double",
                                                 "do": {"if": "exact", "then": {
                                                     "if": {"==": ["v", 0.0]}, "then": 1.0,
                                                     "else": 0.0},
                                                     "else": {"/": [1.0, "v"]}}}]}}},
        {"/": [{"a.sum": [{"a.zipmap": ["votes", "weights", {
            "params": [{"t": "double"}, {"u": "double"}], "ret": "double",
            "do": {"*": ["t", "u"]}}]}]}, {"a.sum": ["weights"]}]}],
        cells={"cb": {"type": {"type": "array", "items": ARR}, "init": CODEBOOK}}),
    "a.all and a.any deciding early": _doc([
        {"let": {"xs": X}},
        {"if": {"a.all": ["xs", {"params": [{"v": "double"}], "ret": "boolean",
                                 "do": {"<": [{"/": [1.0, "v"]}, 2.0]}}]},
         "then": {"m.kernel.linear": ["xs", {"value": [1.0, -2.0], "type": ARR}]},
         "else": {"if": {"a.any": ["xs", {"params": [{"v": "double"}], "ret": "boolean",
                                          "do": {">": ["v", 1.0]}}]},
                  "then": 1.0, "else": 2.0}}]),
    "knn default metric": _doc([
        {"let": {"near": {"model.neighbor.nearestK": [2, {"a.append": [X, 1.0]},
                                                      {"cell": "cb"}]}}},
        {"a.mean": [{"a.map": ["near", {"params": [{"r": ARR}], "ret": "double",
                                        "do": {"attr": "r", "path": [3]}}]}]}],
        cells={"cb": {"type": {"type": "array", "items": ARR}, "init": CODEBOOK}}),
    "svm rbf": _svm({"m.kernel.rbf": ["sv", "d", 0.5]}),
    "svm linear": _svm({"m.kernel.linear": ["sv", "d"]}),
    "svm poly, computed gamma": _svm({"m.kernel.poly": ["d", "sv", {"m.abs": "input.c"},
                                                        1.0, 3.0]}),
    "svm sigmoid": _svm({"m.kernel.sigmoid": ["sv", "d", 0.1, -0.5]}),
    "svm kernel reading a computed value (one run per vector)": _svm(
        {"m.kernel.rbf": ["sv", "d", {"m.abs": "input.c"}]}),
    "closure over computed values": _doc([
        {"let": {"xs": X}},
        {"let": {"top": {"a.max": ["xs"]}}},
        {"let": {"e": {"a.map": ["xs", {"params": [{"v": "double"}], "ret": "double",
                                        "do": {"m.exp": {"-": ["v", "top"]}}}]}}},
        {"let": {"total": {"a.sum": ["e"]}}},
        {"a.min": [{"a.map": ["e", {"params": [{"v": "double"}], "ret": "double",
                                    "do": {"/": ["v", "total"]}}]}]}]),
    "naive gaussian": _doc([
        {"let": {"x": {"a.subseq": [X, 0, 2]}}},
        {"-": [{"model.naive.gaussian": ["x", {"cell": "g", "path": [0]}]},
               {"model.naive.gaussian": ["x", {"cell": "g", "path": [1]}]}]}],
        cells={"g": {"type": {"type": "array", "items": {"type": "array", "items": GAUSS}},
                     "init": [[{"mean": 0.5, "variance": 2.0}, {"mean": -1.0, "variance": 0.1}],
                              [{"mean": 3.0, "variance": 1e-3}, {"mean": 0.0, "variance": 5.0}]]}}),
    "bins, error under cond": _doc([
        {"let": {"k": {"a.count": [{"value": [-1.0, 0.0, 2.5], "type": ARR},
                                   {"params": [{"e": "double"}], "ret": "boolean",
                                    "do": {"<=": ["e", "input.a"]}}]}}},
        {"cond": [{"if": {"impute.isnan": "input.b"}, "then": {"error": "b is missing"}},
                  {"if": {">": ["input.b", 1e300]}, "then": {"m.kernel.rbf": [X, X, 1.0]}}],
         "else": {"+": [{"double": 0.0}, "k"]}}]),
    "variance at zero: every row the record path's error": _doc([
        {"model.naive.gaussian": [{"a.subseq": [X, 0, 1]}, {"cell": "g"}]}],
        cells={"g": {"type": {"type": "array", "items": GAUSS},
                     "init": [{"mean": 0.5, "variance": 0.0}]}}),
    "misaligned kernel: every row the record path's error": _doc([
        {"m.kernel.linear": [X, {"value": [1.0, 2.0], "type": ARR}]}]),
}


@pytest.mark.parametrize("numba", ["on", "off"])
@pytest.mark.parametrize("shape", list(DOCS))
def test_column_path_equals_record_path_bit_for_bit(shape: str, numba: str,
                                                     monkeypatch) -> None:
    assert_paths_equal(DOCS[shape], random_frame(), numba=numba, monkeypatch=monkeypatch)


@pytest.mark.parametrize("shape", ["knn chebyshev", "svm rbf", "svm linear", "naive gaussian",
                                   "closure over computed values", "bins, error under cond"])
def test_clean_rows_are_scored_by_columns(shape: str, monkeypatch) -> None:
    """Finite rows are not handed to the record path (the bad mask is not everything)."""
    frame = pd.DataFrame(np.random.default_rng(1).normal(0, 2, size=(300, 3)),
                         columns=["a", "b", "c"])
    assert rows_sent_to_record_path(DOCS[shape], frame, monkeypatch) == 0


@pytest.mark.parametrize("numba", ["on", "off"])
def test_libm_helpers_are_the_math_module(numba: str, monkeypatch) -> None:
    monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1" if numba == "off" else "0")
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(0, 30, 5000), np.abs(rng.normal(0, 30, 5000)), EXTREMES])
    expect = {
        "exp": lambda v: math.exp(v) if not v > 709.8 else math.inf,
        "tanh": math.tanh, "atan": math.atan,
        "log": lambda v: math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan),
        "log10": lambda v: math.log10(v) if v > 0 else (-math.inf if v == 0 else math.nan)}
    with np.errstate(all="ignore"):
        for name, f in expect.items():
            got = getattr(batch_libm, name)(x)
            want = np.array([f(float(v)) for v in x])
            assert np.array_equal(got, want, equal_nan=True), name
        for y in (2.0, 3.0, 0.5, -1.0, 0.0, math.inf, math.nan):
            want = np.array([java_pow(float(v), y) for v in x])
            assert np.array_equal(batch_libm.jpow(x, y), want, equal_nan=True), y


def test_fsum_rows_is_math_fsum_where_it_claims_so() -> None:
    rng = np.random.default_rng(3)
    for k in (1, 2, 3, 4, 7, 13, 30):
        terms = [rng.normal(size=4000) * 10.0 ** rng.integers(-20, 20, size=4000)
                 for _ in range(k)]
        terms[0][:50] = -terms[-1][:50]              # cancellations
        value, unproven = fsum_rows(terms)
        want = np.array([math.fsum(t[i] for t in terms) for i in range(4000)])
        proven = ~unproven
        assert np.array_equal(value[proven].view(np.int64), want[proven].view(np.int64))
        assert unproven.mean() < 0.01


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from pfa_docs import MODEL_DOCS, mixed_records  # noqa: E402


def _mixed_frame(n: int, seed: int, extremes: bool) -> pd.DataFrame:
    recs = mixed_records(n, seed=seed)
    frame = pd.DataFrame(recs)
    frame["nx"] = pd.Series([r["nx"] for r in recs], dtype=object)
    if extremes:
        rng = np.random.default_rng(seed)
        for i in range(0, n, 3):
            frame.loc[i, f"x{int(rng.integers(8))}"] = EXTREMES[int(rng.integers(len(EXTREMES)))]
    return frame


@pytest.mark.parametrize("shape", list(MODEL_DOCS))
def test_benchmark_models_over_mixed_records(shape: str) -> None:
    """The benchmark's SVM, naive Bayes and k-NN documents (text, enum, boolean and nullable
    fields feeding the feature vector): column path = record path, bit for bit."""
    assert_paths_equal(MODEL_DOCS[shape](), _mixed_frame(300, 31, extremes=True))


@pytest.mark.parametrize("shape", ["softmax regression", "neural network", *MODEL_DOCS])
def test_benchmark_pmml_twins_give_the_same_labels(shape: str) -> None:
    """Independent truth for the benchmark's PMML twins: the PMML engine scoring the same
    parameters as PMML elements gives the PFA document's labels."""
    import portmodel
    from pfa_docs import MIXED_DOCS
    from pmml_equivalents import PMML_EQUIVALENTS
    frame = _mixed_frame(500, 25, extremes=False)
    pfa = load_pfa((MIXED_DOCS.get(shape) or MODEL_DOCS[shape])()).predict(frame)
    labels = pfa["label"] if "label" in pfa else pfa["output"]
    pmml = portmodel.load(PMML_EQUIVALENTS[shape]()).predict(frame)["y"]
    assert [str(v) for v in labels] == [str(v) for v in pmml]
