"""Expressions of the object model (``objects.Expression``) compiled to column functions:
Constant, FieldRef, NormContinuous, NormDiscrete, Discretize, MapValues, TextIndex, Apply; and
DerivedField around them.

Every expression compiles once at load into an ``Expr``: a function scope -> Col plus the data
type and op type it is known to produce. Type conversions follow PMML (and JPMML-Evaluator where
the specification is silent): see ``convert``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from portmodel.errors import DocumentError, EvaluationError, UnsupportedError
from portmodel.fields import Interval
from portmodel.lazy_import import lazy_module

from . import objects
from .context import Ctx
from .location import tag_of, where
from .dictionary import FieldInfo, in_intervals
from .limits import check_deadline, check_expression
from .scope import Scope
from .strings import java_double_str, java_float_str
from .values import (Col, codes, convert_temporal, full, is_numeric_type, is_temporal, parse_scalar,
                     to_column)

pd = lazy_module("pandas")     # (imported on first use: see portmodel.lazy_import)

EXPRESSION_TAGS = ("Constant", "FieldRef", "NormContinuous", "NormDiscrete", "Discretize",
                   "MapValues", "TextIndex", "Apply", "Aggregate", "Lag")
INT_MAX = 2 ** 31 - 1   # PMML integer values are 32-bit, as in the reference engine


@dataclass
class Expr:
    """A compiled expression: fn(scope) -> Col, with its statically known type."""

    fn: Callable[[Scope], Col]
    data_type: str
    op_type: str
    #: optional fast path for double arithmetic: values with NaN standing for "missing or
    #: invalid" (numeric Cols hold NaN where missing). A caller that sees no NaN may use the
    #: values as they are; otherwise it must take ``fn`` for the exact missing/error semantics.
    fused: Callable[[Scope], Any] | None = None
    #: the same for one record, in Python floats (``scope.n == 1``): same IEEE operations,
    #: without numpy's per-call overhead. May raise ZeroDivisionError (then use ``fused``).
    #: A constant's function carries ``constant = True``.
    scalar: Callable[[Scope], float] | None = None
    #: expression nodes evaluated per row (user-defined function bodies expanded) and the
    #: nesting depth of the evaluation: both bounded at load (see limits.py)
    cost: int = 1
    depth: int = 1

    def __call__(self, scope: Scope) -> Col:
        return self.fn(scope)


def compile_expression(expr: objects.Expression, ctx: Ctx) -> Expr:
    """Compile a typed expression (``objects.Expression``) once, at load. A part the reader
    kept untyped (a ``Fragment``: an unknown or extension element) is unsupported."""
    if not isinstance(expr, objects.Node):
        raise UnsupportedError(f"expression <{tag_of(expr)}> is not supported", **where(expr))
    compiler = _COMPILERS.get(type(expr))
    if compiler is None:
        raise UnsupportedError(f"expression <{expr.XML.tag}> is not supported", **where(expr))
    budget = ctx.budget
    budget.enter(expr)
    try:
        compiled = compiler(expr, ctx)
    finally:
        budget.depth -= 1
    check_expression(compiled.cost, compiled.depth, expr)
    return compiled


def default_op_type(data_type: str) -> str:
    return "categorical" if data_type in ("string", "boolean") else "continuous"


# ------------------------------------------------------------------ type conversion

def to_text(col: Col) -> np.ndarray:
    """Column values as Python strings (None where missing), the way a PMML engine prints them:
    integers without a decimal point, doubles as Java does ("2.0", "1.0E7"), booleans as
    "true"/"false", dates and times in ISO 8601."""
    src = col.data_type
    vals = col.values
    if src == "string" and vals.dtype == object:
        return vals     # text already (missing rows hold None)
    out = np.empty(len(col), object)
    if not is_numeric_type(src) or vals.dtype == object:
        out[:] = [None if m or v is None else str(v) for v, m in zip(vals, col.missing)]
        return out
    if src == "integer" or re.match(r"^(dateDaysSince|dateTimeSecondsSince)\[", src):
        fmt: Callable[[float], str] = lambda v: str(int(v)) if math.isfinite(v) else java_double_str(v)
    elif src == "boolean":
        fmt = lambda v: "true" if v else "false"  # noqa: E731
    elif src == "float":
        fmt = java_float_str
    elif src in ("date", "time", "dateTime", "timeSeconds"):
        from .strings import to_datetime
        pattern = {"date": "%Y-%m-%d", "time": "%H:%M:%S", "timeSeconds": "%H:%M:%S"}.get(
            src, "%Y-%m-%dT%H:%M:%S")
        fmt = lambda v: to_datetime(v, src).strftime(pattern)  # noqa: E731
    else:
        fmt = java_double_str
    out[:] = [None if m else fmt(float(v)) for v, m in zip(vals, col.missing)]
    return out


def to_numbers(col: Col) -> tuple[np.ndarray, np.ndarray]:
    """Column values as float64, and the mask of present values that are not numbers."""
    vals = col.values
    if vals.dtype.kind == "f":
        return vals, np.zeros(len(col), bool)
    if vals.dtype.kind in "iub":
        return vals.astype(float), np.zeros(len(col), bool)
    num = pd.to_numeric(pd.Series(vals, dtype=object).where(~col.missing, None),
                        errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(num) & ~col.missing
    if bad.any():   # NaN / INF spellings
        for i in np.flatnonzero(bad):
            try:
                num[i] = parse_scalar(vals[i], "double")
                bad[i] = False
            except (TypeError, ValueError):
                pass
    return num, bad


def convert(col: Col, data_type: str, op_type: str | None = None) -> tuple[Col, np.ndarray]:
    """Convert a column to another PMML data type, strictly.

    Returns the converted column and the mask of present values that have no value in the new
    type (text that is not a number, 2.5 as an integer, 2 as a boolean, ...): those rows come
    back missing; callers report them as errors, as the reference engine does.
    """
    op = op_type or col.op_type
    src = col.data_type
    n = len(col)
    nobad = np.zeros(n, bool)
    if src == data_type:
        if op == col.op_type:
            return col, nobad
        return Col(col.values, col.missing, data_type, op, col.invalid), nobad
    if data_type == "string":
        return Col(to_text(col), col.missing, data_type, op, col.invalid), nobad
    if src == "string" or col.values.dtype == object:
        out, bad = to_column(col.values, data_type, op)
        bad = bad & ~col.missing
        missing = col.missing | out.missing | bad
        vals = out.values
        if missing.any():
            vals = vals.copy()
            vals[missing] = np.nan
        return Col(vals, missing, data_type, op, col.invalid), bad
    vals = col.values
    present = ~col.missing
    bad = nobad
    if is_temporal(src) and is_temporal(data_type):
        vals = convert_temporal(vals, src, data_type)
    elif data_type == "integer":
        with np.errstate(invalid="ignore"):
            bad = present & ~((np.floor(vals) == vals) & (np.abs(vals) <= INT_MAX))
    elif data_type == "float":
        with np.errstate(over="ignore"):
            vals = vals.astype(np.float32).astype(float)
    elif data_type == "boolean":
        bad = present & ~((vals == 0) | (vals == 1))
    if bad.any():
        vals = np.where(bad, np.nan, vals)
        return Col(vals, col.missing | bad, data_type, op, col.invalid), bad
    return Col(vals, col.missing, data_type, op, col.invalid), bad


def cast(col: Col, data_type: str, op_type: str | None = None) -> Col:
    """Convert a column to another PMML data type, leniently: numbers truncate to integers,
    nonzero numbers are true, and values with no meaning in the new type become missing."""
    src = col.data_type
    if src != data_type and src != "string" and col.values.dtype != object and \
            data_type in ("integer", "boolean"):
        op = op_type or col.op_type
        with np.errstate(invalid="ignore"):
            vals = np.trunc(col.values) if data_type == "integer" else \
                np.where(col.missing, np.nan, (col.values != 0).astype(float))
        return Col(vals, col.missing, data_type, op, col.invalid)
    return convert(col, data_type, op_type)[0]


def common_numeric_type(types: list[str]) -> str:
    """The least restrictive of numeric types: integer < float < double (booleans count as
    integers; dates and times as doubles)."""
    rank = {"integer": 0, "boolean": 0, "float": 1}
    best = 0
    for t in types:
        best = max(best, rank.get(t, 2))
    return ("integer", "float", "double")[best]


def _parse_attr(text: str | None, data_type: str, el, attr: str) -> Any:
    """An attribute value in a data type, or a load-time error naming the attribute and the
    element (or typed node) el."""
    if text is None:
        return None
    try:
        value = parse_scalar(text, data_type)
        if data_type == "integer" and not (isinstance(value, int) or float(value).is_integer()):
            raise ValueError(text)       # (NaN and infinities are no integers)
        return value
    except ValueError:
        raise DocumentError(f"{attr}={text!r} is not a {data_type} value",
                            **where(el)) from None


# ------------------------------------------------------------------ Constant, FieldRef

_DECIMAL = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_INTEGER = re.compile(r"[+-]?\d+")


def constant_type(text: str) -> str:
    """Data type of a Constant without dataType: integer, double or string (reference engine's
    inference: a double needs a decimal point; NaN, INF and -INF are doubles)."""
    if text == "":
        return "string"
    if text.lower() in ("nan", "inf", "-inf"):
        return "double"
    if "." in text:
        return "double" if _DECIMAL.fullmatch(text) else "string"
    if _INTEGER.fullmatch(text) and abs(int(text)) < 2 ** 63:
        return "integer"
    return "string"


def _constant(el: objects.Constant, ctx: Ctx) -> Expr:
    text = el.value if el.value is not None else ""
    data_type = el.data_type
    missing = bool(el.missing)
    if data_type is None:
        data_type = "double" if missing else constant_type(text)
    op = default_op_type(data_type)
    if missing or (text.strip() == "" and data_type != "string"):
        value = None
    elif data_type == "string":
        value = text
    else:
        try:
            value = parse_scalar(text.strip(), data_type)
        except ValueError:
            raise DocumentError(f"Constant {text!r} is not a {data_type}",
                                **where(el)) from None
        if data_type == "integer" and not float(value).is_integer():
            raise DocumentError(f"Constant {text!r} is not an integer", **where(el))
    fused = None
    if value is not None and data_type in ("double", "integer"):
        number = float(value)
        fused = lambda scope: number  # noqa: E731 - a scalar broadcasts in fused arithmetic
        fused.constant = True         # type: ignore[attr-defined]
    return Expr(lambda scope: full(scope.n, value, data_type, op), data_type, op, fused,
                fused)


def _field_ref(el: objects.FieldRef, ctx: Ctx) -> Expr:
    name = el.field
    info = ctx.require(name, el)
    data_type, op = info.data_type, info.op_type
    repl = _parse_attr(el.map_missing_to, data_type, el, "mapMissingTo")
    if repl is None:
        fused = scalar = None
        if data_type == "double":
            fused = lambda scope: scope.get(name).values  # noqa: E731
            scalar = lambda scope: float(scope.get(name).values[0])  # noqa: E731
        return Expr(lambda scope: scope.get(name), data_type, op, fused, scalar)

    def fn(scope: Scope) -> Col:
        col = scope.get(name)
        if not col.missing.any():
            return col
        vals = col.values.copy()
        vals[col.missing] = repl
        return Col(vals, np.zeros(len(col), bool), col.data_type, col.op_type, col.invalid)

    return Expr(fn, data_type, op)


# ------------------------------------------------------------------ normalization

def _norm_continuous(el: objects.NormContinuous, ctx: Ctx) -> Expr:
    name = el.field
    ctx.require(name, el)
    norms = el.norms
    if len(norms) < 2:
        raise DocumentError("NormContinuous needs at least two LinearNorm elements",
                            **where(el))
    orig = np.array([ln.orig for ln in norms], dtype=float)
    norm = np.array([ln.norm for ln in norms], dtype=float)
    if not np.all(np.diff(orig) > 0):
        raise DocumentError("LinearNorm orig values must be strictly ascending", **where(el))
    outliers = el.outliers or "asIs"
    if outliers not in ("asIs", "asMissingValues", "asExtremeValues"):
        raise UnsupportedError(f"outliers={outliers!r}", **where(el))
    mmt = el.map_missing_to

    def fn(scope: Scope) -> Col:
        col = scope.get(name)
        x, bad = to_numbers(col)
        missing = col.missing | bad
        # segment k covers [orig[k], orig[k+1]]; outside the range the first / last segment
        # extrapolates (outliers="asIs")
        idx = np.clip(np.searchsorted(orig, x, side="right") - 1, 0, len(orig) - 2)
        x0, x1, y0, y1 = orig[idx], orig[idx + 1], norm[idx], norm[idx + 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            y = y0 + (x - x0) / (x1 - x0) * (y1 - y0)
        low, high = x < orig[0], x > orig[-1]
        if outliers == "asMissingValues":
            missing = missing | low | high
        elif outliers == "asExtremeValues":
            y = np.where(low, norm[0], np.where(high, norm[-1], y))
        if mmt is not None:
            y = np.where(col.missing, mmt, y)
            missing = missing & ~col.missing
        y = np.where(missing, np.nan, y)
        return Col(y, missing, "double", "continuous")

    return Expr(fn, "double", "continuous")


def _norm_discrete(el: objects.NormDiscrete, ctx: Ctx) -> Expr:
    name = el.field
    info = ctx.require(name, el)
    if (el.method or "indicator") != "indicator":
        raise UnsupportedError(f"NormDiscrete method={el.method!r}", **where(el))
    if el.value is None:
        raise DocumentError("NormDiscrete needs a value", **where(el))
    value = _parse_attr(el.value, info.data_type, el, "value")
    mmt = el.map_missing_to

    def fn(scope: Scope) -> Col:
        col = scope.get(name)
        if col.values.dtype == object:
            v = value if isinstance(value, str) else to_text(full(1, value, info.data_type))[0]
            eq = codes(col.values, [v]) == 0
        else:
            eq = col.values == float(value)
        y = eq.astype(float)
        missing = col.missing
        if mmt is not None:
            y = np.where(missing, mmt, y)
            missing = np.zeros(len(col), bool)
        else:
            y = np.where(missing, np.nan, y)
        return Col(y, missing, "double", "continuous")

    return Expr(fn, "double", "continuous")


# ------------------------------------------------------------------ Discretize, MapValues

def _discretize(el: objects.Discretize, ctx: Ctx) -> Expr:
    name = el.field
    ctx.require(name, el)
    data_type = el.data_type or "string"
    bins = []
    for b in el.bins:
        iv = b.interval
        if iv is None or b.bin_value is None:
            raise DocumentError("DiscretizeBin needs an Interval and a binValue", **where(b))
        left_v = iv.left_margin
        right_v = iv.right_margin
        if left_v is None and right_v is None:
            raise DocumentError("Interval needs leftMargin or rightMargin", **where(iv))
        if left_v is not None and right_v is not None and left_v > right_v:
            raise DocumentError("Interval leftMargin is greater than rightMargin", **where(iv))
        closure = iv.closure
        if closure not in ("openOpen", "openClosed", "closedOpen", "closedClosed"):
            raise DocumentError(f"Interval closure={closure!r}", **where(iv))
        bins.append((Interval(closure, left_v, right_v),
                     _parse_attr(b.bin_value, data_type, b, "binValue")))
    mmt_val = _parse_attr(el.map_missing_to, data_type, el, "mapMissingTo")
    dflt_val = _parse_attr(el.default_value, data_type, el, "defaultValue")
    op = "categorical"

    def fn(scope: Scope) -> Col:
        col = scope.get(name)
        n = len(col)
        x, bad = to_numbers(col)
        x = np.where(col.missing | bad, np.nan, x)
        out = full(n, None, data_type, op)
        vals, missing = out.values, out.missing.copy()
        done = col.missing | bad
        for iv, v in bins:     # the first bin whose interval holds the value wins
            hit = ~done & in_intervals(x, [iv])
            vals[hit] = v
            missing[hit] = False
            done |= hit
        if dflt_val is not None:
            rest = ~done
            vals[rest] = dflt_val
            missing[rest] = False
        if mmt_val is not None:
            vals[col.missing] = mmt_val
            missing[col.missing] = False
        if bad.any():
            scope.fail(bad, lambda i: EvaluationError(
                f"Discretize: value {col.values[i]!r} is not a number", field=name, row=i))
        return Col(vals, missing, data_type, op)

    return Expr(fn, data_type, op)


def table_rows(node) -> list[dict[str, str]]:
    """Rows of the InlineTable of a typed node (MapValues, TextIndexNormalization) as dicts
    column -> text; a TableLocator (an external table) is unsupported."""
    table = node.table
    if table is None:
        if node.table_locator is not None:
            raise UnsupportedError("TableLocator (external tables) is not supported",
                                   line=node.line, element="TableLocator")
        return []
    return table.as_dicts()


def _column(name: str | None) -> str | None:
    """An InlineTable column name without its namespace prefix ("data:color" -> "color"), as
    the table's cells are read."""
    return name.split(":")[-1] if name else name


