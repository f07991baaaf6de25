"""Fast tree scoring: a TreeModel lowered to flat parallel arrays and walked row by row in numba.

The lowered form (``Lowered``) holds, per node, the index of its predicate, the range of its
children in one flat ``kids`` array, its default child and a ``binary`` flag; per predicate
*entry*, an operator code, a feature column, a float threshold and a range (into ``sets`` for
set predicates, into ``args`` for compound predicates). Categorical (string) fields are encoded
as float codes per field (unknown value -> -1, which matches nothing; missing -> NaN), so every
test is a float comparison. Compound predicates are stored in post-order: the entries of one
predicate's subtree are contiguous and end at its root, so they evaluate in one forward scan.

A node whose two children test complementary simple predicates on one field (``x <= t`` /
``x > t``, ``equal`` / ``notEqual``, ``isIn`` / ``isNotIn``) is ``binary``: one test decides
between the children, and a missing value (UNKNOWN) is routed by missingValueStrategy.

``run`` gives exactly what ``tree.walk`` gives (leaf node index per row, -1 for no prediction,
and the missing-value penalty or None). Without numba, or with PORTMODEL_NO_NUMBA=1, a numpy
version walks the same arrays level by level (all rows advance one level per step).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..predicates import Pred
from ..scope import Scope
from ..values import Col, codes, is_numeric_type

# ----------------------------------------------------------------- operator and strategy codes
OP_TRUE, OP_FALSE, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE = 0, 1, 2, 3, 4, 5, 6, 7
OP_MISSING, OP_NOTMISSING, OP_IN, OP_NOTIN = 8, 9, 10, 11
OP_AND, OP_OR, OP_XOR, OP_SURROGATE = 20, 21, 22, 23
_SIMPLE_OPS = {"equal": OP_EQ, "notEqual": OP_NE, "lessThan": OP_LT, "lessOrEqual": OP_LE,
               "greaterThan": OP_GT, "greaterOrEqual": OP_GE, "isMissing": OP_MISSING,
               "isNotMissing": OP_NOTMISSING}
_COMPOUND_OPS = {"and": OP_AND, "or": OP_OR, "xor": OP_XOR, "surrogate": OP_SURROGATE}
_COMPLEMENT = {OP_LE: OP_GT, OP_GT: OP_LE, OP_LT: OP_GE, OP_GE: OP_LT, OP_EQ: OP_NE, OP_NE: OP_EQ,
               OP_IN: OP_NOTIN, OP_NOTIN: OP_IN, OP_MISSING: OP_NOTMISSING,
               OP_NOTMISSING: OP_MISSING}
_ORDERING = (OP_LT, OP_LE, OP_GT, OP_GE)

S_NONE, S_LAST, S_NULL, S_DEFAULT = 0, 1, 2, 3
STRATEGY_CODES = {"none": S_NONE, "lastPrediction": S_LAST, "nullPrediction": S_NULL,
                  "defaultChild": S_DEFAULT}

FALSE, TRUE, UNKNOWN = 0, 1, 2
PARALLEL_MIN_ROWS = 20_000   # below this many row-tree walks, thread start-up costs more than it saves


class NotLowerable(Exception):
    """The tree uses something the flat arrays cannot express (the general walk is used)."""


def numba_enabled() -> bool:
    if os.environ.get("PORTMODEL_NO_NUMBA", "") not in ("", "0"):
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


# ----------------------------------------------------------------- lowering


@dataclass
class FieldSlot:
    """One input column of the feature matrix."""

    name: str
    numeric: bool
    cats: dict[Any, int]         # string fields: value -> code


class Lowered:
    """Flat arrays for one or more trees (node indices are global across trees)."""

    def __init__(self) -> None:
        self.slots: list[FieldSlot] = []
        self._slot_of: dict[str, int] = {}
        # predicate entries
        self.e_op: list[int] = []
        self.e_feat: list[int] = []
        self.e_thr: list[float] = []
        self.e_lo: list[int] = []
        self.e_hi: list[int] = []
        self.e_start: list[int] = []
        self.args: list[int] = []
        self.sets: list[float] = []
        # nodes
        self.pred: list[int] = []
        self.kid_lo: list[int] = []
        self.kid_hi: list[int] = []
        self.kids: list[int] = []
        self.binary: list[int] = []
        self.default: list[int] = []
        # trees
        self.roots: list[int] = []
        self.sizes: list[int] = []
        self.strategy: list[int] = []
        self.last: list[int] = []
        self.factor: list[float] = []
        self._pred_memo: dict[int, int] = {}

    # -- fields
    def slot(self, p: Pred) -> int:
        name = p.field
        j = self._slot_of.get(name)
        if j is None:
            info = p.info
            numeric = is_numeric_type(info.data_type) if info is not None else True
            j = self._slot_of[name] = len(self.slots)
            self.slots.append(FieldSlot(name, numeric, {}))
        return j

    def _code(self, slot: FieldSlot, value: Any) -> float:
        if slot.numeric:
            return float(value)
        if value not in slot.cats:
            slot.cats[value] = len(slot.cats)
        return float(slot.cats[value])

    # -- predicates
    def _entry(self, op: int, feat: int = -1, thr: float = 0.0, lo: int = 0, hi: int = 0,
               start: int | None = None) -> int:
        e = len(self.e_op)
        self.e_op.append(op)
        self.e_feat.append(feat)
        self.e_thr.append(thr)
        self.e_lo.append(lo)
        self.e_hi.append(hi)
        self.e_start.append(e if start is None else start)
        return e

    def lower_pred(self, p: Pred) -> int:
        """Append p's entries in post-order; return the index of its root entry."""
        if p.kind == "true":
            return self._entry(OP_TRUE)
        if p.kind == "false":
            return self._entry(OP_FALSE)
        if p.kind == "simple":
            op = _SIMPLE_OPS.get(p.op)
            if op is None:
                raise NotLowerable(p.op)
            j = self.slot(p)
            slot = self.slots[j]
            if op in (OP_MISSING, OP_NOTMISSING):
                return self._entry(op, j)
            if not slot.numeric and op in _ORDERING:
                raise NotLowerable("ordering comparison of a string field")
            if p.value is None or (slot.numeric and not isinstance(p.value, (int, float))):
                raise NotLowerable("non-numeric value for a numeric field")
            return self._entry(op, j, self._code(slot, p.value))
        if p.kind == "set":
            j = self.slot(p)
            slot = self.slots[j]
            vals: set[float] = set()
            for v in p.values:
                if slot.numeric and not isinstance(v, (int, float)):
                    raise NotLowerable("non-numeric set member for a numeric field")
                c = self._code(slot, v)
                if c == c:                       # NaN matches nothing
                    vals.add(c)
            lo = len(self.sets)
            self.sets.extend(sorted(vals))
            return self._entry(OP_IN if p.op == "isIn" else OP_NOTIN, j, 0.0, lo, len(self.sets))
        if p.kind == "compound":
            op = _COMPOUND_OPS.get(p.op)
            if op is None:
                raise NotLowerable(p.op)
            start = len(self.e_op)
            kids = [self.lower_pred(c) for c in p.children]
            lo = len(self.args)
            self.args.extend(kids)
            return self._entry(op, -1, 0.0, lo, len(self.args), start)
        raise NotLowerable(p.kind)

    def _same_set(self, a: int, b: int) -> bool:
        return self.sets[self.e_lo[a]:self.e_hi[a]] == self.sets[self.e_lo[b]:self.e_hi[b]]

    def complementary(self, a: int, b: int) -> bool:
        """Entries a and b are simple tests on one field, b true exactly where a is false."""
        oa, ob = self.e_op[a], self.e_op[b]
        if oa >= OP_AND or ob >= OP_AND or oa in (OP_TRUE, OP_FALSE):
            return False
        if _COMPLEMENT.get(oa) != ob or self.e_feat[a] != self.e_feat[b]:
            return False
        if oa in (OP_IN, OP_NOTIN):
            return self._same_set(a, b)
        if oa in (OP_MISSING, OP_NOTMISSING):
            return True
        ta, tb = self.e_thr[a], self.e_thr[b]
        return ta == tb                          # NaN thresholds are never complementary

    # -- trees
    def add_tree(self, tree, strategy: str, no_true_child: str, penalty: float) -> int:
        """Append one TreeArrays; return its root's global node index."""
        if strategy not in STRATEGY_CODES:
            raise NotLowerable(strategy)
        base = len(self.pred)
        n = len(tree.pred)
        for i in range(n):
            self.pred.append(self.lower_pred(tree.pred[i]))
        for i in range(n):
            kids = tree.children[i]
            self.kid_lo.append(len(self.kids))
            self.kids.extend(base + c for c in kids)
            self.kid_hi.append(len(self.kids))
            self.binary.append(int(len(kids) == 2 and self.complementary(
                self.pred[base + kids[0]], self.pred[base + kids[1]])))
            dc = int(tree.default_child[i])
            self.default.append(base + dc if dc >= 0 else -1)
        self.roots.append(base)
        self.sizes.append(n)
        self.strategy.append(STRATEGY_CODES[strategy])
        self.last.append(int(no_true_child == "returnLastPrediction"))
        self.factor.append(float(penalty))
        return base

    def freeze(self) -> "Frozen":
        i32 = np.int32
        sub = [e - s + 1 for e, s in zip(range(len(self.e_start)), self.e_start)]
        return Frozen(
            slots=list(self.slots),
            e_op=np.array(self.e_op, np.int8), e_feat=np.array(self.e_feat, i32),
            e_thr=np.array(self.e_thr, np.float64), e_lo=np.array(self.e_lo, i32),
            e_hi=np.array(self.e_hi, i32), e_start=np.array(self.e_start, i32),
            args=np.array(self.args + [0], i32), sets=np.array(self.sets + [0.0], np.float64),
            pred=np.array(self.pred, i32), kid_lo=np.array(self.kid_lo, i32),
            kid_hi=np.array(self.kid_hi, i32), kids=np.array(self.kids + [0], i32),
            binary=np.array(self.binary, np.int8), default=np.array(self.default, i32),
            roots=np.array(self.roots, i32), strategy=np.array(self.strategy, np.int8),
            last=np.array(self.last, np.int8), factor=np.array(self.factor, np.float64),
            scratch=max(sub, default=1),
            compound=bool(np.any(np.array(self.e_op, np.int64) >= OP_AND)),
            max_kids=max((h - l for l, h in zip(self.kid_lo, self.kid_hi)), default=0),
        )


