"""Older PMML versions (3.0 - 4.3) load and score like their PMML 4.4 form; vendor extensions
are ignored with one warning per document.

Each old-dialect document is paired with the same model written in PMML 4.4 and with values
computed by hand from the specification; the oracle tests run the old documents through the
reference engine (which upgrades them with its own import filter).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from lxml import etree

import portmodel
from portmodel.errors import PortmodelWarning
from portmodel.pmml import dialects, xmlread
from reference_engines import jpmml_frame

OLD_VERSIONS = ("3.0", "3.1", "3.2", "4.0", "4.1", "4.2", "4.3")


def doc(version: str, fields: str, model: str, transformations: str = "",
        header: str = '<Header copyright="portmodel tests"/>') -> str:
    ns = f"http://www.dmg.org/PMML-{version.replace('.', '_')}"
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', f'<PMML xmlns="{ns}" version="{version}">',
             header, "<DataDictionary>", fields, "</DataDictionary>"]
    if transformations:
        parts += ["<TransformationDictionary>", transformations, "</TransformationDictionary>"]
    return "\n".join(parts + [model, "</PMML>"]) + "\n"


def load_quietly(text: str):
    """Load with every warning turned into an error: these documents have no extensions."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", PortmodelWarning)
        return portmodel.load(text)


def column(model, frame: pd.DataFrame, name: str) -> list:
    out = model.predict(frame)[name]
    return [None if (v is None or (isinstance(v, float) and math.isnan(v))) else v
            for v in out.tolist()]


# ------------------------------------------------------------------ every namespace

FIELDS = """
<DataField name="x" optype="continuous" dataType="double"/>
<DataField name="color" optype="categorical" dataType="string">
  <Value value="red"/><Value value="green"/>
</DataField>
<DataField name="y" optype="continuous" dataType="double"/>
"""
REGRESSION = """
<RegressionModel functionName="regression" modelName="r">
  <MiningSchema>
    <MiningField name="x"/><MiningField name="color"/>
    <MiningField name="y" usageType="predicted"/>
  </MiningSchema>
  <RegressionTable intercept="1.5">
    <NumericPredictor name="x" coefficient="2"/>
    <CategoricalPredictor name="color" value="red" coefficient="0.5"/>
  </RegressionTable>
</RegressionModel>
"""
TREE = """
<TreeModel functionName="regression" modelName="t">
  <MiningSchema>
    <MiningField name="x"/><MiningField name="color"/>
    <MiningField name="y" usageType="predicted"/>
  </MiningSchema>
  <Node score="0">
    <True/>
    <Node score="10"><SimplePredicate field="x" operator="lessThan" value="1"/></Node>
    <Node score="20"><SimplePredicate field="color" operator="equal" value="red"/></Node>
    <Node score="30"><True/></Node>
  </Node>
</TreeModel>
"""
ROWS = pd.DataFrame({"x": [0.0, 1.0, 2.5, -3.0], "color": ["red", "green", "red", "green"]})


@pytest.mark.parametrize("version", OLD_VERSIONS)
@pytest.mark.parametrize("model, expected", [
    (REGRESSION, [2.0, 3.5, 7.0, -4.5]),          # 1.5 + 2x + 0.5 [color = red]
    (TREE, [10.0, 30.0, 20.0, 10.0]),             # first true child wins
], ids=["regression", "tree"])
def test_each_old_namespace_scores_like_44(version, model, expected):
    old = load_quietly(doc(version, FIELDS, model))
    new = load_quietly(doc("4.4", FIELDS, model))
    assert old.version == version
    assert column(old, ROWS, "y") == expected
    assert column(old, ROWS, "y") == column(new, ROWS, "y")


def test_unknown_pmml_namespace_still_refused():
    with pytest.raises(portmodel.errors.UnsupportedError, match="2.1"):
        portmodel.load(doc("4.4", FIELDS, REGRESSION).replace("PMML-4_4", "PMML-2_1"))


# ------------------------------------------------------------------ version-specific rewrites

def test_pmml30_datafield_without_datatype():
    fields = FIELDS.replace('optype="continuous" dataType="double"/>\n<DataField name="color"',
                            'optype="continuous"/>\n<DataField name="color"')
    assert 'name="x" optype="continuous"/>' in fields
    root, version = xmlread.parse(doc("3.0", fields, REGRESSION).encode())
    notes = dialects.upgrade(root, version)
    x = root.find("DataDictionary/DataField[@name='x']")
    assert x.get("dataType") == "double"
    assert [n.element for n in notes] == ["DataField"] and notes[0].line == x.sourceline
    assert column(load_quietly(doc("3.0", fields, REGRESSION)), ROWS, "y") == [2.0, 3.5, 7.0, -4.5]


