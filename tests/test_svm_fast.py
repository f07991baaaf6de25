"""The fast radial-basis path of SupportVectorMachineModel (``svm_rbf``): scikit-learn SVC models
written as PMML by hand and scored on thousands of rows (categories and votes must be
scikit-learn's, decision values close to its decision_function), rows built on a decision
boundary where the expansion |x|^2 + |v|^2 - 2 x.v cannot tell the side (the bound must send
them to the exact path), hand-computed one-against-all and one-against-one documents through
the fast path, with the numba kernels and with their numpy twins (PORTMODEL_NO_NUMBA=1).
"""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.pmml.models import support_vector_machine as svm_mod
from portmodel.pmml.models import svm_rbf
from test_svm import PROBS, RBF, ROWS, doc, f_by_hand, machine, ovo_by_hand, ovo_doc


@pytest.fixture
def always_fast(monkeypatch):
    monkeypatch.setattr(svm_mod, "FAST_MIN_WORK", 0)


def svc_document(est, columns: list[str], target: str = "y") -> str:
    """A fitted scikit-learn SVC (rbf) as a one-against-one SupportVectorMachineModel: for the
    classes i < j, f = -(scikit-learn's ovo decision value), so f < 0 votes for class i."""
    classes = list(est.classes_)
    k = len(classes)
    sv = est.support_vectors_
    starts = np.concatenate([[0], np.cumsum(est.n_support_)])
    vecs = "".join(f'<VectorInstance id="s{s}"><Array type="real" n="{sv.shape[1]}">'
                   + " ".join(repr(float(v)) for v in row) + "</Array></VectorInstance>"
                   for s, row in enumerate(sv))
    machines = []
    p = 0
    for i in range(k):
        for j in range(i + 1, k):
            ids = list(range(starts[i], starts[i + 1])) + list(range(starts[j], starts[j + 1]))
            coefs = [est.dual_coef_[j - 1, s] for s in range(starts[i], starts[i + 1])] + \
                    [est.dual_coef_[i, s] for s in range(starts[j], starts[j + 1])]
            if k == 2:      # binary: decision_function > 0 means classes_[1]
                first, second, sign = classes[0], classes[1], 1.0
            else:           # ovo decision value > 0 votes for classes_[i]
                first, second, sign = classes[i], classes[j], -1.0
            machines.append(
                f'<SupportVectorMachine targetCategory="{first}" alternateTargetCategory="{second}">'
                "<SupportVectors>" + "".join(f'<SupportVector vectorId="s{s}"/>' for s in ids)
                + "</SupportVectors>"
                f'<Coefficients absoluteValue="{sign * float(est.intercept_[p])!r}">'
                + "".join(f'<Coefficient value="{sign * float(c)!r}"/>' for c in coefs)
                + "</Coefficients></SupportVectorMachine>")
            p += 1
    fields = "".join(f'<DataField name="{c}" optype="continuous" dataType="double"/>'
                     for c in columns)
    values = "".join(f'<Value value="{c}"/>' for c in classes)
    mining = "".join(f'<MiningField name="{c}"/>' for c in columns)
    probs = "".join(f'<OutputField name="p_{c}" feature="probability" value="{c}"/>'
                    for c in classes)
    refs = "".join(f'<FieldRef field="{c}"/>' for c in columns)
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
<DataDictionary>{fields}<DataField name="{target}" optype="categorical" dataType="string">{values}</DataField></DataDictionary>
<SupportVectorMachineModel functionName="classification" classificationMethod="OneAgainstOne">
  <MiningSchema><MiningField name="{target}" usageType="target"/>{mining}</MiningSchema>
  <Output>{probs}</Output>
  <RadialBasisKernelType gamma="{float(est._gamma)!r}"/>
  <VectorDictionary><VectorFields>{refs}</VectorFields>{vecs}</VectorDictionary>
  {"".join(machines)}
