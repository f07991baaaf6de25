"""Fast tree scoring: TreeModels lowered to flat parallel arrays and walked row by row in numba.

Two lowered forms, both over one float feature matrix (``Fields``: a column per input field,
NaN = missing; string fields become float codes per field, an unknown value -1 which matches
nothing):

* ``Graph`` (the fast form): every node's child list is unrolled into single tests. A test
  has a feature, an operator (mostly ``<=``; ``<``, ``>``, ``>=`` are rewritten into ``<=``
  with swapped branches), a threshold or a set range, and three targets: value true, value
  false, value missing. The missing target encodes missingValueStrategy; the false target of
  the last child encodes noTrueChildStrategy. A target is another test (>= 0) or a result
  (-1 no prediction, -(node + 2) prediction of ``node``). Complementary child pairs
  (sklearn2pmml's ``x <= t`` / ``x > t``, R's ``<`` / ``>=``, ``isIn`` / ``isNotIn``) and
  ``True`` else-children cost one test. Compact trees (a node testing its children in turn
  and falling back to its own score) become chains of tests. Needs predicates on one field
  with at most one value test (simple, set, and compound ones like KNIME's
  ``x <= t or isMissing(x)``), and no missingValuePenalty on defaultChild routes.
* ``General``: nodes keep their child lists and predicates become post-order *entries*
  (compound and/or/xor/surrogate predicates with PMML three-valued logic included), walked
  like the document says. Used when the graph cannot express the tree.

``TreeKernel.run`` gives exactly what ``tree.walk`` gives (leaf node index per row, -1 for
no prediction; the missing-value penalty or None). Without numba, or with PORTMODEL_NO_NUMBA=1,
the numpy twins of ``tree_numpy`` walk the same arrays level by level (all rows advance one step
at a time); ``compute_backend`` registers each kernel with its twin.
"""
from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

# (the predicate and test codes are re-exported here for the modules that read them from this
# module: the one-record walks and the tests)
from ..predicate_logic import (COMPLEMENT, COMPOUND_OPS, FALSE, G_EQ, G_GE, G_GT, G_IN,
                               G_KNOWN, G_LE, G_LT, G_NE, G_NOTIN, GRAPH_CODES, OP_AND, OP_EQ,
                               OP_FALSE, OP_GE, OP_GT, OP_IN, OP_LE, OP_LT, OP_MISSING, OP_NE,
                               OP_NOTIN, OP_NOTMISSING, OP_OR, OP_SURROGATE, OP_TRUE, OP_XOR,
                               ORDERING, S_DEFAULT, S_LAST, S_NONE, S_NULL, SIMPLE_OPS,
                               STRATEGY_CODES, TRUE, UNKNOWN, NULL, evaluate)
from ..predicates import Pred
from .compute_backend import numba_enabled, numba_module, pair, use_numba
from .row_blocks import column_block, passthrough_float_columns, user_float_columns
from ..scope import Scope
from ..values import Col, codes, is_numeric_type

# ----------------------------------------------------------------- operator and strategy codes
# (the predicate codes and their three-valued logic live in ``predicate_logic``)
_SIMPLE_OPS = SIMPLE_OPS
_COMPOUND_OPS = COMPOUND_OPS
_COMPLEMENT = COMPLEMENT
_ORDERING = ORDERING

PARALLEL_MIN_WORK = 2048        # rows x trees: below, threads cost more than they save (one
                                # depth-10 tree: 2,048 rows 0.55 -> 0.48 ms on two threads)
MAX_GRAPH_DEPTH = 400           # deeper trees use the (iterative) general form


class NotLowerable(Exception):
    """The tree uses something a lowered form cannot express."""


def kernels() -> Any:
    """The tree kernels' numba module (compiled once per process, or loaded from the disk
    cache); callers ask ``use_numba`` first."""
    return numba_module("_tree_numba")


# ----------------------------------------------------------------- input columns


