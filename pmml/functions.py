"""Apply: the PMML 4.4 built-in functions and user-defined functions (DefineFunction), vectorized.

Semantics (PMML 4.4 "Built-in functions", and JPMML-Evaluator where the text is silent):

- a missing argument makes the result missing, except for the functions that look at
  missingness: isMissing/isNotMissing/isValid/isNotValid, the aggregates min/max/sum/avg/
  median/product (missing arguments are ignored; all missing -> missing), concat (missing
  arguments are skipped), isIn/isNotIn (a missing value is in a list holding a missing constant)
  and if (only the condition and the branch taken matter; the other branch is not evaluated);
- results that are no number (NaN: ln(-1), 0.0/0.0), integer results beyond 32 bits and
  integer division by zero are *invalid*: the Apply's invalidValueTreatment decides
  (returnInvalid: the row fails; asMissing: missing, then defaultValue; asIs: the NaN is kept);
- mapMissingTo replaces the result of rows where an argument was missing (the function is not
  applied); defaultValue replaces a result that is still missing;
- result types: + - * / modulo pow threshold min max sum product keep the common type of their
  arguments (integer < float < double; integer / integer divides as integers); avg and median
  of integers are doubles; floor ceil round give integers; abs and rint keep their argument's
  type; the other math functions give doubles; comparisons and logic give booleans.
"""
from __future__ import annotations

import hashlib
import math
import operator
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from portmodel.errors import DocumentError, EvaluationError, UnsupportedError

from . import location, objects
from .context import Ctx
from .dictionary import FieldInfo
from .limits import Budget, check_deadline
from .expressions import (INT_MAX, Expr, _parse_attr, common_numeric_type,
                          compile_expression, convert, convert_checked, default_op_type,
                          to_numbers, to_text)
from .scope import Scope
from .strings import RegexError, format_datetime, format_number, java_regex, java_replacement
from .values import Col, _SINCE, _year_offset_days, full, is_numeric_type, is_temporal, to_column


class _LazySpecial:
    """scipy.special, imported on first use: importing it costs a large share of a command's
    start-up time, and most documents never call it."""

    def __getattr__(self, name: str):
        from scipy import special  # type: ignore[import-untyped]
        return getattr(special, name)


_special = _LazySpecial()


@dataclass
class Res:
    """What a function produced for a batch, before the Apply's own attributes are applied."""

    col: Col
    anymiss: np.ndarray                 # rows where an argument (that counts) was missing
    bad: np.ndarray | None = None       # rows with an invalid result (invalidValueTreatment)
    errs: dict[int, str] | None = None  # rows whose arguments the function rejects


@dataclass
class Builtin:
    name: str
    impl: Callable
    result: str | Callable[[list[str]], str]
    min_args: int
    max_args: int | None
    kind: str   # "numeric" | "general" | "tolerant"

    def result_type(self, types: list[str]) -> str:
        return self.result if isinstance(self.result, str) else self.result(types)


BUILTINS: dict[str, Builtin] = {}


def _reg(name: str, kind: str, result: Any, min_args: int, max_args: int | None = -1):
    def deco(fn):
        BUILTINS[name] = Builtin(name, fn, result, min_args,
                                 min_args if max_args == -1 else max_args, kind)
        return fn
    return deco


def _same(types: list[str]) -> str:
    return common_numeric_type(types)


def _mean_type(types: list[str]) -> str:
    t = common_numeric_type(types)
    return "double" if t == "integer" else t


def _ints(types: list[str]) -> bool:
    return common_numeric_type(types) == "integer"


# ================================================================ arithmetic (numeric kind)
# a numeric impl gets float64 arrays (values of missing rows are arbitrary and ignored) and the
# arguments' data types; it returns float64 values, NaN where the result is invalid.

@_reg("+", "numeric", _same, 2)
def _add(a, b, types): return a + b


@_reg("-", "numeric", _same, 2)
def _sub(a, b, types): return a - b


@_reg("*", "numeric", _same, 2)
def _mul(a, b, types): return a * b


@_reg("/", "numeric", _same, 2)
def _div(a, b, types):
    if _ints(types):   # integer division truncates; by zero it is undefined
        return np.where(b != 0, np.trunc(a / np.where(b != 0, b, 1)), np.nan)
    return a / b


@_reg("modulo", "numeric", _same, 2)
def _modulo(a, b, types):
    if _ints(types):   # floored modulo: the result has the sign of the divisor
        ok = (b != 0) & np.isfinite(a) & np.isfinite(b)
        ia = np.where(ok, a, 0).astype(np.int64)
        ib = np.where(ok, b, 1).astype(np.int64)
        return np.where(ok, np.mod(ia, ib).astype(float), np.nan)
    return a - np.floor(a / b) * b


