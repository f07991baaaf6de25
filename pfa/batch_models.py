"""Column forms of functions applied to array elements, and of the models built from them:
``a.map``, ``a.count``, ``a.any``, ``a.all`` and ``a.zipmap`` with any function the column path
can plan (over constant arrays, such as support vector machines or bin edges, and over computed
arrays of numbers or of arrays),
``a.max``/``a.min``/``a.mean``/``a.append``/``a.subseq`` of number arrays, ``metric.*``
distances (Minkowski included), ``m.kernel.*``, ``model.svm.score``, ``model.naive.gaussian`` and
``model.neighbor.nearestK``.

Each form follows the record path's arithmetic step by step (sums left to right from 0, the C
library's exp, tanh and pow: ``batch_libm``), so its values are the record path's bit for bit.
Where that cannot be shown cheaply the rows are marked ``bad`` and the record path scores them:
a dot product the record path takes with ``math.fsum`` (correctly rounded) is computed as a
compensated sum, and rows where the compensated sum cannot prove it is the correctly rounded one
(near a rounding tie, or any infinity or NaN on the way, where fsum may raise) are marked.
A runtime error of the record path (misaligned arrays, no support vectors, a variance at or below
zero, k < 0) marks every row it would reach.

The planner (``batch.Planner``) looks a library function up here when it has no method of its
own; each entry takes the planner, the call and its argument expressions.
"""
from __future__ import annotations

from typing import Any, Callable

import math

import numpy as np

from . import batch_libm
from ..pmml.models.tree_kernel import numba_enabled
from .batch import (CONST, MAT, MAT3, NUM, BOOL, ELEMENTWISE, GiveUp, Unsupported, V, _argmax,
                    _argmin, _bool, _floats, _is_num, _map_num, _number_array, _or,
                    _sequential_sum)
from .compiler import Expr

FORMS: dict[str, Callable] = {}



def form(name: str):
    def deco(f):
        FORMS[name] = f
        return f
    return deco


# ---------------------------------------------------------------- functions as arguments

def fcn_runner(p, fcn: Expr, nparams: int) -> Callable[..., V]:
    """A function argument as ``run(env, *arg_values) -> V``: an inline function whose body the
    planner can plan (its parameters bound in the environment at run time), an ``m.*`` function
    of one number, or ``metric.absDiff``."""
    if fcn.kind == "fcndef" and len(fcn.info["params"]) == nparams and not fcn.info.get("fill"):
        params = list(fcn.info["params"])
        keys = ["$" + q for q in params]
        with p.unbound(params):
            body = p.node(fcn.children[0])

        def run(env, *vals):
            env = dict(env)
            for k, v in zip(keys, vals):
                env[k] = v
            return body(env)
        return run
    if fcn.kind == "fcnref" and not fcn.info.get("fill"):
        name = fcn.info.get("name")
        if nparams == 1 and name in ELEMENTWISE:
            f = ELEMENTWISE[name]
            return lambda env, v: _map_num(v, f)
        if nparams == 2 and name == "metric.absDiff":
            return lambda env, x, y: _map_num(
                V(NUM, _num_any(x) - _num_any(y), None, _or(x.bad, y.bad)), np.abs)
    raise Unsupported("a function argument the column path cannot plan")


def _closed(e: Expr, names: set) -> bool:
    """Whether the expression refers to no variable but ``names`` (and inline functions'
    own parameters): it can run on any rows, not only the batch's."""
    if e.kind == "ref" and e.info.get("name") not in names:
        return False
    if e.kind == "fcndef":
        names = names | set(e.info["params"])
    return all(_closed(c, names) for c in e.children)


#: elements of one pairwise block (rows x constants x width): bounds the memory it takes
_BLOCK = 1 << 21


