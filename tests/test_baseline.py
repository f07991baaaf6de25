"""BaselineModel: every test statistic checked against values worked out by hand (or by a plain
loop over the spec's formulas written here), starting with the spec's CUSUM example
(Example 1 of the PMML 4.4 BaselineModel page)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.errors import DocumentError, UnsupportedError


def doc(test: str, baseline: str, alternate: str = "", field: str = "x",
        dtype: str = "double", extra_fields: str = "") -> str:
    optype = "continuous" if dtype != "string" else "categorical"
    alt = f"<Alternate>{alternate}</Alternate>" if alternate else ""
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary>
  <DataField name="{field}" optype="{optype}" dataType="{dtype}"/>
  <DataField name="w" optype="continuous" dataType="double"/>
  <DataField name="score" optype="continuous" dataType="double"/>
  {extra_fields}
</DataDictionary>
<BaselineModel modelName="m" functionName="regression">
  <MiningSchema><MiningField name="{field}"/><MiningField name="w"/>
    <MiningField name="score" usageType="target"/></MiningSchema>
  <TestDistributions field="{field}" {test}>
    <Baseline>{baseline}</Baseline>{alt}
  </TestDistributions>
</BaselineModel></PMML>"""


def score(document: str, **columns) -> np.ndarray:
    n = len(next(iter(columns.values())))
    columns.setdefault("w", [1.0] * n)
    return portmodel.load(document).predict(pd.DataFrame(columns))["score"].to_numpy(float)


def gauss_logpdf(x: float, mean: float, var: float) -> float:
    return -0.5 * math.log(2 * math.pi * var) - (x - mean) ** 2 / (2 * var)


def cusum_loop(g: list[float], reset: float, window: int = 0) -> list[float]:
    out = []
    for i in range(len(g)):
        z = 0.0                                            # Z[-1] = 0
        for k in range(0 if window <= 0 else max(0, i - window + 1), i + 1):
            z = max(reset, z + g[k])                       # Z[n] = max{r, Z[n-1] + g(x[n])}
        out.append(z)
    return out


SPEC_BASE = '<GaussianDistribution mean="550.2" variance="48.2"/>'
SPEC_ALT = '<GaussianDistribution mean="460.4" variance="39.2"/>'
STREAM = [551.0, 545.0, 470.0, 462.0, 540.0, 455.0, 458.0, 560.0, 549.0, 452.0]


def g_spec(x: float) -> float:
    return gauss_logpdf(x, 460.4, 39.2) - gauss_logpdf(x, 550.2, 48.2)


def test_cusum_spec_example():
    got = score(doc('testStatistic="CUSUM" resetValue="0.0"', SPEC_BASE, SPEC_ALT), x=STREAM)
    np.testing.assert_allclose(got, cusum_loop([g_spec(x) for x in STREAM], 0.0), rtol=1e-12)
    assert got[0] == 0.0 and got[2] > 0.0       # normal, then a shift to the alternate


@pytest.mark.parametrize("reset, window", [(-3.0, 0), (5.0, 0), (0.0, 3), (-1.5, 4)])
def test_cusum_reset_and_window(reset, window):
    got = score(doc(f'testStatistic="CUSUM" resetValue="{reset}" windowSize="{window}"',
                    SPEC_BASE, SPEC_ALT), x=STREAM)
    np.testing.assert_allclose(got, cusum_loop([g_spec(x) for x in STREAM], reset, window),
                               rtol=1e-12, atol=1e-9)


def test_cusum_missing_rows_are_not_events():
    xs = [470.0, None, 462.0, 551.0, None]
    got = score(doc('testStatistic="CUSUM"', SPEC_BASE, SPEC_ALT), x=xs)
    expect = cusum_loop([g_spec(470.0), g_spec(462.0), g_spec(551.0)], 0.0)
    np.testing.assert_allclose(got[[0, 2, 3]], expect, rtol=1e-12)
    assert np.isnan(got[1]) and np.isnan(got[4])


def test_cusum_poisson():
    # g(k) = log(6^k e^-6 / k!) - log(2^k e^-2 / k!) = k log 3 - 4
    counts = [1.0, 5.0, 7.0, 0.0, 9.0]
    got = score(doc('testStatistic="CUSUM"', '<PoissonDistribution mean="2"/>',
                    '<PoissonDistribution mean="6"/>'), x=counts)
    np.testing.assert_allclose(got, cusum_loop([k * math.log(3) - 4 for k in counts], 0.0),
                               rtol=1e-12)


def test_cusum_uniform_outside_the_baseline_is_infinite():
    got = score(doc('testStatistic="CUSUM"', '<UniformDistribution lower="0" upper="10"/>',
                    '<UniformDistribution lower="0" upper="20"/>'), x=[5.0, 15.0, 5.0])
    # inside both: log(1/20) - log(1/10) = -log 2 -> reset to 0; outside [0, 10]: +inf, stays
    assert got[0] == 0.0 and math.isinf(got[1]) and math.isinf(got[2])


@pytest.mark.parametrize("baseline, x, expected", [
    ('<GaussianDistribution mean="10" variance="4"/>', [14.0, 7.0], [2.0, -1.5]),
    ('<AnyDistribution mean="1" variance="0.25"/>', [2.0], [2.0]),
    ('<PoissonDistribution mean="9"/>', [3.0], [-2.0]),                    # sd = 3
    ('<UniformDistribution lower="0" upper="12"/>', [9.0], [3.0 / math.sqrt(12.0)]),
])
def test_z_value(baseline, x, expected):
    np.testing.assert_allclose(score(doc('testStatistic="zValue"', baseline), x=x), expected,
                               rtol=1e-12)