@dataclass
class FieldSlot:
    """One row of the feature matrix."""

    name: str
    numeric: bool
    cats: dict[Any, int]         # string fields: value -> code


class Fields:
    """The input fields a lowered model reads, and how their values become floats."""

    def __init__(self) -> None:
        self.slots: list[FieldSlot] = []
        self._index: dict[str, int] = {}

    def slot(self, p: Pred) -> int:
        j = self._index.get(p.field)
        if j is None:
            numeric = is_numeric_type(p.info.data_type) if p.info is not None else True
            j = self._index[p.field] = len(self.slots)
            self.slots.append(FieldSlot(p.field, numeric, {}))
        return j

    def code(self, j: int, value: Any) -> float:
        """A predicate constant as the float it is compared with."""
        slot = self.slots[j]
        if slot.numeric:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise NotLowerable("non-numeric constant for a numeric field")
            return float(value)
        if value not in slot.cats:
            slot.cats[value] = len(slot.cats)
        return float(slot.cats[value])

    def matrix(self, scope: Scope) -> np.ndarray | None:
        """(fields, rows) float matrix, NaN where missing; None when a column does not fit the
        encoding (a numeric field holding a NaN that is not missing, or a type mismatch)."""
        n = scope.n
        if n > SMALL_BATCH and self.all_numeric():
            raw = passthrough_float_columns([slot.name for slot in self.slots], scope)
            if raw is not None:
                # the user's double columns, rounded to float32 for float fields: what their
                # Cols hold (a NaN is a missing value), without building the Cols
                X = _scratch_matrix(max(len(self.slots), 1), n)
                for j, (vals, kind) in enumerate(zip(*raw)):
                    np.copyto(X[j], vals if kind == "double" else vals.astype(np.float32))
                return X
        cols: list[Col] = [scope.get(slot.name) for slot in self.slots]
        X = _scratch_matrix(max(len(self.slots), 1), n)
        if n <= SMALL_BATCH and cols and self.all_numeric():
            return _small_numeric_matrix(X, cols)
        fill = pair("tree.fill_numeric").numba_fn() if numba_enabled() and n > 1000 else None
        for j, (slot, col) in enumerate(zip(self.slots, cols)):
            vals = col.values
            if slot.numeric:
                if vals.dtype.kind != "f":
                    return None
                row = X[j]
                if fill is not None:
                    if not fill(row, vals, col.missing):
                        return None
                    continue
                np.copyto(row, vals)
                nan = np.isnan(row)
                miss = col.missing
                if nan.any() and (nan & ~miss).any():
                    return None
                if miss.any():
                    row[miss] = np.nan
            else:
                if vals.dtype != object:
                    return None
                row = X[j]
                if slot.cats:
                    row[:] = codes(vals, list(slot.cats))
                else:
                    row[:] = -1.0
                row[col.missing] = np.nan
        return X

    def all_numeric(self) -> bool:
        return all(slot.numeric for slot in self.slots)


SMALL_BATCH = 64    # up to this many rows, Fields.matrix checks all columns at once


def _small_numeric_matrix(X: np.ndarray, cols: list[Col]) -> np.ndarray | None:
    """``Fields.matrix`` for a few rows of numeric fields: the same matrix (or None), with a
    handful of numpy calls for all fields instead of several per field."""
    values = [col.values for col in cols]
    if any(v.dtype.kind != "f" for v in values):
        return None
    X[:] = values
    miss = np.array([col.missing for col in cols])
    nan = np.isnan(X)
    if nan.any() and (nan & ~miss).any():
        return None
    X[miss] = np.nan
    return X


_SCRATCH = threading.local()
SCRATCH_MAX = 8 << 20            # floats (64 MB): larger matrices are not kept


