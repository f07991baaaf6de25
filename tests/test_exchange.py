"""Documents as real producers write them: which fields are required, integer targets, and the
traits outside the PMML 4.4 letter that load with a warning (and that strict=True refuses).

Every document here is small and written by hand to show one trait; the truth is
JPMML-Evaluator's answer for the same document (or, where JPMML refuses the trait, for the same
document written in standard PMML 4.4), and PyPMML's where JPMML makes another choice.
"""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.errors import DocumentError, MissingFieldError, PortmodelWarning
from portmodel.pmml.validate import ERROR, WARNING, validate

from reference_engines import jpmml_frame

NS44 = 'xmlns="http://www.dmg.org/PMML-4_4" version="4.4"'


def pmml(fields: str, model: str, ns: str = NS44, transformations: str = "") -> str:
    td = f"<TransformationDictionary>{transformations}</TransformationDictionary>\n" \
        if transformations else ""
    return (f'<?xml version="1.0"?>\n<PMML {ns}>\n<Header/>\n<DataDictionary>\n{fields}\n'
            f"</DataDictionary>\n{td}{model}\n</PMML>\n")


def line_of(text: str, marker: str) -> int:
    return next(i for i, t in enumerate(text.splitlines(), 1) if marker in t)


def load_warned(text: str, **kw):
    """(model, [PortmodelWarning messages]) of one load."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = portmodel.load(text, **kw)
    return model, [str(w.message) for w in caught if issubclass(w.category, PortmodelWarning)]


def values(frame: pd.DataFrame, name: str) -> list:
    return [None if (v is None or (isinstance(v, float) and math.isnan(v))) else v
            for v in frame[name].tolist()]


def close(a: list, b: list, tol: float = 1e-12) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x is None or y is None:
            if not (x is None and y is None):
                return False
        elif isinstance(x, str) or isinstance(y, str):
            if str(x) != str(y):
                return False
        elif abs(float(x) - float(y)) > tol * max(1.0, abs(float(y))):
            return False
    return True


def jpmml_values(text: str, frame: pd.DataFrame, name: str) -> list:
    out = jpmml_frame(text, frame)
    return values(out, name)


# ------------------------------------------------------------------ which fields are required

USAGE_FIELDS = "\n".join(
    f'<DataField name="{n}" optype="continuous" dataType="double"/>'
    for n in ("x", "y", "s", "g", "o", "fw", "aw"))


def usage_model(output: str = "") -> str:
    return f"""<RegressionModel functionName="regression">
<MiningSchema>
 <MiningField name="x"/>
 <MiningField name="y" usageType="predicted"/>
 <MiningField name="s" usageType="supplementary"/>
 <MiningField name="g" usageType="group"/>
 <MiningField name="o" usageType="order"/>
 <MiningField name="fw" usageType="frequencyWeight"/>
 <MiningField name="aw" usageType="analysisWeight"/>
</MiningSchema>{output}
<RegressionTable intercept="1"><NumericPredictor name="x" coefficient="2"/></RegressionTable>
</RegressionModel>"""


def test_only_active_fields_are_required():
    """supplementary, predicted, group, order and weight fields are not needed to apply the
    model: an input without them scores, as with JPMML."""
    text = pmml(USAGE_FIELDS, usage_model())
    model = portmodel.load(text)
    assert [f.name for f in model.inputs] == ["x"]
    frame = pd.DataFrame({"x": [0.5, -1.0, None]})
    got = values(model.predict(frame), "y")
    assert got == [2.0, -1.0, None]
    assert close(got, jpmml_values(text, frame, "y"))


@pytest.mark.parametrize("usage", ["supplementary", "predicted", "target", "group", "order",
                                   "frequencyWeight", "analysisWeight"])
def test_each_usage_type_alone_is_not_required(usage):
    fields = USAGE_FIELDS + '\n<DataField name="z" optype="continuous" dataType="double"/>'
    model_el = usage_model().replace('<MiningField name="aw" usageType="analysisWeight"/>',
                                     f'<MiningField name="z" usageType="{usage}"/>')
    model = portmodel.load(pmml(fields, model_el))
    assert "z" not in [f.name for f in model.inputs]
    assert values(model.predict(pd.DataFrame({"x": [1.0]})), "y") == [3.0]


def test_active_field_absent_is_still_an_error():
    model = portmodel.load(pmml(USAGE_FIELDS, usage_model()))
    with pytest.raises(MissingFieldError, match="'x'"):
        model.predict(pd.DataFrame({"s": [1.0]}))


def test_a_supplementary_field_the_model_reads_is_required():
    output = """
<Output>
 <OutputField name="pred" feature="predictedValue" dataType="double"/>
 <OutputField name="echo" feature="transformedValue" dataType="double"><FieldRef field="s"/></OutputField>
</Output>"""
    text = pmml(USAGE_FIELDS, usage_model(output))
    model = portmodel.load(text)
    assert [f.name for f in model.inputs] == ["x", "s"]
    with pytest.raises(MissingFieldError, match="'s'"):
        model.predict(pd.DataFrame({"x": [1.0]}))
    frame = pd.DataFrame({"x": [1.0, 2.0], "s": [7.0, None]})
    out = model.predict(frame)
    assert values(out, "echo") == [7.0, None]
    assert close(values(out, "echo"), jpmml_values(text, frame, "echo"))


# ------------------------------------------------------------------ integer targets

INT_FIELDS = """<DataField name="x" optype="continuous" dataType="double"/>
<DataField name="y" optype="continuous" dataType="integer"/>"""


def int_regression(targets: str = "") -> str:
    return f"""<RegressionModel functionName="regression">
<MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>
{targets}<RegressionTable intercept="100.5"><NumericPredictor name="x" coefficient="1.0383"/></RegressionTable>
</RegressionModel>"""


INT_NETWORK = """<NeuralNetwork functionName="regression" activationFunction="identity">
<MiningSchema><MiningField name="x"/><MiningField name="y" usageType="predicted"/></MiningSchema>
<NeuralInputs>
 <NeuralInput id="0"><DerivedField optype="continuous" dataType="double"><FieldRef field="x"/></DerivedField></NeuralInput>
</NeuralInputs>
<NeuralLayer activationFunction="logistic">
 <Neuron id="1" bias="-0.3"><Con from="0" weight="0.05"/></Neuron>
</NeuralLayer>
<NeuralLayer>
 <Neuron id="2" bias="0.001"><Con from="1" weight="0.004"/></Neuron>
</NeuralLayer>
<NeuralOutputs>
 <NeuralOutput outputNeuron="2"><DerivedField optype="continuous" dataType="double"><FieldRef field="y"/></DerivedField></NeuralOutput>
</NeuralOutputs>
</NeuralNetwork>"""


def test_integer_target_keeps_the_real_prediction():
    """183.649 stays 183.649 (as PyPMML returns it), with one warning at load naming the field
    and its line; strict=True refuses the document."""
    text = pmml(INT_FIELDS, int_regression())
    model, messages = load_warned(text)
    assert len(messages) == 1
    assert "integer-target" in messages[0] and "'y'" in messages[0]
    target_line = line_of(text, 'name="y"')
    assert f"line {target_line}" in messages[0]
    frame = pd.DataFrame({"x": [80.0, -96.3, 0.0, None]})
    got = values(model.predict(frame), "y")
    want = [100.5 + 1.0383 * 80.0, 100.5 - 1.0383 * 96.3, 100.5, None]
    assert close(got, want)
    assert model.outputs[0].data_type == "double"
    assert model.predict({"x": 80.0})["y"] == pytest.approx(183.564)
    with pytest.raises(DocumentError, match="strict=True") as info:
        portmodel.load(text, strict=True)
    assert info.value.line == target_line


def test_integer_target_of_a_network_keeps_the_real_prediction():
    text = pmml(INT_FIELDS, INT_NETWORK)
    model, messages = load_warned(text)
    assert [m for m in messages if "integer-target" in m]
    frame = pd.DataFrame({"x": [1.0, 10.0, -3.0]})
    got = values(model.predict(frame), "y")
    want = [0.001 + 0.004 / (1 + math.exp(-(-0.3 + 0.05 * x))) for x in frame["x"]]
    assert close(got, want)
    assert all(0 < v < 0.01 for v in got)      # truncation would have given 0


@pytest.mark.oracle
def test_integer_target_agrees_with_pypmml():
    pypmml = pytest.importorskip("pypmml")
    frame = pd.DataFrame({"x": [80.0, -96.3, 0.0]})
    for model_el in (int_regression(), INT_NETWORK):
        text = pmml(INT_FIELDS, model_el)
        ours = values(load_warned(text)[0].predict(frame), "y")
        theirs = pypmml.Model.fromString(text).predict(frame)
        assert close(ours, values(theirs, theirs.columns[0]), 1e-9)


@pytest.mark.parametrize("cast,want", [("round", [184, -0, 101]), ("floor", [183, -1, 100]),
                                       ("ceiling", [184, 0, 101])])
def test_cast_integer_applies_where_the_document_asks(cast, want):
    targets = f'<Targets><Target field="y" castInteger="{cast}"/></Targets>\n'
    text = pmml(INT_FIELDS, int_regression(targets))
    model, messages = load_warned(text)
    assert messages == []
    frame = pd.DataFrame({"x": [80.0, -96.9, 0.0]})
    got = values(model.predict(frame), "y")
    assert got == [int(v) for v in want] and all(isinstance(v, (int, np.integer)) for v in got)
    assert model.outputs[0].data_type == "integer"
    assert got == [int(v) for v in jpmml_values(text, frame, "y")]


def test_integer_class_labels_need_no_warning():
    fields = """<DataField name="x" optype="continuous" dataType="double"/>
<DataField name="y" optype="categorical" dataType="integer"><Value value="0"/><Value value="1"/></DataField>"""
    model_el = """<RegressionModel functionName="classification" normalizationMethod="logit">
<MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>
<RegressionTable intercept="0.5" targetCategory="1"><NumericPredictor name="x" coefficient="2"/></RegressionTable>
<RegressionTable intercept="0" targetCategory="0"/>
</RegressionModel>"""
    text = pmml(fields, model_el)
    model, messages = load_warned(text)
    assert messages == []
    frame = pd.DataFrame({"x": [1.0, -3.0]})
    assert values(model.predict(frame), "y") == [1, 0]
    assert values(model.predict(frame), "y") == jpmml_values(text, frame, "y")


# ------------------------------------------------------------------ producer traits

TREE_FIELDS = """<DataField name="x" optype="continuous" dataType="double"/>
<DataField name="c" optype="categorical" dataType="string"><Value value="a"/><Value value="b"/></DataField>
<DataField name="y" optype="continuous" dataType="double"/>"""


def tree(root_predicate: str = "<True/>", inner: str = "<True/>", mining_extra: str = "") -> str:
    return f"""<TreeModel functionName="regression" noTrueChildStrategy="returnLastPrediction">
<MiningSchema><MiningField name="x"/><MiningField name="c"/>{mining_extra}<MiningField name="y" usageType="predicted"/></MiningSchema>
<Node score="0">{root_predicate}
 <Node score="1.5"><SimplePredicate field="x" operator="lessThan" value="2"/>
  <Node score="4"><SimplePredicate field="c" operator="equal" value="a"/></Node>
  <Node score="5">{inner}</Node>
 </Node>
 <Node score="-0.5"><True/></Node>
</Node>
</TreeModel>"""


NETWORK_FIELDS = """<DataField name="x" optype="continuous" dataType="double"/>
<DataField name="y" optype="continuous" dataType="double"/>"""


def network(activation: str = "") -> str:
    return f"""<NeuralNetwork functionName="regression"{activation}>
<MiningSchema><MiningField name="x"/><MiningField name="y" usageType="predicted"/></MiningSchema>
<NeuralInputs>
 <NeuralInput id="0"><DerivedField optype="continuous" dataType="double"><FieldRef field="x"/></DerivedField></NeuralInput>
</NeuralInputs>
<NeuralLayer activationFunction="tanh">
 <Neuron id="1" bias="0.1"><Con from="0" weight="0.7"/></Neuron>
 <Neuron id="2" bias="-0.2"><Con from="0" weight="-1.3"/></Neuron>
</NeuralLayer>
<NeuralLayer activationFunction="identity">
 <Neuron id="3" bias="0.5"><Con from="1" weight="2"/><Con from="2" weight="0.25"/></Neuron>
</NeuralLayer>
<NeuralOutputs>
 <NeuralOutput outputNeuron="3"><DerivedField optype="continuous" dataType="double"><FieldRef field="y"/></DerivedField></NeuralOutput>
</NeuralOutputs>
</NeuralNetwork>"""


EMBEDDED = """<MiningModel functionName="regression">
<MiningSchema><MiningField name="x"/><MiningField name="c"/><MiningField name="y" usageType="predicted"/></MiningSchema>
<Segmentation multipleModelMethod="sum">
 <Segment id="1"><True/>
  <{tree} functionName="regression">{tree_schema}
   <Node score="0"><True/>
    <Node score="1.5"><SimplePredicate field="x" operator="lessThan" value="2"/></Node>
    <Node score="-0.5"><True/></Node>
   </Node>
  </{tree}>
 </Segment>
 <Segment id="2"><True/>
  <{reg} functionName="regression">{reg_schema}
   <RegressionTable intercept="0.25">
    <NumericPredictor name="x" coefficient="2"/>
    <CategoricalPredictor name="c" value="b" coefficient="10"/>
   </RegressionTable>
  </{reg}>
 </Segment>
