"""SupportVectorMachineModel scoring: hand-written models (each kernel, dense and sparse vectors,
one-against-one votes, one-against-all, binary threshold, alternateBinaryTargetCategory, the
Coefficients representation) checked against decision values worked out by hand from the PMML 4.4
formulas; and scikit-learn SVC / SVR / LinearSVC models checked against scikit-learn.
"""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.errors import DocumentError, UnsupportedError
from sklearn_models import export_all, require_exporter

# three support vectors: a dense Array, a full sparse array, a sparse array with a default entry
VECTORS = {"v1": (1.0, 2.0), "v2": (0.5, -1.0), "v3": (0.0, 3.0)}
DICTIONARY = """<VectorDictionary numberOfVectors="3">
    <VectorFields numberOfFields="2"><FieldRef field="x1"/><FieldRef field="x2"/></VectorFields>
    <VectorInstance id="v1"><Array type="real" n="2">1 2</Array></VectorInstance>
    <VectorInstance id="v2"><REAL-SparseArray n="2"><Indices>1 2</Indices><REAL-Entries>0.5 -1</REAL-Entries></REAL-SparseArray></VectorInstance>
    <VectorInstance id="v3"><REAL-SparseArray n="2"><Indices>2</Indices><REAL-Entries>3</REAL-Entries></REAL-SparseArray></VectorInstance>
  </VectorDictionary>"""
ROWS = [(1.0, 2.0), (-0.7, 0.3), (2.5, -1.2), (0.0, 0.0)]


def doc(body: str, *, function: str = "regression", kernel: str = "<LinearKernelType/>",
        attrs: str = "", dictionary: str = DICTIONARY, output: str = "") -> str:
    target = ('<DataField name="y" optype="continuous" dataType="double"/>' if function == "regression"
              else '<DataField name="y" optype="categorical" dataType="string">'
                   '<Value value="a"/><Value value="b"/><Value value="c"/></DataField>')
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
<DataDictionary>
  <DataField name="x1" optype="continuous" dataType="double"/>
  <DataField name="x2" optype="continuous" dataType="double"/>
  <DataField name="c" optype="categorical" dataType="string"><Value value="u"/><Value value="v"/></DataField>
  {target}
</DataDictionary>
<SupportVectorMachineModel functionName="{function}" {attrs}>
  <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="x1"/><MiningField name="x2"/><MiningField name="c"/></MiningSchema>
  {output}
  {kernel}
  {dictionary}
  {body}
