"""The "pack" and "unpack" special forms: binary (struct-like) encoding of values as bytes."""
from __future__ import annotations

import re
import struct

from .compiler import Expr, coerce
from .errors import PFARuntimeError
from .types import BOOLEAN, BYTES, DOUBLE, FLOAT, INT, LONG, NULL, Union, supertype

_E = r"\s*(<|>|!|little|big|network)?\s*"
_U = r"unsigned\s*"
_FORMATS = [
    (re.compile(r"\s*pad\s*\Z"), "pad", NULL),
    (re.compile(r"\s*boolean\s*\Z"), "bool", BOOLEAN),
    (re.compile(r"\s*(byte|int8)\s*\Z"), "b", INT),
    (re.compile(rf"\s*{_U}(byte|int8)\s*\Z"), "B", INT),
    (re.compile(rf"{_E}(short|int16)\s*\Z"), "h", INT),
    (re.compile(rf"{_E}({_U}short|{_U}int16)\s*\Z"), "H", INT),
    (re.compile(rf"{_E}(int|int32)\s*\Z"), "i", INT),
    (re.compile(rf"{_E}({_U}int|{_U}int32)\s*\Z"), "I", LONG),
    (re.compile(rf"{_E}(long|long\s+long|int64)\s*\Z"), "q", LONG),
    (re.compile(rf"{_E}({_U}long|{_U}long\s+long|{_U}int64)\s*\Z"), "Q", DOUBLE),
    (re.compile(rf"{_E}(float|float32)\s*\Z"), "f", FLOAT),
    (re.compile(rf"{_E}(double|float64)\s*\Z"), "d", DOUBLE),
    (re.compile(r"\s*raw\s*([0-9]+)\s*\Z"), "raw", BYTES),
    (re.compile(r"\s*null\s*terminated\s*\Z"), "nul", BYTES),
    (re.compile(r"\s*length\s*prefixed\s*\Z"), "len", BYTES),
]
_RAW_ANY = re.compile(r"\s*raw\s*\Z")


def _parse(fmt: str, allow_raw_any: bool):
    if allow_raw_any and _RAW_ANY.match(fmt):
        return "rawany", BYTES, ">", None
    for rx, code, t in _FORMATS:
        m = rx.match(fmt)
        if m:
            endian = ">"
            if code in ("h", "H", "i", "I", "q", "Q", "f", "d") and m.group(1) in ("<", "little"):
                endian = "<"
            size = int(m.group(1)) if code == "raw" else None
            return code, t, endian, size
    return None


def compile_unpack(comp, j: dict, scope, path: tuple):
    comp.check_keys(j, {"unpack", "format", "then"}, {"else"}, path)
    data = comp.expr(j["unpack"], scope.sealed(), path + ("unpack",))
    if data.type is not BYTES:
        raise comp.semantic("\"unpack\" needs a bytes expression", path + ("unpack",))
    fmts = j["format"]
    if not isinstance(fmts, list):
        raise comp.syntax("\"format\" must be an array of {name: format}", path + ("format",))
    inner = scope.child()
    specs = []
    for i, item in enumerate(fmts):
        p = path + ("format", i)
        if not isinstance(item, dict) or len([k for k in item if k != "@"]) != 1:
            raise comp.syntax("each format is a single-member {name: format} object", p)
        (name, fmt), = [(k, v) for k, v in item.items() if k != "@"]
        parsed = _parse(fmt, False) if isinstance(fmt, str) else None
        if parsed is None:
            raise comp.syntax(f"unrecognised format {fmt!r}", p)
        code, t, endian, size = parsed
        sym = comp.declare(inner, name, t, p)
        specs.append((sym.slot, code, endian, size))
    th = comp.block(j["then"], inner, path + ("then",), new_scope=False)
    if "else" in j:
        el = comp.block(j["else"], scope, path + ("else",))
        try:
            t = supertype([th.type, el.type])
        except TypeError as exc:
            raise comp.semantic(str(exc), path) from None
        th, el = coerce(th, t), coerce(el, t)
        ef = el.fn
    else:
        t, ef = NULL, None
    df, tf = data.fn, th.fn

    def unpack(fr):
        b = df(fr)
        vals = _decode(b, specs)
        if vals is None:
            return ef(fr) if ef is not None else None
        for (slot, *_), v in zip(specs, vals):
            fr[slot] = v
        r = tf(fr)
        return r if ef is not None else None
    return Expr("unpack", t, unpack)