@_reg("pow", "numeric", _same, 2)
def _pow(a, b, types):
    if _ints(types):
        neg = b < 0
        r = np.power(a, np.where(neg, 0, b))
        return np.where(neg, np.nan, r)
    r = np.power(a, b)
    # Java's Math.pow: a NaN exponent, or 1 ** +-inf, is NaN (C's pow says 1)
    return np.where(np.isnan(b) | ((np.abs(a) == 1) & np.isinf(b)), np.nan, r)


@_reg("threshold", "numeric", _same, 2)
def _threshold(a, b, types): return (a > b).astype(float)


def _unary(name: str, fn: Callable[[np.ndarray], np.ndarray], result: Any = "double") -> None:
    BUILTINS[name] = Builtin(name, lambda a, types: fn(a), result, 1, 1, "numeric")


def _java_round(x: np.ndarray) -> np.ndarray:
    """Java's Math.round: the closest integer, ties toward positive infinity."""
    r = np.floor(x)
    return r + (x - r >= 0.5)


def _sigma_ok(fn):
    def impl(x, mu, sigma, types):
        return np.where(sigma > 0, fn(x, mu, sigma), np.nan)
    return impl


_unary("log10", np.log10)
_unary("ln", np.log)
_unary("ln1p", np.log1p)
_unary("exp", np.exp)
_unary("expm1", np.expm1)
_unary("sqrt", np.sqrt)
_unary("abs", np.abs, _same)
_unary("rint", np.rint, _same)
_unary("floor", np.floor, "integer")
_unary("ceil", np.ceil, "integer")
_unary("round", _java_round, "integer")
for _n, _f in (("sin", np.sin), ("cos", np.cos), ("tan", np.tan), ("asin", np.arcsin),
               ("acos", np.arccos), ("atan", np.arctan), ("sinh", np.sinh), ("cosh", np.cosh),
               ("tanh", np.tanh), ("erf", lambda x: _special.erf(x)),
               ("stdNormalCDF", lambda x: _special.ndtr(x)),
               ("stdNormalIDF", lambda x: _special.ndtri(x))):
    _unary(_n, _f)
_unary("stdNormalPDF", lambda x: np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi))
for _n in ("x-atan2", "atan2"):   # not in PMML 4.4: the reference engine's extension
    BUILTINS[_n] = Builtin(_n, lambda y, x, types: np.arctan2(y, x), "double", 2, 2, "numeric")
BUILTINS["hypot"] = Builtin("hypot", lambda x, y, types: np.hypot(x, y), "double", 2, 2,
                            "numeric")
BUILTINS["normalCDF"] = Builtin("normalCDF", _sigma_ok(
    lambda x, mu, s: _special.ndtr((x - mu) / s)), "double", 3, 3, "numeric")
BUILTINS["normalPDF"] = Builtin("normalPDF", _sigma_ok(
    lambda x, mu, s: np.exp(-0.5 * ((x - mu) / s) ** 2) / (s * math.sqrt(2 * math.pi))),
    "double", 3, 3, "numeric")
BUILTINS["normalIDF"] = Builtin("normalIDF", _sigma_ok(
    lambda p, mu, s: mu + s * _special.ndtri(p)), "double", 3, 3, "numeric")


# ================================================================ aggregates (tolerant kind)
# a tolerant impl gets the argument Cols and returns (values, missing[, errs]).

def _matrix(cols: list[Col]) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    nums, errs = [], {}
    for c in cols:
        v, bad = to_numbers(c)
        for i in np.flatnonzero(bad):
            errs[int(i)] = f"{c.values[i]!r} is not a number"
        nums.append(v)
    return np.vstack(nums), np.vstack([c.missing for c in cols]), errs


def _aggregate(kind: str):
    def impl(cols: list[Col]):
        m, miss, errs = _matrix(cols)
        count = (~miss).sum(axis=0)
        with np.errstate(all="ignore"):
            if kind == "min":
                r = np.where(miss, np.inf, m).min(axis=0)
            elif kind == "max":
                r = np.where(miss, -np.inf, m).max(axis=0)
            elif kind == "sum":
                r = np.where(miss, 0.0, m).sum(axis=0)
            elif kind == "product":
                r = np.where(miss, 1.0, m).prod(axis=0)
            elif kind == "avg":
                r = np.where(miss, 0.0, m).sum(axis=0) / np.maximum(count, 1)
            else:
                import warnings
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    r = np.nanmedian(np.where(miss, np.nan, m), axis=0)
        empty = count == 0
        return np.where(empty, np.nan, r), empty, errs
    return impl


