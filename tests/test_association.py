"""AssociationModel: baskets matched against rules, with every rule-selection algorithm, rank,
rankBasis, rankOrder and isMultiValued worked out by hand on a small document; categorical
(one field per item) input; the reference engine as an oracle on the shared Shopping case."""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import portmodel

ITEMS = ["beer", "chips", "salsa", "wine", "cheese"]
ITEMSETS = {"s1": [1], "s2": [2], "s3": [2, 3], "s4": [4], "s5": [5], "s6": [1, 2], "s7": [3]}
# antecedent, consequent, support, confidence, lift, leverage, id
RULES = [("s1", "s2", 0.3, 0.6, 1.5, 0.1, "R1"),
         ("s2", "s7", 0.2, 0.5, 2.0, 0.05, None),
         ("s4", "s5", 0.1, 0.8, 3.0, 0.07, None),
         ("s6", "s7", 0.15, 0.7, 1.2, 0.02, None),
         ("s3", "s1", 0.05, 0.9, 1.1, 0.01, None)]


def doc(outputs: str) -> str:
    items = "".join(f'<Item id="{i + 1}" value="{v}"/>' for i, v in enumerate(ITEMS))
    sets = "".join(f'<Itemset id="{k}">' + "".join(f'<ItemRef itemRef="{r}"/>' for r in refs)
                   + "</Itemset>" for k, refs in ITEMSETS.items())
    rules = "".join(
        f'<AssociationRule antecedent="{a}" consequent="{c}" support="{s}" confidence="{cf}" '
        f'lift="{li}" leverage="{le}"' + (f' id="{rid}"' if rid else "") + "/>"
        for a, c, s, cf, li, le, rid in RULES)
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
 <DataDictionary>
  <DataField name="transaction" optype="categorical" dataType="string"/>
  <DataField name="item" optype="categorical" dataType="string"/>
 </DataDictionary>
 <AssociationModel functionName="associationRules" numberOfTransactions="10" minimumSupport="0.05"
   minimumConfidence="0.5" numberOfItems="5" numberOfItemsets="7" numberOfRules="5">
  <MiningSchema>
   <MiningField name="transaction" usageType="group"/>
   <MiningField name="item" usageType="active"/>
  </MiningSchema>
  <Output>{outputs}</Output>
  {items}{sets}{rules}
 </AssociationModel>
</PMML>"""


OUTPUTS = """
   <OutputField name="rec1" feature="ruleValue" ruleFeature="consequent" algorithm="recommendation"/>
   <OutputField name="rec2" feature="ruleValue" ruleFeature="consequent" algorithm="recommendation" rank="2"/>
   <OutputField name="ex1" feature="ruleValue" ruleFeature="ruleId"/>
   <OutputField name="ex2" feature="ruleValue" ruleFeature="ruleId" rank="2"/>
   <OutputField name="ex3" feature="ruleValue" ruleFeature="ruleId" rank="3"/>
   <OutputField name="exConf" feature="ruleValue" ruleFeature="confidence"/>
   <OutputField name="bySupport" feature="ruleValue" ruleFeature="ruleId" rankBasis="support"/>
   <OutputField name="lowLift" feature="ruleValue" ruleFeature="rule" algorithm="recommendation"
     rankBasis="lift" rankOrder="ascending"/>
   <OutputField name="assoc" feature="ruleValue" ruleFeature="rule" algorithm="ruleAssociation"/>
   <OutputField name="assocAnte" feature="ruleValue" ruleFeature="antecedent" algorithm="ruleAssociation"/>
   <OutputField name="lev" feature="ruleValue" ruleFeature="leverage" algorithm="ruleAssociation"/>
   <OutputField name="all" feature="ruleValue" ruleFeature="ruleId" algorithm="recommendation"
     isMultiValued="1" rank="0"/>
   <OutputField name="top2" feature="ruleValue" ruleFeature="ruleId" algorithm="recommendation"
     isMultiValued="1" rank="2"/>
   <OutputField name="lift" feature="lift"/>"""


@pytest.fixture(scope="module")
def model():
    return portmodel.load(doc(OUTPUTS))


def test_recommendations_for_a_basket(model):
    out = model.predict([{"item": ["beer", "chips"]}])[0]
    # antecedent in basket: R1 {beer}, 2 {chips}, 4 {beer,chips}; R1's consequent chips is in it
    assert out["rec1"] == ["salsa"] and out["rec2"] == ["chips"]      # confidence .7 then .6
    assert (out["ex1"], out["ex2"], out["ex3"]) == ("4", "2", None)
    assert out["exConf"] == 0.7
    assert out["bySupport"] == "2"                                    # support .2 beats .15
    assert out["lowLift"] == "{beer,chips}->{salsa}"                  # lift 1.2 is the lowest
    assert out["assoc"] == "{beer}->{chips}" and out["assocAnte"] == ["beer"]
    assert out["lev"] == 0.1
    assert out["all"] == ["4", "R1", "2"] and out["top2"] == ["4", "R1"]
    assert out["lift"] == 1.2


def test_other_baskets(model):
    out = model.predict([{"item": ["wine"]}, {"item": "wine"}, {"item": []}, {"item": None},
                         {"item": ["salsa", "chips", "beer", "unknown"]}])
    assert out[0]["rec1"] == ["cheese"] and out[0]["ex1"] == "3"
    assert out[1]["ex1"] == "3"                 # a single value is a basket of one
    for empty in (out[2], out[3]):
        assert empty["rec1"] is None and empty["ex1"] is None and empty["all"] == []
        assert empty["exConf"] is None
    # every antecedent but {wine}; exclusive drops R1, 2, 4 and 5 (their consequents are in)
    assert out[4]["all"] == ["5", "4", "R1", "2"] and out[4]["ex1"] is None
    assert out[4]["assoc"] == "{chips,salsa}->{beer}"


def test_dataframe_with_basket_column(model):
    df = pd.DataFrame({"item": [["beer", "chips"], ["wine"], ["chips", "salsa"]]})
    out = model.predict(df)
    assert list(out["ex1"]) == ["4", "3", "5"]


def test_no_group_field_needed(model):
    assert [f.name for f in model.inputs] == ["item"]


CATEGORICAL = """<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
 <DataDictionary>
  <DataField name="beer" optype="categorical" dataType="boolean"/>
  <DataField name="chips" optype="categorical" dataType="string"/>
  <DataField name="colour" optype="categorical" dataType="string"/>
 </DataDictionary>
 <AssociationModel functionName="associationRules" numberOfTransactions="10" minimumSupport="0.1"
   minimumConfidence="0.5" numberOfItems="4" numberOfItemsets="4" numberOfRules="2">
  <MiningSchema><MiningField name="beer"/><MiningField name="chips"/><MiningField name="colour"/></MiningSchema>
  <Output>
   <OutputField name="rec" feature="ruleValue" ruleFeature="consequent" algorithm="recommendation"/>
   <OutputField name="id" feature="ruleValue" ruleFeature="ruleId" algorithm="ruleAssociation"/>
  </Output>
  <Item id="1" value="beer"/>
  <Item id="2" value="chips"/>
  <Item id="3" value="colour=red"/>
  <Item id="4" value="blue" field="colour" category="blue"/>
  <Itemset id="a"><ItemRef itemRef="1"/></Itemset>
  <Itemset id="b"><ItemRef itemRef="2"/></Itemset>
  <Itemset id="c"><ItemRef itemRef="3"/></Itemset>
  <Itemset id="d"><ItemRef itemRef="4"/></Itemset>
  <AssociationRule id="beer-chips" antecedent="a" consequent="b" support="0.2" confidence="0.9"/>
  <AssociationRule id="red-beer" antecedent="c" consequent="a" support="0.2" confidence="0.6"/>
  <AssociationRule id="blue-chips" antecedent="d" consequent="b" support="0.2" confidence="0.7"/>
 </AssociationModel>
