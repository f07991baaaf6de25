"""map.*: map functions (maps are dicts treated as immutable), and sets represented as maps from
base64-encoded Avro serializations to objects."""
from __future__ import annotations

import base64
import functools

from ..avrobin import encode
from . import E, fn, typed
from .a import less_than


fn("map.len")(len)
fn("map.keys")(lambda m: list(m))
fn("map.values")(lambda m: list(m.values()))


@typed("map.containsKey")
def contains_key(call):
    if call.sig_index == 0:
        return lambda m, k: k in m
    return lambda m, f: any(f(k) for k in m)


@typed("map.containsValue")
def contains_value(call):
    if call.sig_index == 0:
        return lambda m, v: any(x == v for x in m.values())
    return lambda m, f: any(f(x) for x in m.values())


def _set_key(t):
    return lambda v: base64.b64encode(encode(t, v)).decode("ascii")


@typed("map.add")
def add(call):
    rt = call.rt
    if call.sig_index == 0:
        def f(m, k, v):
            out = dict(m)
            out[k] = v
            rt.check_size(len(out), "map")
            return out
        return f
    key = _set_key(call.params[1])

    def g(m, item):
        out = dict(m)
        out[key(item)] = item
        rt.check_size(len(out), "map")
        return out
    return g


@fn("map.remove")
def remove(m, k):
    if k not in m:
        return m
    out = dict(m)
    del out[k]
    return out


fn("map.only")(lambda m, keys: {k: m[k] for k in keys if k in m})


@fn("map.except")
def except_(m, keys):
    ks = set(keys)
    return {k: v for k, v in m.items() if k not in ks}


@typed("map.update")
def update(call):
    rt = call.rt

    def f(base, overlay):
        out = dict(base)
        out.update(overlay)
        rt.check_size(len(out), "map")
        return out
    return f


fn("map.split")(lambda m: [{k: v} for k, v in m.items()])


@typed("map.join")
def join(call):
    rt = call.rt

    def f(a):
        out = {}
        for m in a:
            out.update(m)
            if len(out) > rt.max_size:
                rt.too_big(len(out), "map")
        rt.check_size(len(out), "map")
        return out
    return f


def _arg(name, code, maximum, with_lt, n_form):
    @typed(name)
    def build(call):
        lt0 = None if with_lt else less_than(call.params[0].values)

        def f(m, *rest):
            if n_form:
                n, rest = rest[0], rest[1:]
            if not m:
                raise E(code, "empty map", name)
            if n_form and n < 0:
                raise E(code + 1, "n < 0", name)
            lt = rest[0] if with_lt else lt0
            better = (lambda x, y: lt(y, x)) if maximum else lt
            keys = sorted(m)

            def cmp(a, b):
                if better(m[a], m[b]):
                    return -1
                if better(m[b], m[a]):
                    return 1
                return -1 if a < b else (1 if a > b else 0)
            if not n_form:
                best = keys[0]
                for k in keys[1:]:
                    if better(m[k], m[best]):
                        best = k
                return best
            return sorted(keys, key=functools.cmp_to_key(cmp))[:n]
        return f


for _n, _c, _mx, _lt, _nf in [
        ("map.argmax", 26120, True, False, False), ("map.argmin", 26130, False, False, False),
        ("map.argmaxLT", 26140, True, True, False), ("map.argminLT", 26150, False, True, False),
        ("map.argmaxN", 26160, True, False, True), ("map.argminN", 26170, False, False, True),
        ("map.argmaxNLT", 26180, True, True, True), ("map.argminNLT", 26190, False, True, True)]:
    _arg(_n, _c, _mx, _lt, _nf)


@typed("map.toset")
def toset(call):
    key = _set_key(call.params[0].items)
    return lambda a: {key(x): x for x in a}


fn("map.fromset")(lambda s: list(s.values()))


@typed("map.in")
def in_(call):
    key = _set_key(call.params[1])
    return lambda s, x: key(x) in s


@fn("map.union")
def union(a, b):
    out = dict(a)
    out.update(b)
    return out


fn("map.intersection")(lambda a, b: {k: v for k, v in a.items() if k in b})
fn("map.diff")(lambda a, b: {k: v for k, v in a.items() if k not in b})


@fn("map.symdiff")
def symdiff(a, b):
    out = {k: v for k, v in a.items() if k not in b}
    out.update({k: v for k, v in b.items() if k not in a})
    return out


fn("map.subset")(lambda little, big: all(k in big for k in little))
fn("map.disjoint")(lambda a, b: not any(k in b for k in a))

fn("map.map")(lambda m, f: {k: f(v) for k, v in m.items()})
fn("map.mapWithKey")(lambda m, f: {k: f(k, v) for k, v in m.items()})
fn("map.filter")(lambda m, f: {k: v for k, v in m.items() if f(v)})
fn("map.filterWithKey")(lambda m, f: {k: v for k, v in m.items() if f(k, v)})
fn("map.filterMap")(lambda m, f: {k: y for k, y in ((k, f(v)) for k, v in m.items())
                                  if y is not None})
fn("map.filterMapWithKey")(lambda m, f: {k: y for k, y in ((k, f(k, v)) for k, v in m.items())
                                         if y is not None})


@typed("map.flatMap")
def flat_map(call):
    rt = call.rt

    def f(m, g):
        out = {}
        for v in m.values():
            out.update(g(v))
            if len(out) > rt.max_size:
                rt.too_big(len(out), "map")
        rt.check_size(len(out), "map")
        return out
    return f


@typed("map.flatMapWithKey")
def flat_map_k(call):
    rt = call.rt

    def f(m, g):
        out = {}
        for k, v in m.items():
            out.update(g(k, v))
            if len(out) > rt.max_size:
                rt.too_big(len(out), "map")
        rt.check_size(len(out), "map")
        return out
    return f


def _zip(name, code, with_key):
    @fn(name)
    def z(*args):
        maps, f = args[:-1], args[-1]
        keys = set(maps[0])
        if any(set(m) != keys for m in maps[1:]):
            raise E(code, "misaligned maps", name)
        if with_key:
            return {k: f(k, *[m[k] for m in maps]) for k in maps[0]}
        return {k: f(*[m[k] for m in maps]) for k in maps[0]}


_zip("map.zipmap", 26370, False)
_zip("map.zipmapWithKey", 26380, True)

fn("map.corresponds")(lambda a, b, f: set(a) == set(b) and all(f(a[k], b[k]) for k in a))
fn("map.correspondsWithKey")(lambda a, b, f: set(a) == set(b) and all(
    f(k, a[k], b[k]) for k in a))
