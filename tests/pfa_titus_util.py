"""Differential testing helpers: run the same PFA document in portmodel and in titus2.

titus2 (the Python PFA engine) needs two shims to import under NumPy 2 / Python 3.11. It is an
oracle for tests only, never used by portmodel itself.
"""
from __future__ import annotations

import inspect
import math
import random
from typing import Any

import numpy

from portmodel.pfa.sigs import (PAny, PArray, PFcn, PMap, PPrim, PRef, PUnion, Pattern,
                                parse_signature)


def import_titus():
    """titus.genpy.PFAEngine and titus' runtime exception class, or None if not installed."""
    if not hasattr(numpy, "float_"):
        numpy.float_ = numpy.float64
    if not hasattr(inspect, "getargspec"):
        inspect.getargspec = inspect.getfullargspec
    try:
        from titus.errors import PFARuntimeException
        from titus.genpy import PFAEngine
    except Exception:  # pragma: no cover - depends on the environment
        return None
    return PFAEngine, PFARuntimeException


def titus_engine(text: str):
    """titus2's engine for a PFA document, or the calling test skipped when titus2 is absent."""
    import pytest
    titus = import_titus()
    if titus is None:
        pytest.skip("titus2 is not importable")
    engine, = titus[0].fromJson(text)
    return engine


# ---------------------------------------------------------------- value generation

EDGE_DOUBLES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-300, 1e300, -1e300, float("nan"),
                float("inf"), float("-inf"), 2.0 ** 31, 123.456, -7.25]
EDGE_INTS = [0, 1, -1, 2, 7, -13, 100, 2 ** 31 - 1, -2 ** 31, 46341, 65536]
EDGE_LONGS = EDGE_INTS + [2 ** 63 - 1, -2 ** 63, 2 ** 40, -2 ** 33]
STRINGS = ["", "a", "abc", "hello world", "  pad  ", "ABC", "aaa", "x,y,z", "ümlaut", "12"]


def gen(t: str | dict | list, rng: random.Random, depth: int = 0) -> Any:
    """A random value of a (JSON-schema) type, biased to edge cases."""
    if isinstance(t, list):
        return gen(rng.choice(t), rng, depth)
    if isinstance(t, dict):
        if t["type"] == "array":
            n = rng.choice([0, 1, 2, 3, 5]) if depth < 2 else rng.choice([0, 1, 2])
            return [gen(t["items"], rng, depth + 1) for _ in range(n)]
        if t["type"] == "map":
            n = rng.choice([0, 1, 2, 3])
            return {rng.choice("abcdef") + str(i): gen(t["values"], rng, depth + 1)
                    for i in range(n)}
        raise ValueError(t)
    if t == "double" or t == "float":
        return rng.choice(EDGE_DOUBLES) if rng.random() < 0.5 else round(rng.uniform(-10, 10), 3)
    if t == "int":
        return rng.choice(EDGE_INTS) if rng.random() < 0.5 else rng.randint(-20, 20)
    if t == "long":
        return rng.choice(EDGE_LONGS) if rng.random() < 0.5 else rng.randint(-20, 20)
    if t == "string":
        return rng.choice(STRINGS)
    if t == "boolean":
        return rng.random() < 0.5
    if t == "null":
        return None
    if t == "bytes":
        return bytes(rng.choice([b"", b"a", b"abc", b"\x00\xff", b"hello"]))
    raise ValueError(t)


def concrete(p: Pattern, choice: dict[str, str | dict]) -> Any:
    """A signature pattern with labels replaced by chosen types -> JSON schema, or None if the
    pattern needs records/enums/fixed/functions (not generated here)."""
    if isinstance(p, PPrim):
        return p.type.kind
    if isinstance(p, (PAny, PRef)):
        return choice.get(p.label)
    if isinstance(p, PArray):
        inner = concrete(p.items, choice)
        return None if inner is None else {"type": "array", "items": inner}
    if isinstance(p, PMap):
        inner = concrete(p.values, choice)
        return None if inner is None else {"type": "map", "values": inner}
    if isinstance(p, PUnion):
        members = [concrete(m, choice) for m in p.members]
        if any(m is None for m in members):
            return None
        flat = []
        for m in members:
            for x in (m if isinstance(m, list) else [m]):
                if x not in flat:
                    flat.append(x)
        return flat
    return None


def labels_of(p: Pattern, out: dict) -> None:
    if isinstance(p, PAny):
        out.setdefault(p.label, p.of)
    elif isinstance(p, PArray):
        labels_of(p.items, out)
    elif isinstance(p, PMap):
        labels_of(p.values, out)
    elif isinstance(p, PUnion):
        for m in p.members:
            labels_of(m, out)


def engine_docs(name: str, sig_text: str) -> list[dict]:
    """Documents calling ``name`` with one concrete instantiation per label choice."""
    sig = parse_signature(sig_text)
    if any(isinstance(p, PFcn) for _, p in sig.params):
        return []
    labels: dict = {}
    for _, p in sig.params:
        labels_of(p, labels)
    options = []
    for label, of in labels.items():
        kinds = [t.kind for t in of] if of else ["double", "string"]
        options.append((label, kinds))
    choices: list[dict] = [{}]
    for label, kinds in options:
        choices = [dict(c, **{label: k}) for c in choices for k in kinds]
    docs = []
    for ch in choices:
        fields = []
        for i, (pname, p) in enumerate(sig.params):
            t = concrete(p, ch)
            if t is None:
                break
            fields.append({"name": f"a{i}", "type": t})
        else:
            ret = concrete(sig.ret, ch)
            if ret is None:
                continue
            docs.append({
                "input": {"type": "record", "name": "Args", "fields": fields},
                "output": ret,
                "action": {name: [f"input.a{i}" for i in range(len(fields))]},
            })
    return docs


def same_value(a: Any, b: Any, tol: float = 1e-9) -> bool:
    if isinstance(a, bytes) and isinstance(b, str):   # titus2 represents bytes as str
        return a.decode("latin-1") == b
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        fa, fb = float(a), float(b)
        if math.isnan(fa) and math.isnan(fb):
            return True
        if math.isinf(fa) or math.isinf(fb):
            return fa == fb
        return math.isclose(fa, fb, rel_tol=tol, abs_tol=tol)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k], tol) for k in a)
    return a == b


def untag(v: Any) -> Any:
    """titus returns some union values tagged as {type: value}; strip single-key tags."""
    if isinstance(v, dict) and len(v) == 1:
        (k, x), = v.items()
        if k in ("double", "int", "long", "float", "string", "boolean", "bytes", "array", "map"):
            return untag(x)
    if isinstance(v, list):
        return [untag(x) for x in v]
    return v
