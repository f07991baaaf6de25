"""a.*: array functions. Arrays are Python lists treated as immutable (every result is new)."""
from __future__ import annotations

import functools
import itertools
import math
from typing import Any, Callable

from ..types import INT_MAX, INT_MIN, LONG_MAX, LONG_MIN, AvroType
from . import E, fn, typed
from .core import comparator

NAN = float("nan")


def sort_key(t: AvroType) -> Callable | None:
    """A key function sorting values of type t in Avro order (NaN last for floats)."""
    k = t.kind
    if k in ("int", "long", "string", "bytes", "fixed", "boolean"):
        return None
    if k in ("float", "double"):
        return lambda x: (x != x, x)
    if k == "null":
        return lambda x: 0
    return functools.cmp_to_key(comparator(t))


def less_than(t: AvroType) -> Callable[[Any, Any], bool]:
    key = sort_key(t)
    if key is None:
        return lambda x, y: x < y
    return lambda x, y: key(x) < key(y)


def _items(call) -> AvroType:
    return call.params[0].items


def _hashable(v):
    if isinstance(v, list):
        return ("\x00list", tuple(_hashable(x) for x in v))
    if isinstance(v, dict):
        return ("\x00dict", tuple(sorted((k, _hashable(x)) for k, x in v.items())))
    return v


def _norm(i: int, n: int) -> int:
    return i + n if i < 0 else i


# ---------------------------------------------------------------- basic access

fn("a.len")(len)


@fn("a.subseq")
def subseq(a, start, end):
    return a[start:end]


def _nonempty(name, code, f):
    def g(a, *rest):
        if not a:
            raise E(code, "empty array", name)
        return f(a, *rest)
    fn(name)(g)


_nonempty("a.head", 15020, lambda a: a[0])
_nonempty("a.tail", 15030, lambda a: a[1:])
_nonempty("a.last", 15040, lambda a: a[-1])
_nonempty("a.init", 15050, lambda a: a[:-1])


@typed("a.subseqto")
def subseqto(call):
    rt = call.rt

    def f(a, start, end, replacement):
        rt.check_size(len(a) + len(replacement))
        out = list(a)
        out[start:end] = replacement
        return out
    return f


# ---------------------------------------------------------------- search

def _sub_index(h, n, rev=False):
    ln = len(n)
    rng = range(len(h) - ln, -1, -1) if rev else range(len(h) - ln + 1)
    for i in rng:
        if h[i:i + ln] == n:
            return i
    return -1


@typed("a.contains")
def contains(call):
    if call.sig_index == 0:
        return lambda h, n: _sub_index(h, n) >= 0
    if call.sig_index == 1:
        return lambda h, n: n in h
    return lambda h, f: any(f(x) for x in h)


@typed("a.count")
def count(call):
    if call.sig_index == 0:
        def c(h, n):
            if not n:
                return 0
            ln, i, total = len(n), 0, 0
            while i <= len(h) - ln:
                if h[i:i + ln] == n:
                    total += 1
                    i += ln
                else:
                    i += 1
            return total
        return c
    if call.sig_index == 1:
        return lambda h, n: sum(1 for x in h if x == n)
    return lambda h, f: sum(1 for x in h if f(x))


@typed("a.index")
def index(call):
    if call.sig_index == 0:
        return lambda h, n: _sub_index(h, n)
    if call.sig_index == 1:
        return lambda h, n: next((i for i, x in enumerate(h) if x == n), -1)
    return lambda h, f: next((i for i, x in enumerate(h) if f(x)), -1)


@typed("a.rindex")
def rindex(call):
    if call.sig_index == 0:
        return lambda h, n: _sub_index(h, n, rev=True)
    if call.sig_index == 1:
        return lambda h, n: next((i for i in range(len(h) - 1, -1, -1) if h[i] == n), -1)
    return lambda h, f: next((i for i in range(len(h) - 1, -1, -1) if f(h[i])), -1)


@typed("a.startswith")
def startswith(call):
    if call.sig_index == 0:
        return lambda h, n: h[:len(n)] == n
    return lambda h, n: bool(h) and h[0] == n


@typed("a.endswith")
def endswith(call):
    if call.sig_index == 0:
        return lambda h, n: len(n) <= len(h) and h[len(h) - len(n):] == n
    return lambda h, n: bool(h) and h[-1] == n


# ---------------------------------------------------------------- manipulation

@typed("a.concat")
def concat(call):
    rt = call.rt

    def f(a, b):
        rt.check_size(len(a) + len(b))
        return a + b
    return f