</Segmentation>
</MiningModel>"""

EMBEDDED_3X = EMBEDDED.format(tree="DecisionTree", reg="Regression", tree_schema="",
                              reg_schema="")
EMBEDDED_44 = EMBEDDED.format(tree="TreeModel", reg="RegressionModel",
                              tree_schema="<MiningSchema><MiningField name=\"x\"/></MiningSchema>",
                              reg_schema="<MiningSchema><MiningField name=\"x\"/>"
                                         "<MiningField name=\"c\"/></MiningSchema>")

FRAME = pd.DataFrame({"x": [1.0, 3.0, None, 0.0, 2.5], "c": ["a", "b", "a", "b", None]})

#: trait -> (document, marker of the line named, the same model in standard PMML 4.4)
TRAITS = {
    "undefined-mining-field": (
        pmml(TREE_FIELDS, tree(mining_extra='<MiningField name="dropped_column"/>')),
        "dropped_column", pmml(TREE_FIELDS, tree())),
    "empty-map-missing-to": (
        pmml(TREE_FIELDS, tree().replace('field="x" operator', 'field="xx" operator').replace(
            '<MiningField name="x"/>', '<MiningField name="x"/>'), transformations=(
            '<DerivedField name="xx" optype="continuous" dataType="double">'
            '\n<FieldRef field="x" mapMissingTo=""/></DerivedField>')),
        'mapMissingTo=""',
        pmml(TREE_FIELDS, tree().replace('field="x" operator', 'field="xx" operator'),
             transformations='<DerivedField name="xx" optype="continuous" dataType="double">'
                             '\n<FieldRef field="x"/></DerivedField>')),
    "node-without-predicate": (
        pmml(TREE_FIELDS, tree(inner="")), '<Node score="5">', pmml(TREE_FIELDS, tree())),
    "namespace": (
        pmml(TREE_FIELDS, tree(), ns='xmlns="https://www.dmg.org/PMML-4_4" version="4.4"'),
        "<PMML", pmml(TREE_FIELDS, tree())),
    "namespace ": (
        pmml(TREE_FIELDS, tree(), ns='xmlns="http://www.dmg.org/PMML" version="4.3"'),
        "<PMML", pmml(TREE_FIELDS, tree())),
    "no-namespace": (
        pmml(TREE_FIELDS, tree(), ns='version="4.2"'), "<PMML", pmml(TREE_FIELDS, tree())),
    "layer-activation": (
        pmml(NETWORK_FIELDS, network()), "<NeuralNetwork",
        pmml(NETWORK_FIELDS, network(' activationFunction="logistic"'))),
    "embedded-model": (
        pmml(TREE_FIELDS, EMBEDDED_3X, ns='xmlns="http://www.dmg.org/PMML-3_2" version="3.2"'),
        "<DecisionTree", pmml(TREE_FIELDS, EMBEDDED_44)),
}


@pytest.mark.parametrize("trait", list(TRAITS))
def test_trait_loads_with_one_warning_naming_it_and_its_line(trait):
    text, marker, standard = TRAITS[trait]
    model, messages = load_warned(text)
    assert len(messages) == 1, messages
    assert f"[{trait.strip()}]" in messages[0]
    assert re.search(rf"\(lines? (\d+, )*{line_of(text, marker)}\b", messages[0])
    frame = FRAME[[f.name for f in model.inputs]]
    got = values(model.predict(frame), "y")
    assert got == values(portmodel.load(standard).predict(frame), "y")
    assert close(got, jpmml_values(standard, frame, "y"))


@pytest.mark.parametrize("trait", list(TRAITS))
def test_trait_is_refused_with_strict_and_by_validate(trait):
    text, marker, _ = TRAITS[trait]
    line = line_of(text, marker)
    with pytest.raises(DocumentError, match="strict=True") as info:
        portmodel.load(text, strict=True)
    assert info.value.line == line
    problems = validate(text)
    assert any(p.severity == ERROR and p.line == line and f"[{trait.strip()}]" in p.message
               for p in problems), problems


#: traits a reference engine scores as written (the others it refuses: JPMML the loose and
#: absent namespaces and the embedded models, and it fails a row that reaches a Node without a
#: predicate; PyPMML the undefined MiningField, the layer-only activation and both of those)
SCORED_BY = {"undefined-mining-field": "jpmml", "layer-activation": "jpmml",
             "empty-map-missing-to": "pypmml", "namespace": "pypmml", "namespace ": "pypmml",
             "no-namespace": "pypmml"}


@pytest.mark.oracle
@pytest.mark.parametrize("trait", list(SCORED_BY))
def test_trait_agrees_with_the_reference_engine_that_scores_it(trait):
    text = TRAITS[trait][0]
    model, _ = load_warned(text)
    frame = FRAME[[f.name for f in model.inputs]]
    got = values(model.predict(frame), "y")
    if SCORED_BY[trait] == "jpmml":
        assert close(got, jpmml_values(text, frame, "y"))
    else:
        pypmml = pytest.importorskip("pypmml")
        theirs = pypmml.Model.fromString(text).predict(frame)
        assert close(got, values(theirs, theirs.columns[0]))


# ------------------------------------------------------------------ x-mathContext="float"

def _xgboost_exports(folder):
    """XGBoost regressor, binary and 3-class classifiers exported by sklearn2pmml (JPMML-XGBoost
    writes float fields and x-mathContext="float" on every model): name -> (path, X, model)."""
    xgboost = pytest.importorskip("xgboost")
    pytest.importorskip("sklearn2pmml")
    import shutil
    if shutil.which("java") is None:
        pytest.skip("sklearn2pmml needs Java")
    from sklearn2pmml import sklearn2pmml
    from sklearn2pmml.pipeline import PMMLPipeline
    rng = np.random.default_rng(7)
    X = pd.DataFrame(rng.normal(size=(400, 4)), columns=["a", "b", "c", "d"])
    y = 3 * X.a + 2 * np.sin(X.b) + X.c * X.d + rng.normal(scale=0.1, size=len(X))
    specs = {
        "reg": (xgboost.XGBRegressor(n_estimators=25, max_depth=3, learning_rate=0.3), y),
        "binary": (xgboost.XGBClassifier(n_estimators=20, max_depth=3), (y > 0).astype(int)),
        "multi": (xgboost.XGBClassifier(n_estimators=10, max_depth=3),
                  np.digitize(y, [-1.5, 1.5])),
    }
    out = {}
    for name, (est, target) in specs.items():
        pipe = PMMLPipeline([("xgb", est)])
        pipe.fit(X, target)
        path = folder / f"xgb_{name}.pmml"
        sklearn2pmml(pipe, str(path))
        out[name] = (path, X, est)
    return out


@pytest.fixture(scope="module")
def xgboost_docs(tmp_path_factory):
    return _xgboost_exports(tmp_path_factory.mktemp("xgboost"))


def test_float_math_context_document_traits(xgboost_docs):
    text = xgboost_docs["binary"][0].read_text()
    assert 'x-mathContext="float"' in text and 'dataType="float"' in text


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["reg", "binary", "multi"])
def test_float_math_context_matches_jpmml_exactly(xgboost_docs, name, monkeypatch):
    """Every output cell equals JPMML-Evaluator's bit for bit (float32 sums, rescaling and
    normalization), on the numba and the numpy path, and for one record."""
    path, X, _ = xgboost_docs[name]
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(rng.normal(scale=1.5, size=(3000, 4)), columns=list(X.columns))
    frame.iloc[::97, 1] = np.nan                   # XGBoost's missing-value branches
    theirs = jpmml_frame(path.read_text(), frame)
    model, _ = load_warned(str(path))
    for numba in ("0", "1"):
        monkeypatch.setenv("PORTMODEL_NO_NUMBA", numba)
        ours = model.predict(frame)
        for col in model.output_names:
            a = pd.to_numeric(ours[col]).to_numpy(float)
            b = pd.to_numeric(theirs[col]).to_numpy(float)
            assert np.array_equal(a, b, equal_nan=True), (col, np.nanmax(np.abs(a - b)))
    one = model.predict(frame.iloc[0].to_dict())
    for col in model.output_names:
        assert float(one[col]) == float(pd.to_numeric(theirs[col])[0])


@pytest.mark.parametrize("name", ["reg", "binary", "multi"])
def test_float_math_context_matches_xgboost(xgboost_docs, name):
    """The document's scores are XGBoost's own predictions (float32) to float32 precision."""
    path, X, est = xgboost_docs[name]
    model, _ = load_warned(str(path))
    ours = model.predict(X)
    if name == "reg":
        want = est.predict(X)
        got = ours[model.output_names[0]].to_numpy(float)
    else:
        want = est.predict_proba(X)
        got = np.column_stack([ours[c].to_numpy(float) for c in model.output_names
                               if c.startswith("probability(")])
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-7)


def test_float_math_context_rounds_each_step_to_float32():
    """A hand-written sum of trees: each tree's score is a float32 number and the running sum
    and the rescaling are rounded to float32 after each step; without x-mathContext the same
    document is summed in double."""
    trees = "".join(f"""
 <Segment id="{i}"><True/>
  <TreeModel functionName="regression" noTrueChildStrategy="returnLastPrediction" x-mathContext="float">
   <MiningSchema><MiningField name="x"/></MiningSchema>
   <Node><True/>
    <Node score="{s1}"><SimplePredicate field="x" operator="lessThan" value="0.5"/></Node>
    <Node score="{s2}"><True/></Node>
   </Node>
  </TreeModel>
 </Segment>""" for i, (s1, s2) in enumerate([(0.1, 0.7), (0.2, 1e-8), (0.3, 0.3333333333)], 1))
    fields = """<DataField name="x" optype="continuous" dataType="float"/>
