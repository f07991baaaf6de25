"""RegressionModel's body: RegressionTable with NumericPredictor, CategoricalPredictor and
PredictorTerm (the model element itself is a ``Model``; these are its typed content)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .expressions import FieldRef
from .nodes import INTEGER, NUMBER, Attr, Child, Fragment, Node, Spec, line_field


@dataclass(frozen=True, slots=True)
class NumericPredictor(Node):
    name: str | None = None
    exponent: int | None = None
    coefficient: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("name",)
    XML: ClassVar[Spec] = Spec("NumericPredictor", (
        Attr("name", "name", required=True), Attr("exponent", "exponent", INTEGER),
        Attr("coefficient", "coefficient", NUMBER, True)))


@dataclass(frozen=True, slots=True)
class CategoricalPredictor(Node):
    name: str | None = None
    value: str | None = None
    coefficient: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("name",)
    XML: ClassVar[Spec] = Spec("CategoricalPredictor", (
        Attr("name", "name", required=True), Attr("value", "value", required=True),
        Attr("coefficient", "coefficient", NUMBER, True)))


@dataclass(frozen=True, slots=True)
class PredictorTerm(Node):
    name: str | None = None
    coefficient: float | None = None
    fields: tuple[FieldRef, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("PredictorTerm", (
        Attr("name", "name"), Attr("coefficient", "coefficient", NUMBER, True)),
        (Child("fields", (FieldRef,), True),))


@dataclass(frozen=True, slots=True)
class RegressionTable(Node):
    intercept: float | None = None
    target_category: str | None = None
    numeric: tuple[NumericPredictor, ...] = ()
    categorical: tuple[CategoricalPredictor, ...] = ()
    terms: tuple[PredictorTerm, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("RegressionTable", (
        Attr("intercept", "intercept", NUMBER, True), Attr("target_category", "targetCategory")),
        (Child("numeric", (NumericPredictor,), True),
         Child("categorical", (CategoricalPredictor,), True),
         Child("terms", (PredictorTerm,), True)))

    def fields(self) -> tuple[str, ...]:
        """The fields this table's predictors name, each once, in document order."""
        seen: dict[str, None] = {}
        for p in self.numeric + self.categorical:
            seen.setdefault(p.name, None)
        for t in self.terms:
            for ref in t.fields:
                seen.setdefault(ref.field, None)
        return tuple(seen)
