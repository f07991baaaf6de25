"""numba kernels over the lowered tree arrays of ``tree_kernel`` (imported only when numba is used).

The node tests use the operator codes and three-valued results of ``predicate_logic`` (whose
``simple_value`` / ``graph_test`` / ``combine`` are the scalar statement of what ``_simple``,
``_goes_right`` and ``_eval`` compute); ``tree_numpy`` holds each kernel's numpy twin.

X is the (fields, rows) float matrix: NaN is a missing value. Graph kernels follow tests until
they reach a result; general kernels test each node's children in document order and route
UNKNOWN results by missingValueStrategy. Kernels are compiled with cache=True, so a new process
loads them from disk instead of compiling. Parallel variants split the rows into chunks.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from portmodel.numba_cache import configure

from ..predicate_logic import (G_EQ, G_GT, G_IN, G_KNOWN, G_LE, G_LT, G_NE, G_NOTIN, OP_AND,
                               OP_EQ, OP_FALSE, OP_GE, OP_GT, OP_IN, OP_LE, OP_LT, OP_MISSING,
                               OP_NE, OP_NOTMISSING, OP_OR, OP_TRUE, OP_XOR, S_LAST, S_NONE,
                               S_NULL)

_CHUNK = 1024
LANES = 8


configure(__file__)   # (where numba caches these kernels: see portmodel.numba_cache)


@njit(cache=True)
def _member(x, sets, lo, hi):
    if hi - lo <= 8:
        for i in range(lo, hi):
            if sets[i] == x:
                return True
        return False
    a, b = lo, hi
    while a < b:
        m = (a + b) >> 1
        if sets[m] < x:
            a = m + 1
        else:
            b = m
    return a < hi and sets[a] == x


# ================================================================= graph form


@njit(cache=True)
def _goes_right(o, x, th, sets, lo, hi):
    """The graph form's node test on a present value x (not NaN): True sends the walk to the
    node's true target. o: the node's G_ operator, th: its threshold, sets[lo:hi]: its sorted
    value set. Shared by the batch walks here and the one-record walk (``_record_numba``).
    G_LT, G_GT and G_GE are only left by infinite or NaN thresholds (see ``Graph._add``)."""
    if o == G_LE:
        return x <= th
    if o == G_EQ:
        return x == th
    if o == G_NE:
        return x != th
    if o == G_KNOWN:
        return False
    if o == G_IN or o == G_NOTIN:
        return _member(x, sets, lo, hi) == (o == G_IN)
    if o == G_LT:
        return x < th
    if o == G_GT:
        return x > th
    return x >= th


@njit(cache=True)
def _graph_block(X, a, b, start, op, feat, thr, lo, hi, sets, nxt, all_le, out, off, t):
    """out[r - off] = leaf of rows a..b-1 (-1: no prediction, else the global node index).

    LANES rows walk together, one test each per round: their independent load chains overlap,
    which hides most of the memory latency a single row's walk is made of. t: LANES ints of
    scratch (allocated once by the caller)."""
    for base in range(a, b, LANES):
        m = min(LANES, b - base)
        for l in range(LANES):
            t[l] = start if l < m else -1
        live = start >= 0
        while live:
            live = False
            for l in range(LANES):
                tt = t[l]
                if tt >= 0:
                    x = X[feat[tt], base + l]
                    if x != x:
                        tt = nxt[tt, 2]
                    elif all_le:
                        tt = nxt[tt, 1 if x <= thr[tt] else 0]
                    else:
                        tt = nxt[tt, 1 if _goes_right(op[tt], x, thr[tt], sets, lo[tt],
                                                      hi[tt]) else 0]
                    t[l] = tt
                    if tt >= 0:
                        live = True
        for l in range(m):
            out[base + l - off] = -t[l] - 2


@njit(cache=True)
def _graph_block_raw(flat, foff, r32, a, b, start, op, feat, thr, lo, hi, sets, nxt, all_le, out,
                     t):
    """``_graph_block`` reading the user's float64 columns in place (feature f, row r at
    ``flat[foff[f] + r]``) and rounding a dataType="float" feature (r32[f]) to float32 at each
    test that reads it, as the document's input conversion rounds the whole column: no
    rounded copies and no feature matrix. NaN is a missing value."""
    for base in range(a, b, LANES):
        m = min(LANES, b - base)
        for l in range(LANES):
            t[l] = start if l < m else -1
        live = start >= 0
        while live:
            live = False
            for l in range(LANES):
                tt = t[l]
                if tt >= 0:
                    f = feat[tt]
                    x = flat[foff[f] + base + l]
                    if r32[f]:
                        x = np.float64(np.float32(x))
                    if x != x:
                        tt = nxt[tt, 2]
                    elif all_le:
                        tt = nxt[tt, 1 if x <= thr[tt] else 0]
                    else:
                        tt = nxt[tt, 1 if _goes_right(op[tt], x, thr[tt], sets, lo[tt],
                                                      hi[tt]) else 0]
                    t[l] = tt
                    if tt >= 0:
                        live = True
        for l in range(m):
            out[base + l] = -t[l] - 2


@njit(cache=True)
def graph_rows_raw(flat, foff, r32, n, start, op, feat, thr, lo, hi, sets, nxt, all_le, out):
    _graph_block_raw(flat, foff, r32, 0, n, start, op, feat, thr, lo, hi, sets, nxt, all_le, out,
                     np.empty(LANES, np.int64))


@njit(cache=True, parallel=True)
def graph_rows_raw_par(flat, foff, r32, n, start, op, feat, thr, lo, hi, sets, nxt, all_le,
                       out):
    chunks = (n + _CHUNK - 1) // _CHUNK
    for c in prange(chunks):
        _graph_block_raw(flat, foff, r32, c * _CHUNK, min(n, (c + 1) * _CHUNK), start, op, feat,
                         thr, lo, hi, sets, nxt, all_le, out, np.empty(LANES, np.int64))


@njit(cache=True)
def graph_rows(X, start, op, feat, thr, lo, hi, sets, nxt, all_le, out):
    _graph_block(X, 0, X.shape[1], start, op, feat, thr, lo, hi, sets, nxt, all_le, out, 0,
                 np.empty(LANES, np.int64))


@njit(cache=True, parallel=True)
def graph_rows_par(X, start, op, feat, thr, lo, hi, sets, nxt, all_le, out):
    n = X.shape[1]
    chunks = (n + _CHUNK - 1) // _CHUNK
    for c in prange(chunks):
        _graph_block(X, c * _CHUNK, min(n, (c + 1) * _CHUNK), start, op, feat, thr, lo, hi, sets,
                     nxt, all_le, out, 0, np.empty(LANES, np.int64))


@njit(cache=True)
def _accumulate(a, b, t, leaves, w, sw, vote, leaf_val, leaf_cls, leaf_ok, acc, den, missw,
                missv, nmiss, first):
    """Add tree t's answers for rows a..b-1 (leaves[r - a]) to the running ensemble sums:
    value rows (or a vote) weighted by w; missing predictions counted apart."""
    k = acc.shape[1]
    for r in range(a, b):
        lf = leaves[r - a]
        if lf < 0 or not leaf_ok[lf]:
            nmiss[r] += 1
            missw[r] += sw
            missv[r] += w
            continue
        if vote:
            c = leaf_cls[lf]
            acc[r, c] += w
            if first[r, c] > t:
                first[r, c] = t
        else:
            for j in range(k):
                acc[r, j] += w * leaf_val[lf, j]
        den[r] += w


@njit(cache=True)
def _graph_forest_chunk(X, a, b, starts, weight, segw, vote, leaf_val, leaf_cls, leaf_ok, op,
                        feat, thr, lo, hi, sets, nxt, all_le, acc, den, missw, missv, nmiss,
                        first):
    leaves = np.empty(b - a, np.int64)
    lanes = np.empty(LANES, np.int64)
    for t in range(starts.shape[0]):          # one tree at a time stays in cache
        _graph_block(X, a, b, starts[t], op, feat, thr, lo, hi, sets, nxt, all_le, leaves, a,
                     lanes)
        _accumulate(a, b, t, leaves, weight[t], segw[t], vote, leaf_val, leaf_cls, leaf_ok, acc,
                    den, missw, missv, nmiss, first)


@njit(cache=True)
def graph_forest(X, starts, weight, segw, vote, leaf_val, leaf_cls, leaf_ok, op, feat, thr, lo,
                 hi, sets, nxt, all_le, acc, den, missw, missv, nmiss, first):
    n = X.shape[1]
    chunks = (n + _CHUNK - 1) // _CHUNK
    for c in range(chunks):
        _graph_forest_chunk(X, c * _CHUNK, min(n, (c + 1) * _CHUNK), starts, weight, segw, vote,
                            leaf_val, leaf_cls, leaf_ok, op, feat, thr, lo, hi, sets, nxt, all_le,
                            acc, den, missw, missv, nmiss, first)


@njit(cache=True, parallel=True)
def graph_forest_par(X, starts, weight, segw, vote, leaf_val, leaf_cls, leaf_ok, op, feat, thr,
                     lo, hi, sets, nxt, all_le, acc, den, missw, missv, nmiss, first):
    n = X.shape[1]
    chunks = (n + _CHUNK - 1) // _CHUNK
    for c in prange(chunks):
        _graph_forest_chunk(X, c * _CHUNK, min(n, (c + 1) * _CHUNK), starts, weight, segw, vote,
                            leaf_val, leaf_cls, leaf_ok, op, feat, thr, lo, hi, sets, nxt, all_le,
                            acc, den, missw, missv, nmiss, first)


# ================================================================= general form


@njit(cache=True)
def _simple(X, r, e, e_op, e_feat, e_thr, e_lo, e_hi, sets):
    """0 false, 1 true, 2 unknown."""
    op = e_op[e]
    if op == OP_TRUE:
        return 1
    if op == OP_FALSE:
        return 0
    x = X[e_feat[e], r]
    missing = x != x
    if op == OP_MISSING:
        return 1 if missing else 0
    if op == OP_NOTMISSING:
        return 0 if missing else 1
    if missing:
        return 2
    t = e_thr[e]
    if op == OP_LE:
        return 1 if x <= t else 0
    if op == OP_GT:
        return 1 if x > t else 0
    if op == OP_LT:
        return 1 if x < t else 0
    if op == OP_GE:
        return 1 if x >= t else 0
    if op == OP_EQ:
        return 1 if x == t else 0
    if op == OP_NE:
        return 1 if x != t else 0
    hit = _member(x, sets, e_lo[e], e_hi[e])
    if op == OP_IN:
        return 1 if hit else 0
    return 0 if hit else 1


@njit(cache=True)
def _eval(X, r, e, e_op, e_feat, e_thr, e_lo, e_hi, e_start, args, sets, scratch):
    if e_op[e] < OP_AND:
        return _simple(X, r, e, e_op, e_feat, e_thr, e_lo, e_hi, sets)
    s = e_start[e]
    for i in range(s, e + 1):
        op = e_op[i]
        if op < OP_AND:
            scratch[i - s] = _simple(X, r, i, e_op, e_feat, e_thr, e_lo, e_hi, sets)
            continue
        lo = e_lo[i]
        hi = e_hi[i]
        if op == OP_AND:
            res = 1
            for a in range(lo, hi):
                v = scratch[args[a] - s]
                if v == 0:
                    res = 0
                    break
                if v == 2:
                    res = 2
        elif op == OP_OR:
            res = 0
            for a in range(lo, hi):
                v = scratch[args[a] - s]
                if v == 1:
                    res = 1
                    break
                if v == 2:
                    res = 2
        elif op == OP_XOR:
            res = 0
            for a in range(lo, hi):
                v = scratch[args[a] - s]
                if v == 2:
                    res = 2
                    break
                res ^= v
        else:  # surrogate: the first known child
            res = 2
            for a in range(lo, hi):
                v = scratch[args[a] - s]
                if v != 2:
                    res = v
                    break
        scratch[i - s] = res
    return scratch[e - s]


@njit(cache=True)
def _route(X, r, root, strategy, last, factor, pred, kid_lo, kid_hi, kids, binary, default,
           e_op, e_feat, e_thr, e_lo, e_hi, e_start, args, sets, scratch):
    """(leaf node, penalty) of row r in the tree rooted at root; leaf -1 = no prediction."""
    pen = 1.0
    if _eval(X, r, pred[root], e_op, e_feat, e_thr, e_lo, e_hi, e_start, args, sets,
             scratch) != 1:
        return -1, pen
    node = root
    while True:
        lo = kid_lo[node]
        hi = kid_hi[node]
        if lo == hi:
            return node, pen
        nxt = -1
        unknown = False
        if binary[node]:
            v = _eval(X, r, pred[kids[lo]], e_op, e_feat, e_thr, e_lo, e_hi, e_start, args,
                      sets, scratch)
            if v == 1:
                nxt = kids[lo]
            elif v == 0:
                nxt = kids[lo + 1]
            elif strategy != S_NONE:
                unknown = True
        else:
            for j in range(lo, hi):
                c = kids[j]
                v = _eval(X, r, pred[c], e_op, e_feat, e_thr, e_lo, e_hi, e_start, args, sets,
                          scratch)
                if v == 1:
                    nxt = c
                    break
                if v == 2 and strategy != S_NONE:
                    unknown = True
                    break
        if unknown:
            if strategy == S_LAST:
                return node, pen
            if strategy == S_NULL:
                return -1, pen
            dc = default[node]            # defaultChild
            if dc < 0:
                return node, pen
            pen *= factor
            nxt = dc
        if nxt < 0:
            return (node if last else -1), pen
        node = nxt


@njit(cache=True)
def _walk_range(X, a, b, root, strategy, last, factor, want_pen, pred, kid_lo, kid_hi, kids,
                binary, default, e_op, e_feat, e_thr, e_lo, e_hi, e_start, args, sets,
                scratch_size, leaf, pen):
    scratch = np.empty(scratch_size, np.int8)
    for r in range(a, b):
        lf, p = _route(X, r, root, strategy, last, factor, pred, kid_lo, kid_hi, kids, binary,
                       default, e_op, e_feat, e_thr, e_lo, e_hi, e_start, args, sets, scratch)
        leaf[r] = lf
        if want_pen:
            pen[r] *= p


@njit(cache=True)
def walk_rows(X, root, strategy, last, factor, want_pen, pred, kid_lo, kid_hi, kids, binary,
              default, e_op, e_feat, e_thr, e_lo, e_hi, e_start, args, sets, scratch_size,
              leaf, pen):
    _walk_range(X, 0, X.shape[1], root, strategy, last, factor, want_pen, pred, kid_lo, kid_hi,
                kids, binary, default, e_op, e_feat, e_thr, e_lo, e_hi, e_start, args, sets,
                scratch_size, leaf, pen)


@njit(cache=True, parallel=True)
def walk_rows_par(X, root, strategy, last, factor, want_pen, pred, kid_lo, kid_hi, kids, binary,
                  default, e_op, e_feat, e_thr, e_lo, e_hi, e_start, args, sets, scratch_size,
                  leaf, pen):
    n = X.shape[1]
    chunks = (n + _CHUNK - 1) // _CHUNK
    for c in prange(chunks):
        _walk_range(X, c * _CHUNK, min(n, (c + 1) * _CHUNK), root, strategy, last, factor,
                    want_pen, pred, kid_lo, kid_hi, kids, binary, default, e_op, e_feat, e_thr,
                    e_lo, e_hi, e_start, args, sets, scratch_size, leaf, pen)


@njit(cache=True)
def _general_forest_chunk(X, a, b, roots, strategy, last, factor, weight, segw, vote, leaf_val,
                          leaf_cls, leaf_ok, pred, kid_lo, kid_hi, kids, binary, default, e_op,
                          e_feat, e_thr, e_lo, e_hi, e_start, args, sets, scratch_size, acc, den,
                          missw, missv, nmiss, first):
    scratch = np.empty(scratch_size, np.int8)
    leaves = np.empty(b - a, np.int64)
    for t in range(roots.shape[0]):
        for r in range(a, b):
            lf, p = _route(X, r, roots[t], strategy[t], last[t], factor[t], pred, kid_lo,
                           kid_hi, kids, binary, default, e_op, e_feat, e_thr, e_lo, e_hi,
                           e_start, args, sets, scratch)
            leaves[r - a] = lf
        _accumulate(a, b, t, leaves, weight[t], segw[t], vote, leaf_val, leaf_cls, leaf_ok, acc,
                    den, missw, missv, nmiss, first)


@njit(cache=True)
def general_forest(X, roots, strategy, last, factor, weight, segw, vote, leaf_val, leaf_cls,
                   leaf_ok, pred, kid_lo, kid_hi, kids, binary, default, e_op, e_feat, e_thr,
                   e_lo, e_hi, e_start, args, sets, scratch_size, acc, den, missw, missv, nmiss,
                   first):
    n = X.shape[1]
    chunks = (n + _CHUNK - 1) // _CHUNK
    for c in range(chunks):
        _general_forest_chunk(X, c * _CHUNK, min(n, (c + 1) * _CHUNK), roots, strategy, last,
                              factor, weight, segw, vote, leaf_val, leaf_cls, leaf_ok, pred,
                              kid_lo, kid_hi, kids, binary, default, e_op, e_feat, e_thr, e_lo,
                              e_hi, e_start, args, sets, scratch_size, acc, den, missw, missv,
                              nmiss, first)


@njit(cache=True, parallel=True)
def general_forest_par(X, roots, strategy, last, factor, weight, segw, vote, leaf_val, leaf_cls,
                       leaf_ok, pred, kid_lo, kid_hi, kids, binary, default, e_op, e_feat, e_thr,
                       e_lo, e_hi, e_start, args, sets, scratch_size, acc, den, missw, missv,
                       nmiss, first):
    n = X.shape[1]
    chunks = (n + _CHUNK - 1) // _CHUNK
    for c in prange(chunks):
        _general_forest_chunk(X, c * _CHUNK, min(n, (c + 1) * _CHUNK), roots, strategy, last,
                              factor, weight, segw, vote, leaf_val, leaf_cls, leaf_ok, pred,
                              kid_lo, kid_hi, kids, binary, default, e_op, e_feat, e_thr, e_lo,
                              e_hi, e_start, args, sets, scratch_size, acc, den, missw, missv,
                              nmiss, first)


# ================================================================= input columns


@njit(cache=True)
def fill_numeric(dst, src, miss):
    """dst = src with NaN where miss (one pass); False when src holds a NaN that is not
    missing (such a value compares as a number, so the lowered forms cannot take it)."""
    clean = True
    for i in range(src.shape[0]):
        if miss[i]:
            dst[i] = np.nan
        else:
            v = src[i]
            if v != v:
                clean = False
            dst[i] = v
    return clean
