"""Derived fields and user-defined functions: TransformationDictionary, DefineFunction,
ParameterField, DerivedField, LocalTransformations."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .dictionary import Value
from .expressions import EXPRESSIONS, Expression
from .nodes import DATA_TYPE, OP_TYPE, Attr, Child, Fragment, Node, Spec, line_field


@dataclass(frozen=True, slots=True)
class ParameterField(Node):
    name: str | None = None
    optype: str | None = None
    data_type: str | None = None
    display_name: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("ParameterField", (
        Attr("name", "name", required=True), Attr("optype", "optype", OP_TYPE),
        Attr("data_type", "dataType", DATA_TYPE), Attr("display_name", "displayName")))


@dataclass(frozen=True, slots=True)
class DefineFunction(Node):
    name: str | None = None
    optype: str | None = None
    data_type: str | None = None
    parameters: tuple[ParameterField, ...] = ()
    expression: Expression | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("DefineFunction", (
        Attr("name", "name", required=True), Attr("optype", "optype", OP_TYPE),
        Attr("data_type", "dataType", DATA_TYPE)),
        (Child("parameters", (ParameterField,), True), Child("expression", EXPRESSIONS)))


@dataclass(frozen=True, slots=True)
class DerivedField(Node):
    name: str | None = None
    display_name: str | None = None
    optype: str | None = None
    data_type: str | None = None
    values: tuple[Value, ...] = ()
    expression: Expression | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("DerivedField", (
        Attr("name", "name"), Attr("display_name", "displayName"),
        Attr("optype", "optype", OP_TYPE), Attr("data_type", "dataType", DATA_TYPE)),
        (Child("values", (Value,), True), Child("expression", EXPRESSIONS)))

    def fields(self) -> tuple[str, ...]:
        """The fields this derived field's expression names."""
        return self.expression.fields() if self.expression is not None else ()


@dataclass(frozen=True, slots=True)
class TransformationDictionary(Node):
    functions: tuple[DefineFunction, ...] = ()
    derived_fields: tuple[DerivedField, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TransformationDictionary", children=(
        Child("functions", (DefineFunction,), True),
        Child("derived_fields", (DerivedField,), True)))


@dataclass(frozen=True, slots=True)
class LocalTransformations(Node):
    derived_fields: tuple[DerivedField, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("LocalTransformations", children=(
        Child("derived_fields", (DerivedField,), True),))


def derived_references(fields) -> dict[str, tuple[str, ...]]:
    """name -> the fields its expression names, for derived fields (the first definition of a
    name counts)."""
    refs: dict[str, tuple[str, ...]] = {}
    for df in fields:
        if df.name is not None and df.name not in refs:
            refs[df.name] = df.fields()
    return refs


def dependencies(named) -> dict[str, list[str]]:
    """name -> the other derived fields (among ``named``: name -> DerivedField) its expression
    names, sorted: the graph the derived-field cycle checks walk."""
    return {name: sorted({f for f in df.fields() if f in named})
            for name, df in named.items()}
