"""Runtime scopes: where a compiled plan finds field columns during one batch.

Scopes nest like the document does (data dictionary -> model -> segment model -> output); a
field is computed at most once per scope, on first use, and row errors are shared by the batch.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from portmodel.errors import ScoringError

from .values import Col

FieldFn = Callable[["Scope"], Col]


class Scope:
    """Lazy field lookup for one batch of n rows."""

    __slots__ = ("n", "parent", "defs", "cache", "errors")

    def __init__(self, n: int, parent: "Scope | None" = None,
                 defs: dict[str, FieldFn] | None = None,
                 errors: dict[int, ScoringError] | None = None):
        self.n = n
        self.parent = parent
        self.defs = defs or {}
        self.cache: dict[str, Col] = {}
        if errors is None:
            errors = parent.errors if parent is not None else {}
        self.errors = errors

    def child(self, defs: dict[str, FieldFn] | None = None) -> "Scope":
        return Scope(self.n, self, dict(defs or {}), self.errors)

    def get(self, name: str) -> Col:
        scope: Scope | None = self
        while scope is not None:
            col = scope.cache.get(name)
            if col is not None:
                return col
            fn = scope.defs.get(name)
            if fn is not None:
                col = fn(scope)
                scope.cache[name] = col
                return col
            scope = scope.parent
        raise KeyError(name)

    def has(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.cache or name in scope.defs:
                return True
            scope = scope.parent
        return False

    def put(self, name: str, col: Col) -> None:
        self.cache[name] = col

    def fail(self, mask: np.ndarray, make: Callable[[int], ScoringError]) -> None:
        """Record an error for each row in mask that has none yet."""
        for i in np.flatnonzero(mask):
            i = int(i)
            if i not in self.errors:
                self.errors[i] = make(i)

    def failed_mask(self) -> np.ndarray:
        m = np.zeros(self.n, bool)
        if self.errors:
            m[list(self.errors)] = True
        return m
