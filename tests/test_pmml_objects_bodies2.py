"""Typed model bodies (portmodel.pmml.objects): RuleSetModel, AssociationModel, Scorecard,
AnomalyDetectionModel, BaselineModel, TimeSeriesModel and TextModel documents (of the
conformance corpus where it has them, else the documents of each model's own tests) read into
typed body parts (no fragment left), the parts know the fields they name, and a bad attribute of
a body part is a DocumentError naming the element, the attribute and the line, at read and at
load."""
from __future__ import annotations

import re

import pytest

import portmodel
from portmodel.errors import DocumentError
from portmodel.pmml import objects
from portmodel.pmml.objects import (anomaly_detection, association,  # noqa: F401  (objects.x)
                                    baseline, distributions, rule_set, scorecard, text,
                                    time_series)

from conformance_util import SHARED
from objects_util import assert_bad_attribute, assert_typed, documents, mutate


def _assert_error_at(text: str, marker: str, element: str) -> None:
    """Loading text fails with a DocumentError at the line of marker, naming element."""
    line = text[:text.index(marker)].count("\n") + 1
    with pytest.raises(DocumentError) as info:
        portmodel.load(text.encode())
    assert info.value.element == element and info.value.line == line, str(info.value)


# ------------------------------------------------------------------ RuleSetModel

@pytest.mark.parametrize("path", documents("RuleSetModel"), ids=lambda p: p.name)
def test_rule_set_body_is_typed(path):
    rs_mod = objects.rule_set
    for m in assert_typed(path, "RuleSetModel"):
        rs, = m.body(rs_mod.RuleSet)
        assert rs.methods and rs.rules
        rules = [r for r in rs.rules if isinstance(r, rs_mod.SimpleRule)]
        assert rules and all(r.predicate is not None and r.score is not None for r in rules)
        assert set(rs.fields()) == {f for r in rs.rules for f in r.predicate.fields()}


def test_rule_set_compound_rules_nest_typed():
    from test_rule_set import COMPOUND, doc
    rs_mod = objects.rule_set
    rs, = objects.read(doc("firstHit", rules=COMPOUND)).model.body(rs_mod.RuleSet)
    compound = [r for r in rs.rules if isinstance(r, rs_mod.CompoundRule)]
    assert compound and all(r.rules for r in compound)
    assert isinstance(compound[0].predicate, objects.SimplePredicate)
    assert set(rs.fields()) <= {"BP", "Age", "K", "Na"}


@pytest.mark.parametrize("element,attribute,value", [
    ("SimpleRule", "confidence", "sure"), ("SimpleRule", "weight", "1,5"),
    ("RuleSet", "defaultConfidence", "high"), ("ScoreDistribution", "recordCount", "ten"),
    ("RuleSelectionMethod", "criterion", "bestHit"),
])
def test_rule_set_bad_attribute_names_it(element, attribute, value):
    path = SHARED / "pmml" / "knime" / "pmml" / "RuleSetIris.pmml"
    text = path.read_text()
    if element == "ScoreDistribution" and "<ScoreDistribution" not in text:
        from test_rule_set import doc
        text = doc("firstHit")
        assert "<ScoreDistribution" in text
    assert_bad_attribute(text, element, attribute, value)


def test_rule_set_rule_without_predicate_or_score_names_the_rule():
    from test_rule_set import doc
    text = doc("firstHit")
    bad = re.sub(r"(<SimpleRule\b[^>]*>)\s*<CompoundPredicate.*?</CompoundPredicate>", r"\1",
                 text, count=1, flags=re.S)
    _assert_error_at(bad, "<SimpleRule", "SimpleRule")
    bad = re.sub(r'(<SimpleRule\b[^>]*?) score="[^"]*"', r"\1", text, count=1)
    _assert_error_at(bad, "<SimpleRule", "SimpleRule")


# ------------------------------------------------------------------ AssociationModel

