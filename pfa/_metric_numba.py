"""numba kernels of the column path's distances (imported only when numba is used): metric.*
with metric.absDiff similarity (per row, |x_j - y_j| combined left to right as the record path
does: sum of squares, sum, or Python's max; then times k over k, and the square root for
euclidean), m.kernel.rbf's squared distance and the kernels' compensated dot product, in one
pass without temporaries; the same against every row of a constant matrix (pairwise, the k
nearest, RBF kernels). Two helpers hold each metric's steps: ``_pair_sum`` for one pair,
``_row_sums`` for a row against every constant row at once (vectorized across the constant
rows, each pair's additions in order), both finished by ``_finish``. Compiled with
cache=True."""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from portmodel.numba_cache import configure


configure(__file__)   # (where numba caches these kernels: see portmodel.numba_cache)


@njit(cache=True)
def _pair_sum(x, r, y, i, mode):
    """|x[r, j] - y[i, j]| combined left to right: Python's max (mode 3), the sum (2) or the
    sum of squares (any other mode; a square is the same with or without the abs)."""
    k = x.shape[1]
    if mode == 3:
        acc = abs(x[r, 0] - y[i, 0])
        for j in range(1, k):
            s = abs(x[r, j] - y[i, j])
            if s > acc:
                acc = s
        return acc
    acc = 0.0
    for j in range(k):
        s = abs(x[r, j] - y[i, j])
        acc += s if mode == 2 else s * s
    return acc


@njit(cache=True)
def absdiff_metric(x, y, mode):
    """mode 0 euclidean, 1 squaredEuclidean, 2 taxicab, 3 chebyshev; x, y (rows, k), k > 0."""
    n, k = x.shape
    kf = float(k)
    out = np.empty(n)
    for r in range(n):
        out[r] = _finish(_pair_sum(x, r, y, r, mode), mode, kf)
    return out


@njit(cache=True)
def sq_dist(x, y):
    """Per row, (x_j - y_j)^2 added left to right from 0 (m.kernel.rbf's, the default
    metric's)."""
    n = x.shape[0]
    out = np.empty(n)
    for r in range(n):
        out[r] = _pair_sum(x, r, y, r, 1)
    return out


@njit(cache=True)
def dot_parts(x, y):
    """Per row, the compensated sum of x_j * y_j (see batch_models.fsum_rows): the rounded
    s + lo, the exact remainder of that last addition, the sum of lo's own rounding errors, and
    whether every partial sum and term was finite."""
    n, k = x.shape
    r_out = np.empty(n)
    rest_out = np.empty(n)
    d_out = np.empty(n)
    fin_out = np.empty(n, dtype=np.bool_)
    for r in range(n):
        s = 0.0
        lo = 0.0
        d = 0.0
        fin = True
        for j in range(k):
            t = x[r, j] * y[r, j]
            s2 = s + t
            bp = s2 - s
            err = (s - (s2 - bp)) + (t - bp)
            lo2 = lo + err
            bp = lo2 - lo
            d += abs((lo - (lo2 - bp)) + (err - bp))
            if not (math.isfinite(s2) and math.isfinite(t)):
                fin = False
            s = s2
            lo = lo2
        v = s + lo
        bp = v - s
        r_out[r] = v
        rest_out[r] = (s - (v - bp)) + (lo - bp)
        d_out[r] = d
        fin_out[r] = fin
    return r_out, rest_out, d_out, fin_out


@njit(cache=True)
def absdiff_pairwise(x, c, mode):
    """absdiff_metric of every row of x against every row of c, (rows, len(c)), without
    laying the pairs out: the same steps for each pair."""
    n = x.shape[0]
    m = c.shape[0]
    kf = float(c.shape[1])
    ct = np.ascontiguousarray(c.T)
    out = np.empty((n, m))
    sums = np.empty(m)
    for r in range(n):
        _row_sums(x, r, ct, mode, sums)
        for i in range(m):
            out[r, i] = _finish(sums[i], mode, kf)
    return out


