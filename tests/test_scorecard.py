"""Scorecard: the spec's sample scorecard (department / age / income) with reason codes, worked
out by hand from the spec's rules; pointsAbove, ComplexPartialScore, attribute-level reason
codes, baselineMethod and the no-matching-attribute error; the reference engine as an oracle."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

import portmodel
from portmodel.errors import DocumentError
from reference_engines import jpmml_frame

CHARACTERISTICS = """
  <Characteristics>
   <Characteristic name="departmentScore" reasonCode="RC1" baselineScore="19">
    <Attribute partialScore="-9"><SimplePredicate field="department" operator="isMissing"/></Attribute>
    <Attribute partialScore="19"><SimplePredicate field="department" operator="equal" value="marketing"/></Attribute>
    <Attribute partialScore="3"><SimplePredicate field="department" operator="equal" value="engineering"/></Attribute>
    <Attribute partialScore="6"><SimplePredicate field="department" operator="equal" value="business"/></Attribute>
   </Characteristic>
   <Characteristic name="ageScore" reasonCode="RC2" baselineScore="18">
    <Attribute partialScore="-1"><SimplePredicate field="age" operator="isMissing"/></Attribute>
    <Attribute partialScore="-3"><SimplePredicate field="age" operator="lessOrEqual" value="18"/></Attribute>
    <Attribute partialScore="0">
     <CompoundPredicate booleanOperator="and">
      <SimplePredicate field="age" operator="greaterThan" value="18"/>
      <SimplePredicate field="age" operator="lessOrEqual" value="29"/>
     </CompoundPredicate>
    </Attribute>
    <Attribute partialScore="12">
     <CompoundPredicate booleanOperator="and">
      <SimplePredicate field="age" operator="greaterThan" value="29"/>
      <SimplePredicate field="age" operator="lessOrEqual" value="39"/>
     </CompoundPredicate>
    </Attribute>
    <Attribute partialScore="18"><SimplePredicate field="age" operator="greaterThan" value="39"/></Attribute>
   </Characteristic>
   <Characteristic name="incomeScore" reasonCode="RC3" baselineScore="10">
    <Attribute partialScore="3"><SimplePredicate field="income" operator="isMissing"/></Attribute>
    <Attribute partialScore="26"><SimplePredicate field="income" operator="lessOrEqual" value="1000"/></Attribute>
    <Attribute partialScore="5">
     <CompoundPredicate booleanOperator="and">
      <SimplePredicate field="income" operator="greaterThan" value="1000"/>
      <SimplePredicate field="income" operator="lessOrEqual" value="2500"/>
     </CompoundPredicate>
    </Attribute>
    <Attribute partialScore="-3"><SimplePredicate field="income" operator="greaterThan" value="2500"/></Attribute>
   </Characteristic>
  </Characteristics>"""


def doc(attrs: str = 'useReasonCodes="true" reasonCodeAlgorithm="pointsBelow"',
        characteristics: str = CHARACTERISTICS) -> str:
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
 <DataDictionary>
  <DataField name="department" optype="categorical" dataType="string"/>
  <DataField name="age" optype="continuous" dataType="integer"/>
  <DataField name="income" optype="continuous" dataType="double"/>
  <DataField name="overallScore" optype="continuous" dataType="double"/>
 </DataDictionary>
 <Scorecard modelName="SampleScorecard" functionName="regression" initialScore="0" {attrs}>
  <MiningSchema>
   <MiningField name="department" invalidValueTreatment="asMissing"/>
   <MiningField name="age" invalidValueTreatment="asMissing"/>
   <MiningField name="income" invalidValueTreatment="asMissing"/>
   <MiningField name="overallScore" usageType="predicted"/>
  </MiningSchema>
  <Output>
   <OutputField name="Final Score" feature="predictedValue" dataType="double" optype="continuous"/>
   <OutputField name="Reason Code 1" rank="1" feature="reasonCode" dataType="string" optype="categorical"/>
   <OutputField name="Reason Code 2" rank="2" feature="reasonCode" dataType="string" optype="categorical"/>
   <OutputField name="Reason Code 3" rank="3" feature="reasonCode" dataType="string" optype="categorical"/>
  </Output>{characteristics}
 </Scorecard>
</PMML>"""


def codes(out: dict) -> list:
    return [out["Reason Code 1"], out["Reason Code 2"], out["Reason Code 3"]]


def test_spec_example():
    out = portmodel.load(doc()).predict({"department": "engineering", "age": 25, "income": 500})
    # partial scores 3 + 0 + 26; points below baseline: RC1 19-3=16, RC2 18-0=18, RC3 10-26<0
    assert out["overallScore"] == 29.0 and out["Final Score"] == 29.0
    assert codes(out) == ["RC2", "RC1", None]


@pytest.mark.parametrize("row,score,want", [
    # 19 + 18 - 3; RC1 0, RC2 0, RC3 13: ties keep characteristic order
    ({"department": "marketing", "age": 45, "income": 3000}, 34.0, ["RC3", "RC1", "RC2"]),
    # every field missing: -9 - 1 + 3; RC1 28, RC2 19, RC3 7
    ({"department": None, "age": None, "income": None}, -7.0, ["RC1", "RC2", "RC3"]),
    # 6 + 12 + 5; RC1 13, RC2 6, RC3 5
    ({"department": "business", "age": 35, "income": 2000}, 23.0, ["RC1", "RC2", "RC3"]),
])
def test_points_below(row, score, want):
    out = portmodel.load(doc()).predict(row)
    assert out["overallScore"] == score and codes(out) == want