for _n in ("min", "max", "sum", "product", "avg", "median"):
    BUILTINS[_n] = Builtin(_n, _aggregate(_n), _mean_type if _n in ("avg", "median") else _same,
                           1, None, "tolerant")


# ================================================================ missingness and validity

def _valid(c: Col) -> np.ndarray:
    ok = c.valid.copy()
    if c.values.dtype.kind == "f":
        ok &= ~np.isnan(c.values)     # a NaN that is not missing is an invalid value
    return ok


_reg("isMissing", "tolerant", "boolean", 1)(
    lambda cols: (cols[0].missing.astype(float), np.zeros(len(cols[0]), bool)))
_reg("isNotMissing", "tolerant", "boolean", 1)(
    lambda cols: ((~cols[0].missing).astype(float), np.zeros(len(cols[0]), bool)))
_reg("isValid", "tolerant", "boolean", 1)(
    lambda cols: (_valid(cols[0]).astype(float), np.zeros(len(cols[0]), bool)))
_reg("isNotValid", "tolerant", "boolean", 1)(
    lambda cols: ((~cols[0].missing & ~_valid(cols[0])).astype(float),
                  np.zeros(len(cols[0]), bool)))


# ================================================================ comparison and logic
# a general impl gets the argument Cols and the mask of rows to compute (no argument missing);
# it returns full-length values (other rows are ignored) and a dict row -> error message.

def _compare_prep(a: Col, b: Col, ok: np.ndarray):
    """Both sides in one representation: floats if a is numeric, else strings."""
    errs: dict[int, str] = {}
    if is_numeric_type(a.data_type) and a.values.dtype.kind == "f":
        if b.values.dtype.kind == "f":
            return a.values, b.values, errs
        bv, bad = to_numbers(b)
        for i in np.flatnonzero(bad & ok):
            errs[int(i)] = f"{b.values[i]!r} is not a number"
        return a.values, bv, errs
    return to_text(a), to_text(b), errs


def _cmp(op):
    def impl(cols: list[Col], ok: np.ndarray):
        a, b, errs = _compare_prep(cols[0], cols[1], ok)
        if a.dtype == object:
            out = np.zeros(len(a), float)
            idx = ok.nonzero()[0]
            if len(idx):
                out[idx] = op(a[idx], b[idx]).astype(float)
            return out, errs
        with np.errstate(invalid="ignore"):
            return op(a, b).astype(float), errs
    return impl


for _n, _op in (("equal", np.equal), ("notEqual", np.not_equal), ("lessThan", np.less),
                ("lessOrEqual", np.less_equal), ("greaterThan", np.greater),
                ("greaterOrEqual", np.greater_equal)):
    BUILTINS[_n] = Builtin(_n, _cmp(_op), "boolean", 2, 2, "general")


def _truth(c: Col, ok: np.ndarray, errs: dict[int, str]) -> np.ndarray:
    """Boolean values of a column: numbers are true unless 0; text must be true/false/1/0."""
    if c.values.dtype.kind == "f":
        return c.values != 0
    out = np.zeros(len(c), bool)
    for i in np.flatnonzero(ok):
        v = str(c.values[i]).strip().lower()
        if v in ("true", "1", "1.0"):
            out[i] = True
        elif v not in ("false", "0", "0.0"):
            errs[int(i)] = f"{c.values[i]!r} is not a boolean"
    return out


def _logic(reduce):
    def impl(cols: list[Col], ok: np.ndarray):
        errs: dict[int, str] = {}
        vals = reduce([_truth(c, ok, errs) for c in cols])
        return vals.astype(float), errs
    return impl


BUILTINS["and"] = Builtin("and", _logic(np.logical_and.reduce), "boolean", 2, None, "general")
BUILTINS["or"] = Builtin("or", _logic(np.logical_or.reduce), "boolean", 2, None, "general")
BUILTINS["not"] = Builtin("not", _logic(lambda ts: ~ts[0]), "boolean", 1, 1, "general")


def _membership(negate: bool):
    def impl(cols: list[Col]):
        a = cols[0]
        n = len(a)
        hit = np.zeros(n, bool)
        errs: dict[int, str] = {}
        for c in cols[1:]:
            both = ~a.missing & ~c.missing
            if both.any():
                eq, e = _cmp(np.equal)([a, c], both)
                hit |= both & (eq != 0)
                errs.update(e)
            hit |= a.missing & c.missing   # a missing value is in a list holding a missing one
        return (hit != negate).astype(float), np.zeros(n, bool), errs
    return impl


BUILTINS["isIn"] = Builtin("isIn", _membership(False), "boolean", 2, None, "tolerant")
BUILTINS["isNotIn"] = Builtin("isNotIn", _membership(True), "boolean", 2, None, "tolerant")