@typed("a.append")
def append(call):
    rt = call.rt

    def f(a, item):
        rt.check_size(len(a) + 1)
        return a + [item]
    return f


@fn("a.cycle")
def cycle(a, item, max_length):
    if max_length < 0:
        raise E(15150, "maxLength out of range", "a.cycle")
    out = a + [item]
    return out[max(0, len(out) - max_length):] if max_length else []


@typed("a.insert")
def insert(call):
    rt = call.rt

    def f(a, i, item):
        j = _norm(i, len(a))
        if not 0 <= j < len(a):
            raise E(15160, "index out of range", "a.insert")
        rt.check_size(len(a) + 1)
        return a[:j] + [item] + a[j:]
    return f


@fn("a.replace")
def replace(a, i, item):
    j = _norm(i, len(a))
    if not 0 <= j < len(a):
        raise E(15170, "index out of range", "a.replace")
    out = list(a)
    out[j] = item
    return out


@typed("a.remove")
def remove(call):
    if call.sig_index == 0:
        def r(a, start, end):
            out = list(a)
            del out[start:end]
            return out
        return r

    def r1(a, i):
        j = _norm(i, len(a))
        if not 0 <= j < len(a):
            raise E(15180, "index out of range", "a.remove")
        return a[:j] + a[j + 1:]
    return r1


@fn("a.rotate")
def rotate(a, steps):
    if steps < 0:
        raise E(15190, "steps out of range", "a.rotate")
    if not a:
        return []
    s = steps % len(a)
    return a[s:] + a[:s]


# ---------------------------------------------------------------- reordering

@typed("a.sort")
def sort(call):
    key = sort_key(_items(call))
    return lambda a: sorted(a, key=key)


def _lt_key(lt):
    return functools.cmp_to_key(lambda x, y: -1 if lt(x, y) else (1 if lt(y, x) else 0))


@fn("a.sortLT")
def sort_lt(a, lt):
    return sorted(a, key=_lt_key(lt))


@typed("a.shuffle")
def shuffle(call):
    rng = call.rt.rng

    def f(a):
        out = list(a)
        rng.shuffle(out)
        return out
    return f


fn("a.reverse")(lambda a: a[::-1])


# ---------------------------------------------------------------- extremes

def _argbest(a, better):
    best = 0
    for i in range(1, len(a)):
        if better(a[i], a[best]):
            best = i
    return best


def _extreme(name, code, maximum, with_lt, want_index):
    @typed(name)
    def build(call):
        lt = None if with_lt else less_than(_items(call))

        def pick(a, *rest):
            if not a:
                raise E(code, "empty array", name)
            f = rest[0] if with_lt else lt
            better = (lambda x, y: f(y, x)) if maximum else f
            i = _argbest(a, better)
            return i if want_index else a[i]
        return pick


for _name, _code, _max, _lt, _idx in [
        ("a.max", 15240, True, False, False), ("a.min", 15250, False, False, False),
        ("a.maxLT", 15260, True, True, False), ("a.minLT", 15270, False, True, False),
        ("a.argmax", 15320, True, False, True), ("a.argmin", 15330, False, False, True),
        ("a.argmaxLT", 15340, True, True, True), ("a.argminLT", 15350, False, True, True)]:
    _extreme(_name, _code, _max, _lt, _idx)


def _best_n(name, code, maximum, with_lt, want_index):
    @typed(name)
    def build(call):
        lt0 = None if with_lt else less_than(_items(call))

        def f(a, n, *rest):
            if not a:
                raise E(code, "empty array", name)
            if n < 0:
                raise E(code + 1, "n < 0", name)
            lt = rest[0] if with_lt else lt0
            better = (lambda x, y: lt(y, x)) if maximum else lt
            # stable selection: ties keep ascending index order
            idx = sorted(range(len(a)), key=functools.cmp_to_key(
                lambda i, j: -1 if better(a[i], a[j]) else (1 if better(a[j], a[i]) else i - j)))
            idx = idx[:n]
            return idx if want_index else [a[i] for i in idx]
        return f


for _name, _code, _max, _lt, _idx in [
        ("a.maxN", 15280, True, False, False), ("a.minN", 15290, False, False, False),
        ("a.maxNLT", 15300, True, True, False), ("a.minNLT", 15310, False, True, False),
        ("a.argmaxN", 15360, True, False, True), ("a.argminN", 15370, False, False, True),
        ("a.argmaxNLT", 15380, True, True, True), ("a.argminNLT", 15390, False, True, True)]:
    _best_n(_name, _code, _max, _lt, _idx)