def test_points_above_and_initial_score():
    m = portmodel.load(doc('initialScore="100" useReasonCodes="true" '
                           'reasonCodeAlgorithm="pointsAbove"').replace('initialScore="0" ', ""))
    out = m.predict({"department": "engineering", "age": 25, "income": 500})
    # RC1 3-19<0, RC2 0-18<0, RC3 26-10=16
    assert out["overallScore"] == 129.0 and codes(out) == ["RC3", None, None]


def test_without_reason_codes():
    m = portmodel.load(doc('useReasonCodes="false"'))
    out = m.predict({"department": "engineering", "age": 25, "income": 500})
    assert out["overallScore"] == 29.0 and codes(out) == [None, None, None]


def test_no_matching_attribute_is_a_row_error():
    m = portmodel.load(doc())
    out = m.predict([{"department": "sales", "age": 25, "income": 500},
                     {"department": "business", "age": 25, "income": 500}], errors="mark")
    assert out[0]["overallScore"] is None and "departmentScore" in out[0]["error"]
    assert out[1]["overallScore"] == 32.0 and out[1]["error"] is None


def test_attribute_reason_codes_share_points():
    # two characteristics report the same code: their points add up
    chars = CHARACTERISTICS.replace('reasonCode="RC3"', 'reasonCode="RC1"')
    out = portmodel.load(doc(characteristics=chars)).predict(
        {"department": "engineering", "age": 45, "income": 3000})
    # RC1: (19-3) + (10-(-3)) = 29; RC2: 18-18 = 0
    assert codes(out) == ["RC1", "RC2", None]
    chars = CHARACTERISTICS.replace('<Attribute partialScore="0">',
                                    '<Attribute partialScore="0" reasonCode="YOUNG">')
    out = portmodel.load(doc(characteristics=chars)).predict(
        {"department": "engineering", "age": 25, "income": 500})
    assert codes(out) == ["YOUNG", "RC1", None]


def test_complex_partial_score():
    chars = CHARACTERISTICS.replace(
        '<Attribute partialScore="-3"><SimplePredicate field="income" operator="greaterThan" '
        'value="2500"/></Attribute>',
        """<Attribute partialScore="-3">
     <SimplePredicate field="income" operator="greaterThan" value="2500"/>
     <ComplexPartialScore>
      <Apply function="*"><FieldRef field="income"/><Constant>0.001</Constant></Apply>
     </ComplexPartialScore>
    </Attribute>""")
    out = portmodel.load(doc(characteristics=chars)).predict(
        {"department": "engineering", "age": 25, "income": 4000})
    # 3 + 0 + 4000 * 0.001; RC1 16, RC2 18, RC3 10 - 4 = 6
    assert out["overallScore"] == pytest.approx(7.0)
    assert codes(out) == ["RC2", "RC1", "RC3"]


def test_baseline_from_baseline_method():
    chars = CHARACTERISTICS.replace(' baselineScore="19"', "").replace(' baselineScore="18"', "") \
        .replace(' baselineScore="10"', "")
    out = portmodel.load(doc('baselineMethod="max"', chars)).predict(
        {"department": "engineering", "age": 25, "income": 500})
    # baselines are each characteristic's largest partial score: 19, 18, 26
    assert codes(out) == ["RC2", "RC1", "RC3"]
    with pytest.raises(DocumentError):
        portmodel.load(doc('baselineMethod="mean"', chars))
    # a Scorecard-wide baselineScore serves every characteristic
    out = portmodel.load(doc('baselineScore="20"', chars)).predict(
        {"department": "engineering", "age": 25, "income": 500})
    assert codes(out) == ["RC2", "RC1", None]        # 20-0=20, 20-3=17, 20-26<0


def test_reason_code_required():
    chars = CHARACTERISTICS.replace(' reasonCode="RC2"', "")
    with pytest.raises(DocumentError):
        portmodel.load(doc(characteristics=chars))
    assert portmodel.load(doc('useReasonCodes="false"', chars)) is not None


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java")
def test_matches_reference_engine():
    import pandas as pd
    text = doc()
    rng = np.random.default_rng(5)
    n = 150
    X = pd.DataFrame({"department": rng.choice(["engineering", "marketing", "business"], n),
                      "age": rng.integers(10, 70, n).astype(float),
                      "income": rng.uniform(0, 4000, n)})
    X.loc[::13, "department"] = None
    X.loc[::11, "age"] = np.nan
    ref = jpmml_frame(text, X)
    out = portmodel.load(text).predict(X)
    np.testing.assert_allclose(out["overallScore"].to_numpy(float),
                               ref["overallScore"].to_numpy(float))
    for c in ("Reason Code 1", "Reason Code 2", "Reason Code 3"):
        assert [str(v) if isinstance(v, str) else None for v in out[c]] == \
            [str(v) if isinstance(v, str) else None for v in ref[c]]
