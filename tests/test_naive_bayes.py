"""NaiveBayesModel scoring: a hand-written model with every kind of BayesInput (PairCounts,
discretized DerivedField, Gaussian / Poisson / uniform TargetValueStats), its probabilities worked
out by hand from the PMML 4.4 formulas; and scikit-learn's GaussianNB exported with sklearn2pmml.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.errors import UnsupportedError
from sklearn_models import JAVA_OPTS, require_exporter

THRESHOLD = 0.001

DOC = """<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
<DataDictionary>
  <DataField name="color" optype="categorical" dataType="string"/>
  <DataField name="size" optype="continuous" dataType="double"/>
  <DataField name="count" optype="continuous" dataType="integer"/>
  <DataField name="w" optype="continuous" dataType="double"/>
  <DataField name="age" optype="continuous" dataType="double"/>
  <DataField name="cls" optype="categorical" dataType="string"><Value value="yes"/><Value value="no"/></DataField>
</DataDictionary>
<NaiveBayesModel functionName="classification" threshold="{threshold}">
  <MiningSchema>
    <MiningField name="cls" usageType="target"/>
    <MiningField name="color"/><MiningField name="size"/><MiningField name="count"/>
    <MiningField name="w"/><MiningField name="age"/>
  </MiningSchema>
  <Output>
    <OutputField name="p_yes" feature="probability" value="yes"/>
    <OutputField name="p_no" feature="probability" value="no"/>
  </Output>
  <BayesInputs>
    <BayesInput fieldName="color">
      <PairCounts value="red"><TargetValueCounts><TargetValueCount value="yes" count="10"/><TargetValueCount value="no" count="20"/></TargetValueCounts></PairCounts>
      <PairCounts value="green"><TargetValueCounts><TargetValueCount value="yes" count="20"/><TargetValueCount value="no" count="0"/></TargetValueCounts></PairCounts>
      <PairCounts value="blue"><TargetValueCounts><TargetValueCount value="yes" count="0"/><TargetValueCount value="no" count="50"/></TargetValueCounts></PairCounts>
    </BayesInput>
    <BayesInput fieldName="size">
      <TargetValueStats>
        <TargetValueStat value="yes"><GaussianDistribution mean="5" variance="4"/></TargetValueStat>
        <TargetValueStat value="no"><GaussianDistribution mean="8" variance="1"/></TargetValueStat>
      </TargetValueStats>
    </BayesInput>
    <BayesInput fieldName="count">
      <TargetValueStats>
        <TargetValueStat value="yes"><PoissonDistribution mean="2"/></TargetValueStat>
        <TargetValueStat value="no"><PoissonDistribution mean="5"/></TargetValueStat>
      </TargetValueStats>
    </BayesInput>
    <BayesInput fieldName="age">
      <DerivedField name="age_band" optype="categorical" dataType="string">
        <Discretize field="age">
          <DiscretizeBin binValue="young"><Interval closure="openOpen" rightMargin="40"/></DiscretizeBin>
          <DiscretizeBin binValue="old"><Interval closure="closedOpen" leftMargin="40"/></DiscretizeBin>
        </Discretize>
      </DerivedField>
      <PairCounts value="young"><TargetValueCounts><TargetValueCount value="yes" count="12"/><TargetValueCount value="no" count="40"/></TargetValueCounts></PairCounts>
      <PairCounts value="old"><TargetValueCounts><TargetValueCount value="yes" count="18"/><TargetValueCount value="no" count="30"/></TargetValueCounts></PairCounts>
    </BayesInput>
    <Extension>
      <BayesInput fieldName="w">
        <TargetValueStats>
          <TargetValueStat value="yes"><UniformDistribution lower="0" upper="10"/></TargetValueStat>
          <TargetValueStat value="no"><UniformDistribution lower="5" upper="25"/></TargetValueStat>
        </TargetValueStats>
      </BayesInput>
    </Extension>
  </BayesInputs>
  <BayesOutput fieldName="cls">
    <TargetValueCounts><TargetValueCount value="yes" count="30"/><TargetValueCount value="no" count="70"/></TargetValueCounts>
  </BayesOutput>
</NaiveBayesModel>
</PMML>"""


def gauss(x, mean, var):
    return math.exp(-(x - mean) ** 2 / (2 * var)) / math.sqrt(2 * math.pi * var)


def poisson(k, mean):
    return mean ** k * math.exp(-mean) / math.factorial(k)


def uniform(x, lo, hi):
    return 1.0 / (hi - lo) if lo <= x <= hi else 0.0


def by_hand(row: dict, threshold: float = THRESHOLD) -> dict[str, float]:
    """P(c | x) from the specification: prior count x product of the present inputs' factors."""
    counts = {"color": {"red": (10, 20), "green": (20, 0), "blue": (0, 50)},
              "age": {"young": (12, 40), "old": (18, 30)}}
    sums = {"color": (30, 70), "age": (30, 70)}
    score = {"yes": 30.0, "no": 70.0}
    for j, c in enumerate(("yes", "no")):
        for f in ("color", "age"):
            v = row.get(f)
            if v is None:
                continue
            if f == "age":
                v = "young" if v < 40 else "old"
            if v not in counts[f]:
                continue
            n = counts[f][v][j]
            score[c] *= threshold if n == 0 else n / sums[f][j]
        dens = []
        if row.get("size") is not None:
            dens.append(gauss(row["size"], *((5, 4), (8, 1))[j]))
        if row.get("count") is not None:
            dens.append(poisson(int(row["count"]), (2, 5)[j]))
        if row.get("w") is not None:
            dens.append(uniform(row["w"], *((0, 10), (5, 25))[j]))
        for d in dens:
            score[c] *= max(d, threshold)
    total = sum(score.values())
    return {c: s / total for c, s in score.items()}


