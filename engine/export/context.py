"""Walking a fitted pipeline into the intermediate form (``ir.Export``).

``Context`` collects the derived fields the transformers add (each named once, identical
expressions shared) and knows the current place in the pipeline for error messages.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from . import ir
from .errors import ExportError, UnsupportedEstimatorError
from .registry import lookup


class Context:
    def __init__(self, inputs: list[ir.InputField]):
        self.inputs = {f.name: f for f in inputs}
        self.derived: list[ir.Derived] = []
        self._by_expr: dict[tuple, str] = {}
        self._names: set[str] = set(self.inputs)
        self.place = "the top level"
        self.notes: list[str] = []

    def data_type(self, name: str) -> str:
        if name in self.inputs:
            return self.inputs[name].data_type
        for d in self.derived:
            if d.name == name:
                return d.data_type
        raise KeyError(name)

    def is_categorical(self, name: str) -> bool:
        return self.data_type(name) == "string"

    def add(self, hint: str, expr: ir.Expr, data_type: str = "double",
            optype: str = "continuous") -> str:
        """A derived field for ``expr`` (the existing one when the same expression was added)."""
        key = (expr, data_type, optype)
        if key in self._by_expr:
            return self._by_expr[key]
        name = hint
        i = 1
        while name in self._names:
            name = f"{hint}#{i}"
            i += 1
        self._names.add(name)
        self.derived.append(ir.Derived(name, expr, data_type, optype))
        self._by_expr[key] = name
        return name

    def as_float(self, name: str) -> str:
        """The field rounded to float32, as scikit-learn's trees and the boosters see it."""
        if self.data_type(name) == "float":
            return name
        return self.add(f"float({name})", ir.ToFloat(name), "float")

    def fail(self, est: Any, why: str) -> UnsupportedEstimatorError:
        return UnsupportedEstimatorError(f"{type(est).__name__} at {self.place}: {why}")


def input_fields(X: pd.DataFrame) -> list[ir.InputField]:
    """Input fields from the sample frame's columns: numbers stay numbers, the rest is text."""
    out = []
    for name in X.columns:
        s = X[name]
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or \
                pd.api.types.is_string_dtype(s.dtype):
            out.append(ir.InputField(str(name), "string", nullable=bool(s.isna().any())))
        elif pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_integer_dtype(s.dtype):
            out.append(ir.InputField(str(name), "integer"))
        elif s.dtype == np.float32:
            out.append(ir.InputField(str(name), "float"))
        elif pd.api.types.is_numeric_dtype(s.dtype):
            out.append(ir.InputField(str(name), "double"))
        else:
            raise ExportError(f"sample column {name!r} has dtype {s.dtype}, which a document "
                              "cannot declare (numbers and text only)")
    return out


def _is_pipeline(est: Any) -> bool:
    return type(est).__name__ == "Pipeline" and hasattr(est, "steps")


def walk(est: Any, ctx: Context, features: list[str], place: str = "") -> Any:
    """Convert ``est`` (a pipeline or a final estimator) over ``features``; return the model
    spec."""
    if _is_pipeline(est):
        steps = [(n, s) for n, s in est.steps if s is not None and s != "passthrough"]
        for name, step in steps[:-1]:
            features = transform(step, ctx, features, f"{place}step {name!r}")
        name, last = steps[-1]
        return walk(last, ctx, features, f"{place}step {name!r}")
    ctx.place = place or "the top level"
    fn = lookup("model", est, ctx.place)
    return fn(est, ctx, features)


def transform(est: Any, ctx: Context, features: list[str], place: str) -> list[str]:
    """Convert one transformer (or a nested pipeline of transformers) over ``features``."""
    if _is_pipeline(est):
        for name, step in est.steps:
            if step is None or step == "passthrough":
                continue
            features = transform(step, ctx, features, f"{place} > step {name!r}")
        return features
    ctx.place = place
    fn = lookup("transformer", est, place)
    out = fn(est, ctx, features)
    n_out = getattr(est, "n_features_out_", None)
    if hasattr(est, "get_feature_names_out"):
        try:
            n_out = len(est.get_feature_names_out())
        except Exception:  # noqa: BLE001 - only a cross-check
            pass
    if n_out is not None and n_out != len(out):
        raise ExportError(f"{type(est).__name__} at {place}: converted {len(out)} features, "
                          f"the estimator gives {n_out}")
    return out


def final_estimator(est: Any) -> Any:
    """The last step of a (nested) Pipeline: the estimator whose outputs the document gives."""
    while type(est).__name__ == "Pipeline" and hasattr(est, "steps"):
        est = est.steps[-1][1]
    return est


def safe_name(text: str) -> str:
    return re.sub(r"\s+", "_", str(text))


def _spec_fields(spec: Any, acc: set) -> set:
    """Every field name a model spec refers to."""
    if isinstance(spec, ir.TreeSpec):
        acc |= ir.tree_split_fields(spec)
    elif isinstance(spec, ir.EnsembleSpec):
        for m in spec.members:
            for mm in (m if isinstance(m, list) else [m]):
                _spec_fields(mm, acc)
    elif isinstance(spec, ir.LinearSpec):
        acc.update(f for _, _, t in spec.tables for f, *_ in t)
    else:
        trees = getattr(spec, "trees", None)
        if trees is None:
            acc.update(getattr(spec, "fields", ()))
        for t in trees or ():
            _spec_fields(t, acc)
    return acc


def _rename_splits(spec: Any, rename: dict) -> None:
    if isinstance(spec, ir.TreeSpec):
        stack = [spec.root]
        while stack:
            n = stack.pop()
            if n.field is not None:
                n.field = rename.get(n.field, n.field)
                stack += [n.left, n.right]
        if spec.split_fields is not None:
            spec.split_fields = frozenset(rename.get(f, f) for f in spec.split_fields)
    elif isinstance(spec, ir.EnsembleSpec):
        for m in spec.members:
            for mm in (m if isinstance(m, list) else [m]):
                _rename_splits(mm, rename)
    else:
        for t in getattr(spec, "trees", ()):
            _rename_splits(t, rename)


def float_inputs(doc: ir.Export) -> ir.Export:
    """Declare an input float-typed (as sklearn2pmml does) when only its float32 rounding is
    used: the ``float(x)`` derived field goes, splits refer to ``x`` itself."""
    casts = {d.name: d.expr.name for d in doc.derived if isinstance(d.expr, ir.ToFloat)}
    inputs = {f.name: f for f in doc.inputs}
    used: dict[str, int] = {}
    from .pmml_writer import _refs
    for d in doc.derived:
        if d.name in casts:
            continue
        for r in _refs(d.expr):
            used[r] = used.get(r, 0) + 1
    for f in _spec_fields(doc.model, set()):
        used[f] = used.get(f, 0) + 1
    rename = {d: x for d, x in casts.items()
              if x in inputs and inputs[x].data_type == "double" and not used.get(x)}
    if not rename:
        return doc
    _rename_splits(doc.model, rename)
    floats = set(rename.values())
    doc.inputs = [replace(f, data_type="float") if f.name in floats
                  else f for f in doc.inputs]
    doc.derived = [d for d in doc.derived if d.name not in rename]
    return doc
