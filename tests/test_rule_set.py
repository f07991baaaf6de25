"""RuleSetModel: the spec's drug example under each rule selection method (values worked out by
hand from the spec's definitions), nested CompoundRules, defaults, missing inputs, and the
reference engine as an oracle on random records."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

import portmodel
from portmodel.errors import UnsupportedError
from reference_engines import jpmml_frame

DD = """
 <DataDictionary>
  <DataField name="BP" optype="categorical" dataType="string">
   <Value value="HIGH"/><Value value="LOW"/><Value value="NORMAL"/>
  </DataField>
  <DataField name="K" optype="continuous" dataType="double"/>
  <DataField name="Age" optype="continuous" dataType="integer"/>
  <DataField name="Na" optype="continuous" dataType="double"/>
  <DataField name="Drug" optype="categorical" dataType="string">
   <Value value="drugA"/><Value value="drugB"/><Value value="drugC"/><Value value="drugX"/>
   <Value value="drugY"/>
  </DataField>
 </DataDictionary>"""

OUTPUT = """
  <Output>
   <OutputField name="pred" feature="predictedValue"/>
   <OutputField name="conf" feature="confidence"/>
   <OutputField name="confA" feature="confidence" value="drugA"/>
   <OutputField name="confB" feature="confidence" value="drugB"/>
   <OutputField name="rule" feature="entityId"/>
  </Output>"""

RULES = """
   <SimpleRule id="RULE1" score="drugB" confidence="0.9" weight="{w1}">
    <CompoundPredicate booleanOperator="and">
     <SimplePredicate field="BP" operator="equal" value="HIGH"/>
     <SimplePredicate field="K" operator="greaterThan" value="0.045804001"/>
     <SimplePredicate field="Age" operator="lessOrEqual" value="50"/>
     <SimplePredicate field="Na" operator="lessOrEqual" value="0.77240998"/>
    </CompoundPredicate>
    <ScoreDistribution value="drugA" recordCount="2"/>
    <ScoreDistribution value="drugB" recordCount="76"/>
    <ScoreDistribution value="drugC" recordCount="2"/>
   </SimpleRule>
   <SimpleRule id="RULE2" score="drugA" confidence="0.6" weight="{w2}">
    <CompoundPredicate booleanOperator="and">
     <SimplePredicate field="K" operator="greaterThan" value="0.057789002"/>
     <SimplePredicate field="BP" operator="equal" value="HIGH"/>
     <SimplePredicate field="Age" operator="lessOrEqual" value="50"/>
    </CompoundPredicate>
   </SimpleRule>
   <SimpleRule id="RULE3" score="drugA" confidence="0.36" weight="{w3}">
    <CompoundPredicate booleanOperator="and">
     <SimplePredicate field="BP" operator="equal" value="HIGH"/>
     <SimplePredicate field="Na" operator="greaterThan" value="0.21"/>
    </CompoundPredicate>
   </SimpleRule>"""


def doc(criterion: str, w1: float = 0.9, w2: float = 0.6, w3: float = 0.36, rules: str = RULES,
        default: str = 'defaultScore="drugY" defaultConfidence="0.1"') -> str:
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>{DD}
 <RuleSetModel functionName="classification">
  <MiningSchema>
   <MiningField name="BP"/><MiningField name="K"/><MiningField name="Age"/><MiningField name="Na"/>
   <MiningField name="Drug" usageType="target"/>
  </MiningSchema>{OUTPUT}
  <RuleSet {default}>
   <RuleSelectionMethod criterion="{criterion}"/>
   <RuleSelectionMethod criterion="firstHit"/>{rules.format(w1=w1, w2=w2, w3=w3)}
  </RuleSet>
 </RuleSetModel>
</PMML>"""


ALL_FIRE = {"BP": "HIGH", "K": 0.0621, "Age": 36, "Na": 0.5023}   # the spec's example record


def test_first_hit():
    out = portmodel.load(doc("firstHit")).predict(ALL_FIRE)
    assert out["Drug"] == "drugB" and out["rule"] == "RULE1"
    assert out["conf"] == pytest.approx(0.9)
    assert out["confA"] == pytest.approx(0.6)       # the first firing drugA rule


def test_weighted_sum():
    out = portmodel.load(doc("weightedSum")).predict(ALL_FIRE)
    # drugA: (0.6 + 0.36) / 3 firing rules = 0.32; drugB: 0.9 / 3 = 0.3
    assert out["Drug"] == "drugA" and out["conf"] == pytest.approx(0.32)
    assert out["confB"] == pytest.approx(0.3)
    assert out["rule"] == "RULE2"                     # the heaviest drugA rule


def test_weighted_sum_tie_goes_to_target_value_order():
    # drugA: (0.5 + 0.25) / 3 = drugB: 0.75 / 3
    out = portmodel.load(doc("weightedSum", w1=0.75, w2=0.5, w3=0.25)).predict(ALL_FIRE)
    assert out["confA"] == pytest.approx(out["confB"])
    assert out["Drug"] == "drugA"


