"""PMML's three-valued predicate logic, written once: operator codes, how a parsed predicate
(``predicates.Pred``) lowers to a code plus operands, and the one scalar evaluator.

Every evaluator of node tests derives from these codes: the column walk of ``tree`` and
``predicates`` (boolean arrays, truth and known), the lowered tree forms of ``tree_kernel`` (the
graph's single tests and the general form's post-order entries), their numpy twins
(``tree_numpy``), the numba kernels (``_tree_numba``) and the one-record walk. A value test on a
missing input is UNKNOWN; ``isMissing`` / ``isNotMissing`` are never UNKNOWN; ``and`` is FALSE
when a child is FALSE, else UNKNOWN when one is UNKNOWN; ``or`` is TRUE when a child is TRUE,
else UNKNOWN when one is UNKNOWN; ``xor`` is UNKNOWN when any child is; ``surrogate`` takes its
first child that is not UNKNOWN (PMML 4.4, "Predicates"; JPMML-Evaluator agrees).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Sequence

import numpy as np

#: a predicate over a batch: (truth, known); where known is False the value is UNKNOWN
Tri = tuple[np.ndarray, np.ndarray]

# ----------------------------------------------------------------- three-valued results
FALSE, TRUE, UNKNOWN = 0, 1, 2

# ----------------------------------------------------------------- predicate operator codes
OP_TRUE, OP_FALSE, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE = 0, 1, 2, 3, 4, 5, 6, 7
OP_MISSING, OP_NOTMISSING, OP_IN, OP_NOTIN = 8, 9, 10, 11
OP_AND, OP_OR, OP_XOR, OP_SURROGATE = 20, 21, 22, 23
SIMPLE_OPS = {"equal": OP_EQ, "notEqual": OP_NE, "lessThan": OP_LT, "lessOrEqual": OP_LE,
              "greaterThan": OP_GT, "greaterOrEqual": OP_GE, "isMissing": OP_MISSING,
              "isNotMissing": OP_NOTMISSING}
SET_OPS = {"isIn": OP_IN, "isNotIn": OP_NOTIN}
COMPOUND_OPS = {"and": OP_AND, "or": OP_OR, "xor": OP_XOR, "surrogate": OP_SURROGATE}
#: the code that is TRUE exactly where the other is FALSE (on a value)
COMPLEMENT = {OP_LE: OP_GT, OP_GT: OP_LE, OP_LT: OP_GE, OP_GE: OP_LT, OP_EQ: OP_NE, OP_NE: OP_EQ,
              OP_IN: OP_NOTIN, OP_NOTIN: OP_IN, OP_MISSING: OP_NOTMISSING,
              OP_NOTMISSING: OP_MISSING}
ORDERING = (OP_LT, OP_LE, OP_GT, OP_GE)
VALUE_TESTS = (OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOTIN)

# ----------------------------------------------------------------- the graph form's test codes
#: single tests of the graph form: ``<``/``>=`` with finite thresholds are rewritten to
#: ``<=``/``>`` and ``>`` to ``<=`` with swapped branches; G_KNOWN routes on missingness alone
G_LE, G_LT, G_GT, G_GE, G_EQ, G_NE, G_IN, G_NOTIN, G_KNOWN = 0, 1, 2, 3, 4, 5, 6, 7, 8
GRAPH_CODES = {OP_LE: G_LE, OP_LT: G_LT, OP_GT: G_GT, OP_GE: G_GE, OP_EQ: G_EQ, OP_NE: G_NE,
               OP_IN: G_IN, OP_NOTIN: G_NOTIN}

# ----------------------------------------------------------------- tree routing codes
#: missingValueStrategy of a lowered tree (what an UNKNOWN node test does)
S_NONE, S_LAST, S_NULL, S_DEFAULT = 0, 1, 2, 3
STRATEGY_CODES = {"none": S_NONE, "lastPrediction": S_LAST, "nullPrediction": S_NULL,
                  "defaultChild": S_DEFAULT}
NULL = -1                       # graph target: no prediction


def op_code(kind: str, op: str | None) -> int | None:
    """The code of a parsed predicate's operator (None: not expressible)."""
    if kind == "true":
        return OP_TRUE
    if kind == "false":
        return OP_FALSE
    if kind == "simple":
        return SIMPLE_OPS.get(op or "")
    if kind == "set":
        return SET_OPS.get(op or "")
    if kind == "compound":
        return COMPOUND_OPS.get(op or "")
    return None


# ----------------------------------------------------------------- the scalar evaluator


def compare(op: int, x: float, thr: float) -> bool:
    """x <op> thr for a comparison code on a value that is present (NaN compares False)."""
    if op == OP_LE:
        return x <= thr
    if op == OP_GT:
        return x > thr
    if op == OP_LT:
        return x < thr
    if op == OP_GE:
        return x >= thr
    if op == OP_EQ:
        return x == thr
    return x != thr


