"""numba loops over the C library's exp, expm1, log1p, tanh, log, log10, atan and pow
(imported only when numba is used): the functions CPython's ``math`` module calls, so each element is the record path's
value bit for bit (numpy's own SIMD versions differ in the last place). Compiled with
cache=True."""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from portmodel.numba_cache import configure


configure(__file__)   # (where numba caches these kernels: see portmodel.numba_cache)


@njit(cache=True)
def exp_(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out.flat[i] = math.exp(x.flat[i])
    return out


@njit(cache=True)
def expm1_(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out.flat[i] = math.expm1(x.flat[i])
    return out


@njit(cache=True)
def log1p_(x):
    out = np.empty_like(x)
    for i in range(x.size):
        v = x.flat[i]
        out.flat[i] = math.log1p(v) if v >= -1.0 else np.nan
    return out


@njit(cache=True)
def tanh_(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out.flat[i] = math.tanh(x.flat[i])
    return out


@njit(cache=True)
def pow_(x, y):
    out = np.empty_like(x)
    for i in range(x.size):
        out.flat[i] = math.pow(x.flat[i], y.flat[i])
    return out


@njit(cache=True)
def log_(x):
    out = np.empty_like(x)
    for i in range(x.size):
        v = x.flat[i]
        out.flat[i] = math.log(v) if v > 0 else (-np.inf if v == 0 else np.nan)
    return out


@njit(cache=True)
def log10_(x):
    out = np.empty_like(x)
    for i in range(x.size):
        v = x.flat[i]
        out.flat[i] = math.log10(v) if v > 0 else (-np.inf if v == 0 else np.nan)
    return out


@njit(cache=True)
def atan_(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out.flat[i] = math.atan(x.flat[i])
    return out
