"""interp.*: histogram bins, nearest-entry lookup, linear interpolation over tables."""
from __future__ import annotations

import math

from ..errors import PFARuntimeError
from . import typed


@typed("interp.bin")
def bin_(call):
    name = "interp.bin"
    if call.sig_index == 0:
        def b(x, numbins, low, high):
            if not low < high:
                raise PFARuntimeError("bad histogram range", 22000, name)
            if numbins < 1:
                raise PFARuntimeError("bad histogram scale", 22001, name)
            if not low <= x < high:
                raise PFARuntimeError("x out of range", 22002, name)
            out = int(math.floor((x - low) / (high - low) * numbins))
            return min(out, numbins - 1)
        return b

    def b2(x, origin, width):
        if not math.isfinite(origin):
            raise PFARuntimeError("bad histogram range", 22000, name)
        if not width > 0:
            raise PFARuntimeError("bad histogram scale", 22001, name)
        if not math.isfinite(x):
            raise PFARuntimeError("x out of range", 22002, name)
        return int(math.floor((x - origin) / width))
    return b2


@typed("interp.nearest")
def nearest(call):
    name = "interp.nearest"
    i = call.sig_index

    def n(x, table, metric=None):
        if not table:
            raise PFARuntimeError("table must have at least one entry", 22010, name)
        best, best_d = None, None
        for row in table:
            if i == 0:
                d = abs(x - row["x"])
            elif i == 1:
                if len(x) != len(row["x"]):
                    raise PFARuntimeError("inconsistent dimensionality", 22011, name)
                d = sum((a - b) * (a - b) for a, b in zip(x, row["x"]))
            else:
                d = metric(x, row["x"])
            if best is None or d < best_d:
                best, best_d = row, d
        return best["to"]
    return n


def _bracket(x, table, code, name):
    """The entries just below and just above x (ties: first in table), or None beyond."""
    xs = {r["x"] for r in table}
    if len(xs) < 2:
        raise PFARuntimeError("table must have at least two distinct x values", code, name)
    below = above = None
    for r in table:
        if r["x"] <= x and (below is None or r["x"] > below["x"]):
            below = r
        if r["x"] > x and (above is None or r["x"] < above["x"]):
            above = r
    return below, above


def _interp(x, lo, hi, code, name):
    t0, t1 = lo["to"], hi["to"]
    x0, x1 = lo["x"], hi["x"]
    if isinstance(t0, list):
        if len(t0) != len(t1):
            raise PFARuntimeError("inconsistent dimensionality", code + 1, name)
        return [a + (x - x0) * (b - a) / (x1 - x0) for a, b in zip(t0, t1)]
    return t0 + (x - x0) * (t1 - t0) / (x1 - x0)


def _extrapolate_pair(table, below):
    """Two closest entries on one side, for extrapolation beyond the table."""
    ordered = sorted(table, key=lambda r: r["x"])
    distinct = []
    for r in ordered:
        if not distinct or r["x"] != distinct[-1]["x"]:
            distinct.append(r)
    if below is None:
        return distinct[0], distinct[1]
    return distinct[-2], distinct[-1]


def _linear_like(name, code, mode):
    @typed(name)
    def build(call):
        def f(x, table):
            below, above = _bracket(x, table, code, name)
            if below is not None and below["x"] == x:
                return list(below["to"]) if isinstance(below["to"], list) else below["to"]
            if below is not None and above is not None:
                return _interp(x, below, above, code, name)
            if mode == "flat":
                r = below if below is not None else above
                return r["to"]
            if mode == "missing":
                return None
            lo, hi = _extrapolate_pair(table, below)
            return _interp(x, lo, hi, code, name)
        return f


_linear_like("interp.linear", 22020, "extrapolate")
_linear_like("interp.linearFlat", 22030, "flat")
_linear_like("interp.linearMissing", 22040, "missing")
