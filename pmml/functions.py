"""Apply: PMML built-in functions and user-defined functions (DefineFunction), vectorized.

Each built-in takes the argument columns' values (missing rows already known) and returns the
result values; the wrapper applies PMML's rules: a missing argument makes the result missing
(except for the functions that look at missingness), then mapMissingTo, defaultValue and the
Apply's invalidValueTreatment for results that are not numbers (e.g. ln of a negative).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from scipy import special as _special  # type: ignore[import-untyped]

from portmodel.errors import DocumentError, EvaluationError, UnsupportedError

from .context import Ctx
from .dictionary import FieldInfo
from .expressions import Expr, cast, compile_expression, find_expression
from .scope import Scope
from .values import Col, codes, full, is_numeric_type, parse_scalar

Impl = Callable[..., np.ndarray]


@dataclass
class Builtin:
    impl: Impl
    result_type: Callable[[list[str]], str] | str
    min_args: int = 0
    max_args: int | None = None
    handles_missing: bool = False   # impl receives Cols, not values


BUILTINS: dict[str, Builtin] = {}


def builtin(name: str, result_type: Any = "double", min_args: int = 0, max_args: int | None = None,
            handles_missing: bool = False):
    def deco(fn: Impl) -> Impl:
        BUILTINS[name] = Builtin(fn, result_type, min_args, max_args, handles_missing)
        return fn
    return deco


def _numeric_result(types: list[str]) -> str:
    if types and all(t == "integer" for t in types):
        return "integer"
    if types and all(t in ("integer", "float") for t in types):
        return "float"
    return "double"


def _f(v: np.ndarray) -> np.ndarray:
    return v.astype(float) if v.dtype != float else v


# ---------------------------------------------------------------- arithmetic
@builtin("+", _numeric_result, 2, 2)
def _add(a, b): return _f(a) + _f(b)


@builtin("-", _numeric_result, 2, 2)
def _sub(a, b): return _f(a) - _f(b)


@builtin("*", _numeric_result, 2, 2)
def _mul(a, b): return _f(a) * _f(b)


@builtin("/", "double", 2, 2)
def _div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return _f(a) / _f(b)


def _reduce(fn):
    def impl(*args):
        return fn(np.vstack([_f(a) for a in args]), axis=0)
    return impl


for _name, _fn in (("min", np.min), ("max", np.max), ("sum", np.sum), ("avg", np.mean),
                   ("median", np.median), ("product", np.prod)):
    BUILTINS[_name] = Builtin(_reduce(_fn), "double" if _name in ("avg", "median") else _numeric_result, 1)


def _unary(name: str, fn: Callable[[np.ndarray], np.ndarray], result_type: Any = "double") -> None:
    def impl(a):
        with np.errstate(all="ignore"):
            return fn(_f(a))
    BUILTINS[name] = Builtin(impl, result_type, 1, 1)


_unary("log10", np.log10)
_unary("ln", np.log)
_unary("sqrt", np.sqrt)
_unary("abs", np.abs, _numeric_result)
_unary("exp", np.exp)
_unary("floor", np.floor, "integer")
_unary("ceil", np.ceil, "integer")
_unary("round", lambda x: np.floor(x + 0.5), "integer")   # Java Math.round: half up
_unary("rint", np.rint)
_unary("sin", np.sin)
_unary("cos", np.cos)
_unary("tan", np.tan)
_unary("asin", np.arcsin)
_unary("acos", np.arccos)
_unary("atan", np.arctan)
_unary("sinh", np.sinh)
_unary("cosh", np.cosh)
_unary("tanh", np.tanh)
_unary("expm1", np.expm1)
_unary("log1p", np.log1p)
_unary("erf", _special.erf)
_unary("stdNormalCDF", _special.ndtr)
_unary("stdNormalPDF", lambda x: np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi))
_unary("stdNormalIDF", _special.ndtri)


@builtin("atan2", "double", 2, 2)
def _atan2(a, b): return np.arctan2(_f(a), _f(b))


@builtin("hypot", "double", 2, 2)
def _hypot(a, b): return np.hypot(_f(a), _f(b))


@builtin("pow", _numeric_result, 2, 2)
def _pow(a, b):
    with np.errstate(all="ignore"):
        return np.power(_f(a), _f(b))


@builtin("threshold", "integer", 2, 2)
def _threshold(a, b): return (_f(a) > _f(b)).astype(float)


@builtin("modulo", _numeric_result, 2, 2)
def _modulo(a, b):
    with np.errstate(all="ignore"):
        a, b = _f(a), _f(b)
        return a - np.floor(a / b) * b


@builtin("normalCDF", "double", 3, 3)
def _normal_cdf(x, mu, sigma): return _special.ndtr((_f(x) - _f(mu)) / _f(sigma))


@builtin("normalPDF", "double", 3, 3)
def _normal_pdf(x, mu, sigma):
    z = (_f(x) - _f(mu)) / _f(sigma)
    return np.exp(-0.5 * z * z) / (_f(sigma) * math.sqrt(2 * math.pi))


@builtin("normalIDF", "double", 3, 3)
def _normal_idf(p, mu, sigma): return _f(mu) + _f(sigma) * _special.ndtri(_f(p))


# ---------------------------------------------------------------- missing / validity
@builtin("isMissing", "boolean", 1, 1, handles_missing=True)
def _is_missing(c: Col): return c.missing.astype(float)


@builtin("isNotMissing", "boolean", 1, 1, handles_missing=True)
def _is_not_missing(c: Col): return (~c.missing).astype(float)


@builtin("isValid", "boolean", 1, 1, handles_missing=True)
def _is_valid(c: Col): return c.valid.astype(float)


@builtin("isNotValid", "boolean", 1, 1, handles_missing=True)
def _is_not_valid(c: Col):
    return (c.invalid if c.invalid is not None else np.zeros(len(c), bool)).astype(float)


# ---------------------------------------------------------------- comparison and logic
def _cmp(op):
    def impl(a, b):
        if a.dtype == object or b.dtype == object:
            return np.array([op(x, y) for x, y in zip(a, b)], dtype=float)
        return op(_f(a), _f(b)).astype(float)
    return impl


for _name, _op in (("equal", lambda x, y: x == y), ("notEqual", lambda x, y: x != y),
                   ("lessThan", lambda x, y: x < y), ("lessOrEqual", lambda x, y: x <= y),
                   ("greaterThan", lambda x, y: x > y), ("greaterOrEqual", lambda x, y: x >= y)):
    BUILTINS[_name] = Builtin(_cmp(_op), "boolean", 2, 2)


@builtin("and", "boolean", 2)
def _and(*args): return np.logical_and.reduce([_f(a) != 0 for a in args]).astype(float)


@builtin("or", "boolean", 2)
def _or(*args): return np.logical_or.reduce([_f(a) != 0 for a in args]).astype(float)


@builtin("not", "boolean", 1, 1)
def _not(a): return (_f(a) == 0).astype(float)


@builtin("isIn", "boolean", 2)
def _is_in(a, *cands):
    return np.logical_or.reduce([_eq(a, c) for c in cands]).astype(float)


@builtin("isNotIn", "boolean", 2)
def _is_not_in(a, *cands):
    return (~np.logical_or.reduce([_eq(a, c) for c in cands])).astype(float)


def _eq(a, b):
    if a.dtype == object or b.dtype == object:
        return np.array([x == y for x, y in zip(a, b)], dtype=bool)
    return _f(a) == _f(b)


# ---------------------------------------------------------------- strings
def _str_fn(fn):
    def impl(*args):
        out = np.empty(len(args[0]), object)
        out[:] = [fn(*vals) for vals in zip(*args)]
        return out
    return impl


def _s(v: Any) -> str:
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


BUILTINS["uppercase"] = Builtin(_str_fn(lambda s: _s(s).upper()), "string", 1, 1)
BUILTINS["lowercase"] = Builtin(_str_fn(lambda s: _s(s).lower()), "string", 1, 1)
BUILTINS["trimBlanks"] = Builtin(_str_fn(lambda s: _s(s).strip()), "string", 1, 1)
BUILTINS["concat"] = Builtin(_str_fn(lambda *s: "".join(_s(x) for x in s)), "string", 1)
BUILTINS["substring"] = Builtin(
    _str_fn(lambda s, start, length: _s(s)[int(start) - 1:int(start) - 1 + int(length)]), "string", 3, 3)
BUILTINS["stringLength"] = Builtin(
    lambda s: np.array([len(_s(x)) for x in s], dtype=float), "integer", 1, 1)
BUILTINS["replace"] = Builtin(
    _str_fn(lambda s, pat, rep: re.sub(pat, _java_replacement(rep), _s(s))), "string", 3, 3)
BUILTINS["matches"] = Builtin(
    lambda s, pat: np.array([re.search(p, _s(x)) is not None for x, p in zip(s, pat)], dtype=float),
    "boolean", 2, 2)


def _java_replacement(rep: str) -> str:
    return re.sub(r"\$(\d)", r"\\\1", rep)


def _format_number(v, pattern):
    return _c_format(pattern, v)


def _c_format(pattern: str, v: float) -> str:
    try:
        return pattern % (int(v) if re.search(r"%[-+ 0#]*\d*[dxXo]", pattern) else v)
    except (TypeError, ValueError):
        raise EvaluationError(f"formatNumber: cannot format {v!r} with {pattern!r}") from None


BUILTINS["formatNumber"] = Builtin(_str_fn(_format_number), "string", 2, 2)


# ---------------------------------------------------------------- dates
@builtin("dateDaysSinceYear", "integer", 2, 2)
def _days_since_year(d, year):
    import datetime as dt
    base = np.array([(dt.date(int(y), 1, 1) - dt.date(1970, 1, 1)).days for y in _f(year)])
    return np.floor(_f(d) / 86400.0) - base if False else _f(d) - base


@builtin("dateSecondsSinceYear", "integer", 2, 2)
def _secs_since_year(d, year):
    import datetime as dt
    base = np.array([(dt.date(int(y), 1, 1) - dt.date(1970, 1, 1)).days * 86400.0 for y in _f(year)])
    return _f(d) - base


@builtin("dateSecondsSinceMidnight", "integer", 1, 1)
def _secs_since_midnight(d): return np.mod(_f(d), 86400.0)


# ---------------------------------------------------------------- compile
_PER_TYPE_ARGS = {"dateDaysSinceYear": ("date",), "dateSecondsSinceYear": ("dateTime",),
                  "dateSecondsSinceMidnight": ("dateTime",)}


def compile_apply(el, ctx: Ctx) -> Expr:
    name = el.get("function")
    args = [compile_expression(c, ctx) for c in el
            if isinstance(c.tag, str) and c.tag not in ("Extension",)]
    mmt = el.get("mapMissingTo")
    dflt = el.get("defaultValue")
    ivt = el.get("invalidValueTreatment", "returnInvalid")
    line = el.sourceline
    if name == "if":
        expr = _compile_if(args, el)
    elif name in ctx.functions:
        expr = _compile_user_call(ctx.functions[name], args, el)
    elif name in BUILTINS:
        expr = _compile_builtin(name, BUILTINS[name], args, el)
    else:
        raise UnsupportedError(f"function {name!r} is not a PMML built-in nor defined in the "
                               "document", line=line, element="Apply")
    dt = expr.data_type

    def fn(scope: Scope) -> Col:
        col, anymiss = expr.fn(scope)
        vals, missing = col.values, col.missing
        if is_numeric_type(dt) and vals.dtype == float:
            bad = np.isnan(vals) & ~missing
            if bad.any():
                if ivt == "returnInvalid":
                    scope.fail(bad, lambda i: EvaluationError(
                        f"function {name!r} gave no valid result (line {line})", row=i))
                if ivt != "asIs":
                    missing = missing | bad
        if mmt is not None and anymiss.any():
            vals = vals.copy()
            vals[anymiss] = parse_scalar(mmt, dt)
            missing = missing & ~anymiss
        if dflt is not None:
            rest = missing & ~anymiss if mmt is not None else missing
            if rest.any():
                vals = vals.copy()
                vals[rest] = parse_scalar(dflt, dt)
                missing = missing & ~rest
        return Col(vals, missing, dt, col.op_type)

    return Expr(fn, dt, "categorical" if dt in ("string", "boolean") else "continuous")


def _compile_builtin(name: str, b: Builtin, args: list[Expr], el) -> Expr:
    if len(args) < b.min_args or (b.max_args is not None and len(args) > b.max_args):
        raise DocumentError(f"function {name!r} takes "
                            f"{b.min_args}{'..' + str(b.max_args) if b.max_args != b.min_args else ''}"
                            f" arguments, got {len(args)}", line=el.sourceline, element="Apply")
    rt = b.result_type if isinstance(b.result_type, str) else b.result_type([a.data_type for a in args])
    arg_types = _PER_TYPE_ARGS.get(name)

    def fn(scope: Scope):
        cols = [a(scope) for a in args]
        anymiss = np.zeros(scope.n, bool)
        for c in cols:
            anymiss |= c.missing
        if b.handles_missing:
            vals = b.impl(*cols)
            return Col(vals, np.zeros(scope.n, bool), rt), anymiss
        values = []
        for i, c in enumerate(cols):
            v = c.values
            if arg_types and i < len(arg_types) and c.data_type != arg_types[i] and \
                    c.data_type not in ("string",):
                v = cast(c, arg_types[i]).values
            if v.dtype == object and anymiss.any():
                v = v.copy()
                v[anymiss] = v[~anymiss][0] if (~anymiss).any() else 0.0
            values.append(v)
        if (~anymiss).any() or not len(anymiss):
            vals = b.impl(*values)
        else:
            vals = np.full(scope.n, np.nan) if is_numeric_type(rt) else np.full(scope.n, None, object)
        if is_numeric_type(rt):
            vals = np.asarray(vals, dtype=float)
            if anymiss.any():
                vals = np.where(anymiss, np.nan, vals)
        else:
            vals = np.asarray(vals, dtype=object)
            if anymiss.any():
                vals = vals.copy()
                vals[anymiss] = None
        return Col(vals, anymiss.copy(), rt), anymiss

    return Expr(fn, rt, "continuous")


def _compile_if(args: list[Expr], el) -> Expr:
    if len(args) not in (2, 3):
        raise DocumentError("function 'if' takes 2 or 3 arguments", line=el.sourceline,
                            element="Apply")
    cond, then = args[0], args[1]
    other = args[2] if len(args) == 3 else None
    rt = then.data_type
    if other is not None and other.data_type != rt and is_numeric_type(rt) and is_numeric_type(other.data_type):
        rt = "double"

    def fn(scope: Scope):
        c = cond(scope)
        t = then(scope)
        truth = ~c.missing & (c.values.astype(float) != 0)
        if other is not None:
            o = other(scope)
            vals = np.where(truth, t.values, o.values)
            missing = np.where(truth, t.missing, o.missing) | c.missing
        else:
            vals = t.values.copy()
            missing = t.missing | ~truth
        if is_numeric_type(rt):
            vals = np.where(missing, np.nan, vals.astype(float))
        else:
            vals = vals.astype(object)
            vals[missing] = None
        return Col(vals, missing, rt), c.missing

    return Expr(fn, rt, "continuous")


# ---------------------------------------------------------------- user-defined functions
@dataclass
class UserFunction:
    name: str
    params: list[FieldInfo]
    body: Expr
    data_type: str


def compile_define_functions(tdict_el, ctx: Ctx) -> None:
    """Compile every <DefineFunction> of the TransformationDictionary into ctx.functions."""
    if tdict_el is None:
        return
    els = tdict_el.findall("DefineFunction")
    for el in els:  # register names first: functions may call each other
        ctx.functions[el.get("name")] = None
    for el in els:
        name = el.get("name")
        params = []
        for p in el.findall("ParameterField"):
            dt = p.get("dataType") or "double"
            params.append(FieldInfo(p.get("name"), dt, p.get("optype") or
                                    ("categorical" if dt == "string" else "continuous")))
        fctx = Ctx(fields={p.name: p for p in params}, functions=ctx.functions)
        body_el = find_expression(el)
        if body_el is None:
            raise DocumentError(f"DefineFunction {name!r} has no body", line=el.sourceline,
                                element="DefineFunction")
        body = compile_expression(body_el, fctx)
        dt = el.get("dataType") or body.data_type
        ctx.functions[name] = UserFunction(name, params, body, dt)


def _compile_user_call(uf: UserFunction | None, args: list[Expr], el) -> Expr:
    name = el.get("function")
    if uf is None:
        # recursive or forward reference: resolve at call time
        holder = {}

        def lazy(scope):
            raise EvaluationError(f"function {name!r} is not defined")
        return Expr(lazy, "double", "continuous")
    if len(args) != len(uf.params):
        raise DocumentError(f"function {name!r} takes {len(uf.params)} arguments, got {len(args)}",
                            line=el.sourceline, element="Apply")

    def fn(scope: Scope):
        cols = [cast(a(scope), p.data_type, p.op_type) for a, p in zip(args, uf.params)]
        inner = Scope(scope.n, None, errors=scope.errors)
        anymiss = np.zeros(scope.n, bool)
        for p, c in zip(uf.params, cols):
            inner.put(p.name, c)
            anymiss |= c.missing
        out = cast(uf.body(inner), uf.data_type)
        return out, anymiss

    return Expr(fn, uf.data_type, "continuous")
