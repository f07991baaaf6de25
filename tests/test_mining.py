"""MiningModel (Segmentation) on small hand-written documents.

Every multipleModelMethod, missingPredictionTreatment, selectFirst with predicates, selectAll,
modelChain, nested MiningModels, segmentId outputs and Targets. Expected values are worked out
by hand from the PMML 4.4 definitions (the comment next to each says how); where the
specification is loose the reference engine's reading is used (vote fractions as probabilities,
first-voted category wins a tie, the legacy 50th percentile for medians), and the oracle tests
check the same documents against JPMML-Evaluator.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.errors import DocumentError, UnsupportedError
from reference_engines import jpmml_frame

NS = "http://www.dmg.org/PMML-4_4"
CATS = ("A", "B", "C")

FIELDS = """
<DataField name="x" optype="continuous" dataType="double"/>
<DataField name="y" optype="continuous" dataType="double"/>
<DataField name="c" optype="categorical" dataType="string">
  <Value value="a"/><Value value="b"/></DataField>
<DataField name="label" optype="categorical" dataType="string">
  <Value value="A"/><Value value="B"/><Value value="C"/></DataField>
<DataField name="t" optype="continuous" dataType="double"/>
"""


def doc(model: str, fields: str = FIELDS) -> str:
    return (f'<?xml version="1.0"?><PMML xmlns="{NS}" version="4.4"><Header/>'
            f"<DataDictionary>{fields}</DataDictionary>{model}</PMML>")


def schema(target: str | None, extra: str = "") -> str:
    out = '<MiningField name="x"/><MiningField name="y"/><MiningField name="c"/>' + extra
    if target:
        out += f'<MiningField name="{target}" usageType="target"/>'
    return f"<MiningSchema>{out}</MiningSchema>"


def leaf(pred: str, score: str, probs: tuple[float, float, float]) -> str:
    sd = "".join(f'<ScoreDistribution value="{c}" recordCount="{p * 10:g}" probability="{p}"/>'
                 for c, p in zip(CATS, probs))
    return f'<Node score="{score}">{pred}{sd}</Node>'


def ctree(field: str, cut: float, low: tuple, high: tuple) -> str:
    """Classification tree: field < cut -> low leaf, else high leaf; each (score, probs)."""
    return (f'<TreeModel functionName="classification">{schema("label")}<Node><True/>'
            + leaf(f'<SimplePredicate field="{field}" operator="lessThan" value="{cut}"/>', *low)
            + leaf(f'<SimplePredicate field="{field}" operator="greaterOrEqual" value="{cut}"/>',
                   *high)
            + "</Node></TreeModel>")


def reg(intercept: float, coef: float = 0.0, field: str = "x", target: str | None = "t",
        output: str = "", extra_schema: str = "", targets: str = "") -> str:
    pred = f'<NumericPredictor name="{field}" coefficient="{coef}"/>' if coef else ""
    return (f'<RegressionModel functionName="regression">{schema(target, extra_schema)}'
            f"{output}{targets}<RegressionTable intercept=\"{intercept}\">{pred}</RegressionTable>"
            f"</RegressionModel>")


def segment(sid: str, model: str, pred: str = "<True/>", weight: float | None = None) -> str:
    w = f' weight="{weight}"' if weight is not None else ""
    return f'<Segment id="{sid}"{w}>{pred}{model}</Segment>'


def mining(function: str, method: str, segments: list[str], target: str | None,
           output: str = "", seg_attrs: str = "", targets: str = "") -> str:
    return (f'<MiningModel functionName="{function}">{schema(target)}{output}{targets}'
            f'<Segmentation multipleModelMethod="{method}"{seg_attrs}>{"".join(segments)}'
            f"</Segmentation></MiningModel>")


def prob_output(extra: str = "") -> str:
    return ("<Output>" + "".join(
        f'<OutputField name="P_{c}" optype="continuous" dataType="double" feature="probability" '
        f'value="{c}"/>' for c in CATS) + extra + "</Output>")


# Three classification trees (on x) used by the vote and probability tests:
#   T1: x < 1.5 -> A (.8 .2 0)  else B (0 .7 .3)
#   T2: x < 2.5 -> A (.6 .4 0)  else C (.1 0 .9)
#   T3: x < 0.5 -> B (.4 .6 0)  else C (0 0 1)
T1 = ctree("x", 1.5, ("A", (0.8, 0.2, 0.0)), ("B", (0.0, 0.7, 0.3)))
T2 = ctree("x", 2.5, ("A", (0.6, 0.4, 0.0)), ("C", (0.1, 0.0, 0.9)))
T3 = ctree("x", 0.5, ("B", (0.4, 0.6, 0.0)), ("C", (0.0, 0.0, 1.0)))
T3Y = ctree("y", 0.5, ("B", (0.4, 0.6, 0.0)), ("C", (0.0, 0.0, 1.0)))   # missing when y is
X4 = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0.0] * 4, "c": ["a"] * 4})


@pytest.fixture(params=["fast", "general"])
def load(request):
    """portmodel.load, or with the one-pass ensemble kernel switched off (segment by segment):
    both paths must give the hand-computed answers."""
    def _load(text: str):
        m = portmodel.load(text)
        if request.param == "general":
            m.model.fast = None
        elif getattr(m.model, "fast", None) is None:
            pytest.skip("no fast path for this document")
        return m
    return _load


def classify(method: str, weights=(None, None, None), trees=(T1, T2, T3), seg_attrs: str = ""):
    segs = [segment(str(i + 1), t, weight=w) for i, (t, w) in enumerate(zip(trees, weights))]
    return doc(mining("classification", method, segs, "label", prob_output(), seg_attrs))


def probs(out: pd.DataFrame) -> np.ndarray:
    return out[[f"P_{c}" for c in CATS]].to_numpy(float)


def isna(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def vals(col: pd.Series) -> list:
    """Column values with every missing value as None."""
    return [None if isna(v) else v for v in col.tolist()]


# ------------------------------------------------------------------ votes


def test_majority_vote_fractions_and_first_voted_tie_break(load):
    out = load(classify("majorityVote")).predict(X4)
    # x=0: A A B; x=1: A A C; x=2: B A C (three-way tie: T1 voted first -> B); x=3: B C C
    assert list(out["label"]) == ["A", "A", "B", "C"]
    np.testing.assert_allclose(probs(out), [[2 / 3, 1 / 3, 0], [2 / 3, 0, 1 / 3],
                                            [1 / 3, 1 / 3, 1 / 3], [0, 1 / 3, 2 / 3]], rtol=1e-15)


def test_weighted_majority_vote(load):
    out = load(classify("weightedMajorityVote", (0.5, 0.3, 0.2))).predict(X4)
    # x=0: A .5+.3, B .2; x=2: B .5, A .3, C .2; x=3: B .5 vs C .3+.2 -> tie, B voted first
    assert list(out["label"]) == ["A", "A", "B", "B"]
    np.testing.assert_allclose(probs(out), [[0.8, 0.2, 0], [0.8, 0, 0.2], [0.3, 0.5, 0.2],
                                            [0, 0.5, 0.5]], rtol=1e-15)


# ------------------------------------------------------------------ probabilities


def test_average_of_probabilities(load):
    out = load(classify("average")).predict(X4)
    exp = np.array([[.8 + .6 + .4, .2 + .4 + .6, 0], [.8 + .6 + 0, .2 + .4, 1.0],
                    [0 + .6 + 0, .7 + .4 + 0, .3 + 0 + 1], [0 + .1 + 0, .7, .3 + .9 + 1]]) / 3
    np.testing.assert_allclose(probs(out), exp, rtol=1e-15)
    assert list(out["label"]) == ["A", "A", "C", "C"]


def test_weighted_average_of_probabilities(load):
    w = (0.5, 0.3, 0.2)
    out = load(classify("weightedAverage", w)).predict(X4.iloc[[0, 3]])
    rows = {0: [(.8, .2, 0), (.6, .4, 0), (.4, .6, 0)], 3: [(0, .7, .3), (.1, 0, .9), (0, 0, 1)]}
    exp = [[sum(wi * p[k] for wi, p in zip(w, rows[r])) / sum(w) for k in range(3)]
           for r in (0, 3)]
    np.testing.assert_allclose(probs(out), exp, rtol=1e-15)
    assert list(out["label"]) == ["A", "C"]


def test_median_picks_the_segment_nearest_the_winning_median(load):
    out = load(classify("median")).predict(X4)
    # x=0: medians A .6 B .4 C 0 -> A; T2 has p(A)=.6 -> T2's distribution (.6 .4 0)
    # x=1: A [.8 .6 0] -> .6, B [.2 .4 0] -> .2, C [0 0 1] -> 0 -> A; T2 again
    # x=2: A [0 .6 0] -> 0, B [.7 .4 0] -> .4, C [.3 0 1] -> .3 -> B wins; T2 has p(B)=.4,
    #      and T2's own distribution (.6 .4 0) then predicts A
    # x=3: A [0 .1 0] -> 0, B [.7 0 0] -> 0, C [.3 .9 1] -> .9 -> C; T2 (.1 0 .9)
    np.testing.assert_allclose(probs(out), [[.6, .4, 0], [.6, .4, 0], [.6, .4, 0], [.1, 0, .9]],
                               rtol=1e-15)
    assert list(out["label"]) == ["A", "A", "A", "C"]


def test_median_with_even_count_averages_the_nearest_segments(load):
    # four trees with dyadic probabilities (exact in binary), every row in the low leaf
    dists = [(.75, .25, 0.0), (.5, .5, 0.0), (.25, .75, 0.0), (.625, .375, 0.0)]
    trees = tuple(ctree("x", 9.0, ("A", d), ("A", d)) for d in dists)
    out = load(classify("median", (None,) * 4, trees)).predict(X4.iloc[[0]])
    # A [.25 .5 .625 .75] -> .5 + (.625-.5)/2 = .5625; B [.25 .375 .5 .75] -> .4375 -> A wins;
    # |p(A)-.5625| is .0625 for the 2nd (.5) and the 4th (.625) tree: their average
    np.testing.assert_allclose(probs(out), [[(.5 + .625) / 2, (.5 + .375) / 2, 0]], rtol=1e-15)


def test_max_averages_the_segments_at_the_maximum(load):
    out = load(classify("max")).predict(X4)
    # x=0: max A .8 (T1), B .6, C 0 -> A: T1 (.8 .2 0); x=1: C 1 (T3); x=2: C 1 (T3);
    # x=3: C 1 (T3)
    np.testing.assert_allclose(probs(out), [[.8, .2, 0], [0, 0, 1], [0, 0, 1], [0, 0, 1]],
                               rtol=1e-15)
    assert list(out["label"]) == ["A", "C", "C", "C"]


# ------------------------------------------------------------------ regression

#   R1 = 1 + 2x, R2 = 10 - x, R3 = 0.5x, R4 = 3
REGS = (reg(1, 2), reg(10, -1), reg(0, 0.5), reg(3))
VALUES = {0: [1, 10, 0, 3], 1: [3, 9, .5, 3], 2: [5, 8, 1, 3], 3: [7, 7, 1.5, 3]}
W4 = (1.0, 2.0, 3.0, 4.0)


def regress(method: str, weights=(None,) * 4, models=REGS, seg_attrs: str = "", targets: str = ""):
    segs = [segment(str(i + 1), m, weight=w) for i, (m, w) in enumerate(zip(models, weights))]
    return doc(mining("regression", method, segs, "t", seg_attrs=seg_attrs, targets=targets))


@pytest.mark.parametrize("method,weights,expected", [
    ("sum", (None,) * 4, [14, 15.5, 17, 18.5]),
    ("average", (None,) * 4, [14 / 4, 15.5 / 4, 17 / 4, 18.5 / 4]),
    # even count: the legacy 50th percentile interpolates halfway between the middle values
    ("median", (None,) * 4, [2, 3, 4, 5]),
    ("weightedSum", W4, [1 + 20 + 0 + 12, 3 + 18 + 1.5 + 12, 5 + 16 + 3 + 12, 7 + 14 + 4.5 + 12]),
    ("weightedAverage", W4, [33 / 10, 34.5 / 10, 36 / 10, 37.5 / 10]),
    # sort by value, first value whose cumulated weight reaches half the total (5):
    # x=0: 0(3) 1(1) 3(4) -> 3; x=1: .5(3) 3(1) 3(4) -> 3; x=2: 1(3) 3(4) -> 3;
    # x=3: 1.5(3) 3(4) -> 3
    ("weightedMedian", W4, [3, 3, 3, 3]),
])
def test_regression_methods(method, weights, expected, load):
    out = load(regress(method, weights)).predict(X4)
    np.testing.assert_allclose(out["t"].to_numpy(float), expected, rtol=1e-15)


def test_weighted_median_picks_by_cumulated_weight(load):
    out = load(regress("weightedMedian", (5.0, 1.0, 1.0, 1.0))).predict(X4.iloc[[0]])
    # x=0: 0(1) 1(5) 3(1) 10(1): half of 8 is 4, reached at value 1
    assert out["t"].tolist() == [1.0]


def test_median_odd_count(load):
    out = load(regress("median", (None,) * 3, REGS[:3])).predict(X4)
    np.testing.assert_allclose(out["t"].to_numpy(float), [1, 3, 5, 7], rtol=1e-15)


def test_targets_of_segments_and_of_the_mining_model(load):
    seg_target = '<Targets><Target field="t" rescaleConstant="100"/></Targets>'
    models = (reg(1, 2, targets=seg_target), reg(10, -1))
    mm_target = '<Targets><Target field="t" rescaleFactor="2" rescaleConstant="1"/></Targets>'
    out = load(regress("sum", (None,) * 2, models, targets=mm_target)).predict(X4)
    # ((1 + 2x + 100) + (10 - x)) * 2 + 1
    np.testing.assert_allclose(out["t"].to_numpy(float),
                               [(111 + x) * 2 + 1 for x in X4["x"]], rtol=1e-15)


def test_mining_model_target_default_when_no_segment_applies():
    segs = [segment("1", reg(1, 2), '<SimplePredicate field="c" operator="equal" value="a"/>')]
    t = '<Targets><Target field="t"><TargetValue defaultValue="-1"/></Target></Targets>'
    d = doc(mining("regression", "average", segs, "t", targets=t))
    out = portmodel.load(d).predict(pd.DataFrame({"x": [1.0, 1.0], "y": [0.0] * 2,
                                                  "c": ["a", "b"]}))
    assert out["t"].tolist() == [3.0, -1.0]


# ------------------------------------------------------------------ missing predictions

XM = pd.DataFrame({"x": [0.0, 3.0, 3.0], "y": [0.0, None, 0.0], "c": ["a"] * 3})


def _vote_missing(load, treatment: str, threshold: str | None = None) -> pd.DataFrame:
    attrs = f' missingPredictionTreatment="{treatment}"'
    if threshold is not None:
        attrs += f' missingThreshold="{threshold}"'
    return load(classify("majorityVote", trees=(T1, T2, T3Y), seg_attrs=attrs)).predict(XM)


def test_votes_continue_ignores_a_minority_of_missing_votes(load):
    out = _vote_missing(load, "continue")
    # row 1 (x=3, y missing): B, C, missing -> no category beats the missing vote strictly:
    # B 1, C 1, missing 1 -> B (first voted) with the fractions of the known votes
    # row 2 (x=3, y=0): B, C, B -> B
    assert out["label"].tolist() == ["A", "B", "B"]
    np.testing.assert_allclose(probs(out)[1], [0, .5, .5], rtol=1e-15)


def test_votes_return_missing(load):
    out = _vote_missing(load, "returnMissing")
    assert out["label"].tolist()[0] == "A" and isna(out["label"][1]) and out["label"][2] == "B"
    assert np.isnan(probs(out)[1]).all()


@pytest.mark.parametrize("threshold,missing", [("0.3", True), ("0.5", False)])
def test_votes_skip_segment_threshold(threshold, missing, load):
    out = _vote_missing(load, "skipSegment", threshold)
    # one of three segments missing: fraction 1/3
    assert isna(out["label"][1]) == missing
    if not missing:
        assert out["label"][1] == "B"


def test_average_continue_returns_missing_and_skip_segment_skips(load):
    cont = load(classify("average", trees=(T1, T2, T3Y))).predict(XM)
    assert isna(cont["label"][1]) and not isna(cont["label"][2])
    skip_attrs = ' missingPredictionTreatment="skipSegment"'
    skip = load(classify("average", trees=(T1, T2, T3Y), seg_attrs=skip_attrs)).predict(XM)
    np.testing.assert_allclose(probs(skip)[1], [(0 + .1) / 2, (.7 + 0) / 2, (.3 + .9) / 2])


def test_regression_missing_treatments(load):
    models = (reg(1, 2), reg(10, -1, field="y"))
    cont = load(regress("sum", (None,) * 2, models)).predict(XM)
    assert cont["t"].tolist()[0] == 11.0 and isna(cont["t"][1])
    skip_attrs = ' missingPredictionTreatment="skipSegment"'
    skip = load(regress("sum", (None,) * 2, models, seg_attrs=skip_attrs)).predict(XM)
    assert skip["t"].tolist() == [11.0, 7.0, 17.0]
    skip_t = load(regress("average", (None,) * 2, models,
                                    seg_attrs=' missingPredictionTreatment="skipSegment" '
                                              'missingThreshold="0.4"')).predict(XM)
    assert isna(skip_t["t"][1]) and skip_t["t"][2] == 8.5


# ------------------------------------------------------------------ selectFirst / selectAll

C_IS_A = '<SimplePredicate field="c" operator="equal" value="a"/>'
X_GT_2 = '<SimplePredicate field="x" operator="greaterThan" value="2"/>'
XS = pd.DataFrame({"x": [0.0, 3.0, 1.0, 3.0], "y": [0.0] * 4, "c": ["a", "b", "b", "a"]})


def test_select_first_with_predicates_and_entity_id():
    out_el = ('<Output><OutputField name="seg" feature="entityId" dataType="string"/>'
              '<OutputField name="pv" feature="predictedValue" dataType="double"/></Output>')
    segs = [segment("s1", reg(1, 2), C_IS_A), segment("s2", reg(10, -1), X_GT_2)]
    m = portmodel.load(doc(mining("regression", "selectFirst", segs, "t", out_el)))
    out = m.predict(XS)
    # (0,a) -> s1: 1; (3,b) -> s2: 7; (1,b) -> none; (3,a) -> s1 (first): 7
    assert out["t"].tolist()[:2] == [1.0, 7.0] and isna(out["t"][2]) and out["t"][3] == 7.0
    assert vals(out["seg"]) == ["s1", "s2", None, "s1"]
    segs.append(segment("s3", reg(0, 0.5)))
    out = portmodel.load(doc(mining("regression", "selectFirst", segs, "t"))).predict(XS)
    assert out["t"].tolist() == [1.0, 7.0, 0.5, 7.0]


def test_select_first_skip_segment_falls_through():
    segs = [segment("1", reg(100, 1, field="y")), segment("2", reg(1, 2))]
    attrs = ' missingPredictionTreatment="skipSegment"'
    out = portmodel.load(doc(mining("regression", "selectFirst", segs, "t", seg_attrs=attrs)))\
        .predict(XM)
    assert out["t"].tolist() == [100.0, 7.0, 100.0]
    plain = portmodel.load(doc(mining("regression", "selectFirst", segs, "t"))).predict(XM)
    assert isna(plain["t"][1])


def test_select_first_skip_segment_keeps_a_skipped_result_no_later_segment_replaces():
    out_el = '<Output><OutputField name="seg" feature="entityId" dataType="string"/></Output>'
    segs = [segment("s1", reg(100, 1, field="y")), segment("s2", reg(1, 2), X_GT_2)]
    attrs = ' missingPredictionTreatment="skipSegment"'
    d = doc(mining("regression", "selectFirst", segs, "t", out_el, seg_attrs=attrs))
    x = pd.DataFrame({"x": [0.0, 3.0, 1.0], "y": [1.0, None, None], "c": ["a"] * 3})
    out = portmodel.load(d).predict(x)
    # row 1: s1 missing -> skipped, s2 (x > 2) takes it; row 2: s1 skipped, s2 does not apply:
    # the row keeps s1's (missing) result, as the reference engine does
    assert vals(out["t"]) == [101.0, 7.0, None]
    assert vals(out["seg"]) == ["s1", "s2", "s1"]


def test_select_first_classification_keeps_segment_probabilities():
    segs = [segment("1", T1, C_IS_A), segment("2", T2)]
    out = portmodel.load(doc(mining("classification", "selectFirst", segs, "label",
                                    prob_output()))).predict(XS)
    np.testing.assert_allclose(probs(out), [[.8, .2, 0], [.1, 0, .9], [.6, .4, 0], [0, .7, .3]])
    assert out["label"].tolist() == ["A", "C", "A", "B"]


def test_select_all_gives_a_list_per_row():
    segs = [segment("1", reg(1, 2)), segment("2", reg(10, -1), X_GT_2), segment("3", reg(3))]
    out = portmodel.load(doc(mining("regression", "selectAll", segs, "t"))).predict(XS)
    assert out["t"].tolist() == [[1.0, 3.0], [7.0, 7.0, 3.0], [3.0, 3.0], [7.0, 7.0, 3.0]]
    same = [segment("1", reg(1, 2)), segment("2", reg(10, -1))]      # equal-length lists
    out = portmodel.load(doc(mining("regression", "selectAll", same, "t"))).predict(X4.iloc[:2])
    assert out["t"].tolist() == [[1.0, 10.0], [3.0, 9.0]]


def test_subset_errors_stay_with_their_rows():
    # segment 1 rejects invalid x (outside [0, 10]) but only scores rows with c == "a"; the
    # MiningModel and segment 2 take x as is
    fields = FIELDS.replace('<DataField name="x" optype="continuous" dataType="double"/>',
                            '<DataField name="x" optype="continuous" dataType="double">'
                            '<Interval closure="closedClosed" leftMargin="0" rightMargin="10"/>'
                            '</DataField>')
    strict = reg(1, 2).replace('<MiningField name="x"/>',
                               '<MiningField name="x" invalidValueTreatment="returnInvalid"/>')
    segs = [segment("1", strict, C_IS_A), segment("2", reg(10, -1))]
    text = doc(mining("regression", "selectFirst", segs, "t"), fields)
    text = text.replace('<MiningField name="x"/>',
                        '<MiningField name="x" invalidValueTreatment="asIs"/>')
    data = pd.DataFrame({"x": [-5.0, -5.0, 2.0], "y": [0.0] * 3, "c": ["b", "a", "a"]})
    out = portmodel.load(text).predict(data, errors="mark")
    assert out["t"][0] == 15.0 and isna(out["t"][1]) and out["t"][2] == 5.0
    assert isna(out["error"][0]) and "row 1" in out["error"][1] and isna(out["error"][2])


# ------------------------------------------------------------------ modelChain

CHAIN_OUT = ('<Output><OutputField name="z" optype="continuous" dataType="double" '
             'feature="predictedValue"/></Output>')


def chain_doc() -> str:
    first = reg(1, 2, target=None, output=CHAIN_OUT)
    second = ('<RegressionModel functionName="classification" normalizationMethod="logit">'
              + schema("label", '<MiningField name="z"/>')
              + '<RegressionTable intercept="0.5" targetCategory="A">'
                '<NumericPredictor name="z" coefficient="-1"/></RegressionTable>'
                '<RegressionTable intercept="0" targetCategory="B"/></RegressionModel>')
    fields = FIELDS.replace('<Value value="C"/>', "")
    out = ('<Output><OutputField name="pA" optype="continuous" dataType="double" '
           'feature="probability" value="A"/>'
           '<OutputField name="z2" optype="continuous" dataType="double" '
           'feature="transformedValue">'
           '<Apply function="*"><FieldRef field="z"/><Constant>2</Constant></Apply></OutputField>'
           "</Output>")
    return doc(mining("classification", "modelChain", [segment("1", first), segment("2", second)],
                      "label", out), fields)


def test_model_chain_feeds_outputs_forward():
    out = portmodel.load(chain_doc()).predict(X4)
    z = 1 + 2 * X4["x"].to_numpy()
    p_a = 1 / (1 + np.exp(-(0.5 - z)))
    np.testing.assert_allclose(out["pA"].to_numpy(float), p_a, rtol=1e-14)
    np.testing.assert_allclose(out["z2"].to_numpy(float), 2 * z, rtol=1e-15)
    assert out["label"].tolist() == ["A" if p > 0.5 else "B" for p in p_a]


def test_model_chain_last_segment_outputs_are_model_outputs():
    last_out = ('<Output><OutputField name="w" optype="continuous" dataType="double" '
                'feature="predictedValue"/></Output>')
    segs = [segment("1", reg(1, 2, target=None, output=CHAIN_OUT)),
            segment("2", reg(0, 3, field="z", output=last_out,
                             extra_schema='<MiningField name="z"/>'))]
    m = portmodel.load(doc(mining("regression", "modelChain", segs, "t")))
    out = m.predict(X4)
    expected = 3 * (1 + 2 * X4["x"].to_numpy())
    np.testing.assert_allclose(out["t"].to_numpy(float), expected, rtol=1e-15)
    np.testing.assert_allclose(out["w"].to_numpy(float), expected, rtol=1e-15)
    assert [f.name for f in m.outputs] == ["t", "w"]


def test_model_chain_with_predicates_ends_on_the_last_segment_that_ran():
    z_in = '<MiningField name="z"/>'
    segs = [segment("1", reg(1, 2, target=None, output=CHAIN_OUT)),
            segment("2", reg(0, 3, field="z", extra_schema=z_in), C_IS_A),
            segment("3", reg(100, 1, field="z", extra_schema=z_in), X_GT_2)]
    out = portmodel.load(doc(mining("regression", "modelChain", segs, "t"))).predict(XS)
    # z = 1 + 2x; (0,a) ends on 2: 3z; (3,b) and (3,a) end on 3: 100 + z; (1,b) ends on 1,
    # which predicts no field named t: missing, and its own output z is an output of the model
    assert vals(out["t"]) == [3.0, 107.0, None, 107.0]
    assert vals(out["z"]) == [None, None, 3.0, None]


# ------------------------------------------------------------------ nesting and segmentId


def test_nested_mining_models():
    inner_sum = mining("regression", "sum", [segment("1", reg(1, 2)), segment("2", reg(10, -1))],
                       "t")
    inner_avg = mining("regression", "average", [segment("1", reg(0, 0.5)), segment("2", reg(3))],
                       "t")
    outer = mining("regression", "selectFirst", [segment("a", inner_sum, C_IS_A),
                                                 segment("b", inner_avg)], "t")
    out = portmodel.load(doc(outer)).predict(XS)
    # (0,a): 1+10; (3,b): (1.5+3)/2; (1,b): (.5+3)/2; (3,a): 7+7
    assert out["t"].tolist() == [11.0, 2.25, 1.75, 14.0]


def test_segment_id_outputs():
    out_el = ('<Output>'
              '<OutputField name="p2" feature="predictedValue" segmentId="2" dataType="string"/>'
              '<OutputField name="pb2" feature="probability" value="B" segmentId="2" '
              'dataType="double"/>'
              '<OutputField name="p9" feature="predictedValue" segmentId="9" dataType="string"/>'
              "</Output>")
    segs = [segment("1", T1), segment("2", T3, C_IS_A)]
    out = portmodel.load(doc(mining("classification", "majorityVote", segs, "label", out_el)))\
        .predict(XS)
    # segment 2 (T3) only scores rows with c == "a": x=0 -> B (.6), x=3 -> C (0)
    assert vals(out["p2"]) == ["B", None, None, "C"]
    assert out["pb2"].tolist()[0] == 0.6 and isna(out["pb2"][1]) and out["pb2"][3] == 0.0
    assert out["p9"].isna().all()


def test_segment_id_transformed_value_reads_a_segment_output():
    seg_out = ('<Output><OutputField name="s2p" optype="continuous" dataType="double" '
               'feature="probability" value="B"/></Output>')
    t3 = T3.replace(schema("label"), schema("label") + seg_out)
    out_el = ('<Output><OutputField name="fromSeg" optype="continuous" dataType="double" '
              'feature="transformedValue" segmentId="2" value="s2p"/></Output>')
    segs = [segment("1", T1), segment("2", t3, C_IS_A)]
    out = portmodel.load(doc(mining("classification", "majorityVote", segs, "label", out_el)))\
        .predict(XS)
    # segment 2 scores rows 0 (x=0: p(B)=.6) and 3 (x=3: p(B)=0)
    assert vals(out["fromSeg"]) == [0.6, None, None, 0.0]


# ------------------------------------------------------------------ load-time checks


def test_load_time_errors():
    with pytest.raises(DocumentError):
        portmodel.load(doc(mining("regression", "majorityVote", [segment("1", reg(1))], "t")))
    with pytest.raises(UnsupportedError):
        portmodel.load(doc(mining("regression", "x-unknown", [segment("1", reg(1))], "t")))
    with pytest.raises(DocumentError):
        portmodel.load(doc(mining("regression", "sum", [segment("1", reg(1)),
                                                        segment("1", reg(2))], "t")))
    with pytest.raises(UnsupportedError):
        portmodel.load(doc(mining("regression", "modelChain", [segment("1", reg(1))], "t",
                                  seg_attrs=' missingPredictionTreatment="skipSegment"')))
    no_seg = ('<MiningModel functionName="regression">' + schema("t") + "</MiningModel>")
    with pytest.raises(DocumentError):
        portmodel.load(doc(no_seg))


# ------------------------------------------------------------------ oracle


def _agree(ours: pd.DataFrame, theirs: pd.DataFrame, cols: list[str]) -> None:
    for c in cols:
        a, b = ours[c].tolist(), theirs[c].tolist()
        assert len(a) == len(b), c
        for i, (u, v) in enumerate(zip(a, b)):
            if isna(u) or isna(v):
                assert isna(u) and isna(v), (c, i, u, v)
            elif isinstance(v, (float, int)) and not isinstance(v, bool):
                assert float(u) == pytest.approx(float(v), rel=1e-13, abs=1e-15), (c, i, u, v)
            else:
                assert str(u) == str(v), (c, i, u, v)


ORACLE_X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 0.2, 2.7, 3.0, 0.0],
                         "y": [0.0, 1.0, None, 0.0, 0.2, None, 1.0, 0.0],
                         "c": ["a", "b", "a", "b", "a", "b", "b", "a"]})
PROB_COLS = ["label", "P_A", "P_B", "P_C"]


@pytest.mark.oracle
@pytest.mark.parametrize("method", ["majorityVote", "weightedMajorityVote", "average",
                                    "weightedAverage", "median", "max"])
@pytest.mark.parametrize("treatment", ["continue", "skipSegment", "returnMissing"])
def test_classification_matches_jpmml(method, treatment, load):
    four = ctree("y", 0.1, ("C", (0.2, 0.3, 0.5)), ("A", (0.5, 0.3, 0.2)))
    d = classify(method, (0.5, 0.3, 0.2, 0.4), (T1, T2, T3Y, four),
                 f' missingPredictionTreatment="{treatment}" missingThreshold="0.6"')
    _agree(load(d).predict(ORACLE_X), jpmml_frame(d, ORACLE_X), PROB_COLS)


@pytest.mark.oracle
@pytest.mark.parametrize("method", ["sum", "weightedSum", "average", "weightedAverage", "median",
                                    "weightedMedian"])
@pytest.mark.parametrize("treatment", ["continue", "skipSegment", "returnMissing"])
def test_regression_matches_jpmml(method, treatment, load):
    models = (reg(1, 2), reg(10, -1, field="y"), reg(0, 0.5), reg(3))
    d = regress(method, W4, models, f' missingPredictionTreatment="{treatment}" '
                                    f'missingThreshold="0.3"')
    _agree(load(d).predict(ORACLE_X), jpmml_frame(d, ORACLE_X), ["t"])


@pytest.mark.oracle
def test_select_first_model_chain_and_nesting_match_jpmml():
    d = chain_doc()
    _agree(portmodel.load(d).predict(ORACLE_X), jpmml_frame(d, ORACLE_X), ["label", "pA"])
    inner = mining("regression", "weightedAverage",
                   [segment("1", reg(1, 2), weight=2), segment("2", reg(10, -1), X_GT_2)], "t")
    out_el = '<Output><OutputField name="seg" feature="entityId" dataType="string"/></Output>'
    outer = mining("regression", "selectFirst",
                   [segment("n", inner, C_IS_A), segment("r", reg(0, 0.5), X_GT_2)], "t", out_el)
    _agree(portmodel.load(doc(outer)).predict(ORACLE_X), jpmml_frame(doc(outer), ORACLE_X),
           ["t", "seg"])
    z_in = '<MiningField name="z"/>'
    chain = doc(mining("regression", "modelChain", [
        segment("1", reg(1, 2, target=None, output=CHAIN_OUT)),
        segment("2", reg(0, 3, field="z", extra_schema=z_in), C_IS_A),
        segment("3", reg(100, 1, field="z", extra_schema=z_in), X_GT_2)], "t"))
    _agree(portmodel.load(chain).predict(ORACLE_X), jpmml_frame(chain, ORACLE_X), ["t", "z"])