def _scratch_matrix(rows: int, cols: int) -> np.ndarray:
    """An uninitialized (rows, cols) float matrix, reusing this thread's buffer: a kernel's
    feature matrix lives only for the kernel call, and fresh memory costs a page fault per
    4 KB on every batch."""
    size = rows * cols
    if size > SCRATCH_MAX:
        return np.empty((rows, cols), np.float64)
    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.size < size:
        buf = _SCRATCH.buf = np.empty(max(size, 4096), np.float64)
    return buf[:size].reshape(rows, cols)


def raw_float_columns(fields: Fields, scope: Scope) -> tuple[list[np.ndarray], np.ndarray] | None:
    """The user's float64 columns of the lowered fields, as given (read in place), and which of
    them the document rounds to float32 (dataType="float"); None unless every field is a plain
    double or float input of the batch that the model's MiningField passes through unchanged
    (the kernels then read and round them at each test: ``graph_rows_raw``)."""
    if not all(slot.numeric for slot in fields.slots):
        return None
    got = user_float_columns([slot.name for slot in fields.slots], scope)
    if got is None:
        return None
    cols, kinds = got
    return cols, np.array([kind == "float" for kind in kinds], np.bool_)


def _set_codes(fields: Fields, j: int, values: list[Any]) -> list[float]:
    out: set[float] = set()
    for v in values:
        c = fields.code(j, v)
        if c == c:                               # NaN matches nothing
            out.add(c)
    return sorted(out)


def _value_test(fields: Fields, p: Pred) -> tuple[int, int, float, tuple]:
    """(feature, op, constant, set members) of a simple or set predicate (both forms)."""
    if p.kind == "simple":
        op = _SIMPLE_OPS.get(p.op)
        if op is None:
            raise NotLowerable(p.op)
        j = fields.slot(p)
        if op in (OP_MISSING, OP_NOTMISSING):
            return j, op, 0.0, ()
        if not fields.slots[j].numeric and op in _ORDERING:
            raise NotLowerable("ordering comparison of a string field")
        return j, op, fields.code(j, p.value), ()
    if p.kind == "set":
        j = fields.slot(p)
        op = OP_IN if p.op == "isIn" else OP_NOTIN
        return j, op, 0.0, tuple(_set_codes(fields, j, p.values))
    raise NotLowerable(p.kind)


def _parallel(n: int, trees: int) -> bool:
    """Worth starting threads: enough work, and at least two row chunks."""
    return n * trees >= PARALLEL_MIN_WORK and n >= 2048


# ================================================================= the graph (fast) form

class _Test(NamedTuple):
    """One graph test (``Graph.tests`` holds plain tuples in this field order: tens of
    thousands are made at load, and ``freeze`` only transposes them)."""

    op: int
    feat: int
    thr: float
    sets: tuple
    yes: int
    no: int
    miss: int


class _Spec(NamedTuple):
    """A node predicate as one test of one field.

    op/thr/members: the value test (op None: the predicate is the constant ``known`` whenever
    the field has a value); miss: the predicate's value (TRUE/FALSE/UNKNOWN) when it is missing.
    (Named tuples: a large ensemble lowers tens of thousands of them at load.)
    """

    feat: int
    op: int | None
    thr: float = 0.0
    members: tuple = ()
    known: bool = False
    miss: int = UNKNOWN


#: a <True/> child's test: TRUE whatever the value, missing included
_ALWAYS = _Spec(-1, None, known=True, miss=TRUE)


def _tv(p: Pred, leaf: dict[int, int]) -> int:
    """Three-valued value of p given the value of each simple/set leaf (by id)."""
    return evaluate(p, lambda x: leaf[id(x)])


def _leaves(p: Pred) -> list[Pred]:
    if p.kind == "compound":
        return [x for c in p.children for x in _leaves(c)]
    return [] if p.kind in ("true", "false") else [p]


