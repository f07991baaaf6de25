"""ModelVerification (records with the outputs the producer expects) and the parts of ModelStats
that monitoring reads (UnivariateStats with DiscrStats and ContStats)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from .expressions import Interval
from .nodes import (CHOICE, INTEGER, NUMBER, Attr, Child, Fragment, Node, Spec, line_field)
from .table import InlineTable

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


@dataclass(frozen=True, slots=True)
class VerificationField(Node):
    field: str | None = None
    column: str | None = None
    precision: float | None = None
    zero_threshold: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("VerificationField", (
        Attr("field", "field", required=True), Attr("column", "column"),
        Attr("precision", "precision", NUMBER), Attr("zero_threshold", "zeroThreshold", NUMBER)))


@dataclass(frozen=True, slots=True)
class VerificationFields(Node):
    fields: tuple[VerificationField, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("VerificationFields",
                               children=(Child("fields", (VerificationField,), True),))


@dataclass(frozen=True, slots=True)
class ModelVerification(Node):
    record_count: int | None = None
    field_count: int | None = None
    fields: VerificationFields | None = None
    table: InlineTable | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("ModelVerification", (
        Attr("record_count", "recordCount", INTEGER), Attr("field_count", "fieldCount", INTEGER)),
        (Child("fields", (VerificationFields,)), Child("table", (InlineTable,))))


@dataclass(frozen=True, slots=True)
class Array(Node):
    """A PMML Array: its type (int, real or string), n, and its raw text (split by
    ``values()`` with PMML's quoting rules)."""

    type: str | None = None
    n: int | None = None
    text: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Array", (
        Attr("n", "n", INTEGER), Attr("type", "type", CHOICE, True, ("int", "real", "string"))),
        text="text")

    def values(self) -> list[str]:
        """The items as text: whitespace separates them; a string item may be quoted, with
        \\" for a quote inside."""
        return [m.group(1).replace('\\"', '"') if m.group(1) is not None else m.group(2)
                for m in _TOKEN.finditer(self.text or "")]


@dataclass(frozen=True, slots=True)
class DiscrStats(Node):
    modal_value: str | None = None
    arrays: tuple[Array, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("DiscrStats", (Attr("modal_value", "modalValue"),),
                               (Child("arrays", (Array,), True),))


@dataclass(frozen=True, slots=True)
class ContStats(Node):
    total_values_sum: float | None = None
    total_squares_sum: float | None = None
    intervals: tuple[Interval, ...] = ()
    arrays: tuple[Array, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("ContStats", (
        Attr("total_values_sum", "totalValuesSum", NUMBER),
        Attr("total_squares_sum", "totalSquaresSum", NUMBER)),
        (Child("intervals", (Interval,), True), Child("arrays", (Array,), True)))


@dataclass(frozen=True, slots=True)
class UnivariateStats(Node):
    field: str | None = None
    weighted: str | None = None
    counts: Fragment | None = None
    numeric_info: Fragment | None = None
    discr_stats: DiscrStats | None = None
    cont_stats: ContStats | None = None
    anova: Fragment | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("UnivariateStats", (
        Attr("field", "field"), Attr("weighted", "weighted", CHOICE, options=("0", "1"))),
        (Child("counts", ("Counts",)), Child("numeric_info", ("NumericInfo",)),
         Child("discr_stats", (DiscrStats,)), Child("cont_stats", (ContStats,)),
         Child("anova", ("Anova",))))


@dataclass(frozen=True, slots=True)
class ModelStats(Node):
    univariate: tuple[UnivariateStats, ...] = ()
    multivariate: tuple[Fragment, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("ModelStats", children=(
        Child("univariate", (UnivariateStats,), True),
        Child("multivariate", ("MultivariateStats",), True)))
