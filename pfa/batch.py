"""The column path: run a side-effect-free "map" action over whole columns with numpy.

``plan(engine)`` walks the checked expression tree once, at load. If every node is in the
vocabulary below it returns a BatchPlan; otherwise ``Unsupported`` names the construct that keeps
the document on the record path (``PFAModel.batch_path_reason``).

Vocabulary: input fields of numeric, boolean, string, enum, ``["null", X]`` and array-of-double
types (fields the action never reads are only validated); literals and never-written cells (with
constant paths); let/if/cond/do blocks; double arithmetic and comparisons (NaN ordered as the
record path orders it), string and enum equality and ordering against constants, &&, || and !;
map and array lookups by a string or int column (one-hot vectors, ordinal codes), a.index,
map.containsKey, enum.toInt; impute.defaultOnNull/errorOnNull/isnan/isinf/isnum/defaultOnNonNum;
m.* and m.link.* element-wise, m.link.softmax, model.reg.linear, model.tree.simpleWalk (with
simpleTest, over number, string and enum fields of the input record or of a record built from
computed columns, such as scaled or imputed inputs) and simpleTree, model.neural.simpleLayers,
model.cluster.closest, a.argmax/a.argmin/a.map/a.sum/a.len over fixed-size arrays; a.map of a
tree walk over a constant array of trees (a forest: one column per tree, or one array of leaves
per tree, added by a.sum, or by a.fold with la.add, left to right as the record path adds
them), la.scale of an array; records, maps and arrays as outputs; the error form; and, in
``batch_models``, a.map/a.count with any function planned here over constant or computed
arrays, a.max/a.min/a.mean/a.append/a.subseq, metric.*, m.kernel.*, model.svm.score,
model.naive.gaussian and model.neighbor.nearestK; statements in blocks: ``set`` of variables
the block declares, if/cond as statements, ``while``, ``do``-``until`` and ``for`` (every row
loops until its own condition stops it, variables change only for the rows still looping;
rows still looping after ``LOOP_HANDOFF`` iterations or the action's wall-clock limit go to
the record path, which finishes them or raises its own limit error); min and max of numbers.
exp, tanh, pow, log and atan go through the C library as the record path's ``math`` does
(``batch_libm``).

The record path is the reference. Every vector value carries ``bad``: the rows whose answer the
column path cannot give exactly (a value the record path rejects, a missing map key, a NaN where
the record path's order differs...). Those rows, and only those, are scored by the record path,
so their outputs and errors (with row numbers) are the record path's own.
"""
from __future__ import annotations

import gc
import math
import time
from contextlib import contextmanager
from typing import Any, Callable, Mapping

import numpy as np

from . import batch_libm as libm
from ..pmml.models.tree_kernel import numba_enabled
from .batch_input import NUMBER_KINDS, Cat, field_kind, read_column
from .compiler import Expr
from .runtime import DEFAULT_TIMEOUT_MS
from .types import INT as INT_T, STRING as STRING_T, Array, AvroType, Map, Record


class Unsupported(Exception):
    """The action (or its model parameters) is outside the column path's vocabulary."""


class GiveUp(Exception):
    """Raised while running: this batch must take the record path as a whole."""


def _floats(value: Any, what: str) -> np.ndarray:
    """A model parameter (list of numbers, or list of equally long lists) as a float array."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Unsupported(f"{what} is not a rectangular array of numbers") from None


# value kinds flowing between vector nodes
NUM, BOOL, STR, MAT, CONST, PICK, REC, MAPV, INPUT = (
    "num", "bool", "str", "mat", "const", "pick", "rec", "map", "input")
# a user error ("error" form): no value, every row that reaches it is bad
ERR = "err"
_UNSET = object()
# an array of fixed-size number arrays per row: data of shape (rows, arrays, width)
MAT3 = "mat3"


class V:
    """A vector value: ``kind`` and ``data`` (see the kinds above), ``null`` (rows holding null,
    for ``["null", X]`` values) and ``bad`` (rows the record path must score)."""

    __slots__ = ("kind", "data", "null", "bad")

    def __init__(self, kind: str, data: Any, null: np.ndarray | None = None,
                 bad: np.ndarray | None = None):
        self.kind, self.data, self.null, self.bad = kind, data, null, bad


def _or(*masks) -> np.ndarray | None:
    out = None
    for m in masks:
        if m is None:
            continue
        out = m if out is None else (out | m)
    return out


def _bad(*vs: V) -> np.ndarray | None:
    return _or(*[v.bad for v in vs])


def _logit(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + libm.exp(-x))


def _probit(x):
    from scipy.special import erfc
    return erfc(-x / math.sqrt(2.0)) / 2.0


def _softplus(x):
    with np.errstate(over="ignore"):
        return np.where(x > 30, x + libm.log1p(libm.exp(-x)), libm.log1p(libm.exp(x)))


def _sqrt(x):
    return np.where(x >= 0, np.sqrt(np.abs(x)), np.nan)


ELEMENTWISE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "m.link.logit": _logit,
    "m.link.probit": _probit,
    "m.link.cloglog": lambda x: -libm.expm1(-libm.exp(x)),
    "m.link.loglog": lambda x: libm.exp(-libm.exp(x)),
    "m.link.cauchit": lambda x: 0.5 + libm.atan(x) / math.pi,
    "m.link.softplus": _softplus,
    "m.link.relu": lambda x: np.where(np.isnan(x), x, np.maximum(x, 0.0)),
    "m.link.tanh": libm.tanh,
    "m.tanh": libm.tanh,
    "m.exp": libm.exp,
    "m.sqrt": _sqrt,
    "m.abs": np.abs,
    "m.sin": np.sin,
    "m.cos": np.cos,
    "m.atan": libm.atan,
    "m.floor": np.floor,
    "m.ceil": np.ceil,
    "m.ln": libm.log,
    "m.log10": libm.log10,
    "m.expm1": libm.expm1,
}
BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}
TREE_OPS = {"<": 0, "<=": 1, ">": 2, ">=": 3, "==": 4, "!=": 5}
COMPARE = ("==", "!=", "<", "<=", ">", ">=")
#: loop iterations (all loops of one batch together) after which the rows still looping go to
#: the record path: it runs them under its own step budget and clock
LOOP_HANDOFF = 10_000


def _sequential_sum(terms: list) -> Any:
    """The terms added left to right from 0, as the record path's ``sum`` does: numpy's
    pairwise sums and BLAS dot products add in another order, which turns an overflow into a
    different infinity, or NaN, than the record path gives."""
    acc = 0.0
    for t in terms:
        acc = acc + t
    return acc


#: rows from which the linear kernels go through numba (below, numpy's few calls are cheaper)
_NUMBA_ROWS = 256


def _dot(x: np.ndarray, coeff: np.ndarray) -> np.ndarray:
    """Row-wise dot product of x (n x k) with coeff (k), in the record path's order."""
    if x.dtype == np.float64 and x.shape[0] >= _NUMBA_ROWS and numba_enabled():
        from ._linear_numba import ordered_matmul
        return ordered_matmul(x, np.asarray(coeff, dtype=np.float64).reshape(1, -1))[:, 0]
    acc = np.zeros(x.shape[0])
    term = np.empty(x.shape[0])
    for j in range(x.shape[1]):
        np.multiply(x[:, j], coeff[j], out=term)
        acc += term
    return acc


def _matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x (n x k) times w.T (w: m x k) in the record path's order: one column per row of w."""
    if x.dtype == np.float64 and x.shape[0] >= _NUMBA_ROWS and numba_enabled():
        from ._linear_numba import ordered_matmul
        return ordered_matmul(x, np.asarray(w, dtype=np.float64))
    out = np.empty((x.shape[0], w.shape[0]))
    for i in range(w.shape[0]):
        out[:, i] = _dot(x, w[i]) if x.shape[1] else 0.0
    return out


