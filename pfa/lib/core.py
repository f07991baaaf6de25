"""Core operators: arithmetic with int/long overflow errors, comparison, logic, bitwise."""
from __future__ import annotations

import math
from typing import Any, Callable

from ..errors import PFARuntimeError
from ..types import INT_MAX, INT_MIN, LONG_MAX, LONG_MIN, AvroType
from . import fn, lazy, typed

INF = float("inf")
NAN = float("nan")


def _range_check(kind: str, code_int: int, code_long: int, name: str) -> Callable[[int], int] | None:
    if kind == "int":
        def chk(r):
            if INT_MIN <= r <= INT_MAX:
                return r
            raise PFARuntimeError("int overflow", code_int, name)
        return chk
    if kind == "long":
        def chkl(r):
            if LONG_MIN <= r <= LONG_MAX:
                return r
            raise PFARuntimeError("long overflow", code_long, name)
        return chkl
    return None


def _arith(name: str, op: Callable, base: int) -> None:
    @typed(name)
    def build(call):
        k = call.ret.kind
        if k in ("float", "double"):
            return op
        lo, hi = (INT_MIN, INT_MAX) if k == "int" else (LONG_MIN, LONG_MAX)
        code, msg = (base, "int overflow") if k == "int" else (base + 1, "long overflow")

        def checked(x, y):
            r = op(x, y)
            if lo <= r <= hi:
                return r
            raise PFARuntimeError(msg, code, name)
        return checked


_arith("+", lambda x, y: x + y, 18000)
_arith("-", lambda x, y: x - y, 18010)
_arith("*", lambda x, y: x * y, 18020)


@fn("/")
def div(x, y):
    try:
        return x / y
    except ZeroDivisionError:
        x = float(x)
        if x != x or x == 0.0:
            return NAN
        return math.copysign(INF, x) * math.copysign(1.0, y)


