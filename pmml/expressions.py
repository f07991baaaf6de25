"""EXPRESSION elements compiled to column functions: Constant, FieldRef, NormContinuous,
NormDiscrete, Discretize, MapValues, Apply; and DerivedField / DefineFunction around them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from portmodel.errors import DocumentError, UnsupportedError

from .context import Ctx
from .dictionary import FieldInfo, in_intervals
from .scope import Scope
from .values import Col, codes, convert_temporal, full, is_numeric_type, is_temporal, parse_scalar
from portmodel.fields import Interval

EXPRESSION_TAGS = ("Constant", "FieldRef", "NormContinuous", "NormDiscrete", "Discretize",
                   "MapValues", "TextIndex", "Apply", "Aggregate", "Lag")


@dataclass
class Expr:
    """A compiled expression: fn(scope) -> Col, with its statically known type."""

    fn: Callable[[Scope], Col]
    data_type: str
    op_type: str

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
    return compiler(el, ctx)


# ------------------------------------------------------------------ casting

def cast(col: Col, data_type: str, op_type: str | None = None) -> Col:
    """Convert a column to another PMML data type (as DerivedField/@dataType asks)."""
    op = op_type or col.op_type
    src = col.data_type
    if src == data_type:
        return col if op == col.op_type else Col(col.values, col.missing, data_type, op, col.invalid)
    n = len(col)
    if data_type == "string":
        from .values import _as_string
        vals = np.empty(n, object)
        if is_numeric_type(src):
            if src == "integer":
                vals[:] = [None if m else str(int(v)) for v, m in zip(col.values, col.missing)]
            elif src == "boolean":
                vals[:] = [None if m else ("true" if v else "false")
                           for v, m in zip(col.values, col.missing)]
            else:
                vals[:] = [None if m else _java_double_str(v) for v, m in zip(col.values, col.missing)]
        else:
            vals[:] = [_as_string(v) for v in col.values]
        return Col(vals, col.missing, data_type, op, col.invalid)
    if src == "string":
        from .values import to_column
        out, bad = to_column(col.values, data_type, op)
        missing = col.missing | out.missing | bad
        vals = out.values
        if bad.any():
            vals = vals.copy()
            vals[bad] = np.nan
        return Col(vals, missing, data_type, op, col.invalid)
    vals = col.values
    if is_temporal(src) and is_temporal(data_type):
        vals = convert_temporal(vals, src, data_type)
    elif data_type == "integer":
        with np.errstate(invalid="ignore"):
            vals = np.trunc(vals)
    elif data_type == "float":
        vals = vals.astype(np.float32).astype(float)
    elif data_type == "boolean":
        vals = np.where(col.missing, np.nan, (vals != 0).astype(float))
    return Col(vals, col.missing, data_type, op, col.invalid)


def _java_double_str(v: float) -> str:
    """Double -> text as Java's Double.toString writes it for common values."""
    if v != v:
        return "NaN"
    if v in (np.inf, -np.inf):
        return "Infinity" if v > 0 else "-Infinity"
    if float(v).is_integer() and abs(v) < 1e7:
        return f"{v:.1f}"
    return repr(float(v))


def apply_missing_default(col: Col, map_missing: Any, default: Any, data_type: str) -> Col:
    """mapMissingTo replaces results whose inputs were missing; defaultValue results still missing."""
    if default is None:
        return col
    if not col.missing.any():
        return col
    vals = col.values.copy()
    vals[col.missing] = parse_scalar(default, data_type)
    return Col(vals, np.zeros(len(col), bool), col.data_type, col.op_type)


# ------------------------------------------------------------------ simple expressions

def _constant(el, ctx: Ctx) -> Expr:
    text = el.text.strip() if el.text is not None else None
    data_type = el.get("dataType")
    if data_type is None:
        data_type = "string"
        if text is not None:
            try:
                float(text)
                data_type = "integer" if _looks_int(text) else "double"
            except ValueError:
                pass
    missing = el.get("missing", "false") == "true" or text is None
    try:
        value = None if missing else parse_scalar(text, data_type)
    except ValueError:
        raise DocumentError(f"Constant {text!r} is not a {data_type}", line=el.sourceline,
                            element="Constant") from None
    op = "continuous" if data_type in ("integer", "float", "double") else "categorical"
    return Expr(lambda scope: full(scope.n, value, data_type, op), data_type, op)


def _looks_int(text: str) -> bool:
    t = text.strip().lstrip("+-")
    return t.isdigit()