TABLE = """<CountTable>
  <FieldValueCount field="x" value="a" count="50"/>
  <FieldValueCount field="x" value="b" count="30"/>
  <FieldValueCount field="x" value="c" count="20"/>
</CountTable>"""


def chi2(observed: dict[str, float]) -> float:
    """Pearson's statistic against p = (0.5, 0.3, 0.2), by hand."""
    p = {"a": 0.5, "b": 0.3, "c": 0.2}
    n = sum(observed.values())
    if any(k not in p and v > 0 for k, v in observed.items()):
        return math.inf
    return sum((observed.get(k, 0.0) - n * q) ** 2 / (n * q) for k, q in p.items())


def test_chi_square_distribution():
    xs = ["a", "b", "b", None, "c", "a"]
    got = score(doc('testStatistic="chiSquareDistribution"', TABLE, dtype="string"), x=xs)
    expected = [chi2({"a": 1}), chi2({"a": 1, "b": 1}), chi2({"a": 1, "b": 2}),
                chi2({"a": 1, "b": 2}),                 # a missing value adds nothing
                chi2({"a": 1, "b": 2, "c": 1}), chi2({"a": 2, "b": 2, "c": 1})]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert expected[0] == pytest.approx(1.0)            # (1 - .5)^2/.5 + .3 + .2


def test_chi_square_distribution_window_and_weights():
    xs = ["a", "b", "c", "c", "a"]
    ws = [1.0, 2.0, 1.0, 3.0, 0.5]
    got = score(doc('testStatistic="chiSquareDistribution" windowSize="2" weightField="w"',
                    TABLE, dtype="string"), x=xs, w=ws)
    expected = [chi2({"a": 1}), chi2({"a": 1, "b": 2}), chi2({"b": 2, "c": 1}),
                chi2({"c": 4}), chi2({"c": 3, "a": 0.5})]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_chi_square_distribution_unknown_value_is_infinite():
    got = score(doc('testStatistic="chiSquareDistribution"', TABLE, dtype="string"),
                x=["a", "zzz", "a"])
    assert got[0] == pytest.approx(1.0) and math.isinf(got[1]) and math.isinf(got[2])


@pytest.mark.parametrize("scheme, f", [
    ("", lambda dot, b2, o2: dot),
    ('normalizationScheme="Independent"', lambda dot, b2, o2: dot / math.sqrt(b2 * o2)),
    ('normalizationScheme="SizeWeighted"', lambda dot, b2, o2: 2 * dot / (b2 + o2)),
])
def test_scalar_product(scheme, f):
    xs = ["a", "c", "c", "d"]
    got = score(doc(f'testStatistic="scalarProduct" {scheme}', TABLE, dtype="string"), x=xs)
    b2 = 50 ** 2 + 30 ** 2 + 20 ** 2
    # observed histograms: {a:1}, {a:1,c:1}, {a:1,c:2}, {a:1,c:2,d:1}
    expected = [f(50, b2, 1), f(50 + 20, b2, 2), f(50 + 40, b2, 5), f(50 + 40, b2, 6)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_chi_square_independence():
    table = """<CountTable>
      <FieldValue field="x" value="u"><FieldValueCount field="y" value="p" count="10"/>
        <FieldValueCount field="y" value="q" count="20"/></FieldValue>
      <FieldValue field="x" value="v"><FieldValueCount field="y" value="p" count="30"/>
        <FieldValueCount field="y" value="q" count="40"/></FieldValue>
    </CountTable>"""
    d = doc('testStatistic="chiSquareIndependence"', table, dtype="string",
            extra_fields='<DataField name="y" optype="categorical" dataType="string"/>')
    got = score(d, x=["u", "v", None])
    # N = 100, rows 30/70, columns 40/60: expected 12 18 28 42, each cell off by 2
    expected = 4 / 12 + 4 / 18 + 4 / 28 + 4 / 42
    np.testing.assert_allclose(got, [expected] * 3, rtol=1e-12)


def test_normalized_count_table_uses_proportions():
    table = TABLE.replace("CountTable", "NormalizedCountTable").replace('count="50"', 'count="0.5"') \
        .replace('count="30"', 'count="0.3"').replace('count="20"', 'count="0.2"')
    got = score(doc('testStatistic="chiSquareDistribution"', table, dtype="string"),
                x=["b", "b"])
    np.testing.assert_allclose(got, [chi2({"b": 1}), chi2({"b": 2})], rtol=1e-12)


@pytest.mark.parametrize("test, baseline, alternate, error", [
    ('testStatistic="CUSUM"', SPEC_BASE, "", DocumentError),
    ('testStatistic="CUSUM"', '<AnyDistribution mean="0" variance="1"/>', SPEC_ALT, UnsupportedError),
    ('testStatistic="GLR"', SPEC_BASE, "", UnsupportedError),
    ('testStatistic="zValue"', '<FieldRef field="x"/><FieldRef field="w"/>', "", UnsupportedError),
    ('testStatistic="zValue"', TABLE, "", DocumentError),
    ('testStatistic="zValue"', '<GaussianDistribution mean="0" variance="-1"/>', "", DocumentError),
    ('testStatistic="scalarProduct" normalizationScheme="Other"', TABLE, "", UnsupportedError),
])
def test_load_errors(test, baseline, alternate, error):
    with pytest.raises(error):
        portmodel.load(doc(test, baseline, alternate, dtype="string" if "Table" in baseline
                           else "double"))
