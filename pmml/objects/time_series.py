"""TimeSeriesModel's body: TimeSeries of TimeValues, and the algorithms portmodel scores
(ExponentialSmoothing with Level, Trend_ExpoSmooth and Seasonality_ExpoSmooth; StateSpaceModel
with StateVector, TransitionMatrix and MeasurementMatrix). ARIMA, GARCH,
SeasonalTrendDecomposition and SpectralAnalysis stay fragments (portmodel refuses them at load);
so do a TimeSeries' TimeAnchor, a TimeValue's Timestamp and a state-space model's parts beyond
those three (the model element itself is a ``Model``; bestFit is text in ``Model.attributes``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .body import body_fields
from .matrix import Matrix
from .nodes import CHOICE, INTEGER, NUMBER, Attr, Child, Fragment, Node, Spec, line_field
from .verification import Array

TRENDS = ("additive", "damped_additive", "multiplicative", "damped_multiplicative",
          "polynomial_exponential")
#: the parts of a StateSpaceModel kept as fragments (portmodel refuses them at load)
STATE_SPACE_OTHERS = ("InterceptVector", "PredictedStateCovarianceMatrix",
                      "SelectedStateCovarianceMatrix", "ObservationVarianceMatrix", "PsiVector",
                      "DynamicRegressor")


class _Body(Node):
    __slots__ = ()

    def fields(self) -> tuple[str, ...]:
        """The fields this part names (``REFS`` of its nodes), each once, in order."""
        return body_fields(self)


@dataclass(frozen=True, slots=True)
class TimeValue(Node):
    index: int | None = None
    time: float | None = None
    value: float | None = None
    standard_error: float | None = None
    timestamp: Fragment | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TimeValue", (
        Attr("index", "index", INTEGER), Attr("time", "time", NUMBER),
        Attr("value", "value", NUMBER, True), Attr("standard_error", "standardError", NUMBER)),
        (Child("timestamp", ("Timestamp",)),))


@dataclass(frozen=True, slots=True)
class TimeSeries(_Body):
    usage: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    interpolation_method: str | None = None
    field: str | None = None
    anchor: Fragment | None = None
    values: tuple[TimeValue, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("TimeSeries", (
        Attr("usage", "usage", CHOICE, options=("original", "logical", "prediction",
                                                "filtered")),
        Attr("start_time", "startTime", NUMBER), Attr("end_time", "endTime", NUMBER),
        Attr("interpolation_method", "interpolationMethod", CHOICE, options=(
            "none", "linear", "exponentialSpline", "cubicSpline")),
        Attr("field", "field")),
        (Child("anchor", ("TimeAnchor",)), Child("values", (TimeValue,), True)))


@dataclass(frozen=True, slots=True)
class Level(Node):
    alpha: float | None = None
    smoothed_value: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Level", (Attr("alpha", "alpha", NUMBER),
                                         Attr("smoothed_value", "smoothedValue", NUMBER)))


@dataclass(frozen=True, slots=True)
class TrendExpoSmooth(Node):
    trend: str | None = None
    gamma: float | None = None
    phi: float | None = None
    smoothed_value: float | None = None
    array: Array | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Trend_ExpoSmooth", (
        Attr("trend", "trend", CHOICE, options=TRENDS), Attr("gamma", "gamma", NUMBER),
        Attr("phi", "phi", NUMBER), Attr("smoothed_value", "smoothedValue", NUMBER)),
        (Child("array", (Array,)),))


@dataclass(frozen=True, slots=True)
class SeasonalityExpoSmooth(Node):
    type: str | None = None
    period: int | None = None
    unit: str | None = None
    phase: int | None = None
    delta: float | None = None
    array: Array | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Seasonality_ExpoSmooth", (
        Attr("type", "type", CHOICE, True, ("additive", "multiplicative")),
        Attr("period", "period", INTEGER, True), Attr("unit", "unit"),
        Attr("phase", "phase", INTEGER), Attr("delta", "delta", NUMBER)),
        (Child("array", (Array,)),))


@dataclass(frozen=True, slots=True)
class ExponentialSmoothing(_Body):
    rmse: float | None = None
    transformation: str | None = None
    level: Level | None = None
    trend: TrendExpoSmooth | None = None
    seasonality: SeasonalityExpoSmooth | None = None
    values: tuple[TimeValue, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("ExponentialSmoothing", (
        Attr("rmse", "RMSE", NUMBER),
        Attr("transformation", "transformation", CHOICE, options=(
            "none", "logarithmic", "squareroot"))),
        (Child("level", (Level,)), Child("trend", (TrendExpoSmooth,)),
         Child("seasonality", (SeasonalityExpoSmooth,)), Child("values", (TimeValue,), True)))


@dataclass(frozen=True, slots=True)
class StateVector(Node):
    array: Array | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("StateVector", children=(Child("array", (Array,)),))


@dataclass(frozen=True, slots=True)
class TransitionMatrix(Node):
    matrix: Matrix | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TransitionMatrix", children=(Child("matrix", (Matrix,)),))


@dataclass(frozen=True, slots=True)
class MeasurementMatrix(Node):
    matrix: Matrix | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("MeasurementMatrix", children=(Child("matrix", (Matrix,)),))


@dataclass(frozen=True, slots=True)
class StateSpaceModel(_Body):
    variance: float | None = None
    period: str | None = None            # xs:positiveInteger or "none"
    intercept: float | None = None
    state: StateVector | None = None
    transition: TransitionMatrix | None = None
    measurement: MeasurementMatrix | None = None
    others: tuple[Fragment, ...] = ()    # STATE_SPACE_OTHERS, in document order
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("StateSpaceModel", (
        Attr("variance", "variance", NUMBER), Attr("period", "period"),
        Attr("intercept", "intercept", NUMBER)),
        (Child("state", (StateVector,)), Child("transition", (TransitionMatrix,)),
         Child("measurement", (MeasurementMatrix,)), Child("others", STATE_SPACE_OTHERS, True)))


#: the typed body parts of a TimeSeriesModel
BODY = (TimeSeries, ExponentialSmoothing, StateSpaceModel)