@pytest.mark.parametrize("path", documents("AssociationModel"), ids=lambda p: p.name)
def test_association_body_is_typed(path):
    am = objects.association
    for m in assert_typed(path, "AssociationModel"):
        items, sets, rules = m.body(am.Item), m.body(am.Itemset), m.body(am.AssociationRule)
        assert items and sets and rules
        ids = {i.id for i in items}
        assert all(r.item_ref in ids for s in sets for r in s.items)
        set_ids = {s.id for s in sets}
        assert all(r.antecedent in set_ids and r.consequent in set_ids for r in rules)
        assert all(isinstance(r.support, float) and isinstance(r.confidence, float)
                   for r in rules)
        assert m.attribute("numberOfTransactions") is not None


def test_association_item_fields_are_its_references():
    from test_association import CATEGORICAL
    m, = assert_typed(CATEGORICAL, "AssociationModel")
    items = m.body(objects.association.Item)
    assert [i.fields() for i in items] == [(), (), (), ("colour",)]


@pytest.mark.parametrize("element,attribute,value", [
    ("AssociationRule", "confidence", "likely"), ("AssociationRule", "lift", "1;2"),
    ("Itemset", "numberOfItems", "two"), ("Item", "weight", "heavy"),
])
def test_association_bad_attribute_names_it(element, attribute, value):
    path = SHARED / "pmml" / "rattle" / "pmml" / "AssociationRulesShopping.pmml"
    assert_bad_attribute(path.read_text(), element, attribute, value)


def test_association_unknown_item_and_itemset_name_their_element():
    path = SHARED / "pmml" / "rattle" / "pmml" / "AssociationRulesShopping.pmml"
    text = path.read_text()
    bad = mutate(text, "ItemRef", "itemRef", "999", nth=3)
    m = list(re.finditer(r"<ItemRef\b", bad))[3]
    _assert_error_at(bad[:m.start()] + "<ItemRef" + bad[m.end():], 'itemRef="999"', "ItemRef")
    bad = mutate(text, "AssociationRule", "consequent", "nosuchset", nth=2)
    _assert_error_at(bad, 'consequent="nosuchset"', "AssociationRule")
    bad = re.sub(r'<Item id="3" value="[^"]*"', '<Item id="3"', text, count=1)
    _assert_error_at(bad, '<Item id="3"', "Item")


# ------------------------------------------------------------------ Scorecard

_COMPLEX = """<Attribute partialScore="-3">
     <SimplePredicate field="income" operator="greaterThan" value="2500"/>
     <ComplexPartialScore>
      <Apply function="*"><FieldRef field="income"/><Constant>0.001</Constant></Apply>
     </ComplexPartialScore>
    </Attribute>"""
_PLAIN = ('<Attribute partialScore="-3"><SimplePredicate field="income" operator="greaterThan" '
          'value="2500"/></Attribute>')


def _scorecard(complex_score: bool = False) -> str:
    from test_scorecard import CHARACTERISTICS, doc
    return doc(characteristics=CHARACTERISTICS.replace(_PLAIN, _COMPLEX)) if complex_score \
        else doc()


def test_scorecard_body_is_typed():
    sc = objects.scorecard
    m, = assert_typed(_scorecard(True), "Scorecard")
    chars, = m.body(sc.Characteristics)
    assert [c.name for c in chars.characteristics] == ["departmentScore", "ageScore",
                                                       "incomeScore"]
    assert [c.baseline_score for c in chars.characteristics] == [19.0, 18.0, 10.0]
    first = chars.characteristics[0].attributes[0]
    assert first.partial_score == -9.0 and first.predicate.fields() == ("department",)
    last = chars.characteristics[2].attributes[-1]
    assert isinstance(last.complex_partial_score.expression, objects.Apply)
    assert chars.fields() == ("department", "age", "income")
    assert m.attribute("useReasonCodes") == "true"