def _map_values(el: objects.MapValues, ctx: Ctx) -> Expr:
    out_col = _column(el.output_column)
    if not out_col:
        raise DocumentError("MapValues needs an outputColumn", **where(el))
    data_type = el.data_type or "string"
    pairs = [(p.field, _column(p.column)) for p in el.pairs]
    infos = [ctx.require(f, el) for f, _ in pairs]
    key_types = [info.data_type for info in infos]
    rows = table_rows(el)
    table: dict[tuple, Any] = {}
    for r in rows:
        cells = [r.get(c) for _, c in pairs]
        if any(c is None for c in cells) or r.get(out_col) is None:
            continue
        try:
            key = tuple(parse_scalar(c if t == "string" else c.strip(), t)
                        for c, t in zip(cells, key_types))
        except ValueError:
            continue   # a cell that is no value of its field's type matches no input
        if key not in table:
            table[key] = _parse_attr(r[out_col], data_type, el, f"InlineTable cell {out_col}")
    mmt_val = _parse_attr(el.map_missing_to, data_type, el, "mapMissingTo")
    dflt_val = _parse_attr(el.default_value, data_type, el, "defaultValue")
    op = default_op_type(data_type)
    keys = list(table)
    mapped = full(len(keys), None, data_type).values
    for i, k in enumerate(keys):
        mapped[i] = table[k]
    # per column: the distinct table values, and each table row's code in them
    col_levels = [list(dict.fromkeys(k[j] for k in keys)) for j in range(len(pairs))]
    key_codes = [np.array([levels.index(k[j]) for k in keys], dtype=np.int64)
                 for j, levels in enumerate(col_levels)]
    radix = [len(levels) + 1 for levels in col_levels]
    packed = np.zeros(len(keys), np.int64)
    for j, kc in enumerate(key_codes):
        packed = packed * radix[j] + kc
    packed_index = pd.Index(packed)

    def fn(scope: Scope) -> Col:
        n = scope.n
        anymiss = np.zeros(n, bool)
        row_key = np.zeros(n, np.int64)
        nomatch = np.zeros(n, bool)
        for j, (field, _) in enumerate(pairs):
            col = scope.get(field)
            if col.data_type != key_types[j]:
                col = cast(col, key_types[j])
            anymiss |= col.missing
            if not keys:
                continue
            c = codes(col.values, col_levels[j])
            nomatch |= c < 0
            row_key = row_key * radix[j] + np.maximum(c, 0)
        out = full(n, None, data_type, op)
        vals, missing = out.values, out.missing.copy()
        if keys:
            idx = packed_index.get_indexer(row_key)
            idx = np.where(nomatch | anymiss, -1, idx)
        else:
            idx = np.full(n, -1)
        hit = idx >= 0
        if hit.any():
            vals[hit] = mapped[idx[hit]]
            missing[hit] = False
        if dflt_val is not None:
            rest = ~hit & ~anymiss
            vals[rest] = dflt_val
            missing[rest] = False
        if mmt_val is not None:
            vals[anymiss] = mmt_val
            missing[anymiss] = False
        return Col(vals, missing, data_type, op)

    return Expr(fn, data_type, op)


