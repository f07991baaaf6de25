"""Avro binary encoding of runtime values (used by sets-as-maps, cast.avro)."""
from __future__ import annotations

import struct
from typing import Any

from .types import AvroType, discriminator


def _long(n: int, out: bytearray) -> None:
    n = (n << 1) ^ (n >> 63)
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def encode(t: AvroType, v: Any) -> bytes:
    """Runtime value of type t -> Avro binary bytes."""
    out = bytearray()
    _enc(t, v, out)
    return bytes(out)


def _enc(t: AvroType, v: Any, out: bytearray) -> None:
    k = t.kind
    if k == "null":
        return
    if k == "boolean":
        out.append(1 if v else 0)
    elif k in ("int", "long"):
        _long(v, out)
    elif k == "float":
        out += struct.pack("<f", v)
    elif k == "double":
        out += struct.pack("<d", v)
    elif k == "string":
        b = v.encode("utf-8")
        _long(len(b), out)
        out += b
    elif k == "bytes":
        _long(len(v), out)
        out += v
    elif k == "fixed":
        out += v
    elif k == "enum":
        _long(t.index[v], out)
    elif k == "array":
        if v:
            _long(len(v), out)
            for x in v:
                _enc(t.items, x, out)
        out.append(0)
    elif k == "map":
        if v:
            _long(len(v), out)
            for key, x in v.items():
                b = key.encode("utf-8")
                _long(len(b), out)
                out += b
                _enc(t.values, x, out)
        out.append(0)
    elif k == "record":
        for f in t.fields:
            _enc(f.type, v[f.name], out)
    elif k == "union":
        i = discriminator(t.types)(v)
        if i < 0:
            i = 0
        _long(i, out)
        _enc(t.types[i], v, out)
    else:
        raise TypeError(f"cannot encode {t.describe()}")
