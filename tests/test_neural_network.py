"""NeuralNetwork scoring: hand-written networks checked against the PMML 4.4 formulas computed by
hand (plain Python math), and scikit-learn MLPs exported with sklearn2pmml checked against
scikit-learn's own predictions.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.errors import DocumentError, UnsupportedError
from sklearn_models import export_all, require_exporter

ROWS = [(1.0, 2.0), (-0.7, 0.3), (2.5, -1.2)]


def z_of(x1: float, x2: float) -> float:
    """The weighted sum of the one-neuron networks below: 0.5 x1 - 0.25 x2 + 0.1."""
    return 0.5 * x1 - 0.25 * x2 + 0.1


def doc(body: str, *, function: str = "regression", net: str = 'activationFunction="identity"',
        extra_fields: str = "", mining: str = "", before: str = "") -> str:
    target = ('<DataField name="y" optype="continuous" dataType="double"/>' if function == "regression"
              else '<DataField name="y" optype="categorical" dataType="string">'
                   '<Value value="a"/><Value value="b"/><Value value="c"/></DataField>')
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
<DataDictionary>
  <DataField name="x1" optype="continuous" dataType="double"/>
  <DataField name="x2" optype="continuous" dataType="double"/>
  <DataField name="c" optype="categorical" dataType="string"><Value value="u"/><Value value="v"/></DataField>
  {target}{extra_fields}
</DataDictionary>
<NeuralNetwork functionName="{function}" {net}>
  <MiningSchema>
    <MiningField name="y" usageType="target"/>
    <MiningField name="x1"/><MiningField name="x2"/><MiningField name="c"/>{mining}
  </MiningSchema>
  {before}
  <NeuralInputs>
    <NeuralInput id="i1"><DerivedField optype="continuous" dataType="double"><FieldRef field="x1"/></DerivedField></NeuralInput>
    <NeuralInput id="i2"><DerivedField optype="continuous" dataType="double"><FieldRef field="x2"/></DerivedField></NeuralInput>
  </NeuralInputs>
  {body}
</NeuralNetwork>
</PMML>"""


def one_neuron(layer_attrs: str) -> str:
    return f"""<NeuralLayer {layer_attrs}>
    <Neuron id="h" bias="0.1"><Con from="i1" weight="0.5"/><Con from="i2" weight="-0.25"/></Neuron>
  </NeuralLayer>
  <NeuralOutputs><NeuralOutput outputNeuron="h">
    <DerivedField optype="continuous" dataType="double"><FieldRef field="y"/></DerivedField>
  </NeuralOutput></NeuralOutputs>"""


def score(document: str, rows=ROWS, **kw) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["x1", "x2"])
    if "c" not in df:
        df["c"] = "u"
    return portmodel.load(document).predict(df, **kw)


SPEC = {  # PMML 4.4 NeuralNetwork activation formulas
    "logistic": lambda z: 1.0 / (1.0 + math.exp(-z)),
    "tanh": lambda z: (1.0 - math.exp(-2 * z)) / (1.0 + math.exp(-2 * z)),
    "identity": lambda z: z,
    "exponential": lambda z: math.exp(z),
    "reciprocal": lambda z: 1.0 / z,
    "square": lambda z: z * z,
    "Gauss": lambda z: math.exp(-(z * z)),
    "sine": lambda z: math.sin(z),
    "cosine": lambda z: math.cos(z),
    "Elliott": lambda z: z / (1.0 + abs(z)),
    "arctan": lambda z: 2.0 * math.atan(z) / math.pi,
    "rectifier": lambda z: max(0.0, z),
}


@pytest.mark.parametrize("name", sorted(SPEC))
@pytest.mark.parametrize("where", ["network", "layer"])
def test_activation_function(name, where):
    if where == "network":
        d = doc(one_neuron(""), net=f'activationFunction="{name}"')
    else:   # the layer's attribute overrides the network's
        d = doc(one_neuron(f'activationFunction="{name}"'), net='activationFunction="threshold"')
    got = score(d)["y"].to_numpy(float)
    want = [SPEC[name](z_of(*r)) for r in ROWS]
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_threshold_network_default_and_overrides():
    # Z = 0.1, -0.325, 1.65. Network default threshold is 0.
    assert score(doc(one_neuron(""), net='activationFunction="threshold"'))["y"].tolist() == [1, 0, 1]
    assert score(doc(one_neuron(""), net='activationFunction="threshold" threshold="0.5"'))[
        "y"].tolist() == [0, 0, 1]
    assert score(doc(one_neuron('threshold="-0.4"'), net='activationFunction="threshold" '
                                                         'threshold="0.5"'))["y"].tolist() == [1, 1, 1]
    # Z exactly at the threshold is not above it
    assert score(doc(one_neuron('threshold="0.1"'), net='activationFunction="threshold"'),
                 rows=[(1.0, 2.0)])["y"].tolist() == [0]