</SupportVectorMachineModel></PMML>"""


def sklearn_votes(est, X: np.ndarray) -> np.ndarray:
    classes = list(est.classes_)
    k = len(classes)
    if k == 2:
        d = est.decision_function(X)
        return np.column_stack([d <= 0, d > 0]).astype(float)
    dec = est.set_params(decision_function_shape="ovo").decision_function(X)
    votes = np.zeros((len(X), k))
    p = 0
    for i in range(k):
        for j in range(i + 1, k):
            votes[:, i] += dec[:, p] > 0
            votes[:, j] += dec[:, p] <= 0
            p += 1
    return votes / (k * (k - 1) / 2)


@pytest.mark.parametrize("classes,scale", [(2, 1.0), (3, 1.0), (2, 300.0)])
def test_fast_path_gives_sklearn_categories_and_votes(backend, classes, scale):
    """scale 300: inputs far from the origin, where the expansion loses most digits."""
    from sklearn.datasets import make_classification
    from sklearn.svm import SVC
    X, y = make_classification(n_samples=6000, n_features=12, n_informative=8,
                               n_classes=classes, n_clusters_per_class=1, random_state=3)
    X = X + scale * np.linspace(-1.0, 1.0, X.shape[1])
    labels = np.array([f"c{v}" for v in y])
    est = SVC(kernel="rbf", gamma="scale", C=2.0).fit(X[:800], labels[:800])
    cols = [f"x{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=cols)
    model = portmodel.load(svc_document(est, cols))
    assert model.model.fast is not None and len(df) * len(model.model.sv) >= svm_mod.FAST_MIN_WORK
    res = model.predict(df)
    assert res["y"].tolist() == list(est.predict(X))
    got = res[[f"p_{c}" for c in est.classes_]].to_numpy(float)
    np.testing.assert_array_equal(got, sklearn_votes(est, X))


def test_fast_decision_values_stay_within_their_bound_of_the_exact_path(backend):
    from sklearn.datasets import make_classification
    from sklearn.svm import SVC
    X, y = make_classification(n_samples=3000, n_features=20, random_state=5)
    X = X * 3.0 + 10.0
    est = SVC(kernel="rbf", gamma="scale").fit(X[:600], y[:600])
    cols = [f"x{i}" for i in range(20)]
    model = portmodel.load(svc_document(est, cols)).model
    f, bound = model.fast.values(X)
    exact = model.exact_values(X)
    assert np.isfinite(bound).all()
    assert (np.abs(f - exact) <= bound).all()
    # and both within a few ulps of scikit-learn (libsvm sums exact per-pair distances)
    dec = est.decision_function(X)
    np.testing.assert_allclose(f[:, 0], dec, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(exact[:, 0], dec, rtol=1e-9, atol=1e-11)


def boundary_document(c: float) -> str:
    """Two support vectors (c, 0.5) and (c, -0.5), alphas +1 and -1, gamma 1: f(x) = K(x, v1) -
    K(x, v2) has the sign of x2 (f < 0: "a"), however far x1 = c is from the origin."""
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
<DataDictionary><DataField name="x1" optype="continuous" dataType="double"/>
<DataField name="x2" optype="continuous" dataType="double"/>
<DataField name="y" optype="categorical" dataType="string"><Value value="a"/><Value value="b"/></DataField>
</DataDictionary>
<SupportVectorMachineModel functionName="classification">
  <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="x1"/><MiningField name="x2"/></MiningSchema>
  <RadialBasisKernelType gamma="1"/>
  <VectorDictionary><VectorFields><FieldRef field="x1"/><FieldRef field="x2"/></VectorFields>
    <VectorInstance id="v1"><Array type="real">{c!r} 0.5</Array></VectorInstance>
    <VectorInstance id="v2"><Array type="real">{c!r} -0.5</Array></VectorInstance>
  </VectorDictionary>
  <SupportVectorMachine targetCategory="a" alternateTargetCategory="b">
    <SupportVectors><SupportVector vectorId="v1"/><SupportVector vectorId="v2"/></SupportVectors>
    <Coefficients absoluteValue="0"><Coefficient value="1"/><Coefficient value="-1"/></Coefficients>
  </SupportVectorMachine>
</SupportVectorMachineModel></PMML>"""


def test_rows_the_bound_cannot_settle_are_scored_exactly(backend, always_fast):
    """x2 = +-1e-12 k and x1 = c + small offsets with c = 1000.3: f is about 1.6e-12 k while the
    expansion's rounding is about 1e-10, so the fast values alone cannot tell the sign."""
    c = 1000.3
    rng = np.random.default_rng(11)
    k = rng.integers(1, 50, 400) * rng.choice([-1, 1], 400)
    x1 = c + rng.uniform(-0.2, 0.2, 400)
    x2 = k * 1e-12
    model = portmodel.load(boundary_document(c))
    f, bound = model.model.fast.values(np.column_stack([x1, x2]))
    assert (np.abs(f[:, 0]) <= bound[:, 0]).all()        # every row goes to the exact path
    res = model.predict(pd.DataFrame({"x1": x1, "x2": x2}))
    # d1 = e^2 + (x2 - 0.5)^2 < d2 = e^2 + (x2 + 0.5)^2 exactly when x2 > 0: then f > 0 ("b")
    assert res["y"].tolist() == ["b" if v > 0 else "a" for v in x2]


