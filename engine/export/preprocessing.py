"""Converters of scikit-learn's transformers: column selection, scalers, imputers, encoders,
binning. Each turns field names into new field names, adding derived fields to the context.

The arithmetic follows scikit-learn's own order of operations (StandardScaler subtracts, then
divides; MinMaxScaler multiplies, then adds), so the document computes the same doubles.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import (FunctionTransformer, KBinsDiscretizer, MaxAbsScaler, MinMaxScaler, OneHotEncoder,
                                   OrdinalEncoder, RobustScaler, StandardScaler)

from . import ir
from .context import Context, transform
from .registry import transformer


def _is_nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or \
        (isinstance(v, np.floating) and np.isnan(v))


def _py(v: Any) -> Any:
    """A numpy scalar as a plain Python value."""
    return v.item() if isinstance(v, np.generic) else v


def _affine(ctx: Context, name: str, hint: str, sub: float | None = None,
            div: float | None = None, mul: float | None = None, add: float | None = None) -> str:
    e: ir.Expr = ir.Ref(name)
    if sub is not None and sub != 0:
        e = ir.Call("-", (e, ir.Const(float(sub))))
    if div is not None and div != 1:
        e = ir.Call("/", (e, ir.Const(float(div))))
    if mul is not None and mul != 1:
        e = ir.Call("*", (e, ir.Const(float(mul))))
    if add is not None and add != 0:
        e = ir.Call("+", (e, ir.Const(float(add))))
    if isinstance(e, ir.Ref):
        return name
    return ctx.add(f"{hint}({name})", e)


@transformer(StandardScaler)
def standard_scaler(est: StandardScaler, ctx: Context, features: list[str]) -> list[str]:
    mean = est.mean_ if est.with_mean else None
    scale = est.scale_ if est.with_std else None
    return [_affine(ctx, f, "standardScaler", sub=None if mean is None else mean[i],
                    div=None if scale is None else scale[i]) for i, f in enumerate(features)]


@transformer(RobustScaler)
def robust_scaler(est: RobustScaler, ctx: Context, features: list[str]) -> list[str]:
    return [_affine(ctx, f, "robustScaler",
                    sub=None if est.center_ is None else est.center_[i],
                    div=None if est.scale_ is None else est.scale_[i])
            for i, f in enumerate(features)]


@transformer(MaxAbsScaler)
def max_abs_scaler(est: MaxAbsScaler, ctx: Context, features: list[str]) -> list[str]:
    return [_affine(ctx, f, "maxAbsScaler", div=est.scale_[i]) for i, f in enumerate(features)]


@transformer(MinMaxScaler)
def min_max_scaler(est: MinMaxScaler, ctx: Context, features: list[str]) -> list[str]:
    out = []
    lo, hi = est.feature_range
    for i, f in enumerate(features):
        name = _affine(ctx, f, "minMaxScaler", mul=est.scale_[i], add=est.min_[i])
        if est.clip:
            name = ctx.add(f"clip({name})", ir.Call("min", (ir.Call(
                "max", (ir.Ref(name), ir.Const(float(lo)))), ir.Const(float(hi)))))
        out.append(name)
    return out


@transformer(SimpleImputer)
def simple_imputer(est: SimpleImputer, ctx: Context, features: list[str]) -> list[str]:
    if not _is_nan(est.missing_values):
        raise ctx.fail(est, f"missing_values={est.missing_values!r} (only NaN/None is supported)")
    out = []
    for i, f in enumerate(features):
        stat = _py(est.statistics_[i])
        if _is_nan(stat):
            if est.keep_empty_features:
                stat = 0.0 if not ctx.is_categorical(f) else None
            else:
                continue    # scikit-learn drops a feature with no value to impute from
        if stat is None:
            out.append(f)
            continue
        if ctx.is_categorical(f):
            stat = str(stat)
        else:
            stat = float(stat)
        out.append(ctx.add(f"imputed({f})", ir.Ref(f, missing_to=stat), ctx.data_type(f)
                           if not ctx.is_categorical(f) else "string",
                           "categorical" if ctx.is_categorical(f) else "continuous"))
    if est.add_indicator and est.indicator_ is not None:
        for j in est.indicator_.features_:
            out.append(ctx.add(f"missingIndicator({features[j]})",
                               ir.Call("if", (ir.Call("isMissing", (ir.Ref(features[j]),)),
                                              ir.Const(1.0), ir.Const(0.0)))))
    return out


def _category(ctx: Context, field: str, v: Any) -> Any:
    v = _py(v)
    if ctx.is_categorical(field):
        return str(v)
    return float(v)


@transformer(OneHotEncoder)
def one_hot_encoder(est: OneHotEncoder, ctx: Context, features: list[str]) -> list[str]:
    out = []
    drop_idx = getattr(est, "drop_idx_", None)
    infrequent = getattr(est, "infrequent_categories_", None) \
        if getattr(est, "_infrequent_enabled", False) else None
    unknown_zero = est.handle_unknown in ("ignore", "infrequent_if_exist", "warn")
    for i, f in enumerate(features):
        cats = list(est.categories_[i])
        has_nan = bool(cats) and _is_nan(cats[-1])
        known = [c for c in cats if not _is_nan(c)]
        infreq = [] if infrequent is None or infrequent[i] is None else list(infrequent[i])
        frequent = [c for c in known if not any(c == x for x in infreq)]
        # columns: frequent categories (NaN among them, last), then the infrequent column
        columns: list[tuple[str, Any]] = [("value", c) for c in frequent]
        if has_nan and not any(_is_nan(x) for x in infreq):
            columns.append(("nan", None))
        if infreq:
            columns.append(("infrequent", None))
        if drop_idx is not None and drop_idx[i] is not None:
            del columns[int(drop_idx[i])]
        if est.handle_unknown == "error" and f in ctx.inputs and ctx.is_categorical(f):
            inp = ctx.inputs[f]
            ctx.inputs[f] = replace(inp, categories=tuple(str(c) for c in known), unknown="error")
        nan_in_infrequent = any(_is_nan(x) for x in infreq)
        for kind, c in columns:
            if kind == "value":
                cat = _category(ctx, f, c)
                out.append(ctx.add(f"{f}={cat}", ir.Indicator(f, (cat,), 0.0 if has_nan or
                                                              unknown_zero else None)))
            elif kind == "nan":
                out.append(ctx.add(f"{f}=NaN", ir.Call("if", (ir.Call(
                    "isMissing", (ir.Ref(f),)), ir.Const(1.0), ir.Const(0.0)))))
            else:
                miss = 1.0 if nan_in_infrequent else (0.0 if has_nan or unknown_zero else None)
                if est.handle_unknown == "infrequent_if_exist":
                    # every value that is not a frequent category (unknown ones too)
                    vals = tuple(_category(ctx, f, c) for c in frequent)
                    out.append(ctx.add(f"{f}=infrequent", ir.Indicator(f, vals, miss, True)))
                else:
                    vals = tuple(_category(ctx, f, c) for c in infreq if not _is_nan(c))
                    out.append(ctx.add(f"{f}=infrequent", ir.Indicator(f, vals, miss)))
    return out


@transformer(OrdinalEncoder)
def ordinal_encoder(est: OrdinalEncoder, ctx: Context, features: list[str]) -> list[str]:
    if getattr(est, "_infrequent_enabled", False):
        raise ctx.fail(est, "infrequent categories (max_categories/min_frequency) are not "
                       "supported for OrdinalEncoder")
    out = []
    unknown = est.unknown_value if est.handle_unknown == "use_encoded_value" else None
    for i, f in enumerate(features):
        cats = list(est.categories_[i])
        table = tuple((_category(ctx, f, c), float(j)) for j, c in enumerate(cats)
                      if not _is_nan(c))
        missing = None
        if cats and _is_nan(cats[-1]):
            em = est.encoded_missing_value
            missing = None if _is_nan(em) else float(em)
        default = None if unknown is None or _is_nan(unknown) else float(unknown)
        out.append(ctx.add(f"ordinalEncoder({f})", ir.Lookup(f, table, default, missing)))
    return out


@transformer(KBinsDiscretizer)
def kbins(est: KBinsDiscretizer, ctx: Context, features: list[str]) -> list[str]:
    out = []
    for i, f in enumerate(features):
        edges = tuple(float(e) for e in est.bin_edges_[i][1:-1])
        b = ctx.add(f"kbins({f})", ir.Bins(f, edges))
        if est.encode == "ordinal":
            out.append(b)
        else:
            n = len(est.bin_edges_[i]) - 1
            out.extend(ctx.add(f"{b}={k}", ir.Indicator(b, (float(k),), None)) for k in range(n))
    return out


def _columns(spec: Any, features: list[str], est: ColumnTransformer, names: list[str] | None
             ) -> list[int]:
    """Indices into ``features`` selected by a ColumnTransformer column spec."""
    if callable(spec):
        raise TypeError("callable column selectors are resolved by scikit-learn at fit")
    if isinstance(spec, (str, int, np.integer)):
        spec = [spec]
    spec = list(spec) if not isinstance(spec, slice) else spec
    if isinstance(spec, slice):
        return list(range(len(features)))[spec]
    if spec and isinstance(spec[0], (bool, np.bool_)):
        return [i for i, b in enumerate(spec) if b]
    if spec and isinstance(spec[0], str):
        if names is None:
            raise KeyError("column names need a named input")
        return [names.index(s) for s in spec]
    return [int(s) for s in spec]


@transformer(ColumnTransformer)
def column_transformer(est: ColumnTransformer, ctx: Context, features: list[str]) -> list[str]:
    names = [str(n) for n in est.feature_names_in_] if hasattr(est, "feature_names_in_") \
        else None
    out = []
    place = ctx.place
    for name, trans, cols in est.transformers_:
        idx = _columns(cols, features, est, names)
        if trans == "drop" or len(idx) == 0:
            continue
        sel = [features[i] for i in idx]
        if trans == "passthrough":
            out.extend(sel)
        else:
            out.extend(transform(trans, ctx, sel, f"{place} > transformer {name!r}"))
    ctx.place = place
    return out


@transformer(FunctionTransformer)
def function_transformer(est: FunctionTransformer, ctx: Context, features: list[str]
                         ) -> list[str]:
    """The identity only (what ColumnTransformer makes of "passthrough")."""
    if est.func is not None:
        raise ctx.fail(est, "a FunctionTransformer with a function is not supported (only "
                       "func=None, the identity)")
    return list(features)
