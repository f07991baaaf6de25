"""rand.*: pseudorandom values from the engine's generator (seeded by "randseed")."""
from __future__ import annotations

import math

from ..types import INT_MAX, INT_MIN, LONG_MAX, LONG_MIN
from . import E, typed


def _range_int(name, code, lo_all, hi_all):
    @typed(name)
    def build(call):
        rng = call.rt.rng
        if call.sig_index == 0:
            return lambda: rng.randint(lo_all, hi_all)

        def f(low, high):
            if high <= low:
                raise E(code, "high must be greater than low", name)
            return rng.randrange(low, high)
        return f


_range_int("rand.int", 34000, INT_MIN, INT_MAX)
_range_int("rand.long", 34010, LONG_MIN, LONG_MAX)


def _range_real(name, code):
    @typed(name)
    def build(call):
        rng = call.rt.rng

        def f(low, high):
            if high <= low:
                raise E(code, "high must be greater than low", name)
            return rng.uniform(low, high)
        return f


_range_real("rand.float", 34020)
_range_real("rand.double", 34030)


@typed("rand.choice")
def choice(call):
    rng = call.rt.rng

    def f(population):
        if not population:
            raise E(34040, "population must not be empty", "rand.choice")
        return rng.choice(population)
    return f


@typed("rand.choices")
def choices(call):
    rng, rt = call.rt.rng, call.rt

    def f(size, population):
        if not population:
            raise E(34050, "population must not be empty", "rand.choices")
        rt.check_size(size)
        return [rng.choice(population) for _ in range(max(size, 0))]
    return f


@typed("rand.sample")
def sample(call):
    rng = call.rt.rng

    def f(size, population):
        if not population:
            raise E(34060, "population must not be empty", "rand.sample")
        if len(population) < size:
            raise E(34061, "population smaller than requested subsample", "rand.sample")
        return rng.sample(population, max(size, 0))
    return f


@typed("rand.histogram")
def histogram(call):
    rng = call.rt.rng
    records = call.sig_index == 1
    name = "rand.histogram"

    def f(dist):
        ps = [d["prob"] for d in dist] if records else list(dist)
        if any(not math.isfinite(p) for p in ps):
            raise E(34071, "distribution must be finite", name)
        if any(p < 0 for p in ps):
            raise E(34072, "distribution must be non-negative", name)
        total = sum(ps)
        if total <= 0:
            raise E(34070, "distribution must be non-empty", name)
        r = rng.random() * total
        acc = 0.0
        for i, p in enumerate(ps):
            acc += p
            if r < acc:
                return dist[i] if records else i
        last = max(i for i, p in enumerate(ps) if p > 0)
        return dist[last] if records else last
    return f


def _chars(name, base, kind):
    @typed(name)
    def build(call):
        rng, rt = call.rt.rng, call.rt
        i = call.sig_index
        top = 0xD800 if kind == "string" else 256

        def f(size, *args):
            if size <= 0:
                raise E(base, "size must be positive", name)
            rt.check_size(size, kind)
            if i == 0:
                codes = [rng.randrange(1 if kind == "string" else 0, top) for _ in range(size)]
            elif i == 1:
                pop = args[0]
                if not pop:
                    raise E(base + 3, "population must be non-empty", name)
                picks = [rng.choice(pop) for _ in range(size)]
                return "".join(picks) if kind == "string" else bytes(picks)
            else:
                low, high = args
                if high <= low:
                    raise E(base + 1, "high must be greater than low", name)
                lo_ok = 1 if kind == "string" else 0
                if low < lo_ok or low > top or high < lo_ok or high > top:
                    raise E(base + 2, "invalid char" if kind == "string" else "invalid byte", name)
                codes = [rng.randrange(low, high) for _ in range(size)]
            return "".join(map(chr, codes)) if kind == "string" else bytes(codes)
        return f


_chars("rand.string", 34080, "string")
_chars("rand.bytes", 34090, "bytes")


def _uuid(name):
    @typed(name)
    def build(call):
        rng = call.rt.rng

        def f():
            h = f"{rng.getrandbits(128):032x}"
            return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"
        return f


_uuid("rand.uuid")
_uuid("rand.uuid4")


@typed("rand.gaussian")
def gaussian(call):
    rng = call.rt.rng
    return lambda mu, sigma: rng.gauss(mu, sigma)
