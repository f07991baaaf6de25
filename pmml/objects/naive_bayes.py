"""NaiveBayesModel's body: BayesInputs (BayesInput with PairCounts, or TargetValueStats of
continuous distributions, optionally a discretizing DerivedField) and BayesOutput (the model
element itself is a ``Model``; its threshold is text in ``Model.attributes``).

Before PMML 4.2 some producers parked BayesInputs in an Extension; ``dialects.upgrade`` moves
them into BayesInputs before the reader runs. BayesInput and BayesOutput name their field by
``fieldName``; ``field`` (written by some older producers) is kept and read as well."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .body import BodyPart
from .distributions import (DISTRIBUTIONS, AnyDistribution, GaussianDistribution,
                            PoissonDistribution, UniformDistribution)
from .nodes import NUMBER, Attr, Child, Fragment, Node, Spec, line_field
from .transformations import DerivedField


@dataclass(frozen=True, slots=True)
class TargetValueCount(Node):
    value: str | None = None
    count: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TargetValueCount", (
        Attr("value", "value", required=True), Attr("count", "count", NUMBER, True)))


@dataclass(frozen=True, slots=True)
class TargetValueCounts(Node):
    counts: tuple[TargetValueCount, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TargetValueCounts", children=(
        Child("counts", (TargetValueCount,), True),))


@dataclass(frozen=True, slots=True)
class PairCounts(Node):
    value: str | None = None
    counts: TargetValueCounts | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("PairCounts", (Attr("value", "value", required=True),),
                               (Child("counts", (TargetValueCounts,)),))


@dataclass(frozen=True, slots=True)
class TargetValueStat(Node):
    value: str | None = None
    distribution: Node | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TargetValueStat", (Attr("value", "value", required=True),),
                               (Child("distribution", DISTRIBUTIONS),))


@dataclass(frozen=True, slots=True)
class TargetValueStats(Node):
    stats: tuple[TargetValueStat, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TargetValueStats", children=(
        Child("stats", (TargetValueStat,), True),))


@dataclass(frozen=True, slots=True)
class BayesInput(Node):
    field_name: str | None = None
    field: str | None = None
    target_value_stats: TargetValueStats | None = None
    derived_field: DerivedField | None = None
    pair_counts: tuple[PairCounts, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field_name", "field")
    XML: ClassVar[Spec] = Spec("BayesInput", (
        Attr("field_name", "fieldName"), Attr("field", "field")),
        (Child("target_value_stats", (TargetValueStats,)),
         Child("derived_field", (DerivedField,)),
         Child("pair_counts", (PairCounts,), True)))

    @property
    def name(self) -> str | None:
        """The field this input reads (fieldName, else the older field)."""
        return self.field_name or self.field


@dataclass(frozen=True, slots=True)
class BayesInputs(BodyPart):
    inputs: tuple[BayesInput, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("BayesInputs", children=(Child("inputs", (BayesInput,), True),))


@dataclass(frozen=True, slots=True)
class BayesOutput(BodyPart):
    field_name: str | None = None
    field: str | None = None
    counts: TargetValueCounts | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field_name", "field")
    XML: ClassVar[Spec] = Spec("BayesOutput", (
        Attr("field_name", "fieldName"), Attr("field", "field")),
        (Child("counts", (TargetValueCounts,)),))

    @property
    def name(self) -> str | None:
        return self.field_name or self.field


#: the typed body parts of a NaiveBayesModel
BODY = (BayesInputs, BayesOutput)
