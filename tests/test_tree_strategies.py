"""TreeModel missingValueStrategy x noTrueChildStrategy x missingValuePenalty.

Truth:
* the PMML 4.4 TreeModel page's own example ("a very small tree model to demonstrate missing
  value handling and confidence calculation", the golfing tree) with its values worked out by
  hand from the strategy definitions;
* small hand-written trees whose expected values are computed by hand (the arithmetic is spelled
  out next to each assertion);
* JPMML-Evaluator (``@pytest.mark.oracle``) on random trees and random rows with missing values,
  for every strategy and noTrueChildStrategy. JPMML-Evaluator does not implement
  weightedConfidence and aggregateNodes: it fails exactly the rows that meet an UNKNOWN
  predicate, scores the others as any tree. Those rows are compared with JPMML-Evaluator, the
  failed ones with ``SpecTree`` below, a per-row reading of the PMML text written for this file.

The semantics chosen where the PMML text is silent (see TreeModel._weighted_result):
after an UNKNOWN child, the siblings that are not FALSE are followed up to and including the
first TRUE one; weightedConfidence weights the followed children by recordCount among those
that give a prediction (equal weights when none has a positive recordCount), recursively;
a node without confidence attributes offers its probabilities as confidences; a node without
ScoreDistribution votes for its score; a blended row has no entityId; missingValuePenalty counts
defaultChild steps and surrogate predicates decided by an alternative (as JPMML-Evaluator).
"""
from __future__ import annotations

import math
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

import portmodel

from conftest import build_pmml

CLASSES = ["A", "B", "C"]
FIELDS = """
<DataField name="x1" optype="continuous" dataType="double"/>
<DataField name="x2" optype="continuous" dataType="double"/>
<DataField name="c1" optype="categorical" dataType="string">
  <Value value="a"/><Value value="b"/><Value value="c"/>
</DataField>
"""
CLASS_TARGET = """<DataField name="y" optype="categorical" dataType="string">
  <Value value="A"/><Value value="B"/><Value value="C"/></DataField>"""
NUMBER_TARGET = '<DataField name="y" optype="continuous" dataType="double"/>'


def outputs(function: str, classes=CLASSES) -> str:
    out = ['<OutputField name="pred" feature="predictedValue"/>',
           '<OutputField name="node" feature="entityId"/>']
    if function == "classification":
        out += ['<OutputField name="conf" feature="confidence"/>',
                '<OutputField name="prob" feature="probability"/>']
        out += [f'<OutputField name="p_{c}" feature="probability" value="{c}"/>' for c in classes]
        out += [f'<OutputField name="c_{c}" feature="confidence" value="{c}"/>' for c in classes]
    return "<Output>" + "".join(out) + "</Output>"


def tree_doc(nodes: str, function: str = "classification", strategy: str = "weightedConfidence",
             ntc: str = "returnNullPrediction", penalty: float | None = None) -> str:
    pen = f' missingValuePenalty="{penalty}"' if penalty is not None else ""
    model = (f'<TreeModel functionName="{function}" missingValueStrategy="{strategy}" '
             f'noTrueChildStrategy="{ntc}"{pen}><MiningSchema><MiningField name="x1"/>'
             '<MiningField name="x2"/><MiningField name="c1"/>'
             '<MiningField name="y" usageType="target"/></MiningSchema>'
             f'{outputs(function)}{nodes}</TreeModel>')
    target = CLASS_TARGET if function == "classification" else NUMBER_TARGET
    return build_pmml(FIELDS + target, model)


def score(doc: str, rows: list[dict]) -> list[dict]:
    frame = pd.DataFrame(rows, columns=["x1", "x2", "c1"]).astype(object)
    out = portmodel.load(doc).predict(frame, errors="mark")
    return [{k: (None if _missing(v) else v) for k, v in r.items()} for r in out.to_dict("records")]


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def sd(a, b, c, conf=None, prob=False) -> str:
    """ScoreDistribution elements with record counts a, b, c (and confidences, probabilities)."""
    out = []
    total = a + b + c
    for i, (cls, n) in enumerate(zip(CLASSES, (a, b, c))):
        attrs = f'value="{cls}" recordCount="{n}"'
        if prob:
            attrs += f' probability="{n / total!r}"'
        if conf is not None and conf[i] is not None:
            attrs += f' confidence="{conf[i]}"'
        out.append(f"<ScoreDistribution {attrs}/>")
    return "".join(out)


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-12)