def _apply(el: objects.Apply, ctx: Ctx) -> Expr:
    from .functions import compile_apply
    return compile_apply(el, ctx)


def _text_index(el: objects.TextIndex, ctx: Ctx) -> Expr:
    from .text_index import compile_text_index
    return compile_text_index(el, ctx)


def _unsupported(el, ctx: Ctx) -> Expr:
    raise UnsupportedError(f"expression <{el.XML.tag}> is not supported", **where(el))


_COMPILERS = {
    objects.Constant: _constant,
    objects.FieldRef: _field_ref,
    objects.NormContinuous: _norm_continuous,
    objects.NormDiscrete: _norm_discrete,
    objects.Discretize: _discretize,
    objects.MapValues: _map_values,
    objects.Apply: _apply,
    objects.TextIndex: _text_index,
    objects.Aggregate: _unsupported,
    objects.Lag: _unsupported,
}


# ------------------------------------------------------------------ DerivedField

def derived_field_info(df: objects.DerivedField) -> FieldInfo:
    """The FieldInfo a typed DerivedField declares."""
    name = df.name
    if not name:
        raise DocumentError(f"{df.XML.tag} without a name", **where(df))
    data_type = df.data_type or "double"
    op = df.optype or default_op_type(data_type)
    info = FieldInfo(name, data_type, op, line=df.line)
    for v in df.values:
        try:
            info.values.append(parse_scalar(v.value, data_type))
        except (TypeError, ValueError):
            pass
    return info


