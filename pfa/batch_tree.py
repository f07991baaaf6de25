"""Tree walks of the PFA column path: a tree of TreeNode records (model.tree.simpleWalk with
simpleTest, model.tree.simpleTree) flattened into arrays, walked for every row at once by a numba
kernel (``_walk_numba``) or, without numba or with PORTMODEL_NO_NUMBA=1, level by level with
numpy. Number fields compare as numbers (NaN as Python compares it); string and enum fields as
their ranks among the batch's sorted words, each node's string placed between ranks, so that
every operator gives Python's string comparison.
"""
from __future__ import annotations

import bisect
from typing import Any

import numpy as np

from .batch import CONST, NUM, GiveUp, TREE_OPS, Unsupported, V, _is_num, _or, gather
from .batch_input import NUMBER_KINDS, Cat, field_kind
from .types import AvroType, Record


class _FlatTree:
    """A tree of TreeNode records as arrays: per node its field, operator, value, children."""

    def __init__(self, feat, op, val, kids, leaves, names, kinds, used):
        self.feat, self.op, self.val, self.kids, self.leaves = feat, op, val, kids, leaves
        self.names, self.kinds, self.used = names, kinds, used

    def walker(self, leaf_type: AvroType, fields_of=None):
        """The column function of this walk. ``fields_of(env)`` gives the datum's field values
        and the datum's bad rows (default: the input record's columns)."""
        feat, op, vals, kids, leaves = self.feat, self.op, self.val, self.kids, self.leaves
        table = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 1, 1, 0],
                          [0, 1, 0, 0], [0, 1, 0, 1]], dtype=bool)[op]
        ua, ub, uc, neg = table[:, 0], table[:, 1], table[:, 2], table[:, 3]
        used = sorted(set(feat.tolist()))
        slot = {j: i for i, j in enumerate(used)}
        node_slot = np.array([slot[j] for j in feat.tolist()], dtype=np.int64)
        names, kinds = self.names, self.kinds
        text_nodes = [i for i, j in enumerate(feat.tolist()) if kinds[j] == "text"]
        ops = op

        def walk(env):
            n = env["n"]
            xt = np.empty((len(used), n))
            val = np.array([v if not isinstance(v, str) else 0.0 for v in vals], dtype=float)
            if fields_of is None:
                fields, bad = env["fields"], None
            else:
                fields, bad = fields_of(env)
            for i, j in enumerate(used):
                v = fields[names[j]]
                if v.null is not None:
                    raise GiveUp()
                bad = _or(bad, v.bad)
                if kinds[j] == "text" and not isinstance(v.data, Cat):
                    raise GiveUp()
                if kinds[j] == "num" and not (
                        (v.kind == NUM and isinstance(v.data, np.ndarray)) or
                        (v.kind == CONST and _is_num(v.data) and type(v.data) is not bool)):
                    raise GiveUp()
                if kinds[j] == "text":
                    # strings as ranks in the batch's sorted words; each node's string value
                    # becomes a number between ranks so that <, <=, ==... give str's answers
                    words = v.data.words
                    order = sorted(range(len(words)), key=lambda k: words[k])
                    rank = np.empty(len(words) + 1)
                    rank[order] = np.arange(len(words))
                    rank[-1] = np.nan
                    xt[i] = rank[v.data.codes]
                    sw = [words[k] for k in order]
                    for nd in text_nodes:
                        if feat[nd] != j:
                            continue
                        w, o = vals[nd], ops[nd]
                        lo, hi = bisect.bisect_left(sw, w), bisect.bisect_right(sw, w)
                        if o in (4, 5):       # == and != : the rank of w, or no rank at all
                            val[nd] = lo if lo < hi else -0.5
                        elif o in (0, 3):     # x < w, x >= w: compare with the insertion point
                            val[nd] = lo - 0.5
                        else:                 # x <= w, x > w
                            val[nd] = hi - 0.5
                else:
                    xt[i] = v.data
            kernel = _walk_kernel()
            if kernel is not None:
                leaf_ix = kernel(xt, node_slot, val, kids, ua, ub, uc, neg)
            else:
                leaf_ix = _walk_numpy(xt, node_slot, val, kids, ua, ub, uc, neg)
            g = gather(leaves, leaf_ix, leaf_type, n)
            return V(g.kind, g.data, None, bad)
        return walk


def _walk_numpy(xt, node_slot, val, kids, ua, ub, uc, neg) -> np.ndarray:
    """Every row from the root to its leaf, one tree level per step (without numba)."""
    n = xt.shape[1]
    flat_x = xt.ravel()
    fslot = node_slot * n
    node_ix = np.zeros(n, dtype=np.int64)
    active = np.arange(n)
    for _ in range(len(node_slot) + 1):
        if active.size == 0:
            break
        nd = node_ix[active]
        xv = flat_x[fslot[nd] + active]
        vv = val[nd]
        res = ((xv < vv) & ua[nd]) | ((xv == vv) & ub[nd]) | ((xv > vv) & uc[nd])
        res ^= neg[nd]
        nxt = np.where(res, kids[nd, 0], kids[nd, 1])
        node_ix[active] = nxt
        active = active[nxt >= 0]
    return -node_ix - 1


def _walk_kernel():
    """The numba tree walk, or None without numba or with PORTMODEL_NO_NUMBA=1."""
    from ..pmml.models.tree_kernel import numba_enabled
    if not numba_enabled():
        return None
    from ._walk_numba import walk_rows
    return walk_rows


def flatten_tree(tree: Any, rec: Record) -> _FlatTree:
    names = [f.name for f in rec.fields]
    kinds = []
    for f in rec.fields:
        kind, nullable = field_kind(f.type)
        kinds.append("num" if kind in NUMBER_KINDS and not nullable else
                     "text" if kind in ("string", "enum") and not nullable else None)
    feat, op, val, kids, leaves = [], [], [], [], []
    stack = [tree]
    index: dict[int, int] = {}
    order = []
    while stack:
        nd = stack.pop()
        if type(nd) is not dict or id(nd) in index:
            raise Unsupported("a tree that is not a tree")
        index[id(nd)] = len(order)
        order.append(nd)
        for br in ("pass", "fail"):
            c = nd[br]
            if type(c) is dict:
                stack.append(c)
    used = set()
    for nd in order:
        fname, o, v = nd["field"], nd["operator"], nd["value"]
        if fname not in names or o not in TREE_OPS:
            raise Unsupported(f"a tree test on {fname!r} with operator {o!r}")
        j = names.index(fname)
        kind = kinds[j]
        if kind == "num" and _is_num(v):
            val.append(float(v))
        elif kind == "text" and type(v) is str:
            val.append(v)
        else:
            raise Unsupported(f"a tree test of field {fname!r} against {type(v).__name__}")
        used.add(fname)
        feat.append(j)
        op.append(TREE_OPS[o])
        pair = []
        for br in ("pass", "fail"):
            c = nd[br]
            if type(c) is dict:
                pair.append(index[id(c)])
            else:
                leaves.append(c)
                pair.append(-len(leaves))
        kids.append(pair)
    return _FlatTree(np.array(feat, dtype=np.int64), np.array(op, dtype=np.int64), val,
                     np.array(kids, dtype=np.int64), leaves, names, kinds, sorted(used))
