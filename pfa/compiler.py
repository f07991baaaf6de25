"""Type-check PFA expressions and compile them into Python closures.

Every expression becomes an ``Expr``: its static type, a closure ``fn(frame) -> value`` and enough
structure (kind, children, info) for the batch planner to recognise common model patterns.
Local symbols live in list "frames": one per user function / routine call; slot 0 of a frame holds
the enclosing frame (anonymous functions read, never write, the symbols they close over).
"""
from __future__ import annotations

import base64
import re
from typing import Any, Callable

from .errors import (PFALimitError, PFARuntimeError, PFASemanticError, PFASyntaxError,
                     PFAUnsupportedError, PFAUserError)
from .library_sigs import LIBRARY
from .lib import Call, registry
from .sigs import Signature, is_generic, parse_signature, resolve_call, Matcher, _NoMatch, PFcn
from .types import (BOOLEAN, BOTTOM, BYTES, DOUBLE, FLOAT, INT, INT_MAX, INT_MIN, LONG, LONG_MAX,
                    LONG_MIN, NULL, STRING, Array, AvroType, Bottom, Enum, FcnType, Map, Record,
                    TypeRegistry, Union, discriminator, supertype)
from .values import from_json

SYMBOL_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
FCN_NAME_RE = re.compile(r"[A-Za-z_]([A-Za-z0-9_]|\.[A-Za-z][A-Za-z0-9_]*)*\Z")

_SIG_CACHE: dict[str, list[Signature]] = {}


def library_signatures(name: str) -> list[Signature] | None:
    if name not in LIBRARY:
        return None
    if name not in _SIG_CACHE:
        _SIG_CACHE[name] = [parse_signature(s) for s in LIBRARY[name][0]]
    return _SIG_CACHE[name]


# ---------------------------------------------------------------- compiled nodes and scopes

class Expr:
    """A checked, compiled expression."""

    __slots__ = ("kind", "type", "fn", "children", "info")

    def __init__(self, kind: str, type: AvroType, fn: Callable, children: tuple = (),
                 info: dict | None = None):
        self.kind, self.type, self.fn, self.children, self.info = kind, type, fn, children, info or {}

    def __repr__(self) -> str:
        return f"Expr({self.kind}, {self.type.describe()})"


class Sym:
    __slots__ = ("name", "type", "slot", "frame", "readonly", "getter")

    def __init__(self, name, type, slot, frame, readonly=False, getter=None):
        self.name, self.type, self.slot, self.frame, self.readonly, self.getter = \
            name, type, slot, frame, readonly, getter


class FrameCtx:
    """Slot allocation for one function body (or routine); slot 0 links to the enclosing frame."""

    def __init__(self, parent: "FrameCtx | None" = None):
        self.parent = parent
        self.nslots = 1

    def alloc(self) -> int:
        self.nslots += 1
        return self.nslots - 1


class Scope:
    def __init__(self, frame: FrameCtx, parent: "Scope | None" = None, sealed_above: bool = False,
                 sealed_within: bool = False):
        self.frame, self.parent = frame, parent
        self.sealed_above, self.sealed_within = sealed_above, sealed_within
        self.symbols: dict[str, Sym] = {}

    def child(self, sealed_above: bool = False, sealed_within: bool = False) -> "Scope":
        return Scope(self.frame, self, sealed_above, sealed_within)

    def sealed(self) -> "Scope":
        """Scope of a function argument / condition: no declarations, no outside assignments."""
        return Scope(self.frame, self, True, True)

    def find(self, name: str) -> Sym | None:
        s: Scope | None = self
        while s is not None:
            if name in s.symbols:
                return s.symbols[name]
            s = s.parent
        return None

    def can_set(self, name: str) -> bool:
        s: Scope | None = self
        while s is not None:
            if name in s.symbols:
                return True
            if s.sealed_above:
                return False
            s = s.parent
        return False


class UserFcn:
    def __init__(self, name: str, params: list[tuple[str, AvroType]], ret: AvroType):
        self.name, self.params, self.ret = name, params, ret
        self.state: list = [None, 1]          # [body closure, nslots]
        self.call: Callable = None            # set by the compiler
        self.type = FcnType([t for _, t in params], ret)
        self.writes_state = False


# ---------------------------------------------------------------- value promotion

def promoter(src: AvroType, dst: AvroType) -> Callable[[Any], Any] | None:
    """A function converting values of ``src`` into ``dst`` representation (int -> float where a
    wider numeric type is expected), or None when no conversion is needed."""
    if src is dst or src == dst or isinstance(src, Bottom):
        return None
    k, d = src.kind, dst.kind
    if d in ("float", "double"):
        if k in ("int", "long"):
            return float
        if k == "union" and any(m.kind in ("int", "long") for m in src.types):
            return lambda v: float(v) if v is not None and type(v) is int else v
        return None
    if d == "union":
        if k == "union":
            convs = []
            for m in src.types:
                target = next((x for x in dst.types if x == m), None) or \
                    next((x for x in dst.types if x.accepts(m)), None)
                convs.append(promoter(m, target) if target is not None else None)
            if all(c is None for c in convs):
                return None
            pick = discriminator(src.types)

            def conv(v):
                i = pick(v)
                c = convs[i] if i >= 0 else None
                return c(v) if c is not None else v
            return conv
        if any(x == src for x in dst.types):
            return None
        target = next((x for x in dst.types if x.accepts(src)), None)
        return promoter(src, target) if target is not None else None
    if d == "array" and k == "array":
        inner = promoter(src.items, dst.items)
        return None if inner is None else (lambda v: [inner(x) for x in v])
    if d == "map" and k == "map":
        inner = promoter(src.values, dst.values)
        return None if inner is None else (lambda v: {a: inner(x) for a, x in v.items()})
    if d == "record" and k == "record":
        convs = []
        for f in dst.fields:
            sf = src.field(f.name)
            c = promoter(sf.type, f.type) if sf is not None else None
            if c is not None:
                convs.append((f.name, c))
        if not convs:
            return None

        def conv_rec(v):
            out = dict(v)
            for n, c in convs:
                out[n] = c(out[n])
            return out
        return conv_rec
    return None


def coerce(e: Expr, dst: AvroType) -> Expr:
    """e, converted so that its runtime values have dst's representation."""
    p = promoter(e.type, dst)
    if p is None:
        return e
    if e.kind == "lit":
        v = p(e.info["value"])
        return Expr("lit", dst, lambda fr: v, (), {"value": v})
    f = e.fn
    return Expr(e.kind, dst, lambda fr: p(f(fr)), e.children, e.info)


def _block_fn(fns: list[Callable]) -> Callable:
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        a, b = fns

        def f2(fr):
            a(fr)
            return b(fr)
        return f2
    if len(fns) == 3:
        a, b, c = fns

        def f3(fr):
            a(fr)
            b(fr)
            return c(fr)
        return f3
    head, last = fns[:-1], fns[-1]

    def fn_(fr):
        for g in head:
            g(fr)
        return last(fr)
    return fn_


def _assign_fn(slots: list[tuple[int, Callable]]) -> Callable:
    """fr -> None: evaluate every (slot, value closure) first, then store them all."""
    if len(slots) == 1:
        (i, f), = slots

        def assign1(fr):
            fr[i] = f(fr)
        return assign1

    def assign(fr):
        vals = [f(fr) for _, f in slots]
        for (i, _), v in zip(slots, vals):
            fr[i] = v
    return assign


def _jtype(x: Any) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "boolean"
    if isinstance(x, int):
        return "integer"
    if isinstance(x, float):
        return "number"
    if isinstance(x, str):
        return "string"
    if isinstance(x, list):
        return "array"
    return "object"


FORM_HEADS = ["let", "set", "for", "foreach", "forkey", "if", "cond", "while", "cast", "upcast",
              "ifnotnull", "new", "attr", "cell", "pool", "doc", "error", "try", "log", "call",
              "unpack", "pack", "int", "long", "float", "double", "string", "base64", "value",
              "fcn", "params", "do"]