def rbf_expected(x, centers, width, altitude):
    z = sum((xi - w) ** 2 for xi, w in zip(x, centers)) / (2 * width * width)
    return math.exp(len(centers) * math.log(altitude) - z)


def test_radial_basis_width_and_altitude_resolution():
    body = """<NeuralLayer activationFunction="radialBasis" width="0.8" altitude="0.5">
    <Neuron id="r1" width="1.5" altitude="2"><Con from="i1" weight="1"/><Con from="i2" weight="-1"/></Neuron>
    <Neuron id="r2"><Con from="i1" weight="0.5"/></Neuron>
  </NeuralLayer>
  <NeuralLayer activationFunction="identity">
    <Neuron id="o" bias="0.25"><Con from="r1" weight="1"/><Con from="r2" weight="3"/></Neuron>
  </NeuralLayer>
  <NeuralOutputs><NeuralOutput outputNeuron="o">
    <DerivedField optype="continuous" dataType="double"><FieldRef field="y"/></DerivedField>
  </NeuralOutput></NeuralOutputs>"""
    d = doc(body, net='activationFunction="logistic" width="99" altitude="7"')
    got = score(d)["y"].to_numpy(float)
    want = [0.25 + rbf_expected(r, [1, -1], 1.5, 2.0) + 3 * rbf_expected(r[:1], [0.5], 0.8, 0.5)
            for r in ROWS]
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_radial_basis_network_width_and_default_altitude():
    body = """<NeuralLayer>
    <Neuron id="r"><Con from="i1" weight="0.3"/><Con from="i2" weight="0.7"/></Neuron>
  </NeuralLayer>
  <NeuralOutputs><NeuralOutput outputNeuron="r">
    <DerivedField optype="continuous" dataType="double"><FieldRef field="y"/></DerivedField>
  </NeuralOutput></NeuralOutputs>"""
    got = score(doc(body, net='activationFunction="radialBasis" width="1.25"'))["y"].to_numpy(float)
    np.testing.assert_allclose(got, [rbf_expected(r, [0.3, 0.7], 1.25, 1.0) for r in ROWS],
                               rtol=1e-13)


def test_radial_basis_without_width_is_rejected():
    body = one_neuron('activationFunction="radialBasis"')
    with pytest.raises(DocumentError, match="width"):
        portmodel.load(doc(body))


CLASSIFIER = """<NeuralLayer {hidden}>
    <Neuron id="h1" bias="0.2"><Con from="i1" weight="1"/><Con from="i2" weight="-0.5"/></Neuron>
    <Neuron id="h2" bias="-0.1"><Con from="i1" weight="-0.3"/><Con from="i2" weight="0.8"/></Neuron>
  </NeuralLayer>
  <NeuralLayer {out}>
    <Neuron id="oa" bias="0.0"><Con from="h1" weight="1.5"/><Con from="h2" weight="-1"/></Neuron>
    <Neuron id="ob" bias="0.3"><Con from="h1" weight="-0.5"/><Con from="h2" weight="0.5"/></Neuron>
    <Neuron id="oc" bias="-0.2"><Con from="h1" weight="0.25"/><Con from="h2" weight="1"/></Neuron>
  </NeuralLayer>
  <NeuralOutputs>
    <NeuralOutput outputNeuron="oa"><DerivedField optype="continuous" dataType="double"><NormDiscrete field="y" value="a"/></DerivedField></NeuralOutput>
    <NeuralOutput outputNeuron="ob"><DerivedField optype="continuous" dataType="double"><NormDiscrete field="y" value="b"/></DerivedField></NeuralOutput>
    <NeuralOutput outputNeuron="oc"><DerivedField optype="continuous" dataType="double"><NormDiscrete field="y" value="c"/></DerivedField></NeuralOutput>
  </NeuralOutputs>"""

