"""TimeSeriesModel: forecasts from the algorithm named by ``bestFit``.

Each row asks for one forecast; its horizon h (steps after the end of the series) is the value
of the model's one ``supplementary`` MiningField (as the reference engine reads it), or 1 when
there is none. A missing horizon gives no forecast; one below 1 or not whole is a row error.

ExponentialSmoothing (Gardner's forms; S = Level smoothedValue, T = trend smoothedValue,
phi = damping, D(h) = phi + phi^2 + ... + phi^h):

    trend none                  S
    additive                    S + h T
    damped_additive             S + D(h) T
    multiplicative              S T^h
    damped_multiplicative       S T^D(h)

then plus (additive) or times (multiplicative) the seasonal index of the forecast period:
the Seasonality_ExpoSmooth Array holds one index per period position, ``phase`` (default
``period``) being the 1-based position of the last observation, so horizon h uses position
``(phase + h - 1) mod period``. ``transformation`` logarithmic / squareroot maps the result back
with exp / square.

StateSpaceModel: ``Z T^(h-1) x + intercept`` for state vector x, transition matrix T (identity
when absent) and a one-row measurement matrix Z; horizon 1 is ``Z x + intercept`` as in the
reference engine.

ARIMA, GARCH, SeasonalTrendDecomposition, SpectralAnalysis and the polynomial_exponential
trend are not supported (UnsupportedError at load).
"""
from __future__ import annotations

import math

import numpy as np

from portmodel.errors import DocumentError, EvaluationError, UnsupportedError

from ..objects import time_series as objects_ts
from ..objects.models import Model
from ..objects.nodes import Fragment, Node
from ..predicates import parse_array
from ..scope import Scope
from .base import COMMON_CHILDREN, CompiledModel, Result, register, regression_result
from .node_access import model_attrs

ALGORITHMS = ("ARIMA", "ExponentialSmoothing", "SeasonalTrendDecomposition", "SpectralAnalysis",
              "StateSpaceModel", "GARCH")
TRENDS = ("additive", "damped_additive", "multiplicative", "damped_multiplicative")
_CHILDREN = COMMON_CHILDREN | {"TimeSeries"} | set(ALGORITHMS)


def _refuse_unknown(node: Node, where: str) -> None:
    """Elements the schema does not put in this part (kept as fragments) are refused."""
    for f in node.extensions:
        if f.tag != "Extension":
            raise UnsupportedError(f"<{f.tag}> in {where}", line=f.line, element=f.tag)


class ExponentialSmoothing:
    """Level, optional trend and seasonality: forecasts for an array of horizons."""

    def __init__(self, node: objects_ts.ExponentialSmoothing):
        _refuse_unknown(node, "ExponentialSmoothing")
        self.transformation = node.transformation or "none"
        level = node.level
        if level is None or level.smoothed_value is None:
            raise DocumentError("ExponentialSmoothing needs a Level with a smoothedValue",
                                line=(level if level is not None else node).line,
                                element="Level")
        self.level = level.smoothed_value
        self.trend = None
        trend = node.trend
        if trend is not None:
            self.trend = trend.trend or "additive"
            if self.trend not in TRENDS:
                raise UnsupportedError(f"Trend_ExpoSmooth trend={self.trend!r}",
                                       line=trend.line, element="Trend_ExpoSmooth")
            if trend.smoothed_value is None:
                raise DocumentError("Trend_ExpoSmooth needs a smoothedValue",
                                    line=trend.line, element="Trend_ExpoSmooth")
            self.slope = trend.smoothed_value
            self.phi = 1.0 if trend.phi is None else trend.phi
        self.season = None
        season = node.seasonality
        if season is not None:
            self.season_type = season.type
            period = season.period
            if season.array is None:
                raise DocumentError("Seasonality_ExpoSmooth has no Array", line=season.line,
                                    element="Seasonality_ExpoSmooth")
            self.season = np.array(parse_array(season.array, "double"), float)
            if period < 1 or len(self.season) != period:
                raise DocumentError(f"Seasonality_ExpoSmooth period {period} with "
                                    f"{len(self.season)} seasonal values", line=season.line,
                                    element="Seasonality_ExpoSmooth")
            self.phase = period if season.phase is None else season.phase

    def forecast(self, h: np.ndarray) -> np.ndarray:
        S = self.level
        with np.errstate(all="ignore"):
            if self.trend is None:
                y = np.full(len(h), S)
            else:
                T, phi = self.slope, self.phi
                if self.trend.startswith("damped"):
                    steps = h if phi == 1.0 else phi * (1.0 - phi ** h) / (1.0 - phi)
                else:
                    steps = h
                y = S + steps * T if self.trend.endswith("additive") else S * T ** steps
            if self.season is not None:
                p = len(self.season)
                idx = (self.phase + h.astype(np.int64) - 1) % p
                y = y + self.season[idx] if self.season_type == "additive" else y * self.season[idx]
            if self.transformation == "logarithmic":
                y = np.exp(y)
            elif self.transformation == "squareroot":
                y = y * y
        return y