@dataclass
class Frozen:
    slots: list[FieldSlot]
    e_op: np.ndarray
    e_feat: np.ndarray
    e_thr: np.ndarray
    e_lo: np.ndarray
    e_hi: np.ndarray
    e_start: np.ndarray
    args: np.ndarray
    sets: np.ndarray
    pred: np.ndarray
    kid_lo: np.ndarray
    kid_hi: np.ndarray
    kids: np.ndarray
    binary: np.ndarray
    default: np.ndarray
    roots: np.ndarray
    strategy: np.ndarray
    last: np.ndarray
    factor: np.ndarray
    scratch: int
    compound: bool
    max_kids: int

    def tree_args(self) -> tuple:
        """The arrays every kernel takes, in its parameter order."""
        return (self.pred, self.kid_lo, self.kid_hi, self.kids, self.binary, self.default,
                self.e_op, self.e_feat, self.e_thr, self.e_lo, self.e_hi, self.e_start,
                self.args, self.sets)

    def features(self, scope: Scope) -> np.ndarray | None:
        """Row-major float matrix of the input fields (NaN = missing); None when a column does
        not fit the encoding (then the general walk decides)."""
        n = scope.n
        X = np.empty((n, max(len(self.slots), 1)), np.float64)
        for j, slot in enumerate(self.slots):
            col: Col = scope.get(slot.name)
            vals = col.values
            if slot.numeric:
                if vals.dtype.kind != "f":
                    return None
                nan = np.isnan(vals)
                if nan.any() and not np.array_equal(nan, nan & col.missing):
                    return None                  # a NaN value that is not missing
                X[:, j] = vals
                if col.missing.any():
                    X[col.missing, j] = np.nan
            else:
                if vals.dtype != object:
                    return None
                cats = list(slot.cats)
                c = codes(vals, cats).astype(np.float64) if cats else np.full(n, -1.0)
                c[col.missing] = np.nan
                X[:, j] = c
        return X