OUTPUTS = """<Output>
    <OutputField name="pa" feature="probability" value="a"/>
    <OutputField name="pb" feature="probability" value="b"/>
    <OutputField name="pc" feature="probability" value="c"/>
    <OutputField name="winner" feature="entityId"/>
  </Output>"""


def hand_classifier(x, hidden_act, out_act, hidden_norm, out_norm):
    def layer(inputs, weights, biases, act, norm):
        z = [sum(w * v for w, v in zip(ws, inputs)) + b for ws, b in zip(weights, biases)]
        y = [act(v) for v in z]
        if norm == "softmax":
            e = [math.exp(v) for v in y]
            return [v / sum(e) for v in e]
        if norm == "simplemax":
            return [v / sum(y) for v in y]
        return y
    h = layer(x, [[1, -0.5], [-0.3, 0.8]], [0.2, -0.1], hidden_act, hidden_norm)
    return layer(h, [[1.5, -1], [-0.5, 0.5], [0.25, 1]], [0.0, 0.3, -0.2], out_act, out_norm)


@pytest.mark.parametrize("net,hidden,out,expect", [
    # layer-level softmax on the output layer
    ('activationFunction="logistic"', "", 'activationFunction="identity" normalizationMethod="softmax"',
     ("logistic", "identity", "none", "softmax")),
    # network-level simplemax, overridden with "none" by the hidden layer
    ('activationFunction="exponential" normalizationMethod="simplemax"', 'normalizationMethod="none"', "",
     ("exponential", "exponential", "none", "simplemax")),
    # network-level softmax applies to every layer that does not override it
    ('activationFunction="tanh" normalizationMethod="softmax"', "", 'activationFunction="identity"',
     ("tanh", "identity", "softmax", "softmax")),
    # no normalization: outputs are the neurons' raw values
    ('activationFunction="logistic"', "", "", ("logistic", "logistic", "none", "none")),
])
def test_classification_normalization(net, hidden, out, expect):
    d = doc(CLASSIFIER.format(hidden=hidden, out=out), function="classification", net=net,
            before=OUTPUTS)
    res = score(d)
    acts = {"logistic": SPEC["logistic"], "identity": SPEC["identity"],
            "exponential": SPEC["exponential"], "tanh": SPEC["tanh"]}
    for i, r in enumerate(ROWS):
        p = hand_classifier(r, acts[expect[0]], acts[expect[1]], expect[2], expect[3])
        np.testing.assert_allclose(res.loc[i, ["pa", "pb", "pc"]].to_numpy(float), p, rtol=1e-13)
        best = int(np.argmax(p))
        assert res.loc[i, "y"] == "abc"[best]
        assert res.loc[i, "winner"] == ["oa", "ob", "oc"][best]


def test_simplemax_of_zero_sum_is_a_row_error():
    body = """<NeuralLayer activationFunction="identity" normalizationMethod="simplemax">
    <Neuron id="oa"><Con from="i1" weight="1"/></Neuron>
    <Neuron id="ob"><Con from="i2" weight="1"/></Neuron>
  </NeuralLayer>
  <NeuralOutputs>
    <NeuralOutput outputNeuron="oa"><DerivedField><NormDiscrete field="y" value="a"/></DerivedField></NeuralOutput>
    <NeuralOutput outputNeuron="ob"><DerivedField><NormDiscrete field="y" value="b"/></DerivedField></NeuralOutput>
  </NeuralOutputs>"""
    res = score(doc(body, function="classification"), rows=[(1.0, -1.0), (1.0, 3.0)],
                errors="mark")
    assert pd.isna(res.loc[0, "y"]) and "simplemax" in str(res.loc[0, "error"])
    assert res.loc[1, "y"] == "b" and pd.isna(res.loc[1, "error"])