def _field_ref(el, ctx: Ctx) -> Expr:
    name = el.get("field")
    info = ctx.require(name, el)
    mmt = el.get("mapMissingTo")
    data_type, op = info.data_type, info.op_type
    if mmt is None:
        return Expr(lambda scope: scope.get(name), data_type, op)
    repl = parse_scalar(mmt, data_type)

    def fn(scope: Scope) -> Col:
        col = scope.get(name)
        if not col.missing.any():
            return col
        vals = col.values.copy()
        vals[col.missing] = repl
        return Col(vals, np.zeros(len(col), bool), data_type, op, col.invalid)

    return Expr(fn, data_type, op)


def _norm_continuous(el, ctx: Ctx) -> Expr:
    name = el.get("field")
    ctx.require(name, el)
    pts = [(float(ln.get("orig")), float(ln.get("norm"))) for ln in el.findall("LinearNorm")]
    if len(pts) < 2:
        raise DocumentError("NormContinuous needs at least two LinearNorm elements",
                            line=el.sourceline, element="NormContinuous")
    orig = np.array([p[0] for p in pts])
    norm = np.array([p[1] for p in pts])
    outliers = el.get("outliers", "asIs")
    mmt = el.get("mapMissingTo")
    mmt_val = float(mmt) if mmt is not None else None

    def fn(scope: Scope) -> Col:
        col = scope.get(name)
        x = col.values.astype(float)
        idx = np.clip(np.searchsorted(orig, x, side="left") - 1, 0, len(orig) - 2)
        x0, x1, y0, y1 = orig[idx], orig[idx + 1], norm[idx], norm[idx + 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            y = y0 + (x - x0) / (x1 - x0) * (y1 - y0)
        missing = col.missing.copy()
        low, high = x < orig[0], x > orig[-1]
        if outliers == "asMissingValues":
            missing |= (low | high) & ~col.missing
        elif outliers == "asExtremeValues":
            y = np.where(low, norm[0], np.where(high, norm[-1], y))
        if mmt_val is not None:
            y = np.where(col.missing, mmt_val, y)
            missing = missing & ~col.missing
        y = np.where(missing, np.nan, y)
        return Col(y, missing, "double", "continuous")

    return Expr(fn, "double", "continuous")


def _norm_discrete(el, ctx: Ctx) -> Expr:
    name = el.get("field")
    info = ctx.require(name, el)
    value = parse_scalar(el.get("value"), info.data_type)
    mmt = el.get("mapMissingTo")
    mmt_val = float(mmt) if mmt is not None else None

    def fn(scope: Scope) -> Col:
        col = scope.get(name)
        eq = codes(col.values, [value]) == 0 if col.values.dtype == object else col.values == value
        y = eq.astype(float)
        missing = col.missing
        if mmt_val is not None:
            y = np.where(missing, mmt_val, y)
            missing = np.zeros(len(col), bool)
        else:
            y = np.where(missing, np.nan, y)
        return Col(y, missing, "double", "continuous")

    return Expr(fn, "double", "continuous")


def _discretize(el, ctx: Ctx) -> Expr:
    name = el.get("field")
    ctx.require(name, el)
    data_type = el.get("dataType", "string")
    bins = []
    for b in el.findall("DiscretizeBin"):
        iv = b.find("Interval")
        left, right = iv.get("leftMargin"), iv.get("rightMargin")
        bins.append((Interval(iv.get("closure", "closedClosed"),
                              float(left) if left is not None else None,
                              float(right) if right is not None else None),
                     parse_scalar(b.get("binValue"), data_type)))
    mmt = el.get("mapMissingTo")
    dflt = el.get("defaultValue")
    mmt_val = parse_scalar(mmt, data_type) if mmt is not None else None
    dflt_val = parse_scalar(dflt, data_type) if dflt is not None else None
    op = "categorical"

    def fn(scope: Scope) -> Col:
        col = scope.get(name)
        n = len(col)
        x = np.where(col.missing, np.nan, col.values.astype(float))
        out = full(n, None, data_type, op)
        vals, missing = out.values, out.missing.copy()
        done = col.missing.copy()
        for iv, v in bins:
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
        return Col(vals, missing, data_type, op)

    return Expr(fn, data_type, op)


def inline_table_rows(el) -> list[dict[str, str]]:
    """Rows of an <InlineTable> as dicts column -> text (cells may be attributes or children)."""
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
                tag = cell.tag.split(":")[-1]
                cells[tag] = (cell.text or "")
        rows.append(cells)
    return rows


def _map_values(el, ctx: Ctx) -> Expr:
    out_col = el.get("outputColumn")
    data_type = el.get("dataType", "string")
    pairs = [(p.get("field"), p.get("column")) for p in el.findall("FieldColumnPair")]
    infos = [ctx.require(f, el) for f, _ in pairs]
    rows = inline_table_rows(el)
    table: dict[tuple, Any] = {}
    for r in rows:
        try:
            key = tuple(parse_scalar(r.get(c), info.data_type) for (_, c), info in zip(pairs, infos))
        except ValueError:
            continue
        if out_col in r and key not in table:
            table[key] = parse_scalar(r[out_col], data_type)
    mmt = el.get("mapMissingTo")
    dflt = el.get("defaultValue")
    mmt_val = parse_scalar(mmt, data_type) if mmt is not None else None
    dflt_val = parse_scalar(dflt, data_type) if dflt is not None else None
    op = "categorical" if data_type == "string" else "continuous"
    keys = list(table)
    single = len(pairs) == 1

    def fn(scope: Scope) -> Col:
        cols = [scope.get(f) for f, _ in pairs]
        n = scope.n
        anymiss = np.zeros(n, bool)
        for c in cols:
            anymiss |= c.missing
        out = full(n, None, data_type, op)
        vals, missing = out.values, out.missing.copy()
        if single:
            idx = codes(cols[0].values, [k[0] for k in keys]) if keys else np.full(n, -1)
        else:
            lookup = {k: i for i, k in enumerate(keys)}
            idx = np.array([lookup.get(tuple(c.values[i] for c in cols), -1) for i in range(n)],
                           dtype=np.int64) if n else np.zeros(0, np.int64)
        idx = np.where(anymiss, -1, idx)
        hit = idx >= 0
        if hit.any():
            mapped = np.array([table[k] for k in keys], dtype=vals.dtype)
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
    "TextIndex": _unsupported,
    "Aggregate": _unsupported,
    "Lag": _unsupported,
}