# ================================================================ strings (row by row)

def _rowwise(fn: Callable, kinds: str, result: str):
    """A general impl that calls fn on each computed row's Python values.

    kinds has one letter per argument: s = text, n = (number, data type), i = integer,
    t = (temporal value, data type). fn raises ValueError (or similar) for arguments it rejects.
    """
    def impl(cols: list[Col], ok: np.ndarray):
        n = len(cols[0]) if cols else 0
        errs: dict[int, str] = {}
        rows_ok = ok.copy()
        prepared = []
        for c, k in zip(cols, kinds):
            if k == "s":
                prepared.append(to_text(c))
            elif k == "t":
                vals, dt = _temporal_arg(c)
                prepared.append([(float(v), dt) for v in vals])
            else:
                v, bad = to_numbers(c)
                for i in np.flatnonzero(bad & ok):
                    errs[int(i)] = f"{c.values[i]!r} is not a number"
                if k == "i":
                    for i in np.flatnonzero(ok & ~bad & ~(np.floor(v) == v)):
                        errs[int(i)] = f"{v[i]!r} is not an integer"
                    prepared.append([int(x) if math.isfinite(x) else 0 for x in v])
                else:
                    prepared.append([(float(x), c.data_type) for x in v])
        if errs:
            rows_ok[list(errs)] = False
        idx = np.flatnonzero(rows_ok)
        out = np.full(n, np.nan) if is_numeric_type(result) else np.full(n, None, object)
        args = [[p[i] for i in idx] for p in prepared]
        try:
            values = [fn(*a) for a in zip(*args)]
        except _ROW_ERRORS:     # some row is rejected: find which, one by one
            values = []
            for i, a in zip(idx, zip(*args)):
                try:
                    values.append(fn(*a))
                except _ROW_ERRORS as e:
                    errs[int(i)] = str(e) or type(e).__name__
                    values.append(None)
        if len(idx):
            tmp = np.empty(len(idx), object)
            tmp[:] = values
            out[idx] = tmp if out.dtype == object else np.array(
                [np.nan if v is None else v for v in values], dtype=float)
        return out, errs
    return impl


_ROW_ERRORS = (ValueError, TypeError, IndexError, OverflowError, RegexError)


def _temporal_arg(c: Col) -> tuple[np.ndarray, str]:
    if is_temporal(c.data_type) and c.values.dtype.kind == "f":
        return c.values, c.data_type
    conv, _ = to_column(c.values, "dateTime")
    return conv.values, "dateTime"


_BLANKS = "".join(chr(i) for i in range(33))   # what Java's String.trim removes


def _substring(s: str, start: int, length: int) -> str:
    if start < 1:
        raise ValueError(f"substring start position {start} is less than 1")
    if length < 0:
        raise ValueError(f"substring length {length} is negative")
    return s[start - 1:start - 1 + length]


def _utf16_len(s: str) -> float:
    return float(len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF))


def _format_number(x, pattern: str) -> str:
    value, dt = x
    return format_number(value, pattern, dt == "integer")


for _n, _fn, _k, _rt in (
        ("uppercase", str.upper, "s", "string"),
        ("lowercase", str.lower, "s", "string"),
        ("trimBlanks", lambda s: s.strip(_BLANKS), "s", "string"),
        ("stringLength", _utf16_len, "s", "integer"),
        ("substring", _substring, "sii", "string"),
        ("replace", lambda s, p, r: java_regex(p).sub(java_replacement(r), s), "sss", "string"),
        ("matches", lambda s, p: float(java_regex(p).search(s) is not None), "ss", "boolean"),
        ("formatNumber", _format_number, "ns", "string"),
        ("formatDatetime", lambda t, p: format_datetime(t[0], t[1], p), "ts", "string")):
    BUILTINS[_n] = Builtin(_n, _rowwise(_fn, _k, _rt), _rt, len(_k), len(_k), "general")


def _concat(cols: list[Col]):
    n = len(cols[0])
    texts = [to_text(c) if c.values.dtype != object else c.values for c in cols]
    out = np.empty(n, object)
    out[:] = ["".join(t[i] for t, c in zip(texts, cols) if not c.missing[i]) for i in range(n)]
    return out, np.zeros(n, bool)


BUILTINS["concat"] = Builtin("concat", _concat, "string", 1, None, "tolerant")


# ================================================================ dates (vectorized)

def _year_start_days(years: np.ndarray) -> np.ndarray:
    """Days from 1970-01-01 to January 1st of each year."""
    y = (years.astype(np.int64) - 1970).astype("datetime64[Y]")
    return y.astype("datetime64[D]").astype(np.int64).astype(float)