@pytest.mark.parametrize("element,attribute,value", [
    ("Attribute", "partialScore", "lots"), ("Characteristic", "baselineScore", "19x"),
    ("Scorecard", "initialScore", "zero"), ("Scorecard", "useReasonCodes", "maybe"),
])
def test_scorecard_bad_attribute_names_it(element, attribute, value):
    assert_bad_attribute(_scorecard(), element, attribute, value)


def test_scorecard_body_errors_name_their_element_and_line():
    text = _scorecard(True)
    # an expression inside a ComplexPartialScore: the document's line, not the copy's
    bad = text.replace('<FieldRef field="income"/>', '<FieldRef field="nosuch"/>')
    _assert_error_at(bad, '<FieldRef field="nosuch"/>', "FieldRef")
    bad = text.replace("<Apply function=\"*\"><FieldRef field=\"income\"/><Constant>0.001"
                       "</Constant></Apply>", "")
    _assert_error_at(bad, "<ComplexPartialScore>", "ComplexPartialScore")
    bad = text.replace('<Attribute partialScore="6">', '<Attribute>')
    _assert_error_at(bad, "<Attribute>", "Attribute")


# ------------------------------------------------------------------ AnomalyDetectionModel

def test_anomaly_detection_body_is_typed():
    from test_anomaly_detection import CLUSTER, _hand_doc
    m, = assert_typed(CLUSTER.replace("MEANS", "2 0.5"), "AnomalyDetectionModel")
    inner = [c for c in m.content if isinstance(c, objects.Model)]
    assert [c.tag for c in inner] == ["ClusteringModel"]
    assert list(m.models())[1] is inner[0]           # embedded models are models of it
    mcd, = m.body(objects.anomaly_detection.MeanClusterDistances)
    assert mcd.array.values() == ["2", "0.5"]
    m, = assert_typed(_hand_doc(), "AnomalyDetectionModel")
    inner, = [c for c in m.content if isinstance(c, objects.Model)]
    assert inner.tag == "MiningModel" and len(inner.segmentation.segments) == 3
    assert m.attribute("algorithmType") == "iforest"


@pytest.mark.parametrize("element,attribute,value,nth", [
    ("Array", "n", "two", 2), ("AnomalyDetectionModel", "sampleDataSize", "many", 0),
])
def test_anomaly_detection_bad_attribute_names_it(element, attribute, value, nth):
    from test_anomaly_detection import CLUSTER, _hand_doc
    text = CLUSTER.replace("MEANS", "2 0.5") if element == "Array" else _hand_doc()
    assert_bad_attribute(text.replace("><", ">\n<"), element, attribute, value, nth)


def test_anomaly_detection_mean_distances_error_names_its_line():
    from test_anomaly_detection import CLUSTER
    text = CLUSTER.replace("MEANS", "2 0.5 7").replace("><", ">\n<")
    _assert_error_at(text, "<MeanClusterDistances>", "MeanClusterDistances")


# ------------------------------------------------------------------ TimeSeriesModel

def _time_series(state_space: bool = False) -> str:
    from test_time_series import SEASON, STATE_SPACE, doc, es
    if state_space:
        return doc(STATE_SPACE, "StateSpaceModel")
    return doc(es('<Trend_ExpoSmooth trend="damped_additive" phi="0.5" smoothedValue="8"/>',
                  SEASON.format(kind="additive", phase='phase="2"', values="1 2 3"),
                  'transformation="none"'))


