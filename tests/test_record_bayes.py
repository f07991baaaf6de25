"""The single-record plan of NaiveBayesModel (pmml/record_bayes.py): every answer bit for bit the
column plan's (types and key order included), for every input row and for records mutated off
the happy path; scikit-learn's GaussianNB's own probabilities (1e-9); two classes and three,
with and without a density floor; no plan for the inputs it does not take.
"""
from __future__ import annotations

import numpy as np
import pytest

import portmodel
from record_util import mutations, pair, same_answer
from test_naive_bayes import DOC, gnb  # noqa: F401 - the fixture of an sklearn2pmml GaussianNB

GAUSS = """<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
<DataDictionary>
  <DataField name="size" optype="continuous" dataType="double"/>
  <DataField name="w" optype="continuous" dataType="double"/>
  <DataField name="cls" optype="categorical" dataType="string"><Value value="yes"/><Value value="no"/></DataField>
</DataDictionary>
<NaiveBayesModel functionName="classification" threshold="{threshold}">
  <MiningSchema>
    <MiningField name="cls" usageType="target"/><MiningField name="size"/><MiningField name="w"/>
  </MiningSchema>
  <Output>
    <OutputField name="p_yes" feature="probability" value="yes"/>
    <OutputField name="p_no" feature="probability" value="no"/>
  </Output>
  <BayesInputs>
    <BayesInput fieldName="size">
      <TargetValueStats>
        <TargetValueStat value="yes"><GaussianDistribution mean="5" variance="4"/></TargetValueStat>
        <TargetValueStat value="no"><GaussianDistribution mean="8" variance="1"/></TargetValueStat>
      </TargetValueStats>
    </BayesInput>
    <BayesInput fieldName="w">
      <TargetValueStats>
        <TargetValueStat value="no"><GaussianDistribution mean="-1.5" variance="0.25"/></TargetValueStat>
        <TargetValueStat value="yes"><GaussianDistribution mean="0.5" variance="9"/></TargetValueStat>
      </TargetValueStats>
    </BayesInput>
  </BayesInputs>
  <BayesOutput fieldName="cls">
    <TargetValueCounts><TargetValueCount value="yes" count="30"/><TargetValueCount value="no" count="70"/></TargetValueCounts>
  </BayesOutput>
</NaiveBayesModel>
</PMML>"""


@pytest.mark.oracle
def test_sklearn_gaussian_nb_records(gnb):  # noqa: F811
    """Three classes (numpy's softmax over a row): the record plan answers every row, with
    scikit-learn's probabilities (1e-9) and the column plan's bits; mutated records too."""
    pipe, X, y, path = gnb
    fast, slow = pair(path)
    assert fast._record_plan is not None
    X = X.head(60)
    want = pipe.predict_proba(X)
    for i, rec in enumerate(X.to_dict("records")):
        assert same_answer(fast, slow, rec), i
        got = fast.predict(rec)
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
    fast, slow = pair(GAUSS.replace("{threshold}", threshold))
    assert fast._record_plan is not None
    answered = declined = 0
    for size in (-1e6, -40.0, 0.0, 4.999, 5.0, 6.5, 8.0, 11.0, 1e3, 1e200):
        for w in (-30.0, -1.5, 0.0, 0.5, 2.25, 60.0):
            if same_answer(fast, slow, {"size": size, "w": w}):
                answered += 1
            else:
                declined += 1
    if threshold == "0":
        assert answered >= 20 and declined > 0
    else:
        assert declined == 0
    for m in mutations(fast, {"size": 6.0, "w": 0.1}):
        same_answer(fast, slow, m)


def test_other_inputs_leave_no_plan():
    """PairCounts, a discretized field, Poisson and uniform inputs: no record plan (the column
    plan scores every record)."""
    model = portmodel.load(DOC.replace("{threshold}", "0.001"))
    assert model.record_plan() is None