</PMML>"""


def test_categorical_items():
    m = portmodel.load(CATEGORICAL)
    out = m.predict([{"beer": True, "chips": "T", "colour": "red"},
                     {"beer": False, "chips": "F", "colour": "red"},
                     {"beer": None, "chips": "F", "colour": "blue"}])
    assert out[0]["rec"] == ["chips"] and out[0]["id"] == "beer-chips"
    assert out[1]["rec"] == ["beer"] and out[1]["id"] is None
    assert out[2]["rec"] == ["chips"] and out[2]["id"] is None


# ---------------------------------------------------------------------- oracle

SHARED_OUTPUTS = """
   <OutputField name="cons" feature="ruleValue" ruleFeature="consequent" algorithm="recommendation" rank="2" rankBasis="lift"/>
   <OutputField name="ante" feature="ruleValue" ruleFeature="antecedent" algorithm="ruleAssociation"/>
   <OutputField name="rule" feature="ruleValue" ruleFeature="rule" algorithm="recommendation" rankOrder="ascending" rankBasis="support"/>
   <OutputField name="ids" feature="ruleValue" ruleFeature="ruleId" algorithm="recommendation" isMultiValued="1" rank="3"/>
   <OutputField name="conf3" feature="ruleValue" ruleFeature="confidence" rank="3"/>
   <OutputField name="lev" feature="ruleValue" ruleFeature="lift" algorithm="ruleAssociation" rankBasis="lift" rankOrder="ascending"/>
   <OutputField name="eid" feature="entityId" rank="2"/>"""


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java")
def test_shopping_matches_reference_engine(tmp_path):
    jpmml = pytest.importorskip("jpmml_evaluator")
    sys.path.insert(0, str(Path(__file__).parent))
    import conformance_util as cu
    case = next((c for c in cu.cases() if c["id"] == "rattle/AssociationRulesShopping"), None)
    if case is None:
        pytest.skip("../shared/conformance is absent")
    text = (cu.SHARED / case["document"]).read_text()
    text = re.sub(r"<Output>.*</Output>", f"<Output>{SHARED_OUTPUTS}</Output>", text, flags=re.S)
    path = tmp_path / "shopping.pmml"
    path.write_text(text)
    baskets = cu.load_input(case)
    ref = jpmml.make_evaluator(str(path)).evaluateAll(pd.DataFrame(baskets))
    out = pd.DataFrame(portmodel.load(text).predict(baskets))

    def norm(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        return str(list(v)) if isinstance(v, (list, tuple)) else str(v)
    for c in ("cons", "ante", "rule", "ids", "conf3", "lev", "eid"):
        assert [norm(v) for v in out[c]] == [norm(v) for v in ref[c]], c
