"""numba kernels for the dense numeric models (neural networks, naive Bayes, distance measures,
support vector machines). Imported only when numba is enabled (see ``tree_kernel.numba_enabled``);
each kernel has a numpy twin in its model module that gives the same numbers bit for bit.

Exactness rules kept here: plain loops in the order the numpy code adds (no fastmath, so no
reassociation or fused multiply-adds), and no transcendental functions (numpy's exp/log/pow may
differ from libm's in the last bit; those stay in numpy). sqrt is correctly rounded everywhere.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

# ================================================================= neural network


@njit(cache=True)
def layer_sums(acts, src, dense, conn, weights, bias, z):
    """z[i, j] = ((0 + x_i[s0] w[s0, j]) + x_i[s1] w[s1, j] + ...) + bias[j] over the connected
    inputs s of neuron j in ``src`` order, x_i = acts[i, src]: the numpy twin's rank-1 updates."""
    n = acts.shape[0]
    k = weights.shape[1]
    for i in range(n):
        for j in range(k):
            z[i, j] = 0.0
        for s in range(src.shape[0]):
            xs = acts[i, src[s]]
            if dense[s]:
                for j in range(k):
                    z[i, j] += xs * weights[s, j]
            else:
                for j in range(k):
                    if conn[s, j]:
                        z[i, j] += xs * weights[s, j]
        for j in range(k):
            z[i, j] += bias[j]


# ================================================================= naive Bayes


@njit(cache=True)
def gauss_exponents(xs, lo, feat, mean, sd, c, out):
    """out[p, i] = -0.5 z z - c[p], z = (xs[feat[p], lo + i] - mean[p]) / sd[p]."""
    r = out.shape[1]
    for p in range(feat.shape[0]):
        x = xs[feat[p], lo:lo + r]
        o = out[p]
        a = mean[p]
        s = sd[p]
        cc = c[p]
        for i in range(r):          # two loops: each vectorizes
            o[i] = (x[i] - a) / s
        for i in range(r):
            z = o[i]
            o[i] = -0.5 * z * z - cc


@njit(cache=True)
def add_terms(terms, rows, cls, logp):
    """logp[cls[t], i] += terms[rows[t], i], t in order: each class's terms in document order
    (logp is class-major)."""
    for t in range(rows.shape[0]):
        src = terms[rows[t]]
        dst = logp[cls[t]]
        for i in range(dst.shape[0]):
            dst[i] += src[i]


# ================================================================= distance measures
# mode: 0 sum of |x - y| (cityBlock), 1 sum of (x - y)^2 (euclidean, squaredEuclidean),
# 2 max of |x - y| (chebychev); root: take the square root at the end (euclidean).


@njit(cache=True)
def _row_distances(X, P, has_missing, i, Y, w, mode, root, adj, undef, acc):
    """acc[j] = distance of row i to reference j (see ``comparison.distances``)."""
    m = Y.shape[1]
    for j in range(m):
        acc[j] = 0.0
    for f in range(X.shape[0]):
        if has_missing and not P[f, i]:
            continue                         # numpy adds 0.0: no change (acc is never -0.0)
        x = X[f, i]
        wf = w[f]
        yf = Y[f]
        if mode == 1:
            for j in range(m):
                d = abs(x - yf[j])
                acc[j] += d * d * wf
        elif mode == 0:
            for j in range(m):
                acc[j] += abs(x - yf[j]) * wf
        else:
            for j in range(m):
                d = abs(x - yf[j]) * wf
                a = acc[j]
                if a == a and (d > a or d != d):      # np.maximum: NaN wins
                    acc[j] = d
    a = adj[i]
    if undef[i]:
        for j in range(m):
            acc[j] = np.nan
    elif root:
        for j in range(m):
            acc[j] = math.sqrt(acc[j] * a)
    else:
        for j in range(m):
            acc[j] = acc[j] * a