CLASSIFIER_FIELDS = """
<DataField name="x" optype="continuous" dataType="double"/>
<DataField name="label" optype="categorical" dataType="string">
  <Value value="lo"/><Value value="hi"/>
</DataField>
"""
CLASSIFIER = """
<TreeModel functionName="classification">
  <MiningSchema><MiningField name="x"/><MiningField name="label" usageType="predicted"/></MiningSchema>
  <Output>
    <OutputField name="shown" optype="categorical" dataType="string" feature="predictedDisplayValue"/>
  </Output>
  <Targets>
    <Target field="label">
      <TargetValue value="lo" {attr}="Low"/>
      <TargetValue value="hi" {attr}="High"/>
    </Target>
  </Targets>
  <Node score="lo">
    <True/>
    <Node score="hi"><SimplePredicate field="x" operator="greaterThan" value="5"/></Node>
    <Node score="lo"><True/></Node>
  </Node>
</TreeModel>
"""


@pytest.mark.parametrize("version", ["3.0", "3.1"])
def test_targetvalue_rawdatavalue_is_the_display_value(version):
    old = load_quietly(doc(version, CLASSIFIER_FIELDS, CLASSIFIER.format(attr="rawDataValue")))
    new = load_quietly(doc("4.4", CLASSIFIER_FIELDS, CLASSIFIER.format(attr="displayValue")))
    rows = pd.DataFrame({"x": [1.0, 9.0]})
    assert column(old, rows, "shown") == ["Low", "High"]     # TargetValue@displayValue
    assert column(old, rows, "shown") == column(new, rows, "shown")


def test_rawdatavalue_is_left_alone_after_pmml31():
    root, _ = xmlread.parse(doc("3.2", CLASSIFIER_FIELDS,
                                CLASSIFIER.format(attr="rawDataValue")).encode())
    assert dialects.upgrade(root, "3.2") == []
    assert root.find(".//TargetValue").get("rawDataValue") == "Low"


CLUSTER_FIELDS = """
<DataField name="a" optype="continuous" dataType="double"/>
<DataField name="b" optype="continuous" dataType="double"/>
"""
CLUSTER_31 = """
<ClusteringModel functionName="clustering" modelClass="centerBased" numberOfClusters="2">
  <MiningSchema><MiningField name="a"/><MiningField name="b"/></MiningSchema>
  <Output><OutputField name="c" optype="categorical" dataType="string" feature="predictedValue"/></Output>
  <ComparisonMeasure kind="distance"><squaredEuclidean/></ComparisonMeasure>
  <ClusteringField field="a" fieldWeight="1"/>
  <CenterFields>
    <DerivedField name="b10" optype="continuous" dataType="double">
      <Apply function="/"><FieldRef field="b"/><Constant>10</Constant></Apply>
    </DerivedField>
    <DerivedField name="a_" optype="continuous" dataType="double"><FieldRef field="a"/></DerivedField>
  </CenterFields>
  <Cluster name="one"><Array n="2" type="real">0 0</Array></Cluster>
  <Cluster name="two"><Array n="2" type="real">1 10</Array></Cluster>
</ClusteringModel>
"""
CLUSTER_44 = """
<ClusteringModel functionName="clustering" modelClass="centerBased" numberOfClusters="2">
  <MiningSchema><MiningField name="a"/><MiningField name="b"/></MiningSchema>
  <Output><OutputField name="c" optype="categorical" dataType="string" feature="predictedValue"/></Output>
  <LocalTransformations>
    <DerivedField name="b10" optype="continuous" dataType="double">
      <Apply function="/"><FieldRef field="b"/><Constant>10</Constant></Apply>
    </DerivedField>
  </LocalTransformations>
  <ComparisonMeasure kind="distance"><squaredEuclidean/></ComparisonMeasure>
  <ClusteringField field="b10"/>
  <ClusteringField field="a" fieldWeight="1"/>
  <Cluster name="one"><Array n="2" type="real">0 0</Array></Cluster>
  <Cluster name="two"><Array n="2" type="real">1 10</Array></Cluster>
</ClusteringModel>
"""