class StateSpace:
    """Z T^(h-1) x + intercept."""

    def __init__(self, node: objects_ts.StateSpaceModel):
        _refuse_unknown(node, "StateSpaceModel")
        for other in node.others:
            raise UnsupportedError(f"<{other.tag}> in StateSpaceModel", line=other.line,
                                   element=other.tag)
        sv, mm = node.state, node.measurement
        if sv is None or sv.array is None or mm is None or mm.matrix is None:
            raise DocumentError("StateSpaceModel needs a StateVector and a MeasurementMatrix",
                                line=node.line, element="StateSpaceModel")
        self.state = np.array(parse_array(sv.array, "double"), float)
        self.measure = np.atleast_2d(mm.matrix.to_array())
        k = len(self.state)
        tm = node.transition
        if tm is not None and tm.matrix is None:
            raise DocumentError("TransitionMatrix has no Matrix", line=tm.line,
                                element="TransitionMatrix")
        self.transition = np.eye(k) if tm is None else tm.matrix.to_array()
        if self.measure.shape != (1, k) or self.transition.shape != (k, k):
            raise DocumentError(f"StateSpaceModel shapes do not fit: state {k}, measurement "
                                f"{self.measure.shape}, transition {self.transition.shape}",
                                line=node.line, element="StateSpaceModel")
        self.intercept = 0.0 if node.intercept is None else node.intercept

    def forecast(self, h: np.ndarray) -> np.ndarray:
        out = np.empty(len(h))
        steps = h.astype(np.int64)
        for s in np.unique(steps):
            x = np.linalg.matrix_power(self.transition, int(s) - 1) @ self.state
            out[steps == s] = float(self.measure[0] @ x) + self.intercept
        return out


@register("TimeSeriesModel")
class TimeSeriesModel(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        best = model_attrs(spec).get("bestFit")
        if best not in ALGORITHMS:
            raise DocumentError(f"TimeSeriesModel bestFit={best!r}", line=spec.line,
                                element=spec.tag)
        alg = None
        for child in spec.content:
            tag = child.tag if isinstance(child, (Fragment, Model)) else child.XML.tag
            if tag not in _CHILDREN:
                raise UnsupportedError(f"<{tag}> in TimeSeriesModel is not supported",
                                       line=child.line, element=tag)
            if tag == best and alg is None:
                alg = child
        if best not in ("ExponentialSmoothing", "StateSpaceModel"):
            line = alg.line if alg is not None else spec.line
            raise UnsupportedError(f"time series algorithm <{best}> is not supported",
                                   line=line, element=best)
        if alg is None:
            raise DocumentError(f"bestFit names <{best}>, which the model lacks", line=spec.line,
                                element=spec.tag)
        self.algorithm = ExponentialSmoothing(alg) if best == "ExponentialSmoothing" \
            else StateSpace(alg)
        horizon = [m.name for m in self.mining if m.usage == "supplementary"]
        if len(horizon) > 1:
            raise DocumentError(f"TimeSeriesModel takes one supplementary (horizon) field, not "
                                f"{len(horizon)}", line=spec.mining_schema.line,
                                element="MiningSchema")
        self.horizon = horizon[0] if horizon else None

    def input_names(self) -> list[str]:
        """The active fields and the horizon (a supplementary field the model reads)."""
        return [m.name for m in self.mining if m.usage == "active" or m.name == self.horizon]

    def score(self, scope: Scope) -> Result:
        n = scope.n
        if self.horizon is None:
            h = np.ones(n)
            missing = np.zeros(n, bool)
        else:
            col = scope.get(self.horizon)
            missing = ~col.valid
            h = np.where(missing, 1.0, col.values.astype(float))
            bad = ~missing & ~((h >= 1) & (h == np.floor(h)) & np.isfinite(h))
            if bad.any():
                name = self.horizon
                scope.fail(bad, lambda i: EvaluationError(
                    f"forecast horizon {name!r} must be a whole number >= 1", row=i))
                missing = missing | bad
                h = np.where(bad, 1.0, h)
        y = self.algorithm.forecast(h)
        return regression_result(np.where(missing, math.nan, y), missing, self.target_type)