# ====================================================================== the spec's example
GOLF_FIELDS = """
<DataField name="temperature" optype="continuous" dataType="double"/>
<DataField name="humidity" optype="continuous" dataType="double"/>
<DataField name="outlook" optype="categorical" dataType="string">
  <Value value="sunny"/><Value value="overcast"/><Value value="rain"/>
</DataField>
<DataField name="whatIdo" optype="categorical" dataType="string">
  <Value value="will play"/><Value value="may play"/><Value value="no play"/>
</DataField>"""
GOLF_CLASSES = ["will play", "may play", "no play"]
GOLF_NODES = """
<Node id="1" score="will play" recordCount="100" defaultChild="2">
  <True/>
  <ScoreDistribution value="will play" recordCount="60" confidence="0.6"/>
  <ScoreDistribution value="may play" recordCount="30" confidence="0.3"/>
  <ScoreDistribution value="no play" recordCount="10" confidence="0.1"/>
  <Node id="2" score="will play" recordCount="50" defaultChild="3">
    <SimplePredicate field="outlook" operator="equal" value="sunny"/>
    <ScoreDistribution value="will play" recordCount="40" confidence="0.8"/>
    <ScoreDistribution value="may play" recordCount="2" confidence="0.04"/>
    <ScoreDistribution value="no play" recordCount="8" confidence="0.16"/>
    <Node id="3" score="will play" recordCount="40">
      <CompoundPredicate booleanOperator="surrogate">
        <SimplePredicate field="temperature" operator="greaterOrEqual" value="50"/>
        <SimplePredicate field="humidity" operator="lessThan" value="80"/>
      </CompoundPredicate>
      <ScoreDistribution value="will play" recordCount="36" confidence="0.9"/>
      <ScoreDistribution value="may play" recordCount="2" confidence="0.05"/>
      <ScoreDistribution value="no play" recordCount="2" confidence="0.05"/>
    </Node>
    <Node id="4" score="no play" recordCount="10">
      <CompoundPredicate booleanOperator="surrogate">
        <SimplePredicate field="temperature" operator="lessThan" value="50"/>
        <SimplePredicate field="humidity" operator="greaterOrEqual" value="80"/>
      </CompoundPredicate>
      <ScoreDistribution value="will play" recordCount="4" confidence="0.4"/>
      <ScoreDistribution value="may play" recordCount="0" confidence="0.0"/>
      <ScoreDistribution value="no play" recordCount="6" confidence="0.6"/>
    </Node>
  </Node>
  <Node id="5" score="may play" recordCount="50">
    <CompoundPredicate booleanOperator="or">
      <SimplePredicate field="outlook" operator="equal" value="overcast"/>
      <SimplePredicate field="outlook" operator="equal" value="rain"/>
    </CompoundPredicate>
    <ScoreDistribution value="will play" recordCount="20" confidence="0.4"/>
    <ScoreDistribution value="may play" recordCount="28" confidence="0.56"/>
    <ScoreDistribution value="no play" recordCount="2" confidence="0.04"/>
  </Node>
</Node>"""


def golf(strategy: str, penalty: float | None = None) -> str:
    pen = f' missingValuePenalty="{penalty}"' if penalty is not None else ""
    outs = ['<OutputField name="pred" feature="predictedValue"/>',
            '<OutputField name="conf" feature="confidence"/>',
            '<OutputField name="prob" feature="probability"/>',
            '<OutputField name="node" feature="entityId"/>']
    outs += [f'<OutputField name="p {c}" feature="probability" value="{c}"/>'
             for c in GOLF_CLASSES]
    outs += [f'<OutputField name="c {c}" feature="confidence" value="{c}"/>'
             for c in GOLF_CLASSES]
    model = (f'<TreeModel modelName="golfing" functionName="classification" '
             f'missingValueStrategy="{strategy}"{pen}><MiningSchema>'
             '<MiningField name="temperature"/><MiningField name="humidity"/>'
             '<MiningField name="outlook"/><MiningField name="whatIdo" usageType="predicted"/>'
             f'</MiningSchema><Output>{"".join(outs)}</Output>{GOLF_NODES}</TreeModel>')
    return build_pmml(GOLF_FIELDS, model)


def golf_score(strategy: str, penalty: float | None = None, **row) -> dict:
    frame = pd.DataFrame([row], columns=["temperature", "humidity", "outlook"]).astype(object)
    out = portmodel.load(golf(strategy, penalty)).predict(frame, errors="mark")
    return {k: (None if _missing(v) else v) for k, v in out.iloc[0].to_dict().items()}


def test_spec_example_weighted_confidence():
    # outlook sunny, temperature and humidity missing: Node 2 is TRUE, both surrogate
    # predicates of Nodes 3 and 4 are UNKNOWN: weights 40/50 and 10/50
    r = golf_score("weightedConfidence", outlook="sunny")
    assert r["pred"] == "will play" and r["node"] is None and r["error"] is None
    assert r["c will play"] == approx(0.8 * 0.9 + 0.2 * 0.4)      # 0.8
    assert r["c may play"] == approx(0.8 * 0.05 + 0.2 * 0.0)      # 0.04
    assert r["c no play"] == approx(0.8 * 0.05 + 0.2 * 0.6)       # 0.16
    assert r["conf"] == approx(0.8)
    # probabilities from the record counts: Node 3 36/40, 2/40, 2/40; Node 4 4/10, 0, 6/10
    assert r["p will play"] == approx(0.8 * 36 / 40 + 0.2 * 4 / 10)
    assert r["p no play"] == approx(0.8 * 2 / 40 + 0.2 * 6 / 10)


