"""The single-record plan of SupportVectorMachineModel (pmml/record_svm.py): every answer bit for
bit the column plan's (types and key order included) for one-against-one votes (thresholds,
maxWins, a tie), every kernel and regression, records mutated off the happy path; the
conformance cases it takes against the reference engine's expected outputs; scikit-learn's SVC
and SVR; no plan for what it does not take.
"""
from __future__ import annotations

import pytest

import portmodel
from record_util import (answered_rows, check_conformance_records,  # noqa: F401
                         conformance_cases, mutations, pair, same_answer)
from test_svm import (ALPHAS, KERNELS, OVO_MACHINES, PROBS, RBF, ROWS, doc, machine,  # noqa: F401
                      ovo_doc, svms, _with_probability_outputs)

GRID = ROWS + [(0.3, -2.5), (4.0, 4.0), (-1e3, 2.0), (1e-300, -0.0), (7.5, 1e6)]


def records():
    return [{"x1": a, "x2": b, "c": "u"} for a, b in GRID]


def check(text: str) -> None:
    fast, slow = pair(text)
    assert fast._record_plan is not None
    for rec in records():
        assert same_answer(fast, slow, rec), rec
    for m in mutations(fast, records()[1]):
        same_answer(fast, slow, m)


@pytest.mark.parametrize("numba", [True, False])
@pytest.mark.parametrize("attrs,thresholds", [
    ('classificationMethod="OneAgainstOne"', (None, None, None)),
    ('classificationMethod="OneAgainstOne" threshold="0.15"', (0.4, None, -0.2)),
    ('classificationMethod="OneAgainstOne" maxWins="true"', (None, None, None)),
    ("", (None, None, None)),
])
def test_one_against_one(attrs, thresholds, numba, monkeypatch):
    """(numba off: the distances from the model's own exact path, cdist)"""
    if not numba:
        monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1")
    check(ovo_doc(attrs, thresholds))


def test_one_against_one_tie():
    body = "".join([
        machine({"v1": 1.0}, -10.0, 'targetCategory="b" alternateTargetCategory="c"'),
        machine({"v1": 1.0}, 10.0, 'targetCategory="a" alternateTargetCategory="c"'),
        machine({"v1": 1.0}, -10.0, 'targetCategory="a" alternateTargetCategory="b"'),
    ])
    text = doc(body, function="classification", attrs='classificationMethod="OneAgainstOne"',
               output=PROBS)
    fast, slow = pair(text)
    assert same_answer(fast, slow, {"x1": 1.0, "x2": 1.0, "c": "u"})
    assert fast.predict({"x1": 1.0, "x2": 1.0, "c": "u"})["y"] == "a"     # the first of equals
    check(text)


@pytest.mark.parametrize("max_wins", [False, True])
def test_decision_value_on_the_threshold(max_wins):
    """A machine's value exactly on its threshold (linear kernel, x = (1, 1), v1 = (1, 2),
    b = -3: f = 0) votes as the column plan votes: for the alternate either way."""
    body = "".join([
        machine({"v1": 1.0}, -3.0, 'targetCategory="a" alternateTargetCategory="b"'),
        machine({"v1": 1.0}, -3.0, 'targetCategory="a" alternateTargetCategory="c"'),
        machine({"v1": 1.0}, -2.0, 'targetCategory="b" alternateTargetCategory="c"'),
    ])
    attrs = 'classificationMethod="OneAgainstOne"' + (' maxWins="true"' if max_wins else "")
    text = doc(body, function="classification", attrs=attrs, output=PROBS)
    fast, slow = pair(text)
    rec = {"x1": 1.0, "x2": 1.0, "c": "u"}
    assert same_answer(fast, slow, rec)
    assert fast.predict(rec)["pa"] == 0.0


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_regression_with_each_kernel(kernel):
    check(doc(machine(ALPHAS, 0.3), kernel=kernel))


@pytest.mark.parametrize("case_id", ["rattle/KernlabSVMIris", "rattle/LibSVMIris",
                                     "rattle/KernlabSVMAuto", "rattle/KernlabSVMAudit",
                                     "rattle/LibSVMAudit"])
def test_conformance_records(conformance_cases, case_id):  # noqa: F811
    check_conformance_records(conformance_cases[case_id], mutate=1)


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["svc_rbf_iris", "svc_poly_iris", "svc_linear_cancer",
                                  "svr_rbf_diabetes"])
def test_sklearn_svm_records(svms, name):  # noqa: F811
    """scikit-learn's SVC (votes as probabilities) and SVR: every row answered with the column
    plan's bits and scikit-learn's label / value."""
    pipe, X, y, path = svms[name]
    text = path.read_text() if name.startswith("svr") else \
        _with_probability_outputs(path, list(pipe.steps[-1][1].classes_))
    fast, slow = pair(text)
    assert fast._record_plan is not None
    X = X.head(40)
    want = pipe.predict(X)
    for i, answer in enumerate(answered_rows(fast, slow, X)):
        got = answer[y.name]
        if name.startswith("svr"):
            assert abs(got - want[i]) <= 1e-9 * max(1.0, abs(want[i]))
        else:
            assert str(got) == str(want[i])


@pytest.mark.parametrize("variant", ["one-against-all", "alternate binary", "categorical"])
def test_outside_the_subset_no_plan(variant):
    if variant == "one-against-all":
        body = "".join(machine(al, b, f'targetCategory="{t}"') for t, _, al, b in OVO_MACHINES)
        text = doc(body, function="classification", kernel=RBF, output=PROBS,
                   attrs='classificationMethod="OneAgainstAll"')
    elif variant == "alternate binary":
        text = doc(machine({"v1": 1.0}, 0.0, 'targetCategory="a"'), function="classification",
                   attrs='alternateBinaryTargetCategory="c"')
    else:
        vfields = """<VectorDictionary><VectorFields><FieldRef field="x1"/>
          <CategoricalPredictor name="c" value="v" coefficient="1"/></VectorFields>
          <VectorInstance id="s"><Array type="real">2 1</Array></VectorInstance>
          </VectorDictionary>"""
        text = doc(machine({"s": 1.5}, 0.0), kernel=RBF, dictionary=vfields)
    assert portmodel.load(text).record_plan() is None
