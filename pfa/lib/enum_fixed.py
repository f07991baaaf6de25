"""enum.* and fixed.*."""
from __future__ import annotations

from . import fn, typed


@typed("enum.toString")
def to_string(call):
    return lambda x: x


@typed("enum.toInt")
def to_int(call):
    index = call.params[0].index
    return lambda x: index[x]


@typed("enum.numSymbols")
def num_symbols(call):
    n = len(call.params[0].symbols)
    return lambda x: n


fn("fixed.toBytes")(lambda x: x)


@fn("fixed.fromBytes")
def from_bytes(original, replacement):
    n = len(original)
    return replacement[:n] + original[len(replacement):] if len(replacement) < n \
        else replacement[:n]