@njit(cache=True)
def _block_distances(X, P, has_missing, lo, hi, Y, w, mode, root, adj, undef, acc):
    """acc[j, i - lo] = distance of row i (lo <= i < hi) to reference j: the same sums as
    ``_row_distances`` with the rows in the inner loop (few references: long vector loops)."""
    B = hi - lo
    m = Y.shape[1]
    for j in range(m):
        for b in range(B):
            acc[j, b] = 0.0
    for f in range(X.shape[0]):
        x = X[f, lo:hi]
        wf = w[f]
        for j in range(m):
            y = Y[f, j]
            a = acc[j]
            if mode == 1:
                if has_missing:
                    p = P[f, lo:hi]
                    for b in range(B):
                        d = abs(x[b] - y)
                        a[b] += d * d * wf if p[b] else 0.0   # + 0.0 changes nothing
                else:
                    for b in range(B):
                        d = abs(x[b] - y)
                        a[b] += d * d * wf
            elif mode == 0:
                if has_missing:
                    p = P[f, lo:hi]
                    for b in range(B):
                        a[b] += abs(x[b] - y) * wf if p[b] else 0.0
                else:
                    for b in range(B):
                        a[b] += abs(x[b] - y) * wf
            else:
                for b in range(B):
                    if has_missing and not P[f, lo + b]:
                        continue
                    d = abs(x[b] - y) * wf
                    v = a[b]
                    if v == v and (d > v or d != d):
                        a[b] = d
    for j in range(m):
        a = acc[j]
        for b in range(B):
            i = lo + b
            if undef[i]:
                a[b] = np.nan
            elif root:
                a[b] = math.sqrt(a[b] * adj[i])
            else:
                a[b] = a[b] * adj[i]


_BLOCK = 256
_FEW_REFERENCES = 32


@njit(cache=True)
def distance_matrix(X, P, has_missing, Y, w, mode, root, adj, undef, out):
    """out[i, j] = distance of row i (X[:, i]; P[:, i] present) to reference j (Y[:, j])."""
    n = X.shape[1]
    m = Y.shape[1]
    if m <= _FEW_REFERENCES:
        acc = np.empty((m, _BLOCK))
        for lo in range(0, n, _BLOCK):
            hi = min(n, lo + _BLOCK)
            _block_distances(X, P, has_missing, lo, hi, Y, w, mode, root, adj, undef, acc)
            for b in range(hi - lo):
                for j in range(m):
                    out[lo + b, j] = acc[j, b]
    else:
        for i in range(n):
            _row_distances(X, P, has_missing, i, Y, w, mode, root, adj, undef, out[i])


@njit(cache=True)
def _select_row(s, lower, R, key, idx):
    """The R best of s in order (lowest when lower, else highest; NaN last; ties in index
    order): a stable argsort's first R entries. Returns how many were found (min(R, len))."""
    cnt = 0
    for j in range(s.shape[0]):
        v = s[j]
        k = (v if lower else -v) if v == v else np.inf
        if cnt == R:
            if not k < key[R - 1]:
                continue
            pos = R - 1
        else:
            pos = cnt
            cnt += 1
        while pos > 0 and key[pos - 1] > k:
            key[pos] = key[pos - 1]
            idx[pos] = idx[pos - 1]
            pos -= 1
        key[pos] = k
        idx[pos] = j
    return cnt


@njit(cache=True)
def select_nearest(s, lower, near, near_score):
    """near[i] = the best references of row i of the score matrix s, near_score[i] their
    scores (see ``_select_row``)."""
    R = near.shape[1]
    key = np.empty(R)
    idx = np.empty(R, np.int64)
    for i in range(s.shape[0]):
        _select_row(s[i], lower, R, key, idx)
        for r in range(R):
            near[i, r] = idx[r]
            near_score[i, r] = s[i, idx[r]]


@njit(cache=True)
def nearest_distances(X, P, has_missing, Y, w, mode, root, adj, undef, lower, near, near_score):
    """distance_matrix and select_nearest fused: one row's distances at a time."""
    R = near.shape[1]
    acc = np.empty(Y.shape[1])
    key = np.empty(R)
    idx = np.empty(R, np.int64)
    for i in range(X.shape[1]):
        _row_distances(X, P, has_missing, i, Y, w, mode, root, adj, undef, acc)
        _select_row(acc, lower, R, key, idx)
        for r in range(R):
            near[i, r] = idx[r]
            near_score[i, r] = acc[idx[r]]
