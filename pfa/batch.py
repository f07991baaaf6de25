"""Batch scoring: run a side-effect-free action over whole columns with numpy.

``plan(engine)`` inspects the checked expression tree of a "map" engine. If every node is one of a
small vocabulary (input fields, constants and never-written cells, ``new`` arrays of numbers,
double arithmetic, m.* / m.link.* element-wise functions, model.reg.linear, model.tree.simpleWalk
with simpleTest, model.tree.simpleTree, model.neural.simpleLayers, model.cluster.closest and
attribute access on its result), it returns a BatchPlan; otherwise None and predict() runs the
action record by record. A plan gives up (returns None from ``run``) whenever a batch holds data
the per-record path would reject or treat specially, so results never differ beyond rounding.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np

from .compiler import Expr
from .types import Array, AvroType, Record


class Unsupported(Exception):
    pass


class GiveUp(Exception):
    """Raised while running: this batch must take the per-record path."""


def _floats(value: Any) -> np.ndarray:
    """A model parameter (list of numbers, or list of equally long lists) as a float array;
    anything else (ragged rows) is for the record-by-record path, which reports it."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise GiveUp() from None


# value kinds flowing between vector nodes
COL, MAT, CONST, INPUT, PICK = "col", "mat", "const", "input", "pick"


class V:
    __slots__ = ("kind", "data", "extra")

    def __init__(self, kind: str, data: Any, extra: Any = None):
        self.kind, self.data, self.extra = kind, data, extra


def _logit(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _probit(x):
    from scipy.special import erfc
    return erfc(-x / math.sqrt(2.0)) / 2.0


def _softplus(x):
    with np.errstate(over="ignore"):
        return np.where(x > 30, x + np.log1p(np.exp(-np.minimum(x, 700))), np.log1p(np.exp(x)))


ELEMENTWISE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "m.link.logit": _logit,
    "m.link.probit": _probit,
    "m.link.cloglog": lambda x: -np.expm1(-np.exp(x)),
    "m.link.loglog": lambda x: np.exp(-np.exp(x)),
    "m.link.cauchit": lambda x: 0.5 + np.arctan(x) / math.pi,
    "m.link.softplus": _softplus,
    "m.link.relu": lambda x: np.where(np.isnan(x), x, np.maximum(x, 0.0)),
    "m.link.tanh": np.tanh,
    "m.tanh": np.tanh,
    "m.exp": np.exp,
    "m.sqrt": np.sqrt,
    "m.abs": np.abs,
    "m.sin": np.sin,
    "m.cos": np.cos,
    "m.atan": np.arctan,
    "m.floor": np.floor,
    "m.ceil": np.ceil,
    "m.ln": np.log,
    "m.log10": np.log10,
    "m.expm1": np.expm1,
}
BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}
TREE_OPS = {"<": 0, "<=": 1, ">": 2, ">=": 3, "==": 4, "!=": 5}


