"""Bounds on the work and memory a PMML document may cause: a service loads strangers' documents.

Load-time budgets (exceeding one is a ``DocumentError`` naming the element and line):

- ``MAX_EXPRESSION_COST``: expression nodes evaluated per row by one expression, with every
  call of a user-defined function expanded (calls with the same arguments in one body count
  once: they are evaluated once). A chain of DefineFunctions each calling the previous one
  with different arguments doubles per link and is refused here.
- ``MAX_EXPRESSION_DEPTH``: nesting of expressions (through function bodies too). Evaluation
  recurses once per level, so this keeps scoring far from Python's recursion limit.
- ``MAX_ALLOCATION``: elements a size attribute (``n``, ``nbRows`` x ``nbCols``, ...) may ask
  for beyond the content actually present in the document.

Score-time: ``SCORE_TIMEOUT`` (seconds, or None for none) is the default wall-clock limit of one
scoring call; ``portmodel.load(..., timeout=)`` sets it per model. Past it, scoring raises
``ResourceLimitError``. Change these module attributes to change the defaults.
"""
from __future__ import annotations

import contextvars
import time

from portmodel.errors import DocumentError, ResourceLimitError

MAX_EXPRESSION_COST = 50_000
MAX_EXPRESSION_DEPTH = 100
MAX_ALLOCATION = 20_000_000
SCORE_TIMEOUT: float | None = None

#: the deadline (time.monotonic()) of the scoring call running in this context, or None
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline",
                                                                         default=None)


def _where(item) -> dict:
    from .location import where
    return where(item)


class Budget:
    """What one document's compilation has spent: the nesting depth reached right now."""

    __slots__ = ("depth",)

    def __init__(self) -> None:
        self.depth = 0

    def enter(self, el) -> None:
        """One expression level deeper; refuse a document nested beyond the limit (el: the
        element or typed node entered, named in the error)."""
        self.depth += 1
        if self.depth > MAX_EXPRESSION_DEPTH:
            raise DocumentError(f"expressions nest deeper than {MAX_EXPRESSION_DEPTH} levels "
                                "(portmodel.pmml.limits.MAX_EXPRESSION_DEPTH)",
                                **_where(el))


def check_expression(cost: int, depth: int, el) -> None:
    """Refuse an expression whose per-row cost or nesting exceeds the load-time budgets."""
    if cost > MAX_EXPRESSION_COST:
        raise DocumentError(f"expression evaluates {cost} nodes per row, more than "
                            f"{MAX_EXPRESSION_COST} (portmodel.pmml.limits.MAX_EXPRESSION_COST)",
                            **_where(el))
    if depth > MAX_EXPRESSION_DEPTH:
        raise DocumentError(f"expressions nest deeper than {MAX_EXPRESSION_DEPTH} levels "
                            "(portmodel.pmml.limits.MAX_EXPRESSION_DEPTH)",
                            **_where(el))


def check_size(requested: int, present: int, el, attr: str) -> None:
    """Refuse a size attribute asking for more elements than the document holds and than
    ``MAX_ALLOCATION``, before anything is allocated for it."""
    if requested < 0:
        raise DocumentError(f"{attr}={requested} is negative", **_where(el))
    if requested > max(present, MAX_ALLOCATION):
        raise DocumentError(f"{attr} asks for {requested} elements, more than the {present} "
                            f"present and than {MAX_ALLOCATION} "
                            "(portmodel.pmml.limits.MAX_ALLOCATION)",
                            **_where(el))


class deadline:
    """Context manager: scoring in this context must end within ``seconds`` (None: no limit)."""

    __slots__ = ("seconds", "token")

    def __init__(self, seconds: float | None):
        self.seconds = seconds

    def __enter__(self) -> None:
        outer = _deadline.get()
        mine = None if self.seconds is None else time.monotonic() + self.seconds
        if outer is not None and (mine is None or outer < mine):
            mine = outer
        self.token = _deadline.set(mine)

    def __exit__(self, *exc) -> None:
        _deadline.reset(self.token)


def check_deadline() -> None:
    """Raise ResourceLimitError once the running scoring call is past its deadline."""
    end = _deadline.get()
    if end is not None and time.monotonic() > end:
        raise ResourceLimitError("scoring exceeded its time limit (portmodel.load(..., "
                                 "timeout=) or portmodel.pmml.limits.SCORE_TIMEOUT)")