def test_time_series_body_is_typed():
    ts = objects.time_series
    m, = assert_typed(_time_series(), "TimeSeriesModel")
    series, = m.body(ts.TimeSeries)
    assert [v.value for v in series.values] == [10.0, 11.0, 12.0]
    es, = m.body(ts.ExponentialSmoothing)
    assert es.level.smoothed_value == 100.0 and es.trend.phi == 0.5
    assert es.seasonality.period == 3 and es.seasonality.phase == 2
    assert es.seasonality.array.values() == ["1", "2", "3"]
    assert m.attribute("bestFit") == "ExponentialSmoothing"
    m, = assert_typed(_time_series(True), "TimeSeriesModel")
    ssm, = m.body(ts.StateSpaceModel)
    assert ssm.intercept == 0.5 and ssm.state.array.values() == ["1", "2"]
    assert ssm.transition.matrix.to_array().tolist() == [[1.0, 1.0], [0.0, 0.5]]
    assert ssm.measurement.matrix.to_array().tolist() == [[1.0, 3.0]]


@pytest.mark.parametrize("element,attribute,value", [
    ("Level", "smoothedValue", "high"), ("Trend_ExpoSmooth", "phi", "damp"),
    ("Seasonality_ExpoSmooth", "period", "three"), ("TimeValue", "value", "ten"),
    ("ExponentialSmoothing", "transformation", "cubic"),
])
def test_time_series_bad_attribute_names_it(element, attribute, value):
    assert_bad_attribute(_time_series(), element, attribute, value)


def test_time_series_state_space_errors_name_their_element_and_line():
    text = _time_series(True).replace('<Array type="real">1 3</Array>',
                                      '<Array type="real">1 3 5</Array>')
    _assert_error_at(text, "<StateSpaceModel", "StateSpaceModel")
    text = _time_series(True).replace("</StateSpaceModel>",
                                      '\n<DynamicRegressor field="h"/></StateSpaceModel>')
    with pytest.raises(portmodel.errors.UnsupportedError) as info:
        portmodel.load(text.encode())
    assert info.value.element == "DynamicRegressor"
    assert info.value.line == text[:text.index("<DynamicRegressor")].count("\n") + 1


# ------------------------------------------------------------------ BaselineModel

_INDEPENDENCE = """<CountTable>
      <FieldValue field="x" value="u"><FieldValueCount field="y" value="p" count="10"/>
        <FieldValueCount field="y" value="q" count="20"/></FieldValue>
      <FieldValue field="x" value="v"><FieldValueCount field="y" value="p" count="30"/>
        <FieldValueCount field="y" value="q" count="40"/></FieldValue>
    </CountTable>"""


def _baseline(kind: str = "cusum") -> str:
    from test_baseline import SPEC_ALT, SPEC_BASE, TABLE, doc
    if kind == "cusum":
        return doc('testStatistic="CUSUM" resetValue="0" windowSize="3"', SPEC_BASE, SPEC_ALT)
    if kind == "table":
        return doc('testStatistic="chiSquareDistribution" weightField="w"', TABLE,
                   dtype="string")
    return doc('testStatistic="chiSquareIndependence"', _INDEPENDENCE, dtype="string",
               extra_fields='<DataField name="y" optype="categorical" dataType="string"/>')


def test_baseline_body_is_typed():
    bl, dist = objects.baseline, objects.distributions
    m, = assert_typed(_baseline(), "BaselineModel")
    td, = m.body(bl.TestDistributions)
    assert (td.test_statistic, td.reset_value, td.window_size) == ("CUSUM", 0.0, 3)
    assert isinstance(td.baseline.distribution, dist.GaussianDistribution)
    assert td.alternate.distribution.mean == 460.4 and td.fields() == ("x",)
    m, = assert_typed(_baseline("table"), "BaselineModel")
    td, = m.body(bl.TestDistributions)
    assert [(c.value, c.count) for c in td.baseline.distribution.entries] == [
        ("a", 50.0), ("b", 30.0), ("c", 20.0)]
    assert td.fields() == ("x", "w")
    m, = assert_typed(_baseline("independence"), "BaselineModel")
    td, = m.body(bl.TestDistributions)
    first = td.baseline.distribution.entries[0]
    assert isinstance(first, bl.FieldValue) and [c.field for c in first.entries] == ["y", "y"]
    assert td.fields() == ("x", "y")


