"""Scorers that read one record as a packed numeric row (see pmml/record.py for the contract).

Most single-record time goes around the arithmetic, not into it: one dict lookup per field,
an environment dict, a list per step, one argument per array of a compiled call. A model whose
inputs are all numeric fields read as they are (no derived fields, no text) can skip all of
that: the plan picks the field values out of the record in one C call, checks that every one
is a Python float, packs them with room for the results into one ``array('d')`` (the row), and
hands the row to one compiled call that rounds float fields to float32, checks that every
value is finite, and scores (``_record_numba``'s ``*_row`` kernels; the ``*_twin`` functions
are their plain-Python twins, used without numba and checked against them).

A ``RowScorer`` offers both ways in: called with the environment dict as every scorer is, and
``row(buf)`` on the packed row. Either gives the same answer for the same record.
"""
from __future__ import annotations

from array import array
from typing import Any, Callable

Answer = Any


class RowScorer:
    """A scorer with a packed-row entry.

    fields: the numeric fields, in the order the row holds them; width: the row's length (the
    fields, then room for the results, zeros); row(buf) -> answer or None (decline), where buf
    is an ``array('d')`` of the fields' values as given (the row entry rounds and checks them);
    env: the ordinary scorer, env dict -> answer or None; rebase(fields): the same scorer
    reading a row of other fields (a superset, in another order), or None where it cannot."""

    __slots__ = ("fields", "width", "row", "env", "_rebase")

    def __init__(self, fields: tuple[str, ...], width: int,
                 row: Callable[[array], Answer | None], env: Callable[[dict], Answer | None],
                 rebase: Callable[[tuple[str, ...]], "RowScorer | None"] | None = None):
        self.fields = tuple(fields)
        self.width = width
        self.row = row
        self.env = env
        self._rebase = rebase

    def rebase(self, fields: tuple[str, ...]) -> "RowScorer | None":
        """This scorer over a row of ``fields`` (which hold its own), or None."""
        fields = tuple(fields)
        if fields == self.fields:
            return self
        if self._rebase is None or not set(self.fields) <= set(fields):
            return None
        return self._rebase(fields)

    def __call__(self, env: dict) -> Answer | None:
        return self.env(env)

    def then(self, post: Callable[[Answer], Answer | None]) -> "RowScorer":
        """The same scorer with ``post`` applied to every answer (None declines)."""
        row, env = self.row, self.env

        def row_post(buf):
            a = row(buf)
            return None if a is None else post(a)

        def env_post(e):
            a = env(e)
            return None if a is None else post(a)
        rebase = None
        if self._rebase is not None:
            def rebase(fields):
                r = self.rebase(fields)
                return None if r is None else r.then(post)
        return RowScorer(self.fields, self.width, row_post, env_post, rebase)


def packed_row(scorer: Any, numeric: list[str]) -> RowScorer | None:
    """The scorer as a RowScorer over exactly the plan's numeric readers, or None."""
    if not isinstance(scorer, RowScorer) or not numeric:
        return None
    return scorer.rebase(tuple(numeric))