# ----------------------------------------------------------------- numba kernels

_KERNELS: dict[str, Any] = {}


def _numba_kernels() -> dict[str, Any]:
    """Compile (or load from the on-disk cache) the numba kernels once per process."""
    if _KERNELS:
        return _KERNELS
    from . import _tree_numba
    _KERNELS.update(single=_tree_numba.walk_rows, single_par=_tree_numba.walk_rows_par,
                    forest=_tree_numba.forest_rows, forest_par=_tree_numba.forest_rows_par)
    return _KERNELS


# ----------------------------------------------------------------- numpy fallback


def _np_simple(fz: Frozen, X: np.ndarray, rows: np.ndarray, ent: np.ndarray) -> np.ndarray:
    op = fz.e_op[ent]
    out = np.zeros(len(rows), np.int8)
    feat = fz.e_feat[ent]
    x = X[rows, np.maximum(feat, 0)]
    nan = np.isnan(x)
    thr = fz.e_thr[ent]
    out[op == OP_TRUE] = TRUE
    m = op == OP_MISSING
    out[m] = nan[m]
    m = op == OP_NOTMISSING
    out[m] = ~nan[m]
    with np.errstate(invalid="ignore"):
        for code, fn in ((OP_EQ, np.equal), (OP_NE, np.not_equal), (OP_LT, np.less),
                         (OP_LE, np.less_equal), (OP_GT, np.greater), (OP_GE, np.greater_equal)):
            m = op == code
            if m.any():
                out[m] = fn(x[m], thr[m])
    sm = (op == OP_IN) | (op == OP_NOTIN)
    if sm.any():
        for e in np.unique(ent[sm]):
            m = ent == e
            members = fz.sets[fz.e_lo[e]:fz.e_hi[e]]
            hit = np.isin(x[m], members)
            out[m] = hit if fz.e_op[e] == OP_IN else ~hit
    value_test = (op >= OP_EQ) & (op <= OP_GE) | sm
    out[value_test & nan] = UNKNOWN
    return out


