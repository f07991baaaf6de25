"""Element-wise exp, expm1, log1p, tanh, log, log10, atan and Java's pow over float arrays, with the values of the
record path's ``math`` functions bit for bit.

CPython's ``math.exp`` (and tanh, pow...) call the C library; numpy's ufuncs use their own SIMD
code, which is a unit in the last place off on a few percent of the inputs (exp, tanh, pow,
log10; log and atan more rarely). sin, cos and sqrt agree and stay numpy's. The column path calls
the C library too: through numba loops (about 30 ns an element against numpy's 6 ns: a small
share of a row's cost), or, without numba or with PORTMODEL_NO_NUMBA=1, through ``math`` itself
element by element (slow, but the same values)."""
from __future__ import annotations

import math

import numpy as np

from ..pmml.models.tree_kernel import numba_enabled
from .lib.core import java_pow

INF = math.inf


def _py_exp(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:
        return INF


def _py_expm1(v: float) -> float:
    try:
        return math.expm1(v)
    except OverflowError:
        return INF


def _py_log1p(v: float) -> float:
    if not v >= -1.0:
        return math.nan
    if v == -1.0:
        return -INF
    return math.log1p(v)


def _py_log(f):
    return lambda v: f(v) if v > 0 else (-INF if v == 0 else math.nan)


_PY = {"exp": _py_exp, "expm1": _py_expm1, "log1p": _py_log1p, "tanh": math.tanh,
       "log": _py_log(math.log), "log10": _py_log(math.log10), "atan": math.atan}
_UFUNCS = {k: np.frompyfunc(f, 1, 1) for k, f in _PY.items()}
_POW = np.frompyfunc(java_pow, 2, 1)


def _apply(name: str, x) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        return np.float64(_PY[name](float(a)))
    if numba_enabled():
        from . import _libm_numba
        return _libm_numba.apply_(np.ascontiguousarray(a), _libm_numba.CODES[name])
    return _UFUNCS[name](a).astype(np.float64)


def exp(x):
    """math.exp element-wise (inf where it overflows)."""
    return _apply("exp", x)


def expm1(x):
    """math.expm1 element-wise (inf where it overflows)."""
    return _apply("expm1", x)


def log1p(x):
    """math.log1p element-wise (NaN below -1, -inf at -1)."""
    return _apply("log1p", x)


def tanh(x):
    """math.tanh element-wise."""
    return _apply("tanh", x)


def log(x):
    """The record path's m.ln element-wise (-inf at 0, NaN below)."""
    return _apply("log", x)


def log10(x):
    """The record path's m.log10 element-wise (-inf at 0, NaN below)."""
    return _apply("log10", x)


def atan(x):
    """math.atan element-wise."""
    return _apply("atan", x)


def jpow(x, y):
    """The record path's ``java_pow`` (Math.pow's special cases over math.pow) element-wise."""
    a, b = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    if a.ndim == 0:
        return np.float64(java_pow(float(a), float(b)))
    if not numba_enabled():
        return _POW(a, b).astype(np.float64)
    from . import _libm_numba
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    with np.errstate(all="ignore"):
        out = _libm_numba.pow_(a, b)
        # java_pow's own answers where C's pow differs from Math.pow
        special = np.isnan(b) | (b == 0) | np.isnan(a) | ((np.abs(a) == 1.0) & np.isinf(b))
    if special.any():
        out = np.where(special, _POW(np.where(special, a, 0.0), np.where(special, b, 1.0))
                       .astype(np.float64), out)
    return out
