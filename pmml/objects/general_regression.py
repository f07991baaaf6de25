"""GeneralRegressionModel's body: ParameterList, FactorList/CovariateList (Predictors with
their contrast Categories and Matrix), PPMatrix, PCovMatrix, ParamMatrix, EventValues and
BaseCumHazardTables (the model element itself is a ``Model``; its own attributes, modelType,
linkFunction, offsetVariable, ..., are text in ``Model.attributes``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .body import BodyPart
from .dictionary import Value
from .expressions import Interval
from .matrix import Matrix
from .nodes import CHOICE, INTEGER, NUMBER, Attr, Child, Fragment, Node, Spec, line_field


@dataclass(frozen=True, slots=True)
class Parameter(Node):
    name: str | None = None
    label: str | None = None
    reference_point: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Parameter", (
        Attr("name", "name", required=True), Attr("label", "label"),
        Attr("reference_point", "referencePoint", NUMBER)))


@dataclass(frozen=True, slots=True)
class ParameterList(BodyPart):
    parameters: tuple[Parameter, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("ParameterList", children=(
        Child("parameters", (Parameter,), True),))


@dataclass(frozen=True, slots=True)
class Category(Node):
    value: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Category", (Attr("value", "value", required=True),))


@dataclass(frozen=True, slots=True)
class Categories(Node):
    categories: tuple[Category, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Categories", children=(Child("categories", (Category,), True),))


@dataclass(frozen=True, slots=True)
class Predictor(Node):
    name: str | None = None
    contrast_matrix_type: str | None = None
    categories: Categories | None = None
    matrix: Matrix | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("name",)
    XML: ClassVar[Spec] = Spec("Predictor", (
        Attr("name", "name", required=True), Attr("contrast_matrix_type", "contrastMatrixType")),
        (Child("categories", (Categories,)), Child("matrix", (Matrix,))))


@dataclass(frozen=True, slots=True)
class FactorList(BodyPart):
    predictors: tuple[Predictor, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("FactorList", children=(Child("predictors", (Predictor,), True),))


@dataclass(frozen=True, slots=True)
class CovariateList(BodyPart):
    predictors: tuple[Predictor, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("CovariateList",
                               children=(Child("predictors", (Predictor,), True),))


@dataclass(frozen=True, slots=True)
class PPCell(Node):
    value: str | None = None
    predictor_name: str | None = None
    parameter_name: str | None = None
    target_category: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("predictor_name",)
    XML: ClassVar[Spec] = Spec("PPCell", (
        Attr("value", "value", required=True),
        Attr("predictor_name", "predictorName", required=True),
        Attr("parameter_name", "parameterName", required=True),
        Attr("target_category", "targetCategory")))


@dataclass(frozen=True, slots=True)
class PPMatrix(BodyPart):
    cells: tuple[PPCell, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("PPMatrix", children=(Child("cells", (PPCell,), True),))


@dataclass(frozen=True, slots=True)
class PCovCell(Node):
    p_row: str | None = None
    p_col: str | None = None
    t_row: str | None = None
    t_col: str | None = None
    value: float | None = None
    target_category: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("PCovCell", (
        Attr("p_row", "pRow", required=True), Attr("p_col", "pCol", required=True),
        Attr("t_row", "tRow"), Attr("t_col", "tCol"), Attr("value", "value", NUMBER, True),
        Attr("target_category", "targetCategory")))


@dataclass(frozen=True, slots=True)
class PCovMatrix(BodyPart):
    type: str | None = None
    cells: tuple[PCovCell, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("PCovMatrix", (
        Attr("type", "type", CHOICE, options=("model", "robust")),),
        (Child("cells", (PCovCell,), True),))


@dataclass(frozen=True, slots=True)
class PCell(Node):
    target_category: str | None = None
    parameter_name: str | None = None
    beta: float | None = None
    df: int | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("PCell", (
        Attr("target_category", "targetCategory"),
        Attr("parameter_name", "parameterName", required=True),
        Attr("beta", "beta", NUMBER, True), Attr("df", "df", INTEGER)))


@dataclass(frozen=True, slots=True)
class ParamMatrix(BodyPart):
    cells: tuple[PCell, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("ParamMatrix", children=(Child("cells", (PCell,), True),))


@dataclass(frozen=True, slots=True)
class EventValues(BodyPart):
    values: tuple[Value, ...] = ()
    intervals: tuple[Interval, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("EventValues", children=(
        Child("values", (Value,), True), Child("intervals", (Interval,), True)))


@dataclass(frozen=True, slots=True)
class BaselineCell(Node):
    time: float | None = None
    cum_hazard: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("BaselineCell", (
        Attr("time", "time", NUMBER, True), Attr("cum_hazard", "cumHazard", NUMBER, True)))


@dataclass(frozen=True, slots=True)
class BaselineStratum(Node):
    value: str | None = None
    label: str | None = None
    max_time: float | None = None
    cells: tuple[BaselineCell, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("BaselineStratum", (
        Attr("value", "value", required=True), Attr("label", "label"),
        Attr("max_time", "maxTime", NUMBER, True)),
        (Child("cells", (BaselineCell,), True),))


@dataclass(frozen=True, slots=True)
class BaseCumHazardTables(BodyPart):
    max_time: float | None = None
    strata: tuple[BaselineStratum, ...] = ()
    cells: tuple[BaselineCell, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("BaseCumHazardTables", (
        Attr("max_time", "maxTime", NUMBER),),
        (Child("strata", (BaselineStratum,), True), Child("cells", (BaselineCell,), True)))


#: the typed body parts of a GeneralRegressionModel
BODY = (ParameterList, FactorList, CovariateList, PPMatrix, PCovMatrix, ParamMatrix,
        EventValues, BaseCumHazardTables)
