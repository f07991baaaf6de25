"""TimeSeriesModel: ExponentialSmoothing forecasts for every supported trend and seasonality
worked out by hand from Gardner's forecast equations, StateSpaceModel forecasts by hand and
against JPMML-Evaluator, horizons read from the supplementary field, and the algorithms that
are refused at load."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.errors import DocumentError, UnsupportedError
from reference_engines import jpmml_frame


def doc(algorithm: str, best: str = "ExponentialSmoothing", horizon: bool = True) -> str:
    h_field = '<DataField name="h" optype="continuous" dataType="integer"/>' if horizon else ""
    h_mining = '<MiningField name="h" usageType="supplementary"/>' if horizon else ""
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary>
  <DataField name="sales" optype="continuous" dataType="double"/>{h_field}
</DataDictionary>
<TimeSeriesModel functionName="timeSeries" bestFit="{best}">
  <MiningSchema><MiningField name="sales" usageType="target"/>{h_mining}</MiningSchema>
  <TimeSeries usage="original" startTime="1" endTime="3">
    <TimeValue index="1" value="10"/><TimeValue index="2" value="11"/><TimeValue index="3" value="12"/>
  </TimeSeries>
  {algorithm}
</TimeSeriesModel></PMML>"""


def forecast(document: str, hs) -> np.ndarray:
    return portmodel.load(document).predict(pd.DataFrame({"h": hs}))["sales"].to_numpy(float)


def es(trend: str = "", season: str = "", attrs: str = "") -> str:
    return (f'<ExponentialSmoothing {attrs}><Level alpha="0.3" smoothedValue="100"/>'
            f"{trend}{season}</ExponentialSmoothing>")


H = [1, 2, 3, 4, 5]


def test_level_only():
    np.testing.assert_allclose(forecast(doc(es()), H), [100.0] * 5)


def test_no_horizon_field_means_one_step():
    got = portmodel.load(doc(es('<Trend_ExpoSmooth trend="additive" gamma="0.1" smoothedValue="2"/>'),
                             horizon=False)).predict(pd.DataFrame(index=range(2)))
    np.testing.assert_allclose(got["sales"], [102.0, 102.0])


@pytest.mark.parametrize("trend, expected", [
    ('trend="additive" smoothedValue="2"', [102, 104, 106, 108, 110]),
    # S + (phi + phi^2 + ... + phi^h) T with phi = 0.5
    ('trend="damped_additive" phi="0.5" smoothedValue="8"', [104, 106, 107, 107.5, 107.75]),
    ('trend="multiplicative" smoothedValue="1.1"', [110, 121, 133.1, 146.41, 161.051]),
    # S T^(phi + ... + phi^h): exponents 0.5, 0.75, 0.875, ...
    ('trend="damped_multiplicative" phi="0.5" smoothedValue="4"',
     [200, 100 * 4 ** 0.75, 100 * 4 ** 0.875, 100 * 4 ** 0.9375, 100 * 4 ** 0.96875]),
])
def test_trends(trend, expected):
    got = forecast(doc(es(f'<Trend_ExpoSmooth {trend} gamma="0.2"/>')), H)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_damped_with_phi_one_is_linear():
    got = forecast(doc(es('<Trend_ExpoSmooth trend="damped_additive" phi="1" smoothedValue="3"/>')), H)
    np.testing.assert_allclose(got, [103, 106, 109, 112, 115])


SEASON = '<Seasonality_ExpoSmooth type="{kind}" period="3" delta="0.1" {phase}><Array n="3" type="real">{values}</Array></Seasonality_ExpoSmooth>'


@pytest.mark.parametrize("kind, values, phase, expected", [
    # the last observation sits at position 3 (default phase = period): h = 1 uses position 1
    ("additive", "-5 0 5", "", [97, 104, 111, 103, 110]),
    ("multiplicative", "0.5 1 2", "", [51, 104, 212, 54, 110]),
    # phase 2: the last observation is at position 2, so h = 1 uses position 3
    ("additive", "-5 0 5", 'phase="2"', [107, 99, 106, 113, 105]),
])
def test_seasonality_with_additive_trend(kind, values, phase, expected):
    season = SEASON.format(kind=kind, values=values, phase=phase)
    got = forecast(doc(es('<Trend_ExpoSmooth trend="additive" smoothedValue="2"/>', season)), H)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_seasonality_with_multiplicative_trend():
    season = SEASON.format(kind="additive", values="1 2 3", phase="")
    got = forecast(doc(es('<Trend_ExpoSmooth trend="multiplicative" smoothedValue="2"/>', season)),
                   [1, 2, 4])
    np.testing.assert_allclose(got, [201, 402, 1601])