def test_spec_example_weighted_confidence_recursive():
    # everything missing: Nodes 2 and 5 UNKNOWN (50/50); inside Node 2, Nodes 3 and 4 (40/10)
    r = golf_score("weightedConfidence")
    node2 = (0.8 * 0.9 + 0.2 * 0.4, 0.8 * 0.05, 0.8 * 0.05 + 0.2 * 0.6)
    node5 = (0.4, 0.56, 0.04)
    expect = [0.5 * a + 0.5 * b for a, b in zip(node2, node5)]   # 0.6, 0.3, 0.1
    assert r["pred"] == "will play"
    assert [r[f"c {c}"] for c in GOLF_CLASSES] == [approx(v) for v in expect]
    # temperature 45, humidity 90, outlook missing: Node 2 -> Node 4 (45 < 50, a known value)
    r = golf_score("weightedConfidence", temperature=45, humidity=90)
    expect = [0.5 * a + 0.5 * b for a, b in zip((0.4, 0.0, 0.6), node5)]   # 0.4, 0.28, 0.32
    assert r["pred"] == "will play" and r["conf"] == approx(0.4)
    assert [r[f"c {c}"] for c in GOLF_CLASSES] == [approx(v) for v in expect]


def test_spec_example_aggregate_nodes():
    # outlook sunny, temperature and humidity missing: Nodes 3 and 4 aggregated, 50 records
    r = golf_score("aggregateNodes", outlook="sunny")
    assert r["pred"] == "will play" and r["node"] is None
    assert r["p will play"] == approx((36 + 4) / 50)
    assert r["p may play"] == approx((2 + 0) / 50)
    assert r["p no play"] == approx((2 + 6) / 50)
    assert r["conf"] == approx(40 / 50)
    # temperature 45, humidity 90, outlook missing: Node 4 (4, 0, 6) + Node 5 (20, 28, 2)
    r = golf_score("aggregateNodes", temperature=45, humidity=90)
    assert r["pred"] == "may play"
    assert r["prob"] == approx(28 / 60) and r["conf"] == approx(28 / 60)
    assert r["p will play"] == approx(24 / 60) and r["p no play"] == approx(8 / 60)


def test_spec_example_rows_without_unknowns_score_as_any_tree():
    # temperature 45, humidity 60, sunny: Node 2 -> Node 4, no missing value handling at all
    for strategy in ("weightedConfidence", "aggregateNodes"):
        r = golf_score(strategy, temperature=45, humidity=60, outlook="sunny")
        assert (r["pred"], r["node"], r["conf"], r["prob"]) == ("no play", "4", 0.6, 0.6)


def test_spec_example_other_strategies():
    # lastPrediction: sunny, temperature/humidity missing -> Node 2's prediction
    r = golf_score("lastPrediction", outlook="sunny")
    assert (r["pred"], r["node"]) == ("will play", "2")
    assert r["p will play"] == approx(40 / 50) and r["p no play"] == approx(8 / 50)
    # nullPrediction: no prediction
    r = golf_score("nullPrediction", outlook="sunny")
    assert r["pred"] is None and r["node"] is None and r["error"] is None
    # defaultChild, penalty 0.8: outlook missing -> Node 2 (one step); 40 < 50 -> Node 4
    r = golf_score("defaultChild", 0.8, temperature=40, humidity=70)
    assert (r["pred"], r["node"]) == ("no play", "4")
    assert r["p no play"] == approx(0.6) and r["c no play"] == approx(0.6 * 0.8)
    # and temperature missing too: Node 3's surrogate decides by humidity 70 < 80 (a second
    # missing-value step)
    r = golf_score("defaultChild", 0.8, humidity=70)
    assert (r["pred"], r["node"]) == ("will play", "3")
    assert r["p will play"] == approx(0.9) and r["conf"] == approx(0.9 * 0.8 * 0.8)


def test_penalty_for_surrogates_applies_to_every_strategy():
    # temperature missing, humidity 85, sunny: Node 3's surrogate is FALSE by humidity, Node 4's
    # TRUE by humidity: two predicates decided by an alternative -> 0.8 ** 2 (JPMML-Evaluator
    # counts every such evaluation); no UNKNOWN predicate, so no blending
    for strategy in ("none", "defaultChild", "weightedConfidence", "aggregateNodes"):
        r = golf_score(strategy, 0.8, humidity=85, outlook="sunny")
        assert (r["pred"], r["node"]) == ("no play", "4")
        assert r["c no play"] == approx(0.6 * 0.64) and r["c will play"] == approx(0.4 * 0.64)
        assert r["p no play"] == approx(0.6)


def test_penalty_inside_blends():
    # temperature missing, humidity 85, outlook missing: Nodes 2 and 5 UNKNOWN (50/50); inside
    # Node 2, Node 4 by two surrogate alternatives (0.8 ** 2 on its confidences)
    r = golf_score("weightedConfidence", 0.8, humidity=85)
    conf = [0.5 * 0.4 * 0.64 + 0.5 * 0.4, 0.5 * 0.0 + 0.5 * 0.56, 0.5 * 0.6 * 0.64 + 0.5 * 0.04]
    assert [r[f"c {c}"] for c in GOLF_CLASSES] == [approx(v) for v in conf]   # .328 .28 .212
    assert r["pred"] == "will play"
    prob = [0.5 * 0.4 + 0.5 * 20 / 50, 0.5 * 0.0 + 0.5 * 28 / 50, 0.5 * 0.6 + 0.5 * 2 / 50]
    assert [r[f"p {c}"] for c in GOLF_CLASSES] == [approx(v) for v in prob]
    # aggregateNodes: Node 4 (4, 0, 6) penalized by 0.64 in the confidences, Node 5 (20, 28, 2)
    r = golf_score("aggregateNodes", 0.8, humidity=85)
    assert r["pred"] == "may play" and r["prob"] == approx(28 / 60)
    assert r["c will play"] == approx((4 * 0.64 + 20) / 60)
    assert r["c no play"] == approx((6 * 0.64 + 2) / 60)


