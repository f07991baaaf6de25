"""GeneralRegressionModel on small hand-written documents.

The shared conformance test covers the R and KNIME documents; these tests cover what that corpus
does not: every linkFunction and cumulativeLink, multinomial reference categories, offset and
trials, PPMatrix products and powers, Cox baseline hazard edge cases, and missing inputs. Expected
values are computed here from the PMML formulas with plain ``math``; the oracle tests compare
with JPMML-Evaluator.
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


def pmml(fields: str, attrs: str, mining: str, body: str, output: str = "") -> str:
    return (f'<PMML xmlns="{NS}" version="4.4"><Header/>'
            f"<DataDictionary>{fields}</DataDictionary>"
            f"<GeneralRegressionModel {attrs}><MiningSchema>{mining}</MiningSchema>"
            f"{output}{body}</GeneralRegressionModel></PMML>")


def num(name: str) -> str:
    return f'<DataField name="{name}" optype="continuous" dataType="double"/>'


def cat(name: str, values: list[str], optype: str = "categorical") -> str:
    vals = "".join(f'<Value value="{v}"/>' for v in values)
    return f'<DataField name="{name}" optype="{optype}" dataType="string">{vals}</DataField>'


def mf(*active: str, target: str | None = None) -> str:
    out = "".join(f'<MiningField name="{a}"/>' for a in active)
    if target:
        out += f'<MiningField name="{target}" usageType="target"/>'
    return out


def probs_output(target: str, values: list[str]) -> str:
    return "<Output>" + "".join(
        f'<OutputField name="P_{v}" optype="continuous" dataType="double" feature="probability" '
        f'value="{v}"/>' for v in values) + "</Output>"


def close(actual, expected, rel=1e-12):
    assert actual == pytest.approx(expected, rel=rel, abs=1e-15)


def isna(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


# ------------------------------------------------------------------ design matrix

DESIGN_BODY = """
<ParameterList><Parameter name="p0"/><Parameter name="p1"/><Parameter name="p2"/>
  <Parameter name="p3"/></ParameterList>
<FactorList><Predictor name="g"/></FactorList>
<CovariateList><Predictor name="x"/><Predictor name="z"/></CovariateList>
<PPMatrix>
  <PPCell value="b" predictorName="g" parameterName="p1"/>
  <PPCell value="2" predictorName="x" parameterName="p2"/>
  <PPCell value="c" predictorName="g" parameterName="p3"/>
  <PPCell value="1" predictorName="x" parameterName="p3"/>
  <PPCell value="1" predictorName="z" parameterName="p3"/>
</PPMatrix>
<ParamMatrix>
  <PCell parameterName="p0" beta="1.5"/><PCell parameterName="p1" beta="-2"/>
  <PCell parameterName="p2" beta="0.25"/><PCell parameterName="p3" beta="3"/>