@pytest.mark.parametrize("transformation, f", [("logarithmic", math.exp),
                                               ("squareroot", lambda v: v * v)])
def test_transformation(transformation, f):
    algorithm = ('<ExponentialSmoothing transformation="%s"><Level smoothedValue="2"/>'
                 '<Trend_ExpoSmooth trend="additive" smoothedValue="0.5"/></ExponentialSmoothing>'
                 % transformation)
    np.testing.assert_allclose(forecast(doc(algorithm), [1, 2]), [f(2.5), f(3.0)], rtol=1e-12)


def test_horizon_errors_and_missing():
    out = portmodel.load(doc(es())).predict(pd.DataFrame({"h": [1, 0, None, 2]}), errors="mark")
    assert out["sales"].iloc[0] == 100.0 and out["sales"].iloc[3] == 100.0
    assert pd.isna(out["sales"].iloc[1]) and pd.isna(out["sales"].iloc[2])
    assert pd.notna(out["error"].iloc[1]) and pd.isna(out["error"].iloc[2])


STATE_SPACE = """<StateSpaceModel intercept="0.5">
  <StateVector><Array type="real" n="2">1 2</Array></StateVector>
  <TransitionMatrix><Matrix nbRows="2" nbCols="2"><Array type="real">1 1</Array><Array type="real">0 0.5</Array></Matrix></TransitionMatrix>
  <MeasurementMatrix><Matrix nbRows="1" nbCols="2"><Array type="real">1 3</Array></Matrix></MeasurementMatrix>
</StateSpaceModel>"""


def test_state_space_by_hand():
    # x1 = (1, 2): 1 + 6 + .5;  T x1 = (3, 1): 3 + 3 + .5;  T^2 x1 = (4, .5): 4 + 1.5 + .5
    np.testing.assert_allclose(forecast(doc(STATE_SPACE, "StateSpaceModel"), [1, 2, 3]),
                               [7.5, 6.5, 6.0])


@pytest.mark.oracle
def test_state_space_against_jpmml():
    text = doc(STATE_SPACE, "StateSpaceModel")
    data = pd.DataFrame({"h": [1, 1]})
    ref = jpmml_frame(text, data)
    # the reference reports the first step of its forecast series
    np.testing.assert_allclose(forecast(text, [1, 1]), ref["sales"], rtol=1e-12)


@pytest.mark.parametrize("best, algorithm, error", [
    ("ARIMA", "<ARIMA/>", UnsupportedError),
    ("GARCH", "", UnsupportedError),
    ("ExponentialSmoothing", "", DocumentError),
    ("Wavelets", "", DocumentError),
    ("ExponentialSmoothing",
     es('<Trend_ExpoSmooth trend="polynomial_exponential" smoothedValue="1"/>'), UnsupportedError),
    ("ExponentialSmoothing", '<ExponentialSmoothing><Level alpha="0.1"/></ExponentialSmoothing>',
     DocumentError),
    ("ExponentialSmoothing",                                    # a season without its period
     es(season=SEASON.format(kind="additive", phase="", values="1 2 3").replace(' period="3"', "")),
     DocumentError),
    ("StateSpaceModel", STATE_SPACE.replace("</StateSpaceModel>",
                                            "<DynamicRegressor field=\"h\"/></StateSpaceModel>"),
     UnsupportedError),
])
def test_refused_at_load(best, algorithm, error):
    with pytest.raises(error) as info:
        portmodel.load(doc(algorithm, best))
    assert info.value.line is not None


def test_unsupported_error_names_the_element():
    with pytest.raises(UnsupportedError, match="ARIMA") as info:
        portmodel.load(doc("<ARIMA/>", "ARIMA"))
    assert info.value.element == "ARIMA"