@pytest.mark.parametrize("kind,element,attribute,value", [
    ("cusum", "GaussianDistribution", "variance", "wide"),
    ("cusum", "TestDistributions", "windowSize", "3.5"),
    ("cusum", "TestDistributions", "resetValue", "low"),
    ("table", "FieldValueCount", "count", "fifty"),
    ("independence", "CountTable", "sample", "all"),
])
def test_baseline_bad_attribute_names_it(kind, element, attribute, value):
    assert_bad_attribute(_baseline(kind), element, attribute, value)


def test_baseline_body_errors_name_their_element_and_line():
    text = _baseline("independence").replace('<FieldValueCount field="y" value="q" count="40"/>',
                                             '<FieldValueCount field="z" value="q" count="40"/>')
    _assert_error_at(text, 'field="z"', "FieldValueCount")
    text = _baseline().replace('variance="39.2"', 'variance="NaN"')
    _assert_error_at(text, 'variance="NaN"', "GaussianDistribution")


# ------------------------------------------------------------------ TextModel

def _text_model() -> str:
    from test_text import DOC
    return DOC.replace("</DocumentTermMatrix>", """</DocumentTermMatrix>
  <TextModelNormalization localTermWeights="binary" documentNormalization="cosine"/>
  <TextModelSimiliarity similarityType="cosine"/>""")


def test_text_body_is_typed_and_the_refusal_names_a_typed_part(tmp_path):
    from export_util import assert_schema_valid
    tx = objects.text
    m, = assert_typed(_text_model(), "TextModel")
    terms, = m.body(tx.TextDictionary)
    assert terms.terms.values() == ["alpha", "beta"]
    corpus, = m.body(tx.TextCorpus)
    assert [d.id for d in corpus.documents] == ["d1"]
    dtm, = m.body(tx.DocumentTermMatrix)
    assert dtm.matrix.to_array().tolist() == [[1.0, 0.0]]
    norm, = m.body(tx.TextModelNormalization)
    assert (norm.local_term_weights, norm.document_normalization) == ("binary", "cosine")
    assert m.body(tx.TextModelSimiliarity)[0].similarity_type == "cosine"
    text = _text_model()
    assert objects.read(objects.write(objects.read(text))) == objects.read(text)
    (tmp_path / "text.pmml").write_bytes(objects.write(objects.read(text)))
    assert_schema_valid(tmp_path / "text.pmml")
    no_dictionary = re.sub(r"<TextDictionary>.*?</TextDictionary>", "", text, flags=re.S)
    with pytest.raises(portmodel.errors.UnsupportedError) as info:
        portmodel.load(no_dictionary.encode())
    assert info.value.element == "TextCorpus"
    assert info.value.line == no_dictionary[:no_dictionary.index("<TextCorpus")].count("\n") + 1


@pytest.mark.parametrize("element,attribute,value", [
    ("TextModelSimiliarity", "similarityType", "jaccard"),
    ("TextModelNormalization", "globalTermWeights", "idf"), ("TextDocument", "length", "long"),
])
def test_text_bad_attribute_names_it(element, attribute, value):
    assert_bad_attribute(_text_model(), element, attribute, value)


# ------------------------------------------------------------------ validate reads typed bodies

def _problems_at(text: str, marker: str) -> list:
    from portmodel.pmml.validate import validate
    line = text[:text.index(marker)].count("\n") + 1
    return [p for p in validate(text.encode()) if p.line == line]


def test_validate_reads_the_typed_bodies():
    from portmodel.pmml.validate import typed_bodies
    tags = set(typed_bodies())
    assert {"RuleSet", "Characteristics", "Item", "Itemset", "AssociationRule",
            "MeanClusterDistances", "RegressionTable", "NeuralLayer"} <= tags
    assert not tags & {"MiningSchema", "Output", "Targets", "LocalTransformations",
                       "ModelVerification", "Segmentation", "TreeModel"}


