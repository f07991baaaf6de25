"""m.*, m.link.*, m.kernel.*, m.special.*: math with IEEE 754 results (NaN/inf, not exceptions)."""
from __future__ import annotations

import math
from typing import Callable

from ..errors import PFARuntimeError
from ..types import INT_MAX, INT_MIN, LONG_MAX, LONG_MIN
from . import fn, typed
from .core import java_pow

INF, NAN = float("inf"), float("nan")


def _safe(f: Callable[[float], float], on_error: Callable[[float], float] | None = None):
    """Wrap a math function so domain/overflow errors give IEEE results."""
    def g(x):
        try:
            return f(x)
        except ValueError:
            return on_error(x) if on_error else NAN
        except OverflowError:
            return on_error(x) if on_error else INF
    return g


fn("m.pi")(lambda: math.pi)
fn("m.e")(lambda: math.e)


@typed("m.abs")
def abs_(call):
    k = call.ret.kind
    if k not in ("int", "long"):
        return abs
    lo, code = (INT_MIN, 27020) if k == "int" else (LONG_MIN, 27021)

    def a(x):
        if x == lo:     # |lo| does not fit
            raise PFARuntimeError(f"{k} overflow", code, "m.abs")
        return abs(x)
    return a


fn("m.acos")(_safe(math.acos))
fn("m.asin")(_safe(math.asin))
fn("m.atan")(_safe(math.atan))
fn("m.atan2")(lambda y, x: math.atan2(y, x))
fn("m.ceil")(lambda x: float(math.ceil(x)) if math.isfinite(x) else x)
fn("m.floor")(lambda x: float(math.floor(x)) if math.isfinite(x) else x)
fn("m.cos")(_safe(math.cos))
fn("m.sin")(_safe(math.sin))
fn("m.tan")(_safe(math.tan))
fn("m.cosh")(_safe(math.cosh, lambda x: NAN if x != x else INF))
fn("m.sinh")(_safe(math.sinh, lambda x: NAN if x != x else math.copysign(INF, x)))
fn("m.tanh")(math.tanh)


def _exp(x):
    try:
        return math.exp(x)
    except OverflowError:
        return INF


fn("m.exp")(_exp)
fn("m.expm1")(_safe(math.expm1, lambda x: INF))
fn("m.hypot")(lambda x, y: math.hypot(x, y))


def _ln(x):
    if x > 0:
        return math.log(x)
    if x == 0:
        return -INF
    return NAN


def _log10(x):
    if x > 0:
        return math.log10(x)
    if x == 0:
        return -INF
    return NAN


fn("m.ln")(_ln)
fn("m.log10")(_log10)


@fn("m.log")
def log_(x, base):
    if base <= 0:
        raise PFARuntimeError("base must be positive", 27170, "m.log")
    lb = math.log(base)
    lx = _ln(x)
    try:
        return lx / lb
    except ZeroDivisionError:
        if lx != lx or lx == 0:
            return NAN
        return math.copysign(INF, lx)


@fn("m.ln1p")
def ln1p(x):
    if x > -1:
        return math.log1p(x)
    if x == -1:
        return -INF
    return NAN


@typed("m.round")
def round_(call):
    if call.sig_index == 0:
        lo, hi, code, msg = INT_MIN, INT_MAX, 27190, "int overflow"
    else:
        lo, hi, code, msg = LONG_MIN, LONG_MAX, 27191, "long overflow"

    def r(x):
        if not math.isfinite(x):
            raise PFARuntimeError(msg, code, "m.round")
        out = math.floor(x + 0.5)
        if lo <= out <= hi:
            return out
        raise PFARuntimeError(msg, code, "m.round")
    return r


@fn("m.rint")
def rint(x):
    if not math.isfinite(x):
        return x
    return float(round(x))


@fn("m.signum")
def signum(x):
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0


@typed("m.copysign")
def copysign(call):
    if call.ret.kind in ("int", "long"):
        lo, hi = (INT_MIN, INT_MAX) if call.ret.kind == "int" else (LONG_MIN, LONG_MAX)

        def ci(mag, sign):
            r = abs(mag) if sign >= 0 else -abs(mag)
            # no error code in the specification: wrap like two's complement arithmetic
            return r if lo <= r <= hi else mag
        return ci
    return math.copysign