</ParamMatrix>"""


def design_doc(model_type: str) -> str:
    return pmml(num("y") + cat("g", ["a", "b", "c"]) + num("x") + num("z"),
                f'modelType="{model_type}" functionName="regression"',
                mf("g", "x", "z", target="y"), DESIGN_BODY)


@pytest.mark.parametrize("model_type", ["regression", "generalLinear"])
def test_factor_indicator_covariate_power_and_cell_product(model_type):
    m = portmodel.load(design_doc(model_type))
    out = m.predict(pd.DataFrame({"g": ["a", "b", "c"], "x": [2.0, 3.0, -1.0],
                                  "z": [1.0, 5.0, 2.0]}))
    # p0 + p1*[g=b] + p2*x^2 + p3*[g=c]*x*z
    expected = [1.5 + 0.25 * 4, 1.5 - 2 + 0.25 * 9, 1.5 + 0.25 * 1 + 3 * (-1 * 2)]
    for a, e in zip(out["y"], expected):
        close(a, e)


def test_missing_inputs_give_missing_prediction():
    m = portmodel.load(design_doc("regression"))
    out = m.predict(pd.DataFrame({"g": ["a", None, "c", "a"], "x": [None, 1.0, 1.0, 2.0],
                                  "z": [1.0, 1.0, None, None]}), errors="mark")
    y = list(out["y"])
    assert isna(y[0])          # covariate x missing
    assert isna(y[1])          # factor g missing
    assert isna(y[2])          # z missing where its term is switched on (g = c)
    # z missing where the factor of its only term is off: the term is 0, as JPMML computes it
    close(y[3], 1.5 + 0.25 * 4)


# ------------------------------------------------------------------ link functions

LINK_BODY = """
<ParameterList><Parameter name="p0"/><Parameter name="p1"/></ParameterList>
<CovariateList><Predictor name="x"/></CovariateList>
<PPMatrix><PPCell value="1" predictorName="x" parameterName="p1"/></PPMatrix>
<ParamMatrix><PCell parameterName="p0" beta="0.3"/><PCell parameterName="p1" beta="0.4"/>
</ParamMatrix>"""

XS = [0.5, 1.0, 2.0]


def _phi(v: float) -> float:
    return 0.5 * (1.0 + math.erf(v / math.sqrt(2.0)))


LINKS = {  # name, extra attributes, mu = g^-1(eta) from the PMML table
    "cloglog": ("", lambda e: 1 - math.exp(-math.exp(e))),
    "identity": ("", lambda e: e),
    "log": ("", math.exp),
    "logc": ("", lambda e: 1 - math.exp(e)),
    "logit": ("", lambda e: 1 / (1 + math.exp(-e))),
    "loglog": ("", lambda e: math.exp(-math.exp(-e))),
    "negbin": ('distParameter="0.5"', lambda e: 1 / (0.5 * (math.exp(-e) - 1))),
    "oddspower": ('linkParameter="0.5"', lambda e: 1 / (1 + (1 + 0.5 * e) ** (-1 / 0.5))),
    "power": ('linkParameter="2"', lambda e: e ** (1 / 2)),
    "probit": ("", _phi),
    "cauchit": ("", lambda e: 0.5 + math.atan(e) / math.pi),
}
ZERO_PARAMETER = {  # linkParameter = 0 falls back to the limit forms
    "oddspower": lambda e: 1 / (1 + math.exp(-e)),
    "power": math.exp,
}


def link_doc(name: str, extra: str) -> str:
    return pmml(num("y") + num("x"),
                f'modelType="generalizedLinear" functionName="regression" linkFunction="{name}" {extra}',
                mf("x", target="y"), LINK_BODY)


@pytest.mark.parametrize("name", sorted(LINKS))
def test_link_function(name):
    extra, inv = LINKS[name]
    m = portmodel.load(link_doc(name, extra))
    out = m.predict(pd.DataFrame({"x": XS}))
    for x, a in zip(XS, out["y"]):
        close(a, inv(0.3 + 0.4 * x))


@pytest.mark.parametrize("name", sorted(ZERO_PARAMETER))
def test_link_parameter_zero(name):
    m = portmodel.load(link_doc(name, 'linkParameter="0"'))
    out = m.predict(pd.DataFrame({"x": XS}))
    for x, a in zip(XS, out["y"]):
        close(a, ZERO_PARAMETER[name](0.3 + 0.4 * x))


def test_offset_and_trials_variables():
    doc = pmml(num("y") + num("x") + num("off") + num("n"),
               'modelType="generalizedLinear" functionName="regression" linkFunction="log" '
               'offsetVariable="off" trialsVariable="n"', mf("x", "off", "n", target="y"), LINK_BODY)
    m = portmodel.load(doc)
    out = m.predict(pd.DataFrame({"x": [0.5, 1.0, 2.0], "off": [0.0, -1.0, 0.25],
                                  "n": [1.0, 3.0, 10.0]}))
    for (x, off, n), a in zip([(0.5, 0.0, 1), (1.0, -1.0, 3), (2.0, 0.25, 10)], out["y"]):
        close(a, math.exp(0.3 + 0.4 * x + off) * n)


def test_offset_and_trials_values():
    doc = pmml(num("y") + num("x"),
               'modelType="generalizedLinear" functionName="regression" linkFunction="logit" '
               'offsetValue="-0.75" trialsValue="20"', mf("x", target="y"), LINK_BODY)
    m = portmodel.load(doc)
    out = m.predict(pd.DataFrame({"x": XS}))
    for x, a in zip(XS, out["y"]):
        close(a, 20 / (1 + math.exp(-(0.3 + 0.4 * x - 0.75))))


def test_missing_offset_is_a_row_error():
    doc = pmml(num("y") + num("x") + num("off"),
               'modelType="generalizedLinear" functionName="regression" linkFunction="identity" '
               'offsetVariable="off"', mf("x", "off", target="y"), LINK_BODY)
    m = portmodel.load(doc)
    out = m.predict(pd.DataFrame({"x": [1.0, 1.0], "off": [2.0, None]}), errors="mark")
    close(out["y"][0], 0.3 + 0.4 + 2.0)
    assert isna(out["y"][1])
    assert isinstance(out["error"][1], str) and "off" in out["error"][1]
    assert isna(out["error"][0])


# ------------------------------------------------------------------ classification

def test_binomial_glm_reference_is_the_category_without_pcells():
    body = """
