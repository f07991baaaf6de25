"""DataDictionary and DataField: the document's input and target fields."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .expressions import Interval
from .nodes import (CHOICE, DATA_TYPE, INTEGER, OP_TYPE, Attr, Child, Fragment, Node, Spec,
                    line_field)


@dataclass(frozen=True, slots=True)
class Value(Node):
    """One value of a field, with its property (valid, invalid or missing; absent: valid)."""

    value: str | None = None
    display_value: str | None = None
    property: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Value", (
        Attr("value", "value", required=True), Attr("display_value", "displayValue"),
        Attr("property", "property", CHOICE, options=("valid", "invalid", "missing"))))


@dataclass(frozen=True, slots=True)
class DataField(Node):
    name: str | None = None
    display_name: str | None = None
    optype: str | None = None
    data_type: str | None = None
    taxonomy: str | None = None
    is_cyclic: str | None = None
    intervals: tuple[Interval, ...] = ()
    values: tuple[Value, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("DataField", (
        Attr("name", "name", required=True), Attr("display_name", "displayName"),
        Attr("optype", "optype", OP_TYPE), Attr("data_type", "dataType", DATA_TYPE),
        Attr("taxonomy", "taxonomy"), Attr("is_cyclic", "isCyclic", CHOICE, options=("0", "1"))),
        (Child("intervals", (Interval,), True), Child("values", (Value,), True)))


@dataclass(frozen=True, slots=True)
class DataDictionary(Node):
    number_of_fields: int | None = None
    fields: tuple[DataField, ...] = ()
    taxonomies: tuple[Fragment, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("DataDictionary", (
        Attr("number_of_fields", "numberOfFields", INTEGER),),
        (Child("fields", (DataField,), True), Child("taxonomies", ("Taxonomy",), True)))

    def field(self, name: str) -> DataField | None:
        """The first DataField of that name."""
        return next((f for f in self.fields if f.name == name), None)