# ---------------------------------------------------------------- the compiler

class Compiler:
    """Compiles one document's expressions. ``ctx`` is the engine being built (see engine.py)."""

    def __init__(self, types: TypeRegistry, rt: Any, cells: dict, pools: dict,
                 fcns: dict[str, UserFcn], method: str, output: AvroType):
        self.types, self.rt = types, rt
        self.cells, self.pools, self.fcns = cells, pools, fcns
        self.method, self.output = method, output
        self.lib = registry()
        self.state_writes = False        # any cell-to/pool-to/pool-del in the current routine
        self.impure = False              # any log/emit/random/state write seen
        self.current_fcn: UserFcn | None = None

    # -- errors
    @staticmethod
    def syntax(msg: str, path: tuple) -> PFASyntaxError:
        return PFASyntaxError(msg, path)

    @staticmethod
    def semantic(msg: str, path: tuple) -> PFASemanticError:
        return PFASemanticError(msg, path)

    def parse_type(self, j: Any, path: tuple) -> AvroType:
        return self.types.parse(j, path)

    # -- symbols
    def declare(self, scope: Scope, name: str, t: AvroType, path: tuple) -> Sym:
        if not isinstance(name, str) or not SYMBOL_RE.match(name):
            raise self.syntax(f"invalid symbol name {name!r}", path)
        if scope.sealed_within:
            raise self.semantic(f"cannot declare symbol {name!r} here (wrap the expression in a "
                                "\"do\" form)", path)
        if scope.find(name) is not None:
            raise self.semantic(f"symbol {name!r} is already defined (shadowing is not allowed)",
                                path)
        if isinstance(t, Bottom):
            t = NULL
        if isinstance(t, FcnType):
            raise self.semantic("functions cannot be assigned to symbols", path)
        sym = Sym(name, t, scope.frame.alloc(), scope.frame)
        scope.symbols[name] = sym
        return sym

    def ref_fn(self, sym: Sym, scope: Scope) -> Callable:
        if sym.getter is not None:
            return sym.getter
        depth = 0
        f = scope.frame
        while f is not sym.frame:
            f = f.parent
            depth += 1
            if f is None:  # pragma: no cover - scopes guarantee reachability
                raise RuntimeError("symbol frame not reachable")
        i = sym.slot
        if depth == 0:
            return lambda fr: fr[i]
        if depth == 1:
            return lambda fr: fr[0][i]
        if depth == 2:
            return lambda fr: fr[0][0][i]

        def deep(fr):
            for _ in range(depth):
                fr = fr[0]
            return fr[i]
        return deep

    # -- entry points
    def block(self, j: Any, scope: Scope, path: tuple, new_scope: bool = True) -> Expr:
        """An expression or a JSON array of expressions; the value is the last one's."""
        s = scope.child() if new_scope else scope
        if isinstance(j, list):
            if not j:
                raise self.syntax("expected at least one expression", path)
            exprs = [self.expr(x, s, path + (i,)) for i, x in enumerate(j)]
        else:
            exprs = [self.expr(j, s, path)]
        if len(exprs) == 1:
            return exprs[0]
        t = exprs[-1].type
        return Expr("block", t, _block_fn([e.fn for e in exprs]), tuple(exprs))

    def expr(self, j: Any, scope: Scope, path: tuple) -> Expr:
        if isinstance(j, str):
            return self.symbol_or_attr(j, scope, path)
        if j is None:
            return self.lit(NULL, None)
        if isinstance(j, bool):
            return self.lit(BOOLEAN, j)
        if isinstance(j, int):
            if INT_MIN <= j <= INT_MAX:
                return self.lit(INT, j)
            if LONG_MIN <= j <= LONG_MAX:
                return self.lit(LONG, j)
            raise self.syntax(f"integer {j} is too large for a long", path)
        if isinstance(j, float):
            return self.lit(DOUBLE, j)
        if isinstance(j, list):
            if len(j) == 1 and isinstance(j[0], str):
                return self.lit(STRING, j[0])
            raise self.syntax("a JSON array is not an expression here (string literals are "
                              "written [\"text\"] or {\"string\": \"text\"})", path)
        if isinstance(j, dict):
            return self.form(j, scope, path)
        raise self.syntax(f"unexpected {_jtype(j)}", path)

    @staticmethod
    def lit(t: AvroType, v: Any) -> Expr:
        return Expr("lit", t, lambda fr: v, (), {"value": v})

    def symbol_or_attr(self, name: str, scope: Scope, path: tuple) -> Expr:
        if "." in name:
            head, *rest = name.split(".")
            base = self.symbol_or_attr(head, scope, path)
            return self.attr_path(base, [("dot", r, path) for r in rest], scope, path,
                                  code_base=2000)
        if not SYMBOL_RE.match(name):
            raise self.syntax(f"invalid symbol reference {name!r}", path)
        sym = scope.find(name)
        if sym is None:
            raise self.semantic(f"unknown symbol {name!r}", path)
        return Expr("ref", sym.type, self.ref_fn(sym, scope), (), {"name": name, "sym": sym})

    # -- forms
    def form(self, j: dict, scope: Scope, path: tuple) -> Expr:
        keys = [k for k in j if k != "@"]
        if not keys:
            raise self.syntax("empty object is not an expression", path)
        ks = set(keys)
        for head in FORM_HEADS:
            if head in ks:
                if head == "value" and "type" not in ks:
                    continue
                if head == "do" and len(ks) == 1:
                    return self.f_do(j, scope, path)
                if head == "do":
                    if "until" in ks:
                        return self.f_do_until(j, scope, path)
                    continue
                if head in ("fcn", "params"):
                    raise self.semantic("a function definition or reference can only appear as "
                                        "a function argument", path)
                return getattr(self, "f_" + head.replace("-", "_"))(j, scope, path)
        if len(keys) == 1:
            return self.call(keys[0], j[keys[0]], scope, path + (keys[0],))
        raise self.syntax("unrecognised form with members " + ", ".join(sorted(ks)), path)

    def check_keys(self, j: dict, required: set, optional: set, path: tuple) -> None:
        ks = set(j) - {"@"}
        missing = required - ks
        if missing:
            raise self.syntax(f"missing member {sorted(missing)[0]!r}", path)
        extra = ks - required - optional
        if extra:
            raise self.syntax(f"unexpected member {sorted(extra)[0]!r}", path)

    # literals
    def _int_lit(self, j, key, t, lo, hi, bits, path):
        self.check_keys(j, {key}, set(), path)
        v = j[key]
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise self.syntax(f"\"{key}\" needs a {bits}-bit integer", path + (key,))
        return self.lit(t, v)

    def f_int(self, j, scope, path):
        return self._int_lit(j, "int", INT, INT_MIN, INT_MAX, 32, path)

    def f_long(self, j, scope, path):
        return self._int_lit(j, "long", LONG, LONG_MIN, LONG_MAX, 64, path)

    def _float_lit(self, j, key, t, path):
        self.check_keys(j, {key}, set(), path)
        v = j[key]
        if isinstance(v, str) and v in ("inf", "-inf", "nan", "Infinity", "-Infinity", "NaN"):
            v = float(v.replace("Infinity", "inf"))
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise self.syntax(f"\"{key}\" needs a number", path + (key,))
        return self.lit(t, float(v))

    def f_float(self, j, scope, path):
        return self._float_lit(j, "float", FLOAT, path)

    def f_double(self, j, scope, path):
        return self._float_lit(j, "double", DOUBLE, path)

    def f_string(self, j, scope, path):
        self.check_keys(j, {"string"}, set(), path)
        if not isinstance(j["string"], str):
            raise self.syntax("\"string\" needs a JSON string", path + ("string",))
        return self.lit(STRING, j["string"])

    def f_base64(self, j, scope, path):
        self.check_keys(j, {"base64"}, set(), path)
        try:
            v = base64.b64decode(j["base64"], validate=True)
        except Exception:
            raise self.syntax("\"base64\" needs base-64 text", path + ("base64",)) from None
        return self.lit(BYTES, v)

    def f_value(self, j, scope, path):
        self.check_keys(j, {"type", "value"}, set(), path)
        t = self.parse_type(j["type"], path + ("type",))
        v = from_json(t, j["value"], path + ("value",))
        return self.lit(t, v)

    # let / set
    def f_let(self, j, scope, path):
        self.check_keys(j, {"let"}, set(), path)
        body = j["let"]
        if not isinstance(body, dict) or not [k for k in body if k != "@"]:
            raise self.syntax("\"let\" needs an object of at least one symbol", path + ("let",))
        items = [(k, self.expr(v, scope.sealed(), path + ("let", k)))
                 for k, v in body.items() if k != "@"]
        slots = []
        for k, e in items:
            if isinstance(e.type, FcnType):
                raise self.semantic("functions cannot be assigned to symbols", path + ("let", k))
            sym = self.declare(scope, k, e.type, path + ("let", k))
            slots.append((sym.slot, e.fn))
        return Expr("let", NULL, _assign_fn(slots), tuple(e for _, e in items),
                    {"names": [k for k, _ in items]})

    def f_set(self, j, scope, path):
        self.check_keys(j, {"set"}, set(), path)
        body = j["set"]
        if not isinstance(body, dict) or not [k for k in body if k != "@"]:
            raise self.syntax("\"set\" needs an object of at least one symbol", path + ("set",))
        assigns, exprs = [], []
        for k, v in body.items():
            if k == "@":
                continue
            p = path + ("set", k)
            sym = scope.find(k)
            if sym is None:
                raise self.semantic(f"unknown symbol {k!r}", p)
            if sym.readonly or sym.getter is not None:
                raise self.semantic(f"symbol {k!r} is read-only", p)
            if not scope.can_set(k):
                raise self.semantic(f"symbol {k!r} is declared outside a scope sealed from above "
                                    "and cannot be modified here", p)
            e = self.expr(v, scope.sealed(), p)
            if not sym.type.accepts(e.type):
                raise self.semantic(f"symbol {k!r} has type {sym.type.describe()}, which does not "
                                    f"accept {e.type.describe()}", p)
            e = coerce(e, sym.type)
            if sym.frame is not scope.frame:  # pragma: no cover - sealing forbids this
                raise self.semantic("cannot modify an enclosing function's symbol", p)
            assigns.append((sym.slot, e.fn))
            exprs.append((k, e))
        return Expr("set", NULL, _assign_fn(assigns), tuple(e for _, e in exprs),
                    {"names": [k for k, _ in exprs]})

    # branching
    def _cond(self, j, scope, path) -> Expr:
        c = self.expr(j, scope.sealed(), path)
        if not BOOLEAN.accepts(c.type):   # accepts the bottom type of an "error" condition
            raise self.semantic(f"condition must be boolean, not {c.type.describe()}", path)
        return c

    def _branches_type(self, exprs: list[Expr], path: tuple) -> tuple[AvroType, list[Expr]]:
        try:
            t = supertype([e.type for e in exprs])
        except TypeError as exc:
            raise self.semantic(f"branches have incompatible types: {exc}", path) from None
        if isinstance(t, Bottom):
            return t, exprs
        return t, [coerce(e, t) for e in exprs]

    def f_if(self, j, scope, path):
        self.check_keys(j, {"if", "then"}, {"else"}, path)
        c = self._cond(j["if"], scope, path + ("if",))
        th = self.block(j["then"], scope, path + ("then",))
        cf = c.fn
        if "else" in j:
            el = self.block(j["else"], scope, path + ("else",))
            t, (th, el) = self._branches_type([th, el], path)
            tf, ef = th.fn, el.fn
            return Expr("if", t, lambda fr: tf(fr) if cf(fr) else ef(fr), (c, th, el))
        tf = th.fn

        def if1(fr):
            if cf(fr):
                tf(fr)
        return Expr("if", NULL, if1, (c, th))

    def f_cond(self, j, scope, path):
        self.check_keys(j, {"cond"}, {"else"}, path)
        cases = j["cond"]
        if not isinstance(cases, list) or not cases:
            raise self.syntax("\"cond\" needs an array of at least one {\"if\", \"then\"}",
                              path + ("cond",))
        conds, thens = [], []
        for i, case in enumerate(cases):
            p = path + ("cond", i)
            if not isinstance(case, dict):
                raise self.syntax("each \"cond\" case is an {\"if\", \"then\"} object", p)
            self.check_keys(case, {"if", "then"}, set(), p)
            conds.append(self._cond(case["if"], scope, p + ("if",)))
            thens.append(self.block(case["then"], scope, p + ("then",)))
        if "else" in j:
            el = self.block(j["else"], scope, path + ("else",))
            t, branches = self._branches_type(thens + [el], path)
            pairs = [(c.fn, b.fn) for c, b in zip(conds, branches[:-1])]
            ef = branches[-1].fn

            def cond_else(fr):
                for cf, tf in pairs:
                    if cf(fr):
                        return tf(fr)
                return ef(fr)
            return Expr("cond", t, cond_else, tuple(conds + branches))
        pairs = [(c.fn, b.fn) for c, b in zip(conds, thens)]

        def cond_(fr):
            for cf, tf in pairs:
                if cf(fr):
                    tf(fr)
                    return None
        return Expr("cond", NULL, cond_, tuple(conds + thens))

    # loops
    def f_while(self, j, scope, path):
        self.check_keys(j, {"while", "do"}, set(), path)
        c = self._cond(j["while"], scope, path + ("while",))
        body = self.block(j["do"], scope, path + ("do",))
        cf, bf, rt = c.fn, body.fn, self.rt

        def while_(fr):
            while cf(fr):
                rt.steps += 1
                if rt.steps > rt.next_check:
                    rt.check()
                bf(fr)
        return Expr("while", NULL, while_, (c, body))

    def f_do_until(self, j, scope, path):
        self.check_keys(j, {"do", "until"}, set(), path)
        body = self.block(j["do"], scope, path + ("do",))
        c = self._cond(j["until"], scope, path + ("until",))
        cf, bf, rt = c.fn, body.fn, self.rt

        def do_until(fr):
            while True:
                rt.steps += 1
                if rt.steps > rt.next_check:
                    rt.check()
                bf(fr)
                if cf(fr):
                    return None
        return Expr("do-until", NULL, do_until, (body, c))

    def f_for(self, j, scope, path):
        self.check_keys(j, {"for", "while", "step", "do"}, {"seq"}, path)
        init, step = j["for"], j["step"]
        if not isinstance(init, dict) or not [k for k in init if k != "@"]:
            raise self.syntax("\"for\" needs an object of at least one symbol", path + ("for",))
        if not isinstance(step, dict) or not [k for k in step if k != "@"]:
            raise self.syntax("\"step\" needs an object of at least one symbol", path + ("step",))
        loop = scope.child()
        inits = [(k, self.expr(v, scope.sealed(), path + ("for", k)))
                 for k, v in init.items() if k != "@"]
        slots = [(self.declare(loop, k, e.type, path + ("for", k)).slot, e.fn) for k, e in inits]
        c = self._cond(j["while"], loop, path + ("while",))
        steps, step_pairs = [], []
        for k, v in step.items():
            if k == "@":
                continue
            sym = loop.find(k)
            if sym is None or not loop.can_set(k) or sym.getter is not None:
                raise self.semantic(f"\"step\" can only update symbols it may modify, not {k!r}",
                                    path + ("step", k))
            e = self.expr(v, loop.sealed(), path + ("step", k))
            if not sym.type.accepts(e.type):
                raise self.semantic(f"symbol {k!r} has type {sym.type.describe()}, which does not "
                                    f"accept {e.type.describe()}", path + ("step", k))
            e = coerce(e, sym.type)
            steps.append((sym.slot, e.fn))
            step_pairs.append((k, e))
        seq = j.get("seq", True)
        body = self.block(j["do"], loop.child(sealed_above=seq is False), path + ("do",),
                          new_scope=False)
        cf, bf, rt = c.fn, body.fn, self.rt

        def for_(fr):
            for i, f in slots:
                fr[i] = f(fr)
            while cf(fr):
                rt.steps += 1
                if rt.steps > rt.next_check:
                    rt.check()
                bf(fr)
                vals = [f(fr) for _, f in steps]
                for (i, _), v in zip(steps, vals):
                    fr[i] = v
        return Expr("for", NULL, for_, (c, body, *[e for _, e in inits],
                                        *[e for _, e in step_pairs]),
                    {"init": [k for k, _ in inits], "step": [k for k, _ in step_pairs]})

    def f_foreach(self, j, scope, path):
        self.check_keys(j, {"foreach", "in", "do"}, {"seq"}, path)
        arr = self.expr(j["in"], scope.sealed(), path + ("in",))
        if not isinstance(arr.type, Array):
            raise self.semantic(f"\"in\" must be an array, not {arr.type.describe()}", path + ("in",))
        seq = j.get("seq", True)
        if not isinstance(seq, bool):
            raise self.syntax("\"seq\" must be true or false", path + ("seq",))
        loop = scope.child()
        sym = self.declare(loop, j["foreach"], arr.type.items, path + ("foreach",))
        body = self.block(j["do"], loop.child(sealed_above=not seq), path + ("do",),
                          new_scope=False)
        af, bf, rt, i = arr.fn, body.fn, self.rt, sym.slot

        def foreach(fr):
            for v in af(fr):
                rt.steps += 1
                if rt.steps > rt.next_check:
                    rt.check()
                fr[i] = v
                bf(fr)
        return Expr("foreach", NULL, foreach, (arr, body), {"name": j["foreach"]})

    def f_forkey(self, j, scope, path):
        self.check_keys(j, {"forkey", "forval", "in", "do"}, set(), path)
        m = self.expr(j["in"], scope.sealed(), path + ("in",))
        if not isinstance(m.type, Map):
            raise self.semantic(f"\"in\" must be a map, not {m.type.describe()}", path + ("in",))
        loop = scope.child()
        ks = self.declare(loop, j["forkey"], STRING, path + ("forkey",))
        vs = self.declare(loop, j["forval"], m.type.values, path + ("forval",))
        body = self.block(j["do"], loop.child(), path + ("do",), new_scope=False)
        mf, bf, rt, ki, vi = m.fn, body.fn, self.rt, ks.slot, vs.slot

        def forkey(fr):
            for k, v in list(mf(fr).items()):
                rt.steps += 1
                if rt.steps > rt.next_check:
                    rt.check()
                fr[ki] = k
                fr[vi] = v
                bf(fr)
        return Expr("forkey", NULL, forkey, (m, body))

    # casting
    def f_cast(self, j, scope, path):
        self.check_keys(j, {"cast", "cases"}, {"partial"}, path)
        x = self.expr(j["cast"], scope.sealed(), path + ("cast",))
        cases = j["cases"]
        partial = j.get("partial", False)
        if not isinstance(partial, bool):
            raise self.syntax("\"partial\" must be true or false", path + ("partial",))
        if not isinstance(cases, list) or not cases:
            raise self.syntax("\"cases\" needs an array of at least one case", path + ("cases",))
        types, bodies, slots = [], [], []
        for i, case in enumerate(cases):
            p = path + ("cases", i)
            if not isinstance(case, dict):
                raise self.syntax("a case is an {\"as\", \"named\", \"do\"} object", p)
            self.check_keys(case, {"as", "named", "do"}, set(), p)
            t = self.parse_type(case["as"], p + ("as",))
            if not x.type.accepts(t):
                raise self.semantic(f"{x.type.describe()} can never be {t.describe()}", p + ("as",))
            cs = scope.child()
            sym = self.declare(cs, case["named"], t, p + ("named",))
            bodies.append(self.block(case["do"], cs, p + ("do",), new_scope=False))
            types.append(t)
            slots.append(sym.slot)
        members = x.type.types if isinstance(x.type, Union) else [x.type]
        if not partial:
            for m in members:
                if not any(t.accepts(m) for t in types):
                    raise self.semantic(f"cases are not exhaustive: {m.describe()} is not handled "
                                        "(or set \"partial\": true)", path + ("cases",))
            rtype, bodies = self._branches_type(bodies, path)
        else:
            rtype = NULL
        pick = discriminator(types)
        xf = x.fn
        table = [(s, b.fn) for s, b in zip(slots, bodies)]

        if partial:
            def cast_partial(fr):
                v = xf(fr)
                i = pick(v)
                if i >= 0:
                    s, b = table[i]
                    fr[s] = v
                    b(fr)
            fn = cast_partial
        else:
            def cast_(fr):
                v = xf(fr)
                i = pick(v)
                if i < 0:  # a value promoted across types; fall back to the first acceptor
                    i = 0
                s, b = table[i]
                fr[s] = v
                return b(fr)
            fn = cast_
        return Expr("cast", rtype, fn, (x, *bodies))

    def f_upcast(self, j, scope, path):
        self.check_keys(j, {"upcast", "as"}, set(), path)
        x = self.expr(j["upcast"], scope.sealed(), path + ("upcast",))
        t = self.parse_type(j["as"], path + ("as",))
        if not t.accepts(x.type):
            raise self.semantic(f"cannot upcast {x.type.describe()} to {t.describe()}", path)
        e = coerce(x, t)
        return Expr("upcast", t, e.fn, (x,))

    def f_ifnotnull(self, j, scope, path):
        self.check_keys(j, {"ifnotnull", "then"}, {"else"}, path)
        spec = j["ifnotnull"]
        if not isinstance(spec, dict) or not [k for k in spec if k != "@"]:
            raise self.syntax("\"ifnotnull\" needs an object of at least one symbol",
                              path + ("ifnotnull",))
        inner = scope.child()
        items = []
        for k, v in spec.items():
            if k == "@":
                continue
            p = path + ("ifnotnull", k)
            e = self.expr(v, scope.sealed(), p)
            if not (isinstance(e.type, Union) and e.type.nullable):
                raise self.semantic(f"{k!r} must have a union type including null, not "
                                    f"{e.type.describe()}", p)
            sym = self.declare(inner, k, e.type.without_null(), p)
            items.append((sym.slot, e.fn))
        th = self.block(j["then"], inner, path + ("then",), new_scope=False)
        if "else" in j:
            el = self.block(j["else"], scope, path + ("else",))
            t, (th, el) = self._branches_type([th, el], path)
            ef = el.fn
        else:
            t, ef = NULL, None
        tf = th.fn
        if len(items) == 1:
            (slot, f), = items

            def inn1(fr):
                v = f(fr)
                if v is None:
                    return ef(fr) if ef is not None else None
                fr[slot] = v
                r = tf(fr)
                return r if ef is not None else None
            fn = inn1
        else:
            def inn(fr):
                vals = [f(fr) for _, f in items]
                if any(v is None for v in vals):
                    return ef(fr) if ef is not None else None
                for (s, _), v in zip(items, vals):
                    fr[s] = v
                r = tf(fr)
                return r if ef is not None else None
            fn = inn
        return Expr("ifnotnull", t, fn, (th,))

    # data construction
    def f_new(self, j, scope, path):
        self.check_keys(j, {"new", "type"}, set(), path)
        t = self.parse_type(j["type"], path + ("type",))
        body = j["new"]
        if isinstance(t, Array):
            if not isinstance(body, list):
                raise self.syntax("\"new\" of an array type needs a JSON array", path + ("new",))
            items = []
            for i, x in enumerate(body):
                e = self.expr(x, scope.sealed(), path + ("new", i))
                if not t.items.accepts(e.type):
                    raise self.semantic(f"array items must be {t.items.describe()}, not "
                                        f"{e.type.describe()}", path + ("new", i))
                items.append(coerce(e, t.items))
            fns = [e.fn for e in items]
            base = _common_record_base(items)
            if base is not None and len(items) > 1:
                import operator
                getter, bf = operator.itemgetter(*[e.info["fields"][0] for e in items]), base
                return Expr("new", t, lambda fr: list(getter(bf(fr))), tuple(items))
            return Expr("new", t, lambda fr: [f(fr) for f in fns], tuple(items))
        if isinstance(t, (Map, Record)):
            if not isinstance(body, dict):
                raise self.syntax("\"new\" of a map or record type needs a JSON object",
                                  path + ("new",))
            pairs = []
            kids = []
            for k, x in body.items():
                if k == "@":
                    continue
                p = path + ("new", k)
                if isinstance(t, Record):
                    f = t.field(k)
                    if f is None:
                        raise self.semantic(f"record {t.fullname} has no field {k!r}", p)
                    ft = f.type
                else:
                    ft = t.values
                e = self.expr(x, scope.sealed(), p)
                if not ft.accepts(e.type):
                    raise self.semantic(f"{k!r} must be {ft.describe()}, not {e.type.describe()}", p)
                e = coerce(e, ft)
                kids.append(e)
                pairs.append((k, e.fn))
            if isinstance(t, Record):
                for f in t.fields:
                    if f.name not in body:
                        if f.has_default:
                            v = from_json(f.type, f.default, path + ("type",))
                            pairs.append((f.name, (lambda v: lambda fr: v)(v)))
                        else:
                            raise self.semantic(f"record {t.fullname} needs field {f.name!r}",
                                                path + ("new",))
                order = {f.name: i for i, f in enumerate(t.fields)}
                pairs.sort(key=lambda kv: order[kv[0]])
            return Expr("new", t, lambda fr: {k: f(fr) for k, f in pairs}, tuple(kids),
                        {"keys": [k for k, _ in pairs],
                         "kid_keys": [k for k in body if k != "@"]})
        raise self.semantic(f"\"new\" builds arrays, maps and records, not {t.describe()}",
                            path + ("type",))

    def f_do(self, j, scope, path):
        body = j["do"]
        s = Scope(scope.frame, scope, False, False)
        e = self.block(body, s, path + ("do",), new_scope=False)
        return Expr("do", e.type, e.fn, (e,))

    # paths
    def _path_items(self, j: Any, scope: Scope, path: tuple) -> list:
        if not isinstance(j, list):
            raise self.syntax("\"path\" must be a JSON array", path)
        out = []
        for i, x in enumerate(j):
            p = path + (i,)
            if isinstance(x, list) and len(x) == 1 and isinstance(x[0], str):
                out.append(("lit", x[0], p))
            elif isinstance(x, dict) and set(x) - {"@"} == {"string"} and isinstance(x["string"], str):
                out.append(("lit", x["string"], p))
            else:
                out.append(("expr", self.expr(x, scope.sealed(), p), p))
        return out

    def _walk_types(self, t: AvroType, items: list, path: tuple) -> tuple[list, AvroType]:
        """Resolve each path step against the type: -> [(kind, key or fn)], final type."""
        steps = []
        for kind, x, p in items:
            if isinstance(t, Array):
                if kind == "dot":
                    try:
                        idx = int(x)
                    except ValueError:
                        raise self.semantic(f"array index must be an integer, not {x!r}", p) from None
                    steps.append(("ai", idx))
                elif kind == "lit":
                    raise self.semantic("array index must be an int expression", p)
                else:
                    if not INT.accepts(x.type) and x.type is not LONG:
                        raise self.semantic(f"array index must be int, not {x.type.describe()}", p)
                    steps.append(("a", x.fn))
                t = t.items
            elif isinstance(t, Map):
                if kind in ("dot", "lit"):
                    steps.append(("mk", x))
                else:
                    if x.type is not STRING:
                        raise self.semantic(f"map key must be a string, not {x.type.describe()}", p)
                    steps.append(("m", x.fn))
                t = t.values
            elif isinstance(t, Record):
                if kind == "expr":
                    raise self.semantic("record field names in a path must be literal strings", p)
                f = t.field(x)
                if f is None:
                    raise self.semantic(f"record {t.fullname} has no field {x!r}", p)
                steps.append(("r", x))
                t = f.type
            else:
                raise self.semantic(f"cannot index into {t.describe()}", p)
        return steps, t

    def _getter(self, steps: list, codes: tuple[int, int], fname: str) -> Callable:
        """value, frame -> the value at the end of the path (raising 2000-style errors)."""
        ai, mk = codes
        ops = list(steps)

        def get(v, fr):
            for kind, k in ops:
                if kind == "r":
                    v = v[k]
                elif kind in ("a", "ai"):
                    i = k(fr) if kind == "a" else k
                    if i < 0 or i >= len(v):
                        raise PFARuntimeError("array index not found", ai, fname)
                    v = v[i]
                else:
                    key = k(fr) if kind == "m" else k
                    try:
                        v = v[key]
                    except KeyError:
                        raise PFARuntimeError("map key not found", mk, fname) from None
            return v
        return get

    def _updater(self, steps: list, codes: tuple[int, int], fname: str) -> Callable:
        """(value, frame, leaf_fn) -> a copy of value with the path's end replaced by leaf_fn(old)."""
        ai, mk = codes
        ops = list(steps)

        def upd(v, fr, leaf, depth=0):
            if depth == len(ops):
                return leaf(v)
            kind, k = ops[depth]
            if kind == "r":
                out = dict(v)
                out[k] = upd(v[k], fr, leaf, depth + 1)
                return out
            if kind in ("a", "ai"):
                i = k(fr) if kind == "a" else k
                if i < 0 or i >= len(v):
                    raise PFARuntimeError("array index not found", ai, fname)
                out = list(v)
                out[i] = upd(v[i], fr, leaf, depth + 1)
                return out
            key = k(fr) if kind == "m" else k
            if key not in v:
                raise PFARuntimeError("map key not found", mk, fname)
            out = dict(v)
            out[key] = upd(v[key], fr, leaf, depth + 1)
            return out
        return upd

    def attr_path(self, base: Expr, items: list, scope: Scope, path: tuple,
                  code_base: int = 2000) -> Expr:
        steps, t = self._walk_types(base.type, items, path)
        bf = base.fn
        if all(k == "r" for k, _ in steps):
            keys = [k for _, k in steps]
            if len(keys) == 1:
                k0 = keys[0]
                fn = lambda fr: bf(fr)[k0]
            elif len(keys) == 2:
                k0, k1 = keys
                fn = lambda fr: bf(fr)[k0][k1]
            else:
                def fn(fr):
                    v = bf(fr)
                    for k in keys:
                        v = v[k]
                    return v
            return Expr("attr", t, fn, (base,), {"fields": keys})
        get = self._getter(steps, (code_base, code_base + 1), "attr")
        return Expr("attr", t, lambda fr: get(bf(fr), fr), (base,),
                    {"steps": steps, "keys": [x for _, x, _ in items]})

    def _to_value(self, j: Any, t: AvroType, scope: Scope, path: tuple) -> tuple[bool, Callable]:
        """The "to" member: (is_function, closure). Functions map t -> t."""
        if isinstance(j, dict) and ("params" in j or "fcn" in j):
            f = self.fcn_arg(j, scope, path)
            ft = f.type
            if len(ft.params) != 1 or not ft.params[0].accepts(t) or not t.accepts(ft.ret):
                raise self.semantic(f"\"to\" function must take and return {t.describe()}, not "
                                    f"{ft.describe()}", path)
            p_in = promoter(t, ft.params[0])
            p_out = promoter(ft.ret, t)
            mk = f.fn

            def as_fn(fr):
                g = mk(fr)
                if p_in is None and p_out is None:
                    return g
                return lambda v: (p_out or (lambda x: x))(g(p_in(v) if p_in else v))
            return True, as_fn
        e = self.expr(j, scope.sealed(), path)
        if not t.accepts(e.type):
            raise self.semantic(f"\"to\" must be {t.describe()}, not {e.type.describe()}", path)
        return False, coerce(e, t).fn

    def f_attr(self, j, scope, path):
        self.check_keys(j, {"attr", "path"}, {"to"}, path)
        base = self.expr(j["attr"], scope.sealed(), path + ("attr",))
        items = self._path_items(j["path"], scope, path + ("path",))
        if not items:
            raise self.syntax("\"path\" must have at least one item", path + ("path",))
        if "to" not in j:
            return self.attr_path(base, items, scope, path)
        steps, t = self._walk_types(base.type, items, path + ("path",))
        upd = self._updater(steps, (2002, 2003), "attr-to")
        is_fn, tf = self._to_value(j["to"], t, scope, path + ("to",))
        bf = base.fn
        if is_fn:
            fn = lambda fr: upd(bf(fr), fr, tf(fr))
        else:
            fn = lambda fr: upd(bf(fr), fr, lambda old: tf(fr))
        return Expr("attr-to", base.type, fn, (base,))

    def f_cell(self, j, scope, path):
        self.check_keys(j, {"cell"}, {"path", "to"}, path)
        name = j["cell"]
        if name not in self.cells:
            raise self.semantic(f"unknown cell {name!r}", path + ("cell",))
        ct, box = self.cells[name][0], self.rt.cells[name]
        items = self._path_items(j.get("path", []), scope, path + ("path",))
        steps, t = self._walk_types(ct, items, path + ("path",))
        if "to" not in j:
            if not steps:
                return Expr("cell", ct, lambda fr: box[0], (), {"name": name})
            get = self._getter(steps, (2004, 2005), "cell")
            return Expr("cell", t, lambda fr: get(box[0], fr), (),
                        {"name": name, "steps": steps, "keys": [x for _, x, _ in items],
                         "cell_type": ct})
        self._mark_write()
        is_fn, tf = self._to_value(j["to"], t, scope, path + ("to",))
        if not steps:
            if is_fn:
                def cell_to_fn(fr):
                    box[0] = tf(fr)(box[0])
                    return box[0]
                fn = cell_to_fn
            else:
                def cell_to(fr):
                    box[0] = tf(fr)
                    return box[0]
                fn = cell_to
        else:
            upd = self._updater(steps, (2006, 2007), "cell-to")

            def cell_to_path(fr):
                leaf = tf(fr) if is_fn else (lambda old: tf(fr))
                box[0] = upd(box[0], fr, leaf)
                return box[0]
            fn = cell_to_path
        return Expr("cell-to", ct, fn, (), {"name": name})

    def f_pool(self, j, scope, path):
        name = j["pool"]
        if name not in self.pools:
            raise self.semantic(f"unknown pool {name!r}", path + ("pool",))
        pt, pool = self.pools[name][0], self.rt.pools[name]
        if "del" in j:
            self.check_keys(j, {"pool", "del"}, set(), path)
            k = self.expr(j["del"], scope.sealed(), path + ("del",))
            if k.type is not STRING:
                raise self.semantic("\"del\" must be a string", path + ("del",))
            self._mark_write()
            kf = k.fn

            def pool_del(fr):
                pool.pop(kf(fr), None)
            return Expr("pool-del", NULL, pool_del)
        self.check_keys(j, {"pool", "path"}, {"to", "init"}, path)
        items = self._path_items(j["path"], scope, path + ("path",))
        if not items:
            raise self.syntax("a pool \"path\" needs at least the item name", path + ("path",))
        kind, first, p0 = items[0]
        if kind == "expr":
            if first.type is not STRING:
                raise self.semantic("the first pool path item must be a string", p0)
            keyf = first.fn
        else:
            keyf = (lambda v: lambda fr: v)(first)
        steps, t = self._walk_types(pt, items[1:], path + ("path",))
        if "to" not in j:
            if "init" in j:
                raise self.syntax("\"init\" is only allowed with \"to\"", path)
            get = self._getter(steps, (2008, 2009), "pool")

            def pool_get(fr):
                k = keyf(fr)
                try:
                    v = pool[k]
                except KeyError:
                    raise PFARuntimeError("map key not found", 2009, "pool") from None
                return get(v, fr) if steps else v
            return Expr("pool", t, pool_get, (), {"name": name})
        if "init" not in j:
            raise self.syntax("\"pool\" with \"to\" needs \"init\"", path)
        self._mark_write()
        init = self.expr(j["init"], scope.sealed(), path + ("init",))
        if not pt.accepts(init.type):
            raise self.semantic(f"\"init\" must be {pt.describe()}, not {init.type.describe()}",
                                path + ("init",))
        initf = coerce(init, pt).fn
        is_fn, tf = self._to_value(j["to"], t, scope, path + ("to",))
        upd = self._updater(steps, (2010, 2011), "pool-to")

        def pool_to(fr):
            k = keyf(fr)
            old = pool[k] if k in pool else initf(fr)
            leaf = tf(fr) if is_fn else (lambda o: tf(fr))
            new = upd(old, fr, leaf)
            pool[k] = new
            return new
        return Expr("pool-to", pt, pool_to, (), {"name": name})

    def _mark_write(self) -> None:
        self.state_writes = True
        if self.current_fcn is not None:
            self.current_fcn.writes_state = True

    # misc forms
    def f_doc(self, j, scope, path):
        self.check_keys(j, {"doc"}, set(), path)
        if not isinstance(j["doc"], str):
            raise self.syntax("\"doc\" must be a string", path + ("doc",))
        return self.lit(NULL, None)

    def f_error(self, j, scope, path):
        self.check_keys(j, {"error"}, {"code"}, path)
        msg, code = j["error"], j.get("code")
        if not isinstance(msg, str):
            raise self.syntax("\"error\" must be a string", path + ("error",))
        if code is not None and (not isinstance(code, int) or isinstance(code, bool)):
            raise self.syntax("\"code\" must be an integer", path + ("code",))

        def error(fr):
            raise PFAUserError(msg, code)
        return Expr("error", BOTTOM, error)

    def f_try(self, j, scope, path):
        self.check_keys(j, {"try"}, {"filter"}, path)
        body = self.block(j["try"], scope, path + ("try",))
        flt = j.get("filter")
        if flt is not None and (not isinstance(flt, list) or not all(
                isinstance(x, (str, int)) and not isinstance(x, bool) for x in flt)):
            raise self.syntax("\"filter\" must be an array of strings and integers", path + ("filter",))
        t = body.type
        if isinstance(t, Bottom) or t is NULL:
            rt_ = NULL
        elif isinstance(t, Union):
            rt_ = t if t.nullable else Union(list(t.types) + [NULL])
        else:
            rt_ = Union([t, NULL])
        bf = body.fn
        msgs = {x for x in flt if isinstance(x, str)} if flt else set()
        codes = {x for x in flt if isinstance(x, int)} if flt else set()

        def try_(fr):
            try:
                return bf(fr)
            except PFALimitError:
                raise
            except PFARuntimeError as exc:
                if flt is not None and exc.message not in msgs and exc.code not in codes:
                    raise
                return None
        return Expr("try", rt_, try_, (body,))

    def f_log(self, j, scope, path):
        self.check_keys(j, {"log"}, {"namespace"}, path)
        ns = j.get("namespace")
        if ns is not None and not isinstance(ns, str):
            raise self.syntax("\"namespace\" must be a string", path + ("namespace",))
        body = j["log"]
        exprs = [self.expr(x, scope.sealed(), path + ("log", i))
                 for i, x in enumerate(body if isinstance(body, list) else [body])]
        fns = [e.fn for e in exprs]
        rt = self.rt
        self.impure = True

        def log_(fr):
            rt.write_log([f(fr) for f in fns], ns)
        return Expr("log", NULL, log_)

    def f_call(self, j, scope, path):
        self.check_keys(j, {"call", "args"}, set(), path)
        sel = self.expr(j["call"], scope.sealed(), path + ("call",))
        if not isinstance(sel.type, Enum):
            raise self.semantic("\"call\" must be an enum naming user functions", path + ("call",))
        args_j = j["args"]
        if not isinstance(args_j, list):
            raise self.syntax("\"args\" must be an array", path + ("args",))
        args = [self.expr(a, scope.sealed(), path + ("args", i)) for i, a in enumerate(args_j)]
        targets, rets = {}, []
        for sym in sel.type.symbols:
            uf = self.fcns.get(sym)
            if uf is None:
                raise self.semantic(f"no user function u.{sym}", path + ("call",))
            if len(uf.params) != len(args) or not all(
                    pt.accepts(a.type) for (_, pt), a in zip(uf.params, args)):
                raise self.semantic(f"u.{sym} does not accept these arguments", path + ("args",))
            fs = [coerce(a, pt).fn for (_, pt), a in zip(uf.params, args)]
            targets[sym] = (uf, fs)
            rets.append(uf.ret)
        try:
            t = supertype(rets)
        except TypeError as exc:
            raise self.semantic(str(exc), path) from None
        sf = sel.fn

        def call_(fr):
            uf, fs = targets[sf(fr)]
            return uf.call(*[f(fr) for f in fs])
        return Expr("call-enum", t, call_)

    def f_unpack(self, j, scope, path):
        from .packing import compile_unpack
        return compile_unpack(self, j, scope, path)

    def f_pack(self, j, scope, path):
        from .packing import compile_pack
        return compile_pack(self, j, scope, path)

    # -- function arguments
    def fcn_arg(self, j: dict, scope: Scope, path: tuple) -> Expr:
        """A fcndef (anonymous function) or fcnref; Expr.fn(frame) -> Python callable."""
        if "params" in j:
            return self.fcndef(j, scope, path)
        self.check_keys(j, {"fcn"}, {"fill"}, path)
        name = j["fcn"]
        if not isinstance(name, str):
            raise self.syntax("\"fcn\" must be a function name", path + ("fcn",))
        fill = j.get("fill")
        if fill is not None and not isinstance(fill, dict):
            raise self.syntax("\"fill\" must be an object", path + ("fill",))
        if name.startswith("u.") and name[2:] in self.fcns:
            uf = self.fcns[name[2:]]
            ptypes, ret, call = list(uf.params), uf.ret, uf.call
            if not fill:
                return Expr("fcnref", uf.type, lambda fr: call, (), {"name": name})
            return self._filled(name, [n for n, _ in ptypes], [t for _, t in ptypes], ret,
                                call, fill, scope, path)
        if name == "emit" and self.method == "emit":
            rt = self.rt
            self.impure = True
            return Expr("fcnref", FcnType([self.output], NULL),
                        lambda fr: (lambda v: rt.emit(v)), (), {"name": name})
        sigs = library_signatures(name)
        if sigs is None:
            raise self.semantic(f"unknown function {name!r}", path + ("fcn",))
        if not fill:
            plain = [s for s in sigs if not is_generic(s)]
            if not plain:
                raise self.semantic(f"{name} is generic and cannot be referenced without "
                                    "\"fill\"; wrap it in a function definition", path + ("fcn",))
            sig = plain[0]      # the first non-generic signature (e.g. double -> double)
            m = Matcher()
            ptypes2 = [m.resolve(p) for _, p in sig.params]
            ret = m.resolve(sig.ret)
            impl = self.lib_impl(name, Call(name, ptypes2, ptypes2, ret, {}, self.rt), path)
            return Expr("fcnref", FcnType(ptypes2, ret), lambda fr: impl, (), {"name": name})
        # library function with some parameters filled: resolve labels from the fills first
        sig = next((s for s in sigs if self._fill_fits(s, fill)), sigs[0])
        names = sig.names
        filled = {k: (e, sig.params[names.index(k)][1])
                  for k, e in self._fill_args(name, names, fill, scope, path)}
        m = Matcher()
        try:
            for k, (e, pat) in sorted(filled.items(), key=lambda kv: isinstance(kv[1][1], PFcn)):
                m.match(pat, e.type)
            all_types = [m.resolve(p) for _, p in sig.params]
            ret = m.resolve(sig.ret)
        except _NoMatch:
            raise self.semantic(f"\"fill\" does not fit {name}: {sig.text}", path + ("fill",)) \
                from None
        impl = self.lib_impl(name, Call(name, all_types, all_types, ret, m.b, self.rt), path)
        fills = {k: self._adapt_arg(e, all_types[names.index(k)]) for k, (e, _) in filled.items()}
        return self._filled_from(name, names, all_types, ret, impl, fills)

    @staticmethod
    def _fill_fits(sig: Signature, fill: dict) -> bool:
        """Does this signature have every filled parameter name?"""
        names = sig.names
        return all(k in names for k in fill if k != "@")

    def _fill_args(self, name, names, fill, scope, path):
        """Yield (parameter name, compiled value or function) for each "fill" member, in order."""
        for k, v in fill.items():
            if k == "@":
                continue
            if k not in names:
                raise self.semantic(f"{name} has no parameter {k!r}", path + ("fill", k))
            if isinstance(v, dict) and ("params" in v or "fcn" in v):
                yield k, self.fcn_arg(v, scope, path + ("fill", k))
            else:
                yield k, self.expr(v, scope.sealed(), path + ("fill", k))

    def _filled(self, name, names, types, ret, impl, fill, scope, path) -> Expr:
        fills = {}
        for k, e in self._fill_args(name, names, fill, scope, path):
            t = types[names.index(k)]
            if not t.accepts(e.type):
                raise self.semantic(f"fill {k!r} must be {t.describe()}, not {e.type.describe()}",
                                    path + ("fill", k))
            fills[k] = self._adapt_arg(e, t)
        return self._filled_from(name, names, types, ret, impl, fills)

    def _filled_from(self, name, names, types, ret, impl, fills) -> Expr:
        free = [i for i, n in enumerate(names) if n not in fills]
        slots = [(names.index(k), f.fn) for k, f in fills.items()]
        n = len(names)

        def make(fr):
            def filled(*args):
                full = [None] * n
                for i, a in zip(free, args):
                    full[i] = a
                for i, f in slots:
                    full[i] = f(fr)
                return impl(*full)
            return filled
        return Expr("fcnref", FcnType([types[i] for i in free], ret), make, (),
                    {"name": name, "fill": fills})

    def fcndef(self, j: dict, scope: Scope | None, path: tuple, name: str | None = None,
               frame_parent: FrameCtx | None = None) -> Expr:
        self.check_keys(j, {"params", "ret", "do"}, set(), path)
        params = self.parse_params(j["params"], path + ("params",))
        ret = self.parse_type(j["ret"], path + ("ret",))
        frame = FrameCtx(scope.frame if scope is not None else None)
        fscope = Scope(frame, scope, sealed_above=True, sealed_within=False)
        for n, t in params:
            self.declare(fscope, n, t, path + ("params",))
        body = self.block(j["do"], fscope, path + ("do",), new_scope=False)
        if not ret.accepts(body.type):
            raise self.semantic(f"function returns {body.type.describe()}, not the declared "
                                f"{ret.describe()}", path + ("do",))
        direct = _direct_call(body, [n for n, _ in params], ret)
        body = coerce(body, ret)
        bf, rt = body.fn, self.rt
        nparams = len(params)
        ftype = FcnType([t for _, t in params], ret)
        if direct is not None:
            # {"params": [a, b], "do": {"f": ["a", "b"]}} is just f: skip the frame
            return Expr("fcndef", ftype, lambda fr: direct, (body,),
                        {"params": [n for n, _ in params]})

        def make(fr):
            def anon(*args):
                f = [fr, *args]
                extra = frame.nslots - 1 - nparams
                if extra > 0:
                    f.extend([None] * extra)
                rt.steps += 1
                if rt.steps > rt.next_check:
                    rt.check()
                return bf(f)
            return anon
        return Expr("fcndef", ftype, make, (body,), {"params": [n for n, _ in params]})

    def parse_params(self, j: Any, path: tuple) -> list[tuple[str, AvroType]]:
        if not isinstance(j, list):
            raise self.syntax("\"params\" must be an array of {name: type} objects", path)
        out = []
        for i, p in enumerate(j):
            items = [(k, v) for k, v in p.items() if k != "@"] if isinstance(p, dict) else []
            if len(items) != 1:
                raise self.syntax("each parameter is a single-member {name: type} object",
                                  path + (i,))
            n, t = items[0]
            out.append((n, self.parse_type(t, path + (i, n))))
        return out

    def _adapt_arg(self, e: Expr, expected: AvroType) -> Expr:
        """Promote a value argument, or wrap a function argument so its parameters/return match
        what the callee passes and expects."""
        if isinstance(e.type, FcnType) and isinstance(expected, FcnType):
            ins = [promoter(x, a) for x, a in zip(expected.params, e.type.params)]
            out = promoter(e.type.ret, expected.ret)
            if all(c is None for c in ins) and out is None:
                return e
            mk = e.fn

            def adapt(fr):
                g = mk(fr)

                def adapted(*args):
                    r = g(*[c(a) if c is not None else a for c, a in zip(ins, args)])
                    return out(r) if out is not None else r
                return adapted
            return Expr(e.kind, expected, adapt, e.children, e.info)
        return coerce(e, expected)

    # -- calls
    def _lib_entry(self, name: str, path: tuple) -> tuple[str, Callable]:
        entry = self.lib.get(name)
        if entry is None:
            raise PFAUnsupportedError(f"library function {name!r} is not implemented by this "
                                      "engine", path)
        return entry

    def lib_impl(self, name: str, call: Call, path: tuple) -> Callable:
        kind, f = self._lib_entry(name, path)
        if kind == "fn":
            return f
        if kind == "typed":
            return f(call)
        raise PFAUnsupportedError(f"{name} cannot be referenced as a function", path)

    def call(self, name: str, argj: Any, scope: Scope, path: tuple) -> Expr:
        argsj = argj if isinstance(argj, list) else [argj]
        args = []
        for i, a in enumerate(argsj):
            p = path + (i,) if isinstance(argj, list) else path
            if isinstance(a, dict) and ("params" in a or ("fcn" in a and set(a) - {"@"} <= {"fcn", "fill"})):
                args.append(self.fcn_arg(a, scope, p))
            else:
                args.append(self.expr(a, scope.sealed(), p))
        if name.startswith("u."):
            uf = self.fcns.get(name[2:])
            if uf is None:
                raise self.semantic(f"unknown user function {name!r}", path)
            return self.call_user(uf, args, path)
        if name == "emit":
            if self.method != "emit":
                raise self.semantic("\"emit\" is only available with method \"emit\"", path)
            if len(args) != 1 or not self.output.accepts(args[0].type):
                raise self.semantic(f"emit takes one value of the output type "
                                    f"{self.output.describe()}", path)
            a = coerce(args[0], self.output).fn
            rt = self.rt
            self.impure = True

            def emit(fr):
                rt.emit(a(fr))
            return Expr("emit", NULL, emit, tuple(args))
        sigs = library_signatures(name)
        if sigs is None:
            if not FCN_NAME_RE.match(name):
                raise self.syntax(f"unrecognised form or function {name!r}", path)
            raise self.semantic(f"unknown function {name!r}", path)
        res = resolve_call(sigs, [a.type for a in args])
        if res is None:
            raise self.semantic(f"{name} does not accept arguments ({', '.join(a.type.describe() for a in args)}); "
                                f"expected {' or '.join(s.text for s in sigs)}", path)
        if LIBRARY[name][2]:
            self.impure = True
        call = Call(name, [a.type for a in args], res.params, res.ret, res.bindings, self.rt,
                    res.index)
        kind, f = self._lib_entry(name, path)
        args = [self._adapt_arg(a, t) for a, t in zip(args, res.params)]
        fns = [a.fn for a in args]
        info = {"name": name, "sig": res.index, "call": call}
        if kind == "lazy":
            return Expr("call", res.ret, f(call, fns), tuple(args), info)
        impl = f if kind == "fn" else f(call)
        info["impl"] = impl
        return Expr("call", res.ret, _apply(impl, fns), tuple(args), info)

    def call_user(self, uf: UserFcn, args: list[Expr], path: tuple) -> Expr:
        if len(args) != len(uf.params):
            raise self.semantic(f"u.{uf.name} takes {len(uf.params)} arguments, not {len(args)}",
                                path)
        out = []
        for (pn, pt), a in zip(uf.params, args):
            if isinstance(a.type, FcnType) or not pt.accepts(a.type):
                raise self.semantic(f"u.{uf.name} parameter {pn!r} is {pt.describe()}, not "
                                    f"{a.type.describe()}", path)
            out.append(coerce(a, pt))
        if uf.writes_state:
            self._mark_write()
        fns = [a.fn for a in out]
        ufc = uf
        if len(fns) == 1:
            a0, = fns
            fn = lambda fr: ufc.call(a0(fr))
        elif len(fns) == 2:
            a0, a1 = fns
            fn = lambda fr: ufc.call(a0(fr), a1(fr))
        else:
            fn = lambda fr: ufc.call(*[f(fr) for f in fns])
        return Expr("ucall", uf.ret, fn, tuple(out), {"name": uf.name, "fcn": uf})