<ParameterList><Parameter name="p0"/><Parameter name="p1"/></ParameterList>
<CovariateList><Predictor name="x"/></CovariateList>
<PPMatrix><PPCell value="1" predictorName="x" parameterName="p1"/></PPMatrix>
<ParamMatrix><PCell targetCategory="yes" parameterName="p0" beta="-1"/>
  <PCell targetCategory="yes" parameterName="p1" beta="2"/></ParamMatrix>"""
    doc = pmml(cat("t", ["no", "yes"]) + num("x"),
               'modelType="generalizedLinear" functionName="classification" linkFunction="logit"',
               mf("x", target="t"), body, probs_output("t", ["no", "yes"]))
    out = portmodel.load(doc).predict(pd.DataFrame({"x": [0.0, 1.0]}))
    for i, x in enumerate([0.0, 1.0]):
        p = 1 / (1 + math.exp(-(-1 + 2 * x)))
        close(out["P_yes"][i], p)
        close(out["P_no"][i], 1 - p)
    assert list(out["t"]) == ["no", "yes"]


MULTI_BODY = """
<ParameterList><Parameter name="p0"/><Parameter name="p1"/></ParameterList>
<CovariateList><Predictor name="x"/></CovariateList>
<PPMatrix><PPCell value="1" predictorName="x" parameterName="p1"/></PPMatrix>
<ParamMatrix>
  <PCell targetCategory="b" parameterName="p0" beta="0.2"/>
  <PCell targetCategory="b" parameterName="p1" beta="0.5"/>
  <PCell targetCategory="c" parameterName="p0" beta="-0.3"/>
  <PCell targetCategory="c" parameterName="p1" beta="1.0"/>