@pytest.mark.parametrize("version", ["3.0", "3.1"])
def test_pmml3_center_fields_become_clustering_fields(version):
    old = load_quietly(doc(version, CLUSTER_FIELDS, CLUSTER_31))
    new = load_quietly(doc("4.4", CLUSTER_FIELDS, CLUSTER_44))
    # coordinates are (b / 10, a): (0, 0) is cluster 1, (1, 10) cluster 2
    rows = pd.DataFrame({"a": [0.5, 9.0, 4.0], "b": [1.0, 12.0, 3.0]})
    assert column(old, rows, "c") == ["1", "2", "1"]
    assert column(old, rows, "c") == column(new, rows, "c")


def test_pmml40_trend_is_renamed():
    model = """
<TimeSeriesModel functionName="timeSeries" bestFit="ExponentialSmoothing">
  <MiningSchema><MiningField name="y" usageType="predicted"/></MiningSchema>
  <ExponentialSmoothing RMSE="1"><Level alpha="0.5" smoothedValue="1"/>
    <Trend trend="additive" gamma="0.1" smoothedValue="0.5"/></ExponentialSmoothing>
</TimeSeriesModel>"""
    fields = '<DataField name="y" optype="continuous" dataType="double"/>'
    for version, renamed in (("4.0", True), ("4.1", False)):
        root, v = xmlread.parse(doc(version, fields, model).encode())
        notes = dialects.upgrade(root, v)
        assert (root.find(".//Trend_ExpoSmooth") is not None) is renamed
        assert (root.find(".//Trend") is None) is renamed
        assert len(notes) == int(renamed)


APPLY_FIELDS = """
<DataField name="x" optype="continuous" dataType="double"/>
<DataField name="y" optype="continuous" dataType="double"/>
"""
APPLY_MODEL = """
<RegressionModel functionName="regression">
  <MiningSchema><MiningField name="x"/><MiningField name="y" usageType="predicted"/></MiningSchema>
  <Output>
    <OutputField name="d" optype="continuous" dataType="double" feature="transformedValue">
      <FieldRef field="big"/>
    </OutputField>
  </Output>
  <LocalTransformations>
    <DerivedField name="big" optype="continuous" dataType="double">
      <Apply function="if" {attr}="-1">
        <Apply function="greaterThan"><FieldRef field="x"/><Constant>5</Constant></Apply>
        <Constant>1</Constant>
      </Apply>
    </DerivedField>
  </LocalTransformations>
  <RegressionTable intercept="0"><NumericPredictor name="x" coefficient="1"/></RegressionTable>
</RegressionModel>
"""


def test_pmml41_apply_map_missing_to_is_the_default_value():
    """PMML 4.1 had one attribute for a missing result; 4.2 calls it defaultValue."""
    rows = pd.DataFrame({"x": [9.0, 3.0]})
    old = load_quietly(doc("4.1", APPLY_FIELDS, APPLY_MODEL.format(attr="mapMissingTo")))
    new = load_quietly(doc("4.4", APPLY_FIELDS, APPLY_MODEL.format(attr="defaultValue")))
    # x > 5: 1; x <= 5: "if" without else is missing -> the default -1
    assert column(old, rows, "d") == [1.0, -1.0]
    assert column(old, rows, "d") == column(new, rows, "d")
    # in 4.2+ mapMissingTo keeps its own meaning (only a missing argument maps to -1)
    later = load_quietly(doc("4.2", APPLY_FIELDS, APPLY_MODEL.format(attr="mapMissingTo")))
    assert column(later, rows, "d") == [1.0, None]


X_FUNCTION_MODEL = """
<RegressionModel functionName="regression">
  <MiningSchema><MiningField name="x"/><MiningField name="y" usageType="predicted"/></MiningSchema>
  <LocalTransformations>
    <DerivedField name="m" optype="continuous" dataType="double">
      <Apply function="{fn}"><FieldRef field="x"/><Constant>3</Constant></Apply>
    </DerivedField>
  </LocalTransformations>
  <RegressionTable intercept="0"><NumericPredictor name="m" coefficient="1"/></RegressionTable>
</RegressionModel>
"""


