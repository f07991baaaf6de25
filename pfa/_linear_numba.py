"""numba kernels of the column path's linear models (imported only when numba is used):
model.reg.linear's and model.neural.simpleLayers' products summed in the record path's order,
and m.link.softmax over whole rows. Each does the record path's arithmetic step by step (no
fused multiply-add: numba does not contract without fastmath), so the values are the record
path's bit for bit; math.exp lowers to the C library's exp, the function CPython's math.exp
calls. Compiled with cache=True."""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from portmodel.numba_cache import configure


configure(__file__)   # (where numba caches these kernels: see portmodel.numba_cache)


@njit(cache=True)
def ordered_matmul(x, w):
    """(n, m): for each row of x (n x k) and row i of w (m x k), 0.0 + x_0 w_0 + x_1 w_1 + ...
    added left to right (the record path's ``sum``)."""
    n, k = x.shape
    m = w.shape[0]
    out = np.empty((n, m))
    for r in range(n):
        for i in range(m):
            acc = 0.0
            for j in range(k):
                acc += x[r, j] * w[i, j]
            out[r, i] = acc
    return out


@njit(cache=True)
def softmax_rows(x):
    """The record path's m.link.softmax of every row (k > 0 entries): m = Python's max (the
    first entry, replaced by each later one greater than it), 0 when that is infinite or NaN;
    exp(x_j - m) each; their sum left to right from 0; each divided by the sum, NaN where the
    sum is 0. (A NaN entry makes the sum NaN, hence every entry NaN, as in the record path.)"""
    n, k = x.shape
    out = np.empty((n, k))
    for r in range(n):
        m = x[r, 0]
        for j in range(1, k):
            if x[r, j] > m:
                m = x[r, j]
        if math.isinf(m) or m != m:
            m = 0.0
        s = 0.0
        for j in range(k):
            e = math.exp(x[r, j] - m)
            out[r, j] = e
            s += e
        if s != 0.0:
            for j in range(k):
                out[r, j] = out[r, j] / s
        else:
            for j in range(k):
                out[r, j] = np.nan
    return out
