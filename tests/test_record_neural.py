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