# ====================================================================== hand-written trees
# T1: three siblings; the middle one (c1 == "b") is FALSE or TRUE while x1 is missing
T1 = f"""
<Node id="r" score="A" recordCount="100"><True/>{sd(50, 30, 20, conf=(0.5, 0.3, 0.2))}
  <Node id="n1" score="A" recordCount="20">
    <SimplePredicate field="x1" operator="lessThan" value="0"/>{sd(18, 2, 0, conf=(0.9, 0.1, None))}
  </Node>
  <Node id="n2" score="B" recordCount="30">
    <SimplePredicate field="c1" operator="equal" value="b"/>{sd(3, 24, 3)}
  </Node>
  <Node id="n3" score="C" recordCount="50">
    <SimplePredicate field="x1" operator="greaterOrEqual" value="0"/>
    {sd(10, 15, 25, conf=(0.1, 0.2, 0.7))}
  </Node>
</Node>"""


def test_weighted_false_siblings_are_excluded_and_confidence_decides():
    (r,) = score(tree_doc(T1), [{"c1": "a"}])
    # n1 UNKNOWN (20 records), n2 FALSE, n3 UNKNOWN (50 records): weights 20/70, 50/70
    conf = [(20 * 0.9 + 50 * 0.1) / 70, (20 * 0.1 + 50 * 0.2) / 70, (20 * 0.0 + 50 * 0.7) / 70]
    prob = [(20 * 18 / 20 + 50 * 10 / 50) / 70, (20 * 2 / 20 + 50 * 15 / 50) / 70,
            (0 + 50 * 25 / 50) / 70]
    assert [r[f"c_{c}"] for c in CLASSES] == [approx(v) for v in conf]   # .329 .171 .5
    assert [r[f"p_{c}"] for c in CLASSES] == [approx(v) for v in prob]   # .4 .243 .357
    # the winner has the highest confidence (C), not the highest probability (A)
    assert r["pred"] == "C" and r["conf"] == approx(0.5) and r["prob"] == approx(25 / 70)
    assert r["node"] is None


def test_weighted_first_true_sibling_ends_the_scan():
    (r,) = score(tree_doc(T1), [{"c1": "b"}])
    # n1 UNKNOWN, n2 TRUE: n3 (UNKNOWN too) is not followed; weights 20/50, 30/50; n2 has no
    # confidence attributes, its probabilities (3, 24, 3)/30 serve
    conf = [(20 * 0.9 + 30 * 0.1) / 50, (20 * 0.1 + 30 * 0.8) / 50, (0 + 30 * 0.1) / 50]
    assert [r[f"c_{c}"] for c in CLASSES] == [approx(v) for v in conf]   # .42 .52 .06
    assert r["pred"] == "B"


def test_rows_meeting_no_unknown_are_ordinary():
    rows = score(tree_doc(T1), [{"x1": 1, "c1": "a"}, {"x1": -1}, {"x1": 1, "c1": "b"}])
    assert [(r["pred"], r["node"]) for r in rows] == [("C", "n3"), ("A", "n1"), ("B", "n2")]
    # node confidences as JPMML-Evaluator: the attribute, 0 where it is absent
    assert (rows[0]["conf"], rows[0]["prob"]) == (approx(0.7), approx(0.5))
    assert (rows[1]["c_C"], rows[1]["c_A"]) == (0.0, approx(0.9))
    assert rows[2]["conf"] == 0.0 and rows[2]["prob"] == approx(0.8)


def test_aggregate_sums_the_record_counts():
    rows = score(tree_doc(T1, strategy="aggregateNodes"), [{"c1": "a"}, {"c1": "b"}])
    # n1 (18, 2, 0) + n3 (10, 15, 25) = (28, 17, 25) of 70; n1 + n2 (3, 24, 3) = (21, 26, 3)
    assert rows[0]["pred"] == "A" and rows[0]["prob"] == approx(28 / 70)
    assert [rows[0][f"c_{c}"] for c in CLASSES] == [approx(28 / 70), approx(17 / 70),
                                                     approx(25 / 70)]
    assert rows[1]["pred"] == "B" and rows[1]["conf"] == approx(26 / 50)
    assert rows[0]["node"] is None and rows[1]["node"] is None


# T2: nested UNKNOWNs, a node without ScoreDistribution, a node without recordCount, and a
# node where no child is TRUE (c1 == "c")
T2 = f"""
<Node id="r" score="A" recordCount="100"><True/>{sd(40, 40, 20)}
  <Node id="a" score="A" recordCount="40">
    <SimplePredicate field="x1" operator="lessThan" value="0"/>{sd(30, 10, 0)}
    <Node id="a1" score="B" recordCount="10">
      <SimplePredicate field="x2" operator="lessThan" value="0"/>{sd(2, 8, 0)}
    </Node>
    <Node id="a2" score="A" recordCount="30">
      <SimplePredicate field="x2" operator="greaterOrEqual" value="0"/>{sd(27, 3, 0)}
    </Node>
  </Node>
  <Node id="b" score="C" recordCount="60">
    <SimplePredicate field="x1" operator="greaterOrEqual" value="0"/>{sd(6, 18, 36)}
    <Node id="b1" score="C" recordCount="20">
      <SimplePredicate field="c1" operator="equal" value="a"/>
    </Node>
    <Node id="b2" score="B">
      <SimplePredicate field="c1" operator="equal" value="b"/>{sd(0, 10, 0)}
    </Node>
  </Node>
</Node>"""