def test_regression_output_denormalized_by_norm_continuous():
    body = """<NeuralLayer activationFunction="identity">
    <Neuron id="o"><Con from="i1" weight="1"/></Neuron>
  </NeuralLayer>
  <NeuralOutputs><NeuralOutput outputNeuron="o">
    <DerivedField optype="continuous" dataType="double">
      <NormContinuous field="y"><LinearNorm orig="0" norm="0"/><LinearNorm orig="10" norm="0.5"/>
        <LinearNorm orig="30" norm="1"/></NormContinuous>
    </DerivedField>
  </NeuralOutput></NeuralOutputs>"""
    rows = [(0.25, 0), (0.75, 0), (0.5, 0), (1.5, 0), (-0.1, 0)]
    got = score(doc(body), rows=rows)["y"].tolist()
    # inverse of the piecewise-linear map; beyond the ends the end segment extends
    assert got == pytest.approx([5.0, 20.0, 10.0, 50.0, -2.0], rel=1e-14)


def test_regression_output_through_a_derived_field():
    trans = """<LocalTransformations>
    <DerivedField name="y_scaled" optype="continuous" dataType="double">
      <NormContinuous field="y"><LinearNorm orig="100" norm="-1"/><LinearNorm orig="300" norm="1"/></NormContinuous>
    </DerivedField></LocalTransformations>"""
    body = """<NeuralLayer activationFunction="identity">
    <Neuron id="o"><Con from="i1" weight="1"/></Neuron>
  </NeuralLayer>
  <NeuralOutputs><NeuralOutput outputNeuron="o">
    <DerivedField optype="continuous" dataType="double"><FieldRef field="y_scaled"/></DerivedField>
  </NeuralOutput></NeuralOutputs>"""
    got = score(doc(body, before=trans), rows=[(0.0, 0), (0.5, 0), (-1.0, 0)])["y"].tolist()
    assert got == pytest.approx([200.0, 250.0, 100.0], rel=1e-14)


def test_normalized_inputs_and_skip_connection():
    body = """<NeuralLayer activationFunction="logistic">
    <Neuron id="h" bias="-0.5"><Con from="n1" weight="2"/><Con from="d1" weight="1"/></Neuron>
  </NeuralLayer>
  <NeuralLayer activationFunction="identity">
    <Neuron id="o" bias="1"><Con from="h" weight="3"/><Con from="n1" weight="-1"/></Neuron>
  </NeuralLayer>
  <NeuralOutputs><NeuralOutput outputNeuron="o">
    <DerivedField optype="continuous" dataType="double"><FieldRef field="y"/></DerivedField>
  </NeuralOutput></NeuralOutputs>"""
    d = doc(body).replace(
        """<NeuralInput id="i1"><DerivedField optype="continuous" dataType="double"><FieldRef field="x1"/></DerivedField></NeuralInput>
    <NeuralInput id="i2"><DerivedField optype="continuous" dataType="double"><FieldRef field="x2"/></DerivedField></NeuralInput>""",
        """<NeuralInput id="n1"><DerivedField optype="continuous" dataType="double">
      <NormContinuous field="x1"><LinearNorm orig="0" norm="0"/><LinearNorm orig="10" norm="1"/></NormContinuous>
    </DerivedField></NeuralInput>
    <NeuralInput id="d1"><DerivedField optype="continuous" dataType="double"><NormDiscrete field="c" value="v"/></DerivedField></NeuralInput>""")
    df = pd.DataFrame({"x1": [5.0, 2.0], "x2": [0.0, 0.0], "c": ["u", "v"]})
    got = portmodel.load(d).predict(df)["y"].tolist()
    want = []
    for x1, c in ((5.0, "u"), (2.0, "v")):
        n1, d1 = x1 / 10, 1.0 if c == "v" else 0.0
        h = 1 / (1 + math.exp(-(2 * n1 + d1 - 0.5)))
        want.append(3 * h - n1 + 1)
    assert got == pytest.approx(want, rel=1e-14)


def test_missing_input_gives_no_prediction_or_the_target_default():
    body = one_neuron('activationFunction="identity"')
    res = score(doc(body), rows=[(None, 1.0), (1.0, 2.0)], errors="mark")
    assert pd.isna(res.loc[0, "y"]) and pd.isna(res.loc[0, "error"])
    assert res.loc[1, "y"] == pytest.approx(0.1)
    targets = '<Targets><Target field="y"><TargetValue defaultValue="42"/></Target></Targets>'
    res = score(doc(body, before=targets), rows=[(None, 1.0)])
    assert res.loc[0, "y"] == 42.0


