"""The single-record plan (pmml/record.py) answers predict(dict) for happy-path records in plain
Python. It must give the column plan's answer bit for bit, decline every record that is not on
the happy path (the column plan then answers, errors included), and agree with independent
truth: the conformance expectations (JPMML-Evaluator) and scikit-learn's own probabilities.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import portmodel
from conformance_util import SHARED, read_csv
from exact_util import canon
from record_util import (check_conformance_records, conformance_cases,  # noqa: F401
                         mutations, pair, same_answer, typed_records)

RATTLE = ["rattle/LogisticRegressionAudit", "rattle/LogisticRegressionIris",
          "rattle/RegressionAuto", "rattle/RegressionXformAuto"]


@pytest.mark.parametrize("case_id", RATTLE)
def test_conformance_records(conformance_cases, case_id):
    """Each input record through the record plan gives JPMML's expected outputs, and exactly the
    column plan's answer; the plan answers (nearly) every complete record."""
    check_conformance_records(conformance_cases[case_id])


@pytest.mark.parametrize("case_id", RATTLE[:2])
def test_conformancemutations(conformance_cases, case_id):
    case = conformance_cases[case_id]
    fast, slow = pair(SHARED / case["document"])
    frame = read_csv(SHARED / case["input"])
    for rec in typed_records(fast, frame.head(3)):
        for m in mutations(fast, rec):
            same_answer(fast, slow, m)


@pytest.mark.parametrize("name", ["logreg_wine", "logreg_cancer"])
def test_sklearn_logistic_records(fitted, name):
    """sklearn2pmml's scaler + one-hot + logistic regression: the record plan answers every row,
    with scikit-learn's probabilities (1e-9) and the column plan's bits."""
    f = fitted[name]
    fast, slow = pair(f.path)
    assert fast._record_plan is not None
    X = f.X.head(60)
    want = f.pipeline.predict_proba(X)
    classes = list(f.pipeline.classes_)
    for i, rec in enumerate(X.to_dict("records")):
        assert same_answer(fast, slow, rec), i
        got = fast.predict(rec)
        for j, c in enumerate(classes):
            assert abs(got[f"probability({c})"] - want[i, j]) <= 1e-9
        assert got[f.target] == f.pipeline.predict(X.iloc[[i]])[0]
    for m in mutations(fast, X.iloc[0].to_dict()):
        same_answer(fast, slow, m)


def test_sample_linear_regression(samples_dir):
    """The bundled diabetes regression, against its own data file."""
    fast, slow = pair(samples_dir / "diabetes_linear.pmml")
    assert fast._record_plan is not None
    data = pd.read_csv(samples_dir / "diabetes.csv")
    records = data.head(40).to_dict("records")
    assert all(same_answer(fast, slow, r) for r in records)
    for m in mutations(fast, records[0]):
        same_answer(fast, slow, m)


# ---------------------------------------------------------------- the subset's corners

FIELDS = """
<DataField name="a" optype="continuous" dataType="double"/>
<DataField name="b" optype="continuous" dataType="double"/>
<DataField name="c" optype="categorical" dataType="string">
  <Value value="u"/><Value value="v"/><Value value="w"/>
</DataField>
<DataField name="t" optype="categorical" dataType="string">
  <Value value="p"/><Value value="q"/><Value value="r"/>
</DataField>
"""
GLOBAL = """
<DerivedField name="g" optype="continuous" dataType="double">
  <Apply function="*"><FieldRef field="a"/><Constant>3</Constant></Apply>
</DerivedField>
"""
MULTINOMIAL = """
<RegressionModel functionName="classification" normalizationMethod="{norm}">
  <MiningSchema>
    <MiningField name="a"/><MiningField name="b"/><MiningField name="c"/>
    <MiningField name="t" usageType="target"/>
  </MiningSchema>
  <Output>
    <OutputField name="best" feature="predictedValue"/>
    <OutputField name="p_best" feature="probability"/>
    <OutputField name="p_q" feature="probability" value="q"/>
    <OutputField name="p_none" feature="probability" value="s"/>
  </Output>
  <LocalTransformations>
    <DerivedField name="na" optype="continuous" dataType="double">
      <NormContinuous field="a" outliers="asExtremeValues">
        <LinearNorm orig="-1" norm="0"/><LinearNorm orig="0" norm="0.25"/>
        <LinearNorm orig="2" norm="1"/>
      </NormContinuous>
    </DerivedField>
    <DerivedField name="nb" optype="continuous" dataType="double">
      <NormContinuous field="b">
        <LinearNorm orig="0" norm="-1"/><LinearNorm orig="10" norm="1"/>
      </NormContinuous>
    </DerivedField>
    <DerivedField name="isv" optype="continuous" dataType="double">
      <NormDiscrete field="c" value="v"/>
    </DerivedField>
    <DerivedField name="folded" optype="continuous" dataType="double">
      <Apply function="-"><FieldRef field="g"/>
        <Apply function="/"><Constant dataType="double">1</Constant><Constant>4</Constant></Apply>
      </Apply>
    </DerivedField>
  </LocalTransformations>
  <RegressionTable targetCategory="p" intercept="0.3">
    <NumericPredictor name="na" coefficient="1.7"/>
    <NumericPredictor name="folded" coefficient="-0.2"/>
    <CategoricalPredictor name="c" value="u" coefficient="0.4"/>
  </RegressionTable>
  <RegressionTable targetCategory="q" intercept="-0.1">
    <NumericPredictor name="nb" coefficient="0.9"/>
    <NumericPredictor name="isv" coefficient="1.1"/>
  </RegressionTable>
  <RegressionTable targetCategory="r" intercept="0"/>
</RegressionModel>
"""


