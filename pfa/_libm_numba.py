"""numba loops over the C library's exp, expm1, log1p, tanh, log, log10, atan and pow
(imported only when numba is used): the functions CPython's ``math`` module calls, so each
element is the record path's value bit for bit (numpy's own SIMD versions differ in the last
place). Compiled with cache=True.

One loop serves every function of one argument: ``apply_(x, code)`` with the function's code
from ``CODES`` (the table ``_unary`` dispatches on; a branch the processor predicts, next to
a C library call). One loop per function would repeat the same body, and a loop built per
function by a factory would be a closure, which numba does not cache between processes."""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from portmodel.numba_cache import configure


configure(__file__)   # (where numba caches these kernels: see portmodel.numba_cache)

#: function name -> its code in _unary
CODES = {"exp": 0, "expm1": 1, "log1p": 2, "tanh": 3, "log": 4, "log10": 5, "atan": 6}


@njit(cache=True)
def _unary(code, v):
    """The record path's value of function ``code`` at v (NaN or -inf where the record path's
    own guards give them, instead of the C library's domain errors)."""
    if code == 0:
        return math.exp(v)
    if code == 1:
        return math.expm1(v)
    if code == 2:
        return math.log1p(v) if v >= -1.0 else np.nan
    if code == 3:
        return math.tanh(v)
    if code == 4:
        return math.log(v) if v > 0 else (-np.inf if v == 0 else np.nan)
    if code == 5:
        return math.log10(v) if v > 0 else (-np.inf if v == 0 else np.nan)
    return math.atan(v)


@njit(cache=True)
def apply_(x, code):
    """Function ``code`` (see CODES) of every element of x."""
    out = np.empty_like(x)
    for i in range(x.size):
        out.flat[i] = _unary(code, x.flat[i])
    return out


@njit(cache=True)
def pow_(x, y):
    """The C library's pow of every pair of elements (x and y of one shape)."""
    out = np.empty_like(x)
    for i in range(x.size):
        out.flat[i] = math.pow(x.flat[i], y.flat[i])
    return out