def _np_eval(fz: Frozen, X: np.ndarray, rows: np.ndarray, ent: np.ndarray) -> np.ndarray:
    """Three-valued result (0 false, 1 true, 2 unknown) of entry ent[i] on row rows[i]."""
    comp = fz.e_op[ent] >= OP_AND
    if not comp.any():
        return _np_simple(fz, X, rows, ent)
    out = np.empty(len(rows), np.int8)
    s = ~comp
    out[s] = _np_simple(fz, X, rows[s], ent[s])
    ci = np.flatnonzero(comp)
    ce = ent[ci]
    crows = rows[ci]
    op = fz.e_op[ce]
    lo = fz.e_lo[ce]
    arity = fz.e_hi[ce] - lo
    res = np.where(op == OP_AND, TRUE, np.where(op == OP_OR, FALSE, 0)).astype(np.int8)
    res[op == OP_SURROGATE] = UNKNOWN
    any_unknown = np.zeros(len(ci), bool)
    found = np.zeros(len(ci), bool)          # surrogate: a known child seen
    for k in range(int(arity.max())):
        m = k < arity
        v = np.full(len(ci), UNKNOWN, np.int8)
        v[m] = _np_eval(fz, X, crows[m], fz.args[lo[m] + k])
        and_ = m & (op == OP_AND)
        res[and_ & (v == FALSE)] = FALSE
        or_ = m & (op == OP_OR)
        res[or_ & (v == TRUE)] = TRUE
        xor = m & (op == OP_XOR)
        res[xor & (v == TRUE)] ^= 1
        any_unknown |= m & (v == UNKNOWN) & (op != OP_SURROGATE)
        sur = m & (op == OP_SURROGATE) & ~found & (v != UNKNOWN)
        res[sur] = v[sur]
        found |= sur
    # and: FALSE wins, else UNKNOWN if any unknown; or: TRUE wins; xor: any unknown -> UNKNOWN
    fix = any_unknown & (((op == OP_AND) & (res != FALSE)) | ((op == OP_OR) & (res != TRUE))
                         | (op == OP_XOR))
    res[fix] = UNKNOWN
    out[ci] = res
    return out


