"""Compile-time context: which fields and functions a piece of the document can see."""
from __future__ import annotations

from typing import Any

from portmodel.errors import DocumentError

from . import location
from .dictionary import FieldInfo
from .limits import Budget


class Ctx:
    """Field and function names visible while compiling one part of a document (nested)."""

    def __init__(self, fields: dict[str, FieldInfo] | None = None, parent: "Ctx | None" = None,
                 functions: dict[str, Any] | None = None, version: str = "4.4",
                 leniency: Any = None, budget: Budget | None = None):
        self.fields: dict[str, FieldInfo] = dict(fields or {})
        self.parent = parent
        self.functions: dict[str, Any] = functions if functions is not None else (
            parent.functions if parent is not None else {})
        self.version = parent.version if parent is not None else version
        #: the document's compile budget (shared by every context of one document)
        self.budget: Budget = budget or (parent.budget if parent is not None else Budget())
        #: user-function calls already counted in this context's cost (see functions.py)
        self.calls: set = set()
        #: the typed document (``objects.Document``) the root context compiles, set by the
        #: document while it compiles (segment models find the model holding them through it)
        self.document = None
        if parent is not None:
            leniency = parent.leniency
        elif leniency is None:
            from .leniency import Leniency
            leniency = Leniency()
        #: the document's ``leniency.Leniency``: traits read the way the reference engines do
        self.leniency = leniency

    def root_defs(self) -> dict[str, Any]:
        """The compiled TransformationDictionary fields (``global_defs`` of the root context,
        set by the document once they are compiled; empty before)."""
        ctx = self
        while ctx.parent is not None:
            ctx = ctx.parent
        return getattr(ctx, "global_defs", {})

    def child(self) -> "Ctx":
        return Ctx(parent=self)

    def lookup(self, name: str) -> FieldInfo | None:
        ctx: Ctx | None = self
        while ctx is not None:
            info = ctx.fields.get(name)
            if info is not None:
                return info
            ctx = ctx.parent
        return None

    def require(self, name: str | None, where: Any) -> FieldInfo:
        """The FieldInfo for name, or a load-time error naming the element and line of where:
        the typed node (or Model, Fragment) that names the field (``location.where``)."""
        info = self.lookup(name) if name else None
        if info is None:
            raise DocumentError(f"reference to unknown field {name!r}", **location.where(where))
        return info

    def add(self, info: FieldInfo) -> None:
        self.fields[info.name] = info