def _fcmp(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """-1/0/1 per row, NaN above every number and equal to NaN (the record path's order)."""
    with np.errstate(invalid="ignore"):
        c = np.where(x < y, -1, np.where(x > y, 1, 0))
        xn, yn = np.isnan(x), np.isnan(y)
    return np.where(xn | yn, xn.astype(np.int64) - yn.astype(np.int64), c)


_TESTS = {"==": lambda c: c == 0, "!=": lambda c: c != 0, "<": lambda c: c < 0,
          "<=": lambda c: c <= 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0}
_PY_OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
           "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


# ---------------------------------------------------------------- building vector values

def _is_num(v: Any) -> bool:
    return type(v) is int or type(v) is float


def gather(values: list, idx: np.ndarray, t: AvroType, n: int) -> V:
    """The vector value whose row i is values[idx[i]] (values: Python values of type t)."""
    k = t.kind
    if k in ("double", "float"):
        return V(NUM, np.asarray(values, dtype=np.float64)[idx] if values else np.zeros(n))
    if k in ("int", "long"):
        return V(NUM, np.asarray(values, dtype=np.int64)[idx] if values else
                 np.zeros(n, dtype=np.int64))
    if k == "boolean":
        return V(BOOL, np.asarray(values, dtype=bool)[idx] if values else np.zeros(n, bool))
    if k in ("string", "enum"):
        words = sorted(set(values))
        pos = {w: i for i, w in enumerate(words)}
        codes = np.array([pos[v] for v in values], dtype=np.int64)
        return V(STR, Cat(codes[idx] if values else np.zeros(n, np.int64), words))
    if k == "array" and t.items.kind in ("double", "float"):
        widths = {len(v) for v in values}
        if len(widths) > 1:
            raise Unsupported("arrays of different lengths")
        mat = np.asarray(values, dtype=np.float64).reshape(len(values), widths.pop() if widths
                                                           else 0)
        return V(MAT, mat[idx])
    if k == "record":
        return V(PICK, (idx, list(values), t))
    raise Unsupported(f"values of type {t.describe()}")


def _const_v(value: Any, t: AvroType, n: int) -> V:
    """A constant spread over n rows as the vector kind of its type."""
    return gather([value], np.zeros(n, dtype=np.int64), t, n)


# ---------------------------------------------------------------- the plan

class BatchPlan:
    """A compiled column program; ``run`` scores a batch, deferring some rows."""

    def __init__(self, engine, root: Callable, output: AvroType, reads: dict[str, AvroType],
                 fields: list[tuple[str, AvroType]]):
        self.engine, self.root, self.output = engine, root, output
        self.reads, self.fields = reads, fields

    def run(self, columns: Mapping[str, np.ndarray], n: int
            ) -> tuple[dict[str, np.ndarray], np.ndarray] | None:
        """(output columns, rows the record path must score), or None for the whole batch."""
        if n == 0:
            return None
        text = getattr(columns, "text", {})
        try:
            # loop iterations and the start time of this batch (see Planner._loop)
            env: dict[str, Any] = {"n": n, "@steps": [0], "@start": time.monotonic()}
            bad = np.zeros(n, dtype=bool)
            fields = {}
            for name, t in self.fields:
                if name not in columns:
                    raise GiveUp()
                col = columns[name]
                value, null, rejected = read_column(col, t, n, text.get(name),
                                                    need_value=name in self.reads)
                bad |= rejected
                if name in self.reads:
                    fields[name] = _field_v(value, t, null)
            env["fields"] = fields
            with np.errstate(all="ignore"):
                v = self.root(env)
                # record, map and array outputs create many small objects and no cycles: the
                # cyclic garbage collector would rescan them again and again
                was_enabled = gc.isenabled()
                gc.disable()
                try:
                    out = _finish(v, self.output, n)
                finally:
                    if was_enabled:
                        gc.enable()
            bad = _or(bad, v.bad)
            return out, bad
        except (GiveUp, Unsupported, ValueError, IndexError, OverflowError):
            return None


def _field_v(value: Any, t: AvroType, null: np.ndarray | None) -> V:
    kind, _ = field_kind(t)
    if kind in NUMBER_KINDS:
        return V(NUM, value, null)
    if kind == "boolean":
        return V(BOOL, value, null)
    if kind in ("string", "enum"):
        return V(STR, value, null)
    return V(MAT, value, null)


def _col_values(v: V, t: AvroType, n: int) -> np.ndarray:
    """A vector value as an output column of Python-typed values (the record path's column)."""
    k = t.kind
    if k == "union":
        inner = next(m for m in t.types if m.kind != "null")
        col = _objects(_col_values(V(v.kind, v.data, None, v.bad), inner, n).tolist())
        if v.null is not None:
            col[v.null] = None
        return col
    if v.null is not None:
        raise GiveUp()
    if v.kind == CONST:
        v = _const_v(v.data, t, n)
    if k in ("double", "float"):
        if v.kind != NUM:
            raise GiveUp()
        return np.asarray(v.data, dtype=np.float64)
    if k in ("int", "long"):
        if v.kind != NUM or v.data.dtype.kind != "i":
            raise GiveUp()
        return v.data
    if k == "boolean":
        if v.kind != BOOL:
            raise GiveUp()
        return v.data
    if k in ("string", "enum"):
        if v.kind != STR:
            raise GiveUp()
        words = np.empty(len(v.data.words) + 1, dtype=object)
        words[:-1] = v.data.words
        return words[v.data.codes]
    if k == "array" and v.kind == MAT:
        return _objects(v.data.tolist() if v.data.shape[1] else [[] for _ in range(n)])
    if k == "map" and v.kind == MAPV:
        keys = list(v.data)
        lists = [_col_values(v.data[k], t.values, n).tolist() for k in keys]
        if not keys:
            return _objects([{} for _ in range(n)])
        return np.fromiter(map(_dict_maker(tuple(keys)), *lists), dtype=object, count=n)
    if k == "record" and v.kind == PICK:
        idx, recs, _ = v.data
        from .values import output_converter
        conv = output_converter(t) or (lambda x: x)
        col = np.empty(len(recs), dtype=object)
        col[:] = [conv(r) for r in recs]
        return col[idx]
    raise GiveUp()


_DICT_MAKERS: dict[tuple, Callable] = {}


def _dict_maker(keys: tuple) -> Callable[..., dict]:
    """A function of len(keys) values returning the dict of keys to them, written as a dict
    display: it builds a row's dict in a third of the time ``dict(zip(keys, row))`` takes. The
    keys enter the generated source only through ``repr`` of str (string literals)."""
    f = _DICT_MAKERS.get(keys)
    if f is None:
        if not all(type(k) is str for k in keys):
            return lambda *row: dict(zip(keys, row))
        params = ", ".join(f"v{i}" for i in range(len(keys)))
        items = ", ".join(f"{k!r}: v{i}" for i, k in enumerate(keys))
        f = eval(f"lambda {params}: {{{items}}}", {})
        _DICT_MAKERS[keys] = f
    return f


def _objects(values: list) -> np.ndarray:
    """A list of Python values (lists included) as a 1-D object array."""
    return np.fromiter(values, dtype=object, count=len(values))


def _finish(v: V, t: AvroType, n: int) -> dict[str, np.ndarray]:
    if isinstance(t, Record):
        if v.kind == REC:
            return {f.name: _col_values(v.data[f.name], f.type, n) for f in t.fields}
        if v.kind == PICK:
            idx, recs, _ = v.data
            return {f.name: _col_values(gather([r[f.name] for r in recs], idx, f.type, n),
                                        f.type, n) for f in t.fields}
        raise GiveUp()
    return {"output": _col_values(v, t, n)}


# ---------------------------------------------------------------- planning

class Planner:
    def __init__(self, engine):
        self.engine = engine
        self.rt = engine.rt
        self.reads: dict[str, AvroType] = {}
        self.input_type = engine.input_type
        self.input_record = isinstance(engine.input_type, Record)
        #: names each enclosing expression block declares (the variables ``set`` may change)
        self.declared: list[set[str]] = []
        #: variables bound to constants while planning (an element of a constant array that a
        #: function is planned for, one plan per element)
        self.bound: dict[str, Any] = {}

    @contextmanager
    def binding(self, name: str, value: Any):
        """Plan with the variable ``name`` standing for the constant ``value``."""
        old = self.bound.get(name, _UNSET)
        self.bound[name] = value
        try:
            yield
        finally:
            if old is _UNSET:
                del self.bound[name]
            else:
                self.bound[name] = old

    @contextmanager
    def unbound(self, names: list[str]):
        """Plan with these variables (parameters of an inline function) not constants."""
        saved = {k: self.bound.pop(k) for k in names if k in self.bound}
        try:
            yield
        finally:
            self.bound.update(saved)

    # -- dispatch
    def node(self, e: Expr) -> Callable[[dict], V]:
        k = e.kind
        f = getattr(self, "k_" + k.replace("-", "_"), None)
        if f is None:
            raise Unsupported(f"the special form {k!r}")
        inner = f(e)
        return self.conform(inner, e)

    def conform(self, inner: Callable[[dict], V], e: Expr) -> Callable[[dict], V]:
        """Promote int values where the checked tree expects double (coerce keeps the node)."""
        if e.type.kind in ("double", "float"):
            def promote(env):
                v = inner(env)
                if v.kind == NUM and v.data.dtype.kind == "i":
                    return V(NUM, v.data.astype(np.float64), v.null, v.bad)
                if v.kind == CONST and _is_num(v.data):
                    return V(CONST, float(v.data), v.null, v.bad)
                return v
            return promote
        return inner

    def const_value(self, e: Expr) -> Any:
        """The value of a constant expression (literal or cell), at plan time."""
        if e.kind == "lit":
            return e.info["value"]
        if e.kind == "cell":
            return self._cell(e)
        if e.kind == "ref" and e.info.get("name") in self.bound:
            return self.bound[e.info["name"]]
        raise Unsupported("a model parameter that is not a literal or a cell")

    def _cell(self, e: Expr) -> Any:
        if self.engine.action_writes_state:
            raise Unsupported("an action that writes cells")
        value = self.rt.cells[e.info["name"]][0]
        for (kind, key), raw in zip(e.info.get("steps", []), e.info.get("keys", [])):
            if kind in ("a", "m") and isinstance(raw, Expr):
                # a key written as an expression that is a constant (a literal index)
                key = self.const_value(raw)
                if (kind == "a") != (type(key) is int):
                    raise Unsupported("a cell path computed from the input")
            elif kind not in ("r", "mk", "ai"):
                raise Unsupported("a cell path computed from the input")
            try:
                if kind == "a" and key < 0:
                    raise IndexError
                value = value[key]
            except (KeyError, IndexError):
                raise Unsupported("a cell path to a missing key") from None
        return value

    # -- forms
    def k_lit(self, e: Expr):
        v = e.info["value"]
        return lambda env: V(CONST, v)

    def k_cell(self, e: Expr):
        v = self._cell(e)
        return lambda env: V(CONST, v)

    def k_ref(self, e: Expr):
        name = e.info.get("name")
        if name in self.bound:
            value = self.bound[name]
            return lambda env: V(CONST, value)
        if name == "input" and self.input_record and e.type == self.input_type:
            return lambda env: V(INPUT, None)
        if name == "input" and not self.input_record:
            self._read("input", self.input_type)
            return lambda env: env["fields"]["input"]
        key = "$" + name
        return lambda env: env[key]

    def _read(self, name: str, t: AvroType) -> None:
        kind, _ = field_kind(t)
        if kind is None:
            raise Unsupported(f"reading input field {name!r} of type {t.describe()}")
        self.reads[name] = t

    def k_block(self, e: Expr):
        return self._block(list(e.children))

    def k_do(self, e: Expr):
        return self._block(list(e.children))

    def _block(self, kids: list[Expr]):
        if not kids:
            raise Unsupported("an empty block")
        # names declared by this block's statements (nested statement blocks included): the
        # only variables a ``set`` in it may change, so an expression's block never writes a
        # variable that another expression reads
        self.declared.append(set())
        try:
            stmts = [self.stmt(c) for c in kids[:-1]]
            last = self.node(kids[-1])
        finally:
            self.declared.pop()

        def run(env):
            env = dict(env)
            bads = [s(env, None) for s in stmts]
            v = last(env)
            bad = _or(v.bad, *bads)
            return V(v.kind, v.data, v.null, bad) if bad is not v.bad else v
        return run

    # -- statements: stmt(env, act) changes env in place for the rows of act (None: all rows)
    # and returns the rows the record path must score (bad values met by active rows)
    def stmt(self, e: Expr) -> Callable[[dict, np.ndarray | None], np.ndarray | None]:
        k = e.kind
        if k == "let":
            return self._let_stmt(e)
        if k == "set":
            return self._set_stmt(e)
        if k in ("block", "do"):
            return self._stmts(list(e.children))
        if k == "while":
            return self._loop(self.node(e.children[0]), self.stmt(e.children[1]), False)
        if k == "do-until":
            return self._loop(self.node(e.children[1]), self.stmt(e.children[0]), True)
        if k == "for" and "init" in e.info:
            return self._for(e)
        if k == "foreach" and "name" in e.info:
            return self._foreach(e)
        if k in ("foreach", "forkey"):
            raise Unsupported(f"the loop {k!r}" + (" (over a map)" if k == "forkey" else ""))
        if k == "if":
            c = self.node(e.children[0])
            branches = [self.stmt(x) for x in e.children[1:]]
            return self._branch_stmt([c], branches)
        if k == "cond":
            kids = list(e.children)
            m = len(kids) // 2
            conds = [self.node(x) for x in kids[:m]]
            return self._branch_stmt(conds, [self.stmt(x) for x in kids[m:]])
        f = self.node(e)

        def value(env, act):
            return _masked(f(env).bad, act)
        return value

    def _for(self, e: Expr):
        """for: its variables start as a let, and each iteration runs the body, then the
        step's assignments together (as one set)."""
        init, step = e.info["init"], e.info["step"]
        kids = list(e.children)
        inits = kids[2:2 + len(init)]
        steps = kids[2 + len(init):]
        group = [("$" + nm, self.node(x)) for nm, x in zip(init, inits)]
        self.declared[-1].update(init)
        if not set(step) <= self.declared[-1]:
            raise Unsupported("a for step of a variable declared outside its block")
        cond = self.node(kids[0])
        body = self.stmt(kids[1])
        step_group = [("$" + nm, self.node(x), x.type) for nm, x in zip(step, steps)]

        def start(env, act):
            vals = [(key, f(env)) for key, f in group]
            for key, v in vals:
                env[key] = v
            return _or(*[_masked(v.bad, act) for _, v in vals])
        loop = self._loop(cond, _then(body, self._assign(step_group)), False)
        return _then(start, loop)

    def _foreach(self, e: Expr):
        """foreach over an array of numbers (an array field, a constant, a computed array):
        the array is taken once, then for each element, as the record path does, the loop
        variable is that element (a column, or a constant) and the body runs for the active
        rows. Every element is one step of the record path's budget, counted with the other
        loops' iterations (see _loop): past it, the rows go to the record path."""
        arr_e, body_e = e.children
        if not (arr_e.type.kind == "array" and arr_e.type.items.kind in ("double", "float")):
            raise Unsupported("foreach over an array of other than double or float")
        key = "$" + e.info["name"]
        arr = self.node(arr_e)
        self.declared[-1].add(e.info["name"])
        body = self.stmt(body_e)
        cap, seconds = self._loop_budget()

        def run(env, act):
            n = env["n"]
            v = arr(env)
            bad = _masked(v.bad, act)
            if v.null is not None:
                raise GiveUp()
            if v.kind == CONST and type(v.data) is list:
                elements = [V(CONST, float(x)) for x in v.data]
            elif v.kind == MAT:
                elements = [V(NUM, v.data[:, j]) for j in range(v.data.shape[1])]
            else:
                raise GiveUp()
            active = np.ones(n, dtype=bool) if act is None else act.copy()
            steps = env.get("@steps") or [0]
            start = env.get("@start") or time.monotonic()
            for x in elements:
                if bad is not None:
                    active &= ~bad            # the record path scores these rows anyway
                if not active.any():
                    break
                steps[0] += 1
                if steps[0] > cap or time.monotonic() - start > seconds:
                    return _or(bad, active)
                env[key] = x
                bad = _or(bad, body(env, active))
            return bad
        return run

    def _loop_budget(self) -> tuple[int, float]:
        """(iterations, seconds) after which the rows still looping go to the record path."""
        limits = self.rt.limits
        timeout = getattr(self.engine, "_timeout", lambda phase: limits.timeout_ms)("action")
        return (min(limits.max_steps, LOOP_HANDOFF),
                (timeout if timeout is not None else DEFAULT_TIMEOUT_MS) / 1000.0)

    def _assign(self, group: list):
        """Assign each (key, value plan, type) together, for the active rows only."""
        def run(env, act):
            n = env["n"]
            vals = [(key, f(env), t) for key, f, t in group]
            for key, v, t in vals:
                env[key] = v if act is None else _select(act, v, env[key], t, n, None)
            return _or(*[_masked(v.bad, act) for _, v, _ in vals])
        return run

    def _stmts(self, kids: list[Expr]):
        stmts = [self.stmt(c) for c in kids]

        def run(env, act):
            return _or(*[s(env, act) for s in stmts])
        return run

    def _let_stmt(self, e: Expr):
        group = [("$" + nm, self.node(x)) for nm, x in zip(e.info["names"], e.children)]
        self.declared[-1].update(e.info["names"])

        def run(env, act):
            vals = [(key, f(env)) for key, f in group]
            for key, v in vals:
                env[key] = v
            return _or(*[_masked(v.bad, act) for _, v in vals])
        return run

    def _set_stmt(self, e: Expr):
        names = e.info.get("names")
        if names is None or len(names) != len(e.children):
            raise Unsupported("a set of this kind")
        for nm in names:
            if not self.declared or nm not in self.declared[-1]:
                raise Unsupported("a set of a variable declared outside its block")
        return self._assign([("$" + nm, self.node(x), x.type)
                             for nm, x in zip(names, e.children)])

    def _branch_stmt(self, conds: list, branches: list):
        """if/cond as a statement: each branch runs for the rows that reach it and take it."""
        def run(env, act):
            n = env["n"]
            reach = np.ones(n, dtype=bool) if act is None else act
            bad = None
            for c, br in zip(conds, branches):
                cv = c(env)
                bad = _or(bad, _masked(cv.bad, reach))
                t = _truth(cv, n)
                take = reach & t
                if take.any():
                    bad = _or(bad, br(env, take))
                reach = reach & ~t
            if len(branches) > len(conds) and reach.any():
                bad = _or(bad, branches[-1](env, reach))
            return bad
        return run

    def _loop(self, cond, body, until: bool):
        """while (or do-until) over columns: the rows still looping are the active ones; a
        statement changes variables only for them. The rows still looping after the record
        path's step budget (capped at LOOP_HANDOFF iterations) or its wall-clock limit go to
        the record path, which finishes them or raises its own limit error."""
        cap, seconds = self._loop_budget()

        def run(env, act):
            n = env["n"]
            active = np.ones(n, dtype=bool) if act is None else act.copy()
            # (a function planned for pairs of rows runs in an environment of its own)
            steps = env.get("@steps") or [0]
            start = env.get("@start") or time.monotonic()
            bad = None
            first = until
            while True:
                if not first:
                    cv = cond(env)
                    bad = _or(bad, _masked(cv.bad, active))
                    t = _truth(cv, n)
                    active = active & (~t if until else t)
                    if bad is not None:
                        active &= ~bad        # the record path scores these rows anyway
                first = False
                if not active.any():
                    return bad
                steps[0] += 1
                if steps[0] > cap or time.monotonic() - start > seconds:
                    return _or(bad, active)
                bad = _or(bad, body(env, active))
        return run

    def k_error(self, e: Expr):
        """A user error: every row that reaches it is the record path's (its error)."""
        return lambda env: V(ERR, e.info.get("message"), None, np.ones(env["n"], dtype=bool))

    def k_let(self, e: Expr):
        raise Unsupported("a let as the action's value")

    def k_if(self, e: Expr):
        if len(e.children) != 3:
            raise Unsupported("an if without else")
        c, a, b = (self.node(x) for x in e.children)
        t = e.type

        def run(env):
            cv = c(env)
            return _select(_truth(cv, env["n"]), a(env), b(env), t, env["n"], cv.bad)
        return run

    def k_cond(self, e: Expr):
        kids = list(e.children)
        if len(kids) % 2 == 0:
            raise Unsupported("a cond without else")
        k = len(kids) // 2
        conds = [self.node(x) for x in kids[:k]]
        thens = [self.node(x) for x in kids[k:2 * k]]
        other = self.node(kids[-1])
        t = e.type

        def run(env):
            n = env["n"]
            v = other(env)
            # from the last case back: row takes case i when its condition is the first true
            cvs = [c(env) for c in conds]
            for cv, th in zip(reversed(cvs), reversed(thens)):
                v = _select(_truth(cv, n), th(env), v, t, n, None)
            # a condition is evaluated when every earlier one was false
            reach = np.ones(n, dtype=bool)
            bad = v.bad
            for cv in cvs:
                if cv.bad is not None:
                    bad = _or(bad, reach & cv.bad)
                reach = reach & ~_truth(cv, n)
            return V(v.kind, v.data, v.null, bad)
        return run

    def k_new(self, e: Expr):
        t = e.type
        if isinstance(t, Array):
            if t.items.kind not in ("double", "float"):
                raise Unsupported(f"building an array of {t.items.describe()}")
            parts = [self.node(c) for c in e.children]

            def build(env):
                n = env["n"]
                vs = [p(env) for p in parts]
                m = np.empty((n, len(vs)), order="F")     # columns contiguous
                for j, v in enumerate(vs):
                    if v.null is not None:
                        raise GiveUp()
                    if v.kind == NUM:
                        m[:, j] = v.data
                    elif v.kind == CONST and _is_num(v.data):
                        m[:, j] = float(v.data)
                    else:
                        raise GiveUp()
                return V(MAT, m, None, _bad(*vs))
            return build
        if isinstance(t, (Record, Map)):
            keys = e.info.get("kid_keys") or []
            if len(keys) != len(e.children):
                raise Unsupported("a record built with defaults")
            if isinstance(t, Record) and set(keys) != {f.name for f in t.fields}:
                raise Unsupported("a record built with defaults")
            parts = [(k, self.node(c), (t.field(k).type if isinstance(t, Record) else t.values))
                     for k, c in zip(keys, e.children)]
            kind = REC if isinstance(t, Record) else MAPV

            def build_rec(env):
                vs = {k: p(env) for k, p, _ in parts}
                return V(kind, vs, None, _bad(*vs.values()))
            return build_rec
        raise Unsupported(f"building a {t.describe()}")

    def k_attr(self, e: Expr):
        base = e.children[0]
        fields = e.info.get("fields")
        if fields:
            if base.kind == "ref" and base.info.get("name") == "input" and self.input_record:
                name = fields[0]
                if len(fields) != 1:
                    raise Unsupported("a path into a record-typed input field")
                self._read(name, self.input_type.field(name).type)
                return lambda env: env["fields"][name]
            inner = self.node(base)
            return self._record_path(inner, fields, e.type)
        steps, keys = e.info.get("steps"), e.info.get("keys")
        if steps is None or keys is None:
            raise Unsupported("an attribute path of this kind")
        return self._lookup(self.node(base), base.type, steps, keys, e.type)

    def _record_path(self, inner, fields: list, t: AvroType):
        def pick(env):
            v = inner(env)
            n = env["n"]
            for i, name in enumerate(fields):
                if v.kind == REC:
                    v = V(v.data[name].kind, v.data[name].data, v.data[name].null,
                          _or(v.bad, v.data[name].bad))
                elif v.kind == CONST:
                    v = V(CONST, v.data[name], None, v.bad)
                elif v.kind == PICK:
                    idx, recs, rt = v.data
                    ft = rt.field(name).type
                    vals = [r[name] for r in recs]
                    if i == len(fields) - 1:
                        g = gather(vals, idx, ft, n)
                        v = V(g.kind, g.data, None, v.bad)
                    elif isinstance(ft, Record):
                        v = V(PICK, (idx, vals, ft), None, v.bad)
                    else:
                        raise GiveUp()
                else:
                    raise GiveUp()
            return v
        return pick

    def _lookup(self, base_f, base_t: AvroType, steps: list, keys: list, t: AvroType):
        """A path with one computed key (string column into a map, int column into an array)
        over a constant, or a constant index into a fixed-size array column."""
        dyn = [i for i, (kind, _) in enumerate(steps) if kind in ("m", "a")]
        if len(dyn) > 1:
            raise Unsupported("a path with more than one computed key")
        if not dyn:
            if len(steps) == 1 and steps[0][0] == "ai":
                j = steps[0][1]

                def col(env):
                    v = base_f(env)
                    if v.kind == MAT3:
                        if not 0 <= j < v.data.shape[1]:
                            return V(MAT, np.zeros((env["n"], v.data.shape[2])), None,
                                     np.ones(env["n"], dtype=bool))
                        return V(MAT, v.data[:, j, :], None, v.bad)
                    if v.kind != MAT:
                        raise GiveUp()
                    if not 0 <= j < v.data.shape[1]:
                        return V(NUM, np.zeros(env["n"]), None, np.ones(env["n"], dtype=bool))
                    return V(NUM, v.data[:, j], None, v.bad)
                return col
            raise Unsupported("a path into a computed value")
        d = dyn[0]
        before, (kind, _), after = steps[:d], steps[d], steps[d + 1:]
        key_f = self.node(keys[d])
        if before or after:
            raise Unsupported("a path with steps around its computed key")

        def look(env):
            base = base_f(env)
            kv = key_f(env)
            n = env["n"]
            if kv.null is not None:
                raise GiveUp()
            if base.kind == MAT3 and kind == "a":
                # one array of a row's arrays (a forest's per-tree leaves), by a constant index
                if kv.kind != CONST or type(kv.data) is not int:
                    raise GiveUp()
                j = kv.data
                if not 0 <= j < base.data.shape[1]:
                    return V(MAT, np.zeros((n, base.data.shape[2])), None,
                             np.ones(n, dtype=bool))
                return V(MAT, base.data[:, j, :], None, _or(base.bad, kv.bad))
            if base.kind == MAT and kind == "a":
                width = base.data.shape[1]
                i = np.broadcast_to(np.asarray(_num(kv), dtype=np.int64), (n,))
                ok = (i >= 0) & (i < width)
                if width == 0:
                    return V(NUM, np.zeros(n), None, np.ones(n, dtype=bool))
                col = base.data[np.arange(n), np.where(ok, i, 0)]
                return V(NUM, col, None, _or(base.bad, kv.bad, None if ok.all() else ~ok))
            if base.kind != CONST:
                raise GiveUp()
            container = base.data
            if kind == "m":
                if kv.kind == CONST:
                    kv = _const_v(kv.data, STRING_T, n)
                if kv.kind != STR:
                    raise GiveUp()
                words = kv.data.words
                found = np.array([w in container for w in words] + [False], dtype=bool)
                present = [container[w] for w in words if w in container]
                pos = np.cumsum(found[:-1]) - 1
                idx = np.where(found[:-1], pos, 0)
                ok = found[kv.data.codes]
                if not present:
                    return V(NUM, np.zeros(n), None, np.ones(n, dtype=bool))
                g = gather(present, np.append(idx, 0)[kv.data.codes], t, n)
                return V(g.kind, g.data, None, _or(kv.bad, ~ok))
            # array by int column
            if kv.kind == CONST:
                kv = _const_v(kv.data, INT_T, n)
            if kv.kind != NUM:
                raise GiveUp()
            i = kv.data.astype(np.int64)
            ok = (i >= 0) & (i < len(container))
            if not container:
                return V(NUM, np.zeros(n), None, np.ones(n, dtype=bool))
            g = gather(list(container), np.where(ok, i, 0), t, n)
            return V(g.kind, g.data, None, _or(kv.bad, ~ok))
        return look

    def k_call(self, e: Expr):
        name = e.info["name"]
        args = list(e.children)
        if name in BINARY and len(args) == 2:
            if e.type.kind in ("int", "long") and name != "/":
                return self._int_binary(name, args, e.type.kind)
            if e.type.kind not in ("double", "float"):
                raise Unsupported(f"arithmetic ({name!r}) of {e.type.describe()}")
            return self._binary(BINARY[name], args)
        if name == "u-" and e.type.kind in ("double", "float"):
            a = self.node(args[0])
            return lambda env: _map_num(a(env), np.negative)
        if name in COMPARE:
            return self._compare(name, args)
        if name in ("&&", "||"):
            return self._logic(name, args)
        if name == "!":
            a = self.node(args[0])

            def not_(env):
                v = a(env)
                if v.kind == CONST:
                    return V(CONST, not v.data, None, v.bad)
                if v.kind != BOOL or v.null is not None:
                    raise GiveUp()
                return V(BOOL, ~v.data, None, v.bad)
            return not_
        if name in ELEMENTWISE and len(args) == 1:
            if args[0].type.kind not in ("double", "float", "array"):
                raise Unsupported(f"{name} of {args[0].type.describe()}")
            if name == "m.abs" and e.type.kind != "double":
                raise Unsupported("m.abs of integers")
            f = ELEMENTWISE[name]
            a = self.node(args[0])
            return lambda env: _map_num(a(env), f)
        if name == "m.link.softmax" and args[0].type.kind == "array":
            return self._softmax(self.node(args[0]))
        method = getattr(self, "f_" + name.replace(".", "_"), None)
        if method is None:
            from .batch_models import FORMS
            form = FORMS.get(name)
            if form is None:
                raise Unsupported(f"the function {name!r}")
            return form(self, e, args)
        return method(e, args)

    # -- arithmetic and logic
    def _binary(self, op, args):
        a, b = self.node(args[0]), self.node(args[1])

        def run(env):
            x, y = a(env), b(env)
            if x.kind == CONST and y.kind == CONST:
                return V(CONST, float(op(float(x.data), float(y.data))))
            return V(NUM, op(_num(x), _num(y)), None, _bad(x, y))
        return run

    def _int_binary(self, name: str, args: list[Expr], kind: str):
        """int/long + - * in int64; rows whose exact result leaves the type's range are the
        record path's (its overflow error)."""
        a, b = self.node(args[0]), self.node(args[1])
        lo, hi = (-2 ** 31, 2 ** 31 - 1) if kind == "int" else (-2 ** 63, 2 ** 63 - 1)

        def run(env):
            x, y = a(env), b(env)
            n = env["n"]
            xv = np.broadcast_to(np.asarray(_num(x), dtype=np.int64), (n,))
            yv = np.broadcast_to(np.asarray(_num(y), dtype=np.int64), (n,))
            with np.errstate(over="ignore"):
                if name == "+":
                    r = xv + yv
                    over = ((xv ^ r) & (yv ^ r)) < 0
                elif name == "-":
                    r = xv - yv
                    over = ((xv ^ yv) & (xv ^ r)) < 0
                else:
                    r = xv * yv
                    # exact below 2**62 in magnitude; the rest goes to the record path
                    over = np.abs(xv.astype(np.float64) * yv.astype(np.float64)) >= 2.0 ** 62
            over = over | (r < lo) | (r > hi)
            return V(NUM, np.where(over, 0, r), None, _or(_bad(x, y), over if over.any() else None))
        return run

    def _compare(self, name: str, args: list[Expr]):
        ta, tb = args[0].type.kind, args[1].type.kind
        a, b = self.node(args[0]), self.node(args[1])
        test = _TESTS[name]
        py = _PY_OPS[name]
        if ta in NUMBER_KINDS and tb in NUMBER_KINDS:
            floats = "double" in (ta, tb) or "float" in (ta, tb)

            def num(env):
                x, y = a(env), b(env)
                xv, yv = _num(x), _num(y)
                if floats:
                    c = _fcmp(np.asarray(xv, dtype=float), np.asarray(yv, dtype=float))
                    r = test(c)
                else:
                    r = py(xv, yv)
                return V(BOOL, np.broadcast_to(r, (env["n"],)).copy(), None, _bad(x, y))
            return num
        if ta in ("string", "enum") and tb in ("string", "enum"):
            def text(env):
                x, y = a(env), b(env)
                n = env["n"]
                if x.null is not None or y.null is not None:
                    raise GiveUp()
                if x.kind == STR and y.kind == CONST:
                    w = y.data
                    return V(BOOL, x.data.table(lambda s: py(s, w)), None, x.bad)
                if x.kind == CONST and y.kind == STR:
                    w = x.data
                    return V(BOOL, y.data.table(lambda s: py(w, s)), None, y.bad)
                if x.kind == CONST and y.kind == CONST:
                    return V(BOOL, np.full(n, py(x.data, y.data)))
                raise GiveUp()
            return text
        if ta == tb == "boolean" and name in ("==", "!="):
            def boolean(env):
                x, y = a(env), b(env)
                return V(BOOL, np.broadcast_to(py(_bool(x), _bool(y)), (env["n"],)).copy(),
                         None, _bad(x, y))
            return boolean
        raise Unsupported(f"{name!r} on {args[0].type.describe()}")

    def _logic(self, name: str, args: list[Expr]):
        a, b = self.node(args[0]), self.node(args[1])
        is_and = name == "&&"

        def run(env):
            x, y = a(env), b(env)
            n = env["n"]
            xv, yv = _truth(x, n), _truth(y, n)
            # the right side runs only where the left does not decide
            runs_right = xv if is_and else ~xv
            bad = _or(x.bad, None if y.bad is None else (runs_right & y.bad))
            return V(BOOL, (xv & yv) if is_and else (xv | yv), None, bad)
        return run

    def _softmax(self, a):
        def sm(env):
            v = a(env)
            if v.kind != MAT or v.data.shape[1] == 0:
                raise GiveUp()
            x = v.data
            if x.dtype == np.float64 and numba_enabled():
                from ._linear_numba import softmax_rows
                return V(MAT, softmax_rows(x), None, v.bad)
            # the record path: m = max (0 when it is infinite or NaN), exp(x - m) / their sum
            # added left to right, NaN when that sum is 0; a NaN anywhere makes every entry NaN
            nan = np.isnan(x).any(axis=1)
            m = np.max(np.where(np.isnan(x), -np.inf, x), axis=1, keepdims=True)
            m = np.where(np.isfinite(m), m, 0.0)
            ex = libm.exp(x - m)
            s = _sequential_sum([ex[:, j] for j in range(x.shape[1])])[:, None]
            out = np.where(s != 0, ex / np.where(s != 0, s, 1.0), np.nan)
            out[nan] = np.nan
            return V(MAT, out, None, v.bad)
        return sm

    # -- library functions (f_<name with dots as underscores>)
    def _extreme(self, e, args, keep_first):
        """min/max of two numbers as the record path picks: the first argument when it
        compares <= (min) or >= (max) to the second, NaN above every number."""
        if e.type.kind not in NUMBER_KINDS or len(args) != 2:
            raise Unsupported(f"min/max of {e.type.describe()}")
        a, b = self.node(args[0]), self.node(args[1])
        floats = e.type.kind in ("double", "float")
        dtype = np.float64 if floats else np.int64

        def run(env):
            x, y = a(env), b(env)
            n = env["n"]
            xv = np.broadcast_to(np.asarray(_num(x), dtype=dtype), (n,))
            yv = np.broadcast_to(np.asarray(_num(y), dtype=dtype), (n,))
            c = _fcmp(xv, yv) if floats else np.where(xv < yv, -1, np.where(xv > yv, 1, 0))
            first = keep_first(c)
            return V(NUM, np.where(first, xv, yv), None, _bad(x, y))
        return run

    def f_min(self, e, args):
        return self._extreme(e, args, lambda c: c <= 0)

    def f_max(self, e, args):
        return self._extreme(e, args, lambda c: c >= 0)

    def f_impute_defaultOnNull(self, e, args):
        a, d = self.node(args[0]), self.node(args[1])
        t = e.type

        def run(env):
            x, dv = a(env), d(env)
            n = env["n"]
            if x.null is None:
                return V(x.kind, x.data, None, x.bad)
            inner = V(x.kind, x.data, None, x.bad)
            return _select(x.null, dv, inner, t, n, None)
        return run

    def f_impute_errorOnNull(self, e, args):
        a = self.node(args[0])

        def run(env):
            x = a(env)
            return V(x.kind, x.data, None, _or(x.bad, x.null))
        return run

    def _num_test(self, args, f):
        a = self.node(args[0])

        def run(env):
            x = a(env)
            return V(BOOL, np.broadcast_to(f(_num(x)), (env["n"],)).copy(), None, x.bad)
        return run

    def f_impute_isnan(self, e, args):
        return self._num_test(args, np.isnan)

    def f_impute_isinf(self, e, args):
        return self._num_test(args, np.isinf)

    def f_impute_isnum(self, e, args):
        return self._num_test(args, np.isfinite)

    def f_impute_defaultOnNonNum(self, e, args):
        a, d = self.node(args[0]), self.node(args[1])

        def run(env):
            x, dv = a(env), d(env)
            xv = _num(x)
            return V(NUM, np.where(np.isfinite(xv), xv, _num(dv)), None, _bad(x, dv))
        return run

    def f_cast_double(self, e, args):
        a = self.node(args[0])
        return lambda env: _map_num(a(env), lambda x: np.asarray(x, dtype=np.float64))

    def f_enum_toInt(self, e, args):
        t = args[0].type
        a = self.node(args[0])

        def run(env):
            v = a(env)
            if v.kind != STR:
                raise GiveUp()
            return V(NUM, v.data.table(lambda s: t.index.get(s, -1), np.int64, -1), None, v.bad)
        return run

    def f_a_index(self, e, args):
        if e.info["sig"] != 1 or args[0].type.items.kind not in ("string", "enum"):
            raise Unsupported("a.index of this kind")
        arr, key = self.node(args[0]), self.node(args[1])

        def run(env):
            av, kv = arr(env), key(env)
            if av.kind != CONST or kv.kind != STR:
                raise GiveUp()
            first: dict = {}
            for i, w in enumerate(av.data):
                first.setdefault(w, i)
            return V(NUM, kv.data.table(lambda s: first.get(s, -1), np.int64, -1), None,
                     _bad(av, kv))
        return run

    def f_map_containsKey(self, e, args):
        if args[1].type.kind != "string":
            raise Unsupported("map.containsKey with a function")
        m, key = self.node(args[0]), self.node(args[1])

        def run(env):
            mv, kv = m(env), key(env)
            if mv.kind != CONST or kv.kind != STR:
                raise GiveUp()
            return V(BOOL, kv.data.table(lambda s: s in mv.data), None, _bad(mv, kv))
        return run

    def _mat_arg(self, args):
        if args[0].type.kind != "array":
            raise Unsupported("an array function on a non-array")
        return self.node(args[0])

    def _arg_best(self, args, pick):
        a = self._mat_arg(args)

        def run(env):
            v = a(env)
            if v.kind != MAT:
                raise GiveUp()
            n = env["n"]
            if v.data.shape[1] == 0:
                return V(NUM, np.zeros(n, dtype=np.int64), None, np.ones(n, dtype=bool))
            return V(NUM, pick(v.data), None, v.bad)
        return run

    def f_a_argmax(self, e, args):
        if args[0].type.items.kind not in ("double", "float"):
            raise Unsupported("a.argmax of this kind")
        return self._arg_best(args, _argmax)

    def f_a_argmin(self, e, args):
        if args[0].type.items.kind not in ("double", "float"):
            raise Unsupported("a.argmin of this kind")
        return self._arg_best(args, _argmin)

    def f_a_sum(self, e, args):
        if e.type.kind not in ("double", "float"):
            raise Unsupported("a.sum of integers")
        a = self._mat_arg(args)

        def run(env):
            v = a(env)
            if v.kind != MAT:
                raise GiveUp()
            return V(NUM, _sequential_sum([v.data[:, j] for j in range(v.data.shape[1])])
                     + np.zeros(env["n"]), None, v.bad)
        return run

    def f_a_len(self, e, args):
        a = self._mat_arg(args)

        def run(env):
            v = a(env)
            if v.kind != MAT:
                raise GiveUp()
            return V(NUM, np.full(env["n"], v.data.shape[1], dtype=np.int64), None, v.bad)
        return run

    def f_a_map(self, e, args):
        if args[0].type.kind == "array" and args[0].type.items.kind == "record" and \
                e.type.kind == "array":
            forest = self._forest(e, args)
            if forest is not None:
                return forest
        try:
            if args[0].type.kind != "array" or args[0].type.items.kind not in (
                    "double", "float") or e.type.items.kind not in ("double", "float"):
                raise Unsupported("a.map of this kind")
            f = self.activation(args[1])
        except Unsupported:
            from .batch_models import FORMS
            return FORMS["a.map"](self, e, args)
        a = self.node(args[0])

        def run(env):
            v = a(env)
            if v.kind != MAT:
                raise GiveUp()
            return V(MAT, f(v.data), None, v.bad)
        return run

    def f_a_fold(self, e, args):
        """``a.fold`` of arrays of numbers with ``la.add`` from a constant start (a forest's
        per-tree leaf arrays summed tree by tree, left to right as the record path does)."""
        fcn = args[2]
        if not (_number_array(e.type) and args[0].type.kind == "array" and
                _number_array(args[0].type.items) and fcn.kind == "fcndef" and
                len(fcn.info["params"]) == 2):
            raise Unsupported("a.fold of this kind")
        body = fcn.children[0]
        if not (body.kind == "call" and body.info["name"] == "la.add" and
                [c.kind for c in body.children] == ["ref", "ref"] and
                [c.info["name"] for c in body.children] == list(fcn.info["params"])):
            raise Unsupported("a.fold with a function other than la.add")
        zero = _floats(self.const_value(args[1]), "a.fold start")
        if zero.ndim != 1:
            raise Unsupported("a.fold start that is not an array of numbers")
        a = self.node(args[0])

        def run(env):
            v = a(env)
            if v.kind != MAT3:
                raise GiveUp()
            n = env["n"]
            if v.data.shape[1] and v.data.shape[2] != zero.shape[0]:
                # la.add of misaligned arrays: the record path's error, on every row
                return V(MAT, np.zeros((n, zero.shape[0])), None, np.ones(n, dtype=bool))
            acc = np.broadcast_to(zero, (n, zero.shape[0]))
            for j in range(v.data.shape[1]):
                acc = acc + v.data[:, j, :]
            return V(MAT, np.array(acc, dtype=float), None, v.bad)
        return run

    def f_la_scale(self, e, args):
        if not (_number_array(e.type) and _number_array(args[0].type)):
            raise Unsupported("la.scale of a matrix or map")
        x, alpha = self.node(args[0]), self.node(args[1])

        def run(env):
            xv, av = x(env), alpha(env)
            if xv.kind != MAT or av.null is not None:
                raise GiveUp()
            a = _num(av)
            a = a[:, None] if isinstance(a, np.ndarray) else a
            return V(MAT, xv.data * a, None, _bad(xv, av))
        return run

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
        raise Unsupported("a function argument other than an m.* or m.link.* function")

    # -- models
    def f_model_reg_linear(self, e, args):
        if e.info["sig"] not in (0, 1):
            raise Unsupported("model.reg.linear over maps")
        xs = self.node(args[0])
        m = self.const_value(args[1])
        multi = e.info["sig"] == 1
        coeff, const = _floats(m["coeff"], "coeff"), _floats(m["const"], "const")
        if multi and (coeff.ndim != 2 or coeff.shape[0] != const.shape[0]):
            raise Unsupported("misaligned model.reg.linear parameters")
        if not multi and coeff.ndim != 1:
            raise Unsupported("misaligned model.reg.linear parameters")

        def lin(env):
            x = xs(env)
            if x.kind != MAT:
                raise GiveUp()
            k = x.data.shape[1]
            if multi:
                if coeff.shape[1] != k and coeff.shape[0]:
                    return _all_bad(V(MAT, np.zeros((env["n"], coeff.shape[0]))))
                return V(MAT, _matmul(x.data, coeff) + const, None, x.bad)
            if coeff.shape != (k,):
                return _all_bad(V(NUM, np.zeros(env["n"])))
            return V(NUM, (_dot(x.data, coeff) if k else 0.0) + const + np.zeros(env["n"]),
                     None, x.bad)
        return lin

    def f_model_neural_simpleLayers(self, e, args):
        xs = self.node(args[0])
        layers = self.const_value(args[1])
        f = self.activation(args[2])
        if not layers:
            raise Unsupported("a network without layers")
        params = []
        for layer in layers:
            w, b = _floats(layer["weights"], "weights"), _floats(layer["bias"], "bias")
            if w.ndim != 2 or b.shape != (w.shape[0],):
                raise Unsupported("misaligned model.neural.simpleLayers parameters")
            params.append((w, b))

        def nn(env):
            x = xs(env)
            if x.kind != MAT:
                raise GiveUp()
            h = x.data
            for i, (w, b) in enumerate(params):
                if w.shape[1] != h.shape[1]:
                    return _all_bad(V(MAT, np.zeros((env["n"], params[-1][0].shape[0]))))
                h = _matmul(h, w) + b
                if i < len(params) - 1:
                    h = f(h)
            return V(MAT, h, None, x.bad)
        return nn

    def f_model_cluster_closest(self, e, args):
        if len(args) == 3:
            m = args[2]
            fill = m.info.get("fill") or {}
            sim = fill.get("similarity")
            ok = m.kind == "fcnref" and m.info.get("name") in (
                "metric.euclidean", "metric.squaredEuclidean") and set(fill) == {"similarity"} \
                and sim is not None and sim.kind == "fcnref" and \
                sim.info.get("name") == "metric.absDiff" and not sim.info.get("fill")
            if not ok:
                raise Unsupported("model.cluster.closest with a metric other than Euclidean")
        xs = self.node(args[0])
        clusters = self.const_value(args[1])
        if not clusters:
            raise Unsupported("model.cluster.closest without clusters")
        centers = [c["center"] for c in clusters]
        if len({len(c) for c in centers}) != 1:
            raise Unsupported("cluster centres of different lengths")
        centers_a = _floats(centers, "center")
        rec_t = e.type

        def cl(env):
            x = xs(env)
            if x.kind != MAT:
                raise GiveUp()
            n = env["n"]
            if x.data.shape[1] != centers_a.shape[1]:
                return V(PICK, (np.zeros(n, dtype=np.int64), list(clusters), rec_t), None,
                         np.ones(n, dtype=bool))
            # the record path: left-to-right sums of squares, the first smallest, NaN last
            d = _sequential_sum([(x.data[:, None, j] - centers_a[None, :, j]) ** 2
                                 for j in range(centers_a.shape[1])])
            d = np.asarray(d) + np.zeros((n, len(clusters)))
            return V(PICK, (_argmin(d), list(clusters), rec_t), None, x.bad)
        return cl

    def f_model_tree_simpleWalk(self, e, args):
        _check_simple_test(args[2])
        return self._tree(e, args)

    def f_model_tree_simpleTree(self, e, args):
        return self._tree(e, args)

    def _tree(self, e: Expr, args: list[Expr], tree: Any = None):
        """A tree walk over the input record, or over a record built from columns (a
        let-bound ``new`` whose fields the planner computes); ``tree`` given: that constant
        tree instead of the argument (one tree of an ``a.map`` over a forest)."""
        datum = args[0]
        fields_of = None
        if datum.kind == "ref" and datum.info.get("name") == "input" and self.input_record:
            rec = self.input_type
        elif isinstance(datum.type, Record):
            rec = datum.type
            datum_f = self.node(datum)

            def fields_of(env):
                v = datum_f(env)
                if v.kind != REC or v.null is not None:
                    raise GiveUp()
                return v.data, v.bad
        else:
            raise Unsupported("a tree walked over something else than a record")
        if tree is None:
            tree = self.const_value(args[1])
        leaf_type = e.type
        if leaf_type.kind not in ("double", "float", "int", "long", "string", "boolean",
                                  "enum") and not _number_array(leaf_type):
            raise Unsupported(f"tree leaves of type {leaf_type.describe()}")
        from .batch_tree import flatten_tree
        flat = flatten_tree(tree, rec)
        if fields_of is None:
            for name in flat.used:
                self._read(name, self.input_type.field(name).type)
        return flat.walker(leaf_type, fields_of)

    def _forest(self, e: Expr, args: list[Expr]):
        """``a.map`` of a tree walk over a constant array of trees: one column per tree, a
        matrix like the record path's array of leaves (None: not this shape)."""
        fcn = args[1]
        if fcn.kind != "fcndef" or len(fcn.info["params"]) != 1:
            return None
        body = fcn.children[0]
        param = fcn.info["params"][0]
        if not (body.kind == "call" and body.info["name"] == "model.tree.simpleWalk"):
            return None
        wargs = list(body.children)
        if not (wargs[1].kind == "ref" and wargs[1].info.get("name") == param):
            return None
        if _mentions(wargs[0], param):
            raise Unsupported("a tree walk whose datum depends on the tree")
        arrays = _number_array(e.type.items)
        if e.type.items.kind not in ("double", "float") and not arrays:
            raise Unsupported("a.map of tree walks with leaves other than numbers")
        _check_simple_test(wargs[2])
        trees = self.const_value(args[0])
        if type(trees) is not list:
            raise Unsupported("a.map over trees that are not an array")
        walks = [self._tree(body, wargs, tree) for tree in trees]

        def run(env):
            n = env["n"]
            vs = [w(env) for w in walks]
            bad = _or(*[v.bad for v in vs])
            if not arrays:
                m = np.empty((n, len(walks)), order="F")
                for j, v in enumerate(vs):
                    m[:, j] = v.data
                return V(MAT, m, None, bad)
            if len({v.data.shape[1] for v in vs}) > 1:
                raise GiveUp()
            width = vs[0].data.shape[1] if vs else 0
            m3 = np.empty((n, len(vs), width))
            for j, v in enumerate(vs):
                m3[:, j, :] = v.data
            return V(MAT3, m3, None, bad)
        return run

    def f_model_tree_simpleTest(self, e, args):
        raise Unsupported("model.tree.simpleTest outside a tree walk")


def _check_simple_test(test: Expr) -> None:
    """The walk's test must be ``fcn(d, t) model.tree.simpleTest(d, t)``."""
    if not (test.kind == "fcndef" and len(test.info["params"]) == 2):
        raise Unsupported("model.tree.simpleWalk with a test other than simpleTest")
    body = test.children[0]
    p0, p1 = test.info["params"]
    if not (body.kind == "call" and body.info["name"] == "model.tree.simpleTest" and
            [c.kind for c in body.children] == ["ref", "ref"] and
            [c.info["name"] for c in body.children] == [p0, p1]):
        raise Unsupported("model.tree.simpleWalk with a test other than simpleTest")


def _number_array(t: AvroType) -> bool:
    return isinstance(t, Array) and t.items.kind in ("double", "float")


def _mentions(e: Expr, name: str) -> bool:
    """Whether the expression refers to the variable ``name`` anywhere inside."""
    if e.kind == "ref" and e.info.get("name") == name:
        return True
    return any(_mentions(c, name) for c in e.children)


def _argmax(x: np.ndarray) -> np.ndarray:
    """Per row, the record path's a.argmax: NaN sorts above every number, ties go to the
    first, so a row with a NaN answers its first NaN."""
    nan = np.isnan(x)
    return np.where(nan.any(axis=1), np.argmax(nan, axis=1),
                    np.argmax(np.where(nan, -np.inf, x), axis=1)).astype(np.int64)


def _argmin(x: np.ndarray) -> np.ndarray:
    """Per row, the first smallest number, NaN last (a row of NaN answers 0)."""
    nan = np.isnan(x)
    m = np.min(np.where(nan, np.inf, x), axis=1, keepdims=True)
    return np.argmax((x == m) & ~nan, axis=1).astype(np.int64)


def _then(first, second):
    """Two statements one after the other."""
    def run(env, act):
        return _or(first(env, act), second(env, act))
    return run


def _masked(bad: np.ndarray | None, act: np.ndarray | None) -> np.ndarray | None:
    """The bad rows among the active ones (act None: every row)."""
    if bad is None or act is None:
        return bad
    return bad & act


def _all_bad(v: V) -> V:
    n = len(v.data)
    return V(v.kind, v.data, None, np.ones(n, dtype=bool))


def _num(v: V) -> Any:
    if v.null is not None:
        raise GiveUp()
    if v.kind == NUM:
        return v.data
    if v.kind == CONST and _is_num(v.data):
        return v.data
    raise GiveUp()


def _bool(v: V) -> Any:
    if v.null is not None:
        raise GiveUp()
    if v.kind == BOOL or (v.kind == CONST and isinstance(v.data, bool)):
        return v.data
    raise GiveUp()


def _truth(v: V, n: int) -> np.ndarray:
    b = _bool(v)
    return np.broadcast_to(np.asarray(b, dtype=bool), (n,))


def _map_num(v: V, f) -> V:
    if v.null is not None:
        raise GiveUp()
    if v.kind in (NUM, MAT):
        return V(v.kind, f(v.data), None, v.bad)
    if v.kind == CONST and _is_num(v.data):
        return V(CONST, float(f(np.float64(v.data))), None, v.bad)
    raise GiveUp()


def _select(c: np.ndarray, a: V, b: V, t: AvroType, n: int, cbad) -> V:
    """Row-wise c ? a : b (values of type t); bad rows follow the branch each row takes."""
    if a.kind == ERR or b.kind == ERR:
        if a.kind == b.kind:
            return V(ERR, None, None, np.ones(n, dtype=bool))
        keep, err_rows = (b, c) if a.kind == ERR else (a, ~c)
        kept_bad = None if keep.bad is None else (~err_rows & keep.bad)
        return V(keep.kind, keep.data, keep.null, _or(cbad, err_rows, kept_bad))
    bad = _or(cbad, None if a.bad is None else (c & a.bad), None if b.bad is None else (~c & b.bad))
    inner, nullable = t, False
    if t.kind == "union":
        others = [m for m in t.types if m.kind != "null"]
        if len(others) != 1:
            raise GiveUp()
        inner, nullable = others[0], True
    null = None
    if nullable or a.null is not None or b.null is not None:
        an = a.null if a.null is not None else np.zeros(n, dtype=bool)
        bn = b.null if b.null is not None else np.zeros(n, dtype=bool)
        if a.kind == CONST and a.data is None:
            an = np.ones(n, dtype=bool)
            a = _const_v(_zero(inner), inner, n)
        if b.kind == CONST and b.data is None:
            bn = np.ones(n, dtype=bool)
            b = _const_v(_zero(inner), inner, n)
        null = np.where(c, an, bn)
        if not null.any():
            null = None
    if a.kind == CONST and b.kind == CONST and a.data == b.data and type(a.data) is type(b.data):
        return V(CONST, a.data, null, bad)
    num_kinds = ("double", "float", "int", "long")
    if inner.kind in num_kinds and {a.kind, b.kind} <= {CONST, NUM} and \
            (a.kind == NUM or _is_num(a.data)) and (b.kind == NUM or _is_num(b.data)):
        dtype = np.float64 if inner.kind in ("double", "float") else np.int64
        return V(NUM, np.where(c, a.data, b.data).astype(dtype, copy=False), null, bad)
    if a.kind == CONST:
        a = _const_v(a.data, inner, n)
    if b.kind == CONST:
        b = _const_v(b.data, inner, n)
    if a.kind != b.kind:
        raise GiveUp()
    if a.kind in (NUM, BOOL):
        return V(a.kind, np.where(c, a.data, b.data), null, bad)
    if a.kind == MAT:
        if a.data.shape != b.data.shape:
            raise GiveUp()
        return V(MAT, np.where(c[:, None], a.data, b.data), null, bad)
    if a.kind == STR:
        words = sorted(set(a.data.words) | set(b.data.words))
        pos = {w: i for i, w in enumerate(words)}
        ma = np.array([pos[w] for w in a.data.words] + [-1], dtype=np.int64)
        mb = np.array([pos[w] for w in b.data.words] + [-1], dtype=np.int64)
        return V(STR, Cat(np.where(c, ma[a.data.codes], mb[b.data.codes]), words), null, bad)
    raise GiveUp()


def _zero(t: AvroType) -> Any:
    return {"double": 0.0, "float": 0.0, "int": 0, "long": 0, "boolean": False,
            "string": "", "enum": t.symbols[0] if t.kind == "enum" else ""}.get(t.kind, 0.0)


def plan_or_reason(engine) -> tuple[BatchPlan | None, str | None]:
    """(a BatchPlan, None), or (None, what keeps the document on the record path)."""
    if engine.method != "map":
        return None, f"method {engine.method!r} (only \"map\" runs over columns)"
    if engine.action_writes_state:
        return None, "the action writes cells or pools"
    if engine.action_impure:
        return None, "the action has side effects (log, emit, random numbers or state)"
    it = engine.input_type
    planner = Planner(engine)
    try:
        root = planner.node(engine.action_routine.expr)
    except Unsupported as exc:
        return None, str(exc)
    except RecursionError:
        return None, "the action is nested too deeply"
    fields = [(f.name, f.type) for f in it.fields] if isinstance(it, Record) else [("input", it)]
    return BatchPlan(engine, root, engine.output_type, planner.reads, fields), None


def plan(engine) -> BatchPlan | None:
    """A BatchPlan for this engine, or None if its action is not a supported pattern."""
    return plan_or_reason(engine)[0]
