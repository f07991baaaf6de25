"""EXPRESSION elements compiled to column functions: Constant, FieldRef, NormContinuous,
NormDiscrete, Discretize, MapValues, Apply; and DerivedField around them.

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

from . import attributes
from .context import Ctx
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


def find_expression(el):
    """The single EXPRESSION child of el, or None."""
    for child in el:
        if isinstance(child.tag, str) and child.tag in EXPRESSION_TAGS:
            return child
    return None


def compile_expression(el, ctx: Ctx) -> Expr:
    tag = el.tag
    compiler = _COMPILERS.get(tag)
    if compiler is None:
        raise UnsupportedError(f"expression <{tag}> is not supported", line=el.sourceline,
                               element=tag)
    budget = ctx.budget
    budget.enter(el)
    try:
        expr = compiler(el, ctx)
    finally:
        budget.depth -= 1
    check_expression(expr.cost, expr.depth, el)
    return expr


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
    """An attribute value in a data type, or a load-time error naming the attribute."""
    if text is None:
        return None
    try:
        value = parse_scalar(text, data_type)
        if data_type == "integer" and not (isinstance(value, int) or float(value).is_integer()):
            raise ValueError(text)       # (NaN and infinities are no integers)
        return value
    except ValueError:
        raise DocumentError(f"{attr}={text!r} is not a {data_type} value", line=el.sourceline,
                            element=el.tag) from None


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


def _constant(el, ctx: Ctx) -> Expr:
    text = el.text if el.text is not None else ""
    data_type = attributes.data_type(el)
    missing = attributes.boolean(el, "missing", False)
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
            raise DocumentError(f"Constant {text!r} is not a {data_type}", line=el.sourceline,
                                element="Constant") from None
        if data_type == "integer" and not float(value).is_integer():
            raise DocumentError(f"Constant {text!r} is not an integer", line=el.sourceline,
                                element="Constant")
    fused = None
    if value is not None and data_type in ("double", "integer"):
        number = float(value)
        fused = lambda scope: number  # noqa: E731 - a scalar broadcasts in fused arithmetic
        fused.constant = True         # type: ignore[attr-defined]
    return Expr(lambda scope: full(scope.n, value, data_type, op), data_type, op, fused,
                fused)


def _field_ref(el, ctx: Ctx) -> Expr:
    name = el.get("field")
    info = ctx.require(name, el)
    data_type, op = info.data_type, info.op_type
    repl = _parse_attr(el.get("mapMissingTo"), data_type, el, "mapMissingTo")
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

def _norm_continuous(el, ctx: Ctx) -> Expr:
    name = el.get("field")
    ctx.require(name, el)
    norms = el.findall("LinearNorm")
    if len(norms) < 2:
        raise DocumentError("NormContinuous needs at least two LinearNorm elements",
                            line=el.sourceline, element="NormContinuous")
    try:
        orig = np.array([attributes.number(ln, "orig", required=True) for ln in norms])
        norm = np.array([attributes.number(ln, "norm", required=True) for ln in norms])
    except (TypeError, ValueError):
        raise DocumentError("LinearNorm needs numeric orig and norm", line=el.sourceline,
                            element="NormContinuous") from None
    if not np.all(np.diff(orig) > 0):
        raise DocumentError("LinearNorm orig values must be strictly ascending",
                            line=el.sourceline, element="NormContinuous")
    outliers = el.get("outliers", "asIs")
    if outliers not in ("asIs", "asMissingValues", "asExtremeValues"):
        raise UnsupportedError(f"outliers={outliers!r}", line=el.sourceline,
                               element="NormContinuous")
    mmt = _parse_attr(el.get("mapMissingTo"), "double", el, "mapMissingTo")

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


def _norm_discrete(el, ctx: Ctx) -> Expr:
    name = el.get("field")
    info = ctx.require(name, el)
    if el.get("method", "indicator") != "indicator":
        raise UnsupportedError(f"NormDiscrete method={el.get('method')!r}", line=el.sourceline,
                               element="NormDiscrete")
    if el.get("value") is None:
        raise DocumentError("NormDiscrete needs a value", line=el.sourceline,
                            element="NormDiscrete")
    value = _parse_attr(el.get("value"), info.data_type, el, "value")
    mmt = _parse_attr(el.get("mapMissingTo"), "double", el, "mapMissingTo")

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

def _discretize(el, ctx: Ctx) -> Expr:
    name = el.get("field")
    ctx.require(name, el)
    data_type = attributes.data_type(el, default="string")
    bins = []
    for b in el.findall("DiscretizeBin"):
        iv = b.find("Interval")
        if iv is None or b.get("binValue") is None:
            raise DocumentError("DiscretizeBin needs an Interval and a binValue",
                                line=b.sourceline, element="DiscretizeBin")
        left_v = attributes.number(iv, "leftMargin")
        right_v = attributes.number(iv, "rightMargin")
        if left_v is None and right_v is None:
            raise DocumentError("Interval needs leftMargin or rightMargin", line=iv.sourceline,
                                element="Interval")
        if left_v is not None and right_v is not None and left_v > right_v:
            raise DocumentError("Interval leftMargin is greater than rightMargin",
                                line=iv.sourceline, element="Interval")
        closure = iv.get("closure")
        if closure not in ("openOpen", "openClosed", "closedOpen", "closedClosed"):
            raise DocumentError(f"Interval closure={closure!r}", line=iv.sourceline,
                                element="Interval")
        bins.append((Interval(closure, left_v, right_v),
                     _parse_attr(b.get("binValue"), data_type, b, "binValue")))
    mmt_val = _parse_attr(el.get("mapMissingTo"), data_type, el, "mapMissingTo")
    dflt_val = _parse_attr(el.get("defaultValue"), data_type, el, "defaultValue")
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


def inline_table_rows(el) -> list[dict[str, str]]:
    """Rows of the <InlineTable> under el as dicts column -> text (cells are child elements)."""
    table = el.find("InlineTable")
    if table is None:
        if el.find("TableLocator") is not None:
            raise UnsupportedError("TableLocator (external tables) is not supported",
                                   line=el.sourceline, element="TableLocator")
        return []
    rows = []
    for row in table.findall("row"):
        cells = {}
        for cell in row:
            if isinstance(cell.tag, str):
                tag = cell.tag.split(":")[-1].split("}")[-1]
                cells[tag] = (cell.text or "")
        rows.append(cells)
    return rows


def _column(name: str | None) -> str | None:
    """An InlineTable column name without its namespace prefix ("data:color" -> "color"), as
    the table's cells are read."""
    return name.split(":")[-1] if name else name