def test_weighted_nested_unknowns_and_a_node_without_distribution():
    (r,) = score(tree_doc(T2), [{"c1": "a"}])
    # a: a1 and a2 UNKNOWN, (10 (.2, .8, 0) + 30 (.9, .1, 0)) / 40 = (.725, .275, 0)
    # b: b1 TRUE (a known value), no ScoreDistribution: a vote for C (0, 0, 1)
    a = [(10 * 0.2 + 30 * 0.9) / 40, (10 * 0.8 + 30 * 0.1) / 40, 0.0]
    expect = [0.4 * a[0], 0.4 * a[1], 0.6 * 1.0]        # (.29, .11, .6)
    assert [r[f"c_{c}"] for c in CLASSES] == [approx(v) for v in expect]
    assert [r[f"p_{c}"] for c in CLASSES] == [approx(v) for v in expect]
    assert r["pred"] == "C"


@pytest.mark.parametrize("ntc", ["returnNullPrediction", "returnLastPrediction"])
def test_weighted_no_true_child_inside_a_blend(ntc):
    rows = score(tree_doc(T2, ntc=ntc), [{"x2": 1, "c1": "c"}, {"x1": 1, "c1": "c"}])
    # x1 missing: a -> a2 (.9, .1, 0); b: neither c1 == a nor c1 == b
    if ntc == "returnNullPrediction":
        # b gives no prediction and drops out of the average
        assert rows[0]["pred"] == "A" and rows[0]["conf"] == approx(0.9)
        assert rows[1]["pred"] is None and rows[1]["node"] is None
    else:
        # b answers with its own distribution (6, 18, 36)/60
        expect = [0.4 * 0.9 + 0.6 * 0.1, 0.4 * 0.1 + 0.6 * 0.3, 0.6 * 0.6]   # .42 .22 .36
        assert [rows[0][f"c_{c}"] for c in CLASSES] == [approx(v) for v in expect]
        assert rows[0]["pred"] == "A"
        # no UNKNOWN met: b itself, as any tree
        assert (rows[1]["pred"], rows[1]["node"]) == ("C", "b")


def test_weighted_absent_record_count_weighs_nothing():
    (r,) = score(tree_doc(T2), [{"x1": 1}])
    # b1 (20 records, a vote for C) and b2 (no recordCount) both UNKNOWN: b1 alone
    assert r["pred"] == "C" and r["c_C"] == approx(1.0) and r["c_B"] == approx(0.0)


def regression_nodes(nodes: str) -> str:
    """T2 as a regression tree: the scores below replace the class labels."""
    scores = {"r": "5", "a": "2", "a1": "1", "a2": "3", "b": "8", "b1": "10", "b2": "6"}
    root = ET.fromstring(nodes)
    for node in root.iter("Node"):
        node.set("score", scores[node.get("id")])
        for d in node.findall("ScoreDistribution"):
            node.remove(d)
    return ET.tostring(root, encoding="unicode")


@pytest.mark.parametrize("ntc", ["returnNullPrediction", "returnLastPrediction"])
def test_regression_blends(ntc):
    nodes = regression_nodes(T2)
    rows = [{"c1": "a"}, {"x2": 1, "c1": "c"}]
    weighted = score(tree_doc(nodes, "regression", "weightedConfidence", ntc), rows)
    aggregate = score(tree_doc(nodes, "regression", "aggregateNodes", ntc), rows)
    # weighted: a = (10 * 1 + 30 * 3) / 40 = 2.5, b = b1 = 10; (40 * 2.5 + 60 * 10) / 100
    assert weighted[0]["pred"] == approx(7.0) and weighted[0]["node"] is None
    # aggregate: the recordCount-weighted mean of a1, a2, b1: (10 + 90 + 200) / 60
    assert aggregate[0]["pred"] == approx(5.0)
    if ntc == "returnNullPrediction":
        assert weighted[1]["pred"] == approx(3.0) and aggregate[1]["pred"] == approx(3.0)
    else:   # b itself (score 8, 60 records) joins a2 (score 3, 30 records)
        assert weighted[1]["pred"] == approx((40 * 3 + 60 * 8) / 100)
        assert aggregate[1]["pred"] == approx((30 * 3 + 60 * 8) / 90)


def t3(with_counts: bool) -> str:
    """Children with probabilities only (no ScoreDistribution recordCount); root predicate on x2."""
    rc = ('recordCount="10"', 'recordCount="30"') if with_counts else ("", "")
    return f"""
<Node id="r" score="A"><SimplePredicate field="x2" operator="greaterThan" value="-5"/>
  <Node id="k1" score="A" {rc[0]}><SimplePredicate field="x1" operator="lessThan" value="0"/>
    <ScoreDistribution value="A" probability="0.7"/><ScoreDistribution value="B" probability="0.3"/>
    <ScoreDistribution value="C" probability="0"/></Node>
  <Node id="k2" score="B" {rc[1]}><SimplePredicate field="x1" operator="greaterOrEqual" value="0"/>
    <ScoreDistribution value="A" probability="0.2"/><ScoreDistribution value="B" probability="0.8"/>
    <ScoreDistribution value="C" probability="0"/></Node>
</Node>"""


