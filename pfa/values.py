"""Conversions between PFA runtime values and the outside world.

- ``from_json``: embedded Avro-JSON data (cell/pool init, literals, ``zero``, field defaults):
  unions are tagged ``{"type": value}`` (or bare null), bytes/fixed are strings of code points
  0-255 (Avro's JSON encoding).
- ``to_json``: the reverse (used by ``cast.json`` and by tests comparing with Avro-JSON results).
- ``input_converter``: user-supplied Python values -> runtime values, validating against the
  input type (bare or tagged unions, numpy scalars and arrays accepted).
- ``output_converter``: runtime values -> fresh Python values for the caller.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from .errors import PFASemanticError
from .types import (INT_MAX, INT_MIN, LONG_MAX, LONG_MIN, AvroType, Enum, Fixed, Record,
                    discriminator, matches)
from ..errors import InvalidValueError


class _Bad(Exception):
    pass


def _tag_names(t: AvroType) -> list[str]:
    if isinstance(t, (Record, Enum, Fixed)):
        return [t.fullname, t.name]
    return [t.kind]


def from_json(t: AvroType, j: Any, path: tuple = ()) -> Any:
    """Embedded Avro-JSON -> runtime value of type t; PFASemanticError (with path) if it does not fit."""
    try:
        return _from_json(t, j)
    except _Bad as exc:
        raise PFASemanticError(f"embedded value does not match type {t.describe()}: {exc}",
                               path) from None
    except RecursionError:
        raise PFASemanticError("embedded value nested too deeply", path) from None


def _from_json(t: AvroType, j: Any) -> Any:
    k = t.kind
    if k == "null":
        if j is None:
            return None
    elif k == "boolean":
        if j is True or j is False:
            return j
    elif k in ("int", "long"):
        if isinstance(j, float) and j.is_integer():
            j = int(j)
        if type(j) is int:
            lo, hi = (INT_MIN, INT_MAX) if k == "int" else (LONG_MIN, LONG_MAX)
            if lo <= j <= hi:
                return j
    elif k in ("float", "double"):
        if type(j) in (int, float):
            return float(j)
        if j in ("inf", "Infinity", "-inf", "-Infinity", "nan", "NaN"):
            return float(j.replace("Infinity", "inf"))
    elif k == "string":
        if isinstance(j, str):
            return j
    elif k in ("bytes", "fixed"):
        if isinstance(j, str):
            try:
                b = j.encode("latin-1")
            except UnicodeEncodeError:
                raise _Bad("bytes must be a string of code points 0-255") from None
            if k == "bytes" or len(b) == t.size:
                return b
    elif k == "enum":
        if isinstance(j, str) and j in t.index:
            return j
    elif k == "array":
        if isinstance(j, list):
            return [_from_json(t.items, x) for x in j]
    elif k == "map":
        if isinstance(j, dict):
            return {str(a): _from_json(t.values, x) for a, x in j.items() if a != "@"}
    elif k == "record":
        if isinstance(j, dict):
            out = {}
            for f in t.fields:
                if f.name in j:
                    out[f.name] = _from_json(f.type, j[f.name])
                elif f.has_default:
                    out[f.name] = _from_json(f.type, f.default)
                else:
                    raise _Bad(f"record {t.fullname} is missing field {f.name!r}")
            extra = set(j) - set(out) - {"@"}
            if extra:
                raise _Bad(f"record {t.fullname} has no field {sorted(extra)[0]!r}")
            return out
    elif k == "union":
        if j is None and any(m.kind == "null" for m in t.types):
            return None
        if isinstance(j, dict):
            items = [(a, b) for a, b in j.items() if a != "@"]
            if len(items) == 1:
                tag, val = items[0]
                for m in t.types:
                    if tag in _tag_names(m):
                        return _from_json(m, val)
        raise _Bad(f"{_short(j)} is not a tagged value of {t.describe()}")
    raise _Bad(f"{_short(j)} is not a {t.describe()}")


def _short(j: Any) -> str:
    s = repr(j)
    return s if len(s) < 60 else s[:57] + "..."


def to_json(t: AvroType, v: Any, tagged: bool = True) -> Any:
    """Runtime value -> Avro-JSON (tagged unions, bytes as latin-1 strings)."""
    k = t.kind
    if k in ("bytes", "fixed"):
        return v.decode("latin-1")
    if k in ("float", "double"):
        return float(v)
    if k == "array":
        return [to_json(t.items, x, tagged) for x in v]
    if k == "map":
        return {a: to_json(t.values, x, tagged) for a, x in v.items()}
    if k == "record":
        return {f.name: to_json(f.type, v[f.name], tagged) for f in t.fields}
    if k == "union":
        if v is None:
            return None
        for m in t.types:
            if matches(m, v):
                inner = to_json(m, v, tagged)
                return {_tag_names(m)[0]: inner} if tagged else inner
        raise ValueError(f"value does not match {t.describe()}")
    return v


# ---------------------------------------------------------------- inputs

class _NoFast:
    """A type no value has: disables the fast path for a record field."""


_MISSING = object()

def _num(v: Any) -> Any:
    """numpy scalar -> Python scalar."""
    item = getattr(v, "item", None)
    if item is not None and not isinstance(v, (list, dict, str, bytes)) and \
            getattr(v, "shape", None) == ():
        return item()
    return v


def input_converter(t: AvroType, what: str = "input") -> Callable[[Any], Any]:
    """A function that validates/converts one user value of type t (raises InvalidValueError)."""
    conv = _conv(t)

    def convert(v: Any) -> Any:
        try:
            return conv(v)
        except _Bad as exc:
            raise InvalidValueError(f"{what} does not match type {t.describe()}: {exc}") from None
        except RecursionError:
            raise InvalidValueError(f"{what} is nested too deeply") from None
    return convert


def _conv(t: AvroType, memo: dict | None = None) -> Callable[[Any], Any]:
    """The converter for t. Named types are converted once (``memo``), so recursive types (a
    record reaching itself through a union or an array) give a converter that calls itself."""
    return _per_named_type(t, {} if memo is None else memo, _conv_kind)


def _per_named_type(t: AvroType, memo: dict, build: Callable) -> Callable[[Any], Any] | None:
    """``build(t, memo)``, once per named record type: a record met again while its converter
    is being built (a recursive type) gets a converter that calls the finished one. A record's
    converter is never None (the identity where ``build`` needs none)."""
    if isinstance(t, Record):
        key = t.fullname
        if key in memo:
            box = memo[key]
            return lambda v: box[0](v)
        memo[key] = box = [None]
        conv = build(t, memo)
        box[0] = conv if conv is not None else (lambda v: v)
        return box[0]
    return build(t, memo)


def _conv_kind(t: AvroType, memo: dict) -> Callable[[Any], Any]:
    k = t.kind
    if k == "null":
        def c(v):
            if v is None:
                return None
            raise _Bad(f"expected null, got {_short(v)}")
        return c
    if k == "boolean":
        def c(v):
            v = _num(v)
            if v is True or v is False:
                return v
            raise _Bad(f"expected a boolean, got {_short(v)}")
        return c
    if k in ("int", "long"):
        lo, hi = (INT_MIN, INT_MAX) if k == "int" else (LONG_MIN, LONG_MAX)

        def c(v):
            if type(v) is not int:
                v = _num(v)
                if isinstance(v, float) and v.is_integer():
                    v = int(v)
                if type(v) is not int:
                    raise _Bad(f"expected an {k}, got {_short(v)}")
            if lo <= v <= hi:
                return v
            raise _Bad(f"{v} is out of range for {k}")
        return c
    if k in ("float", "double"):
        def c(v):
            if type(v) is float:
                return v
            v = _num(v)
            if type(v) in (int, float):
                return float(v)
            raise _Bad(f"expected a number, got {_short(v)}")
        return c
    if k == "string":
        def c(v):
            if type(v) is str:
                return v
            if isinstance(v, str):
                return str(v)
            raise _Bad(f"expected a string, got {_short(v)}")
        return c
    if k in ("bytes", "fixed"):
        size = t.size if k == "fixed" else None

        def c(v):
            if isinstance(v, (bytes, bytearray, memoryview)):
                v = bytes(v)
                if size is None or len(v) == size:
                    return v
                raise _Bad(f"expected {size} bytes, got {len(v)}")
            raise _Bad(f"expected bytes, got {_short(v)}")
        return c
    if k == "enum":
        def c(v):
            if isinstance(v, str) and v in t.index:
                return str(v)
            raise _Bad(f"{_short(v)} is not a symbol of enum {t.fullname}")
        return c
    if k == "array":
        item = _conv(t.items, memo)

        def c(v):
            if isinstance(v, (list, tuple)) or (hasattr(v, "tolist") and hasattr(v, "ndim")):
                if hasattr(v, "tolist"):
                    v = v.tolist()
                return [item(x) for x in v]
            raise _Bad(f"expected an array, got {_short(v)}")
        return c
    if k == "map":
        val = _conv(t.values, memo)

        def c(v):
            if isinstance(v, dict):
                return {str(a): val(x) for a, x in v.items()}
            raise _Bad(f"expected a map, got {_short(v)}")
        return c
    if k == "record":
        fast_types = {"double": float, "float": float, "string": str, "boolean": bool,
                      "bytes": bytes}
        convs = [(f.name, fast_types.get(f.type.kind, _NoFast), _conv(f.type, memo), f)
                 for f in t.fields]
        rec = t

        def c(v):
            if not isinstance(v, dict):
                if hasattr(v, "keys") and hasattr(v, "__getitem__"):
                    v = {a: v[a] for a in v.keys()}
                else:
                    raise _Bad(f"expected a record {rec.fullname}, got {_short(v)}")
            out = {}
            for name, fast, cv, f in convs:
                x = v.get(name, _MISSING)
                if type(x) is fast:
                    out[name] = x
                elif x is not _MISSING:
                    try:
                        out[name] = cv(x)
                    except _Bad as exc:
                        raise _Bad(f"field {name!r}: {exc}") from None
                elif f.has_default:
                    out[name] = _from_json(f.type, f.default)
                elif f.type.kind == "null" or (f.type.kind == "union" and f.type.nullable):
                    out[name] = None
                else:
                    raise _Bad(f"missing field {name!r}")
            return out
        return c
    if k == "union":
        members = t.types
        convs_u = [_conv(m, memo) for m in members]
        tags = {}
        for i, m in enumerate(members):
            for n in _tag_names(m):
                tags.setdefault(n, i)
        pick = discriminator(members)

        def c(v):
            v = _num(v)
            if isinstance(v, dict) and len(v) == 1:
                (tag, val), = v.items()
                if tag in tags:
                    try:
                        return convs_u[tags[tag]](val)
                    except _Bad:
                        pass
            i = pick(v)
            if i >= 0:
                try:
                    return convs_u[i](v)
                except _Bad:
                    pass
            for cv in convs_u:
                try:
                    return cv(v)
                except _Bad:
                    continue
            if isinstance(v, float) and math.isnan(v) and any(m.kind == "null" for m in members) \
                    and not any(m.kind in ("float", "double") for m in members):
                return None
            raise _Bad(f"{_short(v)} matches no member of {t.describe()}")
        return c
    raise _Bad(f"cannot take values of type {t.describe()}")


# ---------------------------------------------------------------- outputs

def output_converter(t: AvroType, memo: dict | None = None) -> Callable[[Any], Any] | None:
    """Runtime value -> a fresh Python value (containers copied); None when identity suffices.
    Recursive record types convert through ``memo`` (one converter per named type)."""
    return _per_named_type(t, {} if memo is None else memo, _output_kind)


def _output_kind(t: AvroType, memo: dict) -> Callable[[Any], Any] | None:
    k = t.kind
    if k in ("null", "boolean", "int", "long", "string", "bytes", "fixed", "enum"):
        return None
    if k in ("float", "double"):
        return float
    if k == "array":
        inner = output_converter(t.items, memo)
        if inner is None:
            return list
        return lambda v: [inner(x) for x in v]
    if k == "map":
        inner = output_converter(t.values, memo)
        if inner is None:
            return dict
        return lambda v: {a: inner(x) for a, x in v.items()}
    if k == "record":
        convs = [(f.name, output_converter(f.type, memo)) for f in t.fields]
        return lambda v: {n: (c(v[n]) if c is not None else v[n]) for n, c in convs}
    if k == "union":
        members = t.types
        convs_u = [output_converter(m, memo) for m in members]
        if all(c is None for c in convs_u):
            return None
        pick = discriminator(members)

        def c(v):
            i = pick(v)
            cv = convs_u[i] if i >= 0 else None
            return cv(v) if cv is not None else v
        return c
    return None