@pytest.mark.parametrize("version", ["4.2", "4.3"])
def test_x_prefixed_builtin_functions(version):
    rows = pd.DataFrame({"x": [7.0, 9.0, 2.5]})
    old = load_quietly(doc(version, APPLY_FIELDS, X_FUNCTION_MODEL.format(fn="x-modulo")))
    new = load_quietly(doc("4.4", APPLY_FIELDS, X_FUNCTION_MODEL.format(fn="modulo")))
    assert column(old, rows, "y") == [1.0, 0.0, 2.5]     # x mod 3
    assert column(old, rows, "y") == column(new, rows, "y")


def test_x_prefix_of_a_user_function_is_kept():
    text = doc("4.3", APPLY_FIELDS, X_FUNCTION_MODEL.format(fn="x-modulo"), transformations="""
<DefineFunction name="x-modulo" optype="continuous" dataType="double">
  <ParameterField name="p" dataType="double"/><ParameterField name="q" dataType="double"/>
  <Apply function="*"><FieldRef field="p"/><FieldRef field="q"/></Apply>
</DefineFunction>""")
    root, version = xmlread.parse(text.encode())
    dialects.upgrade(root, version)
    assert root.find(".//DerivedField/Apply").get("function") == "x-modulo"
    assert column(load_quietly(text), pd.DataFrame({"x": [2.0]}), "y") == [6.0]


INVALID_FIELDS = """
<DataField name="x" optype="continuous" dataType="double"><Interval closure="closedClosed" leftMargin="0" rightMargin="10"/></DataField>
<DataField name="y" optype="continuous" dataType="double"/>
"""
INVALID_MODEL = """
<RegressionModel functionName="regression">
  <MiningSchema>
    <MiningField name="x" invalidValueTreatment="{treatment}" {attr}="5"/>
    <MiningField name="y" usageType="predicted"/>
  </MiningSchema>
  <RegressionTable intercept="1"><NumericPredictor name="x" coefficient="2"/></RegressionTable>
</RegressionModel>
"""


def test_x_invalid_value_replacement_means_as_value():
    rows = pd.DataFrame({"x": [3.0, 50.0]})    # 50 is outside [0, 10]: invalid
    old = load_quietly(doc("4.3", INVALID_FIELDS, INVALID_MODEL.format(
        treatment="asIs", attr="x-invalidValueReplacement")))
    new = load_quietly(doc("4.4", INVALID_FIELDS, INVALID_MODEL.format(
        treatment="asValue", attr="invalidValueReplacement")))
    assert column(old, rows, "y") == [7.0, 11.0]           # 1 + 2 * 5 for the invalid row
    assert column(old, rows, "y") == column(new, rows, "y")


SEGMENTS_MODEL = """
<MiningModel functionName="regression">
  <MiningSchema><MiningField name="x"/><MiningField name="y" usageType="predicted"/></MiningSchema>
  <Segmentation multipleModelMethod="{method}">
    <Segment weight="2"><True/>
      <RegressionModel functionName="regression">
        <MiningSchema><MiningField name="x"/><MiningField name="y" usageType="predicted"/></MiningSchema>
        <RegressionTable intercept="1"><NumericPredictor name="x" coefficient="1"/></RegressionTable>
      </RegressionModel>
    </Segment>
    <Segment weight="0.5"><True/>
      <RegressionModel functionName="regression">
        <MiningSchema><MiningField name="x"/><MiningField name="y" usageType="predicted"/></MiningSchema>
        <RegressionTable intercept="0"><NumericPredictor name="x" coefficient="4"/></RegressionTable>
      </RegressionModel>
    </Segment>
  </Segmentation>
</MiningModel>
"""


@pytest.mark.parametrize("version", ["4.0", "4.3"])
def test_x_weighted_sum_segmentation(version):
    rows = pd.DataFrame({"x": [0.0, 1.0, 3.0]})
    old = load_quietly(doc(version, APPLY_FIELDS, SEGMENTS_MODEL.format(method="x-weightedSum")))
    new = load_quietly(doc("4.4", APPLY_FIELDS, SEGMENTS_MODEL.format(method="weightedSum")))
    # 2 * (1 + x) + 0.5 * 4x = 2 + 4x
    assert column(old, rows, "y") == [2.0, 6.0, 14.0]
    assert column(old, rows, "y") == column(new, rows, "y")


