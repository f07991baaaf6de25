"""Field descriptors: what a model takes in and gives back."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Interval:
    """A range of valid values; closure is one of openOpen, openClosed, closedOpen, closedClosed."""

    closure: str
    left: float | None
    right: float | None

    def contains_text(self) -> str:
        lb = "[" if self.closure.startswith("closed") else "("
        rb = "]" if self.closure.endswith("Closed") else ")"
        lo = "-inf" if self.left is None else repr(self.left)
        hi = "inf" if self.right is None else repr(self.right)
        return f"{lb}{lo}, {hi}{rb}"


@dataclass(frozen=True)
class Field:
    """One input, target or output field of a model.

    data_type: the document's type name (double, integer, string, boolean, date, ...).
    op_type: continuous, categorical or ordinal (None for outputs that do not say).
    values: the valid values in document order (categorical/ordinal), or None.
    intervals: valid ranges for continuous fields, or ().
    """

    name: str
    data_type: str
    op_type: str | None = None
    values: tuple[Any, ...] | None = None
    intervals: tuple[Interval, ...] = ()
    missing_values: tuple[Any, ...] = ()
    usage: str = "active"
    extra: dict = field(default_factory=dict, compare=False)

    def describe(self) -> dict:
        """A JSON-friendly dict of this descriptor."""
        out = {"name": self.name, "data_type": self.data_type, "op_type": self.op_type,
               "usage": self.usage}
        if self.values is not None:
            out["values"] = list(self.values)
        if self.intervals:
            out["intervals"] = [i.contains_text() for i in self.intervals]
        if self.missing_values:
            out["missing_values"] = list(self.missing_values)
        out.update(self.extra)
        return out
