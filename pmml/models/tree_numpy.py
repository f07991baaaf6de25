"""numpy twins of the numba tree kernels (``_tree_numba``): the same arrays walked level by
level (every row still inside a tree takes one step at a time), the same leaves bit for bit.

The functions named like the kernels take the kernels' arguments and fill the same outputs, so
``compute_backend`` registers each pair and the twin tests call both sides alike; ``np_graph``
and ``np_walk_tree`` are the walks they are built on.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..predicate_logic import (FALSE, G_EQ, G_GE, G_GT, G_IN, G_LE, G_LT, G_NE, G_NOTIN,
                               OP_AND, OP_EQ, OP_GE, OP_GT, OP_IN, OP_LE, OP_LT, OP_MISSING,
                               OP_NE, OP_NOTIN, OP_NOTMISSING, OP_OR, OP_SURROGATE, OP_TRUE,
                               OP_XOR, S_LAST, S_NONE, S_NULL, TRUE, UNKNOWN, NULL)

#: comparison codes of each tree form and the numpy ufunc each stands for
_G_COMPARISONS = ((G_LE, np.less_equal), (G_LT, np.less), (G_GT, np.greater),
                  (G_GE, np.greater_equal), (G_EQ, np.equal), (G_NE, np.not_equal))
_OP_COMPARISONS = ((OP_EQ, np.equal), (OP_NE, np.not_equal), (OP_LT, np.less),
                   (OP_LE, np.less_equal), (OP_GT, np.greater), (OP_GE, np.greater_equal))


def _compare_by_code(out: np.ndarray, op: np.ndarray, x: np.ndarray, thr: np.ndarray,
                     table) -> None:
    """out[i] = x[i] <op[i]> thr[i] for the comparison codes of table (numpy fallbacks)."""
    with np.errstate(invalid="ignore"):
        for code, fn in table:
            m = op == code
            if m.any():
                out[m] = fn(x[m], thr[m])


def _set_tests(out: np.ndarray, op: np.ndarray, node: np.ndarray, x: np.ndarray,
               node_op: np.ndarray, sets: np.ndarray, lo: np.ndarray, hi: np.ndarray,
               in_code: int, not_in_code: int) -> np.ndarray:
    """out[i] = membership of x[i] in its node's set (negated for not-in); returns the mask of
    rows that had a set test."""
    sm = (op == in_code) | (op == not_in_code)
    if sm.any():
        for e in np.unique(node[sm]):
            m = node == e
            hit = np.isin(x[m], sets[lo[e]:hi[e]])
            out[m] = hit if node_op[e] == in_code else ~hit
    return sm


def np_graph(g, X: np.ndarray, start: int) -> np.ndarray:
    """numpy walk of the graph: every row still inside the graph takes one test per step."""
    n = X.shape[1]
    t = np.full(n, start, np.int64)
    rows = np.flatnonzero(t >= 0)
    cur = t[rows]
    while len(rows):
        x = X[g.feat[cur], rows]
        op = g.op[cur]
        thr = g.thr[cur]
        res = np.zeros(len(rows), bool)
        _compare_by_code(res, op, x, thr, _G_COMPARISONS)
        _set_tests(res, op, cur, x, g.op, g.sets, g.lo, g.hi, G_IN, G_NOTIN)
        col = np.where(np.isnan(x), 2, res.astype(np.int64))
        nxt = g.nxt[cur, col].astype(np.int64)
        t[rows] = nxt
        inside = nxt >= 0
        rows, cur = rows[inside], nxt[inside]
    return np.where(t == NULL, -1, -t - 2)


def _np_simple(fz, X: np.ndarray, rows: np.ndarray, ent: np.ndarray) -> np.ndarray:
    op = fz.e_op[ent]
    out = np.zeros(len(rows), np.int8)
    x = X[np.maximum(fz.e_feat[ent], 0), rows]
    nan = np.isnan(x)
    thr = fz.e_thr[ent]
    out[op == OP_TRUE] = TRUE
    m = op == OP_MISSING
    out[m] = nan[m]
    m = op == OP_NOTMISSING
    out[m] = ~nan[m]
    _compare_by_code(out, op, x, thr, _OP_COMPARISONS)
    sm = _set_tests(out, op, ent, x, fz.e_op, fz.sets, fz.e_lo, fz.e_hi, OP_IN, OP_NOTIN)
    value_test = ((op >= OP_EQ) & (op <= OP_GE)) | sm
    out[value_test & nan] = UNKNOWN
    return out


def _np_eval(fz, X: np.ndarray, rows: np.ndarray, ent: np.ndarray) -> np.ndarray:
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
    lo = fz.e_lo[ce].astype(np.int64)
    arity = fz.e_hi[ce] - lo
    res = np.where(op == OP_AND, TRUE, np.where(op == OP_SURROGATE, UNKNOWN, FALSE)).astype(np.int8)
    any_unknown = np.zeros(len(ci), bool)
    found = np.zeros(len(ci), bool)          # surrogate: a known child seen
    for k in range(int(arity.max())):
        m = k < arity
        v = np.full(len(ci), UNKNOWN, np.int8)
        v[m] = _np_eval(fz, X, crows[m], fz.args[lo[m] + k].astype(np.int64))
        res[m & (op == OP_AND) & (v == FALSE)] = FALSE
        res[m & (op == OP_OR) & (v == TRUE)] = TRUE
        res[m & (op == OP_XOR) & (v == TRUE)] ^= 1
        any_unknown |= m & (v == UNKNOWN) & (op != OP_SURROGATE)
        sur = m & (op == OP_SURROGATE) & ~found & (v != UNKNOWN)
        res[sur] = v[sur]
        found |= sur
    # and: FALSE wins over UNKNOWN; or: TRUE wins; xor: any UNKNOWN makes it UNKNOWN
    fix = any_unknown & (((op == OP_AND) & (res != FALSE)) | ((op == OP_OR) & (res != TRUE))
                         | (op == OP_XOR))
    res[fix] = UNKNOWN
    out[ci] = res
    return out


def np_walk_tree(fz, X: np.ndarray, t: int,
                 penalty: np.ndarray | None) -> np.ndarray:
    """Leaf (global node index, -1 none) of tree t for every row, level by level."""
    n = X.shape[1]
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
        if not m:
            break
        nxt = np.full(m, -1, np.int64)
        open_ = np.ones(m, bool)                 # still looking for a child
        binary = fz.binary[node].astype(bool)
        first_false = np.zeros(m, bool)
        for k in range(int(nk.max())):
            cand = open_ & (k < nk)
            if not cand.any():
                break
            res = np.full(m, FALSE, np.int8)
            shortcut = cand & binary & (k == 1)   # complementary second child
            res[shortcut & first_false] = TRUE
            res[shortcut & ~first_false] = UNKNOWN
            idx = np.flatnonzero(cand & ~shortcut)
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


# ================================================================= the kernels' signatures


def _graph(op, feat, thr, lo, hi, sets, nxt) -> SimpleNamespace:
    return SimpleNamespace(op=op, feat=feat, thr=thr, lo=lo, hi=hi, sets=sets, nxt=nxt)


def _general(roots, strategy, last, factor, pred, kid_lo, kid_hi, kids, binary, default, e_op,
             e_feat, e_thr, e_lo, e_hi, e_start, args, sets) -> SimpleNamespace:
    return SimpleNamespace(roots=roots, strategy=strategy, last=last, factor=factor, pred=pred,
                           kid_lo=kid_lo, kid_hi=kid_hi, kids=kids, binary=binary,
                           default=default, e_op=e_op, e_feat=e_feat, e_thr=e_thr, e_lo=e_lo,
                           e_hi=e_hi, e_start=e_start, args=args, sets=sets)


def graph_rows(X, start, op, feat, thr, lo, hi, sets, nxt, all_le, out) -> None:
    """Twin of ``_tree_numba.graph_rows``: leaf (-1 none) of the tree starting at start."""
    out[:] = np_graph(_graph(op, feat, thr, lo, hi, sets, nxt), X, int(start))


def graph_rows_raw(flat, foff, r32, n, start, op, feat, thr, lo, hi, sets, nxt, all_le,
                   out) -> None:
    """Twin of ``_tree_numba.graph_rows_raw``: the rounded feature rows built first (the
    document's float32 rounding: ``astype(float32)``), then the graph walked."""
    X = np.empty((len(foff), int(n)))
    for f, o in enumerate(foff):
        col = flat[int(o):int(o) + int(n)]
        X[f] = col.astype(np.float32) if r32[f] else col
    out[:] = np_graph(_graph(op, feat, thr, lo, hi, sets, nxt), X, int(start))


def walk_rows(X, root, strategy, last, factor, want_pen, pred, kid_lo, kid_hi, kids, binary,
              default, e_op, e_feat, e_thr, e_lo, e_hi, e_start, args, sets, scratch_size,
              leaf, pen) -> None:
    """Twin of ``_tree_numba.walk_rows``: leaves of one general-form tree, pen multiplied by
    the missing-value penalty of each row's defaultChild steps."""
    fz = _general([root], [strategy], [last], [factor], pred, kid_lo, kid_hi, kids, binary,
                  default, e_op, e_feat, e_thr, e_lo, e_hi, e_start, args, sets)
    leaf[:] = np_walk_tree(fz, X, 0, pen if want_pen else None)


def accumulate(t: int, leaf: np.ndarray, w: float, sw: float, vote: bool, leaf_val, leaf_cls,
               leaf_ok, acc, den, missw, missv, nmiss, first) -> None:
    """Add tree t's answers (leaf per row) to the ensemble's running sums, as
    ``_tree_numba._accumulate`` adds them (acc may be float32: x-mathContext="float")."""
    ok = leaf >= 0
    ok[ok] = leaf_ok[leaf[ok]]
    miss = ~ok
    if miss.any():
        nmiss += miss
        missw[miss] += sw
        missv[miss] += w
    rows = np.flatnonzero(ok)
    lf = leaf[rows]
    if vote:
        c = leaf_cls[lf]
        acc[rows, c] += w
        first[rows, c] = np.minimum(first[rows, c], t)
    else:
        acc[rows] += w * leaf_val[lf]
    den[rows] += w


def graph_forest(X, starts, weight, segw, vote, leaf_val, leaf_cls, leaf_ok, op, feat, thr, lo,
                 hi, sets, nxt, all_le, acc, den, missw, missv, nmiss, first) -> None:
    """Twin of ``_tree_numba.graph_forest``: every tree's leaves added to the sums in order."""
    g = _graph(op, feat, thr, lo, hi, sets, nxt)
    for t in range(len(starts)):
        accumulate(t, np_graph(g, X, int(starts[t])), float(weight[t]), float(segw[t]), vote,
                   leaf_val, leaf_cls, leaf_ok, acc, den, missw, missv, nmiss, first)


def general_forest(X, roots, strategy, last, factor, weight, segw, vote, leaf_val, leaf_cls,
                   leaf_ok, pred, kid_lo, kid_hi, kids, binary, default, e_op, e_feat, e_thr,
                   e_lo, e_hi, e_start, args, sets, scratch_size, acc, den, missw, missv, nmiss,
                   first) -> None:
    """Twin of ``_tree_numba.general_forest``."""
    fz = _general(roots, strategy, last, factor, pred, kid_lo, kid_hi, kids, binary, default,
                  e_op, e_feat, e_thr, e_lo, e_hi, e_start, args, sets)
    for t in range(len(roots)):
        accumulate(t, np_walk_tree(fz, X, t, None), float(weight[t]), float(segw[t]), vote,
                   leaf_val, leaf_cls, leaf_ok, acc, den, missw, missv, nmiss, first)


def fill_numeric(dst: np.ndarray, src: np.ndarray, miss: np.ndarray) -> bool:
    """Twin of ``_tree_numba.fill_numeric``: dst = src with NaN where miss; False when src holds
    a NaN that is not missing."""
    np.copyto(dst, src)
    clean = not (np.isnan(dst) & ~miss).any()
    dst[miss] = np.nan
    return bool(clean)