def np_walk_tree(fz: Frozen, X: np.ndarray, t: int, penalty: np.ndarray | None) -> np.ndarray:
    """Leaf (global node index, -1 none) of tree t for every row, level by level."""
    n = X.shape[0]
    leaf = np.full(n, -1, np.int64)
    root = int(fz.roots[t])
    strategy = int(fz.strategy[t])
    last = bool(fz.last[t])
    factor = float(fz.factor[t])
    rows = np.arange(n)
    v = _np_eval(fz, X, rows, np.full(n, fz.pred[root], np.int64))
    rows = rows[v == TRUE]
    node = np.full(len(rows), root, np.int64)
    while len(rows):
        lo = fz.kid_lo[node].astype(np.int64)
        nk = fz.kid_hi[node] - lo
        at_leaf = nk == 0
        leaf[rows[at_leaf]] = node[at_leaf]
        keep = ~at_leaf
        rows, node, lo, nk = rows[keep], node[keep], lo[keep], nk[keep]
        m = len(rows)
        nxt = np.full(m, -1, np.int64)
        open_ = np.ones(m, bool)                 # still looking for a child
        binary = fz.binary[node].astype(bool)
        first_false = np.zeros(m, bool)
        for k in range(int(nk.max()) if m else 0):
            cand = open_ & (k < nk)
            if not cand.any():
                break
            res = np.full(m, FALSE, np.int8)
            shortcut = cand & binary & (k == 1)   # complementary second child
            res[shortcut & first_false] = TRUE
            res[shortcut & ~first_false] = UNKNOWN
            ev = cand & ~shortcut
            idx = np.flatnonzero(ev)
            res[idx] = _np_eval(fz, X, rows[idx], fz.pred[fz.kids[lo[idx] + k]].astype(np.int64))
            if k == 0:
                first_false = res == FALSE
            take = cand & (res == TRUE)
            nxt[take] = fz.kids[lo[take] + k]
            open_ &= ~take
            unk = cand & (res == UNKNOWN)
            if strategy != S_NONE and unk.any():
                ui = np.flatnonzero(unk)
                if strategy == S_LAST:
                    leaf[rows[ui]] = node[ui]
                elif strategy == S_NULL:
                    leaf[rows[ui]] = -1
                else:
                    dc = fz.default[node[ui]].astype(np.int64)
                    has = dc >= 0
                    leaf[rows[ui[~has]]] = node[ui[~has]]
                    nxt[ui[has]] = dc[has]
                    if penalty is not None:
                        penalty[rows[ui[has]]] *= factor
                open_[ui] = False
        if last:
            leaf[rows[open_]] = node[open_]
        go = nxt >= 0
        rows, node = rows[go], nxt[go]
    return leaf


# ----------------------------------------------------------------- the single-tree kernel


class TreeKernel:
    """One TreeModel lowered to flat arrays; ``run`` has the contract of ``tree.walk``."""

    def __init__(self, fz: Frozen, tree, model):
        self.fz = fz
        self.tree = tree
        self.model = model
        self.use_numba = numba_enabled()

    def run(self, scope: Scope) -> tuple[np.ndarray, np.ndarray | None]:
        fz = self.fz
        X = fz.features(scope)
        if X is None:
            from .tree import walk
            return walk(self.tree, self.model, scope)
        n = scope.n
        want_penalty = fz.factor[0] != 1.0
        if self.use_numba and numba_enabled():
            k = _numba_kernels()
            fn = k["single_par"] if n >= PARALLEL_MIN_ROWS else k["single"]
            leaf = np.empty(n, np.int64)
            pen = np.ones(n if want_penalty else 1, np.float64)
            fn(X, int(fz.roots[0]), int(fz.strategy[0]), int(fz.last[0]), float(fz.factor[0]),
               want_penalty, *fz.tree_args(), fz.scratch, leaf, pen)
            return leaf, (pen if want_penalty else None)
        pen = np.ones(n) if want_penalty else None
        return np_walk_tree(fz, X, 0, pen), pen


def lower_tree(tree, model) -> Frozen:
    low = Lowered()
    low.add_tree(tree, model.missing_strategy, model.no_true_child, model.penalty)
    return low.freeze()


def compile_kernel(tree, model) -> TreeKernel | None:
    """Lower a TreeModel's tree; None when its predicates or strategy need the general walk."""
    if model.missing_strategy not in STRATEGY_CODES:
        return None
    try:
        fz = lower_tree(tree, model)
    except NotLowerable:
        return None
    return TreeKernel(fz, tree, model)
