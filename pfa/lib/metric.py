"""metric.*: distance and similarity functions (with missing-value weighting)."""
from __future__ import annotations

import math

from ..errors import PFARuntimeError
from . import fn
from .core import java_pow

NAN = float("nan")


@fn("metric.simpleEuclidean")
def simple_euclidean(x, y):
    if len(x) != len(y):
        raise PFARuntimeError("dimensions of vectors do not match", 28000, "metric.simpleEuclidean")
    return math.sqrt(sum((a - b) * (a - b) for a, b in zip(x, y)))


fn("metric.absDiff")(lambda x, y: abs(x - y))


@fn("metric.gaussianSimilarity")
def gaussian_similarity(x, y, sigma):
    try:
        return math.exp(-math.log(2) * ((x - y) * (x - y)) / (sigma * sigma))
    except ZeroDivisionError:
        return float("nan") if x == y else 0.0
    except OverflowError:
        return 0.0


def _terms(name, code, sim, x, y, w):
    """(values of sim for present components, sum of all weights, sum of present weights)."""
    if len(x) != len(y) or (w is not None and len(w) != len(x)):
        raise PFARuntimeError("dimensions of vectors do not match", code, name)
    vals, total, present = [], 0.0, 0.0
    for i, (a, b) in enumerate(zip(x, y)):
        q = 1.0 if w is None else w[i]
        total += q
        if a is not None and b is not None:
            vals.append(sim(a, b))
            present += q
    return vals, total, present


def _metric(name, code, combine, finish=lambda v: v):
    def f(sim, x, y, w=None):
        vals, total, present = _terms(name, code, sim, x, y, w)
        if not vals:
            return NAN
        try:
            return finish(combine(vals) * total / present)
        except ZeroDivisionError:
            return NAN
    fn(name)(f)


_metric("metric.euclidean", 28030, lambda v: sum(s * s for s in v), math.sqrt)
_metric("metric.squaredEuclidean", 28040, lambda v: sum(s * s for s in v))
_metric("metric.chebyshev", 28050, max)
_metric("metric.taxicab", 28060, sum)


@fn("metric.minkowski")
def minkowski(sim, x, y, p, w=None):
    name = "metric.minkowski"
    if p <= 0 or p != p:
        raise PFARuntimeError("Minkowski parameter p must be positive", 28071, name)
    vals, total, present = _terms(name, 28070, sim, x, y, w)
    if not vals:
        return NAN
    if math.isinf(p):
        return max(vals) * total / present
    return java_pow(sum(java_pow(s, p) for s in vals) * total / present, 1.0 / p)


def _counts(name, code, x, y):
    if len(x) != len(y):
        raise PFARuntimeError("dimensions of vectors do not match", code, name)
    a11 = a10 = a01 = a00 = 0
    for a, b in zip(x, y):
        if a and b:
            a11 += 1
        elif a:
            a10 += 1
        elif b:
            a01 += 1
        else:
            a00 += 1
    return a11, a10, a01, a00


def _ratio(n, d):
    try:
        return n / d
    except ZeroDivisionError:
        return NAN


@fn("metric.simpleMatching")
def simple_matching(x, y):
    a11, a10, a01, a00 = _counts("metric.simpleMatching", 28080, x, y)
    return _ratio(a11 + a00, a11 + a10 + a01 + a00)


@fn("metric.jaccard")
def jaccard(x, y):
    a11, a10, a01, a00 = _counts("metric.jaccard", 28090, x, y)
    return _ratio(a11, a11 + a10 + a01)


@fn("metric.tanimoto")
def tanimoto(x, y):
    a11, a10, a01, a00 = _counts("metric.tanimoto", 28100, x, y)
    return _ratio(a11 + a00, a11 + 2 * (a10 + a01) + a00)


@fn("metric.binarySimilarity")
def binary_similarity(x, y, c00, c01, c10, c11, d00, d01, d10, d11):
    a11, a10, a01, a00 = _counts("metric.binarySimilarity", 28110, x, y)
    return _ratio(c11 * a11 + c10 * a10 + c01 * a01 + c00 * a00,
                  d11 * a11 + d10 * a10 + d01 * a01 + d00 * a00)