def test_record_counts_absent():
    rows = [{"x2": 0}, {}]
    # weighted without recordCounts: equal weights (.45, .55, 0)
    r = score(tree_doc(t3(False)), rows)
    assert r[0]["pred"] == "B" and r[0]["conf"] == approx(0.55) and r[0]["c_A"] == approx(0.45)
    assert r[1]["pred"] is None          # the root predicate itself is UNKNOWN
    # weighted with them: (10 (.7, .3) + 30 (.2, .8)) / 40
    r = score(tree_doc(t3(True)), rows)
    assert r[0]["c_A"] == approx(13 / 40) and r[0]["c_B"] == approx(27 / 40)
    # aggregate: probability x the Node's recordCount; (7 + 6, 3 + 24, 0) of 40
    r = score(tree_doc(t3(True), strategy="aggregateNodes"), rows)
    assert r[0]["pred"] == "B" and r[0]["prob"] == approx(27 / 40)
    # nothing to count: no prediction
    r = score(tree_doc(t3(False), strategy="aggregateNodes"), rows)
    assert r[0]["pred"] is None and r[0]["prob"] is None


# ====================================================================== oracle
class SpecTree:
    """weightedConfidence / aggregateNodes for one row at a time, read off the PMML text (and
    the choices listed in the module docstring); independent of portmodel's vectorized walk."""

    def __init__(self, doc: str):
        root = ET.fromstring(doc)
        for el in root.iter():
            el.tag = el.tag.split("}")[-1]
        tm = root.find("TreeModel")
        self.function = tm.get("functionName")
        self.weighted = tm.get("missingValueStrategy") == "weightedConfidence"
        self.last = tm.get("noTrueChildStrategy") == "returnLastPrediction"
        self.penalty = float(tm.get("missingValuePenalty", "1"))
        self.root = tm.find("Node")

    @staticmethod
    def predicate(node):
        return next(c for c in node if c.tag in ("SimplePredicate", "SimpleSetPredicate",
                                                 "CompoundPredicate", "True", "False"))

    def truth(self, p, row):
        """True / False / None (UNKNOWN)."""
        if p.tag == "True":
            return True
        if p.tag == "False":
            return False
        if p.tag == "SimplePredicate":
            v, op = row.get(p.get("field")), p.get("operator")
            if op == "isMissing":
                return v is None
            if op == "isNotMissing":
                return v is not None
            if v is None:
                return None
            ref = p.get("value")
            if op in ("equal", "notEqual"):
                same = (v == ref) if isinstance(v, str) else (v == float(ref))
                return same if op == "equal" else not same
            x, r = float(v), float(ref)
            return {"lessThan": x < r, "lessOrEqual": x <= r, "greaterThan": x > r,
                    "greaterOrEqual": x >= r}[op]
        if p.tag == "SimpleSetPredicate":
            v = row.get(p.get("field"))
            if v is None:
                return None
            hit = v in p.find("Array").text.split()
            return hit if p.get("booleanOperator") == "isIn" else not hit
        kids = [self.truth(c, row) for c in p]
        op = p.get("booleanOperator")
        if op == "surrogate":
            return next((k for k in kids if k is not None), None)
        if op == "and":
            return False if False in kids else None if None in kids else True
        if op == "or":
            return True if True in kids else None if None in kids else False
        raise AssertionError(op)

    def alternative(self, p, row) -> bool:
        if p.tag != "CompoundPredicate" or p.get("booleanOperator") != "surrogate":
            return False
        return self.truth(p[0], row) is None and self.truth(p, row) is not None

    def terminal(self, node):
        """(values, predicts): classification [conf | prob] or [penalized counts | counts];
        regression [score] or [rc * score, rc, score, 1]."""
        rc = float(node.get("recordCount", "nan"))
        rc = rc if rc > 0 else 0.0
        if self.function == "regression":
            s = float(node.get("score"))
            return ([s] if self.weighted else [rc * s, rc, s, 1.0]), True
        dists = node.findall("ScoreDistribution")
        if not dists:
            vote = [1.0 if c == node.get("score") else 0.0 for c in CLASSES]
            counts = [rc * v for v in vote]
        else:
            by = {d.get("value"): d for d in dists}
            if dists[0].get("probability") is not None:
                prob = [float(by[c].get("probability", 0)) if c in by else 0.0 for c in CLASSES]
            else:
                n = [float(by[c].get("recordCount")) if c in by else 0.0 for c in CLASSES]
                prob = [x / sum(n) for x in n]
            vote = prob
            counts = [float(by[c].get("recordCount", 0)) if c in by else 0.0 for c in CLASSES]
            if sum(counts) <= 0:
                counts = [rc * p for p in prob]
            if any(d.get("confidence") is not None for d in dists) and self.weighted:
                conf = [float(by[c].get("confidence", 0)) if c in by else 0.0 for c in CLASSES]
                return conf + prob, True
        if self.weighted:
            return vote + vote, True
        return counts + counts, sum(counts) > 0

    def visit(self, node, row):
        """(values, predicts, blended) of a row standing at node."""
        kids = node.findall("Node")
        if not kids:
            return (*self.terminal(node), False)
        followed, factor, blended = [], 1.0, False
        for kid in kids:
            p = self.predicate(kid)
            if self.alternative(p, row):
                factor *= self.penalty
            t = self.truth(p, row)
            if t is None:
                followed.append(kid)
                blended = True
            elif t:
                followed.append(kid)
                break
        if not followed:
            if self.last:
                values, has = self.terminal(node)
            else:
                values, has = None, False
        else:
            parts = []
            for kid in followed:
                v, h, b = self.visit(kid, row)
                blended |= b
                if h:
                    w = float(kid.get("recordCount", "nan"))
                    parts.append((w if w > 0 else 0.0, v))
            has = bool(parts)
            if not parts:
                values = None
            elif self.weighted:
                total = sum(w for w, _ in parts)
                if total > 0:
                    values = [sum(w * v[i] for w, v in parts) / total
                              for i in range(len(parts[0][1]))]
                else:
                    values = [sum(v[i] for _, v in parts) / len(parts)
                              for i in range(len(parts[0][1]))]
            else:
                values = [sum(v[i] for _, v in parts) for i in range(len(parts[0][1]))]
        if has and self.function == "classification":
            k = len(CLASSES)
            values = [x * factor for x in values[:k]] + list(values[k:])
        return values, has, blended

    def score(self, row: dict) -> dict | None:
        """The expected outputs of a row that meets an UNKNOWN predicate (None otherwise)."""
        rp = self.predicate(self.root)
        if self.truth(rp, row) is not True:
            return None
        values, has, blended = self.visit(self.root, row)
        if not blended:
            return None
        if self.alternative(rp, row) and has and self.function == "classification":
            values = [x * self.penalty for x in values[:3]] + list(values[3:])
        out = {"node": None}
        if not has:
            return {**out, "pred": None}
        if self.function == "regression":
            if self.weighted:
                return {**out, "pred": values[0]}
            mean = values[0] / values[1] if values[1] > 0 else values[2] / values[3]
            return {**out, "pred": mean}
        if self.weighted:
            conf, prob = values[:3], values[3:]
            best = conf.index(max(conf))
        else:
            total = sum(values[3:])
            if total <= 0:
                return {**out, "pred": None}
            conf = [x / total for x in values[:3]]
            prob = [x / total for x in values[3:]]
            best = values[3:].index(max(values[3:]))
        out.update(pred=CLASSES[best], conf=conf[best], prob=prob[best])
        out.update({f"p_{c}": prob[j] for j, c in enumerate(CLASSES)})
        out.update({f"c_{c}": conf[j] for j, c in enumerate(CLASSES)})
        return out