# ---------------------------------------------------------------- numerical combinations

def _int_total(name, code, kind, op, start):
    lo, hi = (INT_MIN, INT_MAX) if kind == "int" else (LONG_MIN, LONG_MAX)
    c = code if kind == "int" else code + 1
    msg = f"{kind} overflow"

    def f(a):
        if op is _mul and 0 in a:
            return 0
        r = start
        for x in a:
            r = op(r, x)
            if op is _mul and abs(r) > hi + 1:
                raise E(c, msg, name)
        if lo <= r <= hi:
            return r
        raise E(c, msg, name)
    return f


def _mul(x, y):
    return x * y


@typed("a.sum")
def asum(call):
    k = call.ret.kind
    if k in ("int", "long"):
        return _int_total("a.sum", 15400, k, lambda x, y: x + y, 0)
    return lambda a: float(sum(a))


@typed("a.product")
def aproduct(call):
    k = call.ret.kind
    if k in ("int", "long"):
        return _int_total("a.product", 15410, k, _mul, 1)

    def p(a):
        r = 1.0
        for x in a:
            r *= x
        return r
    return p


@fn("a.lnsum")
def lnsum(a):
    total = 0.0
    for x in a:
        if x <= 0 or x != x:
            return NAN
        total += math.log(x)
    return total


@fn("a.mean")
def mean(a):
    return sum(a) / len(a) if a else NAN


@fn("a.geomean")
def geomean(a):
    if not a:
        return NAN
    s = lnsum(a)
    return math.exp(s / len(a)) if s == s else NAN


@fn("a.logsumexp")
def logsumexp(a):
    if not a or any(x != x for x in a):
        return NAN
    m = max(a)
    if math.isinf(m):
        return m
    return m + math.log(sum(math.exp(x - m) for x in a))


