"""The single-record plan of NaiveBayesModel (pmml/record_bayes.py): every answer bit for bit the
column plan's (types and key order included), for every input row and for records mutated off
the happy path; scikit-learn's GaussianNB's own probabilities (1e-9); two classes and three,
with and without a density floor; the conformance case it takes; no plan for the inputs it
does not take.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import portmodel
from record_util import (answered_rows, check_conformance_records,  # noqa: F401
                         conformance_cases, mutations, pair, same_answer)
from test_naive_bayes import DOC, gnb  # noqa: F401 - the fixture of an sklearn2pmml GaussianNB

#: the hand-written model of test_naive_bayes with its Gaussian input only, and "w" Gaussian too
#: (its stats listed in the other class order); the other inputs stay in the MiningSchema
W_GAUSS = """<BayesInput fieldName="w"><TargetValueStats>
        <TargetValueStat value="no"><GaussianDistribution mean="-1.5" variance="0.25"/></TargetValueStat>
        <TargetValueStat value="yes"><GaussianDistribution mean="0.5" variance="9"/></TargetValueStat>
      </TargetValueStats></BayesInput>"""


def gaussian_doc(threshold: str) -> str:
    text = re.sub(r'<BayesInput fieldName="(color|count|age)">.*?</BayesInput>\s*', "",
                  DOC.replace("{threshold}", threshold), flags=re.S)
    return re.sub(r"<Extension>.*?</Extension>", W_GAUSS, text, flags=re.S)


#: values of the inputs the model reads none of (the record must hold them)
OTHERS = {"color": "red", "count": 2.0, "age": 30.0}


@pytest.mark.oracle
def test_sklearn_gaussian_nb_records(gnb):  # noqa: F811
    """Three classes (numpy's softmax over a row): the record plan answers every row, with
    scikit-learn's probabilities (1e-9) and the column plan's bits; mutated records too."""
    pipe, X, y, path = gnb
    fast, slow = pair(path)
    assert fast._record_plan is not None
    X = X.head(60)
    want = pipe.predict_proba(X)
    for i, got in enumerate(answered_rows(fast, slow, X)):
        assert got["cultivar"] == pipe.predict(X.iloc[[i]])[0]
        for j, c in enumerate(pipe.classes_):
            assert abs(got[f"probability({c})"] - want[i, j]) <= 1e-9
    for m in mutations(fast, X.iloc[0].to_dict()):
        same_answer(fast, slow, m)
    same_answer(fast, slow, {k: np.nextafter(v, np.inf) for k, v in X.iloc[1].to_dict().items()})


@pytest.mark.parametrize("threshold", ["0.001", "0"])
def test_two_classes_with_and_without_a_floor(threshold):
    """Two classes (the elementwise softmax), Gaussian terms listed in another class order per
    input, the density floored at the threshold or not: the column plan's bits for records over
    a grid, far tails included (with no floor a density of 0 makes a class's score -inf: the
    record plan declines those and the column plan answers)."""
    fast, slow = pair(gaussian_doc(threshold))
    assert fast._record_plan is not None
    answered = declined = 0
    for size in (-1e6, -40.0, 0.0, 4.999, 5.0, 6.5, 8.0, 11.0, 1e3, 1e200):
        for w in (-30.0, -1.5, 0.0, 0.5, 2.25, 60.0):
            if same_answer(fast, slow, {"size": size, "w": w, **OTHERS}):
                answered += 1
            else:
                declined += 1
    if threshold == "0":
        assert answered >= 20 and declined > 0
    else:
        assert declined == 0
    for m in mutations(fast, {"size": 6.0, "w": 0.1, **OTHERS}):
        same_answer(fast, slow, m)


def test_other_inputs_leave_no_plan():
    """PairCounts, a discretized field, Poisson and uniform inputs: no record plan (the column
    plan scores every record)."""
    model = portmodel.load(DOC.replace("{threshold}", "0.001"))
    assert model.record_plan() is None


def test_conformance_records(conformance_cases):  # noqa: F811
    """rattle/NaiveBayesIris (Gaussian inputs): every input row the column plan's bits and the
    reference engine's expected outputs; mutated records."""
    check_conformance_records(conformance_cases["rattle/NaiveBayesIris"], mutate=2)