def _epoch_seconds(c: Col) -> np.ndarray:
    vals, dt = _temporal_arg(c)
    if dt == "date":
        return vals * 86400.0
    m = _SINCE.match(dt)
    if m:
        off = _year_offset_days(int(m.group(2))) * 86400.0
        return (vals * 86400.0 if m.group(1) == "dateDaysSince" else vals) + off
    return vals   # dateTime: seconds since the epoch; time: seconds since midnight


def _years(c: Col, ok: np.ndarray, errs: dict[int, str]) -> np.ndarray:
    y, bad = to_numbers(c)
    for i in np.flatnonzero(ok & (bad | ~(np.floor(y) == y))):
        errs[int(i)] = f"{c.values[i]!r} is not a year"
    return np.where(ok & ~bad & (np.floor(y) == y), y, 1970)


def _days_since_year(cols: list[Col], ok: np.ndarray):
    errs: dict[int, str] = {}
    days = np.floor(_epoch_seconds(cols[0]) / 86400.0)
    return days - _year_start_days(_years(cols[1], ok, errs)), errs


def _seconds_since_year(cols: list[Col], ok: np.ndarray):
    errs: dict[int, str] = {}
    secs = np.floor(_epoch_seconds(cols[0]))
    return secs - _year_start_days(_years(cols[1], ok, errs)) * 86400.0, errs


def _seconds_since_midnight(cols: list[Col], ok: np.ndarray):
    return np.floor(np.mod(_epoch_seconds(cols[0]), 86400.0)), {}


BUILTINS["dateDaysSinceYear"] = Builtin("dateDaysSinceYear", _days_since_year, "integer", 2, 2,
                                        "general")
BUILTINS["dateSecondsSinceYear"] = Builtin("dateSecondsSinceYear", _seconds_since_year,
                                           "integer", 2, 2, "general")
BUILTINS["dateSecondsSinceMidnight"] = Builtin("dateSecondsSinceMidnight", _seconds_since_midnight,
                                               "integer", 1, 1, "general")


# ================================================================ scopes for lazy evaluation

class _GuardScope(Scope):
    """The parent's fields, but row errors count only for the rows in ``guard`` (the rows where
    an if-branch is taken: the reference engine never evaluates the other branch)."""

    __slots__ = ("guard",)

    def __init__(self, base: Scope, guard: np.ndarray):
        super().__init__(base.n, base, None, base.errors)
        self.guard = guard

    def fail(self, mask, make) -> None:
        self.parent.fail(mask & self.guard, make)


class _FunctionScope(Scope):
    """The parameters of a user-defined function; row errors go to the calling scope."""

    __slots__ = ("outer",)

    def __init__(self, outer: Scope):
        super().__init__(outer.n, None, None, outer.errors)
        self.outer = outer

    def fail(self, mask, make) -> None:
        self.outer.fail(mask, make)


# ================================================================ compile

_IVT = ("returnInvalid", "asIs", "asMissing")