ROWS = [
    {"color": "red", "size": 6.0, "count": 3, "w": 7.0, "age": 30.0},
    {"color": "green", "size": 9.0, "count": 0, "w": 20.0, "age": 50.0},     # zero count, w outside
    {"color": "blue", "size": 100.0, "count": 40, "w": 2.0, "age": 40.0},    # densities below threshold
    {"color": "purple", "size": None, "count": None, "w": 7.5, "age": None},  # unknown value, missing
    {"color": None, "size": None, "count": None, "w": None, "age": None},    # priors only
]


def _frame(rows):
    return pd.DataFrame(rows, columns=["color", "size", "count", "w", "age"]).astype(object)


@pytest.mark.parametrize("i", range(len(ROWS)))
def test_hand_written_model(i):
    res = portmodel.load(DOC.format(threshold=THRESHOLD)).predict(_frame(ROWS[i:i + 1]))
    want = by_hand(ROWS[i])
    assert res.loc[0, "p_yes"] == pytest.approx(want["yes"], rel=1e-12, abs=1e-300)
    assert res.loc[0, "p_no"] == pytest.approx(want["no"], rel=1e-12, abs=1e-300)
    assert res.loc[0, "cls"] == max(want, key=want.get)


def test_batch_equals_rows_and_priors_only_row():
    res = portmodel.load(DOC.format(threshold=THRESHOLD)).predict(_frame(ROWS))
    for i, row in enumerate(ROWS):
        want = by_hand(row)
        assert res.loc[i, "p_yes"] == pytest.approx(want["yes"], rel=1e-12, abs=1e-300)
    assert res.loc[4, ["p_yes", "p_no"]].tolist() == pytest.approx([0.3, 0.7])


def test_zero_threshold_makes_zero_counts_impossible():
    res = portmodel.load(DOC.format(threshold=0)).predict(
        _frame([{"color": "green", "size": 6.0}, {"color": "blue", "size": 6.0}]))
    assert res["p_no"].tolist()[0] == 0.0 and res["p_yes"].tolist()[0] == 1.0
    assert res["p_yes"].tolist()[1] == 0.0 and res["cls"].tolist() == ["yes", "no"]


def test_poisson_input_must_be_a_whole_number():
    d = DOC.format(threshold=THRESHOLD).replace(
        '<DataField name="count" optype="continuous" dataType="integer"/>',
        '<DataField name="count" optype="continuous" dataType="double"/>')
    res = portmodel.load(d).predict(_frame([{"count": 2.5}, {"count": 2.0}]), errors="mark")
    assert pd.isna(res.loc[0, "cls"]) and "whole number" in str(res.loc[0, "error"])
    assert res.loc[1, "p_yes"] == pytest.approx(by_hand({"count": 2})["yes"], rel=1e-12)


def test_unknown_distribution_is_rejected_at_load():
    d = DOC.format(threshold=THRESHOLD).replace('<PoissonDistribution mean="5"/>',
                                                '<AnyDistribution mean="5" variance="1"/>')
    with pytest.raises(UnsupportedError):
        portmodel.load(d)


# ---------------------------------------------------------------- scikit-learn, via sklearn2pmml


@pytest.fixture(scope="module")
def gnb(tmp_path_factory):
    require_exporter()
    from sklearn.datasets import load_wine
    from sklearn.naive_bayes import GaussianNB
    from sklearn2pmml import sklearn2pmml
    from sklearn2pmml.pipeline import PMMLPipeline
    wine = load_wine(as_frame=True)
    X = wine.data.rename(columns=lambda c: c.replace("/", "_"))
    y = wine.target.map(lambda v: f"class{v}").rename("cultivar")
    pipe = PMMLPipeline([("nb", GaussianNB())])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, y)
        path = tmp_path_factory.mktemp("nb") / "gnb.pmml"
        sklearn2pmml(pipe, str(path), java_opts=JAVA_OPTS)
    return pipe, X, y, path


@pytest.mark.oracle
def test_gaussian_nb_matches_sklearn(gnb):
    pipe, X, y, path = gnb
    res = portmodel.load(str(path)).predict(X)
    proba = pipe.predict_proba(X)
    for j, cls in enumerate(pipe.classes_):
        np.testing.assert_allclose(res[f"probability({cls})"].to_numpy(float), proba[:, j],
                                   rtol=0, atol=1e-9)
    assert res["cultivar"].tolist() == list(pipe.predict(X))


@pytest.mark.parametrize("size", [45.0, 46.5, 47.0, 60.0])
def test_zero_threshold_density_that_underflows_counts_as_zero(size, backend):
    """With no threshold, a Gaussian density too small for a double (exp(-745) and below) is
    zero and a subnormal one keeps the few digits it has, as where the densities are multiplied
    (by_hand): "no" (mean 8, variance 1) has a normal density at 45, a subnormal one at 46.5,
    none from 47 on; "yes" keeps its own."""
    row = {"color": None, "size": size, "count": None, "w": None, "age": None}
    res = portmodel.load(DOC.format(threshold=0)).predict(_frame([row]))
    want = by_hand(row, threshold=0.0)
    assert (want["no"] == 0.0) == (size >= 47.0)
    assert res.loc[0, "p_no"] == pytest.approx(want["no"], rel=1e-9, abs=0.0)
    assert res.loc[0, "p_yes"] == pytest.approx(want["yes"], rel=1e-12)