@typed("a.median")
def median(call):
    t = _items(call)
    key = sort_key(t)
    floating = t.kind in ("float", "double")

    def f(a):
        if not a:
            raise E(15450, "empty array", "a.median")
        s = sorted(a, key=key)
        n = len(s)
        if n % 2 == 1:
            return s[n // 2]
        if floating:
            return (s[n // 2 - 1] + s[n // 2]) / 2.0
        return s[n // 2 - 1]
    return f


@typed("a.ntile")
def ntile(call):
    t = _items(call)
    key = sort_key(t)
    floating = t.kind in ("float", "double")

    def f(a, p):
        if not a:
            raise E(15460, "empty array", "a.ntile")
        if p != p:
            raise E(15461, "p not a number", "a.ntile")
        s = sorted(a, key=key)
        if p <= 0:
            return s[0]
        if p >= 1:
            return s[-1]
        k = (len(s) - 1) * p
        lo, hi = math.floor(k), math.ceil(k)
        if floating and lo != hi:
            return s[lo] * (hi - k) + s[hi] * (k - lo)
        return s[lo]
    return f


@typed("a.mode")
def mode(call):
    med = median(call)

    def f(a):
        if not a:
            raise E(15470, "empty array", "a.mode")
        counts: dict = {}
        first: dict = {}
        for x in a:
            h = _hashable(x)
            counts[h] = counts.get(h, 0) + 1
            first.setdefault(h, x)
        best = max(counts.values())
        return med([first[h] for h, c in counts.items() if c == best])
    return f


# ---------------------------------------------------------------- set-like

def _distinct(a):
    seen, out = set(), []
    for x in a:
        h = _hashable(x)
        if h not in seen:
            seen.add(h)
            out.append(x)
    return out


fn("a.distinct")(_distinct)
fn("a.seteq")(lambda a, b: {_hashable(x) for x in a} == {_hashable(x) for x in b})
fn("a.union")(lambda a, b: _distinct(a + b))


@fn("a.intersection")
def intersection(a, b):
    hb = {_hashable(x) for x in b}
    return _distinct([x for x in a if _hashable(x) in hb])


@fn("a.diff")
def diff(a, b):
    hb = {_hashable(x) for x in b}
    return _distinct([x for x in a if _hashable(x) not in hb])


@fn("a.symdiff")
def symdiff(a, b):
    return _distinct(diff(a, b) + diff(b, a))


fn("a.subset")(lambda little, big: {_hashable(x) for x in little} <= {_hashable(x) for x in big})
fn("a.disjoint")(lambda a, b: not ({_hashable(x) for x in a} & {_hashable(x) for x in b}))


# ---------------------------------------------------------------- functional

fn("a.map")(lambda a, f: [f(x) for x in a])
fn("a.mapWithIndex")(lambda a, f: [f(i, x) for i, x in enumerate(a)])
fn("a.filter")(lambda a, f: [x for x in a if f(x)])
fn("a.filterWithIndex")(lambda a, f: [x for i, x in enumerate(a) if f(i, x)])
fn("a.filterMap")(lambda a, f: [y for y in (f(x) for x in a) if y is not None])
fn("a.filterMapWithIndex")(lambda a, f: [y for y in (f(i, x) for i, x in enumerate(a))
                                         if y is not None])


@typed("a.flatMap")
def flat_map(call):
    rt = call.rt

    def f(a, g):
        out = []
        for x in a:
            out.extend(g(x))
            if len(out) > rt.max_size:
                rt.too_big(len(out))
        rt.check_size(len(out))
        return out
    return f


@typed("a.flatMapWithIndex")
def flat_map_i(call):
    rt = call.rt

    def f(a, g):
        out = []
        for i, x in enumerate(a):
            out.extend(g(i, x))
            if len(out) > rt.max_size:
                rt.too_big(len(out))
        rt.check_size(len(out))
        return out
    return f


def _zip(name, code, with_index):
    @fn(name)
    def z(*args):
        arrays, f = args[:-1], args[-1]
        n = len(arrays[0])
        if any(len(x) != n for x in arrays):
            raise E(code, "misaligned arrays", name)
        if with_index:
            return [f(i, *xs) for i, xs in enumerate(zip(*arrays))]
        return [f(*xs) for xs in zip(*arrays)]


_zip("a.zipmap", 15650, False)
_zip("a.zipmapWithIndex", 15660, True)


@fn("a.reduce")
def reduce_(a, f):
    if not a:
        raise E(15670, "empty array", "a.reduce")
    return functools.reduce(f, a)


@fn("a.reduceRight")
def reduce_right(a, f):
    if not a:
        raise E(15680, "empty array", "a.reduceRight")
    acc = a[-1]
    for x in reversed(a[:-1]):
        acc = f(x, acc)
    return acc


fn("a.fold")(lambda a, zero, f: functools.reduce(f, a, zero))


@fn("a.foldRight")
def fold_right(a, zero, f):
    acc = zero
    for x in reversed(a):
        acc = f(x, acc)
    return acc


fn("a.takeWhile")(lambda a, f: list(itertools.takewhile(f, a)))
fn("a.dropWhile")(lambda a, f: list(itertools.dropwhile(f, a)))
fn("a.any")(lambda a, f: any(f(x) for x in a))
fn("a.all")(lambda a, f: all(f(x) for x in a))
fn("a.corresponds")(lambda a, b, f: len(a) == len(b) and all(f(x, y) for x, y in zip(a, b)))
fn("a.correspondsWithIndex")(lambda a, b, f: len(a) == len(b) and all(
    f(i, x, y) for i, (x, y) in enumerate(zip(a, b))))


# ---------------------------------------------------------------- restructuring

@typed("a.slidingWindow")
def sliding_window(call):
    rt = call.rt

    def f(a, size, step):
        if size < 1:
            raise E(15770, "size < 1", "a.slidingWindow")
        if step < 1:
            raise E(15771, "step < 1", "a.slidingWindow")
        n = max(0, (len(a) - size) // step + 1) if len(a) >= size else 0
        rt.check_size(n * size)
        return [a[i:i + size] for i in range(0, len(a) - size + 1, step)]
    return f


@typed("a.combinations")
def combinations(call):
    rt = call.rt

    def f(a, size):
        if size < 1:
            raise E(15780, "size < 1", "a.combinations")
        n = math.comb(len(a), size) if size <= len(a) else 0
        rt.check_size(n * size)
        return [list(c) for c in itertools.combinations(a, size)]
    return f


@typed("a.permutations")
def permutations(call):
    rt = call.rt

    def f(a):
        n = len(a)
        if n > 12:
            rt.too_big(math.factorial(n) * n)
        rt.check_size(math.factorial(n) * n)
        return [list(p) for p in itertools.permutations(a)]
    return f


@typed("a.flatten")
def flatten(call):
    rt = call.rt

    def f(a):
        rt.check_size(sum(len(x) for x in a))
        return [y for x in a for y in x]
    return f


@fn("a.groupby")
def groupby(a, f):
    out: dict = {}
    for x in a:
        out.setdefault(f(x), []).append(x)
    return out