class Graph:
    """Trees unrolled into single tests (see the module docstring)."""

    def __init__(self, fields: Fields | None = None) -> None:
        self.fields = fields or Fields()
        self.tests: list[tuple] = []      # (each a _Test's fields)
        self.starts: list[int] = []       # per tree: first target
        self.n_nodes = 0

    # -- predicates as single tests
    def spec(self, p: Pred) -> _Spec:
        """A node predicate as one test: simple and set predicates, and compound predicates on
        one field with at most one value test (KNIME's ``x <= t or isMissing(x)``)."""
        if p.kind == "simple":           # (the common case first: large ensembles at load)
            op = _SIMPLE_OPS.get(p.op)
            v = p.value
            if op in _ORDERING and (type(v) is float or type(v) is int):
                j = self.fields.slot(p)
                if self.fields.slots[j].numeric:
                    return _Spec(j, op, float(v))
        if p.kind in ("simple", "set"):
            j, op, thr, members = _value_test(self.fields, p)
            if op == OP_MISSING:
                return _Spec(j, None, known=False, miss=TRUE)
            if op == OP_NOTMISSING:
                return _Spec(j, None, known=True, miss=FALSE)
            return _Spec(j, op, thr, members)
        leaves = _leaves(p)
        tests = [_value_test(self.fields, x) for x in leaves]
        feats = {t[0] for t in tests}
        if len(feats) > 1:
            raise NotLowerable("predicate on several fields")
        value = {t[1:] for t in tests if t[1] not in (OP_MISSING, OP_NOTMISSING)}
        if len(value) > 1:
            raise NotLowerable("several value tests in one predicate")
        j = feats.pop() if feats else -1

        def outcome(has_value: bool, v: int) -> int:
            env = {}
            for x, t in zip(leaves, tests):
                if t[1] == OP_MISSING:
                    env[id(x)] = FALSE if has_value else TRUE
                elif t[1] == OP_NOTMISSING:
                    env[id(x)] = TRUE if has_value else FALSE
                else:
                    env[id(x)] = v if has_value else UNKNOWN
            return _tv(p, env)

        miss = outcome(False, UNKNOWN)
        if not value:
            return _Spec(j, None, known=outcome(True, UNKNOWN) == TRUE, miss=miss)
        op, thr, members = value.pop()
        if_true, if_false = outcome(True, TRUE), outcome(True, FALSE)
        if if_true == if_false:
            return _Spec(j, None, known=if_true == TRUE, miss=miss)
        if if_true == FALSE:
            op = _COMPLEMENT[op]
        return _Spec(j, op, thr, members, miss=miss)

    def _specs(self, preds: list[Pred]) -> list[_Spec | None]:
        """``spec`` of each node's predicate (None for <True/> and <False/>), the common
        ordering comparison of a numeric field made here without a call per node."""
        out: list[_Spec | None] = []
        add = out.append
        slots = self.fields.slots
        index = self.fields._index
        ordering = _ORDERING
        ops = _SIMPLE_OPS
        new, spec_type, unknown = tuple.__new__, _Spec, UNKNOWN
        for p in preds:
            kind = p.kind
            if kind == "simple":
                op = ops.get(p.op)
                v = p.value
                j = index.get(p.field)
                if j is not None and op in ordering and slots[j].numeric \
                        and (type(v) is float or type(v) is int):
                    # (_Spec(j, op, float(v)) without the named tuple's Python-level __new__)
                    add(new(spec_type, (j, op, float(v), (), False, unknown)))
                    continue
            elif kind == "true" or kind == "false":
                add(None)
                continue
            add(self.spec(p))
        return out

    @staticmethod
    def _complementary(a: _Spec, b: _Spec | None) -> bool:
        """Whenever the field has a value and a is FALSE, b is TRUE."""
        if b is None:
            return False
        if b.op is None:                         # b TRUE on every value (of a's field)
            return b.known and (b.miss == TRUE or b.feat == a.feat)
        if a.op is None or a.feat != b.feat or _COMPLEMENT.get(a.op) != b.op:
            return False
        if a.op in (OP_IN, OP_NOTIN):
            return a.members == b.members
        return a.thr == b.thr                    # NaN thresholds are never complementary

    def _add(self, s: _Spec, yes: int, no: int, miss: int) -> int:
        """Push one test; yes/no: targets when the predicate is TRUE/FALSE on a value,
        miss: target when the field is missing."""
        if s.op is None:                         # constant on values: only missing matters
            k = yes if s.known else no
            return self._push(G_KNOWN, s.feat, 0.0, (), k, k, miss)
        op, thr = s.op, s.thr
        if op in (OP_LT, OP_GE) and math.isfinite(thr):
            thr = float(np.nextafter(thr, -np.inf))   # x < t  <=>  x <= prev(t) for doubles
            op = OP_LE if op == OP_LT else OP_GT
        if op == OP_GT and not math.isnan(thr):
            return self._push(G_LE, s.feat, thr, (), no, yes, miss)
        gop = GRAPH_CODES[op]
        return self._push(gop, s.feat, thr, s.members, yes, no, miss)

    def _push(self, op, j, thr, members, yes, no, miss) -> int:
        tests = self.tests
        tests.append((op, j if j > 0 else 0, thr, members, yes, no, miss))    # (a _Test)
        return len(tests) - 1

    # -- trees
    def add_tree(self, tree, strategy: str, no_true_child: str, penalty: float) -> None:
        if strategy not in STRATEGY_CODES:
            raise NotLowerable(strategy)
        if tree.depth > MAX_GRAPH_DEPTH:
            raise NotLowerable("tree too deep for the graph form")
        s = STRATEGY_CODES[strategy]
        if s == S_DEFAULT and penalty != 1.0:
            raise NotLowerable("missingValuePenalty")
        base = self.n_nodes
        last = no_true_child == "returnLastPrediction"
        preds = tree.pred
        children = tree.children
        default_child = tree.default_child
        specs = self._specs(preds)
        tests = self.tests
        append = tests.append
        g_le = GRAPH_CODES[OP_LE]
        complementary = self._complementary
        # target[node]: where a row goes once it stands at node (its predicate held). Node
        # indices are in document order, a child after its parent: walked backwards, every
        # child's target is known when its parent's tests are made (no recursion, however
        # deep the tree)
        n = len(preds)
        target = [0] * n
        for node in range(n - 1, -1, -1):
            term = -(base + node + 2)           # the node's own prediction
            kids = children[node]
            if not kids:
                target[node] = term
                continue
            if s == S_NONE:
                unknown = None                   # UNKNOWN counts as FALSE: try the next child
            elif s == S_LAST:
                unknown = term
            elif s == S_NULL:
                unknown = NULL
            else:
                dc = int(default_child[node])
                if dc < 0:
                    unknown = term
                elif dc > node:
                    unknown = target[dc]
                else:                            # (not a child: the general form follows it)
                    raise NotLowerable("defaultChild names no later Node")
            nxt = term if last else NULL         # past the last child: noTrueChildStrategy
            nxt_spec: _Spec | None = None        # the following child's test ...
            nxt_yes = nxt_miss = nxt             # ... and where it sends TRUE / missing rows
            for c in reversed(kids):
                kind = preds[c].kind
                if kind == "true":
                    nxt = nxt_yes = nxt_miss = target[c]
                    nxt_spec = _ALWAYS
                    continue
                if kind == "false":
                    continue
                spec = specs[c]
                yes = target[c]
                # (a <True/> next child, as sklearn2pmml writes: complementary to any test)
                no = nxt_yes if nxt_spec is _ALWAYS or complementary(spec, nxt_spec) else nxt
                if spec.miss == TRUE:
                    miss = yes
                elif spec.miss == FALSE or unknown is None:
                    # on to the next child: if it tests the same field, its answer for a
                    # missing value is known already
                    same = nxt_spec is not None and nxt_spec.feat == spec.feat
                    miss = nxt_miss if same else nxt
                else:
                    miss = unknown
                if spec.op == OP_LE:             # (the common test, pushed here directly,
                    #                                  a plain tuple in _Test's field order)
                    append((g_le, spec.feat if spec.feat > 0 else 0, spec.thr, spec.members,
                            yes, no, miss))
                    nxt = len(tests) - 1
                else:
                    nxt = self._add(spec, yes, no, miss)
                nxt_spec, nxt_yes, nxt_miss = spec, yes, miss
            target[node] = nxt

        p0 = preds[0]
        if p0.kind == "true":
            start = target[0]
        elif p0.kind == "false":
            start = NULL
        else:
            go = target[0]
            start = self._add(specs[0], go, NULL, go if specs[0].miss == TRUE else NULL)
        self.starts.append(start)
        self.n_nodes += len(tree.pred)

    def freeze(self) -> "FrozenGraph":
        """Arrays of the tests reachable from the trees' starts (a complementary child's own
        test, for one, is bypassed), in creation order: each tree's tests are contiguous."""
        m = len(self.tests)
        # (the tests as columns: one transposition, no attribute read per test and column)
        c_op, c_feat, c_thr, c_sets, c_yes, c_no, c_miss = (
            tuple(zip(*self.tests)) if m else ((),) * 7)
        no = np.array(c_no, np.int64)
        yes = np.array(c_yes, np.int64)
        miss = np.array(c_miss, np.int64)
        reach = np.zeros(m, bool)
        frontier = np.array([t for t in self.starts if t >= 0], np.int64)
        while frontier.size:
            frontier = np.unique(frontier[~reach[frontier]])
            reach[frontier] = True
            step = np.concatenate([no[frontier], yes[frontier], miss[frontier]])
            frontier = step[step >= 0]
        keep = np.flatnonzero(reach)
        renum = np.full(max(m, 1), -1, np.int64)
        renum[keep] = np.arange(len(keep))

        def remap(x: np.ndarray) -> np.ndarray:
            return np.where(x >= 0, renum[np.maximum(x, 0)], x)

        k = len(keep)

        def column(values: tuple, dtype) -> np.ndarray:
            # the kept tests' values (a single 0 when none is kept)
            return np.array(values, dtype)[keep] if k else np.zeros(1, dtype)

        kept_sets = [c_sets[i] for i in keep.tolist()]
        sizes = np.array([len(x) for x in kept_sets], np.int64)
        hi = np.cumsum(sizes)
        lo = hi - sizes
        sets = [v for x in kept_sets for v in x]
        nxt = np.stack([remap(no[keep]), remap(yes[keep]), remap(miss[keep])], axis=1)
        op = column(c_op, np.int8)
        return FrozenGraph(
            fields=self.fields,
            op=op,
            feat=column(c_feat, np.int32),
            thr=column(c_thr, np.float64),
            lo=lo.astype(np.int32) if k else np.zeros(1, np.int32),
            hi=hi.astype(np.int32) if k else np.zeros(1, np.int32),
            sets=np.array(sets + [0.0], np.float64),
            nxt=(nxt if k else np.zeros((1, 3))).astype(np.int32),
            starts=remap(np.array(self.starts, np.int64)).astype(np.int32),
            n_tests=k,
            all_le=bool((op == G_LE).all()) if k else True)


