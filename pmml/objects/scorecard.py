"""Scorecard's body: Characteristics of Characteristic, each a list of Attributes with a
predicate and a partialScore or a ComplexPartialScore expression (the model element itself is a
``Model``; initialScore, useReasonCodes, ... are text in ``Model.attributes``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .body import body_fields
from .expressions import EXPRESSIONS, Expression
from .nodes import NUMBER, Attr, Child, Fragment, Node, Spec, line_field
from .predicates import PREDICATES, Predicate


@dataclass(frozen=True, slots=True)
class ComplexPartialScore(Node):
    expression: Expression | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("ComplexPartialScore",
                               children=(Child("expression", EXPRESSIONS),))


@dataclass(frozen=True, slots=True)
class Attribute(Node):
    reason_code: str | None = None
    partial_score: float | None = None
    predicate: Predicate | None = None
    complex_partial_score: ComplexPartialScore | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Attribute", (
        Attr("reason_code", "reasonCode"), Attr("partial_score", "partialScore", NUMBER)),
        (Child("predicate", PREDICATES),
         Child("complex_partial_score", (ComplexPartialScore,))))


@dataclass(frozen=True, slots=True)
class Characteristic(Node):
    name: str | None = None
    reason_code: str | None = None
    baseline_score: float | None = None
    attributes: tuple[Attribute, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Characteristic", (
        Attr("name", "name"), Attr("reason_code", "reasonCode"),
        Attr("baseline_score", "baselineScore", NUMBER)),
        (Child("attributes", (Attribute,), True),))


@dataclass(frozen=True, slots=True)
class Characteristics(Node):
    characteristics: tuple[Characteristic, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Characteristics", children=(
        Child("characteristics", (Characteristic,), True),))

    def fields(self) -> tuple[str, ...]:
        """The fields the attributes' predicates and partial-score expressions name, each
        once, in document order."""
        return body_fields(self)


#: the typed body parts of a Scorecard
BODY = (Characteristics,)