@typed("//")
def floordiv(call):
    chk = _range_check(call.ret.kind, 18040, 18040, "//")

    def f(x, y):
        if y == 0:
            raise PFARuntimeError("integer division by zero", 18040, "//")
        return chk(x // y)
    return f


@typed("u-")
def neg(call):
    chk = _range_check(call.ret.kind, 18050, 18051, "u-")
    if chk is None:
        return lambda x: -x
    return lambda x: chk(-x)


@typed("%")
def mod(call):
    if call.ret.kind in ("int", "long"):
        def imod(k, n):
            if n == 0:
                raise PFARuntimeError("integer division by zero", 18060, "%")
            return k % n
        return imod

    def fmod_(k, n):
        if n == 0 or k != k or n != n or math.isinf(k):
            return NAN
        if math.isinf(n):
            if k == 0 or (k > 0) == (n > 0):
                return float(k)
            return n
        return k % n
    return fmod_


@typed("%%")
def rem(call):
    if call.ret.kind in ("int", "long"):
        def irem(k, n):
            if n == 0:
                raise PFARuntimeError("integer division by zero", 18070, "%%")
            r = abs(k) % abs(n)
            return r if k >= 0 else -r
        return irem

    def frem(k, n):
        if n == 0 or k != k or n != n or math.isinf(k):
            return NAN
        return math.fmod(k, n)
    return frem


def java_pow(x: float, y: float) -> float:
    """Math.pow with the JVM's special cases (NaN instead of exceptions/complex results)."""
    x, y = float(x), float(y)
    if y != y:
        return NAN
    if y == 0:
        return 1.0
    if x != x:
        return NAN
    if abs(x) == 1.0 and math.isinf(y):
        return NAN
    try:
        return math.pow(x, y)
    except ValueError:
        if x == 0.0 and y < 0:
            odd = y.is_integer() and int(y) % 2 == 1
            return -INF if (odd and math.copysign(1.0, x) < 0) else INF
        return NAN
    except OverflowError:
        odd = y.is_integer() and int(y) % 2 == 1
        return -INF if (x < 0 and odd) else INF


@typed("**")
def power(call):
    k = call.ret.kind
    if k in ("float", "double"):
        return java_pow
    lo, hi = (INT_MIN, INT_MAX) if k == "int" else (LONG_MIN, LONG_MAX)
    code, msg = (18080, "int overflow") if k == "int" else (18081, "long overflow")

    def ipow(x, y):
        if y >= 0:
            if abs(x) >= 2 and y > 64:
                raise PFARuntimeError(msg, code, "**")
            r = x ** y
        else:
            f = java_pow(x, y)
            if f != f or math.isinf(f):
                raise PFARuntimeError(msg, code, "**")
            r = int(f)
        if lo <= r <= hi:
            return r
        raise PFARuntimeError(msg, code, "**")
    return ipow


# ---------------------------------------------------------------- comparison (Avro sort order)
# Floating-point values compare like Java's Double.compare: NaN is equal to itself and greater
# than every other number (so sorting, max and min are total orders).

def _fcmp(a, b):
    if a < b:
        return -1
    if a > b:
        return 1
    if a == b:
        return 0
    an, bn = a != a, b != b
    return (an > bn) - (an < bn)


def comparator(t: AvroType) -> Callable[[Any, Any], int]:
    """cmp(a, b) -> -1/0/1 following Avro's sort order for type t."""
    k = t.kind
    if k in ("float", "double"):
        return _fcmp
    if k in ("int", "long", "string", "bytes", "fixed", "boolean"):
        def c(a, b):
            return -1 if a < b else (1 if a > b else 0)
        return c
    if k == "null":
        return lambda a, b: 0
    if k == "enum":
        idx = t.index
        return lambda a, b: (idx[a] > idx[b]) - (idx[a] < idx[b])
    if k == "array":
        ic = comparator(t.items)

        def ca(a, b):
            for x, y in zip(a, b):
                r = ic(x, y)
                if r:
                    return r
            return (len(a) > len(b)) - (len(a) < len(b))
        return ca
    if k == "map":
        vc = comparator(t.values)

        def cm(a, b):
            ka, kb = sorted(a), sorted(b)
            if ka != kb:
                return -1 if ka < kb else 1
            for key in ka:
                r = vc(a[key], b[key])
                if r:
                    return r
            return 0
        return cm
    if k == "record":
        fields = []
        for f in t.fields:
            if f.order == "ignore":
                continue
            fields.append((f.name, -1 if f.order == "descending" else 1, f.type))
        comps: list = []

        def cr(a, b):
            if not comps:
                comps.extend((n, s, comparator(ft)) for n, s, ft in fields)
            for n, s, fc in comps:
                r = fc(a[n], b[n])
                if r:
                    return r * s
            return 0
        return cr
    if k == "union":
        from ..types import discriminator
        members = t.types
        pick = discriminator(members)
        comps_u: dict[int, Callable] = {}

        def cu(a, b):
            i, j = pick(a), pick(b)
            if i != j:
                return -1 if i < j else 1
            if i not in comps_u:
                comps_u[i] = comparator(members[i])
            return comps_u[i](a, b)
        return cu
    return lambda a, b: 0


_SIMPLE = ("int", "long", "string", "bytes", "fixed", "boolean")


def _cmp_type(call) -> AvroType:
    return call.params[0]


@typed("cmp")
def cmp_(call):
    return comparator(_cmp_type(call))


@typed("==")
def eq(call):
    t = _cmp_type(call)
    if t.kind in _SIMPLE or t.kind in ("null", "enum"):
        return lambda x, y: x == y
    if t.kind in ("float", "double"):
        return lambda x, y: x == y or (x != x and y != y)
    c = comparator(t)
    return lambda x, y: c(x, y) == 0


@typed("!=")
def ne(call):
    t = _cmp_type(call)
    if t.kind in _SIMPLE or t.kind in ("null", "enum"):
        return lambda x, y: x != y
    if t.kind in ("float", "double"):
        return lambda x, y: x != y and not (x != x and y != y)
    c = comparator(t)
    return lambda x, y: c(x, y) != 0


def _order(name: str, simple: Callable, test: Callable[[int], bool]) -> None:
    @typed(name)
    def build(call):
        t = _cmp_type(call)
        if t.kind in _SIMPLE:
            return simple

        def fast(x, y, c=comparator(t)):
            return test(c(x, y))
        if t.kind in ("float", "double"):
            def flt(x, y):
                if x == x and y == y:
                    return simple(x, y)
                return test(_fcmp(x, y))
            return flt
        return fast


_order("<", lambda x, y: x < y, lambda r: r < 0)
_order("<=", lambda x, y: x <= y, lambda r: r <= 0)
_order(">", lambda x, y: x > y, lambda r: r > 0)
_order(">=", lambda x, y: x >= y, lambda r: r >= 0)


@typed("max")
def max_(call):
    t = _cmp_type(call)
    if t.kind in _SIMPLE:
        return lambda x, y: x if x >= y else y
    c = comparator(t)
    return lambda x, y: x if c(x, y) >= 0 else y


@typed("min")
def min_(call):
    t = _cmp_type(call)
    if t.kind in _SIMPLE:
        return lambda x, y: x if x <= y else y
    c = comparator(t)
    return lambda x, y: x if c(x, y) <= 0 else y


# ---------------------------------------------------------------- logic

@lazy("&&")
def and_(call, fns):
    a, b = fns
    return lambda fr: a(fr) and b(fr)


@lazy("||")
def or_(call, fns):
    a, b = fns
    return lambda fr: a(fr) or b(fr)


@fn("^^")
def xor(x, y):
    return x != y


@fn("!")
def not_(x):
    return not x


@lazy("&&&")
def kand(call, fns):
    a, b = fns

    def f(fr):
        x = a(fr)
        if x is False:
            return False
        y = b(fr)
        if y is False:
            return False
        if x is None or y is None:
            return None
        return True
    return f


@lazy("|||")
def kor(call, fns):
    a, b = fns

    def f(fr):
        x = a(fr)
        if x is True:
            return True
        y = b(fr)
        if y is True:
            return True
        if x is None or y is None:
            return None
        return False
    return f


@fn("!!!")
def knot(x):
    return None if x is None else (not x)


# ---------------------------------------------------------------- bitwise

@fn("&")
def band(x, y):
    return x & y


@fn("|")
def bor(x, y):
    return x | y


@fn("^")
def bxor(x, y):
    return x ^ y


@fn("~")
def bnot(x):
    return ~x