def test_missing_input_classification_uses_priors():
    targets = """<Targets><Target field="y"><TargetValue value="a" priorProbability="0.2"/>
      <TargetValue value="b" priorProbability="0.5"/><TargetValue value="c" priorProbability="0.3"/></Target></Targets>"""
    d = doc(CLASSIFIER.format(hidden="", out=""), function="classification",
            net='activationFunction="logistic"', before=OUTPUTS + targets)
    res = score(d, rows=[(1.0, None)])
    assert res.loc[0, "y"] == "b"
    assert res.loc[0, ["pa", "pb", "pc"]].tolist() == pytest.approx([0.2, 0.5, 0.3])


@pytest.mark.parametrize("bad,exc", [
    ('activationFunction="bogus"', UnsupportedError),
    ('activationFunction="identity" normalizationMethod="probit"', UnsupportedError),
])
def test_bad_attributes_are_rejected_at_load(bad, exc):
    with pytest.raises(exc):
        portmodel.load(doc(one_neuron(""), net=bad))


def test_connection_from_unknown_neuron_is_rejected():
    body = one_neuron("").replace('from="i2"', 'from="nowhere"')
    with pytest.raises(DocumentError, match="nowhere"):
        portmodel.load(doc(body))


def test_many_inputs_use_the_matrix_product_path():
    """Layers reading more inputs than the ordered-sum limit go through BLAS; same numbers."""
    from portmodel.pmml.models import neural_network as nn
    k = nn.ORDERED_SUM_MAX_INPUTS + 6
    rng = np.random.default_rng(3)
    w = rng.normal(size=k)
    fields = "".join(f'<DataField name="f{i}" optype="continuous" dataType="double"/>'
                     for i in range(k))
    mining = "".join(f'<MiningField name="f{i}"/>' for i in range(k))
    inputs = "".join(f'<NeuralInput id="f{i}"><DerivedField optype="continuous" dataType="double">'
                     f'<FieldRef field="f{i}"/></DerivedField></NeuralInput>' for i in range(k))
    cons = "".join(f'<Con from="f{i}" weight="{float(w[i])!r}"/>' for i in range(k))
    body = f"""<NeuralLayer activationFunction="tanh"><Neuron id="o" bias="0.5">{cons}</Neuron></NeuralLayer>
  <NeuralOutputs><NeuralOutput outputNeuron="o">
    <DerivedField optype="continuous" dataType="double"><FieldRef field="y"/></DerivedField>
  </NeuralOutput></NeuralOutputs>"""
    d = doc(body, extra_fields=fields, mining=mining).replace(
        "<NeuralInputs>", "<NeuralInputs>" + inputs, 1)
    d = d.replace('<NeuralInput id="i1">', '<NeuralInput id="xi1">').replace(
        '<NeuralInput id="i2">', '<NeuralInput id="xi2">')
    X = rng.normal(size=(20, k))
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(k)])
    df["x1"], df["x2"], df["c"] = 0.0, 0.0, "u"
    got = portmodel.load(d).predict(df)["y"].to_numpy(float)
    np.testing.assert_allclose(got, np.tanh(X @ w + 0.5), rtol=1e-12)


# ---------------------------------------------------------------- scikit-learn, via sklearn2pmml


