"""InlineTable: rows of cells (MapValues, TextIndexNormalization, ModelVerification)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .nodes import Child, Fragment, Node, Spec, line_field


@dataclass(frozen=True, slots=True)
class Row(Node):
    """One ``<row>``: its cells as (column, text) pairs in document order."""

    cells: tuple[tuple[str, str], ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("row", cells="cells")

    def as_dict(self) -> dict[str, str]:
        """column -> text; a namespace prefix of the column ("data:color") is dropped."""
        return {tag.split(":")[-1]: text for tag, text in self.cells}


@dataclass(frozen=True, slots=True)
class InlineTable(Node):
    rows: tuple[Row, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("InlineTable", children=(Child("rows", (Row,), True),))

    def as_dicts(self) -> list[dict[str, str]]:
        return [r.as_dict() for r in self.rows]