def compile_apply(el: objects.Apply, ctx: Ctx) -> Expr:
    """Compile a typed Apply: the function call plus mapMissingTo, defaultValue and
    invalidValueTreatment."""
    name = el.function
    line = el.line
    if not name:
        raise DocumentError("Apply without a function", line=line, element="Apply")
    ivt = el.invalid_value_treatment or "returnInvalid"
    if ivt not in _IVT:
        raise UnsupportedError(f"Apply invalidValueTreatment={ivt!r}", line=line,
                               element="Apply")
    for other in el.extensions:      # a child that is no expression: not an argument we know
        if other.tag != "Extension":
            raise UnsupportedError(f"expression <{other.tag}> is not supported",
                                   **location.where(other))
    arg_els = el.arguments
    if name == "if":
        # each branch runs in a scope of its own (_GuardScope): its calls are evaluated, and
        # counted, apart from the rest
        args = []
        for i, c in enumerate(arg_els):
            outer_calls = ctx.calls
            if i:
                ctx.calls = set()
            try:
                args.append(compile_expression(c, ctx))
            finally:
                ctx.calls = outer_calls
    else:
        args = [compile_expression(c, ctx) for c in arg_els]
    if name == "if":
        core = _compile_if(args, el)
    elif name in BUILTINS:   # built-ins first, as the reference engine resolves names
        core = _compile_builtin(BUILTINS[name], args, el)
    elif name in ctx.functions:
        core = _compile_user_call(ctx.functions[name], args, arg_els, el, ctx)
    else:
        raise UnsupportedError(f"function {name!r} is neither a PMML built-in nor defined in "
                               "the document", line=line, element="Apply")
    rt = core.data_type
    op = core.op_type
    mmt = _parse_attr(el.map_missing_to, rt, el, "mapMissingTo")
    dflt = _parse_attr(el.default_value, rt, el, "defaultValue")
    numeric = is_numeric_type(rt)
    where = f"function {name!r} (line {line})"
    fused = _fuse(name, args, rt, mmt, dflt, ivt)
    scalar = _fuse_scalar(name, args) if fused is not None else None
    # (errstate as a decorator: cheaper than a with-block per call, and reentrant)
    quiet = np.errstate(all="ignore")(fused) if fused is not None else None

    def fn(scope: Scope) -> Col:
        if scalar is not None and scope.n == 1:
            try:
                x = scalar(scope)
            except ZeroDivisionError:   # numpy's answer (inf or NaN) comes from the array path
                x = math.nan
            if x == x:
                return Col(np.array([x]), np.zeros(1, bool), rt, op)
        if quiet is not None:
            r = quiet(scope)
            if isinstance(r, np.ndarray) and (
                    r[0] == r[0] if len(r) == 1 else not np.isnan(r).any()):
                return Col(r, np.zeros(len(r), bool), rt, op)
        res: Res = core.fn(scope)
        col = res.col
        vals, missing = col.values, col.missing
        bad = res.bad if res.bad is not None else np.zeros(scope.n, bool)
        if numeric and vals.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                if rt == "integer":
                    undefined = ~missing & ~(np.abs(vals) <= INT_MAX)
                else:
                    undefined = ~missing & np.isnan(vals)
            bad = bad | undefined
            if rt == "float":
                with np.errstate(over="ignore"):
                    vals = vals.astype(np.float32).astype(float)
        if res.errs:
            rows = np.zeros(scope.n, bool)
            rows[list(res.errs)] = True
            msgs = res.errs
            scope.fail(rows, lambda i: EvaluationError(f"{where}: {msgs[i]}", row=i))
            missing = missing | rows
            bad = bad & ~rows
        if bad.any():
            keep = ivt == "asIs" and numeric and rt != "integer"
            if not keep:
                if ivt != "asMissing":
                    scope.fail(bad, lambda i: EvaluationError(
                        f"{where} has no valid result", row=i))
                missing = missing | bad
        if mmt is not None and res.anymiss.any():
            vals = vals.copy() if vals is col.values else vals
            vals[res.anymiss] = mmt
            missing = missing & ~res.anymiss
        if dflt is not None and missing.any():
            rest = missing if mmt is None else missing & ~res.anymiss
            if rest.any():
                vals = vals.copy() if vals is col.values else vals
                vals[rest] = dflt
                missing = missing & ~rest
        if missing.any():
            vals = vals.copy() if vals is col.values else vals
            vals[missing] = np.nan if vals.dtype.kind == "f" else None
        return Col(vals, missing, rt, col.op_type)

    return Expr(fn, rt, op, fused, scalar, cost=core.cost + sum(a.cost for a in args),
                depth=max([core.depth] + [a.depth + 1 for a in args]))


#: double arithmetic that fuses into one numpy expression (no integer or float rounding rules)
_FUSABLE = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "exp": np.exp,
            "ln": np.log, "log10": np.log10, "sqrt": np.sqrt, "abs": np.abs}


def _fuse(name: str, args: list[Expr], rt: str, mmt: Any, dflt: Any, ivt: str):
    """A NaN-propagating fast path for double arithmetic over fields and constants, or None.

    NaN in its result means "some input missing, or an invalid result": callers then take the
    exact path, which sorts out missing values, mapMissingTo and row errors.
    """
    ufunc = _FUSABLE.get(name)
    if ufunc is None or rt != "double" or mmt is not None or dflt is not None or \
            ivt != "returnInvalid" or any(a.fused is None for a in args):
        return None
    if ufunc.nin != len(args):
        return None
    parts = [a.fused for a in args]
    if len(parts) == 1:
        (f,) = parts

        def fused1(scope: Scope):   # callers evaluate under np.errstate(all="ignore")
            return ufunc(f(scope))
        return fused1
    f, g = parts

    def fused2(scope: Scope):
        return ufunc(f(scope), g(scope))
    return fused2


#: the fusable operations whose Python float result is the IEEE result numpy gives (math.exp
#: and friends may differ from numpy's in the last place: they stay on the array path)
_SCALAR = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
           "abs": abs}


def _fuse_scalar(name: str, args: list[Expr]):
    """The one-record (Python float) form of ``_fuse``'s arithmetic, or None. Only where the
    array form gives an array (some argument reads a field), so both answer the same rows."""
    op = _SCALAR.get(name)
    if op is None or any(a.scalar is None for a in args) or \
            all(getattr(a.scalar, "constant", False) for a in args):
        return None
    parts = [a.scalar for a in args]
    if len(parts) == 1:
        (f,) = parts
        return lambda scope: op(f(scope))
    f, g = parts
    if getattr(g, "constant", False):      # (x - mean) / std: constants read once, here
        c = g(None)
        return lambda scope: op(f(scope), c)
    if getattr(f, "constant", False):
        c = f(None)
        return lambda scope: op(c, g(scope))
    return lambda scope: op(f(scope), g(scope))