def test_segmentation_x_attributes_are_renamed():
    root, version = xmlread.parse(doc("4.3", APPLY_FIELDS, SEGMENTS_MODEL.format(
        method="x-weightedMedian").replace(
        '<Segmentation ', '<Segmentation x-missingPredictionTreatment="returnMissing" '
                          'x-missingThreshold="0.5" ')).encode())
    dialects.upgrade(root, version)
    seg = root.find(".//Segmentation")
    assert dict(seg.attrib) == {"multipleModelMethod": "weightedMedian",
                                "missingPredictionTreatment": "returnMissing",
                                "missingThreshold": "0.5"}


NB_FIELDS = """
<DataField name="x" optype="continuous" dataType="double"/>
<DataField name="c" optype="categorical" dataType="string"><Value value="a"/><Value value="b"/></DataField>
<DataField name="label" optype="categorical" dataType="string"><Value value="p"/><Value value="q"/></DataField>
"""
NB_INPUT_X = """
<BayesInput fieldName="x">
  <TargetValueStats>
    <TargetValueStat value="p"><GaussianDistribution mean="0" variance="1"/></TargetValueStat>
    <TargetValueStat value="q"><GaussianDistribution mean="2" variance="1"/></TargetValueStat>
  </TargetValueStats>
</BayesInput>"""
NB_MODEL = """
<NaiveBayesModel functionName="classification" threshold="0.001">
  <MiningSchema>
    <MiningField name="x"/><MiningField name="c"/><MiningField name="label" usageType="predicted"/>
  </MiningSchema>
  <Output><OutputField name="pq" optype="continuous" dataType="double" feature="probability" value="q"/></Output>
  <BayesInputs>
    {before}
    <BayesInput fieldName="c">
      <PairCounts value="a"><TargetValueCounts><TargetValueCount value="p" count="3"/><TargetValueCount value="q" count="1"/></TargetValueCounts></PairCounts>
      <PairCounts value="b"><TargetValueCounts><TargetValueCount value="p" count="1"/><TargetValueCount value="q" count="3"/></TargetValueCounts></PairCounts>
    </BayesInput>
    {after}
  </BayesInputs>
  <BayesOutput fieldName="label">
    <TargetValueCounts><TargetValueCount value="p" count="4"/><TargetValueCount value="q" count="4"/></TargetValueCounts>
  </BayesOutput>
</NaiveBayesModel>
"""


def test_bayes_inputs_parked_in_an_extension_are_used_without_warning():
    old = load_quietly(doc("4.1", NB_FIELDS, NB_MODEL.format(
        before="", after=f'<Extension name="continuous">{NB_INPUT_X}</Extension>')))
    new = load_quietly(doc("4.4", NB_FIELDS, NB_MODEL.format(before=NB_INPUT_X, after="")))
    rows = pd.DataFrame({"x": [0.0, 2.0], "c": ["a", "b"]})

    def expected(x: float, c: str) -> float:     # prior 4/8 each; P(c|label) from the counts
        gp, gq = math.exp(-x * x / 2), math.exp(-(x - 2) ** 2 / 2)
        cp, cq = {"a": (3 / 4, 1 / 4), "b": (1 / 4, 3 / 4)}[c]
        return gq * cq / (gp * cp + gq * cq)

    want = [expected(0.0, "a"), expected(2.0, "b")]
    assert np.allclose(column(old, rows, "pq"), want, rtol=1e-12)
    assert np.allclose(column(old, rows, "pq"), column(new, rows, "pq"), rtol=1e-15)


# ------------------------------------------------------------------ vendor extensions

EXT = '<Extension extender="acme" name="{name}" value="1"><X-Acme><X-Inner a="b"/></X-Acme></Extension>'


def _e(name: str) -> str:
    return EXT.format(name=name)