def test_weighted_max_picks_the_heaviest_rule():
    out = portmodel.load(doc("weightedMax")).predict(ALL_FIRE)
    assert out["Drug"] == "drugB" and out["conf"] == pytest.approx(0.9) and out["rule"] == "RULE1"
    # RULE2 now weighs most: its score and its own confidence answer
    out = portmodel.load(doc("weightedMax", w2=0.95)).predict(ALL_FIRE)
    assert out["Drug"] == "drugA" and out["rule"] == "RULE2"
    assert out["conf"] == pytest.approx(0.6)


def test_no_rule_fires_gives_the_default():
    out = portmodel.load(doc("firstHit")).predict({"BP": "LOW", "K": 0.01, "Age": 60, "Na": 0.1})
    assert out["Drug"] == "drugY" and out["conf"] == pytest.approx(0.1)
    assert out["confA"] == 0.0 and out["rule"] is None
    out = portmodel.load(doc("firstHit", default="")).predict(
        {"BP": "LOW", "K": 0.01, "Age": 60, "Na": 0.1})
    assert out["Drug"] is None and out["conf"] is None


def test_unknown_predicate_does_not_fire():
    # K missing: RULE1 and RULE2 are UNKNOWN (not fired); RULE3 fires
    out = portmodel.load(doc("firstHit")).predict({"BP": "HIGH", "K": None, "Age": 36, "Na": 0.5})
    assert out["Drug"] == "drugA" and out["rule"] == "RULE3"
    assert out["conf"] == pytest.approx(0.36)


def test_probabilities_from_score_distribution():
    text = doc("firstHit").replace("</Output>", """
   <OutputField name="pB" feature="probability" value="drugB"/>
   <OutputField name="pC" feature="probability" value="drugC"/></Output>""")
    out = portmodel.load(text).predict([ALL_FIRE, {"BP": "HIGH", "K": 0.01, "Age": 36, "Na": 0.5}])
    assert out[0]["pB"] == pytest.approx(76 / 80) and out[0]["pC"] == pytest.approx(2 / 80)
    assert out[1]["pB"] is None                      # RULE3 carries no distribution


COMPOUND = """
   <CompoundRule>
    <SimplePredicate field="BP" operator="equal" value="HIGH"/>
    <SimpleRule score="drugA" confidence="0.7">
     <SimplePredicate field="Age" operator="lessThan" value="30"/>
    </SimpleRule>
    <CompoundRule>
     <SimplePredicate field="Age" operator="greaterOrEqual" value="30"/>
     <SimpleRule id="old-low-na" score="drugB" confidence="0.8">
      <SimplePredicate field="Na" operator="lessThan" value="0.5"/>
     </SimpleRule>
     <SimpleRule score="drugC" confidence="0.5"><True/></SimpleRule>
    </CompoundRule>
   </CompoundRule>
   <SimpleRule score="drugX" confidence="0.2"><True/></SimpleRule>"""


@pytest.mark.parametrize("row,drug,rule", [
    ({"BP": "HIGH", "Age": 20, "K": 0, "Na": 0.9}, "drugA", "1"),
    ({"BP": "HIGH", "Age": 40, "K": 0, "Na": 0.1}, "drugB", "old-low-na"),
    ({"BP": "HIGH", "Age": 40, "K": 0, "Na": 0.9}, "drugC", "3"),
    ({"BP": "LOW", "Age": 40, "K": 0, "Na": 0.1}, "drugX", "4"),
    ({"BP": None, "Age": 20, "K": 0, "Na": 0.1}, "drugX", "4"),
])
def test_nested_compound_rules(row, drug, rule):
    out = portmodel.load(doc("firstHit", rules=COMPOUND)).predict(row)
    assert out["Drug"] == drug and out["rule"] == rule


def test_regression_rule_set_is_unsupported():
    with pytest.raises(UnsupportedError):
        portmodel.load(doc("firstHit").replace('"classification"', '"regression"'))


def test_batch_mixes_outcomes():
    m = portmodel.load(doc("weightedSum"))
    rows = [ALL_FIRE, {"BP": "LOW", "K": 0.01, "Age": 60, "Na": 0.1},
            {"BP": "HIGH", "K": 0.01, "Age": 36, "Na": 0.5}]
    out = m.predict(rows)
    assert [r["Drug"] for r in out] == ["drugA", "drugY", "drugA"]
    assert out[2]["conf"] == pytest.approx(0.36)      # one firing rule: its weight / 1


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java")
@pytest.mark.parametrize("criterion", ["firstHit", "weightedSum"])
def test_matches_reference_engine(criterion):
    import pandas as pd
    text = doc(criterion, rules=RULES + COMPOUND)
    rng = np.random.default_rng(11)
    n = 200
    X = pd.DataFrame({"BP": rng.choice(["HIGH", "LOW", "NORMAL"], n),
                      "K": rng.uniform(0.03, 0.08, n), "Age": rng.integers(15, 70, n),
                      "Na": rng.uniform(0.1, 0.9, n)})
    X.loc[::17, "K"] = np.nan
    ref = jpmml_frame(text, X)
    out = portmodel.load(text).predict(X)
    assert (out["Drug"].astype(str) == ref["Drug"].astype(str)).all()
    assert (out["rule"].astype(str) == ref["rule"].astype(str)).all()
    for c in ("conf", "confA", "confB"):
        np.testing.assert_allclose(out[c].to_numpy(float), ref[c].to_numpy(float), rtol=1e-12)