@fn("m.sqrt")
def sqrt(x):
    return math.sqrt(x) if x >= 0 else NAN


# ---------------------------------------------------------------- link functions

def _logit(x):
    try:
        return 1.0 / (1.0 + math.exp(-x))
    except OverflowError:
        return 0.0


# probit and cloglog in their cancellation-free forms (the same functions as the specification's
# (erf(x/sqrt 2) + 1)/2 and 1 - exp(-exp x), which lose all their digits in the far tail)
def _probit(x):
    return math.erfc(-x / math.sqrt(2.0)) / 2.0


def _cloglog(x):
    return -math.expm1(-_exp(x))


def _loglog(x):
    return math.exp(-_exp(x))


def _cauchit(x):
    return 0.5 + math.atan(x) / math.pi


def _softplus(x):
    if x > 30:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


def _relu(x):
    return x if (x > 0 or x != x) else 0.0


def _link(name: str, f: Callable[[float], float]) -> None:
    @typed(name)
    def build(call):
        k = call.params[0].kind
        if k == "array":
            return lambda xs: [f(x) for x in xs]
        if k == "map":
            return lambda xs: {a: f(x) for a, x in xs.items()}
        return f


for _n, _f in [("logit", _logit), ("probit", _probit), ("cloglog", _cloglog),
               ("loglog", _loglog), ("cauchit", _cauchit), ("softplus", _softplus),
               ("relu", _relu), ("tanh", math.tanh)]:
    _link("m.link." + _n, _f)


def _softmax_list(xs):
    if not xs:
        raise PFARuntimeError("empty input", 25000, "m.link.softmax")
    m = max(xs)
    if math.isinf(m) or m != m:
        m = 0.0
    ex = [_exp(x - m) for x in xs]
    s = sum(ex)
    return [e / s if s else NAN for e in ex]


@typed("m.link.softmax")
def softmax(call):
    if call.params[0].kind == "map":
        def sm(xs):
            if not xs:
                raise PFARuntimeError("empty input", 25000, "m.link.softmax")
            keys = list(xs)
            return dict(zip(keys, _softmax_list([xs[k] for k in keys])))
        return sm
    return _softmax_list


# ---------------------------------------------------------------- kernels

def _dot(x, y, code, name):
    if len(x) != len(y):
        raise PFARuntimeError("arrays must have same length", code, name)
    return math.fsum(a * b for a, b in zip(x, y)) if len(x) < 64 else sum(a * b for a, b in zip(x, y))


fn("m.kernel.linear")(lambda x, y: _dot(x, y, 23000, "m.kernel.linear"))


@fn("m.kernel.rbf")
def rbf(x, y, gamma):
    if len(x) != len(y):
        raise PFARuntimeError("arrays must have same length", 23010, "m.kernel.rbf")
    return _exp(-gamma * sum((a - b) * (a - b) for a, b in zip(x, y)))


@fn("m.kernel.poly")
def poly(x, y, gamma, intercept, degree):
    return java_pow(gamma * _dot(x, y, 23020, "m.kernel.poly") + intercept, degree)


@fn("m.kernel.sigmoid")
def sigmoid(x, y, gamma, intercept):
    return math.tanh(gamma * _dot(x, y, 23030, "m.kernel.sigmoid") + intercept)


# ---------------------------------------------------------------- special functions

fn("m.special.erf")(math.erf)
fn("m.special.erfc")(math.erfc)


@fn("m.special.lnGamma")
def lngamma(x):
    if x != x:
        return NAN
    if x <= 0 and x.is_integer():
        return INF
    if math.isinf(x):
        return INF
    try:
        return math.lgamma(x)
    except (ValueError, OverflowError):
        return INF


@fn("m.special.lnBeta")
def lnbeta(a, b):
    if a <= 0 or b <= 0:
        raise PFARuntimeError("domain error", 36010, "m.special.lnBeta")
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


@fn("m.special.nChooseK")
def nchoosek(n, k):
    if k <= 0 or k >= n:
        raise PFARuntimeError("domain error", 36000, "m.special.nChooseK")
    if math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) > 22.0:
        raise PFARuntimeError("domain error", 36000, "m.special.nChooseK")   # > int range
    r = math.comb(n, k)
    if r > INT_MAX:
        raise PFARuntimeError("domain error", 36000, "m.special.nChooseK")
    return r