def simple_value(op: int, x: float, thr: float = 0.0, members: Sequence[float] = ()) -> int:
    """Three-valued result of a simple or set predicate code on one encoded value (float, NaN =
    missing; string values as their codes, -1 for a value the predicate never names)."""
    if op == OP_TRUE:
        return TRUE
    if op == OP_FALSE:
        return FALSE
    missing = x != x
    if op == OP_MISSING:
        return TRUE if missing else FALSE
    if op == OP_NOTMISSING:
        return FALSE if missing else TRUE
    if missing:
        return UNKNOWN
    if op == OP_IN or op == OP_NOTIN:
        hit = x in members
        return TRUE if hit == (op == OP_IN) else FALSE
    return TRUE if compare(op, x, thr) else FALSE


def graph_test(gop: int, x: float, thr: float, members: Sequence[float] = ()) -> bool:
    """A graph-form test on a present value (the caller routes missing values apart)."""
    if gop == G_LE:
        return x <= thr
    if gop == G_LT:
        return x < thr
    if gop == G_GT:
        return x > thr
    if gop == G_GE:
        return x >= thr
    if gop == G_EQ:
        return x == thr
    if gop == G_NE:
        return x != thr
    if gop == G_IN:
        return x in members
    if gop == G_NOTIN:
        return x not in members
    return True                                   # G_KNOWN: routed on missingness alone


def combine(op: int, values: Iterable[int]) -> int:
    """Three-valued and / or / xor / surrogate of the children's values, in document order."""
    if op == OP_SURROGATE:
        for v in values:
            if v != UNKNOWN:
                return v
        return UNKNOWN
    vals = list(values)
    if op == OP_AND:
        return FALSE if FALSE in vals else UNKNOWN if UNKNOWN in vals else TRUE
    if op == OP_OR:
        return TRUE if TRUE in vals else UNKNOWN if UNKNOWN in vals else FALSE
    if op == OP_XOR:
        return UNKNOWN if UNKNOWN in vals else sum(vals) % 2
    raise ValueError(f"not a compound operator code: {op}")


def evaluate(p: Any, leaf_value) -> int:
    """Three-valued value of a parsed predicate, given ``leaf_value(simple_or_set_pred)`` for
    its simple and set predicates (how a leaf reads its value is the caller's)."""
    if p.kind == "true":
        return TRUE
    if p.kind == "false":
        return FALSE
    if p.kind != "compound":
        return leaf_value(p)
    code = COMPOUND_OPS[p.op]
    if code == OP_SURROGATE:                      # lazily: later children only when needed
        return combine(code, (evaluate(c, leaf_value) for c in p.children))
    return combine(code, [evaluate(c, leaf_value) for c in p.children])


# ----------------------------------------------------------------- the column form


def leaf_columns(op: int, missing: np.ndarray, test: Callable[[], np.ndarray]) -> Tri:
    """A simple or set predicate code over a batch: ``test()`` gives the value test's truth
    on the rows (whatever it says where a value is missing is masked here)."""
    n = len(missing)
    if op == OP_MISSING:
        return missing.copy(), np.ones(n, bool)
    if op == OP_NOTMISSING:
        return ~missing, np.ones(n, bool)
    if op == OP_TRUE:
        return np.ones(n, bool), np.ones(n, bool)
    if op == OP_FALSE:
        return np.zeros(n, bool), np.ones(n, bool)
    known = ~missing
    return test() & known, known


def combine_columns(op: int, children: Iterable[Tri], n: int) -> Tri:
    """and / or / xor / surrogate of the children's (truth, known) columns, in document order
    (a surrogate stops asking once every row is known; children may be a lazy iterator)."""
    if op == OP_SURROGATE:
        truth = np.zeros(n, bool)
        known = np.zeros(n, bool)
        for t, kn in children:
            take = ~known & kn
            truth[take] = t[take]
            known |= kn
            if known.all():
                break
        return truth, known
    if op == OP_AND:
        false = np.zeros(n, bool)
        allknown = np.ones(n, bool)
        for t, kn in children:
            false |= kn & ~t
            allknown &= kn
        known = false | allknown
        return known & ~false, known
    if op == OP_OR:
        true = np.zeros(n, bool)
        allknown = np.ones(n, bool)
        for t, kn in children:
            true |= kn & t
            allknown &= kn
        return true, true | allknown
    if op == OP_XOR:
        acc = np.zeros(n, bool)
        known = np.ones(n, bool)
        for t, kn in children:
            acc ^= t
            known &= kn
        return acc & known, known
    raise ValueError(f"not a compound operator code: {op}")


def next_below(thr: float) -> float:
    """The largest double below thr (x < t is x <= next_below(t) for doubles)."""
    return math.nextafter(thr, -math.inf)