def _map_values(el, ctx: Ctx) -> Expr:
    out_col = _column(el.get("outputColumn"))
    if not out_col:
        raise DocumentError("MapValues needs an outputColumn", line=el.sourceline,
                            element="MapValues")
    data_type = attributes.data_type(el, default="string")
    pairs = [(p.get("field"), _column(p.get("column"))) for p in el.findall("FieldColumnPair")]
    infos = [ctx.require(f, el) for f, _ in pairs]
    key_types = [info.data_type for info in infos]
    rows = inline_table_rows(el)
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
    mmt_val = _parse_attr(el.get("mapMissingTo"), data_type, el, "mapMissingTo")
    dflt_val = _parse_attr(el.get("defaultValue"), data_type, el, "defaultValue")
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


def _apply(el, ctx: Ctx) -> Expr:
    from .functions import compile_apply
    return compile_apply(el, ctx)


def _text_index(el, ctx: Ctx) -> Expr:
    from .text_index import compile_text_index
    return compile_text_index(el, ctx)


def _unsupported(el, ctx: Ctx) -> Expr:
    raise UnsupportedError(f"expression <{el.tag}> is not supported", line=el.sourceline,
                           element=el.tag)


_COMPILERS = {
    "Constant": _constant,
    "FieldRef": _field_ref,
    "NormContinuous": _norm_continuous,
    "NormDiscrete": _norm_discrete,
    "Discretize": _discretize,
    "MapValues": _map_values,
    "Apply": _apply,
    "TextIndex": _text_index,
    "Aggregate": _unsupported,
    "Lag": _unsupported,
}


# ------------------------------------------------------------------ DerivedField

def derived_field_info(el) -> FieldInfo:
    name = el.get("name")
    if not name:
        raise DocumentError(f"{el.tag} without a name", line=el.sourceline, element=el.tag)
    data_type = attributes.data_type(el) or "double"
    op = attributes.op_type(el) or default_op_type(data_type)
    info = FieldInfo(name, data_type, op, line=el.sourceline)
    for v in el.findall("Value"):
        try:
            info.values.append(parse_scalar(v.get("value"), data_type))
        except ValueError:
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


def compile_derived_field(el, ctx: Ctx) -> tuple[FieldInfo, Callable[[Scope], Col]]:
    """Compile <DerivedField> (or an OutputField with an expression) to (info, fn).

    The expression's value is converted to the declared dataType/optype; a value that has no
    meaning in that type (2.5 for an integer field, "abc" for a double) is a row error.
    """
    info = derived_field_info(el)
    ex_el = find_expression(el)
    if ex_el is None:
        raise DocumentError(f"DerivedField {info.name!r} has no expression", line=el.sourceline,
                            element=el.tag)
    expr = compile_expression(ex_el, ctx)
    name = info.name
    declared_type = el.get("dataType")
    if declared_type is None:
        info.data_type = expr.data_type
        if el.get("optype") is None:
            info.op_type = expr.op_type
    dt, op = info.data_type, info.op_type
    what = f"{el.tag} {name!r} (line {el.sourceline})"

    efn = expr.fn

    def fn(scope: Scope) -> Col:
        col = efn(scope)
        if col.data_type == dt and col.op_type == op:
            return col          # (convert_checked's no-op case, without the calls)
        return convert_checked(col, dt, op, scope, what, name)

    return info, fn


def compile_derived_fields(parent_el, ctx: Ctx) -> dict[str, Callable[[Scope], Col]]:
    """Compile every DerivedField under parent_el, registering each in ctx (in order).

    Derived fields may refer to each other in any order; a cycle is a load-time error. A field
    at the end of a long chain evaluates the chain bottom-up first (``_bottom_up``), so that
    scoring never recurses once per link.
    """
    defs: dict[str, Callable[[Scope], Col]] = {}
    if parent_el is None:
        return defs
    els = parent_el.findall("DerivedField")
    deps = check_cycles(els)
    heights = _chain_heights(deps)
    for el in els:   # register first so that derived fields may refer to each other
        ctx.add(derived_field_info(el))
    for el in els:
        info, fn = compile_derived_field(el, ctx)
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


def check_cycles(els) -> dict[str, list[str]]:
    """Reject derived fields that depend on themselves, directly or through others; return
    each field's references to the others (iteratively: chains may be thousands long). The
    references are the object model's (``DerivedField.fields()``)."""
    from .objects import DerivedField, dependencies
    from .objects.read import read_node
    names = {el.get("name"): el for el in els}
    deps = dependencies({n: read_node(DerivedField, el) for n, el in names.items()})
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
                                    line=names[n].sourceline, element="DerivedField")
            state[n] = 1
            path.append(n)
            stack.append((n, True))
            stack.extend((d, False) for d in reversed(deps[n]))
    return deps