</ParamMatrix>"""


@pytest.mark.parametrize("reference", ['targetReferenceCategory="a"', ""])
def test_multinomial_reference_category_scores_zero(reference):
    doc = pmml(cat("t", ["a", "b", "c"]) + num("x"),
               f'modelType="multinomialLogistic" functionName="classification" {reference}',
               mf("x", target="t"), MULTI_BODY, probs_output("t", ["a", "b", "c"]))
    xs = [-3.0, 0.0, 2.0]
    out = portmodel.load(doc).predict(pd.DataFrame({"x": xs}))
    for i, x in enumerate(xs):
        eb, ec = math.exp(0.2 + 0.5 * x), math.exp(-0.3 + 1.0 * x)
        s = 1 + eb + ec
        close(out["P_a"][i], 1 / s)
        close(out["P_b"][i], eb / s)
        close(out["P_c"][i], ec / s)
    assert list(out["t"]) == ["a", "b", "c"]


def test_multinomial_missing_input():
    doc = pmml(cat("t", ["a", "b", "c"]) + num("x"),
               'modelType="multinomialLogistic" functionName="classification"',
               mf("x", target="t"), MULTI_BODY, probs_output("t", ["a", "b", "c"]))
    out = portmodel.load(doc).predict(pd.DataFrame({"x": [None, 2.0]}), errors="mark")
    assert isna(out["t"][0]) and isna(out["P_a"][0]) and isna(out["P_c"][0])
    assert out["t"][1] == "c"


def test_per_category_ppmatrix():
    """PPCells with a targetCategory replace the shared PPMatrix for that category."""
    body = """
<ParameterList><Parameter name="p0"/><Parameter name="p1"/></ParameterList>
<CovariateList><Predictor name="x"/><Predictor name="z"/></CovariateList>
<PPMatrix><PPCell value="1" predictorName="x" parameterName="p1"/>
  <PPCell value="1" predictorName="z" parameterName="p1" targetCategory="c"/></PPMatrix>
<ParamMatrix>
  <PCell targetCategory="b" parameterName="p0" beta="0.2"/>
  <PCell targetCategory="b" parameterName="p1" beta="0.5"/>
  <PCell targetCategory="c" parameterName="p0" beta="-0.3"/>
  <PCell targetCategory="c" parameterName="p1" beta="1.0"/>
</ParamMatrix>"""
    doc = pmml(cat("t", ["a", "b", "c"]) + num("x") + num("z"),
               'modelType="multinomialLogistic" functionName="classification"',
               mf("x", "z", target="t"), body, probs_output("t", ["a", "b", "c"]))
    out = portmodel.load(doc).predict(pd.DataFrame({"x": [1.0], "z": [2.0]}))
    eb, ec = math.exp(0.2 + 0.5 * 1.0), math.exp(-0.3 + 1.0 * 2.0)
    close(out["P_c"][0], ec / (1 + eb + ec))


ORDINAL_BODY = """
<ParameterList><Parameter name="p0"/><Parameter name="p1"/></ParameterList>
<CovariateList><Predictor name="x"/></CovariateList>
<PPMatrix><PPCell value="1" predictorName="x" parameterName="p1"/></PPMatrix>
<ParamMatrix>
  <PCell targetCategory="lo" parameterName="p0" beta="-0.5"/>
  <PCell targetCategory="mid" parameterName="p0" beta="1.0"/>
  <PCell parameterName="p1" beta="0.8"/>