def _check_arity(name: str, lo: int, hi: int | None, got: int, el) -> None:
    if got < lo or (hi is not None and got > hi):
        want = str(lo) if hi == lo else (f"at least {lo}" if hi is None else f"{lo} to {hi}")
        raise DocumentError(f"function {name!r} takes {want} argument(s), got {got}",
                            line=el.line, element="Apply")


def _anymiss(cols: list[Col], n: int) -> np.ndarray:
    m = np.zeros(n, bool)
    for c in cols:
        m |= c.missing
    return m


def _compile_builtin(b: Builtin, args: list[Expr], el) -> Expr:
    _check_arity(b.name, b.min_args, b.max_args, len(args), el)
    types = [a.data_type for a in args]
    rt = b.result_type(types)
    numeric = is_numeric_type(rt)

    def empty(n: int) -> np.ndarray:
        return np.full(n, np.nan) if numeric else np.full(n, None, object)

    if b.kind == "numeric":
        def fn(scope: Scope) -> Res:
            cols = [a(scope) for a in args]
            anymiss = _anymiss(cols, scope.n)
            nums, errs = [], {}
            for c in cols:
                v, bad = to_numbers(c)
                for i in np.flatnonzero(bad & ~anymiss):
                    errs[int(i)] = f"{c.values[i]!r} is not a number"
                nums.append(v)
            with np.errstate(all="ignore"):
                vals = np.asarray(b.impl(*nums, types=types), dtype=float)
            vals = np.where(anymiss, np.nan, vals)
            return Res(Col(vals, anymiss.copy(), rt, "continuous"), anymiss, None, errs)
    elif b.kind == "general":
        def fn(scope: Scope) -> Res:
            cols = [a(scope) for a in args]
            anymiss = _anymiss(cols, scope.n)
            ok = ~anymiss
            if ok.any():
                vals, errs = b.impl(cols, ok)
                vals = np.asarray(vals, dtype=float if numeric else object)
            else:
                vals, errs = empty(scope.n), {}
            return Res(Col(vals, anymiss.copy(), rt, default_op_type(rt)), anymiss, None, errs)
    else:
        def fn(scope: Scope) -> Res:
            cols = [a(scope) for a in args]
            anymiss = _anymiss(cols, scope.n)
            out = b.impl(cols)
            vals, missing = out[0], out[1]
            errs = out[2] if len(out) > 2 else None
            vals = np.asarray(vals, dtype=float if numeric else object)
            return Res(Col(vals, missing, rt, default_op_type(rt)), anymiss, None, errs)

    return Expr(fn, rt, default_op_type(rt))


def _branch_type(a: str, b: str) -> str:
    if a == b:
        return a
    if is_numeric_type(a) and is_numeric_type(b) and not is_temporal(a) and not is_temporal(b):
        return common_numeric_type([a, b])
    return "string"


def _compile_if(args: list[Expr], el) -> Expr:
    _check_arity("if", 2, 3, len(args), el)
    cond, then = args[0], args[1]
    other = args[2] if len(args) == 3 else None
    rt = then.data_type if other is None else _branch_type(then.data_type, other.data_type)

    def branch(expr: Expr, scope: Scope, rows: np.ndarray) -> Col | None:
        if not rows.any():
            return None
        col = expr(_GuardScope(scope, rows))
        if col.data_type != rt:
            col = convert(col, rt)[0]
        return col

    def fn(scope: Scope) -> Res:
        c = cond(scope)
        errs: dict[int, str] = {}
        decided = ~c.missing
        truth = _truth(c, decided, errs) & decided
        if errs:     # a condition that is no boolean decides nothing
            rows = list(errs)
            truth[rows] = False
            decided[rows] = False
        take_then = decided & truth
        take_else = decided & ~truth
        vals = full(scope.n, None, rt).values
        missing = np.ones(scope.n, bool)
        anymiss = c.missing.copy()
        t = branch(then, scope, take_then)
        if t is not None:
            vals[take_then] = t.values[take_then]
            missing[take_then] = t.missing[take_then]
            anymiss |= take_then & t.missing
        if other is not None:
            e = branch(other, scope, take_else)
            if e is not None:
                vals[take_else] = e.values[take_else]
                missing[take_else] = e.missing[take_else]
                anymiss |= take_else & e.missing
        return Res(Col(vals, missing, rt, default_op_type(rt)), anymiss, None,
                   {i: f"condition {m}" for i, m in errs.items()} or None)

    return Expr(fn, rt, default_op_type(rt))