def pairwise(p, fcn: Expr, const_first: bool = False
             ) -> Callable[[np.ndarray, np.ndarray], tuple] | None:
    """For a closed two-parameter inline function: ``run(X, C) -> (values, bad)``, its value
    f(x, c) (f(c, x) with ``const_first``) for every row of X (n x w) against every constant
    row of C (m x w') at once, (n x m) and
    the rows (n) with a bad pair. The pairs are laid out as rows (X repeated, C tiled) so the
    function's planned body runs over them with its ordinary column forms, a block of rows at
    a time. None: the function reads other variables (then it runs once per constant)."""
    if not (fcn.kind == "fcndef" and len(fcn.info["params"]) == 2 and
            _closed(fcn.children[0], set(fcn.info["params"]) | set(p.bound))):
        return None
    f = fcn_runner(p, fcn, 2)
    direct = _direct_pairs(p, fcn, const_first)

    def run(x: np.ndarray, c: np.ndarray):
        n, m = x.shape[0], c.shape[0]
        if direct is not None and numba_enabled():
            kernel, xs, cs = direct
            xa, ca = x[:, xs], c[:, cs]
            if xa.shape[1] == ca.shape[1] and xa.shape[1] > 0:
                return (kernel(np.ascontiguousarray(xa), np.ascontiguousarray(ca)),
                        np.zeros(n, dtype=bool))
        out = np.empty((n, m))
        bad = np.zeros(n, dtype=bool)
        step = min(n, max(1, _BLOCK // max(1, m * max(x.shape[1], c.shape[1], 1))))
        # numba's kernels read a row at a time, numpy's forms a component (column) at a time
        order = "C" if numba_enabled() else "F"
        tiled = np.asarray(np.tile(c, (step, 1)), order=order)     # the same for every block
        for i in range(0, n, step):
            r = min(step, n - i)
            a = np.asarray(np.repeat(x[i:i + r], m, axis=0), order=order)
            b = tiled[:r * m]
            v = f({"n": r * m}, *((V(MAT, b), V(MAT, a)) if const_first else
                                  (V(MAT, a), V(MAT, b))))
            out[i:i + r] = _column(v, r * m).reshape(r, m)
            if v.bad is not None:
                bad[i:i + r] = v.bad.reshape(r, m).any(axis=1)
        return out, bad
    return run


_MODES = {"metric.euclidean": 0, "metric.squaredEuclidean": 1, "metric.taxicab": 2,
          "metric.chebyshev": 3}


def _direct_pairs(p, fcn: Expr, const_first: bool) -> tuple | None:
    """(kernel(X, C) -> (n x m) values, row slice, constant slice) when numba can compute
    every pair's value directly, with the same steps as the body's column form and without
    laying the pairs out: a metric.* with metric.absDiff (see _direct_metric), or m.kernel.rbf
    with a constant gamma, over the two parameters. None otherwise."""
    metric = _direct_metric(p, fcn, const_first)
    if metric is not None:
        from ._metric_numba import absdiff_pairwise
        mode, xs, cs = metric
        return (lambda x, c: absdiff_pairwise(x, c, mode)), xs, cs
    body = fcn.children[0]
    if not (body.kind == "call" and body.info.get("name") == "m.kernel.rbf" and
            len(body.children) == 3):
        return None
    try:
        gamma = p.const_value(body.children[2])
    except Unsupported:
        return None
    slices = _param_slices(p, fcn, body.children[:2], const_first)
    if not _is_num(gamma) or slices is None:
        return None
    from ._metric_numba import rbf_pairwise
    g = float(gamma)
    # exp(-gamma * sum of (x_j - c_j)^2): the square of a difference does not depend on the
    # order of its operands, bit for bit
    return (lambda x, c: rbf_pairwise(x, c, g)), *slices


def _direct_metric(p, fcn: Expr, const_first: bool) -> tuple | None:
    """(mode, row slice, constant slice) when the function's body is a metric.* with
    metric.absDiff over its two parameters, each whole or an a.subseq with constant bounds:
    then numba computes every pair's distance directly (the same steps as the metric's form),
    without laying the pairs out. None otherwise."""
    body = fcn.children[0]
    if not (body.kind == "call" and body.info.get("name") in _MODES and
            len(body.children) == 3):
        return None
    sim = body.children[0]
    if not (sim.kind == "fcnref" and sim.info.get("name") == "metric.absDiff" and
            not sim.info.get("fill")):
        return None
    slices = _param_slices(p, fcn, body.children[1:], const_first)
    return None if slices is None else (_MODES[body.info["name"]], *slices)


def _param_slices(p, fcn: Expr, args: list[Expr], const_first: bool) -> tuple | None:
    """(row slice, constant slice) when the two arguments are the function's two parameters,
    each whole or an a.subseq with constant bounds (in either order: both the metrics of
    metric.absDiff and a squared difference do not depend on it). None otherwise."""
    params = list(fcn.info["params"])
    parts = []
    for arg in args:
        bounds = slice(None)
        if arg.kind == "call" and arg.info.get("name") == "a.subseq":
            try:
                lo, hi = (p.const_value(b) for b in arg.children[1:])
            except Unsupported:
                return None
            if type(lo) is not int or type(hi) is not int:
                return None
            bounds, arg = slice(lo, hi), arg.children[0]
        if not (arg.kind == "ref" and arg.info.get("name") in params):
            return None
        parts.append((params.index(arg.info["name"]), bounds))
    (pa, sa), (pb, sb) = parts
    if {pa, pb} != {0, 1}:
        return None
    row_param = 1 if const_first else 0
    if pa != row_param:
        # metric(c, x): |c - x| = |x - c| bit for bit, and the combination is the same
        (pa, sa), (pb, sb) = (pb, sb), (pa, sa)
    return sa, sb


def const_matrix(rows: Any, what: str) -> np.ndarray | None:
    """A constant list of number arrays of one length as a (rows x length) float matrix (a
    support vector machine's vectors, a codebook); None when it is not a list or the lengths
    differ (Unsupported when an element is not a number)."""
    if type(rows) is not list:
        return None
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        return None
    return _floats(rows, what).reshape(len(rows), widths.pop() if widths else 0)


def _num_any(v: V) -> Any:
    if v.null is not None:
        raise GiveUp()
    if v.kind == NUM or (v.kind == CONST and _is_num(v.data)):
        return np.float64(v.data) if v.kind == CONST else v.data
    raise GiveUp()


def _elements(v: V) -> list[V]:
    """The elements of an array value (a constant list, a matrix of numbers, or a matrix of
    arrays) as values of their own."""
    if v.kind == CONST and type(v.data) is list:
        return [V(CONST, x, None, v.bad) for x in v.data]
    if v.kind == MAT:
        return [V(NUM, v.data[:, j], None, v.bad) for j in range(v.data.shape[1])]
    if v.kind == MAT3:
        return [V(MAT, v.data[:, j, :], None, v.bad) for j in range(v.data.shape[1])]
    raise GiveUp()


def _column(v: V, n: int) -> np.ndarray:
    d = _num_any(v)
    return np.broadcast_to(np.asarray(d, dtype=np.float64), (n,))


def _stack(vs: list[V], n: int, arrays: bool) -> V:
    """Values of each element (numbers, or number arrays of one width) as a MAT or MAT3."""
    bad = _or(*[v.bad for v in vs])
    if not arrays:
        m = np.empty((n, len(vs)), order="F")
        for j, v in enumerate(vs):
            m[:, j] = _column(v, n)
        return V(MAT, m, None, bad)
    mats = []
    for v in vs:
        if v.null is not None:
            raise GiveUp()
        if v.kind == MAT:
            mats.append(v.data)
        elif v.kind == CONST and type(v.data) is list:
            mats.append(np.broadcast_to(np.asarray(v.data, dtype=np.float64),
                                        (n, len(v.data))))
        else:
            raise GiveUp()
    if len({m.shape[1] for m in mats}) > 1:
        raise GiveUp()
    width = mats[0].shape[1] if mats else 0
    m3 = np.empty((n, len(mats), width))
    for j, m in enumerate(mats):
        m3[:, j, :] = m
    return V(MAT3, m3, None, bad)


def _per_element(p, array: Expr, fcn: Expr) -> Callable[[dict], list[V]]:
    """``run(env)``: the function's value for every element of the array. Over a constant array
    the body is planned once per element with the element as a constant (so model parameters
    inside it are constants, as ``model.svm.score`` needs); over a computed array, once."""
    try:
        const = p.const_value(array)
    except Unsupported:
        const = None
    if const is not None:
        if type(const) is not list:
            raise Unsupported("a function over a constant that is not an array")
        if not (fcn.kind == "fcndef" and len(fcn.info["params"]) == 1):
            f = fcn_runner(p, fcn, 1)
            return lambda env: [f(env, V(CONST, x)) for x in const]
        param = fcn.info["params"][0]
        runs = []
        for x in const:
            with p.binding(param, x):
                runs.append(p.node(fcn.children[0]))
        return lambda env: [r(env) for r in runs]
    a = p.node(array)
    f = fcn_runner(p, fcn, 1)

    def run(env):
        v = a(env)
        return [f(env, x) for x in _elements(v)]
    return run


@form("a.map")
def a_map(p, e: Expr, args: list[Expr]):
    arrays = _number_array(e.type.items)
    if e.type.items.kind not in ("double", "float") and not arrays:
        raise Unsupported("a.map to arrays of this kind")
    each = _per_element(p, args[0], args[1])

    def run(env):
        return _stack(each(env), env["n"], arrays)
    return run


@form("a.count")
def a_count(p, e: Expr, args: list[Expr]):
    if e.info["sig"] != 2:
        raise Unsupported("a.count of a value or a subsequence")
    each = _per_element(p, args[0], args[1])

    def run(env):
        n = env["n"]
        vs = each(env)
        total = np.zeros(n, dtype=np.int64)
        for v in vs:
            total += np.broadcast_to(np.asarray(_bool(v), dtype=bool), (n,))
        return V(NUM, total, None, _or(*[v.bad for v in vs]))
    return run


def _any_all(is_any: bool):
    """a.any / a.all: Python's any/all stop at the first element that decides, so an element's
    bad rows count only where no earlier element decided."""
    def build(p, e, args):
        each = _per_element(p, args[0], args[1])

        def run(env):
            n = env["n"]
            undecided = np.ones(n, dtype=bool)
            bad = None
            for v in each(env):
                t = np.broadcast_to(np.asarray(_bool(v), dtype=bool), (n,))
                if v.bad is not None:
                    bad = _or(bad, undecided & v.bad)
                undecided = undecided & (~t if is_any else t)
            return V(BOOL, ~undecided if is_any else undecided.copy(), None, bad)
        return run
    return build


FORMS["a.any"] = _any_all(True)
FORMS["a.all"] = _any_all(False)


@form("a.zipmap")
def a_zipmap(p, e, args):
    """a.zipmap of two arrays: the function of each pair of elements (misaligned arrays: the
    record path's error on every row)."""
    if e.info["sig"] != 0:
        raise Unsupported("a.zipmap of more than two arrays")
    arrays = _number_array(e.type.items)
    if e.type.items.kind not in ("double", "float") and not arrays:
        raise Unsupported("a.zipmap to arrays of this kind")
    a, b = p.node(args[0]), p.node(args[1])
    f = fcn_runner(p, args[2], 2)

    def run(env):
        n = env["n"]
        xs, ys = _elements(a(env)), _elements(b(env))
        if len(xs) != len(ys):
            return V(MAT3 if arrays else MAT, np.zeros((n, 0, 0) if arrays else (n, 0)), None,
                     np.ones(n, dtype=bool))
        return _stack([f(env, x, y) for x, y in zip(xs, ys)], n, arrays)
    return run


# ---------------------------------------------------------------- arrays of numbers

def _mat(v: V, n: int) -> V:
    """A number array value as a MAT (constants spread over the rows)."""
    if v.null is not None:
        raise GiveUp()
    if v.kind == MAT:
        return v
    if v.kind == CONST and type(v.data) is list and all(_is_num(x) for x in v.data):
        return V(MAT, np.broadcast_to(np.asarray(v.data, dtype=np.float64).reshape(1, -1),
                                      (n, len(v.data))), None, v.bad)
    raise GiveUp()


def _numbers_only(e: Expr, what: str) -> None:
    if not _number_array(e.type):
        raise Unsupported(f"{what} of this kind")


def _extreme(pick):
    def build(p, e, args):
        _numbers_only(args[0], "a.max/a.min")
        a = p.node(args[0])

        def run(env):
            n = env["n"]
            v = _mat(a(env), n)
            if v.data.shape[1] == 0:        # the record path's "empty array"
                return V(NUM, np.zeros(n), None, np.ones(n, dtype=bool))
            i = pick(v.data)
            return V(NUM, v.data[np.arange(n), i], None, v.bad)
        return run
    return build


FORMS["a.max"] = _extreme(_argmax)
FORMS["a.min"] = _extreme(_argmin)


@form("a.mean")
def a_mean(p, e, args):
    _numbers_only(args[0], "a.mean")
    a = p.node(args[0])

    def run(env):
        n = env["n"]
        v = _mat(a(env), n)
        k = v.data.shape[1]
        if k == 0:
            return V(NUM, np.full(n, np.nan), None, v.bad)
        s = _sequential_sum([v.data[:, j] for j in range(k)])
        return V(NUM, s / k, None, v.bad)
    return run


@form("a.append")
def a_append(p, e, args):
    _numbers_only(args[0], "a.append")
    a, item = p.node(args[0]), p.node(args[1])
    limit = p.rt.max_size
    if p.rt.max_total < 1 << 20:
        # the record path counts every call's allocations against this budget; with a small
        # one, whether a row is over it depends on more than this node sees
        raise Unsupported("a.append under a per-call allocation budget below 1Mi")

    def run(env):
        n = env["n"]
        v, x = _mat(a(env), n), item(env)
        width = v.data.shape[1] + 1
        out = np.empty((n, width))
        out[:, :-1] = v.data
        out[:, -1] = _column(x, n)
        bad = _or(v.bad, x.bad, np.ones(n, dtype=bool) if width > limit else None)
        return V(MAT, out, None, bad)
    return run


@form("a.subseq")
def a_subseq(p, e, args):
    _numbers_only(args[0], "a.subseq")
    a, lo, hi = (p.node(x) for x in args)

    def run(env):
        v, s, t = a(env), lo(env), hi(env)
        if s.kind != CONST or t.kind != CONST or type(s.data) is not int or \
                type(t.data) is not int:
            raise GiveUp()
        if v.kind == CONST and type(v.data) is list:
            return V(CONST, v.data[s.data:t.data], None, _or(v.bad, s.bad, t.bad))
        v = _mat(v, env["n"])
        # numpy's basic slicing clamps and counts from the end as Python's list slicing does
        return V(MAT, v.data[:, s.data:t.data], None, _or(v.bad, s.bad, t.bad))
    return run


# ---------------------------------------------------------------- distances

def _pairs(x: V, y: V, n: int) -> tuple[list, list] | None:
    """Element values of two number arrays (columns or constants); None if lengths differ."""
    xs, ys = _items(x, n), _items(y, n)
    return (xs, ys) if len(xs) == len(ys) else None


def _items(v: V, n: int) -> list:
    if v.null is not None:
        raise GiveUp()
    if v.kind == CONST and type(v.data) is list:
        if not all(_is_num(a) for a in v.data):
            raise GiveUp()
        return [float(a) for a in v.data]
    if v.kind == MAT:
        return [v.data[:, j] for j in range(v.data.shape[1])]
    raise GiveUp()


def _all_bad(n: int, width: int | None = None) -> V:
    data = np.zeros(n) if width is None else np.zeros((n, width))
    return V(NUM if width is None else MAT, data, None, np.ones(n, dtype=bool))


def _metric(mode: int, combine: Callable[[list], Any], finish: Callable | None = None):
    """metric.euclidean, squaredEuclidean, taxicab, chebyshev (``mode`` 0-3) with a similarity
    function and no weights: ``finish(combine(similarities) * k / k)``, NaN without components.
    With metric.absDiff and numba, one fused kernel (``_metric_numba``) does the same steps."""
    def build(p, e, args):
        if len(args) != 3:
            raise Unsupported("a metric with weights")
        sim = fcn_runner(p, args[0], 2)
        absdiff = args[0].kind == "fcnref" and args[0].info.get("name") == "metric.absDiff" \
            and not args[0].info.get("fill")
        x, y = p.node(args[1]), p.node(args[2])

        def run(env):
            n = env["n"]
            xv, yv = x(env), y(env)
            pairs = _pairs(xv, yv, n)
            if pairs is None:      # "dimensions of vectors do not match"
                return _all_bad(n)
            if absdiff and pairs[0] and numba_enabled():
                from ._metric_numba import absdiff_metric
                out = absdiff_metric(_mat(xv, n).data, _mat(yv, n).data, mode)
                return V(NUM, out, None, _or(xv.bad, yv.bad))
            vals = [sim(env, V(NUM, a) if isinstance(a, np.ndarray) else V(CONST, a),
                        V(NUM, b) if isinstance(b, np.ndarray) else V(CONST, b))
                    for a, b in zip(*pairs)]
            bad = _or(xv.bad, yv.bad, *[v.bad for v in vals])
            if not vals:
                return V(NUM, np.full(n, np.nan), None, bad)
            cols = [_column(v, n) for v in vals]
            k = float(len(cols))
            out = combine(cols) * k / k
            if finish is not None:
                out = finish(out)
            return V(NUM, np.asarray(out, dtype=np.float64) + np.zeros(n), None, bad)
        return run
    return build


def _py_max(cols: list) -> np.ndarray:
    """Python's max: the first value, replaced by each later one greater than it."""
    m = cols[0]
    for c in cols[1:]:
        m = np.where(c > m, c, m)
    return m


FORMS["metric.euclidean"] = _metric(0, lambda c: _sequential_sum([s * s for s in c]), np.sqrt)
FORMS["metric.squaredEuclidean"] = _metric(1, lambda c: _sequential_sum([s * s for s in c]))
FORMS["metric.taxicab"] = _metric(2, _sequential_sum)
FORMS["metric.chebyshev"] = _metric(3, _py_max)


@form("metric.minkowski")
def minkowski(p, e, args):
    """(sum of java_pow(s, p) left to right * k / k) ** (1 / p) through java_pow; p infinite:
    Python's max * k / k; p <= 0 or NaN: the record path's error on every row."""
    if len(args) != 4:
        raise Unsupported("a metric with weights")
    sim = fcn_runner(p, args[0], 2)
    x, y, pw = p.node(args[1]), p.node(args[2]), p.node(args[3])

    def run(env):
        n = env["n"]
        xv, yv, pv = x(env), y(env), pw(env)
        if pv.kind != CONST or not _is_num(pv.data):
            raise GiveUp()
        q = float(pv.data)
        if q <= 0 or q != q:
            return _all_bad(n)
        pairs = _pairs(xv, yv, n)
        if pairs is None:
            return _all_bad(n)
        vals = [sim(env, V(NUM, a) if isinstance(a, np.ndarray) else V(CONST, a),
                    V(NUM, b) if isinstance(b, np.ndarray) else V(CONST, b))
                for a, b in zip(*pairs)]
        bad = _or(xv.bad, yv.bad, pv.bad, *[v.bad for v in vals])
        if not vals:
            return V(NUM, np.full(n, np.nan), None, bad)
        cols = [_column(v, n) for v in vals]
        k = float(len(cols))
        if math.isinf(q):
            out = _py_max(cols) * k / k
        else:
            total = _sequential_sum([batch_libm.jpow(c, q) for c in cols])
            out = batch_libm.jpow(total * k / k, 1.0 / q)
        return V(NUM, np.asarray(out, dtype=np.float64) + np.zeros(n), None, bad)
    return run


@form("metric.simpleEuclidean")
def simple_euclidean(p, e, args):
    x, y = p.node(args[0]), p.node(args[1])

    def run(env):
        n = env["n"]
        xv, yv = x(env), y(env)
        pairs = _pairs(xv, yv, n)
        if pairs is None:
            return _all_bad(n)
        return V(NUM, np.sqrt(_sq_dist(*pairs)) + np.zeros(n), None, _or(xv.bad, yv.bad))
    return run


def _sq_dist(xs: list, ys: list) -> Any:
    return _sequential_sum([(a - b) * (a - b) for a, b in zip(xs, ys)])


# ---------------------------------------------------------------- kernels and SVM

def fsum_rows(terms: list) -> tuple[np.ndarray, np.ndarray]:
    """(math.fsum of the terms per row, rows where that is not proven). A compensated sum: the
    running sum s, the exact error of every addition (TwoSum) added into lo, and the exact
    errors of those additions into lo summed as d. S = s + lo + d exactly; r = s + lo rounded is
    fsum's correctly rounded S when d is 0 (ties included: both round half to even), or when the
    exact remainder of that last addition plus |d| stays under half the gap between r and its
    neighbouring doubles. Rows with an infinity or NaN on the way are not proven (fsum may
    raise there)."""
    s = np.zeros(np.broadcast(*terms).shape if terms else ())
    lo = np.zeros_like(s)
    d = np.zeros_like(s)
    finite = np.ones(s.shape, dtype=bool)
    for t in terms:
        s2 = s + t
        bp = s2 - s
        err = (s - (s2 - bp)) + (t - bp)
        lo2 = lo + err
        bp = lo2 - lo
        d = d + np.abs((lo - (lo2 - bp)) + (err - bp))
        finite &= np.isfinite(s2) & np.isfinite(t)
        s, lo = s2, lo2
    r = s + lo
    bp = r - s
    rest = (s - (r - bp)) + (lo - bp)
    return r, _unproven(r, rest, d, finite)


def _unproven(r: np.ndarray, rest: np.ndarray, d: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """fsum_rows's rule: rows where r is not shown to be the correctly rounded sum."""
    gap = np.minimum(np.abs(r - np.nextafter(r, -np.inf)), np.abs(np.nextafter(r, np.inf) - r))
    # d summed in floating point: doubled, a safe bound on the exact sum of its terms; the
    # left side's own rounding covered by a factor just above 1
    proven = (d == 0) | ((np.abs(rest) + 2.0 * d) * (1.0 + 2.0 ** -50) < gap / 2)
    return ~(proven & finite & np.isfinite(r))


def _dot(xs: list, ys: list, n: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The record path's kernel dot product: fsum below 64 components, else a left-to-right
    sum (value, rows not proven)."""
    terms = [a * b for a, b in zip(xs, ys)]
    if len(terms) < 64:
        if not terms:
            return np.zeros(n), None
        value, unproven = fsum_rows([np.broadcast_to(np.asarray(t, dtype=np.float64), (n,))
                                     for t in terms])
        return value, (unproven if unproven.any() else None)
    return np.asarray(_sequential_sum(terms), dtype=np.float64) + np.zeros(n), None


def _kernel(finish: Callable, dot: bool = True):
    """m.kernel.*: finish(inner, *constants) of the dot product (or squared distance)."""
    def build(p, e, args):
        x, y = p.node(args[0]), p.node(args[1])
        extra = [p.node(a) for a in args[2:]]

        def run(env):
            n = env["n"]
            xv, yv = x(env), y(env)
            ev = [f(env) for f in extra]
            pairs = _pairs(xv, yv, n)
            if pairs is None:       # "arrays must have same length"
                return _all_bad(n)
            if dot and pairs[0] and len(pairs[0]) < 64 and numba_enabled():
                from ._metric_numba import dot_parts
                inner, rest, d, finite = dot_parts(_mat(xv, n).data, _mat(yv, n).data)
                unproven = _unproven(inner, rest, d, finite)
                unproven = unproven if unproven.any() else None
            elif dot:
                inner, unproven = _dot(*pairs, n)
            elif pairs[0] and numba_enabled():
                from ._metric_numba import sq_dist
                inner, unproven = sq_dist(_mat(xv, n).data, _mat(yv, n).data), None
            else:
                inner, unproven = np.asarray(_sq_dist(*pairs)) + np.zeros(n), None
            out = finish(inner, *[_num_any(v) for v in ev])
            return V(NUM, np.asarray(out, dtype=np.float64) + np.zeros(n), None,
                     _or(xv.bad, yv.bad, unproven, *[v.bad for v in ev]))
        return run
    return build


FORMS["m.kernel.linear"] = _kernel(lambda d: d)
FORMS["m.kernel.rbf"] = _kernel(lambda s, gamma: batch_libm.exp(-gamma * s), dot=False)
FORMS["m.kernel.poly"] = _kernel(
    lambda d, gamma, c, degree: batch_libm.jpow(gamma * d + c, degree))
FORMS["m.kernel.sigmoid"] = _kernel(lambda d, gamma, c: batch_libm.tanh(gamma * d + c))


@form("model.svm.score")
def svm_score(p, e, args):
    """total = 0; total += kernel(supVec, datum) * coeff over negClass then posClass; + const."""
    x = p.node(args[0])
    model = p.const_value(args[1])
    kernel = fcn_runner(p, args[2], 2)
    try:
        svs = [(list(sv["supVec"]), float(sv["coeff"]))
               for sv in list(model["negClass"]) + list(model["posClass"])]
        const = float(model["const"])
    except (KeyError, TypeError, ValueError):
        raise Unsupported("model.svm.score parameters of this kind") from None
    matrix = const_matrix([sv for sv, _ in svs], "supVec")
    kernel_all = pairwise(p, args[2], const_first=True) if matrix is not None and svs else None
    coeffs = np.array([[coeff for _, coeff in svs]], dtype=np.float64).reshape(1, len(svs))

    def run(env):
        n = env["n"]
        xv = x(env)
        width = _mat(xv, n).data.shape[1]
        if not svs or any(len(sv) != width for sv, _ in svs):
            return _all_bad(n)        # "no support vectors", "...same length as datum"
        total = np.zeros(n)
        bads = [xv.bad]
        if kernel_all is not None:
            values, pair_bad = kernel_all(_mat(xv, n).data, matrix)
            if numba_enabled():
                from ._linear_numba import ordered_matmul
                total = ordered_matmul(values, coeffs)[:, 0]      # the same sum, in order
            else:
                for i, (_, coeff) in enumerate(svs):
                    total = total + values[:, i] * coeff
            return V(NUM, total + const, None, _or(xv.bad, pair_bad if pair_bad.any() else None))
        for sv, coeff in svs:
            k = kernel(env, V(CONST, sv), xv)
            bads.append(k.bad)
            total = total + _num_any(k) * coeff
        return V(NUM, total + const, None, _or(*bads))
    return run


# ---------------------------------------------------------------- naive Bayes, neighbours

@form("model.naive.gaussian")
def naive_gaussian(p, e, args):
    """sum over components of -0.5 log(2 pi var) - 0.5 (x - mean)^2 / var, left to right."""
    if e.info["sig"] != 0:
        raise Unsupported("model.naive.gaussian over maps")
    x = p.node(args[0])
    model = p.const_value(args[1])
    try:
        params = [(float(m["mean"]), float(m["variance"])) for m in model]
    except (KeyError, TypeError, ValueError):
        raise Unsupported("model.naive.gaussian parameters of this kind") from None
    ok = all(var > 0 for _, var in params)
    logs = [-0.5 * math.log(2.0 * math.pi * var) if var > 0 else 0.0 for _, var in params]

    def run(env):
        n = env["n"]
        xv = _mat(x(env), n)
        if xv.data.shape[1] != len(params) or not ok:
            return _all_bad(n)        # "misaligned", "variance less than or equal to zero"
        terms = []
        for j, ((mean, var), a) in enumerate(zip(params, logs)):
            d = xv.data[:, j] - mean
            terms.append(a - 0.5 * (d * d) / var)
        return V(NUM, _sequential_sum(terms) + np.zeros(n), None, xv.bad)
    return run


def _nearest(dist: np.ndarray, k: int) -> np.ndarray:
    """Per row, the indexes of the k smallest distances in the record path's order (a stable
    sort: ties in index order, NaN last). A partition finds the k-th distance; rows where
    exactly k distances are at or below it, and it is finite, sort just those k; the others
    (ties across the k-th place, infinities, NaN) get the full stable sort."""
    n, m = dist.shape
    k = min(k, m)
    if k == 0 or k == m or m <= 2 * k:
        return np.argsort(dist, axis=1, kind="stable")[:, :k]
    kth = np.partition(dist, k - 1, axis=1)[:, k - 1:k]
    with np.errstate(invalid="ignore"):
        inside = dist <= kth
    simple = (inside.sum(axis=1) == k) & np.isfinite(kth[:, 0])
    out = np.empty((n, k), dtype=np.int64)
    if simple.any():
        cand = np.nonzero(inside[simple])[1].reshape(-1, k)        # index order
        d = np.take_along_axis(dist[simple], cand, axis=1)
        out[simple] = np.take_along_axis(cand, np.argsort(d, axis=1, kind="stable"), axis=1)
    if not simple.all():
        out[~simple] = np.argsort(dist[~simple], axis=1, kind="stable")[:, :k]
    return out


@form("model.neighbor.nearestK")
def nearest_k(p, e, args):
    """The k codebook entries nearest the datum, nearest first (ties: codebook order, NaN
    distances last), as the record path's stable sort orders them."""
    if not _number_array(args[1].type) or not _number_array(args[2].type.items):
        raise Unsupported("model.neighbor.nearestK over values other than number arrays")
    k_f, x = p.node(args[0]), p.node(args[1])
    codebook = p.const_value(args[2])
    cb = const_matrix(codebook, "codebook")
    if cb is None:
        raise Unsupported("a codebook of arrays of different lengths")
    metric = fcn_runner(p, args[3], 2) if len(args) == 4 else None
    metric_all = pairwise(p, args[3]) if len(args) == 4 and codebook else None
    # metric.* of metric.absDiff (or the default metric): numba keeps the k nearest per row
    # as it goes, without the (rows x codebook) distances
    direct = (_direct_metric(p, args[3], False) if metric_all is not None else
              (4, slice(None), slice(None)) if metric is None else None)

    def run(env):
        n = env["n"]
        kv, xv = k_f(env), x(env)
        if kv.kind != CONST or type(kv.data) is not int:
            raise GiveUp()
        width = cb.shape[1]
        if kv.data < 0:               # "k must be nonnegative"
            return V(MAT3, np.zeros((n, 0, width)), None, np.ones(n, dtype=bool))
        bads = [kv.bad, xv.bad]
        if direct is not None and numba_enabled():
            mode, xs, cs = direct
            xa, ca = _mat(xv, n).data[:, xs], cb[:, cs]
            if xa.shape[1] == ca.shape[1] and xa.shape[1] > 0:
                from ._metric_numba import absdiff_nearest
                idx = absdiff_nearest(np.ascontiguousarray(xa), np.ascontiguousarray(ca), mode,
                                      kv.data)
                return V(MAT3, cb[idx], None, _or(*bads))
        if metric is None:
            xs = _items(xv, n)
            if codebook and len(xs) != width:     # "inconsistent dimensionality"
                return V(MAT3, np.zeros((n, 0, width)), None, np.ones(n, dtype=bool))
            dist = np.empty((n, len(codebook)))
            for i in range(len(codebook)):
                dist[:, i] = np.sqrt(_sq_dist(xs, [float(c) for c in codebook[i]]))
        elif metric_all is not None:
            dist, pair_bad = metric_all(_mat(xv, n).data, cb)
            bads.append(pair_bad if pair_bad.any() else None)
        else:
            dist = np.empty((n, len(codebook)))
            for i, c in enumerate(codebook):
                d = metric(env, xv, V(CONST, c))
                bads.append(d.bad)
                dist[:, i] = _column(d, n)
        return V(MAT3, cb[_nearest(dist, kv.data)], None, _or(*bads))
    return run