def convert_checked(col: Col, data_type: str, op_type: str | None, scope: Scope,
                    what: str, field: str | None = None) -> Col:
    """``convert``, recording a row error for each value with no value in the new type."""
    if col.data_type == data_type and (op_type is None or op_type == col.op_type):
        return col          # what convert gives, without its (all-false) mask
    out, bad = convert(col, data_type, op_type)
    if bad.any():
        text = to_text(col) if col.values.dtype != object else col.values
        scope.fail(bad, lambda i: EvaluationError(
            f"{what}: value {text[i]!r} is not a valid {data_type}", field=field, row=i))
    return out


def compile_derived_field(df: objects.DerivedField, ctx: Ctx
                          ) -> tuple[FieldInfo, Callable[[Scope], Col]]:
    """Compile a typed DerivedField to (info, fn).

    The expression's value is converted to the declared dataType/optype; a value that has no
    meaning in that type (2.5 for an integer field, "abc" for a double) is a row error.
    """
    info = derived_field_info(df)
    if df.expression is None:
        raise DocumentError(f"DerivedField {info.name!r} has no expression", **where(df))
    expr = compile_expression(df.expression, ctx)
    name = info.name
    if df.data_type is None:
        info.data_type = expr.data_type
        if df.optype is None:
            info.op_type = expr.op_type
    dt, op = info.data_type, info.op_type
    what = f"{df.XML.tag} {name!r} (line {df.line})"

    efn = expr.fn

    def fn(scope: Scope) -> Col:
        col = efn(scope)
        if col.data_type == dt and col.op_type == op:
            return col          # (convert_checked's no-op case, without the calls)
        return convert_checked(col, dt, op, scope, what, name)

    return info, fn