def _sp(f, op, v):
    return f'<SimplePredicate field="{f}" operator="{op}" value="{v}"/>'


def _cp(op, *ps):
    return f'<CompoundPredicate booleanOperator="{op}">{"".join(ps)}</CompoundPredicate>'


def random_split(rng) -> list[str]:
    """Child predicates of one node: complementary splits, three-way splits, sets, a <True/>
    else-branch, surrogates, splits with a gap (noTrueChild), isMissing routing."""
    t = round(float(rng.uniform(-1, 1)), 2)
    u = round(float(rng.uniform(-1, 1)), 2)
    x = ["x1", "x2"][rng.integers(0, 2)]
    kind = rng.integers(0, 7)
    if kind == 0:
        return [_sp(x, "lessThan", t), _sp(x, "greaterOrEqual", t)]
    if kind == 1:
        lo, hi = sorted((t, u))
        return [_sp(x, "lessOrEqual", lo),
                _cp("and", _sp(x, "greaterThan", lo), _sp(x, "lessThan", hi)),
                _sp(x, "greaterOrEqual", hi)]
    if kind == 2:
        return [_sp("c1", "equal", "a"),
                '<SimpleSetPredicate field="c1" booleanOperator="isIn">'
                '<Array type="string">b c</Array></SimpleSetPredicate>']
    if kind == 3:
        return ['<SimpleSetPredicate field="c1" booleanOperator="isIn">'
                '<Array type="string">a b</Array></SimpleSetPredicate>', "<True/>"]
    if kind == 4:
        return [_cp("surrogate", _sp("x1", "lessThan", t), _sp("x2", "lessThan", u)),
                _cp("surrogate", _sp("x1", "greaterOrEqual", t), _sp("x2", "greaterOrEqual", u))]
    if kind == 5:
        return [_sp(x, "lessThan", t), _sp(x, "greaterThan", t + 0.5)]
    return [f'<SimplePredicate field="{x}" operator="isMissing"/>',
            _cp("or", _sp(x, "lessThan", t), _sp("c1", "equal", "b")),
            _cp("and", _sp(x, "greaterOrEqual", t), _sp("c1", "notEqual", "b"))]