def _decode(b: bytes, specs) -> list | None:
    pos, out = 0, []
    try:
        for _, code, endian, size in specs:
            if code == "pad":
                pos += 1
                out.append(None)
            elif code == "bool":
                out.append(b[pos] != 0)
                pos += 1
            elif code in ("b", "B", "h", "H", "i", "I", "q", "Q", "f", "d"):
                n = struct.calcsize(code)
                v = struct.unpack(endian + code, b[pos:pos + n])[0]
                if code == "Q":
                    v = float(v)
                out.append(v)
                pos += n
            elif code == "raw":
                if pos + size > len(b):
                    return None
                out.append(b[pos:pos + size])
                pos += size
            elif code == "nul":
                end = b.index(0, pos)
                out.append(b[pos:end])
                pos = end + 1
            elif code == "len":
                n = b[pos]
                if pos + 1 + n > len(b):
                    return None
                out.append(b[pos + 1:pos + 1 + n])
                pos += 1 + n
    except (struct.error, IndexError, ValueError):
        return None
    return out if pos == len(b) else None


def compile_pack(comp, j: dict, scope, path: tuple):
    comp.check_keys(j, {"pack"}, set(), path)
    items = j["pack"]
    if not isinstance(items, list):
        raise comp.syntax("\"pack\" needs an array of {format: expression}", path + ("pack",))
    specs = []
    for i, item in enumerate(items):
        p = path + ("pack", i)
        if not isinstance(item, dict) or len([k for k in item if k != "@"]) != 1:
            raise comp.syntax("each item is a single-member {format: expression} object", p)
        (fmt, x), = [(k, v) for k, v in item.items() if k != "@"]
        parsed = _parse(fmt, True)
        if parsed is None:
            raise comp.syntax(f"unrecognised format {fmt!r}", p)
        code, t, endian, size = parsed
        e = comp.expr(x, scope.sealed(), p + (fmt,))
        want = t if code != "pad" else NULL
        ok = want.accepts(e.type) or (t is DOUBLE and e.type.kind in ("int", "long")) or \
            (isinstance(e.type, Union) is False and t in (INT, LONG) and e.type.kind in
             ("int", "long"))
        if not ok:
            raise comp.semantic(f"format {fmt!r} needs {want.describe()}, not "
                                f"{e.type.describe()}", p)
        specs.append((code, endian, size, e.fn))
    rt = comp.rt

    def pack(fr):
        out = bytearray()
        for code, endian, size, f in specs:
            v = f(fr)
            if code == "pad":
                out.append(0)
            elif code == "bool":
                out.append(1 if v else 0)
            elif code in ("b", "B", "h", "H", "i", "I", "q", "Q", "f", "d"):
                try:
                    out += struct.pack(endian + code, int(v) if code not in ("f", "d") else v)
                except (struct.error, OverflowError):
                    out += struct.pack(endian + code, _wrap(int(v), code))
            elif code == "raw":
                if len(v) != size:
                    raise PFARuntimeError("raw bytes does not have specified size", 3000, "pack")
                out += v
            elif code == "rawany":
                out += v
            elif code == "nul":
                out += v + b"\x00"
            elif code == "len":
                if len(v) > 255:
                    raise PFARuntimeError("length prefixed bytes is larger than 255 bytes", 3001,
                                          "pack")
                out.append(len(v))
                out += v
            rt.check_size(len(out), "bytes")
        return bytes(out)
    return Expr("pack", BYTES, pack)


def _wrap(v: int, code: str) -> int:
    bits = struct.calcsize(code) * 8
    v &= (1 << bits) - 1
    if code.islower() and v >= 1 << (bits - 1):
        v -= 1 << bits
    return v