EXTENDED_FIELDS = f"""
{_e("dd")}
<DataField name="x" optype="continuous" dataType="double">{_e("df")}</DataField>
<DataField name="color" optype="categorical" dataType="string">
  <Value value="red"/>{_e("value-sibling")}<Value value="green"/>
</DataField>
<DataField name="y" optype="continuous" dataType="double"/>
"""
EXTENDED_MODEL = f"""
<MiningModel functionName="regression" x-mathContext="float">
  {_e("model")}
  <MiningSchema>{_e("ms")}
    <MiningField name="x">{_e("mf")}</MiningField><MiningField name="color"/>
    <MiningField name="y" usageType="predicted"/>
  </MiningSchema>
  <Output>{_e("out")}
    <OutputField name="pred" optype="continuous" dataType="double" feature="predictedValue"/>
    <OutputField name="twice" optype="continuous" dataType="double" feature="transformedValue">
      {_e("of")}
      <Apply function="*">{_e("apply-first")}<FieldRef field="pred"/>{_e("apply-between")}<Constant>2</Constant>{_e("apply-last")}</Apply>
    </OutputField>
  </Output>
  <LocalTransformations>{_e("lt")}
    <DerivedField name="x2" optype="continuous" dataType="double">{_e("derived")}
      <Apply function="+"><FieldRef field="x"/>{_e("arg")}<FieldRef field="x"/></Apply>
    </DerivedField>
  </LocalTransformations>
  <Segmentation multipleModelMethod="sum">{_e("segmentation")}
    <Segment id="1">{_e("segment")}<True/>
      <TreeModel functionName="regression">{_e("tree")}
        <MiningSchema><MiningField name="x"/><MiningField name="color"/><MiningField name="x2"/></MiningSchema>
        <Node score="0">{_e("root-node")}<True/>
          <Node score="10" x-acme="1">{_e("node-before-predicate")}
            <CompoundPredicate booleanOperator="and">{_e("compound")}
              <SimplePredicate field="x2" operator="lessThan" value="2">{_e("simple")}</SimplePredicate>
              {_e("between-predicates")}
              <SimpleSetPredicate field="color" booleanOperator="isIn">{_e("set")}<Array type="string">red</Array></SimpleSetPredicate>
            </CompoundPredicate>
            {_e("after-predicate")}
          </Node>
          {_e("between-nodes")}
          <Node score="20"><True/></Node>
        </Node>
      </TreeModel>
    </Segment>
    {_e("between-segments")}
    <Segment id="2"><True/>
      <RegressionModel functionName="regression">
        <MiningSchema><MiningField name="x"/><MiningField name="color"/></MiningSchema>
        <RegressionTable intercept="1">{_e("table")}
          <NumericPredictor name="x" coefficient="2">{_e("numeric")}</NumericPredictor>
          <CategoricalPredictor name="color" value="red" coefficient="0.5"/>
        </RegressionTable>
      </RegressionModel>
    </Segment>
  </Segmentation>
</MiningModel>
"""


def _plain(text: str) -> str:
    """The same document without its vendor content."""
    root = etree.fromstring(text.encode())
    for el in list(root.iter("{*}Extension")):
        el.getparent().remove(el)
    for el in root.iter():
        for a in [a for a in el.attrib if a.startswith("x-")]:
            del el.attrib[a]
    return etree.tostring(root, encoding="unicode")


def test_extensions_anywhere_are_ignored_with_one_warning():
    text = doc("4.4", EXTENDED_FIELDS, EXTENDED_MODEL)
    with pytest.warns(PortmodelWarning) as caught:
        model = portmodel.load(text)
    ours = [w for w in caught if issubclass(w.category, PortmodelWarning)]
    assert len(ours) == 1
    message = str(ours[0].message)
    assert "'between-nodes'" in message and "'apply-between'" in message
    assert "Node@x-acme" in message
    assert "x-mathContext" not in message    # interpreted (float32 arithmetic), not ignored
    assert "X-Inner" not in message          # content of an Extension goes with it
    assert ours[0].filename == __file__     # points at the caller, not at portmodel
    rows = pd.DataFrame({"x": [0.5, 0.5, 3.0], "color": ["red", "green", "red"]})
    # tree: x2 = 2x < 2 and red -> 10, else 20; regression: 1 + 2x + 0.5 [red]; sum; twice
    want = [10 + 2.5, 20 + 2.0, 20 + 7.5]
    assert column(model, rows, "pred") == want
    assert column(model, rows, "twice") == [2 * v for v in want]
    plain = load_quietly(_plain(text))
    assert column(plain, rows, "pred") == want


def test_the_warning_names_lines_of_the_extensions():
    text = doc("4.4", EXTENDED_FIELDS, EXTENDED_MODEL)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if 'name="between-nodes"' in t)
    with pytest.warns(PortmodelWarning, match=rf"'between-nodes' \(line {line}\)"):
        portmodel.load(text)


def test_header_extensions_need_no_warning():
    text = doc("4.4", FIELDS, REGRESSION, header='<Header copyright="c">'
               '<Extension name="user" value="someone" extender="Rattle/PMML"/>'
               '<Application name="x"/></Header>')
    model = load_quietly(text)           # PortmodelWarning would be an error here
    assert column(model, ROWS, "y") == [2.0, 3.5, 7.0, -4.5]