@pytest.fixture(scope="module")
def mlps(tmp_path_factory):
    require_exporter()
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn2pmml.pipeline import PMMLPipeline
    folder = tmp_path_factory.mktemp("mlp")
    out = {}
    iris = load_iris(as_frame=True)
    cancer = load_breast_cancer(as_frame=True)
    diabetes = load_diabetes(as_frame=True)
    Xc = cancer.data.iloc[:, :8]
    Xc = (Xc - Xc.mean()) / Xc.std()
    Xc.columns = [c.replace(" ", "_") for c in Xc.columns]
    specs = {
        "iris_relu": (iris.data.rename(columns=lambda c: c.replace(" ", "_").strip("_()")),
                      iris.target.map(dict(enumerate(iris.target_names))).rename("species"),
                      MLPClassifier(hidden_layer_sizes=(6, 4), max_iter=300, random_state=1)),
        "cancer_tanh": (Xc, cancer.target.rename("label"),
                        MLPClassifier(hidden_layer_sizes=(5,), activation="tanh", max_iter=200,
                                      random_state=2)),
        "diabetes_logistic": (diabetes.data, diabetes.target.rename("progression"),
                              MLPRegressor(hidden_layer_sizes=(7,), activation="logistic",
                                           learning_rate_init=0.05, max_iter=300, random_state=3)),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (X, y, est) in specs.items():
            pipe = PMMLPipeline([("est", est)])
            pipe.fit(X, y)
            out[name] = (pipe, X, y, folder / f"{name}.pmml")
        export_all({name: (v[0], v[3]) for name, v in out.items()})
    return out


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["iris_relu", "cancer_tanh"])
def test_mlp_classifier_matches_sklearn(mlps, name):
    pipe, X, y, path = mlps[name]
    model = portmodel.load(str(path))
    res = model.predict(X)
    est = pipe.steps[-1][1]
    proba = pipe.predict_proba(X)
    for j, cls in enumerate(est.classes_):
        col = next(c for c in res.columns if c == f"probability({cls})")
        np.testing.assert_allclose(res[col].to_numpy(float), proba[:, j], rtol=0, atol=1e-9)
    predicted = res[y.name].to_numpy()
    expected = pipe.predict(X)
    assert [str(v) for v in predicted] == [str(v) for v in expected]


@pytest.mark.oracle
def test_mlp_regressor_matches_sklearn(mlps):
    pipe, X, y, path = mlps["diabetes_logistic"]
    res = portmodel.load(str(path)).predict(X)
    np.testing.assert_allclose(res[y.name].to_numpy(float), pipe.predict(X), rtol=1e-9)


# ---------------------------------------------------------------- the input columns of a block


def _spy_raw_inputs(found: list):
    """Patch NeuralNetwork._raw_inputs to record whether the user's columns were read in place."""
    from portmodel.pmml.models import neural_network as nn
    original = nn.NeuralNetwork._raw_inputs

    def spy(self, scope):
        cols = original(self, scope)
        found.append(cols is not None)
        return cols
    return nn, original, spy


def test_inputs_read_in_place_from_every_float_layout():
    """Double inputs are read from the user's float64 columns in place (a DataFrame's float
    block in any column order, or separate arrays), NaN marking a missing row; columns of
    another type (integers) take the column-by-column path. Every layout scores the
    hand-computed sums, across several blocks and with missing inputs in them."""
    from portmodel.pmml.models import neural_network as nn
    n = 2 * nn.ROW_BLOCK + 37
    rng = np.random.default_rng(11)
    x1, x2 = np.round(rng.normal(size=n) * 100), rng.normal(size=n)
    x1[[3, nn.ROW_BLOCK + 5]] = np.nan
    expected = np.array([z_of(a, b) for a, b in zip(x1, x2)])   # NaN where x1 is
    model = portmodel.load(doc(one_neuron('activationFunction="identity"')))
    frame = pd.DataFrame({"x1": x1, "x2": x2})
    frame["c"] = "u"
    ints = np.nan_to_num(x1).astype(np.int64)
    layouts = {"frame": (frame, True),
               "reversed frame": (pd.DataFrame({"x2": x2, "x1": x1, "c": "u"}), True),
               "separate arrays": ({"x1": x1.copy(), "x2": x2.copy(),
                                    "c": np.full(n, "u", object)}, True),
               "integer column": ({"x1": ints, "x2": x2, "c": np.full(n, "u", object)}, False)}
    found: list = []
    nn_mod, original, spy = _spy_raw_inputs(found)
    try:
        nn_mod.NeuralNetwork._raw_inputs = spy
        for name, (data, in_place) in layouts.items():
            got = np.asarray(model.predict(data)["y"], float)
            want = expected if in_place else np.array([z_of(a, b) for a, b in zip(ints, x2)])
            np.testing.assert_array_equal(got, want, err_msg=name)
    finally:
        nn_mod.NeuralNetwork._raw_inputs = original
    from portmodel.pmml.models.compute_backend import numba_enabled
    if numba_enabled():
        assert found == [in_place for _, in_place in layouts.values()]