@dataclass
class FrozenGraph:
    fields: Fields
    op: np.ndarray
    feat: np.ndarray
    thr: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    sets: np.ndarray
    nxt: np.ndarray
    starts: np.ndarray
    n_tests: int
    all_le: bool

    def args(self) -> tuple:
        return (self.op, self.feat, self.thr, self.lo, self.hi, self.sets, self.nxt)

    def leaves(self, X: np.ndarray, tree: int) -> np.ndarray:
        """Global leaf index (-1: no prediction) of one tree for every row."""
        n = X.shape[1]
        out = np.empty(n, np.int64)
        fn = pair("tree.graph_rows_par" if _parallel(n, 1) else "tree.graph_rows").pick(n)
        fn(X, int(self.starts[tree]), *self.args(), self.all_le, out)
        return out


# ================================================================= the general form


class General:
    """Trees with child lists and post-order predicate entries (see the module docstring)."""

    def __init__(self, fields: Fields | None = None) -> None:
        self.fields = fields or Fields()
        self.e_op: list[int] = []
        self.e_feat: list[int] = []
        self.e_thr: list[float] = []
        self.e_lo: list[int] = []
        self.e_hi: list[int] = []
        self.e_start: list[int] = []
        self.args: list[int] = []
        self.sets: list[float] = []
        self.pred: list[int] = []
        self.kid_lo: list[int] = []
        self.kid_hi: list[int] = []
        self.kids: list[int] = []
        self.binary: list[int] = []
        self.default: list[int] = []
        self.roots: list[int] = []
        self.strategy: list[int] = []
        self.last: list[int] = []
        self.factor: list[float] = []

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
            j, op, thr, _ = _value_test(self.fields, p)
            return self._entry(op, j, thr)
        if p.kind == "set":
            j, op, _, members = _value_test(self.fields, p)
            lo = len(self.sets)
            self.sets.extend(members)
            return self._entry(op, j, 0.0, lo, len(self.sets))
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

    def _complementary(self, a: int, b: int) -> bool:
        oa, ob = self.e_op[a], self.e_op[b]
        if oa >= OP_AND or ob >= OP_AND or oa in (OP_TRUE, OP_FALSE):
            return False
        if _COMPLEMENT.get(oa) != ob or self.e_feat[a] != self.e_feat[b]:
            return False
        if oa in (OP_IN, OP_NOTIN):
            return (self.sets[self.e_lo[a]:self.e_hi[a]] == self.sets[self.e_lo[b]:self.e_hi[b]])
        return oa in (OP_MISSING, OP_NOTMISSING) or self.e_thr[a] == self.e_thr[b]

    def add_tree(self, tree, strategy: str, no_true_child: str, penalty: float) -> None:
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
            self.binary.append(int(len(kids) == 2 and self._complementary(
                self.pred[base + kids[0]], self.pred[base + kids[1]])))
            dc = int(tree.default_child[i])
            self.default.append(base + dc if dc >= 0 else -1)
        self.roots.append(base)
        self.strategy.append(STRATEGY_CODES[strategy])
        self.last.append(int(no_true_child == "returnLastPrediction"))
        self.factor.append(float(penalty))

    def freeze(self) -> "FrozenGeneral":
        i32 = np.int32
        sub = [e - s + 1 for e, s in enumerate(self.e_start)]
        return FrozenGeneral(
            fields=self.fields,
            e_op=np.array(self.e_op, np.int8), e_feat=np.array(self.e_feat, i32),
            e_thr=np.array(self.e_thr, np.float64), e_lo=np.array(self.e_lo, i32),
            e_hi=np.array(self.e_hi, i32), e_start=np.array(self.e_start, i32),
            args=np.array(self.args + [0], i32), sets=np.array(self.sets + [0.0], np.float64),
            pred=np.array(self.pred, i32), kid_lo=np.array(self.kid_lo, i32),
            kid_hi=np.array(self.kid_hi, i32), kids=np.array(self.kids + [0], i32),
            binary=np.array(self.binary, np.int8), default=np.array(self.default, i32),
            roots=np.array(self.roots, i32), strategy=np.array(self.strategy, np.int8),
            last=np.array(self.last, np.int8), factor=np.array(self.factor, np.float64),
            scratch=max(sub, default=1))