def compile_field_container(df: objects.DerivedField, ctx: Ctx
                            ) -> tuple[str, Callable[[Scope], Col]]:
    """A typed DerivedField that may have no name (NeuralInput, BayesInput): its expression's
    value converted to the declared dataType. Returns (data type, fn)."""
    if df.expression is None:
        raise DocumentError("DerivedField has no expression", **where(df))
    expr = compile_expression(df.expression, ctx)
    dt = df.data_type or expr.data_type
    op = df.optype or expr.op_type
    what = f"DerivedField (line {df.line})"
    name = df.name

    def fn(scope: Scope) -> Col:
        return convert_checked(expr(scope), dt, op, scope, what, name)

    return dt, fn


def derived_fields_of(parent) -> tuple[objects.DerivedField, ...]:
    """The typed DerivedFields of parent: a LocalTransformations or TransformationDictionary
    node, a sequence of DerivedFields, or None (none)."""
    if parent is None:
        return ()
    if isinstance(parent, (objects.LocalTransformations, objects.TransformationDictionary)):
        return parent.derived_fields
    return tuple(parent)


def compile_derived_fields(parent, ctx: Ctx) -> dict[str, Callable[[Scope], Col]]:
    """Compile the typed DerivedFields of parent (see ``derived_fields_of``: a
    LocalTransformations / TransformationDictionary node or a sequence of DerivedFields),
    registering each in ctx (in order).

    Derived fields may refer to each other in any order; a cycle is a load-time error. A field
    at the end of a long chain evaluates the chain bottom-up first (``_bottom_up``), so that
    scoring never recurses once per link.
    """
    defs: dict[str, Callable[[Scope], Col]] = {}
    fields = derived_fields_of(parent)
    if not fields:
        return defs
    deps = check_cycles(fields)
    heights = _chain_heights(deps)
    for df in fields:   # register first so that derived fields may refer to each other
        ctx.add(derived_field_info(df))
    for df in fields:
        info, fn = compile_derived_field(df, ctx)
        ctx.add(info)
        if heights.get(info.name, 0) > _SHALLOW:
            fn = _bottom_up(fn, info.name, deps)
        defs[info.name] = fn
    return defs