@pytest.mark.parametrize("rows", ["0", "1", "block - 1", "block", "block + 1", "2 * block + 37"])
def test_missing_inputs_anywhere_in_a_block(rows):
    """Rows with a missing input (NaN) at the first and last row, on both sides of each block
    boundary and mid-block get no prediction; every other row its own sums, for batch sizes
    around the block size (0 and 1 rows included)."""
    from portmodel.pmml.models import neural_network as nn
    block = nn.ROW_BLOCK
    n = eval(rows, {"block": block})
    rng = np.random.default_rng(n)
    x1, x2 = rng.normal(size=n) * 10, rng.normal(size=n)
    for i in (0, n - 1, block - 1, block, block + 1, n // 2, 2 * block - 1):
        if 0 < i < n - 1 or (i in (0, n - 1) and n > 1):
            (x1 if i % 2 else x2)[i] = np.nan
    expected = np.array([z_of(a, b) for a, b in zip(x1, x2)])
    model = portmodel.load(doc(one_neuron('activationFunction="identity"')))
    got = model.predict(pd.DataFrame({"x1": x1, "x2": x2, "c": "u"}))["y"].to_numpy(float)
    assert len(got) == n
    np.testing.assert_array_equal(got, expected)
    if n == 1:      # one row, present
        x1[0], x2[0] = 4.0, 2.0
        got = model.predict(pd.DataFrame({"x1": x1, "x2": x2, "c": "u"}))["y"].to_numpy(float)
        np.testing.assert_array_equal(got, [z_of(4.0, 2.0)])


def test_inputs_the_mining_schema_or_dictionary_changes_take_the_column_path():
    """A MiningField that replaces missing values, a declared missing value and an invalid
    value (text in a double field) are the column path's: the in-place read declines them,
    and the answers are those of the fields' treatments."""
    n = 600
    rng = np.random.default_rng(5)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    x1[[1, 513]] = np.nan
    plain = doc(one_neuron('activationFunction="identity"'))
    replaced = plain.replace('<MiningField name="x1"/>',
                             '<MiningField name="x1" missingValueReplacement="3"/>')
    declared = plain.replace('<DataField name="x2" optype="continuous" dataType="double"/>',
                             '<DataField name="x2" optype="continuous" dataType="double">'
                             '<Value value="-999" property="missing"/></DataField>')
    assert replaced != plain and declared != plain
    x2_declared = x2.copy()
    x2_declared[[7, 300]] = -999.0
    text = np.array(list(x1), object)
    text[4] = "abc"
    c = np.full(n, "u", object)
    found: list = []
    nn_mod, original, spy = _spy_raw_inputs(found)
    try:
        nn_mod.NeuralNetwork._raw_inputs = spy
        got = portmodel.load(replaced).predict({"x1": x1, "x2": x2, "c": c})["y"]
        want = np.array([z_of(3.0 if a != a else a, b) for a, b in zip(x1, x2)])
        np.testing.assert_array_equal(np.asarray(got, float), want)
        got = portmodel.load(declared).predict({"x1": x1, "x2": x2_declared, "c": c})["y"]
        want = np.array([z_of(a, b) for a, b in zip(x1, x2)])
        want[[7, 300]] = np.nan
        np.testing.assert_array_equal(np.asarray(got, float), want)
        got = portmodel.load(plain).predict({"x1": text, "x2": x2, "c": c}, errors="mark")
        want = np.array([z_of(a, b) for a, b in zip(x1, x2)])
        want[4] = np.nan
        np.testing.assert_array_equal(np.asarray(got["y"], float), want)
        assert got["error"][4] is not None and got["error"][5] is None
    finally:
        nn_mod.NeuralNetwork._raw_inputs = original
    from portmodel.pmml.models.compute_backend import numba_enabled
    if numba_enabled():
        assert found == [False, False, False]




# ---------------------------------------------------------------- the winning neuron's id

def _random_rows(n: int, seed: int, missing_every: int = 7) -> list[tuple]:
    rng = np.random.default_rng(seed)
    rows = [tuple(float(v) for v in rng.normal(0, 2, 2)) for _ in range(n)]
    return [(r[0], None) if i % missing_every == 3 else r for i, r in enumerate(rows)]


def test_entity_id_when_an_output_field_asks_for_it_missing_rows_included():
    # many rows (the column plan), some missing: the winner is the output neuron of the
    # largest probability, computed by hand; a missing row has no winner and no prediction
    d = doc(CLASSIFIER.format(hidden="", out='normalizationMethod="softmax"'),
            function="classification", net='activationFunction="logistic"', before=OUTPUTS)
    rows = _random_rows(300, 11)
    res = score(d, rows=rows)
    assert res.loc[3, "winner"] is None and pd.isna(res.loc[3, "y"])
    for i, r in enumerate(rows):
        if r[1] is None:
            assert res.loc[i, "winner"] is None and pd.isna(res.loc[i, "pa"])
            continue
        p = hand_classifier(r, SPEC["logistic"], SPEC["logistic"], "none", "softmax")
        best = int(np.argmax(p))
        assert res.loc[i, "winner"] == ["oa", "ob", "oc"][best]
        assert res.loc[i, "y"] == "abc"[best]
    assert res["winner"].dtype == object


def _result_of(model, frame: pd.DataFrame):
    """The Result of the document's model over a frame (what its Output reads)."""
    from portmodel.columns import frame_columns
    from portmodel.pmml.document import _InputScope
    root = _InputScope(len(frame), frame_columns(frame), model._root_defs)
    result, _ = model.model.evaluate(root, model.global_defs)
    return result


def test_entity_id_is_not_built_when_no_output_field_asks_for_it():
    plain = OUTPUTS.replace('<OutputField name="winner" feature="entityId"/>', "")
    asked = portmodel.load(doc(CLASSIFIER.format(hidden="", out=""), function="classification",
                               net='activationFunction="logistic"', before=OUTPUTS))
    unasked = portmodel.load(doc(CLASSIFIER.format(hidden="", out=""),
                                 function="classification", net='activationFunction="logistic"',
                                 before=plain))
    frame = pd.DataFrame(_random_rows(100, 5), columns=["x1", "x2"]).assign(c="u")
    assert "entityId" not in _result_of(unasked, frame).extra
    assert "entityId" in _result_of(asked, frame).extra
    a, b = asked.predict(frame), unasked.predict(frame)
    pd.testing.assert_frame_equal(a.drop(columns="winner"), b)


def test_entity_id_of_a_network_inside_a_mining_model():
    # a segment's results are read by the model that holds it (here through segmentId):
    # a network inside a MiningModel keeps its winner's id
    net = doc(CLASSIFIER.format(hidden="", out=""), function="classification",
              net='activationFunction="logistic"')
    inner = net[net.index("<NeuralNetwork"):net.index("</PMML>")]
    head = net[:net.index("<NeuralNetwork")]
    mining = f"""<MiningModel functionName="classification">
  <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="x1"/>
    <MiningField name="x2"/><MiningField name="c"/></MiningSchema>
  <Output><OutputField name="winner" feature="entityId" segmentId="net"/>
    <OutputField name="seg" feature="entityId"/></Output>
  <Segmentation multipleModelMethod="selectFirst">
    <Segment id="net"><True/>{inner}</Segment>
  </Segmentation>
</MiningModel>"""
    rows = _random_rows(120, 3)
    res = score(head + mining + "</PMML>", rows=rows)
    for i, r in enumerate(rows):
        if r[1] is None:
            assert res.loc[i, "winner"] is None
            continue
        p = hand_classifier(r, SPEC["logistic"], SPEC["logistic"], "none", "none")
        assert res.loc[i, "winner"] == ["oa", "ob", "oc"][int(np.argmax(p))]
        assert res.loc[i, "seg"] == "net"


def test_block_scratch_starts_on_a_cache_line():
    """The activations' block starts on a 64-byte boundary (the kernel's 512-bit loads and
    stores then each stay within one line), also when it grows and is reused."""
    import threading
    from portmodel.pmml.models import neural_network as nn

    def addresses():
        got = []
        for rows, cols in ((3, 5), (72, 4000), (9, 17), (80, 4100)):
            got.append(nn._scratch(rows, cols).__array_interface__["data"][0] % 64)
        return got

    assert addresses() == [0, 0, 0, 0]
    seen = []
    t = threading.Thread(target=lambda: seen.extend(addresses()))   # its own buffer
    t.start()
    t.join()
    assert seen == [0, 0, 0, 0]