# ================================================================ user-defined functions

class UserFunction:
    """A typed DefineFunction, compiled on first use for the argument types of its callers."""

    def __init__(self, df: objects.DefineFunction, functions: dict[str, Any], budget: Budget):
        self.budget = budget
        self.name = df.name
        self.functions = functions
        self.data_type: str | None = df.data_type
        self.op_type: str | None = df.optype
        self.params: list[tuple[str, str | None, str | None]] = []
        for p in df.parameters:
            if not p.name:
                raise DocumentError(f"ParameterField of {self.name!r} without a name",
                                    line=p.line, element="ParameterField")
            self.params.append((p.name, p.data_type, p.optype))
        #: the body expression (typed)
        self.body = df.expression
        if self.body is None:
            raise DocumentError(f"DefineFunction {self.name!r} has no expression",
                                line=df.line, element="DefineFunction")
        self._compiled: dict[tuple[str, ...], tuple[Expr, list[FieldInfo]]] = {}
        self._compiling = False

    def instantiate(self, arg_types: list[str], call_el) -> tuple[Expr, list[FieldInfo]]:
        """The body compiled for these argument types (parameters without a dataType take
        their argument's type)."""
        infos = []
        for (pname, pdt, pop), at in zip(self.params, arg_types):
            dt = pdt or at
            infos.append(FieldInfo(pname, dt, pop or default_op_type(dt)))
        key = tuple(i.data_type for i in infos)
        if key in self._compiled:
            return self._compiled[key]
        if self._compiling:
            raise UnsupportedError(f"function {self.name!r} calls itself (recursion is not "
                                   "supported)", **location.where(call_el))
        self._compiling = True
        try:
            fctx = Ctx(fields={i.name: i for i in infos}, functions=self.functions,
                       budget=self.budget)
            body = compile_expression(self.body, fctx)
        finally:
            self._compiling = False
        self._compiled[key] = (body, infos)
        return body, infos


def compile_define_functions(tdict: objects.TransformationDictionary | None,
                             ctx: Ctx) -> None:
    """Register every DefineFunction of the typed TransformationDictionary in ctx.functions.

    Bodies compile when first called (so functions may call each other in any order); those
    with fully typed parameters are compiled now as well, so their errors show at load.
    """
    if tdict is None:
        return
    for df in tdict.functions:
        if not df.name:
            raise DocumentError("DefineFunction without a name", line=df.line,
                                element="DefineFunction")
        ctx.functions[df.name] = UserFunction(df, ctx.functions, ctx.budget)
    for df in tdict.functions:
        uf = ctx.functions[df.name]
        if all(dt is not None for _, dt, _ in uf.params):
            uf.instantiate([dt for _, dt, _ in uf.params], df)


def _compile_user_call(uf: UserFunction, args: list[Expr], arg_els: tuple, el: objects.Apply,
                       ctx: Ctx) -> Expr:
    """A call of a user-defined function. A body is a pure function of its arguments, so calls
    with the same argument expressions in one scope (one function invocation, one if-branch,
    one model) are evaluated once: the result is kept in the scope's cache under a key no field
    name can take (XML names hold no NUL). The load-time cost counts such a call's body once."""
    _check_arity(uf.name, len(uf.params), len(uf.params), len(args), el)
    body, infos = uf.instantiate([a.data_type for a in args], el)
    rt = uf.data_type or body.data_type
    op = uf.op_type or default_op_type(rt)
    what = f"function {uf.name!r} (line {el.line})"
    # the arguments' content (typed nodes compare and print without their lines)
    signature = repr(tuple(arg_els)).encode()
    key = (f"\0call:{id(uf)}:{'/'.join(i.data_type for i in infos)}:"
           f"{hashlib.blake2b(signature, digest_size=16).hexdigest()}")
    cost = 1 + (0 if key in ctx.calls else body.cost)
    ctx.calls.add(key)

    def fn(scope: Scope) -> Res:
        done = scope.cache.get(key)
        if done is not None:
            return done
        check_deadline()
        cols = [a(scope) for a in args]
        anymiss = _anymiss(cols, scope.n)
        inner = _FunctionScope(scope)
        for info, c in zip(infos, cols):
            inner.put(info.name, convert_checked(c, info.data_type, info.op_type, scope,
                                                 f"{what} parameter {info.name!r}"))
        out = convert_checked(body(inner), rt, op, scope, what)
        res = scope.cache[key] = Res(out, anymiss)
        return res

    return Expr(fn, rt, op, cost=cost, depth=body.depth + 1)