def _direct_call(body: Expr, names: list[str], ret: AvroType) -> Callable | None:
    """The library implementation if body calls it with exactly the parameters, in order."""
    if body.kind != "call" or "impl" not in body.info or len(body.children) != len(names):
        return None
    for c, n in zip(body.children, names):
        if c.kind != "ref" or c.info.get("name") != n:
            return None
    if promoter(body.type, ret) is not None:
        return None
    return body.info["impl"]


def _common_record_base(items: list[Expr]) -> Callable | None:
    """If every item is ``sym.field`` of one record symbol, that symbol's closure."""
    sym = None
    for e in items:
        if e.kind != "attr" or len(e.info.get("fields") or ()) != 1:
            return None
        base = e.children[0]
        if base.kind != "ref":
            return None
        if sym is None:
            sym, fn = base.info["sym"], base.fn
        elif base.info["sym"] is not sym:
            return None
    return fn if sym is not None else None


def _apply(impl: Callable, fns: list[Callable]) -> Callable:
    n = len(fns)
    if n == 0:
        return lambda fr: impl()
    if n == 1:
        a, = fns
        return lambda fr: impl(a(fr))
    if n == 2:
        a, b = fns
        return lambda fr: impl(a(fr), b(fr))
    if n == 3:
        a, b, c = fns
        return lambda fr: impl(a(fr), b(fr), c(fr))
    return lambda fr: impl(*[f(fr) for f in fns])


def make_user_call(uf: UserFcn, rt: Any) -> Callable:
    """The Python callable that runs a user function with a fresh frame."""
    st = uf.state
    nparams = len(uf.params)

    def call(*args):
        body, nslots = st
        fr = [None, *args]
        extra = nslots - 1 - nparams
        if extra > 0:
            fr.extend([None] * extra)
        rt.steps += 1
        if rt.steps > rt.next_check:
            rt.check()
        rt.depth += 1
        if rt.depth > rt.max_depth:
            rt.depth = 0
            raise PFALimitError(f"user function calls nested deeper than {rt.max_depth}")
        try:
            return body(fr)
        finally:
            rt.depth -= 1
    return call


__all__ = ["Compiler", "Expr", "Scope", "FrameCtx", "Sym", "UserFcn", "promoter", "coerce",
           "make_user_call", "library_signatures"]