def test_validate_unknown_fields_in_typed_bodies():
    from test_association import CATEGORICAL
    from test_rule_set import COMPOUND, doc
    text = doc("firstHit", rules=COMPOUND).replace('field="Na" operator="lessThan"',
                                                   'field="Sodium" operator="lessThan"', 1)
    found = _problems_at(text, 'field="Sodium"')
    assert [(p.element, p.severity) for p in found] == [("SimplePredicate", "error")]
    assert "'Sodium'" in found[0].message
    text = _scorecard(True).replace('<FieldRef field="income"/>', '<FieldRef field="wage"/>')
    found = _problems_at(text, 'field="wage"')
    assert [(p.element, p.severity) for p in found][:1] == [("FieldRef", "error")]
    assert "'wage'" in found[0].message
    text = CATEGORICAL.replace('field="colour" category="blue"', 'field="hue" category="blue"')
    found = _problems_at(text, 'field="hue"')
    assert ("Item", "error") in [(p.element, p.severity) for p in found]


_WEIGHTED = """<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary>
 <DataField name="x" optype="continuous" dataType="double"/>
 <DataField name="w" optype="continuous" dataType="double"/>
 <DataField name="y" optype="continuous" dataType="double"/>
</DataDictionary>
<MiningModel functionName="regression">
 <MiningSchema><MiningField name="x"/><MiningField name="w"/>
  <MiningField name="y" usageType="target"/></MiningSchema>
 <Output><OutputField name="out" optype="continuous" dataType="double" feature="predictedValue"
   targetField="y"/></Output>
 <Targets><Target field="y" rescaleFactor="2"/></Targets>
 <Segmentation multipleModelMethod="weightedAverage">
  <Segment id="1" weight="1"><True/>
   <RegressionModel functionName="regression"><MiningSchema><MiningField name="x"/>
    <MiningField name="y" usageType="target"/></MiningSchema>
    <RegressionTable intercept="1"><NumericPredictor name="x" coefficient="2"/></RegressionTable>
   </RegressionModel>
   <VariableWeight field="w"/>
  </Segment>
 </Segmentation>
</MiningModel>
</PMML>"""


def test_validate_head_parts_and_segment_weights_name_known_fields():
    """Output, Targets and Segment weights are checked through their classes' REFS (the
    reference table is derived from them): an unknown field in each is an error at its line."""
    from portmodel.pmml.validate import REF_ATTRS, validate
    assert {"Target", "OutputField", "VariableWeight", "BayesInput", "PPCell"} <= set(REF_ATTRS)
    assert not [p for p in validate(_WEIGHTED.encode()) if p.severity == "error"]
    for old, new, element in (('targetField="y"', 'targetField="z"', "OutputField"),
                              ('<Target field="y"', '<Target field="z"', "Target"),
                              ('<VariableWeight field="w"', '<VariableWeight field="z"',
                               "VariableWeight")):
        text = _WEIGHTED.replace(old, new)
        found = _problems_at(text, new)
        assert [(p.element, p.severity) for p in found] == [(element, "error")], found
        assert "'z'" in found[0].message


def test_validate_rule_probabilities_and_predicate_values():
    from test_rule_set import doc
    text = doc("firstHit").replace('<ScoreDistribution value="drugA" recordCount="2"/>',
                                   '<ScoreDistribution value="drugA" recordCount="2" '
                                   'probability="0.5"/>', 1)
    found = _problems_at(text, '<SimpleRule id="RULE1"')
    assert [(p.element, p.severity) for p in found] == [("SimpleRule", "warning")]
    assert "RULE1" in found[0].message and "others do not" in found[0].message
    text = doc("firstHit").replace('operator="equal" value="HIGH"',
                                   'operator="equal" value="VERYHIGH"', 1)
    found = _problems_at(text, 'value="VERYHIGH"')
    assert [(p.element, p.severity) for p in found] == [("SimplePredicate", "warning")]