</SupportVectorMachineModel>
</PMML>"""


def machine(alphas: dict[str, float], b: float, attrs: str = "") -> str:
    svs = "".join(f'<SupportVector vectorId="{v}"/>' for v in alphas)
    cs = "".join(f'<Coefficient value="{a!r}"/>' for a in alphas.values())
    return (f'<SupportVectorMachine {attrs}><SupportVectors>{svs}</SupportVectors>'
            f'<Coefficients absoluteValue="{b!r}">{cs}</Coefficients></SupportVectorMachine>')


def predict(document: str, rows=ROWS, **kw) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["x1", "x2"])
    df["c"] = "u"
    return portmodel.load(document).predict(df, **kw)


def dot(x, v):
    return sum(a * b for a, b in zip(x, v))


KERNELS = {  # PMML 4.4 kernel formulas
    '<LinearKernelType/>': lambda x, v: dot(x, v),
    '<PolynomialKernelType gamma="0.5" coef0="1.5" degree="3"/>':
        lambda x, v: (0.5 * dot(x, v) + 1.5) ** 3,
    '<PolynomialKernelType/>': lambda x, v: dot(x, v) + 1.0,   # defaults gamma=1 coef0=1 degree=1
    '<RadialBasisKernelType gamma="0.3"/>':
        lambda x, v: math.exp(-0.3 * sum((a - b) ** 2 for a, b in zip(x, v))),
    '<SigmoidKernelType gamma="0.2" coef0="-0.5"/>': lambda x, v: math.tanh(0.2 * dot(x, v) - 0.5),
}
ALPHAS = {"v1": 0.7, "v2": -1.2, "v3": 0.4}


def f_by_hand(kernel: str, x, alphas=ALPHAS, b: float = 0.3) -> float:
    return sum(a * KERNELS[kernel](x, VECTORS[v]) for v, a in alphas.items()) + b


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_regression_with_each_kernel(kernel):
    got = predict(doc(machine(ALPHAS, 0.3), kernel=kernel))["y"].to_numpy(float)
    np.testing.assert_allclose(got, [f_by_hand(kernel, r) for r in ROWS], rtol=1e-13, atol=1e-15)


def test_sparse_array_default_value_and_dense_array_with_n():
    d = doc(machine({"v3": 1.0}, 0.0)).replace(
        '<REAL-SparseArray n="2"><Indices>2</Indices><REAL-Entries>3</REAL-Entries></REAL-SparseArray>',
        '<REAL-SparseArray n="2" defaultValue="-2"><Indices>2</Indices><REAL-Entries>3</REAL-Entries></REAL-SparseArray>')
    assert predict(d, rows=[(1.0, 1.0)])["y"].tolist() == [pytest.approx(-2.0 + 3.0)]


def test_vector_instance_with_wrong_length_is_rejected():
    d = doc(machine({"v1": 1.0}, 0.0)).replace('<Array type="real" n="2">1 2</Array>',
                                               '<Array type="real" n="3">1 2 3</Array>')
    with pytest.raises(DocumentError, match="VectorFields"):
        portmodel.load(d)


def test_unknown_vector_id_is_rejected():
    with pytest.raises(DocumentError, match="nope"):
        portmodel.load(doc(machine({"nope": 1.0}, 0.0)))


# OvO: machines (target vs alternate); f < threshold votes for the target
OVO_MACHINES = [("a", "b", {"v1": 0.7, "v2": -0.3}, -0.5),
                ("a", "c", {"v2": 1.1, "v3": -0.4}, 0.2),
                ("b", "c", {"v1": -0.6, "v3": 0.9}, 0.1)]
PROBS = """<Output><OutputField name="pa" feature="probability" value="a"/>
  <OutputField name="pb" feature="probability" value="b"/><OutputField name="pc" feature="probability" value="c"/></Output>"""
RBF = '<RadialBasisKernelType gamma="0.3"/>'


def ovo_doc(attrs: str = 'classificationMethod="OneAgainstOne"', thresholds=(None, None, None)):
    body = "".join(machine(al, b, f'targetCategory="{t}" alternateTargetCategory="{a}"'
                           + (f' threshold="{th}"' if th is not None else ""))
                   for (t, a, al, b), th in zip(OVO_MACHINES, thresholds))
    return doc(body, function="classification", kernel=RBF, attrs=attrs, output=PROBS)


def ovo_by_hand(x, threshold=0.0, max_wins=False, thresholds=(None, None, None)):
    votes = {"a": 0, "b": 0, "c": 0}
    for (t, a, al, b), th in zip(OVO_MACHINES, thresholds):
        f = f_by_hand(RBF, x, al, b)
        th = threshold if th is None else th
        votes[t if (f > th if max_wins else f < th) else a] += 1
    best = max(votes.values())
    return next(c for c in "abc" if votes[c] == best), {c: v / 3 for c, v in votes.items()}


@pytest.mark.parametrize("attrs,kw", [
    ('classificationMethod="OneAgainstOne"', {}),
    ('classificationMethod="OneAgainstOne" threshold="0.15"', {"threshold": 0.15}),
    ('classificationMethod="OneAgainstOne" maxWins="true"', {"max_wins": True}),
    ("", {}),   # attribute omitted but every machine names an alternate: one-against-one layout
])
def test_one_against_one_votes(attrs, kw):
    res = predict(ovo_doc(attrs))
    for i, r in enumerate(ROWS):
        label, probs = ovo_by_hand(r, **kw)
        assert res.loc[i, "y"] == label
        assert res.loc[i, ["pa", "pb", "pc"]].tolist() == pytest.approx([probs[c] for c in "abc"])


def test_one_against_one_machine_threshold_overrides_model():
    ths = (0.4, None, -0.2)
    res = predict(ovo_doc('classificationMethod="OneAgainstOne" threshold="0.05"', ths))
    for i, r in enumerate(ROWS):
        label, probs = ovo_by_hand(r, threshold=0.05, thresholds=ths)
        assert res.loc[i, "y"] == label
        assert res.loc[i, "pb"] == pytest.approx(probs["b"])


def test_one_against_one_tie_goes_to_first_category_in_target_order():
    # linear kernel on v1 = (1, 2); at x = (1, 1) f = 3 * alpha + b
    body = "".join([
        machine({"v1": 1.0}, -10.0, 'targetCategory="b" alternateTargetCategory="c"'),  # f<0: b
        machine({"v1": 1.0}, 10.0, 'targetCategory="a" alternateTargetCategory="c"'),   # f>0: c
        machine({"v1": 1.0}, -10.0, 'targetCategory="a" alternateTargetCategory="b"'),  # f<0: a
    ])
    d = doc(body, function="classification", attrs='classificationMethod="OneAgainstOne"',
            output=PROBS)
    res = predict(d, rows=[(1.0, 1.0)])
    assert res.loc[0, ["pa", "pb", "pc"]].tolist() == pytest.approx([1 / 3] * 3)
    assert res.loc[0, "y"] == "a"


@pytest.mark.parametrize("max_wins", [False, True])
def test_one_against_all(max_wins):
    machines = {"a": ({"v1": 0.5, "v2": -0.2}, 0.1), "b": ({"v2": 0.8}, -0.3),
                "c": ({"v3": -0.4, "v1": 0.3}, 0.05)}
    body = "".join(machine(al, b, f'targetCategory="{c}"') for c, (al, b) in machines.items())
    attrs = 'classificationMethod="OneAgainstAll"' + (' maxWins="true"' if max_wins else "")
    res = predict(doc(body, function="classification", kernel=RBF, attrs=attrs, output=PROBS))
    for i, r in enumerate(ROWS):
        f = {c: f_by_hand(RBF, r, al, b) for c, (al, b) in machines.items()}
        assert res.loc[i, "y"] == (max(f, key=f.get) if max_wins else min(f, key=f.get))
    assert res[["pa", "pb", "pc"]].isna().all().all()   # no probabilities in one-against-all


@pytest.mark.parametrize("method", ["", 'classificationMethod="OneAgainstAll"'])
def test_binary_single_machine_uses_the_threshold(method):
    """One machine with an alternateTargetCategory is a binary model whatever the method: f below
    the threshold is the targetCategory (the layout of the disputed rattle SVM cases)."""
    body = machine(ALPHAS, 0.3, 'targetCategory="a" alternateTargetCategory="b"')
    res = predict(doc(body, function="classification", attrs=method + ' threshold="1"',
                      output=PROBS))
    for i, r in enumerate(ROWS):
        first = f_by_hand("<LinearKernelType/>", r) < 1.0
        assert res.loc[i, "y"] == ("a" if first else "b")
        assert res.loc[i, ["pa", "pb", "pc"]].tolist() == ([1.0, 0.0, 0.0] if first else
                                                            [0.0, 1.0, 0.0])


def test_alternate_binary_target_category_rounds_the_value():
    body = machine({"v1": 1.0}, 0.0, 'targetCategory="a"')   # f = x1 + 2 x2
    d = doc(body, function="classification", attrs='alternateBinaryTargetCategory="c"')
    res = predict(d, rows=[(0.8, 0.0), (0.2, 0.0), (0.1, 0.7), (0.7, 0.0)], errors="mark")
    assert res["y"].tolist()[:2] == ["a", "c"]
    assert pd.isna(res.loc[2, "y"]) and "round" in str(res.loc[2, "error"])   # 1.5 rounds to 2
    assert res.loc[3, "y"] == "a"


def test_coefficients_representation_and_categorical_predictor():
    vfields = """<VectorDictionary><VectorFields><FieldRef field="x1"/><FieldRef field="x2"/>
      <CategoricalPredictor name="c" value="v" coefficient="1"/></VectorFields></VectorDictionary>"""
    body = """<SupportVectorMachine><Coefficients absoluteValue="0.5">
      <Coefficient value="2"/><Coefficient value="-1"/><Coefficient value="10"/></Coefficients></SupportVectorMachine>"""
    d = doc(body, attrs='svmRepresentation="Coefficients"', dictionary=vfields)
    df = pd.DataFrame({"x1": [1.0, 3.0], "x2": [4.0, 1.0], "c": ["u", "v"]})
    assert portmodel.load(d).predict(df)["y"].tolist() == pytest.approx([-1.5, 15.5])
    with pytest.raises(UnsupportedError):
        portmodel.load(d.replace("<LinearKernelType/>", RBF))


def test_categorical_predictor_in_support_vector_form():
    vfields = """<VectorDictionary><VectorFields><FieldRef field="x1"/>
      <CategoricalPredictor name="c" value="v" coefficient="1"/></VectorFields>
      <VectorInstance id="s"><Array type="real">2 1</Array></VectorInstance></VectorDictionary>"""
    d = doc(machine({"s": 1.5}, 0.0), kernel=RBF, dictionary=vfields)
    df = pd.DataFrame({"x1": [1.0, 1.0], "x2": [0.0, 0.0], "c": ["u", "v"]})
    got = portmodel.load(d).predict(df)["y"].tolist()
    assert got == pytest.approx([1.5 * math.exp(-0.3 * 2), 1.5 * math.exp(-0.3 * 1)], rel=1e-14)


def test_missing_vector_value_is_a_row_error():
    res = predict(doc(machine(ALPHAS, 0.3)), rows=[(None, 1.0), (1.0, 2.0)], errors="mark")
    assert pd.isna(res.loc[0, "y"]) and "x1" in str(res.loc[0, "error"])
    assert res.loc[1, "y"] == pytest.approx(f_by_hand("<LinearKernelType/>", (1.0, 2.0)))


# ---------------------------------------------------------------- scikit-learn


def _frames():
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
    iris = load_iris(as_frame=True)
    Xi = iris.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    yi = iris.target.map(dict(enumerate(iris.target_names))).rename("species")
    cancer = load_breast_cancer(as_frame=True)
    Xc = cancer.data.iloc[:, :6]
    Xc = (Xc - Xc.mean()) / Xc.std()
    Xc.columns = [f"f{i}" for i in range(6)]
    diabetes = load_diabetes(as_frame=True)
    return {"iris": (Xi, yi), "cancer": (Xc, cancer.target.rename("label")),
            "diabetes": (diabetes.data, diabetes.target.rename("progression"))}


@pytest.fixture(scope="module")
def svms(tmp_path_factory):
    require_exporter()
    from sklearn.svm import SVC, SVR, LinearSVC
    from sklearn2pmml.pipeline import PMMLPipeline
    data = _frames()
    specs = {
        "svc_rbf_iris": ("iris", SVC(kernel="rbf", C=3.0)),
        "svc_poly_iris": ("iris", SVC(kernel="poly", degree=3, coef0=0.5)),
        "svc_linear_cancer": ("cancer", SVC(kernel="linear")),
        "svr_rbf_diabetes": ("diabetes", SVR(kernel="rbf", C=50.0, gamma=5.0)),
        "linearsvc_iris": ("iris", LinearSVC(random_state=0)),
    }
    folder = tmp_path_factory.mktemp("svm")
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (ds, est) in specs.items():
            X, y = data[ds]
            pipe = PMMLPipeline([("est", est)])
            pipe.fit(X, y)
            out[name] = (pipe, X, y, folder / f"{name}.pmml")
        export_all({name: (v[0], v[3]) for name, v in out.items()})
    return out


def _with_probability_outputs(path, classes) -> str:
    text = path.read_text()
    fields = "".join(f'<OutputField name="p_{c}" feature="probability" value="{c}"/>'
                     for c in classes)
    return re.sub(r"(</MiningSchema>)", r"\1<Output>" + fields + "</Output>", text, count=1)


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["svc_rbf_iris", "svc_poly_iris", "svc_linear_cancer"])
def test_svc_matches_sklearn_votes(svms, name):
    pipe, X, y, path = svms[name]
    est = pipe.steps[-1][1]
    classes = list(est.classes_)
    res = portmodel.load(_with_probability_outputs(path, classes)).predict(X)
    assert [str(v) for v in res[y.name]] == [str(v) for v in pipe.predict(X)]
    # votes from scikit-learn's one-vs-one decision values: positive favours the first class
    dec = est.decision_function(X.to_numpy()) if len(classes) == 2 else \
        pipe.steps[-1][1].set_params(decision_function_shape="ovo").decision_function(X.to_numpy())
    dec = dec.reshape(len(X), -1)
    votes = np.zeros((len(X), len(classes)))
    pairs = [(i, j) for i in range(len(classes)) for j in range(i + 1, len(classes))]
    for k, (i, j) in enumerate(pairs):
        if len(classes) == 2:   # binary decision_function: positive favours classes_[1]
            votes[:, 1] += dec[:, 0] > 0
            votes[:, 0] += dec[:, 0] <= 0
        else:
            votes[:, i] += dec[:, k] > 0
            votes[:, j] += dec[:, k] <= 0
    for j, c in enumerate(classes):
        np.testing.assert_array_equal(res[f"p_{c}"].to_numpy(float), votes[:, j] / len(pairs))


@pytest.mark.oracle
def test_svr_matches_sklearn(svms):
    pipe, X, y, path = svms["svr_rbf_diabetes"]
    res = portmodel.load(str(path)).predict(X)
    np.testing.assert_allclose(res[y.name].to_numpy(float), pipe.predict(X), rtol=1e-9)


@pytest.mark.oracle
def test_linear_svc_export_matches_sklearn(svms):
    pipe, X, y, path = svms["linearsvc_iris"]
    try:
        model = portmodel.load(str(path))
    except UnsupportedError as exc:   # sklearn2pmml writes LinearSVC as a MiningModel
        pytest.skip(f"LinearSVC's export needs a model type not supported yet: {exc}")
    assert model.predict(X)[y.name].tolist() == list(pipe.predict(X))


def test_linear_svc_as_coefficients_svm_matches_sklearn():
    """LinearSVC (one-vs-rest) written as an SVM in the Coefficients representation:
    one machine per class, the largest decision value wins (maxWins)."""
    from sklearn.svm import LinearSVC
    X, y = _frames()["iris"]
    est = LinearSVC(random_state=0).fit(X.to_numpy(), y)
    fields = "".join(f'<FieldRef field="{c}"/>' for c in X.columns)
    machines = "".join(
        f'<SupportVectorMachine targetCategory="{c}"><Coefficients absoluteValue="{float(b)!r}">'
        + "".join(f'<Coefficient value="{float(w)!r}"/>' for w in coef)
        + "</Coefficients></SupportVectorMachine>"
        for c, coef, b in zip(est.classes_, est.coef_, est.intercept_))
    values = "".join(f'<Value value="{c}"/>' for c in est.classes_)
    dfields = "".join(f'<DataField name="{c}" optype="continuous" dataType="double"/>'
                      for c in X.columns)
    mining = "".join(f'<MiningField name="{c}"/>' for c in X.columns)
    document = f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
<DataDictionary><DataField name="species" optype="categorical" dataType="string">{values}</DataField>{dfields}</DataDictionary>
<SupportVectorMachineModel functionName="classification" svmRepresentation="Coefficients" maxWins="true">
  <MiningSchema><MiningField name="species" usageType="target"/>{mining}</MiningSchema>
  <LinearKernelType/>
  <VectorDictionary><VectorFields>{fields}</VectorFields></VectorDictionary>
  {machines}
</SupportVectorMachineModel></PMML>"""
    got = portmodel.load(document).predict(X)["species"].tolist()
    assert got == list(est.predict(X.to_numpy()))