def test_remove_extensions_reports_and_strips():
    text = doc("4.4", EXTENDED_FIELDS, EXTENDED_MODEL)
    root, version = xmlread.parse(text.encode())
    report = dialects.remove_extensions(root)
    assert not list(root.iter("Extension"))
    # x- attributes go, except the interpreted x-mathContext (float32 arithmetic)
    assert {a for el in root.iter() for a in el.attrib if a.startswith("x-")} == {"x-mathContext"}
    assert not any(el.tag.startswith("X-") for el in root.iter())
    assert report.elements["'between-nodes'"] == [
        next(i for i, t in enumerate(text.splitlines(), 1) if 'name="between-nodes"' in t)]
    assert report.count() == text.count("<Extension ") + 2       # + two x- attributes


# ------------------------------------------------------------------ against the reference engine

def _jpmml(text: str, rows: pd.DataFrame, name: str) -> list:
    out = jpmml_frame(text, rows)
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
            for v in out[name].tolist()]


@pytest.mark.oracle
@pytest.mark.parametrize("case", ["mapMissingTo-4.1", "x-invalidValueReplacement-4.3",
                                  "x-weightedSum-4.3", "x-modulo-4.2", "rawDataValue-3.1"])
def test_old_dialects_agree_with_the_reference_engine(case):
    if case == "mapMissingTo-4.1":
        text, rows, name = (doc("4.1", APPLY_FIELDS, APPLY_MODEL.format(attr="mapMissingTo")),
                            pd.DataFrame({"x": [9.0, 3.0]}), "d")
    elif case == "x-invalidValueReplacement-4.3":
        text, rows, name = (doc("4.3", INVALID_FIELDS, INVALID_MODEL.format(
            treatment="asIs", attr="x-invalidValueReplacement")),
            pd.DataFrame({"x": [3.0, 50.0]}), "y")
    elif case == "x-weightedSum-4.3":
        text, rows, name = (doc("4.3", APPLY_FIELDS, SEGMENTS_MODEL.format(method="x-weightedSum")),
                            pd.DataFrame({"x": [0.0, 1.0, 3.0]}), "y")
    elif case == "x-modulo-4.2":
        text, rows, name = (doc("4.2", APPLY_FIELDS, X_FUNCTION_MODEL.format(fn="x-modulo")),
                            pd.DataFrame({"x": [7.0, 9.0, 2.5]}), "y")
    else:
        text = doc("3.1", CLASSIFIER_FIELDS, CLASSIFIER.format(attr="rawDataValue"))
        model = load_quietly(text)
        rows = pd.DataFrame({"x": [1.0, 9.0]})
        ref = jpmml_frame(text, rows)["shown"].tolist()
        assert column(model, rows, "shown") == ref
        return
    assert column(load_quietly(text), rows, name) == _jpmml(text, rows, name)


def test_compilers_skip_extension_children_even_without_the_pass():
    """Defence in depth: the tree, segmentation, regression, predicate and Apply compilers
    step over Extension children themselves (load removes them before they get there)."""
    from portmodel.pmml.document import PMMLModel
    root, version = xmlread.parse(doc("4.4", EXTENDED_FIELDS, EXTENDED_MODEL).encode())
    model = PMMLModel(root, version)
    rows = pd.DataFrame({"x": [0.5, 0.5, 3.0], "color": ["red", "green", "red"]})
    assert column(model, rows, "pred") == [12.5, 22.0, 27.5]


def test_command_line_shows_the_warning_as_one_line(tmp_path, capsys):
    from portmodel.cli import main
    path = tmp_path / "ext.pmml"
    path.write_text(doc("4.4", EXTENDED_FIELDS, EXTENDED_MODEL))
    assert main(["inspect", str(path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(
        "portmodel: warning: portmodel ignores vendor extensions it does not interpret")


@pytest.mark.parametrize("source", [b"", b"-", b"x", b"x-", b"X-", b"a-x", b"ax-b", b"-x-",
                                    b"y-1", b"<X-Foo/>", b"\xc3\x98-", b"-" * 5 + b"X",
                                    b'<a x-v="1"/>', b'<a b="max-depth"/>'])
def test_vendor_name_check_finds_every_x_hyphen(source):
    """The one-pass check for "x-"/"X-" agrees with the plain substring searches."""
    assert dialects._x_hyphen(source) == (b"x-" in source or b"X-" in source)

