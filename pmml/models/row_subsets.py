"""Row subsets of a batch: a scope over some rows of another (fields sliced on first use,
per-row errors mapped back to the source rows), and the row-wise take / expand / combine of
per-row values and Results that segment-wise scoring needs."""
from __future__ import annotations

from typing import Any

import numpy as np

from portmodel.errors import ScoringError

from ..scope import Scope
from ..values import Col
from .base import Result, SegmentView


class _SliceDefs:
    """Field functions of a row-subset scope: whatever the source scope knows, restricted."""

    __slots__ = ("src", "rows")

    def __init__(self, src: Scope, rows: np.ndarray):
        self.src = src
        self.rows = rows

    def get(self, name: str, default=None):
        if not self.src.has(name):
            return default
        src, rows = self.src, self.rows
        return lambda s: take(src.get(name), rows)

    def __contains__(self, name: str) -> bool:
        return self.src.has(name)

    def __bool__(self) -> bool:
        return True


class _RowErrors:
    """The error map of a row subset: local row i is row rows[i] of the source."""

    def __init__(self, target, rows: np.ndarray):
        self.target = target
        self.rows = rows

    def __contains__(self, i) -> bool:
        return int(self.rows[i]) in self.target

    def __getitem__(self, i):
        return self.target[int(self.rows[i])]

    def __setitem__(self, i, err) -> None:
        g = int(self.rows[i])
        if isinstance(err, ScoringError) and err.row == i:
            ScoringError.__init__(err, err.reason, err.field, g)
        self.target[g] = err

    def _local(self) -> list[int]:
        if not len(self.target):
            return []
        hit = np.isin(self.rows, np.fromiter((int(k) for k in self.target), np.int64))
        return np.flatnonzero(hit).tolist()

    def __iter__(self):
        return iter(self._local())

    def __len__(self) -> int:
        return len(self._local())

    def items(self):
        return [(i, self[i]) for i in self._local()]

    def get(self, i, default=None):
        return self[i] if i in self else default


def subset_scope(src: Scope, rows: np.ndarray) -> Scope:
    """A scope over the given rows of src (fields sliced on first use; errors mapped back)."""
    return Scope(len(rows), None, _SliceDefs(src, rows), _RowErrors(src.errors, rows))


# ---------------------------------------------------------------------- row-wise plumbing


def take(x: Any, sel: np.ndarray) -> Any:
    """Rows sel of a per-row value (array, Col, dict of them, or a function returning them)."""
    if x is None:
        return None
    if isinstance(x, Col):
        return Col(x.values[sel], x.missing[sel], x.data_type, x.op_type,
                   None if x.invalid is None else x.invalid[sel])
    if isinstance(x, np.ndarray):
        return x[sel] if x.ndim >= 1 else x
    if isinstance(x, dict):
        return {k: take(v, sel) for k, v in x.items()}
    if callable(x):
        return lambda *a, **k: take(x(*a, **k), sel)
    return x


def take_result(res: Result, sel: np.ndarray) -> Result:
    return Result(len(sel), res.function, take(res.value, sel), list(res.categories),
                  take(res.probs, sel), take(res.extra, sel),
                  {k: SegmentView(take_result(v.result, sel), take(v.outputs, sel), v.mask[sel])
                   for k, v in res.segments.items()})


def expand(x: Any, rows: np.ndarray | None, n: int) -> Any:
    """A per-row value over rows spread to n rows (missing elsewhere)."""
    if rows is None:
        return x
    return combine([(rows, x)], n)


def expand_result(res: Result, rows: np.ndarray | None, n: int) -> Result:
    if rows is None:
        return res
    return combine_results([(rows, res)], n)


def combine(parts: list[tuple[np.ndarray | None, Any]], n: int) -> Any:
    """Merge per-row values: each part covers its rows (None = all), later parts win."""
    live = [(r, x) for r, x in parts if x is not None]
    if not live:
        return None
    first = live[-1][1]
    if isinstance(first, Col):
        cols = [(r, x) for r, x in live if isinstance(x, Col)]
        vals = combine([(r, x.values) for r, x in cols], n)
        missing = np.ones(n, bool)
        for r, x in cols:
            missing[slice(None) if r is None else r] = x.missing
        invalid = None
        if any(x.invalid is not None for _, x in cols):
            invalid = np.zeros(n, bool)
            for r, x in cols:
                if x.invalid is not None:
                    invalid[slice(None) if r is None else r] = x.invalid
        return Col(vals, missing, first.data_type, first.op_type, invalid)
    if isinstance(first, np.ndarray):
        arrs = [(r, x) for r, x in live if isinstance(x, np.ndarray) and x.ndim == 1
                and x.shape[0] == (n if r is None else len(r))]
        if not arrs or arrs[-1][1] is not first:
            return first      # not a per-row array
        kinds = {x.dtype.kind for _, x in arrs}
        if kinds <= {"b"}:
            out = np.zeros(n, bool)
        elif kinds <= {"f", "i", "u", "b"}:
            out = np.full(n, np.nan)
        else:
            out = np.full(n, None, object)
        for r, x in arrs:
            out[slice(None) if r is None else r] = x
        return out
    if isinstance(first, dict):
        keys: list = []
        for _, x in live:
            if isinstance(x, dict):
                keys.extend(k for k in x if k not in keys)
        return {k: combine([(r, x.get(k)) for r, x in live if isinstance(x, dict)], n)
                for k in keys}
    if callable(first) and not isinstance(first, type):
        fns = [(r, x) for r, x in live if callable(x)]
        return lambda *a, **k: combine([(r, f(*a, **k)) for r, f in fns], n)
    return first


def combine_results(parts: list[tuple[np.ndarray | None, Result]], n: int) -> Result:
    """Row-wise merge of Results (later parts win on their rows)."""
    last = parts[-1][1]
    cats: list = []
    for _, r in parts:
        cats.extend(c for c in r.categories if c not in cats)
    value = combine([(rows, r.value) for rows, r in parts], n)
    probs = None
    if any(r.probs is not None for _, r in parts):
        probs = {}
        for c in cats:
            probs[c] = combine([(rows, r.probability(c)) for rows, r in parts], n)
        missing_any = value.missing
        for c in probs:
            probs[c] = np.where(missing_any, np.nan, probs[c])
    extra = combine([(rows, r.extra) for rows, r in parts], n) or {}
    segments: dict[str, SegmentView] = {}
    for rows, r in parts:
        for k, v in r.segments.items():
            exp = SegmentView(expand_result(v.result, rows, n), expand(v.outputs, rows, n) or {},
                              v.mask if rows is None else _expand_mask(v.mask, rows, n))
            segments[k] = exp
    return Result(n, last.function, value, cats, probs, extra, segments)


def _expand_mask(mask: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, bool)
    out[rows] = mask
    return out