#: chains of derived fields up to this length evaluate by plain (recursive) lookup
_SHALLOW = 8


def _bottom_up(fn: Callable[[Scope], Col], name: str,
               deps: dict[str, list[str]]) -> Callable[[Scope], Col]:
    """fn, preceded by the evaluation of the derived fields it depends on (in its group, not
    yet computed in this scope) in dependency order, with an explicit stack."""
    def run(scope: Scope) -> Col:
        cache = scope.cache
        stack = [(d, False) for d in deps[name]]
        while stack:
            d, ready = stack.pop()
            if d in cache:
                continue
            if ready:
                scope.get(d)
            else:
                stack.append((d, True))
                stack.extend((e, False) for e in deps[d] if e not in cache)
        check_deadline()
        return fn(scope)
    return run


def _chain_heights(deps: dict[str, list[str]]) -> dict[str, int]:
    """Longest chain of derived fields below each one (0: it uses none); deps is acyclic."""
    height: dict[str, int] = {}
    for start in deps:
        stack = [(start, False)]
        while stack:
            n, ready = stack.pop()
            if n in height:
                continue
            if ready:
                height[n] = max((height[d] + 1 for d in deps[n]), default=0)
            else:
                stack.append((n, True))
                stack.extend((d, False) for d in deps[n] if d not in height)
    return height


def check_cycles(fields) -> dict[str, list[str]]:
    """Reject typed derived fields that depend on themselves, directly or through others;
    return each field's references to the others (iteratively: chains may be thousands long).
    The references are the object model's (``DerivedField.fields()``)."""
    names = {df.name: df for df in fields}
    deps = objects.dependencies(names)
    state: dict[str, int] = {}     # 1: on the current path, 2: done
    for start in names:
        if state.get(start) == 2:
            continue
        path: list[str] = []
        stack: list[tuple[str, bool]] = [(start, False)]
        while stack:
            n, leaving = stack.pop()
            if leaving:
                state[n] = 2
                path.pop()
                continue
            if state.get(n) == 2:
                continue
            if state.get(n) == 1:
                cyc = path[path.index(n):] + [n]
                raise DocumentError("derived fields form a cycle: " + " -> ".join(cyc),
                                    line=names[n].line, element="DerivedField")
            state[n] = 1
            path.append(n)
            stack.append((n, True))
            stack.extend((d, False) for d in reversed(deps[n]))
    return deps