@pytest.mark.parametrize("norm", ["softmax", "simplemax", "none", "logit", "probit", "cloglog"])
def test_multinomial_corners(pmml_doc, norm):
    doc = pmml_doc(FIELDS, MULTINOMIAL.format(norm=norm), transformations=GLOBAL)
    fast, slow = pair(doc)
    assert fast._record_plan is not None
    rng = np.random.default_rng(1)
    answered = 0
    for _ in range(200):
        rec = {"a": float(rng.choice([-3.0, -1.0, 0.0, 0.5, 2.0, 5.0, rng.normal()])),
               "b": float(rng.normal(5, 8)), "c": str(rng.choice(["u", "v", "w"]))}
        answered += same_answer(fast, slow, rec)
    assert answered >= 150           # (simplemax/none may give NaN or ties: declined or not)
    for m in mutations(fast, {"a": 0.5, "b": 3.0, "c": "v"}):
        same_answer(fast, slow, m)


def test_multinomial_hand_computed(pmml_doc):
    """softmax over the three tables, computed here from the document's numbers."""
    fast = portmodel.load(pmml_doc(FIELDS, MULTINOMIAL.format(norm="softmax"),
                                   transformations=GLOBAL))
    a, b, c = 1.0, 15.0, "u"                     # a in [0, 2]; b above the last orig (asIs)
    na = 0.25 + (a - 0.0) / 2.0 * 0.75
    nb = -1.0 + (b - 0.0) / 10.0 * 2.0
    ys = [0.3 + 1.7 * na - 0.2 * (a * 3 - 0.25) + 0.4, -0.1 + 0.9 * nb, 0.0]
    e = [math.exp(y - max(ys)) for y in ys]
    probs = [x / sum(e) for x in e]
    got = fast.predict({"a": a, "b": b, "c": c})
    assert fast._record_plan({"a": a, "b": b, "c": c}) is not None
    for k, p in zip("pqr", probs):
        if k == "q":
            assert got["p_q"] == pytest.approx(p, rel=1e-12)
    assert got["t"] == "pqr"[int(np.argmax(probs))] == got["best"]
    assert got["p_best"] == pytest.approx(max(probs), rel=1e-12)
    assert got["p_none"] == 0.0


REGRESSION = """
<RegressionModel functionName="regression" normalizationMethod="{norm}">
  <MiningSchema>
    <MiningField name="a"/><MiningField name="b" {mf}/><MiningField name="c"/>
  </MiningSchema>
  <LocalTransformations>
    <DerivedField name="r" optype="continuous" dataType="double">
      <Apply function="/"><FieldRef field="a"/><FieldRef field="b"/></Apply>
    </DerivedField>
  </LocalTransformations>
  <RegressionTable intercept="0.5">
    <NumericPredictor name="r" coefficient="0.01"/>
    <NumericPredictor name="a" exponent="{exp}" coefficient="0.2"/>
    <CategoricalPredictor name="c" value="w" coefficient="-0.7"/>
  </RegressionTable>
</RegressionModel>
"""


@pytest.mark.parametrize("norm", ["none", "exp", "logit", "softmax", "cauchit", "loglog"])
def test_regression_corners(pmml_doc, norm):
    """Division by a field (0 declines), links through numpy, no target field (predictedValue)."""
    fast, slow = pair(pmml_doc(FIELDS, REGRESSION.format(norm=norm, mf="", exp="1")))
    assert fast._record_plan is not None
    for a in (-2.0, 0.0, 1.5, 1e200):
        for b in (-1.0, 0.0, 3.0, 1e-200):
            for c in ("u", "w"):
                same_answer(fast, slow, {"a": a, "b": b, "c": c})
    assert fast._record_plan({"a": 1.0, "b": 0.0, "c": "u"}) is None
    assert fast._record_plan({"a": 1.0, "b": 2.0, "c": "u"}) is not None
    for m in mutations(fast, {"a": 1.0, "b": 2.0, "c": "w"}):
        same_answer(fast, slow, m)


@pytest.mark.parametrize("mf,exp", [
    ('outliers="asMissingValues" lowValue="0" highValue="1"', "1"),   # a treatment that acts
    ('optype="categorical"', "1"),                                     # an op type override
    ("", "2"),                                                         # a polynomial term
])
def test_outside_the_subset_has_no_plan(pmml_doc, mf, exp):
    fast, slow = pair(pmml_doc(FIELDS, REGRESSION.format(norm="none", mf=mf, exp=exp)))
    assert fast._record_plan is None
    assert canon(fast.predict({"a": 1.0, "b": 2.0, "c": "u"})["predictedValue"]) == \
        canon(slow.predict({"a": 1.0, "b": 2.0, "c": "u"})["predictedValue"])
