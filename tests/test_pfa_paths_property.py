"""Property test: the PFA column path gives the record path's outputs and errors (the record path
is the reference) on random inputs with overflow, infinities and NaN, for the document shapes of
benchmarks/pfa_docs.py and tests/test_pfa_batch.py."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pfa_paths_util import EXTREMES, PathPair

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from pfa_docs import logistic_regression_doc, tree_doc  # noqa: E402

ARR = {"type": "array", "items": "double"}
REC2 = {"type": "record", "name": "In", "fields": [{"name": "x", "type": "double"},
                                                   {"name": "y", "type": "double"}]}


def _network_doc() -> dict:
    layers = [{"weights": [[0.5, -1.0], [1.5, 0.25], [-0.5, 2.0]], "bias": [0.1, -0.2, 0.0]},
              {"weights": [[1.0, -1.0, 0.5], [2.0, 0.5, -3.0]], "bias": [0.3, -0.1]}]
    mtype = {"type": "array", "items": {"type": "record", "name": "Layer", "fields": [
        {"name": "weights", "type": {"type": "array", "items": ARR}},
        {"name": "bias", "type": ARR}]}}
    return {"input": REC2, "output": ARR, "cells": {"nn": {"type": mtype, "init": layers}},
            "action": {"model.neural.simpleLayers": [
                {"new": ["input.x", "input.y"], "type": ARR}, {"cell": "nn"},
                {"params": [{"v": "double"}], "ret": "double", "do": {"m.link.logit": "v"}}]}}


def _cluster_doc() -> dict:
    ctype = {"type": "array", "items": {"type": "record", "name": "Cluster", "fields": [
        {"name": "center", "type": ARR}, {"name": "id", "type": "string"}]}}
    clusters = [{"center": [0.0, 0.0], "id": "origin"}, {"center": [10.0, 10.0], "id": "far"},
                {"center": [-1e300, 1e300], "id": "huge"}]
    return {"input": REC2, "output": "string", "cells": {"c": {"type": ctype, "init": clusters}},
            "action": {"attr": {"model.cluster.closest": [
                {"new": ["input.x", "input.y"], "type": ARR}, {"cell": "c"}]}, "path": [["id"]]}}


def _softmax_doc() -> dict:
    mtype = {"type": "record", "name": "M", "fields": [
        {"name": "coeff", "type": {"type": "array", "items": ARR}}, {"name": "const", "type": ARR}]}
    return {"input": REC2, "output": ARR,
            "cells": {"m": {"type": mtype, "init": {"coeff": [[1.0, -2.0], [0.5, 3.0], [0, 0]],
                                                     "const": [0.1, -0.3, 0.0]}}},
            "action": {"m.link.softmax": {"model.reg.linear": [
                {"new": ["input.x", "input.y"], "type": ARR}, {"cell": "m"}]}}}


def _link_doc(link: str) -> dict:
    return {"input": REC2, "output": "double",
            "action": {link: {"+": ["input.x", {"*": ["input.y", 2.0]}]}}}


def _arith_doc() -> dict:
    return {"input": REC2, "output": "double", "action": {"-": [
        {"/": ["input.x", "input.y"]}, {"m.sqrt": {"m.abs": "input.y"}}]}}


SHAPES = {
    "logistic regression": lambda: logistic_regression_doc(n_features=4),
    "tree": lambda: tree_doc(depth=5, n_features=4),
    "neural network": _network_doc,
    "cluster": _cluster_doc,
    "softmax regression": _softmax_doc,
    "arithmetic": _arith_doc,
    **{link: (lambda link=link: _link_doc(link)) for link in (
        "m.link.logit", "m.link.probit", "m.link.cloglog", "m.link.loglog", "m.link.cauchit",
        "m.link.softplus", "m.link.relu", "m.link.tanh")},
}
_PAIRS: dict[str, PathPair] = {}


def _pair(shape: str) -> PathPair:
    if shape not in _PAIRS:
        _PAIRS[shape] = PathPair(SHAPES[shape]())
    return _PAIRS[shape]


def _fields(doc: dict) -> list[str]:
    return [f["name"] for f in doc["input"]["fields"]]


numbers = st.one_of(st.sampled_from(EXTREMES),
                    st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.floats(min_value=-50, max_value=50))


@pytest.mark.parametrize("shape", list(SHAPES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_column_path_equals_record_path(shape: str, data) -> None:
    pair = _pair(shape)
    names = _fields(pair.doc)
    n = data.draw(st.integers(1, 12))
    rows = [{k: data.draw(numbers) for k in names} for _ in range(n)]
    pair.check(pd.DataFrame(rows, columns=names))


@pytest.mark.parametrize("n_features", [4, 10])
def test_sums_that_overflow_agree(n_features: int) -> None:
    """Terms of +-1e308 and infinities: the sum depends on the order of the additions (an
    overflow is absorbed, cancelled or turned into NaN), so the column path must add in the
    record path's order (left to right) to give its answers, NaN included."""
    doc = logistic_regression_doc(n_features=n_features)
    pair = PathPair(doc)
    coeff = np.asarray(doc["cells"]["model"]["init"]["coeff"])
    rng = np.random.default_rng(7)
    size = np.array([1.0, 1e308, np.inf])[rng.choice(3, size=(600, n_features), p=[.6, .3, .1])]
    sign = rng.choice([1.0, -1.0], size=(600, n_features)) * np.sign(coeff)
    with np.errstate(over="ignore"):
        x = size * sign / np.where(size == 1e308, np.abs(coeff), 1.0)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(n_features)])
    got, want = pair.check(frame)
    assert want["output"].isna().any()   # the inputs do reach inf + -inf