def test_inputs_too_large_for_the_bound_go_to_the_exact_path(backend, always_fast):
    model = portmodel.load(boundary_document(0.0))
    x = np.array([[1e160, 1.0], [np.inf, 1.0], [0.0, 0.25], [0.0, -0.25]])
    f, bound = model.model.fast.values(x)
    assert np.isinf(bound[:2]).all() and np.isfinite(bound[2:]).all()
    res = model.predict(pd.DataFrame(x, columns=["x1", "x2"]))
    assert res["y"].tolist()[2:] == ["b", "a"]


# hand-written documents of test_svm through the fast path
MANY = [(float(a), float(b)) for a, b in np.random.default_rng(2).normal(0, 1.5, (300, 2))] + ROWS


@pytest.mark.parametrize("attrs,kw", [
    ('classificationMethod="OneAgainstOne"', {}),
    ('classificationMethod="OneAgainstOne" threshold="0.15"', {"threshold": 0.15}),
    ('classificationMethod="OneAgainstOne" maxWins="true"', {"max_wins": True}),
])
def test_one_against_one_through_the_fast_path(backend, always_fast, attrs, kw):
    df = pd.DataFrame(MANY, columns=["x1", "x2"])
    df["c"] = "u"
    res = portmodel.load(ovo_doc(attrs)).predict(df)
    for i, r in enumerate(MANY):
        label, probs = ovo_by_hand(r, **kw)
        assert res.loc[i, "y"] == label
        assert res.loc[i, ["pa", "pb", "pc"]].tolist() == pytest.approx([probs[c] for c in "abc"])


@pytest.mark.parametrize("max_wins", [False, True])
def test_one_against_all_through_the_fast_path(backend, always_fast, max_wins):
    machines = {"a": ({"v1": 0.5, "v2": -0.2}, 0.1), "b": ({"v2": 0.8}, -0.3),
                "c": ({"v3": -0.4, "v1": 0.3}, 0.05)}
    body = "".join(machine(al, b, f'targetCategory="{c}"') for c, (al, b) in machines.items())
    attrs = 'classificationMethod="OneAgainstAll"' + (' maxWins="true"' if max_wins else "")
    df = pd.DataFrame(MANY, columns=["x1", "x2"])
    df["c"] = "u"
    res = portmodel.load(doc(body, function="classification", kernel=RBF, attrs=attrs,
                             output=PROBS)).predict(df)
    for i, r in enumerate(MANY):
        f = {c: f_by_hand(RBF, r, al, b) for c, (al, b) in machines.items()}
        assert res.loc[i, "y"] == (max(f, key=f.get) if max_wins else min(f, key=f.get))


def test_missing_rows_keep_their_error_on_the_fast_path(backend, always_fast):
    df = pd.DataFrame([(None, 1.0)] + MANY[:50], columns=["x1", "x2"])
    df["c"] = "u"
    res = portmodel.load(ovo_doc()).predict(df, errors="mark")
    assert pd.isna(res.loc[0, "y"]) and "x1" in str(res.loc[0, "error"])
    assert res.loc[1, "y"] == ovo_by_hand(MANY[0])[0]


def test_unsure_best_flags_near_ties_and_non_finite_values():
    f = np.array([[0.0, 1.0, 2.0], [0.0, 1e-13, 5.0], [np.nan, 1.0, 2.0], [3.0, 2.0, 1.0]])
    bound = np.full_like(f, 1e-12)
    assert svm_rbf.unsure_best(f, bound, max_wins=False).tolist() == [False, True, True, False]
    assert svm_rbf.unsure_best(f, bound, max_wins=True).tolist() == [False, False, True, False]
    assert svm_rbf.unsure_votes(np.array([[1e-13], [0.5], [np.nan]]), np.full((3, 1), 1e-12),
                                np.array([0.0])).tolist() == [True, False, True]