def test_validate_checks_the_model_an_anomaly_model_embeds():
    from test_anomaly_detection import CLUSTER
    text = CLUSTER.replace("MEANS", "2 0.5").replace("><", ">\n<").replace(
        '<ClusteringField field="y"/>', '<ClusteringField field="zz"/>')
    found = _problems_at(text, 'field="zz"')
    assert ("ClusteringField", "error") in [(p.element, p.severity) for p in found]


# ------------------------------------------------------------------ round trips

def _family_documents() -> list[tuple[str, str, object]]:
    """(id, document, input rows) of each family's own test documents (the conformance corpus
    has RuleSet and Association documents only; test_pmml_objects round-trips those)."""
    import pandas as pd
    from test_anomaly_detection import CLUSTER, HAND_ROWS, _hand_doc
    from test_association import CATEGORICAL
    from test_rule_set import ALL_FIRE, COMPOUND, doc as rule_doc
    rules_rows = [ALL_FIRE, {"BP": "LOW", "K": 0.01, "Age": 60, "Na": 0.1},
                  {"BP": None, "Age": 20, "K": 0, "Na": 0.1}]
    card_rows = [{"department": "engineering", "age": 25, "income": 4000},
                 {"department": None, "age": 45, "income": 900},
                 {"department": "business", "age": None, "income": None}]
    out = [
        ("rules-weightedSum", rule_doc("weightedSum"), rules_rows),
        ("rules-compound", rule_doc("firstHit", rules=COMPOUND), rules_rows),
        ("scorecard", _scorecard(), card_rows),
        ("scorecard-complex", _scorecard(True), card_rows),
        ("association-categorical", CATEGORICAL,
         [{"beer": True, "chips": "T", "colour": "red"},
          {"beer": False, "chips": "F", "colour": "blue"}]),
        ("anomaly-iforest", _hand_doc(), HAND_ROWS),
        ("anomaly-cluster", CLUSTER.replace("MEANS", "2 0.5"),
         pd.DataFrame({"x": [3.0, 9.0], "y": [4.0, 10.0]})),
        # the embedded model's own OutputField gets the dataType PMML 4.4 requires
        ("anomaly-cluster-inner-output", CLUSTER.replace("MEANS", "2 0.5").replace(
            "<ComparisonMeasure", '<Output><OutputField name="cluster" feature="predictedValue"/>'
            "</Output><ComparisonMeasure"), pd.DataFrame({"x": [3.0, 9.0], "y": [4.0, 10.0]})),
    ]
    return out + _more_family_documents()


def _more_family_documents() -> list:
    import pandas as pd
    hs = pd.DataFrame({"h": [1, 2, 3, 5]})
    xs = pd.DataFrame({"x": [551.0, 545.0, 470.0, None, 462.0], "w": [1.0] * 5})
    cats = pd.DataFrame({"x": ["a", "b", None, "zzz", "c"], "w": [1.0, 2.0, 1.0, 1.0, 0.5],
                         "y": ["p", "q", "p", None, "q"]})
    return [("time-series-smoothing", _time_series(), hs),
            ("time-series-state-space", _time_series(True), hs),
            ("baseline-cusum", _baseline(), xs), ("baseline-table", _baseline("table"), cats),
            ("baseline-independence", _baseline("independence"), cats)]


@pytest.mark.parametrize("name,text,rows", _family_documents(),
                         ids=[d[0] for d in _family_documents()])
def test_family_document_round_trips(name, text, rows, tmp_path):
    from test_pmml_objects import _same_scores, _valid_copy
    first = objects.read(text)
    assert objects.read(objects.write(first)) == first
    source = tmp_path / "original.pmml"
    source.write_text(text)
    original = portmodel.load(str(source))
    written = portmodel.load(str(_valid_copy(source, original, tmp_path)))
    _same_scores(original.predict(rows), written.predict(rows))
