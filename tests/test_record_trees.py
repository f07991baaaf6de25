"""The single-record plans of trees, tree ensembles and model chains (pmml/record_tree.py,
pmml/record_mining.py): every answer bit for bit the column plan's (types and key order
included), for every input row and for records mutated off the happy path; and in agreement
with independent truth: the conformance expectations (JPMML-Evaluator) and scikit-learn's own
predictions.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

import portmodel
from conformance_util import SHARED, read_csv
from record_util import (check_conformance_records, conformance_cases,  # noqa: F401
                         mutations, pair, same_answer, typed_records)

CASES = ["rattle/DecisionTreeXformAuto", "rattle/RandomForestAudit", "rattle/RandomForestAuto",
         "rattle/RandomForestIris", "rattle/RandomForestXformIris"]


@pytest.mark.parametrize("case_id", CASES)
def test_conformance_records(conformance_cases, case_id):
    check_conformance_records(conformance_cases[case_id])


@pytest.mark.parametrize("case_id", CASES)
def test_conformancemutations(conformance_cases, case_id):
    case = conformance_cases[case_id]
    fast, slow = pair(SHARED / case["document"])
    frame = read_csv(SHARED / case["input"])
    for rec in typed_records(fast, frame.head(2)):
        for m in mutations(fast, rec):
            same_answer(fast, slow, m)


SKLEARN = ["tree_iris", "tree_diabetes", "forest_wine", "forest_diabetes", "gbm_cancer",
           "gbm_iris", "gbm_diabetes"]


@pytest.mark.parametrize("name", SKLEARN)
def test_sklearn_records(fitted, name):
    """sklearn2pmml's trees, forests and boosted trees (float fields, averaged probabilities,
    sums with Targets in a model chain with a logit/softmax regression): the record plan
    answers every row, with scikit-learn's answers (1e-9) and the column plan's bits."""
    f = fitted[name]
    fast, slow = pair(f.path)
    assert fast._record_plan is not None
    X = f.X.head(80)
    for i, rec in enumerate(X.to_dict("records")):
        assert same_answer(fast, slow, rec), i
        got = fast.predict(rec)
        if f.kind == "classifier":
            want = f.pipeline.predict_proba(X.iloc[[i]])[0]
            for j, c in enumerate(f.pipeline.classes_):
                assert abs(got[f"probability({c})"] - want[j]) <= 1e-9
        else:
            want = f.pipeline.predict(X.iloc[[i]])[0]
            assert abs(got[f.target] - want) <= 1e-9 * max(1.0, abs(want))
    for m in mutations(fast, X.iloc[0].to_dict()):
        same_answer(fast, slow, m)


@pytest.mark.parametrize("name", ["tree_iris", "forest_wine", "gbm_iris"])
def test_float_rounding_and_thresholds(fitted, name):
    """Values next to every split threshold (float fields round to float32 first, as the column
    plan does): the record plan answers them and gives the column plan's answers."""
    f = fitted[name]
    fast, slow = pair(f.path)
    base = f.X.iloc[0].to_dict()
    doc = f.path.read_text()
    thresholds = {}
    for field, value in re.findall(r'SimplePredicate field="([^"]+)" operator="\w+" '
                                   r'value="([^"]+)"', doc):
        thresholds.setdefault(field, set()).add(float(value))
    checked = 0
    for field, values in thresholds.items():
        if field not in base:
            continue
        for v in sorted(values)[:6]:
            for x in (v, np.nextafter(v, -np.inf), np.nextafter(v, np.inf),
                      float(np.float32(v)) + 1e-12, v * (1 + 1e-9)):
                rec = dict(base)
                rec[field] = float(x)
                assert same_answer(fast, slow, rec)
                checked += 1
    assert checked > 20


@pytest.mark.parametrize("name", ["tree_iris", "tree_diabetes"])
def test_single_tree_row_rounds_and_declines_as_the_column_plan(fitted, name):
    """A single tree over float fields reads the record as a packed row (no environment dict):
    doubles beyond float32's range in a float field become infinite there and decline to the
    column plan, as do NaN and infinities; doubles that round to a threshold's float32 take the
    column plan's branch; every answer is the column plan's."""
    f = fitted[name]
    fast, slow = pair(f.path)
    base = f.X.iloc[0].to_dict()
    assert fast.predict(base) is not None
    assert fast._record_plan.__name__ == "fused"        # (the packed-row entry)
    fields = [n for n in base if n in {f.name for f in fast.inputs}][:3]
    for field in fields:
        for x, answered in ((1e300, False), (-1e300, False), (3.5e38, False), (-3.5e38, False),
                            (math.nan, False), (math.inf, False), (3.4e38, True),
                            (1e-320, True), (-0.0, True)):
            rec = dict(base)
            rec[field] = x
            assert same_answer(fast, slow, rec) is answered, (field, x)


def test_no_plan_outside_the_subset(samples_dir, pmml_doc):
    """A tree whose records would blend nodes (weightedConfidence) has no record plan; the
    sample forest and tree have one."""
    assert portmodel.load(samples_dir / "iris_tree.pmml").record_plan() is not None
    assert portmodel.load(samples_dir / "iris_forest.pmml").record_plan() is not None
    doc = (samples_dir / "iris_tree.pmml").read_text()
    doc = doc.replace('<TreeModel ', '<TreeModel missingValueStrategy="weightedConfidence" ', 1) \
        if 'missingValueStrategy' not in doc else \
        re.sub(r'missingValueStrategy="\w+"', 'missingValueStrategy="weightedConfidence"', doc)
    m = portmodel.load(doc.encode())
    assert m.record_plan() is None