# ------------------------------------------------------------------ DerivedField & friends

def derived_field_info(el) -> FieldInfo:
    name = el.get("name")
    data_type = el.get("dataType") or "double"
    op = el.get("optype") or ("categorical" if data_type == "string" else "continuous")
    info = FieldInfo(name, data_type, op, line=el.sourceline)
    for v in el.findall("Value"):
        try:
            info.values.append(parse_scalar(v.get("value"), data_type))
        except ValueError:
            pass
    return info


def compile_derived_field(el, ctx: Ctx) -> tuple[FieldInfo, Callable[[Scope], Col]]:
    """Compile <DerivedField> (or an OutputField with an expression) to (info, fn)."""
    info = derived_field_info(el)
    ex_el = find_expression(el)
    if ex_el is None:
        raise DocumentError(f"DerivedField {info.name!r} has no expression", line=el.sourceline,
                            element=el.tag)
    expr = compile_expression(ex_el, ctx)
    dt, op = info.data_type, info.op_type
    declared_type = el.get("dataType") is not None

    def fn(scope: Scope) -> Col:
        col = expr(scope)
        return cast(col, dt if declared_type else col.data_type, op)

    if not declared_type:
        info.data_type = expr.data_type
    return info, fn


def compile_derived_fields(parent_el, ctx: Ctx) -> dict[str, Callable[[Scope], Col]]:
    """Compile every DerivedField under parent_el, registering each in ctx (in order)."""
    defs: dict[str, Callable[[Scope], Col]] = {}
    if parent_el is None:
        return defs
    els = parent_el.findall("DerivedField")
    # register first so that derived fields may refer to each other in any order
    for el in els:
        ctx.add(derived_field_info(el))
    for el in els:
        info, fn = compile_derived_field(el, ctx)
        ctx.add(info)
        defs[info.name] = fn
    _check_cycles(els)
    return defs


def _check_cycles(els) -> None:
    names = {el.get("name"): el for el in els}
    deps = {n: {r.get("field") for r in el.iter("FieldRef")} & set(names) for n, el in names.items()}
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            raise DocumentError("derived fields form a cycle: " + " -> ".join(path + [n]),
                                line=names[n].sourceline, element="DerivedField")
        state[n] = 1
        for d in deps[n]:
            visit(d, path + [n])
        state[n] = 2

    for n in names:
        visit(n, [])
