"""PMML predicates as immutable values (SimplePredicate, CompoundPredicate, SimpleSetPredicate,
True, False): the conditions of tree nodes, rules, scorecard attributes and segments.

Like expressions, every predicate knows its source ``line`` and the fields it names
(``fields()``), so required inputs and ``validate`` ask one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .expressions import Expression
from .nodes import CHOICE, Attr, Child, Fragment, Node, Spec, line_field
from .verification import Array

SIMPLE_OPERATORS = ("equal", "notEqual", "lessThan", "lessOrEqual", "greaterThan",
                    "greaterOrEqual", "isMissing", "isNotMissing")
COMPOUND_OPERATORS = ("or", "and", "xor", "surrogate")
SET_OPERATORS = ("isIn", "isNotIn")


class Predicate(Node):
    """A predicate node; shares the field-reference answers of ``Expression``."""

    __slots__ = ()
    REFS: ClassVar[tuple[str, ...]] = ()
    own_fields = Expression.own_fields
    own_references = Expression.own_references
    references = Expression.references
    fields = Expression.fields


@dataclass(frozen=True, slots=True)
class SimplePredicate(Predicate):
    field: str | None = None
    operator: str | None = None
    value: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("SimplePredicate", (
        Attr("field", "field", required=True),
        Attr("operator", "operator", CHOICE, True, SIMPLE_OPERATORS),
        Attr("value", "value")))


@dataclass(frozen=True, slots=True)
class SimpleSetPredicate(Predicate):
    field: str | None = None
    boolean_operator: str | None = None
    array: Array | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("SimpleSetPredicate", (
        Attr("field", "field", required=True),
        Attr("boolean_operator", "booleanOperator", CHOICE, True, SET_OPERATORS)),
        (Child("array", (Array,)),))


@dataclass(frozen=True, slots=True)
class CompoundPredicate(Predicate):
    boolean_operator: str | None = None
    predicates: tuple[Predicate, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("CompoundPredicate", (
        Attr("boolean_operator", "booleanOperator", CHOICE, True, COMPOUND_OPERATORS),),
        (Child("predicates", (), True),))


@dataclass(frozen=True, slots=True)
class TruePredicate(Predicate):
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("True")


@dataclass(frozen=True, slots=True)
class FalsePredicate(Predicate):
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("False")


#: every predicate class (the PREDICATE group of the schema)
PREDICATES: tuple[type, ...] = (SimplePredicate, CompoundPredicate, SimpleSetPredicate,
                                TruePredicate, FalsePredicate)
CompoundPredicate.XML = Spec(CompoundPredicate.XML.tag, CompoundPredicate.XML.attrs,
                             (Child("predicates", PREDICATES, True),))
#: tag -> class, for the predicate elements
PREDICATE_CLASSES: dict[str, type] = {cls.XML.tag: cls for cls in PREDICATES}