class BatchPlan:
    def __init__(self, engine, root: Callable, output: AvroType, inputs: dict[str, str]):
        self.engine, self.root, self.output, self.inputs = engine, root, output, inputs

    def _input_columns(self, columns: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
        out = {}
        for name, kind in self.inputs.items():
            if name not in columns:
                raise GiveUp()
            col = columns[name]
            dtype = getattr(col, "dtype", None)
            if dtype is None or dtype == bool or dtype.kind not in "iuf":
                # object columns: the per-record path decides on None, bools, strings...
                if not (dtype is not None and dtype.kind == "O" and all(
                        type(v) is float or type(v) is int for v in col)):
                    raise GiveUp()
            try:
                a = np.asarray(col, dtype=np.float64)
            except (TypeError, ValueError):
                raise GiveUp() from None
            if a.shape != (n,):
                raise GiveUp()
            if kind in ("int", "long"):
                if not np.all(np.isfinite(a)) or not np.all(a == np.floor(a)):
                    raise GiveUp()
                lim = 2.0 ** 31 if kind == "int" else 2.0 ** 63
                if np.any(a < -lim) or np.any(a >= lim):
                    raise GiveUp()
            out[name] = a
        return out

    def run(self, columns: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray] | None:
        """Output columns for n rows, or None when this batch must go record by record."""
        if n == 0:
            return None
        try:
            env = self._input_columns(columns, n)
            with np.errstate(all="ignore"):
                v = self.root(env)
            return self._finish(v, n)
        except GiveUp:
            return None

    def _finish(self, v: V, n: int) -> dict[str, np.ndarray]:
        t = self.output
        if isinstance(t, Record):
            if v.kind != PICK:
                raise GiveUp()
            idx, recs = v.data
            out = {}
            for f in t.fields:
                vals = [r[f.name] for r in recs]
                out[f.name] = _pick_column(vals, idx, f.type)
            return out
        if v.kind in (CONST, PICK):
            raise GiveUp()
        if t.kind in ("double", "float"):
            if v.kind != COL:
                raise GiveUp()
            return {"output": np.asarray(v.data, dtype=np.float64)}
        if t.kind in ("int", "long", "string", "boolean") and v.kind == COL:
            return {"output": v.data}
        if isinstance(t, Array) and v.kind == MAT:
            col = np.empty(n, dtype=object)
            col[:] = [list(map(float, row)) for row in v.data]
            return {"output": col}
        raise GiveUp()


def _sequential_sum(terms: list) -> Any:
    """The terms added left to right from 0, as the record path's ``sum`` does: numpy's
    pairwise sums and BLAS dot products add in another order, which turns an overflow into a
    different infinity, or NaN, than the record path gives."""
    acc = 0.0
    for t in terms:
        acc = acc + t
    return acc


def _dot(x: np.ndarray, coeff: np.ndarray) -> np.ndarray:
    """Row-wise dot product of x (n x k) with coeff (k), in the record path's order."""
    return _sequential_sum([x[:, j] * coeff[j] for j in range(x.shape[1])])


def _matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x (n x k) times w.T (w: m x k) in the record path's order: one column per row of w."""
    out = np.empty((x.shape[0], w.shape[0]))
    for i in range(w.shape[0]):
        out[:, i] = _dot(x, w[i]) if x.shape[1] else 0.0
    return out


def _pick_column(values: list, idx: np.ndarray, t: AvroType) -> np.ndarray:
    if t.kind in ("double", "float"):
        return np.asarray(values, dtype=np.float64)[idx]
    if t.kind in ("int", "long"):
        return np.asarray(values, dtype=np.int64)[idx]
    col = np.empty(len(values), dtype=object)
    col[:] = values
    return col[idx]


# ---------------------------------------------------------------- planning

class Planner:
    def __init__(self, engine):
        self.engine = engine
        self.rt = engine.rt
        self.inputs: dict[str, str] = {}
        self.input_record = isinstance(engine.input_type, Record)

    def node(self, e: Expr) -> Callable[[dict], V]:
        k = e.kind
        if k in ("do",) and len(e.children) == 1:
            return self.node(e.children[0])
        if k == "lit":
            v = e.info["value"]
            return lambda env: V(CONST, v)
        if k == "cell":
            if self.engine.action_writes_state or e.info.get("steps"):
                raise Unsupported()
            box = self.rt.cells[e.info["name"]]
            return lambda env: V(CONST, box[0])
        if k == "ref" and e.info.get("name") == "input":
            if self.input_record:
                return lambda env: V(INPUT, env)
            if e.type.kind not in ("double", "float", "int", "long"):
                raise Unsupported()
            self.inputs["input"] = e.type.kind
            return lambda env: V(COL, env["input"])
        if k == "attr":
            return self.attr(e)
        if k == "new":
            return self.new(e)
        if k == "call":
            return self.call(e)
        raise Unsupported()

    def attr(self, e: Expr) -> Callable[[dict], V]:
        base = e.children[0]
        fields = e.info.get("fields")
        if not fields:
            raise Unsupported()
        if base.kind == "ref" and base.info.get("name") == "input" and self.input_record \
                and len(fields) == 1:
            name = fields[0]
            ft = self.engine.input_type.field(name).type
            if ft.kind not in ("double", "float", "int", "long"):
                raise Unsupported()
            self.inputs[name] = ft.kind
            return lambda env: V(COL, env[name])
        inner = self.node(base)

        def pick_field(env):
            v = inner(env)
            if v.kind != PICK or len(fields) != 1:
                raise GiveUp()
            idx, recs = v.data
            vals = [r[fields[0]] for r in recs]
            return V(COL, _pick_column(vals, idx, e.type))
        if e.type.kind not in ("double", "float", "int", "long", "string", "boolean"):
            raise Unsupported()
        return pick_field

    def new(self, e: Expr) -> Callable[[dict], V]:
        if not isinstance(e.type, Array) or e.type.items.kind not in ("double", "float"):
            raise Unsupported()
        parts = [self.node(c) for c in e.children]

        def build(env):
            cols = []
            n = None
            for p in parts:
                v = p(env)
                if v.kind == COL:
                    cols.append(v.data)
                    n = len(v.data)
                elif v.kind == CONST and isinstance(v.data, (int, float)):
                    cols.append(float(v.data))
                else:
                    raise GiveUp()
            if n is None:
                raise GiveUp()
            m = np.empty((n, len(cols)))
            for j, c in enumerate(cols):
                m[:, j] = c
            return V(MAT, m)
        return build

    def call(self, e: Expr) -> Callable[[dict], V]:
        name = e.info["name"]
        args = e.children
        if name in ELEMENTWISE and len(args) == 1:
            f = ELEMENTWISE[name]
            if args[0].type.kind not in ("double", "float", "array"):
                raise Unsupported()
            if name == "m.abs" and e.type.kind != "double":
                raise Unsupported()
            a = self.node(args[0])

            def ew(env):
                v = a(env)
                if v.kind in (COL, MAT):
                    return V(v.kind, f(v.data))
                raise GiveUp()
            return ew
        if name == "m.link.softmax" and args[0].type.kind == "array":
            a = self.node(args[0])

            def sm(env):
                v = a(env)
                if v.kind != MAT or v.data.shape[1] == 0:
                    raise GiveUp()
                x = v.data
                m = np.max(x, axis=1, keepdims=True)
                if not np.all(np.isfinite(m)):
                    raise GiveUp()
                ex = np.exp(x - m)
                return V(MAT, ex / ex.sum(axis=1, keepdims=True))
            return sm
        if name in BINARY and e.type.kind == "double":
            op = BINARY[name]
            a, b = self.node(args[0]), self.node(args[1])

            def bin_(env):
                x, y = a(env), b(env)
                if x.kind not in (COL, CONST) or y.kind not in (COL, CONST):
                    raise GiveUp()
                if x.kind == CONST and y.kind == CONST:
                    raise GiveUp()
                return V(COL, op(np.asarray(x.data, dtype=float), np.asarray(y.data, dtype=float)))
            return bin_
        if name == "model.reg.linear" and e.info["sig"] in (0, 1):
            return self.linear(e)
        if name in ("model.tree.simpleWalk", "model.tree.simpleTree"):
            return self.tree(e)
        if name == "model.neural.simpleLayers":
            return self.neural(e)
        if name == "model.cluster.closest":
            return self.closest(e)
        raise Unsupported()

    def const_node(self, e: Expr) -> Callable[[], Any]:
        f = self.node(e)

        def get():
            v = f({})
            if v.kind != CONST:
                raise GiveUp()
            return v.data
        return get

    def linear(self, e: Expr) -> Callable[[dict], V]:
        datum, model = e.children
        xs = self.node(datum)
        get_model = self.const_node(model)
        multi = e.info["sig"] == 1
        cache: dict = {}

        def lin(env):
            m = get_model()
            key = id(m)
            if cache.get("key") != key:
                coeff, const = _floats(m["coeff"]), _floats(m["const"])
                cache.update(key=key, coeff=coeff, const=const, ref=m)
            coeff, const = cache["coeff"], cache["const"]
            x = xs(env)
            if x.kind != MAT:
                raise GiveUp()
            if multi:
                if coeff.ndim != 2 or coeff.shape[1] != x.data.shape[1] or \
                        coeff.shape[0] != const.shape[0]:
                    raise GiveUp()
                return V(MAT, _matmul(x.data, coeff) + const)
            if coeff.shape != (x.data.shape[1],):
                raise GiveUp()
            return V(COL, (_dot(x.data, coeff) if x.data.shape[1] else 0.0) + const)
        return lin

    def neural(self, e: Expr) -> Callable[[dict], V]:
        datum, model, act = e.children
        xs = self.node(datum)
        get_model = self.const_node(model)
        f = self.activation(act)

        def nn(env):
            layers = get_model()
            x = xs(env)
            if x.kind != MAT or not layers:
                raise GiveUp()
            h = x.data
            for i, layer in enumerate(layers):
                w, b = _floats(layer["weights"]), _floats(layer["bias"])
                if w.ndim != 2 or w.shape[1] != h.shape[1] or b.shape != (w.shape[0],):
                    raise GiveUp()
                h = _matmul(h, w) + b
                if i < len(layers) - 1:
                    h = f(h)
            return V(MAT, h)
        return nn

    def activation(self, e: Expr) -> Callable[[np.ndarray], np.ndarray]:
        if e.kind == "fcnref" and e.info.get("name") in ELEMENTWISE:
            return ELEMENTWISE[e.info["name"]]
        if e.kind == "fcndef":
            body = e.children[0]
            params = e.info["params"]
            if body.kind == "call" and body.info["name"] in ELEMENTWISE and \
                    len(body.children) == 1 and body.children[0].kind == "ref" and \
                    body.children[0].info["name"] == params[0]:
                return ELEMENTWISE[body.info["name"]]
        raise Unsupported()

    def tree(self, e: Expr) -> Callable[[dict], V]:
        simple_tree = e.info["name"] == "model.tree.simpleTree"
        datum, node = e.children[0], e.children[1]
        if not (datum.kind == "ref" and datum.info.get("name") == "input" and self.input_record):
            raise Unsupported()
        if not simple_tree:
            test = e.children[2]
            if not (test.kind == "fcndef" and len(test.info["params"]) == 2):
                raise Unsupported()
            body = test.children[0]
            p0, p1 = test.info["params"]
            if not (body.kind == "call" and body.info["name"] == "model.tree.simpleTest" and
                    [c.kind for c in body.children] == ["ref", "ref"] and
                    [c.info["name"] for c in body.children] == [p0, p1]):
                raise Unsupported()
        rec = self.engine.input_type
        names = [f.name for f in rec.fields]
        numeric = {f.name for f in rec.fields if f.type.kind in ("double", "float", "int", "long")}
        for f in rec.fields:
            if f.name in numeric:
                self.inputs[f.name] = f.type.kind
        get_tree = self.const_node(node)
        leaf_type = e.type
        if leaf_type.kind not in ("double", "float", "int", "long", "string", "boolean", "enum"):
            raise Unsupported()
        cache: dict = {}

        def flatten(tree):
            feat, op, val, kids, leaves = [], [], [], [], []
            stack = [tree]
            index = {}
            order = []
            while stack:
                nd = stack.pop()
                index[id(nd)] = len(order)
                order.append(nd)
                for br in ("pass", "fail"):
                    c = nd[br]
                    if type(c) is dict:
                        stack.append(c)
            for nd in order:
                fname, o, v = nd["field"], nd["operator"], nd["value"]
                if fname not in numeric or o not in TREE_OPS or type(v) not in (int, float):
                    raise GiveUp()
                feat.append(names.index(fname))
                op.append(TREE_OPS[o])
                val.append(float(v))
                pair = []
                for br in ("pass", "fail"):
                    c = nd[br]
                    if type(c) is dict:
                        pair.append(index[id(c)])
                    else:
                        leaves.append(c)
                        pair.append(-len(leaves))
                kids.append(pair)
            return (np.array(feat), np.array(op), np.array(val), np.array(kids, dtype=np.int64),
                    leaves)

        def walk(env):
            tree = get_tree()
            if cache.get("key") != id(tree):
                feat, op, val, kids, leaves = flatten(tree)
                # per node: result = (lt & A) | (eq & B) | (gt & C), then xor NEG; NaN inputs
                # make lt, eq and gt all false, which gives Python's comparison results
                table = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 1, 1, 0],
                                  [0, 1, 0, 0], [0, 1, 0, 1]], dtype=bool)[op]
                # the input fields the tree tests, and each node's row in their stacked matrix
                used = sorted(set(feat.tolist()))
                slot = {j: i for i, j in enumerate(used)}
                node_slot = np.array([slot[j] for j in feat.tolist()], dtype=np.int64)
                cache.update(key=id(tree), ref=tree, flat=(feat, val, kids, leaves, table[:, 0],
                                                           table[:, 1], table[:, 2], table[:, 3],
                                                           used, node_slot))
            feat, val, kids, leaves, ua, ub, uc, neg, used, node_slot = cache["flat"]
            n = len(next(iter(env.values())))
            xt = np.empty((len(used), n))
            for i, j in enumerate(used):
                xt[i] = env[names[j]]
            flat_x = xt.ravel()
            fslot = node_slot * n
            node_ix = np.zeros(n, dtype=np.int64)
            active = np.arange(n)
            for _ in range(len(feat) + 1):
                if active.size == 0:
                    break
                nd = node_ix[active]
                xv = flat_x[fslot[nd] + active]
                vv = val[nd]
                res = ((xv < vv) & ua[nd]) | ((xv == vv) & ub[nd]) | ((xv > vv) & uc[nd])
                res ^= neg[nd]
                nxt = np.where(res, kids[nd, 0], kids[nd, 1])
                node_ix[active] = nxt
                active = active[nxt >= 0]
            leaf_ix = -node_ix - 1
            return V(COL, _pick_column(leaves, leaf_ix, leaf_type))
        return walk

    def closest(self, e: Expr) -> Callable[[dict], V]:
        datum, clusters = e.children[0], e.children[1]
        if len(e.children) == 3:
            # only the plain Euclidean metric (absDiff similarity, no missing-value weights)
            m = e.children[2]
            fill = m.info.get("fill") or {}
            sim = fill.get("similarity")
            ok = m.kind == "fcnref" and m.info.get("name") in ("metric.euclidean",
                                                                "metric.squaredEuclidean") \
                and set(fill) == {"similarity"} and sim is not None and \
                sim.kind == "fcnref" and sim.info.get("name") == "metric.absDiff" and \
                not sim.info.get("fill")
            if not ok:
                raise Unsupported()
        xs = self.node(datum)
        get_clusters = self.const_node(clusters)
        cache: dict = {}

        def cl(env):
            cs = get_clusters()
            if not cs:
                raise GiveUp()
            if cache.get("key") != id(cs):
                centers = [c["center"] for c in cs]
                if len({len(c) for c in centers}) != 1:
                    raise GiveUp()
                cache.update(key=id(cs), centers=np.asarray(centers, dtype=float), ref=cs)
            centers = cache["centers"]
            x = xs(env)
            if x.kind != MAT or x.data.shape[1] != centers.shape[1]:
                raise GiveUp()
            if not np.all(np.isfinite(x.data)) or not np.all(np.isfinite(centers)):
                raise GiveUp()
            d = _sequential_sum([(x.data[:, None, j] - centers[None, :, j]) ** 2
                                 for j in range(centers.shape[1])])
            return V(PICK, (np.argmin(d, axis=1), list(cs)))
        return cl


def plan(engine) -> BatchPlan | None:
    """A BatchPlan for this engine, or None if its action is not a supported pattern."""
    if engine.method != "map" or engine.action_impure or engine.action_writes_state:
        return None
    expr = engine.action_routine.expr
    it = engine.input_type
    if isinstance(it, Record) and any(f.type.kind not in ("double", "float", "int", "long")
                                      for f in it.fields):
        return None   # every field is validated per record; keep the batch path equivalent
    planner = Planner(engine)
    try:
        root = planner.node(expr)
    except Unsupported:
        return None
    if not planner.inputs and planner.input_record:
        return None
    if planner.input_record:
        for f in it.fields:
            planner.inputs.setdefault(f.name, f.type.kind)
    return BatchPlan(engine, root, engine.output_type, planner.inputs)