def random_nodes(seed: int, function: str, max_depth: int = 4) -> str:
    """A random tree; every classification node has a ScoreDistribution (JPMML-Evaluator fails
    confidence and probability outputs of nodes without one)."""
    rng = np.random.default_rng(seed)
    count = [0]

    def node(pred: str, depth: int) -> tuple[str, str]:
        count[0] += 1
        nid = f"n{count[0]}"
        attrs = [f'id="{nid}"']
        if rng.random() < 0.9:
            attrs.append(f'recordCount="{int(rng.integers(1, 100))}"')
        body = ""
        if function == "classification":
            counts = rng.integers(0, 20, size=3)
            counts[rng.integers(0, 3)] += 1
            conf = tuple(round(float(x), 3) for x in rng.uniform(0, 1, 3)) \
                if rng.random() < 0.5 else None
            body = sd(*(int(c) for c in counts), conf=conf, prob=rng.random() < 0.3)
            best = CLASSES[int(np.argmax(counts))]
            score = best if rng.random() < 0.8 else CLASSES[rng.integers(0, 3)]
        else:
            score = round(float(rng.normal(10, 5)), 3)
        attrs.append(f'score="{score}"')
        kids = []
        if depth < max_depth and rng.random() < 0.75:
            kids = [node(p, depth + 1) for p in random_split(rng)]
            attrs.append(f'defaultChild="{kids[rng.integers(0, len(kids))][0]}"')
        xml = f'<Node {" ".join(attrs)}>{pred}{body}{"".join(k[1] for k in kids)}</Node>'
        return nid, xml

    root_pred = "<True/>" if rng.random() < 0.9 else _sp("x1", "greaterThan", -0.9)
    return node(root_pred, 0)[1]


def random_rows(seed: int, n: int = 400, missing: float = 0.25) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 1000)
    cols = {"x1": np.round(rng.uniform(-1.2, 1.2, n), 2).astype(object),
            "x2": np.round(rng.uniform(-1.2, 1.2, n), 2).astype(object),
            "c1": rng.choice(["a", "b", "c"], n).astype(object)}
    for col in cols.values():
        col[rng.random(n) < missing] = None
    return pd.DataFrame(cols)


STRATEGIES = [("none", None), ("none", 0.75), ("lastPrediction", None), ("nullPrediction", None),
              ("defaultChild", None), ("defaultChild", 0.75), ("weightedConfidence", None),
              ("weightedConfidence", 0.75), ("aggregateNodes", None), ("aggregateNodes", 0.75)]
#: one random tree per function (31-36 nodes, 8 surrogate predicates), one JPMML-Evaluator per
#: document; missingValuePenalty changes confidences only, so regression goes without it
SEED = 3
CASES = [(f, s, p) for f in ("classification", "regression") for s, p in STRATEGIES
         if f == "classification" or p is None]


@pytest.fixture(scope="module")
def oracle_dir(tmp_path_factory):
    pytest.importorskip("jpmml_evaluator")
    if shutil.which("java") is None:
        pytest.skip("JPMML-Evaluator needs Java")
    return tmp_path_factory.mktemp("tree_strategies")


def _agree(expected, actual) -> bool:
    from conformance_util import agrees
    e = None if _missing(expected) else (expected.item() if isinstance(expected, np.generic)
                                         else expected)
    a = None if _missing(actual) else actual
    return agrees(e, a, 1e-9, 1e-12)


@pytest.mark.oracle
@pytest.mark.parametrize("ntc", ["returnNullPrediction", "returnLastPrediction"])
@pytest.mark.parametrize("function,strategy,penalty", CASES)
def test_strategies_against_jpmml(function, strategy, penalty, ntc, oracle_dir):
    from reference_engines import jpmml_score
    blends = strategy in ("weightedConfidence", "aggregateNodes")
    doc = tree_doc(random_nodes(SEED, function), function, strategy, ntc, penalty)
    path = oracle_dir / f"{function}-{strategy}-{penalty}-{ntc}.pmml"
    path.write_text(doc)
    frame = random_rows(SEED)
    ours = portmodel.load(doc).predict(frame, errors="mark")
    assert ours["error"].isna().all()
    ref, errors = jpmml_score(path, frame)
    spec = SpecTree(doc) if blends else None
    inputs = [{k: (None if _missing(v) else v) for k, v in r.items()}
              for r in frame.to_dict("records")]
    our_rows, ref_rows = ours.to_dict("records"), ref.to_dict("records")
    problems = []
    blended = 0
    for i, row in enumerate(inputs):
        expected = spec.score(row) if spec is not None else None
        if errors[i] is not None:
            # JPMML-Evaluator fails exactly the rows weightedConfidence/aggregateNodes blend
            assert blends and "UnsupportedAttributeException" in errors[i], errors[i]
            assert expected is not None, f"row {i} {row}: no UNKNOWN met, JPMML failed it"
            blended += 1
        else:
            assert expected is None, f"row {i} {row}: blended, yet JPMML scored it"
            expected = {c: v for c, v in ref_rows[i].items() if c != "y"}
        for c, e in expected.items():
            if not _agree(e, our_rows[i][c]):
                problems.append(f"row {i} {row} {c}: expected {e!r}, got {our_rows[i][c]!r}")
    assert not problems, "\n".join(problems[:20])
    if blends:
        assert 50 < blended < len(inputs) - 50     # both kinds of rows were compared