<DataField name="y" optype="continuous" dataType="float"/>"""
    model_el = f"""<MiningModel functionName="regression" x-mathContext="float">
<MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>
<Targets><Target field="y" rescaleFactor="1.1" rescaleConstant="0.05"/></Targets>
<Segmentation multipleModelMethod="sum">{trees}
</Segmentation>
</MiningModel>"""
    text = pmml(fields, model_el)
    frame = pd.DataFrame({"x": [0.0, 1.0]})
    got = values(portmodel.load(text).predict(frame), "y")
    f = np.float32
    want = [float((f(f(f(0.1) + f(0.2)) + f(0.3)) * f(1.1)) + f(0.05)),
            float((f(f(f(0.7) + f(1e-8)) + f(0.3333333333)) * f(1.1)) + f(0.05))]
    assert got == want
    double = values(portmodel.load(text.replace(' x-mathContext="float"', "")).predict(frame),
                    "y")
    assert double == [(0.1 + 0.2 + 0.3) * 1.1 + 0.05, (0.7 + 1e-8 + 0.3333333333) * 1.1 + 0.05]
    assert got != double
    assert close(got, jpmml_values(text, frame, "y"), 0.0)


# ------------------------------------------------------------------ VariableWeight

VW_FIELDS = """<DataField name="x" optype="continuous" dataType="double"/>
<DataField name="w1" optype="continuous" dataType="double"/>
<DataField name="y" optype="continuous" dataType="double"/>
<DataField name="c" optype="categorical" dataType="string"><Value value="p"/><Value value="q"/></DataField>"""


def vw_regression(method: str) -> str:
    return f"""<MiningModel functionName="regression">
