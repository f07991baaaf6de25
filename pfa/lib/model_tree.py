"""model.tree.*: predicate tests and tree walks over record-typed tree nodes."""
from __future__ import annotations

import operator

from ..errors import PFARuntimeError
from ..types import Union, discriminator
from . import fn, typed

_OPS = {"==", "!=", "<", "<=", ">", ">=", "in", "notIn", "alwaysTrue", "alwaysFalse",
        "isMissing", "notMissing"}


def _is_num(v) -> bool:
    t = type(v)
    return t is int or t is float


_NUM_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "==": operator.eq, "!=": operator.ne}
_NUMS = (int, float)


def _compare(x, op, value, name, base, allow_missing_ops=True):
    """x <op> value with the spec's runtime errors (base = invalid operator code)."""
    tx, tv = type(x), type(value)
    if (tx is float or tx is int) and (tv is float or tv is int):
        f = _NUM_OPS.get(op)
        if f is not None:
            return f(x, value)
    return _compare_slow(x, op, value, name, base, allow_missing_ops)


def _compare_slow(x, op, value, name, base, allow_missing_ops):
    if op == "alwaysTrue":
        return True
    if op == "alwaysFalse":
        return False
    if allow_missing_ops:
        if op == "isMissing":
            return x is None
        if op == "notMissing":
            return x is not None
    if op in ("in", "notIn"):
        if type(value) is not list:
            raise PFARuntimeError("bad value type", base + 1, name)
        if _is_num(x):
            found = any(_is_num(v) and x == v for v in value)
        else:
            found = any(type(v) is type(x) and x == v for v in value)
        return found if op == "in" else not found
    if op not in _OPS:
        raise PFARuntimeError("invalid comparison operator", base, name)
    if _is_num(x) and _is_num(value):
        pass
    elif type(x) is not type(value) or type(x) in (list, dict):
        if op in ("==", "!="):
            if (x is None) != (value is None) and not (type(x) is type(value)):
                raise PFARuntimeError("bad value type", base + 1, name)
        else:
            raise PFARuntimeError("bad value type", base + 1, name)
    if op == "==":
        return x == value
    if op == "!=":
        return x != value
    if x is None or type(x) is bool:
        raise PFARuntimeError("bad value type", base + 1, name)
    if op == "<":
        return x < value
    if op == "<=":
        return x <= value
    if op == ">":
        return x > value
    return x >= value


@fn("model.tree.simpleTest")
def simple_test(datum, comparison):
    return _compare(datum[comparison["field"]], comparison["operator"], comparison["value"],
                    "model.tree.simpleTest", 32000)


@fn("model.tree.missingTest")
def missing_test(datum, comparison):
    x = datum[comparison["field"]]
    if x is None:
        return None
    return _compare(x, comparison["operator"], comparison["value"], "model.tree.missingTest",
                    32010, allow_missing_ops=False)


@fn("model.tree.compoundTest")
def compound_test(datum, operator, comparisons, test):
    if operator == "and":
        return all(test(datum, c) for c in comparisons)
    if operator == "or":
        return any(test(datum, c) for c in comparisons)
    if operator == "xor":
        return sum(1 for c in comparisons if test(datum, c)) % 2 == 1
    raise PFARuntimeError("unrecognized logical operator", 32020, "model.tree.compoundTest")


@fn("model.tree.surrogateTest")
def surrogate_test(datum, comparisons, missing_test_):
    for c in comparisons:
        r = missing_test_(datum, c)
        if r is not None:
            return r
    raise PFARuntimeError("no successful surrogate", 32030, "model.tree.surrogateTest")


def _is_node(call):
    """value -> True if it is a tree node (type T) rather than a leaf (type S)."""
    t, s = call.bindings["T"], call.bindings["S"]
    leaves = s.types if isinstance(s, Union) else [s]
    if not any(m.kind in ("record", "map") for m in leaves):
        return lambda v: type(v) is dict
    pick = discriminator([t] + list(leaves))
    return lambda v: pick(v) == 0


@typed("model.tree.simpleWalk")
def simple_walk(call):
    is_node = _is_node(call)

    def walk(datum, node, test):
        while True:
            nxt = node["pass"] if test(datum, node) else node["fail"]
            if not is_node(nxt):
                return nxt
            node = nxt
    return walk


@typed("model.tree.missingWalk")
def missing_walk(call):
    is_node = _is_node(call)

    def walk(datum, node, test):
        while True:
            r = test(datum, node)
            nxt = node["missing"] if r is None else (node["pass"] if r else node["fail"])
            if not is_node(nxt):
                return nxt
            node = nxt
    return walk


@typed("model.tree.simpleTree")
def simple_tree(call):
    is_node = _is_node(call)
    name = "model.tree.simpleTree"

    def walk(datum, node):
        while True:
            ok = _compare(datum[node["field"]], node["operator"], node["value"], name, 32060)
            nxt = node["pass"] if ok else node["fail"]
            if not is_node(nxt):
                return nxt
            node = nxt
    return walk