@njit(cache=True)
def _row_sums(x, r, ct, mode, acc):
    """acc[i] = the combined |x_j - c_j| of row r of x and codebook row i (ct: the codebook
    transposed, (k, m)) before the metric's last steps (see _finish): the sum of squares
    (modes 0, 1 and 4), the sum (2) or Python's max (3). The components are taken in order
    for each pair, every codebook row at once: a loop the compiler vectorizes without changing
    any pair's order of additions."""
    k, m = ct.shape
    if mode == 3:
        for i in range(m):
            acc[i] = abs(x[r, 0] - ct[0, i])
        for j in range(1, k):
            xv = x[r, j]
            for i in range(m):
                s = abs(xv - ct[j, i])
                acc[i] = s if s > acc[i] else acc[i]
    elif mode == 2:
        acc[:] = 0.0
        for j in range(k):
            xv = x[r, j]
            for i in range(m):
                acc[i] += abs(xv - ct[j, i])
    else:
        acc[:] = 0.0
        for j in range(k):
            xv = x[r, j]
            for i in range(m):
                s = abs(xv - ct[j, i])
                acc[i] += s * s


@njit(cache=True)
def _finish(acc, mode, kf):
    """The metric's last steps: times k over k (and the square root for euclidean, mode 0);
    mode 4, the default metric of model.neighbor.nearestK, is the square root alone. Each is
    non-decreasing in acc."""
    if mode == 4:
        return math.sqrt(acc)
    v = acc * kf / kf
    return math.sqrt(v) if mode == 0 else v


@njit(cache=True)
def _before(d, e):
    """Whether distance d, of a later codebook row, sorts before e (the record path's key:
    NaN last, then the distance, then the codebook index)."""
    return d == d and (e != e or d < e)


@njit(cache=True)
def absdiff_nearest(x, c, mode, k):
    """model.neighbor.nearestK's codebook indexes (n, min(k, m)), nearest first, for every row
    of x against the codebook c (m x k'): the distances of absdiff_metric (mode 4: the default
    metric), and the k smallest kept in a sorted buffer. A later codebook row enters only
    strictly before the last kept one, so ties stay in codebook order and NaN distances last,
    as the record path's stable sort orders them. Since _finish is non-decreasing, a row whose
    sum is not below the last kept one's sum cannot enter, and is not finished. No (n x m)
    matrix and no full sort."""
    n = x.shape[0]
    m = c.shape[0]
    kf = float(c.shape[1])
    kk = min(k, m)
    ct = np.ascontiguousarray(c.T)
    out = np.empty((n, kk), dtype=np.int64)
    sums = np.empty(m)
    bd = np.empty(max(kk, 1))
    bs = np.empty(max(kk, 1))
    bi = np.empty(max(kk, 1), dtype=np.int64)
    for r in range(n):
        if kk == 0:
            continue
        _row_sums(x, r, ct, mode, sums)
        filled = 0
        for i in range(m):
            a = sums[i]
            if filled == kk:
                last = bs[kk - 1]
                if not (a < last or last != last):
                    continue
                d = _finish(a, mode, kf)
                if not _before(d, bd[kk - 1]):
                    continue
                pos = kk - 1
            else:
                d = _finish(a, mode, kf)
                pos = filled
                filled += 1
            while pos > 0 and _before(d, bd[pos - 1]):
                bd[pos] = bd[pos - 1]
                bs[pos] = bs[pos - 1]
                bi[pos] = bi[pos - 1]
                pos -= 1
            bd[pos] = d
            bs[pos] = a
            bi[pos] = i
        for j in range(kk):
            out[r, j] = bi[j]
    return out


@njit(cache=True)
def rbf_pairwise(x, c, gamma):
    """m.kernel.rbf of every row of x against every row of c, (rows, len(c)):
    exp(-gamma * the sum of squared differences from 0), the C library's exp (inf where it
    overflows, as the record path's)."""
    n = x.shape[0]
    m = c.shape[0]
    ct = np.ascontiguousarray(c.T)
    out = np.empty((n, m))
    sums = np.empty(m)
    g = -gamma
    for r in range(n):
        _row_sums(x, r, ct, 1, sums)
        for i in range(m):
            out[r, i] = math.exp(g * sums[i])
    return out