<MiningSchema><MiningField name="x"/><MiningField name="w1"/><MiningField name="y" usageType="target"/></MiningSchema>
<Segmentation multipleModelMethod="{method}">
<Segment id="1" weight="5"><True/>
<RegressionModel functionName="regression"><MiningSchema><MiningField name="x"/></MiningSchema>
<RegressionTable intercept="1"><NumericPredictor name="x" coefficient="2"/></RegressionTable></RegressionModel>
<VariableWeight field="w1"/>
</Segment>
<Segment id="2" weight="1"><True/>
<RegressionModel functionName="regression"><MiningSchema><MiningField name="x"/></MiningSchema>
<RegressionTable intercept="10"/></RegressionModel>
</Segment>
</Segmentation>
</MiningModel>"""


VW_VOTE = """<MiningModel functionName="classification">
<MiningSchema><MiningField name="x"/><MiningField name="w1"/><MiningField name="c" usageType="target"/></MiningSchema>
<Segmentation multipleModelMethod="weightedMajorityVote">
<Segment id="1" weight="2"><True/>
<TreeModel functionName="classification"><MiningSchema><MiningField name="x"/></MiningSchema>
<Node score="p"><True/></Node></TreeModel>
<VariableWeight field="w1"/>
</Segment>
<Segment id="2" weight="3"><True/>
<TreeModel functionName="classification"><MiningSchema><MiningField name="x"/></MiningSchema>
<Node score="q"><True/></Node></TreeModel>
</Segment>
</Segmentation>
</MiningModel>"""

VW_FRAME = pd.DataFrame({"x": [1.0, 2.0, 3.0, 1.0], "w1": [1.0, 3.0, 0.0, None]})


@pytest.mark.parametrize("method", ["weightedAverage", "weightedSum", "weightedMedian"])
def test_variable_weight_multiplies_the_segment_weight(method):
    """The segment's weight for a row is its weight times the VariableWeight field's value
    (PyPMML's reading; JPMML does not score VariableWeight); a row without a weight value gets
    no prediction."""
    model = portmodel.load(pmml(VW_FIELDS, vw_regression(method)))
    got = values(model.predict(VW_FRAME), "y")
    s1 = [1 + 2 * x for x in VW_FRAME["x"]]
    w = [5 * v for v in VW_FRAME["w1"][:3]]
    if method == "weightedAverage":
        want = [(s * wi + 10) / (wi + 1) for s, wi in zip(s1, w)]
    elif method == "weightedSum":
        want = [s * wi + 10 for s, wi in zip(s1, w)]
    else:
        want = [s1[0], s1[1], 10.0]     # the value holding half of the weight
    assert close(got, want + [None])


@pytest.mark.oracle
@pytest.mark.parametrize("model_el", [vw_regression("weightedAverage"), vw_regression("weightedSum"),
                                      VW_VOTE], ids=["weightedAverage", "weightedSum", "vote"])
def test_variable_weight_agrees_with_pypmml(model_el):
    pypmml = pytest.importorskip("pypmml")
    text = pmml(VW_FIELDS, model_el)
    frame = VW_FRAME.iloc[:3]
    ours = portmodel.load(text).predict(frame)
    theirs = pypmml.Model.fromString(text).predict(frame)
    target = "c" if "classification" in model_el else "y"
    col = next(c for c in theirs.columns if c.startswith("predicted_"))
    assert close(values(ours, target), values(theirs, col))


def test_variable_weight_votes():
    text = pmml(VW_FIELDS, VW_VOTE)
    # p gets 2 * w1 votes, q gets 3
    assert values(portmodel.load(text).predict(VW_FRAME.iloc[:3]), "c") == ["q", "p", "q"]


def test_variable_weight_field_must_exist():
    text = pmml(VW_FIELDS, vw_regression("weightedSum").replace('field="w1"', 'field="nope"'))
    with pytest.raises(DocumentError, match="nope"):
        portmodel.load(text)


# ------------------------------------------------------------------ k-NN: targets, derived inputs

KNN_FIELDS = """<DataField name="x1" optype="continuous" dataType="double"/>
<DataField name="x2" optype="continuous" dataType="double"/>
<DataField name="y1" optype="continuous" dataType="double"/>
<DataField name="y2" optype="categorical" dataType="string"><Value value="a"/><Value value="b"/></DataField>"""

Z1 = ('<DerivedField name="z1" optype="continuous" dataType="double"><Apply function="*">'
      '<FieldRef field="x1"/><Constant>10</Constant></Apply></DerivedField>')
Z2 = ('<DerivedField name="z2" optype="continuous" dataType="double"><Apply function="-">'
      '<FieldRef field="x2"/><Constant>1</Constant></Apply></DerivedField>')
KNN_ROWS = [(0, 0, 1, "a"), (1, 0, 2, "a"), (0, 1, 3, "b"), (2, 2, 4, "b"), (3, 1, 5, "b"),
            (0.2, 3, 6, "b"), (1.1, 2.5, 7, "a")]


def knn(targets=("y1", "y2"), inputs=("z1", "z2"), local=Z1 + Z2, outputs: str = "") -> str:
    function = "mixed" if len(targets) > 1 else ("regression" if targets == ("y1",)
                                                 else "classification")
    rows = "\n".join(f"<row><x1>{a}</x1><x2>{b}</x2><y1>{c}</y1><y2>{d}</y2></row>"
                     for a, b, c, d in KNN_ROWS)
    mining = "".join(f'<MiningField name="{t}" usageType="target"/>' for t in targets)
    return f"""<NearestNeighborModel functionName="{function}" numberOfNeighbors="3">
<MiningSchema><MiningField name="x1"/><MiningField name="x2"/>{mining}</MiningSchema>
{f"<Output>{outputs}</Output>" if outputs else ""}
{f"<LocalTransformations>{local}</LocalTransformations>" if local else ""}
<TrainingInstances>
<InstanceFields><InstanceField field="x1" column="x1"/><InstanceField field="x2" column="x2"/>
<InstanceField field="y1" column="y1"/><InstanceField field="y2" column="y2"/></InstanceFields>
<InlineTable>
{rows}
</InlineTable>
</TrainingInstances>
<ComparisonMeasure kind="distance"><euclidean/></ComparisonMeasure>
<KNNInputs>{"".join(f'<KNNInput field="{i}"/>' for i in inputs)}</KNNInputs>
</NearestNeighborModel>"""


KNN_FRAME = pd.DataFrame({"x1": [0.1, 1.5, 2.5, 0.0, 0.9, 0.3],
                          "x2": [0.2, 1.0, 1.5, 1.1, 2.9, 2.0]})


def test_knn_training_instances_through_derived_fields():
    """KNN inputs that are derived fields: each training instance's value is computed from
    its instance fields, as JPMML computes it; the neighbours are not those of the raw fields."""
    text = pmml(KNN_FIELDS, knn())
    ours = portmodel.load(text).predict(KNN_FRAME)
    theirs = jpmml_frame(text, KNN_FRAME)
    for target in ("y1", "y2"):
        assert close(values(ours, target), values(theirs, target))
    raw = portmodel.load(pmml(KNN_FIELDS, knn(inputs=("x1", "x2"), local=""))).predict(KNN_FRAME)
    assert values(raw, "y1") != values(ours, "y1")


def test_knn_derived_inputs_from_the_transformation_dictionary():
    """The same fields defined in the TransformationDictionary give the same answers (JPMML
    fails such documents with a NullPointerException)."""
    local = portmodel.load(pmml(KNN_FIELDS, knn())).predict(KNN_FRAME)
    glob = portmodel.load(pmml(KNN_FIELDS, knn(local=""), transformations=Z1 + Z2)
                          ).predict(KNN_FRAME)
    assert local.equals(glob)


def test_knn_several_targets():
    """Each target is predicted as the one-target model predicts it; targetField picks a
    target's predictedValue, and entity ids are shared."""
    outputs = ('<OutputField name="p1" feature="predictedValue" targetField="y1" dataType="double"/>'
               '<OutputField name="p2" feature="predictedValue" targetField="y2" dataType="string"/>')
    text = pmml(KNN_FIELDS, knn(outputs=outputs))
    model = portmodel.load(text)
    assert model.output_names[:2] == ["y1", "y2"]
    assert [f.data_type for f in model.outputs[:2]] == ["double", "string"]
    ours = model.predict(KNN_FRAME)
    theirs = jpmml_frame(text, KNN_FRAME)
    for col in ("y1", "y2", "p1", "p2"):
        assert close(values(ours, col), values(theirs, col)), col
    for target in ("y1", "y2"):
        alone = portmodel.load(pmml(KNN_FIELDS, knn(targets=(target,)))).predict(KNN_FRAME)
        assert values(alone, target) == values(ours, target)
    one = model.predict(KNN_FRAME.iloc[4].to_dict())
    assert (one["y1"], one["y2"]) == (values(ours, "y1")[4], values(ours, "y2")[4])


def test_knn_derived_field_the_instances_cannot_give_is_a_load_error():
    local = Z1 + Z2.replace('field="x2"', 'field="x3"')
    fields = KNN_FIELDS + '\n<DataField name="x3" optype="continuous" dataType="double"/>'
    text = pmml(fields, knn(local=local).replace('<MiningField name="x2"/>',
                                                 '<MiningField name="x2"/><MiningField name="x3"/>'))
    with pytest.raises(DocumentError, match="training instances"):
        portmodel.load(text)


# ------------------------------------------------------------------ TextIndex

TEXT_FIELDS = """<DataField name="doc" optype="categorical" dataType="string"/>
<DataField name="y" optype="continuous" dataType="double"/>"""

TEXTS = ["The Brown fox, the BROWN dog!", "brown brown brown", "a browne fox (brown)", "",
         "Machine learning: learning machines; machine-learning MACHINE LEARNING.",
         "colour color Colour colr", "nothing here", None, "cats and dogs, cat, dog",
         "I'm a brown\tfox\n—brown—"]


def text_model(term: str = "brown", dt: str = "integer", **attrs) -> str:
    attr = "".join(f' {k}="{v}"' for k, v in attrs.items() if k != "norm")
    norm = attrs.get("norm", "")
    return f"""<RegressionModel functionName="regression">
<MiningSchema><MiningField name="doc"/><MiningField name="y" usageType="target"/></MiningSchema>
<Output><OutputField name="tf" feature="transformedValue" dataType="double"><FieldRef field="tf_raw"/></OutputField></Output>
<LocalTransformations>
<DerivedField name="tf_raw" optype="continuous" dataType="{dt}">
<TextIndex textField="doc"{attr}>{norm}<Constant dataType="string">{term}</Constant></TextIndex>
</DerivedField>
</LocalTransformations>
<RegressionTable intercept="0.5"><NumericPredictor name="tf_raw" coefficient="2"/></RegressionTable>
</RegressionModel>"""


NORMALIZATION = """<TextIndexNormalization inField="string" outField="stem" regexField="regex">
<InlineTable>
<row><string>colour</string><stem>color</stem><regex>false</regex></row>
<row><string>colr\\b</string><stem>color</stem><regex>true</regex></row>
<row><string>(\\w+)s\\b</string><stem>$1</stem><regex>true</regex></row>
</InlineTable>
</TextIndexNormalization>"""

RECURSIVE = """<TextIndexNormalization recursive="true">
<InlineTable>
<row><string>ab</string><stem>a</stem></row>
</InlineTable>
</TextIndexNormalization>"""

TEXT_CASES = {
    "termFrequency": text_model(),
    "binary": text_model(localTermWeights="binary"),
    "logarithmic": text_model(dt="double", localTermWeights="logarithmic"),
    "case sensitive": text_model(isCaseSensitive="true"),
    "phrase": text_model("machine learning"),
    "levenshtein": text_model("brown", maxLevenshteinDistance="1"),
    "best hits": text_model("brown", maxLevenshteinDistance="1", countHits="bestHits"),
    "normalization": text_model("color", norm=NORMALIZATION),
    "stems": text_model("dog", norm=NORMALIZATION),
    "separator": text_model("learning", wordSeparatorCharacterRE="[\\s\\-:;.]+"),
}


@pytest.mark.parametrize("case", list(TEXT_CASES))
def test_text_index_agrees_with_jpmml(case):
    text = pmml(TEXT_FIELDS, TEXT_CASES[case])
    frame = pd.DataFrame({"doc": TEXTS})
    ours = portmodel.load(text).predict(frame)
    theirs = jpmml_frame(text, frame)
    for col in ("tf", "y"):
        assert close(values(ours, col), values(theirs, col)), (col, values(ours, col),
                                                               values(theirs, col))


def test_text_index_counts_by_hand():
    frame = pd.DataFrame({"doc": TEXTS})
    tf = values(portmodel.load(pmml(TEXT_FIELDS, TEXT_CASES["termFrequency"])).predict(frame),
                "tf")
    # punctuation trimmed, case ignored; "browne" is another word; missing text: missing
    assert tf == [2, 3, 1, 0, 0, 0, 0, None, 0, 2]
    lev = values(portmodel.load(pmml(TEXT_FIELDS, TEXT_CASES["levenshtein"])).predict(frame),
                 "tf")
    assert lev[2] == 2                     # browne is one edit away
    norm = values(portmodel.load(pmml(TEXT_FIELDS, TEXT_CASES["normalization"])).predict(
        frame), "tf")
    assert norm[5] == 4                    # colour -> color, colr -> color
    docs = pd.DataFrame({"doc": ["abbb x a"]})
    rec = portmodel.load(pmml(TEXT_FIELDS, text_model("a", norm=RECURSIVE)))
    assert values(rec.predict(docs), "tf") == [2]           # abbb -> abb -> ab -> a
    once = portmodel.load(pmml(TEXT_FIELDS, text_model("a", norm=RECURSIVE.replace(
        ' recursive="true"', ""))))
    assert values(once.predict(docs), "tf") == [1]
    assert close(values(rec.predict(docs), "tf"),
                 values(jpmml_frame(pmml(TEXT_FIELDS, text_model("a", norm=RECURSIVE)), docs),
                        "tf"))


def test_text_index_augmented_weights_are_refused():
    text = pmml(TEXT_FIELDS, text_model(localTermWeights="augmentedNormalizedTermFrequency"))
    with pytest.raises(portmodel.UnsupportedError, match="augmentedNormalizedTermFrequency"):
        portmodel.load(text)


def test_integer_target_of_whole_predictions_stays_integer():
    """A tree whose scores are all whole (and a scorecard of whole points) predicts whole
    numbers: its integer target stays integer, without a warning (as JPMML returns it)."""
    fields = INT_FIELDS
    tree_el = """<TreeModel functionName="regression">
<MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>
<Node score="0"><True/>
 <Node score="34"><SimplePredicate field="x" operator="lessThan" value="2"/></Node>
 <Node score="-7"><True/></Node>
</Node>
</TreeModel>"""
    card = """<Scorecard functionName="regression" useReasonCodes="false" initialScore="600">
<MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>
<Characteristics>
 <Characteristic name="cx">
  <Attribute partialScore="25"><SimplePredicate field="x" operator="lessThan" value="2"/></Attribute>
  <Attribute partialScore="-40"><True/></Attribute>
 </Characteristic>
</Characteristics>
</Scorecard>"""
    frame = pd.DataFrame({"x": [1.0, 5.0]})
    for model_el, want in ((tree_el, [34, -7]), (card, [625, 560])):
        text = pmml(fields, model_el)
        model, messages = load_warned(text)
        assert messages == []
        got = values(model.predict(frame), "y")
        assert got == want and all(isinstance(v, (int, np.integer)) for v in got)
        assert got == [int(v) for v in jpmml_values(text, frame, "y")]
    # a rescaling by a fraction makes them real again
    scaled = tree_el.replace("<Node score=\"0\">",
                             '<Node score="0">').replace(
        "</MiningSchema>", '</MiningSchema><Targets><Target field="y" rescaleFactor="0.5"/></Targets>')
    model, messages = load_warned(pmml(fields, scaled))
    assert [m for m in messages if "integer-target" in m]
    assert values(model.predict(frame), "y") == [17.0, -3.5]