</ParamMatrix>"""

CUMULATIVE = {
    "logit": lambda e: 1 / (1 + math.exp(-e)),
    "probit": _phi,
    "cloglog": lambda e: 1 - math.exp(-math.exp(e)),
    "loglog": lambda e: math.exp(-math.exp(-e)),
    "cauchit": lambda e: 0.5 + math.atan(e) / math.pi,
}


def ordinal_doc(name: str, extra: str = "") -> str:
    return pmml(cat("t", ["lo", "mid", "hi"], "ordinal") + num("x"),
                f'modelType="ordinalMultinomial" functionName="classification" '
                f'cumulativeLink="{name}" {extra}',
                mf("x", target="t"), ORDINAL_BODY, probs_output("t", ["lo", "mid", "hi"]))


@pytest.mark.parametrize("name", sorted(CUMULATIVE))
def test_cumulative_link(name):
    F = CUMULATIVE[name]
    xs = [-2.0, 0.0, 1.5]
    out = portmodel.load(ordinal_doc(name)).predict(pd.DataFrame({"x": xs}))
    for i, x in enumerate(xs):
        c_lo, c_mid = F(-0.5 + 0.8 * x), F(1.0 + 0.8 * x)
        close(out["P_lo"][i], c_lo)
        close(out["P_mid"][i], c_mid - c_lo)
        close(out["P_hi"][i], 1 - c_mid)
        best = max(zip([c_lo, c_mid - c_lo, 1 - c_mid], ["lo", "mid", "hi"]))[1]
        assert out["t"][i] == best


def test_ordinal_offset_value():
    out = portmodel.load(ordinal_doc("logit", 'offsetValue="0.25"')).predict(
        pd.DataFrame({"x": [1.0]}))
    c_lo = 1 / (1 + math.exp(-(-0.5 + 0.8 + 0.25)))
    close(out["P_lo"][0], c_lo)


# ------------------------------------------------------------------ Cox regression

COX_FIELDS = num("h") + num("x") + num("t") + cat("grp", ["A", "B"])
COX_PARAMS = """
<ParameterList><Parameter name="p1" referencePoint="2.0"/></ParameterList>
<CovariateList><Predictor name="x"/></CovariateList>
<PPMatrix><PPCell value="1" predictorName="x" parameterName="p1"/></PPMatrix>
<ParamMatrix><PCell parameterName="p1" beta="0.5"/></ParamMatrix>"""
COX_STRATA = """
<BaseCumHazardTables>
  <BaselineStratum value="A" maxTime="100">
    <BaselineCell time="30" cumHazard="0.3"/>
    <BaselineCell time="10" cumHazard="0.1"/>
    <BaselineCell time="50" cumHazard="0.6"/>
  </BaselineStratum>
  <BaselineStratum value="B" maxTime="40">
    <BaselineCell time="5" cumHazard="0.05"/>
    <BaselineCell time="20" cumHazard="0.4"/>
  </BaselineStratum>
