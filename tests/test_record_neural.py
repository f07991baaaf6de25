"""The single-record plan of NeuralNetwork (pmml/record_neural.py): every answer bit for bit the
column plan's (types and key order included), for every input row and for records mutated off
the happy path; and in agreement with the conformance expectations (JPMML-Evaluator) and with
scikit-learn's own MLPs (1e-9).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from conformance_util import SHARED, agrees, read_csv
from test_neural_network import mlps  # noqa: F401 - the fixture of sklearn2pmml MLPs
from test_record_plan import _mutations, _pair, _same_answer, _typed_records

CASES = ["rattle/NeuralNetworkAudit", "rattle/NeuralNetworkAuto", "rattle/NeuralNetworkIris"]


@pytest.fixture(scope="module")
def conformance_cases():
    from conformance_util import cases
    found = {c["id"]: c for c in cases()}
    if not found:
        pytest.skip("../shared/conformance is absent")
    return found


@pytest.mark.parametrize("case_id", CASES)
def test_conformance_records(conformance_cases, case_id):
    case = conformance_cases[case_id]
    fast, slow = _pair(SHARED / case["document"])
    assert fast._record_plan is not None
    frame = read_csv(SHARED / case["input"])
    expected = read_csv(SHARED / case["expected"])
    records = _typed_records(fast, frame)
    answered = 0
    for i, rec in enumerate(records):
        answered += _same_answer(fast, slow, rec)
        got = fast.predict(rec, errors="mark")
        for col in expected.columns:
            if col in case.get("ignore_columns", []):
                continue
            exp = expected[col].iloc[i]
            exp = None if isinstance(exp, float) and math.isnan(exp) else exp
            assert agrees(exp, got[col], case["precision"], case["zero_threshold"]), \
                (i, col, exp, got[col])
    complete = sum(all(rec.get(f.name) is not None for f in fast.inputs) for rec in records)
    assert answered >= 0.9 * complete > 0
    for rec in records[:2]:
        for m in _mutations(fast, rec):
            _same_answer(fast, slow, m)


@pytest.mark.parametrize("name", ["iris_relu", "cancer_tanh", "diabetes_logistic"])
def test_sklearn_mlp_records(mlps, name):  # noqa: F811
    """relu / tanh / logistic hidden layers, softmax and logistic outputs, a regressor: the
    record plan answers every row, with scikit-learn's answers (1e-9) and the column plan's
    bits."""
    pipe, X, y, path = mlps[name]
    fast, slow = _pair(path)
    assert fast._record_plan is not None
    X = X.head(80)
    classifier = hasattr(pipe, "predict_proba")
    want = pipe.predict_proba(X) if classifier else pipe.predict(X)
    for i, rec in enumerate(X.to_dict("records")):
        assert _same_answer(fast, slow, rec), i
        got = fast.predict(rec)
        if classifier:
            for j, c in enumerate(pipe.steps[-1][1].classes_):
                assert abs(got[f"probability({c})"] - want[i, j]) <= 1e-9
        else:
            assert abs(got[y.name] - want[i]) <= 1e-9 * max(1.0, abs(want[i]))
    for m in _mutations(fast, X.iloc[0].to_dict()):
        _same_answer(fast, slow, m)
    big = {k: v * 1e6 for k, v in X.iloc[1].to_dict().items()}     # saturated activations
    _same_answer(fast, slow, big)
    _same_answer(fast, slow, {k: np.nextafter(v, np.inf) for k, v in X.iloc[2].to_dict().items()})
