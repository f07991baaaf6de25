"""The single-record plan of NeuralNetwork (pmml/record_neural.py): every answer bit for bit the
column plan's (types and key order included), for every input row and for records mutated off
the happy path; and in agreement with the conformance expectations (JPMML-Evaluator) and with
scikit-learn's own MLPs (1e-9).
"""
from __future__ import annotations


import numpy as np
import pytest

from test_neural_network import mlps  # noqa: F401 - the fixture of sklearn2pmml MLPs
from record_util import (check_conformance_records, conformance_cases,  # noqa: F401
                         mutations, pair, same_answer)

CASES = ["rattle/NeuralNetworkAudit", "rattle/NeuralNetworkAuto", "rattle/NeuralNetworkIris"]


@pytest.mark.parametrize("case_id", CASES)
def test_conformance_records(conformance_cases, case_id):
    check_conformance_records(conformance_cases[case_id], mutate=2)


@pytest.mark.parametrize("name", ["iris_relu", "cancer_tanh", "diabetes_logistic"])
def test_sklearn_mlp_records(mlps, name):  # noqa: F811
    """relu / tanh / logistic hidden layers, softmax and logistic outputs, a regressor: the
    record plan answers every row, with scikit-learn's answers (1e-9) and the column plan's
    bits."""
    pipe, X, y, path = mlps[name]
    fast, slow = pair(path)
    assert fast._record_plan is not None
    X = X.head(80)
    classifier = hasattr(pipe, "predict_proba")
    want = pipe.predict_proba(X) if classifier else pipe.predict(X)
    for i, rec in enumerate(X.to_dict("records")):
        assert same_answer(fast, slow, rec), i
        got = fast.predict(rec)
        if classifier:
            for j, c in enumerate(pipe.steps[-1][1].classes_):
                assert abs(got[f"probability({c})"] - want[i, j]) <= 1e-9
        else:
            assert abs(got[y.name] - want[i]) <= 1e-9 * max(1.0, abs(want[i]))
    for m in mutations(fast, X.iloc[0].to_dict()):
        same_answer(fast, slow, m)
    big = {k: v * 1e6 for k, v in X.iloc[1].to_dict().items()}     # saturated activations
    same_answer(fast, slow, big)
    same_answer(fast, slow, {k: np.nextafter(v, np.inf) for k, v in X.iloc[2].to_dict().items()})


@pytest.mark.parametrize("name", ["iris_relu", "cancer_tanh"])
def test_records_equal_the_rows_of_a_large_batch(mlps, name):  # noqa: F811
    """predict(dict) answers bit for bit what a batch of several blocks of rows (threads, tiles
    of rows, four neurons summed together, a few missing inputs) answers for the same row:
    random rows and every row next to a tile or block boundary."""
    from exact_util import canon
    from portmodel.pmml.models import neural_network as nn
    pipe, X, y, path = mlps[name]
    fast, _ = pair(path)
    rng = np.random.default_rng(17)
    n = 2 * nn.ROW_BLOCK + 600
    data = X.iloc[rng.integers(0, len(X), n)].reset_index(drop=True)
    data = data * np.exp(rng.normal(scale=0.3, size=data.shape))       # rows of their own
    data.iloc[rng.integers(0, n, 5), 1] = np.nan
    batch = fast.predict(data)
    near = {i + d for i in range(0, n, 512) for d in (-1, 0, 1)}
    rows = sorted({int(i) for i in rng.integers(0, n, 150)} | {i for i in near if 0 <= i < n})
    answered = 0
    for i in rows:
        rec = data.iloc[i].to_dict()
        answered += fast._record_plan(rec) is not None
        got = fast.predict(rec)
        want = batch.iloc[i].to_dict()
        assert list(got) == list(want), i
        assert {k: canon(v) for k, v in got.items()} == {k: canon(v) for k, v in want.items()}, i
    assert answered >= len(rows) - 5                   # the record plan answered them