</BaseCumHazardTables>"""


def test_cox_strata():
    doc = pmml(COX_FIELDS, 'modelType="CoxRegression" functionName="regression" '
                           'endTimeVariable="t" baselineStrataVariable="grp"',
               mf("x", "t", "grp", target="h"), COX_PARAMS + COX_STRATA)
    rows = pd.DataFrame({
        "grp": ["A", "A", "A", "A", "A", "B", "B", "B"],
        "t": [35.0, 10.0, 5.0, 80.0, 101.0, 19.0, 41.0, 3.0],
        "x": [3.0, 1.0, 4.0, 2.0, 2.0, 0.0, 1.0, None],
    })
    out = portmodel.load(doc).predict(rows, errors="mark")
    h = list(out["h"])
    r = lambda x: math.exp(0.5 * x - 0.5 * 2.0)  # noqa: E731
    close(h[0], 0.3 * r(3.0))     # largest cell time <= 35 is 30 (cells are out of order)
    close(h[1], 0.1 * r(1.0))     # exactly on a cell time
    assert h[2] == 0.0            # before the first cell: no hazard yet
    close(h[3], 0.6 * r(2.0))     # after the last cell but within maxTime
    assert isna(h[4])             # beyond maxTime
    close(h[5], 0.05 * r(0.0))
    assert isna(h[6])             # beyond stratum B's maxTime
    assert h[7] == 0.0            # before the first cell, whatever the covariates


def test_cox_unknown_stratum_and_missing_covariate():
    doc = pmml(COX_FIELDS.replace('<Value value="B"/>', '<Value value="B"/><Value value="C"/>'),
               'modelType="CoxRegression" functionName="regression" '
               'endTimeVariable="t" baselineStrataVariable="grp"',
               mf("x", "t", "grp", target="h"), COX_PARAMS + COX_STRATA)
    out = portmodel.load(doc).predict(
        pd.DataFrame({"grp": ["C", "A"], "t": [20.0, 20.0], "x": [1.0, None]}), errors="mark")
    assert isna(out["h"][0]) and isna(out["h"][1])


def test_cox_without_strata():
    tables = """<BaseCumHazardTables maxTime="60">
      <BaselineCell time="10" cumHazard="0.2"/><BaselineCell time="40" cumHazard="0.9"/>
    </BaseCumHazardTables>"""
    doc = pmml(num("h") + num("x") + num("t"),
               'modelType="CoxRegression" functionName="regression" endTimeVariable="t"',
               mf("x", "t", target="h"), COX_PARAMS + tables)
    out = portmodel.load(doc).predict(pd.DataFrame({"t": [15.0, 60.0, 61.0], "x": [2.0, 4.0, 1.0]}))
    close(out["h"][0], 0.2)
    close(out["h"][1], 0.9 * math.exp(0.5 * (4.0 - 2.0)))
    assert isna(out["h"][2])


# ------------------------------------------------------------------ load-time checks

@pytest.mark.parametrize("attrs,error", [
    ('modelType="generalizedLinear" functionName="regression"', DocumentError),
    ('modelType="generalizedLinear" functionName="regression" linkFunction="negbin"',
     DocumentError),
    ('modelType="generalizedLinear" functionName="regression" linkFunction="power"',
     DocumentError),
    ('modelType="generalizedLinear" functionName="regression" linkFunction="sqrt"',
     UnsupportedError),
    ('modelType="loglinear" functionName="regression"', UnsupportedError),
    ('modelType="multinomialLogistic" functionName="regression"', DocumentError),
])
def test_bad_documents_fail_at_load(attrs, error):
    with pytest.raises(error):
        portmodel.load(pmml(num("y") + num("x"), attrs, mf("x", target="y"), LINK_BODY))


def test_unknown_ppcell_predictor_fails_at_load():
    body = LINK_BODY.replace('<CovariateList><Predictor name="x"/></CovariateList>', "")
    with pytest.raises(DocumentError):
        portmodel.load(pmml(num("y") + num("x"), 'modelType="regression" functionName="regression"',
                            mf("x", target="y"), body))


# ------------------------------------------------------------------ reference engine

def _same(ours: pd.DataFrame, theirs: pd.DataFrame, cols: list[str]) -> None:
    for c in cols:
        a = np.asarray(ours[c], float)
        b = np.asarray(theirs[c], float)
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15, err_msg=c)


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(set(LINKS) - {"cauchit"}))
def test_links_match_jpmml(name):
    doc = link_doc(name, LINKS[name][0])
    df = pd.DataFrame({"x": [-0.7, 0.5, 1.0, 2.0, 3.5]})
    _same(portmodel.load(doc).predict(df), jpmml_frame(doc, df), ["y"])


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(CUMULATIVE))
def test_ordinal_matches_jpmml(name):
    doc = ordinal_doc(name)
    df = pd.DataFrame({"x": [-4.0, -2.0, 0.0, 1.5, 3.0]})
    _same(portmodel.load(doc).predict(df), jpmml_frame(doc, df), ["P_lo", "P_mid", "P_hi"])


CONTRAST_BODY = """
<ParameterList><Parameter name="p0"/><Parameter name="p1"/><Parameter name="p2"/>
  <Parameter name="p3"/></ParameterList>
<FactorList><Predictor name="g" contrastMatrixType="deviation">
  <Categories><Category value="a"/><Category value="b"/><Category value="c"/></Categories>
  <Matrix><Array n="2" type="real">1 0</Array><Array n="2" type="real">0 1</Array>
    <Array n="2" type="real">-1 -1</Array></Matrix>
</Predictor></FactorList>
<CovariateList><Predictor name="x"/></CovariateList>
<PPMatrix>
  <PPCell value="a" predictorName="g" parameterName="p1"/>
  <PPCell value="b" predictorName="g" parameterName="p2"/>
  <PPCell value="b" predictorName="g" parameterName="p3"/>
  <PPCell value="1" predictorName="x" parameterName="p3"/>
</PPMatrix>
<ParamMatrix>
  <PCell parameterName="p0" beta="10"/><PCell parameterName="p1" beta="1"/>
  <PCell parameterName="p2" beta="2"/><PCell parameterName="p3" beta="0.5"/>