@dataclass
class FrozenGeneral:
    fields: Fields
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

    def tree_args(self) -> tuple:
        """The arrays every general kernel takes, in its parameter order."""
        return (self.pred, self.kid_lo, self.kid_hi, self.kids, self.binary, self.default,
                self.e_op, self.e_feat, self.e_thr, self.e_lo, self.e_hi, self.e_start,
                self.args, self.sets)

    def leaves(self, X: np.ndarray, t: int, penalty: np.ndarray | None) -> np.ndarray:
        """Global leaf index (-1: none) of tree t per row; multiplies penalty in place."""
        n = X.shape[1]
        fn = pair("tree.walk_rows_par" if _parallel(n, 1) else "tree.walk_rows").pick(n)
        leaf = np.empty(n, np.int64)
        pen = penalty if penalty is not None else np.ones(1)
        fn(X, int(self.roots[t]), int(self.strategy[t]), int(self.last[t]),
           float(self.factor[t]), penalty is not None, *self.tree_args(), self.scratch,
           leaf, pen)
        return leaf


# ================================================================= the single-tree kernel


class TreeKernel:
    """One TreeModel lowered to flat arrays; ``run`` has the contract of ``tree.walk``.

    The tree is lowered at load. A tree inside an ensemble whose one-pass plan scores it is
    compiled ``lazy`` and never lowered on its own, unless something scores that segment
    directly (then once, under a lock). A tree no form can express is walked by ``tree.walk``."""

    def __init__(self, tree, model, fast: bool = True, lazy: bool = False):
        self.tree = tree
        self.model = model
        self.allow_graph = fast
        self._lock = threading.Lock()
        self._plan: FrozenGraph | FrozenGeneral | None = None
        self._lowered = False
        if not lazy:
            self.prepare()

    def prepare(self) -> None:
        """Lower the tree (once)."""
        with self._lock:
            if not self._lowered:
                self._plan = lower_tree(self.tree, self.model, self.allow_graph)
                self._lowered = True

    @property
    def lowered(self) -> bool:
        return self._lowered

    @property
    def plan(self) -> FrozenGraph | FrozenGeneral | None:
        if not self._lowered:
            self.prepare()
        return self._plan

    @property
    def fast(self) -> bool:
        return isinstance(self.plan, FrozenGraph)

    def run(self, scope: Scope) -> tuple[np.ndarray, np.ndarray | None]:
        plan = self.plan
        if isinstance(plan, FrozenGraph) and scope.n > SMALL_BATCH:
            raw = raw_float_columns(plan.fields, scope)
            if raw is not None:       # read, round and walk in one pass
                n = scope.n
                flat, foff = column_block(raw[0])
                out = np.empty(n, np.int64)
                fn = pair("tree.graph_rows_raw_par" if _parallel(n, 1) else
                          "tree.graph_rows_raw").pick(n)
                fn(flat, foff, raw[1], n, int(plan.starts[0]), *plan.args(), plan.all_le, out)
                return out, (np.ones(n) if self.model.penalty != 1.0 else None)
        X = plan.fields.matrix(scope) if plan is not None else None
        if X is None:
            from .tree import walk
            return walk(self.tree, self.model, scope)
        penalty = np.ones(scope.n) if self.model.penalty != 1.0 else None
        if isinstance(plan, FrozenGraph):
            return plan.leaves(X, 0), penalty
        return plan.leaves(X, 0, penalty), penalty


def lower_tree(tree, model, fast: bool = True) -> FrozenGraph | FrozenGeneral | None:
    """The graph form when it can express the tree (and fast), else the general form, else None."""
    args = (tree, model.missing_strategy, model.no_true_child, model.penalty)
    if fast:
        try:
            g = Graph()
            g.add_tree(*args)
            return g.freeze()
        except NotLowerable:
            pass
    try:
        gen = General()
        gen.add_tree(*args)
        return gen.freeze()
    except NotLowerable:
        return None


def compile_kernel(tree, model, fast: bool = True, lazy: bool = False) -> TreeKernel | None:
    """A kernel for a TreeModel (lowered now, or on first use when lazy); None when its
    missingValueStrategy needs the general walk. ``fast=False`` skips the graph form (tests)."""
    if model.missing_strategy not in STRATEGY_CODES:
        return None
    return TreeKernel(tree, model, fast, lazy)
