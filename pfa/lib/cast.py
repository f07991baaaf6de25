"""cast.*, parse.*: numeric casts, fan-outs, serialisation; parsing numbers from strings."""
from __future__ import annotations

import json
import math
import re
import struct

from ..avrobin import encode
from ..errors import PFARuntimeError
from ..types import INT_MAX, INT_MIN, LONG_MAX, LONG_MIN
from ..values import to_json
from . import fn, typed


@fn("cast.signed")
def signed(x, bits):
    if bits < 2 or bits > 64:
        raise PFARuntimeError("unrepresentable unsigned number", 17000, "cast.signed")
    v = x & ((1 << bits) - 1)
    return v - (1 << bits) if v >= 1 << (bits - 1) else v


@fn("cast.unsigned")
def unsigned(x, bits):
    if bits < 1 or bits > 63:
        raise PFARuntimeError("unrepresentable unsigned number", 17010, "cast.unsigned")
    return x & ((1 << bits) - 1)


def _to_integer(lo, hi, code, msg, name):
    def f(x):
        if isinstance(x, float):
            if not math.isfinite(x):
                raise PFARuntimeError(msg, code, name)
            x = math.floor(x + 0.5)
        if lo <= x <= hi:
            return int(x)
        raise PFARuntimeError(msg, code, name)
    return f


fn("cast.int")(_to_integer(INT_MIN, INT_MAX, 17020, "int overflow", "cast.int"))
fn("cast.long")(_to_integer(LONG_MIN, LONG_MAX, 17030, "long overflow", "cast.long"))


def to_float32(x) -> float:
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return math.copysign(float("inf"), x)


fn("cast.float")(to_float32)
fn("cast.double")(float)


def _fanout(name, code, conv):
    @typed(name)
    def build(call):
        i = call.sig_index
        if i == 0:
            syms = call.params[0].symbols
            return lambda x: [conv(s == x) for s in syms]
        if i == 1:
            def by_dict(x, dictionary, out_of_range):
                if len(set(dictionary)) != len(dictionary):
                    raise PFARuntimeError("non-distinct values in dictionary", code, name)
                out = [conv(s == x) for s in dictionary]
                if out_of_range:
                    out.append(conv(x not in dictionary))
                return out
            return by_dict

        def by_range(x, minimum, maximum, out_of_range):
            n = maximum - minimum
            call.rt.check_size(max(n, 0) + 1)
            out = [conv(x == minimum + j) for j in range(max(n, 0))]
            if out_of_range:
                out.append(conv(not (minimum <= x < maximum)))
            return out
        return by_range


_fanout("cast.fanoutBoolean", 17060, bool)
_fanout("cast.fanoutInt", 17070, int)
_fanout("cast.fanoutLong", 17080, int)
_fanout("cast.fanoutFloat", 17090, float)
_fanout("cast.fanoutDouble", 17100, float)


@typed("cast.avro")
def cast_avro(call):
    t = call.params[0]
    return lambda x: encode(t, x)


@typed("cast.json")
def cast_json(call):
    t = call.params[0]
    return lambda x: json.dumps(to_json(t, x), separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------- parse.*

_INT_RE = re.compile(r"[-+]?[0-9a-z]+\Z")
_FLOAT_RE = re.compile(r"[-+]?(\.?[0-9]+|[0-9]+\.[0-9]*)([eE][-+]?[0-9]+)?\Z")


def _parse_integer(name, code, lo, hi, msg):
    def f(s, base):
        if base < 2 or base > 36:
            raise PFARuntimeError("base out of range", code + 1, name)
        t = s.strip().lower()
        if not _INT_RE.match(t):
            raise PFARuntimeError(msg, code, name)
        try:
            v = int(t, base)
        except ValueError:
            raise PFARuntimeError(msg, code, name) from None
        if not lo <= v <= hi:
            raise PFARuntimeError(msg, code, name)
        return v
    return f


fn("parse.int")(_parse_integer("parse.int", 33000, INT_MIN, INT_MAX, "not an integer"))
fn("parse.long")(_parse_integer("parse.long", 33010, LONG_MIN, LONG_MAX, "not a long integer"))


def _parse_real(name, code, msg, single):
    def f(s):
        t = s.strip().lower()
        if t in ("nan", "inf", "+inf", "-inf"):
            return float(t)
        if not _FLOAT_RE.match(t):
            raise PFARuntimeError(msg, code, name)
        v = float(t)
        return to_float32(v) if single else v
    return f


fn("parse.float")(_parse_real("parse.float", 33020, "not a single-precision float", True))
fn("parse.double")(_parse_real("parse.double", 33030, "not a double-precision float", False))