</ParamMatrix>"""


def test_contrast_matrix():
    doc = pmml(num("y") + cat("g", ["a", "b", "c"]) + num("x"),
               'modelType="generalLinear" functionName="regression"',
               mf("g", "x", target="y"), CONTRAST_BODY)
    out = portmodel.load(doc).predict(pd.DataFrame({"g": ["a", "b", "c"], "x": [3.0, 3.0, 3.0]}))
    # row = the input's category, column = the PPCell's category: a -> (1, 0), b -> (0, 1),
    # c -> (-1, -1); p3 multiplies the b column by x
    close(out["y"][0], 10 + 1 * 1)
    close(out["y"][1], 10 + 2 * 1 + 0.5 * 3.0)
    close(out["y"][2], 10 - 1 - 2 - 0.5 * 3.0)


@pytest.mark.oracle
def test_contrast_matrix_matches_jpmml():
    doc = pmml(num("y") + cat("g", ["a", "b", "c"]) + num("x"),
               'modelType="generalLinear" functionName="regression"',
               mf("g", "x", target="y"), CONTRAST_BODY)
    df = pd.DataFrame({"g": ["a", "b", "c", "b"], "x": [3.0, -1.0, 2.0, 0.5]})
    _same(portmodel.load(doc).predict(df), jpmml_frame(doc, df), ["y"])


@pytest.mark.oracle
def test_cox_matches_jpmml():
    doc = pmml(COX_FIELDS, 'modelType="CoxRegression" functionName="regression" '
                           'endTimeVariable="t" baselineStrataVariable="grp"',
               mf("x", "t", "grp", target="h"), COX_PARAMS + COX_STRATA)
    df = pd.DataFrame({"grp": ["A", "A", "A", "B", "B"], "t": [35.0, 10.0, 80.0, 19.0, 41.0],
                       "x": [3.0, 1.0, 2.0, 0.0, 1.0]})
    ours = portmodel.load(doc).predict(df)
    theirs = jpmml_frame(doc, df)
    a, b = np.asarray(ours["h"], float), np.asarray(theirs["h"], float)
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


@pytest.mark.oracle
def test_missing_inputs_match_jpmml():
    doc = design_doc("regression")
    df = pd.DataFrame({"g": ["a", None, "c", "a", "b"], "x": [None, 1.0, 1.0, 2.0, 1.5],
                       "z": [1.0, 1.0, None, None, None]})
    ours = portmodel.load(doc).predict(df, errors="mark")
    theirs = jpmml_frame(doc, df)
    np.testing.assert_allclose(np.asarray(ours["y"], float), np.asarray(theirs["y"], float),
                               rtol=1e-13, atol=1e-15)


def test_field_naming_model_attributes_are_references_and_inputs():
    """offsetVariable and trialsVariable name fields: the typed model reports them
    (``Model.fields``), and a supplementary MiningField they name is a required input (the
    model reads it), while an unnamed supplementary one is not."""
    mining = ('<MiningField name="x"/><MiningField name="off" usageType="supplementary"/>'
              '<MiningField name="n" usageType="supplementary"/>'
              '<MiningField name="note" usageType="supplementary"/>'
              '<MiningField name="y" usageType="target"/>')
    doc = pmml(num("y") + num("x") + num("off") + num("n") + num("note"),
               'modelType="generalizedLinear" functionName="regression" linkFunction="log" '
               'offsetVariable="off" trialsVariable="n"', mining, LINK_BODY)
    m = portmodel.load(doc)
    assert set(m.document.model.fields()) == {"off", "n"}
    assert [f.name for f in m.inputs] == ["x", "off", "n"]
    out = m.predict(pd.DataFrame({"x": [1.0], "off": [-1.0], "n": [3.0]}))
    close(out["y"][0], math.exp(0.3 + 0.4 - 1.0) * 3)
