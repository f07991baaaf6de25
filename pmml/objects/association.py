"""AssociationModel's body: Items, Itemsets of ItemRefs and AssociationRules (the model element
itself is a ``Model``; numberOfTransactions, minimumSupport, ... are text in
``Model.attributes``).

The XSD requires Itemset@id and AssociationRule@support/@confidence; portmodel has always
scored documents without them (an Itemset nobody names, NaN statistics), so they stay optional.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .body import body_fields
from .nodes import INTEGER, NUMBER, Attr, Child, Fragment, Node, Spec, line_field


class _Body(Node):
    __slots__ = ()

    def fields(self) -> tuple[str, ...]:
        """The fields this part names (``REFS`` of its nodes), each once, in order."""
        return body_fields(self)


@dataclass(frozen=True, slots=True)
class Item(_Body):
    """An item: a value of the basket field (transactional input), or of the field ``field``
    (or the field its value names) in categorical input."""

    id: str | None = None
    value: str | None = None
    field: str | None = None
    category: str | None = None
    mapped_value: str | None = None
    weight: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("Item", (
        Attr("id", "id", required=True), Attr("value", "value", required=True),
        Attr("field", "field"), Attr("category", "category"),
        Attr("mapped_value", "mappedValue"), Attr("weight", "weight", NUMBER)))


@dataclass(frozen=True, slots=True)
class ItemRef(Node):
    item_ref: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("ItemRef", (Attr("item_ref", "itemRef", required=True),))


@dataclass(frozen=True, slots=True)
class Itemset(_Body):
    id: str | None = None
    support: float | None = None
    number_of_items: int | None = None
    items: tuple[ItemRef, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Itemset", (
        Attr("id", "id"), Attr("support", "support", NUMBER),
        Attr("number_of_items", "numberOfItems", INTEGER)),
        (Child("items", (ItemRef,), True),))


@dataclass(frozen=True, slots=True)
class AssociationRule(_Body):
    antecedent: str | None = None
    consequent: str | None = None
    support: float | None = None
    confidence: float | None = None
    lift: float | None = None
    leverage: float | None = None
    affinity: float | None = None
    id: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("AssociationRule", (
        Attr("antecedent", "antecedent", required=True),
        Attr("consequent", "consequent", required=True),
        Attr("support", "support", NUMBER), Attr("confidence", "confidence", NUMBER),
        Attr("lift", "lift", NUMBER), Attr("leverage", "leverage", NUMBER),
        Attr("affinity", "affinity", NUMBER), Attr("id", "id")))


#: the typed body parts of an AssociationModel
BODY = (Item, Itemset, AssociationRule)
