"""Matrix: one reading of PMML's <Matrix> for every model that holds one (general regression
contrast matrices, comparison tables of clustering and nearest-neighbour models, time series).

The rules (PMML's, read as JPMML-Evaluator reads them into a whole matrix):

- ``kind="any"`` with Arrays: one Array per row, all of one length.
- ``kind="diagonal"``: one Array, the diagonal; other cells are ``offDiagDefault``, else 0.
- ``kind="symmetric"``: Arrays holding the lower triangle (row i has i + 1 entries).
- MatCells: a ``nbRows`` x ``nbCols`` matrix (when absent: the size the caller expects, else
  the largest row and column named); a cell no MatCell gives is ``diagDefault`` on the
  diagonal and ``offDiagDefault`` elsewhere, else 0. With ``kind="symmetric"`` each MatCell
  also sets its mirror.

Before this, general regression left absent cells NaN (missing) and ignored ``offDiagDefault``
for a diagonal matrix, while the comparison tables used 0 and honoured it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np

from portmodel.errors import DocumentError

from .. import attributes
from ..limits import check_size
from .nodes import CHOICE, INTEGER, NUMBER, Attr, Child, Fragment, Node, Spec, line_field
from .verification import Array


@dataclass(frozen=True, slots=True)
class MatCell(Node):
    row: int | None = None
    col: int | None = None
    text: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("MatCell", (Attr("row", "row", INTEGER, True),
                                           Attr("col", "col", INTEGER, True)), text="text")


class _Where(NamedTuple):
    sourceline: int | None
    tag: str


@dataclass(frozen=True, slots=True)
class Matrix(Node):
    kind: str | None = None
    nb_rows: int | None = None
    nb_cols: int | None = None
    diag_default: float | None = None
    off_diag_default: float | None = None
    arrays: tuple[Array, ...] = ()
    cells: tuple[MatCell, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Matrix", (
        Attr("kind", "kind", CHOICE, options=("diagonal", "symmetric", "any")),
        Attr("nb_rows", "nbRows", INTEGER), Attr("nb_cols", "nbCols", INTEGER),
        Attr("diag_default", "diagDefault", NUMBER),
        Attr("off_diag_default", "offDiagDefault", NUMBER)),
        (Child("arrays", (Array,), True), Child("cells", (MatCell,), True)))

    def _error(self, message: str, line: int | None = None, element: str = "Matrix"):
        return DocumentError(message, line=line if line is not None else self.line,
                             element=element)

    def _numbers(self, array: Array) -> list[float]:
        try:
            return [attributes.parse_number(t) for t in array.values()]
        except ValueError:
            raise self._error("Array holds a non-number", array.line, "Array") from None

    def to_array(self, size: int | None = None) -> np.ndarray:
        """The matrix as a 2-D float array (size: the square size the caller expects, used
        when MatCells come without nbRows/nbCols)."""
        where = _Where(self.line, "Matrix")
        kind = self.kind or "any"
        for attr, value in (("nbRows", self.nb_rows), ("nbCols", self.nb_cols)):
            if value is not None and value < 0:
                raise self._error(f"attribute {attr}={value} is less than 0")
        off = 0.0 if self.off_diag_default is None else self.off_diag_default
        if self.arrays:
            rows = [self._numbers(a) for a in self.arrays]
            if kind == "diagonal":
                d = rows[0]
                check_size(len(d) * len(d), 0, where, "a diagonal Matrix")
                m = np.full((len(d), len(d)), off)
                np.fill_diagonal(m, d)
                return m
            if kind == "symmetric":
                k = len(rows)
                if any(len(r) != i + 1 for i, r in enumerate(rows)):
                    raise self._error("symmetric Matrix rows must hold the lower triangle")
                m = np.zeros((k, k))
                for i, r in enumerate(rows):
                    m[i, :i + 1] = r
                    m[:i + 1, i] = r
                return m
            width = max(len(r) for r in rows)
            if any(len(r) != width for r in rows):
                raise self._error("Matrix rows differ in length")
            return np.asarray(rows, float)
        for c in self.cells:
            for attr, value in (("row", c.row), ("col", c.col)):
                if value < 1:
                    raise self._error(f"attribute {attr}={value} is less than 1", c.line,
                                      "MatCell")
        nb_rows = self.nb_rows if self.nb_rows is not None else (
            size if size is not None else max((c.row for c in self.cells), default=0))
        nb_cols = self.nb_cols if self.nb_cols is not None else (
            size if size is not None else max((c.col for c in self.cells), default=0))
        check_size(nb_rows * nb_cols, len(self.cells), where, "nbRows x nbCols")
        m = np.full((nb_rows, nb_cols), off)
        if self.diag_default is not None:
            np.fill_diagonal(m, self.diag_default)
        symmetric = kind == "symmetric"
        for c in self.cells:
            i, j = c.row - 1, c.col - 1
            if i >= nb_rows or j >= nb_cols or (symmetric and (j >= nb_rows or i >= nb_cols)):
                raise self._error(f"MatCell row={c.row} col={c.col} is outside the "
                                  f"{nb_rows}x{nb_cols} Matrix", c.line, "MatCell")
            try:
                v = attributes.parse_number(c.text or "")
            except ValueError:
                raise self._error(f"MatCell {c.text!r} is not a number", c.line,
                                  "MatCell") from None
            m[i, j] = v
            if symmetric:
                m[j, i] = v
        return m
