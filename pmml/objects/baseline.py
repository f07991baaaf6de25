"""BaselineModel's body: TestDistributions with its Baseline (a continuous distribution, a
CountTable / NormalizedCountTable of nested FieldValues ending in FieldValueCounts, or FieldRefs)
and Alternate (the model element itself is a ``Model``).

testStatistic stays text (not a checked choice): portmodel has always refused a statistic it
does not know (GLR, ...) as unsupported rather than malformed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .body import body_fields
from .distributions import DISTRIBUTIONS
from .expressions import FieldRef
from .nodes import INTEGER, NUMBER, Attr, Child, Fragment, Node, Spec, line_field


@dataclass(frozen=True, slots=True)
class FieldValueCount(Node):
    field: str | None = None
    value: str | None = None
    count: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("FieldValueCount", (
        Attr("field", "field", required=True), Attr("value", "value", required=True),
        Attr("count", "count", NUMBER, True)))


@dataclass(frozen=True, slots=True)
class FieldValue(Node):
    field: str | None = None
    value: str | None = None
    entries: tuple[Node, ...] = ()       # FieldValue or FieldValueCount, in order
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("FieldValue", (
        Attr("field", "field", required=True), Attr("value", "value", required=True)),
        (Child("entries", (), True),))


FieldValue.XML = Spec("FieldValue", FieldValue.XML.attrs,
                      (Child("entries", (FieldValue, FieldValueCount), True),))


@dataclass(frozen=True, slots=True)
class CountTable(Node):
    sample: float | None = None
    entries: tuple[Node, ...] = ()       # FieldValue or FieldValueCount, in order
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("CountTable", (Attr("sample", "sample", NUMBER),),
                               (Child("entries", (FieldValue, FieldValueCount), True),))


@dataclass(frozen=True, slots=True)
class NormalizedCountTable(Node):
    """A CountTable of proportions (scaled to ``sample`` records when given)."""

    sample: float | None = None
    entries: tuple[Node, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("NormalizedCountTable", (Attr("sample", "sample", NUMBER),),
                               (Child("entries", (FieldValue, FieldValueCount), True),))


@dataclass(frozen=True, slots=True)
class Baseline(Node):
    distribution: Node | None = None     # a continuous distribution or a (normalized) table
    field_refs: tuple[FieldRef, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Baseline", children=(
        Child("distribution", DISTRIBUTIONS + (CountTable, NormalizedCountTable)),
        Child("field_refs", (FieldRef,), True)))


@dataclass(frozen=True, slots=True)
class Alternate(Node):
    distribution: Node | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Alternate", children=(Child("distribution", DISTRIBUTIONS),))


@dataclass(frozen=True, slots=True)
class TestDistributions(Node):
    field: str | None = None
    test_statistic: str | None = None
    reset_value: float | None = None
    window_size: int | None = None
    weight_field: str | None = None
    normalization_scheme: str | None = None
    baseline: Baseline | None = None
    alternate: Alternate | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field", "weight_field")
    XML: ClassVar[Spec] = Spec("TestDistributions", (
        Attr("field", "field", required=True), Attr("test_statistic", "testStatistic"),
        Attr("reset_value", "resetValue", NUMBER), Attr("window_size", "windowSize", INTEGER),
        Attr("weight_field", "weightField"),
        Attr("normalization_scheme", "normalizationScheme")),
        (Child("baseline", (Baseline,)), Child("alternate", (Alternate,))))

    def fields(self) -> tuple[str, ...]:
        """The fields the test and its tables name, each once, in document order."""
        return body_fields(self)


#: the typed body parts of a BaselineModel
BODY = (TestDistributions,)
