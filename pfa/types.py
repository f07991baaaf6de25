"""The Avro type system as PFA uses it: types, schema parsing, "accepts", narrowest supertypes.

Types are immutable objects. Named types (record, enum, fixed) compare by full name; the others
structurally. Runtime values: null -> None, boolean -> bool, int/long -> int, float/double -> float,
string -> str, bytes/fixed -> bytes, enum -> str (the symbol), array -> list, map -> dict,
record -> dict (field name -> value), union -> the member's value.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from .errors import PFASemanticError, PFASyntaxError

INT_MIN, INT_MAX = -2**31, 2**31 - 1
LONG_MIN, LONG_MAX = -2**63, 2**63 - 1
FLOAT_MAX = 3.4028234663852886e+38


class AvroType:
    """Base of all PFA types."""

    kind = ""

    def accepts(self, other: "AvroType") -> bool:
        return _accepts(self, other, set())

    def __repr__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        return self.kind

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("int", "long", "float", "double")


class Primitive(AvroType):
    def __init__(self, kind: str):
        self.kind = kind

    def __reduce__(self):
        return (_prim, (self.kind,))


def _prim(kind: str) -> "Primitive":
    return PRIMITIVES[kind]


NULL = Primitive("null")
BOOLEAN = Primitive("boolean")
INT = Primitive("int")
LONG = Primitive("long")
FLOAT = Primitive("float")
DOUBLE = Primitive("double")
STRING = Primitive("string")
BYTES = Primitive("bytes")
PRIMITIVES = {t.kind: t for t in (NULL, BOOLEAN, INT, LONG, FLOAT, DOUBLE, STRING, BYTES)}
NUMERIC_RANK = {"int": 0, "long": 1, "float": 2, "double": 3}


class Bottom(AvroType):
    """The type of an expression that never returns (the ``error`` form)."""

    kind = "bottom"


BOTTOM = Bottom()


class Array(AvroType):
    kind = "array"

    def __init__(self, items: AvroType):
        self.items = items

    def __eq__(self, other):
        return isinstance(other, Array) and self.items == other.items

    def __hash__(self):
        return hash(("array", self.items))

    def describe(self) -> str:
        return f"array<{self.items.describe()}>"


class Map(AvroType):
    kind = "map"

    def __init__(self, values: AvroType):
        self.values = values

    def __eq__(self, other):
        return isinstance(other, Map) and self.values == other.values

    def __hash__(self):
        return hash(("map", self.values))

    def describe(self) -> str:
        return f"map<{self.values.describe()}>"


class Named(AvroType):
    name = ""
    namespace: str | None = None

    @property
    def fullname(self) -> str:
        return f"{self.namespace}.{self.name}" if self.namespace else self.name

    def __eq__(self, other):
        return type(other) is type(self) and other.fullname == self.fullname

    def __hash__(self):
        return hash((self.kind, self.fullname))

    def describe(self) -> str:
        return self.fullname


class Fixed(Named):
    kind = "fixed"

    def __init__(self, name: str, size: int, namespace: str | None = None):
        self.name, self.size, self.namespace = name, size, namespace


class Enum(Named):
    kind = "enum"

    def __init__(self, name: str, symbols: list[str], namespace: str | None = None):
        self.name, self.symbols, self.namespace = name, list(symbols), namespace
        self.index = {s: i for i, s in enumerate(self.symbols)}


class Field:
    __slots__ = ("name", "type", "default", "has_default", "order")

    def __init__(self, name: str, type: AvroType, default: Any = None, has_default: bool = False,
                 order: str = "ascending"):
        self.name, self.type, self.default, self.has_default, self.order = \
            name, type, default, has_default, order


class Record(Named):
    kind = "record"

    def __init__(self, name: str, fields: list[Field] | None = None, namespace: str | None = None):
        self.name, self.namespace = name, namespace
        self.fields: list[Field] = fields or []
        self.field_map: dict[str, Field] = {f.name: f for f in self.fields}

    def set_fields(self, fields: list[Field]) -> None:
        self.fields = fields
        self.field_map = {f.name: f for f in fields}

    def field(self, name: str) -> Field | None:
        return self.field_map.get(name)


class Union(AvroType):
    kind = "union"

    def __init__(self, types: Iterable[AvroType]):
        self.types = list(types)

    def __eq__(self, other):
        return isinstance(other, Union) and len(self.types) == len(other.types) and \
            all(t in other.types for t in self.types)

    def __hash__(self):
        return hash(("union", frozenset(hash(t) for t in self.types)))

    def describe(self) -> str:
        return "union<" + ", ".join(t.describe() for t in self.types) + ">"

    @property
    def nullable(self) -> bool:
        return any(t is NULL for t in self.types)

    def without_null(self) -> AvroType:
        rest = [t for t in self.types if t is not NULL]
        return rest[0] if len(rest) == 1 else Union(rest)


class FcnType(AvroType):
    """The type of a function argument (fcndef or fcnref); not an Avro type."""

    kind = "function"

    def __init__(self, params: list[AvroType], ret: AvroType):
        self.params, self.ret = list(params), ret

    def __eq__(self, other):
        return isinstance(other, FcnType) and self.params == other.params and self.ret == other.ret

    def __hash__(self):
        return hash(("fcn", tuple(self.params), self.ret))

    def describe(self) -> str:
        return "fcn(" + ", ".join(p.describe() for p in self.params) + " -> " + \
            self.ret.describe() + ")"


# ---------------------------------------------------------------- accepts / supertype

def _accepts(exp: AvroType, obs: AvroType, memo: set) -> bool:
    if exp is obs or isinstance(obs, Bottom):
        return True
    if isinstance(obs, Union) and not isinstance(exp, Union):
        return all(_accepts(exp, t, memo) for t in obs.types)
    k = exp.kind
    if isinstance(exp, Primitive):
        if not isinstance(obs, Primitive):
            return False
        if k in NUMERIC_RANK and obs.kind in NUMERIC_RANK:
            return NUMERIC_RANK[obs.kind] <= NUMERIC_RANK[k] and not (k == "int" and obs.kind != "int")
        return k == obs.kind
    if isinstance(exp, Array):
        return isinstance(obs, Array) and _accepts(exp.items, obs.items, memo)
    if isinstance(exp, Map):
        return isinstance(obs, Map) and _accepts(exp.values, obs.values, memo)
    if isinstance(exp, Fixed):
        return isinstance(obs, Fixed) and obs.fullname == exp.fullname and obs.size == exp.size
    if isinstance(exp, Enum):
        return isinstance(obs, Enum) and obs.fullname == exp.fullname and \
            set(obs.symbols) <= set(exp.symbols)
    if isinstance(exp, Record):
        if not isinstance(obs, Record) or obs.fullname != exp.fullname:
            return False
        key = (id(exp), id(obs))
        if key in memo or exp is obs:
            return True
        memo.add(key)
        for f in exp.fields:
            of = obs.field(f.name)
            if of is None or not _accepts(f.type, of.type, memo):
                return False
        return True
    if isinstance(exp, Union):
        members = obs.types if isinstance(obs, Union) else [obs]
        return all(any(_accepts(e, m, memo) for e in exp.types) for m in members)
    if isinstance(exp, FcnType):
        if not isinstance(obs, FcnType) or len(obs.params) != len(exp.params):
            return False
        return all(_accepts(o, e, memo) for e, o in zip(exp.params, obs.params)) and \
            _accepts(exp.ret, obs.ret, memo)
    return False


def supertype(types: Iterable[AvroType]) -> AvroType:
    """The narrowest supertype of a collection of types (spec section "Narrowest supertype").

    Raises TypeError when there is none (mixed fixed/enum types)."""
    ts = [t for t in types if not isinstance(t, Bottom)]
    if not ts:
        return BOTTOM
    flat: list[AvroType] = []
    for t in ts:
        for m in (t.types if isinstance(t, Union) else [t]):
            if m not in flat:
                flat.append(m)
    if len(flat) == 1:
        return flat[0]
    kinds = {t.kind for t in flat}
    if kinds <= set(NUMERIC_RANK):
        return max(flat, key=lambda t: NUMERIC_RANK[t.kind])
    if kinds == {"array"}:
        return Array(supertype(t.items for t in flat))
    if kinds == {"map"}:
        return Map(supertype(t.values for t in flat))
    if "fixed" in kinds or "enum" in kinds:
        raise TypeError("no common supertype of " + ", ".join(t.describe() for t in flat))
    if "function" in kinds:
        raise TypeError("functions have no common supertype")
    out: list[AvroType] = []
    nums = [t for t in flat if t.kind in NUMERIC_RANK]
    arrays = [t for t in flat if t.kind == "array"]
    maps = [t for t in flat if t.kind == "map"]
    for t in flat:
        if t.kind in NUMERIC_RANK:
            if t is nums[0]:
                out.append(supertype(nums))
        elif t.kind == "array":
            if t is arrays[0]:
                out.append(supertype(arrays))
        elif t.kind == "map":
            if t is maps[0]:
                out.append(supertype(maps))
        else:
            out.append(t)
    return out[0] if len(out) == 1 else Union(out)


# ---------------------------------------------------------------- schema parsing

NAME_RE = r"[A-Za-z_][A-Za-z0-9_]*"


class TypeRegistry:
    """Named types of one document. ``parse`` turns Avro schema JSON into types; definitions found
    anywhere in the document (see ``collect``) may be referenced before they appear."""

    def __init__(self):
        self.named: dict[str, Named] = {}
        self.pending: dict[str, tuple[Any, str | None, tuple]] = {}
        self._raw_defs: dict[str, Any] = {}

    # -- pre-pass over a schema: remember named definitions so forward references resolve
    def collect(self, schema: Any, path: tuple, namespace: str | None = None) -> None:
        if isinstance(schema, list):
            for i, s in enumerate(schema):
                self.collect(s, path + (i,), namespace)
        elif isinstance(schema, dict):
            t = schema.get("type")
            if t in ("record", "enum", "fixed") and isinstance(schema.get("name"), str):
                ns = schema.get("namespace", namespace)
                full = self._fullname(schema["name"], ns)
                if full not in self.pending and full not in self.named:
                    self.pending[full] = (schema, ns, path)
                if t == "record" and isinstance(schema.get("fields"), list):
                    ns2 = full.rpartition(".")[0] or None
                    for i, f in enumerate(schema["fields"]):
                        if isinstance(f, dict):
                            self.collect(f.get("type"), path + ("fields", i, "type"), ns2)
            elif t in ("array", "map"):
                key = "items" if t == "array" else "values"
                self.collect(schema.get(key), path + (key,), namespace)
            elif isinstance(t, (dict, list)):
                self.collect(t, path + ("type",), namespace)

    @staticmethod
    def _fullname(name: str, namespace: str | None) -> str:
        if "." in name or not namespace:
            return name
        return f"{namespace}.{name}"

    def lookup(self, name: str, namespace: str | None, path: tuple) -> Named:
        for full in ([self._fullname(name, namespace), name] if namespace else [name]):
            if full in self.named:
                return self.named[full]
            if full in self.pending:
                schema, ns, p = self.pending[full]
                return self.parse(schema, p, ns)
        raise PFASemanticError(f"unknown type name {name!r}", path)

    def parse(self, schema: Any, path: tuple = (), namespace: str | None = None) -> AvroType:
        """Avro schema JSON -> AvroType. Raises PFASyntaxError/PFASemanticError with the path."""
        if isinstance(schema, str):
            if schema in PRIMITIVES:
                return PRIMITIVES[schema]
            return self.lookup(schema, namespace, path)
        if isinstance(schema, list):
            if not schema:
                raise PFASyntaxError("a union must have at least one member", path)
            types = []
            for i, s in enumerate(schema):
                t = self.parse(s, path + (i,), namespace)
                if isinstance(t, Union):
                    raise PFASemanticError("unions may not directly contain unions", path + (i,))
                if t in types:
                    raise PFASemanticError(f"duplicate union member {t.describe()}", path + (i,))
                types.append(t)
            return Union(types)
        if not isinstance(schema, dict):
            raise PFASyntaxError(f"expected an Avro type schema, found {_jtype(schema)}", path)
        t = schema.get("type")
        if isinstance(t, (dict, list)):
            return self.parse(t, path + ("type",), namespace)
        if not isinstance(t, str):
            raise PFASyntaxError("type schema needs a string \"type\" member", path)
        if t in PRIMITIVES:
            return PRIMITIVES[t]
        if t == "array":
            if "items" not in schema:
                raise PFASyntaxError("array schema needs \"items\"", path)
            return Array(self.parse(schema["items"], path + ("items",), namespace))
        if t == "map":
            if "values" not in schema:
                raise PFASyntaxError("map schema needs \"values\"", path)
            return Map(self.parse(schema["values"], path + ("values",), namespace))
        if t in ("record", "enum", "fixed"):
            return self._parse_named(schema, t, path, namespace)
        return self.lookup(t, namespace, path)

    def _parse_named(self, schema: dict, t: str, path: tuple, namespace: str | None) -> Named:
        import re
        name = schema.get("name")
        if not isinstance(name, str):
            raise PFASyntaxError(f"{t} schema needs a string \"name\"", path)
        ns = schema.get("namespace", namespace)
        if ns is not None and not isinstance(ns, str):
            raise PFASyntaxError("\"namespace\" must be a string", path)
        if "." in name:
            ns, _, name = name.rpartition(".")
        if not re.fullmatch(NAME_RE, name) or (ns and not re.fullmatch(
                rf"{NAME_RE}(\.{NAME_RE})*", ns)):
            raise PFASyntaxError(f"invalid type name {name!r}", path)
        full = self._fullname(name, ns or None)
        if full in self.named:
            existing = self.named[full]
            if self._raw_defs.get(full) is not schema and _strip(self._raw_defs.get(full)) != \
                    _strip(schema):
                raise PFASemanticError(f"type {full!r} is defined twice, differently", path)
            return existing
        self._raw_defs[full] = schema
        self.pending.pop(full, None)
        ns = ns or None
        if t == "fixed":
            size = schema.get("size")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise PFASyntaxError("fixed schema needs a non-negative integer \"size\"", path)
            out: Named = Fixed(name, size, ns)
            self.named[full] = out
            return out
        if t == "enum":
            syms = schema.get("symbols")
            if not isinstance(syms, list) or not all(isinstance(s, str) for s in syms):
                raise PFASyntaxError("enum schema needs \"symbols\", an array of strings", path)
            if len(set(syms)) != len(syms):
                raise PFASemanticError("enum symbols must be distinct", path)
            for s in syms:
                if not re.fullmatch(NAME_RE, s):
                    raise PFASyntaxError(f"invalid enum symbol {s!r}", path)
            out = Enum(name, syms, ns)
            self.named[full] = out
            return out
        fields = schema.get("fields")
        if not isinstance(fields, list):
            raise PFASyntaxError("record schema needs \"fields\", an array", path)
        rec = Record(name, [], ns)
        self.named[full] = rec
        out_fields = []
        seen = set()
        for i, f in enumerate(fields):
            fp = path + ("fields", i)
            if not isinstance(f, dict) or not isinstance(f.get("name"), str) or "type" not in f:
                raise PFASyntaxError("record field needs \"name\" and \"type\"", fp)
            if f["name"] in seen:
                raise PFASemanticError(f"duplicate field {f['name']!r}", fp)
            if not re.fullmatch(NAME_RE, f["name"]):
                raise PFASyntaxError(f"invalid field name {f['name']!r}", fp)
            seen.add(f["name"])
            ft = self.parse(f["type"], fp + ("type",), ns)
            out_fields.append(Field(f["name"], ft, f.get("default"), "default" in f,
                                    f.get("order", "ascending")))
        rec.set_fields(out_fields)
        return rec


def _strip(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if k not in ("@", "doc", "aliases")}
    if isinstance(x, list):
        return [_strip(v) for v in x]
    return x


def _jtype(x: Any) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "boolean"
    if isinstance(x, (int, float)):
        return "number"
    if isinstance(x, str):
        return "string"
    if isinstance(x, list):
        return "array"
    return "object"


def to_schema(t: AvroType, seen: set | None = None) -> Any:
    """AvroType -> Avro schema JSON (named types are written in full once, then by name)."""
    seen = set() if seen is None else seen
    if isinstance(t, Primitive):
        return t.kind
    if isinstance(t, Array):
        return {"type": "array", "items": to_schema(t.items, seen)}
    if isinstance(t, Map):
        return {"type": "map", "values": to_schema(t.values, seen)}
    if isinstance(t, Union):
        return [to_schema(m, seen) for m in t.types]
    if isinstance(t, Named):
        if t.fullname in seen:
            return t.fullname
        seen.add(t.fullname)
        out: dict = {"type": t.kind, "name": t.name}
        if t.namespace:
            out["namespace"] = t.namespace
        if isinstance(t, Fixed):
            out["size"] = t.size
        elif isinstance(t, Enum):
            out["symbols"] = list(t.symbols)
        else:
            out["fields"] = [{"name": f.name, "type": to_schema(f.type, seen)} for f in t.fields]
        return out
    return t.describe()


# ---------------------------------------------------------------- runtime membership

def matches(t: AvroType, v: Any) -> bool:
    """Does runtime value v belong to type t? (Used to pick union branches.)"""
    k = t.kind
    if k == "null":
        return v is None
    if k == "boolean":
        return v is True or v is False
    if k == "int":
        return type(v) is int and INT_MIN <= v <= INT_MAX
    if k == "long":
        return type(v) is int and LONG_MIN <= v <= LONG_MAX
    if k in ("float", "double"):
        return type(v) is float
    if k == "string":
        return type(v) is str
    if k == "bytes":
        return type(v) is bytes
    if k == "fixed":
        return type(v) is bytes and len(v) == t.size
    if k == "enum":
        return type(v) is str and v in t.index
    if k == "array":
        return type(v) is list and all(matches(t.items, x) for x in v)
    if k == "map":
        return type(v) is dict and all(type(a) is str and matches(t.values, x) for a, x in v.items())
    if k == "record":
        return type(v) is dict and len(v) == len(t.fields) and all(
            f.name in v and matches(f.type, v[f.name]) for f in t.fields)
    if k == "union":
        return any(matches(m, v) for m in t.types)
    return False


_PYKIND = {"null": "none", "boolean": "bool", "int": "int", "long": "int", "float": "float",
           "double": "float", "string": "str", "enum": "str", "bytes": "bytes", "fixed": "bytes",
           "array": "list", "map": "dict", "record": "dict"}


def _pykind(v: Any) -> str:
    if v is None:
        return "none"
    tv = type(v)
    if tv is bool:
        return "bool"
    if tv is int:
        return "int"
    if tv is float:
        return "float"
    if tv is str:
        return "str"
    if tv is bytes:
        return "bytes"
    if tv is list:
        return "list"
    if tv is dict:
        return "dict"
    return "other"


def discriminator(types: list[AvroType]) -> Callable[[Any], int]:
    """value -> index of the first type in ``types`` the value belongs to (-1 if none).

    Cheap Python-type dispatch where the Python kind alone decides; deep checks otherwise."""
    by_kind: dict[str, list[int]] = {}
    for i, t in enumerate(types):
        by_kind.setdefault(_PYKIND.get(t.kind, "other"), []).append(i)

    def pick(v: Any) -> int:
        cands = by_kind.get(_pykind(v))
        if not cands:
            return -1
        if len(cands) == 1:
            i = cands[0]
            t = types[i]
            if t.kind in ("int", "float", "double", "string", "null", "boolean", "bytes", "array",
                          "map", "record"):
                if t.kind == "int" and not (INT_MIN <= v <= INT_MAX):
                    return -1
                return i
        for i in cands:
            if matches(types[i], v):
                return i
        return -1
    return pick
